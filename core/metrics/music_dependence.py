"""Does the song, or the seed, decide the dance?

A generator dances several songs with several seeds. If the music matters,
one seed on different songs gives dances whose speed and turning follow each
song (curves uncorrelated across songs), and the dance's energy rises and
falls with the music's loudness. If the seed decides, one seed gives the same
speed and heading curves whatever the song. Figures (:func:`dependence_scores`):

- ``same_seed_speed_r`` / ``same_seed_heading_r``: mean Pearson r of the
  smoothed joint-speed / heading-rate curves of one seed over pairs of songs
  (the first common duration); ``same_song_*_r`` the same over pairs of seeds
  on one song (the seed's own say);
- ``same_seed_pose_cm`` / ``same_song_pose_cm``: mean root-relative joint
  distance between those dances, frame by frame;
- ``energy_loudness_r`` (:func:`energy_loudness_r`): per dance, r between the
  log mean squared joint speed and the song's RMS level in dB over 2-s windows,
  averaged; ``energy_loudness_bar_r`` the same per bar. Chance band ≈ ±2/√n.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from ..motion import Motion
from ..signal import gaussian_filter1d
from .physical import heading

CURVE_SIGMA_S = 0.5
WINDOW_S = 2.0
#: Fewer windows than this give no correlation worth the name (the result is nan).
MIN_WINDOWS = 5


def speed_curve(motion: Motion, sigma_s: float = CURVE_SIGMA_S) -> np.ndarray:
    """(T,) mean joint speed (m/s), root included, smoothed over ``sigma_s``."""
    j = motion.joints.astype(np.float64)
    v = np.linalg.norm(np.gradient(j, axis=0), axis=-1).mean(1) * motion.fps
    return gaussian_filter1d(v, sigma_s * motion.fps, mode="nearest")


def heading_rate_curve(motion: Motion, sigma_s: float = CURVE_SIGMA_S) -> np.ndarray:
    """(T,) turning rate (rad/s), smoothed over ``sigma_s``."""
    w = np.gradient(heading(motion)) * motion.fps
    return gaussian_filter1d(w, sigma_s * motion.fps, mode="nearest")


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    a, b = a - a.mean(), b - b.mean()
    d = np.sqrt(np.sum(a * a) * np.sum(b * b))
    return float(np.sum(a * b) / d) if d > 1e-12 else float("nan")


def _pose_cm(a: Motion, b: Motion) -> float:
    n = min(a.num_frames, b.num_frames)
    return float(np.linalg.norm(a.root_relative()[:n] - b.root_relative()[:n], axis=-1).mean() * 100)


def _pairs_mean(groups: list[list[Motion]]) -> dict[str, float]:
    """Mean speed r, heading r and pose distance over all pairs within each group."""
    sr, hr, pd = [], [], []
    for g in groups:
        for a, b in combinations(g, 2):
            n = min(a.num_frames, b.num_frames)
            a_, b_ = a.frames(0, n), b.frames(0, n)
            sr.append(pearson(speed_curve(a_), speed_curve(b_)))
            hr.append(pearson(heading_rate_curve(a_), heading_rate_curve(b_)))
            pd.append(_pose_cm(a_, b_))
    nm = lambda v: float(np.nanmean(v)) if len(v) and np.isfinite(v).any() else float("nan")  # noqa: E731
    return {"speed_r": nm(sr), "heading_r": nm(hr), "pose_cm": nm(pd)}


def loudness_db(y: np.ndarray, sr: int, edges_s: np.ndarray) -> np.ndarray:
    """RMS level (dB) of samples ``y`` between consecutive ``edges_s`` (seconds)."""
    idx = np.clip(np.round(np.asarray(edges_s) * sr).astype(np.int64), 0, len(y))
    y = np.asarray(y, np.float64)
    c = np.concatenate([[0.0], np.cumsum(y * y)])
    n = np.maximum(np.diff(idx), 1)
    return 10 * np.log10((c[idx[1:]] - c[idx[:-1]]) / n + 1e-10)


def motion_energy(motion: Motion, edges_s: np.ndarray) -> np.ndarray:
    """log mean squared joint speed (m²/s²) between consecutive ``edges_s``."""
    j = motion.joints.astype(np.float64)
    v2 = (np.linalg.norm(np.diff(j, axis=0), axis=-1) ** 2).mean(1) * motion.fps ** 2
    idx = np.clip(np.round(np.asarray(edges_s) * motion.fps).astype(np.int64), 0, len(v2))
    c = np.concatenate([[0.0], np.cumsum(v2)])
    n = np.maximum(np.diff(idx), 1)
    return np.log((c[idx[1:]] - c[idx[:-1]]) / n + 1e-6)


def energy_loudness_r(motion: Motion, y: np.ndarray, sr: int, edges_s: np.ndarray | None = None) -> float:
    """r between the dance's energy and the song's loudness (``y`` starts with the
    dance) over ``edges_s`` (default: consecutive 2-s windows)."""
    dur = min(motion.duration, len(y) / sr)
    if edges_s is None:
        edges_s = np.arange(0.0, dur + 1e-9, WINDOW_S)
    edges_s = np.asarray(edges_s, np.float64)
    edges_s = edges_s[(edges_s >= 0) & (edges_s <= dur + 1e-9)]
    if len(edges_s) < MIN_WINDOWS + 1:
        return float("nan")
    return pearson(motion_energy(motion, edges_s), loudness_db(y, sr, edges_s))


def dependence_scores(dances: dict[str, dict[int, Motion]]) -> dict[str, float]:
    """``dances[song][seed]`` → same-seed-across-songs vs same-song-across-seeds figures."""
    songs = sorted(dances)
    seeds = sorted(set.intersection(*(set(dances[s]) for s in songs))) if songs else []
    by_seed = [[dances[s][k] for s in songs] for k in seeds] if len(songs) > 1 else []
    by_song = [[dances[s][k] for k in seeds] for s in songs] if len(seeds) > 1 else []
    a, b = _pairs_mean(by_seed), _pairs_mean(by_song)
    return {"same_seed_speed_r": a["speed_r"], "same_song_speed_r": b["speed_r"],
            "same_seed_heading_r": a["heading_r"], "same_song_heading_r": b["heading_r"],
            "same_seed_pose_cm": a["pose_cm"], "same_song_pose_cm": b["pose_cm"]}
