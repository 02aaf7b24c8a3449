"""Motion: joint positions of one dancer on the canonical skeleton over time."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from . import skeleton as sk


@dataclass
class Motion:
    """Joint positions ``joints`` (T, 24, 3) in metres, z up, sampled at ``fps``.

    Joint order and parents are :mod:`choreo.core.skeleton`'s SMPL-24. Methods
    return new motions; the arrays are never modified in place.
    """

    joints: np.ndarray
    fps: float = sk.FPS
    joint_names: tuple[str, ...] = field(default=sk.JOINT_NAMES)

    def __post_init__(self):
        self.joints = np.asarray(self.joints, dtype=np.float32)
        if self.joints.ndim != 3 or self.joints.shape[1:] != (len(self.joint_names), 3):
            raise ValueError(f"joints must be (T, {len(self.joint_names)}, 3), got {self.joints.shape}")
        if not self.fps > 0:
            raise ValueError(f"fps must be positive, got {self.fps}")
        self.fps = float(self.fps)

    # -- shape -------------------------------------------------------------
    @property
    def num_frames(self) -> int:
        return int(self.joints.shape[0])

    @property
    def duration(self) -> float:
        """Seconds covered, counting each frame as 1/fps long."""
        return self.num_frames / self.fps

    @property
    def times(self) -> np.ndarray:
        return np.arange(self.num_frames) / self.fps

    def frames(self, start: int, stop: int) -> "Motion":
        return Motion(self.joints[start:stop], self.fps, self.joint_names)

    def seconds(self, start: float, stop: float) -> "Motion":
        return self.frames(int(round(start * self.fps)), int(round(stop * self.fps)))

    # -- time ----------------------------------------------------------------
    def resample(self, fps: float) -> "Motion":
        """The same motion at another frame rate.

        Down-sampling by a whole factor (60→30, 120→30) low-passes and decimates
        (polyphase, one phase); every other ratio (30→60, 30→24, 30→23.976) uses
        a cubic spline through the frames, which keeps straight lines and
        constants exact: a multi-phase polyphase resampler has slightly
        different DC gains per phase, a ≈2 mm-per-metre ripple (fake acceleration).
        """
        if abs(fps - self.fps) < 1e-9 or self.num_frames < 2:
            return Motion(self.joints.copy(), fps, self.joint_names)
        ratio = Fraction(fps / self.fps).limit_denominator(1000)
        flat = self.joints.reshape(self.num_frames, -1).astype(np.float64)
        from .audio.resample import cubic_spline, decimate  # numpy only (resample_poly / CubicSpline twins)

        if ratio.numerator == 1 and ratio.denominator <= 16 and self.num_frames > 8:
            out = decimate(flat, ratio.denominator, axis=0)
        else:
            n_out = int(np.floor((self.num_frames - 1) * fps / self.fps + 1e-9)) + 1
            out = cubic_spline(self.times, flat, np.arange(n_out) / fps, axis=0)
        return Motion(out.reshape(-1, *self.joints.shape[1:]), fps, self.joint_names)

    # -- space ---------------------------------------------------------------
    def root_relative(self) -> np.ndarray:
        """Joints relative to the pelvis of the same frame, (T, 24, 3)."""
        return self.joints - self.joints[:, :1]

    def mirrored(self) -> "Motion":
        """Left/right mirror image across the x = 0 plane (left limbs become right)."""
        j = self.joints[:, list(sk.MIRROR)].copy()
        j[..., 0] *= -1.0
        return Motion(j, self.fps, self.joint_names)

    def facing_angle(self, frame: int = 0) -> float:
        """Heading (radians about z) of the dancer's forward direction at ``frame``."""
        left = (self.joints[frame, sk.JOINT_INDEX["l_hip"]] - self.joints[frame, sk.JOINT_INDEX["r_hip"]]
                + self.joints[frame, sk.JOINT_INDEX["l_shoulder"]] - self.joints[frame, sk.JOINT_INDEX["r_shoulder"]])
        forward = np.cross(left, [0.0, 0.0, 1.0])
        return float(np.arctan2(forward[1], forward[0]))

    def normalized_facing(self, frame: int = 0) -> "Motion":
        """Rotate about z and shift on the floor so that at ``frame`` the pelvis is
        over the origin and the dancer faces -y; heights are kept."""
        target = np.arctan2(sk.FORWARD[1], sk.FORWARD[0])
        a = target - self.facing_angle(frame)
        c, s = np.cos(a), np.sin(a)
        rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]], dtype=np.float64)
        origin = self.joints[frame, 0].astype(np.float64) * np.array([1.0, 1.0, 0.0])
        j = (self.joints.astype(np.float64) - origin) @ rot.T
        return Motion(j, self.fps, self.joint_names)

    def bone_lengths(self) -> np.ndarray:
        """Per-frame bone lengths (T, 23); see :func:`skeleton.bone_lengths`."""
        return sk.bone_lengths(self.joints)

    def with_bone_lengths(self, lengths: np.ndarray | None = None) -> "Motion":
        """Rebuild every frame down the tree so each bone has a constant length.

        ``lengths`` (23,) defaults to the median length of each bone over the
        clip. Bone directions and the pelvis trajectory are kept.
        """
        if lengths is None:
            lengths = np.median(self.bone_lengths(), axis=0)
        lengths = np.asarray(lengths, dtype=np.float64)
        src = self.joints.astype(np.float64)
        out = np.empty_like(src)
        out[:, 0] = src[:, 0]
        for j in range(1, len(sk.PARENTS)):
            p = sk.PARENTS[j]
            d = src[:, j] - src[:, p]
            n = np.linalg.norm(d, axis=-1, keepdims=True)
            d = np.where(n > 1e-9, d / np.maximum(n, 1e-9), 0.0)
            out[:, j] = out[:, p] + d * lengths[j - 1]
        return Motion(out, self.fps, self.joint_names)

    def floor_height(self) -> float:
        """Height of the lowest foot joint over the clip (5th percentile, robust to glitches)."""
        return float(np.percentile(self.joints[:, list(sk.FEET), 2].min(axis=1), 5))

    def on_floor(self) -> "Motion":
        """Shift vertically so the feet rest on z = 0."""
        j = self.joints.copy()
        j[..., 2] -= self.floor_height()
        return Motion(j, self.fps, self.joint_names)

    def concatenate(self, other: "Motion") -> "Motion":
        if other.fps != self.fps:
            other = other.resample(self.fps)
        return Motion(np.concatenate([self.joints, other.joints]), self.fps, self.joint_names)
