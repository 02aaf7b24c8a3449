"""A regenerated range that joins the kept dance: no jump at either seam.

**Regenerate Range** keys a new dance inside scene frames ``f0 … f1`` and keeps
the old keys outside. Left alone, the new stretch starts wherever the new dance
happens to be — metres away, facing elsewhere — and the character pops at both
seams. :func:`join_range` works in the rig's own channels (each bone's
quaternion and the root bone's location: what the keys hold), bpy-free:

1. **Start**: the new stretch is turned about the vertical and moved along the
   floor so its root continues the kept dance's root (position and facing,
   extrapolated one frame from the two kept frames before ``f0``); it keeps its
   own height (a crouch is not carried through the range).
2. **End**: the root's remaining mismatch along the floor at ``f1`` (the new
   stretch travelled and turned elsewhere) is spread over the range with a
   quintic ease, so it is zero at ``f1`` and the path's slope is untouched at both ends.
3. **Both seams**: what is left — every channel's value and velocity mismatch
   against the kept dance — is decayed to zero inside the range over a window
   (*inertialization*: ``offset(t) = (r + v·t)·(1 − s(t / W))``, ``s`` the quintic
   smoothstep, applied as a rotation vector to quaternions), so every curve is
   continuous in value and slope at the seams and untouched beyond the windows.

The caller picks the window (a beat-aligned stretch inside the range); frames
outside the range are never changed.
"""

from __future__ import annotations

import numpy as np

from ..core.rotations import quat_conjugate, quat_multiply, quat_to_matrix, quat_to_rotvec, rotvec_to_quat


def smootherstep(x: np.ndarray) -> np.ndarray:
    """Quintic ease 0 → 1 on [0, 1] with zero slope and curvature at both ends."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * x * (x * (6 * x - 15) + 10)


def _predict(two: np.ndarray) -> np.ndarray:
    """The next value after two consecutive samples (…, D) along axis 0 (constant velocity)."""
    return 2 * two[1] - two[0]


def _predict_quat(two: np.ndarray) -> np.ndarray:
    """The next rotation after two consecutive quaternions (2, …, 4): the same turn again."""
    step = quat_multiply(two[1], quat_conjugate(two[0]))
    return quat_multiply(step, two[1])


def _yaw(q: np.ndarray, up: np.ndarray) -> float:
    """Heading (radians) of rotation ``q`` (4,) about ``up``: the angle of a horizontal
    reference vector turned by ``q`` and projected on the plane ⊥ ``up``."""
    ref = np.cross(up, [1.0, 0.0, 0.0] if abs(up[0]) < 0.9 else [0.0, 1.0, 0.0])
    ref /= np.linalg.norm(ref)
    side = np.cross(up, ref)
    best, angle = -1.0, 0.0
    for h in (ref, side):  # the reference the rotation leaves most horizontal
        v = quat_to_matrix(q) @ h
        flat = v - (v @ up) * up
        n = float(np.linalg.norm(flat))
        if n > best:
            best = n
            offset = 0.0 if h is ref else np.pi / 2
            angle = float(np.arctan2(flat @ side, flat @ ref)) - offset
    return angle


def _turn(angle, up: np.ndarray) -> np.ndarray:
    """Quaternions (…, 4) of turns by ``angle`` (…) about ``up``."""
    return rotvec_to_quat(np.asarray(angle, np.float64)[..., None] * up)


def _rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.einsum("...ij,...j->...i", quat_to_matrix(q), v)


def _inertialize(rot: np.ndarray, loc: np.ndarray, kept, window: int, reverse: bool):
    """Decay, over ``window`` frames inside the range, the mismatch between the range's
    first frame (last, with ``reverse``) and the kept dance: ``kept = (q (2, B, 4),
    l (2, 3))`` holds the kept value at the frame just outside the seam and its
    prediction for the seam frame; both the value and the per-frame velocity match."""
    F = len(rot)
    if F < 2 or window < 1:
        return rot, loc
    order = slice(None, None, -1) if reverse else slice(None)
    r, lo = rot[order], loc[order]
    kq, kl = kept
    rq = quat_to_rotvec(quat_multiply(kq[1], quat_conjugate(r[0])))
    vq = quat_to_rotvec(quat_multiply(kq[1], quat_conjugate(kq[0]))) - \
        quat_to_rotvec(quat_multiply(r[1], quat_conjugate(r[0])))
    rl = kl[1] - lo[0]
    vl = (kl[1] - kl[0]) - (lo[1] - lo[0])
    t = np.arange(F, dtype=np.float64)
    fade = 1.0 - smootherstep(t / window)
    off_q = (rq[None] + vq[None] * t[:, None, None]) * fade[:, None, None]
    off_l = (rl[None] + vl[None] * t[:, None]) * fade[:, None]
    r = quat_multiply(rotvec_to_quat(off_q), r)
    return r[order], (lo + off_l)[order]


def join_range(rot: np.ndarray, loc: np.ndarray, root: int, up: np.ndarray, *, before=None, after=None,
               window: int = 15) -> tuple[np.ndarray, np.ndarray]:
    """The new range's channels joined onto the kept dance (see the module docstring).

    Parameters
    ----------
    rot : (F, B, 4) the new range's bone quaternions (w, x, y, z), sign-continuous.
    loc : (F, 3) the root bone's location channel (its rest-local frame).
    root : index of the root bone in ``rot``'s bone axis.
    up : (3,) the vertical in the root bone's rest-local frame.
    before, after : ``(rot (2, B, 4), loc (2, 3))`` — the kept dance's two frames just
        before the range (``f0 - 2, f0 - 1``) and just after it (``f1 + 1, f1 + 2``), or
        None where the range reaches the dance's start or end.
    window : frames the value and velocity mismatch fades over at each seam.

    Returns
    -------
    (rot, loc) of the same shapes.
    """
    rot, loc = np.array(rot, np.float64), np.array(loc, np.float64)
    F = len(rot)
    up = np.asarray(up, np.float64) / np.linalg.norm(up)
    window = int(max(1, min(window, F // 2 if after is not None and before is not None else F - 1)))
    if before is not None:
        b_rot, b_loc = (np.asarray(x, np.float64) for x in before)
        start_q, start_l = _predict_quat(b_rot[:, root]), _predict(b_loc)
        yaw = _yaw(start_q, up) - _yaw(rot[0, root], up)
        turn = _turn((yaw + np.pi) % (2 * np.pi) - np.pi, up)
        own = loc @ up
        loc = start_l + _rotate(turn, loc - loc[0])
        loc += (own - loc @ up)[:, None] * up   # its own height: a height step fades at the seam (3.)
        rot[:, root] = quat_multiply(turn, rot[:, root])
    if after is not None:
        a_rot, a_loc = (np.asarray(x, np.float64) for x in after)
        end_q, end_l = _predict_quat(a_rot[::-1, root]), _predict(a_loc[::-1])
        ease = smootherstep(np.arange(F) / max(F - 1, 1))
        yaw = _yaw(end_q, up) - _yaw(rot[-1, root], up)
        yaw = (yaw + np.pi) % (2 * np.pi) - np.pi
        turns = _turn(yaw * ease, up)
        pivot = loc[0]
        loc = pivot + _rotate(turns, loc - pivot)
        rot[:, root] = quat_multiply(turns, rot[:, root])
        gap = end_l - loc[-1]
        loc = loc + (gap - (gap @ up) * up) * ease[:, None]   # along the floor; height fades at the seam
    if before is not None:
        kept = (np.stack([b_rot[1], _predict_quat(b_rot)]), np.stack([b_loc[1], _predict(b_loc)]))
        rot, loc = _inertialize(rot, loc, kept, window, reverse=False)
    if after is not None:
        kept = (np.stack([a_rot[0], _predict_quat(a_rot[::-1])]), np.stack([a_loc[0], _predict(a_loc[::-1])]))
        rot, loc = _inertialize(rot, loc, kept, window, reverse=True)
    if before is not None:  # the same sign as the kept key before the range (q and -q are one
        # rotation, but a curve from q to -q swings through zero)
        rot *= np.where(np.sum(rot[:1] * b_rot[1:], axis=-1, keepdims=True) < 0, -1.0, 1.0)
    return rot, loc
