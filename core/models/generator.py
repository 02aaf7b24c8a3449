"""Ren et al.'s first-stage generator (seed 002, §3): 0.1 s audio pieces →
1-D convolutional audio encoder → 2-layer bidirectional GRU → MLP pose generator.

Beside the audio code each frame gets an energy value and seeded smooth noise
(:mod:`.conditioning`), Choreo's controls for variation; the paper's generator
is the special case energy = const, noise_dim = 0. Training-side torch module;
generation runs the same weights in numpy (:mod:`choreo.core.generation.families.ren.runtime`).
"""

from __future__ import annotations

import torch
from torch import nn

from .config import GeneratorConfig

LEAK = 0.2


class AudioEncoder(nn.Module):
    """(N, P) audio pieces → (N, enc_dim): strided 1-D convolutions, flatten, linear."""

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        chans = (1,) + tuple(cfg.enc_channels)
        self.convs = nn.ModuleList(
            nn.Conv1d(chans[i], chans[i + 1], k, stride=s)
            for i, (k, s) in enumerate(zip(cfg.enc_kernels, cfg.enc_strides)))
        self.proj = nn.Linear(chans[-1] * cfg.encoder_lengths()[-1], cfg.enc_dim)

    def forward(self, pieces: torch.Tensor) -> torch.Tensor:
        x = pieces.unsqueeze(1)
        for conv in self.convs:
            x = nn.functional.leaky_relu(conv(x), LEAK)
        return nn.functional.leaky_relu(self.proj(x.flatten(1)), LEAK)


class DanceGenerator(nn.Module):
    """G(music) → pose features (B, T, pose_dim), normalised (see ``norm_mean``/``norm_std``).

    ``norm_mean``/``norm_std`` (pose features) and ``energy_stats`` (mean, std of
    the training windows' log energy) are buffers, so they travel in the weights file.
    """

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = AudioEncoder(cfg)
        self.gru = nn.GRU(cfg.enc_dim + cfg.cond_dim, cfg.hidden, num_layers=cfg.gru_layers,
                          bidirectional=True, batch_first=True)
        self.mlp = nn.Sequential(
            nn.Linear(2 * cfg.hidden, cfg.mlp_hidden), nn.LeakyReLU(LEAK),
            nn.Linear(cfg.mlp_hidden, cfg.mlp_hidden), nn.LeakyReLU(LEAK),
            nn.Linear(cfg.mlp_hidden, cfg.pose_dim))
        self.register_buffer("norm_mean", torch.zeros(cfg.pose_dim))
        self.register_buffer("norm_std", torch.ones(cfg.pose_dim))
        self.register_buffer("energy_stats", torch.tensor([0.0, 1.0]))

    def forward(self, pieces: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """``pieces`` (B, T, P) from :func:`.conditioning.model_pieces`; ``cond``
        (B, T, 1 + noise_dim): normalised log energy, then noise."""
        B, T, P = pieces.shape
        code = self.encoder(pieces.reshape(B * T, P)).reshape(B, T, -1)
        h, _ = self.gru(torch.cat([code, cond], dim=-1))
        return self.mlp(h)

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.norm_std + self.norm_mean

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.norm_mean) / self.norm_std
