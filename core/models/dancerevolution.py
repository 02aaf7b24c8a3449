"""Dance Revolution (Huang et al. 2021, seed 004): the model, in torch, for training.

Music features (the 438 columns of :mod:`choreo.core.audio.features`, one row per
motion frame, standardised) and Choreo's conditioning (energy, seeded noise) go
through a transformer encoder whose self-attention is *local*: frame ``i``
attends to frames ``i - window … i + window`` (``attention="global"``: every
frame; the paper's ablation). Positions enter as a learned bias per head and
offset (offsets beyond ``window`` share the end values), so the encoder has no
length limit. An LSTM decoder reads, each frame, the encoder's output and the
previous pose (its own output at generation; in training the ground truth or its
own output, by the curriculum of :mod:`choreo.core.training.dancerevolution`) and
writes the pose. The numpy runtime is
:mod:`choreo.core.generation.families.dancerevolution.runtime`; tensor names here
are its contract.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import N_MUSIC, DRConfig  # noqa: F401  (torch-free there: the numpy runtime reads the config too)


def offsets(n: int, window: int) -> torch.Tensor:
    """(n, n) index of each key's offset from each query, clipped to ±window, from 0."""
    i = torch.arange(n)
    return (i[None, :] - i[:, None]).clamp(-window, window) + window


class EncoderLayer(nn.Module):
    """Pre-norm self-attention (local or global, relative position bias) and feed-forward."""

    def __init__(self, cfg: DRConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.rel = nn.Parameter(torch.zeros(cfg.heads, 2 * cfg.window + 1))
        self.ff1, self.ff2 = nn.Linear(d, cfg.ff), nn.Linear(cfg.ff, d)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, d = x.shape
        H = self.cfg.heads
        q, k, v = self.qkv(self.norm1(x)).view(B, T, 3, H, d // H).permute(2, 0, 3, 1, 4)
        off = offsets(T, self.cfg.window).to(x.device)
        s = q @ k.transpose(-1, -2) / (d // H) ** 0.5 + self.rel[:, off]
        if self.cfg.attention == "local":
            i = torch.arange(T, device=x.device)
            s = s.masked_fill((i[None, :] - i[:, None]).abs() > self.cfg.window, float("-inf"))
        a = torch.softmax(s, dim=-1) @ v
        x = x + self.drop(self.proj(a.transpose(1, 2).reshape(B, T, d)))
        return x + self.drop(self.ff2(torch.relu(self.ff1(self.norm2(x)))))


class DanceRevolution(nn.Module):
    def __init__(self, cfg: DRConfig):
        super().__init__()
        self.cfg = cfg
        D = cfg.pose_dim
        self.register_buffer("music_mean", torch.zeros(cfg.music_dim))
        self.register_buffer("music_std", torch.ones(cfg.music_dim))
        self.register_buffer("norm_mean", torch.zeros(D))
        self.register_buffer("norm_std", torch.ones(D))
        self.register_buffer("energy_stats", torch.tensor([0.0, 1.0]))
        self.inp = nn.Linear(cfg.music_dim + cfg.cond_dim, cfg.d_model)
        self.layers = nn.ModuleList(EncoderLayer(cfg) for _ in range(cfg.layers))
        self.norm = nn.LayerNorm(cfg.d_model)
        self.decoder = nn.LSTM(cfg.d_model + D, cfg.dec_hidden, cfg.dec_layers, batch_first=True)
        self.out = nn.Linear(cfg.dec_hidden, D)

    def encode(self, music: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """(B, T, d_model) of raw music features (B, T, 438) and conditioning (B, T, 1 + noise)."""
        x = self.inp(torch.cat([(music - self.music_mean) / self.music_std, cond], dim=-1))
        for layer in self.layers:
            x = layer(x)
        return self.norm(x)

    def decode(self, code: torch.Tensor, target: torch.Tensor | None = None, own: torch.Tensor | None = None):
        """Normalised poses (B, T, D) from the encoder's ``code``. The previous pose fed
        at frame ``t`` is the ground truth ``target[:, t - 1]`` where ``own[t]`` is
        False, else the decoder's own output (zeros, the mean pose, at frame 0).
        Without ``target``: its own outputs throughout (generation)."""
        B, T, _ = code.shape
        D = self.cfg.pose_dim
        if target is not None and (own is None or not bool(own.any())):  # teacher forcing: one pass
            prev = torch.cat([code.new_zeros(B, 1, D), target[:, :-1]], dim=1)
            h, _ = self.decoder(torch.cat([code, prev], dim=-1))
            return self.out(h)
        state, prev, outs = None, code.new_zeros(B, 1, D), []
        for t in range(T):
            if target is not None and t > 0 and not bool(own[t]):
                prev = target[:, t - 1:t]
            h, state = self.decoder(torch.cat([code[:, t:t + 1], prev], dim=-1), state)
            prev = self.out(h)
            outs.append(prev)
        return torch.cat(outs, dim=1)

    def forward(self, music, cond, target=None, own=None):
        return self.decode(self.encode(music, cond), target, own)

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.norm_std + self.norm_mean
