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
    # The keyed hips follow the dance (the pelvis bone is placed on them, docs/retarget.md).
    def hips():
        return np.mean([np.array(arm.matrix_world @ arm.pose.bones[b].head) for b in ("l_hip", "r_hip")], 0)

    sc.frame_set(1)
    p0 = hips()
    sc.frame_set(100)
    p1 = hips()
    mid = dance.motion.joints[:, [1, 2]].mean(1)
    want = mid[99] - mid[0]
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


# --- the music where the dance is; scene rate; interrupts; quiet output; rig choice (issue 10) --------

BLENDER_NOISE = ("Saved copy", "Saved \"", "EGL", "Blender quit", "Read blend", "Info:", "FBX", "Video append",
                 "Traceback", "Warning")


def song_lag(heard, rate, song_path, at, *, search=0.15, window=(0.1, 0.6)):
    """(lag s, correlation): ``heard`` (mono, ``rate`` Hz, its time 0 = song second ``at``)
    matches the song best ``lag`` s later than it should (positive: heard early)."""
    import soundfile as sf

    from choreo.core.audio.resample import resample

    y, sr = sf.read(song_path, dtype="float64", always_2d=True)
    y = resample(y.mean(axis=1), sr, rate)
    seg = np.asarray(heard, np.float64)[int(window[0] * rate):int(window[1] * rate)]
    pad = int(search * rate)
    a0 = int((at + window[0]) * rate) - pad
    ref = y[max(a0, 0):a0 + len(seg) + 2 * pad]
    lead = max(-a0, 0)                               # lags cut off by the file's start
    n = len(ref) + len(seg)
    c = np.fft.irfft(np.fft.rfft(ref, n) * np.conj(np.fft.rfft(seg, n)), n)[:len(ref) - len(seg) + 1]
    e = np.concatenate([[0.0], np.cumsum(ref ** 2)])
    c = c / (np.sqrt(e[len(seg):] - e[:-len(seg)]) * np.linalg.norm(seg) + 1e-12)
    k = int(np.argmax(c))
    return (k + lead - pad) / rate, float(c[k])


REOPEN = r"""
import json, os, sys
import bpy, aud
bpy.ops.wm.open_mainfile(filepath=sys.argv[1])
sc = bpy.context.scene
(strip,) = list(sc.sequence_editor.strips_all)
path = bpy.path.abspath(strip.sound.filepath, library=strip.sound.library)
decoded = len(aud.Sound(path).data()) if os.path.isfile(path) else 0
bpy.ops.sound.mixdown(filepath=sys.argv[2], container="WAV", codec="PCM", format="F32", mixrate=48000,
                      accuracy=1024)
print(json.dumps({"path": path, "exists": os.path.isfile(path), "decoded": decoded,
                  "packed": strip.sound.packed_file is not None, "fps": [sc.render.fps, sc.render.fps_base],
                  "frame_end": sc.frame_end,
                  "animated": sorted(o.name for o in sc.objects if o.type == "ARMATURE" and o.animation_data
                                     and o.animation_data.action)}))
"""


def reopen(blend, mix, cwd) -> dict:
    """Open ``blend`` in a fresh process run from ``cwd``, mix the scene down to ``mix``."""
    # PWD as a shell sets it: Blender 4.5 resolves a relative path against $PWD, not getcwd()
    r = subprocess.run([sys.executable, "-c", REOPEN, str(blend), str(mix)], cwd=cwd, capture_output=True,
                       text=True, timeout=120, env={**os.environ, "PWD": str(cwd)})
    assert r.returncode == 0, r.stderr[-3000:]
    import json

    return json.loads(r.stdout.strip().splitlines()[-1])


def heard(mix):
    import soundfile as sf

    x, rate = sf.read(mix, dtype="float64", always_2d=True)
    return x.mean(axis=1), rate


@pytest.fixture(scope="module")
def rendered(music_dir, tmp_path_factory):
    """`choreo generate` run from one folder with a relative song path and relative
    outputs: 1 s of dance from 10 s into a shared song, rendered."""
    root = tmp_path_factory.mktemp("rendered")
    (root / "work").mkdir()
    song = music_dir / "mma02_hiphop.ogg"
    rel = os.path.relpath(song, root / "work")
    r = subprocess.run([sys.executable, "-m", "choreo", "generate", rel, "-o", "gen/x.blend", "--render",
                        "gen/x.mp4", "--start", "10", "--end", "11"], cwd=root / "work",
                       capture_output=True, text=True, timeout=300)
    return root, song, r


def test_generate_render_prints_only_choreos_lines(rendered):
    """Blender's own chatter (save notes, EGL errors, per-frame lines) stays out of
    the user's output; failed before: `Info: Saved copy as …` and `EGL Error` lines."""
    root, _, r = rendered
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout.splitlines()
    assert out[:2] == ["wrote gen/x.blend", "wrote gen/x.mp4"] and out[2].startswith("dance 1.0 s from 10.0 s")
    assert len(out) == 3, out
    assert all(line.startswith("generate: ") for line in r.stderr.splitlines()), r.stderr  # progress only
    for noise in BLENDER_NOISE:
        assert noise not in r.stdout + r.stderr, noise
    assert sorted(os.listdir(root / "work" / "gen")) == ["x.blend", "x.mp4"]


def test_mp4_plays_the_songs_part_under_the_dance(rendered):
    """The MP4's audio (decoded by Blender's aud) is the song from 10 s, within one frame."""
    import aud

    root, song, r = rendered
    assert r.returncode == 0, r.stderr[-3000:]
    x = aud.Sound(str(root / "work" / "gen" / "x.mp4"))
    rate = int(x.specs[0])
    lag, corr = song_lag(x.data().mean(axis=1), rate, song, 10.0)
    assert abs(lag) < 1 / 30 and corr > 0.7, (lag, corr)
    _, elsewhere = song_lag(x.data().mean(axis=1), rate, song, 9.0)
    assert elsewhere < 0.5, elsewhere  # the song 1 s earlier does not match: the check can fail


def test_blend_from_relative_paths_reopens_elsewhere(rendered):
    """Song and outputs given relative to one folder; the .blend opened by a fresh
    process in another folder finds, decodes and plays the song's part (mixdown)."""
    root, song, r = rendered
    assert r.returncode == 0, r.stderr[-3000:]
    (root / "elsewhere").mkdir()
    got = reopen(os.path.join("..", "work", "gen", "x.blend"), "mix.wav", root / "elsewhere")
    assert got["exists"] and os.path.samefile(got["path"], song) and got["decoded"] > 0
    assert got["fps"] == [30, 1.0] and got["frame_end"] == 30
    lag, corr = song_lag(*heard(root / "elsewhere" / "mix.wav"), song, 10.0)
    assert abs(lag) < 1 / 30 and corr > 0.7, (lag, corr)


def two_armature_blend(path):
    from choreo.rigs.testrigs import build_mixamo_rig

    bpy.ops.wm.read_factory_settings(use_empty=True)
    build_mixamo_rig(name="Alpha")
    build_mixamo_rig("mixamorig1:", name="Beta").location.x = 2.0
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    return path


def test_pack_audio_armature_and_fps_options(music_dir, tmp_path):
    """`--pack-audio --rig two.blend --armature Beta --fps 23.976`: the .blend plays the
    song's part after the song file is deleted, Beta dances, the scene runs at 24/1.001.
    Failed before: the options did not exist."""
    import shutil

    song = tmp_path / "copy.ogg"
    shutil.copy(music_dir / "mma05_ska.ogg", song)
    rig = two_armature_blend(tmp_path / "two.blend")
    r = subprocess.run([sys.executable, "-m", "choreo", "generate", str(song), "-o", str(tmp_path / "p.blend"),
                        "--start", "20", "--end", "22", "--pack-audio", "--rig", str(rig), "--armature", "Beta",
                        "--fps", "23.976"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    song.unlink()
    got = reopen(tmp_path / "p.blend", tmp_path / "mix.wav", tmp_path)
    assert got["packed"] and not got["exists"]
    assert got["fps"] == [24, pytest.approx(1.001)] and got["animated"] == ["Beta"]
    assert got["frame_end"] == round(2 * 24 / 1.001)
    # At 23.976 fps the strip starts on the frame nearest 20 s (20.020 s, frame 1) and
    # the dance is keyed 0.48 frame earlier, so frame 1 is dance time 0.020 s.
    rate = 24 / 1.001
    lag, corr = song_lag(*heard(tmp_path / "mix.wav"), music_dir / "mma05_ska.ogg", round(20 * rate) / rate)
    assert abs(lag) < 1 / 30 and corr > 0.7, (lag, corr)


def test_rig_file_with_several_armatures_asks_which(mocap_dir, song, tmp_path):
    """Several armatures: an error naming them (failed before: the first was taken
    silently); --armature picks one; an unknown name lists those there."""
    from choreo.rigs.scene import write_dance_blend

    rig = two_armature_blend(tmp_path / "two.blend")
    dance = bvh_dance(mocap_dir, song, seconds=1.0)
    with pytest.raises(ChoreoInputError, match=r"two.blend: holds 2 armatures \(Alpha, Beta\); "
                                               r"choose one with --armature NAME"):
        write_dance_blend(dance, tmp_path / "x.blend", rig_path=rig)
    with pytest.raises(ChoreoInputError, match=r"has no armature named 'Gamma'; its armatures: Alpha, Beta"):
        write_dance_blend(dance, tmp_path / "x.blend", rig_path=rig, armature="Gamma")
    assert not (tmp_path / "x.blend").exists()
    rep = write_dance_blend(dance, tmp_path / "x.blend", rig_path=rig, armature="Beta", key_mode="dense")
    assert rep["armature"] == "Beta" and rep["apply"]["bone_map"] == "mixamo"
    assert [o.name for o in bpy.context.scene.objects if o.type == "ARMATURE"] == ["Beta"]


def fbx_rig_from_24fps_scene(path):
    from choreo.rigs.testrigs import build_mixamo_rig

    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.context.scene.render.fps, bpy.context.scene.render.fps_base = 24, 1.0
    build_mixamo_rig(name="Mixer")
    bpy.ops.export_scene.fbx(filepath=str(path))
    return path


@pytest.mark.parametrize("fps, want, rig", [(None, (30, 1.0), "fbx24"), (24, (24, 1.0), None),
                                            ("24000/1001", (24, 1.001), None), (25, (25, 1.0), "fbx24"),
                                            (60, (60, 1.0), "fbx24")])
def test_scene_runs_at_the_chosen_fps_whatever_the_rig(mocap_dir, song, tmp_path, fps, want, rig):
    """Scene rate as chosen (default 30), never the FBX rig's 24 (failed before: an FBX
    from a 24-fps scene left the scene at 24 while frame_end was a 30-fps count);
    frame_end, the strip's last frame and the last key agree, beats on their frames."""
    from choreo.rigs import strips
    from choreo.rigs.scene import write_dance_blend

    rig_path = fbx_rig_from_24fps_scene(tmp_path / "rig24.fbx") if rig else None
    dance = bvh_dance(mocap_dir, song, seconds=4.0, audio_start=2.0)
    rep = write_dance_blend(dance, tmp_path / "f.blend", rig_path=rig_path, **({} if fps is None else {"fps": fps}))
    sc = bpy.context.scene
    rate = want[0] / want[1]
    assert (sc.render.fps, sc.render.fps_base) == (want[0], pytest.approx(want[1])) and rep["fps"] == rate
    n = round(4.0 * rate)
    assert (sc.frame_start, sc.frame_end) == (1, n)
    (strip,) = list(sc.sequence_editor.strips_all)
    assert strips.left_handle(strip) == 1 and strips.right_handle(strip) - 1 == sc.frame_end
    # The strip starts on a whole frame; dance time 0 is keyed where song second 2.0 plays.
    assert strips.content_start(strip) == 1 - round(2.0 * rate) and strip.sound_offset == 0
    assert rep["apply"]["frame_start"] == pytest.approx(1 - round(2.0 * rate) + 2.0 * rate, abs=1e-4)
    last_key = bpy.data.objects[rep["armature"]].animation_data.action.frame_range[1]
    assert abs(last_key - sc.frame_end) <= 1
    beats = sorted(m.frame for m in sc.timeline_markers if m.name.startswith("choreo:"))
    assert len(dance.beats) >= 4  # each beat on the frame nearest it (either one on a tie)
    f0 = rep["apply"]["frame_start"]
    assert all(min(abs(m - (f0 + t * rate)) for m in beats) <= 0.5 for t in dance.beats), beats


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("sig, code", [("SIGINT", 130), ("SIGTERM", 143)])
def test_interrupt_stops_the_render_and_leaves_no_trace(gridded_song, tmp_path, sig, code):
    """SIGINT/SIGTERM while `--render` renders: exit 130/143 within 2 s with one line,
    no partial files, the earlier x.mp4 untouched, no render process left. Failed
    before: SIGINT printed a traceback, rendered on and exited 0; SIGTERM left a .part.mp4."""
    import signal
    import time

    sys.path.insert(0, os.path.dirname(__file__))
    from test_addon import tiny_weights

    w = tiny_weights(tmp_path / "w.safetensors")
    (tmp_path / "x.mp4").write_bytes(b"an earlier movie")
    p = subprocess.Popen([sys.executable, "-m", "choreo", "generate", str(gridded_song[0]), "-o", "x.blend",
                          "--render", "x.mp4", "--weights", w], cwd=tmp_path, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env={**os.environ, "CHOREO_PROGRESS_INTERVAL": "0"},
                         # SIGINT at its default: a test runner started in the background may ignore it
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        seen = []
        for line in p.stderr:  # progress lines: wait until frames are being rendered
            seen.append(line)
            if "render frame 2/" in line:
                break
        assert p.poll() is None, "".join(seen)[-3000:]
        t0 = time.perf_counter()
        p.send_signal(getattr(signal, sig))
        out, err = p.communicate(timeout=60)
        took = time.perf_counter() - t0
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == code and took < 2.0, (p.returncode, took, err[-3000:])
    assert err.strip().splitlines()[-1] == "choreo: interrupted" and "Traceback" not in err and not out
    assert sorted(os.listdir(tmp_path)) == ["w.safetensors", "x.mp4"]
    assert (tmp_path / "x.mp4").read_bytes() == b"an earlier movie"
    if os.path.isdir("/proc"):
        left = []
        for pid in os.listdir("/proc"):
            try:
                cmd = open(f"/proc/{pid}/cmdline", "rb").read().decode("utf-8", "replace")
            except OSError:
                continue
            if str(tmp_path) in cmd and "render_job" in cmd:
                left.append(cmd)
        assert not left, left
