"""The photoreal stage's Blender side (issue 16): a dance read back from a .blend with the song's
part under it, and a movie made by Blender's own ffmpeg from PNG frames and a WAV (what Render
Photoreal Video does in a stock Blender, which has no other encoder)."""

from __future__ import annotations

import os
import zlib

import numpy as np
import pytest

pytestmark = pytest.mark.blender

bpy = pytest.importorskip("bpy")

from choreo.core.audio.io import load_audio  # noqa: E402
from choreo.core.errors import ChoreoInputError  # noqa: E402
from choreo.core.video.io import VideoReader  # noqa: E402
from choreo.core.video.png import png_bytes, write_png, write_wav  # noqa: E402


def test_png_and_wav_round_trip(tmp_path):
    img = np.random.default_rng(0).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    data = png_bytes(img)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    # IDAT holds each row behind a 0 filter byte
    i = data.index(b"IDAT")
    n = int.from_bytes(data[i - 4:i], "big")
    raw = np.frombuffer(zlib.decompress(data[i + 4:i + 4 + n]), np.uint8).reshape(7, 1 + 15)
    assert (raw[:, 0] == 0).all() and np.array_equal(raw[:, 1:].reshape(7, 5, 3), img)
    write_png(tmp_path / "x.png", img)
    im = bpy.data.images.load(str(tmp_path / "x.png"))
    px = np.array(im.pixels[:]).reshape(7, 5, 4)[::-1, :, :3]  # Blender's rows go bottom-up
    assert np.abs(px * 255 - img).max() < 1.0
    bpy.data.images.remove(im)
    y = np.sin(np.linspace(0, 40, 8000)).astype(np.float32) * 0.5
    write_wav(tmp_path / "x.wav", y, 8000)
    back, sr = load_audio(tmp_path / "x.wav", sr=8000)
    assert sr == 8000 and np.abs(back - y).max() < 1e-3


def test_frames_and_song_become_an_mp4_and_the_session_is_as_it_was(tmp_path):
    from choreo.rigs.movie import mux_frames

    frames = []
    for k in range(24):
        img = np.full((48, 64, 3), 40, np.uint8)
        img[:, :, 0] = 10 * k
        img[8:24, 2 * k:2 * k + 16] = 250
        frames.append(str(tmp_path / f"f{k:04d}.png"))
        write_png(frames[-1], img)
    sr = 48000
    y = np.zeros(sr, np.float32)
    y[sr // 2:sr // 2 + 100] = 0.9  # a click half a second in: frame 12 at 24 fps
    write_wav(tmp_path / "song.wav", y, sr)
    scenes, sounds = set(bpy.data.scenes), set(bpy.data.sounds)
    out = mux_frames(frames, 24.0, tmp_path / "out.mp4", str(tmp_path / "song.wav"))
    assert set(bpy.data.scenes) == scenes and set(bpy.data.sounds) == sounds
    assert sorted(os.listdir(tmp_path)) == sorted([os.path.basename(f) for f in frames] + ["song.wav", "out.mp4"])
    with VideoReader(out) as r:
        got = list(r.frames_rgb())
        assert (r.width, r.height, r.fps) == (64, 48, 24.0)
    assert len(got) == 24
    for k in (0, 12, 23):  # the colours pass through untouched (no view transform)
        assert abs(int(got[k][40, 60, 0]) - 10 * k) <= 4 and got[k][16, 2 * k + 8].min() >= 235
    import av

    with av.open(out) as c:
        stream = c.streams.audio[0]
        back = np.concatenate([f.to_ndarray().mean(axis=0) for f in c.decode(stream)])
        rate = stream.rate
    assert abs(np.argmax(np.abs(back)) / rate - 0.5) < 0.03
    with pytest.raises(ChoreoInputError, match="no frames"):
        mux_frames([], 24.0, tmp_path / "none.mp4")


def test_a_dance_reads_back_from_its_blend_with_the_songs_part(tmp_path, music_dir):
    from choreo.addon.blend_dance import read_blend_dance
    from choreo.cli import main

    song = music_dir / "mma03_softrock.ogg"
    blend = tmp_path / "d.blend"
    npz = tmp_path / "d.npz"
    assert main([
        "generate", str(song), "--start", "6", "--end", "10", "-o", str(npz)]) == 0
    assert main(["generate", str(song), "--start", "6", "--end", "10", "-o", str(blend), "--key-mode", "dense"]) == 0
    from choreo.core.generation import load_dance

    dance = load_dance(npz)
    joints, fps, (y, sr, start) = read_blend_dance(blend)
    assert fps == 30.0 and abs(len(joints) - len(dance.motion.joints)) <= 1
    n = min(len(joints), len(dance.motion.joints))
    # the keyed rig dances the dance in its own proportions: its bones point the same ways
    from choreo.core.skeleton import PARENTS

    def bones(x):
        v = x[:, 1:] - x[:, list(PARENTS[1:])]
        return v / np.linalg.norm(v, axis=-1, keepdims=True)

    cos = (bones(joints[:n]) * bones(dance.motion.joints[:n])).sum(-1)
    assert np.median(cos) > 0.999 and np.percentile(cos, 25) > 0.98
    full, fsr = load_audio(song, sr=sr)
    a = int(round(6.0 * sr))
    seg = y[int(round(start * sr)):][:sr]
    assert np.corrcoef(seg, full[a:a + len(seg)])[0, 1] > 0.95  # the part under frame 1 is second 6 of the song
    with pytest.raises(ChoreoInputError, match="no such file"):
        read_blend_dance(tmp_path / "missing.blend")


@pytest.fixture
def registered():
    import choreo

    choreo.register()
    yield
    choreo.unregister()


def _leftovers():
    import tempfile

    return {f for f in os.listdir(tempfile.gettempdir()) if f.startswith("choreo_photoreal_")}


def test_render_photoreal_video_writes_beside_the_blend_and_leaves_the_scene(tmp_path, music_dir, photoreal_weights,
                                                                             registered):
    from choreo.addon.photoreal_ops import make_photoreal_plan, render_frames
    from choreo.addon.worker import Cancelled
    from choreo.cli import main

    song = music_dir / "mma03_softrock.ogg"
    assert main(["generate", str(song), "--start", "6", "--end", "8", "-o", str(tmp_path / "d.blend")]) == 0
    bpy.ops.wm.open_mainfile(filepath=str(tmp_path / "d.blend"))
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "scene.blend"))
    scene = bpy.context.scene
    arm = next(o for o in scene.objects if o.type == "ARMATURE")
    scene.choreo.target = arm
    before = (len(bpy.data.scenes), len(bpy.data.actions), len(bpy.data.sounds), scene.frame_current, _leftovers())

    from choreo.core.models.weights import shipped_path

    for model, message in (("", "choose the renderer"), (str(shipped_path("default")), "not photoreal renderer")):
        scene.choreo.photoreal_model = model
        with pytest.raises(RuntimeError, match=message) as err:  # an ERROR report, one line, nothing written
            bpy.ops.choreo.render_photoreal()
        assert "Traceback" not in str(err.value) and str(err.value).count("\n") <= 1
    assert not (tmp_path / "photoreal.mp4").exists()

    scene.choreo.photoreal_model = str(photoreal_weights)
    plan = make_photoreal_plan(bpy.context)
    calls = []

    def stop_after_three(fraction, label=""):
        calls.append(fraction)
        if len(calls) == 3:
            raise Cancelled()

    with pytest.raises(Cancelled):  # Esc in the middle: the frames written so far go with it
        render_frames(plan, stop_after_three)
    assert _leftovers() == before[4]

    assert bpy.ops.choreo.render_photoreal() == {"FINISHED"}
    out = tmp_path / "photoreal.mp4"
    with VideoReader(out) as r:
        n = len(list(r.frames_rgb()))
        assert (r.width, r.fps) == (64, 30.0)
    assert n == scene.frame_end - scene.frame_start + 1
    assert (len(bpy.data.scenes), len(bpy.data.actions), len(bpy.data.sounds), scene.frame_current,
            _leftovers()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.blend", "photoreal.mp4", "scene.blend"]
