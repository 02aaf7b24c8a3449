"""1-D signal helpers on numpy alone: Gaussian smoothing, peaks, relative extrema.

A stock Blender ships numpy and nothing else, so what generation needs from
``scipy.ndimage`` / ``scipy.signal`` is implemented here once, for training,
the CLI and the add-on alike. Each function follows its scipy namesake's
definition (edge modes, plateau handling, tie rules) so results agree with it
to rounding; ``tests/test_signal.py`` checks that against scipy itself.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["gaussian_filter1d", "find_peaks", "argrelmin", "argrelmax"]

#: scipy.ndimage edge modes supported -> the numpy.pad mode doing the same
#: (None: periodic indexing in :func:`_extend`, valid for any radius).
_PAD_MODES = {"reflect": None, "mirror": None, "nearest": "edge", "constant": "constant"}
#: Kernels longer than this go through an FFT instead of shifted sums (the
#: crossover measured on (5400, 73) float64 along axis 0).
_DIRECT_TAPS = 72


def _gaussian_kernel(sigma: float, radius: int) -> np.ndarray:
    """Normalised Gaussian weights at offsets -radius..radius (sum 1)."""
    k = np.arange(-radius, radius + 1, dtype=np.float64)
    w = np.exp(-0.5 / (sigma * sigma) * k * k)
    return w / w.sum()


def _extend(x: np.ndarray, r: int, mode: str) -> np.ndarray:
    """``x`` (axis 0) with ``r`` samples of edge extension on both sides."""
    n = x.shape[0]
    if mode in ("reflect", "mirror"):
        # Both are periodic extensions (period 2n, or 2n - 2 for mirror), so
        # index one period: any radius works for any length, even n = 1.
        period = np.concatenate([x, x[::-1]]) if mode == "reflect" else np.concatenate([x, x[-2:0:-1]])
        return period[np.arange(-r, n + r) % period.shape[0]]
    pad = [(r, r)] + [(0, 0)] * (x.ndim - 1)
    return np.pad(x, pad, mode=_PAD_MODES[mode])


def gaussian_filter1d(x, sigma: float, axis: int = -1, mode: str = "reflect", truncate: float = 4.0) -> np.ndarray:
    """Gaussian smoothing along one axis, as ``scipy.ndimage.gaussian_filter1d``.

    Parameters
    ----------
    x : array_like
        Input (any shape). Float input keeps its dtype; other input is
        smoothed and returned as float64 (scipy would cast back to the integer
        type; nothing here smooths integers).
    sigma : float
        Standard deviation of the Gaussian, in samples. 0 returns a copy.
    axis : int
        Axis to smooth along.
    mode : {"reflect", "nearest", "mirror", "constant"}
        Edge extension, named as in scipy.ndimage: ``reflect`` repeats the
        edge sample (d c b a | a b c d | d c b a), ``mirror`` does not
        (d c b | a b c d | c b a), ``nearest`` holds it, ``constant`` pads zeros.
    truncate : float
        The kernel reaches ``int(truncate * sigma + 0.5)`` samples on each side.

    Returns
    -------
    np.ndarray, same shape as ``x``.
        Computed in float64 (as scipy does), then cast to the output dtype.
    """
    x = np.asarray(x)
    out_dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float64)
    if mode not in _PAD_MODES:
        raise ValueError(f"mode must be one of {sorted(_PAD_MODES)}, got {mode!r}")
    sigma = float(sigma)
    if not sigma >= 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    radius = int(truncate * sigma + 0.5)
    if radius <= 0 or x.size == 0:
        return x.astype(out_dtype, copy=True)
    w = _gaussian_kernel(sigma, radius)
    a = np.moveaxis(x, axis, 0).astype(np.float64, copy=False)
    n = a.shape[0]
    padded = _extend(a, radius, mode)
    if 2 * radius + 1 <= _DIRECT_TAPS:
        # Symmetric kernel: fold the pairs (x[i-j] + x[i+j]) first, half the multiplies.
        out = padded[radius:radius + n] * w[radius]
        tmp = np.empty_like(out)
        for j in range(1, radius + 1):
            np.add(padded[radius - j:radius - j + n], padded[radius + j:radius + j + n], out=tmp)
            tmp *= w[radius + j]
            out += tmp
    else:
        # Long kernels: FFT convolution (error ~1e-16 of the signal's scale), a
        # block of columns at a time so the spectra stay ~64 MB at any length.
        m = padded.shape[0] + 2 * radius
        nfft = 1 << (m - 1).bit_length()
        cols = padded.reshape(padded.shape[0], -1)
        kernel = np.fft.rfft(w, nfft)[:, None]
        out = np.empty((n, cols.shape[1]))
        step = max(1, (1 << 22) // nfft)
        for c in range(0, cols.shape[1], step):
            spec = np.fft.rfft(cols[:, c:c + step], nfft, axis=0) * kernel
            out[:, c:c + step] = np.fft.irfft(spec, nfft, axis=0)[2 * radius:2 * radius + n]
        out = out.reshape((n,) + a.shape[1:])
    return np.moveaxis(out, 0, axis).astype(out_dtype, copy=False)


# -- peaks ---------------------------------------------------------------------

def _local_maxima(x: np.ndarray) -> np.ndarray:
    """Indices of local maxima; a flat top counts once, at its middle (rounded
    down), and the first and last samples never count (scipy's rule)."""
    n = x.shape[0]
    if n < 3:
        return np.zeros(0, dtype=np.intp)
    # Runs of equal values: a run is a peak when both neighbouring runs are lower.
    starts = np.flatnonzero(np.concatenate([[True], x[1:] != x[:-1]]))
    ends = np.concatenate([starts[1:], [n]]) - 1
    vals = x[starts]
    if len(starts) < 3:
        return np.zeros(0, dtype=np.intp)
    inner = (vals[1:-1] > vals[:-2]) & (vals[1:-1] > vals[2:])
    s, e = starts[1:-1][inner], ends[1:-1][inner]
    return ((s + e) // 2).astype(np.intp)


def _condition(cond) -> tuple[float | None, float | None]:
    """(min, max) from a scalar threshold or a (min, max) pair (None = open)."""
    if isinstance(cond, (tuple, list)):
        if len(cond) != 2:
            raise ValueError(f"a condition is a number or a (min, max) pair, got {cond!r}")
        lo, hi = cond
        return (None if lo is None else float(lo)), (None if hi is None else float(hi))
    return float(cond), None


def _within(values: np.ndarray, cond) -> np.ndarray:
    lo, hi = _condition(cond)
    keep = np.ones(values.shape[0], dtype=bool)
    if lo is not None:
        keep &= lo <= values
    if hi is not None:
        keep &= values <= hi
    return keep


def _select_by_distance(peaks: np.ndarray, heights: np.ndarray, distance: float) -> np.ndarray:
    """Keep-mask: the highest peaks first, each removing lower ones closer than ``distance``."""
    d = math.ceil(distance)
    # Closer-than-d neighbours of peak j are the contiguous index range [lo[j], hi[j]).
    lo = np.searchsorted(peaks, peaks - d + 1, side="left")
    hi = np.searchsorted(peaks, peaks + d - 1, side="right")
    keep = np.ones(peaks.shape[0], dtype=bool)
    # Stable sort: of equal heights the later peak is served first (scipy's
    # order too, wherever its unstable argsort keeps ties in place).
    for j in np.argsort(heights, kind="stable")[::-1].tolist():
        if keep[j]:
            keep[lo[j]:hi[j]] = False
            keep[j] = True
    return keep


def _sweep_minima(values: list[float]) -> tuple[list[float], list[int]]:
    """For every i: the minimum of values[L+1..i], where L is the nearest index
    left of i with a strictly greater value, and the rightmost index holding it.

    One monotonic-stack pass, O(n): each stack entry covers the span back to
    its own greater neighbour and remembers that span's minimum.
    """
    st_v: list[float] = []
    st_m: list[float] = []
    st_i: list[int] = []
    mins = [0.0] * len(values)
    where = [0] * len(values)
    for i, v in enumerate(values):
        m, mi = v, i
        while st_v and st_v[-1] <= v:
            st_v.pop()
            pm, pi = st_m.pop(), st_i.pop()
            if pm < m:  # strict: on ties the nearer (right) sample stays the base
                m, mi = pm, pi
        st_v.append(v)
        st_m.append(m)
        st_i.append(mi)
        mins[i], where[i] = m, mi
    return mins, where


def _prominences(x: np.ndarray, peaks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(prominences, left_bases, right_bases) of ``peaks`` in ``x`` (wlen None).

    A peak's left base is the lowest sample between it and the nearest higher
    sample to its left (or the signal start), the one closest to the peak on
    ties; the right base likewise; prominence = height - the higher base.
    """
    n = x.shape[0]
    if peaks.size == 0:
        return np.zeros(0), np.zeros(0, np.intp), np.zeros(0, np.intp)
    vals = x.tolist()
    lmin, lpos = _sweep_minima(vals)
    rmin, rpos = _sweep_minima(vals[::-1])
    p = peaks.tolist()
    left_min = np.array([lmin[i] for i in p])
    left_base = np.array([lpos[i] for i in p], dtype=np.intp)
    right_min = np.array([rmin[n - 1 - i] for i in p])
    right_base = np.array([n - 1 - rpos[n - 1 - i] for i in p], dtype=np.intp)
    prom = x[peaks] - np.maximum(left_min, right_min)
    return prom, left_base, right_base


def find_peaks(x, height=None, distance=None, prominence=None) -> tuple[np.ndarray, dict]:
    """Local maxima of a 1-D signal, filtered as ``scipy.signal.find_peaks``.

    Parameters
    ----------
    x : array_like (N,)
        The signal (float64 internally; must be free of NaN).
    height : float or (min, max), optional
        Keep peaks whose value is within the bound(s).
    distance : float, optional
        Minimum index distance (>= 1, rounded up) between kept peaks; the
        higher peaks are kept first, the lower ones closer to them dropped.
    prominence : float or (min, max), optional
        Keep peaks whose prominence (how far the signal must descend from the
        peak before reaching a higher sample, on the side where that is less)
        is within the bound(s). Computed over the whole signal (scipy's
        ``wlen=None``), after the height and distance filters.

    Returns
    -------
    peaks : np.ndarray (K,) intp
        Increasing indices; a flat top is one peak at its middle sample
        (rounded down); the first and last samples are never peaks.
    properties : dict
        ``peak_heights`` (with ``height``), ``prominences``, ``left_bases``,
        ``right_bases`` (with ``prominence``), each (K,) and aligned with ``peaks``.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"x must be 1-D, got shape {x.shape}")
    if distance is not None and not distance >= 1:
        raise ValueError(f"distance must be >= 1, got {distance}")
    peaks = _local_maxima(x)
    props: dict[str, np.ndarray] = {}
    if height is not None:
        h = x[peaks]
        keep = _within(h, height)
        peaks, props["peak_heights"] = peaks[keep], h[keep]
    if distance is not None and peaks.size > 1:
        keep = _select_by_distance(peaks, x[peaks], distance)
        peaks = peaks[keep]
        props = {k: v[keep] for k, v in props.items()}
    if prominence is not None:
        prom, lb, rb = _prominences(x, peaks)
        props.update(prominences=prom, left_bases=lb, right_bases=rb)
        keep = _within(prom, prominence)
        peaks = peaks[keep]
        props = {k: v[keep] for k, v in props.items()}
    return peaks, props


# -- relative extrema -------------------------------------------------------------

def _relative_extrema(x, order: int, mode: str, better) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"x must be 1-D, got shape {x.shape}")
    if int(order) != order or order < 1:
        raise ValueError(f"order must be an integer >= 1, got {order}")
    if mode not in ("clip", "wrap"):
        raise ValueError(f"mode must be 'clip' or 'wrap', got {mode!r}")
    n = x.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    locs = np.arange(n)
    keep = np.ones(n, dtype=bool)
    for shift in range(1, int(order) + 1):
        # "clip" compares the edge samples with themselves, so they never qualify.
        for nb in (locs + shift, locs - shift):
            nb = np.clip(nb, 0, n - 1) if mode == "clip" else nb % n
            keep &= better(x, x[nb])
        if not keep.any():
            break
    return np.flatnonzero(keep)


def argrelmin(x, order: int = 1, mode: str = "clip") -> np.ndarray:
    """Indices of samples strictly smaller than the ``order`` samples on each side,
    as ``scipy.signal.argrelextrema(x, np.less, order=order, mode=mode)[0]``.

    Parameters
    ----------
    x : array_like (N,)
    order : int
        How many samples on each side must be larger (>= 1).
    mode : {"clip", "wrap"}
        ``clip``: the signal does not extend past its ends (so the first and
        last samples never qualify); ``wrap``: it is periodic.

    Returns
    -------
    np.ndarray (K,) intp, increasing. A flat bottom (equal neighbours) is not a minimum.
    """
    return _relative_extrema(x, order, mode, np.less)


def argrelmax(x, order: int = 1, mode: str = "clip") -> np.ndarray:
    """Indices of strict relative maxima; see :func:`argrelmin` (``np.greater``)."""
    return _relative_extrema(x, order, mode, np.greater)
