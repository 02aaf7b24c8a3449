"""Training samples for the generator: random crops of the corpus pairs with their music.

A sample is ``crop`` frames of one pair: the pose features
(:func:`representation.encode`, standardised with the train split's mean/std),
the 0.1 s audio pieces centred on the crop's exact frame times in the track
(``music_start + k / fps``; the track is loaded once at the model rate and
loudness-normalised as a whole, pieces are cut on the fly), and the per-frame
conditioning ``[normalised log energy of the crop's ground truth, smooth noise]``.
Train pairs include the corpus's mirrored copies. Everything is a function of
the numpy ``Generator`` passed in, so training is reproducible from a seed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.corpus import AUDIO_EXTS, Corpus
from ..errors import ChoreoInputError
from ..models import representation
from ..models.conditioning import log_energy, log_energy_curve, normalize_loudness, smooth_noise
from ..models.config import GeneratorConfig

STD_FLOOR = 1e-3  # columns that barely move (e.g. a constant) are not blown up


@dataclass
class Batch:
    pieces: np.ndarray   # (B, L, P) float32
    cond: np.ndarray     # (B, L, 1 + noise_dim) float32
    target: np.ndarray   # (B, L, D) float32, normalised features


def find_track_audio(music_dir: Path, track: str, source_files=()) -> Path:
    """The audio file of ``track`` in ``music_dir``, preferring the name the corpus recorded."""
    for s in source_files:
        s = str(s)
        if s.startswith("music/") and Path(s).stem == track and Path(s).suffix.lower() in AUDIO_EXTS:
            p = music_dir / Path(s).name
            if p.is_file():
                return p
    for ext in AUDIO_EXTS:
        p = music_dir / f"{track}{ext}"
        if p.is_file():
            return p
    raise ChoreoInputError(music_dir, f"no audio file for corpus track {track!r} in the music folder")


def pieces_at(y: np.ndarray, sr: int, times: np.ndarray, piece: int) -> np.ndarray:
    """(len(times), piece) windows of ``y`` centred on ``times`` (s), zero beyond the ends
    (the same centring as :func:`choreo.core.audio.features.audio_pieces`)."""
    starts = np.round(np.asarray(times) * sr).astype(np.int64) - piece // 2
    idx = starts[:, None] + np.arange(piece)[None, :]
    ok = (idx >= 0) & (idx < len(y))
    out = np.where(ok, y[np.clip(idx, 0, max(len(y) - 1, 0))], 0.0)
    return out.astype(np.float32)


class PairData:
    """The pairs of one split, ready to crop.

    Parameters
    ----------
    corpus : a loaded :class:`~choreo.core.data.corpus.Corpus`.
    music_dir : folder holding the corpus's tracks.
    split : "train" or "val".
    cfg : the generator's :class:`GeneratorConfig` (output, fps, sample rate, piece length, noise).
    crop : frames per sample; pairs shorter than this are skipped.
    unmirrored_only : drop the mirrored copies (used for validation).
    audio_cache : dict shared between splits so a track is decoded once.
    energy_sigma_s : None (the crop's log energy, constant over the crop) or the
        smoothing (s) of a per-frame log-energy curve the energy control follows.
    """

    def __init__(self, corpus: Corpus, music_dir: str | os.PathLike, split: str, cfg: GeneratorConfig,
                 crop: int, *, unmirrored_only: bool = False, audio_cache: dict | None = None,
                 energy_sigma_s: float | None = None):
        from ..audio.io import load_audio

        if abs(corpus.fps - cfg.fps) > 1e-6:
            raise ChoreoInputError(corpus.path, f"corpus is at {corpus.fps:g} fps, the generator at {cfg.fps:g}")
        self.cfg, self.crop, self.split = cfg, int(crop), split
        self.energy_sigma_s = energy_sigma_s
        music_dir = Path(music_dir)
        if not music_dir.is_dir():
            raise ChoreoInputError(music_dir, "music folder not found")
        cache = {} if audio_cache is None else audio_cache
        sources = corpus.arrays.get("source_files", ())
        self.features, self.starts, self.tracks, self.names = [], [], [], []
        self.audio = cache
        for p in corpus.pairs(split):
            if unmirrored_only and p.mirrored:
                continue
            if p.motion.num_frames < self.crop:
                continue
            if p.track not in cache:
                y, sr = load_audio(find_track_audio(music_dir, p.track, sources), sr=cfg.sample_rate)
                cache[p.track] = normalize_loudness(y, sr)
            self.features.append(representation.encode(p.motion, cfg.output))
            self.starts.append(p.music_start)
            self.tracks.append(p.track)
            self.names.append(f"{p.track}/{p.take}{'~m' if p.mirrored else ''}@{p.music_start:.2f}")
        if not self.features:
            raise ChoreoInputError(corpus.path, f"no {split} pair of at least {self.crop} frames")
        self.energy_curves = None if energy_sigma_s is None else [
            log_energy_curve(f, cfg.output, cfg.fps, energy_sigma_s) for f in self.features]
        self.mean = self.std = None
        self.energy_stats = (0.0, 1.0)

    def __len__(self) -> int:
        return len(self.features)

    # -- statistics (computed on the train split, shared with val) --------------

    def compute_stats(self) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
        """Feature mean/std over all frames, and mean/std of log energy over crops
        (every ``crop // 4`` frames of every pair): what ``cond[..., 0]`` is scaled by."""
        allf = np.concatenate(self.features).astype(np.float64)
        mean, std = allf.mean(0), np.maximum(allf.std(0), STD_FLOOR)
        hop = max(1, self.crop // 4)
        if self.energy_curves is not None:  # per-frame curves: their statistics over all frames
            e = np.concatenate(self.energy_curves)
        else:
            e = [log_energy(f[s:s + self.crop], self.cfg.output, self.cfg.fps)
                 for f in self.features for s in range(0, len(f) - self.crop + 1, hop)]
        return mean.astype(np.float32), std.astype(np.float32), (float(np.mean(e)), float(max(np.std(e), 1e-3)))

    def set_stats(self, mean: np.ndarray, std: np.ndarray, energy_stats: tuple[float, float]) -> None:
        self.mean, self.std = np.asarray(mean, np.float32), np.asarray(std, np.float32)
        self.energy_stats = (float(energy_stats[0]), float(energy_stats[1]))

    # -- samples ---------------------------------------------------------------------

    def sample(self, i: int, start: int, noise_seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(pieces, cond, target) of pair ``i`` from frame ``start``."""
        cfg, L = self.cfg, self.crop
        times = self.starts[i] + (start + np.arange(L)) / cfg.fps
        pieces = pieces_at(self.audio[self.tracks[i]], cfg.sample_rate, times, cfg.piece_samples)
        return (pieces, *self.conditions(i, start, noise_seed))

    def conditions(self, i: int, start: int, noise_seed: int) -> tuple[np.ndarray, np.ndarray]:
        """(cond, target) of pair ``i`` from frame ``start``: energy and seeded noise, normalised poses."""
        cfg, L = self.cfg, self.crop
        f = self.features[i][start:start + L]
        if self.energy_curves is not None:
            e = self.energy_curves[i][start:start + L, None]
        else:
            e = np.full((L, 1), log_energy(f, cfg.output, cfg.fps))
        e = ((e - self.energy_stats[0]) / self.energy_stats[1]).astype(np.float32)
        cond = np.concatenate([e, smooth_noise(noise_seed, L, cfg)], axis=1)
        return cond, ((f - self.mean) / self.std).astype(np.float32)

    def _stack(self, items) -> Batch:
        p, c, t = zip(*items)
        return Batch(np.stack(p), np.stack(c), np.stack(t))

    def random_batch(self, rng: np.random.Generator, batch: int) -> Batch:
        """``batch`` random crops (pair, start and noise seed drawn from ``rng``)."""
        idx = rng.integers(len(self), size=batch)
        items = []
        for i in idx:
            start = int(rng.integers(len(self.features[i]) - self.crop + 1))
            items.append(self.sample(int(i), start, int(rng.integers(2**31))))
        return self._stack(items)

    def fixed_batches(self, batch: int, seed: int = 0):
        """Deterministic centre crops of every pair (noise seed = seed + pair index), in batches."""
        items = [self.sample(i, (len(f) - self.crop) // 2, seed + i) for i, f in enumerate(self.features)]
        for k in range(0, len(items), batch):
            yield self._stack(items[k:k + batch])
