"""One person's 2D pose per frame of a clip, with MediaPipe BlazePose (full), as OpenPose BODY-18.

Command line only (``choreo video prepare``, issue 16): ``mediapipe`` is imported when a
:class:`PoseDetector` is made, never when this module is, so nothing the add-on imports
pulls it in.

Why the Tasks API, and how several people are counted
------------------------------------------------------
MediaPipe's legacy ``solutions.pose`` follows one person and cannot say whether there is a
second. The Tasks API's ``PoseLandmarker`` finds up to ``num_poses`` people, but needs a
``.task`` bundle that the wheel does not ship. The wheel does ship the bundle's two models,
``pose_detection.tflite`` and ``pose_landmark_full.tflite`` (the same networks as Google's
``pose_landmarker_full.task``, whose graphs hard-code the same anchors and decoding as the
legacy graphs); what they lack is the input normalisation metadata the Tasks graphs read.
:func:`_task_bundle` adds it with MediaPipe's own metadata writer — [-1, 1] for the
detector, [0, 1] for the landmark model, the ranges the legacy graphs
(``pose_detection_cpu``, ``pose_landmark_by_roi_cpu``) feed them — and zips both into a
bundle in memory. Nothing is downloaded: it runs offline.

How people are counted. Each frame goes to two landmarkers, both ``num_poses=3``:

1. one in VIDEO mode follows each person found from frame to frame by their landmarks and
   runs the person detector on every frame while fewer than three are followed, so a
   newcomer is found; when it loses everyone, the frame is looked at again on its own
   (IMAGE mode: the follower may keep a region whose landmarks fail over the detector's
   fresh one);
2. when one person is found, they are hidden (their landmark box, grown by 20 %, filled
   with the frame's mean colour) and the frame is looked at again on its own: anyone found
   now is a second person. The detector keys on faces, and with two figures in view it often
   scores only one: on a two-person test clip of a faceless mannequin (the same figure
   twice, one mirrored) the landmarker alone found the second figure in none of 30 frames,
   the hide-and-look-again step in all 30. On frames with no second person the second look
   costs the detector alone (no landmarks run on nothing).

Three poses, not two, are asked for because the detector also returns the same person twice
(two readings of one body, their torsos a small fraction of a torso length apart; ~20 % of
a mannequin's frames): with two, the copy would fill the last place, and once followed it
would stop the detector from running (it runs only while fewer than ``num_poses`` are
followed). Two people
cannot share a torso, so poses whose torso centres are less than one torso length apart
are taken as one person (the first: the one being followed); only distinct torsos count as
"several people". Two people overlapping that closely (one right behind the other) count
as one: the detector cannot separate them either.

A person whose head, hands or feet leave the picture is "not fully in frame": the
renderer learns the whole body, so such frames are skipped. Two signs, either enough:
a landmark the pose image draws (or a heel or toe) outside the image or with presence (the
model's likelihood that it is in the image) under 0.5; or the person's segmentation mask
(the landmark model's own) running into an edge of the picture. The mask is needed: with
the feet cut off, BlazePose often places them, confidently, at the cut (on a figure moved
down until its feet left the picture, 2 frames of 5 passed the landmark test; the mask's
contact with the bottom edge flagged all 5 and no frame of the figure wholly in view).

A body read "upside down" (shoulders below the hips) is skipped too. BlazePose turns its
landmark crop by the angle its detector reads from the face, and a figure it cannot orient
is read head-down, often for several frames in a row once followed (a leaning mannequin:
~18 % of frames); the real poses that look so — a handstand, a bend far below the hips —
are rare in a target clip and are read no better.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import ChoreoInputError
from ..skeleton_maps import BLAZEPOSE33_NAMES, OPENPOSE18_NAMES

#: Why a frame was skipped (see :attr:`FramePose.status`).
NO_PERSON, SEVERAL, CUT_OFF, UPSIDE_DOWN = "no person", "several people", "not fully in frame", "upside down"

_BP = {n: i for i, n in enumerate(BLAZEPOSE33_NAMES)}
# OpenPose-18 from BlazePose-33 by joint name; the neck (which BlazePose lacks) is the
# shoulders' midpoint, as smpl24_to_openpose18 defines it.
_OP_FROM_BP = np.array([_BP.get(n, -1) for n in OPENPOSE18_NAMES])
_NECK = OPENPOSE18_NAMES.index("neck")
_SHOULDERS = (_BP["l_shoulder"], _BP["r_shoulder"])
_HIPS = (_BP["l_hip"], _BP["r_hip"])
# Landmarks that must be in the picture for the body to count as whole: the pose image's
# points and the feet (fingertips may leave it; the wrists may not).
_MUST_BE_IN = np.array(sorted({int(i) for i in _OP_FROM_BP if i >= 0}
                              | {_BP[f"{s}_{p}"] for s in "lr" for p in ("heel", "foot_index")}))

#: Presence below which a landmark is taken to be outside the picture.
MIN_PRESENCE = 0.5


@dataclass(frozen=True)
class FramePose:
    """One frame's finding. ``status`` is ``"ok"``, :data:`NO_PERSON`, :data:`SEVERAL`,
    :data:`CUT_OFF` or :data:`UPSIDE_DOWN`. For the first and the last two: ``keypoints`` (18, 2) float32
    OpenPose-18 positions in the frame's pixels (x right, y down; (0, 0) the top-left
    corner of the top-left pixel), every one finite (BlazePose places hidden points too);
    ``confidence`` (18,) float32 visibility in [0, 1] (the neck's: the lower shoulder's);
    ``extent`` (x0, y0, x1, y1) px, the box around all 33 BlazePose landmarks (hands and
    feet included). Otherwise all three are None. ``landmarks`` (33, 3): all of BlazePose's
    points, x and y px, and visibility (a point outside the picture: 0); ``world`` (33, 3):
    MediaPipe's own 3D reading in metres about the hips (x right, y down, z away), None
    where the model gave none."""

    status: str
    keypoints: np.ndarray | None = None
    confidence: np.ndarray | None = None
    extent: tuple[float, float, float, float] | None = None
    landmarks: np.ndarray | None = None
    world: np.ndarray | None = None


def _with_input_metadata(model: bytes, mean: float, std: float) -> bytes:
    """The TFLite ``model`` with image-input metadata: RGB, ``(pixel - mean) / std``."""
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer

    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    out, _ = writer.add_general_info("choreo pose").add_image_input([mean], [std]).populate()
    return bytes(out)


def _task_bundle() -> bytes:
    """A PoseLandmarker ``.task`` bundle (zip) built from the models the wheel ships."""
    import mediapipe
    from mediapipe.tasks.python.metadata.metadata_writers import model_asset_bundle_utils

    root = Path(mediapipe.__file__).parent / "modules"
    models = {"pose_detector.tflite": (root / "pose_detection" / "pose_detection.tflite", 127.5, 127.5),
              "pose_landmarks_detector.tflite": (root / "pose_landmark" / "pose_landmark_full.tflite", 0.0, 255.0)}
    buf = io.BytesIO()
    # Stored (not deflated) and 4-byte aligned, as MediaPipe's bundles are: it maps them.
    with model_asset_bundle_utils.AlignZipFile(buf, mode="w", alignment=4) as zf:
        for name, (path, mean, std) in models.items():
            if not path.is_file():
                raise ChoreoInputError(path, "missing from the mediapipe install: reinstall mediapipe")
            zf.writestr(name, _with_input_metadata(path.read_bytes(), mean, std))
    return buf.getvalue()


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2 (MediaPipe's C++ start-up chatter: no GPU, XNNPACK, …)."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _torso(lm: np.ndarray) -> tuple[np.ndarray, float]:
    """(centre (2,), length) of a BlazePose landmark array's torso, in pixels."""
    sh, hip = lm[_SHOULDERS, :2].mean(axis=0), lm[_HIPS, :2].mean(axis=0)
    return (sh + hip) / 2.0, float(np.linalg.norm(sh - hip))


def distinct_people(poses: list[np.ndarray]) -> list[int]:
    """Indices of the ``poses`` (each (33, ≥2) BlazePose landmarks, px) that are distinct people:
    a pose whose torso centre is within one torso length of an earlier kept pose's is
    another reading of that body, and dropped."""
    kept: list[int] = []
    torsos = [_torso(p) for p in poses]
    for i, (c, n) in enumerate(torsos):
        if all(np.linalg.norm(c - torsos[j][0]) >= max(n, torsos[j][1]) for j in kept):
            kept.append(i)
    return kept


def _hide(frame: np.ndarray, person: np.ndarray, margin: float = 0.2) -> np.ndarray:
    """A copy of ``frame`` with ``person``'s landmark box, grown by ``margin`` of its longer side
    on every side (the head's top and the fingers lie beyond the landmarks), filled with the
    frame's mean colour."""
    (x0, y0), (x1, y1) = person[:, :2].min(axis=0), person[:, :2].max(axis=0)
    m = margin * max(x1 - x0, y1 - y0)
    h, w = frame.shape[:2]
    rows = slice(max(0, int(y0 - m)), max(0, min(h, int(np.ceil(y1 + m)))))
    cols = slice(max(0, int(x0 - m)), max(0, min(w, int(np.ceil(x1 + m)))))
    out = np.array(frame, np.uint8, copy=True)
    out[rows, cols] = frame.reshape(-1, frame.shape[-1]).mean(axis=0).round().astype(np.uint8)
    return out


#: Frames whose longer side exceeds this (px) are shrunk by a whole factor before detection:
#: BlazePose reads the person from a 256 px crop, so more pixels only cost time (a 1080p
#: frame is read at 960 × 540: 1.6 times as many frames a second).
MAX_SIDE = 1280


def _shrink(frame: np.ndarray) -> tuple[np.ndarray, int]:
    """(``frame`` shrunk by the smallest whole factor k that brings its longer side to at most
    :data:`MAX_SIDE` (each pixel the mean of a k × k block; the last < k rows and columns
    dropped), k)."""
    h, w = frame.shape[:2]
    k = -(-max(h, w) // MAX_SIDE)
    if k <= 1:
        return frame, 1
    frame = frame[:h - h % k, :w - w % k]
    total = np.zeros((h // k, w // k, frame.shape[2]), np.uint32)
    for dy in range(k):  # strided slices: far faster than summing a reshaped block axis
        for dx in range(k):
            total += frame[dy::k, dx::k]
    return ((total + k * k // 2) // (k * k)).astype(np.uint8), k


def _touches_edge(mask: np.ndarray | None, share: float = 0.005) -> bool:
    """Whether a person's segmentation ``mask`` (H, W; > 0.5 is the person) covers at least
    ``share`` (and two pixels) of any of the picture's four edges: the body goes on beyond it."""
    if mask is None:
        return False
    for edge in (mask[0], mask[-1], mask[:, 0], mask[:, -1]):
        if np.count_nonzero(edge > 0.5) >= max(2, share * len(edge)):
            return True
    return False


class PoseDetector:
    """BlazePose (full) on consecutive frames of one clip at ``fps`` (module notes).

    Call it on each frame in order ((H, W, 3) uint8 RGB) to get a :class:`FramePose`;
    :meth:`close` it (or use ``with``). ``name`` says which detector, for the record.
    Thresholds (0–1): ``min_detection``, the person detector's score for the follower;
    ``min_detection_alone``, for a frame looked at on its own (lower: the second look must
    not miss a second person, and the landmark model's presence check still screens what it
    finds); ``min_presence`` and ``min_tracking``, MediaPipe's own."""

    def __init__(self, fps: float, *, min_detection: float = 0.5, min_detection_alone: float = 0.3,
                 min_presence: float = 0.5, min_tracking: float = 0.5):
        # MediaPipe's C++ logs warnings (glog) straight to stderr on some frames: errors only.
        os.environ.setdefault("GLOG_minloglevel", "2")
        try:
            import mediapipe as mp
            from mediapipe.tasks.python import BaseOptions, vision
        except ImportError as e:
            raise ChoreoInputError("video", f"pose detection needs mediapipe (pip install mediapipe==0.10.21): {e}") \
                from None
        self._mp = mp
        self.name = f"mediapipe {mp.__version__} BlazePose (full)"
        self._dt_ms = 1000.0 / float(fps)
        self._k = 0
        self._last_ms = -1
        bundle = _task_bundle()

        def landmarker(mode, detection: float):
            options = vision.PoseLandmarkerOptions(
                base_options=BaseOptions(model_asset_buffer=bundle, delegate=BaseOptions.Delegate.CPU),
                running_mode=mode, num_poses=3, output_segmentation_masks=True,
                min_pose_detection_confidence=detection, min_pose_presence_confidence=min_presence,
                min_tracking_confidence=min_tracking)
            with _quiet_stderr():
                return vision.PoseLandmarker.create_from_options(options)
        self._follow = landmarker(vision.RunningMode.VIDEO, min_detection)
        self._fresh = landmarker(vision.RunningMode.IMAGE, min_detection_alone)

    def __call__(self, frame: np.ndarray) -> FramePose:
        """The :class:`FramePose` of the next frame of the clip ((H, W, 3) uint8 RGB)."""
        frame, k = _shrink(frame)
        h, w = frame.shape[:2]
        # VIDEO mode needs strictly increasing whole-millisecond timestamps.
        ms = max(self._last_ms + 1, int(round(self._k * self._dt_ms)))
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame, np.uint8))
        # MediaPipe's graph threads log once more on the first frame.
        with _quiet_stderr() if self._k == 0 else contextlib.nullcontext():
            people = self._people(self._follow.detect_for_video(image, ms), w, h)
            if not people:  # lost: the follower may have kept a failing region over a fresh detection
                people = self._people(self._fresh.detect(image), w, h)
            if len(people) == 1:  # with two in view the detector often scores one: hide it, look again
                hidden = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=_hide(frame, people[0][0]))
                again = self._people(self._fresh.detect(hidden), w, h)
                if len(distinct_people([people[0][0]] + [p[0] for p in again])) > 1:
                    people = people + again
        self._k, self._last_ms = self._k + 1, ms
        if not people:
            return FramePose(NO_PERSON)
        if len(people) > 1:
            return FramePose(SEVERAL)
        lm, mask, world = people[0]
        kp = np.empty((len(OPENPOSE18_NAMES), 2))
        conf = np.empty(len(OPENPOSE18_NAMES))
        have = _OP_FROM_BP >= 0
        kp[have], conf[have] = lm[_OP_FROM_BP[have], :2], lm[_OP_FROM_BP[have], 2]
        kp[_NECK], conf[_NECK] = lm[_SHOULDERS, :2].mean(axis=0), lm[_SHOULDERS, 2].min()
        kp *= k  # back to the clip's pixels: block i of the shrunk frame is pixels [k i, k i + k)
        extent = tuple(float(v) * k for v in (lm[:, 0].min(), lm[:, 1].min(), lm[:, 0].max(), lm[:, 1].max()))
        must = lm[_MUST_BE_IN]
        inside = ((must[:, 0] >= 0) & (must[:, 0] < w) & (must[:, 1] >= 0) & (must[:, 1] < h)
                  & (must[:, 3] >= MIN_PRESENCE))
        status = "ok" if inside.all() and not _touches_edge(mask) else CUT_OFF
        if lm[_SHOULDERS, 1].mean() > lm[_HIPS, 1].mean():
            status = UPSIDE_DOWN
        inside_all = (lm[:, 0] >= 0) & (lm[:, 0] < w) & (lm[:, 1] >= 0) & (lm[:, 1] < h) & (lm[:, 3] >= MIN_PRESENCE)
        marks = np.column_stack([lm[:, :2] * k, np.where(inside_all, np.clip(lm[:, 2], 0.0, 1.0), 0.0)])
        return FramePose(status, kp.astype(np.float32), np.clip(conf, 0.0, 1.0).astype(np.float32), extent,
                         marks.astype(np.float32), world)

    @staticmethod
    def _people(result, w: int, h: int) -> list[tuple[np.ndarray, np.ndarray | None, np.ndarray | None]]:
        """The distinct people of a PoseLandmarker result: (landmarks (33, 4): x, y px, visibility,
        presence; segmentation mask (h, w) float32 in [0, 1]; world landmarks (33, 3) m)."""
        poses = [np.array([[p.x * w, p.y * h, p.visibility or 0.0, p.presence or 0.0] for p in pose])
                 for pose in result.pose_landmarks]
        worlds = [np.array([[p.x, p.y, p.z] for p in pose], np.float32) for pose in (result.pose_world_landmarks or [])]
        masks = result.segmentation_masks or []
        return [(poses[i], masks[i].numpy_view() if i < len(masks) else None, worlds[i] if i < len(worlds) else None)
                for i in distinct_people(poses)]

    def close(self) -> None:
        self._follow.close()
        self._fresh.close()

    def __enter__(self) -> "PoseDetector":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
