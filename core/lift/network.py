"""The learned 2D→3D lifter: a temporal convolution network over a window of 2D keypoints.

In the manner of VideoPose3D (Pavllo et al., CVPR 2019): dilated 3-tap convolutions over
time read 2D keypoints and answer, for every frame, the 3D joints relative to the pelvis in
the camera's axes (x right, y down, z away from the camera; metres) and the direction of
*up* in those axes (the camera's pitch and roll, so the dance can stand on a floor).

What it reads (:func:`lifter_input`, the same at training and here): any supported keypoint
layout (:data:`LAYOUTS`) mapped onto SMPL-24 image points by
:func:`~choreo.core.skeleton_maps.to_smpl24`; each frame's points relative to its pelvis,
divided by the body's size in the image (:func:`body_scale`); which joints were seen; and the
layout (one-hot), since each layout estimates different joints. So the image size, the focal
length and the dancer's distance do not enter the pose: one model serves every layout and
camera. Trained by ``choreo train --config configs/lifter.json``
(:mod:`choreo.core.training.lifter`, torch) on CMU mocap projected through random cameras;
runs here on numpy alone. Architecture (:meth:`Lifter.forward`): a 3-tap convolution to
``channels`` and a ReLU; residual blocks ``h += conv1(relu(conv3_d(h)))`` with the config's
dilations (3, 9: 27 frames, ±0.43 s at 30 fps); a ReLU and a 1×1 convolution to 75 numbers.
Each sequence is lifted as it is and mirrored, and the two answers averaged (the test-time flip
of :meth:`Lifter.__call__`), so a mirrored dance lifts to exactly the mirrored 3D.
"""

from __future__ import annotations

import functools
import os

import numpy as np

from .. import skeleton as sk
from .. import skeleton_maps as smaps
from ..models.tcn import conv1, conv3

NAME = "lifter"
#: Frames per second the lifter works at (2D sequences at other rates are resampled).
FPS = 30.0
#: Keypoint layouts the lifter reads, in the order of the layout one-hot.
LAYOUTS: tuple[str, ...] = ("openpose18", "openpose25", "coco17", "blazepose33")
#: Per frame: 24 image points (x, y), 24 seen flags, the layout's one-hot.
#: The points are in units of a quarter of :func:`body_scale`, so they span about ±1: the
#: network learns much faster than on ±0.25 (held-out MPJPE 1000 steps in: 96 against 119 mm).
INPUT_GAIN = 4.0
N_INPUTS = sk.NUM_JOINTS * 3 + len(LAYOUTS)
#: Per frame: 24 pelvis-relative joints (camera axes, m) and the up direction (camera axes).
N_OUTPUTS = sk.NUM_JOINTS * 3 + 3
#: Bones whose image lengths measure the body's size: every layout observes both ends.
_J = sk.JOINT_INDEX
SIZE_BONES = tuple((_J[a], _J[b]) for a, b in (
    ("l_hip", "l_knee"), ("l_knee", "l_ankle"), ("r_hip", "r_knee"), ("r_knee", "r_ankle"),
    ("l_shoulder", "l_elbow"), ("l_elbow", "l_wrist"), ("r_shoulder", "r_elbow"), ("r_elbow", "r_wrist"),
    ("l_hip", "l_shoulder"), ("r_hip", "r_shoulder"), ("l_hip", "r_hip"), ("l_shoulder", "r_shoulder")))


def smpl_points(points: np.ndarray, seen: np.ndarray, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints (T, J, 2) of ``layout`` and their seen flags (T, J) as SMPL-24 image points
    (T, 24, 2) and flags (T, 24): a mapped joint is seen when every keypoint it is built from is."""
    flags = smaps.to_smpl24_confidence(np.asarray(seen, bool).astype(np.float64), layout) > 0
    return smaps.to_smpl24(points, layout), flags


def _moving(x: np.ndarray, radius: int, reduce) -> np.ndarray:
    p = np.pad(x, radius, mode="edge")
    return reduce(np.lib.stride_tricks.sliding_window_view(p, 2 * radius + 1), axis=-1)


def body_scale(points: np.ndarray, seen: np.ndarray, fps: float = FPS) -> np.ndarray:
    """The body's size in the image (T,), in the points' units: each frame's summed image length
    of :data:`SIZE_BONES` (bones not seen stand in at the seen ones' mean share), the largest
    within ±1 s (the least foreshortened moment), averaged over ±0.5 s; frames seeing no bone
    take their neighbours' size. Slow enough that a bend does not read as moving away."""
    a = np.array([b[0] for b in SIZE_BONES])
    b = np.array([b[1] for b in SIZE_BONES])
    length = np.linalg.norm(points[:, a] - points[:, b], axis=-1)           # (T, B)
    both = seen[:, a] & seen[:, b]
    n = both.sum(axis=1)
    size = np.where(n > 0, (length * both).sum(axis=1) * len(SIZE_BONES) / np.maximum(n, 1), np.nan)
    if not np.isfinite(size).any():
        return np.ones(len(points))
    t = np.arange(len(size))
    ok = np.isfinite(size)
    size = np.interp(t, t[ok], size[ok])
    r = max(1, int(round(fps)))
    size = _moving(size, r, np.max)
    size = _moving(size, max(1, r // 2), np.mean)
    return np.maximum(size, 1e-6)


def lifter_input(points: np.ndarray, seen: np.ndarray, layout: str, fps: float = FPS) -> np.ndarray:
    """Network input (T, :data:`N_INPUTS`) float32 of SMPL-24 image points (T, 24, 2) (any units,
    y down) and seen flags (T, 24) of a ``layout`` source: pelvis-relative points over
    :func:`body_scale` (× :data:`INPUT_GAIN`), unseen points zeroed, the flags, the layout one-hot."""
    pts = np.asarray(points, np.float64)
    seen = np.asarray(seen, bool)
    rel = INPUT_GAIN * (pts - pts[:, :1]) / body_scale(pts, seen, fps)[:, None, None]
    rel = np.where(seen[..., None], rel, 0.0)
    onehot = np.zeros((len(pts), len(LAYOUTS)))
    onehot[:, LAYOUTS.index(layout)] = 1.0
    x = np.concatenate([rel.reshape(len(pts), -1), seen.astype(np.float64), onehot], axis=1)
    return np.ascontiguousarray(x, dtype=np.float32)


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


class Lifter:
    """The trained network (tensors named as the torch twin's ``state_dict``)."""

    def __init__(self, tensors: dict[str, np.ndarray], meta: dict):
        self.t = {k: np.asarray(v, np.float32) for k, v in tensors.items()}
        self.meta = meta
        self.dilations = [int(d) for d in meta["config"]["dilations"]]

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> "Lifter":
        """The shipped lifter (``path`` None) or the weights at ``path`` (checked reader)."""
        if path is None:
            return _shipped()
        from ..models.weights import load_weights

        return cls(*load_weights(path))

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Outputs (T, :data:`N_OUTPUTS`) of network input ``x`` (T, :data:`N_INPUTS`)."""
        t = self.t
        h = _relu(conv3(np.asarray(x, np.float32), t["inp.weight"], t["inp.bias"], 1))
        for i, d in enumerate(self.dilations):
            g = _relu(conv3(h, t[f"blocks.{i}.conv.weight"], t[f"blocks.{i}.conv.bias"], d))
            h = h + conv1(g, t[f"blocks.{i}.mix.weight"], t[f"blocks.{i}.mix.bias"])
        return conv1(_relu(h), t["out.weight"], t["out.bias"])

    def _lift(self, points, seen, layout) -> tuple[np.ndarray, np.ndarray]:
        y = self.forward(lifter_input(points, seen, layout)).astype(np.float64)
        rel = y[:, :sk.NUM_JOINTS * 3].reshape(-1, sk.NUM_JOINTS, 3)
        return rel - rel[:, :1], y[:, sk.NUM_JOINTS * 3:]

    def __call__(self, points: np.ndarray, seen: np.ndarray, layout: str,
                 flip: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(pelvis-relative joints (T, 24, 3) in camera axes, m; up (T, 3), unit, camera axes)
        of SMPL-24 image points (T, 24, 2) and flags (T, 24) of a ``layout`` source at :data:`FPS`.

        ``flip``: also lift the mirror image (x negated, left and right swapped) and average it,
        mirrored back, with the direct answer (VideoPose3D's test-time flip)."""
        rel, up = self._lift(points, seen, layout)
        if flip:
            m = list(sk.MIRROR)
            pts = np.asarray(points, np.float64)[:, m] * np.array([-1.0, 1.0])
            rel_m, up_m = self._lift(pts, np.asarray(seen)[:, m], layout)
            sign = np.array([-1.0, 1.0, 1.0])
            rel, up = (rel + rel_m[:, m] * sign) / 2, (up + up_m * sign) / 2
        return rel, up / np.maximum(np.linalg.norm(up, axis=-1, keepdims=True), 1e-9)


@functools.lru_cache(maxsize=1)
def _shipped() -> Lifter:
    from ..models.weights import load_weights, shipped_path

    return Lifter(*load_weights(shipped_path(NAME)))
