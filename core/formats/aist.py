"""AIST++ files (google/aistplusplus_api layout), read without unsafe pickle.

* ``keypoints3d/*.pkl``: ``{"keypoints3d": (T, 17, 3), "keypoints3d_optim":
  (T, 17, 3)}``, COCO-17 joints in centimetres, y up, 60 fps.
* ``motions/*.pkl``: ``{"smpl_poses": (T, 72) axis-angle, "smpl_trans": (T, 3),
  "smpl_scaling": (1,), "smpl_loss": float}``; the API poses the SMPL model
  with ``transl = smpl_trans / smpl_scaling`` and scales the result by
  ``smpl_scaling``, giving centimetres like the keypoints.

Pickle can run arbitrary code, so files are read with a restricted unpickler
that rebuilds only numpy arrays, dtypes, scalars and plain containers.

SMPL parameters become joint positions by forward kinematics on a fixed
template skeleton (:func:`skeleton_maps.smpl_rest_joints`), not the SMPL body
model (which cannot be downloaded here): joint rotations are exact, bone
lengths are the template's, not the dancer's shape.
"""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

import numpy as np

from .. import skeleton as sk
from .. import skeleton_maps as smaps
from ..errors import ChoreoInputError
from ..motion import Motion
from ..rotations import axis_angle_to_matrix
from .bvh import yup_to_zup
from .openpose import fill_gaps

FPS = 60.0

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
    ("builtins", "dict"), ("builtins", "list"), ("builtins", "tuple"), ("builtins", "set"),
    ("builtins", "frozenset"), ("builtins", "int"), ("builtins", "float"),
    ("builtins", "complex"), ("builtins", "bytes"), ("builtins", "bytearray"), ("builtins", "str"),
    ("collections", "OrderedDict"),
}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, path):
        super().__init__(file)
        self._path = path

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise ChoreoInputError(self._path, f"pickle refers to {module}.{name}; only numpy arrays and "
                                           "plain containers are loaded (pickles can run code)")


def safe_load_pickle(path: str | os.PathLike):
    """Unpickle ``path`` allowing only numpy arrays and plain Python containers."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise ChoreoInputError(path, f"cannot read: {e.strerror or e}") from None
    if not raw:
        raise ChoreoInputError(path, "file is empty")
    try:
        return _RestrictedUnpickler(io.BytesIO(raw), path).load()
    except ChoreoInputError:
        raise
    except Exception as e:  # truncated or corrupt pickles raise many types
        raise ChoreoInputError(path, f"not a readable pickle: {type(e).__name__}: {e}") from None


def _get(data, key: str, path, shape_tail: tuple, ndim: int) -> np.ndarray:
    if not isinstance(data, dict):
        raise ChoreoInputError(path, "expected a dict of arrays")
    if key not in data:
        raise ChoreoInputError(path, f"missing key {key!r}")
    try:
        a = np.asarray(data[key], dtype=np.float64)
    except (TypeError, ValueError):
        raise ChoreoInputError(path, f"{key} is not a numeric array") from None
    if a.ndim != ndim or a.shape[1:] != shape_tail or (ndim > 1 and a.shape[0] == 0):
        want = "(T, " + ", ".join(map(str, shape_tail)) + ")" if ndim > 1 else str(shape_tail)
        raise ChoreoInputError(path, f"{key} must have shape {want}, got {a.shape}")
    return a


def load_aist_keypoints(path: str | os.PathLike, optimized: bool = True) -> Motion:
    """AIST++ ``keypoints3d`` pkl as a Motion (SMPL-24 via COCO-17, metres, z up, 60 fps).

    Uses ``keypoints3d_optim`` when present and ``optimized``; NaN joints are
    filled by interpolation over time.
    """
    return _keypoints_motion(safe_load_pickle(path), path, optimized)


def _keypoints_motion(data, path, optimized: bool = True) -> Motion:
    key = "keypoints3d_optim" if optimized and isinstance(data, dict) and "keypoints3d_optim" in data \
        else "keypoints3d"
    kp = _get(data, key, path, (17, 3), 3)
    ok = np.isfinite(kp).all(axis=-1)
    if not ok.any(axis=0).all():
        raise ChoreoInputError(path, f"{key}: some joints are missing (NaN) in every frame")
    kp = fill_gaps(np.where(ok[..., None], kp, 0.0), ok.astype(float))
    joints = yup_to_zup(smaps.to_smpl24(kp, "coco17")) * 0.01
    return Motion(joints, fps=FPS)


def smpl_forward_kinematics(poses: np.ndarray, trans: np.ndarray, rest: np.ndarray | None = None) -> np.ndarray:
    """Joint positions (T, 24, 3) of SMPL parameters on a template skeleton.

    Parameters
    ----------
    poses : (T, 72) axis-angle per joint (SMPL order), parent-relative.
    trans : (T, 3) root translation.
    rest : (24, 3) rest joint positions in SMPL's axes (y up); defaults to the
        neutral template.
    """
    if rest is None:
        rest = smaps._SMPL_REST_YUP
    rot = axis_angle_to_matrix(poses.reshape(len(poses), 24, 3))
    glob = np.empty_like(rot)
    pos = np.empty((len(poses), 24, 3))
    for j in range(24):
        p = sk.PARENTS[j]
        if p < 0:
            glob[:, j] = rot[:, j]
            pos[:, j] = rest[j] + trans
        else:
            glob[:, j] = glob[:, p] @ rot[:, j]
            pos[:, j] = pos[:, p] + np.einsum("tij,j->ti", glob[:, p], rest[j] - rest[p])
    return pos


def load_aist_motion(path: str | os.PathLike) -> Motion:
    """AIST++ ``motions`` pkl (SMPL parameters) as a Motion: metres, z up, 60 fps.

    Uses the template skeleton (see the module notes).
    """
    return _smpl_motion(safe_load_pickle(path), path)


def _smpl_motion(data, path) -> Motion:
    poses = _get(data, "smpl_poses", path, (72,), 2)
    trans = _get(data, "smpl_trans", path, (3,), 2)
    scale = np.asarray(data.get("smpl_scaling", [100.0]), dtype=np.float64).ravel()
    if len(trans) != len(poses):
        raise ChoreoInputError(path, f"smpl_trans has {len(trans)} frames, smpl_poses {len(poses)}")
    if scale.size != 1 or not np.isfinite(scale).all() or scale[0] <= 0:
        raise ChoreoInputError(path, f"smpl_scaling must be one positive number, got {scale}")
    if not (np.isfinite(poses).all() and np.isfinite(trans).all()):
        raise ChoreoInputError(path, "smpl_poses or smpl_trans hold NaN or infinite values")
    # As the AIST++ API: pose with transl = trans / scale, then scale (-> cm).
    cm = smpl_forward_kinematics(poses, trans / scale[0]) * scale[0]
    return Motion(yup_to_zup(cm) * 0.01, fps=FPS)


def load_aist(path: str | os.PathLike) -> Motion:
    """Either AIST++ pkl kind, told apart by its keys."""
    data = safe_load_pickle(path)
    if isinstance(data, dict) and "smpl_poses" in data:
        return _smpl_motion(data, path)
    if isinstance(data, dict) and ("keypoints3d" in data or "keypoints3d_optim" in data):
        return _keypoints_motion(data, path)
    raise ChoreoInputError(path, "not an AIST++ file: expected 'smpl_poses' or 'keypoints3d'")
