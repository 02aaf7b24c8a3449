"""Random-init generator weights, for tests and benchmarks before a trained model exists.

Needs torch (the weights are those of a freshly built ``DanceGenerator``). The
normalisation statistics are set around a standing SMPL rest pose, so the
decoded motion is a body that twitches at random rather than a heap of joints.
"""

from __future__ import annotations

import os

import numpy as np

from ..models.config import GeneratorConfig


def save_random_weights(path: str | os.PathLike, cfg: GeneratorConfig | None = None, seed: int = 0,
                        meta: dict | None = None) -> str:
    """Write random-init generator weights to ``path``; returns the sha256.

    ``meta`` replaces the usual generator metadata (to make deliberately wrong files).
    """
    import torch

    from ..models.generator import DanceGenerator
    from ..models.representation import encode_3d
    from ..models.weights import module_tensors, save_weights
    from ..motion import Motion
    from ..skeleton_maps import smpl_rest_joints

    cfg = cfg or GeneratorConfig()
    torch.manual_seed(seed)
    model = DanceGenerator(cfg)
    if cfg.mode == "3d":
        rest = encode_3d(Motion(np.repeat(smpl_rest_joints()[None], 2, axis=0)))[0]
        std = np.full(cfg.pose_dim, 0.05, np.float32)
        std[1:4] = 0.3  # root velocity (m/s) and heading rate (rad/s)
        with torch.no_grad():
            model.norm_mean.copy_(torch.from_numpy(rest))
            model.norm_std.copy_(torch.from_numpy(std))
            model.energy_stats.copy_(torch.tensor([0.5, 0.8]))
    meta = meta or {"kind": "generator", "model": "ren", "variant": "random-init", "config": cfg.to_dict(),
                    "training": {"steps": 0, "note": "random initialisation, untrained"}}
    return save_weights(path, module_tensors(model), meta)
