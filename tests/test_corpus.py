"""Kinematic beats, beat alignment by time-warping, and the paired corpus build."""

from __future__ import annotations

import argparse
import hashlib
import shutil

import numpy as np
import pytest
from scipy.special import erf

from choreo.cli import dataset as cli_dataset
from choreo.core.data import align, kinematic
from choreo.core.metrics import beats as metric_beats
from choreo.core.audio import features as features_module
from choreo.core.audio.features import COLUMNS, features_for_file
from choreo.core.data.corpus import BuildParams, Corpus, build_corpus, load_track, write_npz
from choreo.core.errors import ChoreoInputError
from choreo.core.motion import Motion

BEATS = np.array([0.5, 1.1, 1.6, 2.3, 2.9, 3.4, 4.0, 4.7, 5.2])


def synthetic_dance(beats=BEATS, duration=6.0, fps=60.0, wiggle=0.0, speed=1.0) -> Motion:
    """A body gliding along x whose speed dips (to 20 %) at ``beats``: speed(t) =
    speed·(1 - 0.8 Σ gauss(t - b, 80 ms)), position its exact integral. ``wiggle``
    adds a 12 Hz shiver of that amplitude (m) that must not count as beats."""
    t = np.arange(int(round(duration * fps))) / fps
    s = 0.08
    x = t - 0.8 * sum(s * np.sqrt(np.pi / 2) * (erf((t - b) / (s * np.sqrt(2))) + 1) for b in beats)
    x = speed * x + wiggle * np.sin(2 * np.pi * 12 * t)
    base = np.random.default_rng(0).normal(size=(24, 3)) * 0.3
    return Motion(base[None] + np.stack([x, 0 * x, 0 * x], 1)[:, None, :], fps)


def test_kinematic_beats_found_at_known_minima():
    m = synthetic_dance(wiggle=0.0005)
    kb = kinematic.kinematic_beats(m)
    assert len(kb) == len(BEATS)
    np.testing.assert_allclose(kb, BEATS, atol=1.0 / m.fps + 1e-9)
    assert abs(kinematic.kinematic_tempo(kb) - 60 / np.median(np.diff(BEATS))) < 5


def test_micro_wiggles_do_not_count_but_motion_energy_scales():
    # Same dance sped ×2 on a larger shiver: still exactly the designed stops.
    calm = synthetic_dance(wiggle=0.0)
    assert len(kinematic.kinematic_beats(synthetic_dance(wiggle=0.002, speed=2.0))) == len(BEATS)
    e1 = kinematic.motion_energy(calm).mean()
    e2 = kinematic.motion_energy(synthetic_dance(speed=2.0)).mean()
    assert e2 == pytest.approx(4 * e1, rel=0.02)
    still = Motion(np.zeros((30, 24, 3)), 30)
    assert len(kinematic.kinematic_beats(still)) == 0


def test_alignment_puts_kinematic_beats_on_music_beats_within_bounds():
    m = synthetic_dance()
    kb = kinematic.kinematic_beats(m)
    music = np.arange(0.0, 4.5, 0.5)  # 120 BPM
    a = align.match_beats(kb, music, float(kb[0]), 4.5, m.duration, 0.8, 1.25)
    assert a is not None and a.matched >= 6
    assert np.all(a.ratios >= 0.8 - 1e-9) and np.all(a.ratios <= 1.25 + 1e-9)
    src = align.time_map(a)
    r = align.frame_ratios(src)
    assert r.min() >= 0.8 - 1e-6 and r.max() <= 1.25 + 1e-6
    warped = align.warp_motion(m, a)
    assert warped.fps == 30 and warped.num_frames == 135
    # Every matched music beat (inside the clip) has a kinematic beat within one frame.
    found = kinematic.kinematic_beats(warped)
    for t in a.out_knots[1:-1]:
        assert np.abs(found - t).min() <= 1 / 30 + 1e-9, (t, found)
    # And the warp beats playing the same dance unwarped.
    flat = align.sample_motion(m, align.time_map(align.identity_alignment(float(kb[0]), 4.5)))
    inner = music[1:]
    assert (metric_beats.beat_align_score(metric_beats.bailando_motion_beats(warped), inner)
            > metric_beats.beat_align_score(metric_beats.bailando_motion_beats(flat), inner) + 0.2)


def test_alignment_skips_beats_that_do_not_fit_and_fails_when_too_short():
    kin = np.array([0.0, 0.5, 0.6, 1.0, 1.5])  # 0.6 would need a 0.2× warp
    a = align.match_beats(kin, np.array([0.0, 0.5, 1.0, 1.5]), 0.0, 2.0, 2.5)
    np.testing.assert_allclose(a.src_knots[:4], [0.0, 0.5, 1.0, 1.5])
    np.testing.assert_allclose(a.out_knots[:4], [0.0, 0.5, 1.0, 1.5])
    assert align.match_beats(kin, np.array([0.0, 0.5]), 0.0, 4.0, 2.5) is None  # needs 0.625×


@pytest.fixture(scope="module")
def small_build(tmp_path_factory, mocap_dir, music_dir):
    out = tmp_path_factory.mktemp("corpus")
    params = BuildParams(seed=3, takes=["005_02", "005_18"], val_takes=["005_18"], val_tracks=["mma07_rhumba"])
    tracks = ["mma07_rhumba", "mma13_boneym"]
    a = build_corpus(mocap_dir, music_dir, out / "a.npz", params, tracks=tracks)
    b = build_corpus(mocap_dir, music_dir, out / "b.npz", params, tracks=tracks)
    return a, b


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_small_real_build_is_deterministic_and_warping_helps(small_build):
    a, b = small_build
    assert _digest(a.path) == _digest(b.path)
    loaded = Corpus.load(a.path)
    assert set(loaded.arrays) == set(a.arrays)
    for k in a.arrays:
        np.testing.assert_array_equal(loaded.arrays[k], a.arrays[k])
    s = loaded.summary()
    assert s["pairs"]["train"] > 4 and s["pairs"]["val"] > 4
    assert s["bas"]["warped"] > s["bas"]["unwarped"] + 0.05
    assert s["hit"]["warped"] > s["hit"]["unwarped"]
    assert 0.8 - 1e-6 <= s["warp_local_range"][0] and s["warp_local_range"][1] <= 1.25 + 1e-6


def test_small_build_split_and_pairs(small_build):
    c = Corpus.load(small_build[0].path)
    for split, take, track in (("train", "005_02", "mma13_boneym"), ("val", "005_18", "mma07_rhumba")):
        pairs = list(c.pairs(split))
        assert {(p.take, p.track) for p in pairs} == {(take, track)}  # no leakage
        assert sum(p.mirrored for p in pairs) == len(pairs) // 2
        for p in pairs[:4]:
            assert p.motion.fps == 30 and p.motion.joints.shape[1:] == (24, 3)
            assert np.all(p.beats < p.motion.duration + 1e-6) and p.beats[0] == 0
            assert p.features is not None and len(p.features) == p.motion.num_frames
            assert c.params["seed"] == 3
    # Mirrors are the mirror image of their original.
    orig, mirror = c.pair(0), c.pair(1)
    np.testing.assert_allclose(mirror.motion.joints, orig.motion.mirrored().joints, atol=1e-6)


def test_features_stored_once_per_window_and_match_music_features(small_build, music_dir):
    c = Corpus.load(small_build[0].path)
    a = c.arrays
    assert int(a["format_version"]) == 2 and a["window_features"].dtype == np.float16
    # A pair and its mirror share one window; every window is used, none twice by originals.
    pw = a["pair_window"]
    np.testing.assert_array_equal(pw[0::2], pw[1::2])
    assert len(set(pw[0::2])) == len(pw) // 2 == len(a["window_track"])
    whole = {}
    for i in range(0, len(c), 7):
        p = c.pair(i)
        assert p.features.dtype == np.float32 and len(p.features) == p.motion.num_frames
        np.testing.assert_array_equal(p.features, c.pair(i ^ 1).features)
        # The stored window = the track's features (exact beat grid) from the window's start frame.
        if p.track not in whole:
            wav = music_dir / f"{p.track}.ogg"
            whole[p.track] = features_for_file(wav, fps=30.0, beats=load_track(wav).beats).values
        start = int(a["window_start"][pw[i]])
        assert start == round(p.music_start * 30)
        ref = whole[p.track][np.minimum(np.arange(start, start + len(p.features)), len(whole[p.track]) - 1)]
        # float16: relative error <= 2**-11 in its normal range, absolute <= 2**-25 below it.
        np.testing.assert_allclose(p.features, ref, rtol=2.0 ** -11, atol=2.0 ** -25)
        assert np.array_equal(p.features[:, COLUMNS["beat"]], ref[:, COLUMNS["beat"]])  # exact 0/1


def test_cli_info_prints_figures(small_build, capsys):
    args = argparse.Namespace(corpus=small_build[0].path)
    assert cli_dataset.run_info(args) == 0
    out = capsys.readouterr().out
    assert "Bailando BAS" in out and "warped" in out and "pairs:" in out


def test_bad_inputs_give_clear_errors(tmp_path, mocap_dir, music_dir):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ChoreoInputError, match="no .bvh files"):
        build_corpus(empty, music_dir, tmp_path / "x.npz")
    with pytest.raises(ChoreoInputError, match="no music tracks"):
        build_corpus(mocap_dir, empty, tmp_path / "x.npz")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "005_02.bvh").write_text("HIERARCHY\nROOT Hip\n{\n")
    with pytest.raises(ChoreoInputError, match="005_02.bvh"):
        build_corpus(bad, music_dir, tmp_path / "x.npz", BuildParams(val_takes=[], val_tracks=[]),
                     tracks=["mma13_boneym"])
    music = tmp_path / "music"
    music.mkdir()
    shutil.copy(music_dir / "mma13_boneym.ogg", music)
    (music / "mma13_boneym.json").write_text("{not json")
    with pytest.raises(ChoreoInputError, match="mma13_boneym.json"):
        build_corpus(mocap_dir, music, tmp_path / "x.npz", BuildParams(val_takes=[], val_tracks=[]))
    assert not (tmp_path / "x.npz").exists()
    with pytest.raises(ChoreoInputError, match="not among"):
        build_corpus(mocap_dir, music_dir, tmp_path / "x.npz", BuildParams(val_takes=["005_99"]))
    # Corpus files: not an npz, no version, old version.
    (tmp_path / "junk.npz").write_text("hello")
    with pytest.raises(ChoreoInputError, match="not a corpus"):
        Corpus.load(tmp_path / "junk.npz")
    write_npz(tmp_path / "nov.npz", {"joints": np.zeros((1, 24, 3), np.float32)})
    with pytest.raises(ChoreoInputError, match="no format_version"):
        Corpus.load(tmp_path / "nov.npz")
    write_npz(tmp_path / "old.npz", {"format_version": np.array(0)})
    with pytest.raises(ChoreoInputError, match="version 0.*rebuild"):
        Corpus.load(tmp_path / "old.npz")


def test_version_1_corpus_is_refused_with_a_rebuild_hint(tmp_path):
    # The layout of a version-1 file: per-frame float32 features, mirrors stored in full.
    write_npz(tmp_path / "v1.npz", {
        "format_version": np.array(1), "fps": np.array(30.0), "joints": np.zeros((4, 24, 3), np.float32),
        "pair_offsets": np.array([0, 2, 4]), "features": np.zeros((4, 438), np.float32)})
    with pytest.raises(ChoreoInputError, match=r"v1\.npz.*version 1 was built by an older Choreo.*"
                                               r"rebuild with `choreo dataset build …`"):
        Corpus.load(tmp_path / "v1.npz")
    write_npz(tmp_path / "v9.npz", {"format_version": np.array(9)})
    with pytest.raises(ChoreoInputError, match="newer Choreo"):
        Corpus.load(tmp_path / "v9.npz")


def test_feature_cache_is_keyed_on_the_feature_source(tmp_path, monkeypatch):
    """Editing core/audio/features.py without bumping FEATURE_VERSION must not reuse stale features."""
    import soundfile as sf

    monkeypatch.setenv("CHOREO_CACHE_DIR", str(tmp_path / "cache"))
    wav = tmp_path / "tone.wav"
    t = np.arange(22050) / 22050
    sf.write(wav, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 22050, subtype="FLOAT")
    beats = np.array([0.25, 0.75])
    first = features_for_file(wav, beats=beats)
    features_for_file(wav, beats=beats)
    assert len(list((tmp_path / "cache").glob("features-*.npz"))) == 1  # second call hit the cache
    edited = tmp_path / "features.py"
    edited.write_bytes(open(features_module.__file__, "rb").read() + b"\n# edited\n")
    monkeypatch.setattr(features_module, "__file__", str(edited))
    again = features_for_file(wav, beats=beats)
    assert len(list((tmp_path / "cache").glob("features-*.npz"))) == 2  # a new key: recomputed
    np.testing.assert_array_equal(again.values, first.values)


def test_a_users_own_folders_build_with_held_out_chosen_and_a_bad_file_skipped(tmp_path, mocap_dir, music_dir,
                                                                               capsys):
    """Issue 17 item 5: the defaults named CMU takes, so a user's own folders stopped with
    "--val-takes: not among the selected takes"; and one bad file among many was fatal."""
    from choreo.cli import main

    mine, songs = tmp_path / "my_mocap", tmp_path / "my_songs"
    mine.mkdir()
    songs.mkdir()
    for k, take in enumerate(("005_02", "005_04", "005_09", "005_18")):
        shutil.copy(mocap_dir / "005" / f"{take}.bvh", mine / f"studio_{k}.bvh")
    (mine / "broken.bvh").write_text("HIERARCHY\nROOT Hip\n{\n")
    for k, track in enumerate(("mma07_rhumba", "mma13_boneym")):
        for ext in (".ogg", ".json"):
            shutil.copy(music_dir / f"{track}{ext}", songs / f"song_{k}{ext}")
    argv = ["dataset", "build", "--mocap", str(mine), "--music", str(songs), "--out", str(tmp_path / "c.npz"),
            "--no-features"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"skipped {mine / 'broken.bvh'}: " in out and "held out (chosen, not named)" in out
    c = Corpus.load(tmp_path / "c.npz")
    split = dict(zip(c.arrays["takes"].tolist(), c.arrays["take_split"].tolist()))
    assert sorted(split) == [f"studio_{k}" for k in range(4)] and list(split.values()).count("val") == 1
    tracks = dict(zip(c.arrays["tracks"].tolist(), c.arrays["track_split"].tolist()))
    assert sorted(tracks.values()) == ["train", "val"]
    assert c.params["skipped"] == [[str(mine / "broken.bvh"), c.params["skipped"][0][1]]]
    assert main(argv[:-1] + ["--no-features", "--out", str(tmp_path / "again.npz")]) == 0  # the same pick again
    again = Corpus.load(tmp_path / "again.npz")
    assert again.arrays["take_split"].tolist() == c.arrays["take_split"].tolist()
