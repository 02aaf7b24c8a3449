"""Regenerating part of a keyed dance: what is kept, what is joined, what is posed.

For **Regenerate Range** / **Fill Between Keys**, before any key is written,
:func:`prepare_range` reads the action the armature plays now and decides, per
channel (each mapped bone's quaternion, the root bone's location):

* **kept**: keys outside the range, and whole curves of channels Choreo does not
  write or that the animator **locked** (bit-identical copies);
* **joined**: the new stretch continues the kept dance at both seams (:mod:`.seams`);
* **posed**: the animator's keys inside the range (keys Choreo did not write, or
  changed since: :mod:`.keyrecord`) are poses the new stretch passes through
  (:mod:`.edits`); those keys stay the animator's, so a later regeneration
  follows them again.

Impossible requests are refused with one line before anything changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import bpy
import numpy as np

from ..core.errors import ChoreoInputError
from . import actions as act_utils
from . import bonegroups, fcurve_eval
from .animation import RigAnimation
from .edits import pass_through
from .keyrecord import animator_keys, read_record
from .seams import join_range

#: The seams' fade and a pose's reach, in beats (one second when there are no beats).
REACH_BEATS = 2.0


@dataclass
class RangeEdit:
    """What :func:`prepare_range` decided (channel order: :func:`~.keys._channels`)."""

    rot: np.ndarray                      # (F, B, 4) the range's rotations: joined, posed, locked
    loc: np.ndarray                      # (F, 3) the root's location
    outside: list                        # per channel: its kept keys outside the range, or None
    copy_whole: list                     # old F-curves copied whole (unwritten channels)
    locked: np.ndarray                   # (C,) bool: channel kept whole from the old action
    old_curves: list                     # per channel: the old F-curve or None
    posed_frames: np.ndarray             # range indices holding the animator's poses (keyed exactly)
    animator: list = field(default_factory=list)  # per channel: frames of the animator's keys after the write
    poses: int = 0                       # posed (bone or location, frame) pairs


def _eval(fcs, frames) -> np.ndarray:
    return fcurve_eval.evaluate(fcs, np.asarray(frames, np.float64))


def beat_window(frames: np.ndarray, beat_times, frame_start: float, scene_fps: float, beats: float) -> int:
    """``beats`` beats in frames (the median beat gap; one second per beat without beats),
    at least 4 frames and at most a third of the range."""
    b = frame_start + np.asarray([] if beat_times is None else beat_times, np.float64) * scene_fps
    gap = float(np.median(np.diff(b))) if len(b) > 1 else scene_fps
    return int(max(4, min(round(beats * gap), len(frames) // 3)))


def prepare_range(arm_obj, anim: RigAnimation, channels, frames: np.ndarray, rot: np.ndarray, loc: np.ndarray, *,
                  scene_fps: float, frame_start: float, beat_times=None, follow_keys: bool = True,
                  locked_bones=(), lock_travel: bool = False) -> RangeEdit:
    """Decide how the range ``frames`` of ``anim`` (sampled as ``rot``, ``loc``) is
    written over the armature's current action (see the module docstring).

    Raises
    ------
    ChoreoInputError
        Locks on bones the dance does not key, a lock set that leaves nothing to
        change, locked channels without keys, or the animator's keys on bones the
        armature lacks.
    """
    ad = arm_obj.animation_data
    cb = act_utils.assigned_channelbag(arm_obj)
    old = {} if cb is None else {(fc.data_path, fc.array_index): fc for fc in cb.fcurves}
    record = read_record(ad.action if ad is not None else None)
    n_bones = len(anim.bone_names)
    written = {(p, i) for p, i, _ in channels}
    copy_whole = [fc for key, fc in old.items() if key not in written]
    _check_posed_bones(arm_obj, copy_whole, record)

    unknown = sorted(set(locked_bones) - set(anim.bone_names))
    if unknown:
        raise ChoreoInputError(arm_obj.name, f"cannot lock {unknown}: the dance does not key those bones")
    locked = np.zeros(len(channels), bool)
    for b, name in enumerate(anim.bone_names):
        locked[4 * b:4 * b + 4] = name in set(locked_bones)
    locked[4 * n_bones:] = bool(lock_travel)
    if locked.all():
        raise ChoreoInputError("Locks", "every part of the dance is locked: nothing is left to regenerate")
    curves = [old.get((p, i)) for p, i, _ in channels]
    missing = [channels[c][0] for c in np.flatnonzero(locked) if curves[c] is None]
    if missing:
        raise ChoreoInputError(arm_obj.name, f"{missing[0]} is locked but has no keys to keep")

    f0, f1 = int(frames[0]), int(frames[-1])
    inside = lambda f: (f >= f0) & (f <= f1)   # noqa: E731
    mine = [np.zeros(0) if fc is None else animator_keys(fc, record) for fc in curves]
    generated = (rot, loc)   # as the new dance stands on its own: where its feet are planted
    rot = _match_sign(rot, curves, n_bones, f0 - 1)
    reach = beat_window(frames, beat_times, frame_start, scene_fps, REACH_BEATS)
    rot, loc, flip, before, after = _join_seams(rot, loc, curves, anim, arm_obj, frames, reach)

    # Locked channels play exactly what they played (also the reference
    # the keys are measured against); the poses below skip them.
    for b in range(n_bones):
        if locked[4 * b]:
            q = _eval(curves[4 * b:4 * b + 4], frames)
            rot[:, b] = q / np.linalg.norm(q, axis=-1, keepdims=True)
    if lock_travel:
        loc = _eval(curves[4 * n_bones:], frames)

    poses, posed, n_poses = {"rot": {}}, [np.zeros(0, int) for _ in channels], 0
    if follow_keys:
        poses, posed, n_poses = _animator_poses(anim, channels, curves, mine, locked, inside, f0)
    root = anim.bone_names.index(anim.root_bone)
    if n_poses:
        rot, loc = pass_through(rot, loc, poses, root, reach, pinned_start=before, pinned_end=after)
    legs_free = not any(bonegroups.bone_group(anim, b) == "legs" for b in locked_bones)
    if legs_free and (before or after or lock_travel or n_poses):
        # the hips now go where the kept dance, its seams or the animator's poses put them, not
        # where the new legs stepped: hold each foot still while the new dance plants it (:mod:`.legs`)
        from .legs import replant_legs

        rot = replant_legs(anim, rot, loc, generated, np.array(arm_obj.matrix_world)[:3, :3], scene_fps,
                           seams=(before, after))
        if n_poses:   # posed leg bones back on their poses (the others' offsets are now zero)
            rot, loc = pass_through(rot, loc, poses, root, reach, pinned_start=before, pinned_end=after)

    outside, animator = [], []
    for c, fc in enumerate(curves):
        keep = mine[c][~inside(mine[c])] if not locked[c] else mine[c]
        animator.append(np.union1d(keep, posed[c]))
        if fc is None or locked[c]:
            outside.append(None)
            continue
        keys = act_utils.read_keys(fc)
        o = {k: v[~inside(keys["co"][:, 0])] for k, v in keys.items()}
        b = c // 4
        if c < 4 * n_bones and flip[b]:
            # a kept quaternion after the range whose sign is opposite to the range's end would make
            # the curve swing through zero between them: the same rotation, signs flipped
            later = o["co"][:, 0] > f1
            for name in ("co", "handle_left", "handle_right"):
                o[name][later, 1] *= -1
        outside.append(o)
    posed_frames = np.unique(np.concatenate([p for p in posed] + [np.zeros(0, int)])).astype(int) - f0
    return RangeEdit(rot=rot, loc=loc, outside=outside, copy_whole=copy_whole, locked=locked, old_curves=curves,
                     posed_frames=posed_frames, animator=animator, poses=n_poses)


def _animator_poses(anim: RigAnimation, channels, curves, mine, locked, inside, f0: int):
    """``(poses for :func:`~.edits.pass_through`, per channel the posed frames, count)``: the
    animator's poses inside the range — every channel of a bone (or the location) as the
    current action plays it on the frames where any of them has the animator's key. A posed
    bone is posed where the animator sees it: its ancestors (and the root's location) hold,
    on that frame, what they played there too. Locked bones are not posed (they are kept)."""
    n_bones = len(anim.bone_names)
    poses: dict = {"rot": {}}
    posed = [np.zeros(0, int) for _ in channels]
    n_poses = 0
    groups = [(b, slice(4 * b, 4 * b + 4)) for b in range(n_bones)] + [(None, slice(4 * n_bones, 4 * n_bones + 3))]
    keyed = {b: _posed_at(mine, sl, inside) for b, sl in groups}
    for b in list(keyed):
        if b is not None and len(keyed[b]):
            for a in _ancestors(anim, b):
                keyed[a] = np.union1d(keyed[a], keyed[b])
            keyed[None] = np.union1d(keyed[None], keyed[b])
    for b, sl in groups:
        at = keyed[b].astype(int)
        if not len(at) or locked[sl].any() or any(curves[c] is None for c in range(sl.start, sl.stop)):
            continue
        values = _eval(curves[sl], at)
        for c in range(sl.start, sl.stop):
            posed[c] = at
        n_poses += len(at)
        if b is None:
            poses["loc"] = (at - f0, values)
        else:
            poses["rot"][b] = (at - f0, values)
    return poses, posed, n_poses


def _posed_at(mine, sl: slice, inside) -> np.ndarray:
    """Whole frames inside the range where any channel of ``sl`` has the animator's key."""
    at = np.concatenate([mine[c] for c in range(sl.start, sl.stop)])
    return np.unique(np.round(at[inside(at)]))


def _ancestors(anim: RigAnimation, b: int) -> list[int]:
    """Indices (into ``anim.bone_names``) of bone ``b``'s keyed ancestors."""
    skel, names = anim.skeleton, anim.bone_names
    out, i = [], int(skel.parents[skel.index(names[b])])
    while i >= 0:
        if skel.names[i] in names:
            out.append(names.index(skel.names[i]))
        i = int(skel.parents[i])
    return out


def _check_posed_bones(arm_obj, unwritten, record) -> None:
    """The animator's keys on a bone the armature lacks (renamed or deleted since) can't be
    followed: say which, rather than ignore them."""
    for fc in unwritten:
        path = fc.data_path
        if not path.startswith('pose.bones["'):
            continue
        name = path[len('pose.bones["'):path.index('"]')] if '"]' in path else ""
        if name and name.replace('\\"', '"') not in arm_obj.pose.bones and len(animator_keys(fc, record)):
            raise ChoreoInputError(arm_obj.name, f"has keys on a bone it lacks ({name!r}: renamed or deleted?); "
                                                 "delete those F-curves or restore the bone")


def _join_seams(rot, loc, curves, anim: RigAnimation, arm_obj, frames: np.ndarray, window: int):
    """``(rot, loc, flip, joined_before, joined_after)``: the range's channels joined onto
    the kept curves at both seams (:mod:`.seams`; the kept curves' two frames either side
    read back as Blender plays them; a seam at the kept dance's own first or last frame has
    nothing to join), and the bones whose kept quaternions after the range have the opposite sign."""
    n_bones = len(anim.bone_names)
    none = np.zeros(n_bones, bool)
    if any(fc is None for fc in curves):
        return rot, loc, none, False, False
    first = min(float(fc.keyframe_points[0].co[0]) for fc in curves if len(fc.keyframe_points))
    last = max(float(fc.keyframe_points[-1].co[0]) for fc in curves if len(fc.keyframe_points))

    def kept(at):
        if at[0] < first - 1e-6 or at[-1] > last + 1e-6:
            return None
        v = _eval(curves, at)
        return v[:, :4 * n_bones].reshape(len(at), n_bones, 4), v[:, 4 * n_bones:]

    f0, f1 = int(frames[0]), int(frames[-1])
    before, after = kept([f0 - 2, f0 - 1]), kept([f1 + 1, f1 + 2])
    if before is None and after is None:
        return rot, loc, none, False, False
    up_arm = np.linalg.inv(np.array(arm_obj.matrix_world)[:3, :3]) @ np.array([0.0, 0.0, 1.0])
    rest = anim.skeleton.rest[anim.skeleton.index(anim.root_bone)][:3, :3]
    up = rest.T @ (up_arm / np.linalg.norm(up_arm))
    rot, loc = join_range(rot, loc, anim.bone_names.index(anim.root_bone), up, before=before, after=after,
                          window=window)
    flip = none if after is None else np.sum(rot[-1] * after[0][0], axis=-1) < 0
    return rot, loc, flip, before is not None, after is not None


def _match_sign(rot: np.ndarray, curves, n_bones: int, frame: int) -> np.ndarray:
    """Flip each bone's new quaternions to the sign of the previous action just
    before the regenerated range, so the curves don't swing through -q."""
    rot = rot.copy()
    for b in range(n_bones):
        fcs = curves[4 * b:4 * b + 4]
        if any(fc is None for fc in fcs):
            continue
        prev = np.array([fc.evaluate(frame) for fc in fcs])
        if float(prev @ rot[0, b]) < 0:
            rot[:, b] *= -1
    return rot


def animator_key_frames(arm_obj, bones) -> np.ndarray:
    """Sorted unique frames (float) of the animator's keys (:mod:`.keyrecord`) on the
    quaternion and location channels of rig ``bones`` in the armature's current action."""
    ad = arm_obj.animation_data
    cb = act_utils.assigned_channelbag(arm_obj)
    if cb is None:
        return np.zeros(0)
    record = read_record(ad.action)
    paths = {f'pose.bones["{bpy.utils.escape_identifier(b)}"].{kind}' for b in bones
             for kind in ("rotation_quaternion", "location")}
    found = [animator_keys(fc, record) for fc in cb.fcurves if fc.data_path in paths]
    return np.unique(np.concatenate(found)) if found else np.zeros(0)

