"""Generator training (Ren et al. eq. 1, 4–7): discriminators, data, losses, trainer, checkpoints, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from choreo.cli import main as cli_main
from choreo.core.audio.features import audio_pieces
from choreo.core.data.corpus import Corpus, sha256
from choreo.core.errors import ChoreoInputError
from choreo.core.models.config import GeneratorConfig
from choreo.core.models.discriminators import (DiscriminatorConfig, GlobalContentDiscriminator,
                                               LocalTemporalDiscriminator, StructuredSelfAttention)
from choreo.core.models.generator import DanceGenerator
from choreo.core.models.stgcn import STGCN, STGCNConfig
from choreo.core.models.weights import load_weights, module_tensors, save_weights
from choreo.core.training import losses as L
from choreo.core.training.checkpoint import checkpoint_step
from choreo.core.training.data import PairData, pieces_at
from choreo.core.training.trainer import train_generator, validate_config

GEN = {"enc_channels": [4, 8], "enc_kernels": [32, 8], "enc_strides": [16, 8], "enc_dim": 16,
       "noise_dim": 2, "hidden": 16, "mlp_hidden": 32}
DISC = {"channels": 8, "fused_channels": 8, "feat_dim": 16, "local_hidden": 8, "music_hidden": 8,
        "attention_dim": 8, "classifier_channels": 4}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, tiny_corpus, music_dir):
    """The tiny corpus and a random tiny ST-GCN."""
    out = tmp_path_factory.mktemp("train")
    corpus_path = tiny_corpus
    torch.manual_seed(0)
    cfg = STGCNConfig(channels=(8, 8), strides=(1, 2))
    stgcn_path = out / "stgcn.safetensors"
    save_weights(stgcn_path, module_tensors(STGCN(cfg)), {"kind": "stgcn", "config": cfg.to_dict(), "training": {}})
    return {"dir": out, "corpus": corpus_path, "music": music_dir, "stgcn": stgcn_path}


def tiny_config(tiny, **over) -> dict:
    cfg = {"variant": "full", "steps": 4, "batch_size": 2, "crop_frames": 30, "generator": GEN,
           "discriminator": DISC, "corpus": str(tiny["corpus"]), "music": str(tiny["music"]),
           "stgcn_weights": str(tiny["stgcn"]), "val_every": 2, "checkpoint_every": 100, "log_every": 1,
           "val_batch": 8, "seed": 5}
    cfg.update(over)
    return cfg


def test_discriminator_shapes_and_attention():
    torch.manual_seed(0)
    g = GeneratorConfig.from_dict(GEN)
    d = DiscriminatorConfig.from_dict(DISC)
    poses, pieces = torch.randn(3, 60, g.pose_dim), torch.randn(3, 60, g.piece_samples)
    local = LocalTemporalDiscriminator(g.pose_dim, d)
    scores, acts = local(poses)
    assert scores.shape == (3, (60 - 15) // 9 + 1) == (3, local.num_windows(60))
    assert len(acts) == 6 and all(a.shape[0] == 3 * scores.shape[1] for a in acts)
    glob = GlobalContentDiscriminator(g, d)
    score, acts = glob(poses, pieces)
    assert score.shape == (3,) and acts[-2].shape == (3, d.feat_dim)
    # Precomputed music features give the same score.
    assert torch.allclose(glob(poses, music=glob.music_features(pieces))[0], score)
    o = torch.randn(2, 7, 6)
    w = StructuredSelfAttention(6, 4, "softmax").weights(o)
    assert torch.allclose(w.sum(-1), torch.ones(2), atol=1e-6) and (w > 0).all()
    paper = StructuredSelfAttention(6, 4, "neg_log_softmax")
    paper.load_state_dict(StructuredSelfAttention(6, 4).state_dict())
    assert (paper.weights(o) > 0).all() and (paper.weights(o).sum(-1) > 1).all()  # unnormalised
    with pytest.raises(ValueError, match="attention"):
        DiscriminatorConfig.from_dict({"attention": "nope"})


def test_gan_losses_and_gradient_penalty_are_finite():
    torch.manual_seed(0)
    g, d = GeneratorConfig.from_dict(GEN), DiscriminatorConfig.from_dict(DISC)
    glob = GlobalContentDiscriminator(g, d)
    real, fake = torch.randn(2, 30, g.pose_dim), torch.randn(2, 30, g.pose_dim)
    music = glob.music_features(torch.randn(2, 30, g.piece_samples))
    gp = L.gradient_penalty(glob, real, fake, music)
    assert torch.isfinite(gp) and gp >= 0
    gp.backward()
    assert all(torch.isfinite(p.grad).all() for p in glob.pose_encoder.parameters() if p.grad is not None)
    for gan in L.GAN_LOSSES:
        # A discriminator that is right scores lower loss than one that is wrong.
        good, bad = torch.full((4,), 3.0), torch.full((4,), -3.0)
        assert L.d_loss(good, bad, gan) < L.d_loss(bad, good, gan)
        assert L.g_loss(good, gan) < L.g_loss(bad, gan)


def test_pieces_match_the_generator_input(tiny):
    y = np.random.default_rng(0).standard_normal(16000 * 3).astype(np.float32)
    cfg = GeneratorConfig()
    ref = audio_pieces(y, 16000, 30.0, 0.1)
    got = pieces_at(y, 16000, np.arange(len(ref)) / 30.0, cfg.piece_samples)
    np.testing.assert_array_equal(got, ref)


def test_data_is_normalised_and_deterministic(tiny):
    corpus = Corpus.load(tiny["corpus"])
    g = GeneratorConfig.from_dict(GEN)
    train = PairData(corpus, tiny["music"], "train", g, 30)
    assert len(train) == len(list(corpus.pairs("train")))  # mirrors included
    train.set_stats(*train.compute_stats())
    b1 = train.random_batch(np.random.default_rng(3), 4)
    b2 = train.random_batch(np.random.default_rng(3), 4)
    np.testing.assert_array_equal(b1.target, b2.target)
    np.testing.assert_array_equal(b1.pieces, b2.pieces)
    assert b1.pieces.shape == (4, 30, g.piece_samples) and b1.cond.shape == (4, 30, 1 + g.noise_dim)
    allf = np.concatenate([(f - train.mean) / train.std for f in train.features])
    assert abs(allf.mean()) < 1e-3 and abs(allf.std() - 1) < 0.05
    assert np.abs(b1.pieces).max() > 0.01  # music is there


def test_a_few_steps_reduce_l1_on_a_fixed_batch(tiny):
    corpus = Corpus.load(tiny["corpus"])
    g = GeneratorConfig.from_dict(GEN)
    train = PairData(corpus, tiny["music"], "train", g, 30)
    train.set_stats(*train.compute_stats())
    b = train.random_batch(np.random.default_rng(0), 4)
    torch.manual_seed(0)
    G = DanceGenerator(g)
    opt = torch.optim.Adam(G.parameters(), lr=3e-3)
    pieces, cond, real = (torch.from_numpy(x) for x in (b.pieces, b.cond, b.target))
    first = None
    for _ in range(25):
        loss = L.l1(real, G(pieces, cond))
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.8 * first


def test_resume_is_exact_and_weights_file_is_complete(tiny):
    cfg = tiny_config(tiny)
    straight = train_generator(cfg, tiny["dir"] / "a", device="cpu")
    half = train_generator(cfg, tiny["dir"] / "b", device="cpu", max_steps=2)
    assert checkpoint_step(tiny["dir"] / "b" / "full_checkpoint") == 2 and half["steps"] == 2
    th = load_weights(half["weights"])[0]
    with pytest.raises(ChoreoInputError, match="different config.*lr_g"):
        train_generator({**cfg, "lr_g": 0.5}, tiny["dir"] / "b", device="cpu", resume=True)
    resumed = train_generator(cfg, tiny["dir"] / "b", device="cpu", resume=True)
    assert straight["steps"] == resumed["steps"] == 4
    ta, meta = load_weights(straight["weights"])
    tb, _ = load_weights(resumed["weights"])
    assert set(ta) == set(tb) and {"norm_mean", "norm_std", "energy_stats"} <= set(ta)
    for k in ta:
        np.testing.assert_array_equal(ta[k], tb[k], err_msg=k)
    assert not np.array_equal(th["mlp.4.weight"], ta["mlp.4.weight"])  # the second half did train
    assert straight["final_val_l1"] == resumed["final_val_l1"]
    # Every loss of the full objective was active and finite.
    for k in ("l1", "d_local", "d_global", "gp", "g_local", "g_global", "fm", "perceptual"):
        assert np.isfinite(straight["final_train"][k]), k
    # Meta per the spec; the generator loads back.
    assert meta["kind"] == "generator" and meta["family"] == "ren" and meta["variant"] == "full"
    assert meta["corpus"]["sha256"] == sha256(tiny["corpus"]) and meta["corpus"]["pairs"] == len(Corpus.load(tiny["corpus"]))
    assert meta["training"]["steps"] == 4 and meta["training"]["seconds"] > 0
    assert meta["training"]["losses"]["perceptual"] is True
    G = DanceGenerator(GeneratorConfig.from_dict(meta["config"]))
    G.load_state_dict({k: torch.from_numpy(v) for k, v in ta.items()})
    assert float(G.norm_std.min()) > 0 and float(G.energy_stats[1]) > 0
    report = json.loads((tiny["dir"] / "a" / "full.json").read_text())
    assert report["weights_sha256"] == straight["weights_sha256"]


def test_l1_only_variant_trains_without_discriminators(tiny):
    cfg = tiny_config(tiny, variant="l1", steps=2, losses={"l1": True})
    r = train_generator(cfg, tiny["dir"] / "l1", device="cpu")
    assert set(r["final_train"]) == {"l1", "g_total"}
    assert load_weights(r["weights"])[1]["variant"] == "l1"


def test_style_posterior_trains_and_ships_the_generator_only(tiny):
    cfg = tiny_config(tiny, variant="choreo", steps=2, losses={"l1": True}, style_posterior=True)
    r = train_generator(cfg, tiny["dir"] / "style", device="cpu")
    assert r["final_train"]["kl"] >= 0
    tensors, meta = load_weights(r["weights"])
    assert meta["variant"] == "choreo" and not any(k.startswith("style") for k in tensors)
    assert (tiny["dir"] / "style" / "choreo_checkpoint").is_dir()


def test_bad_configs_are_one_clear_line(tiny, tmp_path, capsys):
    cases = {"missing.json": None, "bad.json": "{not json", "key.json": json.dumps({"task": "generator", "stepz": 3}),
             "task.json": json.dumps({"task": "painting"}), "list.json": "[1, 2]",
             "family.json": json.dumps({"task": "generator", "family": "painting"})}
    for name, text in cases.items():
        path = tmp_path / name
        if text is not None:
            path.write_text(text)
        assert cli_main(["train", "--config", str(path), "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and name in err and "Traceback" not in err, err
    assert "stepz" in _err(tmp_path, "key.json", capsys) and "painting" in _err(tmp_path, "task.json", capsys)
    assert "unknown generator family 'painting' (known: danceit, dancerevolution, ren)" in _err(tmp_path, "family.json", capsys)
    with pytest.raises(ChoreoInputError, match="corpus file not found"):
        train_generator(tiny_config(tiny, corpus=str(tmp_path / "none.npz")), tmp_path / "o", device="cpu")
    with pytest.raises(ChoreoInputError, match="no checkpoint"):
        train_generator(tiny_config(tiny), tmp_path / "fresh", device="cpu", resume=True)
    for bad, what in (({"variant": "best"}, "variant"), ({"betas": [0.5]}, "betas"), ({"steps": 0}, "steps"),
                      ({"generator": {"hiden": 3}}, "hiden"), ({"losses": {"l1": False}}, "no loss"),
                      ({"gan": "wgan"}, "gan"), ({"family": "dancerevolution"}, "family must be 'ren'")):
        with pytest.raises(ChoreoInputError, match=what):
            validate_config(bad)
    assert not (tmp_path / "o").exists()


def _err(tmp_path, name, capsys) -> str:
    cli_main(["train", "--config", str(tmp_path / name)])
    return capsys.readouterr().err


@pytest.mark.parametrize("bad, what", [
    ({"lr_g": float("nan")}, "lr_g must be a positive number"), ({"lr_d_local": 0}, "lr_d_local"),
    ({"lr_d_global": -1e-3}, "lr_d_global"), ({"w_l1": float("nan")}, "w_l1"), ({"w_gp": float("inf")}, "w_gp"),
    ({"betas": [0.5, float("nan")]}, "betas"), ({"perceptual_layers": [1.0, float("nan")]}, "perceptual_layers"),
    ({"generator": {"fps": 0}}, "fps"), ({"generator": {"hidden": 0}}, "hidden"),
    ({"generator": {"piece_seconds": float("nan")}}, "piece_seconds"),
    ({"discriminator": {"channels": 0}}, "channels"),
    ({"energy_sigma_s": 0}, "energy_sigma_s"), ({"energy_sigma_s": float("nan")}, "energy_sigma_s"),
    ({"grad_clip": -1}, "grad_clip"),
])
def test_zero_nan_and_negative_numbers_are_refused(bad, what, tmp_path, capsys):
    """JSON allows NaN and Infinity; NaN passes every comparison (was: accepted, training NaN)."""
    with pytest.raises(ChoreoInputError, match=what):
        validate_config(bad)
    config = tmp_path / "c.json"
    config.write_text(json.dumps(bad))  # json writes NaN / Infinity, as a user's file may hold them
    assert cli_main(["train", "--config", str(config), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "c.json" in err and what in err, err


def test_a_kill_while_checkpointing_leaves_a_resumable_run(tiny, monkeypatch):
    """Killed right after the first file of the step-4 checkpoint lands (the old layout's
    tensors, before their JSON): resuming still gives the uninterrupted run's weights;
    a run of the old two-file layout resumes too."""
    import os
    import shutil

    from choreo.core.models.safetensors import read_safetensors, write_safetensors
    from choreo.core.training import checkpoint as ckpt

    cfg = tiny_config(tiny, steps=6, checkpoint_every=2, val_every=3)
    straight = train_generator(cfg, tiny["dir"] / "k_straight", device="cpu")
    out = tiny["dir"] / "k"
    run_dir = (out / "full_checkpoint").resolve()
    step = [0]
    real_replace = os.replace

    def replace_then_kill(src, dst):
        real_replace(src, dst)
        if step[0] > 2 and os.path.dirname(os.path.abspath(dst)) == str(run_dir):
            raise KeyboardInterrupt  # the kill, at the worst instant

    monkeypatch.setattr(os, "replace", replace_then_kill)
    with pytest.raises(KeyboardInterrupt):
        train_generator(cfg, out, device="cpu", progress=lambda f, label: step.__setitem__(0, round(f * 6)))
    monkeypatch.setattr(os, "replace", real_replace)
    assert step[0] == 4 and not [p for p in run_dir.iterdir() if p.name.startswith(".")]  # no temp file left
    legacy = tiny["dir"] / "k_legacy"
    shutil.copytree(out, legacy)
    logs = []
    resumed = train_generator(cfg, out, device="cpu", resume=True, log=logs.append)  # was: "partial write?"
    assert logs == [f"resumed from step 4 ({out / 'full_checkpoint'})"]
    # The layout of older versions: the state in checkpoint.json, with the tensors' sha256.
    old = legacy / "full_checkpoint"
    tensors, meta = read_safetensors(old / ckpt.TENSORS)
    state = json.loads(meta[ckpt.STATE_KEY])
    write_safetensors(old / ckpt.TENSORS, tensors, metadata={"step": meta["step"]})
    (old / ckpt.LEGACY_STATE).write_text(json.dumps({**state, "tensors_sha256": sha256(old / ckpt.TENSORS)}))
    from_legacy = train_generator(cfg, legacy, device="cpu", resume=True)
    assert not (old / ckpt.LEGACY_STATE).exists()  # its next checkpoint is in the one-file layout
    want = load_weights(straight["weights"])[0]
    for result in (resumed, from_legacy):
        got = load_weights(result["weights"])[0]
        for k in want:
            np.testing.assert_array_equal(want[k], got[k], err_msg=k)
        assert result["final_val_l1"] == straight["final_val_l1"]


def test_interrupted_training_keeps_its_checkpoint_and_says_how_to_resume(tiny, tmp_path, capsys):
    import os
    import signal
    import subprocess
    import sys

    config = tmp_path / "run.json"
    config.write_text(json.dumps(tiny_config(tiny, steps=100000, checkpoint_every=1, val_every=100000)))
    out = tmp_path / "out"
    env = {**os.environ, "CHOREO_PROGRESS_INTERVAL": "0.1"}
    proc = subprocess.Popen([sys.executable, "-m", "choreo", "train", "--config", str(config), "--out", str(out),
                             "--device", "cpu"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    import re
    import threading

    watchdog = threading.Timer(120, proc.kill)  # a run of 100000 steps must not hang the suite
    watchdog.start()
    for line in proc.stderr:  # a line every 0.1 s: it may name any step from 3 on
        m = re.search(r" step (\d+)/", line)
        if m and int(m.group(1)) >= 3:  # checkpoints of steps 1 and 2 are written
            break
    proc.send_signal(signal.SIGINT)
    watchdog.cancel()
    _, err = proc.communicate(timeout=60)
    step = checkpoint_step(out / "full_checkpoint")
    assert proc.returncode == 130 and step is not None and step >= 2, err
    lines = err.strip().splitlines()[-2:]
    assert lines[0] == "choreo: interrupted" and "Traceback" not in err
    assert lines[1] == (f"choreo: the checkpoint of step {step} is kept in {out / 'full_checkpoint'}; resume with: "
                        f"choreo train --config {config} --out {out} --resume"), lines
    assert not [p for p in out.rglob("*") if p.name.startswith(".") or ".part" in p.name]
    assert cli_main(["train", "--config", str(config), "--out", str(out), "--resume", "--steps", str(step + 1),
                     "--device", "cpu"]) == 0
    assert f"resumed from step {step} " in capsys.readouterr().out
    assert checkpoint_step(out / "full_checkpoint") == step + 1


def test_energy_curve_conditioning_follows_the_dance(tiny):
    """``energy_sigma_s``: the energy control is the dance's own per-frame energy curve
    (its mean over a crop is the crop's log energy, up to the smoothing), not one value per crop."""
    from choreo.core.models.conditioning import log_energy, log_energy_curve

    corpus = Corpus.load(tiny["corpus"])
    g = GeneratorConfig.from_dict(GEN)
    curve = PairData(corpus, tiny["music"], "train", g, 30, energy_sigma_s=1.0)
    curve.set_stats(*curve.compute_stats())
    b = curve.random_batch(np.random.default_rng(3), 4)
    e = b.cond[..., 0]
    assert np.ptp(e, axis=1).max() > 0.05            # varies within a crop
    allc = np.concatenate([(c - curve.energy_stats[0]) / curve.energy_stats[1] for c in curve.energy_curves])
    assert abs(allc.mean()) < 1e-6 and abs(allc.std() - 1) < 1e-6
    f = curve.features[0]
    assert abs(np.log(np.mean(np.exp(log_energy_curve(f, sigma_s=1e-3)[:-1]))) - log_energy(f)) < 1e-3
    r = train_generator(tiny_config(tiny, variant="choreo", steps=2, energy_sigma_s=1.0, grad_clip=1e-3),
                        tiny["dir"] / "curve", device="cpu")
    training = load_weights(r["weights"])[1]["training"]
    assert training["energy_sigma_s"] == 1.0 and training["grad_clip"] == 1e-3


def test_grad_clip_bounds_every_optimiser_step(tiny):
    """``grad_clip``: no optimiser steps on a gradient larger than the bound (the default
    recipe's global discriminator once blew up from 0.3 to 5.6e5 in one step)."""
    cfg = validate_config(tiny_config(tiny, steps=1, grad_clip=0.01))
    from choreo.core.training import trainer as T

    run = T._Run(cfg, torch.device("cpu"))
    seen = []
    for name, opt in run.optims.items():
        orig = opt.step

        def spy(*a, _orig=orig, _opt=opt, **k):
            g = [p.grad.norm() ** 2 for grp in _opt.param_groups for p in grp["params"] if p.grad is not None]
            seen.append(float(torch.stack(g).sum().sqrt()))
            return _orig(*a, **k)
        opt.step = spy
    corpus = Corpus.load(tiny["corpus"])
    data = PairData(corpus, tiny["music"], "train", GeneratorConfig.from_dict(GEN), 30)
    data.set_stats(*data.compute_stats())
    run.step(data.random_batch(np.random.default_rng(0), 2))
    assert len(seen) == len(run.optims) and max(seen) <= 0.01 + 1e-6
