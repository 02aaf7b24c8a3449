"""Generators' architecture settings, stored as JSON inside every weights file:
Ren et al.'s (:class:`GeneratorConfig`) and Dance Revolution's (:class:`DRConfig`).
torch-free: the numpy runtimes read them in Blender.

Defaults follow the papers where they give a value (Ren et al. §3/§6.2: 0.1 s audio
pieces, a 2-layer bidirectional GRU) and are sized for 2-core CPU training and
faster-than-real-time generation where they do not.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from .representation import LEGACY_MODES, OUTPUTS, SMPL24, pose_dim


def check_fields(cls, d: dict, what: str) -> None:
    """Refuse settings the dataclass ``cls`` does not have (a typo in a config file)."""
    unknown = set(d) - {f.name for f in fields(cls)}
    if unknown:
        raise ValueError(f"unknown {what} settings: {', '.join(sorted(unknown))}")


def is_count(v, least: int = 1) -> bool:
    """Whether ``v`` is an integer (not a bool) of at least ``least``."""
    return isinstance(v, int) and not isinstance(v, bool) and v >= least


def check_settings(cfg, ranges: dict[str, tuple[float, float]], counts: dict[str, int]) -> None:
    """Raise ValueError unless ``cfg.output`` is one of ``OUTPUTS``, each setting named in
    ``ranges`` is a finite number in its inclusive (lo, hi) (``sample_rate`` an integer),
    and each named in ``counts`` an integer of at least its value: a weights file's config
    is checked before any audio is read (fps 0 would only fail deep in generation)."""
    import math

    if cfg.output not in OUTPUTS:
        raise ValueError(f"output must be one of {', '.join(OUTPUTS)}, got {cfg.output!r}")
    for k, (lo, hi) in ranges.items():
        v = getattr(cfg, k)
        number = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        if not (number and lo <= v <= hi) or (k == "sample_rate" and not is_count(v)):
            raise ValueError(f"{k} must be a number in {lo:g}–{hi:g}, got {v!r}")
    for k, least in counts.items():
        if not is_count(getattr(cfg, k), least):
            raise ValueError(f"{k} must be a {'non-negative' if least == 0 else 'positive'} integer, "
                             f"got {getattr(cfg, k)!r}")


class _Settings:
    """What every generator config has: an ``output`` and ``noise_dim``, as JSON."""

    @property
    def pose_dim(self) -> int:
        return pose_dim(self.output)

    @property
    def cond_dim(self) -> int:
        """Per-frame conditioning beside the music: energy (1) + noise."""
        return 1 + self.noise_dim

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class GeneratorConfig(_Settings):
    output: str = SMPL24           # representation.OUTPUTS: SMPL-24 root-motion features or OpenPose-18 front view
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

    @classmethod
    def from_dict(cls, d: dict) -> "GeneratorConfig":
        """The config of ``d``; the ``mode`` ("3d"/"2d") of weights and configs written
        before outputs had names is read as the same :attr:`output`."""
        d = dict(d)
        if "mode" in d:
            mode = d.pop("mode")
            if mode not in LEGACY_MODES or d.get("output", LEGACY_MODES[mode]) != LEGACY_MODES[mode]:
                raise ValueError(f"mode must be '3d' or '2d' and agree with output, got {mode!r}")
            d["output"] = LEGACY_MODES[mode]
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


#: Dance Revolution's music features per frame (:data:`choreo.core.audio.features.N_FEATURES`).
N_MUSIC = 438


@dataclass
class DRConfig(_Settings):
    """Dance Revolution's settings (:mod:`choreo.core.models.dancerevolution`)."""

    output: str = SMPL24       # representation.OUTPUTS
    fps: float = 30.0
    sample_rate: int = 22050   # the music features' rate
    music_dim: int = N_MUSIC
    noise_dim: int = 8         # seeded smooth noise, as Ren's (conditioning.smooth_noise)
    noise_period: float = 2.0  # seconds between its knots
    d_model: int = 128
    layers: int = 2
    heads: int = 4
    ff: int = 256
    window: int = 30           # local attention: frames each side (the paper: 100 at 15 fps)
    attention: str = "local"   # "local" or "global"
    dropout: float = 0.1
    dec_hidden: int = 256
    dec_layers: int = 2

    @classmethod
    def from_dict(cls, d: dict) -> "DRConfig":
        check_fields(cls, d, "dancerevolution")
        cfg = cls(**d)
        if cfg.attention not in ("local", "global"):
            raise ValueError(f"attention must be 'local' or 'global', not {cfg.attention!r}")
        if cfg.d_model % cfg.heads:
            raise ValueError(f"d_model {cfg.d_model} is not a multiple of heads {cfg.heads}")
        return cfg
