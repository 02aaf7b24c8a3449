"""A :class:`~.animation.RigAnimation` written into Blender as editable keys.

Mode ``"beats"`` keys a full pose (every channel) on each beat's nearest frame
and on the first/last frame, then adds in-betweens only where the curves, as
Blender evaluates them (Bezier, auto-clamped handles, the F-curve's own auto
smoothing), let a joint drift more than ``tolerance_m`` from the dense motion:
first the half-beat of a bad beat interval, then the frame where the error
peaks, until every frame is within tolerance. Evaluation is honest: the keys
are written and read back with ``fcurve.evaluate(frame)`` at every frame, and
the error is the forward-kinematics distance of every mapped joint (hands and
feet included). Mode ``"poses"`` (Key Poses) keys the beats and only the
half-beats the motion needs, with handles eased from the motion's own velocity
(:mod:`.keyposes`). Mode ``"dense"`` keys every frame.

Beat keys are ``KEYFRAME``, in-betweens ``BREAKDOWN`` (distinct in the Dope
Sheet). Scene frame of motion time ``t`` is ``frame_start + t * scene_fps``;
keys sit on integer frames and take the motion at that exact time (slerp for
rotations, linear for the root location), so 23.976 fps scenes work.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import bpy
import numpy as np

from ..core.errors import ChoreoInputError
from ..core.rotations import continuous_quats, slerp
from . import actions as act_utils
from . import fcurve_eval
from .animation import RigAnimation
from .bonegroups import group_errors, joint_groups
from .keyposes import Handles, ease_handles, key_poses

MAX_ROUNDS = 40          # after this, still-bad intervals are keyed on every frame
_BEZIER = act_utils.enum_value("interpolation", "BEZIER")
_AUTO_CLAMPED = act_utils.enum_value("handle_left_type", "AUTO_CLAMPED")
_ALIGNED = act_utils.enum_value("handle_left_type", "ALIGNED")   # "poses": set handles, kept aligned
_KEYFRAME = act_utils.enum_value("type", "KEYFRAME")
_BREAKDOWN = act_utils.enum_value("type", "BREAKDOWN")
# Blender's defaults for new keys' easing parameters (used when merging with kept keys).
_DEFAULTS = {"easing": act_utils.enum_value("easing", "AUTO"), "back": 1.70158, "amplitude": 0.8, "period": 4.1}


@dataclass
class KeyReport:
    """What :func:`write_action` wrote.

    ``keys``: keyed frames (poses; each keys all ``channels``);
    ``keys_per_second``: keyed frames per second of dance; ``max_error_m`` /
    ``mean_error_m``: joint distance between the evaluated curves and the dense
    motion over every frame written; ``frames``: first and last keyed frame.
    """

    action_name: str
    keys: int
    keys_per_second: float
    max_error_m: float
    mean_error_m: float
    frames: tuple[int, int]
    channels: int = 0
    rounds: int = 0
    write_seconds: float = 0.0
    poses: int = 0                 # the animator's (bone, frame) poses passed through
    pose_error_m: float = 0.0      # joint error on those frames
    # max / mean joint error (m) per bone group (:data:`.bonegroups.BONE_GROUPS`; "root": the pelvis)
    group_max_error_m: dict = field(default_factory=dict)
    group_mean_error_m: dict = field(default_factory=dict)


# -- sampling ------------------------------------------------------------------------

def sample_at(anim: RigAnimation, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotations (F, B, 4) and root location (F, 3) at ``times`` (s, within
    the animation), interpolated between its samples."""
    q = continuous_quats(anim.rotations)
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    loc = np.asarray(anim.root_location, np.float64)
    T = len(q)
    s = np.clip(np.asarray(times, np.float64) * anim.fps, 0.0, T - 1)
    if T == 1:
        return np.repeat(q, len(s), 0), np.repeat(loc, len(s), 0)
    i0 = np.minimum(np.floor(s).astype(int), T - 2)
    w = s - i0
    rot = slerp(q[i0], q[i0 + 1], np.broadcast_to(w[:, None], (len(s), q.shape[1])))
    root = loc[i0] * (1 - w)[:, None] + loc[i0 + 1] * w[:, None]
    return rot, root


# -- key placement -------------------------------------------------------------------

def _nearest(frames: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Indices into sorted ``frames`` of the frames nearest ``targets`` that lie within them."""
    targets = np.asarray(targets, np.float64)
    targets = targets[(targets >= frames[0] - 0.5) & (targets <= frames[-1] + 0.5)]
    return np.unique(np.clip(np.round(targets - frames[0]).astype(int), 0, len(frames) - 1))


def _bad_intervals(keys: np.ndarray, err: np.ndarray, tol: float) -> list[tuple[int, int]]:
    """Consecutive key pairs (a, b) with a frame strictly between them over ``tol``."""
    if len(keys) < 2:
        return []
    over = np.flatnonzero(err > tol)
    if not len(over):
        return []
    slot = np.searchsorted(keys, over, side="right") - 1   # interval each bad frame lies in
    out = []
    for i in np.unique(slot[(slot >= 0) & (slot < len(keys) - 1)]):
        a, b = int(keys[i]), int(keys[i + 1])
        if b - a > 1:
            out.append((a, b))
    return out


# -- writing -------------------------------------------------------------------------

def _channels(anim: RigAnimation) -> list[tuple[str, int, str]]:
    """(data_path, index, group) of every channel, quaternions then root location."""
    out = []
    for name in anim.bone_names:
        path = f'pose.bones["{bpy.utils.escape_identifier(name)}"]'
        out += [(f"{path}.rotation_quaternion", i, name) for i in range(4)]
    root = f'pose.bones["{bpy.utils.escape_identifier(anim.root_bone)}"]'
    out += [(f"{root}.location", i, anim.root_bone) for i in range(3)]
    return out


def _channel_values(rot: np.ndarray, loc: np.ndarray) -> np.ndarray:
    """(F, C) values in :func:`_channels` order."""
    return np.concatenate([rot.reshape(len(rot), -1), loc], axis=1)


def _set_keys(fcs, frames: np.ndarray, values: np.ndarray, types: np.ndarray, outside,
              handles: Handles | None = None) -> None:
    """Write keys at ``frames`` (n,) with ``values`` (n, C) into every F-curve,
    merged with the kept ``outside`` keys per curve (or None); ``handles`` (one
    column per curve) are set as given (``ALIGNED``), else auto-clamped."""
    n = len(frames)
    kind = _AUTO_CLAMPED if handles is None else _ALIGNED
    for c, fc in enumerate(fcs):
        keys = {
            "co": np.stack([frames, values[:, c]], 1),
            "interpolation": np.full(n, _BEZIER, np.int32),
            "handle_left_type": np.full(n, kind, np.int32),
            "handle_right_type": np.full(n, kind, np.int32),
            "type": types,
        }
        if handles is not None:
            keys["handle_left"], keys["handle_right"] = handles.channel(c)
        if outside is not None and outside[c] is not None:
            old = outside[c]
            new = {k: keys.get(k, np.full((n,) + old[k].shape[1:], _DEFAULTS.get(k, 0), old[k].dtype))
                   for k in old}
            new["handle_left"] = keys.get("handle_left", keys["co"])    # else recomputed: auto-clamped
            new["handle_right"] = keys.get("handle_right", keys["co"])
            keys = {k: np.concatenate([old[k], new[k]]) for k in old}
            order = np.argsort(keys["co"][:, 0], kind="stable")
            keys = {k: v[order] for k, v in keys.items()}
        act_utils.write_keys(fc, keys)


def _evaluate(fcs, frames: np.ndarray) -> np.ndarray:
    """(F, C) values of the F-curves at ``frames``, as Blender evaluates them
    (:mod:`.fcurve_eval`: the same Bezier segments in numpy)."""
    return fcurve_eval.evaluate(fcs, frames)


def _split(values: np.ndarray, n_bones: int) -> tuple[np.ndarray, np.ndarray]:
    return values[:, :4 * n_bones].reshape(len(values), n_bones, 4), values[:, 4 * n_bones:]


def write_action(arm_obj, anim: RigAnimation, *, scene_fps: float, frame_start: float, beat_times=None,
                 mode: str = "beats", tolerance_m: float = 0.02, name: str | None = None,
                 frame_range: tuple[int, int] | None = None, follow_keys: bool = True,
                 locked_bones=(), lock_travel: bool = False) -> KeyReport:
    """Key ``anim`` on ``arm_obj`` in a new action (see the module docstring).

    Parameters
    ----------
    arm_obj : bpy.types.Object
        The armature object ``anim`` was solved for.
    anim : RigAnimation
        Rotations (and root location) at ``anim.fps``; sample k is at time k/fps.
    scene_fps : float
        ``scene.render.fps / scene.render.fps_base`` (e.g. 24000/1001).
    frame_start : float
        Scene frame of motion time 0 (may be fractional).
    beat_times : array-like or None
        Beat times (s, motion time base). None in ``"beats"`` mode starts from
        the first and last frame only.
    mode : {"beats", "poses", "dense"}
        "poses": beat poses plus needed half-beats, eased handles (:mod:`.keyposes`).
    tolerance_m : float
        Largest joint distance (m) allowed between curves and motion ("beats").
    name : str or None
        Action name (made unique); default "Choreo Dance".
    frame_range : (int, int) or None
        Regenerate only frames f0..f1: the new action keeps the previous
        action's keys outside that range, joins them at both seams and passes
        through the animator's keys inside it (:mod:`.ranges`).
    follow_keys : bool
        With ``frame_range``: the animator's keys inside the range are poses to
        pass through (False: replaced like Choreo's own keys).
    locked_bones : iterable of str
        With ``frame_range``: bones whose keys are kept as they are.
    lock_travel : bool
        With ``frame_range``: the root bone's location keys are kept as they are.

    Returns
    -------
    KeyReport

    Notes
    -----
    The previous action stays in the file: on a muted NLA track "Choreo
    previous" with a fake user. On any failure the object is left as it was.
    """
    report, _swap = write_action_undoable(arm_obj, anim, scene_fps=scene_fps, frame_start=frame_start,
                                         beat_times=beat_times, mode=mode, tolerance_m=tolerance_m,
                                         name=name, frame_range=frame_range, follow_keys=follow_keys,
                                         locked_bones=locked_bones, lock_travel=lock_travel)
    return report


def write_action_undoable(arm_obj, anim: RigAnimation, *, scene_fps: float, frame_start: float, beat_times=None,
                          mode: str = "beats", tolerance_m: float = 0.02, name: str | None = None,
                          frame_range: tuple[int, int] | None = None, follow_keys: bool = True,
                          locked_bones=(), lock_travel: bool = False):
    """:func:`write_action`, also returning the :class:`~.actions.ActionSwap`
    whose ``undo()`` reverts everything it did (for :func:`~.apply.apply_dance`)."""
    if mode not in ("beats", "poses", "dense"):
        raise ChoreoInputError("key mode", f"must be 'beats', 'poses' or 'dense', got {mode!r}")
    if getattr(arm_obj, "type", None) != 'ARMATURE':
        raise ChoreoInputError(getattr(arm_obj, "name", str(arm_obj)), "is not an armature object")
    if not scene_fps > 0:
        raise ChoreoInputError("scene fps", f"must be positive, got {scene_fps}")
    if not tolerance_m > 0:
        raise ChoreoInputError("tolerance", f"must be positive, got {tolerance_m}")
    missing = [b for b in {*anim.bone_names, anim.root_bone} if b not in arm_obj.pose.bones]
    if missing:
        raise ChoreoInputError(arm_obj.name, f"has no bones named {sorted(missing)}")

    # Integer scene frames covered by the motion, and the motion at each of them.
    end = frame_start + (anim.num_frames - 1) / anim.fps * scene_fps
    frames = np.arange(int(np.ceil(frame_start - 1e-6)), int(np.floor(end + 1e-6)) + 1)
    if frame_range is not None:
        f0, f1 = int(frame_range[0]), int(frame_range[1])
        frames = frames[(frames >= f0) & (frames <= f1)]
        if f1 < f0 or not len(frames):
            raise ChoreoInputError("frame range", f"{f0}..{f1} does not overlap the dance's frames")
    if not len(frames):
        raise ChoreoInputError("dance", "is shorter than one scene frame")
    rot, loc = sample_at(anim, (frames - frame_start) / scene_fps)
    channels = _channels(anim)

    edit = None
    if frame_range is not None:   # read before the swap: the kept keys, seams, poses and locks
        from .ranges import prepare_range

        edit = prepare_range(arm_obj, anim, channels, frames, rot, loc, scene_fps=scene_fps,
                             frame_start=frame_start, beat_times=beat_times, follow_keys=follow_keys,
                             locked_bones=locked_bones, lock_travel=lock_travel)
        rot, loc = edit.rot, edit.loc
    swap, cb = act_utils.swap_in_new_action(arm_obj, name or "Choreo Dance")
    write_time = [0.0]
    try:
        modes = {b: arm_obj.pose.bones[b].rotation_mode for b in anim.bone_names}
        swap.extra.append(lambda: [setattr(arm_obj.pose.bones[b], "rotation_mode", m) for b, m in modes.items()])
        for b in anim.bone_names:   # quaternion keys only drive quaternion-mode bones
            arm_obj.pose.bones[b].rotation_mode = 'QUATERNION'
        outside, open_c = None, np.arange(len(channels))
        if edit is not None:
            for fc in edit.copy_whole:   # channels this write doesn't touch: copied whole
                act_utils.copy_fcurve(fc, cb)
            open_c = np.flatnonzero(~edit.locked)   # locked channels: their old curves, copied below
            outside = [edit.outside[c] for c in open_c]
        fcs = [act_utils.copy_fcurve(edit.old_curves[c], cb) if edit is not None and edit.locked[c]
               else act_utils.new_fcurve(cb, p, i, g) for c, (p, i, g) in enumerate(channels)]

        beat_idx = _nearest(frames.astype(float), frame_start + np.asarray(
            [] if beat_times is None else beat_times, np.float64) * scene_fps)
        if edit is not None:   # the animator's poses are keys, exactly where they were
            beat_idx = np.union1d(beat_idx, edit.posed_frames).astype(int)
        ref_vals = _channel_values(rot, loc)
        ref_pos = anim.joint_positions(rot, loc)
        n_bones = len(anim.bone_names)

        last: dict = {}

        def place(keys: np.ndarray) -> np.ndarray:
            types = np.where(np.isin(keys, beat_idx) | (keys == 0) | (keys == len(frames) - 1),
                             _KEYFRAME, _BREAKDOWN).astype(np.int32)
            t0 = time.perf_counter()
            hd = ease_handles(frames, keys, ref_vals).columns(open_c) if mode == "poses" else None
            _set_keys([fcs[c] for c in open_c], frames[keys].astype(np.float32), ref_vals[keys][:, open_c], types,
                      outside, hd)
            write_time[0] += time.perf_counter() - t0
            dirty = _changed_frames(last.get("keys"), keys, len(frames))
            err = last["err"].copy() if "err" in last else np.empty(ref_pos.shape[:2])
            ev_rot, ev_loc = _split(_evaluate(fcs, frames[dirty]), n_bones)
            err[dirty] = np.linalg.norm(anim.joint_positions(ev_rot, ev_loc) - ref_pos[dirty], axis=-1)
            last.update(keys=keys, err=err)
            return err   # (F, J)

        if mode == "dense":
            keys = np.arange(len(frames))
            err = place(keys)
            rounds = 1
        elif mode == "poses":   # beats, and half-beats where the motion needs them (:mod:`.keyposes`)
            keys, err, rounds = key_poses(place, len(frames), beat_idx)
        else:
            keys, err, rounds = _refine(place, len(frames), beat_idx, tolerance_m)
        _record_keys(swap.action, fcs, channels, None if edit is None else edit.animator)
    except Exception:
        swap.undo()
        raise
    per_frame = err.max(axis=1)
    group_max, group_mean = group_errors(err, joint_groups(anim))
    seconds = max(len(frames) / scene_fps, 1e-9)
    report = KeyReport(action_name=swap.action.name, keys=int(len(keys)), keys_per_second=len(keys) / seconds,
                       max_error_m=float(per_frame.max()), mean_error_m=float(err.mean()),
                       frames=(int(frames[keys[0]]), int(frames[keys[-1]])), channels=len(channels),
                       rounds=rounds, write_seconds=float(write_time[0]),
                       poses=0 if edit is None else edit.poses,
                       pose_error_m=_pose_error(edit, err),
                       group_max_error_m=group_max, group_mean_error_m=group_mean)
    return report, swap


def _record_keys(action, fcs, channels, animator) -> None:
    """Fingerprint the keys that are Choreo's (:mod:`.keyrecord`): all of them, less the
    animator's (``animator[c]``: frames of channel c's keys that stay theirs)."""
    from .keyrecord import fingerprints, store_record

    prints = []
    for c, (fc, (path, index, _)) in enumerate(zip(fcs, channels)):
        co = act_utils.read_keys(fc, ("co",))["co"]
        if animator is not None and len(animator[c]):
            co = co[~np.isin(co[:, 0].astype(np.float64), np.asarray(animator[c], np.float64))]
        prints.append(fingerprints(path, index, co))
    store_record(action, np.concatenate(prints) if prints else np.zeros(0))


def _pose_error(edit, err: np.ndarray) -> float:
    """Largest joint distance (m) on the animator's posed frames between the keyed
    curves and the posed dance (0 without poses)."""
    if edit is None or not len(edit.posed_frames):
        return 0.0
    return float(err[edit.posed_frames].max())


def _changed_frames(before: np.ndarray | None, keys: np.ndarray, n_frames: int) -> np.ndarray:
    """Frames (indices) whose curve values can differ after keys ``before`` became
    ``keys`` (a superset): an auto handle depends on the key's two neighbours, so
    a key added between a and b reshapes the segments from a's left neighbour to
    b's right neighbour; elsewhere the curves are unchanged."""
    if before is None:
        return np.arange(n_frames)
    pos = np.searchsorted(keys, np.setdiff1d(keys, before))
    lo = np.where(pos >= 2, keys[np.maximum(pos - 2, 0)], 0)
    hi = np.where(pos + 2 < len(keys), keys[np.minimum(pos + 2, len(keys) - 1)], n_frames - 1)
    mark = np.zeros(n_frames + 1, np.int64)
    np.add.at(mark, lo, 1)
    np.add.at(mark, hi + 1, -1)
    return np.nonzero(np.cumsum(mark[:-1]) > 0)[0]


def _refine(place, n_frames: int, beat_idx: np.ndarray, tol: float):
    """Beat keys, then half-beats, then error peaks, until every frame is within ``tol``."""
    keys = np.unique(np.concatenate([beat_idx, [0, n_frames - 1]])).astype(int)
    beat_set = np.unique(np.concatenate([beat_idx, [0, n_frames - 1]])).astype(int)
    half = np.unique(np.round((beat_set[1:] + beat_set[:-1]) / 2).astype(int)) if len(beat_set) > 1 else np.array([], int)
    err = place(keys)
    rounds = 1
    while True:
        frame_err = err.max(axis=1)
        bad = _bad_intervals(keys, frame_err, tol)
        if not bad:
            return keys, err, rounds
        new = []
        for a, b in bad:
            if rounds >= MAX_ROUNDS:       # give up on smart placement: key every frame
                new.extend(range(a + 1, b))
                continue
            h = half[(half > a) & (half < b)]
            if rounds == 1 and len(h):
                new.extend(h.tolist())
            else:
                new.append(a + 1 + int(np.argmax(frame_err[a + 1:b])))
        keys = np.unique(np.concatenate([keys, new])).astype(int)
        err = place(keys)
        rounds += 1
