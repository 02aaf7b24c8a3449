"""Headless .blend and MP4: write_dance_blend, reopening the file, a tiny render,
and `choreo demo` end to end."""

from __future__ import annotations

import os
import struct
import subprocess
import sys

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
pytestmark = pytest.mark.blender

from choreo.core.audio.demo import write_demo_wav  # noqa: E402
from choreo.core.errors import ChoreoInputError  # noqa: E402
from choreo.core.generation.dance import Dance  # noqa: E402


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    path = tmp_path_factory.mktemp("headless") / "song.wav"
    return str(path), write_demo_wav(path, bars=4, tempo=120.0)  # 8 s


def bvh_dance(mocap_dir, song, seconds=4.0, audio_start=0.0) -> Dance:
    """A CMU ballet take cut to ``seconds`` and laid on the demo track's beat grid
    (issue 4 allows an existing dance in place of a generated one)."""
    from choreo.core.formats import load_motion

    path, track = song
    m = load_motion(mocap_dir / "005" / "005_02.bvh").resample(30.0).frames(60, 60 + int(seconds * 30))
    m = m.normalized_facing().on_floor()

    def window(t):
        t = np.asarray(t, float)
        return t[(t >= audio_start) & (t < audio_start + seconds)] - audio_start

    return Dance(motion=m, beats=window(track.beats), downbeats=window(track.downbeats),
                 sections=window([s for s, _, _ in track.sections]) if audio_start == 0 else np.zeros(1),
                 audio_path=path, audio_start=audio_start, tempo=track.tempo, model="cmu:005_02",
                 seed=0, energy=1.0)


def mp4_tracks(path) -> list[str]:
    """Handler types ('vide', 'soun') of an MP4's tracks, read from its boxes."""
    data = open(path, "rb").read()
    found = []

    def walk(a, b):
        while a + 8 <= b:
            size, kind = struct.unpack(">I4s", data[a:a + 8])
            hdr = 8
            if size == 1:
                size, hdr = struct.unpack(">Q", data[a + 8:a + 16])[0], 16
            elif size == 0:
                size = b - a
            if size < hdr:
                return
            if kind in (b"moov", b"trak", b"mdia"):
                walk(a + hdr, a + size)
            elif kind == b"hdlr":
                found.append(data[a + hdr + 8:a + hdr + 12].decode("latin-1"))
            a += size

    walk(0, len(data))
    return found


def test_blend_reopens_with_keys_markers_and_strip(mocap_dir, song, tmp_path):
    from choreo.rigs.scene import write_dance_blend

    dance = bvh_dance(mocap_dir, song, seconds=4.0, audio_start=2.0)
    out = tmp_path / "dance.blend"
    calls = []
    rep = write_dance_blend(dance, out, progress=lambda f, label: calls.append(f))
    assert rep["blend"] == str(out) and out.is_file() and rep["mp4"] is None
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")], "temporary file left behind"
    assert calls[-1] == 1.0 and calls == sorted(calls)
    assert rep["frames"] == 120 and rep["apply"]["keys"] > 0

    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.wm.open_mainfile(filepath=str(out))
    sc = bpy.context.scene
    assert sc.render.fps == 30 and (sc.frame_start, sc.frame_end) == (1, 120)
    (strip,) = list(sc.sequence_editor.strips_all)
    assert strip.type == "SOUND" and os.path.samefile(bpy.path.abspath(strip.sound.filepath), song[0])
    # Dance time 0 = 2 s into the song, heard from frame 1.
    from choreo.addon.strip_audio import read_strip_audio

    audio = read_strip_audio(strip, sc)
    assert audio.frame_start == 1 and audio.offset == pytest.approx(2.0, abs=1e-6)
    assert strip.sound_offset == 0.0  # the song's part is trimmed in, not delayed
    assert audio.duration == pytest.approx(4.0, abs=1 / 30)
    arm = bpy.data.objects[rep["armature"]]
    ad = arm.animation_data
    assert ad.action is not None and ad.action_slot is not None
    lo, hi = ad.action.frame_range
    assert lo == pytest.approx(1, abs=0.5) and hi == pytest.approx(120, abs=1)
    # Downbeats at 2, 4 s in the song → dance 0, 2 s → frames 1, 61.
    bars = sorted(m.frame for m in sc.timeline_markers if m.name.startswith("choreo:"))
    assert 1 in bars and 61 in bars
    assert sc.camera is not None and any(o.type == "LIGHT" for o in sc.objects)
    # The keyed pelvis follows the dance: the rig moves as the motion's pelvis does.
    sc.frame_set(1)
    p0 = np.array(arm.matrix_world @ arm.pose.bones["pelvis"].head)
    sc.frame_set(100)
    p1 = np.array(arm.matrix_world @ arm.pose.bones["pelvis"].head)
    want = dance.motion.joints[99, 0] - dance.motion.joints[0, 0]
    assert np.linalg.norm((p1 - p0) - want) < 0.05


def test_rig_from_blend_and_bad_rig_paths(mocap_dir, song, tmp_path):
    from choreo.rigs.scene import write_dance_blend
    from choreo.rigs.testrigs import build_mixamo_rig

    bpy.ops.wm.read_factory_settings(use_empty=True)
    build_mixamo_rig(name="Mixer")
    rig = tmp_path / "rig.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(rig))
    dance = bvh_dance(mocap_dir, song, seconds=2.0)
    rep = write_dance_blend(dance, tmp_path / "mixamo.blend", rig_path=rig, key_mode="dense")
    assert rep["armature"].startswith("Mixer") and rep["apply"]["bone_map"] == "mixamo"
    assert rep["apply"]["key_error_max_m"] < 0.01
    with pytest.raises(ChoreoInputError, match="nope.fbx.*not found"):
        write_dance_blend(dance, tmp_path / "x.blend", rig_path=tmp_path / "nope.fbx")
    empty = tmp_path / "empty.blend"
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(empty))
    with pytest.raises(ChoreoInputError, match="no armature"):
        write_dance_blend(dance, tmp_path / "x.blend", rig_path=empty)
    assert not (tmp_path / "x.blend").exists()


def test_tiny_render_has_video_and_audio(mocap_dir, song, tmp_path):
    from choreo.rigs.render import render_preview
    from choreo.rigs.scene import write_dance_blend

    dance = bvh_dance(mocap_dir, song, seconds=1.0)
    write_dance_blend(dance, tmp_path / "r.blend")
    sc = bpy.context.scene
    calls = []
    rep = render_preview(sc, tmp_path / "r.mp4", width=160, height=90, frame_range=(1, 6),
                         progress=lambda f, label: calls.append(f))
    path = tmp_path / "r.mp4"
    assert rep["frames"] == 6 and len(calls) == 6 and path.stat().st_size > 1000
    assert sorted(mp4_tracks(path)) == ["soun", "vide"]
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]
    # Blender reads its own movie back: 6 frames, 160×90, with sound.
    clip = bpy.data.movieclips.load(str(path))
    assert clip.frame_duration == 6 and tuple(clip.size) == (160, 90)
    import aud

    samples = aud.Sound(str(path)).data()
    assert samples.shape[0] > 0.1 * 48000 and np.abs(samples).max() > 0.01


def test_choreo_demo_end_to_end(tmp_path):
    """`choreo demo --no-render` with random-init weights: .wav, .npz, .blend."""
    sys.path.insert(0, os.path.dirname(__file__))
    from test_addon import tiny_weights

    w = tiny_weights(tmp_path / "w.safetensors")
    out = subprocess.run([sys.executable, "-m", "choreo", "demo", "--out", str(tmp_path / "out"), "--no-render",
                          "--weights", w], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    for name in ("demo.wav", "demo_dance.npz", "demo.blend"):
        assert (tmp_path / "out" / name).is_file(), out.stdout
    assert "wrote" in out.stdout and "demo.blend" in out.stdout and "demo.mp4" not in out.stdout


def test_relative_song_path_and_start_are_heard_where_the_dance_is(mocap_dir, song, tmp_path, monkeypatch):
    """A song given by a relative path, a dance from 2 s into it: the saved .blend, opened
    from another working directory, plays that part of the song from frame 1 (listened
    to: Blender's own mixdown of the scene correlates with the song at 2 s, not at 0 s)."""
    import soundfile as sf

    from choreo.rigs.scene import write_dance_blend

    monkeypatch.chdir(os.path.dirname(song[0]))
    dance = bvh_dance(mocap_dir, song, seconds=4.0, audio_start=2.0)
    dance.audio_path = os.path.basename(song[0])  # relative to the working directory
    (tmp_path / "gen").mkdir()
    out = tmp_path / "gen" / "dance.blend"
    write_dance_blend(dance, out)
    monkeypatch.chdir(tmp_path)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.wm.open_mainfile(filepath=str(out))
    sc = bpy.context.scene
    (strip,) = list(sc.sequence_editor.strips_all)
    assert os.path.samefile(bpy.path.abspath(strip.sound.filepath), song[0])
    mix = tmp_path / "mix.wav"
    assert bpy.ops.sound.mixdown(filepath=str(mix), container="WAV", codec="PCM", format="F32",
                                 mixrate=48000, accuracy=1024) == {"FINISHED"}
    heard, rate = sf.read(mix, dtype="float32", always_2d=True)
    heard = heard.mean(axis=1)[: int(3 * rate)]
    y, sr = sf.read(song[0], dtype="float32", always_2d=True)
    from choreo.core.audio.resample import resample

    y = resample(y.mean(axis=1), sr, rate)

    def match(at):
        ref = y[int(at * rate):int(at * rate) + len(heard)]
        return float(np.dot(ref, heard) / (np.linalg.norm(ref) * np.linalg.norm(heard) + 1e-12))

    assert match(2.0) > 0.9 > 0.5 > match(0.0), (match(2.0), match(0.0))
