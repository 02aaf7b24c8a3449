"""Reference dances for the benchmark's held-out music windows (Ren et al. §6.3).

For every evaluation window (a held-out music window with its warped dance):

- **GT**: the held-out pair's own dance (:func:`ground_truth`);
- **Rand Frame**: each output frame is a random frame of a random training
  dance, pelvis moved over the origin (pose jumps, no teleporting across the
  floor) (:func:`rand_frame`);
- **Rand Seq**: a random stretch of a random training dance of the window's
  length (:func:`rand_seq`) — a real dance, unrelated to the music;
- **Frozen**: the window's first real pose held still (:func:`frozen_pose`) —
  what a collapsed generator does.

All are deterministic for a seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ChoreoInputError
from ..motion import Motion


@dataclass
class EvalWindow:
    """A held-out music window: the pair's dance (GT), music beats (s from its
    start), the window's place in its track and its 438-column music features."""

    pair: int
    motion: Motion
    beats: np.ndarray
    downbeats: np.ndarray
    track: str
    music_start: float
    features: np.ndarray | None

    @property
    def frames(self) -> int:
        return self.motion.num_frames


def eval_windows(corpus, split: str = "val", limit: int | None = None) -> list[EvalWindow]:
    """The unmirrored pairs of ``split`` (one per music window; a mirror shares the
    music), ``limit`` of them spread evenly over the split when given."""
    a = corpus.arrays
    idx = [int(i) for i in corpus.indices(split) if not a["pair_mirrored"][i]]
    if not idx:
        raise ChoreoInputError(corpus.path, f"corpus has no {split} pairs to evaluate on")
    if limit is not None and limit < len(idx):
        idx = [idx[int(k)] for k in np.round(np.linspace(0, len(idx) - 1, max(1, limit))).astype(int)]
    out = []
    for i in idx:
        p = corpus.pair(i)
        out.append(EvalWindow(i, p.motion, p.beats, p.downbeats, p.track, p.music_start, p.features))
    return out


def training_motions(corpus) -> list[Motion]:
    """Every training dance (mirrors included)."""
    motions = [p.motion for p in corpus.pairs("train")]
    if not motions:
        raise ChoreoInputError(corpus.path, "corpus has no train pairs for the random baselines")
    return motions


def ground_truth(windows: list[EvalWindow]) -> list[Motion]:
    return [w.motion for w in windows]


def rand_frame(windows: list[EvalWindow], train: list[Motion], seed: int = 0) -> list[Motion]:
    """Per output frame, a random frame of a random training dance (pelvis over the origin)."""
    rng = np.random.default_rng([seed, 1])
    out = []
    for w in windows:
        which = rng.integers(len(train), size=w.frames)
        joints = np.stack([train[k].joints[rng.integers(train[k].num_frames)] for k in which])
        joints[:, :, :2] -= joints[:, :1, :2]
        out.append(Motion(joints, w.motion.fps))
    return out


def rand_seq(windows: list[EvalWindow], train: list[Motion], seed: int = 0) -> list[Motion]:
    """A random training dance stretch of each window's length (a shorter dance
    is held on its last frame to fill the window)."""
    rng = np.random.default_rng([seed, 2])
    out = []
    for w in windows:
        m = train[int(rng.integers(len(train)))]
        n = w.frames
        start = int(rng.integers(max(1, m.num_frames - n + 1)))
        idx = np.minimum(np.arange(start, start + n), m.num_frames - 1)
        out.append(Motion(m.joints[idx], m.fps))
    return out


def frozen_pose(windows: list[EvalWindow]) -> list[Motion]:
    """The window's first real pose, held for the whole window."""
    return [Motion(np.repeat(w.motion.joints[:1], w.frames, axis=0), w.motion.fps) for w in windows]


BASELINES = ("GT", "Rand Frame", "Rand Seq", "Frozen")


def baseline_motions(name: str, windows: list[EvalWindow], train: list[Motion], seed: int = 0) -> list[Motion]:
    """The dances of baseline ``name`` (one of :data:`BASELINES`) for ``windows``."""
    if name == "GT":
        return ground_truth(windows)
    if name == "Rand Frame":
        return rand_frame(windows, train, seed)
    if name == "Rand Seq":
        return rand_seq(windows, train, seed)
    if name == "Frozen":
        return frozen_pose(windows)
    raise ChoreoInputError("--methods", f"unknown baseline {name!r} (known: {', '.join(BASELINES)})")
