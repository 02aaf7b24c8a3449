"""Ren et al.'s cross-modal metric (seed 002, §6.3.2): does this dance suit this music?

Two steps, as in the paper:

1. the query music window is embedded and its nearest neighbours among the
   TRAINING music windows (the "embedding dictionary") are found; their
   paired dances stand for the music (Ren: the single nearest; here
   :data:`NEIGHBOURS` = 10 by default, see there why);
2. the generated dance and that dance are compared in a learned pose-metric
   space: score = ``||S - S'||²`` between their L2-normalised embeddings
   (0 = same place, 4 = opposite), to the closest of those dances. Lower is better.

Both embeddings are small MLPs over fixed-length descriptors, trained jointly
by :mod:`choreo.core.training.crossmodal` (music↔dance and dance↔dance
contrastive, corpus train split). The descriptors are pooled over time, so
any clip of about two seconds or more can be embedded:

- dance (:func:`dance_descriptor`): mean and std over frames of the 73 pose
  features of :func:`~choreo.core.models.representation.encode_3d` plus
  log(1 + speed) and log(1 + |acceleration|) of the 24 joints, and the
  autocorrelation of the mean joint speed at lags of 0.23–2 s (its rhythm);
- music (:func:`music_descriptor`): mean and std over frames of MFCC, MFCC
  deltas, chroma and onset strength, the beat rate, and the time-averaged
  tempogram pooled into log-spaced lag bands.

The forward pass is numpy (no torch), so the metric runs wherever the
other metrics do. A training pair and its mirror share one music window;
the score uses the closer of the window's dances (the dance and its mirror
image are equally valid answers to the same music).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from .. import skeleton as sk
from ..errors import ChoreoInputError
from ..motion import Motion

NAME = "crossmodal"
#: log-spaced tempogram lag bands (edges in bins of the 384-bin tempogram)
_TEMPO_EDGES = np.unique(np.round(np.geomspace(1, 384, 26)).astype(int))
_LEAK = 0.2
#: Training music windows whose dances a clip is compared with. Ren et al. use the
#: single nearest (1); on our corpus music predicts dance weakly (held-out
#: music→dance retrieval near chance), so with 1 a real dance scores like a
#: random-frame jumble (val: GT 1.81, Rand Frame 1.76, Frozen 1.87); with 10
#: the metric separates them (GT 0.63, Rand Frame 1.33, Frozen 1.27).
NEIGHBOURS = 10
#: Shortest motion / window the descriptors accept (frames at 30 fps).
MIN_FRAMES = 8


# -- descriptors ---------------------------------------------------------------

def dance_frame_features(motion: Motion) -> np.ndarray:
    """(T, 121) per-frame pose features at 30 fps: encode_3d (73), log1p joint
    speed (24, m/s) and log1p joint acceleration magnitude (24, m/s²)."""
    from ..models.representation import encode_3d

    if abs(motion.fps - sk.FPS) > 1e-6:
        motion = motion.resample(sk.FPS)
    if motion.num_frames < MIN_FRAMES:
        raise ChoreoInputError("motion", f"{motion.num_frames} frames is too short for the cross-modal "
                                         f"metric (at least {MIN_FRAMES})")
    p = motion.joints.astype(np.float64)
    fps = motion.fps
    vel = np.gradient(p, axis=0) * fps
    acc = np.gradient(vel, axis=0) * fps
    speed = np.log1p(np.linalg.norm(vel, axis=-1))
    accel = np.log1p(np.linalg.norm(acc, axis=-1))
    return np.concatenate([encode_3d(motion).astype(np.float64), speed, accel], axis=1).astype(np.float32)


#: lags (frames at 30 fps, 0.23–2 s) of the dance-speed autocorrelation (the dance's "tempogram")
RHYTHM_LAGS = np.unique(np.round(np.geomspace(7, 60, 12)).astype(int))


def speed_envelope(motion: Motion) -> np.ndarray:
    """(T,) mean joint speed (m/s) at 30 fps: the dance's rhythm signal."""
    if abs(motion.fps - sk.FPS) > 1e-6:
        motion = motion.resample(sk.FPS)
    return np.linalg.norm(np.gradient(motion.joints.astype(np.float64), axis=0), axis=-1).mean(1) * sk.FPS


def rhythm(envelope: np.ndarray) -> np.ndarray:
    """Normalised autocorrelation of a speed envelope at :data:`RHYTHM_LAGS`
    (0 at lags beyond the clip): periodic stops every k frames give a peak at k."""
    e = np.asarray(envelope, np.float64)
    e = e - e.mean()
    var = float(np.mean(e * e)) + 1e-9
    out = np.zeros(len(RHYTHM_LAGS), np.float32)
    for j, k in enumerate(RHYTHM_LAGS):
        if k < len(e) - 1:
            out[j] = np.mean(e[:-k] * e[k:]) / var
    return out


def pool(frames: np.ndarray) -> np.ndarray:
    """Mean and std over frames, concatenated: (T, F) → (2F,)."""
    frames = np.asarray(frames, np.float64)
    return np.concatenate([frames.mean(0), frames.std(0)]).astype(np.float32)


def dance_descriptor(motion: Motion) -> np.ndarray:
    """(242 + 12,) fixed-length descriptor of a dance clip: pooled pose features
    and the speed envelope's :func:`rhythm` (see the module docstring)."""
    return np.concatenate([pool(dance_frame_features(motion)), rhythm(speed_envelope(motion))])


def music_frame_compact(features: np.ndarray) -> np.ndarray:
    """(T, 53 + 1 + B) per-frame music columns the descriptor pools: MFCC, MFCC
    deltas, chroma, onset (53), the beat one-hot (1) and the tempogram averaged
    within B log-spaced lag bands, from 438-column features (``core.audio.features``)."""
    from ..audio.features import COLUMNS, N_FEATURES

    f = np.asarray(features, np.float32)
    if f.ndim != 2 or f.shape[1] != N_FEATURES:
        raise ChoreoInputError("music features", f"expected (frames, {N_FEATURES}) music features, got {f.shape}")
    if len(f) < MIN_FRAMES:
        raise ChoreoInputError("music features", f"{len(f)} frames is too short (at least {MIN_FRAMES})")
    timbre = np.concatenate([f[:, COLUMNS[k]] for k in ("mfcc", "mfcc_delta", "chroma", "onset")], axis=1)
    tg = f[:, COLUMNS["tempogram"]]
    bands = np.stack([tg[:, a:b].mean(1) for a, b in zip(_TEMPO_EDGES[:-1], _TEMPO_EDGES[1:])], axis=1)
    return np.concatenate([timbre, f[:, COLUMNS["beat"]], bands], axis=1).astype(np.float32)


#: columns of :func:`music_frame_compact` whose std is pooled too (timbre and onsets)
N_TIMBRE = 53


def music_pool(mean: np.ndarray, std: np.ndarray, fps: float = sk.FPS) -> np.ndarray:
    """Descriptor from the per-column mean and std (over frames) of
    :func:`music_frame_compact`: timbre mean and std, beats per second, band means."""
    mean = np.asarray(mean, np.float64)
    rate = mean[..., N_TIMBRE:N_TIMBRE + 1] * fps
    return np.concatenate([mean[..., :N_TIMBRE], np.asarray(std)[..., :N_TIMBRE], rate,
                           mean[..., N_TIMBRE + 1:]], axis=-1).astype(np.float32)


def music_descriptor(features: np.ndarray, fps: float = sk.FPS) -> np.ndarray:
    """Fixed-length descriptor of a music window from its per-frame 438 features at ``fps``."""
    c = music_frame_compact(features).astype(np.float64)
    return music_pool(c.mean(0), c.std(0), fps)


def music_mask(inputs: str, dim: int) -> np.ndarray:
    """(dim,) 0/1 mask of the music descriptor: "all", or "rhythm" (beat rate and
    tempogram bands only; timbre lets a small corpus memorise its tracks)."""
    if inputs not in ("all", "rhythm"):
        raise ChoreoInputError("music_inputs", f"must be 'all' or 'rhythm', not {inputs!r}")
    mask = np.ones(dim, np.float32)
    if inputs == "rhythm":
        mask[:2 * N_TIMBRE] = 0.0
    return mask


# -- numpy forward ---------------------------------------------------------------

def mlp_forward(tensors: dict, prefix: str, x: np.ndarray) -> np.ndarray:
    """Standardise ``x`` (…, D) with ``{prefix}.mean/std``, run the MLP
    ``{prefix}.layers.{i}.weight/bias`` (LeakyReLU 0.2 between layers) and
    L2-normalise: the same as :class:`choreo.core.training.crossmodal.Encoder`."""
    h = (np.asarray(x, np.float32) - tensors[f"{prefix}.mean"]) / tensors[f"{prefix}.std"]
    i = 0
    while f"{prefix}.layers.{i}.weight" in tensors:
        h = h @ tensors[f"{prefix}.layers.{i}.weight"].T + tensors[f"{prefix}.layers.{i}.bias"]
        if f"{prefix}.layers.{i + 1}.weight" in tensors:
            h = np.where(h > 0, h, _LEAK * h)
        i += 1
    return h / np.maximum(np.linalg.norm(h, axis=-1, keepdims=True), 1e-8)


class CrossModalMetric:
    """Ren et al.'s cross-modal metric with Choreo's learned embeddings.

    ``CrossModalMetric.load()`` reads the shipped ``crossmodal`` weights; the
    dictionary of training music windows is set with :meth:`fit_corpus` (a
    corpus's train split) or :meth:`set_dictionary`. Then :meth:`score`.

    Attributes
    ----------
    meta : dict
        The weights' metadata, incl. ``heldout`` (retrieval accuracies on the
        val split of the corpus it was trained on, with their chance levels).
    """

    def __init__(self, tensors: dict[str, np.ndarray], meta: dict, name: str = NAME,
                 neighbours: int = NEIGHBOURS):
        need = ("music.mean", "music.std", "dance.mean", "dance.std", "music.layers.0.weight",
                "dance.layers.0.weight")
        missing = [k for k in need if k not in tensors]
        if missing or meta.get("kind") != "crossmodal":
            raise ChoreoInputError(name, f"not cross-modal metric weights (kind {meta.get('kind')!r}, "
                                         f"missing {', '.join(missing) or 'nothing'})")
        self.tensors = {k: np.asarray(v, np.float32) for k, v in tensors.items()}
        self.meta = meta
        self.name = name
        self.neighbours = int(neighbours)
        self._music_inputs = meta.get("config", {}).get("music_inputs", "all")
        self._music_dict: np.ndarray | None = None  # (M, E) music embeddings
        self._dance_dict: list[np.ndarray] = []     # per window: (k, E) dance embeddings

    @classmethod
    def load(cls, path: str | os.PathLike | None = None, neighbours: int = NEIGHBOURS) -> "CrossModalMetric":
        """Weights from ``path`` (None = the shipped ``crossmodal`` entry, sha256-checked)."""
        from ..models.weights import load_weights, shipped_path

        p = shipped_path(NAME) if path is None else Path(path)
        tensors, meta = load_weights(p)
        return cls(tensors, meta, str(p), neighbours)

    # embeddings
    def embed_music(self, features: np.ndarray, fps: float = sk.FPS) -> np.ndarray:
        """(E,) unit-length embedding of a music window's (T, 438) features."""
        d = music_descriptor(features, fps)
        return mlp_forward(self.tensors, "music", d * music_mask(self._music_inputs, len(d)))

    def embed_dance(self, motion: Motion) -> np.ndarray:
        """(E,) unit-length pose-metric embedding of a dance clip."""
        return mlp_forward(self.tensors, "dance", dance_descriptor(motion))

    # dictionary
    def set_dictionary(self, music_features: Sequence[np.ndarray], dances: Sequence[Sequence[Motion]],
                       fps: float = sk.FPS) -> None:
        """Training music windows and, per window, its paired dance(s)."""
        if len(music_features) == 0 or len(music_features) != len(dances):
            raise ChoreoInputError("dictionary", f"need one or more music windows with their dances "
                                                 f"({len(music_features)} windows, {len(dances)} dance lists)")
        self._music_dict = np.stack([self.embed_music(f, fps) for f in music_features])
        self._dance_dict = [np.stack([self.embed_dance(m) for m in ms]) for ms in dances]

    def fit_corpus(self, corpus, split: str = "train") -> "CrossModalMetric":
        """Use ``corpus``'s ``split`` music windows (and their pairs' dances) as the dictionary."""
        a = corpus.arrays
        if "window_features" not in a:
            raise ChoreoInputError(corpus.path, "corpus has no music features (built with --no-features); "
                                                "rebuild it with features for the cross-modal metric")
        groups: dict[int, list[int]] = {}
        for i in corpus.indices(split):
            groups.setdefault(int(a["pair_window"][i]), []).append(int(i))
        if not groups:
            raise ChoreoInputError(corpus.path, f"corpus has no {split} pairs for the cross-modal dictionary")
        wo = a["window_offsets"]
        feats = [a["window_features"][wo[w]:wo[w + 1]].astype(np.float32) for w in groups]
        dances = [[corpus.pair(i).motion for i in idx] for idx in groups.values()]
        self.set_dictionary(feats, dances, corpus.fps)
        return self

    @property
    def dictionary_size(self) -> int:
        return 0 if self._music_dict is None else len(self._music_dict)

    def nearest(self, features: np.ndarray, k: int = 1, fps: float = sk.FPS) -> np.ndarray:
        """Indices of the ``k`` dictionary windows whose music is nearest (cosine) to ``features``."""
        if self._music_dict is None:
            raise ChoreoInputError(self.name, "no dictionary: call fit_corpus(corpus) or set_dictionary first")
        sims = self._music_dict @ self.embed_music(features, fps)
        return np.argsort(-sims, kind="stable")[:max(1, k)]

    def retrieve(self, features: np.ndarray, fps: float = sk.FPS) -> int:
        """Index of the dictionary window whose music is nearest (Ren et al.'s 1-NN)."""
        return int(self.nearest(features, 1, fps)[0])

    def score(self, motion: Motion, music_features: np.ndarray, fps: float = sk.FPS) -> float:
        """``||S - S'||²`` between ``motion``'s embedding and the closest of the dances
        paired with the ``neighbours`` nearest training music windows. Lower is better.

        Parameters
        ----------
        motion : Motion
            The dance to judge (any fps; resampled to 30).
        music_features : np.ndarray, shape (T, 438)
            The music it was made for (``core.audio.features``), at ``fps``.
        """
        return float(self.score_embeddings(self.embed_dance(motion)[None], music_features, fps)[0])

    def score_embeddings(self, dances: np.ndarray, music_features: np.ndarray, fps: float = sk.FPS) -> np.ndarray:
        """:meth:`score` of dances already embedded (N, E) against one music clip: (N,)
        (ranking many dances for one clip embeds each dance once)."""
        ref = np.concatenate([self._dance_dict[k] for k in self.nearest(music_features, self.neighbours, fps)])
        return ((np.asarray(dances)[:, None, :] - ref[None]) ** 2).sum(-1).min(1)

    def score_set(self, motions: Sequence[Motion], music_features: Sequence[np.ndarray],
                  fps: float = sk.FPS) -> float:
        """Mean :meth:`score` over clips."""
        return float(np.mean([self.score(m, f, fps) for m, f in zip(motions, music_features)]))
