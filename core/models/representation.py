"""What a generator predicts per frame, and back to joint positions.

A generator's *output* is one of :data:`OUTPUTS`; with its family it is what
generation dispatches on (``core/generation/families``).

:data:`SMPL24` (3D motion, the default): a root-motion representation that
windows can be stitched with, because nothing in it depends on where a window starts:

====== =====================================================================
cols   meaning
====== =====================================================================
0      pelvis height (m)
1–2    pelvis velocity on the floor, in the dancer's heading frame (m/s)
3      heading rate about z (rad/s)
4–72   joints 1..23 relative to the pelvis's floor point, in the heading
       frame (dancer faces -y), metres
====== =====================================================================

:data:`OPENPOSE18` (Ren et al.'s own 2D setting): OpenPose-18 keypoints seen from the front
(orthographic: x right, z up, metres) with the window's first-frame hip centre
at x = 0, 36 columns.
"""

from __future__ import annotations

import numpy as np

from .. import skeleton as sk
from ..motion import Motion
from ..skeleton_maps import smpl24_to_openpose18

SMPL24 = "smpl24"
OPENPOSE18 = "openpose18"
#: Output → what it is, in words (messages, the model menu).
OUTPUTS = {SMPL24: "3D motion on SMPL-24", OPENPOSE18: "2D keypoints (OpenPose-18, front view)"}
#: The ``mode`` of weights and configs written before outputs had names.
LEGACY_MODES = {"3d": SMPL24, "2d": OPENPOSE18}
DIM_3D = 4 + 3 * (sk.NUM_JOINTS - 1)
DIM_2D = 36
_FORWARD_ANGLE = float(np.arctan2(sk.FORWARD[1], sk.FORWARD[0]))


def pose_dim(output: str) -> int:
    """Columns per frame for ``output`` (one of :data:`OUTPUTS`)."""
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {', '.join(OUTPUTS)}, got {output!r}")
    return DIM_3D if output == SMPL24 else DIM_2D


def headings(joints: np.ndarray) -> np.ndarray:
    """Unwrapped heading (radians about z) of the forward direction per frame,
    from the hip and shoulder lines (as :meth:`Motion.facing_angle`)."""
    i = sk.JOINT_INDEX
    left = (joints[:, i["l_hip"]] - joints[:, i["r_hip"]]
            + joints[:, i["l_shoulder"]] - joints[:, i["r_shoulder"]]).astype(np.float64)
    # forward = left x up = (left_y, -left_x)
    return np.unwrap(np.arctan2(-left[:, 0], left[:, 1]))


def _rotate_z(v: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotate vectors ``v`` (T, ..., 2 or 3) about z by per-frame ``angle`` (T,)."""
    c, s = np.cos(angle), np.sin(angle)
    shape = (-1,) + (1,) * (v.ndim - 2)
    c, s = c.reshape(shape), s.reshape(shape)
    out = v.copy()
    out[..., 0] = c * v[..., 0] - s * v[..., 1]
    out[..., 1] = s * v[..., 0] + c * v[..., 1]
    return out


def encode_3d(motion: Motion) -> np.ndarray:
    """(T, 73) float32 features of ``motion`` (see the module table)."""
    j = motion.joints.astype(np.float64)
    T = len(j)
    theta = headings(j)
    to_local = _FORWARD_ANGLE - theta
    root = j[:, 0, :2]
    local = j.copy()
    local[..., :2] -= root[:, None, :]
    local = _rotate_z(local, to_local)
    step = np.diff(root, axis=0, append=root[-1:] if T < 2 else 2 * root[-1:] - root[-2:-1])
    vel = _rotate_z(step, to_local) * motion.fps
    dtheta = np.diff(theta, append=theta[-1] if T < 2 else 2 * theta[-1] - theta[-2]) * motion.fps
    out = np.concatenate([local[:, 0, 2:3], vel, dtheta[:, None], local[:, 1:].reshape(T, -1)], axis=1)
    return out.astype(np.float32)


def decode_3d(features: np.ndarray, fps: float = sk.FPS, start_xy=(0.0, 0.0),
              start_heading: float = _FORWARD_ANGLE) -> Motion:
    """Joint positions from (T, 73) features, integrating root velocity and heading
    rate from ``start_xy`` and ``start_heading`` (default: at the origin facing -y)."""
    f = np.asarray(features, dtype=np.float64)
    T = len(f)
    theta = start_heading + np.concatenate([[0.0], np.cumsum(f[:-1, 3]) / fps])
    to_world = theta - _FORWARD_ANGLE
    step = _rotate_z(f[:, 1:3], to_world) / fps
    root = np.asarray(start_xy, np.float64) + np.concatenate([np.zeros((1, 2)), np.cumsum(step[:-1], axis=0)])
    local = np.zeros((T, sk.NUM_JOINTS, 3))
    local[:, 0, 2] = f[:, 0]
    local[:, 1:] = f[:, 4:].reshape(T, sk.NUM_JOINTS - 1, 3)
    world = _rotate_z(local, to_world)
    world[..., :2] += root[:, None, :]
    return Motion(world, fps)


def local_joints_3d(features):
    """(…, T, 24, 3) pelvis-floor-relative joints in the heading frame from (…, T, 73)
    features; works on numpy arrays and torch tensors (what the pose networks see)."""
    lead = features.shape[:-1]
    rest = features[..., 4:].reshape(*lead, sk.NUM_JOINTS - 1, 3)
    height = features[..., 0:1]
    if isinstance(features, np.ndarray):
        zeros = np.zeros(lead + (2,), features.dtype)
        return np.concatenate([np.concatenate([zeros, height], -1)[..., None, :], rest], axis=-2)
    import torch  # only reached with tensors

    zeros = features.new_zeros(lead + (2,))
    return torch.cat([torch.cat([zeros, height], -1).unsqueeze(-2), rest], dim=-2)


def encode_2d(motion: Motion) -> np.ndarray:
    """(T, 36) float32: OpenPose-18 seen from the front (x, z), hip centre of
    the first frame at x = 0, after turning the dancer to face -y at frame 0."""
    m = motion.normalized_facing(0)
    op = smpl24_to_openpose18(m.joints)  # (T, 18, 3)
    xz = op[..., [0, 2]].astype(np.float64)
    hips = 0.5 * (m.joints[0, sk.JOINT_INDEX["l_hip"], 0] + m.joints[0, sk.JOINT_INDEX["r_hip"], 0])
    xz[..., 0] -= hips
    return xz.reshape(len(xz), -1).astype(np.float32)


def decode_2d(features: np.ndarray) -> np.ndarray:
    """(T, 18, 2) front-view OpenPose-18 keypoints (x right, z up, metres)."""
    f = np.asarray(features, dtype=np.float32)
    return f.reshape(len(f), 18, 2)


def encode(motion: Motion, output: str = SMPL24) -> np.ndarray:
    pose_dim(output)
    return encode_3d(motion) if output == SMPL24 else encode_2d(motion)
