"""Temporal alignment: time-warp a dance segment so its kinematic beats land on music beats.

After DanceIt's temporal alignment (seed 003, §IV-C), which moves the largest
pose changes onto the detected music beats. Here:

1. :func:`match_beats` chooses which kinematic beats map to which music beats
   by dynamic programming over monotone matchings. Every step between two
   consecutive anchors has a local *warp ratio* = source seconds / music
   seconds (1 = unchanged, 1.25 = played 25 % faster) that must lie within
   ``[min_ratio, max_ratio]``; kinematic beats or music beats that do not fit
   are skipped. The score is the number of matched music beats minus
   ``ratio_cost`` × Σ|log ratio|, so among matchings that hit as many beats the
   one closest to the natural speed wins.
2. :func:`time_map` turns the anchors into a piecewise-linear map from output
   (music) time to source time. Piecewise-linear keeps every local ratio
   exactly within the bounds (a monotone cubic through the same anchors
   overshoots them between knots); its speed changes sit on the anchors, which
   are speed minima of the dance, so the velocity kinks they cause are small.
3. :func:`warp_motion` samples the source motion at the mapped times (linear
   interpolation between source frames) at the output rate, 30 fps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import skeleton as sk
from ..motion import Motion


@dataclass(frozen=True)
class Alignment:
    """A monotone map from music time (seconds from the segment start) to source time.

    ``out_knots`` and ``src_knots`` are the anchor pairs, both increasing; the
    first is (0, source start) and the last (duration, source end). ``matched``
    counts the music beats that got a kinematic beat (the start included);
    ``score`` is the matching objective.
    """

    out_knots: np.ndarray
    src_knots: np.ndarray
    matched: int
    score: float

    @property
    def duration(self) -> float:
        return float(self.out_knots[-1])

    @property
    def ratios(self) -> np.ndarray:
        """Warp ratio (source s per music s) of each piece between knots."""
        return np.diff(self.src_knots) / np.diff(self.out_knots)

    @property
    def mean_ratio(self) -> float:
        return float((self.src_knots[-1] - self.src_knots[0]) / (self.out_knots[-1] - self.out_knots[0]))


def match_beats(kin_beats: np.ndarray, music_beats: np.ndarray, src_start: float, duration: float,
                src_end: float, min_ratio: float = 0.8, max_ratio: float = 1.25,
                ratio_cost: float = 0.5, max_step: int = 3) -> Alignment | None:
    """Best monotone matching of kinematic beats onto music beats within a warp bound.

    Parameters
    ----------
    kin_beats : np.ndarray
        Kinematic beat times of the source dance (s, increasing), e.g. from
        :func:`kinematic.kinematic_beats`.
    music_beats : np.ndarray
        Music beat times relative to the segment start (s, increasing); the
        segment starts on ``music_beats[0]`` = 0 (a downbeat).
    src_start : float
        Source time mapped to music time 0, normally a kinematic beat.
    duration : float
        Length of the music segment (s).
    src_end : float
        Last usable source time (the end of the take).
    min_ratio, max_ratio : float
        Bounds of every local warp ratio (source s per music s).
    ratio_cost : float
        Penalty per unit of |log ratio| of each piece.
    max_step : int
        At most ``max_step - 1`` music beats and kinematic beats are skipped
        between two anchors (keeps the search small; a longer gap rarely fits).

    Returns
    -------
    Alignment, or None when no map fits (the source is too short for the
    segment even at ``max_ratio``).
    """
    m = np.asarray(music_beats, dtype=np.float64)
    m = m[(m > 1e-9) & (m < duration - 1e-9)]
    k = np.asarray(kin_beats, dtype=np.float64)
    k = k[(k > src_start + 1e-9) & (k <= src_end)]
    if src_start + duration * min_ratio > src_end + 1e-9:
        return None
    # Nodes: 0 = the start anchor (0, src_start); node (i, l) = music beat i on kinematic beat l.
    n, nk = len(m), len(k)
    log_lo, log_hi = math.log(min_ratio), math.log(max_ratio)
    best = {(-1, -1): (0.0, None)}  # (i, l) -> (score, predecessor)
    mt = [0.0] + list(m)
    kt = [src_start] + list(k)
    for i in range(n):
        for l in range(nk):
            top = None
            for pi in range(max(-1, i - max_step), i):
                for pl in range(max(-1, l - max_step), l):
                    prev = best.get((pi, pl))
                    if prev is None:
                        continue
                    dm, dk = mt[i + 1] - mt[pi + 1], kt[l + 1] - kt[pl + 1]
                    lr = math.log(dk / dm)
                    if lr < log_lo - 1e-9 or lr > log_hi + 1e-9:
                        continue
                    s = prev[0] + 1.0 - ratio_cost * abs(lr)
                    if top is None or s > top[0]:
                        top = (s, (pi, pl))
            if top is not None:
                best[(i, l)] = top
    # Close each candidate path with the tail up to the segment end.
    winner = None
    for node, (s, _) in best.items():
        i, l = node
        t0, s0 = mt[i + 1], kt[l + 1]
        if duration - t0 < 1e-9:
            continue
        # Tail ratio: the natural speed if the take is long enough, else as slow as needed.
        r = min(1.0, (src_end - s0) / (duration - t0))
        if r < min_ratio - 1e-9:
            continue
        total = s - ratio_cost * abs(math.log(r))
        key = (total, -i, -l)
        if winner is None or key > winner[0]:
            winner = (key, node, r)
    if winner is None:
        return None
    (total, _, _), node, r = winner
    out, src = [], []
    while node is not None:
        out.append(mt[node[0] + 1])
        src.append(kt[node[1] + 1])
        node = best[node][1]
    out, src = out[::-1], src[::-1]
    out.append(duration)
    src.append(src[-1] + (duration - out[-2]) * r)
    return Alignment(np.array(out), np.array(src), matched=len(out) - 1, score=float(total))


def identity_alignment(src_start: float, duration: float) -> Alignment:
    """The unwarped placement: the source played at its own speed from ``src_start``."""
    return Alignment(np.array([0.0, duration]), np.array([src_start, src_start + duration]), 1, 0.0)


def time_map(alignment: Alignment, fps: float = sk.FPS) -> np.ndarray:
    """Source time (s) of every output frame, shape (round(duration * fps),).

    Piecewise-linear through the alignment's knots; frame j is at music time j / fps.
    """
    n = int(round(alignment.duration * fps))
    t = np.arange(n) / fps
    return np.interp(t, alignment.out_knots, alignment.src_knots)


def frame_ratios(src_times: np.ndarray, fps: float = sk.FPS) -> np.ndarray:
    """Warp ratio between consecutive output frames (source s per output s), shape (n - 1,)."""
    return np.diff(np.asarray(src_times, dtype=np.float64)) * fps


def sample_motion(motion: Motion, src_times: np.ndarray, fps: float = sk.FPS) -> Motion:
    """``motion`` sampled at the given source times (s), as a motion at ``fps``.

    Linear interpolation between the two nearest source frames; times outside
    the source are clamped to its first / last frame.
    """
    pos = np.clip(np.asarray(src_times, dtype=np.float64) * motion.fps, 0.0, motion.num_frames - 1)
    i0 = np.floor(pos).astype(np.int64)
    i1 = np.minimum(i0 + 1, motion.num_frames - 1)
    w = (pos - i0)[:, None, None]
    j = motion.joints.astype(np.float64)
    out = j[i0] * (1.0 - w) + j[i1] * w
    return Motion(out.astype(np.float32), fps, motion.joint_names)


def warp_motion(motion: Motion, alignment: Alignment, fps: float = sk.FPS) -> Motion:
    """Resample ``motion`` through ``alignment`` at ``fps``: frame j shows the source
    pose at ``alignment``'s source time for music time j / fps."""
    return sample_motion(motion, time_map(alignment, fps), fps)
