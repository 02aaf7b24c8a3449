"""Per-frame music features aligned to motion frames, at any frame rate.

The feature set is Dance Revolution's (Huang et al. 2021), 438 columns in this order:

==============  =======  =====================================================
name            columns  what
==============  =======  =====================================================
``mfcc``        20       MFCC 0–19 (128 mel bands, n_fft 2048)
``mfcc_delta``  20       their time derivative (Savitzky-Golay ``delta``, width 9 at the fine hop)
``chroma``      12       constant-Q chroma (C1 and up, 7 octaves), C..B, each frame max-normalised
``onset``       1        onset strength (``beats.onset_envelope``), max over the frame's span
``beat``        1        1.0 on the motion frame nearest each beat, else 0.0
``tempogram``   384      autocorrelation tempogram of the onset envelope at hop 512
                         (librosa's default: 384 lags = 8.9 s at 22050 Hz), max-normalised
==============  =======  =====================================================

Motion frame ``k`` is at time ``t_k = k / fps`` seconds from the start of the
audio, and a song of ``n`` samples has ``T = ceil(n * fps / sr)`` frames (every
frame time inside the audio). Features are computed at a fine hop
(:data:`FINE_HOP` = 256 samples, 11.6 ms at 22050 Hz) and linearly interpolated at
the frame times, which are computed directly from ``k`` (no accumulated rounding,
so 23.976 fps does not drift over a long song). The onset column takes the
maximum over each frame's span ``[t_k - 0.5/fps, t_k + 0.5/fps)`` so short
onsets survive at low frame rates. Values are per-song raw (not standardised):
models standardise with corpus statistics.

Everything is numpy (:mod:`.spectral`, librosa's definitions; librosa is the
tests' oracle), so the add-on computes the very features training saw.
Version 2 is version 1 (librosa) computed by :mod:`.spectral`: the same
definitions, within float32 rounding except the CQT chroma, whose octave
decimation is a Kaiser half-band filter instead of soxr (chroma cosine
0.9999998 median per frame on the 24 shared tracks).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

import numpy as np

from ..progress import ProgressFn, report, scaled
from . import cache
from .io import DEFAULT_SR, load_audio

FEATURE_VERSION = "dr438-v2"
FINE_HOP = 256
TEMPOGRAM_HOP = 512
TEMPOGRAM_BINS = 384
N_MFCC = 20
#: Motion frames whose tempogram columns are computed at once (~2 min at 30 fps, ~20 MB).
_TEMPOGRAM_ROWS = 4096

#: (name, width) of each feature block, in column order.
BLOCKS = (("mfcc", N_MFCC), ("mfcc_delta", N_MFCC), ("chroma", 12), ("onset", 1), ("beat", 1),
          ("tempogram", TEMPOGRAM_BINS))


def _columns() -> dict[str, slice]:
    cols, start = {}, 0
    for name, width in BLOCKS:
        cols[name] = slice(start, start + width)
        start += width
    return cols


#: name -> slice of the feature columns.
COLUMNS: dict[str, slice] = _columns()
N_FEATURES = sum(w for _, w in BLOCKS)
#: one name per column, e.g. ``mfcc_0`` … ``tempogram_383``; width-1 blocks keep their name.
FEATURE_NAMES: tuple[str, ...] = tuple(
    name if width == 1 else f"{name}_{i}" for name, width in BLOCKS for i in range(width))


@dataclass
class MusicFeatures:
    """Features of one song, one row per motion frame.

    Attributes
    ----------
    values : np.ndarray, float32, shape (T, 438)
        Row ``k`` describes time ``k / fps``.
    fps : float
        Motion frame rate.
    columns : dict of str to slice
        Column block of each feature (see the module docstring).
    """

    values: np.ndarray
    fps: float
    columns: dict = field(default_factory=lambda: dict(COLUMNS))

    @property
    def n_frames(self) -> int:
        return int(self.values.shape[0])

    @property
    def times(self) -> np.ndarray:
        return frame_times(self.n_frames, self.fps)

    def __getitem__(self, name: str) -> np.ndarray:
        """The columns of one block, e.g. ``features["chroma"]`` (T, 12)."""
        return self.values[:, self.columns[name]]


def n_frames(n_samples: int, sr: int, fps: float) -> int:
    """Number of motion frames whose time ``k / fps`` lies inside ``n_samples`` of audio."""
    return max(int(np.ceil(n_samples * float(fps) / sr - 1e-9)), 0)


def frame_times(count: int, fps: float) -> np.ndarray:
    """Times ``k / fps`` (float64 seconds) of motion frames ``0 … count-1``."""
    return np.arange(count, dtype=np.float64) / float(fps)


def music_features(y: np.ndarray, sr: int, fps: float = 30.0, beats: np.ndarray | None = None,
                   progress: ProgressFn | None = None) -> MusicFeatures:
    """Compute the 438 per-frame features of a mono signal.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono audio.
    sr : int
        Sample rate of ``y``.
    fps : float
        Motion frame rate (30, 60, 25, 23.976, …).
    beats : np.ndarray or None
        Beat times in seconds; ``None`` runs :func:`~choreo.core.audio.beats.track_beats`.
    progress : ProgressFn or None
        Called with the fraction done.

    Returns
    -------
    MusicFeatures
    """
    from . import spectral
    from .beats import onset_envelope, track_beats

    if fps <= 0:
        raise ValueError(f"fps must be positive, not {fps}")
    y = np.asarray(y, dtype=np.float32)
    count = n_frames(len(y), sr, fps)
    times = frame_times(count, fps)
    out = np.zeros((count, N_FEATURES), dtype=np.float32)
    if count == 0:
        return MusicFeatures(out, float(fps))

    report(progress, 0.0, "mfcc")
    mfcc = spectral.mfcc(y, sr, n_mfcc=N_MFCC, n_fft=2048, hop_length=FINE_HOP)
    out[:, COLUMNS["mfcc"]] = _interp_frames(mfcc, times, sr, FINE_HOP)
    width = min(9, mfcc.shape[1] - (1 - mfcc.shape[1] % 2))  # delta needs width <= frames, odd
    delta = spectral.delta(mfcc, width=width) if width >= 3 else np.zeros_like(mfcc)
    out[:, COLUMNS["mfcc_delta"]] = _interp_frames(delta, times, sr, FINE_HOP)

    report(progress, 0.15, "chroma")
    chroma = spectral.chroma_cqt(y, sr, hop_length=FINE_HOP)
    out[:, COLUMNS["chroma"]] = _interp_frames(chroma, times, sr, FINE_HOP)

    report(progress, 0.45, "onsets")
    env = onset_envelope(y, sr, hop_length=FINE_HOP)
    out[:, COLUMNS["onset"]] = _max_pool_frames(env, times, fps, sr, FINE_HOP)[:, None]
    env_coarse = onset_envelope(y, sr, hop_length=TEMPOGRAM_HOP)
    # The tempogram (384 rows per hop) only for the motion frames in hand, a block at a time.
    total = len(env_coarse)
    for r0 in range(0, count, _TEMPOGRAM_ROWS):
        r1 = min(count, r0 + _TEMPOGRAM_ROWS)
        span = np.clip(times[[r0, r1 - 1]] * (sr / TEMPOGRAM_HOP), 0, total - 1)
        c0, c1 = int(np.floor(span[0])), min(int(np.floor(span[1])) + 2, total)
        block = spectral.tempogram(env_coarse, win_length=TEMPOGRAM_BINS, start=c0, stop=c1)
        out[r0:r1, COLUMNS["tempogram"]] = _interp_frames(block, times[r0:r1], sr, TEMPOGRAM_HOP, c0, total)

    if beats is None:
        beats = track_beats(y, sr, progress=scaled(progress, 0.55, 0.95)).beats
    out[:, COLUMNS["beat"]] = beat_onehot(beats, count, fps)[:, None]
    report(progress, 1.0, "features")
    return MusicFeatures(out, float(fps))


def beat_onehot(beats, count: int, fps: float) -> np.ndarray:
    """1.0 at the motion frame nearest each beat time (beats outside the frames are dropped)."""
    onehot = np.zeros(count, dtype=np.float32)
    idx = np.round(np.asarray(beats, dtype=np.float64) * fps).astype(np.int64)
    onehot[idx[(idx >= 0) & (idx < count)]] = 1.0
    return onehot


def audio_pieces(y: np.ndarray, sr: int, fps: float = 30.0, piece_seconds: float = 0.1) -> np.ndarray:
    """Raw audio windows, one per motion frame, centred on ``k / fps``.

    The input the Ren et al. generator reads: ``round(piece_seconds * sr)`` samples
    around each frame time, zero-padded beyond the ends of the song.

    Returns
    -------
    np.ndarray, float32, shape (T, piece_len)
        ``T = n_frames(len(y), sr, fps)``. Memory is ``T * piece_len * 4`` bytes
        (about 160 MB for 10 minutes at 30 fps and 22050 Hz).
    """
    y = np.asarray(y, dtype=np.float32)
    piece = int(round(piece_seconds * sr))
    if piece < 1:
        raise ValueError(f"piece_seconds {piece_seconds} is shorter than one sample")
    count = n_frames(len(y), sr, fps)
    padded = np.concatenate([np.zeros(piece, np.float32), y, np.zeros(piece, np.float32)])
    starts = np.round(frame_times(count, fps) * sr).astype(np.int64) - piece // 2 + piece
    windows = np.lib.stride_tricks.sliding_window_view(padded, piece)
    return np.ascontiguousarray(windows[starts])


def features_for_file(path: str | os.PathLike, fps: float = 30.0, sr: int = DEFAULT_SR,
                      beats: np.ndarray | None = None, progress: ProgressFn | None = None,
                      use_cache: bool = True) -> MusicFeatures:
    """:func:`music_features` of an audio file, cached on disk.

    The cache key covers the file's bytes, ``fps``, ``sr``, the given ``beats``
    (or the beat tracker's source when they are tracked), :data:`FEATURE_VERSION`,
    this module's source and numpy's version (1.26 and 2.x differ in the last
    bits, and Blender 4.5/5.0 and 5.2 share one cache), so a changed song,
    setting, tracker, feature code or numpy recomputes.
    """
    from . import spectral

    params = {"fps": repr(float(fps)), "sr": int(sr), "version": FEATURE_VERSION, "numpy": np.__version__,
              "source": _source_digest(__file__) + _source_digest(spectral.__file__), "beats": _beats_token(beats)}
    key = cache.make_key("features", cache.file_digest(path), params) if use_cache else None
    if key is not None:
        hit = cache.load(key)
        if hit is not None and hit.get("values") is not None and hit["values"].shape[1:] == (N_FEATURES,):
            report(progress, 1.0, "cached")
            return MusicFeatures(hit["values"].astype(np.float32, copy=False), float(fps))
    y, sr = load_audio(path, sr=sr)
    feats = music_features(y, sr, fps=fps, beats=beats, progress=progress)
    if key is not None:
        cache.save(key, {"values": feats.values})
    return feats


def _source_digest(path: str | os.PathLike) -> str:
    """sha256 of a module's source file (part of the cache key: edited code recomputes)."""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _beats_token(beats) -> str:
    if beats is not None:
        data = np.ascontiguousarray(np.asarray(beats, dtype=np.float64)).tobytes()
        return "given:" + hashlib.sha256(data).hexdigest()
    from . import beats as beats_module  # a changed tracker changes the beat column

    return "tracked:" + _source_digest(beats_module.__file__)


def _interp_frames(feature: np.ndarray, times: np.ndarray, sr: int, hop: int, first: int = 0,
                   total: int | None = None) -> np.ndarray:
    """Linear interpolation of a (D, J) centred-frame feature at ``times`` -> (T, D);
    ``feature`` may be columns ``first ..`` of one of ``total`` columns (covering the times)."""
    total = feature.shape[1] if total is None else total
    pos = np.clip(times * (sr / hop), 0.0, total - 1)
    i0 = np.floor(pos).astype(np.int64)
    i1 = np.minimum(i0 + 1, total - 1)
    w = (pos - i0)[None, :]
    return (feature[:, i0 - first] * (1.0 - w) + feature[:, i1 - first] * w).T


def _max_pool_frames(env: np.ndarray, times: np.ndarray, fps: float, sr: int, hop: int) -> np.ndarray:
    """Maximum of a (J,) envelope over each frame's span ``[t - 0.5/fps, t + 0.5/fps)``.

    The spans tile the time axis, so one ``reduceat`` does it; a span holding no fine
    frame (fps above sr/hop) takes the interpolated value instead.
    """
    edges = np.ceil((np.append(times, times[-1] + 1.0 / fps) - 0.5 / fps) * (sr / hop) - 1e-9)
    edges = np.clip(edges.astype(np.int64), 0, len(env))
    lo, hi = edges[:-1], edges[1:]
    pooled = np.maximum.reduceat(env, np.minimum(lo, len(env) - 1))
    interp = _interp_frames(env[None, :], times, sr, hop)[:, 0]
    return np.where(hi > lo, np.maximum(pooled, interp), interp)
