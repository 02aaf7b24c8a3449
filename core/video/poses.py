"""A 3D dance seen by a camera, moved into a target person's 2D pose space, drawn as a pose image.

What the pose-to-video renderer is conditioned on (issue 16; Everybody Dance Now, Chan et al.
2019, §3.1, which both video papers follow). Numpy only: it runs inside Blender.

- :class:`Camera` projects SMPL-24 joints (metres, z up) to image pixels (x right, y down):
  a pinhole at ``distance`` m in front of a look-at point, ``height`` m up, turned ``yaw``
  about it, ``focal`` in pixels.
- :func:`dance_keypoints` gives OpenPose BODY-18 keypoints of a dance through a camera (the
  face points estimated from the head, :func:`~choreo.core.skeleton_maps.smpl24_to_openpose18`).
- :class:`PoseStats` and :func:`normalize` are Everybody Dance Now's *global pose
  normalisation*: the ankle line's nearest and farthest image heights (``close``/``far``, the
  90th and 10th percentiles of the lower ankle's y) and the body's image height at each (the
  median over frames within 2 % of the image of them), of the source and of the target; a
  source pose whose ankle is at ``a`` is scaled by the target/source height ratio interpolated
  between far and close and moved so its ankle lands at the matching target ankle height —
  the target's proportions and floor line, whatever camera filmed the dance.
- :func:`pose_image` draws keypoints as coloured limbs (one colour per limb, so left and right
  differ), the label map the generator reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ChoreoInputError
from ..skeleton_maps import OPENPOSE18_NAMES, smpl24_to_openpose18

_OP = {n: i for i, n in enumerate(OPENPOSE18_NAMES)}
#: Limbs of BODY-18 drawn in the pose image, as keypoint index pairs.
LIMBS: tuple[tuple[int, int], ...] = tuple((_OP[a], _OP[b]) for a, b in (
    ("neck", "r_shoulder"), ("r_shoulder", "r_elbow"), ("r_elbow", "r_wrist"),
    ("neck", "l_shoulder"), ("l_shoulder", "l_elbow"), ("l_elbow", "l_wrist"),
    ("neck", "r_hip"), ("r_hip", "r_knee"), ("r_knee", "r_ankle"),
    ("neck", "l_hip"), ("l_hip", "l_knee"), ("l_knee", "l_ankle"),
    ("neck", "nose"), ("nose", "r_eye"), ("r_eye", "r_ear"), ("nose", "l_eye"), ("l_eye", "l_ear")))
_ANKLES = (_OP["r_ankle"], _OP["l_ankle"])
_TOP = (_OP["nose"], _OP["r_eye"], _OP["l_eye"], _OP["r_ear"], _OP["l_ear"])


def _colours(n: int) -> np.ndarray:
    """``n`` distinct RGB colours (uint8): hues evenly spread at full saturation and value."""
    h = np.arange(n)[:, None] / n
    rgb = np.clip(np.abs((h * 6 + np.array([0.0, 4.0, 2.0])) % 6 - 3) - 1, 0, 1)  # the HSV hue ramp
    return (rgb * 255).round().astype(np.uint8)


LIMB_COLOURS = _colours(len(LIMBS))


@dataclass(frozen=True)
class Camera:
    """A pinhole looking horizontally (then pitched) at ``look_at`` (x, y, z m) from ``distance``
    m in front of it (the dancer faces −y, so "in front" is −y), at ``height`` m, turned ``yaw``
    radians about the vertical through ``look_at``; ``focal`` px, image ``width`` × ``height_px``."""

    width: int = 512
    height_px: int = 512
    focal: float = 700.0
    distance: float = 6.0
    height: float = 1.0
    yaw: float = 0.0
    pitch: float = 0.0
    look_at: tuple[float, float, float] = (0.0, 0.0, 1.0)

    def _frame(self) -> tuple[np.ndarray, np.ndarray]:
        """(rotation world → camera (3, 3), camera centre (3,)); camera axes x right, y down, z forward."""
        rot = view_rotation(self.yaw, self.pitch)
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        centre = np.asarray(self.look_at, float) - self.distance * np.array([s, c, 0.0])
        centre[2] = self.height
        return rot, centre

    def view(self, points: np.ndarray) -> np.ndarray:
        """World points (..., 3) in the camera's axes (x right, y down, z forward, metres)."""
        rot, centre = self._frame()
        return (np.asarray(points, float) - centre) @ rot.T

    def project(self, points: np.ndarray) -> np.ndarray:
        """Pixels (..., 2) of world points (..., 3); a point behind the camera raises
        :class:`ChoreoInputError` (the camera is inside or behind the dance)."""
        p = self.view(points)
        if not np.all(np.isfinite(p)):
            raise ChoreoInputError("dance", "joint positions hold NaN or infinite values: nothing to project")
        if np.any(p[..., 2] <= 0.05):
            raise ChoreoInputError("camera", f"part of the dance is behind the camera ({self.distance:g} m away): "
                                             "move the camera further back")
        uv = self.focal * p[..., :2] / p[..., 2:3]
        return uv + np.array([self.width / 2.0, self.height_px / 2.0])


def view_rotation(yaw, pitch) -> np.ndarray:
    """Rotations world → camera (..., 3, 3) (rows: the camera's right, down and forward in
    world axes) of cameras turned ``yaw`` radians about the vertical (0: looking along +y, at
    the front of a dancer who faces −y) and pitched ``pitch`` radians down; arrays broadcast."""
    yaw, pitch = np.broadcast_arrays(np.asarray(yaw, float), np.asarray(pitch, float))
    c, s, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    z = np.zeros_like(c)
    right = np.stack([c, -s, z], -1)
    fwd = np.stack([cp * s, cp * c, -sp], -1)
    down = np.cross(fwd, right)
    return np.stack([right, down, fwd], -2)


def dance_keypoints(joints: np.ndarray, camera: Camera) -> np.ndarray:
    """OpenPose BODY-18 image keypoints (T, 18, 2) of SMPL-24 joints (T, 24, 3) seen by ``camera``."""
    j = np.asarray(joints, float)
    if j.ndim != 3 or j.shape[0] == 0 or j.shape[1:] != (24, 3):
        raise ChoreoInputError("dance", f"expected (frames, 24, 3) joints, got {j.shape}")
    return camera.project(smpl24_to_openpose18(j))


@dataclass(frozen=True)
class PoseStats:
    """A pose sequence's ankle line and body heights in its image (pixels, y down)."""

    close: float        # lower ankle's y nearest the camera (90th percentile)
    far: float          # … farthest (10th percentile)
    height_close: float  # body height (lower ankle to the highest head point) near ``close``
    height_far: float
    centre_x: float     # median x of the ankles' midpoint
    left: float = math.nan   # 5th and 95th percentiles of that x: how far the person travels
    right: float = math.nan  # across the image (NaN in records made before they were kept)


def _ankle_and_height(kp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ankle = kp[:, _ANKLES, 1].max(axis=1)
    top = kp[:, _TOP, 1].min(axis=1)
    return ankle, ankle - top


def pose_stats(kp: np.ndarray, image_height: float) -> PoseStats:
    """:class:`PoseStats` of keypoints (T, 18, 2) in an image ``image_height`` px tall."""
    kp = np.asarray(kp, float)
    if kp.ndim != 3 or kp.shape[0] == 0 or kp.shape[1:] != (18, 2) or not np.all(np.isfinite(kp)):
        raise ChoreoInputError("poses", f"expected finite (frames, 18, 2) keypoints, got {kp.shape}")
    ankle, h = _ankle_and_height(kp)
    close, far = np.percentile(ankle, 90), np.percentile(ankle, 10)
    tol = 0.02 * image_height
    hc = float(np.median(h[ankle >= close - tol]))
    hf = float(np.median(h[ankle <= far + tol]))
    if not (hc > 0 and hf > 0):
        raise ChoreoInputError("poses", "the body has no height in the image (head at or below the ankles)")
    mid = kp[:, _ANKLES, 0].mean(axis=1)
    left, right = np.percentile(mid, [5, 95])
    return PoseStats(float(close), float(far), hc, hf, float(np.median(mid)), float(left), float(right))


def normalize(kp: np.ndarray, source: PoseStats, target: PoseStats) -> np.ndarray:
    """Keypoints (T, 18, 2) of the source moved into the target's pose space (module notes):
    scaled about each frame's lower ankle by the interpolated height ratio, that ankle put on
    the target's matching ankle line, and the source's centre on the target's."""
    kp = np.asarray(kp, float)
    ankle, _ = _ankle_and_height(kp)
    span = source.close - source.far
    alpha = (ankle - source.far) / span if abs(span) > 1e-6 else np.zeros_like(ankle)
    scale = (target.height_far / source.height_far
             + alpha * (target.height_close / source.height_close - target.height_far / source.height_far))
    new_ankle = target.far + alpha * (target.close - target.far)
    out = np.empty_like(kp)
    out[..., 0] = target.centre_x + scale[:, None] * (kp[..., 0] - source.centre_x)
    out[..., 1] = new_ankle[:, None] + scale[:, None] * (kp[..., 1] - ankle[:, None])
    return out


def pose_image(kp: np.ndarray, width: int, height: int, thickness: float = 4.0) -> np.ndarray:
    """(height, width, 3) uint8 image of one frame's keypoints (18, 2): each of :data:`LIMBS`
    a line ``thickness`` px wide in its own colour (later limbs over earlier), black elsewhere;
    keypoints that are NaN leave their limbs out."""
    img = np.zeros((height, width, 3), np.uint8)
    r = thickness / 2.0
    for (a, b), colour in zip(LIMBS, LIMB_COLOURS):
        p, q = kp[a], kp[b]
        if not (np.all(np.isfinite(p)) and np.all(np.isfinite(q))):
            continue
        x0, x1 = int(max(0, math.floor(min(p[0], q[0]) - r))), int(min(width, math.ceil(max(p[0], q[0]) + r) + 1))
        y0, y1 = int(max(0, math.floor(min(p[1], q[1]) - r))), int(min(height, math.ceil(max(p[1], q[1]) + r) + 1))
        if x0 >= x1 or y0 >= y1:
            continue
        ys, xs = np.mgrid[y0:y1, x0:x1] + 0.5
        d = q - p
        t = np.clip(((xs - p[0]) * d[0] + (ys - p[1]) * d[1]) / max(float(d @ d), 1e-9), 0.0, 1.0)
        near = (xs - p[0] - t * d[0]) ** 2 + (ys - p[1] - t * d[1]) ** 2 <= r * r
        img[y0:y1, x0:x1][near] = colour
    return img
