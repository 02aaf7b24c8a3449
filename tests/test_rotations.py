"""core/rotations.py against scipy's Rotation (the oracle)."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from choreo.core import rotations as R


def _wxyz(r: Rotation) -> np.ndarray:
    return r.as_quat()[..., [3, 0, 1, 2]]


def test_quaternion_products_and_rotation_vectors_match_scipy():
    rng = np.random.default_rng(0)
    a, b = Rotation.random(50, random_state=1), Rotation.random(50, random_state=2)
    qa, qb = _wxyz(a), _wxyz(b)
    ab = R.quat_multiply(qa, qb)
    assert np.allclose(R.quat_to_matrix(ab), (a * b).as_matrix(), atol=1e-12)
    assert np.allclose(R.quat_to_matrix(R.quat_multiply(qa, R.quat_conjugate(qa))), np.eye(3), atol=1e-12)
    v = rng.normal(size=(50, 3)) * rng.uniform(0, 3, size=(50, 1))
    q = R.rotvec_to_quat(v)
    assert np.allclose(R.quat_to_matrix(q), Rotation.from_rotvec(v).as_matrix(), atol=1e-12)
    back = R.quat_to_rotvec(q)
    assert np.allclose(back, Rotation.from_rotvec(v).as_rotvec(), atol=1e-9)  # the shorter way round
    assert np.allclose(R.quat_to_rotvec(-q), back, atol=1e-9)                 # q and -q: one rotation
    assert np.allclose(R.rotvec_to_quat(np.zeros((2, 3))), [[1, 0, 0, 0]] * 2)
    assert np.allclose(R.matrix_to_quat(a.as_matrix()) * np.sign(_wxyz(a)[:, :1]), _wxyz(a), atol=1e-9)
    assert np.allclose(R.axis_angle_to_matrix(v), Rotation.from_rotvec(v).as_matrix(), atol=1e-12)
    mid = R.slerp(qa, qb, np.full(50, 0.5))
    assert np.allclose(R.quat_to_matrix(mid), (a * Rotation.from_rotvec(0.5 * (a.inv() * b).as_rotvec())).as_matrix(),
                       atol=1e-9)
