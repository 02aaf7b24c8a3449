"""The canonical skeleton every Choreo motion is expressed on.

SMPL-24 joint names, order and parents: the set AIST++, EDGE and Bailando use
and on which the field's dance metrics are defined. Units are metres, z is up,
the dancer faces -y (Blender's front view) after facing normalisation, 30 fps.
"""

from __future__ import annotations

import numpy as np

JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "l_hip", "r_hip", "spine1", "l_knee", "r_knee", "spine2",
    "l_ankle", "r_ankle", "spine3", "l_foot", "r_foot", "neck", "l_collar",
    "r_collar", "head", "l_shoulder", "r_shoulder", "l_elbow", "r_elbow",
    "l_wrist", "r_wrist", "l_hand", "r_hand",
)
PARENTS: tuple[int, ...] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21,
)
NUM_JOINTS = len(JOINT_NAMES)
JOINT_INDEX = {name: i for i, name in enumerate(JOINT_NAMES)}

FPS = 30.0
UP_AXIS = 2
# Facing normalisation turns the dancer so the hip line's normal points here.
FORWARD = np.array([0.0, -1.0, 0.0])


def _mirror_permutation() -> tuple[int, ...]:
    perm = []
    for name in JOINT_NAMES:
        if name.startswith("l_"):
            perm.append(JOINT_INDEX["r_" + name[2:]])
        elif name.startswith("r_"):
            perm.append(JOINT_INDEX["l_" + name[2:]])
        else:
            perm.append(JOINT_INDEX[name])
    return tuple(perm)


# MIRROR[j] is the joint that j becomes in a left/right mirror image.
MIRROR: tuple[int, ...] = _mirror_permutation()

# Bones as (parent, child) pairs, in joint order (child index = position + 1).
BONES: tuple[tuple[int, int], ...] = tuple((PARENTS[j], j) for j in range(1, NUM_JOINTS))

# Joints the metrics and retargeting name by role.
HANDS = (JOINT_INDEX["l_wrist"], JOINT_INDEX["r_wrist"])
FEET = (JOINT_INDEX["l_ankle"], JOINT_INDEX["r_ankle"], JOINT_INDEX["l_foot"], JOINT_INDEX["r_foot"])


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    """Per-frame bone lengths, shape (T, 23), for joints of shape (T, 24, 3)."""
    parents = np.asarray(PARENTS[1:])
    return np.linalg.norm(joints[:, 1:] - joints[:, parents], axis=-1)
