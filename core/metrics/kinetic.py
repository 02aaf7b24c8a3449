"""Kinetic features (72-d) of a dance, the input of FID_k and Div_k.

After google/aistplusplus_api ``aist_plusplus/features/kinetic.py`` (used by
FACT and Bailando). Per joint, over frames 1..T-1:

- mean horizontal kinetic energy: mean of |v_h|², v averaged over a ±2-frame window,
- mean vertical kinetic energy: mean of v_z² (z is up here; y in the reference),
- mean energy expenditure: mean of |a|, a averaged over the same window.

Frame times: the reference runs on AIST++ at 60 fps with a ±2-frame window
(±33 ms). Motions at other rates are resampled to 60 fps first (cubic spline), so the window,
the frame time and the published quirk behave exactly as in the reference.
Like Bailando, only the first 20 s are used and positions are taken relative to
frame 0's root (this matters only for the quirk, which is not translation
invariant).

The quirk: the reference's ``calc_average_acceleration`` computes
``v1 = p[k] - p[k-1] / frame_time`` (operator precedence), so its "energy
expenditure" is |((p[k+1] - p[k]) + p[k-1]) / dt - p[k]| / dt, not an
acceleration. Published FID_k tables include it; ``reference_quirk=True``
reproduces it, the default is the correct physics.
"""

from __future__ import annotations

import numpy as np

from ..motion import Motion

REFERENCE_FPS = 60.0
WINDOW = 2             # frames at 60 fps either side
MAX_SECONDS = 20.0     # Bailando: the first 1200 frames at 60 fps


def _window_mean(x: np.ndarray, lo: int, hi: int, w: int) -> np.ndarray:
    """For i = 1..T-1: mean of x[k] over k in [i-w, i+w] ∩ [lo, hi] (x indexed by k;
    x[k] undefined outside [lo, hi]). Returns (T-1, ...)."""
    n = x.shape[0]
    csum = np.concatenate([np.zeros((1,) + x.shape[1:]), np.cumsum(x[lo:hi + 1], axis=0)])
    i = np.arange(1, n)
    a = np.clip(i - w, lo, hi + 1)
    b = np.clip(i + w, lo - 1, hi)
    count = np.maximum(b - a + 1, 0)
    s = csum[np.maximum(b - lo + 1, 0)] - csum[a - lo]
    shape = (-1,) + (1,) * (x.ndim - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count.reshape(shape) > 0, s / np.maximum(count, 1).reshape(shape), 0.0)


def kinetic_features(motion: Motion, *, reference_quirk: bool = False,
                     max_seconds: float | None = MAX_SECONDS) -> np.ndarray:
    """72-d kinetic feature vector of ``motion``.

    Parameters
    ----------
    motion : Motion
        SMPL-24, metres, z up, any fps (resampled to 60 fps).
    reference_quirk : bool
        Reproduce the reference's operator-precedence bug in the acceleration term
        (the variant behind published FID_k numbers). Default: true acceleration.
    max_seconds : float or None
        Use only the first ``max_seconds`` (Bailando: 20 s); None = all.

    Returns
    -------
    features : np.ndarray (72,) float64, joint-major:
        [KE_horizontal_0, KE_vertical_0, energy_expenditure_0, KE_horizontal_1, ...].
        Units m²/s² and m/s² (correct physics). Zeros for fewer than 3 frames.
    """
    p = motion.resample(REFERENCE_FPS).joints.astype(np.float64)
    if max_seconds is not None:
        p = p[: int(round(max_seconds * REFERENCE_FPS))]
    n_j = p.shape[1]
    if len(p) < 3:
        return np.zeros(3 * n_j)
    p = p - p[:1, :1]            # relative to frame 0's root (Bailando's zero start)
    dt = 1.0 / REFERENCE_FPS
    n = len(p)

    # Velocity: d[k] = p[k] - p[k-1] for k = 1..n-1, averaged over the window.
    d = np.zeros_like(p)
    d[1:] = p[1:] - p[:-1]
    v = _window_mean(d, 1, n - 1, WINDOW) / dt                           # (n-1, J, 3)
    ke_h = (v[..., 0] ** 2 + v[..., 1] ** 2).mean(axis=0)
    ke_v = (v[..., 2] ** 2).mean(axis=0)

    # Acceleration at k = 1..n-2: (v2 - v1) / dt with v2 = (p[k+1]-p[k])/dt.
    acc = np.zeros_like(p)
    if reference_quirk:
        acc[1:-1] = ((p[2:] - p[1:-1]) / dt - (p[1:-1] - p[:-2] / dt)) / dt
    else:
        acc[1:-1] = (p[2:] - 2.0 * p[1:-1] + p[:-2]) / dt ** 2
    a = _window_mean(acc, 1, n - 2, WINDOW)
    ee = np.linalg.norm(a, axis=-1).mean(axis=0)
    return np.stack([ke_h, ke_v, ee], axis=1).reshape(-1)
