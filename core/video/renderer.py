"""The photoreal renderer at inference: pose images → frames of the target person, numpy only.

Runs the trained :class:`~choreo.core.models.photoreal.Photoreal` (pix2pixHD global generator
plus EDN's face residual; architecture in that module) frame by frame inside Blender, which
ships numpy and nothing else; the command line may pick the torch twin (``backend="torch"``),
the same arithmetic on torch's convolutions. Each frame t is generated from its pose image and
the previous *output* frame (float, clipped to [-1, 1], face residual included); the first from
a blank (zeros, mid grey) — exactly the inputs the trainer (:mod:`choreo.core.training.photoreal`)
feeds the generator. The face residual is added on a square of ``face_patch`` px centred on the
nose (:func:`face_centre`, :func:`face_box`); a frame without a visible face gets none.

Convolutions are float32 matrix products (frames channels-last): an im2col copied from a
strided view, a band of output rows at a time so the buffer stays in cache, when the input
has the fewer channels; the product first and then the k² shifted slices summed when the
output has (the 7×7 conv to RGB). Transposed convs sum the product's taps into the four
output phases. Instance norm is per channel over the frame, as torch's. The outputs match
torch's to about 1e-5 (float32). 256² frames of ``configs/photoreal_cpu.json``: about 10/s on
2 CPU cores (torch: about 30/s).
"""

from __future__ import annotations

import math
import os
from typing import Iterable, Iterator

import numpy as np

from ..errors import ChoreoInputError
from ..progress import ProgressFn, report

#: What a renderer weights file's meta says it is; other kinds and versions are refused.
KIND, VERSION = "choreo-photoreal", 1
EPS = 1e-5
_FACE_POINTS = (14, 15, 16, 17)  # OpenPose-18 r_eye, l_eye, r_ear, l_ear: the face without its nose
#: Largest im2col (or product) buffer in floats (4 MB: it stays in cache), the band of rows built at once.
_BAND_FLOATS = 1_000_000


# -- the face patch (shared with the trainer) --------------------------------------------------

def face_centre(kp: np.ndarray) -> np.ndarray | None:
    """The face patch's centre (x, y) px of one frame's OpenPose-18 keypoints (18, 2): the nose,
    or where it is not visible (NaN) the mean of the visible eyes and ears; None without any."""
    kp = np.asarray(kp, np.float64)
    if np.all(np.isfinite(kp[0])):
        return kp[0].copy()
    pts = kp[list(_FACE_POINTS)]
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    return pts.mean(axis=0) if len(pts) else None


def face_box(centre, size: int, patch: int) -> tuple[int, int]:
    """Top-left (y0, x0) of the ``patch``-px square centred on ``centre`` (x, y) px, moved
    inside a ``size``-px frame."""
    x0 = int(math.floor(float(centre[0]) - patch / 2 + 0.5))
    y0 = int(math.floor(float(centre[1]) - patch / 2 + 0.5))
    return min(max(y0, 0), size - patch), min(max(x0, 0), size - patch)


def to_unit(img: np.ndarray) -> np.ndarray:
    """uint8 image → float32 in [-1, 1] (the networks' range)."""
    return np.asarray(img, np.float32) * np.float32(2 / 255) - np.float32(1)


def to_uint8(frame: np.ndarray) -> np.ndarray:
    """Float frame in [-1, 1] → uint8 image (clipped, rounded)."""
    return np.clip(np.rint((np.asarray(frame, np.float32) + 1) * 127.5), 0, 255).astype(np.uint8)


# -- numpy layers (HWC float32) ------------------------------------------------------------------

def _pad(x: np.ndarray, p: int, mode: str) -> np.ndarray:
    return np.pad(x, ((p, p), (p, p), (0, 0)), mode="reflect" if mode == "reflect" else "constant")


class _Conv:
    """A torch Conv2d's weight (C_out, C_in, k, k) and bias, applied to a padded HWC array."""

    def __init__(self, w: np.ndarray, b: np.ndarray | None, stride: int):
        self.c_out, self.c_in, self.k, _ = w.shape
        self.stride = stride
        self.bias = None if b is None else np.ascontiguousarray(b, np.float32)
        # im2col order (ky, kx, C_in): for each ky the (kx, C_in) run is contiguous in an HWC array
        self.w_col = np.ascontiguousarray(w.transpose(2, 3, 1, 0).reshape(-1, self.c_out), np.float32)
        # product-first order: each input pixel times every (ky, kx, C_out) tap
        self.w_tap = np.ascontiguousarray(w.transpose(1, 2, 3, 0).reshape(self.c_in, -1), np.float32)

    def __call__(self, xp: np.ndarray) -> np.ndarray:
        k, s = self.k, self.stride
        hp, wp, c = xp.shape
        ho, wo = (hp - k) // s + 1, (wp - k) // s + 1
        if s == 1 and self.c_out < self.c_in:
            out = np.zeros((ho, wo, self.c_out), np.float32)
            band = max(1, _BAND_FLOATS // max(1, wp * k * k * self.c_out) - (k - 1))
            for r in range(0, ho, band):  # a band of rows at a time: the product stays in cache
                rows = min(band, ho - r)
                y = (xp[r:r + rows + k - 1].reshape(-1, c) @ self.w_tap).reshape(rows + k - 1, wp, k, k, self.c_out)
                o = out[r:r + rows]
                for ky in range(k):
                    for kx in range(k):
                        o += y[ky:ky + rows, kx:kx + wo, ky, kx]
        else:
            from numpy.lib.stride_tricks import as_strided

            xp = np.ascontiguousarray(xp)
            rs, ps = xp.strides[0], xp.strides[1]
            # (ho, wo, ky, kx·C_in) view: each output pixel's window as k runs of k·C_in floats
            win = as_strided(xp, (ho, wo, k, k * c), (s * rs, s * ps, rs, xp.strides[2]), writeable=False)
            out = np.empty((ho, wo, self.c_out), np.float32)
            band = max(1, _BAND_FLOATS // max(1, wo * c * k * k))
            for r in range(0, ho, band):
                cols = win[r:r + band].reshape(-1, c * k * k)  # the copy: im2col of this band
                out[r:r + band] = (cols @ self.w_col).reshape(-1, wo, self.c_out)
        if self.bias is not None:
            out += self.bias
        return out


class _ConvT:
    """A torch ConvTranspose2d (k 3, stride 2, padding 1, output padding 1: H → 2H), weight
    (C_in, C_out, 3, 3), no bias: one product of every input pixel with all taps, then each
    output phase summed from its taps."""

    def __init__(self, w: np.ndarray):
        self.c_in, self.c_out, k, _ = w.shape
        if k != 3:
            raise ValueError(f"transposed convolutions here are 3x3, got {k}x{k}")
        self.w_tap = np.ascontiguousarray(w.transpose(0, 2, 3, 1).reshape(self.c_in, -1), np.float32)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        # Output row 2m + a comes from input row m through tap 1 when a = 0, and from rows m
        # (tap 2) and m + 1 (tap 0) when a = 1; columns alike. The four phases are written
        # into out[m, a, n, b], which is the (2h, 2w) frame once reshaped.
        h, w, c = x.shape
        C = self.c_out
        out = np.empty((h, 2, w, 2, C), np.float32)
        band = max(1, _BAND_FLOATS // max(1, w * 9 * C))
        for r in range(0, h, band):
            r1 = min(r + band, h)
            e = min(r1 + 1, h)  # one more input row: the odd output rows read row m + 1
            y = (x[r:e].reshape(-1, c) @ self.w_tap).reshape(e - r, w, 3, 3, C)
            n, q = r1 - r, e - r - 1  # rows of the band; those whose row m + 1 is in y
            o = out[r:r1]
            o[:, 0, :, 0] = y[:n, :, 1, 1]
            o[:, 0, :, 1] = y[:n, :, 1, 2]
            o[:, 0, :-1, 1] += y[:n, 1:, 1, 0]
            o[:, 1, :, 0] = y[:n, :, 2, 1]
            o[:, 1, :, 1] = y[:n, :, 2, 2]
            o[:, 1, :-1, 1] += y[:n, 1:, 2, 0]
            o[:q, 1, :, 0] += y[1:q + 1, :, 0, 1]
            o[:q, 1, :, 1] += y[1:q + 1, :, 0, 2]
            o[:q, 1, :-1, 1] += y[1:q + 1, 1:, 0, 0]
        return out.reshape(2 * h, 2 * w, C)


def _norm(x: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=(0, 1), dtype=np.float64)
    var = np.square(x - mean.astype(np.float32)).mean(axis=(0, 1), dtype=np.float64)
    scale = (1.0 / np.sqrt(var + EPS)).astype(np.float32)
    return (x - mean.astype(np.float32)) * scale


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0, out=x)


class _NumpyGenerator:
    """:class:`~choreo.core.models.photoreal.Generator` from its tensors (``prefix`` + state-dict names)."""

    def __init__(self, t: dict, prefix: str, n_down: int, n_blocks: int):
        g = lambda name: t[prefix + name]  # noqa: E731
        self.inp = _Conv(g("inp.weight"), None, 1)
        self.down = [_Conv(g(f"down.{i}.weight"), None, 2) for i in range(n_down)]
        self.blocks = [(_Conv(g(f"blocks.{i}.conv1.weight"), None, 1), _Conv(g(f"blocks.{i}.conv2.weight"), None, 1))
                       for i in range(n_blocks)]
        self.up = [_ConvT(g(f"up.{i}.weight")) for i in range(n_down)]
        self.out = _Conv(g("out.weight"), g("out.bias"), 1)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        h = _relu(_norm(self.inp(_pad(x, 3, "reflect"))))
        for conv in self.down:
            h = _relu(_norm(conv(_pad(h, 1, "zero"))))
        for c1, c2 in self.blocks:
            r = _relu(_norm(c1(_pad(h, 1, "reflect"))))
            h = h + _norm(c2(_pad(r, 1, "reflect")))
        for conv in self.up:
            h = _relu(_norm(conv(h)))
        return np.tanh(self.out(_pad(h, 3, "reflect")))


class _TorchNets:
    """The torch twin (``backend="torch"``): the same two networks on torch's convolutions."""

    def __init__(self, tensors: dict, cfg: dict, device: str):
        import torch

        from ..models.photoreal import Photoreal, PhotorealConfig

        self.torch = torch
        self.device = torch.device("cuda" if device == "auto" and torch.cuda.is_available() else
                                   ("cpu" if device == "auto" else device))
        self.net = Photoreal(PhotorealConfig.from_dict(cfg)).to(self.device).eval()
        self.net.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in tensors.items()})

    def _run(self, module, x: np.ndarray) -> np.ndarray:
        t = self.torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)[None])).to(self.device)
        with self.torch.no_grad():
            return module(t)[0].permute(1, 2, 0).cpu().numpy()

    def body(self, x: np.ndarray) -> np.ndarray:
        return self._run(self.net.generator, x)

    def face(self, x: np.ndarray) -> np.ndarray:
        return self._run(self.net.face, x)


class Renderer:
    """A trained renderer (``choreo video train``'s weights file) on numpy, or on torch with
    ``backend="torch"`` (``device`` "auto", "cpu" or "cuda"). ``size``: the frame side R px;
    ``meta``: the weights' metadata (config, training report, the target's pose stats)."""

    def __init__(self, weights_path: str | os.PathLike, backend: str = "numpy", device: str = "auto"):
        from ..models.weights import load_weights

        self.path = str(weights_path)
        tensors, meta = load_weights(weights_path)
        if meta.get("kind") != KIND or meta.get("version") != VERSION:
            raise ChoreoInputError(weights_path, f"not photoreal renderer weights: kind {meta.get('kind')!r} version "
                                                 f"{meta.get('version')!r}, expected {KIND!r} version {VERSION} "
                                                 f"(train one with `choreo video train`)")
        try:
            cfg = meta["config"]["model"]
            self.size, self.face_patch = int(meta["size"]), int(meta["face_patch"])
            self.limb_width = float(meta["limb_width"])
            n_down, n_blocks = int(cfg["n_down"]), int(cfg["n_blocks"])
            face_down, face_blocks = int(cfg["face_n_down"]), int(cfg["face_n_blocks"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ChoreoInputError(weights_path, f"photoreal weights metadata is incomplete ({exc})") from None
        self.meta = meta
        if backend == "numpy":
            t = {k: np.asarray(v, np.float32) for k, v in tensors.items()}
            try:
                self._body = _NumpyGenerator(t, "generator.", n_down, n_blocks)
                self._face = _NumpyGenerator(t, "face.", face_down, face_blocks)
            except KeyError as exc:
                raise ChoreoInputError(weights_path, f"photoreal weights lack tensor {exc}") from None
        elif backend == "torch":
            nets = _TorchNets(tensors, cfg, device)
            self._body, self._face = nets.body, nets.face
        else:
            raise ValueError(f"backend must be 'numpy' or 'torch', got {backend!r}")
        self.backend = backend

    @property
    def target_stats(self):
        """The target's :class:`~choreo.core.video.poses.PoseStats` (its floor line and heights in
        this renderer's picture), as ``choreo video train`` stored them in the weights."""
        from .poses import PoseStats

        try:
            target = self.meta["target"]
            k = self.size / float(target["size"])  # trained at another size than the target's frames
            return PoseStats(**{f: v * k for f, v in target["stats"].items()})
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
            raise ChoreoInputError(self.path, f"renderer weights hold no target record ({exc}); "
                                              "train them with `choreo video train`") from None

    def place_dance(self, joints: np.ndarray, fps: float, camera=None) -> np.ndarray:
        """OpenPose-18 keypoints (T, 18, 2) of a dance's SMPL-24 joints (T, 24, 3) m at ``fps`` in
        this renderer's target picture (:func:`~choreo.core.video.stage.dance_in_target`)."""
        from .stage import dance_in_target

        return dance_in_target(joints, fps, self.target_stats, self.size, camera)

    def frame(self, pose_img: np.ndarray, prev: np.ndarray | None = None, face=None) -> np.ndarray:
        """One output frame (R, R, 3) float32 in [-1, 1] of a pose image (R, R, 3) uint8, the
        previous output frame (None: the first frame's blank) and the face centre (x, y) px
        (None: no face residual). Pass the result on as the next frame's ``prev``;
        :func:`to_uint8` makes it an image."""
        R = self.size
        pose = to_unit(pose_img)
        if pose.shape != (R, R, 3):
            raise ValueError(f"pose image must be ({R}, {R}, 3), got {pose.shape}")
        prev = np.zeros_like(pose) if prev is None else np.asarray(prev, np.float32)
        out = np.array(self._body(np.concatenate([pose, prev], axis=2)), np.float32)
        if face is not None:
            P = self.face_patch
            y0, x0 = face_box(face, R, P)
            patch = out[y0:y0 + P, x0:x0 + P]
            patch += self._face(np.concatenate([pose[y0:y0 + P, x0:x0 + P], patch], axis=2))
        return np.clip(out, -1.0, 1.0, out=out)

    def render(self, pose_images: Iterable[np.ndarray], faces: Iterable | None = None,
               progress: ProgressFn | None = None) -> Iterator[np.ndarray]:
        """Frames (R, R, 3) uint8 of a sequence of pose images, each conditioned on the one
        before; ``faces`` gives each frame's face centre (x, y) px or None."""
        total = len(pose_images) if hasattr(pose_images, "__len__") else None
        faces = iter(faces) if faces is not None else None
        prev = None
        for i, pose in enumerate(pose_images):
            prev = self.frame(pose, prev, next(faces) if faces is not None else None)
            if total:
                report(progress, (i + 1) / total, f"frame {i + 1}/{total}")
            yield to_uint8(prev)

    def render_keypoints(self, keypoints: np.ndarray, progress: ProgressFn | None = None) -> Iterator[np.ndarray]:
        """Frames (R, R, 3) uint8 of OpenPose-18 keypoints (N, 18, 2) px in the target's pose
        space (NaN: not visible): each drawn as the trainer draws pose images, the face patch on its nose."""
        from .poses import pose_image

        kp = np.asarray(keypoints, np.float64)
        if kp.ndim != 3 or kp.shape[1:] != (18, 2):
            raise ChoreoInputError("keypoints", f"expected (frames, 18, 2) keypoints, got {kp.shape}")
        poses = _Lazy(len(kp), lambda i: pose_image(kp[i], self.size, self.size, self.limb_width))
        return self.render(poses, (face_centre(k) for k in kp), progress)


class _Lazy:
    """A sized iterable of ``fn(i)`` for i < n, made one at a time."""

    def __init__(self, n: int, fn):
        self.n, self.fn = n, fn

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        return (self.fn(i) for i in range(self.n))
