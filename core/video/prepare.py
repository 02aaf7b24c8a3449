"""A clip of one person → a video target (``choreo video prepare``, issue 16).

:func:`prepare_target` reads the clip twice, holding one frame at a time:

1. every frame's pose (:class:`~choreo.core.video.detect.PoseDetector`); frames with no
   person, several people, a person not wholly in the picture or read upside down are
   skipped and listed with the reason;
2. one fixed square around everything the person reaches over the kept frames (so the
   camera does not appear to move), then every kept frame cropped to it — repeating the
   clip's edge pixels where the square reaches past them — and resized to R × R (area
   averaging when shrinking, bilinear when enlarging), written with the keypoints moved into
   the square's pixels (:func:`~choreo.core.video.target.write_target`).

Command line only: mediapipe and PyAV are imported when a clip is prepared.
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import ChoreoInputError
from ..fileio import sha256_file
from ..progress import ProgressFn, report, scaled
from .detect import NO_PERSON
from .target import Target, check_target_destination, held_out_run, target_stats, write_target

#: Fewest kept frames a target may have.
MIN_FRAMES = 30
#: Keypoints less visible than this (MediaPipe visibility, 0–1) are stored as NaN.
MIN_VISIBILITY = 0.5
#: Space left around the person's reach, on every side, as a fraction of its height: the
#: top of the head and the fingertips lie beyond the landmarks.
MARGIN = 0.1
#: Share of the run spent detecting (pass 1), for the progress bar.
_DETECT_SHARE = 0.85


def _eta(progress: ProgressFn | None, t0: float):
    """``progress`` with the time left, extrapolated from the time so far, added to the label."""
    def update(fraction: float, label: str) -> None:
        spent = time.monotonic() - t0
        if fraction > 0.02 and spent > 1.0:
            left = spent * (1.0 - fraction) / fraction
            label = f"{label}, {int(left // 60)}:{int(left % 60):02d} left"
        report(progress, fraction, label)
    return update if progress is not None else None


def choose_crop(extents: np.ndarray, width: int, height: int, margin: float = MARGIN) -> tuple[int, int, int]:
    """[x0, y0, side] clip px: the square around the union of ``extents`` (K, 4) boxes
    (x0, y0, x1, y1 px; the parts outside the clip dropped), grown by ``margin`` of the
    union's height on every side and centred on it. It may reach past the clip's edges."""
    e = np.asarray(extents, np.float64)
    x0, y0 = max(e[:, 0].min(), 0.0), max(e[:, 1].min(), 0.0)
    x1, y1 = min(e[:, 2].max(), float(width)), min(e[:, 3].max(), float(height))
    side = max(x1 - x0, y1 - y0) + 2.0 * margin * (y1 - y0)
    side = max(int(math.ceil(side)), 16)
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    return int(math.floor(cx - side / 2.0)), int(math.floor(cy - side / 2.0)), side


def _resample(a: np.ndarray, start: int, side: int, size: int, axis: int) -> np.ndarray:
    """``a`` (float64) along ``axis``: the window [start, start + side) px (beyond ``a``'s ends
    its edge values repeat) resampled to ``size`` px — each output pixel the exact mean of
    the input it covers when shrinking, bilinear between pixel centres when enlarging."""
    a = np.moveaxis(a, axis, 0)
    n = a.shape[0]
    step = side / size
    if step >= 1.0:
        # Area: the mean over [e_i, e_{i+1}) is a difference of the running integral F, linear
        # inside each pixel; outside the image the edge pixel's value continues it.
        c = np.concatenate([np.zeros((1,) + a.shape[1:]), np.cumsum(a, axis=0)])
        e = start + step * np.arange(size + 1)
        inside = np.clip(e, 0.0, float(n))
        i = np.minimum(np.floor(inside).astype(np.int64), n - 1)
        frac = (inside - i)[(...,) + (None,) * (a.ndim - 1)]
        f = c[i] + frac * a[i]
        beyond = (e - inside)[(...,) + (None,) * (a.ndim - 1)]
        f = f + np.where(beyond < 0, beyond * a[0], beyond * a[-1])
        out = (f[1:] - f[:-1]) / step
    else:
        centre = np.clip(start + step * (np.arange(size) + 0.5) - 0.5, 0.0, n - 1.0)
        i = np.minimum(np.floor(centre).astype(np.int64), max(n - 2, 0))
        t = (centre - i)[(...,) + (None,) * (a.ndim - 1)]
        out = (1.0 - t) * a[i] + t * a[np.minimum(i + 1, n - 1)]
    return np.moveaxis(out, 0, axis)


def crop_frame(frame: np.ndarray, crop: tuple[int, int, int], size: int) -> np.ndarray:
    """The (size, size, 3) uint8 image of the square ``crop`` = [x0, y0, side] of ``frame``
    ((H, W, 3) uint8), its edges repeated where the square reaches past them."""
    x0, y0, side = crop
    h, w = frame.shape[:2]
    # Only the rows and columns inside the square (or the edge ones it repeats) are read, and
    # one more on each side: bilinear weights reach half a pixel past the square's outer centres.
    r0, r1 = min(max(y0 - 1, 0), h - 1), max(min(y0 + side + 1, h), 1)
    c0, c1 = min(max(x0 - 1, 0), w - 1), max(min(x0 + side + 1, w), 1)
    a = frame[r0:r1, c0:c1].astype(np.float64)
    a = _resample(a, y0 - r0, side, size, axis=0)
    a = _resample(a, x0 - c0, side, size, axis=1)
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


def _detect(clip: Path, progress) -> tuple[dict, str, list, list]:
    """Pass 1: ``(clip record, detector name, kept [(clip frame, FramePose)], skipped [[clip frame, reason]])``."""
    from .detect import PoseDetector
    from .io import VideoReader

    kept, skipped = [], []
    with VideoReader(clip) as r:
        record = {"path": str(clip), "sha256": sha256_file(clip), "width": r.width, "height": r.height,
                  "fps": r.fps, "frames": 0}
        expected = max(r.frames, 1)
        with PoseDetector(r.fps) as detector:
            name = detector.name
            k = -1
            for k, frame in enumerate(r.frames_rgb()):
                pose = detector(frame)
                if pose.status == "ok":
                    kept.append((k, pose))
                else:
                    skipped.append([k, pose.status])
                report(progress, min((k + 1) / expected, 1.0), f"finding the person, frame {k + 1}/{expected}")
            record["frames"] = k + 1
    return record, name, kept, skipped


def prepare_target(clip: str | os.PathLike, out_dir: str | os.PathLike, *, size: int = 256, held_out: float = 0.1,
                   overwrite: bool = False, progress: ProgressFn | None = None) -> Target:
    """Make a video target (:mod:`~choreo.core.video.target`) in ``out_dir`` from ``clip``, a
    video of one person, at ``size`` × ``size`` px; the last ``held_out`` of the kept frames
    are held out of training. ``out_dir`` must be new or empty, or a target to replace with
    ``overwrite``; it is written whole or not at all.

    Raises :class:`ChoreoInputError` (one line naming the file) for an unreadable clip, a
    clip with no person, or fewer than :data:`MIN_FRAMES` frames with one whole person.
    """
    clip = Path(os.path.abspath(os.fspath(clip)))
    size = int(size)
    if size < 16 or size % 2:
        raise ChoreoInputError("size", f"must be an even number of pixels ≥ 16 (H.264), got {size}")
    out = check_target_destination(out_dir, overwrite)
    if not clip.is_file():
        raise ChoreoInputError(clip, "no such file")
    held_out_run(MIN_FRAMES, held_out)  # a bad fraction is refused before the work, not after
    eta = _eta(progress, time.monotonic())
    record, detector, kept, skipped = _detect(clip, scaled(eta, 0.0, _DETECT_SHARE))
    n_clip = record["frames"]
    if n_clip == 0:
        raise ChoreoInputError(clip, "holds no frames")
    why = Counter(reason for _, reason in skipped)
    if not kept:
        if set(why) == {NO_PERSON}:
            raise ChoreoInputError(clip, f"no person found in any of its {n_clip} frames")
        raise ChoreoInputError(clip, f"no frame shows exactly one whole person ({_counts(why)} of {n_clip} frames)")
    if len(kept) < MIN_FRAMES:
        raise ChoreoInputError(clip, f"only {len(kept)} of its {n_clip} frames show exactly one whole person "
                                     f"({_counts(why)}); at least {MIN_FRAMES} are needed")

    crop = choose_crop(np.array([p.extent for _, p in kept]), record["width"], record["height"])
    x0, y0, side = crop
    scale = size / side
    kp = np.stack([p.keypoints for _, p in kept]).astype(np.float64)
    kp = (kp - np.array([x0, y0], np.float64)) * scale
    conf = np.stack([p.confidence for _, p in kept])
    kp[conf < MIN_VISIBILITY] = np.nan
    clip_frame = np.array([k for k, _ in kept], np.int64)
    target_stats(kp, size)  # fail here, before pass 2, when there is no floor line to measure

    def frames() -> Iterator[np.ndarray]:
        """Pass 2: the kept frames, cropped and resized, in order."""
        from .io import VideoReader

        want = iter(clip_frame.tolist())
        nxt = next(want, None)
        k = -1
        with VideoReader(clip) as r:
            for k, frame in enumerate(r.frames_rgb()):
                if k == nxt:
                    yield crop_frame(frame, crop, size)
                    nxt = next(want, None)
        if k + 1 != n_clip:
            raise ChoreoInputError(clip, f"changed while being read ({n_clip} frames, then {k + 1})")

    writing = scaled(eta, _DETECT_SHARE, 1.0)
    return write_target(out, frames(), size=size, fps=record["fps"], keypoints=kp.astype(np.float32),
                        confidence=conf, clip_frame=clip_frame, clip=record, crop=crop, skipped=skipped,
                        detector=detector, held_out=held_out, overwrite=overwrite,
                        progress=(lambda f, label="": writing(f, f"writing the target, {label}")) if writing else None)


def _counts(why: Counter) -> str:
    """"12 upside down, 3 no person": the reasons frames were skipped, commonest first."""
    return ", ".join(f"{n} {reason}" for reason, n in why.most_common())
