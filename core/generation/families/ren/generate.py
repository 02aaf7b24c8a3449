"""Ren et al.'s generator over a whole song: audio codes, conditioning, windows.

Every frame's 0.1 s audio piece is encoded in chunks (:func:`encode_song`, loudness
normalised over the whole song as in training); windows of the whole song's plan
(:mod:`..windows`) run through the GRU, all at once, and are blended in feature
space (:func:`generate_features`). Each frame is conditioned on the target log
energy plus the song's level, and on smooth noise of the seed whose knots sit a
whole number of beats apart (:func:`~..song.conditioning`, shared by the families).
"""

from __future__ import annotations

import numpy as np

from ....models.conditioning import loudness_gain
from ....progress import ProgressFn, report, scaled
from ...energy import EnergyCurve
from ...song import Song, conditioning, recent
from ...windows import OVERLAP_SECONDS, WINDOW_BATCH, WINDOW_SECONDS, blend_weights, plan_windows, window_span
from .. import ConfigGenerator
from .runtime import ENCODE_CHUNK, GeneratorRuntime


def song_pieces(y: np.ndarray, sr: int, fps: float, piece: int, a: int, b: int) -> np.ndarray:
    """Audio pieces of frames ``a..b`` exactly as :func:`~choreo.core.audio.features.audio_pieces`
    cuts them (centred, zero beyond the ends), without padding the whole song."""
    starts = np.round(np.arange(a, b, dtype=np.float64) / float(fps) * sr).astype(np.int64) - piece // 2
    lo, hi = int(starts[0]), int(starts[-1]) + piece
    seg = np.zeros(hi - lo, np.float32)
    s0, s1 = max(lo, 0), min(hi, len(y))
    if s1 > s0:
        seg[s0 - lo:s1 - lo] = y[s0:s1]
    return np.lib.stride_tricks.sliding_window_view(seg, piece)[starts - lo]


def encode_song(runtime: GeneratorRuntime, y: np.ndarray, sr: int, progress: ProgressFn | None = None,
                frames: tuple[int, int] | None = None) -> np.ndarray:
    """(T, enc_dim) audio codes of a song (``y`` at the model's rate), or of its
    frames ``frames = (a, b)``, loudness normalised over the whole song as in
    training; pieces are cut and scaled chunk by chunk, so neither all pieces
    nor a normalised copy of the song is ever in memory."""
    from ....audio.features import n_frames

    cfg = runtime.cfg
    gain = loudness_gain(y, sr)
    first, last = (0, n_frames(len(y), sr, cfg.fps)) if frames is None else frames
    code = np.empty((last - first, cfg.enc_dim), np.float32)
    for a in range(first, last, ENCODE_CHUNK):
        b = min(last, a + ENCODE_CHUNK)
        code[a - first:b - first] = runtime.encode(song_pieces(y, sr, cfg.fps, cfg.piece_samples, a, b) * gain)
        report(progress, (b - first) / (last - first), "audio encoder")
    return code


def generate_features(runtime: GeneratorRuntime, code: np.ndarray, cond: np.ndarray, *,
                      window: int, overlap: int, total: int | None = None, first: int = 0,
                      progress: ProgressFn | None = None,
                      batch: int = WINDOW_BATCH) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Blended, denormalised pose features (len(code), pose_dim) for a song or a span of it.

    Parameters
    ----------
    runtime : GeneratorRuntime
    code : np.ndarray (n, enc_dim)
        Audio codes of frames ``first .. first + n - 1`` of the song
        (:meth:`GeneratorRuntime.encode`): the encoder is per frame, so
        overlapping windows share them.
    cond : np.ndarray (n, cond_dim)
        Normalised energy and seeded noise of the same frames.
    window, overlap : int
        Window length and overlap in frames.
    total : int or None
        Frames of the whole song (None: ``first + n``). The windows are those of
        the whole song's plan, so a span (:func:`~..windows.window_span`) dances as the
        whole song does there; only the windows inside the span run.

    Returns
    -------
    features, plan
        Works for either output alike (blending is per column); ``plan`` is
        the windows run, in song frames.
    """
    n = len(code)
    total = first + n if total is None else int(total)
    full = plan_windows(total, window, overlap)
    weights = blend_weights(full, total, overlap)
    run = [i for i, (a, b) in enumerate(full) if a >= first and b <= first + n]
    plan = [full[i] for i in run]
    acc = np.zeros((n, runtime.cfg.pose_dim), np.float32)
    for k in range(0, len(run), batch):
        group = run[k:k + batch]
        # inputs joined per batch: no song-long copy of the codes
        xb = np.stack([np.concatenate([code[full[i][0] - first:full[i][1] - first],
                                       cond[full[i][0] - first:full[i][1] - first]], axis=1) for i in group])
        xb = xb.astype(np.float32, copy=False)
        yb = runtime.mlp_forward(runtime.gru_forward(xb))
        for i, y in zip(group, yb):
            acc[full[i][0] - first:full[i][1] - first] += y * weights[i][:, None]
        done = min(k + batch, len(run))
        report(progress, done / len(run), f"windows {done}/{len(run)}")
    return runtime.denormalize(acc), plan


class RenGenerator(GeneratorRuntime, ConfigGenerator):
    """Ren et al.'s weights, loaded: the numpy forward pass and the family's ``generate``."""

    family = "ren"

    def generate(self, song: Song, *, seed: int, energy: float | EnergyCurve, frames: tuple[int, int],
                 progress: ProgressFn | None = None) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Features of ``song``'s frames ``frames = (lo, hi)`` (see the family protocol,
        :class:`~..Generator`): only the whole song's windows that reach them run, so
        they equal the whole song's there. Energy and noise: :func:`~..song.conditioning`."""
        cfg = self.cfg
        T = song.n_frames
        lo, hi = frames
        window = int(round(WINDOW_SECONDS * cfg.fps))
        overlap = int(round(OVERLAP_SECONDS * cfg.fps))
        c0, c1 = window_span(T, window, overlap, lo, hi)
        # the cached value holds the generator, so its id cannot be reused by other weights
        key = (song.key, id(self), c0, c1)
        code = recent("codes", key, lambda: (self, encode_song(self, song.samples, song.sr, frames=(c0, c1),
                                                                progress=scaled(progress, 0.0, 0.6))))[1]
        cond = conditioning(song, cfg, self.energy_stats, self.meta.get("training"), seed=seed, energy=energy,
                            frames=(c0, c1))
        feats, plan = generate_features(self, code, cond, window=window, overlap=overlap, total=T, first=c0,
                                        progress=scaled(progress, 0.6, 0.95))
        return feats[lo - c0:hi - c0], plan
