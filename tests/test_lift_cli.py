"""``choreo import openpose|dancerevolution`` (issue 17): a 2D source becomes a 3D dance in one
command; bad sources are one line and write nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from choreo.cli import main
from choreo.core.formats import load_motion
from choreo.core.formats.dancerevolution import write_dancerevolution
from choreo.core.formats.openpose import Pose2D, write_openpose
from choreo.core.generation.dance import load_dance
from choreo.core.lift import views
from choreo.core.metrics.pose3d import pa_mpjpe


@pytest.fixture(scope="module")
def filmed(mocap_dir, tmp_path_factory):
    """Held-out take 005_08 filmed by a camera at 60° field of view: its BODY_25 keypoints as an
    OpenPose folder (frames 40–49 without a person) and as a Dance Revolution sample (15 fps)."""
    from choreo.core.formats.bvh import load_bvh_motion

    joints = load_bvh_motion(mocap_dir / "005" / "005_08.bvh").resample(30.0).joints[:150].astype(np.float64)
    view = views.random_view(np.random.default_rng(11), joints, ranges={"hfov_deg": (60.0, 60.0)})
    kp = views.keypoints(joints, view, "openpose25")
    conf = np.ones(kp.shape[:2])
    conf[40:50] = 0.0
    d = tmp_path_factory.mktemp("filmed")
    write_openpose(Pose2D(kp, conf, "openpose25", 30.0, views.WIDTH, views.HEIGHT), d / "op")
    # Dance Revolution samples are 1280 × 720 at 15 fps
    dr = kp[::2] * (1280 / views.WIDTH)
    write_dancerevolution(d / "dr.json", Pose2D(dr, np.ones(dr.shape[:2]), "openpose25", 15.0, 1280, 720))
    return {"joints": joints, "dir": d}


def _pose_error(got: np.ndarray, truth: np.ndarray) -> float:
    return pa_mpjpe(got - got[:, :1], truth - truth[:, :1])


def test_an_openpose_folder_becomes_a_dance_with_its_gaps_marked(filmed, tmp_path, capsys):
    out = tmp_path / "lifted.npz"
    assert main(["import", "openpose", str(filmed["dir"] / "op"), "-o", str(out),
                 "--width", "1920", "--height", "1080"]) == 0
    text = capsys.readouterr().out
    assert f"wrote {out}" in text and "filled where the dancer was not seen (10 frames): 1.33-1.67 s" in text
    dance = load_dance(out)
    seen = np.load(out)["lift_seen"]
    assert dance.motion.num_frames == 150 and seen.shape == (150,) and (seen[40:50] == 0).all()
    assert dance.audio_path is None and len(dance.beats) == 0
    ok = seen > 0.5
    assert _pose_error(dance.motion.joints[ok].astype(float), filmed["joints"][ok]) < 0.10  # recorded ~0.06
    # the same as BVH (motion only); rerunning gives the same dance
    bvh = tmp_path / "lifted.bvh"
    assert main(["import", "openpose", str(filmed["dir"] / "op"), "-o", str(bvh), "--width", "1920",
                 "--height", "1080"]) == 0
    # (BVH keeps bone directions; the pelvis's children move a little against each other in a lifted dance)
    back = load_motion(bvh).joints
    assert back.shape == dance.motion.joints.shape and np.linalg.norm(back - dance.motion.joints, axis=-1).mean() < 0.02


def test_a_dance_revolution_sample_with_a_song(filmed, tmp_path, music_dir, capsys):
    out = tmp_path / "dr.npz"
    song = music_dir / "mma03_softrock.ogg"
    assert main(["import", "dancerevolution", str(filmed["dir"] / "dr.json"), "-o", str(out),
                 "--song", str(song), "--song-start", "4"]) == 0
    dance = load_dance(out)
    assert dance.motion.num_frames == 149 and dance.motion.fps == 30.0  # 75 frames at 15 fps, at 30
    assert dance.audio_path == str(song) and dance.audio_start == pytest.approx(4.0)
    grid = json.loads(song.with_suffix(".json").read_text())
    truth = np.asarray(grid["beats"]) - 4.0
    truth = truth[(truth >= 0) & (truth < dance.motion.duration)]
    assert len(dance.beats) == len(truth) and np.abs(dance.beats - truth).max() < 0.05
    assert _pose_error(dance.motion.joints.astype(float), filmed["joints"][:149]) < 0.11
    assert "song" in capsys.readouterr().out


def test_bad_sources_are_one_line_and_write_nothing(filmed, tmp_path, capsys):
    out = tmp_path / "x.npz"
    empty = tmp_path / "empty"
    empty.mkdir()
    nan = tmp_path / "nan.json"
    data = json.loads((filmed["dir"] / "dr.json").read_text())
    data["dance_array"][3][4] = None
    nan.write_text(json.dumps(data))
    short = tmp_path / "short.json"
    data = json.loads((filmed["dir"] / "dr.json").read_text())
    data["length"] = 3
    short.write_text(json.dumps(data))
    nobody = tmp_path / "nobody"
    kp = np.zeros((20, 25, 2))
    write_openpose(Pose2D(kp, np.zeros((20, 25)), "openpose25", 30.0, 640, 480), nobody)
    cases = [
        (["openpose", str(empty)], "no OpenPose"),
        (["openpose", str(tmp_path / "missing")], "not a folder"),
        (["openpose", str(nobody)], "no person detected in any frame"),
        (["dancerevolution", str(nan)], "dance_array holds NaN"),
        (["dancerevolution", str(short)], "length says 3"),
        (["dancerevolution", str(tmp_path / "missing.json")], "no such file"),
        (["openpose", str(filmed["dir"] / "op"), "--fps", "0"], "--fps"),
        (["dancerevolution", str(filmed["dir"] / "dr.json"), "--song", str(tmp_path / "no.ogg")], "no such file"),
        (["dancerevolution", str(filmed["dir"] / "dr.json"), "--rig", "r.blend"], "need a .blend output"),
    ]
    for argv, message in cases:
        assert main(["import", *argv[:2], "-o", str(out), *argv[2:]]) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("choreo: error: ") and message in err, (argv, err)
    assert main(["import", "openpose", str(filmed["dir"] / "op"), "-o", str(tmp_path / "x.mp4")]) == 2
    assert "output must end in" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["empty", "nan.json", "short.json", "nobody"])
