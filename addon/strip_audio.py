"""Reading the audible part of a Video Sequencer sound strip as samples.

A strip plays part of its sound file: the file is placed at ``frame_start``
(5.2: ``content_start``), the handles trim what is heard to the scene frames
``[frame_final_start, frame_final_end)`` (5.2: ``left_handle``, ``right_handle``)
and ``sound_offset`` *delays* the file under the handles. With the scene rate
``fps = render.fps / render.fps_base`` (23.976 is 24000/1001), scene frame ``f``
plays the file's second ``(f - frame_start) / fps - sound_offset`` (measured by
mixdown on bpy 4.5.15, 5.0.1 and 5.2.3: +1 s hears the file's second 0 one second
after ``frame_start``; -0.5 s hears its second 0.5 there; the handles stay where
they are). So the audible part is ``(frame_final_start - frame_start) / fps -
sound_offset`` seconds into the file, lasting ``frame_final_duration / fps``
seconds, heard from scene frame ``frame_final_start``; where that start is before
the file's (a delay longer than the left trim) the strip is silent until the file
starts, and the part read starts there, at file second 0 (see
:func:`strip_audible_range`). Everything here runs on the main thread.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

import numpy as np

from ..core.audio.io import check_audio_file, prepare_samples
from ..core.errors import ChoreoInputError
from ..rigs import strips


@dataclass
class StripAudio:
    """The samples a sound strip plays and where they sit in the scene.

    Attributes
    ----------
    samples : np.ndarray, float32 (n,)
        Mono audio of the audible part only.
    sr : int
        Sample rate of ``samples``.
    path : str
        The sound file on disk (absolute; ``""`` for a packed sound).
    offset : float
        Seconds into the file where the audible part starts (>= 0).
    duration : float
        Seconds of the audible part.
    frame_start : float
        Scene frame where ``samples[0]`` is heard: the strip's left handle, or
        later where ``sound_offset`` delays the file's start past it.
    scene_fps : float
        ``render.fps / render.fps_base``.
    strip_name : str
    """

    samples: np.ndarray
    sr: int
    path: str
    offset: float
    duration: float
    frame_start: float
    scene_fps: float
    strip_name: str


def scene_fps(scene) -> float:
    """The scene's true frame rate (``fps / fps_base``: 24000/1001 for 23.976)."""
    return float(scene.render.fps) / float(scene.render.fps_base)


def sequencer_scene(context):
    """The scene the Video Sequencer edits (5.0: ``context.sequencer_scene``, which
    can differ from ``context.scene``; ``None`` in background mode)."""
    return getattr(context, "sequencer_scene", None) or context.scene


def active_sound_strip(context, scene=None):
    """The active (else the only selected) sound strip of the sequencer scene.

    Raises :class:`ChoreoInputError` when no strip is active or selected, or when
    it is not a sound strip.
    """
    scene = scene or sequencer_scene(context)
    ed = scene.sequence_editor if scene is not None else None
    name = scene.name if scene is not None else "scene"
    if ed is None:
        raise ChoreoInputError(name, "has no Video Sequencer strips; add a sound strip with the music")
    strip = getattr(context, "active_strip", None) or ed.active_strip
    if strip is None:
        sel = [s for s in ed.strips_all if s.select]
        sounds = [s for s in sel if s.type == "SOUND"]
        if len(sounds) == 1:
            strip = sounds[0]
        elif not sel:
            raise ChoreoInputError(name, "no strip selected; select the music's sound strip in the Sequencer")
        else:
            strip = sel[0]
    if strip.type != "SOUND":
        raise ChoreoInputError(strip.name, f"is a {strip.type.lower()} strip, not a sound strip; "
                                           "select the music's sound strip")
    return strip


def strip_audible_range(strip, fps: float) -> tuple[float, float, float]:
    """``(offset, duration, frame)``: the file part ``strip`` plays, ``offset`` and
    ``duration`` in seconds (``offset >= 0``), heard from scene frame ``frame``.

    Scene frame ``f`` plays file second ``(f - content_start) / fps - sound_offset``
    (a positive offset delays the sound; see the module doc), heard between the
    handles. ``frame`` is the left handle, or, where the delay puts the file's
    start after it, the frame where the file starts (the strip is silent before).
    ``duration`` may reach past the file's end (the decoder stops there) and is
    ``<= 0`` when nothing of the file is heard between the handles.
    """
    left, right = strips.left_handle(strip), strips.right_handle(strip)
    delay = float(getattr(strip, "sound_offset", 0.0))
    offset = (left - strips.content_start(strip)) / fps - delay
    lead = max(-offset, 0.0)  # seconds of silence at the left handle, before the file starts
    return offset + lead, (right - left) / fps - lead, left + lead * fps


def _decode(path: str, sr: int | None, offset: float, duration: float, label: str) -> tuple[np.ndarray, int]:
    """The strip's part of ``path`` as (float32 mono, rate): at ``sr``, or at the
    file's own rate when ``sr`` is None; decoded by Blender's
    own ``aud`` (what the sequencer plays, any format Blender reads; a stock
    Blender has no other decoder), then :func:`~choreo.core.audio.io.prepare_samples`
    like every decoder's output.

    ``aud`` seeks compressed files only approximately (``limit`` on an OGG is
    off by thousands of samples), so the file is decoded whole and sliced.
    """
    import aud

    try:
        # aud plays a cut-off file silently short and may abort Blender on a
        # non-audio one: the container check refuses both first, in Python.
        check_audio_file(path)
    except ChoreoInputError as exc:
        raise ChoreoInputError(label, exc.problem) from None
    try:
        snd = aud.Sound(path)
        # specs raises a Python error for a file no reader opens; data() on such
        # a sound throws a C++ exception that aborts Blender.
        rate = float(snd.specs[0])
        y = np.asarray(snd.data(), dtype=np.float32)
    except Exception as exc:  # aud's errors do not name the file
        raise ChoreoInputError(label, f"not a readable audio file ({exc})") from None
    a = int(round(max(offset, 0.0) * rate))
    y = y[a:a + int(round(duration * rate))]
    if y.size == 0:
        raise ChoreoInputError(label, "contains no audio samples in the strip's range")
    out_sr = int(round(rate)) if sr is None else int(sr)
    return prepare_samples(y, rate, out_sr, label), out_sr


def read_strip_audio(strip, scene, sr: int | None = None) -> StripAudio:
    """Decode the audible part of sound strip ``strip`` of ``scene`` (at ``sr``, or at
    the file's own rate when None: generation then resamples once, exactly as
    ``choreo generate`` does with the file).

    Handles relative paths (``//song.ogg``, also inside linked libraries), packed
    sounds (decoded from a temporary copy of ``sound.packed_file.data``), trimmed
    handles, ``sound_offset`` (a delay: see the module doc) and fractional frame rates.

    Raises
    ------
    ChoreoInputError
        A non-sound strip, a strip without a sound, a missing or unreadable file.
    """
    import bpy

    if getattr(strip, "type", None) != "SOUND":
        raise ChoreoInputError(getattr(strip, "name", "strip"), "is not a sound strip")
    sound = strip.sound
    if sound is None:
        raise ChoreoInputError(strip.name, "sound strip has no sound data-block")
    fps = scene_fps(scene)
    offset, duration, frame = strip_audible_range(strip, fps)
    if strips.right_handle(strip) <= strips.left_handle(strip):
        raise ChoreoInputError(strip.name, "sound strip is trimmed to zero length")
    if duration <= 0:
        raise ChoreoInputError(strip.name, f"sound strip's Sound Offset ({strip.sound_offset:g} s) delays the "
                                           "sound past the strip's end, so nothing of it is heard; "
                                           "lower the offset or extend the strip")
    if sound.packed_file is not None:
        ext = os.path.splitext(sound.filepath)[1] or ".wav"
        fd, tmp = tempfile.mkstemp(prefix="choreo_packed_", suffix=ext)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(bytes(sound.packed_file.data))
            y, sr = _decode(tmp, sr, offset, duration, f"{strip.name} (packed {sound.name})")
        finally:
            os.unlink(tmp)
        path = ""
    else:
        path = os.path.normpath(bpy.path.abspath(sound.filepath, library=sound.library))
        if not sound.filepath or not os.path.isfile(path):
            raise ChoreoInputError(path or strip.name, f"sound file of strip {strip.name!r} is missing")
        y, sr = _decode(path, sr, offset, duration, path)
    return StripAudio(samples=y, sr=sr, path=path, offset=float(offset), duration=float(duration),
                      frame_start=float(frame), scene_fps=fps, strip_name=strip.name)
