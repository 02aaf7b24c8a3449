"""A dancer's 2D pose in every frame of a clip, for lifting (``choreo import video``).

MediaPipe BlazePose (:class:`~choreo.core.video.detect.PoseDetector`, command line only) gives
33 landmarks a frame; they become a BlazePose-33 :class:`~choreo.core.formats.openpose.Pose2D`
at the clip's rate. A frame where one person is found counts, even partly out of the picture
(the points outside are unseen) or upside down (a cartwheel is a dance move); a frame with no
person or with several has no pose: it is filled by interpolation and marked unseen, and the
lifted dance reports it (:attr:`~choreo.core.lift.world.Lifted.seen`).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..errors import ChoreoInputError
from ..formats.openpose import Pose2D, fill_gaps
from ..progress import ProgressFn, report


@dataclass
class ClipPoses:
    """``pose`` (BlazePose-33, the clip's pixels and rate); ``status`` per frame ("ok" or why
    there is no usable pose, :mod:`~choreo.core.video.detect`'s words); ``world`` (T, 33, 3)
    MediaPipe's own metric landmarks about the hips (NaN where none)."""

    pose: Pose2D
    status: list[str]
    world: np.ndarray

    def counts(self) -> Counter:
        return Counter(self.status)


def clip_poses(clip: str | os.PathLike, progress: ProgressFn | None = None) -> ClipPoses:
    """Detect the dancer in every frame of ``clip`` (module notes)."""
    from ..video.detect import CUT_OFF, UPSIDE_DOWN, PoseDetector
    from ..video.io import VideoReader

    pts, conf, world, status = [], [], [], []
    with VideoReader(clip) as r:
        expected = max(r.frames, 1)
        width, height, fps = r.width, r.height, r.fps
        with PoseDetector(r.fps) as detector:
            for k, frame in enumerate(r.frames_rgb()):
                fp = detector(frame)
                usable = fp.status in ("ok", CUT_OFF, UPSIDE_DOWN) and fp.landmarks is not None
                status.append("ok" if usable else fp.status)
                pts.append(fp.landmarks[:, :2] if usable else np.zeros((33, 2), np.float32))
                conf.append(fp.landmarks[:, 2] if usable else np.zeros(33, np.float32))
                world.append(fp.world if usable and fp.world is not None else np.full((33, 3), np.nan, np.float32))
                report(progress, min((k + 1) / expected, 1.0), f"finding the dancer, frame {k + 1}/{expected}")
    if not status:
        raise ChoreoInputError(clip, "holds no video frames")
    c = Counter(status)
    if not c["ok"]:
        found = ", ".join(f"{why} in {n}" for why, n in c.most_common())
        raise ChoreoInputError(clip, f"no frame shows one dancer ({found} of {len(status)} frames): nothing to lift")
    p, cf = np.asarray(pts, np.float64), np.asarray(conf, np.float64)
    pose = Pose2D(fill_gaps(p, cf), cf, "blazepose33", fps, width, height)
    return ClipPoses(pose, status, np.asarray(world, np.float64))
