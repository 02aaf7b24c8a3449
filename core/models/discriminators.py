"""Ren et al.'s two discriminators (seed 002, §3 and §5).

Both judge pose sequences with the paper's *two-stream pose encoder* (§5.1,
after the Hierarchical Co-occurrence Network): one stream reads the poses, the
other their temporal difference (interpolated back to the same length); each is
a stack of 1-D convolutions over time with the pose features (joints ×
coordinates) as channels; the two maps are concatenated along channels and
fused by further convolutions and a fully connected layer.

- :class:`LocalTemporalDiscriminator` (§5.2): a 1-D PatchGAN. The sequence is cut
  into K overlapping sub-sequences of ``window`` frames every ``stride`` frames,
  each scored by a trimmed pose encoder and a small classifier: (B, K) scores.
  The paper uses t = 5 frames every 3 at 10 fps (0.5 s windows, K = 16 for
  T = 50); at 30 fps the same span is 15 frames every 9.
- :class:`GlobalContentDiscriminator` (§3, §5.3): pose stream → F^P (256);
  music stream = the generator's audio encoder design on the same 0.1 s pieces
  → 2-layer BiGRU → structured self-attention (eq. 2–3, k = 2·hidden, l = 40)
  → F^M (256); [F^P; F^M] as two channels → 1-D conv → FC → one score.

Both return their intermediate activations too, for the feature-matching loss
(eq. 6). Scores are raw logits; the GAN formulation lives in
:mod:`choreo.core.training.losses`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .config import GeneratorConfig, check_fields
from .generator import LEAK, AudioEncoder

ATTENTION_MODES = ("softmax", "neg_log_softmax")


@dataclass
class DiscriminatorConfig:
    channels: int = 64             # per-stream conv channels
    fused_channels: int = 128      # after concatenating the two streams
    feat_dim: int = 256            # F^P and F^M (paper: 256)
    local_window: int = 15         # t: frames per local sub-sequence (0.5 s at 30 fps)
    local_stride: int = 9          # frames between sub-sequence starts (0.3 s, as t=5/stride 3 at 10 fps)
    local_hidden: int = 64         # local classifier width
    music_hidden: int = 128        # BiGRU hidden per direction: k = 2·music_hidden = 256
    attention_dim: int = 40        # l of eq. 2
    attention: str = "softmax"     # "softmax" or the eq. 3 as printed, "neg_log_softmax"
    classifier_channels: int = 16  # the global classifier's 1-D conv

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "DiscriminatorConfig":
        check_fields(cls, d, "discriminator")
        out = cls(**d)
        if out.attention not in ATTENTION_MODES:
            raise ValueError(f"attention must be one of {ATTENTION_MODES}, got {out.attention!r}")
        if out.local_window < 2 or out.local_stride < 1:
            raise ValueError("local_window must be >= 2 frames and local_stride >= 1")
        return out


def temporal_difference(x: torch.Tensor) -> torch.Tensor:
    """(B, C, T) → (B, C, T): frame differences, linearly interpolated back to T frames (§5.1)."""
    d = x[..., 1:] - x[..., :-1]
    return F.interpolate(d, size=x.shape[-1], mode="linear", align_corners=True)


class TwoStreamPoseEncoder(nn.Module):
    """Pose stream + temporal-difference stream, fused by concatenation (§5.1).

    ``forward(x (B, T, D))`` → (feature map (B, fused, T'), list of activations).
    ``pool`` halves the time axis after each stream and after fusion (global
    discriminator); the local one keeps its short windows unpooled.
    """

    def __init__(self, in_dim: int, channels: int, fused: int, pool: bool):
        super().__init__()

        def stream():
            return nn.ModuleList([nn.Conv1d(in_dim, channels, 3, padding=1),
                                  nn.Conv1d(channels, channels, 3, padding=1)])

        self.pose, self.motion = stream(), stream()
        self.fuse = nn.ModuleList([nn.Conv1d(2 * channels, fused, 3, padding=1),
                                   nn.Conv1d(fused, fused, 3, padding=1)])
        self.pool = pool

    def _down(self, x):
        return F.avg_pool1d(x, 2, ceil_mode=True) if self.pool and x.shape[-1] > 1 else x

    def _run(self, convs, x, acts):
        for conv in convs:
            x = F.leaky_relu(conv(x), LEAK)
            acts.append(x)
        return self._down(x)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        x = x.transpose(1, 2)  # (B, D, T): pose features as channels
        acts: list[torch.Tensor] = []
        a = self._run(self.pose, x, acts)
        b = self._run(self.motion, temporal_difference(x), acts)
        h = self._run(self.fuse, torch.cat([a, b], dim=1), acts)
        return h, acts


def subsequences(x: torch.Tensor, window: int, stride: int) -> torch.Tensor:
    """S(·) of eq. 4: (B, T, D) → (B, K, window, D), K = (T - window) // stride + 1."""
    if x.shape[1] < window:
        raise ValueError(f"sequence of {x.shape[1]} frames is shorter than the local window ({window})")
    return x.unfold(1, window, stride).transpose(2, 3)


class LocalTemporalDiscriminator(nn.Module):
    """D_local: one realism logit per overlapping sub-sequence (1-D PatchGAN, §5.2)."""

    def __init__(self, pose_dim: int, cfg: DiscriminatorConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or DiscriminatorConfig()
        self.encoder = TwoStreamPoseEncoder(pose_dim, cfg.channels // 2, cfg.fused_channels // 2, pool=False)
        self.classifier = nn.Sequential(
            nn.Linear(cfg.fused_channels // 2 * cfg.local_window, cfg.local_hidden), nn.LeakyReLU(LEAK),
            nn.Linear(cfg.local_hidden, 1))

    def num_windows(self, frames: int) -> int:
        return (frames - self.cfg.local_window) // self.cfg.local_stride + 1

    def forward(self, poses: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``poses`` (B, T, D) → (scores (B, K), activations)."""
        sub = subsequences(poses, self.cfg.local_window, self.cfg.local_stride)
        B, K, t, D = sub.shape
        h, acts = self.encoder(sub.reshape(B * K, t, D))
        return self.classifier(h.flatten(1)).reshape(B, K), acts


class StructuredSelfAttention(nn.Module):
    """Eq. 2–3: r = W_s2 tanh(W_s1 Oᵀ), weights a over time, F = A·O.

    ``mode="softmax"`` weights the hidden states by softmax(r) (Lin et al. 2017,
    the paper's reference [22]); ``mode="neg_log_softmax"`` uses eq. 3 as printed,
    a_i = -log softmax(r)_i (unnormalised, largest for the *least* attended steps).
    """

    def __init__(self, k: int, l: int, mode: str = "softmax"):
        super().__init__()
        if mode not in ATTENTION_MODES:
            raise ValueError(f"attention mode must be one of {ATTENTION_MODES}, got {mode!r}")
        self.ws1 = nn.Linear(k, l, bias=False)
        self.ws2 = nn.Linear(l, 1, bias=False)
        self.mode = mode

    def weights(self, o: torch.Tensor) -> torch.Tensor:
        r = self.ws2(torch.tanh(self.ws1(o))).squeeze(-1)  # (B, T)
        logp = F.log_softmax(r, dim=-1)
        return logp.exp() if self.mode == "softmax" else -logp

    def forward(self, o: torch.Tensor) -> torch.Tensor:
        """(B, T, k) → (B, k)."""
        return torch.einsum("bt,btk->bk", self.weights(o), o)


class MusicEncoder(nn.Module):
    """Music stream of D_global: audio encoder → BiGRU → self-attention → F^M."""

    def __init__(self, gen_cfg: GeneratorConfig, cfg: DiscriminatorConfig):
        super().__init__()
        self.audio = AudioEncoder(gen_cfg)
        self.gru = nn.GRU(gen_cfg.enc_dim, cfg.music_hidden, num_layers=2, bidirectional=True, batch_first=True)
        k = 2 * cfg.music_hidden
        self.attention = StructuredSelfAttention(k, cfg.attention_dim, cfg.attention)
        self.proj = nn.Identity() if k == cfg.feat_dim else nn.Linear(k, cfg.feat_dim)

    def forward(self, pieces: torch.Tensor) -> torch.Tensor:
        B, T, P = pieces.shape
        code = self.audio(pieces.reshape(B * T, P)).reshape(B, T, -1)
        o, _ = self.gru(code)
        return self.proj(self.attention(o))


class GlobalContentDiscriminator(nn.Module):
    """D_global(poses, music) → (logit (B,), activations of the pose path).

    The music feature depends on the music only, so it can be computed once with
    :meth:`music_features` and passed to :meth:`forward` for real, fake and
    interpolated poses alike.
    """

    def __init__(self, gen_cfg: GeneratorConfig, cfg: DiscriminatorConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or DiscriminatorConfig()
        self.pose_encoder = TwoStreamPoseEncoder(gen_cfg.pose_dim, cfg.channels, cfg.fused_channels, pool=True)
        self.pose_fc = nn.Linear(cfg.fused_channels, cfg.feat_dim)
        self.music = MusicEncoder(gen_cfg, cfg)
        c = cfg.classifier_channels
        self.conv = nn.Conv1d(2, c, 5, stride=2, padding=2)
        self.fc = nn.Linear(c * ((cfg.feat_dim - 1) // 2 + 1), 1)

    def music_features(self, pieces: torch.Tensor) -> torch.Tensor:
        return self.music(pieces)

    def forward(self, poses: torch.Tensor, pieces: torch.Tensor | None = None,
                music: torch.Tensor | None = None) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``poses`` (B, T, D), and ``pieces`` (B, T, P) or precomputed ``music`` (B, feat_dim)."""
        if music is None:
            music = self.music_features(pieces)
        h, acts = self.pose_encoder(poses)
        fp = F.leaky_relu(self.pose_fc(h.mean(dim=-1)), LEAK)  # F^P: average over time, FC
        acts.append(fp)
        x = torch.stack([fp, music.expand(len(fp), -1)], dim=1)  # F^P, F^M as two channels
        x = F.leaky_relu(self.conv(x), LEAK)
        acts.append(x)
        return self.fc(x.flatten(1)).squeeze(-1), acts
