"""The perceptual-loss ST-GCN: architecture, shipped weights, eq. 1, pre-training."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from choreo.core import skeleton as sk
from choreo.core.errors import ChoreoInputError
from choreo.core.models.representation import encode_3d, local_joints_3d
from choreo.core.models.stgcn import STGCN, STGCNConfig, adjacency
from choreo.core.models.weights import load_weights, save_weights, shipped_path
from choreo.core.training.perceptual import PosePerceptualLoss, load_stgcn
from choreo.core.training.pretrain_stgcn import mirror, train_stgcn


@pytest.fixture(scope="module")
def shipped():
    return load_stgcn()


@pytest.fixture(scope="module")
def real_clip(mocap_dir):
    """(1, 60, 24, 3) local joints of a CMU dance take at 30 fps."""
    from choreo.core.formats import load_motion

    m = load_motion(mocap_dir / "005" / "005_03.bvh").resample(30.0)
    return torch.from_numpy(local_joints_3d(encode_3d(m))[10:70][None].copy())


def test_adjacency_partitions_the_tree():
    A = adjacency("spatial")
    assert A.shape == (3, 24, 24)
    # Every edge of the tree appears once in each direction, self-loops in subset 0.
    assert np.count_nonzero(A[0]) == 24 and np.count_nonzero(A[1]) == 23 and np.count_nonzero(A[2]) == 23
    assert np.allclose(A.sum(axis=(0, 1)), 1.0)  # columns normalised by degree
    assert A[1, sk.PARENTS[4], 4] > 0 and A[2, 4, sk.PARENTS[4]] > 0
    assert adjacency("uniform").shape == (1, 24, 24)


def test_shapes():
    cfg = STGCNConfig(channels=(8, 8, 16), strides=(1, 2, 1))
    net = STGCN(cfg)
    x = torch.randn(2, 20, 24, 3)
    feats = net.features(x)
    assert [tuple(f.shape) for f in feats] == [(2, 8, 20, 24), (2, 8, 10, 24), (2, 16, 10, 24)]
    out = net(x)
    assert {k: tuple(v.shape) for k, v in out.items()} == {"dance": (2, 2), "action": (2, 4), "order": (2, 3)}
    assert STGCNConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError):
        net(torch.randn(2, 20, 17, 3))


def test_shipped_weights_load_frozen_and_checked(shipped):
    assert not shipped.training
    assert all(not p.requires_grad for p in shipped.parameters())
    path = shipped_path("stgcn")
    assert path.stat().st_size <= 2 * 1024 * 1024
    with pytest.raises(ChoreoInputError, match="stgcn.safetensors"):
        load_weights(path, expected="0" * 64)


def test_load_stgcn_rejects_other_weights(tmp_path):
    other = tmp_path / "gen.safetensors"
    save_weights(other, {"w": np.zeros(3, np.float32)}, {"kind": "generator"})
    with pytest.raises(ChoreoInputError, match="not an ST-GCN"):
        load_stgcn(other)


def test_shipped_net_beats_majority_baseline():
    _, meta = load_weights(shipped_path("stgcn"))
    assert meta["kind"] == "stgcn"
    held = meta["training"]["heldout"]
    assert set(held) == {"dance", "action", "order"}
    for task, r in held.items():
        assert r["accuracy"] >= r["baseline"] + 0.1, (task, r)
    assert not set(meta["training"]["heldout_takes"]) & set(meta["training"]["train_takes"])


def test_perceptual_loss(shipped, real_clip):
    loss_fn = PosePerceptualLoss(shipped)
    assert loss_fn.layer_weights == (20.0, 5.0, 1.0, 1.0, 1.0, 1.0)
    assert float(loss_fn(real_clip, real_clip.clone())) == 0.0

    g = torch.Generator().manual_seed(0)
    noised = real_clip + 0.005 * torch.randn(real_clip.shape, generator=g)
    frozen = real_clip[:, :1].expand_as(real_clip).clone()
    fake = frozen.clone().requires_grad_(True)
    loss = loss_fn(real_clip, fake)
    loss.backward()
    assert loss.item() > 0 and fake.grad is not None and fake.grad.abs().sum() > 0
    assert loss.item() > loss_fn(real_clip, noised).item()
    # A parent's .train() must not unfreeze the network's batch norm.
    loss_fn.train()
    assert not loss_fn.stgcn.training


def test_mirror_is_an_involution():
    x = np.random.default_rng(0).normal(size=(5, 24, 3)).astype(np.float32)
    assert np.array_equal(mirror(mirror(x)), x)


def test_tiny_training_is_deterministic(mocap_dir, tmp_path):
    cfg = {"task": "stgcn", "mocap_dir": str(mocap_dir), "subjects": [7], "clip_frames": 30, "steps": 3,
           "batch": 4, "eval_stride": 60, "model": {"channels": [8, 8], "strides": [1, 2]}}
    a = train_stgcn(cfg, tmp_path / "a.safetensors")
    b = train_stgcn(cfg, tmp_path / "b")
    assert b["path"].endswith("stgcn.safetensors")
    ta, meta = load_weights(a["path"])
    tb, _ = load_weights(b["path"])
    assert meta["kind"] == "stgcn" and meta["config"]["channels"] == [8, 8]
    assert set(ta) == set(tb) and all(np.array_equal(ta[k], tb[k]) for k in ta)
    assert meta["training"]["heldout_takes"] and meta["training"]["steps"] == 3
    with pytest.raises(ChoreoInputError, match="unknown settings"):
        train_stgcn({**cfg, "stepz": 1}, tmp_path / "c.safetensors")
