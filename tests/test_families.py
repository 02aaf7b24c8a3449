"""Generator families (core/generation/families): the registry, weights dispatched on
their own metadata (older weights included), Ren's shipped weights dancing exactly as
recorded before the registry, and a family added as nothing but a folder."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from choreo.cli import main as cli_main
from choreo.core.errors import ChoreoInputError
from choreo.core.generation import (all_families, family_of, generate_dance, generate_from_samples,
                                    generate_pose2d, load_generator)
from choreo.core.generation import families as F
from choreo.core.generation.pipeline import generate_keypoints
from choreo.core.models import weights as W
from choreo.core.models.representation import OPENPOSE18, SMPL24

SR, BPM, SECONDS = 16000, 120.0, 12.0


def song():
    """12 s at 16 kHz: a hum, kicks on the beats (louder on the downbeats), hats between;
    made here, so the golden dances depend on the generators alone, not on audio analysis."""
    t = np.arange(int(SR * SECONDS)) / SR
    beat = 60.0 / BPM
    beats = np.arange(0, SECONDS, beat)
    y = 0.1 * np.sin(2 * np.pi * 220.0 * t) * (1 + 0.5 * np.sin(2 * np.pi * t / 6))
    for k, b in enumerate(beats):
        i = int(b * SR)
        n = min(int(0.15 * SR), len(y) - i)
        y[i:i + n] += (0.8 if k % 4 == 0 else 0.5) * np.exp(-np.arange(n) / (0.03 * SR)) \
            * np.sin(2 * np.pi * 60.0 * np.arange(n) / SR)
    rng = np.random.default_rng(0)
    for b in beats + beat / 2:
        i = int(b * SR)
        n = min(int(0.03 * SR), len(y) - i)
        y[i:i + n] += 0.1 * rng.standard_normal(n) * np.exp(-np.arange(n) / (0.005 * SR))
    return y.astype(np.float32), beats, beats[::4]  # 6 bars: too few for sections, none are looked for


def digest(poses) -> np.ndarray:
    """Mean joint position every 2 s (m) and mean |velocity| per axis (m/s) of (T, J, 2|3) poses."""
    p = np.asarray(poses, np.float64)
    return np.concatenate([p[::60].mean(axis=1).ravel(), np.abs(np.diff(p, axis=0)).mean(axis=(0, 1)) * 30])


# Recorded with the shipped weights before the registry (Ren's code in core/generation/
# pipeline.py and runtime.py); 1 mm / 1 mm/s of slack for another machine's float32 sums.
GOLDEN_3D = {
    0: [0.04522, -0.13125, 0.87977, 1.31171, -0.89033, 0.90557, 1.4116, -0.12184, 0.94018, 1.50123, -0.266,
        0.95235, 1.14294, -0.08187, 0.92432, 0.93243, -0.65348, 0.90099, 0.40338, 0.51983, 0.31173],
    7: [0.03786, -0.12935, 0.89974, 1.46287, 0.02677, 0.94226, 1.05457, 0.32782, 0.93897, 1.0213, 0.35287,
        0.98738, -0.21304, 1.22153, 0.95722, 0.15962, 1.61496, 0.94085, 0.43687, 0.48719, 0.33912],
}
GOLDEN_2D_SEED0 = [-0.01421, 1.34295, -0.05492, 1.24031, -0.02007, 1.15491, -0.00326, 1.20726, -0.08491, 1.34088,
                   -0.01437, 1.15024, 0.31328, 0.18537]
TOL = 1e-3


def test_the_registry_knows_ren():
    names = [f.name for f in all_families()]
    assert "ren" in names and names == sorted(names)
    ren = F.get_family("ren")
    assert set(ren.outputs) == {SMPL24, OPENPOSE18} and ren.trainer is not None
    assert ren.description and "\n" not in ren.description
    with pytest.raises(ChoreoInputError, match="unknown generator family 'nosuch' \\(known: .*ren"):
        F.get_family("nosuch")


def test_shipped_weights_from_before_families_load_as_ren():
    """The shipped weights predate families: ``"model": "ren"`` and ``config.mode`` in their
    metadata, read as family ``ren`` and its outputs, with the files unchanged."""
    for name, output in (("default", SMPL24), ("ren_2d", OPENPOSE18)):
        _, meta = W.load_weights(W.shipped_path(name))  # checked against weights.json's sha256
        assert "family" not in meta and meta["model"] == "ren" and "mode" in meta["config"]
        gen, _ = load_generator(name)
        assert (gen.family, gen.output, gen.fps, gen.sample_rate) == ("ren", output, 30.0, 16000)
        assert family_of(name) is family_of(gen) is F.get_family("ren")


def test_shipped_default_dances_as_recorded_before_the_registry():
    y, beats, down = song()
    dances = {seed: generate_from_samples(y, SR, beats=beats, downbeats=down, seed=seed).motion.joints
              for seed in GOLDEN_3D}
    for seed, joints in dances.items():
        assert joints.shape == (int(SECONDS * 30), 24, 3)
        np.testing.assert_allclose(digest(joints), GOLDEN_3D[seed], rtol=0, atol=TOL, err_msg=f"seed {seed}")
    again = generate_from_samples(y, SR, beats=beats, downbeats=down, seed=0).motion.joints
    assert np.array_equal(again, dances[0])
    # the check can fail: another seed's dance is far outside it
    assert np.abs(digest(dances[7]) - GOLDEN_3D[0]).max() > 100 * TOL


def test_shipped_ren_2d_keypoints_as_recorded_before_the_registry():
    y, _, _ = song()
    gen, _ = load_generator("ren_2d")
    keypoints, windows = generate_keypoints(gen, y, SR, seed=0, tempo=BPM, downbeat=0.0)
    assert keypoints.shape == (int(SECONDS * 30), 18, 2) and windows == [(0, 240), (120, 360)]  # 8-s windows
    np.testing.assert_allclose(digest(keypoints), GOLDEN_2D_SEED0, rtol=0, atol=TOL)


def test_weights_name_their_family(tmp_path, capsys):
    from choreo.core.generation.families.ren.random_init import save_random_weights

    ours = tmp_path / "ours.safetensors"
    save_random_weights(ours)
    assert W.load_weights(ours)[1]["family"] == "ren" and family_of(ours).name == "ren"
    alien = tmp_path / "alien.safetensors"
    save_random_weights(alien, meta={"kind": "generator", "family": "nosuch", "config": {}})
    with pytest.raises(ChoreoInputError, match="alien.safetensors: unknown generator family 'nosuch'"):
        load_generator(alien)
    assert cli_main(["generate", "x.wav", "-o", str(tmp_path / "d.npz"), "--weights", str(alien)]) == 2
    assert "unknown generator family 'nosuch'" in capsys.readouterr().err


SWAY = '''"""A family for tests: the rest pose, swaying its arms at a seeded rate."""
import numpy as np

from choreo.core.generation.families import SMPL24, Family
from choreo.core.models.representation import encode_3d
from choreo.core.motion import Motion
from choreo.core.skeleton_maps import smpl_rest_joints


class Sway:
    family, output, sample_rate, fps = "sway", SMPL24, 8000, 25.0

    def __init__(self, path, meta):
        self.name, self.meta = str(path), meta

    def generate(self, song, *, seed, energy, frames, progress=None):
        lo, hi = frames
        rest = encode_3d(Motion(np.repeat(smpl_rest_joints()[None], 2, axis=0), self.fps))[0]
        f = np.repeat(rest[None], hi - lo, axis=0)
        f[:, 4:] += 0.05 * np.sin(np.arange(lo, hi) / self.fps * (1 + seed % 3))[:, None]
        return f, []


FAMILY = Family(name="sway", description="a test family", outputs=(SMPL24,),
                load=lambda path, tensors, meta: Sway(path, meta))
'''


def test_a_family_is_a_folder(tmp_path, monkeypatch, capsys):
    """A package with a FAMILY in the families folder is found, and its weights go through
    the shared pipeline (rate, part, beats, decoding, clean-up, the Dance) by their metadata."""
    (tmp_path / "sway").mkdir()
    (tmp_path / "sway" / "__init__.py").write_text(SWAY)
    monkeypatch.setattr(F, "__path__", [*F.__path__, str(tmp_path)])
    monkeypatch.setattr(F, "_FAMILIES", {})
    try:
        assert "sway" in [f.name for f in all_families()]
        weights = tmp_path / "sway.safetensors"
        W.save_weights(weights, {"unused": np.zeros(1, np.float32)}, {"kind": "generator", "family": "sway"})
        assert family_of(weights).name == "sway"
        y, beats, down = song()
        d = generate_from_samples(y, SR, beats=beats, downbeats=down, weights=weights, seed=1, start=2.0, end=6.0)
        assert d.motion.joints.shape == (100, 24, 3) and d.motion.fps == 25.0 and np.all(np.isfinite(d.motion.joints))
        assert d.model == str(weights) and np.allclose(d.beats, beats[(beats >= 2) & (beats < 6)] - 2)
        with pytest.raises(ChoreoInputError, match="a sway generator of 3D motion on SMPL-24, not 2D keypoints"):
            generate_pose2d(tmp_path / "any.wav", weights=weights)
        config = tmp_path / "sway.json"
        config.write_text(json.dumps({"task": "generator", "family": "sway"}))
        assert cli_main(["train", "--config", str(config), "--out", str(tmp_path / "out")]) == 2
        assert "the sway generator family has no trainer" in capsys.readouterr().err
    finally:
        sys.modules.pop(f"{F.__name__}.sway", None)


def test_generate_motion_refuses_2d_weights_by_their_output():
    """The model-only entry point (benchmarks) has no lifter: a 2D family there is an error;
    generate_dance lifts it (test_generation_2d)."""
    from choreo.core.generation.pipeline import generate_motion, load_generator

    gen, _ = load_generator("ren_2d")
    with pytest.raises(ChoreoInputError, match="a ren generator of 2D keypoints .* use generate_pose2d"):
        generate_motion(gen, np.zeros(16000, np.float32), 16000)


def test_resume_reads_configs_from_before_families():
    """A checkpoint's config from before families (no ``family``, the generator's ``mode``)
    is the same config as today's for ``--resume``."""
    pytest.importorskip("torch")
    from choreo.core.training import trainer

    new = trainer.validate_config({"generator": {"output": OPENPOSE18}, "losses": {"l1": True}})
    old = {k: v for k, v in new.items() if k != "family"}
    old["generator"] = {"mode": "2d"}
    assert new["family"] == "ren" and trainer._comparable(old) == trainer._comparable(new)
    assert trainer._comparable({**old, "lr_g": 0.5}) != trainer._comparable(new)
