"""Song sections (verse/chorus-like spans) for phrasing a dance.

Method (Foote's novelty on a bar-level self-similarity matrix, then labelling):

1. Constant-Q chroma (7 octaves from C1, 36 bins per octave: the bass notes,
   where harmony changes show most, stay resolved) and MFCC (n_fft 2048, one
   power spectrogram), both at hop 512 from :mod:`.spectral`, are averaged per
   bar between downbeats, each block standardised over the song and weighted
   equally, so harmony and timbre both count. (Version 1 called librosa's
   ``chroma_cqt``; :func:`.spectral.chroma_cqt` reproduces it, and on the 24
   development tracks at 22050 and 16000 Hz and the demo the boundaries and
   labels are the same, ``tests/test_audio.py`` checks three. An STFT chroma at
   n_fft 2048 smears the bass and moved boundaries on 18 of those 25 songs.)
   Both are streamed from the audio block by block (no song-sized power
   spectrogram: that alone was 640 MB for an hour at 22050 Hz), so only the
   ``(32, n_frames)`` features and the per-bar matrices grow with the song.
2. The bars' cosine self-similarity matrix is correlated with a
   checkerboard kernel ``min_bars`` bars wide on each side: peaks of that
   novelty curve are changes between homogeneous spans. The kernel is flat (no
   Gaussian taper): novelty is then the distance between the summed bars before
   and after, which stays low inside a section whose chords cycle every
   ``min_bars`` bars.
3. Peaks at least ``min_bars`` apart with a prominence of at least 15 % of the
   curve's maximum become boundaries, which are downbeats by construction.
4. Segments whose mean bar-to-bar similarity is close to their own internal
   similarity get the same letter ("A", "B", "A", ...).
"""

from __future__ import annotations

import string

import numpy as np

from ..signal import find_peaks
from . import spectral
from .beats import BeatMap

HOP = 512
N_FFT = 2048


def find_sections(y: np.ndarray, sr: int, beatmap: BeatMap, min_bars: int = 4
                  ) -> list[tuple[float, float, str]]:
    """Split a song into labelled sections whose boundaries are downbeats.

    Parameters
    ----------
    y : np.ndarray
        Mono audio.
    sr : int
        Sample rate.
    beatmap : BeatMap
        Beats and downbeats of ``y`` (from :func:`track_beats`).
    min_bars : int
        Shortest section in bars (also the novelty kernel's half width).

    Returns
    -------
    list of (start, end, label)
        Seconds, covering ``[0, duration]``; labels are letters, equal for
        similar sections. A song too short to split is one ``"A"`` section.
    """
    duration = len(y) / sr
    bar_feats, starts = bar_features(y, sr, beatmap)
    n_bars = len(starts)
    if n_bars < 2 * min_bars:
        return [(0.0, float(duration), "A")]
    units = bar_feats / (np.linalg.norm(bar_feats, axis=1, keepdims=True) + 1e-8)
    sim = units @ units.T
    nov = novelty(units, min_bars)
    bounds = _pick_boundaries(nov, min_bars)
    edges = [0, *bounds, n_bars]
    labels = _label_segments(sim, edges)
    times = [0.0, *[float(starts[b]) for b in bounds], float(duration)]
    out: list[tuple[float, float, str]] = []
    for i, label in enumerate(labels):
        if out and out[-1][2] == label:  # neighbours judged alike are one section
            out[-1] = (out[-1][0], times[i + 1], label)
        else:
            out.append((times[i], times[i + 1], label))
    return _relabel(out)


def _relabel(sections: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """Rename labels to A, B, C... in order of first appearance."""
    names: dict[str, str] = {}
    return [(s, e, names.setdefault(lab, _letter(len(names)))) for s, e, lab in sections]


def bar_features(y: np.ndarray, sr: int, beatmap: BeatMap) -> tuple[np.ndarray, np.ndarray]:
    """Per-bar feature vectors (n_bars, 32) and the bars' start times.

    Bars are the spans between downbeats (plus the span before the first
    downbeat when it is at least half a bar long).
    """
    y = np.asarray(y, dtype=np.float32)
    # one STFT pass gives the MFCC and the tuning the CQT chroma needs
    mfcc, tuning = spectral.mfcc_and_tuning(y, sr, n_mfcc=20, n_fft=N_FFT, hop_length=HOP, bins_per_octave=36)
    mfcc = mfcc[1:]  # drop loudness
    chroma = _chroma(y, sr, tuning)
    n = chroma.shape[1]
    down = np.asarray(beatmap.downbeats, dtype=float)
    bar_len = float(np.median(np.diff(down))) if len(down) > 1 else len(y) / sr
    starts = down[down < len(y) / sr]
    if len(starts) == 0 or starts[0] >= 0.5 * bar_len:
        starts = np.concatenate([[0.0], starts])
    frames = np.unique(np.clip(spectral.time_to_frames(starts, sr=sr, hop_length=HOP), 0, n - 1))
    starts = spectral.frames_to_time(frames, sr=sr, hop_length=HOP)
    blocks = []
    for feat in (chroma, mfcc):
        synced = spectral.sync(feat, list(frames) + [n], aggregate=np.mean)
        synced = synced[:, : len(frames)]
        synced = (synced - synced.mean(axis=1, keepdims=True)) / (synced.std(axis=1, keepdims=True) + 1e-8)
        blocks.append(synced / np.sqrt(synced.shape[0]))
    return np.vstack(blocks).T, starts


def _chroma(y: np.ndarray, sr: int, tuning: float) -> np.ndarray:
    """Constant-Q chroma (12, n_frames) of ``y`` at hop :data:`HOP`:
    :func:`spectral.chroma_cqt` with librosa's ``chroma_cqt`` defaults (C1 and
    up, 7 octaves, 36 bins per octave) and ``tuning`` (estimated from ``y`` as
    librosa does, see :func:`spectral.mfcc_and_tuning`). Kept apart so tests can
    swap in an oracle."""
    return spectral.chroma_cqt(y, sr, hop_length=HOP, tuning=tuning)


def novelty(units: np.ndarray, half_width: int) -> np.ndarray:
    """Foote novelty of unit-norm bar vectors ``units`` (n_bars, d).

    With a flat checkerboard kernel, novelty at bar ``i`` is the squared distance
    between the mean vector of the ``k`` bars before ``i`` and of the ``k`` bars
    from ``i`` on, ``k = min(half_width, i, n - i)``: the kernel shrinks at the
    ends instead of padding. ``novelty[i]`` scores a boundary at the start of bar ``i``.
    """
    n = units.shape[0]
    csum = np.vstack([np.zeros((1, units.shape[1])), np.cumsum(units, axis=0)])
    out = np.zeros(n)
    for i in range(1, n):
        k = min(half_width, i, n - i)
        before = (csum[i] - csum[i - k]) / k
        after = (csum[i + k] - csum[i]) / k
        out[i] = float(np.sum((before - after) ** 2))
    return out


def _pick_boundaries(nov: np.ndarray, min_bars: int, min_prominence: float = 0.15) -> list[int]:
    """Novelty peaks at least ``min_bars`` apart (and from either end) whose
    prominence is at least ``min_prominence`` of the curve's maximum,
    strongest first."""
    n = len(nov)
    if n == 0 or nov.max() <= 0:
        return []
    peaks, props = find_peaks(nov, prominence=min_prominence * nov.max(), height=np.median(nov))
    chosen: list[int] = []
    for p in peaks[np.argsort(-props["prominences"], kind="stable")]:
        if p < min_bars or n - p < min_bars:  # every section at least min_bars long
            continue
        if all(abs(p - c) >= min_bars for c in chosen):
            chosen.append(int(p))
    return sorted(chosen)


def _label_segments(sim: np.ndarray, edges: list[int], ratio: float = 0.8) -> list[str]:
    """Letters for segments ``edges[i]:edges[i+1]``: a segment reuses an earlier
    label when its mean cross-similarity to that label's first segment reaches
    ``ratio`` times the smaller of the two segments' internal similarities."""
    segs = [(edges[i], edges[i + 1]) for i in range(len(edges) - 1)]
    within = [sim[a:b, a:b].mean() for a, b in segs]
    labels: list[str] = []
    reps: list[int] = []  # index of the first segment of each label
    for i, (a, b) in enumerate(segs):
        best, best_score = None, -np.inf
        for lab, r in enumerate(reps):
            ra, rb = segs[r]
            cross = sim[a:b, ra:rb].mean()
            score = cross - ratio * min(within[i], within[r])
            if score >= 0 and score > best_score:
                best, best_score = lab, score
        if best is None:
            reps.append(i)
            best = len(reps) - 1
        labels.append(_letter(best))
    return labels


def _letter(i: int) -> str:
    letters = string.ascii_uppercase
    return letters[i] if i < 26 else letters[i // 26 - 1] + letters[i % 26]
