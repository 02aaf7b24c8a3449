"""2D dances onto 3D rigs (issue 17): keypoints from a detector, a 2D generator, an OpenPose
folder or a Dance Revolution sample, lifted to a :class:`~choreo.core.motion.Motion`.

- :mod:`.network`: the learned lifter (temporal convolutions, numpy at run time);
- :mod:`.views`: mocap filmed by random cameras with a detector's noise (its training data);
- :mod:`.world`: camera-relative poses placed on a floor;
- :mod:`.taylor`: the geometric baseline it is measured against.

:func:`lift_pose2d` is the one entry point for a :class:`~choreo.core.formats.openpose.Pose2D`.
"""

from __future__ import annotations

import numpy as np

from ..errors import ChoreoInputError
from ..formats.openpose import Pose2D
from .network import FPS, LAYOUTS, Lifter
from .world import DEFAULT_FOV_DEG, MIN_SEEN, Lifted, focal_for, lift_points


def at_lifter_rate(pose: Pose2D) -> tuple[np.ndarray, np.ndarray]:
    """(points, seen) of ``pose`` at the lifter's 30 fps: points linearly interpolated, a
    frame's joint seen only if both frames it lies between saw it."""
    seen = pose.confidence > 0
    if abs(pose.fps - FPS) < 1e-6:
        return pose.points, seen
    n = int(np.floor((pose.num_frames - 1) * FPS / pose.fps + 1e-9)) + 1
    src = np.arange(n) * pose.fps / FPS
    i0 = np.floor(src).astype(int)
    i1 = np.minimum(i0 + 1, pose.num_frames - 1)
    w = (src - i0)[:, None, None]
    pts = pose.points[i0] * (1 - w) + pose.points[i1] * w
    return pts, seen[i0] & (seen[i1] | (w[..., 0] == 0))


def lift_pose2d(pose: Pose2D, lifter: Lifter | None = None, *, fov_deg: float = DEFAULT_FOV_DEG,
                orthographic: bool = False, ground: bool = True) -> Lifted:
    """The 3D dance of a 2D pose sequence (pixels, y down), at 30 fps.

    The camera is taken as still, with a horizontal field of view ``fov_deg`` over the image's
    width (``pose.width``; when unknown, the keypoints' own extent with a 10 % margin);
    ``orthographic`` for a front view without perspective (what a 2D generator draws).
    """
    if pose.layout not in LAYOUTS:
        raise ChoreoInputError(pose.layout, f"the lifter reads {', '.join(LAYOUTS)} keypoints")
    points, seen = at_lifter_rate(pose)
    focal, centre = None, (0.0, 0.0)
    if not orthographic:
        seen_pts = points[seen] if seen.any() else points.reshape(-1, 2)
        width = pose.width or 1.1 * float(seen_pts[:, 0].max())
        height = pose.height or 1.1 * float(seen_pts[:, 1].max())
        focal, centre = focal_for(width, fov_deg), (width / 2.0, height / 2.0)
    return lift_points(points, seen, pose.layout, lifter, focal=focal, centre=centre, ground=ground)


def no_music() -> dict:
    """The :class:`~choreo.core.generation.dance.DanceMusic` fields of a lifted dance without a song."""
    return dict(beats=np.zeros(0), downbeats=np.zeros(0), sections=np.zeros(1), audio_path=None,
                audio_start=0.0, tempo=0.0, model="lifter", seed=0, energy=1.0)


def lift_front_view(keypoints: np.ndarray, fps: float, lifter: Lifter | None = None):
    """The 3D :class:`~choreo.core.motion.Motion` (at ``fps``, grounded) of a 2D generator's front
    view: OpenPose-18 keypoints (T, 18, 2), x right and z up in metres, seen without perspective."""
    k = np.asarray(keypoints, np.float64)
    pts = np.stack([k[..., 0], -k[..., 1]], axis=-1)  # image axes: y down
    pose = Pose2D(pts, np.ones(pts.shape[:2]), "openpose18", float(fps))
    return lift_pose2d(pose, lifter, orthographic=True).motion.resample(float(fps))


__all__ = ["DEFAULT_FOV_DEG", "FPS", "LAYOUTS", "Lifted", "Lifter", "MIN_SEEN", "lift_front_view", "lift_pose2d", "lift_points", "no_music"]
