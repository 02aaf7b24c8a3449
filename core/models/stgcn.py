"""A compact ST-GCN (Yan et al. 2018) on the SMPL-24 tree: the network whose
activations the pose perceptual loss (Ren et al. §4, eq. 1) matches.

Input is (B, T, 24, 3) local joints, i.e. :func:`representation.local_joints_3d`
of :func:`representation.encode_3d` features: pelvis-floor-relative, in the
dancer's heading frame, metres. The network appends each joint's velocity
(frame difference × fps) as three more channels, so its features see motion
dynamics directly, and standardises all six channels per joint with buffers
fitted on the pre-training data.

Graph: the SMPL-24 kinematic tree (:data:`skeleton.PARENTS`) with self-loops,
split by ST-GCN's *spatial configuration* partition, with the pelvis as the
centre: subset 0 = the joint itself (root), 1 = its parent (centripetal),
2 = its children (centrifugal). Each subset's adjacency is normalised by the
full graph's degree, as in ST-GCN, and scaled by a learnable edge importance.

A block = spatial graph conv (1×1 conv to K·C_out, aggregated over the K
subsets) → BN → ReLU → temporal conv (kernel × 1, optional stride 2) → BN,
plus a residual (identity or strided 1×1 conv + BN), then ReLU.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from .. import skeleton as sk
from .config import check_fields

PARTITIONS = ("spatial", "uniform")


@dataclass
class STGCNConfig:
    channels: tuple[int, ...] = (32, 32, 48, 48, 64, 64)   # one block per entry
    strides: tuple[int, ...] = (1, 1, 2, 1, 2, 1)          # temporal stride per block
    temporal_kernel: int = 9                              # frames (0.3 s at 30 fps)
    partition: str = "spatial"                            # "spatial" (root/centripetal/centrifugal) or "uniform"
    velocity: bool = True                                 # append per-joint velocity channels
    fps: float = sk.FPS
    dropout: float = 0.0
    # Classification heads: task name -> class names (the logits' order).
    tasks: dict = field(default_factory=lambda: {
        "dance": ["non-dance", "dance"],
        "action": ["walk", "dance", "dribble", "other"],
        "order": ["natural", "reversed", "shuffled"],
    })

    def __post_init__(self):
        if len(self.channels) != len(self.strides) or not self.channels:
            raise ValueError("channels and strides must be non-empty and the same length")
        if self.partition not in PARTITIONS:
            raise ValueError(f"partition must be one of {PARTITIONS}, got {self.partition!r}")
        if self.temporal_kernel % 2 != 1:
            raise ValueError("temporal_kernel must be odd")

    @property
    def in_channels(self) -> int:
        return 6 if self.velocity else 3

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channels"], d["strides"] = list(self.channels), list(self.strides)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "STGCNConfig":
        check_fields(cls, d, "ST-GCN")
        d = {k: tuple(v) if k in ("channels", "strides") else v for k, v in d.items()}
        return cls(**d)


def adjacency(partition: str = "spatial") -> np.ndarray:
    """(K, 24, 24) normalised adjacency subsets of the SMPL-24 tree.

    ``A[k, i, j]`` weights joint i's contribution to joint j (ST-GCN's
    ``normalize_digraph``: columns of the full graph scaled by 1/degree).
    """
    V = sk.NUM_JOINTS
    full = np.eye(V)
    for j, p in enumerate(sk.PARENTS):
        if p >= 0:
            full[j, p] = full[p, j] = 1.0
    inv_deg = 1.0 / full.sum(axis=0)
    norm = full * inv_deg[None, :]
    if partition == "uniform":
        return norm[None].astype(np.float32)
    A = np.zeros((3, V, V))
    for j in range(V):
        A[0, j, j] = norm[j, j]
    for j, p in enumerate(sk.PARENTS):
        if p >= 0:
            A[1, p, j] = norm[p, j]   # parent → child: centripetal neighbour of j
            A[2, j, p] = norm[j, p]   # child → parent: centrifugal neighbour of p
    return A.astype(np.float32)


class _Block(nn.Module):
    def __init__(self, c_in, c_out, stride, A, kt, dropout, residual=True):
        super().__init__()
        self.K = A.shape[0]
        self.register_buffer("A", torch.from_numpy(A))
        self.importance = nn.Parameter(torch.ones_like(self.A))
        self.gcn = nn.Conv2d(c_in, c_out * self.K, 1)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.tcn = nn.Conv2d(c_out, c_out, (kt, 1), (stride, 1), ((kt - 1) // 2, 0))
        self.bn2 = nn.BatchNorm2d(c_out)
        self.drop = nn.Dropout(dropout)
        if not residual:
            self.res = None
        elif c_in == c_out and stride == 1:
            self.res = nn.Identity()
        else:
            self.res = nn.Sequential(nn.Conv2d(c_in, c_out, 1, (stride, 1)), nn.BatchNorm2d(c_out))

    def forward(self, x):  # (N, C, T, V)
        n, _, t, v = x.shape
        y = self.gcn(x).view(n, self.K, -1, t, v)
        y = torch.einsum("nkctv,kvw->nctw", y, self.A * self.importance)
        y = self.drop(self.bn2(self.tcn(torch.relu(self.bn1(y)))))
        if self.res is not None:
            y = y + self.res(x)
        return torch.relu(y)

class STGCN(nn.Module):
    """ST-GCN over (B, T, 24, 3) local joints; see the module docstring."""

    def __init__(self, cfg: STGCNConfig | dict | None = None):
        super().__init__()
        if cfg is None:
            cfg = STGCNConfig()
        elif isinstance(cfg, dict):
            cfg = STGCNConfig.from_dict(cfg)
        self.cfg = cfg
        A = adjacency(cfg.partition)
        c_in = cfg.in_channels
        self.register_buffer("in_mean", torch.zeros(c_in, 1, sk.NUM_JOINTS))
        self.register_buffer("in_std", torch.ones(c_in, 1, sk.NUM_JOINTS))
        blocks, c = [], c_in
        for i, (c_out, s) in enumerate(zip(cfg.channels, cfg.strides)):
            # The first block has no residual, as in ST-GCN (its input is raw coordinates).
            blocks.append(_Block(c, c_out, s, A, cfg.temporal_kernel, cfg.dropout, residual=i > 0))
            c = c_out
        self.blocks = nn.ModuleList(blocks)
        self.heads = nn.ModuleDict({name: nn.Linear(c, len(classes)) for name, classes in cfg.tasks.items()})

    def prepare(self, x):
        """(B, T, 24, 3) joints → standardised (B, C, T, 24) network input."""
        if x.dim() != 4 or x.shape[-2:] != (sk.NUM_JOINTS, 3):
            raise ValueError(f"expected (B, T, {sk.NUM_JOINTS}, 3) joints, got {tuple(x.shape)}")
        x = x.permute(0, 3, 1, 2)  # (B, 3, T, V)
        if self.cfg.velocity:
            vel = torch.diff(x, dim=2, prepend=x[:, :, :1]) * self.cfg.fps
            x = torch.cat([x, vel], dim=1)
        return (x - self.in_mean) / self.in_std

    def features(self, x):
        """Per-block activations [(B, C_l, T_l, 24), …] (the Φ_l of eq. 1)."""
        h, out = self.prepare(x), []
        for block in self.blocks:
            h = block(h)
            out.append(h)
        return out

    def forward(self, x):
        """Logits per task: ``{name: (B, n_classes)}``."""
        pooled = self.features(x)[-1].mean(dim=(2, 3))
        return {name: head(pooled) for name, head in self.heads.items()}

    def set_input_stats(self, mean, std):
        """Set the input standardisation from (C, 24) arrays (C = 6 with velocity)."""
        c = self.cfg.in_channels
        self.in_mean.copy_(torch.as_tensor(np.asarray(mean), dtype=torch.float32).view(c, 1, -1))
        self.in_std.copy_(torch.as_tensor(np.asarray(std), dtype=torch.float32).view(c, 1, -1))
