"""Geometric (Müller-style relational) features, 32-d, the input of FID_g and Div_g.

After google/aistplusplus_api ``aist_plusplus/features/manual.py``: 32 boolean
relations per frame (hand above the head, foot in front of the other leg's
plane, hands apart, fast hand/foot, ...) averaged over frames 1..T-1, the same
list, joints and thresholds as the reference, including its argument use
(``f_move`` measures its third joint, as the reference does).

Adaptations:

- Thresholds scale with humerus length, shoulder width and hip width of the
  SMPL template (:func:`choreo.core.skeleton_maps.smpl_rest_joints`), fixed
  constants as in the reference (0.242 m, 0.354 m, 0.138 m).
- y up → z up: the reference's ``y_unit``/``minus_y_unit`` become ±z and
  ``y_min`` (lowest joint height of the frame) is taken on z. The other
  relations use only differences and cross products of joints, which a proper
  rotation of the axes leaves unchanged.
- Frame time: the reference divides 60 fps frame differences by 1/120 s
  (``features/utils.py``), so its velocities are twice the true ones. At any
  fps we compute the true velocity and double it, which keeps the published
  effective thresholds (e.g. "fast hand" = faster than 1.25 humerus lengths/s).
"""

from __future__ import annotations

import numpy as np

from ..motion import Motion
from ..skeleton import JOINT_INDEX as J
from ..skeleton_maps import smpl_rest_joints

_REST = smpl_rest_joints()
HL = float(np.linalg.norm(_REST[J["l_shoulder"]] - _REST[J["l_elbow"]]))   # humerus length
SW = float(np.linalg.norm(_REST[J["l_shoulder"]] - _REST[J["r_shoulder"]]))  # shoulder width
HW = float(np.linalg.norm(_REST[J["l_hip"]] - _REST[J["r_hip"]]))          # hip width
VELOCITY_GAIN = 2.0  # reference: 60 fps differences / (1/120 s)

# The reference's joint names → SMPL-24 names.
_NAMES = {
    "root": "pelvis", "lhip": "l_hip", "rhip": "r_hip", "belly": "spine1", "lknee": "l_knee",
    "rknee": "r_knee", "spine": "spine2", "lankle": "l_ankle", "rankle": "r_ankle",
    "chest": "spine3", "ltoes": "l_foot", "rtoes": "r_foot", "neck": "neck",
    "linshoulder": "l_collar", "rinshoulder": "r_collar", "head": "head",
    "lshoulder": "l_shoulder", "rshoulder": "r_shoulder", "lelbow": "l_elbow",
    "relbow": "r_elbow", "lwrist": "l_wrist", "rwrist": "r_wrist",
}

# (kind, joints, threshold as (scale name, factor) or angle range), in the reference's order.
FEATURES: tuple = (
    ("nmove", ("neck", "rhip", "lhip", "rwrist"), ("hl", 1.8)),
    ("nmove", ("neck", "lhip", "rhip", "lwrist"), ("hl", 1.8)),
    ("nplane", ("chest", "neck", "neck", "rwrist"), ("hl", 0.2)),
    ("nplane", ("chest", "neck", "neck", "lwrist"), ("hl", 0.2)),
    ("move", ("belly", "chest", "chest", "rwrist"), ("hl", 1.8)),
    ("move", ("belly", "chest", "chest", "lwrist"), ("hl", 1.8)),
    ("angle", ("relbow", "rshoulder", "relbow", "rwrist"), (0, 110)),
    ("angle", ("lelbow", "lshoulder", "lelbow", "lwrist"), (0, 110)),
    ("nplane", ("lshoulder", "rshoulder", "lwrist", "rwrist"), ("sw", 2.5)),
    ("move", ("lwrist", "rwrist", "rwrist", "lwrist"), ("hl", 1.4)),
    ("move", ("rwrist", "root", "lwrist", "root"), ("hl", 1.4)),
    ("move", ("lwrist", "root", "rwrist", "root"), ("hl", 1.4)),
    ("fast", ("rwrist",), ("hl", 2.5)),
    ("fast", ("lwrist",), ("hl", 2.5)),
    ("plane", ("root", "lhip", "ltoes", "rankle"), ("hl", 0.38)),
    ("plane", ("root", "rhip", "rtoes", "lankle"), ("hl", 0.38)),
    ("nplane", ("zero", "up", "z_min", "rankle"), ("hl", 1.2)),
    ("nplane", ("zero", "up", "z_min", "lankle"), ("hl", 1.2)),
    ("nplane", ("lhip", "rhip", "lankle", "rankle"), ("hw", 2.1)),
    ("angle", ("rknee", "rhip", "rknee", "rankle"), (0, 110)),
    ("angle", ("lknee", "lhip", "lknee", "lankle"), (0, 110)),
    ("fast", ("rankle",), ("hl", 2.5)),
    ("fast", ("lankle",), ("hl", 2.5)),
    ("angle", ("neck", "root", "rshoulder", "relbow"), (25, 180)),
    ("angle", ("neck", "root", "lshoulder", "lelbow"), (25, 180)),
    ("angle", ("neck", "root", "rhip", "rknee"), (50, 180)),
    ("angle", ("neck", "root", "lhip", "lknee"), (50, 180)),
    ("plane", ("rankle", "neck", "lankle", "root"), ("hl", 0.5)),
    ("angle", ("neck", "root", "zero", "up"), (70, 110)),
    ("nplane", ("zero", "down", "z_min", "rwrist"), ("hl", -1.2)),
    ("nplane", ("zero", "down", "z_min", "lwrist"), ("hl", -1.2)),
    ("fast", ("root",), ("hl", 2.3)),
)
_SCALES = {"hl": HL, "sw": SW, "hw": HW}


def _unit_dot(v: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Component of v along direction, per frame (nan where direction is zero)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (v * direction).sum(-1) / np.linalg.norm(direction, axis=-1)


def geometric_features(motion: Motion) -> np.ndarray:
    """32-d geometric feature vector: the fraction of frames 1..T-1 on which each
    of :data:`FEATURES` holds.

    Parameters
    ----------
    motion : Motion
        SMPL-24, metres, z up, any fps.

    Returns
    -------
    features : np.ndarray (32,) float64 in [0, 1]; zeros for fewer than 2 frames.
    """
    p = motion.joints.astype(np.float64)
    if len(p) < 2:
        return np.zeros(len(FEATURES))
    cur, prev = p[1:], p[:-1]
    n = len(cur)
    up = np.array([0.0, 0.0, 1.0])
    z_min = np.zeros((n, 3))
    z_min[:, 2] = cur[..., 2].min(axis=1)
    special = {"zero": np.zeros((n, 3)), "up": np.broadcast_to(up, (n, 3)),
               "down": np.broadcast_to(-up, (n, 3)), "z_min": z_min}
    gain = VELOCITY_GAIN * motion.fps  # displacement per frame → reference velocity

    def at(name, frames=cur):
        return special[name] if name in special else frames[:, J[_NAMES[name]]]

    out = np.zeros((n, len(FEATURES)), dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        for f, (kind, names, arg) in enumerate(FEATURES):
            if kind == "angle":
                a, b, c, d = (at(x) for x in names)
                u, w = b - a, d - c
                cos = (u * w).sum(-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(w, axis=-1))
                ang = np.degrees(np.arccos(cos))
                out[:, f] = (ang > arg[0]) & (ang < arg[1])
                continue
            th = _SCALES[arg[0]] * arg[1]
            if kind == "plane":      # p beyond the plane through a, b, c
                a, b, c, q = (at(x) for x in names)
                out[:, f] = _unit_dot(q - a, np.cross(c - a, b - a)) > th
            elif kind == "nplane":   # p beyond the plane with normal n1→n2 through a
                n1, n2, a, q = (at(x) for x in names)
                out[:, f] = _unit_dot(q - a, n2 - n1) > th
            elif kind == "move":     # velocity of j3 relative to j1 along j1→j2
                j1, j2, j3, _ = names
                vel = (at(j3) - at(j1)) - (at(j3, prev) - at(j1, prev))
                out[:, f] = _unit_dot(vel, at(j2) - at(j1)) * gain > th
            elif kind == "nmove":    # velocity of j4 relative to j1 along the normal of (j1, j2, j3)
                j1, j2, j3, j4 = names
                vel = (at(j4) - at(j1)) - (at(j4, prev) - at(j1, prev))
                out[:, f] = _unit_dot(vel, np.cross(at(j3) - at(j1), at(j2) - at(j1))) * gain > th
            else:                    # fast: speed above the threshold
                (j1,) = names
                out[:, f] = np.linalg.norm(at(j1) - at(j1, prev), axis=-1) * gain > th
    return out.mean(axis=0)
