"""Choreo's plain motion interchange file (.npz), written by every command.

Keys: ``joints`` (T, 24, 3) float32 metres, ``fps`` (scalar), ``joint_names``
(24 strings), ``up`` ("z"), ``units`` ("m") and ``format_version`` (1). No
pickled objects: files load with ``allow_pickle=False``.
"""

from __future__ import annotations

import os
import zipfile

import numpy as np

from .. import skeleton as sk
from ..errors import ChoreoInputError
from ..fileio import atomic_path
from ..motion import Motion

FORMAT_VERSION = 1
REQUIRED_KEYS = ("joints", "fps", "joint_names", "up", "units", "format_version")


def save_npz_motion(motion: Motion, path: str | os.PathLike) -> None:
    """Write ``motion`` to ``path`` atomically (a temporary file, then a rename)."""
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, joints=motion.joints.astype(np.float32), fps=np.float64(motion.fps),
                 joint_names=np.array(motion.joint_names, dtype=str), up=np.array("z"),
                 units=np.array("m"), format_version=np.int64(FORMAT_VERSION))


def load_npz_motion(path: str | os.PathLike) -> Motion:
    """Read a motion .npz, checking keys, shapes, names, units and values.

    Raises
    ------
    ChoreoInputError
        Naming the file and what is wrong with it.
    """
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        raise ChoreoInputError(path, f"cannot read as .npz: {e}") from None
    except ValueError as e:  # object arrays need pickle, which is refused
        raise ChoreoInputError(path, f"holds pickled objects, which are not loaded: {e}") from None
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise ChoreoInputError(path, f"not a Choreo motion file: missing key(s) {', '.join(missing)}")
    version = int(data["format_version"])
    if version > FORMAT_VERSION:
        raise ChoreoInputError(path, f"format_version {version} is newer than this Choreo reads ({FORMAT_VERSION})")
    joints = data["joints"]
    if joints.ndim != 3 or joints.shape[1:] != (sk.NUM_JOINTS, 3) or joints.shape[0] == 0:
        raise ChoreoInputError(path, f"joints must be (T, {sk.NUM_JOINTS}, 3) with T > 0, got {joints.shape}")
    if not np.issubdtype(joints.dtype, np.floating):
        raise ChoreoInputError(path, f"joints must be floating point, got {joints.dtype}")
    bad = ~np.isfinite(joints)
    if bad.any():
        raise ChoreoInputError(path, f"joints hold NaN or infinite values (first at frame {int(np.argwhere(bad)[0, 0])})")
    names = tuple(str(n) for n in np.atleast_1d(data["joint_names"]))
    if names != sk.JOINT_NAMES:
        raise ChoreoInputError(path, "joint_names are not Choreo's SMPL-24 names in order")
    if str(data["up"]) != "z" or str(data["units"]) != "m":
        raise ChoreoInputError(path, f"expected up='z' and units='m', got up={str(data['up'])!r}, units={str(data['units'])!r}")
    fps = float(data["fps"])
    if not (np.isfinite(fps) and fps > 0):
        raise ChoreoInputError(path, f"fps must be a positive number, got {fps}")
    return Motion(joints.astype(np.float32), fps=fps)
