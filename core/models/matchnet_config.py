"""MatchNet's settings (:class:`MatchNetConfig`), stored as JSON in its weights; torch-free,
so the numpy runtime (:mod:`choreo.core.generation.families.danceit.matchnet`) reads them
in Blender. The model is :mod:`.matchnet`."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from .. import skeleton as sk
from .config import check_fields, is_count

#: ST-GCN graph partitions (:func:`choreo.core.models.stgcn.adjacency`).
PARTITIONS = ("spatial", "uniform")
#: What the audio encoder reads per frame (:func:`~choreo.core.generation.families.danceit.matchnet.audio_input`):
#: ``mfcc`` the first ``n_mfcc`` MFCCs (the paper's); ``mfcc+rhythm`` those plus the onset-strength and
#: beat columns; ``mfcc+rhythm+tempo`` also :data:`TEMPO_BANDS` tempogram bands (beat periods 0.25–2 s).
AUDIO_FEATURES = ("mfcc", "mfcc+rhythm", "mfcc+rhythm+tempo")
TEMPO_BANDS = 8


@dataclass
class MatchNetConfig:
    n_mfcc: int = 13                           # the paper's MFCC per frame (columns mfcc_0 … of the music features)
    audio_features: str = "mfcc"               # AUDIO_FEATURES; weights without the field read as "mfcc"
    audio_hidden: int = 100                    # Bi-LSTM hidden size per direction (the paper's 100)
    audio_layers: int = 1
    dropout: float = 0.1                       # on the Bi-LSTM's outputs (the paper's 0.1)
    embed: int = 16                            # D_f, the paper's 16
    pose_channels: tuple[int, ...] = (32, 48, 64)   # one ST-GCN block per entry
    pose_strides: tuple[int, ...] = (2, 2, 2)       # temporal stride per block
    temporal_kernel: int = 5                   # taps at the strided rates: 10–40 frames of 30 fps
    partition: str = "spatial"
    time_segments: int = 1                     # both encoders average over this many equal parts of the clip,
                                               # concatenated (1: the paper's mean over time; more keeps when
                                               # within the clip, e.g. the beats' phase)
    normalize: bool = True                     # L2-normalise embeddings (module docstring)
    margin: float = 1.4                        # ε of eq. 10: negatives pushed at least this far (≈ √2, unrelated directions)
    threshold: float = 1.0                     # the paper's "corresponding" distance (correlation accuracy)
    fps: float = sk.FPS
    min_seconds: float = 1.0                   # fragment lengths the model is trained on
    max_seconds: float = 4.0

    def __post_init__(self):
        self.pose_channels = tuple(self.pose_channels)
        self.pose_strides = tuple(self.pose_strides)
        check_config_values(self)

    @property
    def audio_dim(self) -> int:
        """Values per frame the audio encoder reads."""
        return (self.n_mfcc + (2 if "rhythm" in self.audio_features else 0)
                + (TEMPO_BANDS if "tempo" in self.audio_features else 0))

    @property
    def min_frames(self) -> int:
        return int(round(self.min_seconds * self.fps))

    @property
    def max_frames(self) -> int:
        return int(round(self.max_seconds * self.fps))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["pose_channels"], d["pose_strides"] = list(self.pose_channels), list(self.pose_strides)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "MatchNetConfig":
        check_fields(cls, d, "matchnet")
        return cls(**d)


def check_config_values(cfg: MatchNetConfig) -> None:
    """Raise ValueError unless every setting of ``cfg`` is usable (a broken weights file
    or config fails here, before any music is read)."""
    for k in ("n_mfcc", "audio_hidden", "audio_layers", "embed", "temporal_kernel", "time_segments"):
        if not is_count(getattr(cfg, k)):
            raise ValueError(f"{k} must be a positive integer, got {getattr(cfg, k)!r}")
    if cfg.temporal_kernel % 2 != 1:
        raise ValueError(f"temporal_kernel must be odd, got {cfg.temporal_kernel}")
    if (not cfg.pose_channels or len(cfg.pose_channels) != len(cfg.pose_strides)
            or not all(is_count(c) for c in cfg.pose_channels) or not all(is_count(s) for s in cfg.pose_strides)):
        raise ValueError("pose_channels and pose_strides must be non-empty lists of positive integers "
                         "of the same length")
    if cfg.audio_features not in AUDIO_FEATURES:
        raise ValueError(f"audio_features must be one of {AUDIO_FEATURES}, got {cfg.audio_features!r}")
    if cfg.partition not in PARTITIONS:
        raise ValueError(f"partition must be one of {PARTITIONS}, got {cfg.partition!r}")
    if not isinstance(cfg.normalize, bool):
        raise ValueError("normalize must be true or false")
    for k, lo, hi in (("dropout", 0.0, 0.99), ("margin", 1e-6, 1e6), ("threshold", 1e-6, 1e6),
                      ("fps", 1.0, 1000.0), ("min_seconds", 1e-3, 3600.0), ("max_seconds", 1e-3, 3600.0)):
        v = getattr(cfg, k)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
            raise ValueError(f"{k} must be a number in {lo:g}–{hi:g}, got {v!r}")
    if cfg.min_seconds > cfg.max_seconds or cfg.min_frames < 1:
        raise ValueError(f"need 0 < min_seconds <= max_seconds, got {cfg.min_seconds}, {cfg.max_seconds}")
