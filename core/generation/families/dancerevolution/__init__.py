"""Dance Revolution (Huang et al. 2021): the whole song's 438 music features per frame
(:mod:`choreo.core.audio.features`) and the shared energy and seeded-noise condition
through a local-attention transformer encoder, then an LSTM decoder fed its own
previous pose, in one pass over the song, run in numpy (:mod:`.runtime`, streaming);
3D motion on SMPL-24 or front-view OpenPose-18 keypoints. The model (torch) is
:mod:`choreo.core.models.dancerevolution`, its trainer
:mod:`choreo.core.training.dancerevolution`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ....models.config import DRConfig
from ....progress import ProgressFn, scaled
from ...energy import EnergyCurve
from ...song import Song, conditioning, song_features
from .. import OPENPOSE18, SMPL24, ConfigGenerator, Family, read_config
from .runtime import DRRuntime, check_config


class DRGenerator(DRRuntime, ConfigGenerator):
    """Dance Revolution's weights, loaded: the numpy forward pass and the family's ``generate``."""

    family = "dancerevolution"

    def generate(self, song: Song, *, seed: int, energy: float | EnergyCurve, frames: tuple[int, int],
                 progress: ProgressFn | None = None) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Features of ``song``'s frames ``frames = (lo, hi)`` (see the family protocol,
        :class:`~..Generator`): the decoder runs from the song's first frame to ``hi``,
        so they are the whole song's there; no windows. Energy and noise:
        :func:`~..song.conditioning`, over the whole song (the encoder reads ahead)."""
        music = song_features(song, scaled(progress, 0.0, 0.4))
        cond = conditioning(song, self.cfg, self.energy_stats, self.meta.get("training"), seed=seed, energy=energy,
                            frames=(0, len(music)))
        poses = self.run(music, cond, frames, progress=scaled(progress, 0.4, 1.0))
        return self.denormalize(poses), []


def load(path: Path, tensors: dict, meta: dict) -> DRGenerator:
    """The generator of a weights file's tensors and metadata; a config or tensors that
    do not fit raise :class:`ChoreoInputError` naming the file."""
    gen = DRGenerator(tensors, read_config(path, meta, DRConfig, check_config), name=path)
    gen.meta = meta
    return gen


def _trainer():
    from ....training import dancerevolution

    return dancerevolution


FAMILY = Family(
    name="dancerevolution",
    description="Huang et al.'s Dance Revolution: one seamless pass over the whole song, its energy "
                "following the music's level most closely; calmer, and seeds vary it less, than Ren's",
    outputs=(SMPL24, OPENPOSE18), load=load, trainer=_trainer, title="Dance Revolution",
    shipped="dancerevolution")
