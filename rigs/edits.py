"""A regenerated stretch that passes through the animator's poses.

The animator keys poses on some frames (any bones, any subset); the new dance
must hit them exactly and move to the music in between. In the rig's own
channels (each bone's quaternion, the root bone's location), bpy-free, this is
*motion warping* (Witkin & Popović 1995): at every posed frame ``k`` the
difference between the pose and the new dance, ``d_k = log(Q_k · q(k)⁻¹)`` for a
rotation (``L_k − l(k)`` for the location), is added back over the frames around
``k``:

* the offset is ``d_k`` on the posed frame and fades to zero ``reach`` frames
  either side (a beat-aligned stretch the caller picks) with the quintic
  smoothstep, so the curve's slope at the pose is the new dance's own — it
  passes *through* the pose rather than stopping on it;
* between two posed frames closer than ``2·reach`` the offset goes straight from
  one to the other;
* the range's first and last frames keep a zero offset where the kept dance
  continues beyond them (the seams, joined by :mod:`.seams`, stay joined).

Each bone is warped only on the frames where it is posed; other bones keep the
new dance. This is the one place constraints are handled: every generator family
reaches the rig through :func:`~choreo.rigs.apply.apply_dance` and the keys writer.
"""

from __future__ import annotations

import numpy as np

from ..core.rotations import quat_conjugate, quat_multiply, quat_to_rotvec, rotvec_to_quat
from .seams import smootherstep


def offset_curve(n_frames: int, frames: np.ndarray, offsets: np.ndarray, reach: int, *,
                 pinned_start: bool = True, pinned_end: bool = True) -> np.ndarray:
    """(n_frames, D) offsets equal to ``offsets[i]`` (D,) on ``frames[i]`` (sorted,
    unique indices into the range), zero ``reach`` frames away from every posed
    frame and on the range's ends where pinned, eased in between."""
    frames = np.asarray(frames, int)
    offsets = np.asarray(offsets, np.float64).reshape(len(frames), -1)
    out = np.zeros((n_frames, offsets.shape[1]))
    if not len(frames):
        return out
    reach = max(1, int(reach))
    zeros = {f for k in frames for f in (k - reach, k + reach)}
    if pinned_start:
        zeros.add(0)
    if pinned_end:
        zeros.add(n_frames - 1)
    zeros = [z for z in zeros if 0 <= z < n_frames and z not in set(frames.tolist())
             and (z in (0, n_frames - 1) or np.abs(frames - z).min() >= reach)]
    at = np.concatenate([frames, zeros]).astype(int)
    val = np.concatenate([offsets, np.zeros((len(zeros), offsets.shape[1]))])
    order = np.argsort(at, kind="stable")
    at, val = at[order], val[order]
    t = np.arange(n_frames)
    seg = np.clip(np.searchsorted(at, t, side="right") - 1, 0, len(at) - 1)
    nxt = np.minimum(seg + 1, len(at) - 1)
    span = np.maximum(at[nxt] - at[seg], 1)
    w = smootherstep((t - at[seg]) / span)[:, None]
    inside = (t >= at[0]) & (t <= at[-1])
    out[inside] = ((1 - w) * val[seg] + w * val[nxt])[inside]
    out[t < at[0]] = val[0]       # before the first anchor / after the last: held (only when unpinned)
    out[t > at[-1]] = val[-1]
    return out


def pass_through(rot: np.ndarray, loc: np.ndarray, poses: dict, root: int, reach: int, *,
                 pinned_start: bool = True, pinned_end: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``(rot, loc)`` warped to pass through the animator's poses.

    Parameters
    ----------
    rot : (F, B, 4) the range's bone quaternions (w, x, y, z).
    loc : (F, 3) the root bone's location.
    poses : ``{"rot": {bone: (frames (n,), quats (n, 4))}, "loc": (frames (n,), values (n, 3))}``:
        frames are indices into the range; quaternions need not be unit or sign-matched.
    root : index of the root bone (its rotation is warped like any other).
    reach : frames either side of a pose over which the change fades.
    pinned_start, pinned_end : keep the range's first / last frame unchanged (a seam).

    Returns
    -------
    (rot, loc) of the same shapes; on every posed frame the posed bones equal the pose.
    """
    rot, loc = np.array(rot, np.float64), np.array(loc, np.float64)
    F = len(rot)
    for b, (frames, quats) in poses.get("rot", {}).items():
        frames = np.asarray(frames, int)
        q = np.asarray(quats, np.float64)
        q = q / np.linalg.norm(q, axis=-1, keepdims=True)
        q *= np.where(np.sum(q * rot[frames, b], axis=-1, keepdims=True) < 0, -1.0, 1.0)
        d = quat_to_rotvec(quat_multiply(q, quat_conjugate(rot[frames, b])))
        off = offset_curve(F, frames, d, reach, pinned_start=pinned_start, pinned_end=pinned_end)
        rot[:, b] = quat_multiply(rotvec_to_quat(off), rot[:, b])
        rot[frames, b] = q   # exact on the posed frames (the exp/log round trip is not)
    if "loc" in poses:
        frames, values = poses["loc"]
        frames = np.asarray(frames, int)
        d = np.asarray(values, np.float64) - loc[frames]
        loc = loc + offset_curve(F, frames, d, reach, pinned_start=pinned_start, pinned_end=pinned_end)
        loc[frames] = np.asarray(values, np.float64)
    return rot, loc
