"""2D mode (Ren et al.'s OpenPose-18 front view): generation, the 2D dance file,
OpenPose JSON out of ``choreo generate``, and clear refusals of 3D outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from choreo.cli import main
from choreo.cli.bench import discover_generators
from choreo.core.errors import ChoreoInputError
from choreo.core.formats import load_motion
from choreo.core.formats.openpose import read_openpose
from choreo.core.generation import (Dance2D, generate_dance, generate_pose2d, load_dance2d, load_generator,
                                    save_dance2d)
from choreo.core.generation.pipeline import generate_motion
from choreo.core.generation.families.ren.random_init import save_random_weights
from choreo.core.models import weights as W
from choreo.core.models.config import GeneratorConfig
from choreo.core.skeleton_maps import OPENPOSE18_NAMES

FPS = 30


@pytest.fixture(scope="module")
def setup(tmp_path_factory, gridded_song):
    """A 12-s demo song at 120 BPM with its grid, random-init 2D and 3D weights."""
    root = tmp_path_factory.mktemp("weights")
    song, track = gridded_song
    w2 = root / "gen2d.safetensors"
    save_random_weights(w2, GeneratorConfig(output="openpose18"), seed=3)
    w3 = root / "gen3d.safetensors"
    save_random_weights(w3)
    return song, w2, w3, track


def test_pose2d_shapes_beats_and_determinism(setup):
    song, w2, _, track = setup
    a = generate_pose2d(song, weights=w2, seed=1, start=2.0, end=8.0, beat_grid=song.with_suffix(".json"))
    assert isinstance(a, Dance2D)
    assert a.keypoints.shape == (6 * FPS, 18, 2) and a.keypoints.dtype == np.float32
    assert np.all(np.isfinite(a.keypoints)) and a.fps == FPS and a.audio_start == 2.0
    assert np.allclose(a.beats, track.beats[(track.beats >= 2) & (track.beats < 8)] - 2)
    assert a.tempo == pytest.approx(120.0, abs=0.1)
    b = generate_pose2d(song, weights=w2, seed=1, start=2.0, end=8.0, beat_grid=song.with_suffix(".json"))
    assert np.array_equal(a.keypoints, b.keypoints)
    # tracked beats (119.0 BPM here) space the seed's noise knots a little differently
    tracked = generate_pose2d(song, weights=w2, seed=1, start=2.0, end=8.0)
    assert tracked.tempo == pytest.approx(120.0, abs=1.5)
    assert np.abs(tracked.keypoints - a.keypoints).mean() < 0.05
    c = generate_pose2d(song, weights=w2, seed=2, start=2.0, end=8.0)
    assert np.abs(a.keypoints - c.keypoints).max() > 1e-3
    # energy conditions the model: a different target changes the poses
    d = generate_pose2d(song, weights=w2, seed=1, start=2.0, end=8.0, energy=3.0)
    assert np.abs(a.keypoints - d.keypoints).max() > 1e-4


def test_pose2d_part_is_the_whole_songs_keypoints(setup):
    """A 2D part is the whole song's keypoints there (2D keypoints are not integrated, so
    nothing is re-anchored): to float rounding with the song's grid; with tracked beats
    within a few mm, since the part's own downbeat can sit a frame off the whole song's
    and the seed's noise knots are counted from it. Before, a part was levelled and
    windowed on its own."""
    song, w2, _, _ = setup
    grid = song.with_suffix(".json")
    whole = generate_pose2d(song, weights=w2, seed=1, beat_grid=grid).keypoints
    part = generate_pose2d(song, weights=w2, seed=1, start=2.0, end=8.0, beat_grid=grid).keypoints
    np.testing.assert_allclose(part, whole[2 * FPS:8 * FPS], atol=1e-5)
    tracked = generate_pose2d(song, weights=w2, seed=1).keypoints
    tracked_part = generate_pose2d(song, weights=w2, seed=1, start=2.0, end=8.0).keypoints
    np.testing.assert_allclose(tracked_part, tracked[2 * FPS:8 * FPS], atol=5e-3)


def test_pose2d_checks_seed_first_and_saves_the_largest(setup, tmp_path):
    song, w2, _, _ = setup
    with pytest.raises(ChoreoInputError, match="seed: 9223372036854775808 is out of range"):
        generate_pose2d(tmp_path / "missing.wav", weights=w2, seed=2**63)
    d = generate_pose2d(song, weights=w2, seed=2**63 - 1, end=1.0)
    save_dance2d(d, tmp_path / "d.npz")
    assert load_dance2d(tmp_path / "d.npz").seed == 2**63 - 1


def test_modes_are_not_mixed_but_2d_is_lifted_for_a_rig(setup):
    song, w2, w3, _ = setup
    # a 2D family's dance reaches a 3D output through the lifter: its front view, in 3D
    lifted = generate_dance(song, weights=w2, seed=7, end=3.0)
    flat = generate_pose2d(song, weights=w2, seed=7, end=3.0)
    assert lifted.motion.joints.shape == (3 * FPS, 24, 3) and lifted.motion.fps == FPS
    assert np.allclose(lifted.beats, flat.beats) and lifted.model == flat.model
    assert lifted.motion.joints[..., 2].min() > -0.02  # on the floor
    with pytest.raises(ChoreoInputError, match="ren generator of 3D motion on SMPL-24, not 2D keypoints .*: "
                                               "use generate_dance"):
        generate_pose2d(song, weights=w3)
    # 3D generation is untouched by the 2D output
    assert generate_dance(song, weights=w3, end=2.0).motion.joints.shape == (2 * FPS, 24, 3)
    # the model-only entry point (benchmarks, long-term metric) refuses 2D too
    rt, _ = load_generator(w2)
    with pytest.raises(ChoreoInputError, match="generator of 2D keypoints"):
        generate_motion(rt, np.zeros(16000, np.float32), 16000)
    # and the benchmark, whose metrics are 3D, does not pick 2D models up
    assert "ren_2d" not in [n for n, _ in discover_generators()]


def test_dance2d_file_roundtrip(setup, tmp_path):
    song, w2, _, _ = setup
    d = generate_pose2d(song, weights=w2, seed=4, end=3.0)
    path = tmp_path / "sub" / "d2.npz"
    save_dance2d(d, path)
    back = load_dance2d(path)
    assert np.array_equal(back.keypoints, d.keypoints) and np.allclose(back.beats, d.beats)
    assert (back.seed, back.energy, back.model, back.audio_path) == (4, 1.0, d.model, str(song))
    with pytest.raises(ChoreoInputError, match="d2.npz: not a Choreo motion file"):
        load_motion(path)  # no SMPL-24 joints in a 2D dance
    bad = tmp_path / "m.npz"
    np.savez(bad, joints=np.zeros((2, 24, 3)))
    with pytest.raises(ChoreoInputError, match="m.npz: not a Choreo 2D dance"):
        load_dance2d(bad)


def test_cli_openpose_folder(setup, tmp_path, capsys):
    song, w2, _, _ = setup
    out = tmp_path / "frames"
    assert main(["generate", str(song), "-o", str(out), "--weights", str(w2), "--seed", "7", "--end", "3"]) == 0
    text = capsys.readouterr().out
    assert f"wrote {3 * FPS} OpenPose frames to {out}" in text and "seed 7" in text
    files = sorted(out.glob("*.json"))
    assert len(files) == 3 * FPS and files[0].name == "frame000000_keypoints.json"
    frame = json.loads(files[0].read_text())
    assert len(frame["people"]) == 1 and len(frame["people"][0]["pose_keypoints_2d"]) == 54
    pose = read_openpose(out)
    assert pose.layout == "openpose18" and pose.points.shape == (3 * FPS, len(OPENPOSE18_NAMES), 2)
    expect = generate_pose2d(song, weights=w2, seed=7, end=3.0).to_pose2d()
    assert np.abs(pose.points - expect.points).max() < 1e-3 and np.all(pose.confidence == 1)
    # a rerun replaces the previous frames (none left over) and leaves no temporary folder
    assert main(["generate", str(song), "-o", str(out), "--weights", str(w2), "--end", "2"]) == 0
    assert len(list(out.glob("*.json"))) == 2 * FPS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames"]
    # a folder holding anything else is refused, untouched
    (out / "notes.txt").write_text("mine")
    assert main(["generate", str(song), "-o", str(out), "--weights", str(w2), "--end", "1"]) == 2
    assert "notes.txt" in capsys.readouterr().err
    assert len(list(out.glob("*.json"))) == 2 * FPS and (out / "notes.txt").read_text() == "mine"


def test_cli_npz_keeps_keypoints(setup, tmp_path, capsys):
    song, w2, _, _ = setup
    out = tmp_path / "d.npz"
    assert main(["generate", str(song), "-o", str(out), "--weights", str(w2), "--seed", "7", "--end", "3"]) == 0
    d = load_dance2d(out)
    assert d.keypoints.shape == (3 * FPS, 18, 2)
    assert np.array_equal(d.keypoints, generate_pose2d(song, weights=w2, seed=7, end=3.0).keypoints)


def test_cli_3d_outputs_of_a_2d_model_are_lifted(setup, tmp_path, monkeypatch):
    from choreo.core.formats import load_motion

    song, w2, _, _ = setup
    monkeypatch.chdir(tmp_path)
    assert main(["generate", str(song), "--weights", str(w2), "--end", "2", "-o", "x.bvh"]) == 0
    assert load_motion(tmp_path / "x.bvh").joints.shape == (2 * FPS, 24, 3)
    # .npz stays the keypoints; --bvh beside it is the lifted motion
    assert main(["generate", str(song), "--weights", str(w2), "--end", "2", "-o", "k.npz", "--bvh", "y.bvh"]) == 0
    assert load_motion(tmp_path / "y.bvh").joints.shape == (2 * FPS, 24, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.npz", "x.bvh", "y.bvh"]


def test_cli_folder_needs_2d_model(setup, tmp_path, capsys):
    song, _, w3, _ = setup
    out = tmp_path / "frames"
    assert main(["generate", str(song), "-o", str(out), "--weights", str(w3)]) == 2
    assert "a folder of OpenPose JSON is for 2D models" in capsys.readouterr().err
    assert not out.exists()


def test_shipped_ren_2d(setup):
    """The shipped 2D model: a registered, trained generator of OpenPose-18 keypoints
    (its metadata from before outputs had names says ``mode: 2d``) whose output looks
    like an upright body that moves."""
    song, _, _, _ = setup
    assert "ren_2d" in W.registry()
    runtime, name = load_generator("ren_2d")
    assert runtime.output == "openpose18" and runtime.family == "ren" and name == "ren_2d"
    _, meta = W.load_weights(W.shipped_path("ren_2d"))
    assert meta["variant"] == "2d" and meta["training"]["steps"] >= 1000
    assert not meta["training"]["losses"]["perceptual"]
    d = generate_pose2d(song, weights="ren_2d", seed=0, end=4.0)
    assert d.keypoints.shape == (4 * FPS, 18, 2) and d.model == "ren_2d"
    k = {n: d.keypoints[:, i] for i, n in enumerate(OPENPOSE18_NAMES)}
    hip_z = 0.5 * (k["l_hip"][:, 1] + k["r_hip"][:, 1])
    ankle_z = 0.5 * (k["l_ankle"][:, 1] + k["r_ankle"][:, 1])
    assert np.all(k["nose"][:, 1] > k["neck"][:, 1]) and np.all(k["neck"][:, 1] > hip_z)
    assert np.all(hip_z > ankle_z)
    assert 1.2 < float(np.median(k["nose"][:, 1] - ankle_z)) < 2.0  # a person's height, metres
    assert float(np.abs(np.diff(d.keypoints, axis=0)).mean()) * FPS > 0.02  # not frozen (m/s)
