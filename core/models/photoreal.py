"""The photoreal renderer (issue 16): pose image + previous frame → a frame of the target person.

Everybody Dance Now (Chan et al. 2019) and DanceIt both end in pix2pixHD (Wang et al. 2018);
this is its global generator, made temporal as EDN does and followed by EDN's face GAN:

- :class:`Generator` — pix2pixHD's global generator: reflection-padded 7×7 conv (c7s1),
  ``n_down`` stride-2 3×3 convs (channels doubling), ``n_blocks`` residual blocks, ``n_down``
  stride-2 3×3 transposed convs, c7s1 to RGB and tanh; instance norm (no affine, ε 1e-5) and
  ReLU after every conv but the last. Its input is the pose image of frame t (3 channels, see
  :func:`~choreo.core.video.poses.pose_image`) and the previous generated frame (3 channels; a
  blank — zeros, mid grey — for the first frame), both in [-1, 1]. pix2pixHD's local enhancer
  is not built: the global generator alone is what the CPU budget affords, and at 512² it is
  what pix2pixHD itself trains first.
- :class:`FaceResidual` — EDN §3.3: a smaller global generator reading the pose image's and
  the generated frame's face patch (a square of :func:`face_size` px centred on the nose,
  :func:`~choreo.core.video.renderer.face_box`) and adding its output to that patch. Its last
  conv starts at zero, so an untrained face stage leaves the frame unchanged.
- :class:`MultiScaleDiscriminator` — pix2pixHD's PatchGAN at ``n_scales`` scales (each 3×3
  average-pooled by 2 from the last), returning every layer's features for feature matching.
  The trainer feeds it EDN's temporal pairs (pose t-1, pose t, frame t-1, frame t: 12 channels),
  so one discriminator judges realism and temporal coherence; the face discriminator is a
  single-scale one on (pose patch, face patch).

Convs followed by instance norm carry no bias (the norm removes any per-channel constant).
:mod:`choreo.core.video.renderer` runs :class:`Photoreal` on numpy alone, tensor for tensor.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch
from torch import nn
from torch.nn import functional as F

#: The generator's input channels: pose image (RGB) and previous frame (RGB).
IN_CHANNELS = 6
#: Instance norm's ε (torch's default; the numpy runtime uses the same).
EPS = 1e-5


@dataclass(frozen=True)
class PhotorealConfig:
    """Sizes of the renderer's networks; the face patch and pose limbs scale with the resolution R."""

    ngf: int = 32              # generator channels at full resolution (pix2pixHD: 64)
    n_down: int = 3            # stride-2 downsamplings (pix2pixHD global: 4)
    n_blocks: int = 6          # residual blocks at the lowest resolution (pix2pixHD: 9)
    ndf: int = 32              # discriminator channels of the first layer (pix2pixHD: 64)
    d_layers: int = 3          # stride-2 layers per PatchGAN (pix2pixHD: 3, a 70-px patch at each scale)
    n_scales: int = 2          # discriminator scales (pix2pixHD: 2 at 512×1024, 3 at 1024×2048)
    face_fraction: float = 0.2  # face patch side as a fraction of R (DanceIt: 50 px)
    face_ngf: int = 16
    face_n_down: int = 2
    face_n_blocks: int = 3
    face_ndf: int = 16
    face_d_layers: int = 2
    limb_fraction: float = 1 / 64  # pose-image limb width as a fraction of R (4 px at 256²)

    @classmethod
    def from_dict(cls, d: dict) -> "PhotorealConfig":
        """The config of a JSON object; unknown keys and bad values raise ValueError."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown model key {unknown[0]!r} (known: {', '.join(sorted(known))})")
        cfg = cls(**d)
        for f in fields(cls):
            v = getattr(cfg, f.name)
            if f.type == "int":
                least = 0 if f.name in ("n_down", "n_blocks", "face_n_down", "face_n_blocks") else 1
                if not isinstance(v, int) or isinstance(v, bool) or v < least:
                    raise ValueError(f"model {f.name} must be an integer ≥ {least}, got {v!r}")
            elif isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not 0 < v < 1:
                raise ValueError(f"model {f.name} must be a number in (0, 1), got {v!r}")
        return cfg

    def to_dict(self) -> dict:
        return asdict(self)

    def check_size(self, size: int) -> None:
        """ValueError unless frames of ``size``² px fit the networks (the generator's
        downsamplings must divide it; every discriminator scale must keep a patch)."""
        m = 2 ** self.n_down
        if size % m or size // m < 2:
            raise ValueError(f"resolution {size} must be a multiple of {m} (2^n_down) and at least {2 * m}")
        if size // 2 ** (self.n_scales - 1) < 16:
            raise ValueError(f"resolution {size} is too small for {self.n_scales} discriminator scales")


def face_size(cfg: PhotorealConfig, size: int) -> int:
    """Side in px of the face patch at resolution ``size``: ``face_fraction``·size rounded to a
    multiple of 2^face_n_down (what the face generator's downsamplings need), at least 2 such steps."""
    m = 2 ** cfg.face_n_down
    return min(size - size % m, max(2 * m, int(round(cfg.face_fraction * size / m)) * m))


def limb_width(cfg: PhotorealConfig, size: int) -> float:
    """Pose-image limb width in px at resolution ``size``."""
    return max(1.0, cfg.limb_fraction * size)


def _norm(x: torch.Tensor) -> torch.Tensor:
    return F.instance_norm(x, eps=EPS)


def _reflect(x: torch.Tensor, p: int) -> torch.Tensor:
    return F.pad(x, (p, p, p, p), mode="reflect")


class ResBlock(nn.Module):
    """x + IN(conv3(relu(IN(conv3(x))))) with reflection padding (pix2pixHD's, without dropout)."""

    def __init__(self, ch: int):
        super().__init__()
        self.conv1 = nn.Conv2d(ch, ch, 3, bias=False)
        self.conv2 = nn.Conv2d(ch, ch, 3, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(_norm(self.conv1(_reflect(x, 1))))
        return x + _norm(self.conv2(_reflect(h, 1)))


class Generator(nn.Module):
    """pix2pixHD's global generator (module notes): (B, in_ch, H, W) in [-1, 1] → (B, 3, H, W) in (-1, 1)."""

    def __init__(self, in_ch: int, ngf: int, n_down: int, n_blocks: int):
        super().__init__()
        ch = [ngf * 2 ** i for i in range(n_down + 1)]
        self.inp = nn.Conv2d(in_ch, ngf, 7, bias=False)
        self.down = nn.ModuleList(nn.Conv2d(ch[i], ch[i + 1], 3, 2, 1, bias=False) for i in range(n_down))
        self.blocks = nn.ModuleList(ResBlock(ch[-1]) for _ in range(n_blocks))
        self.up = nn.ModuleList(nn.ConvTranspose2d(ch[i + 1], ch[i], 3, 2, 1, output_padding=1, bias=False)
                                for i in reversed(range(n_down)))
        self.out = nn.Conv2d(ngf, 3, 7)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(_norm(self.inp(_reflect(x, 3))))
        for conv in self.down:
            h = F.relu(_norm(conv(h)))
        for block in self.blocks:
            h = block(h)
        for conv in self.up:
            h = F.relu(_norm(conv(h)))
        return torch.tanh(self.out(_reflect(h, 3)))


class FaceResidual(Generator):
    """EDN's face generator: (pose patch, generated patch) (B, 6, P, P) → the residual (B, 3, P, P)
    to add to the generated patch; zero until trained."""

    def __init__(self, cfg: PhotorealConfig):
        super().__init__(6, cfg.face_ngf, cfg.face_n_down, cfg.face_n_blocks)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)


class Photoreal(nn.Module):
    """The renderer's trained part: ``generator`` and ``face`` (what the weights file holds)."""

    def __init__(self, cfg: PhotorealConfig):
        super().__init__()
        self.cfg = cfg
        self.generator = Generator(IN_CHANNELS, cfg.ngf, cfg.n_down, cfg.n_blocks)
        self.face = FaceResidual(cfg)

    def forward(self, pose: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        """The body frame (B, 3, R, R) of pose images and previous frames (B, 3, R, R), all in [-1, 1]."""
        return self.generator(torch.cat([pose, prev], dim=1))

    def face_residual(self, pose_patch: torch.Tensor, frame_patch: torch.Tensor) -> torch.Tensor:
        """Residual (B, 3, P, P) for the face patches of the pose images and the generated frames."""
        return self.face(torch.cat([pose_patch, frame_patch], dim=1))


class PatchDiscriminator(nn.Module):
    """pix2pixHD's N-layer PatchGAN: 4×4 convs (padding 2), stride 2 ``n_layers`` times then
    stride 1 twice, leaky ReLU 0.2, instance norm after all but the first and last; returns
    every layer's output, the last being the (B, 1, h, w) logits."""

    def __init__(self, in_ch: int, ndf: int, n_layers: int):
        super().__init__()
        chans = [in_ch] + [min(ndf * 2 ** i, 512) for i in range(n_layers + 1)] + [1]
        strides = [2] * n_layers + [1, 1]
        self.convs = nn.ModuleList(nn.Conv2d(chans[i], chans[i + 1], 4, strides[i], 2) for i in range(len(strides)))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats, last = [], len(self.convs) - 1
        for i, conv in enumerate(self.convs):
            x = conv(x)
            if i != last:
                x = F.leaky_relu(x if i == 0 else _norm(x), 0.2)
            feats.append(x)
        return feats


class MultiScaleDiscriminator(nn.Module):
    """``n_scales`` PatchGANs, the k-th on the input average-pooled k times (3×3, stride 2,
    padding not counted, as pix2pixHD); returns each scale's feature list."""

    def __init__(self, in_ch: int, ndf: int, n_layers: int, n_scales: int):
        super().__init__()
        self.scales = nn.ModuleList(PatchDiscriminator(in_ch, ndf, n_layers) for _ in range(n_scales))

    def forward(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        out = []
        for i, d in enumerate(self.scales):
            if i:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            out.append(d(x))
        return out


def discriminators(cfg: PhotorealConfig) -> tuple[MultiScaleDiscriminator, MultiScaleDiscriminator]:
    """(the temporal frame-pair discriminator, the face discriminator) of the trainer."""
    pair = MultiScaleDiscriminator(4 * 3, cfg.ndf, cfg.d_layers, cfg.n_scales)
    face = MultiScaleDiscriminator(2 * 3, cfg.face_ndf, cfg.face_d_layers, 1)
    return pair, face
