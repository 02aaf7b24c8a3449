"""From the lifter's camera-relative poses to a dance on a floor: where the dancer is, which way
is up, one skeleton.

The network (:mod:`.network`) answers each frame's pose relative to the pelvis, in the
camera's axes, and the direction of up. This module places it:

1. :func:`root_translation`: the pelvis's position in camera axes, per frame, is what makes
   the posed skeleton re-project onto the 2D keypoints: for a pinhole of focal ``f`` (pixels)
   and principal point ``c``, every seen joint gives two equations linear in the translation
   (``f (X + tx) = (u − cx)(Z + tz)``, the same for y), solved by least squares. Depth comes
   from the body's image size against its 3D size, travel from where it stands in the image.
   A source without a camera (a front view drawn in metres: what 2D generators make) is
   orthographic: no depth travel, the scale fitted per frame.
2. :func:`to_world`: the camera held still, the world's z along the mean predicted up, its y
   along the camera's view on the floor (so a dancer facing the camera faces −y, Choreo's
   front), the feet on z = 0, the first frame's pelvis over the origin.
3. :func:`lift_pose2d` puts it together with constant bone lengths (each bone's median) and
   Choreo's grounding (:func:`~choreo.core.cleanup.feet.ground_dance`: body on the floor
   except in jumps, feet held still while they stand).

Frames where the detector saw too little (under :data:`MIN_SEEN` of the joints) are not
guessed by the network: their pose is interpolated between the neighbouring seen frames and
they are reported in :attr:`Lifted.seen`, so nothing is invented without a mark.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import skeleton as sk
from ..errors import ChoreoInputError
from ..formats.openpose import fill_gaps
from ..motion import Motion
from ..signal import gaussian_filter1d
from . import network as N

#: Frames seeing fewer of the 24 joints than this are filled, not lifted.
MIN_SEEN = 0.5
#: Horizontal field of view assumed for a video or keypoint source whose camera is unknown (a phone's main camera ~65°).
DEFAULT_FOV_DEG = 60.0
#: Smoothing of the pelvis track (s): image position, and depth (which comes from size, a noisier cue).
SMOOTH_XY_S, SMOOTH_DEPTH_S = 0.05, 0.15


@dataclass
class Lifted:
    """A lifted dance: ``motion`` (SMPL-24, metres, z up, feet on the floor, 30 fps);
    ``seen`` (T,) the share of the 24 joints the source saw in each frame (frames under
    :data:`MIN_SEEN` were filled by interpolation); ``up`` (3,) world up in camera axes;
    ``focal`` the focal length used (pixels; None for an orthographic source)."""

    motion: Motion
    seen: np.ndarray
    up: np.ndarray
    focal: float | None

    @property
    def filled(self) -> np.ndarray:
        """(T,) True where the pose was filled between seen frames."""
        return self.seen < MIN_SEEN

    def gaps(self) -> list[tuple[float, float]]:
        """(start s, end s) of each stretch of filled frames."""
        edges = np.diff(np.concatenate([[0], self.filled.astype(int), [0]]))
        fps = self.motion.fps
        return [(a / fps, b / fps) for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))]


def _fill(x: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """``x`` (T, ...) with the rows where ``ok`` is False interpolated over time (held at the ends):
    the OpenPose reader's :func:`~choreo.core.formats.openpose.fill_gaps`, one column at a time."""
    flat = x.reshape(len(x), -1, 1)
    return fill_gaps(flat, np.repeat(ok[:, None], flat.shape[1], axis=1).astype(np.float64)).reshape(x.shape)


def root_translation(rel: np.ndarray, points: np.ndarray, seen: np.ndarray, focal: float | None,
                     centre: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """The pelvis in camera axes (T, 3), metres, that best re-projects pelvis-relative joints
    ``rel`` (T, 24, 3) onto image ``points`` (T, 24, 2) where ``seen`` (module notes, step 1);
    ``focal`` None: orthographic (depth 0, x and y in the points' units over a per-frame scale)."""
    T = len(rel)
    w = seen.astype(np.float64)
    if focal is None:
        # u = s (X + tx): per frame s and (tx, ty) by least squares over the seen joints
        n = np.maximum(w.sum(1), 1)[:, None]
        pm = (points * w[..., None]).sum(1) / n
        xm = (rel[..., :2] * w[..., None]).sum(1) / n
        dp, dx = points - pm[:, None], rel[..., :2] - xm[:, None]
        s = (w[..., None] * dp * dx).sum((1, 2)) / np.maximum((w[..., None] * dx * dx).sum((1, 2)), 1e-12)
        s = np.where(s > 1e-9, s, np.nan)
        t = np.zeros((T, 3))
        t[:, :2] = pm / s[:, None] - xm
        return t
    u = points - np.asarray(centre, float)
    X, Y, Z = rel[..., 0], rel[..., 1], rel[..., 2]
    # rows: f tx − u tz = u Z − f X ;  f ty − v tz = v Z − f Y
    A = np.zeros((T, sk.NUM_JOINTS, 2, 3))
    A[:, :, 0, 0] = focal
    A[:, :, 1, 1] = focal
    A[:, :, 0, 2] = -u[..., 0]
    A[:, :, 1, 2] = -u[..., 1]
    b = np.stack([u[..., 0] * Z - focal * X, u[..., 1] * Z - focal * Y], -1)
    A = A * w[..., None, None]
    b = b * w[..., None]
    AtA = np.einsum("tjki,tjkl->til", A, A) + 1e-9 * np.eye(3)
    Atb = np.einsum("tjki,tjk->ti", A, b)
    return np.linalg.solve(AtA, Atb[..., None])[..., 0]


def to_world(camera_joints: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Joints (T, 24, 3) in camera axes as world joints: z along ``up`` (3,), y along the
    camera's view over the floor, feet on z = 0 (the clip's floor), the first frame's pelvis
    over the origin (module notes, step 2)."""
    z = up / np.linalg.norm(up)
    fwd = np.array([0.0, 0.0, 1.0])
    y = fwd - (fwd @ z) * z
    if np.linalg.norm(y) < 1e-6:  # looking straight down: any horizontal forward
        y = np.array([0.0, -1.0, 0.0]) - (np.array([0.0, -1.0, 0.0]) @ z) * z
    y /= np.linalg.norm(y)
    x = np.cross(y, z)
    world = camera_joints @ np.stack([x, y, z]).T
    world[..., :2] -= world[0, 0, :2]
    return world


def lift_points(points: np.ndarray, seen: np.ndarray, layout: str, lifter: "N.Lifter | None" = None, *,
                focal: float | None, centre: tuple[float, float] = (0.0, 0.0), ground: bool = True) -> Lifted:
    """A :class:`Lifted` dance of keypoints (T, J, 2) of ``layout`` at 30 fps (image units, y down)
    and their seen flags (T, J); ``focal`` in those units, or None for an orthographic source."""
    if layout not in N.LAYOUTS:
        raise ChoreoInputError(layout, f"the lifter reads {', '.join(N.LAYOUTS)} keypoints, not {layout}")
    points = np.asarray(points, np.float64)
    if points.ndim != 3 or points.shape[0] < 2 or points.shape[2] != 2:
        raise ChoreoInputError("keypoints", f"expected (frames >= 2, joints, 2) keypoints, got {points.shape}")
    if not np.isfinite(points).all():
        raise ChoreoInputError("keypoints", "keypoints hold NaN or infinite values")
    lifter = lifter or N.Lifter.load()
    pts, flags = N.smpl_points(points, seen, layout)
    share = flags.mean(axis=1)
    ok = share >= MIN_SEEN
    if not ok.any():
        raise ChoreoInputError("keypoints", f"no frame shows at least {MIN_SEEN:.0%} of the body: nothing to lift")
    rel, up = lifter(pts, flags, layout)
    rel = _fill(rel, ok)
    t = root_translation(rel, pts, flags, focal, centre)
    t = _fill(t, ok & np.isfinite(t).all(axis=1))
    sig = np.array([SMOOTH_XY_S, SMOOTH_XY_S, SMOOTH_DEPTH_S]) * N.FPS
    t = np.stack([gaussian_filter1d(t[:, k], sig[k], mode="nearest") for k in range(3)], -1)
    up_mean = (up[ok] * share[ok, None]).sum(0)
    world = to_world(rel + t[:, None], up_mean)
    motion = Motion(world, N.FPS).with_bone_lengths().on_floor()
    if ground:
        from ..cleanup.feet import ground_dance

        motion = ground_dance(motion)
    return Lifted(motion, share, up_mean / np.linalg.norm(up_mean), focal)


def focal_for(width: float, fov_deg: float = DEFAULT_FOV_DEG) -> float:
    """Focal length (pixels) of an image ``width`` pixels wide seen with a horizontal field of view."""
    if not (0 < fov_deg < 180):
        raise ChoreoInputError("--fov", f"must be between 0 and 180 degrees, got {fov_deg:g}")
    return 0.5 * width / np.tan(np.deg2rad(fov_deg) / 2)
