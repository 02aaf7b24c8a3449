"""Ren et al.'s family: 0.1 s audio pieces → 1-D conv encoder → 2-layer BiGRU → MLP,
on 8-s windows crossfaded in feature space (:mod:`.generate`), run in numpy
(:mod:`.runtime`); 3D motion on SMPL-24 or, as in the paper, front-view OpenPose-18
keypoints. Its trainer is :mod:`choreo.core.training.trainer`.
"""

from __future__ import annotations

from pathlib import Path

from ....models.config import GeneratorConfig
from .. import OPENPOSE18, SMPL24, Family, read_config
from .generate import RenGenerator
from .runtime import check_config


def load(path: Path, tensors: dict, meta: dict) -> RenGenerator:
    """The generator of a weights file's tensors and metadata; a config or tensors that
    do not fit raise :class:`ChoreoInputError` naming the file."""
    cfg = read_config(path, meta, GeneratorConfig, check_config)  # from_dict reads the older "mode" too
    gen = RenGenerator(tensors, cfg, name=path)
    gen.meta = meta
    return gen


def _trainer():
    from ....training import trainer

    return trainer


FAMILY = Family(
    name="ren",
    description="Ren et al.'s BiGRU on 8-s windows: steady, beat-aware dances with seed and energy control",
    outputs=(SMPL24, OPENPOSE18), load=load, trainer=_trainer, title="Ren et al. (BiGRU)", shipped="default")
