"""Phrases of a keyed dance danced again: **Mirror Range** and **Repeat Section**.

Both read the dance the armature plays now (its action's curves as Blender
evaluates them: the animator's edits included), optionally mirror it
(:mod:`.mirror`), and key it over a range with the keys writer's range path
(:mod:`.ranges`): the kept dance outside, both seams joined, the previous
action on a muted NLA track, all or nothing. A section is repeated beat for
beat: the k-th beat of the copy lands on the k-th beat of the target section,
so a repeat at a slightly different tempo still dances on its beats.
"""

from __future__ import annotations

import re
from dataclasses import replace

import bpy
import numpy as np

from ..core import skeleton as sk
from ..core.errors import ChoreoInputError
from . import actions as act_utils
from . import fcurve_eval
from .animation import RigAnimation
from .keys import _channels, write_action_undoable
from .markers import PREFIX
from .mirror import mirror_channels
from .retarget import rig_skeleton

_SECTION = re.compile(r"^" + re.escape(PREFIX) + r"section (\S+)")


def rig_dance(arm_obj, bone_map) -> RigAnimation:
    """The channels Choreo keys on ``arm_obj`` (the mapped bones' quaternions and the
    root's location), with no samples yet."""
    jmap = dict(bone_map.joint_to_bone)
    mapped = [j for j in sk.JOINT_NAMES if j in jmap]
    if "pelvis" not in mapped:
        raise ChoreoInputError(arm_obj.name, "has no bone mapped to the pelvis")
    bones = [jmap[j] for j in mapped]
    skel = rig_skeleton(arm_obj, bones)
    empty = np.zeros((0, len(bones), 4))
    return RigAnimation(armature=arm_obj.name, bone_names=bones, rotations=empty, root_bone=jmap["pelvis"],
                        root_location=np.zeros((0, 3)), fps=1.0, skeleton=skel, joint_names=mapped,
                        joint_bones=bones, target_positions=np.zeros((0, len(mapped), 3)),
                        joint_at_tail=[False] * len(mapped))


def played(arm_obj, anim: RigAnimation, frames) -> tuple[np.ndarray, np.ndarray]:
    """``(rot (F, B, 4) unit, loc (F, 3))`` the armature's action plays at ``frames``
    (scene frames, may be fractional); channels without a curve are at rest."""
    cb = act_utils.assigned_channelbag(arm_obj)
    if cb is None:
        raise ChoreoInputError(arm_obj.name, "has no dance to read: generate one first")
    curves = {(fc.data_path, fc.array_index): fc for fc in cb.fcurves}
    frames = np.asarray(frames, np.float64)
    channels = _channels(anim)
    out = np.empty((len(frames), len(channels)))
    rest = [1.0, 0.0, 0.0, 0.0]
    for c, (path, i, _) in enumerate(channels):
        fc = curves.get((path, i))
        out[:, c] = fcurve_eval.evaluate([fc], frames)[:, 0] if fc is not None else (
            rest[i] if path.endswith("rotation_quaternion") else 0.0)
    B = len(anim.bone_names)
    rot = out[:, :4 * B].reshape(len(frames), B, 4)
    rot /= np.maximum(np.linalg.norm(rot, axis=-1, keepdims=True), 1e-12)
    return rot, out[:, 4 * B:]


def dance_frames(arm_obj) -> tuple[int, int]:
    """First and last keyed frame of the armature's dance."""
    ad = arm_obj.animation_data
    if ad is None or ad.action is None:
        raise ChoreoInputError(arm_obj.name, "has no dance yet: press Generate Dance first")
    lo, hi = ad.action.frame_range
    return int(np.ceil(lo - 1e-6)), int(np.floor(hi + 1e-6))


def beat_frames(scene) -> np.ndarray:
    """Sorted frames of Choreo's beat, bar and section markers (every one is on a beat)."""
    return np.array(sorted({m.frame for m in scene.timeline_markers if m.name.startswith(PREFIX)}), np.float64)


def sections(scene, last_frame: int) -> list[tuple[int, int, str]]:
    """(first frame, last frame, label) of the sections Choreo marked on the timeline."""
    marks = sorted((m.frame, _SECTION.match(m.name).group(1)) for m in scene.timeline_markers
                   if _SECTION.match(m.name))
    return [(f, (marks[i + 1][0] - 1 if i + 1 < len(marks) else last_frame), label)
            for i, (f, label) in enumerate(marks)]


def beat_map(src: tuple[int, int], dst: tuple[int, int], beats: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """Source frames (float) for the frames of ``dst`` = (first, last), beat for beat: the
    k-th beat from ``dst``'s start plays the k-th beat from ``src``'s start; the copy is as
    long as the shorter of the two. Returns (source frames, the dst range covered)."""
    sb = beats[(beats >= src[0]) & (beats <= src[1])]
    db = beats[(beats >= dst[0]) & (beats <= dst[1])]
    sb = np.concatenate([[src[0]], sb[sb > src[0]], [src[1] + 1]])
    db = np.concatenate([[dst[0]], db[db > dst[0]], [dst[1] + 1]])
    n = min(len(sb), len(db))
    if n < 2:
        raise ChoreoInputError("Repeat Section", f"frames {src[0]}–{src[1]} hold no beat to copy")
    sb, db = sb[:n], db[:n]
    last = int(min(dst[1], db[-1] - 1))
    frames = np.arange(dst[0], last + 1, dtype=np.float64)
    return np.interp(frames, db, sb), (dst[0], last)


def rewrite(arm_obj, bone_map, scene_fps: float, jobs, *, mirror: bool, beats=None, mode: str = "beats",
            tolerance_m: float = 0.02):
    """Key each job's phrase over its range: ``jobs`` = [(source frames (F,), (f0, f1))]
    with ``f1 - f0 + 1 == F``; ``mirror`` mirrors every phrase. One new action holds the
    result (the previous one goes to a muted NLA track); any failure undoes every write.
    Returns the last :class:`~.keys.KeyReport`."""
    anim = rig_dance(arm_obj, bone_map)
    phrases = []
    for src, (f0, f1) in jobs:
        rot, loc = played(arm_obj, anim, src)
        if mirror:
            rot, loc = mirror_channels(anim, rot, loc)
        phrases.append((rot, loc, f0, f1))
    beats = np.zeros(0) if beats is None else np.asarray(beats, np.float64)
    swaps, report = [], None
    try:
        for rot, loc, f0, f1 in phrases:
            if f1 - f0 + 1 != len(rot):
                raise ChoreoInputError("range", f"{f0}–{f1} is {f1 - f0 + 1} frames, the phrase {len(rot)}")
            phrase = replace(anim, rotations=rot, root_location=loc, fps=float(scene_fps),
                             target_positions=np.zeros((len(rot), len(anim.joint_names), 3)))
            report, swap = write_action_undoable(arm_obj, phrase, scene_fps=scene_fps, frame_start=f0,
                                                 beat_times=(beats - f0) / scene_fps, mode=mode,
                                                 tolerance_m=tolerance_m, frame_range=(f0, f1), follow_keys=False)
            swaps.append(swap)
    except BaseException:
        for s in reversed(swaps):
            s.undo()
        raise
    _drop_intermediates(arm_obj, swaps)
    return report


def _drop_intermediates(arm_obj, swaps) -> None:
    """After several writes only the first's previous action (the user's) stays on an NLA
    track; the in-between actions are removed."""
    ad = arm_obj.animation_data
    for s in swaps[1:]:
        if s.track_name and s.track_name in ad.nla_tracks:
            ad.nla_tracks.remove(ad.nla_tracks[s.track_name])
        if s.previous is not None and s.previous.name in bpy.data.actions:
            bpy.data.actions.remove(s.previous)
