"""A dance as Blender holds it: an armature's action over the scene's frames, with the music
strip's part under them (what *Render Photoreal Video* and ``choreo video render X.blend`` film).

Main thread only (it steps the scene's frames; the current frame is restored).
"""

from __future__ import annotations

import os

import numpy as np

from ..core.errors import ChoreoInputError
from ..rigs.sample import armature_motion
from .strip_audio import read_strip_audio, scene_fps


def music_strip(scene, name: str = ""):
    """The scene's music: the sound strip named ``name``, else its only unmuted sound strip, else
    the one called "Music" (Choreo's own); ``None`` when it has no sound strip. Several and none
    of them "Music" raises :class:`ChoreoInputError` listing them."""
    ed = scene.sequence_editor
    sounds = [s for s in (ed.strips_all if ed else ()) if s.type == "SOUND" and not s.mute]
    if name:
        for s in sounds:
            if s.name == name:
                return s
        raise ChoreoInputError(scene.name, f"has no unmuted sound strip named {name!r}")
    if len(sounds) <= 1:
        return sounds[0] if sounds else None
    for s in sounds:
        if s.name == "Music":
            return s
    raise ChoreoInputError(scene.name, f"has {len(sounds)} sound strips ({', '.join(sorted(s.name for s in sounds))}); "
                                       "select the music's strip")


def scene_dance(scene, arm, strip=None, progress=None):
    """``(joints, fps, song)`` of armature ``arm`` over the scene's frame range: SMPL-24 joints
    (T, 24, 3) m z-up at the scene's rate, and ``song`` = (samples, rate, start s) where
    ``start`` is the sample time under the first frame (``None`` without a ``strip``); silence
    is put before a strip that starts after the range does."""
    anim = arm.animation_data
    if anim is None or anim.action is None:
        raise ChoreoInputError(arm.name, "armature has no action: there is no dance to film")
    fps = scene_fps(scene)
    frames = range(scene.frame_start, scene.frame_end + 1)
    joints = armature_motion(scene, arm, frames, fps, progress).joints
    if strip is None:
        return joints, fps, None
    audio = read_strip_audio(strip, scene)
    start = (scene.frame_start - audio.frame_start) / fps
    y = audio.samples
    if start < 0:  # the music starts after the first frame: silence until it does
        y = np.concatenate([np.zeros(int(round(-start * audio.sr)), np.float32), y])
        start = 0.0
    return joints, fps, (y, audio.sr, start)


def read_blend_dance(path, armature: str | None = None):
    """:func:`scene_dance` of a saved .blend: its scene's armature (the only one, or the one
    named ``armature``) and music strip. Replaces the session's data (command line only)."""
    import bpy

    from ..rigs.quiet import quiet_blender
    from ..rigs.scene import pick_armature

    path = os.path.abspath(os.fspath(path))
    if not os.path.isfile(path):
        raise ChoreoInputError(path, "no such file")
    with quiet_blender():
        try:
            bpy.ops.wm.open_mainfile(filepath=path, load_ui=False)
        except RuntimeError as exc:
            raise ChoreoInputError(path, f"not a readable .blend ({str(exc).strip().splitlines()[-1]})") from None
    scene = bpy.context.scene
    arm = pick_armature(scene.objects, path, armature)
    return scene_dance(scene, arm, music_strip(scene))
