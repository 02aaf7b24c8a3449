"""A :class:`~.animation.RigAnimation` written into Blender as editable keys.

Mode ``"beats"`` keys a full pose (every channel) on each beat's nearest frame
and on the first/last frame, then adds in-betweens only where the curves, as
Blender evaluates them (Bezier, auto-clamped handles, the F-curve's own auto
smoothing), let a joint drift more than ``tolerance_m`` from the dense motion:
first the half-beat of a bad beat interval, then the frame where the error
peaks, until every frame is within tolerance. Evaluation is honest: the keys
are written and read back with ``fcurve.evaluate(frame)`` at every frame, and
the error is the forward-kinematics distance of every mapped joint (hands and
feet included). Mode ``"dense"`` keys every frame.

Beat keys are ``KEYFRAME``, in-betweens ``BREAKDOWN`` (distinct in the Dope
Sheet). Scene frame of motion time ``t`` is ``frame_start + t * scene_fps``;
keys sit on integer frames and take the motion at that exact time (slerp for
rotations, linear for the root location), so 23.976 fps scenes work.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import bpy
import numpy as np

from ..core.errors import ChoreoInputError
from ..core.rotations import continuous_quats, slerp
from . import actions as act_utils
from . import fcurve_eval
from .animation import RigAnimation

MAX_ROUNDS = 40          # after this, still-bad intervals are keyed on every frame
_BEZIER = act_utils.enum_value("interpolation", "BEZIER")
_AUTO_CLAMPED = act_utils.enum_value("handle_left_type", "AUTO_CLAMPED")
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


def _set_keys(fcs, frames: np.ndarray, values: np.ndarray, types: np.ndarray, outside) -> None:
    """Write keys at ``frames`` (n,) with ``values`` (n, C) into every F-curve,
    merged with the kept ``outside`` keys per curve (or None)."""
    n = len(frames)
    for c, fc in enumerate(fcs):
        keys = {
            "co": np.stack([frames, values[:, c]], 1),
            "interpolation": np.full(n, _BEZIER, np.int32),
            "handle_left_type": np.full(n, _AUTO_CLAMPED, np.int32),
            "handle_right_type": np.full(n, _AUTO_CLAMPED, np.int32),
            "type": types,
        }
        if outside is not None and outside[c] is not None:
            old = outside[c]
            new = {k: keys.get(k, np.full((n,) + old[k].shape[1:], _DEFAULTS.get(k, 0), old[k].dtype))
                   for k in old}
            new["handle_left"] = new["handle_right"] = keys["co"]    # recomputed: auto-clamped
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
                 frame_range: tuple[int, int] | None = None) -> KeyReport:
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
    mode : {"beats", "dense"}
    tolerance_m : float
        Largest joint distance (m) allowed between curves and motion ("beats").
    name : str or None
        Action name (made unique); default "Choreo Dance".
    frame_range : (int, int) or None
        Regenerate only frames f0..f1: the new action keeps the previous
        action's keys outside that range.

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
                                         name=name, frame_range=frame_range)
    return report


def write_action_undoable(arm_obj, anim: RigAnimation, *, scene_fps: float, frame_start: float, beat_times=None,
                          mode: str = "beats", tolerance_m: float = 0.02, name: str | None = None,
                          frame_range: tuple[int, int] | None = None):
    """:func:`write_action`, also returning the :class:`~.actions.ActionSwap`
    whose ``undo()`` reverts everything it did (for :func:`~.apply.apply_dance`)."""
    if mode not in ("beats", "dense"):
        raise ChoreoInputError("key mode", f"must be 'beats' or 'dense', got {mode!r}")
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

    old_cb = act_utils.assigned_channelbag(arm_obj) if frame_range is not None else None
    swap, cb = act_utils.swap_in_new_action(arm_obj, name or "Choreo Dance")
    write_time = [0.0]
    try:
        modes = {b: arm_obj.pose.bones[b].rotation_mode for b in anim.bone_names}
        swap.extra.append(lambda: [setattr(arm_obj.pose.bones[b], "rotation_mode", m) for b, m in modes.items()])
        for b in anim.bone_names:   # quaternion keys only drive quaternion-mode bones
            arm_obj.pose.bones[b].rotation_mode = 'QUATERNION'
        written = {(p, i) for p, i, _ in channels}
        outside = None
        if old_cb is not None:
            outside_mask = lambda f: (f < frames[0]) | (f > frames[-1])   # noqa: E731
            old = {(fc.data_path, fc.array_index): fc for fc in old_cb.fcurves}
            for key, fc in old.items():   # channels this write doesn't touch: copied whole
                if key not in written:
                    act_utils.copy_fcurve(fc, cb)
            outside = [act_utils.read_keys(old[(p, i)]) if (p, i) in old else None for p, i, _ in channels]
            outside = [None if o is None else {k: v[outside_mask(o["co"][:, 0])] for k, v in o.items()}
                       for o in outside]
            rot = _match_sign(rot, old, channels, frames[0] - 1)
            rot, loc, flip = _join_seams(rot, loc, old, channels, anim, arm_obj, frames, scene_fps, beat_times,
                                         frame_start)
            # a kept quaternion after the range whose sign is opposite to the range's end would
            # make the curves swing through zero between them: the same rotation, signs flipped
            for b in np.flatnonzero(flip):
                for c in range(4 * b, 4 * b + 4):
                    o = outside[c]
                    if o is not None:
                        later = o["co"][:, 0] > frames[-1]
                        for name in ("co", "handle_left", "handle_right"):
                            o[name][later, 1] *= -1
        fcs = [act_utils.new_fcurve(cb, p, i, g) for p, i, g in channels]

        beat_idx = _nearest(frames.astype(float), frame_start + np.asarray(
            [] if beat_times is None else beat_times, np.float64) * scene_fps)
        ref_vals = _channel_values(rot, loc)
        ref_pos = anim.joint_positions(rot, loc)
        n_bones = len(anim.bone_names)

        last: dict = {}

        def place(keys: np.ndarray) -> np.ndarray:
            types = np.where(np.isin(keys, beat_idx) | (keys == 0) | (keys == len(frames) - 1),
                             _KEYFRAME, _BREAKDOWN).astype(np.int32)
            t0 = time.perf_counter()
            _set_keys(fcs, frames[keys].astype(np.float32), ref_vals[keys], types, outside)
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
        else:
            keys, err, rounds = _refine(place, len(frames), beat_idx, tolerance_m)
    except Exception:
        swap.undo()
        raise
    per_frame = err.max(axis=1)
    seconds = max(len(frames) / scene_fps, 1e-9)
    report = KeyReport(action_name=swap.action.name, keys=int(len(keys)), keys_per_second=len(keys) / seconds,
                       max_error_m=float(per_frame.max()), mean_error_m=float(err.mean()),
                       frames=(int(frames[keys[0]]), int(frames[keys[-1]])), channels=len(channels),
                       rounds=rounds, write_seconds=float(write_time[0]))
    return report, swap


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


def _join_seams(rot, loc, old: dict, channels, anim: RigAnimation, arm_obj, frames: np.ndarray, scene_fps: float,
                beat_times, frame_start: float):
    """``(rot, loc, flip)``: the range's channels joined onto the kept keys at both seams
    (:mod:`.seams`; the kept curves' two frames either side read back as Blender plays
    them; a seam at the kept dance's own first or last frame has nothing to join), and
    the bones whose kept quaternions after the range have the opposite sign."""
    from .seams import join_range

    fcs = [old.get((p, i)) for p, i, _ in channels]
    none = np.zeros(len(anim.bone_names), bool)
    if any(fc is None for fc in fcs):
        return rot, loc, none
    first, last = float(fcs[0].keyframe_points[0].co[0]), float(fcs[0].keyframe_points[-1].co[0])
    n_bones = len(anim.bone_names)

    def kept(at):
        if at[0] < first - 1e-6 or at[-1] > last + 1e-6:
            return None
        return _split(_evaluate(fcs, np.asarray(at, np.float64)), n_bones)

    f0, f1 = int(frames[0]), int(frames[-1])
    before, after = kept([f0 - 2, f0 - 1]), kept([f1 + 1, f1 + 2])
    if before is None and after is None:
        return rot, loc, none
    up_arm = np.linalg.inv(np.array(arm_obj.matrix_world)[:3, :3]) @ np.array([0.0, 0.0, 1.0])
    rest = anim.skeleton.rest[anim.skeleton.index(anim.root_bone)][:3, :3]
    up = rest.T @ (up_arm / np.linalg.norm(up_arm))
    # fade each seam's mismatch over two beats inside the range (one second without beats)
    beats = frame_start + np.asarray([] if beat_times is None else beat_times, np.float64) * scene_fps
    gaps = np.diff(beats)
    window = int(round(2 * float(np.median(gaps)))) if len(gaps) else int(round(scene_fps))
    window = max(4, min(window, len(frames) // 3))
    rot, loc = join_range(rot, loc, anim.bone_names.index(anim.root_bone), up, before=before, after=after,
                          window=window)
    flip = none if after is None else np.sum(rot[-1] * after[0][0], axis=-1) < 0
    return rot, loc, flip


def _match_sign(rot: np.ndarray, old: dict, channels, frame: int) -> np.ndarray:
    """Flip each bone's new quaternions to the sign of the previous action just
    before the regenerated range, so the curves don't swing through -q."""
    rot = rot.copy()
    for b in range(rot.shape[1]):
        fcs = [old.get((channels[4 * b + i][0], i)) for i in range(4)]
        if any(fc is None for fc in fcs):
            continue
        prev = np.array([fc.evaluate(frame) for fc in fcs])
        if float(prev @ rot[0, b]) < 0:
            rot[:, b] *= -1
    return rot
