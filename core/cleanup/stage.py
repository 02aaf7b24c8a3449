"""Turning and travel as the choreographer's choices, and a stage to stay on.

The generator turns and travels as its noise leads it (measured: ~9 net turns
and ~17 m per minute, wandering 4 m from the start). Here the dance keeps its
quick turns and steps (pirouettes, a step to the side) while its *sustained*
turning and travel are scaled by ``turn`` and ``travel`` (0 = faces front and
dances on the spot, 1 = as generated), then the floor path is kept inside a
square stage of ``stage_m`` around the start.

- Sustained turning: the heading smoothed over :data:`SLOW_TURN_S`; scaling
  it by ``turn`` rotates every frame's body about its pelvis, and the floor
  velocity with it (a step forward stays forward). The scaled rate is softly
  capped at :data:`MAX_TURNS_PER_MIN` (tanh), frame by frame, so net turning
  never exceeds it and a part of a song turns as the whole song does there.
- Travel: the floor velocity is split into the same slow part and the sway;
  the slow part is scaled by ``travel``. Where the path would leave the stage
  it is pulled back by a smooth correction (no pops), repeated until inside.

bpy-free, numpy only; positions in metres, z up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ChoreoInputError
from ..metrics.physical import heading
from ..motion import Motion
from ..signal import gaussian_filter1d

SLOW_TURN_S = 1.5
SLOW_TRAVEL_S = 1.0
MAX_TURNS_PER_MIN = 4.0
#: Margin (m) kept between the pelvis path and the stage's edge (the body's reach).
EDGE_M = 0.4


@dataclass(frozen=True)
class StagePlan:
    """The choreographer's choices: ``turn`` and ``travel`` in [0, 1] (fraction of
    the generated sustained turning / travel kept), ``stage_m`` the side of the
    square stage (m) around the start, 1–50."""

    turn: float = 0.5
    travel: float = 0.5
    stage_m: float = 4.0

    def checked(self) -> "StagePlan":
        for name, v, lo, hi in (("turn", self.turn, 0.0, 1.0), ("travel", self.travel, 0.0, 1.0),
                                ("stage", self.stage_m, 1.0, 50.0)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (lo <= float(v) <= hi):
                raise ChoreoInputError(name, f"{v!r} is out of range ({lo:g}–{hi:g})")
        return StagePlan(float(self.turn), float(self.travel), float(self.stage_m))


def _rot(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)  # (T, 2, 2)


def stage_dance(motion: Motion, plan: StagePlan = StagePlan()) -> Motion:
    """``motion`` with its sustained turning and travel scaled and its path on the stage."""
    plan = plan.checked()
    j = motion.joints.copy()  # float32: a 30-min dance is 16 MB a copy
    T = len(j)
    if T < 3:
        return motion
    fps = motion.fps
    h = heading(motion)
    slow = gaussian_filter1d(h, SLOW_TURN_S * fps, mode="nearest")
    # sustained turning rate, scaled and softly capped frame by frame (a part of a song
    # is turned as the whole song is there)
    rate = np.diff(slow) * fps
    cap = MAX_TURNS_PER_MIN * 2 * np.pi / 60.0
    kept = cap * np.tanh(plan.turn * rate / cap)
    delta = np.concatenate([[0.0], np.cumsum(kept - rate) / fps])  # rotation added to each frame (about z)
    R = _rot(delta).astype(np.float32)
    root = j[:, 0, :2].copy()
    body = j[:, :, :2] - root[:, None]
    j[:, :, :2] = np.einsum("tij,tkj->tki", R, body)
    vel = np.einsum("tij,tj->ti", R[1:], np.diff(root, axis=0))   # travel turns with the body
    vel -= (1.0 - plan.travel) * gaussian_filter1d(vel, SLOW_TRAVEL_S * fps, axis=0, mode="nearest")
    path = root[0] + np.concatenate([np.zeros((1, 2)), np.cumsum(vel, axis=0)])
    path = keep_on_stage(path, plan.stage_m, fps, centre=root[0])
    j[:, :, :2] += path[:, None]
    return Motion(j, fps, motion.joint_names)


def keep_on_stage(path: np.ndarray, stage_m: float, fps: float, centre=None) -> np.ndarray:
    """(T, 2) ``path`` pulled back, smoothly, inside the square of side ``stage_m``
    (less :data:`EDGE_M`) centred on ``centre`` (default the path's start)."""
    p = np.asarray(path, np.float64).copy()
    c = p[0] if centre is None else np.asarray(centre, np.float64)
    half = max(stage_m / 2.0 - EDGE_M, 0.05)
    for _ in range(50):
        excess = (p - c) - np.clip(p - c, -half, half)
        if np.abs(excess).max() < 1e-3:
            break
        # a correction that reaches a little before and after the excursion, so no step
        p -= 1.5 * gaussian_filter1d(excess, 0.5 * fps, axis=0, mode="nearest")
    return c + np.clip(p - c, -half - 0.01, half + 0.01)
