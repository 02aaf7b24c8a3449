"""Numpy twins of the layers of Choreo's temporal convolution networks (the beat
activation, the 2D→3D lifter): what runs inside Blender, matching torch's ``Conv1d``
(zero 'same' padding) and ``elu`` to float32 rounding."""

from __future__ import annotations

import numpy as np


def elu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))


def conv3(h: np.ndarray, w: np.ndarray, b: np.ndarray, d: int) -> np.ndarray:
    """'Same' 3-tap convolution of ``h`` (T, C_in) at dilation ``d`` (zeros beyond both
    ends); ``w`` is torch's Conv1d weight (C_out, C_in, 3)."""
    T, c = h.shape
    p = np.zeros((T + 2 * d, c), np.float32)
    p[d:d + T] = h
    taps = np.concatenate([p[0:T], p[d:d + T], p[2 * d:2 * d + T]], axis=1)
    return taps @ w.transpose(2, 1, 0).reshape(3 * c, -1) + b


def conv1(h: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1×1 convolution of ``h`` (T, C_in); ``w`` is torch's Conv1d weight (C_out, C_in, 1)."""
    return h @ w[:, :, 0].T + b
