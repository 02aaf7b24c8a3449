"""OpenPose per-frame JSON: reading 2D pose sequences and writing them.

OpenPose writes one JSON file per video frame, ``{"people": [{"pose_keypoints_2d":
[x0, y0, c0, x1, y1, c1, ...]}, ...]}``, in image pixels (y down); a
confidence of 0 means the joint was not found. BODY_18 (COCO order, 54
numbers) and BODY_25 (75 numbers) are told apart by length.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import skeleton_maps as smaps
from ..errors import ChoreoInputError
from ..fileio import read_json
from ..motion import Motion

LAYOUTS = {54: "openpose18", 75: "openpose25"}


@dataclass
class Pose2D:
    """A 2D pose sequence in image pixels (y down).

    Attributes
    ----------
    points : np.ndarray, shape (T, J, 2)
        Joint positions; gaps are filled by interpolation.
    confidence : np.ndarray, shape (T, J)
        Detector confidence, 0 where the joint was missing (and filled).
    layout : str
        A key of :data:`skeleton_maps.SOURCES` ("openpose18", "openpose25", ...).
    fps : float
    width, height : int
        Image size in pixels (0 when unknown).
    """

    points: np.ndarray
    confidence: np.ndarray
    layout: str
    fps: float = 30.0
    width: int = 0
    height: int = 0

    @property
    def num_frames(self) -> int:
        return int(self.points.shape[0])

    def to_smpl24_2d(self) -> tuple[np.ndarray, np.ndarray]:
        """SMPL-24 image points (T, 24, 2) and confidences (T, 24).

        A mapped joint's confidence is the smallest confidence among the
        source joints it is built from.
        """
        return smaps.to_smpl24(self.points, self.layout), smaps.to_smpl24_confidence(self.confidence, self.layout)


def _natural_key(p: Path):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)]


def _frame_files(source) -> list[Path]:
    if isinstance(source, (list, tuple)):
        return [Path(p) for p in source]
    source = Path(source)
    if source.is_dir():
        files = sorted(source.glob("*.json"), key=_natural_key)
        if not files:
            raise ChoreoInputError(source, "directory holds no OpenPose .json files")
        return files
    if source.is_file():
        return [source]
    raise ChoreoInputError(source, "no such file or directory")


def _pick_person(people: list, n_values: int, path) -> np.ndarray | None:
    """(J, 3) keypoints of the best person: highest mean confidence x bbox size."""
    best, best_score = None, -1.0
    for person in people:
        kp = person.get("pose_keypoints_2d") if isinstance(person, dict) else None
        if kp is None:
            raise ChoreoInputError(path, "a person has no 'pose_keypoints_2d'")
        try:
            kp = np.asarray(kp, dtype=np.float64)
        except (TypeError, ValueError):
            raise ChoreoInputError(path, "pose_keypoints_2d holds non-numbers") from None
        if kp.ndim != 1 or len(kp) != n_values:
            raise ChoreoInputError(path, f"pose_keypoints_2d has {kp.size} values, other frames have {n_values}")
        kp = kp.reshape(-1, 3)
        kp[~np.isfinite(kp).all(axis=1)] = 0.0
        seen = kp[:, 2] > 0
        if not seen.any():
            continue
        size = np.ptp(kp[seen, :2], axis=0)
        score = kp[seen, 2].mean() * (np.hypot(*size) + 1.0)
        if score > best_score:
            best, best_score = kp, score
    return best


def fill_gaps(points: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    """Fill joints with confidence 0 by linear interpolation over time.

    Before the first and after the last detection the nearest value is held;
    a joint never detected stays at 0.
    """
    out = points.copy()
    t = np.arange(points.shape[0])
    for j in range(points.shape[1]):
        ok = confidence[:, j] > 0
        if ok.all() or not ok.any():
            continue
        for d in range(points.shape[2]):
            out[~ok, j, d] = np.interp(t[~ok], t[ok], points[ok, j, d])
    return out


def read_openpose(source, fps: float = 30.0, width: int = 0, height: int = 0) -> Pose2D:
    """Read a directory (or list) of OpenPose frame files as one :class:`Pose2D`.

    Parameters
    ----------
    source : path or list of paths
        A directory of ``*.json`` (sorted naturally by name, one per frame),
        or the files themselves in frame order.
    fps : float
        Frame rate of the video the poses came from.
    width, height : int
        Image size, if known (kept for writing back).

    In each frame the person with the highest mean confidence times
    bounding-box size is kept. Frames without anyone and undetected joints
    get confidence 0 and are filled by interpolation (:func:`fill_gaps`).
    """
    files = _frame_files(source)
    n_values = None
    frames: list[np.ndarray | None] = []
    for f in files:
        data = read_json(f)
        if not isinstance(data, dict) or not isinstance(data.get("people"), list):
            raise ChoreoInputError(f, "not an OpenPose frame: no 'people' list")
        if n_values is None:
            for p in data["people"]:
                if isinstance(p, dict) and isinstance(p.get("pose_keypoints_2d"), list):
                    n_values = len(p["pose_keypoints_2d"])
                    if n_values not in LAYOUTS:
                        raise ChoreoInputError(f, f"pose_keypoints_2d has {n_values} values; expected 54 "
                                                  "(BODY_18) or 75 (BODY_25)")
                    break
        frames.append(_pick_person(data["people"], n_values, f) if n_values else None)
    if n_values is None or all(fr is None for fr in frames):
        raise ChoreoInputError(source if not isinstance(source, (list, tuple)) else files[0],
                               "no person detected in any frame")
    n_joints = n_values // 3
    kp = np.zeros((len(frames), n_joints, 3))
    for i, fr in enumerate(frames):
        if fr is not None:
            kp[i] = fr
    conf = kp[..., 2]
    pts = fill_gaps(kp[..., :2], conf)
    return Pose2D(pts, conf, LAYOUTS[n_values], float(fps), int(width), int(height))


def project_front(joints: np.ndarray, width: int = 1280, height: int = 720) -> np.ndarray:
    """Orthographic front view of z-up points (..., 3) as image pixels (..., 2).

    The camera looks along +y at a dancer facing -y, so image right is +x and
    image down is -z. One scale for the whole clip fits its height range
    (at least 1 m) into 80 % of the image height, centred.
    """
    j = np.asarray(joints, dtype=np.float64)
    flat = j.reshape(-1, 3)
    lo, hi = flat.min(axis=0), flat.max(axis=0)
    s = 0.8 * height / max(hi[2] - lo[2], 1.0)
    cx, cz = 0.5 * (lo[0] + hi[0]), 0.5 * (lo[2] + hi[2])
    return np.stack([width / 2 + s * (j[..., 0] - cx), height / 2 - s * (j[..., 2] - cz)], axis=-1)


def motion_to_pose2d(motion: Motion, layout: str = "openpose18", width: int = 1280,
                     height: int = 720) -> Pose2D:
    """A :class:`Motion` as an OpenPose-layout 2D sequence (front view, pixels)."""
    if layout == "openpose18":
        pts3 = smaps.smpl24_to_openpose18(motion.joints)
    elif layout == "openpose25":
        pts3 = smaps.smpl24_to_openpose25(motion.joints)
    else:
        raise ValueError(f"layout must be openpose18 or openpose25, got {layout!r}")
    pts = project_front(pts3, width, height)
    return Pose2D(pts, np.ones(pts.shape[:2]), layout, motion.fps, width, height)


def write_openpose(pose: Pose2D, out_dir: str | os.PathLike) -> list[Path]:
    """Write one OpenPose JSON per frame, ``frame000000_keypoints.json``, ...

    Frames are written to a temporary directory beside ``out_dir`` and moved
    into place together, so a failure leaves no partial set.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out_dir.name + ".", suffix=".tmp", dir=out_dir.parent))
    names = []
    try:
        for i in range(pose.num_frames):
            kp = np.concatenate([pose.points[i], pose.confidence[i, :, None]], axis=1)
            frame = {"version": 1.3, "people": [{"person_id": [-1],
                                                 "pose_keypoints_2d": [round(float(v), 4) for v in kp.ravel()]}]}
            name = f"frame{i:06d}_keypoints.json"
            (tmp / name).write_text(json.dumps(frame), encoding="utf-8")
            names.append(name)
        out_dir.mkdir(exist_ok=True)
        for name in names:
            os.replace(tmp / name, out_dir / name)
    finally:
        for p in tmp.glob("*"):
            p.unlink()
        tmp.rmdir()
    return [out_dir / n for n in names]
