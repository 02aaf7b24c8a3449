"""``choreo video prepare`` (issue 16): a clip of one person → a target folder for the renderer.

The person is Choreo's own preview mannequin, rendered once for the module (a few seconds of
Workbench), then edited with numpy into the cases a real clip brings: frames with nobody,
two people, the person cut off by the frame's edge. MediaPipe reads the mannequin as a
person, so the whole path runs: detection, the fixed crop, H.264 frames, poses, the record.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("av")

from choreo.core.errors import ChoreoInputError  # noqa: E402
from choreo.core.video.io import VideoReader, write_video  # noqa: E402
from choreo.core.video.prepare import MIN_FRAMES, crop_frame  # noqa: E402
from choreo.core.video.target import FORMAT, VERSION, read_target, write_target  # noqa: E402

FPS = 30.0
BLANK, TWO, CUT = range(20, 25), range(30, 45), range(50, 55)  # clip frames edited in the test clip


def _leftovers(folder) -> list[str]:
    """Hidden temporary entries a write would leave beside its target."""
    return [n for n in os.listdir(folder) if n.startswith(".")]


@pytest.fixture(scope="module")
def mannequin(tmp_path_factory, music_dir):
    """90 frames (3 s at 30 fps, 640 × 360) of the preview mannequin dancing, as RGB arrays."""
    pytest.importorskip("mediapipe")
    pytest.importorskip("bpy")
    d = tmp_path_factory.mktemp("mannequin")
    r = subprocess.run([sys.executable, "-m", "choreo", "generate", str(music_dir / "mma01_popballad.ogg"),
                        "--start", "10", "--end", "13", "-o", str(d / "m.blend"), "--render", str(d / "m.mp4"),
                        "--camera", "fixed"],  # the clip below is cut from this framing
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    with VideoReader(d / "m.mp4") as v:
        frames = list(v.frames_rgb())
    assert len(frames) == 90 and frames[0].shape == (360, 640, 3)
    return frames


@pytest.fixture(scope="module")
def clip(mannequin, tmp_path_factory):
    """The mannequin clip with nobody in frames BLANK, two mannequins side by side (one
    mirrored) in TWO, and the figure moved down until its feet leave the picture in CUT."""
    stage = np.tile(mannequin[0][:, :160], (1, 4, 1))  # the left quarter is empty stage

    def frame(k):
        f = mannequin[k]
        if k in BLANK:
            return stage
        if k in TWO:
            body = f[:, 160:480]  # the figure stays inside columns 160–480
            return np.hstack([body, body[:, ::-1]])
        if k in CUT:
            return np.concatenate([stage[:110], f[:-110]])
        return f

    path = tmp_path_factory.mktemp("clip") / "dancer.mp4"
    write_video(path, (frame(k) for k in range(len(mannequin))), FPS, crf=16)
    return path


@pytest.fixture(scope="module")
def target(clip, tmp_path_factory):
    from choreo.core.video.prepare import prepare_target

    seen = []
    out = tmp_path_factory.mktemp("targets") / "dancer"
    t = prepare_target(clip, out, size=128, progress=lambda f, label: seen.append((f, label)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert seen[0][1].startswith("finding the person") and seen[-1][1].startswith("writing the target")
    return t


def test_progress_says_the_time_left(monkeypatch):
    from choreo.core.video import prepare

    seen = []
    update = prepare._eta(lambda f, label: seen.append((f, label)), t0=100.0)
    monkeypatch.setattr(prepare.time, "monotonic", lambda: 190.0)
    update(0.6, "frame 6/10")  # 90 s for 60 %: 60 s to go
    assert seen == [(0.6, "frame 6/10, 1:00 left")]


@pytest.mark.blender
def test_the_folder_round_trips(target, clip):
    t = read_target(target.path)
    n = len(t)
    assert sorted(os.listdir(t.path)) == ["frames.mp4", "poses.npz", "target.json"]
    assert t.meta["format"] == FORMAT and t.meta["version"] == VERSION and t.meta["frames"] == n
    assert t.meta["keypoints"] == "openpose18" and t.meta["detector"].startswith("mediapipe 0.10")
    assert t.meta["clip"]["frames"] == 90 and t.meta["clip"]["path"] == str(clip)
    assert (t.meta["clip"]["width"], t.meta["clip"]["height"], t.fps) == (640, 360, FPS)
    frames = t.load_frames()
    assert frames.shape == (n, 128, 128, 3) and frames.dtype == np.uint8
    assert t.keypoints.shape == (n, 18, 2) and t.confidence.shape == (n, 18) and t.clip_frame.dtype == np.int32
    # every kept keypoint is on the picture; hidden ones are NaN, and only those
    seen = np.isfinite(t.keypoints).all(axis=2)
    assert seen.mean() > 0.8
    assert np.all((t.keypoints[seen] >= 0) & (t.keypoints[seen] <= 128))
    assert np.all(t.confidence[~seen] < 0.5) and np.all(t.confidence[seen] >= 0.5)
    # the held-out frames are the last tenth, one run
    assert t.held_out == slice(n - round(0.1 * n), n) and t.meta["held_out"] == [n - round(0.1 * n), n]
    # kept and skipped frames partition the clip; follows_previous is False exactly after a gap
    skipped = {k: why for k, why in t.meta["skipped"]}
    assert sorted(set(t.clip_frame.tolist()) | set(skipped)) == list(range(90))
    assert not set(t.clip_frame.tolist()) & set(skipped)
    expect = np.r_[False, np.diff(t.clip_frame) == 1]
    assert np.array_equal(t.follows_previous, expect) and not expect.all()
    s = t.stats
    assert 0 < s.far <= s.close <= 128 and 0 < s.height_far and 0 < s.height_close < 128


@pytest.mark.blender
def test_frames_without_one_whole_person_are_skipped_and_listed(target):
    skipped = {k: why for k, why in target.meta["skipped"]}
    assert all(skipped.get(k) == "no person" for k in BLANK)
    # the cut-off figure is never used; mostly for being cut off (BlazePose reads some of those
    # frames head-down too: bpy 4.5's Workbench draws the mannequin a little differently)
    cut = [skipped.get(k) for k in CUT]
    assert set(cut) <= {"not fully in frame", "upside down"} and cut.count("not fully in frame") >= 4, cut
    several = [k for k, why in skipped.items() if why == "several people"]
    # two people are found in most of the two-person frames (a faceless mannequin is hard on
    # MediaPipe's face-keyed detector), and never where there is one
    assert set(several) <= set(TWO) and len(several) >= 12, several
    # the first frame kept after each edited run does not follow the frame before it
    for run in (BLANK, CUT):
        after = target.clip_frame[target.clip_frame > run[-1]][0]
        assert not target.follows_previous[list(target.clip_frame).index(after)]
    assert len(target) >= MIN_FRAMES


@pytest.mark.blender
def test_the_camera_does_not_move(target):
    x0, y0, side = target.meta["crop"]
    assert all(isinstance(v, int) for v in (x0, y0, side)) and side > 0
    frames = target.load_frames().astype(np.int16)
    # the wall in the top corners is the same in every frame: one square for the whole clip
    for corner in (frames[:, :12, :12], frames[:, :12, -12:]):
        assert np.abs(corner - corner[0]).max() <= 6
    # and it is the clip's square: the kept frame read from the clip, cropped, matches
    with VideoReader(target.meta["clip"]["path"]) as r:
        first = next(f for k, f in enumerate(r.frames_rgb()) if k == target.clip_frame[0])
    assert np.abs(crop_frame(first, (x0, y0, side), 128).astype(np.int16) - frames[0]).mean() < 3


def test_crop_frame_resamples_and_repeats_the_edges():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (60, 80, 3)).astype(np.uint8)
    assert np.array_equal(crop_frame(img, (10, 5, 40), 40), img[5:45, 10:50])  # same size: the pixels
    half = crop_frame(img, (0, 0, 60), 30)  # area: each pixel the mean of a 2 × 2 block
    assert np.array_equal(half, np.rint(img[:60, :60].reshape(30, 2, 30, 2, 3).mean(axis=(1, 3))).astype(np.uint8))
    ramp = np.broadcast_to((np.arange(80) * 3)[None, :, None], (60, 80, 3)).astype(np.uint8)
    up = crop_frame(ramp, (20, 20, 20), 80)[0, :, 0].astype(float)  # bilinear: a ramp stays a ramp
    centres = 20 + (np.arange(80) + 0.5) / 4 - 0.5
    assert np.abs(up - 3 * centres).max() <= 0.5
    pad = crop_frame(img, (-20, -10, 40), 40)  # past the top-left corner: the edge pixels repeat
    assert np.array_equal(pad[10:, 20:], img[:30, :20])
    assert np.array_equal(pad[:10, 20:], np.repeat(img[:1, :20], 10, axis=0))
    assert np.array_equal(pad[:10, :20], np.broadcast_to(img[0, 0], (10, 20, 3)))


def test_a_clip_without_a_person_is_one_clear_error(tmp_path):
    from choreo.core.video.prepare import prepare_target

    pytest.importorskip("mediapipe")
    empty = tmp_path / "empty.mp4"
    write_video(empty, (np.full((120, 160, 3), (90, 120, 60), np.uint8) for _ in range(40)), FPS)
    with pytest.raises(ChoreoInputError, match=r"empty\.mp4: no person found in any of its 40 frames"):
        prepare_target(empty, tmp_path / "t")
    assert not (tmp_path / "t").exists() and not _leftovers(tmp_path)


def test_a_corrupt_clip_is_one_clear_error(tmp_path):
    from choreo.core.video.prepare import prepare_target

    whole = tmp_path / "whole.mp4"
    write_video(whole, (np.full((64, 64, 3), 8 * k, np.uint8) for k in range(30)), FPS)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])  # the index is at the end: gone
    whole.unlink()
    junk = tmp_path / "junk.mov"
    junk.write_bytes(os.urandom(5000))
    for bad in (cut, junk):
        with pytest.raises(ChoreoInputError, match=f"{bad.name}: cannot read as video"):
            prepare_target(bad, tmp_path / "t")
    with pytest.raises(ChoreoInputError, match="no such file"):
        prepare_target(tmp_path / "missing.mp4", tmp_path / "t")
    assert not (tmp_path / "t").exists() and not _leftovers(tmp_path)


@pytest.mark.blender
def test_too_few_usable_frames_is_one_clear_error(mannequin, tmp_path):
    from choreo.core.video.prepare import prepare_target

    short = tmp_path / "short.mp4"
    write_video(short, mannequin[:20], FPS)
    with pytest.raises(ChoreoInputError, match=rf"short\.mp4: only \d+ of its 20 frames .* at least {MIN_FRAMES}"):
        prepare_target(short, tmp_path / "t")
    assert not (tmp_path / "t").exists() and not _leftovers(tmp_path)


@pytest.mark.blender
def test_prepare_is_deterministic_and_an_interrupted_one_leaves_nothing(mannequin, tmp_path):
    from choreo.core.video.prepare import prepare_target

    clip = tmp_path / "clip.mp4"
    write_video(clip, mannequin[:40], FPS)
    a, b = prepare_target(clip, tmp_path / "a"), prepare_target(clip, tmp_path / "b")
    for name in ("target.json", "poses.npz", "frames.mp4"):
        assert (a.path / name).read_bytes() == (b.path / name).read_bytes(), name

    def interrupt(fraction, label):
        if label.startswith("writing") and fraction > 0.9:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        prepare_target(clip, tmp_path / "t", progress=interrupt)
    assert not (tmp_path / "t").exists() and not _leftovers(tmp_path)


def _write(path, n=12, size=32, frames=None, **kw):
    """A small synthetic target (a standing stick figure's keypoints, grey frames)."""
    kp = np.zeros((n, 18, 2), np.float32)
    kp[:, :, 0] = 16
    kp[:, :, 1] = np.linspace(4, 28, 18)[None]
    kp[:, [0, 14, 15, 16, 17], 1] = 4   # head at the top
    kp[:, [10, 13], 1] = 28             # ankles at the bottom
    frames = frames if frames is not None else (np.full((size, size, 3), 100 + k, np.uint8) for k in range(n))
    return write_target(path, frames, size=size, fps=25.0, keypoints=kp, confidence=np.ones((n, 18), np.float32),
                        clip_frame=np.arange(n) * 2, clip={"path": "x.mp4"}, crop=(0, 0, 64), skipped=[],
                        detector="test", **kw)


def test_write_target_is_all_or_nothing_and_never_replaces_a_users_folder(tmp_path):
    t = _write(tmp_path / "t")
    assert len(t) == 12 and not t.follows_previous.any() and t.held_out == slice(11, 12)
    assert t.load_frames()[:, 0, 0, 0].tolist() == pytest.approx(list(range(100, 112)), abs=2)

    def failing():
        for k in range(12):
            if k == 5:
                raise KeyboardInterrupt
            yield np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(KeyboardInterrupt):
        _write(tmp_path / "new", frames=failing())
    assert not (tmp_path / "new").exists() and not _leftovers(tmp_path)
    with pytest.raises(ChoreoInputError, match=r"frame 0 is \(30, 32, 3\) uint8, not \(32, 32, 3\)"):
        _write(tmp_path / "new", frames=(np.zeros((30, 32, 3), np.uint8) for _ in range(12)))
    assert not (tmp_path / "new").exists() and not _leftovers(tmp_path)
    # an existing target is replaced only when asked; a failed replacement keeps the old one
    with pytest.raises(ChoreoInputError, match="already holds a video target"):
        _write(tmp_path / "t")
    with pytest.raises(KeyboardInterrupt):
        _write(tmp_path / "t", frames=failing(), overwrite=True)
    assert len(read_target(tmp_path / "t")) == 12
    assert len(_write(tmp_path / "t", n=14, overwrite=True)) == 14 and not _leftovers(tmp_path)
    # a folder of the user's is never replaced, even when asked to overwrite
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(ChoreoInputError, match="not a video target"):
        _write(mine, overwrite=True)
    assert os.listdir(mine) == ["notes.txt"]
    (tmp_path / "empty").mkdir()  # an empty folder is fine
    assert len(_write(tmp_path / "empty")) == 12


def test_read_target_refuses_other_versions_and_damaged_folders(tmp_path):
    _write(tmp_path / "t")

    def edited(name, change):
        d = tmp_path / name
        shutil.copytree(tmp_path / "t", d)
        change(d)
        return d

    def header(d, **fields):
        meta = json.loads((d / "target.json").read_text())
        meta.update(fields)
        (d / "target.json").write_text(json.dumps(meta))
    cases = {
        edited("v2", lambda d: header(d, version=2)): r"v2: video target version 2; this Choreo reads version 1",
        edited("other", lambda d: header(d, format="choreo-motion-library")): r"other: not a video target",
        edited("bare", lambda d: (d / "target.json").unlink()): r"bare: not a video target \(no target.json\)",
        edited("count", lambda d: header(d, frames=13, held_out=[12, 13])): r"poses.npz: damaged video target",
        edited("nopose", lambda d: (d / "poses.npz").unlink()): r"nopose: damaged video target: poses.npz is missing",
    }

    def fewer_frames(d):
        write_video(d / "frames.mp4", [np.zeros((32, 32, 3), np.uint8)] * 10, 25.0)
    cases[edited("short", fewer_frames)] = r"frames.mp4: damaged video target: 10 frames of 32×32"
    for d, message in cases.items():
        with pytest.raises(ChoreoInputError, match=message):
            read_target(d)
    with pytest.raises(ChoreoInputError, match="no such folder"):
        read_target(tmp_path / "nowhere")
