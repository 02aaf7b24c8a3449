"""Random-init weights of Ren et al.'s generator, for tests and benchmarks before a trained model exists.

Needs torch (the weights are those of a freshly built ``DanceGenerator``). The
normalisation statistics are set around a standing SMPL rest pose, so the
decoded motion is a body that twitches at random rather than a heap of joints.
"""

from __future__ import annotations

import os

import numpy as np

from ....models.config import GeneratorConfig
from ....models.representation import SMPL24


def save_random_weights(path: str | os.PathLike, cfg: GeneratorConfig | None = None, seed: int = 0,
                        meta: dict | None = None) -> str:
    """Write random-init generator weights to ``path``; returns the sha256.

    ``meta`` replaces the usual generator metadata (to make deliberately wrong files).
    """
    import torch

    from ....models.generator import DanceGenerator
    from ....models.weights import module_tensors, save_weights

    cfg = cfg or GeneratorConfig()
    torch.manual_seed(seed)
    model = DanceGenerator(cfg)
    stats = rest_statistics(cfg.output)
    if stats is not None:
        with torch.no_grad():
            for buf, value in zip((model.norm_mean, model.norm_std, model.energy_stats), stats):
                buf.copy_(torch.from_numpy(value))
    meta = meta or {"kind": "generator", "family": "ren", "variant": "random-init", "config": cfg.to_dict(),
                    "training": {"steps": 0, "note": "random initialisation, untrained"}}
    return save_weights(path, module_tensors(model), meta)


def rest_statistics(output: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(norm_mean, norm_std, energy_stats) of a random-init generator of ``output``: around the
    standing SMPL rest pose for 3D; None for 2D (zero mean, unit std)."""
    from ....models.representation import encode_3d
    from ....motion import Motion
    from ....skeleton_maps import smpl_rest_joints

    if output != SMPL24:
        return None
    rest = encode_3d(Motion(np.repeat(smpl_rest_joints()[None], 2, axis=0)))[0].astype(np.float32)
    std = np.full(len(rest), 0.05, np.float32)
    std[1:4] = 0.3  # root velocity (m/s) and heading rate (rad/s)
    return rest, std, np.array([0.5, 0.8], np.float32)
