"""A song of any length through a generator trained on short windows.

The song's frames are covered by windows of ``window`` frames (8 s) that
overlap by ``overlap`` frames (2 s); the last window is aligned to the song's
end, and a song shorter than one window is a single window of its own length.
A windowed family (Ren's: :func:`~.families.ren.generate.generate_features`) runs
every window and blends them in *feature* space with raised-cosine weights that
form a partition of unity: inside an overlap one window fades out exactly as the
next fades in. The blended features are then decoded once for the whole song
(:func:`~choreo.core.models.representation.decode_3d`), so root position and
heading integrate across windows and nothing jumps at a join.

:func:`seam_report` and :func:`freeze_report` measure what could go wrong:
velocity jumps at the joins compared with inside windows, and 4-s stretches
where the dancer stops moving (energy below the corpus's range).
"""

from __future__ import annotations

import os

import numpy as np

from ..motion import Motion

WINDOW_SECONDS = 8.0
OVERLAP_SECONDS = 2.0
#: Windows run through the network together (bounds memory on very long songs).
WINDOW_BATCH = 64


def plan_windows(n_frames: int, window: int, overlap: int) -> list[tuple[int, int]]:
    """(start, stop) frames of the windows covering ``n_frames``.

    The fewest windows whose overlaps are at least ``overlap``, spread evenly
    from the first frame to the last (so the last window ends at the song's
    end and no overlap is shorter than asked). A song of at most ``window``
    frames is one window of its own length.
    """
    if n_frames <= 0:
        return []
    if not 0 <= overlap < window:
        raise ValueError(f"need 0 <= overlap < window, got {overlap}, {window}")
    if n_frames <= window:
        return [(0, n_frames)]
    n = int(np.ceil((n_frames - window) / (window - overlap))) + 1
    starts = np.round(np.linspace(0, n_frames - window, n)).astype(int)
    return [(int(s), int(s) + window) for s in starts]


def blend_weights(plan: list[tuple[int, int]], n_frames: int, overlap: int) -> list[np.ndarray]:
    """Per-window float32 weights over its frames; summed over windows they are 1
    at every frame. Each window ramps in over its overlap with the previous one
    and out over its overlap with the next, by a raised cosine."""
    raw = []
    for i, (a, b) in enumerate(plan):
        w = np.ones(b - a, np.float64)
        k = np.arange(b - a) + 0.5
        if i > 0:
            ov = max(plan[i - 1][1] - a, 1)
            w *= _ramp(k / ov)
        if i < len(plan) - 1:
            ov = max(b - plan[i + 1][0], 1)
            w *= _ramp((b - a - k) / ov)
        raw.append(w)
    total = np.zeros(n_frames)
    for (a, b), w in zip(plan, raw):
        total[a:b] += w
    return [(w / total[a:b]).astype(np.float32) for (a, b), w in zip(plan, raw)]


def _ramp(x: np.ndarray) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(x, 0.0, 1.0))


def window_span(n_frames: int, window: int, overlap: int, a: int, b: int) -> tuple[int, int]:
    """Frames ``(c0, c1)`` read by the windows of :func:`plan_windows` (``n_frames``)
    that hold any of frames ``a .. b - 1``: a windowed family run over that
    span gives frames ``a .. b - 1`` exactly as over the whole song."""
    used = [(s, e) for s, e in plan_windows(n_frames, window, overlap) if s < b and e > a]
    if not used:
        raise ValueError(f"frames {a}..{b} are not inside a song of {n_frames} frames")
    return used[0][0], used[-1][1]


# -- quality figures --------------------------------------------------------------

def velocity_jumps(motion: Motion) -> np.ndarray:
    """(T-2,) mean over joints of |v[t+1] - v[t]| in m/s: the change of joint
    velocity between consecutive frames; entry ``i`` is centred on frame ``i + 1``."""
    j = motion.joints.astype(np.float64)
    if len(j) < 3:
        return np.zeros(0)
    v = np.diff(j, axis=0) * motion.fps
    return np.linalg.norm(np.diff(v, axis=0), axis=-1).mean(axis=1)


def seam_report(motion: Motion, plan: list[tuple[int, int]], reach: int = 1) -> dict:
    """Velocity jumps at window joins vs inside windows.

    Join frames are those covered by two windows (the crossfades) plus one
    frame either side; where windows abut without overlapping (DanceIt's
    concatenated fragments), the first frame of the later window plus one frame
    either side (the two velocity changes a cut makes); ``reach`` frames either side
    instead of one take in a repair that spreads over a window (DanceIt's spatial
    alignment: a straight bridge has no jump at the cut, its kinks are at the window's ends).
    The rest are "inside".
    Returns p50/p95/max of both and
    ``p95_ratio`` = join p95 / inside p95 and ``max_ratio`` = join max / inside
    max (about 1 or less when the joins are invisible; ``nan`` for a single window).
    """
    jumps = velocity_jumps(motion)
    T = motion.num_frames
    cover = np.zeros(T, np.int64)
    for a, b in plan:
        cover[a:b] += 1
    join = cover > 1
    for (_, stop), (start, _) in zip(plan, plan[1:]):
        if stop <= start < T:  # abutting (or gapped) windows: a cut at ``start``
            join[start] = True
    join = np.convolve(join.astype(np.int64), np.ones(2 * reach + 1, np.int64), mode="same") > 0
    join_j = join[1:T - 1] if T >= 3 else np.zeros(0, bool)
    out: dict = {"windows": len(plan), "join_frames": int(join_j.sum())}
    for name, sel in (("join", join_j), ("inside", ~join_j)):
        vals = jumps[sel]
        out[name] = ({"p50": float(np.percentile(vals, 50)), "p95": float(np.percentile(vals, 95)),
                      "max": float(vals.max())} if len(vals) else None)
    both = out["join"] and out["inside"]
    out["p95_ratio"] = out["join"]["p95"] / max(out["inside"]["p95"], 1e-12) if both else float("nan")
    out["max_ratio"] = out["join"]["max"] / max(out["inside"]["max"], 1e-12) if both else float("nan")
    return out


def window_energies(motion: Motion, window_s: float = 4.0) -> np.ndarray:
    """Mean motion energy (m²/s², :func:`~choreo.core.data.kinematic.motion_energy`)
    of each consecutive ``window_s`` stretch (a shorter motion is one stretch)."""
    from ..data.kinematic import motion_energy

    e = motion_energy(motion)
    n = max(1, int(round(window_s * motion.fps)))
    if len(e) <= n:
        return np.array([float(e.mean()) if len(e) else 0.0])
    k = len(e) // n
    return e[:k * n].reshape(k, n).mean(axis=1)


def corpus_energy_range(corpus, window_s: float = 4.0, split: str = "train",
                        percentiles=(1.0, 99.0)) -> tuple[float, float]:
    """p1–p99 of the energy of ``corpus``'s dances (a loaded Corpus or its path) in
    ``window_s`` stretches (the first ``window_s`` of each pair; pairs are ~5 s long)."""
    from ..data.corpus import Corpus

    if not isinstance(corpus, Corpus):
        corpus = Corpus.load(corpus)
    vals = np.concatenate([window_energies(p.motion, window_s)[:1] for p in corpus.pairs(split)])
    lo, hi = np.percentile(vals, percentiles)
    return float(lo), float(hi)


def freeze_report(motion: Motion, energy_range: tuple[float, float] | None = None,
                  window_s: float = 4.0) -> dict:
    """Energy of every ``window_s`` stretch and, given the corpus's (low, high)
    range, how many fall below it (a dancer frozen on stage) or above it."""
    e = window_energies(motion, window_s)
    out = {"windows": int(len(e)), "min": float(e.min()), "median": float(np.median(e)),
           "max": float(e.max())}
    if energy_range is not None:
        lo, hi = energy_range
        out.update(corpus_low=float(lo), corpus_high=float(hi),
                   below=int(np.sum(e < lo)), above=int(np.sum(e > hi)),
                   frozen_fraction=float(np.mean(e < lo)))
    return out
