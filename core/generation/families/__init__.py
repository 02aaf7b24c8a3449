"""Generator families: one sub-package each, found by scanning this folder.

A family is a kind of generator (Ren et al.'s BiGRU, …): a sub-package here whose
``FAMILY`` is a :class:`Family`. Adding a family adds a folder; nothing else
names it. Weights say which family made them (``"family"`` in their safetensors
metadata, written by the trainer), and :func:`load_file` hands them to that
family's ``load``, which returns a :class:`Generator`. The shared pipeline
(:mod:`..pipeline`) analyses the song once (:class:`~..song.Song`), asks the
generator for pose features of the frames it needs, and decodes, cleans up and
writes the dance by the generator's :attr:`~Generator.output`.

Everything a family runs at generation is numpy only (it runs inside Blender);
its trainer (torch) is imported only by ``choreo train``.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Callable, Protocol

import numpy as np

from ...errors import ChoreoInputError
from ...models.representation import OPENPOSE18, OUTPUTS, SMPL24
from ...progress import ProgressFn

__all__ = ["Family", "Generator", "ConfigGenerator", "all_families", "get_family", "family_name", "load_file",
           "read_config", "check_tensors", "OUTPUTS", "SMPL24", "OPENPOSE18"]


class Generator(Protocol):
    """A family's loaded weights, as the shared pipeline uses them."""

    family: str        # the :class:`Family` name
    name: str          # the weights (file or registry name), for messages
    output: str        # one of OUTPUTS: which pose features generate() returns
    sample_rate: int   # the Song's samples are at this rate …
    fps: float         # … and its frames at this rate
    meta: dict         # the weights' metadata

    def generate(self, song, *, seed: int, energy, frames: tuple[int, int],
                 progress: ProgressFn | None = None) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """``(features, windows)``: denormalised pose features of ``song``'s frames
        ``frames = (lo, hi)`` in the layout of :attr:`output`
        (:mod:`~choreo.core.models.representation`), the same there as over the whole
        song, for ``seed`` and ``energy`` (a multiplier or an
        :class:`~choreo.core.generation.energy.EnergyCurve` in file seconds); and the
        windows run (song frames; empty for a family that runs none)."""


class ConfigGenerator:
    """Base of a family's generator whose ``cfg`` says its output, sample rate and fps."""

    cfg: object

    @property
    def output(self) -> str:
        return self.cfg.output

    @property
    def sample_rate(self) -> int:
        return self.cfg.sample_rate

    @property
    def fps(self) -> float:
        return self.cfg.fps


@dataclass(frozen=True)
class Family:
    """What a family declares (its package's ``FAMILY``)."""

    name: str
    description: str                     # one line: what it is good at (the model menu)
    outputs: tuple[str, ...]             # what its weights can make (OUTPUTS)
    load: Callable[[Path, dict, dict], Generator]  # (file, tensors, metadata) → Generator
    #: Its training module (torch), imported only to train: ``validate_config(config,
    #: where)``, ``train_generator(config, out_dir, **options)``, ``checkpoint_dir(out_dir, variant)``.
    trainer: Callable[[], ModuleType] | None = None
    title: str = ""                      # how the model menu names it
    #: The registry name of the weights that stand for the family (the model menu,
    #: ``choreo generate --weights <family>``); None: none shipped.
    shipped: str | None = None
    #: What ``choreo bench`` runs of the family's weights: (name suffix, options) pairs, the
    #: first (suffix "") the family itself, the others its ablations; options as
    #: :func:`~choreo.core.generation.pipeline.load_generator` takes them. Empty: the weights as they are.
    variants: Callable[[], tuple[tuple[str, dict], ...]] | None = None


def shipped_families() -> list[Family]:
    """Families whose stand-in weights are installed, by name (the model menu)."""
    from ...models.weights import installed_models

    have = set(installed_models())
    return [f for f in all_families() if f.shipped in have]


#: Generator weights written before families had names say ``"model": "ren"`` or nothing.
LEGACY_FAMILY = "ren"
_FAMILIES: dict[str, Family] = {}


def _registry() -> dict[str, Family]:
    """Every sub-package's ``FAMILY``, by name, found once."""
    if not _FAMILIES:
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
            fam = getattr(importlib.import_module(f".{info.name}", __name__), "FAMILY", None)
            if isinstance(fam, Family):
                _FAMILIES[fam.name] = fam
    return _FAMILIES


def all_families() -> list[Family]:
    """Every family, by name."""
    return list(_registry().values())


def get_family(name: str, where: str | os.PathLike = "family") -> Family:
    """The family called ``name``; :class:`ChoreoInputError` naming ``where`` otherwise."""
    fam = _registry().get(name) if isinstance(name, str) else None
    if fam is None:
        raise ChoreoInputError(where, f"unknown generator family {name!r} (known: {', '.join(_registry())})")
    return fam


def family_name(meta: dict) -> str:
    """The family a generator's weights metadata names (older weights: :data:`LEGACY_FAMILY`)."""
    return meta.get("family", meta.get("model", LEGACY_FAMILY))


def load_file(path: str | os.PathLike, expected_sha256: str | None = None) -> Generator:
    """The generator in a weights file (checked like :func:`~choreo.core.models.weights.load_weights`),
    loaded by the family its metadata names; anything else is a :class:`ChoreoInputError` naming the file."""
    from ...models.weights import load_weights

    path = Path(path)
    tensors, meta = load_weights(path, expected_sha256)
    kind = meta.get("kind") if isinstance(meta, dict) else None
    if kind != "generator":
        raise ChoreoInputError(path, f"holds {kind or 'unknown'} weights, not a dance generator")
    return get_family(family_name(meta), path).load(path, tensors, meta)


def check_tensors(tensors: dict[str, np.ndarray], want: dict[str, tuple[int, ...]], name: str | os.PathLike) -> None:
    """Raise :class:`ChoreoInputError` naming ``name`` unless ``tensors`` holds every tensor
    of ``want`` (name → shape) with that shape, all finite, and the normalisation statistics
    positive (every ``*_std`` and ``energy_stats[1]``, which the energy condition divides by)."""
    missing = [k for k in want if k not in tensors]
    if missing:
        shown = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
        raise ChoreoInputError(name, f"not weights of this generator: missing tensor(s) {shown}")
    wrong = [f"{k} {tuple(tensors[k].shape)} (expected {want[k]})" for k in want
             if tuple(tensors[k].shape) != want[k]]
    if wrong:
        raise ChoreoInputError(name, f"weights do not match their config: {'; '.join(wrong[:3])}")
    bad = [k for k in want if not np.all(np.isfinite(tensors[k]))]
    if bad:
        raise ChoreoInputError(name, f"weights hold NaN or infinite values ({', '.join(bad[:3])})")
    stds = [k for k in want if k.endswith("_std")]
    if any(np.any(np.asarray(tensors[k]) <= 0) for k in stds) or float(tensors["energy_stats"][1]) <= 0:
        raise ChoreoInputError(name, "weights' normalisation statistics are not positive")


def read_config(path: str | os.PathLike, meta: dict, cls, check: Callable[[object], None]):
    """``cls.from_dict(meta["config"])`` checked by ``check`` (both raise ValueError), before
    any audio is read; a missing or unusable config is a :class:`ChoreoInputError` naming ``path``."""
    try:
        cfg = cls.from_dict(dict(meta["config"]))
        check(cfg)
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:  # ZeroDivisionError: e.g. 0 heads
        raise ChoreoInputError(path, f"generator config in the weights is unusable ({exc})") from None
    return cfg
