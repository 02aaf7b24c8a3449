"""A 3D dance placed in a target person's picture: the keypoints the renderer draws, frame by frame.

Everybody Dance Now's transfer (Chan et al. 2019, §3.1) in three steps, numpy only (it runs
inside Blender):

1. :func:`front_camera`: the dance filmed from in front, like a person filming themselves on a
   tripod (1 m up, level, far enough back that no joint is ever behind or beside the lens);
2. :func:`~.poses.normalize`: the dance's ankle line and body height mapped onto the target's
   (its proportions and floor line, near and far);
3. :func:`fit_travel`: the dance's travel across the picture scaled into the stretch of floor
   the target was filmed on. A generated dance can travel metres; the renderer has only seen
   the target where the clip showed them, and a dancer who walks out of the picture is lost.
   The slow part of the travel (a 1-s moving average of the ankles' midpoint) is scaled about
   its middle; steps and sways within a second are kept as they are.
"""

from __future__ import annotations

import numpy as np

from ..errors import ChoreoInputError
from .poses import Camera, PoseStats, _ANKLES, dance_keypoints, normalize, pose_stats

#: Fraction of the picture the target's travel spans when its record has no travel range.
_DEFAULT_TRAVEL = 0.3


def front_camera(joints: np.ndarray, size: int) -> Camera:
    """A level camera 1 m up, facing the dancer's front (−y), ``size`` × ``size`` px, that
    sees every joint of ``joints`` (T, 24, 3) m from at least 3 m away."""
    j = np.asarray(joints, float)
    if j.ndim != 3 or j.shape[0] == 0 or j.shape[1:] != (24, 3):
        raise ChoreoInputError("dance", f"expected (frames, 24, 3) joints, got {j.shape}")
    if not np.all(np.isfinite(j)):
        raise ChoreoInputError("dance", "joint positions hold NaN or infinite values: nothing to project")
    root = j[:, 0]
    look = (float(np.median(root[:, 0])), float(np.median(root[:, 1])), 1.0)
    distance = max(6.0, 3.0 + look[1] - float(j[..., 1].min()))
    # The focal length only sets the source picture's scale, which normalisation removes.
    return Camera(width=size, height_px=size, focal=0.8 * size, distance=distance, height=1.0, look_at=look)


def _moving_average(x: np.ndarray, n: int) -> np.ndarray:
    """Centred moving average over ``n`` samples (odd); the ends are padded by point reflection,
    so a steady travel stays a straight line to the last frame (edge padding would bend it)."""
    n = min(n, 2 * (len(x) // 2) - 1)
    if n <= 1:
        return x.copy()
    pad = np.pad(x, (n // 2, n // 2), mode="reflect", reflect_type="odd")
    c = np.cumsum(np.concatenate([[0.0], pad]))
    return (c[n:] - c[:-n]) / n


def fit_travel(kp: np.ndarray, target: PoseStats, size: int, fps: float) -> np.ndarray:
    """Keypoints (T, 18, 2) whose slow sideways travel is scaled into the target's range
    (:attr:`PoseStats.left`–:attr:`~PoseStats.right`, or the middle 30 % of a ``size`` px wide
    picture when unknown) about the target's centre; travel already within it is kept."""
    kp = np.asarray(kp, float)
    mid = kp[:, _ANKLES, 0].mean(axis=1)
    slow = _moving_average(mid, int(round(fps)) | 1)
    left, right = target.left, target.right
    if not (np.isfinite(left) and np.isfinite(right) and right > left):
        left, right = target.centre_x - _DEFAULT_TRAVEL * size / 2, target.centre_x + _DEFAULT_TRAVEL * size / 2
    lo, hi = float(slow.min()), float(slow.max())
    room = right - left
    if hi - lo <= room:  # fits: only keep it within the range
        shift = min(0.0, right - hi) + max(0.0, left - lo)
        fitted = slow + shift
    else:
        fitted = (left + right) / 2 + (slow - (lo + hi) / 2) * (room / (hi - lo))
    out = kp.copy()
    out[..., 0] += (fitted - slow)[:, None]
    return out


def dance_in_target(joints: np.ndarray, fps: float, target: PoseStats, size: int,
                    camera: Camera | None = None) -> np.ndarray:
    """OpenPose-18 keypoints (T, 18, 2), in the target's ``size`` × ``size`` working picture,
    of a dance's SMPL-24 joints (T, 24, 3) m z-up at ``fps``: filmed by ``camera`` (default
    :func:`front_camera`), normalised to the target's proportions and floor line, its travel
    fitted to the target's (module notes). Bad joints or a camera inside the dance raise
    :class:`ChoreoInputError`."""
    camera = camera or front_camera(joints, size)
    kp = dance_keypoints(joints, camera)
    source = pose_stats(kp, camera.height_px)
    return fit_travel(normalize(kp, source, target), target, size, fps)
