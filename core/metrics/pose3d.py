"""3D pose accuracy: MPJPE and PA-MPJPE (the 3D human pose estimation field's two numbers).

MPJPE is the mean Euclidean distance between predicted and true joints after both are made
relative to their root joint (the pelvis), in the units of the input (× 1000 for mm from
metres). PA-MPJPE first aligns each predicted frame to the truth by the best similarity
transform (rotation, scale and translation: Procrustes, Umeyama 1991), so it measures the
pose alone, not its orientation or size.
"""

from __future__ import annotations

import numpy as np


def mpjpe(pred: np.ndarray, true: np.ndarray, root: int = 0) -> float:
    """Mean per-joint position error of root-relative (..., J, 3) poses."""
    p = pred - pred[..., root:root + 1, :]
    t = true - true[..., root:root + 1, :]
    return float(np.linalg.norm(p - t, axis=-1).mean())


def procrustes_aligned(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """``pred`` (..., J, 3), each pose moved by the similarity transform (rotation without
    reflection, uniform scale, translation) that best fits it to ``true`` (least squares)."""
    p = pred - pred.mean(axis=-2, keepdims=True)
    t = true - true.mean(axis=-2, keepdims=True)
    u, s, vt = np.linalg.svd(np.swapaxes(p, -1, -2) @ t)
    d = np.sign(np.linalg.det(u @ vt))
    s[..., -1] *= d
    u[..., :, -1] *= d[..., None]
    rot = u @ vt                                                           # p @ rot ≈ t
    scale = s.sum(axis=-1) / np.maximum((p ** 2).sum(axis=(-1, -2)), 1e-12)
    return scale[..., None, None] * (p @ rot) + true.mean(axis=-2, keepdims=True)


def pa_mpjpe(pred: np.ndarray, true: np.ndarray) -> float:
    """MPJPE after :func:`procrustes_aligned`."""
    return float(np.linalg.norm(procrustes_aligned(pred, true) - true, axis=-1).mean())
