"""The generator's architecture settings, stored as JSON inside every weights file.

Defaults follow Ren et al. §3/§6.2 where the paper gives a value (0.1 s audio
pieces, a 2-layer bidirectional GRU) and are sized for 2-core CPU training and
faster-than-real-time generation where it does not.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from .representation import pose_dim


def check_fields(cls, d: dict, what: str) -> None:
    """Refuse settings the dataclass ``cls`` does not have (a typo in a config file)."""
    unknown = set(d) - {f.name for f in fields(cls)}
    if unknown:
        raise ValueError(f"unknown {what} settings: {', '.join(sorted(unknown))}")


@dataclass
class GeneratorConfig:
    mode: str = "3d"               # "3d" (SMPL-24 root-motion features) or "2d" (OpenPose-18 front view)
    fps: float = 30.0
    sample_rate: int = 16000       # the paper's S = 16000 samples per second
    piece_seconds: float = 0.1     # one audio piece per frame, centred on the frame
    enc_channels: tuple[int, ...] = (16, 32, 64)
    enc_kernels: tuple[int, ...] = (32, 8, 8)
    enc_strides: tuple[int, ...] = (8, 4, 4)
    enc_dim: int = 128             # audio code per frame
    noise_dim: int = 8             # smooth seeded noise (variation)
    noise_period: float = 2.0      # seconds between the noise's random knots
    hidden: int = 128              # GRU hidden size per direction
    gru_layers: int = 2
    mlp_hidden: int = 256

    @property
    def piece_samples(self) -> int:
        return int(round(self.piece_seconds * self.sample_rate))

    @property
    def pose_dim(self) -> int:
        return pose_dim(self.mode)

    @property
    def cond_dim(self) -> int:
        """Per-frame conditioning beside the audio code: energy (1) + noise."""
        return 1 + self.noise_dim

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "GeneratorConfig":
        check_fields(cls, d, "generator")
        d = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        return cls(**d)

    def encoder_lengths(self) -> list[int]:
        """Time length after each encoder convolution (no padding)."""
        n, out = self.piece_samples, []
        for k, s in zip(self.enc_kernels, self.enc_strides):
            n = (n - k) // s + 1
            if n < 1:
                raise ValueError("audio encoder kernels/strides are too large for the piece length")
            out.append(n)
        return out
