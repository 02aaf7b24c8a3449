"""A sound strip's *Sound Offset*, listened to: Generate on a strip with an offset,
mix the scene down with Blender, and the file second heard at the dance's first
key is the one the dance was generated from.

Blender (4.5.15, 5.0.1 and 5.2.3 alike, measured by mixdown) *delays* the sound
by a positive offset: scene frame ``f`` plays file second
``(f - content_start) / fps - sound_offset``, heard between the handles."""

from __future__ import annotations

import os
import sys
import wave

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
pytestmark = pytest.mark.blender

import choreo  # noqa: E402
from choreo.addon import operators  # noqa: E402
from choreo.rigs import strips  # noqa: E402

SR = 22050
FPS = 30


def _write_wav(path, y, sr):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((np.clip(y, -1, 1) * 32767).astype("<i2").tobytes())


def _read_wav(path):
    with wave.open(str(path), "rb") as w:
        n, ch, width, sr = w.getnframes(), w.getnchannels(), w.getsampwidth(), w.getframerate()
        raw = w.readframes(n)
    assert width == 2
    return np.frombuffer(raw, "<i2").reshape(-1, ch)[:, 0].astype(np.float64) / 32768, sr


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A 6-s song (120 BPM) with seeded noise under it, so every window of it is
    unlike every other one (a beat-periodic song alone correlates with itself a
    beat away), and tiny random weights."""
    sys.path.insert(0, os.path.dirname(__file__))
    from test_addon import tiny_weights

    from choreo.core.audio.demo import synthesize_demo

    d = tmp_path_factory.mktemp("sound_offset")
    track = synthesize_demo(tempo=120.0, bars=3, sr=SR)
    y = 0.8 * track.audio / np.abs(track.audio).max()
    y = y + 0.1 * np.random.default_rng(7).standard_normal(len(y))
    song = d / "song.wav"
    _write_wav(song, y, SR)
    return {"dir": d, "song": str(song), "samples": _read_wav(song)[0],
            "weights": tiny_weights(d / "tiny.safetensors")}


@pytest.fixture(scope="module", autouse=True)
def addon():
    choreo.register()
    yield
    choreo.unregister()


def _first_key(arm) -> float:
    from bpy_extras import anim_utils

    cb = anim_utils.action_get_channelbag_for_slot(arm.animation_data.action, arm.animation_data.action_slot)
    return float(min(k.co.x for fc in cb.fcurves for k in fc.keyframe_points))


def _heard_at(mix, ref, sr) -> tuple[float, float]:
    """``(seconds into mix, normalised correlation)`` where ``ref`` sounds in ``mix``."""
    n = len(mix) + len(ref)
    size = 1 << (n - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(mix, size) * np.conj(np.fft.rfft(ref, size)), size)[:len(mix) - len(ref) + 1]
    energy = np.concatenate([[0.0], np.cumsum(mix ** 2)])
    window = np.sqrt(np.maximum(energy[len(ref):] - energy[:-len(ref)], 1e-12))
    score = corr / (window * np.linalg.norm(ref))
    j = int(np.argmax(score))
    return j / sr, float(score[j])


@pytest.mark.parametrize("sound_offset, trim", [
    (0.5, 0),     # a delay longer than the (absent) trim: silent until the file starts at frame 26
    (-0.4, 30),   # an advance with a trimmed left handle: file second 1.4 at the handle (frame 41)
])
def test_dance_is_keyed_where_its_audio_is_heard(files, tmp_path, monkeypatch, sound_offset, trim):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    sc = bpy.context.scene
    sc.render.fps, sc.render.fps_base = FPS, 1.0
    ed = sc.sequence_editor_create()
    s = ed.strips.new_sound("Music", files["song"], channel=1, frame_start=11)
    strips.set_left_handle(s, 11 + trim)
    strips.set_right_handle(s, 11 + 150)   # 5 s of the strip
    s.sound_offset = sound_offset
    ed.active_strip = s
    sc.choreo.model, sc.choreo.weights_file = "FILE", files["weights"]

    real, made = operators.generate, []

    def generate(plan, progress=None):   # keep what the operator decoded and generated
        dance = real(plan, progress)
        made.append((plan.audio, dance))
        return dance

    monkeypatch.setattr(operators, "generate", generate)
    assert bpy.ops.choreo.generate() == {"FINISHED"}
    (audio, dance), = made
    assert dance.audio_start == pytest.approx(audio.offset)   # the dance is of the part the add-on decoded
    first_key = _first_key(sc.choreo.target)

    # Listen: mix the scene down from frame 1 and find where the dance's audio is heard.
    sc.frame_start, sc.frame_end = 1, 11 + 160
    out = tmp_path / "mix.wav"
    assert bpy.ops.sound.mixdown(filepath=str(out), container="WAV", codec="PCM", format="S16",
                                 mixrate=SR, channels="MONO") == {"FINISHED"}
    mix, sr = _read_wav(out)
    i0 = int(round(dance.audio_start * SR))
    ref = files["samples"][i0:i0 + SR // 2]   # the half second the dance starts on
    t, score = _heard_at(mix, ref, sr)
    heard_frame = 1 + t * FPS
    assert score > 0.9, (f"file second {dance.audio_start:.3f} (the dance's start) is not heard in the "
                         f"mixdown (best match {score:.2f} at frame {heard_frame:.2f})")
    assert heard_frame == pytest.approx(first_key, abs=0.5), (
        f"file second {dance.audio_start:.3f} (the dance's start) is heard at frame {heard_frame:.2f}, "
        f"but the dance's first key is at frame {first_key:.2f}")
    # ... and where the measured rule puts it: file second x at frame content_start + (x + offset) * fps
    assert audio.frame_start == pytest.approx(11 + (audio.offset + sound_offset) * FPS, abs=1e-6)
    assert audio.frame_start >= 11 + trim and first_key == pytest.approx(audio.frame_start, abs=0.5)
