"""Blender's F-curve evaluation of Bezier keys, in numpy.

Keying *On Beats* checks, after every round of keys, how far the curves
drift from the dance between the keys, at every frame of every channel:
about half a million evaluations for a 3-min song. ``FCurve.evaluate`` costs
≈3 µs a call from Python; evaluating the same cubic segments here is ~50×
faster. It follows Blender's ``fcurve_eval_keyframes``: a frame on a key
takes the key's value; before the first / after the last key the
value is held (constant extrapolation); between two keys the segment
(key, right handle, left handle, next key) has each handle shortened to the
segment's length in time when longer (``BKE_fcurve_correct_bezpart``), then
``x(t) = frame`` is solved for ``t`` (here by bisection to 1e-9, where Blender
uses Cardano's formula in single precision) and ``y(t)`` returned.

Any handle types work (auto and auto-clamped, vector, and the aligned or
free handles *Key Poses* sets, of any length: ``tests/test_keyposes.py``
checks them against ``FCurve.evaluate``): only the handle positions Blender
stores are read. Only curves this can reproduce are evaluated here (every key Bezier, no
modifiers, constant extrapolation); :func:`evaluate` falls back to Blender for
any other curve.
"""

from __future__ import annotations

import numpy as np

#: A frame this close to a key takes the key's value (the segment would give it too,
#: up to the solver's rounding).
KEY_THRESHOLD = 1e-4
_BISECTIONS = 32


def bezier_values(co: np.ndarray, handle_left: np.ndarray, handle_right: np.ndarray,
                  frames: np.ndarray) -> np.ndarray:
    """Values at ``frames`` of Bezier F-curves that share their key frames.

    Parameters
    ----------
    co, handle_left, handle_right : np.ndarray, (n, 2) or (C, n, 2)
        Key (frame, value) and handle positions, keys in increasing frame order;
        with a leading curve axis every curve must have the same frames (x) of
        keys and handles, as curves keyed together with auto handles or with
        *Key Poses*' handles (:mod:`.keyposes`) do.
    frames : np.ndarray, (F,)

    Returns
    -------
    np.ndarray, float64, (F,) or (C, F)
    """
    co, hl, hr = (np.asarray(a, np.float64) for a in (co, handle_left, handle_right))
    single = co.ndim == 2
    if single:
        co, hl, hr = co[None], hl[None], hr[None]
    t = _Timing(co[0, :, 0], hl[0, :, 0], hr[0, :, 0], np.asarray(frames, np.float64))
    out = t.values(co[:, :, 1], hl[:, :, 1], hr[:, :, 1])
    return out[0] if single else out


class _Timing:
    """What depends only on the key and handle frames: which segment each frame
    falls in, its Bezier parameter ``t`` and the handle shortening factors."""

    def __init__(self, x: np.ndarray, hlx: np.ndarray, hrx: np.ndarray, f: np.ndarray):
        self.n, self.F = len(x), len(f)
        self.before = f <= x[0] if self.n else np.ones(len(f), bool)
        self.inside = (f > x[0]) & (f < x[-1]) if self.n > 1 else np.zeros(len(f), bool)
        if self.n == 0:
            return
        k = np.clip(np.searchsorted(x, f), 0, self.n - 1)
        self.hits = [(h, c[h]) for c in (k, np.maximum(k - 1, 0)) for h in [np.abs(x[c] - f) < KEY_THRESHOLD]]
        if not self.inside.any():
            return
        fi = f[self.inside]
        seg = np.clip(np.searchsorted(x, fi, side="right") - 1, 0, self.n - 2)
        x1, x4, x2, x3 = x[seg], x[seg + 1], hrx[seg], hlx[seg + 1]
        span = x4 - x1
        # no handle longer (in time) than its segment: the same factor shortens x and y
        self.fac1 = np.minimum(1.0, span / np.maximum(np.abs(x1 - x2), 1e-300))
        self.fac2 = np.minimum(1.0, span / np.maximum(np.abs(x4 - x3), 1e-300))
        x2 = x1 - self.fac1 * (x1 - x2)
        x3 = x4 - self.fac2 * (x4 - x3)
        lo, hi = np.zeros(len(fi)), np.ones(len(fi))
        for _ in range(_BISECTIONS):  # x(t) rises monotonically on a corrected segment
            mid = 0.5 * (lo + hi)
            above = _cubic(x1, x2, x3, x4, mid) > fi
            hi = np.where(above, mid, hi)
            lo = np.where(above, lo, mid)
        self.seg, self.t = seg, 0.5 * (lo + hi)

    def values(self, y: np.ndarray, hly: np.ndarray, hry: np.ndarray) -> np.ndarray:
        """(C, F) values for key values ``y`` and handle values (C, n)."""
        out = np.empty((len(y), self.F))
        if self.n == 0:
            out[:] = 0.0
            return out
        out[:, self.before] = y[:, :1]
        out[:, ~self.before & ~self.inside] = y[:, -1:]
        if self.inside.any():
            s = self.seg
            y1, y4 = y[:, s], y[:, s + 1]
            y2 = y1 - self.fac1 * (y1 - hry[:, s])
            y3 = y4 - self.fac2 * (y4 - hly[:, s + 1])
            out[:, self.inside] = _cubic(y1, y2, y3, y4, self.t)
        for hit, key in self.hits:  # frames on a key take its value exactly
            out[:, hit] = y[:, key]
        return out


def _cubic(a, b, c, d, t):
    s = 1.0 - t
    return s * s * s * a + 3.0 * s * s * t * b + 3.0 * s * t * t * c + t * t * t * d


def _reproducible(fc, keys: dict) -> bool:
    return (len(fc.modifiers) == 0 and fc.extrapolation == "CONSTANT"
            and bool(np.all(keys["interpolation"] == _BEZIER)))


def evaluate(fcs, frames: np.ndarray) -> np.ndarray:
    """(F, C) values of F-curves ``fcs`` at ``frames``, as ``FCurve.evaluate`` gives them.

    Curves with the same key and handle frames (all curves of one keying round)
    share one solve for ``t``; a curve this module cannot reproduce is evaluated
    by Blender.
    """
    from .actions import read_keys

    wanted = ("co", "handle_left", "handle_right", "interpolation")
    frames = np.asarray(frames, np.float64)
    out = np.empty((len(frames), len(fcs)))
    groups: dict[bytes, list] = {}
    for c, fc in enumerate(fcs):
        keys = read_keys(fc, wanted)
        if not _reproducible(fc, keys):
            out[:, c] = [fc.evaluate(f) for f in frames.tolist()]
            continue
        xs = np.concatenate([keys["co"][:, 0], keys["handle_left"][:, 0], keys["handle_right"][:, 0]])
        groups.setdefault(xs.tobytes(), []).append((c, keys))
    for members in groups.values():
        cols = [c for c, _ in members]
        stack = {k: np.stack([keys[k] for _, keys in members]) for k in ("co", "handle_left", "handle_right")}
        out[:, cols] = bezier_values(stack["co"], stack["handle_left"], stack["handle_right"], frames).T
    return out


def _bezier_enum() -> int:
    from .actions import enum_value

    return enum_value("interpolation", "BEZIER")


_BEZIER = _bezier_enum()
