"""Random-init Dance Revolution weights, for tests and benchmarks before a trained model exists.

numpy only (so the family's tests run where torch is absent): every tensor
:func:`..runtime.expected_shapes` names, drawn as torch initialises a fresh model
(a Linear's uniform ±1/√fan-in, the LSTM's ±1/√hidden, LayerNorm 1 and 0), the
relative-position biases small and random (a fresh model's are zero) so that the
runtime's bias path does something, the pose statistics around the standing SMPL
rest pose (:func:`..ren.random_init.rest_statistics`); the metadata the trainer writes.
"""

from __future__ import annotations

import os

import numpy as np

from ....models.config import DRConfig
from ..ren.random_init import rest_statistics
from .runtime import expected_shapes


def random_tensors(cfg: DRConfig, seed: int = 0) -> dict[str, np.ndarray]:
    """``state_dict``-named random tensors of a Dance Revolution made with ``cfg``."""
    rng = np.random.default_rng(seed)
    shapes = expected_shapes(cfg)
    out = {}
    for name, shape in shapes.items():
        if "." not in name:  # the statistics: below
            continue
        module, param = name.rsplit(".", 1)
        if param == "rel":
            out[name] = rng.normal(0.0, 0.5, shape)
        elif module.rsplit(".", 1)[-1].startswith("norm"):  # LayerNorm
            out[name] = np.ones(shape) if param == "weight" else np.zeros(shape)
        else:  # torch: the LSTM's ±1/√hidden, a Linear's ±1/√fan-in
            fan_in = cfg.dec_hidden if module == "decoder" else shapes[module + ".weight"][1]
            out[name] = rng.uniform(-1.0, 1.0, shape) / np.sqrt(fan_in)
    D = cfg.pose_dim
    out.update(music_mean=np.zeros(cfg.music_dim), music_std=np.ones(cfg.music_dim), norm_mean=np.zeros(D),
               norm_std=np.ones(D), energy_stats=np.array([0.0, 1.0]))
    stats = rest_statistics(cfg.output)
    if stats is not None:
        out.update(zip(("norm_mean", "norm_std", "energy_stats"), stats))
    return {k: np.asarray(v, np.float32) for k, v in out.items()}


def save_random_weights(path: str | os.PathLike, cfg: DRConfig | None = None, seed: int = 0,
                        meta: dict | None = None) -> str:
    """Write random-init Dance Revolution weights to ``path``; returns the sha256.

    ``meta`` replaces the usual metadata (to make deliberately wrong files)."""
    from ....models.weights import save_weights

    cfg = cfg or DRConfig()
    meta = meta or {"kind": "generator", "family": "dancerevolution", "variant": "random-init",
                    "config": cfg.to_dict(),
                    "training": {"steps": 0, "energy_sigma_s": 1.0, "note": "random initialisation, untrained"}}
    return save_weights(path, random_tensors(cfg, seed), meta)
