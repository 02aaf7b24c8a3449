"""Dance Revolution training: the curriculum, the decoder's two paths, the trainer, resumption, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from choreo.cli import main as cli_main
from choreo.core.errors import ChoreoInputError
from choreo.core.models.dancerevolution import DanceRevolution, DRConfig
from choreo.core.models.weights import load_weights
from choreo.core.training import dancerevolution as T
from choreo.core.training.checkpoint import checkpoint_step

SMALL = {"d_model": 16, "layers": 1, "heads": 2, "ff": 16, "window": 4, "dec_hidden": 16, "dec_layers": 1,
         "noise_dim": 2}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, tiny_corpus, music_dir):
    return {"dir": tmp_path_factory.mktemp("dr"), "corpus": tiny_corpus, "music": music_dir}


def tiny_config(tiny, **over) -> dict:
    cfg = {"model": SMALL, "steps": 4, "batch_size": 2, "crop_frames": 24, "epoch_steps": 1, "lambda": 4.0,
           "corpus": str(tiny["corpus"]), "music": str(tiny["music"]), "val_every": 2, "val_batch": 4,
           "checkpoint_every": 100, "log_every": 1, "seed": 3}
    cfg.update(over)
    return cfg


def test_the_schedules_grow_as_the_paper_writes_them():
    assert [T.fed_back("teacher", 5, t, 100) for t in (0, 3, 9)] == [0, 0, 0]
    assert [T.fed_back("const", 5, t, 100) for t in (0, 3, 9)] == [5, 5, 5]
    assert [T.fed_back("linear", 5, t, 100) for t in (0, 3, 9)] == [0, 15, 45]
    assert [T.fed_back("square", 0.5, t, 100) for t in (0, 3, 9)] == [0, 4, 40]
    assert [T.fed_back("exp", 0.01, t, 100) for t in (0, 3, 9)] == [0, 0, 81]
    assert T.fed_back("linear", 5, 1000, 100) == 100  # never more than the crop
    np.testing.assert_array_equal(T.own_mask(9, 2, 3), [0, 0, 1, 1, 1, 0, 0, 1, 1])
    assert not T.own_mask(9, 2, 0).any()


def test_teacher_forcing_in_one_pass_equals_the_step_by_step_decoder():
    torch.manual_seed(0)
    net = DanceRevolution(DRConfig.from_dict(SMALL)).eval()
    music, cond = torch.randn(2, 20, 438), torch.randn(2, 20, 3)
    target = torch.randn(2, 20, net.cfg.pose_dim)
    with torch.no_grad():
        code = net.encode(music, cond)
        fast = net.decode(code, target)
        own = torch.zeros(20, dtype=torch.bool)
        own[0] = True  # forces the loop; frame 0's previous pose is zeros either way
        slow = net.decode(code, target, own)
        free = net.decode(code)
        fed = net.decode(code, target, torch.ones(20, dtype=torch.bool))
    assert torch.allclose(fast, slow, atol=1e-5)
    assert torch.allclose(free, fed, atol=1e-6)  # all own outputs: the target is never read
    assert not torch.allclose(free, fast, atol=1e-3)


def test_config_errors_are_one_clear_line(tmp_path):
    for bad, what in (({"schedule": "cubic"}, "schedule"), ({"lambda": -1}, "lambda"), ({"steps": 0}, "steps"),
                      ({"model": {"attention": "sparse"}}, "attention"), ({"oops": 1}, "oops"),
                      ({"model": {"d_model": 10, "heads": 4}}, "multiple"), ({"w_speed": -1}, "w_speed")):
        with pytest.raises(ChoreoInputError, match=what):
            T.validate_config(bad, "cfg.json")


def test_the_speed_term_costs_standing_still_not_moving_elsewhere():
    t = torch.linspace(0, 3, 30)[None, :, None]
    dance = torch.cat([torch.sin(t), torch.cos(t)], dim=-1)      # moves at one speed along a circle
    mirrored = torch.cat([-torch.sin(t), torch.cos(t)], dim=-1)  # the same speed, the other way
    still = torch.zeros_like(dance) + dance.mean(dim=1, keepdim=True)
    l1 = torch.nn.functional.l1_loss
    assert l1(T.frame_speed(mirrored), T.frame_speed(dance)) < 1e-6
    assert l1(T.frame_speed(still), T.frame_speed(dance)) > 0.09  # 3 rad over 29 steps of a unit circle
    assert l1(mirrored, dance) > l1(still, dance)  # which L1 alone prefers


def test_training_learns_resumes_exactly_and_writes_the_family(tiny):
    cfg = tiny_config(tiny)
    straight = T.train_generator(cfg, tiny["dir"] / "a", device="cpu")
    half = T.train_generator(cfg, tiny["dir"] / "b", device="cpu", max_steps=2)
    assert checkpoint_step(tiny["dir"] / "b" / "dancerevolution_checkpoint") == 2 and half["steps"] == 2
    with pytest.raises(ChoreoInputError, match="different config.*schedule"):
        T.train_generator({**cfg, "schedule": "exp"}, tiny["dir"] / "b", device="cpu", resume=True)
    resumed = T.train_generator(cfg, tiny["dir"] / "b", device="cpu", resume=True)
    ta, meta = load_weights(straight["weights"])
    tb, _ = load_weights(resumed["weights"])
    for k in ta:
        np.testing.assert_array_equal(ta[k], tb[k], err_msg=k)
    assert [h["p"] for h in straight["history"] if "p" in h] == [0, 4, 8, 12]  # λt frames fed back
    assert meta["family"] == "dancerevolution" and meta["config"]["d_model"] == 16
    assert {"music_mean", "music_std", "norm_mean", "norm_std", "energy_stats", "layers.0.rel"} <= set(ta)
    assert not any(k.startswith("style") for k in ta)  # the posterior is for training only
    assert float(ta["music_std"].min()) > 0 and np.isfinite(straight["final_val_l1"])
    report = json.loads((tiny["dir"] / "a" / "dancerevolution.json").read_text())
    assert report["weights_sha256"] == straight["weights_sha256"]


def test_a_few_steps_reduce_the_training_error(tiny):
    cfg = tiny_config(tiny, steps=30, val_every=30, log_every=5, lr=3e-3, schedule="const", lambda_=None)
    cfg.pop("lambda_")
    r = T.train_generator(cfg, tiny["dir"] / "learn", device="cpu")
    l1 = [h["l1"] for h in r["history"] if "l1" in h]
    assert np.mean(l1[-2:]) < 0.95 * np.mean(l1[:2]) and np.isfinite(r["final_val_l1"])


def test_choreo_train_dispatches_on_the_family(tiny, tmp_path, capsys):
    path = tmp_path / "dr.json"
    path.write_text(json.dumps({"task": "generator", "family": "dancerevolution",
                                **tiny_config(tiny, steps=2, w_speed=4.0)}))
    assert cli_main(["train", "--config", str(path), "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "dancerevolution.safetensors").is_file()
    history = json.loads((tmp_path / "o" / "dancerevolution.json").read_text())["history"]
    assert all(h["speed"] >= 0 for h in history if "l1" in h)  # the speed term is on and logged
    assert "final val L1" in capsys.readouterr().out


def test_a_2d_model_trains_and_dances_keypoints(tiny):
    """The paper's 2D setting (OpenPose-18 front view), as Ren's ``ren_2d``: the same
    trainer on the keypoint features, its weights loaded and generating through the
    shared 2D pipeline."""
    from choreo.core.generation import load_generator
    from choreo.core.generation.pipeline import generate_keypoints
    from choreo.core.models.representation import OPENPOSE18, pose_dim

    cfg = tiny_config(tiny, model={**SMALL, "output": OPENPOSE18}, variant="dr_2d", steps=3)
    r = T.train_generator(cfg, tiny["dir"] / "2d", device="cpu")
    assert r["weights"].endswith("dr_2d.safetensors") and np.isfinite(r["final_val_l1"])
    tensors, meta = load_weights(r["weights"])
    assert meta["config"]["output"] == OPENPOSE18 and meta["training"]["model"]["output"] == OPENPOSE18
    assert tensors["norm_mean"].shape == (pose_dim(OPENPOSE18),) == (36,)
    gen, _ = load_generator(r["weights"])
    assert gen.output == OPENPOSE18 and gen.family == "dancerevolution"
    sr, seconds = gen.sample_rate, 3.0
    t = np.arange(int(sr * seconds)) / sr
    y = (0.1 * np.sin(2 * np.pi * 220.0 * t) * (1 + (t % 0.5 < 0.05))).astype(np.float32)
    keypoints, windows = generate_keypoints(gen, y, sr, seed=0, tempo=120.0, downbeat=0.0)
    assert keypoints.shape == (int(seconds * gen.fps), 18, 2) and windows == [] and np.all(np.isfinite(keypoints))
