"""The generator's inputs besides the model: audio pieces, energy and seeded noise.

numpy only, so training (torch) and generation (numpy runtime) prepare inputs
with the very same code.
"""

from __future__ import annotations

import numpy as np

from ..audio.features import audio_pieces
from .config import GeneratorConfig
from .representation import SMPL24

# Songs are scaled to this RMS (over their loud part) so the encoder sees the
# same level whatever the mastering.
TARGET_RMS = 0.25


def loudness_gain(y: np.ndarray, sr: int) -> np.float32:
    """The factor :func:`normalize_loudness` scales ``y`` by: ``TARGET_RMS`` over the
    90th percentile of its 0.1 s RMS; 0 for silence (below 1e-5), 1 for a song
    shorter than 0.1 s. Applying it to any slice of ``y`` (``slice * gain``, in
    float32) gives that slice of the normalised song exactly, so a long song is
    scaled piece by piece and never copied."""
    y = np.asarray(y, dtype=np.float32)
    hop = max(1, int(0.1 * sr))
    n = len(y) // hop
    if n == 0:
        return np.float32(1.0)
    seg = y[: n * hop].reshape(n, hop)
    rms = np.sqrt(np.einsum("ij,ij->i", seg, seg, dtype=np.float64) / hop)  # no float64 copy of a long song
    level = float(np.percentile(rms, 90))
    return np.float32(0.0) if level < 1e-5 else np.float32(TARGET_RMS / level)


def normalize_loudness(y: np.ndarray, sr: int) -> np.ndarray:
    """Scale ``y`` so the 90th percentile of its 0.1 s RMS is ``TARGET_RMS``
    (:func:`loudness_gain`); silence stays silence (no division blow-up)."""
    y = np.asarray(y, dtype=np.float32)
    gain = loudness_gain(y, sr)
    return np.zeros_like(y) if gain == 0 else y * gain


def model_pieces(y: np.ndarray, sr: int, cfg: GeneratorConfig) -> np.ndarray:
    """(T, piece_samples) float32: the loudness-normalised song at
    ``cfg.sample_rate`` cut into one centred 0.1 s piece per frame at ``cfg.fps``."""
    if sr != cfg.sample_rate:
        raise ValueError(f"audio must be at {cfg.sample_rate} Hz for this model, got {sr}")
    return audio_pieces(normalize_loudness(y, sr), sr, cfg.fps, cfg.piece_seconds)


def smooth_noise(seed: int, n_frames: int, cfg: GeneratorConfig, offset_frames: int = 0,
                 period_frames: float | None = None) -> np.ndarray:
    """(n_frames, noise_dim) float32 standard-normal knots every ``period_frames``
    frames (default ``noise_period`` seconds, whole frames), linearly
    interpolated; a function of the seed and absolute frame, so overlapping
    windows see the same noise where they overlap. Knot k sits at frame
    ``k * period_frames`` of the song."""
    if cfg.noise_dim == 0:
        return np.zeros((n_frames, 0), np.float32)
    period = max(1, int(round(cfg.noise_period * cfg.fps))) if period_frames is None else float(period_frames)
    first = int(offset_frames // period)
    last = int((offset_frames + n_frames) // period) + 1
    rng = np.random.default_rng(seed)
    knots = rng.standard_normal((last + 1, cfg.noise_dim))[first:]
    t = (offset_frames + np.arange(n_frames) - first * period) / period  # n_frames exactly, whatever the offset
    i = np.floor(t).astype(np.int64)
    w = (t - i)[:, None]
    return ((1 - w) * knots[i] + w * knots[i + 1]).astype(np.float32)


def musical_noise_period(tempo_bpm: float, cfg: GeneratorConfig) -> float | None:
    """Frames between noise knots on the song's beat: the whole number of beats
    nearest ``noise_period`` seconds (at least one), so the seed's changes of
    move fall on the music's pulse and follow its tempo; None without a tempo."""
    if not (tempo_bpm and np.isfinite(tempo_bpm) and tempo_bpm > 0):
        return None
    beat = 60.0 / float(tempo_bpm)
    return max(1, round(cfg.noise_period / beat)) * beat * cfg.fps


#: How far the song's loudness moves the energy the dance is conditioned on, in
#: standard deviations of the corpus's crop log-energy per standard deviation of
#: the song's smoothed level. Chosen on windows of six *training* tracks (the
#: benchmark's held-out tracks untouched): FID_k 153 → 98 → 73 → 75 and Div_k
#: 2.7 → 4.8 → 6.7 → 6.7 for gains 0, 1.5, 3, 4.5.
LOUDNESS_ENERGY_GAIN = 3.0
#: The same for a model whose energy control was trained on a per-frame curve
#: (``energy_sigma_s``; its energy statistics are per frame, so the same level means
#: a different normalised value). Chosen the same way: FID_k 142 → 96 → 67 → 58 → 59,
#: Div_k 3.5 → 5.8 → 7.6 → 8.5 → 8.9 for gains 1–5 (GT 8.9 on those windows).
LOUDNESS_ENERGY_GAIN_CURVE = 4.0


def level_gain(training: dict | None) -> float:
    """The level gain for a model trained with ``training`` (its weights' training config)."""
    curve = isinstance(training, dict) and training.get("energy_sigma_s") is not None
    return LOUDNESS_ENERGY_GAIN_CURVE if curve else LOUDNESS_ENERGY_GAIN
#: Smoothing of the level (s): the energy follows phrases and sections, not notes.
LOUDNESS_SIGMA_S = 1.0


def loudness_curve(y: np.ndarray, sr: int, fps: float, n_frames: int) -> np.ndarray:
    """(n_frames,) the song's level at each frame as a z-score over the song:
    RMS in dB of each frame's span of samples, smoothed over
    :data:`LOUDNESS_SIGMA_S`, centred on its median, clipped to ±2.5. Scale-free,
    so it needs no loudness normalisation; the whole song's, so a part gets the
    whole song's values."""
    from ..signal import gaussian_filter1d

    y = np.asarray(y)
    idx = np.clip(np.round(np.arange(n_frames + 1) * (sr / float(fps))).astype(np.int64), 0, len(y))
    energy = np.empty(n_frames)
    for a in range(0, n_frames, 1024):  # blocks of ~0.5 M samples: no float64 copy of a long song
        b = min(n_frames, a + 1024)
        seg = y[idx[a]:idx[b]].astype(np.float64)
        c = np.concatenate([[0.0], np.cumsum(seg * seg)])
        lo, hi = idx[a:b] - idx[a], idx[a + 1:b + 1] - idx[a]
        energy[a:b] = (c[hi] - c[lo]) / np.maximum(hi - lo, 1)
    db = 10.0 * np.log10(energy + 1e-10)
    if n_frames > 1:
        db = gaussian_filter1d(db, LOUDNESS_SIGMA_S * fps, mode="nearest")
    spread = float(db.std())
    if spread < 1e-6:
        return np.zeros(n_frames)
    return np.clip((db - np.median(db)) / spread, -2.5, 2.5)


def _speed2(f: np.ndarray, output: str, fps: float) -> np.ndarray:
    """(T - 1, J) squared joint speeds (m²/s²) between consecutive frames of pose features."""
    if output == SMPL24:
        from .representation import local_joints_3d

        j = local_joints_3d(f)
        speed2 = np.sum(np.diff(j, axis=0) ** 2, axis=-1) * fps**2
        speed2 += np.sum(f[:-1, 1:3] ** 2, axis=-1, keepdims=True)  # travel counts too
        return speed2
    return np.sum(np.diff(f.reshape(len(f), -1, 2), axis=0) ** 2, axis=-1) * fps**2


def log_energy(features: np.ndarray, output: str = SMPL24, fps: float = 30.0) -> float:
    """log of the mean squared joint speed (m²/s²) of a window of pose features:
    the quantity the energy control conditions on."""
    f = np.asarray(features, np.float64)
    if len(f) < 2:
        return float(np.log(1e-6))
    return float(np.log(np.mean(_speed2(f, output, fps)) + 1e-6))


def log_energy_curve(features: np.ndarray, output: str = SMPL24, fps: float = 30.0,
                     sigma_s: float = 1.0) -> np.ndarray:
    """(T,) the same quantity frame by frame: log of the mean squared joint speed
    smoothed over ``sigma_s`` seconds (a Gaussian), for training the energy
    control to follow a curve (``energy_sigma_s`` in a training config)."""
    from ..signal import gaussian_filter1d

    f = np.asarray(features, np.float64)
    if len(f) < 2:
        return np.full(len(f), np.log(1e-6))
    s2 = _speed2(f, output, fps).mean(1)
    s2 = np.concatenate([s2, s2[-1:]])
    return np.log(gaussian_filter1d(s2, sigma_s * fps, mode="nearest") + 1e-6)
