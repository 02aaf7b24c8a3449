"""DanceIt's MatchNet (Guo et al., seed 003, §IV-B): a learned audio–pose distance, in
torch, for training. The numpy twin is
:mod:`choreo.core.generation.families.danceit.matchnet`; tensor names here are its contract.

- audio encoder (eq. 4–6): a Bi-LSTM (hidden 100, dropout 0.1) over the first 13
  MFCCs per frame (standardised; ``audio_features`` may add the onset-strength, beat
  and tempogram-band columns), a fully connected layer per frame, averaged
  over the clip's frames → 16-d (``fc`` is linear, so averaging the hidden states
  first is the same thing and cheaper);
- pose encoder (eq. 7–9): a small ST-GCN (the blocks and SMPL-24 graph of
  :mod:`.stgcn`) over (B, T, 24, 3) local joints
  (:func:`~.representation.local_joints_3d`) plus their velocities, averaged over
  time and joints, then ``fc`` → 16-d.

Both pool over time, so one model embeds a clip of any length (the paper trained
one network per fragment length, 1–4 s; here one is trained on lengths drawn from
that range). Embeddings are L2-normalised (``normalize``): distances then lie in
[0, 2], so the paper's "corresponding when the distance is below 1" and the
margin ε of eq. 10 have a fixed meaning (unnormalised, the network could
satisfy any margin by scaling up).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .. import skeleton as sk
from .matchnet_config import MatchNetConfig, check_config_values  # noqa: F401  (torch-free, for the runtime)
from .stgcn import _Block, adjacency


class MatchNet(nn.Module):
    """Audio and pose encoders into one embedding space; see the module docstring."""

    def __init__(self, cfg: MatchNetConfig | dict | None = None):
        super().__init__()
        if cfg is None:
            cfg = MatchNetConfig()
        elif isinstance(cfg, dict):
            cfg = MatchNetConfig.from_dict(cfg)
        self.cfg = cfg
        V = sk.NUM_JOINTS
        self.register_buffer("audio_mean", torch.zeros(cfg.audio_dim))
        self.register_buffer("audio_std", torch.ones(cfg.audio_dim))
        self.lstm = nn.LSTM(cfg.audio_dim, cfg.audio_hidden, cfg.audio_layers, batch_first=True, bidirectional=True,
                            dropout=cfg.dropout if cfg.audio_layers > 1 else 0.0)
        self.audio_drop = nn.Dropout(cfg.dropout)
        S = cfg.time_segments
        self.audio_fc = nn.Linear(2 * cfg.audio_hidden * S, cfg.embed)
        # Joints and velocities (6 channels) standardised per joint, as the perceptual ST-GCN's input.
        self.register_buffer("pose_mean", torch.zeros(6, 1, V))
        self.register_buffer("pose_std", torch.ones(6, 1, V))
        A = adjacency(cfg.partition)
        blocks, c = [], 6
        for i, (c_out, s) in enumerate(zip(cfg.pose_channels, cfg.pose_strides)):
            blocks.append(_Block(c, c_out, s, A, cfg.temporal_kernel, 0.0, residual=i > 0))
            c = c_out
        self.pose_blocks = nn.ModuleList(blocks)
        self.pose_fc = nn.Linear(c * S, cfg.embed)

    def _out(self, z: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(z, dim=-1, eps=1e-8) if self.cfg.normalize else z

    def embed_audio(self, mfcc: torch.Tensor) -> torch.Tensor:
        """(B, embed) of (B, T, audio_dim) raw audio inputs (MFCCs, and rhythm columns per ``audio_features``)."""
        h, _ = self.lstm((mfcc - self.audio_mean) / self.audio_std)
        return self._out(self.audio_fc(self._pool(self.audio_drop(h).transpose(1, 2))))

    def _pool(self, h: torch.Tensor) -> torch.Tensor:
        """(B, C, T) → (B, S·C): the mean over each of ``time_segments`` equal parts of the clip
        (adaptive average pooling), segment-major."""
        if self.cfg.time_segments == 1:
            return h.mean(dim=2)
        return nn.functional.adaptive_avg_pool1d(h, self.cfg.time_segments).transpose(1, 2).flatten(1)

    def pose_input(self, local: torch.Tensor) -> torch.Tensor:
        """(B, T, 24, 3) local joints → standardised (B, 6, T, 24): joints and velocities."""
        if local.dim() != 4 or local.shape[-2:] != (sk.NUM_JOINTS, 3):
            raise ValueError(f"expected (B, T, {sk.NUM_JOINTS}, 3) joints, got {tuple(local.shape)}")
        x = local.permute(0, 3, 1, 2)
        vel = torch.diff(x, dim=2, prepend=x[:, :, :1]) * self.cfg.fps
        return (torch.cat([x, vel], dim=1) - self.pose_mean) / self.pose_std

    def embed_pose(self, local: torch.Tensor) -> torch.Tensor:
        """(B, embed) of (B, T, 24, 3) local joints."""
        h = self.pose_input(local)
        for block in self.pose_blocks:
            h = block(h)
        return self._out(self.pose_fc(self._pool(h.mean(dim=3))))

    def set_stats(self, audio_mean, audio_std, pose_mean, pose_std) -> None:
        """Input standardisation: (audio_dim,) audio input and (6, 24) joint/velocity mean and std."""
        with torch.no_grad():
            self.audio_mean.copy_(torch.as_tensor(np.asarray(audio_mean), dtype=torch.float32))
            self.audio_std.copy_(torch.as_tensor(np.asarray(audio_std), dtype=torch.float32))
            self.pose_mean.copy_(torch.as_tensor(np.asarray(pose_mean), dtype=torch.float32).view(6, 1, -1))
            self.pose_std.copy_(torch.as_tensor(np.asarray(pose_std), dtype=torch.float32).view(6, 1, -1))


def distance(p: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """Euclidean distance between embeddings along the last axis (broadcasting)."""
    return (p - a).pow(2).sum(-1).clamp_min(1e-12).sqrt()


def matching_loss(d_pos: torch.Tensor, d_neg: torch.Tensor, margin: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. 10 as the usual contrastive loss: ``||p − a||²`` for corresponding pairs and
    ``max(0, ε − ||p − a||)²`` for non-corresponding ones (the paper's ``||p − a − ε||²``
    read as "pushed at least ε apart", the contrastive loss of Hadsell et al.; taken
    literally it would pull every negative to a fixed offset ε). Means of each."""
    pos = d_pos.pow(2).mean() if d_pos.numel() else d_pos.new_zeros(())
    neg = torch.relu(margin - d_neg).pow(2).mean() if d_neg.numel() else d_neg.new_zeros(())
    return pos, neg
