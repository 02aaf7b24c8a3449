"""3D motion seen as a detector would see it: random cameras, keypoints, noise and misses.

What the lifter learns from and is measured on (issue 17): a window of SMPL-24 joints
(metres, z up) is filmed by a random pinhole camera (:func:`random_view`: distance, height,
aim, focal length, a little roll, sometimes orbiting), its keypoints of one layout projected
(:func:`keypoints`), jittered and partly lost as a real detector's are (:func:`detector_noise`:
Gaussian jitter in proportion to the body's image size, single misses, an occluded limb for a
while, whole frames without a person; lost points filled by interpolation exactly as the
OpenPose reader fills them). :func:`example` puts it together into the network's input and
targets; :func:`load_takes`, :func:`split_takes` and :func:`heldout_views` give the mocap and the
held-out test sequences the trainer and the benchmark share. numpy only; a seeded
``np.random.Generator`` makes every view reproducible.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .. import skeleton as sk
from ..errors import ChoreoInputError
from ..fileio import repo_path
from ..formats.openpose import fill_gaps
from ..progress import ProgressFn, report
from ..skeleton_maps import smpl24_to_layout
from ..video.poses import view_rotation
from . import network as N
from .network import LAYOUTS, lifter_input, smpl_points

#: Camera ranges of the training views (:func:`random_view`).
VIEW_RANGES = {
    "distance_m": (2.5, 9.0),     # horizontal, from the dancer's mean position
    "height_m": (0.2, 2.8),       # lens above the floor
    "aim_height_m": (0.6, 1.3),   # height the camera looks at
    "aim_offset_m": 0.8,          # the look-at point up to this far beside the dancer (off-centre framing)
    "hfov_deg": (35.0, 85.0),     # horizontal field of view of a 16:9 frame 1920 px wide
    "roll_deg": 2.0,              # standard deviation
    "orbit_p": 0.3,               # chance the camera circles the dancer ...
    "orbit_deg_s": 20.0,          # ... up to this fast
}
WIDTH, HEIGHT = 1920, 1080


@dataclass
class View:
    """A camera per frame: rotations world → camera (T, 3, 3), centres (T, 3) m, focal px."""

    rotation: np.ndarray
    centre: np.ndarray
    focal: float
    width: int = WIDTH
    height: int = HEIGHT

    def camera_points(self, points: np.ndarray) -> np.ndarray:
        """World points (T, N, 3) in camera axes (x right, y down, z forward)."""
        return np.einsum("tij,tnj->tni", self.rotation, points - self.centre[:, None])

    def project(self, points: np.ndarray) -> np.ndarray:
        """Pixels (T, N, 2) (y down, origin top left) of world points (T, N, 3)."""
        p = self.camera_points(points)
        return self.focal * p[..., :2] / p[..., 2:3] + np.array([self.width / 2.0, self.height / 2.0])

    @property
    def up(self) -> np.ndarray:
        """World up (z) in camera axes, per frame (T, 3)."""
        return self.rotation[:, :, 2]


def _roll(angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    z, o = np.zeros_like(c), np.ones_like(c)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def random_view(rng: np.random.Generator, joints: np.ndarray, fps: float = sk.FPS,
                ranges: dict | None = None) -> View:
    """A random camera filming ``joints`` (T, 24, 3) (:data:`VIEW_RANGES`), moved back where
    needed so every joint stays at least 0.5 m in front of the lens."""
    r = {**VIEW_RANGES, **(ranges or {})}
    T = len(joints)
    centre_xy = joints[:, 0, :2].mean(axis=0)
    dist = rng.uniform(*r["distance_m"])
    height = rng.uniform(*r["height_m"])
    aim = rng.uniform(*r["aim_height_m"])
    yaw0 = rng.uniform(-np.pi, np.pi)
    rate = np.deg2rad(rng.uniform(-1, 1) * r["orbit_deg_s"]) if rng.random() < r["orbit_p"] else 0.0
    yaw = yaw0 + rate * np.arange(T) / fps
    side = rng.uniform(-1, 1) * r["aim_offset_m"]
    fwd = np.stack([np.sin(yaw), np.cos(yaw), np.zeros(T)], -1)
    right = np.stack([np.cos(yaw), -np.sin(yaw), np.zeros(T)], -1)
    look = np.concatenate([centre_xy, [aim]])[None] + side * right
    pitch = np.arctan2(height - aim, dist) + np.zeros(T)
    roll = rng.normal(0.0, np.deg2rad(r["roll_deg"]))
    rot = _roll(np.full(T, roll)) @ view_rotation(yaw, pitch)
    centre = look - dist * fwd
    centre[:, 2] = height
    focal = WIDTH / 2 / np.tan(np.deg2rad(rng.uniform(*r["hfov_deg"])) / 2)
    view = View(rot, centre, float(focal))
    near = view.camera_points(joints)[..., 2].min()
    if near < 0.5:  # back off along the (horizontal) view direction
        view.centre = view.centre - (0.5 - near + 0.1) * fwd
    return view


def keypoints(joints: np.ndarray, view: View, layout: str) -> np.ndarray:
    """Image keypoints (T, J, 2) of ``layout`` of SMPL-24 ``joints`` (T, 24, 3) seen by ``view``."""
    return view.project(smpl24_to_layout(joints, layout))


def detector_noise(rng: np.random.Generator, points: np.ndarray, noise: float = 0.02,
                   miss: float = 0.03) -> tuple[np.ndarray, np.ndarray]:
    """(points, seen) of clean keypoints (T, J, 2) as a detector gives them: jitter with a
    standard deviation up to ``noise`` × the body's image height (drawn per sequence), single
    points lost with a chance up to ``miss``, sometimes a limb's end hidden for up to 20 frames
    or the whole person for up to 10; lost points filled by the OpenPose reader's interpolation."""
    T, J, _ = points.shape
    height = np.ptp(points[..., 1], axis=1).max()  # tallest the body stands in the image
    sigma = rng.uniform(0.0, noise) * height
    out = points + rng.normal(0.0, 1.0, points.shape) * sigma
    seen = rng.random((T, J)) >= rng.uniform(0.0, miss)
    if rng.random() < 0.3 and T > 2:
        n = int(rng.integers(3, 21))
        s = int(rng.integers(0, max(1, T - n)))
        seen[s:s + n, rng.integers(0, J, size=int(rng.integers(1, 4)))] = False
    if rng.random() < 0.1 and T > 2:
        n = int(rng.integers(1, 11))
        s = int(rng.integers(0, max(1, T - n)))
        seen[s:s + n] = False
    return fill_gaps(out, seen.astype(np.float64)), seen


def example(rng: np.random.Generator, joints: np.ndarray, layout: str | None = None, noise: float = 0.02,
            miss: float = 0.03, view: View | None = None) -> dict[str, np.ndarray]:
    """One training (or test) sequence of ``joints`` (T, 24, 3): ``x`` the lifter's input (T, 76),
    ``rel`` the pelvis-relative joints in camera axes (T, 24, 3), ``up`` (T, 3), and what made
    them (``keypoints`` and ``keypoints_seen`` of the layout, ``points`` and ``seen`` as SMPL-24 image
    points, ``camera`` joints in camera axes, ``world`` the joints, ``layout``, ``focal``)."""
    layout = layout or LAYOUTS[int(rng.integers(len(LAYOUTS)))]
    view = view or random_view(rng, joints)
    kp = keypoints(joints, view, layout)
    if noise > 0 or miss > 0:
        kp, seen = detector_noise(rng, kp, noise, miss)
    else:
        seen = np.ones(kp.shape[:2], bool)
    pts, flags = smpl_points(kp, seen, layout)
    cam = view.camera_points(joints)
    return {"x": lifter_input(pts, flags, layout), "rel": cam - cam[:, :1], "up": view.up,
            "keypoints": kp, "keypoints_seen": seen, "points": pts, "seen": flags, "camera": cam, "world": joints,
            "layout": layout, "focal": view.focal}


# -- the mocap it learns from, and the held-out test views ---------------------------------------

#: The held-out cameras' seed: views no training step draws.
EVAL_SEED = 20261207


def load_takes(mocap: str | os.PathLike, progress: ProgressFn | None = None) -> dict[str, tuple[np.ndarray, float]]:
    """{take name: (joints (T, 24, 3) at the file's rate, fps)} of every BVH under ``mocap``."""
    from ..formats.bvh import load_bvh_motion

    root = repo_path(mocap)
    files = sorted(root.rglob("*.bvh")) if root.is_dir() else []
    if not files:
        raise ChoreoInputError(root, "no .bvh files to train the lifter on")
    out = {}
    for i, f in enumerate(files):
        m = load_bvh_motion(f)
        out[f.stem] = (m.joints.astype(np.float64), m.fps)
        report(progress, (i + 1) / len(files), f"reading {f.name}")
    return out


def split_takes(names, val_takes) -> tuple[list[str], list[str]]:
    """(training takes, held-out takes); ``val_takes`` None: the corpus's held-out choice."""
    from ..data.corpus import DEFAULT_VAL_TAKES, held_out

    names = sorted(names)
    val = held_out(names, DEFAULT_VAL_TAKES) if val_takes is None else list(val_takes)
    missing = [v for v in val if v not in names]
    if missing:
        raise ChoreoInputError("val_takes", f"not among the mocap takes: {', '.join(missing)}")
    return [n for n in names if n not in val], val


def at_30fps(joints: np.ndarray, fps: float, start: float, speed: float, n: int) -> np.ndarray:
    """``n`` frames at :data:`~choreo.core.lift.network.FPS` of ``joints`` played ``speed``
    times as fast from source frame ``start`` (linear interpolation)."""
    src = start + np.arange(n) * speed * fps / N.FPS
    src = np.clip(src, 0, len(joints) - 1)
    i0 = np.floor(src).astype(int)
    i1 = np.minimum(i0 + 1, len(joints) - 1)
    w = (src - i0)[:, None, None]
    return joints[i0] * (1 - w) + joints[i1] * w


def heldout_views(takes: dict[str, tuple[np.ndarray, float]], n_views: int, noisy: bool):
    """The held-out test sequences: every take whole at 30 fps, in every layout, through
    ``n_views`` cameras drawn from :data:`EVAL_SEED` (never a training draw); clean 2D or with
    a detector's noise (1 % of the body's height, 2 % misses). Yields (take, layout, example)."""
    rng = np.random.default_rng([EVAL_SEED, int(noisy)])
    for name in sorted(takes):
        joints, fps = takes[name]
        j = at_30fps(joints, fps, 0.0, 1.0, int((len(joints) - 1) * N.FPS / fps) + 1)
        for k in range(n_views):
            view = random_view(rng, j)
            for layout in N.LAYOUTS:
                ex = example(rng, j, layout, noise=0.01 if noisy else 0.0, miss=0.02 if noisy else 0.0, view=view)
                yield name, layout, ex


