"""``choreo dataset build --videos DIR`` (issue 17): a choreographer's own filmed dances become corpus
takes (lifted) and tracks (their sound); an unusable clip is reported and left out."""

from __future__ import annotations

import numpy as np
import pytest

from choreo.cli import main

bpy = pytest.importorskip("bpy")
pytestmark = pytest.mark.blender  # the clip is rendered by Blender


@pytest.fixture(scope="module")
def videos(mocap_dir, tmp_path_factory):
    pytest.importorskip("mediapipe")  # Python 3.11 only
    pytest.importorskip("av")
    from choreo.core.audio.demo import synthesize_demo
    from choreo.core.video.io import VideoReader, write_video
    from choreo.rigs.actor_clip import actor_take, default_actor_camera, render_actor_clip

    d = tmp_path_factory.mktemp("videos")
    joints = actor_take("05_02", stage_m=None, mocap_dir=mocap_dir)[:240]     # 8 s of a dance
    silent = d / "silent.mp4"
    render_actor_clip(joints, silent, camera=default_actor_camera(joints, 256), samples=1)
    song = synthesize_demo(tempo=120.0, bars=5)                                # 10 s at 120 BPM
    clips = d / "clips"
    clips.mkdir()
    with VideoReader(silent) as r:
        write_video(clips / "my_solo.mp4", r.frames_rgb(), 30.0, audio=(song.audio, song.sr))
    (clips / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(100))
    return clips


def test_filmed_dances_become_takes_and_tracks(videos, tmp_path, capsys):
    from choreo.core.data.corpus import Corpus

    out = tmp_path / "mine.npz"
    assert main(["dataset", "build", "--videos", str(videos), "--out", str(out), "--no-features"]) == 0
    text = capsys.readouterr().out
    assert "lifted 1 of 2 clips into takes (my_solo); 1 with their own sound as tracks" in text
    assert "skipped" in text and "broken.mp4" in text
    c = Corpus.load(out)
    assert list(c.arrays["takes"]) == ["my_solo"] and list(c.arrays["tracks"]) == ["my_solo"]
    assert len(c) >= 2  # the dance's windows on its own song (and their mirrors)
    assert "mocap/my_solo.bvh" in list(c.arrays["source_files"])
    j = c.arrays["joints"]
    assert np.isfinite(j).all() and j[..., 2].min() > -0.05  # a lifted dance on the floor


def test_bad_video_builds_are_one_line_and_write_nothing(videos, tmp_path, capsys):
    only_broken = tmp_path / "broken"
    only_broken.mkdir()
    (only_broken / "x.mp4").write_bytes(b"not a video")
    out = tmp_path / "c.npz"
    cases = [(["--videos", str(tmp_path / "none")], "videos folder not found"),
             (["--videos", str(tmp_path)], "no video files"),
             (["--videos", str(only_broken)], "no clip could be lifted: x.mp4: cannot read as video"),
             (["--fov", "50"], "--fov: is for --videos")]
    for argv, message in cases:
        assert main(["dataset", "build", "--out", str(out), *argv]) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    assert not out.exists()
