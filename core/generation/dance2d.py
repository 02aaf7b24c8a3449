"""A 2D dance: what a 2D generator (Ren et al.'s own OpenPose-18 setting) makes.

A 2D model predicts front-view OpenPose-18 keypoints
(:func:`~choreo.core.models.representation.encode_2d`: x right, z up, metres),
not SMPL-24 joints, so there is no :class:`~choreo.core.motion.Motion` to put
on a rig. :class:`Dance2D` holds the keypoints with the same music facts as a
:class:`~.dance.Dance`; :meth:`Dance2D.to_pose2d` turns them into image
pixels for :func:`~choreo.core.formats.openpose.write_openpose`.

Saved as an ``.npz`` with ``keypoints`` (T, 18, 2), ``layout``
("openpose18"), ``units`` ("m"), ``fps`` and the dance's ``beats``,
``downbeats``, ``sections``, ``audio_path``, ``audio_start``, ``tempo``,
``model``, ``seed``, ``energy`` and ``pose2d_version`` (and, made with an energy
curve, ``energy_times`` and ``energy_values``). It has no ``joints``,
so motion readers refuse it with a message naming the file.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ChoreoInputError
from ..fileio import atomic_folder, atomic_path
from ..formats.openpose import Pose2D, project_front
from .dance import OPTIONAL, DanceMusic, music_arrays, music_fields

POSE2D_VERSION = 1
LAYOUT = "openpose18"
_KEYS = ("keypoints", "layout", "units", "fps", "beats", "downbeats", "sections", "audio_path", "audio_start",
         "tempo", "model", "seed", "energy", "pose2d_version")
#: An OpenPose frame file written by :func:`~choreo.core.formats.openpose.write_openpose`.
FRAME_GLOB = "frame*_keypoints.json"


@dataclass
class Dance2D(DanceMusic):
    """Front-view OpenPose-18 keypoints made for a song.

    Attributes
    ----------
    keypoints : np.ndarray, shape (T, 18, 2)
        OpenPose-18 (COCO order) seen from the front: x right, z up, metres;
        frame ``k`` is at ``k / fps`` s after ``audio_start``.
    fps : float
    beats, downbeats, sections, audio_path, audio_start, tempo, model, seed, energy
        :class:`~.dance.DanceMusic` (keyword-only; times on the dance's time base).
    """

    keypoints: np.ndarray
    fps: float

    @property
    def num_frames(self) -> int:
        return int(self.keypoints.shape[0])

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps

    def to_pose2d(self, width: int = 1280, height: int = 720) -> Pose2D:
        """Image pixels (y down) of an orthographic front camera that fits the
        whole dance's height range into 80 % of the image (as
        :func:`~choreo.core.formats.openpose.project_front`); confidence 1."""
        k = np.asarray(self.keypoints, np.float64)
        xyz = np.stack([k[..., 0], np.zeros_like(k[..., 0]), k[..., 1]], axis=-1)
        pts = project_front(xyz, width, height)
        return Pose2D(pts, np.ones(pts.shape[:2]), LAYOUT, float(self.fps), int(width), int(height))


def save_dance2d(dance: Dance2D, path: str | os.PathLike) -> None:
    """Write ``dance`` to ``path`` (.npz) atomically."""
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, keypoints=np.asarray(dance.keypoints, np.float32), layout=np.array(LAYOUT),
                 units=np.array("m"), fps=np.float64(dance.fps), pose2d_version=np.int64(POSE2D_VERSION),
                 **music_arrays(dance))


def load_dance2d(path: str | os.PathLike) -> Dance2D:
    """Read a file written by :func:`save_dance2d`.

    Raises
    ------
    ChoreoInputError
        Naming the file: missing, unreadable, or not a 2D dance.
    """
    if not os.path.isfile(path):
        raise ChoreoInputError(path, "no such file")
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files if k in _KEYS + OPTIONAL}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise ChoreoInputError(path, f"cannot read as .npz: {e}") from None
    missing = [k for k in _KEYS if k not in data]
    if missing:
        raise ChoreoInputError(path, f"not a Choreo 2D dance: missing {', '.join(missing)}")
    if int(data["pose2d_version"]) > POSE2D_VERSION:
        raise ChoreoInputError(path, f"pose2d_version {int(data['pose2d_version'])} is newer than this "
                                     f"Choreo reads ({POSE2D_VERSION})")
    kp = data["keypoints"]
    if str(data["layout"]) != LAYOUT or kp.ndim != 3 or kp.shape[1:] != (18, 2) or not len(kp):
        raise ChoreoInputError(path, f"keypoints must be OpenPose-18 (T, 18, 2), got {kp.shape} "
                                     f"{str(data['layout'])}")
    if not np.all(np.isfinite(kp)):
        raise ChoreoInputError(path, "keypoints hold NaN or infinite values")
    return Dance2D(keypoints=kp.astype(np.float32), fps=float(data["fps"]), **music_fields(data, path))


def write_openpose_dir(dance: Dance2D, out_dir: str | os.PathLike, width: int = 1280,
                       height: int = 720) -> list[Path]:
    """Write one OpenPose JSON per frame into ``out_dir``, all or nothing.

    The frames are written into a fresh temporary folder beside ``out_dir``,
    which is then renamed to ``out_dir``. An existing ``out_dir`` is replaced
    only when it holds nothing but OpenPose frame files (a previous run); any
    other content is refused, so no user file is ever deleted.
    """
    from ..formats.openpose import write_openpose

    out = Path(os.path.abspath(os.fspath(out_dir)))
    if out.exists() and not out.is_dir():
        raise ChoreoInputError(out, "exists and is not a folder; OpenPose frames go into a folder")
    if out.is_dir():
        other = [p.name for p in out.iterdir() if not (p.is_file() and p.match(FRAME_GLOB))]
        if other:
            raise ChoreoInputError(out, f"folder holds other files ({other[0]}, …); give a new or empty "
                                        f"folder for the OpenPose frames")
    with atomic_folder(out) as tmp:
        write_openpose(dance.to_pose2d(width, height), tmp)
    return sorted(out.glob(FRAME_GLOB))


__all__ = ["Dance2D", "save_dance2d", "load_dance2d", "write_openpose_dir", "POSE2D_VERSION"]
