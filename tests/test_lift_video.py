"""``choreo import video`` end to end (issue 17): a held-out CMU take rendered by Blender from a
moving camera, the dancer found by MediaPipe and lifted back to 3D; bad clips are one line."""

from __future__ import annotations

import numpy as np
import pytest

from choreo.cli import main
from choreo.core.metrics.pose3d import pa_mpjpe

bpy = pytest.importorskip("bpy")
pytestmark = pytest.mark.blender  # the clip is rendered by Blender

FRAMES = 75


@pytest.fixture(scope="module")
def clip(mocap_dir, tmp_path_factory):
    pytest.importorskip("mediapipe")  # Python 3.11 only (0.10.21 has no wheel for 3.13)
    pytest.importorskip("av")
    from choreo.rigs.actor_clip import actor_take, default_actor_camera, render_actor_clip

    joints = actor_take("05_12", stage_m=None, mocap_dir=mocap_dir)[:FRAMES]  # held out of the lifter's training
    camera = default_actor_camera(joints, 384)
    out = tmp_path_factory.mktemp("lift_video") / "dancer.mp4"
    res = render_actor_clip(joints, out, camera=camera, samples=1, orbit_deg=40.0)
    return {"path": out, "joints": joints, "render": res}


def test_a_filmed_dancer_is_lifted_back_to_their_dance(clip, tmp_path, capsys):
    from choreo.core.generation.dance import load_dance

    out = tmp_path / "lifted.npz"
    fov = np.degrees(2 * np.arctan(384 / 2 / clip["render"]["cameras"][0].focal))
    assert main(["import", "video", str(clip["path"]), "-o", str(out), "--fov", f"{fov:.3f}"]) == 0
    text = capsys.readouterr().out
    assert "video: 75 frames" in text and "no song" in text
    dance = load_dance(out)
    seen = np.load(out)["lift_seen"]
    assert dance.motion.num_frames == FRAMES and seen.mean() > 0.9
    got = dance.motion.joints.astype(float)
    truth = clip["joints"]
    err = pa_mpjpe(got - got[:, :1], truth - truth[:, :1])
    assert err < 0.10, err  # the pose, through a real detector on a rendered figure (benchmark: 0.052 over 300 frames)


def test_clips_without_one_dancer_or_broken_are_one_line(tmp_path, capsys):
    pytest.importorskip("mediapipe")
    from choreo.core.video.io import write_video

    empty = tmp_path / "empty.mp4"
    write_video(empty, (np.full((96, 96, 3), 128, np.uint8) for _ in range(10)), 30.0)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    out = tmp_path / "x.npz"
    for clip, message in ((empty, "no frame shows one dancer (no person in 10 of 10 frames)"),
                          (broken, "cannot read as video"), (tmp_path / "missing.mp4", "no such file")):
        assert main(["import", "video", str(clip), "-o", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    assert not out.exists()
