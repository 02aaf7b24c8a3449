"""Is the dancer a body on a floor? Feet, limbs, turning and travel of one dance.

Per-dance figures (SMPL-24 joints, metres, z up, any fps), each a plain
function of the joints, so generated dances, ground truth and real takes are
measured alike (:func:`physical_scores`). Units are in the names: ``_frac``
fractions of frames, ``_cm_s`` cm/s, ``_per_min`` per minute of dance.

- A foot's height is its sole's: the lower of its toe joint and its heel,
  :data:`HEEL_M` under the ankle joint; the floor is the 5th percentile of the
  lower sole over the dance.
- A foot *touches* the floor below :data:`TOUCH_M`; both feet *up* means both
  at least :data:`UP_M` above it. A dancer in the air whose pelvis is not
  raised (less than :data:`RISE_M` above its standing height, the median over
  frames with a foot down) is *floating*: a real jump lifts the pelvis.
- *Slide*: horizontal speed of a touching foot's lower joint.
- Limbs *pass through* each other when the centre lines of the shins or of
  the thighs come closer than :data:`THROUGH_M` (two legs of ≈5 cm radius
  would overlap by over 5 cm); an arm passes through the body when a forearm's
  centre line comes within :data:`TORSO_M` of the spine's (pelvis → neck).
- Heading: the normal of the hip + shoulder lines; *net turns* per minute =
  |unwrapped heading change| / 2π over the dance; travel = the pelvis's floor
  path (smoothed over 0.5 s), and *wander* its furthest distance from the mean position.
"""

from __future__ import annotations

import numpy as np

from .. import skeleton as sk
from ..motion import Motion
from ..signal import gaussian_filter1d

J = sk.JOINT_INDEX
TOUCH_M = 0.03
UP_M = 0.05
RISE_M = 0.05
THROUGH_M = 0.04
TORSO_M = 0.06
#: How far the ankle joint sits above the sole under the heel when the foot is flat
#: (the SMPL template and the CMU dancers: 6–8 cm).
HEEL_M = 0.06
#: Stage the default clean-up keeps a dancer in (metres, square, centred on the start).
STAGE_M = 4.0


def sole_heights(joints: np.ndarray) -> np.ndarray:
    """(T, 2) height of the left and right sole: the lower of the toe joint and the heel,
    :data:`HEEL_M` under the ankle joint (an ankle joint on the floor is a heel in it)."""
    j = np.asarray(joints)
    return np.stack([np.minimum(j[:, J[f"{s}_foot"], 2], j[:, J[f"{s}_ankle"], 2] - HEEL_M) for s in "lr"], 1)


def foot_heights(motion: Motion) -> np.ndarray:
    """(T, 2) height of each sole above the floor (m); the floor is the 5th percentile
    of the lower sole over the dance."""
    h = sole_heights(motion.joints.astype(np.float64))
    return h - np.percentile(h.min(axis=1), 5)


def _lowest_foot_xy(motion: Motion) -> np.ndarray:
    """(T, 2, 2) floor position of each foot's lower joint."""
    j = motion.joints.astype(np.float64)
    out = []
    for s in "lr":
        a, f = j[:, J[f"{s}_ankle"]], j[:, J[f"{s}_foot"]]
        out.append(np.where((a[:, 2] < f[:, 2])[:, None], a[:, :2], f[:, :2]))
    return np.stack(out, 1)


def _runs(mask: np.ndarray) -> np.ndarray:
    """Lengths of the True runs of a boolean array."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    e = np.flatnonzero(m[1:] != m[:-1])
    return e[1::2] - e[::2]


def feet_scores(motion: Motion) -> dict[str, float]:
    """Contact, floating, slide and floor penetration figures of one dance."""
    h = foot_heights(motion)
    touch = h < TOUCH_M
    up = np.all(h >= UP_M, axis=1)
    pelvis = motion.joints[:, 0, 2].astype(np.float64)
    down = touch.any(1)
    stand = float(np.median(pelvis[down])) if down.any() else float(np.median(pelvis))
    floating = up & (pelvis < stand + RISE_M)
    fps = motion.fps
    xy = _lowest_foot_xy(motion)
    v = np.linalg.norm(np.gradient(xy, axis=0), axis=-1) * fps if len(xy) > 1 else np.zeros(h.shape)
    slide = v[touch] * 100.0
    soles = sole_heights(motion.joints.astype(np.float64))
    floor = np.percentile(soles.min(1), 5)
    low = np.minimum(motion.joints[:, :, 2].min(1), soles.min(1)) - floor  # a joint or a heel
    runs = _runs(floating)
    return {"touch_frac": float(down.mean()),
            "both_up_frac": float(up.mean()),
            "float_frac": float(floating.mean()),
            "longest_float_s": float(runs.max() / fps) if len(runs) else 0.0,
            "slide_cm_s": float(slide.mean()) if slide.size else 0.0,
            "slide_p90_cm_s": float(np.percentile(slide, 90)) if slide.size else 0.0,
            "below_floor_frac": float(np.mean(low < -0.01))}


def closest_points(p1: np.ndarray, q1: np.ndarray, p2: np.ndarray, q2: np.ndarray):
    """Closest points (c1, c2) of segments p1–q1 and p2–q2, (…, 3) each."""
    d1, d2, r = q1 - p1, q2 - p2, p1 - p2
    a, e = np.sum(d1 * d1, -1), np.sum(d2 * d2, -1)
    b, c, f = np.sum(d1 * d2, -1), np.sum(d1 * r, -1), np.sum(d2 * r, -1)
    den = a * e - b * b
    s = np.where(den > 1e-12, np.clip((b * f - c * e) / np.maximum(den, 1e-12), 0, 1), 0.0)
    t = (b * s + f) / np.maximum(e, 1e-12)
    t_c = np.clip(t, 0, 1)  # t outside the segment: clamp it and redo s for it
    s = np.where(t != t_c, np.clip((b * t_c - c) / np.maximum(a, 1e-12), 0, 1), s)
    return p1 + d1 * s[..., None], p2 + d2 * t_c[..., None]


def segment_distance(p1: np.ndarray, q1: np.ndarray, p2: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """Closest distance between segments p1–q1 and p2–q2, (…, 3) each → (…)."""
    c1, c2 = closest_points(p1, q1, p2, q2)
    return np.linalg.norm(c1 - c2, axis=-1)


def leg_gap(joints: np.ndarray) -> np.ndarray:
    """(T,) closest distance between the two shins' or the two thighs' centre lines (m)."""
    j = np.asarray(joints, np.float64)
    g = lambda n: j[:, J[n]]  # noqa: E731
    shins = segment_distance(g("l_knee"), g("l_ankle"), g("r_knee"), g("r_ankle"))
    thighs = segment_distance(g("l_hip"), g("l_knee"), g("r_hip"), g("r_knee"))
    return np.minimum(shins, thighs)


def limb_scores(motion: Motion) -> dict[str, float]:
    """Fractions of frames where the legs pass through each other or a forearm through the torso."""
    j = motion.joints.astype(np.float64)
    g = lambda n: j[:, J[n]]  # noqa: E731
    arm = np.minimum(*(segment_distance(g(f"{s}_elbow"), g(f"{s}_wrist"), g("pelvis"), g("neck")) for s in "lr"))
    return {"legs_through_frac": float(np.mean(leg_gap(j) < THROUGH_M)),
            "arm_through_body_frac": float(np.mean(arm < TORSO_M))}


def heading(motion: Motion) -> np.ndarray:
    """(T,) unwrapped heading (radians about z) of the dancer's forward direction."""
    j = motion.joints
    g = lambda n: j[:, J[n]].astype(np.float64)  # noqa: E731  (4 joints, not a float64 copy of all)
    left = g("l_hip") - g("r_hip") + g("l_shoulder") - g("r_shoulder")
    fwd = np.cross(left, [0.0, 0.0, 1.0])
    return np.unwrap(np.arctan2(fwd[:, 1], fwd[:, 0]))


def floor_path(motion: Motion, sigma_s: float = 0.5) -> np.ndarray:
    """(T, 2) pelvis floor position, smoothed over ``sigma_s`` (sway is not travel)."""
    p = motion.joints[:, 0, :2].astype(np.float64)
    return gaussian_filter1d(p, sigma_s * motion.fps, axis=0, mode="nearest") if len(p) > 1 else p


def travel_scores(motion: Motion) -> dict[str, float]:
    """Net turning and travel per minute, and how far the dancer wanders."""
    minutes = max(motion.duration / 60.0, 1e-9)
    h = heading(motion)
    p = floor_path(motion)
    centred = p - p.mean(0)
    return {"net_turns_per_min": float(abs(h[-1] - h[0]) / (2 * np.pi) / minutes),
            "travel_m_per_min": float(np.sum(np.linalg.norm(np.diff(p, axis=0), axis=-1)) / minutes),
            "wander_m": float(np.max(np.abs(p - p[0]))) if len(p) else 0.0,
            "spread_m": float(np.max(np.linalg.norm(centred, axis=-1))) if len(p) else 0.0}


def physical_scores(motion: Motion) -> dict[str, float]:
    """Every per-dance figure of this module (see the module docstring)."""
    return {**feet_scores(motion), **limb_scores(motion), **travel_scores(motion)}


#: name -> (direction, description); ≈ means "closer to real dance is better".
PHYSICAL_METRICS = {
    "touch_frac": ("≈", "frames with a foot on the floor (< 3 cm)"),
    "both_up_frac": ("≈", "frames with both feet ≥ 5 cm up"),
    "float_frac": ("↓", "both feet up without the pelvis rising ≥ 5 cm (floating)"),
    "longest_float_s": ("↓", "longest floating stretch (s)"),
    "slide_cm_s": ("↓", "mean horizontal speed of a foot on the floor (cm/s)"),
    "slide_p90_cm_s": ("↓", "90th percentile of that speed (cm/s)"),
    "below_floor_frac": ("↓", "frames with a joint or a heel > 1 cm below the floor"),
    "legs_through_frac": ("↓", "frames with the shins or thighs passing through each other"),
    "arm_through_body_frac": ("↓", "frames with a forearm through the torso"),
    "net_turns_per_min": ("≈", "net turns per minute (real 1–4)"),
    "travel_m_per_min": ("≈", "pelvis floor path per minute (m)"),
    "wander_m": ("↓", "furthest x or y distance from the start (m)"),
    "spread_m": ("≈", "furthest distance from the mean position (m)"),
}
