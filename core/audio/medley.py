"""Songs whose tempo changes, with exact beat grids: ground truth for the beat tracker.

Two kinds, both used by ``tests/test_beats.py`` and ``benchmarks/tempo_benchmark.py``:

- :func:`medley` joins parts of gridded tracks (audio + JSON grid, as the shared
  music ships) end to end, as a DJ mix or medley does; each part is cut on its
  own downbeats and may be looped, so the joined grid is exact.
- :func:`drum_song` renders kick, snare, hi-hats and a chord per bar on *any*
  beat grid, e.g. :func:`ramp_beats` (tempo gliding linearly in time).

numpy only, except :func:`medley`, which reads the tracks with soundfile.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np


@dataclass
class GriddedSong:
    """A test song and its exact grid.

    ``parts`` holds ``(start_s, end_s, bpm)`` per part of one tempo: beats in
    ``[start_s, end_s)`` belong to it.
    """

    audio: np.ndarray
    sr: int
    beats: np.ndarray
    downbeats: np.ndarray
    parts: list


def medley(music_dir: str | os.PathLike, parts, sr: int = 22050) -> GriddedSong:
    """Join parts of gridded tracks: ``parts`` is a list of ``(name, start_s, seconds)``
    or ``(name, start_s, seconds, repeat)``.

    Each part runs from the first downbeat at or after ``start_s`` to the first
    downbeat at or after ``start_s + seconds`` (whole bars, so a loop of it keeps
    the beat going) and is played ``repeat`` times. Parts meet with no gap: the
    next part's first beat is the join, and a 5 ms fade on each side keeps the
    cut from clicking.
    """
    from .io import load_audio

    chunks, beats, downs, spans, t0 = [], [], [], [], 0.0
    for part in parts:
        name, start, seconds, repeat = (*part, 1)[:4]
        grid = json.loads(open(os.path.join(music_dir, f"{name}.json")).read())
        y, _ = load_audio(os.path.join(music_dir, f"{name}.ogg"), sr=sr)
        db = np.asarray(grid["downbeats"], float)
        a = db[np.searchsorted(db, start - 1e-6)]
        b = db[min(np.searchsorted(db, a + seconds - 1e-6), len(db) - 1)]
        if b <= a:
            raise ValueError(f"{name}: no whole bar in [{start}, {start + seconds})")
        piece = np.array(y[int(round(a * sr)):int(round(b * sr))], dtype=np.float32)
        fade = min(len(piece) // 2, int(0.005 * sr))
        piece[:fade] *= np.linspace(0, 1, fade, dtype=np.float32)
        piece[len(piece) - fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
        gb = np.asarray(grid["beats"], float)
        in_b = gb[(gb >= a - 1e-6) & (gb < b - 1e-6)] - a
        in_d = db[(db >= a - 1e-6) & (db < b - 1e-6)] - a
        length = len(piece) / sr  # the samples, not b - a: the grid follows the audio
        for r in range(repeat):
            chunks.append(piece)
            beats.append(in_b + t0 + r * length)
            downs.append(in_d + t0 + r * length)
        spans.append((t0, t0 + repeat * length, float(60.0 / np.median(np.diff(gb)))))
        t0 += repeat * length
    return GriddedSong(np.concatenate(chunks), sr, np.concatenate(beats), np.concatenate(downs), spans)


def ramp_beats(bpm0: float, bpm1: float, seconds: float) -> np.ndarray:
    """Beat times (from 0) of a tempo gliding linearly in time from ``bpm0`` to ``bpm1``
    over ``seconds``: beat k where the beat phase, the integral of bpm/60, reaches k."""
    t = np.linspace(0.0, seconds, int(seconds * 1000) + 1)
    phase = (bpm0 * t + (bpm1 - bpm0) * t ** 2 / (2 * seconds)) / 60.0
    return np.interp(np.arange(int(phase[-1]) + 1), phase, t)


def _hit(n, sr, kind, rng):
    t = np.arange(n) / sr
    if kind == "kick":
        return np.sin(2 * np.pi * (50 + 80 * np.exp(-t * 30)) * t) * np.exp(-t * 12)
    if kind == "snare":
        return (0.6 * rng.standard_normal(n) + 0.4 * np.sin(2 * np.pi * 190 * t)) * np.exp(-t * 20)
    spec = np.fft.rfft(rng.standard_normal(n))  # hat: noise above 5 kHz only, as a real hi-hat
    spec[np.fft.rfftfreq(n, 1 / sr) < 5000] = 0
    return 0.5 * np.fft.irfft(spec, n) * np.exp(-t * 60)


_CHORDS = ([220.0, 277.2, 329.6], [293.7, 370.0, 440.0], [246.9, 311.1, 370.0], [196.0, 246.9, 293.7])


def drum_song(beats, meter: int, seconds: float, sr: int = 22050, seed: int = 0) -> np.ndarray:
    """Drums on the beat times ``beats``: kick on the bar's first (and, in 4/4, third)
    beat, snare on the others, hi-hats on beats and midpoints, and a soft organ
    chord that changes every bar (the only cue telling beat 1 from beat 3).

    Returns ``seconds`` of float32 audio peaking at 0.8, with a quiet noise bed
    (log flux needs a floor, as any mix has one).
    """
    rng = np.random.default_rng(seed)
    beats = np.asarray(beats, float)
    gaps = np.diff(beats)
    period = np.r_[gaps, gaps[-1:]] if len(gaps) else np.full(len(beats), seconds)
    y = np.zeros(int(seconds * sr) + sr)
    n = int(0.25 * sr)
    for k, b in enumerate(beats):
        pos = k % meter
        kind = "kick" if pos == 0 or (meter == 4 and pos == 2) else "snare"
        for when, what in ((b, kind), (b, "hat"), (b + period[k] / 2, "hat")):
            i = int(round(when * sr))
            y[i:i + n] += _hit(n, sr, what, rng)[: len(y[i:i + n])]
    for k, i0 in enumerate(range(0, len(beats), meter)):
        b = beats[i0]
        end = beats[i0 + meter] if i0 + meter < len(beats) else b + meter * period[i0]
        i, j = int(round(b * sr)), min(len(y), int(round(end * sr)))
        t = np.arange(j - i) / sr
        y[i:j] += 0.05 * sum(np.sin(2 * np.pi * f * t) for f in _CHORDS[k % 4]) * np.minimum(1, t * 50)
    y += 0.003 * rng.standard_normal(len(y))
    y = (y / np.abs(y).max() * 0.8).astype(np.float32)
    return y[: int(seconds * sr)]
