"""Training the photoreal renderer (issue 16) on one target clip: pose image → that person's frame.

:func:`train_renderer` trains :class:`~choreo.core.models.photoreal.Photoreal` (pix2pixHD global
generator and EDN's face residual) on a :class:`ClipData` — frames, OpenPose-18 keypoints, which
frames follow their predecessor and the held-out tail (:func:`from_target` adapts a prepared
target folder) — and writes the weights :class:`~choreo.core.video.renderer.Renderer` runs.

**Temporal scheme** (Everybody Dance Now §3.2, extended). Each step draws ``batch_size`` runs of
consecutive training frames t-1-w … t with w uniform in 0..``max_warmup``. The w warm-up frames
are generated without gradients, the first from a blank previous (zeros), each from the one
before; then frame t-1 from the last of them (from the blank when w = 0) and frame t from the
generated t-1 (detached, face residual included, clipped — what the renderer feeds back). So
the generator learns both to start from nothing and to continue from its own output, which is
all it ever gets at inference; the warm-up shows it outputs that were themselves conditioned on
generated frames, as in a long rollout, at a third of a trained frame's cost. A real previous
frame is never shown: the generator could learn to copy it, which a rollout punishes.

**Losses.** The frame-pair discriminator (pix2pixHD's multi-scale PatchGAN on the 12 channels
pose t-1, pose t, frame t-1, frame t) judges both realism and temporal coherence, as EDN's
temporal discriminator does. The generator minimises, on both generated frames:
``w_gan``·LSGAN (or hinge) + ``w_fm``·feature matching (pix2pixHD's: L1 between the
discriminator's real and fake features, each layer weighted 4/(layers+1), averaged over scales)
+ ``w_l1``·L1 + ``w_ssim``·(1 − SSIM). The SSIM term replaces pix2pixHD's VGG loss without
downloaded weights: Wang et al.'s 11-px Gaussian SSIM (:mod:`choreo.core.video.quality`) averaged
over three scales (the frame, ½ and ¼, 2×2-average pooled: a multi-scale structural term, Zhao
et al. 2017), and SSIM is the measure the renderer is judged by. The face stage sees the body's
face patch detached and is trained by its own discriminator with the same terms, weighted
``w_face``. Adam at ``lr`` (β 0.5, 0.999) for both players, decayed linearly to zero from
``lr_decay_start``·steps on (pix2pixHD's schedule). No augmentation: the held-out frames share
the training frames' camera and background.

Deterministic on CPU for a seed; checkpoints (:mod:`.checkpoint`, every ``checkpoint_every``
steps in ``work_dir``) resume to bit-identical final weights. Every ``preview_every`` steps a
strip (one held-out frame a row: pose | generated | real) of a rollout over the first held-out
frames is written to ``work_dir/previews/``; at the end the whole held-out tail is rolled out and
its SSIM, PSNR and L1 go into the report and the weights' meta.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch.nn import functional as F

from ..errors import ChoreoInputError
from ..models.photoreal import (Photoreal, PhotorealConfig, discriminators, face_size,
                                limb_width)
from ..models.weights import module_tensors, save_weights
from ..progress import ProgressFn, report
from ..video.poses import pose_image
from ..video.quality import gaussian_window, psnr, ssim
from ..video.renderer import KIND, VERSION, face_box, face_centre, to_uint8
from . import checkpoint as ckpt
from .trainer import is_number, resolve_device, with_defaults

DEFAULTS: dict = {
    "kind": "photoreal",
    "description": "",
    "resolution": 256,           # frame side R px the frames are resized to (null: the data's own)
    "model": {},                 # PhotorealConfig settings
    "steps": 3000,
    "batch_size": 1,
    "lr": 2e-4,                  # pix2pixHD's
    "betas": [0.5, 0.999],
    "lr_decay_start": 0.5,       # fraction of the steps after which lr falls linearly to 0
    "gan": "lsgan",              # "lsgan" (pix2pixHD) or "hinge"
    "w_gan": 1.0,
    "w_fm": 10.0,                # pix2pixHD's feature-matching weight
    "w_l1": 10.0,
    "w_ssim": 5.0,
    "w_face": 1.0,
    "max_warmup": 2,             # generated frames before the trained pair, drawn in 0..max_warmup
    "seed": 0,
    "threads": 2,
    "log_every": 20,
    "checkpoint_every": 250,
    "preview_every": 250,
    "preview_frames": 4,         # rows of the preview strip (held-out frames 8 apart, one rollout)
    "eval_frames": None,         # held-out frames rolled out for the final report (None: all)
}
#: Keys a resume may change (how long, how often, what is reported).
RESUMABLE_CHANGES = ("steps", "description", "threads", "log_every", "checkpoint_every", "preview_every",
                     "preview_frames", "eval_frames")
_POSITIVE_INTS = ("resolution", "batch_size", "threads", "log_every", "checkpoint_every", "preview_every",
                  "preview_frames")
#: Frames between the preview strip's rows.
PREVIEW_STRIDE = 8
#: The meta keys the trainer writes; ``extra_meta`` may not replace them.
_RESERVED = ("kind", "version", "config", "size", "face_patch", "limb_width", "steps", "seconds",
             "seconds_per_step", "device", "held_out", "train_frames")


# -- data ------------------------------------------------------------------------------------------

@dataclass
class ClipData:
    """One target clip: ``frames`` (N, S, S, 3) uint8, ``keypoints`` (N, 18, 2) OpenPose-18 px in
    those frames (NaN: not visible), ``follows_previous`` (N,) bool (frame k-1 is the clip's
    frame before k), ``held_out`` the slice of frames never trained on."""

    frames: np.ndarray
    keypoints: np.ndarray
    follows_previous: np.ndarray
    held_out: slice

    def __post_init__(self):
        f, k, fp = self.frames, self.keypoints, self.follows_previous
        if f.ndim != 4 or f.shape[1] != f.shape[2] or f.shape[3] != 3 or f.dtype != np.uint8:
            raise ChoreoInputError("target", f"frames must be (N, S, S, 3) uint8, got {f.shape} {f.dtype}")
        if k.shape != (len(f), 18, 2) or fp.shape != (len(f),):
            raise ChoreoInputError("target", f"keypoints {k.shape} and follows_previous {fp.shape} do not "
                                             f"match {len(f)} frames")
        self.keypoints = np.asarray(k, np.float32)
        self.follows_previous = np.asarray(fp, bool)

    @property
    def size(self) -> int:
        return int(self.frames.shape[1])

    def train_mask(self) -> np.ndarray:
        m = np.ones(len(self.frames), bool)
        m[self.held_out] = False
        return m


def from_target(target, resolution: int | None = None) -> ClipData:
    """The :class:`ClipData` of a prepared target (:func:`choreo.core.video.target.read_target`),
    resized to ``resolution`` px when given. The training resolution is :func:`train_renderer`'s
    ``resolution`` or the config's: resizing here only saves memory."""
    data = ClipData(target.load_frames(), target.keypoints, target.follows_previous, target.held_out)
    return data if resolution is None else _resized(data, int(resolution))


def _resized(data: ClipData, size: int) -> ClipData:
    """``data`` with frames and keypoints at ``size`` px (area average down, antialiased bilinear up)."""
    if data.size == size:
        return data
    out = np.empty((len(data.frames), size, size, 3), np.uint8)
    for i in range(0, len(out), 64):  # a block at a time: float copies of every frame would not fit
        x = torch.from_numpy(data.frames[i:i + 64]).permute(0, 3, 1, 2).float()
        y = (F.interpolate(x, (size, size), mode="area") if size < data.size
             else F.interpolate(x, (size, size), mode="bilinear", align_corners=False, antialias=True))
        out[i:i + 64] = y.round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
    return ClipData(out, data.keypoints * np.float32(size / data.size), data.follows_previous, data.held_out)


def synthetic_clip(n_frames: int = 120, size: int = 64, seed: int = 0) -> ClipData:
    """A learnable stand-in for a target clip (tests, demos): a figure dancing on a still
    background, every frame drawn from its keypoints alone — trousers, a shirt, skin-coloured
    hands and head with dark hair and eyes, on a vertical gradient. Arms, legs, sway and bounce
    move as sines of the frame index with per-seed phases; the last 10 % are held out."""
    rng = np.random.default_rng(seed)
    ph = rng.uniform(0, 2 * np.pi, 6)
    t = np.arange(n_frames, dtype=np.float64)
    s = size / 64.0
    cx = 32 * s + 6 * s * np.sin(0.11 * t + ph[0])
    top = 14 * s + 1.5 * s * np.sin(0.23 * t + ph[1])
    kp = np.full((n_frames, 18, 2), np.nan)

    def put(i, x, y):
        kp[:, i, 0], kp[:, i, 1] = x, y

    neck_y, hip_y = top + 7 * s, top + 24 * s
    put(1, cx, neck_y)
    put(0, cx, top)
    put(14, cx - 2 * s, top - 1.5 * s)
    put(15, cx + 2 * s, top - 1.5 * s)
    put(16, cx - 3.5 * s, top - 0.5 * s)
    put(17, cx + 3.5 * s, top - 0.5 * s)
    for side, (sh, el, wr, hip, kn, an) in ((-1, (2, 3, 4, 8, 9, 10)), (1, (5, 6, 7, 11, 12, 13))):
        a = 0.9 + 0.8 * np.sin(0.17 * t + ph[2] + (side > 0) * ph[3])  # shoulder angle from straight down
        b = 0.6 * np.sin(0.29 * t + ph[4])
        put(sh, cx + side * 6 * s, neck_y)
        ex, ey = cx + side * (6 * s + 8 * s * np.sin(a)), neck_y + 8 * s * np.cos(a)
        put(el, ex, ey)
        put(wr, ex + side * 7 * s * np.sin(a + b), ey + 7 * s * np.cos(a + b))
        legs = 0.3 * np.sin(0.2 * t + ph[5] + (side > 0) * np.pi)
        put(hip, cx + side * 3.5 * s, hip_y)
        kx, ky = cx + side * 3.5 * s + 10 * s * np.sin(legs), hip_y + 10 * s * np.cos(legs)
        put(kn, kx, ky)
        put(an, kx, ky + 10 * s)
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    background = np.stack([40 + 120 * yy / size, 90 + 60 * xx / size, 150 - 50 * yy / size], -1)

    def capsule(p, q, r):
        d = q - p
        u = np.clip(((xx - p[0]) * d[0] + (yy - p[1]) * d[1]) / max(float(d @ d), 1e-9), 0, 1)
        return (xx - p[0] - u * d[0]) ** 2 + (yy - p[1] - u * d[1]) ** 2 <= r * r

    frames = np.empty((n_frames, size, size, 3), np.uint8)
    colours = {"trousers": (30, 40, 110), "shirt": (200, 50, 40), "skin": (230, 180, 150), "hair": (60, 35, 20)}
    for f in range(n_frames):
        img = background.copy()
        k = kp[f]
        for hip, kn, an in ((8, 9, 10), (11, 12, 13)):
            img[capsule(k[hip], k[kn], 2.4 * s) | capsule(k[kn], k[an], 2.2 * s)] = colours["trousers"]
        img[capsule(k[1], (k[8] + k[11]) / 2, 5.5 * s)] = colours["shirt"]
        for sh, el, wr in ((2, 3, 4), (5, 6, 7)):
            img[capsule(k[sh], k[el], 2.0 * s) | capsule(k[el], k[wr], 1.7 * s)] = colours["shirt"]
            img[capsule(k[wr], k[wr], 2.0 * s)] = colours["skin"]
        img[capsule(k[0], k[0], 4.5 * s)] = colours["skin"]
        img[capsule(k[0] - [0, 3 * s], k[0] - [0, 3.5 * s], 3.5 * s) & (yy < k[0][1] - 1.5 * s)] = colours["hair"]
        img[capsule(k[14] + [0, 1.5 * s], k[14] + [0, 1.5 * s], 0.9 * s)] = (20, 20, 20)
        img[capsule(k[15] + [0, 1.5 * s], k[15] + [0, 1.5 * s], 0.9 * s)] = (20, 20, 20)
        frames[f] = np.clip(img, 0, 255).round().astype(np.uint8)
    follows = np.ones(n_frames, bool)
    follows[0] = False
    n_held = max(2, n_frames // 10)
    return ClipData(frames, kp.astype(np.float32), follows, slice(n_frames - n_held, n_frames))


# -- config ----------------------------------------------------------------------------------------

def validate_config(config: dict, where: str = "config") -> dict:
    """The full config (defaults filled in), or :class:`ChoreoInputError` naming ``where`` and the problem."""
    cfg = with_defaults(config, DEFAULTS, where)
    if cfg["kind"] != "photoreal":
        raise ChoreoInputError(where, f"kind must be 'photoreal' here, got {cfg['kind']!r}")
    for k in _POSITIVE_INTS + ("steps", "seed", "max_warmup"):
        v = cfg[k]
        if k == "resolution" and v is None:
            continue
        least = 1 if k in _POSITIVE_INTS else 0
        if not isinstance(v, int) or isinstance(v, bool) or (k != "seed" and v < least):
            raise ChoreoInputError(where, f"{k} must be an integer{f' ≥ {least}' if k != 'seed' else ''}, got {v!r}")
    ev = cfg["eval_frames"]
    if ev is not None and (not isinstance(ev, int) or isinstance(ev, bool) or ev < 1):
        raise ChoreoInputError(where, f"eval_frames must be null or a positive integer, got {ev!r}")
    if not (is_number(cfg["lr"]) and cfg["lr"] > 0):
        raise ChoreoInputError(where, f"lr must be a positive number, got {cfg['lr']!r}")
    if not (is_number(cfg["lr_decay_start"]) and 0 <= cfg["lr_decay_start"] <= 1):
        raise ChoreoInputError(where, f"lr_decay_start must be a number in [0, 1], got {cfg['lr_decay_start']!r}")
    for k in ("w_gan", "w_fm", "w_l1", "w_ssim", "w_face"):
        if not (is_number(cfg[k]) and cfg[k] >= 0):
            raise ChoreoInputError(where, f"{k} must be a non-negative number, got {cfg[k]!r}")
    b = cfg["betas"]
    if not (isinstance(b, list) and len(b) == 2 and all(is_number(x) and 0 <= x < 1 for x in b)):
        raise ChoreoInputError(where, f"betas must be two numbers in [0, 1), got {b!r}")
    if cfg["gan"] not in ("lsgan", "hinge"):
        raise ChoreoInputError(where, f"gan must be 'lsgan' or 'hinge', got {cfg['gan']!r}")
    if not isinstance(cfg["description"], str):
        raise ChoreoInputError(where, "description must be a string")
    if not isinstance(cfg["model"], dict):
        raise ChoreoInputError(where, "model must be an object of settings")
    try:
        mcfg = PhotorealConfig.from_dict(cfg["model"])
        if cfg["resolution"] is not None:
            mcfg.check_size(cfg["resolution"])
    except (ValueError, TypeError) as exc:
        raise ChoreoInputError(where, str(exc)) from None
    cfg["model"] = mcfg.to_dict()  # the full model settings: what the weights' meta records
    return cfg


#: The configurations ``load_config`` knows by name (``configs/photoreal_<name>.json``).
CONFIG_NAMES = ("cpu", "gpu", "tiny")
CONFIGS_DIR = Path(__file__).resolve().parents[2] / "configs"


def load_config(name_or_path: str | os.PathLike) -> dict:
    """The validated config called ``name_or_path`` (one of :data:`CONFIG_NAMES`) or in that JSON
    file; a bad file is a :class:`ChoreoInputError` naming it."""
    from ..fileio import read_json

    key = os.fspath(name_or_path)
    path = CONFIGS_DIR / f"photoreal_{key}.json" if key in CONFIG_NAMES else Path(key)
    return validate_config(read_json(path), where=str(path))


# -- losses ----------------------------------------------------------------------------------------

def ssim_torch(a: torch.Tensor, b: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Mean SSIM of image batches (B, C, H, W) with values in [0, ``data_range``] (H, W ≥ 11):
    :func:`choreo.core.video.quality.ssim` in torch (per channel, valid positions, averaged),
    differentiable. Values must not be shifted to be centred on 0: SSIM's luminance term
    assumes non-negative intensities."""
    C = a.shape[1]
    g = torch.tensor(gaussian_window(), dtype=a.dtype, device=a.device)
    kx, ky = g.view(1, 1, 1, -1).repeat(C, 1, 1, 1), g.view(1, 1, -1, 1).repeat(C, 1, 1, 1)

    def blur(x):
        return F.conv2d(F.conv2d(x, kx, groups=C), ky, groups=C)

    mu_a, mu_b = blur(a), blur(b)
    var_a, var_b = blur(a * a) - mu_a ** 2, blur(b * b) - mu_b ** 2
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return s.mean()


def ssim_loss(fake: torch.Tensor, real: torch.Tensor, scales: int = 3) -> torch.Tensor:
    """1 − SSIM of frames in [-1, 1] (read as [0, 1]) averaged over up to ``scales`` scales
    (each 2×2-average pooled), those at least 11 px."""
    fake, real = (fake + 1) / 2, (real + 1) / 2
    losses = []
    for i in range(scales):
        if i:
            fake, real = F.avg_pool2d(fake, 2), F.avg_pool2d(real, 2)
        if min(fake.shape[-2:]) < 11:
            break
        losses.append(1 - ssim_torch(fake, real))
    return sum(losses) / max(len(losses), 1)


def _d_loss(real: torch.Tensor, fake: torch.Tensor, gan: str) -> torch.Tensor:
    if gan == "lsgan":
        return 0.5 * (((real - 1) ** 2).mean() + (fake ** 2).mean())
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


def _g_loss(fake: torch.Tensor, gan: str) -> torch.Tensor:
    return ((fake - 1) ** 2).mean() if gan == "lsgan" else -fake.mean()


def _gan_terms(d, real_in: torch.Tensor, fake_in: torch.Tensor, gan: str) -> tuple:
    """(discriminator loss, generator adversarial loss, feature matching) of one multi-scale
    discriminator; the generator's terms are computed with ``d``'s parameters frozen."""
    real_feats = d(real_in)
    d_loss = sum(_d_loss(r[-1], f[-1], gan) for r, f in zip(real_feats, d(fake_in.detach()))) / len(real_feats)
    for p in d.parameters():
        p.requires_grad_(False)
    fake_feats = d(fake_in)
    for p in d.parameters():
        p.requires_grad_(True)
    adv = sum(_g_loss(f[-1], gan) for f in fake_feats) / len(fake_feats)
    fm = 0.0
    for r, f in zip(real_feats, fake_feats):  # pix2pixHD: each layer 4/(n_layers+1), scales averaged
        w = 4.0 / (len(r) - 1) / len(real_feats)
        fm = fm + w * sum(F.l1_loss(fi, ri.detach()) for ri, fi in zip(r[:-1], f[:-1]))
    return d_loss, adv, fm


# -- the run ---------------------------------------------------------------------------------------

class _Run:
    """Networks, optimisers, the data at the training resolution and one training step."""

    def __init__(self, cfg: dict, data: ClipData, device: torch.device):
        self.cfg, self.device, self.data = cfg, device, data
        self.mcfg = PhotorealConfig.from_dict(cfg["model"])
        self.size = cfg["resolution"]
        self.patch = face_size(self.mcfg, self.size)
        self.limb = limb_width(self.mcfg, self.size)
        self.net = Photoreal(self.mcfg).to(device)
        self.d_pair, self.d_face = (d.to(device) for d in discriminators(self.mcfg))
        betas = tuple(cfg["betas"])
        self.modules = {"photoreal": self.net, "d_pair": self.d_pair, "d_face": self.d_face}
        self.optims = {"g": torch.optim.Adam(self.net.parameters(), lr=cfg["lr"], betas=betas),
                       "d": torch.optim.Adam(list(self.d_pair.parameters()) + list(self.d_face.parameters()),
                                             lr=cfg["lr"], betas=betas)}
        self.centres = [face_centre(k) for k in data.keypoints]
        # run[t]: consecutive training frames ending at t (t included)
        train = data.train_mask()
        self.run_len = np.zeros(len(train), np.int64)
        for t in range(len(train)):
            if train[t]:
                self.run_len[t] = self.run_len[t - 1] + 1 if t and train[t - 1] and data.follows_previous[t] else 1
        if not np.any(self.run_len >= 2):
            raise ChoreoInputError("target", "no two consecutive training frames: nothing to learn the "
                                             "previous-frame conditioning from")

    # tensors of frames (B, 3, R, R) in [-1, 1]
    def _t(self, imgs: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(imgs)).to(self.device).permute(0, 3, 1, 2).float()
        return x * (2 / 255) - 1

    def poses(self, idx) -> torch.Tensor:
        return self._t(np.stack([pose_image(self.data.keypoints[i], self.size, self.size, self.limb) for i in idx]))

    def frames(self, idx) -> torch.Tensor:
        return self._t(self.data.frames[np.asarray(idx)])

    def boxes(self, idx) -> list:
        """(batch row, y0, x0) of the face patch of each frame in ``idx`` that has a face."""
        return [(b, *face_box(self.centres[i], self.size, self.patch)) for b, i in enumerate(idx)
                if self.centres[i] is not None]

    def _crop(self, x: torch.Tensor, boxes) -> torch.Tensor:
        P = self.patch
        return torch.stack([x[b, :, y:y + P, x0:x0 + P] for b, y, x0 in boxes])

    def with_face(self, body: torch.Tensor, pose: torch.Tensor, boxes) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(the frames with the face residual added, the residual-added face patches or None)."""
        if not boxes:
            return body, None
        patches = self._crop(body, boxes).detach()  # the face stage does not train the body
        faces = patches + self.net.face_residual(self._crop(pose, boxes), patches)
        P = self.patch
        out = body.clone()
        for j, (b, y, x0) in enumerate(boxes):
            out[b, :, y:y + P, x0:x0 + P] = faces[j]
        return out, faces

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """(B, w + 2) frame indices of consecutive training runs, w uniform in 0..max_warmup."""
        w = int(rng.integers(0, self.cfg["max_warmup"] + 1))
        while not np.any(self.run_len >= w + 2):
            w -= 1
        ends = np.flatnonzero(self.run_len >= w + 2)
        t = rng.choice(ends, self.cfg["batch_size"])
        return t[:, None] + np.arange(-(w + 1), 1)[None, :]

    def set_lr(self, step: int) -> float:
        cfg = self.cfg
        start = cfg["lr_decay_start"] * cfg["steps"]
        frac = 1.0 if step < start else max(0.0, (cfg["steps"] - step) / max(cfg["steps"] - start, 1))
        lr = cfg["lr"] * frac
        for opt in self.optims.values():
            for g in opt.param_groups:
                g["lr"] = lr
        return lr

    def step(self, idx: np.ndarray) -> dict:
        cfg, gan = self.cfg, self.cfg["gan"]
        B, L = idx.shape
        prev = torch.zeros(B, 3, self.size, self.size, device=self.device)
        with torch.no_grad():  # the warm-up: the generator's own rollout, blank first
            for j in range(L - 2):
                pose = self.poses(idx[:, j])
                prev = self.with_face(self.net(pose, prev), pose, self.boxes(idx[:, j]))[0].clamp(-1, 1)
        poses = [self.poses(idx[:, j]) for j in (L - 2, L - 1)]
        reals = [self.frames(idx[:, j]) for j in (L - 2, L - 1)]
        boxes = [self.boxes(idx[:, j]) for j in (L - 2, L - 1)]
        body1 = self.net(poses[0], prev)
        out1, face1 = self.with_face(body1, poses[0], boxes[0])
        body2 = self.net(poses[1], out1.detach().clamp(-1, 1))
        _, face2 = self.with_face(body2, poses[1], boxes[1])

        logs = {}
        d_pair, adv, fm = _gan_terms(self.d_pair, torch.cat(poses + reals, 1), torch.cat(poses + [body1, body2], 1),
                                     gan)
        fake, real = torch.cat([body1, body2]), torch.cat(reals)
        l1, ss = F.l1_loss(fake, real), ssim_loss(fake, real)
        g_total = cfg["w_gan"] * adv + cfg["w_fm"] * fm + cfg["w_l1"] * l1 + cfg["w_ssim"] * ss
        d_total = d_pair
        logs.update(d=d_pair.item(), g_adv=adv.item(), fm=float(fm.detach()), l1=l1.item(), ssim=1 - ss.item())
        faces = [f for f in (face1, face2) if f is not None]
        if faces:
            pose_p = torch.cat([self._crop(p, bx) for p, bx in zip(poses, boxes) if bx])
            real_p = torch.cat([self._crop(r, bx) for r, bx in zip(reals, boxes) if bx])
            face = torch.cat(faces)
            d_face, adv_f, fm_f = _gan_terms(self.d_face, torch.cat([pose_p, real_p], 1),
                                             torch.cat([pose_p, face], 1), gan)
            l1_f, ss_f = F.l1_loss(face, real_p), ssim_loss(face, real_p)
            g_total = g_total + cfg["w_face"] * (cfg["w_gan"] * adv_f + cfg["w_fm"] * fm_f + cfg["w_l1"] * l1_f
                                                 + cfg["w_ssim"] * ss_f)
            d_total = d_total + d_face
            logs.update(d_face=d_face.item(), face_l1=l1_f.item())
        self.optims["g"].zero_grad(set_to_none=True)
        g_total.backward()
        self.optims["g"].step()
        self.optims["d"].zero_grad(set_to_none=True)
        d_total.backward()  # its graph saw only detached fakes: the generator's step does not affect it
        self.optims["d"].step()
        logs["g_total"] = g_total.item()
        return logs


@torch.no_grad()
def rollout(net: Photoreal, data: ClipData, frames, device: torch.device | str = "cpu") -> np.ndarray:
    """Generated frames (n, R, R, 3) uint8 of ``frames`` (indices into ``data``, at the model's
    resolution = ``data``'s), each from the previous one's output as the renderer does; a frame
    not following its predecessor in the list starts again from the blank."""
    cfg, R = net.cfg, data.size
    P, limb = face_size(cfg, R), limb_width(cfg, R)
    out, prev, last = [], None, None
    was_training = net.training
    net.eval()
    for i in frames:
        i = int(i)
        if prev is None or last != i - 1 or not data.follows_previous[i]:
            prev = torch.zeros(1, 3, R, R, device=device)
        pose = torch.from_numpy(pose_image(data.keypoints[i], R, R, limb)).to(device).permute(2, 0, 1)[None]
        pose = pose.float() * (2 / 255) - 1
        frame = net(pose, prev)
        c = face_centre(data.keypoints[i])
        if c is not None:
            y, x = face_box(c, R, P)
            frame[:, :, y:y + P, x:x + P] += net.face_residual(pose[:, :, y:y + P, x:x + P],
                                                               frame[:, :, y:y + P, x:x + P])
        prev, last = frame.clamp(-1, 1), i
        out.append(to_uint8(prev[0].permute(1, 2, 0).cpu().numpy()))
    net.train(was_training)
    return np.stack(out) if out else np.zeros((0, R, R, 3), np.uint8)


def evaluate(net: Photoreal, data: ClipData, frames=None, device: torch.device | str = "cpu") -> dict:
    """Mean SSIM, PSNR (dB) and L1 (0–255 scale) of a :func:`rollout` over ``frames`` (default:
    the held-out ones) against the real frames."""
    idx = np.arange(len(data.frames))[data.held_out] if frames is None else np.asarray(frames)
    if len(idx) == 0:
        return {"frames": 0}
    gen = rollout(net, data, idx, device)
    real = data.frames[idx]
    return {"frames": int(len(idx)), "ssim": float(np.mean([ssim(g, r) for g, r in zip(gen, real)])),
            "psnr": float(np.mean([psnr(g, r) for g, r in zip(gen, real)])),
            "l1": float(np.abs(gen.astype(np.float32) - real).mean())}


def _write_preview(run: _Run, path: Path, n: int) -> dict:
    """The preview strip of a rollout over the first held-out frames; returns its metrics."""
    from PIL import Image

    held = np.arange(len(run.data.frames))[run.data.held_out]
    idx = held[:(n - 1) * PREVIEW_STRIDE + 1]
    gen = rollout(run.net, run.data, idx, run.device)
    rows = [np.concatenate([pose_image(run.data.keypoints[i], run.size, run.size, run.limb), gen[j],
                            run.data.frames[i]], axis=1) for j, i in enumerate(idx) if j % PREVIEW_STRIDE == 0]
    path.parent.mkdir(parents=True, exist_ok=True)
    from ..fileio import atomic_path

    with atomic_path(path, suffix=".png") as tmp:
        Image.fromarray(np.concatenate(rows, axis=0)).save(tmp, format="PNG")
    return {"ssim": float(np.mean([ssim(g, run.data.frames[i]) for g, i in zip(gen, idx)]))}


def _eta(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def train_renderer(data: ClipData, config: dict, out_weights: str | os.PathLike, work_dir: str | os.PathLike, *,
                   steps: int | None = None, resolution: int | None = None, device: str = "auto",
                   resume: bool | str = False, progress: ProgressFn | None = None,
                   log: Callable[[str], None] | None = None, extra_meta: dict | None = None) -> dict:
    """Train the renderer on ``data`` and write its weights to ``out_weights``.

    ``config``: a training config (:func:`load_config`; unknown keys are errors); ``steps`` and
    ``resolution`` (px) override it; the frames are resized to the resolution (a config's
    ``null``: the data's own). ``work_dir`` holds the checkpoint
    (``checkpoint.safetensors``, every ``checkpoint_every`` steps) and ``previews/``.
    ``resume``: continue from the checkpoint there (same config but for
    :data:`RESUMABLE_CHANGES`; "auto": when there is one); on CPU the result equals an
    uninterrupted run bit for bit.
    ``device``: "auto" (CUDA when present), "cpu" or "cuda". ``progress`` gets the fraction done
    and "step k/N … ETA m:ss"; ``log`` messages for the user. ``extra_meta`` (e.g. the target's
    pose stats) is stored in the weights' meta beside the trainer's own keys.

    Returns the report: ``steps``, ``seconds``, ``seconds_per_step``, ``device``, ``history``
    (logged means), ``held_out`` (SSIM/PSNR/L1 of a rollout over the held-out frames),
    ``weights``, ``sha256``, ``preview`` (the last strip's path or None).
    """
    overrides = {k: v for k, v in (("steps", steps), ("resolution", resolution)) if v is not None}
    cfg = validate_config({**config, **overrides})
    if cfg["resolution"] is None:  # the data's own size, checked against the networks like any other
        cfg = validate_config({**cfg, "resolution": data.size})
    if resume not in (True, False, "auto"):
        raise ValueError(f"resume must be True, False or 'auto', got {resume!r}")
    extra = dict(extra_meta or {})
    clash = sorted(set(extra) & set(_RESERVED))
    if clash:
        raise ValueError(f"extra_meta may not set {', '.join(clash)}")
    dev = resolve_device(device)
    log = log or (lambda msg: None)
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(cfg["threads"])
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        return _train(cfg, _resized(data, cfg["resolution"]), Path(out_weights), Path(work_dir), dev, resume,
                      progress, log, extra)
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


def _train(cfg: dict, data: ClipData, out_weights: Path, work_dir: Path, dev: torch.device, resume: bool | str,
           progress: ProgressFn | None, log: Callable[[str], None], extra: dict) -> dict:
    torch.manual_seed(cfg["seed"])
    rng = np.random.default_rng(cfg["seed"])
    run = _Run(cfg, data, dev)
    if resume == "auto":
        resume = ckpt.has_checkpoint(work_dir)
    n_held = len(np.arange(len(data.frames))[data.held_out])
    step, seconds, history = 0, 0.0, []
    if resume:
        step, seconds, history = ckpt.resume_run(work_dir, run.modules, run.optims, rng, dev, cfg,
                                                 RESUMABLE_CHANGES, log)
    acc: dict[str, list[float]] = {}
    preview, last_ssim = None, None
    start_step, t0 = step, time.perf_counter()
    report(progress, step / max(cfg["steps"], 1), f"step {step}/{cfg['steps']}")
    while step < cfg["steps"]:
        run.set_lr(step)
        for k, v in run.step(run.sample(rng)).items():
            acc.setdefault(k, []).append(v)
        step += 1
        entry = None
        if step % cfg["log_every"] == 0 or step == cfg["steps"]:
            entry = {"step": step, **{k: float(np.mean(v)) for k, v in acc.items()}}
            acc.clear()
        if n_held and (step % cfg["preview_every"] == 0 or step == cfg["steps"]):
            preview = work_dir / "previews" / f"step_{step:07d}.png"
            last_ssim = _write_preview(run, preview, cfg["preview_frames"])["ssim"]
            entry = {**(entry or {"step": step}), "preview_ssim": last_ssim}
        if entry is not None:
            history.append(entry)
        if step % cfg["checkpoint_every"] == 0 or step == cfg["steps"]:
            work_dir.mkdir(parents=True, exist_ok=True)
            ckpt.save_checkpoint(work_dir, step, run.modules, run.optims, rng,
                                 {"config": cfg, "seconds": seconds + time.perf_counter() - t0, "history": history})
        rate = (time.perf_counter() - t0) / (step - start_step)
        last = next((h for h in reversed(history) if "l1" in h), None)
        report(progress, step / cfg["steps"],
               f"step {step}/{cfg['steps']}" + (f" L1 {last['l1']:.3f} SSIM {last['ssim']:.3f}" if last else "")
               + (f" held-out SSIM {last_ssim:.3f}" if last_ssim is not None else "")
               + f" ETA {_eta(rate * (cfg['steps'] - step))}")
    seconds += time.perf_counter() - t0
    report(progress, 1.0, "held-out rollout")
    held = {"frames": 0}
    if n_held:
        idx = np.arange(len(data.frames))[data.held_out]
        held = evaluate(run.net, data, idx[:cfg["eval_frames"]] if cfg["eval_frames"] else idx, dev)
        log(f"held-out rollout of {held['frames']} frames: SSIM {held['ssim']:.3f}, PSNR {held['psnr']:.1f} dB")
    result = {"steps": step, "seconds": round(seconds, 2), "seconds_per_step": round(seconds / max(step, 1), 4),
              "device": str(dev), "held_out": held, "train_frames": int(data.train_mask().sum()), "history": history}
    meta = {**extra, "kind": KIND, "version": VERSION, "config": cfg, "size": run.size, "face_patch": run.patch,
            "limb_width": run.limb, **{k: result[k] for k in ("steps", "seconds", "seconds_per_step", "device",
                                                              "held_out", "train_frames")}}
    sha = save_weights(out_weights, module_tensors(run.net), meta)
    result.update(weights=str(out_weights), sha256=sha, preview=None if preview is None else str(preview))
    report(progress, 1.0, "done")
    return result
