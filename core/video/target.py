"""A target person for the pose-to-video renderer (issue 16): their frames and poses, on disk.

``choreo video prepare`` (:func:`~choreo.core.video.prepare.prepare_target`) makes one from a
clip of the person; the renderer's trainer reads it with :func:`read_target`. On disk a
target is a folder (format ``choreo-video-target``, version 1):

``target.json``
    ``{"format": "choreo-video-target", "version": 1, "size": R, "fps": clip fps,
    "frames": N (kept frames), "clip": {"path", "sha256", "width", "height", "fps", "frames"},
    "crop": [x0, y0, side] (one square in clip pixels for the whole clip; it may reach past
    the clip's edges, which are then repeated), "keypoints": "openpose18", "stats": {the
    :class:`~choreo.core.video.poses.PoseStats` fields, working-resolution pixels},
    "skipped": [[clip frame, reason], …], "held_out": [first, stop] (kept-frame indices:
    the last ~10 % as one run, never trained on), "detector": "mediapipe … BlazePose (full)"}``.
    Written last, so a folder without it is not a target.
``frames.mp4``
    The N kept frames, R × R, H.264 (crf 12), in clip order.
``poses.npz``
    ``keypoints`` (N, 18, 2) float32 in working-resolution pixels (x right, y down, (0, 0) the
    top-left corner of the top-left pixel; NaN where a keypoint is not visible enough),
    ``confidence`` (N, 18) float32 (visibility, 0–1), ``clip_frame`` (N,) int32 (the clip's
    frame index of each kept frame), ``follows_previous`` (N,) bool (kept frame k − 1 is
    clip frame ``clip_frame[k] − 1``: the two are consecutive in time).

A target is written whole or not at all (:func:`write_target`: built in a temporary folder
beside it, renamed into place at the end). This module needs numpy only; PyAV is used
when frames are read or written.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from ..errors import ChoreoInputError
from ..fileio import atomic_folder, read_json
from ..progress import ProgressFn
from ..skeleton_maps import OPENPOSE18_NAMES
from .poses import _ANKLES, _TOP, PoseStats, pose_stats

FORMAT = "choreo-video-target"
VERSION = 1
HEADER, FRAMES, POSES = "target.json", "frames.mp4", "poses.npz"
#: H.264 quality of ``frames.mp4`` (lower is better; 12 is visually lossless).
CRF = 12
_J = len(OPENPOSE18_NAMES)


@dataclass
class Target:
    """A target folder read by :func:`read_target`: ``size`` (R px), ``fps`` (the clip's),
    ``keypoints`` (N, 18, 2) float32 px (NaN: not visible), ``confidence`` (N, 18),
    ``clip_frame`` (N,) int32, ``follows_previous`` (N,) bool, ``held_out`` (a slice of the
    kept frames never trained on), ``stats`` (:class:`PoseStats`, px) and ``meta`` (all of
    ``target.json``)."""

    path: Path
    size: int
    fps: float
    keypoints: np.ndarray
    confidence: np.ndarray
    clip_frame: np.ndarray
    follows_previous: np.ndarray
    held_out: slice
    stats: PoseStats
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.clip_frame)

    def frames(self) -> Iterator[np.ndarray]:
        """The kept frames in order, each (R, R, 3) uint8 RGB, read one at a time; a
        ``frames.mp4`` with other sizes or another count is a :class:`ChoreoInputError`."""
        from .io import VideoReader

        path = self.path / FRAMES
        k = 0
        with VideoReader(path) as r:
            for img in r.frames_rgb():
                if img.shape != (self.size, self.size, 3):
                    raise ChoreoInputError(path, f"frame {k} is {img.shape[1]}×{img.shape[0]}, "
                                                 f"not the target's {self.size}×{self.size}")
                if k >= len(self):
                    raise ChoreoInputError(path, f"holds more than the {len(self)} frames {HEADER} lists")
                yield img
                k += 1
        if k != len(self):
            raise ChoreoInputError(path, f"holds {k} frames, {HEADER} lists {len(self)}")

    def load_frames(self) -> np.ndarray:
        """All kept frames, (N, R, R, 3) uint8 (N·R²·3 bytes: 200 MB for 1000 frames at 256)."""
        out = np.empty((len(self), self.size, self.size, 3), np.uint8)
        for k, img in enumerate(self.frames()):
            out[k] = img
        return out


def target_stats(keypoints: np.ndarray, size: int) -> PoseStats:
    """:class:`PoseStats` of target keypoints (N, 18, 2) px (NaN: not visible) in an R = ``size``
    image, from the frames whose ankles and at least one head point are visible."""
    kp = np.asarray(keypoints, np.float64)
    ok = np.isfinite(kp).all(axis=2)
    use = ok[:, list(_ANKLES)].all(axis=1) & ok[:, list(_TOP)].any(axis=1)
    if not use.any():
        raise ChoreoInputError("poses", "the ankles and the head are never visible together: no floor line or "
                                        "body height to measure")
    kp = kp[use].copy()
    # pose_stats reads only the ankles and the highest head point and wants every point finite: a hidden
    # point takes the place of the frame's highest visible head point, which leaves both unchanged.
    top = np.where(ok[use][:, list(_TOP)], kp[:, list(_TOP), 1], np.inf).argmin(axis=1)
    fill = kp[np.arange(len(kp)), np.asarray(_TOP)[top]]
    kp = np.where(np.isfinite(kp), kp, fill[:, None, :])
    return pose_stats(kp, float(size))


def follows_previous(clip_frame: np.ndarray) -> np.ndarray:
    """(N,) bool: kept frame k − 1 is the clip frame just before kept frame k's."""
    cf = np.asarray(clip_frame, np.int64)
    out = np.zeros(len(cf), bool)
    out[1:] = cf[1:] == cf[:-1] + 1
    return out


def held_out_run(n: int, fraction: float) -> tuple[int, int]:
    """[first, stop) of the last ``fraction`` of ``n`` kept frames (at least one when
    ``fraction`` > 0, never all of them when there are two or more)."""
    if not 0.0 <= fraction < 1.0:
        raise ChoreoInputError("held_out", f"must be a fraction in [0, 1), got {fraction!r}")
    k = int(round(n * fraction))
    if fraction > 0:
        k = max(k, 1)
    k = min(k, max(n - 1, 0))
    return n - k, n


def _is_target(path: Path) -> bool:
    try:
        meta = json.loads((path / HEADER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("format") == FORMAT


def check_target_destination(path: str | os.PathLike, overwrite: bool = False) -> Path:
    """The absolute folder a target will be written to, checked before any work: it must be
    new, an empty folder, or (with ``overwrite``) a previous target; anything else is a
    :class:`ChoreoInputError` (no folder of the user's is ever replaced)."""
    out = Path(os.path.abspath(os.fspath(path)))
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise ChoreoInputError(out, "exists and is not a folder; a video target is a folder")
        if any(out.iterdir()):
            if not _is_target(out):
                raise ChoreoInputError(out, "is a folder that is not a video target; give a new or empty folder "
                                            "(it is never replaced)")
            if not overwrite:
                raise ChoreoInputError(out, "already holds a video target; replace it with --overwrite")
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ChoreoInputError(out, f"cannot write: {parent} is not a writable folder")
    return out


def write_target(path: str | os.PathLike, frames: Iterable[np.ndarray], *, size: int, fps: float,
                 keypoints: np.ndarray, confidence: np.ndarray, clip_frame: np.ndarray, clip: dict,
                 crop: tuple[int, int, int], skipped: list, detector: str, held_out: float = 0.1,
                 overwrite: bool = False, progress: ProgressFn | None = None) -> Target:
    """Write a target folder at ``path`` (format in the module notes) and return it read back.

    ``frames`` yields the N kept frames ((R, R, 3) uint8, R = ``size``), one at a time;
    ``keypoints`` (N, 18, 2) px (NaN: not visible), ``confidence`` (N, 18) and
    ``clip_frame`` (N,) (increasing) describe them; ``clip`` is target.json's ``clip`` record,
    ``crop`` [x0, y0, side] clip px, ``skipped`` [[clip frame, reason], …]; ``held_out`` is
    the fraction of kept frames, at the end, held out of training. ``follows_previous`` and
    ``stats`` are derived here. All or nothing: the folder is built beside ``path`` and renamed
    into place when complete; an existing target there is replaced only with ``overwrite``.
    """
    from .io import write_video

    out = check_target_destination(path, overwrite)
    size = int(size)
    kp = np.asarray(keypoints, np.float32)
    conf = np.asarray(confidence, np.float32)
    cf = np.asarray(clip_frame, np.int64)
    n = len(cf)
    if size < 16 or size % 2:
        raise ChoreoInputError("size", f"must be an even number of pixels ≥ 16 (H.264), got {size}")
    if n == 0 or kp.shape != (n, _J, 2) or conf.shape != (n, _J) or cf.ndim != 1:
        raise ChoreoInputError(out, f"keypoints {kp.shape}, confidence {conf.shape} and clip frames {cf.shape} "
                                    f"do not describe the same frames")
    if np.any(np.diff(cf) <= 0) or cf[0] < 0 or cf[-1] > np.iinfo(np.int32).max:
        raise ChoreoInputError(out, "clip frames must be increasing, non-negative int32 indices")
    stats = target_stats(kp, size)
    first, stop = held_out_run(n, held_out)
    meta = {"format": FORMAT, "version": VERSION, "size": size, "fps": float(fps), "frames": n,
            "clip": dict(clip), "crop": [int(v) for v in crop], "keypoints": "openpose18",
            "stats": dataclasses.asdict(stats), "skipped": [[int(k), str(why)] for k, why in skipped],
            "held_out": [first, stop], "detector": str(detector)}

    with atomic_folder(out, recheck=lambda: check_target_destination(out, overwrite)) as tmp:
        new = Path(tmp)
        with open(new / POSES, "wb") as f:
            np.savez(f, keypoints=kp, confidence=conf, clip_frame=cf.astype(np.int32),
                     follows_previous=follows_previous(cf))
        written = write_video(new / FRAMES, _checked(frames, size, out), fps, crf=CRF, n_frames=n, progress=progress)
        if written != n:
            raise ChoreoInputError(out, f"{written} frames were written for {n} poses")
        (new / HEADER).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return read_target(out)


def _checked(frames: Iterable[np.ndarray], size: int, out: Path) -> Iterator[np.ndarray]:
    """``frames``, each checked to be (size, size, 3) uint8 before it is written."""
    for k, img in enumerate(frames):
        img = np.asarray(img)
        if img.shape != (size, size, 3) or img.dtype != np.uint8:
            raise ChoreoInputError(out, f"frame {k} is {img.shape} {img.dtype}, not ({size}, {size}, 3) uint8")
        yield img


def _damaged(path: Path, why: str) -> ChoreoInputError:
    return ChoreoInputError(path, f"damaged video target: {why}; prepare it again with `choreo video prepare`")


def read_target(path: str | os.PathLike) -> Target:
    """The target in folder ``path``, checked: a folder that is not a target, one of another
    format version, or one whose files disagree is one :class:`ChoreoInputError` naming it."""
    path = Path(path)
    if not path.is_dir():
        raise ChoreoInputError(path, "no such folder" if not path.exists() else "is not a folder; a video target is "
                                                                                "a folder")
    head = path / HEADER
    if not head.is_file():
        raise ChoreoInputError(path, f"not a video target (no {HEADER}); make one with `choreo video prepare`")
    meta = read_json(head)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ChoreoInputError(path, f"not a video target ({HEADER} is not format {FORMAT!r})")
    if meta.get("version") != VERSION:
        raise ChoreoInputError(path, f"video target version {meta.get('version')!r}; this Choreo reads version "
                                     f"{VERSION}: prepare the clip again with `choreo video prepare`")
    try:
        size, n, fps = meta["size"], meta["frames"], float(meta["fps"])
        first, stop = meta["held_out"]
        # A field PoseStats gained later (with a default) may be missing from an older record.
        stats = PoseStats(**{f.name: float(meta["stats"][f.name]) for f in dataclasses.fields(PoseStats)
                             if f.name in meta["stats"] or f.default is dataclasses.MISSING})
        if not (isinstance(size, int) and isinstance(n, int) and size > 0 and n > 0 and fps > 0
                and 0 <= first <= stop <= n and meta["keypoints"] == "openpose18"):
            raise ValueError("size, frames, fps, held_out or keypoints out of range")
    except (KeyError, TypeError, ValueError) as e:
        raise _damaged(head, f"bad or missing field ({e})") from None
    try:
        with np.load(path / POSES, allow_pickle=False) as z:
            kp, conf = z["keypoints"], z["confidence"]
            cf, fp = z["clip_frame"], z["follows_previous"]
    except FileNotFoundError:
        raise _damaged(path, f"{POSES} is missing") from None
    except (OSError, ValueError, KeyError) as e:
        raise _damaged(path / POSES, f"unreadable ({e})") from None
    if kp.shape != (n, _J, 2) or conf.shape != (n, _J) or cf.shape != (n,) or fp.shape != (n,):
        raise _damaged(path / POSES, f"arrays {kp.shape}, {conf.shape}, {cf.shape}, {fp.shape} do not match the "
                                     f"{n} frames of {HEADER}")
    from .io import VideoReader

    video = path / FRAMES
    if not video.is_file():
        raise _damaged(path, f"{FRAMES} is missing")
    with VideoReader(video) as r:
        if (r.width, r.height) != (size, size) or r.frames != n:
            raise _damaged(video, f"{r.frames} frames of {r.width}×{r.height}; {HEADER} says {n} of {size}×{size}")
    return Target(path=path, size=size, fps=fps, keypoints=kp.astype(np.float32), confidence=conf.astype(np.float32),
                  clip_frame=cf.astype(np.int32), follows_previous=fp.astype(bool), held_out=slice(first, stop),
                  stats=stats, meta=meta)
