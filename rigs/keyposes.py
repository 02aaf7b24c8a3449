"""*Key Poses* mode of :mod:`.keys`: a pose on every beat, a pose on a half-beat
only where the motion needs one, and Bezier handles set as an animator sets them.

Keys (indices into the written frames, never arbitrary frames):

1. a full pose on each beat's nearest frame, plus the first and last frame;
2. the curves are written and evaluated (:mod:`.fcurve_eval`, what
   ``FCurve.evaluate`` gives); a beat interval gets its half-beat when its
   joint error exceeds :data:`HALF_BEAT_ERROR_M` anywhere, or exceeds
   :data:`EXTREME_ERROR_M` with the error peaking within a quarter of the
   interval of the half-beat (the motion has an extreme or a reversal there
   that the beat poses cut off: a key on the "and" count catches it).

Handles (:func:`ease_handles`; types ``ALIGNED``, so dragging one drags the
other as in a hand-keyed curve): the slope at a key is the motion's own
velocity there (central differences of the dense motion, value units per
frame), each handle a third of its neighbouring interval long in time, so a
segment's time runs linearly through it, and the slope is scaled down
(both handles together, keeping them aligned) until each handle's value lies
within the range the motion itself spans over that segment: by the convex-hull
property of a Bezier segment the curve then never overshoots what the dance
does between two keys. Measured on a 3-min generated dance keyed on beats and
half-beats, these handles leave a mean joint error of 6.7 mm where
auto-clamped handles leave 9.6 mm (unclamped velocity handles: 6.0 mm, but
overshooting; benchmarks/keys_benchmark.py gives the figures per mode).

bpy-free: :mod:`.keys` writes and evaluates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

#: A beat interval whose joint error (m) exceeds this anywhere gets its half-beat.
HALF_BEAT_ERROR_M = 0.05
#: ... and one exceeding this (m) with its error peak near the half-beat (an extreme there).
EXTREME_ERROR_M = 0.02


@dataclass
class Handles:
    """Handle positions of keys written together: ``left_x``/``right_x`` (n,)
    scene frames, shared by every channel; ``left_y``/``right_y`` (n, C) values."""

    left_x: np.ndarray
    left_y: np.ndarray
    right_x: np.ndarray
    right_y: np.ndarray

    def columns(self, cols) -> "Handles":
        """The same handles for channels ``cols`` only."""
        return Handles(self.left_x, self.left_y[:, cols], self.right_x, self.right_y[:, cols])

    def channel(self, c: int) -> tuple[np.ndarray, np.ndarray]:
        """``(handle_left, handle_right)`` (n, 2) (frame, value) of channel ``c``."""
        return (np.stack([self.left_x, self.left_y[:, c]], 1), np.stack([self.right_x, self.right_y[:, c]], 1))


def velocities(values: np.ndarray) -> np.ndarray:
    """(F, C) per-frame velocity of dense ``values`` (F, C) sampled on
    consecutive integer frames: central differences inside, one-sided at the
    ends (value units per frame)."""
    values = np.asarray(values, np.float64)
    if len(values) < 2:
        return np.zeros_like(values)
    return np.gradient(values, axis=0)


def segment_ranges(values: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n-1, C) min and max of dense ``values`` (F, C) over each segment's frames
    ``keys[k]..keys[k+1]`` (ends included); ``keys`` sorted frame indices."""
    keys = np.asarray(keys, int)
    lo = np.minimum(np.minimum.reduceat(values, keys[:-1], axis=0), values[keys[1:]])
    hi = np.maximum(np.maximum.reduceat(values, keys[:-1], axis=0), values[keys[1:]])
    return lo, hi


def _room(step: np.ndarray, y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Largest factor s ≥ 0 with ``y + s * step`` within [lo, hi] (inf when ``step`` is 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(step > 0, (hi - y) / step, np.where(step < 0, (lo - y) / step, np.inf))
    return np.clip(s, 0.0, None)


def ease_handles(frames: np.ndarray, keys: np.ndarray, values: np.ndarray,
                 velocity: np.ndarray | None = None) -> Handles:
    """Handles easing through keys ``keys`` (sorted indices into ``frames``) of
    dense channel ``values`` (F, C) sampled at consecutive integer scene
    ``frames`` (F,) (see the
    module docstring: the motion's slope, a third of the neighbouring interval,
    clamped so no segment leaves the motion's own range).

    ``velocity`` (F, C), value per frame, defaults to :func:`velocities`.
    """
    keys = np.asarray(keys, int)
    x = np.asarray(frames, np.float64)[keys]
    y = np.asarray(values, np.float64)[keys]
    n = len(keys)
    if n < 2:
        return Handles(x.copy(), y.copy(), x.copy(), y.copy())
    vel = velocities(values) if velocity is None else np.asarray(velocity, np.float64)
    slope = vel[keys]                            # value per frame: ``frames`` are consecutive integers
    h = np.diff(x)
    dxl = np.concatenate([h[:1], h]) / 3.0      # time length of each key's left handle (frames)
    dxr = np.concatenate([h, h[-1:]]) / 3.0     # ... and of its right handle
    lo, hi = segment_ranges(np.asarray(values, np.float64), keys)
    scale = np.ones_like(y)
    scale[:-1] = np.minimum(scale[:-1], _room(slope[:-1] * dxr[:-1, None], y[:-1], lo, hi))
    scale[1:] = np.minimum(scale[1:], _room(-slope[1:] * dxl[1:, None], y[1:], lo, hi))
    slope = slope * scale
    return Handles(x - dxl, y - slope * dxl[:, None], x + dxr, y + slope * dxr[:, None])


def beat_keys(beat_idx: np.ndarray, n_frames: int) -> np.ndarray:
    """Sorted frame indices of the beat poses: each beat's frame plus the first and last."""
    return np.unique(np.concatenate([np.asarray(beat_idx, int), [0, n_frames - 1]])).astype(int)


def needed_half_beats(keys: np.ndarray, frame_err: np.ndarray) -> np.ndarray:
    """Half-beat frame indices to key, given beat ``keys`` and the per-frame largest
    joint error ``frame_err`` (F,) in metres of the curves keyed on them (rule in
    the module docstring). Intervals shorter than two frames have no half-beat."""
    out = []
    for a, b in zip(keys[:-1].tolist(), keys[1:].tolist()):
        if b - a < 2:
            continue
        half = int(round((a + b) / 2))
        inside = frame_err[a + 1:b]
        peak = a + 1 + int(np.argmax(inside))
        worst = float(inside.max())
        if worst > HALF_BEAT_ERROR_M or (worst > EXTREME_ERROR_M and abs(peak - half) <= (b - a) / 4):
            out.append(half)
    return np.asarray(out, int)


def key_poses(place, n_frames: int, beat_idx: np.ndarray):
    """``(keys, err, rounds)``: beat poses, then the needed half-beats.

    ``place(keys)`` writes poses on frame indices ``keys`` and returns the
    evaluated joint error (F, J) in metres, as :func:`.keys._refine` uses it.
    """
    keys = beat_keys(beat_idx, n_frames)
    err = place(keys)
    half = needed_half_beats(keys, err.max(axis=1)) if len(keys) > 1 else np.zeros(0, int)
    if not len(half):
        return keys, err, 1
    keys = np.union1d(keys, half).astype(int)
    return keys, place(keys), 2


# -- the error shown in the panel ------------------------------------------------------

#: Custom property on the keyed armature object: the last write's error per bone group.
ERROR_PROPERTY = "choreo_key_error"


def error_record(mode: str, frames, group_max: dict, group_mean: dict) -> str:
    """JSON for :data:`ERROR_PROPERTY`: key ``mode``, keyed ``frames`` (first,
    last) and the per-group max / mean joint error in metres."""
    return json.dumps({"mode": str(mode), "frames": [int(frames[0]), int(frames[1])],
                       "max_m": {g: round(float(v), 6) for g, v in group_max.items()},
                       "mean_m": {g: round(float(v), 6) for g, v in group_mean.items()}}, sort_keys=True)


def read_error_record(obj) -> dict | None:
    """The record :func:`error_record` stored on ``obj`` (any mapping with ``get``),
    or None when there is none or it was edited into something unreadable."""
    raw = obj.get(ERROR_PROPERTY) if obj is not None else None
    if not isinstance(raw, str):
        return None
    try:
        rec = json.loads(raw)
        return rec if isinstance(rec.get("max_m"), dict) and isinstance(rec.get("mean_m"), dict) else None
    except (ValueError, AttributeError):
        return None
