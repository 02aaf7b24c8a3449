"""DanceIt spatial alignment (Guo et al., §IV-C, Algorithm 1): repair the joins of
concatenated pose fragments by Time Series Decomposition (TSD).

A dance assembled from retrieved fragments jumps where one fragment ends and the
next begins. Around each such join ``k`` a window of ``window`` (ω_a) frames,
``[k - ω_a/2, k + ω_a/2]``, is rebuilt, every joint coordinate on its own:

1. Line ``F`` through the window's first and last frames; both are kept, so the
   frames outside the window are untouched and the dancer cannot drift.
2. Reference: the ``reference`` (ω_b) frames just before the window, cut into
   sub-windows of ω_a frames. In each, the misalignment ``d = p - F(p)`` (the
   sub-window's own end-to-end line removed) is decomposed as ``d = M + S + γ``
   (eq. 11): the period ``T`` is the smallest lag at which ``d`` repeats within
   the volatility threshold; the trend ``M`` is a cubic polynomial fitted to
   ``d`` smoothed by a length-``T`` moving average (eq. 12); the periodic term
   ``S`` is the per-phase mean of ``d - M`` (eq. 13).
3. Prediction for the abnormal window: ``M*`` = mean of the sub-windows' trends,
   ``S*`` = the periodic term of the sub-window with the longest period, the
   random term ``γ* = 0`` (its expectation); ``d* = M* + S*``.
4. ``p̃ = F(p) + d* - F(d*)``: the predicted misalignment re-pinned to zero at
   both ends (the paper's second linear fit, Alg. 1 l. 21–22), so the window's
   end frames stay exactly where they were.

So the jump is spread over the window as a straight bridge (:func:`linear_align`,
the paper's user-study baseline "linear fitting interpolation") plus the
curvature and oscillation the dancer showed just before it.

Readings of the paper, chosen because they work (all documented here):

- φ, "the difference equation" that removes the periodic part before the cubic
  trend fit, is read as classical decomposition's length-``T`` moving average (a
  difference equation in the filter sense); a first difference would turn a
  position into a velocity and make ``d - φ(d)`` in eq. 13 mix the two.
- The period ``T``: the smallest lag ``2 <= T <= n/2`` with mean |d[i+T] - d[i]|
  below ``volatility`` (5 px); without one the sub-window is aperiodic and its
  "period" is its whole length (its S is then the residual itself, once).
- Discontinuous frame (">10 px keypoint movement"): a literal per-frame movement
  threshold would flag every fast step of a dance (3 cm per frame is 0.9 m/s), so
  the movement is measured *beyond* the motion's own velocity — a frame's step
  minus the mean of its neighbouring steps, averaged over joints. Real dance
  (CMU subject 5) stays under 4 cm; a cut between poses is tens of cm.
- Space: world coordinates of every joint, root included. Pinned window ends make
  the result identical to the input outside the windows, so the trajectory and
  the dancer's position after each join are kept (no drift).
- Joins whose windows overlap are merged into one window; a join without a
  discontinuity (within ±1 frame) is left alone; with fewer than ω_b frames before
  the window the reference is what there is (none: ``d* = 0``, the linear bridge).

Units: ``joints`` in metres, thresholds in metres, window lengths in frames at
``fps``. The paper's pixel and 24-fps constants are converted with
:data:`~choreo.core.metrics.distribution.METRES_PER_PIXEL` (a 1.46 m ankle-to-head
body spanning 460 px of DanceIt's 512-px frames: 1 px ≈ 3.2 mm) and by keeping
ω_a, ω_b in seconds (8 and 24 frames at 24 fps = 1/3 s and 1 s).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np

from ....metrics.distribution import METRES_PER_PIXEL

PAPER_FPS = 24.0
WINDOW_S = 8.0 / PAPER_FPS               # ω_a = 8 frames at 24 fps
REFERENCE_S = 24.0 / PAPER_FPS           # ω_b = 24 frames at 24 fps
THRESHOLD_M = 10.0 * METRES_PER_PIXEL    # discontinuous frame: 10 px ≈ 3.2 cm
VOLATILITY_M = 5.0 * METRES_PER_PIXEL    # period volatility threshold th: 5 px ≈ 1.6 cm


def frames_for(seconds: float, fps: float) -> int:
    """Whole frames (at least 2) spanning ``seconds`` at ``fps``; an even count, so a
    window centred on a join has ``n / 2`` frames either side."""
    n = max(2, int(round(seconds * fps)))
    return n + (n % 2)


def jump_size(joints: np.ndarray) -> np.ndarray:
    """(T,) metres: how far each frame's step from the previous frame departs from
    its neighbouring steps, |v_k - (v_{k-1} + v_{k+1}) / 2| with v_k = p_k - p_{k-1},
    mean over joints. A position jump of J between frames k-1 and k gives ≈ J at k
    and ≈ J/2 at k ± 1; 0 at the first two and the last frame."""
    p = np.asarray(joints, dtype=np.float64)
    out = np.zeros(len(p))
    if len(p) < 4:
        return out
    v = np.diff(p, axis=0)                                  # v[i] = p[i+1] - p[i]
    e = np.linalg.norm(v[1:-1] - 0.5 * (v[:-2] + v[2:]), axis=-1).mean(axis=1)
    out[2:-1] = e                                           # e[i] belongs to frame i + 2
    return out


def discontinuities(joints: np.ndarray, fps: float = 30.0, threshold: float = THRESHOLD_M) -> np.ndarray:
    """Frames that start with a jump: :func:`jump_size` above ``threshold`` (metres,
    10 px ≈ 3.2 cm) and a local maximum, so one jump gives one frame.

    Parameters
    ----------
    joints : (T, J, 3) metres.
    fps : frame rate (unused by the measure, which is a displacement; kept so every
        function of this module takes the same arguments).

    Returns
    -------
    frames : (K,) int, each the first frame after a jump.
    """
    e = jump_size(joints)
    if len(e) < 3:
        return np.zeros(0, np.int64)
    prev = np.concatenate([[-np.inf], e[:-1]])
    nxt = np.concatenate([e[1:], [-np.inf]])
    return np.flatnonzero((e > threshold) & (e >= prev) & (e > nxt))


def _windows(n_frames: int, joins: Sequence[int], jumps: np.ndarray, half: int,
             threshold: float) -> list[tuple[int, int]]:
    """(start, end) inclusive frames of the windows to rebuild: one per join with a
    jump within ±1 frame, clipped to the motion, overlapping windows merged."""
    spans = []
    for k in sorted(int(k) for k in joins):
        if not 0 < k < n_frames:
            continue
        if jumps[max(k - 1, 0):k + 2].max(initial=0.0) <= threshold:
            continue
        s, e = max(k - half, 0), min(k + half, n_frames - 1)
        if spans and s <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(e, spans[-1][1]))
        else:
            spans.append((s, e))
    return [(s, e) for s, e in spans if e - s >= 2]


def _detrend(p: np.ndarray) -> np.ndarray:
    """(n, C) minus the straight line through its first and last rows (eq. F)."""
    u = np.linspace(0.0, 1.0, len(p))[:, None]
    return p - (p[0] + u * (p[-1] - p[0]))


def _period(d: np.ndarray, volatility: float) -> int:
    """Smallest lag 2 <= T <= n/2 at which ``d`` (n,) repeats within ``volatility``
    (mean absolute difference); ``n`` when none does."""
    n = len(d)
    for lag in range(2, n // 2 + 1):
        if np.mean(np.abs(d[lag:] - d[:-lag])) < volatility:
            return lag
    return n


def _moving_average(d: np.ndarray, length: int) -> np.ndarray:
    """Centred moving average of ``d`` (n,) over ``length`` samples, shrinking at the
    ends (the classical decomposition's trend filter φ)."""
    if length <= 1:
        return d.copy()
    c = np.concatenate([[0.0], np.cumsum(d)])
    i = np.arange(len(d))
    lo = np.clip(i - length // 2, 0, len(d))
    hi = np.clip(lo + length, 0, len(d))
    return (c[hi] - c[lo]) / (hi - lo)


@lru_cache(maxsize=16)
def _cubic_basis(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Vandermonde (n, deg+1) of a cubic (lower for n < 4) on [0, 1] and its
    pseudo-inverse: eq. 12's least squares for every series of length n at once."""
    V = np.vander(np.linspace(0.0, 1.0, n), min(4, n))
    return V, np.linalg.pinv(V)


def _decompose(d: np.ndarray, volatility: float) -> tuple[np.ndarray, np.ndarray, int]:
    """TSD of one sub-window's misalignment ``d`` (n,): cubic trend coefficients
    (highest power first, on the index scaled to [0, 1]), the periodic pattern
    S (T,), and the period T."""
    T = _period(d, volatility)
    V, pinv = _cubic_basis(len(d))
    coef = pinv @ _moving_average(d, T)
    resid = d - V @ coef
    S = np.array([resid[t::T].mean() for t in range(T)])
    return coef, S, T


def _predict(ref: np.ndarray, n: int, sub: int, volatility: float) -> np.ndarray:
    """d* (n, C) for an abnormal window of ``n`` frames from the reference frames
    ``ref`` (R, C), cut into sub-windows of ``sub + 1`` frames that share their ends."""
    starts = list(range(len(ref) - 1 - sub, -1, -sub))[::-1]   # aligned on the window's start
    out = np.zeros((n, ref.shape[1]))
    if not starts:
        return out
    V, _ = _cubic_basis(n)
    d = [_detrend(ref[a:a + sub + 1]) for a in starts]
    for c in range(ref.shape[1]):
        parts = [_decompose(di[:, c], volatility) for di in d]
        trend = V @ np.mean([coef for coef, _, _ in parts], axis=0)   # mean of the M_i
        _, S, T = max(parts, key=lambda p: p[2])              # ξ: the longest period
        out[:, c] = trend + S[np.arange(n) % T]
    return out


def _align(joints: np.ndarray, joins: Sequence[int] | None, fps: float, window: int | None,
           reference: int | None, threshold: float, volatility: float, tsd: bool) -> np.ndarray:
    p = np.asarray(joints)
    if p.ndim != 3 or p.shape[-1] != 3:
        raise ValueError(f"joints must be (T, J, 3), got {p.shape}")
    wa = window if window is not None else frames_for(WINDOW_S, fps)
    wb = reference if reference is not None else frames_for(REFERENCE_S, fps)
    if wa < 2 or wb < 0:
        raise ValueError(f"need window >= 2 and reference >= 0 frames, got {wa}, {wb}")
    jumps = jump_size(p)
    if joins is None:
        joins = discontinuities(p, fps, threshold)
    out = p.copy()
    flat = out.reshape(len(out), -1)                     # a view: (T, J*3) coordinate series
    for s, e in _windows(len(p), joins, jumps, wa // 2, threshold):
        seg = flat[s:e + 1].astype(np.float64)
        bridge = seg - _detrend(seg)                         # F(p): the line between the ends
        if tsd:
            ref = flat[max(s - wb, 0):s + 1].astype(np.float64)   # already-aligned frames
            d = _predict(ref, len(seg), wa, volatility)
            bridge = bridge + _detrend(d)                    # d* re-pinned to 0 at both ends
        flat[s + 1:e] = bridge[1:-1]
    return out


def spatial_align(joints: np.ndarray, joins: Sequence[int] | None = None, fps: float = 30.0,
                  window: int | None = None, reference: int | None = None,
                  threshold: float = THRESHOLD_M, volatility: float = VOLATILITY_M) -> np.ndarray:
    """DanceIt spatial alignment (Alg. 1, see the module note) of concatenated fragments.

    Parameters
    ----------
    joints : (T, J, 3) metres, any float dtype (kept).
    joins : first frames of the fragments after the first; None detects them with
        :func:`discontinuities`. A join without a jump (``threshold``) is skipped.
    fps : frame rate of ``joints``.
    window : ω_a, frames rebuilt around each join (default 1/3 s: 10 at 30 fps).
    reference : ω_b, frames before the window that the TSD learns from (default
        1 s: 30 at 30 fps).
    threshold : metres; a join is repaired when :func:`jump_size` exceeds it.
    volatility : metres; the period threshold th (5 px ≈ 1.6 cm).

    Returns
    -------
    joints : (T, J, 3), equal to the input (bitwise) outside the open windows
        ``(k - ω_a/2, k + ω_a/2)``.
    """
    return _align(joints, joins, fps, window, reference, threshold, volatility, tsd=True)


def linear_align(joints: np.ndarray, joins: Sequence[int] | None = None, fps: float = 30.0,
                 window: int | None = None, threshold: float = THRESHOLD_M) -> np.ndarray:
    """The paper's ablation baseline, "linear fitting interpolation": the same windows
    as :func:`spatial_align` filled by the straight line between their end frames
    (``d* = 0``)."""
    return _align(joints, joins, fps, window, 0, threshold, VOLATILITY_M, tsd=False)
