"""A user's motion file → a library source: read, normalised, cut on kinematic beats.

Every source in a library is on the same footing, so any fragment can follow any
other (DanceIt's pose normalisation, seed 003 §V-C, done once when the source is added):

- 30 fps SMPL-24 (:data:`~choreo.core.skeleton.FPS`);
- scaled so the dancer's body height (median leg + spine + neck length over the
  clip) is the SMPL template's, :data:`BODY_HEIGHT` m: fragments of a child and of a
  tall dancer meet without a jump;
- feet on the floor (:meth:`~choreo.core.motion.Motion.on_floor`), and turned to face
  −y with the pelvis over the origin at the first frame;
- fragment starts = the kinematic beats (prominent stops, :mod:`~choreo.core.data.kinematic`)
  and frame 0: a fragment starts where a move starts.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .. import skeleton as sk
from ..errors import ChoreoInputError
from ..motion import Motion

#: Files ``choreo library add`` reads (3D); 2D sources wait for the lifting path.
MOTION_SUFFIXES = (".bvh", ".npz", ".pkl", ".pickle")
POSE2D_SUFFIXES = (".json",)
#: Shortest source worth keeping (s): one fragment of the shortest length.
MIN_SECONDS = 1.0

_CHAIN = ("l_hip", "l_knee", "l_ankle"), ("r_hip", "r_knee", "r_ankle"), ("pelvis", "spine1", "spine2",
                                                                           "spine3", "neck", "head")


def body_height(joints: np.ndarray) -> float:
    """Median over frames of mean leg length + pelvis-to-head chain length (m): a
    standing height that does not depend on the pose."""
    i = sk.JOINT_INDEX

    def chain(names):
        idx = [i[n] for n in names]
        return np.linalg.norm(np.diff(joints[:, idx], axis=1), axis=-1).sum(axis=1)

    legs = 0.5 * (chain(_CHAIN[0]) + chain(_CHAIN[1]))
    return float(np.median(legs + chain(_CHAIN[2])))


def _template_height() -> float:
    from ..skeleton_maps import smpl_rest_joints

    return body_height(smpl_rest_joints()[None])


#: Body height every source is scaled to (m): the SMPL neutral template's.
BODY_HEIGHT = _template_height()


def normalize_source(motion: Motion, name: str = "motion") -> Motion:
    """``motion`` at 30 fps, scaled to :data:`BODY_HEIGHT`, feet on the floor, facing
    −y with the pelvis over the origin at frame 0 (see the module notes)."""
    if abs(motion.fps - sk.FPS) > 1e-6:
        motion = motion.resample(sk.FPS)
    j = motion.joints.astype(np.float64)
    if not np.all(np.isfinite(j)):
        raise ChoreoInputError(name, "joint positions hold NaN or infinite values")
    h = body_height(j)
    if not (h > 1e-3):
        raise ChoreoInputError(name, "the skeleton has no size (all joints in one place)")
    m = Motion(j * (BODY_HEIGHT / h), sk.FPS).on_floor().normalized_facing(0)
    if m.duration < MIN_SECONDS:
        raise ChoreoInputError(name, f"{m.duration:.2f} s of motion is shorter than one fragment "
                                     f"({MIN_SECONDS:g} s)")
    return Motion(m.joints.astype(np.float32), sk.FPS)


def fragment_starts(motion: Motion) -> np.ndarray:
    """Frames where fragments may start (int64, increasing): frame 0 and every
    kinematic beat, where a move starts."""
    from ..data.kinematic import kinematic_beats

    beats = np.round(kinematic_beats(motion) * motion.fps).astype(np.int64)
    return np.unique(np.concatenate([[0], beats[(beats > 0) & (beats < motion.num_frames - 1)]]))


def read_source(path: str | os.PathLike) -> Motion:
    """The 3D motion in a user's file (BVH, Choreo .npz dance or motion, AIST++
    ``keypoints3d``/``motions`` .pkl), before normalisation. 2D pose files (OpenPose
    JSON, Dance Revolution JSON) are refused: they need lifting to 3D first."""
    from ..formats import load_motion

    p = Path(path)
    if not p.exists():
        raise ChoreoInputError(p, "no such file")
    if p.is_dir() or p.suffix.lower() in POSE2D_SUFFIXES:
        raise ChoreoInputError(p, "holds 2D poses (OpenPose or Dance Revolution JSON); the library keeps "
                                  "3D motion, and lifting 2D to 3D is not available yet: add BVH, .npz or "
                                  "AIST++ .pkl files")
    return load_motion(p)
