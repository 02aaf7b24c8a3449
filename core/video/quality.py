"""Image quality of rendered frames against real ones: SSIM and PSNR (numpy only).

:func:`ssim` is Wang et al. 2004's structural similarity with their settings: an 11×11
Gaussian window (σ = 1.5 px), K1 = 0.01, K2 = 0.03, population (not sample) variances,
averaged over the positions where the whole window lies inside the image. For colour
images it is the mean of the three channels' SSIM — what ``skimage.metrics.
structural_similarity(a, b, channel_axis=-1, gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=255)`` returns, the convention of pix2pixHD and
vid2vid evaluations. :func:`psnr` is 10·log10(range² / MSE) in dB over every value.
"""

from __future__ import annotations

import numpy as np

#: Wang et al.'s window: σ in pixels and its radius (skimage's ``truncate=3.5``: int(3.5σ + 0.5)).
SIGMA, RADIUS = 1.5, 5
K1, K2 = 0.01, 0.03


def gaussian_window(sigma: float = SIGMA, radius: int = RADIUS) -> np.ndarray:
    """The normalised 1-D Gaussian (2·radius + 1,) float64 whose outer product is the SSIM window."""
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    g = np.exp(-0.5 * (x / sigma) ** 2)
    return g / g.sum()


def _images(a, b, data_range: float | None) -> tuple[np.ndarray, np.ndarray, float]:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    if a.ndim not in (2, 3):
        raise ValueError(f"expected (H, W) or (H, W, C) images, got shape {a.shape}")
    if data_range is None:
        if a.dtype != np.uint8 or b.dtype != np.uint8:
            raise ValueError("data_range is required for images that are not uint8")
        data_range = 255.0
    return a.astype(np.float64), b.astype(np.float64), float(data_range)


def _blur(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``x`` (H, W, C) filtered by the separable window, 'valid' positions only."""
    from numpy.lib.stride_tricks import sliding_window_view

    x = sliding_window_view(x, len(g), axis=0) @ g  # (H - 2r, W, C)
    return sliding_window_view(x, len(g), axis=1) @ g  # (H - 2r, W - 2r, C)


def ssim_map(a, b, data_range: float | None = None) -> np.ndarray:
    """Per-position SSIM (H - 10, W - 10, C) of two images (H, W[, C]); see the module notes.
    ``data_range`` is the span of the values (255 for uint8, the default only for uint8)."""
    a, b, L = _images(a, b, data_range)
    if min(a.shape[:2]) < 2 * RADIUS + 1:
        raise ValueError(f"images must be at least {2 * RADIUS + 1} px on each side, got {a.shape[:2]}")
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    g = gaussian_window()
    mu_a, mu_b = _blur(a, g), _blur(b, g)
    var_a = _blur(a * a, g) - mu_a ** 2
    var_b = _blur(b * b, g) - mu_b ** 2
    cov = _blur(a * b, g) - mu_a * mu_b
    c1, c2 = (K1 * L) ** 2, (K2 * L) ** 2
    return ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))


def ssim(a, b, data_range: float | None = None) -> float:
    """Mean SSIM of two images (H, W) or (H, W, C), in [-1, 1] (1: identical); colour
    images: the mean over channels (module notes)."""
    return float(ssim_map(a, b, data_range).mean())


def psnr(a, b, data_range: float | None = None) -> float:
    """Peak signal-to-noise ratio in dB of two images (inf when identical)."""
    a, b, L = _images(a, b, data_range)
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else float(10.0 * np.log10(L * L / mse))
