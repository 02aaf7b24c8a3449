"""Dance Revolution's family: the numpy runtime against the torch model (both attention
kinds, across the streaming chunks' seams), determinism, ranges equal to the whole
song, and random-init weights (numpy's: these run without torch too) dancing through
the shared pipeline, in a process where torch cannot be imported."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from choreo.core.audio.features import COLUMNS
from choreo.core.errors import ChoreoInputError
from choreo.core.generation import all_families, family_of, generate_from_samples
from choreo.core.generation.families import load_file
from choreo.core.generation.families.dancerevolution import DRGenerator
from choreo.core.generation.song import song_features
from choreo.core.generation.families.dancerevolution.random_init import random_tensors, save_random_weights
from choreo.core.generation.families.dancerevolution.runtime import DRRuntime, expected_shapes
from choreo.core.generation.pipeline import generate_keypoints
from choreo.core.generation.song import Song
from choreo.core.models.config import DRConfig
from choreo.core.models.representation import OPENPOSE18

SR, BPM, SECONDS = 22050, 120.0, 6.0


def small(**kw) -> DRConfig:
    return DRConfig(**{**dict(d_model=32, layers=2, heads=4, ff=48, window=5, dec_hidden=24, dec_layers=2,
                              noise_dim=3), **kw})


def clicks():
    """6 s at 22.05 kHz: a hum and a click on every beat; and its beats, downbeats."""
    t = np.arange(int(SR * SECONDS)) / SR
    y = 0.1 * np.sin(2 * np.pi * 220.0 * t)
    beats = np.arange(0, SECONDS, 60.0 / BPM)
    for b in beats:
        i = int(b * SR)
        y[i:i + 600] += 0.6 * np.exp(-np.arange(600) / 100.0) * np.sin(np.arange(600) * 0.05)
    return y.astype(np.float32), beats, beats[::4]


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("dr") / "dr.safetensors"
    save_random_weights(path, small())
    return path


@pytest.mark.parametrize("attention", ["local", "global"])
def test_runtime_equals_torch_across_chunk_seams(attention):
    import torch

    from choreo.core.models.dancerevolution import DanceRevolution

    cfg = small(attention=attention)
    rng = np.random.default_rng(1)
    tensors = random_tensors(cfg, seed=2)
    tensors["music_mean"] = rng.standard_normal(cfg.music_dim).astype(np.float32)
    tensors["music_std"] = rng.uniform(0.5, 2.0, cfg.music_dim).astype(np.float32)
    assert {k: v.shape for k, v in tensors.items()} == expected_shapes(cfg)
    model = DanceRevolution(cfg).eval()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})  # strict: the names are the contract
    rt = DRRuntime(tensors, cfg)
    T, chunk = 300, 128  # 3 chunks; a chunk's first layer is 148 queries: 3 attention blocks
    music = rng.standard_normal((T, cfg.music_dim)).astype(np.float32)
    cond = rng.standard_normal((T, cfg.cond_dim)).astype(np.float32)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # torch's step-by-step decoder: many times slower on two threads of a busy machine
    try:
        with torch.no_grad():
            m, c = torch.from_numpy(music)[None], torch.from_numpy(cond)[None]
            want_code = model.encode(m, c)[0].numpy()
            want = model(m, c)[0].numpy()  # normalised poses
    finally:
        torch.set_num_threads(threads)
    code = np.concatenate([x for _, x in rt.encode(music, cond, chunk=chunk)])
    np.testing.assert_allclose(code, want_code, rtol=0, atol=1e-4)
    got = rt.run(music, cond, chunk=chunk)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-4 * np.abs(want).max())
    # a range is the whole sequence's there, to the bit; another chunk size to float32 rounding
    assert np.array_equal(rt.run(music, cond, frames=(100, 260), chunk=chunk), got[100:260])
    np.testing.assert_allclose(rt.run(music, cond), got, rtol=0, atol=1e-5 * np.abs(want).max())


def test_the_family_is_registered_and_loads_its_weights(weights, tmp_path):
    from choreo.core.models.weights import load_weights

    fam = family_of(weights)
    assert fam.name == "dancerevolution" and fam in all_families() and fam.trainer is not None
    assert fam.description and "\n" not in fam.description
    gen = load_file(weights)
    assert isinstance(gen, DRGenerator) and (gen.family, gen.fps, gen.sample_rate) == ("dancerevolution", 30.0, SR)
    assert gen.meta["training"]["energy_sigma_s"] == 1.0
    bad = tmp_path / "bad.safetensors"
    meta = load_weights(weights)[1]
    save_random_weights(bad, small(), meta={**meta, "config": {**meta["config"], "music_dim": 40}})
    with pytest.raises(ChoreoInputError, match="bad.safetensors: generator config .* unusable .*music_dim must be 438"):
        load_file(bad)
    save_random_weights(bad, small(), meta={**meta, "config": small(ff=64).to_dict()})
    with pytest.raises(ChoreoInputError, match="weights do not match their config: layers.0.ff1.weight"):
        load_file(bad)


def test_seeded_ranges_equal_the_whole_song(weights):
    gen = load_file(weights)
    y, beats, down = clicks()
    T = int(SECONDS * 30)
    song = Song(samples=y, sr=SR, fps=30.0, part=(0, T), beats=beats, downbeats=down, tempo=BPM)
    whole, windows = gen.generate(song, seed=3, energy=1.0, frames=(0, T))
    assert whole.shape == (T, gen.cfg.pose_dim) and windows == [] and np.all(np.isfinite(whole))
    assert gen.generate(song, seed=3, energy=1.0, frames=(0, T))[0].tobytes() == whole.tobytes()
    assert np.array_equal(gen.generate(song, seed=3, energy=1.0, frames=(50, 120))[0], whole[50:120])
    other = gen.generate(song, seed=4, energy=1.0, frames=(0, T))[0]
    assert np.abs(other - whole).max() > 1e-5  # untrained: raw music drowns the noise, but it is read
    # a part's beats count from its start: the beat column is on the song's frames
    part = Song(samples=y, sr=SR, fps=30.0, part=(30, T), beats=np.array([0.5]), tempo=BPM)
    assert np.flatnonzero(song_features(part)[:, COLUMNS["beat"]]).tolist() == [45]
    # of the loudness-normalised song, as in training: the mastering level does not count
    quiet = Song(samples=y * np.float32(0.5), sr=SR, fps=30.0, part=(30, T), beats=np.array([0.5]), tempo=BPM)
    assert np.array_equal(song_features(quiet), song_features(part))


def test_random_weights_dance_through_the_pipeline(weights):
    gen = load_file(weights)
    y, beats, down = clicks()
    dance = generate_from_samples(y, SR, beats=beats, downbeats=down, weights=gen, seed=1, start=1.0, end=5.0)
    assert dance.motion.joints.shape == (120, 24, 3) and np.all(np.isfinite(dance.motion.joints))
    assert dance.seed == 1 and np.allclose(dance.beats, beats[(beats >= 1) & (beats < 5)] - 1)


def test_2d_keypoints(tmp_path):
    path = tmp_path / "dr2d.safetensors"
    save_random_weights(path, small(output=OPENPOSE18, layers=1, dec_layers=1))
    y, _, _ = clicks()
    keypoints, windows = generate_keypoints(load_file(path), y, SR, seed=0, tempo=BPM, downbeat=0.0)
    assert keypoints.shape == (int(SECONDS * 30), 18, 2) and windows == [] and np.all(np.isfinite(keypoints))


BLOCKED = r"""
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "scipy", "librosa", "soundfile"):
            raise ImportError(name + " is not in a stock Blender")
sys.meta_path.insert(0, Block())
import json
import numpy as np
from choreo.core.generation import generate_from_samples
sr, n = 22050, 22050 * 3
y = (0.2 * np.sin(np.arange(n) * 0.06) * (np.arange(n) % 11025 < 2000)).astype(np.float32)
d = generate_from_samples(y, sr, beats=np.arange(0, 3, 0.5), weights=sys.argv[1], seed=2)
print("RESULT " + json.dumps([list(d.motion.joints.shape), sorted(m for m in sys.modules if m.split(".")[0] in
                                                                   ("torch", "scipy", "librosa"))]))
"""


def test_generation_needs_numpy_alone(weights):
    r = subprocess.run([sys.executable, "-c", BLOCKED, str(weights)], capture_output=True, text=True, timeout=120)
    line = next((x for x in r.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert r.returncode == 0 and line, r.stderr[-3000:]
    assert json.loads(line[len("RESULT "):]) == [[90, 24, 3], []]
