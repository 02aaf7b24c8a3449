"""Dance Revolution (Huang et al., ICLR 2021) sample files.

Layout, as the public code (stonyhu/DanceRevolution: prepro.py,
v2/utils/functional.py, v2/test.py) reads and writes it: one JSON dict per
sample with ``music_array`` (T, D) acoustic features (D = 438 in the released
data), ``dance_array`` (T, >= 50) whose first 50 columns are the 25 OpenPose
BODY_25 joints as (x, y) normalised to [-1, 1] (pixel = (v + 1) / 2 * size,
for a 1280 x 720 image; further columns, face and hands, are ignored), an
``id`` and, in some releases, ``length``. Samples are at 15 fps (the 30 fps
videos split into even and odd frames).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ChoreoInputError
from ..fileio import atomic_path, read_json
from .openpose import Pose2D

WIDTH, HEIGHT, FPS = 1280, 720, 15.0


@dataclass
class DanceRevolutionSample:
    """One sample: its id, music features (T, D) and BODY_25 pose sequence."""

    id: str
    music: np.ndarray | None
    pose: Pose2D


def _array(data: dict, key: str, path) -> np.ndarray:
    try:
        a = np.asarray(data[key], dtype=np.float64)
    except (TypeError, ValueError):
        raise ChoreoInputError(path, f"{key} is not a rectangular array of numbers") from None
    if a.ndim != 2 or a.shape[0] == 0:
        raise ChoreoInputError(path, f"{key} must be a non-empty 2D array, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ChoreoInputError(path, f"{key} holds NaN or infinite values")
    return a


def load_dancerevolution(path: str | os.PathLike, width: int = WIDTH, height: int = HEIGHT,
                         fps: float = FPS) -> DanceRevolutionSample:
    """Read a Dance Revolution sample; poses come back in pixels of a ``width`` x ``height`` image."""
    data = read_json(path)
    if not isinstance(data, dict) or "dance_array" not in data:
        raise ChoreoInputError(path, "not a Dance Revolution sample: no 'dance_array'")
    dance = _array(data, "dance_array", path)
    if dance.shape[1] < 50:
        raise ChoreoInputError(path, f"dance_array rows have {dance.shape[1]} values; need at least 50 "
                                     "(25 BODY_25 joints x (x, y))")
    music = _array(data, "music_array", path) if "music_array" in data else None
    if "length" in data and int(data["length"]) != len(dance):
        raise ChoreoInputError(path, f"length says {data['length']} but dance_array has {len(dance)} frames")
    if music is not None and len(music) != len(dance):
        raise ChoreoInputError(path, f"music_array has {len(music)} frames, dance_array {len(dance)}")
    norm = dance[:, :50].reshape(-1, 25, 2)
    pts = (norm + 1.0) * 0.5 * np.array([width, height])
    pose = Pose2D(pts, np.ones(pts.shape[:2]), "openpose25", fps, width, height)
    return DanceRevolutionSample(str(data.get("id", Path(path).stem)), music, pose)


def write_dancerevolution(path: str | os.PathLike, pose: Pose2D, music: np.ndarray | None = None,
                          sample_id: str | None = None) -> None:
    """Write a BODY_25 :class:`Pose2D` (and optional music features) as a sample, atomically."""
    if pose.layout != "openpose25":
        raise ValueError(f"Dance Revolution stores BODY_25 poses, got {pose.layout}")
    width, height = pose.width or WIDTH, pose.height or HEIGHT
    norm = pose.points / (0.5 * np.array([width, height])) - 1.0
    out = {"id": sample_id or Path(path).stem, "length": pose.num_frames,
           "dance_array": np.round(norm.reshape(pose.num_frames, 50), 6).tolist()}
    if music is not None:
        music = np.asarray(music, dtype=np.float64)
        if len(music) != pose.num_frames:
            raise ValueError(f"music has {len(music)} frames, pose {pose.num_frames}")
        out["music_array"] = music.tolist()
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        json.dump(out, f)
