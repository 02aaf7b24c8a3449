"""Whole-song generation: the numpy runtime against torch, windows and blending,
the pipeline's determinism and controls, the dance file, and bad input."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest
import soundfile as sf
import torch

from choreo.core.audio.demo import synthesize_demo, write_demo_wav
from choreo.core.errors import ChoreoInputError
from choreo.core.formats import load_motion, save_motion
from choreo.core.generation import Dance, generate_dance, generate_from_samples, load_dance, save_dance
from choreo.core.generation import pipeline
from choreo.core.generation import song as song_cache
from choreo.core.generation.families.ren.generate import generate_features, song_pieces
from choreo.core.generation.families.ren.random_init import save_random_weights
from choreo.core.generation.families.ren.runtime import GeneratorRuntime, expected_shapes
from choreo.core.generation.windows import blend_weights, freeze_report, plan_windows, seam_report
from choreo.core.models import weights as W
from choreo.core.models.conditioning import model_pieces, normalize_loudness
from choreo.core.models.config import GeneratorConfig
from choreo.core.models.generator import DanceGenerator
from choreo.core.motion import Motion
from choreo.core.skeleton_maps import smpl_rest_joints

SMALL = GeneratorConfig(enc_channels=(4, 8, 8), enc_dim=16, noise_dim=4, hidden=16, mlp_hidden=32)


def make_weights(path, cfg=None, seed=0, meta=None):
    return save_random_weights(path, cfg, seed, meta)


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("w") / "gen.safetensors"
    make_weights(path)
    return path


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    """12 bars of the demo at 120 BPM (24 s); its exact beat grid is ``grid.json`` beside it,
    given explicitly (``beat_grid=``) where a test wants it."""
    track = synthesize_demo(tempo=120.0, bars=12, sr=16000)
    path = tmp_path_factory.mktemp("song") / "demo.wav"
    write_demo_wav(path, track)
    grid = {"bpm": 120, "meter": [4, 4], "beats": track.beats.tolist(),
            "downbeats": track.downbeats.tolist(), "duration_s": track.duration}
    (path.parent / "grid.json").write_text(json.dumps(grid))
    return path, track


# -- runtime ------------------------------------------------------------------------

@pytest.mark.parametrize("cfg", [GeneratorConfig(), GeneratorConfig(enc_channels=(8, 8), enc_kernels=(16, 8),
                                                                    enc_strides=(4, 4), noise_dim=0,
                                                                    gru_layers=1, hidden=24, output="openpose18")])
def test_runtime_equals_torch(cfg):
    torch.manual_seed(1)
    m = DanceGenerator(cfg).eval()
    with torch.no_grad():  # the buffers must not matter to forward (normalised output)
        m.norm_mean.normal_()
    rt = GeneratorRuntime(W.module_tensors(m), cfg)
    rng = np.random.default_rng(0)
    pieces = (0.3 * rng.standard_normal((3, 40, cfg.piece_samples))).astype(np.float32)
    cond = rng.standard_normal((3, 40, cfg.cond_dim)).astype(np.float32)
    with torch.no_grad():
        ref = m(torch.from_numpy(pieces), torch.from_numpy(cond)).numpy()
    out = rt.forward(pieces, cond)
    assert out.dtype == np.float32 and out.shape == ref.shape == (3, 40, cfg.pose_dim)
    assert np.abs(out - ref).max() < 1e-4
    assert np.abs(ref).max() > 1e-3  # not trivially zero
    assert set(expected_shapes(cfg)) == set(m.state_dict())


def test_song_pieces_match_model_pieces():
    rng = np.random.default_rng(2)
    y = rng.standard_normal(16000 * 3 + 123).astype(np.float32)
    ref = model_pieces(y, 16000, GeneratorConfig())
    yn = normalize_loudness(y, 16000)
    chunks = [song_pieces(yn, 16000, 30.0, 1600, a, min(a + 37, len(ref))) for a in range(0, len(ref), 37)]
    assert np.array_equal(np.concatenate(chunks), ref)


# -- windows ------------------------------------------------------------------------

@pytest.mark.parametrize("T", [1, 90, 240, 241, 500, 5401])
def test_windows_cover_and_blend_to_one(T):
    plan = plan_windows(T, 240, 60)
    assert plan[0][0] == 0 and plan[-1][1] == T
    assert len({b - a for a, b in plan}) == 1  # one length: windows batch together
    for (a0, b0), (a1, b1) in zip(plan, plan[1:]):
        assert a0 < a1 and b0 - a1 >= 60  # overlap at least asked
    total = np.zeros(T)
    for (a, b), w in zip(plan, blend_weights(plan, T, 60)):
        total[a:b] += w
        assert np.all(w > 0)
    assert np.allclose(total, 1.0, atol=1e-6)


def test_blended_features_are_the_windows_outputs(weights_file):
    rt, _ = pipeline.load_generator(weights_file)
    rng = np.random.default_rng(3)
    T = 700
    code = rng.standard_normal((T, rt.cfg.enc_dim)).astype(np.float32)
    cond = rng.standard_normal((T, rt.cfg.cond_dim)).astype(np.float32)
    feats, plan = generate_features(rt, code, cond, window=240, overlap=60, batch=2)
    assert len(plan) == 4 and feats.shape == (T, rt.cfg.pose_dim)
    x = np.concatenate([code, cond], 1)
    first = rt.denormalize(rt.mlp_forward(rt.gru_forward(x[None, :240])))[0]
    second = rt.denormalize(rt.mlp_forward(rt.gru_forward(x[None, plan[1][0]:plan[1][1]])))[0]
    only_first = plan[1][0]
    assert np.allclose(feats[:only_first], first[:only_first], atol=1e-5)
    mid = (plan[1][0] + plan[0][1]) // 2  # inside the crossfade: between the two windows' outputs
    lo, hi = np.minimum(first[mid], second[mid - plan[1][0]]), np.maximum(first[mid], second[mid - plan[1][0]])
    assert np.all(feats[mid] >= lo - 1e-5) and np.all(feats[mid] <= hi + 1e-5)
    short, plan1 = generate_features(rt, code[:100], cond[:100], window=240, overlap=60)
    assert plan1 == [(0, 100)]
    assert np.allclose(short, rt.denormalize(rt.mlp_forward(rt.gru_forward(x[None, :100])))[0], atol=1e-5)


def test_seam_and_freeze_reports():
    t = np.arange(600) / 30.0
    j = np.repeat(smpl_rest_joints()[None], 600, axis=0).astype(np.float64)
    j[:, 20:24, 2] += 0.2 * np.sin(2 * np.pi * t)[:, None]
    smooth = Motion(j, 30.0)
    plan = plan_windows(600, 240, 60)
    rep = seam_report(smooth, plan)
    assert rep["windows"] == 3 and 0.5 < rep["p95_ratio"] < 1.5
    jumpy = j.copy()
    jumpy[plan[1][0] + 30:, 20:24, 0] += 0.05  # a step at a join
    assert rep["max_ratio"] < 1.5 and seam_report(Motion(jumpy, 30.0), plan)["max_ratio"] > 3
    still = Motion(np.repeat(smpl_rest_joints()[None], 600, axis=0), 30.0)
    fr = freeze_report(still, (0.01, 5.0))
    assert fr["windows"] == 5 and fr["below"] == 5 and fr["frozen_fraction"] == 1.0
    assert freeze_report(smooth, (0.01, 5.0))["below"] == 0


# -- pipeline -----------------------------------------------------------------------

def test_generate_dance_uses_grid_and_is_deterministic(song, weights_file):
    path, track = song
    grid = path.parent / "grid.json"
    d1 = generate_dance(path, weights=weights_file, seed=3, beat_grid=grid)
    d2 = generate_dance(path, weights=weights_file, seed=3, beat_grid=grid)
    d3 = generate_dance(path, weights=weights_file, seed=4, beat_grid=grid)
    T = int(np.ceil(track.duration * 30))
    assert d1.motion.num_frames == T and d1.motion.fps == 30.0
    assert np.array_equal(d1.motion.joints, d2.motion.joints)
    assert np.abs(d1.motion.joints - d3.motion.joints).max() > 1e-3
    assert np.allclose(d1.beats, track.beats) and np.allclose(d1.downbeats, track.downbeats)
    assert d1.tempo == pytest.approx(120.0, abs=0.01) and d1.sections[0] == 0.0
    assert d1.audio_path == str(path) and d1.audio_start == 0.0 and d1.seed == 3
    j = d1.motion.joints
    assert np.all(np.isfinite(j))
    assert np.allclose(j[0, 0, :2], 0.0, atol=1e-6)  # starts at the origin
    from choreo.core.metrics.physical import sole_heights

    assert abs(np.percentile(sole_heights(d1.motion.joints).min(1), 5)) < 1e-3  # soles on the floor
    assert abs(np.degrees(d1.motion.facing_angle(0)) + 90) < 30  # roughly facing -y


def test_energy_and_range(song, weights_file):
    path, track = song
    grid = path.parent / "grid.json"
    calm = generate_dance(path, weights=weights_file, energy=0.5, start=4.0, end=12.0, beat_grid=grid)
    lively = generate_dance(path, weights=weights_file, energy=2.0, start=4.0, end=12.0, beat_grid=grid)
    assert calm.motion.num_frames == 240 and calm.audio_start == 4.0
    assert np.abs(calm.motion.joints - lively.motion.joints).max() > 1e-4
    assert np.allclose(calm.beats, track.beats[(track.beats >= 4) & (track.beats < 12)] - 4.0)
    # samples of that part with the file's grid: the grid's part is used (no tracking)
    y, sr = sf.read(path, dtype="float32")
    fs = generate_from_samples(y[4 * sr:12 * sr], sr, audio_path=str(path), audio_start=4.0, weights=weights_file,
                               beat_grid=grid)
    assert np.allclose(fs.beats, calm.beats) and fs.tempo == pytest.approx(120.0, abs=0.01)
    assert fs.audio_start == 4.0 and fs.motion.num_frames == 240
    # the whole song's samples with the same part: the very dance generate_dance makes
    whole = generate_from_samples(y, sr, audio_path=str(path), weights=weights_file, start=4.0, end=12.0)
    assert whole.audio_start == 4.0
    assert np.array_equal(whole.motion.joints, generate_dance(path, weights=weights_file, start=4.0,
                                                              end=12.0).motion.joints)
    # the same part and seed again: identical
    part = generate_dance(path, weights=weights_file, start=4.0, end=12.0, seed=0)
    assert np.array_equal(part.motion.joints, generate_dance(path, weights=weights_file, start=4.0,
                                                             end=12.0).motion.joints)


def _turned_onto(ref: np.ndarray, joints: np.ndarray) -> np.ndarray:
    """``joints`` turned about z and moved in xy onto ``ref`` (least squares over all
    joints and frames): a dance that starts at the origin vs the same dance mid-song."""
    pa, pb = ref[..., :2].reshape(-1, 2).astype(np.float64), joints[..., :2].reshape(-1, 2).astype(np.float64)
    u, _, vt = np.linalg.svd((pb - pb.mean(0)).T @ (pa - pa.mean(0)))
    out = joints.astype(np.float64).copy()
    out[..., :2] = ((pb - pb.mean(0)) @ (u @ vt) + pa.mean(0)).reshape(joints[..., :2].shape)
    return out


def test_a_part_is_the_whole_songs_dance_there(song, weights_file):
    """``start``/``end``: the whole song's dance over that span (same loudness level,
    same windows, same noise), turned and moved to start at the origin facing -y.
    Before the clean-up the part equals the whole within ~2 cm (bone lengths, floor);
    the clean-up decides contacts, beat anchors and the floor from the part itself,
    so a few frames differ more (here with the stage clamp off: it is centred on
    each dance's own start). Before issue 10, a part was levelled and windowed on
    its own and differed by metres."""
    from choreo.core.cleanup import StagePlan

    path, _ = song
    free = StagePlan(1.0, 1.0, 50.0)
    whole = generate_dance(path, weights=weights_file, seed=5, stage=free).motion.joints
    for start, end in ((0.0, 12.0), (6.0, 18.0), (9.5, None)):
        part = generate_dance(path, weights=weights_file, seed=5, start=start, end=end, stage=free)
        a = int(round(start * 30))
        j = part.motion.joints
        assert part.audio_start == start and np.allclose(j[0, 0, :2], 0.0, atol=1e-6)
        ref = whole[a:a + len(j)]
        assert len(ref) == len(j)
        err = np.linalg.norm(_turned_onto(ref, j) - ref, axis=-1)
        assert err.mean() < 0.04 and np.percentile(err, 95) < 0.15, (start, end, err.mean(), err.max())
    # a start between frames snaps to the nearest one: the part's frames are the song's
    assert generate_dance(path, weights=weights_file, start=6.01, end=8.0).audio_start == 6.0


def test_a_part_of_real_music_keeps_the_whole_songs_grid_and_dance(music_dir):
    """On real music a part's own beat tracking drifts from the whole song's (here 80.02 vs
    80.00 BPM): the seed's noise period, the bar phase and the music the decoder hears
    before the part would all move, and a recurrent decoder follows them far. A part is
    danced on the whole song's grid: the same tempo and beats, the same network output."""
    from choreo.core.cleanup import StagePlan

    path, free = music_dir / "mma03_softrock.ogg", StagePlan(1.0, 1.0, 50.0)
    whole = generate_dance(path, weights="dancerevolution", seed=2, stage=free)
    part = generate_dance(path, weights="dancerevolution", seed=2, stage=free, start=20.0, end=40.0)
    assert part.tempo == whole.tempo
    inside = whole.beats[(whole.beats >= 20.0 - 1e-6) & (whole.beats < 40.0)] - 20.0
    np.testing.assert_allclose(part.beats, inside, atol=1e-9)
    j = part.motion.joints
    ref = whole.motion.joints[600:600 + len(j)]
    err = np.linalg.norm(_turned_onto(ref, j) - ref, axis=-1)
    assert err.mean() < 0.05 and np.percentile(err, 95) < 0.2, (err.mean(), np.percentile(err, 95))


def test_regenerating_the_same_song_reuses_analysis_exactly(song, weights_file):
    """Generate again on the same samples reuses beats, sections and audio codes
    (song_cache._RECENT); the dances are the very same as computed afresh."""
    path, _ = song
    y, sr = sf.read(path, dtype="float32")
    song_cache._RECENT.clear()
    fresh = generate_from_samples(y, sr, weights=weights_file, seed=3)
    generate_from_samples(y, sr, weights=weights_file, seed=4)
    again = generate_from_samples(y, sr, weights=weights_file, seed=3)
    assert np.array_equal(fresh.motion.joints, again.motion.joints)
    assert np.array_equal(fresh.beats, again.beats) and np.array_equal(fresh.sections, again.sections)
    other = y.copy()
    other[sr:2 * sr] *= 0.5  # another song: recomputed, not served from the cache
    assert not np.array_equal(generate_from_samples(other, sr, weights=weights_file, seed=3).motion.joints,
                              fresh.motion.joints)


def test_json_beside_the_song_is_never_read(song, weights_file, tmp_path):
    """Only an explicit grid replaces tracking: a metadata JSON beside the song changes nothing."""
    import shutil

    path, track = song
    beside = tmp_path / "demo.wav"
    shutil.copy(path, beside)
    beside.with_suffix(".json").write_text(json.dumps({"beats": None, "title": "my notes"}))
    tracked = generate_dance(beside, weights=weights_file, end=8.0)
    assert np.array_equal(tracked.motion.joints, generate_dance(path, weights=weights_file, end=8.0).motion.joints)
    assert len(tracked.beats) > 8  # tracked, not the JSON's


@pytest.mark.parametrize("grid, message", [
    ({"beats": None}, "'beats' must be a list of times"),
    ({"beats": [0.5]}, "at least two beats"),
    ({"beats": [1.0, 0.5, 2.0]}, "strictly increasing"),
    ({"beats": [0.5, float("nan")]}, "NaN"),
    ({"beats": [0.5, 1.0], "meter": 0}, "'meter'"),
    ({"beats": [0.5, 1.0], "meter": 1e9}, "'meter'"),
    ({"beats": [0.5, 1.0], "bpm": -3}, "'bpm'"),
    ([1, 2, 3], "JSON object"),
])
def test_bad_beat_grid_is_one_clear_error(song, weights_file, tmp_path, grid, message):
    path, _ = song
    bad = tmp_path / "bad_grid.json"
    bad.write_text(json.dumps(grid))
    with pytest.raises(ChoreoInputError, match=message) as e:
        generate_dance(path, weights=weights_file, beat_grid=bad)
    assert str(bad) in str(e.value) and "\n" not in str(e.value)


def test_short_clip_and_tracked_beats(weights_file, tmp_path):
    y = synthesize_demo(tempo=100.0, bars=4, sr=16000).audio
    d = generate_from_samples(y[:16000], 16000, weights=weights_file)  # 1 s: no beat grid possible
    assert d.motion.num_frames == 30 and d.tempo == 0.0 and len(d.beats) == 0
    assert np.all(np.isfinite(d.motion.joints)) and list(d.sections) == [0.0]
    seen = []
    d = generate_from_samples(y, 16000, weights=weights_file, progress=lambda f, l: seen.append(f))
    assert abs(d.tempo - 100.0) < 3 and len(d.beats) >= 12
    assert seen[-1] == 1.0 and all(0 <= f <= 1 for f in seen)
    d44 = generate_from_samples(y[:8000].repeat(2), 32000, weights=weights_file)  # resampled
    assert d44.motion.num_frames == 15


def test_long_song_bounded_memory(tmp_path):
    """30 minutes: pieces (54000 × 1600 floats = 346 MB) are never all in memory, nor a
    loudness-normalised copy of the song (115 MB): each chunk of pieces is scaled."""
    w = tmp_path / "small.safetensors"
    make_weights(w, SMALL)
    sr, minutes = 16000, 30
    t = np.arange(sr * 60 * minutes, dtype=np.float32) / sr
    y = (0.3 * np.sin(2 * np.pi * 220 * t) * (np.mod(t, 0.5) < 0.1)).astype(np.float32)
    del t
    beats = np.arange(0, 60 * minutes, 0.5)
    tracemalloc.start()
    try:
        d = generate_from_samples(y, sr, beats=beats, weights=w)  # no downbeats: one section
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert d.motion.num_frames == 54000 and np.all(np.isfinite(d.motion.joints))
    assert d.tempo == pytest.approx(120.0)
    # was 231 MB with a loudness-normalised and an abs() copy (all pieces would add 346 MB);
    # the clean-up (beats, stage, floor, feet) holds a few float32 copies of the dance (16 MB each)
    assert peak < 240e6, f"peak {peak / 1e6:.0f} MB"


# -- dance file ---------------------------------------------------------------------

def test_dance_round_trip_and_motion_compat(tmp_path):
    j = np.repeat(smpl_rest_joints()[None], 10, axis=0)
    d = Dance(Motion(j, 30.0), beats=np.array([0.1, 0.6]), downbeats=np.array([0.1]), sections=np.array([0.0]),
              audio_path=None, audio_start=1.5, tempo=120.0, model="gen.safetensors", seed=7, energy=1.5)
    p = tmp_path / "d.npz"
    save_dance(d, p)
    back = load_dance(p)
    assert np.array_equal(back.motion.joints, d.motion.joints) and back.audio_path is None
    assert (back.audio_start, back.tempo, back.model, back.seed, back.energy) == (1.5, 120.0, "gen.safetensors", 7, 1.5)
    assert np.array_equal(back.beats, d.beats) and np.array_equal(back.sections, d.sections)
    assert np.array_equal(load_motion(p).joints, d.motion.joints)
    save_motion(d.motion, tmp_path / "m.npz")
    with pytest.raises(ChoreoInputError, match="not a Choreo dance"):
        load_dance(tmp_path / "m.npz")
    with pytest.raises(ChoreoInputError, match="no such file"):
        load_dance(tmp_path / "nope.npz")


# -- bad input ------------------------------------------------------------------------

def test_bad_audio(weights_file, tmp_path, song):
    with pytest.raises(ChoreoInputError, match="silent"):
        generate_from_samples(np.zeros(16000 * 10, np.float32), 16000, weights=weights_file)
    silent = tmp_path / "silence.wav"
    sf.write(silent, np.zeros(16000 * 5, np.float32), 16000)
    with pytest.raises(ChoreoInputError, match="silence.wav.*silent"):
        generate_dance(silent, weights=weights_file)
    bad = np.ones(16000, np.float32)
    bad[100] = np.nan
    with pytest.raises(ChoreoInputError, match="clip.wav: contains NaN"):
        generate_from_samples(bad, 16000, weights=weights_file, audio_path="clip.wav")
    nan_file = tmp_path / "nan.wav"
    sf.write(nan_file, bad, 16000, subtype="FLOAT")
    with pytest.raises(ChoreoInputError, match="nan.wav: contains NaN"):
        generate_dance(nan_file, weights=weights_file)
    with pytest.raises(ChoreoInputError, match="no such file"):
        generate_dance(tmp_path / "missing.wav", weights=weights_file)
    path, _ = song
    for kw, msg in (({"start": 30.0}, "beyond the song's end"), ({"end": 40.0}, "beyond the song's end"),
                    ({"start": -1.0}, "out of range"), ({"start": 5.0, "end": 4.0}, "after start")):
        with pytest.raises(ChoreoInputError, match=msg):
            generate_dance(path, weights=weights_file, **kw)
    for e in (0.0, -1.0, float("nan"), 100.0):
        with pytest.raises(ChoreoInputError, match="energy"):
            generate_from_samples(bad[:10], 16000, weights=weights_file, energy=e)


@pytest.mark.parametrize("kw, message", [
    ({"seed": -1}, "seed: -1 is out of range"), ({"seed": 2**63}, "seed: 9223372036854775808 is out of range"),
    ({"seed": 1.5}, "seed: must be a whole number"), ({"seed": "x"}, "seed: must be an integer"),
    ({"seed": True}, "seed: must be a whole number"), ({"energy": 20.0}, "energy: 20.0 is out of range"),
    ({"energy": float("nan")}, "energy: nan is out of range"), ({"energy": "lots"}, "energy: must be a number"),
])
def test_seed_and_energy_are_checked_before_anything_is_read(tmp_path, kw, message):
    """A bad seed or energy is the error even when the song and the weights do not
    exist: nothing is loaded before they are checked (a seed of 2**63 used to dance
    and then fail in np.int64 when the dance was saved)."""
    from choreo.core.generation import generate_pose2d

    missing, gone = tmp_path / "missing.wav", tmp_path / "gone.safetensors"
    for call in (lambda: generate_dance(missing, weights=gone, **kw),
                 lambda: generate_pose2d(missing, weights=gone, **kw),
                 lambda: generate_from_samples(np.full(10, np.nan, np.float32), 16000, weights=gone, **kw)):
        with pytest.raises(ChoreoInputError, match=message):
            call()


def test_every_valid_seed_saves_and_loads(weights_file, tmp_path):
    """The seed range 0 … 2**63 - 1 is what a dance file stores: the largest seed dances,
    saves and loads back unchanged; public checks give the range's ends."""
    assert pipeline.SEED_RANGE == (0, 2**63 - 1)
    assert pipeline.check_seed(2**63 - 1) == 2**63 - 1 and pipeline.check_seed(np.int64(7)) == 7
    assert pipeline.check_energy(10) == 10.0
    y = synthesize_demo(tempo=100.0, bars=2, sr=16000).audio[:16000]
    d = generate_from_samples(y, 16000, weights=weights_file, seed=2**63 - 1)
    save_dance(d, tmp_path / "max.npz")
    assert load_dance(tmp_path / "max.npz").seed == 2**63 - 1


def test_bad_weights(tmp_path, song, weights_file):
    path, _ = song
    with pytest.raises(ChoreoInputError, match="gone.safetensors: weights file not found"):
        generate_dance(path, weights=tmp_path / "gone.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not weights at all, just text")
    with pytest.raises(ChoreoInputError, match="junk.safetensors: not a safetensors"):
        generate_dance(path, weights=junk)
    other = tmp_path / "stgcn.safetensors"
    W.save_weights(other, {"a": np.zeros(3, np.float32)}, {"kind": "stgcn", "config": {}})
    with pytest.raises(ChoreoInputError, match="stgcn weights, not a dance generator"):
        generate_dance(path, weights=other)
    mixed = tmp_path / "mixed.safetensors"  # tensors of the default config, meta of another
    make_weights(mixed, meta={"kind": "generator", "config": SMALL.to_dict()})
    with pytest.raises(ChoreoInputError, match="mixed.safetensors: weights do not match their config"):
        generate_dance(path, weights=mixed)
    badcfg = tmp_path / "badcfg.safetensors"
    make_weights(badcfg, meta={"kind": "generator", "config": {"layers": 3}})
    with pytest.raises(ChoreoInputError, match="config in the weights is unusable"):
        generate_dance(path, weights=badcfg)


def test_registry_default_missing_and_corrupt(tmp_path, monkeypatch, song):
    path, _ = song
    monkeypatch.setattr(W, "WEIGHTS_DIR", tmp_path)
    monkeypatch.setattr(W, "REGISTRY", tmp_path / "weights.json")
    with pytest.raises(ChoreoInputError, match="no 'default' generator weights are installed"):
        generate_dance(path)
    shipped = tmp_path / "default.safetensors"
    make_weights(shipped, SMALL)
    entry = W.register_weights("default", shipped, "test")
    d = generate_dance(path, start=0.0, end=3.0)  # weights=None → the registered default
    assert d.model == "default" and d.motion.num_frames == 90
    data = bytearray(shipped.read_bytes())
    data[-5] ^= 0xFF
    shipped.write_bytes(bytes(data))
    with pytest.raises(ChoreoInputError, match=f"default.safetensors: .*corrupt.*expected {entry['sha256']}"):
        generate_dance(path)


def test_weights_are_cached(weights_file):
    a, _ = pipeline.load_generator(weights_file)
    b, _ = pipeline.load_generator(str(weights_file))
    assert a is b


def test_shipped_default_dances_like_the_corpus_on_the_demo_track():
    """The shipped weights on 20 s of the demo: constant bones, corpus-like smoothness,
    real movement, seeds that differ, energy that does what it says."""
    demo = synthesize_demo(bars=10)
    y, sr = demo.audio, demo.sr
    beats = np.asarray(demo.beats)

    def dance(seed=0, energy=1.0):
        return generate_from_samples(y, sr, beats=beats, downbeats=np.asarray(demo.downbeats), seed=seed,
                                     energy=energy).motion

    m = dance()
    bones = m.bone_lengths()
    assert (bones.std(0) / bones.mean(0)).max() < 0.01
    acc = np.linalg.norm(np.diff(m.joints.astype(np.float64), 2, axis=0), axis=-1).mean() * m.fps**2
    assert 1.0 < acc < 10.0, acc  # the corpus: ≈5 m/s²; jitter ≈17; frozen 0
    other = dance(seed=1)
    assert np.linalg.norm(m.root_relative() - other.root_relative(), axis=-1).mean() > 0.05
    calm, lively = dance(energy=0.5), dance(energy=2.0)

    def speed(x):
        return np.linalg.norm(np.diff(x.root_relative(), axis=0), axis=-1).mean() * x.fps

    assert speed(calm) < speed(m) < speed(lively)
