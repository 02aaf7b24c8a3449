"""A dancer who stands on the floor: grounded, legs apart, planted feet.

Three steps on joint positions (SMPL-24, metres, z up, floor z = 0), in the
order :func:`ground_dance` runs them:

1. :func:`separate_legs`: where the shins or thighs come closer than
   :data:`LEG_GAP_M` (centre lines; the legs would pass through each other),
   the knees, ankles and feet are pushed apart along the line between the
   closest points, smoothly in time, and the knees re-solved so every bone
   keeps its length.
2. :func:`ground`: where the lower foot is off the floor and the pelvis is not
   raised as in a jump (:data:`~choreo.core.metrics.physical.RISE_M` above its
   standing height), the whole body comes down until that foot's sole (toe
   joint, or the heel :data:`HEEL_M` under the ankle) touches; a sole below the
   floor lifts the body. Jumps keep their flight.
3. :func:`plant_feet`: a foot that is low and slow (contacts of
   :func:`.contacts.foot_contacts`, measured on its lower joint) is held at its
   average position over the contact, easing in and out, and the knee is
   re-solved by two-bone IK from the hip, pole from the generated knee.
4. :func:`separate_legs` once more (the IK of step 3 can bring the knees
   together), moving the free leg where one foot is planted, then
   :func:`swivel_knees`: what is still too close parts by turning the knees
   outwards about each hip → ankle line, the feet staying where they are.

numpy only (runs in a stock Blender); every family's dance goes through it.
"""

from __future__ import annotations

import numpy as np

from .. import skeleton as sk
from ..motion import Motion
from ..signal import gaussian_filter1d
from ..metrics.physical import HEEL_M, sole_heights
from . import contacts as ct

J = sk.JOINT_INDEX
LEG_GAP_M = 0.10
#: Contacts: lower foot joint within this height (m) and slower than this (m/s) to start one.
CONTACT_HEIGHT_M = 0.03
CONTACT_SPEED_M_S = 1.5
#: A foot faster than this outside a contact swings at least SWING_M clear of the floor.
SWING_SPEED_M_S = 0.5
SWING_M = 0.06
#: Frames a planted foot eases in and out over.
BLEND_FRAMES = 4


def _leg(side: str) -> tuple[int, int, int, int]:
    return J[f"{side}_hip"], J[f"{side}_knee"], J[f"{side}_ankle"], J[f"{side}_foot"]


def sole_height(j: np.ndarray, side: str) -> np.ndarray:
    """(T,) height of ``side``'s sole (:func:`~choreo.core.metrics.physical.sole_heights`)."""
    return sole_heights(j)[:, "lr".index(side)]


def _lengths(j: np.ndarray, side: str) -> tuple[float, float]:
    h, k, a, _ = _leg(side)
    return (float(np.median(np.linalg.norm(j[:, k] - j[:, h], axis=-1))),
            float(np.median(np.linalg.norm(j[:, a] - j[:, k], axis=-1))))


#: How far (m) the knee's bend side leans towards the toes: on a nearly straight leg the
#: knee's own offset from the hip → ankle line is a few millimetres of noise, and a pole
#: taken from it alone flips the knee from frame to frame (knee speeds of 15 m/s).
KNEE_LEAN_M = 0.05


def knee_pole(j: np.ndarray, side: str) -> np.ndarray:
    """(T, 3) the side ``side``'s knee bends to, for two-bone IK: the knee's offset from its
    own hip → ankle line (not the line to a new goal, about which an old knee can sit on
    either side) plus :data:`KNEE_LEAN_M` towards the toes (knees bend over the feet), so a
    straight leg keeps its side."""
    h, k, a, f = _leg(side)
    line = j[:, a] - j[:, h]
    line = line / np.maximum(np.linalg.norm(line, axis=-1, keepdims=True), 1e-9)
    perp = lambda v: v - np.sum(v * line, -1, keepdims=True) * line  # noqa: E731
    toes = perp(j[:, f] - j[:, a])
    toes /= np.maximum(np.linalg.norm(toes, axis=-1, keepdims=True), 1e-9)
    return perp(j[:, k] - j[:, h]) + KNEE_LEAN_M * toes


def _resolve_knee(j: np.ndarray, side: str, ankle: np.ndarray, l1: float, l2: float) -> None:
    """Move ``side``'s ankle to ``ankle`` (T, 3), the foot with it, and the knee by
    two-bone IK (pole: :func:`knee_pole`), in place. An ankle out of reach is
    brought to the reachable point on the hip → ankle line."""
    h, k, a, f = _leg(side)
    hip = j[:, h]
    d = ankle - hip
    n = np.linalg.norm(d, axis=-1, keepdims=True)
    reach = (l1 + l2) * 0.999
    ankle = np.where(n > reach, hip + d / np.maximum(n, 1e-9) * reach, ankle)
    pole = knee_pole(j, side)
    j[:, f] += ankle - j[:, a]
    j[:, k] = ct.two_bone_ik(hip, ankle, l1, l2, pole)
    j[:, a] = ankle


def separate_legs(motion: Motion, gap_m: float = LEG_GAP_M, held: dict | None = None) -> Motion:
    """Legs that would pass through each other pushed apart (see the module docstring).
    ``held`` ({"l", "r"}: (T,) planting weights) makes a planted foot stay and the
    other leg move."""
    j = motion.joints.copy()  # float32: a 30-min dance is 16 MB a copy
    need, u = _leg_gap_need(j, gap_m)
    push = need[:, None] * u
    if not np.any(push):
        return motion
    # spread over neighbouring frames (no pop), never weaker than needed where it is needed
    push = gaussian_filter1d(push, 0.05 * motion.fps, axis=0, mode="nearest") * 1.3
    l1l, l2l = _lengths(j, "l")
    l1r, l2r = _lengths(j, "r")
    share = np.full(len(j), 0.5)
    if held is not None:  # the free leg moves; both planted (or both free): half each
        fl, fr = 1.0 - held["l"], 1.0 - held["r"]
        share = np.where(fl + fr > 1e-6, fl / np.maximum(fl + fr, 1e-6), 0.5)
    _resolve_knee(j, "l", j[:, _leg("l")[2]] + share[:, None] * push, l1l, l2l)
    _resolve_knee(j, "r", j[:, _leg("r")[2]] - (1.0 - share)[:, None] * push, l1r, l2r)
    return Motion(j, motion.fps, motion.joint_names)


def _leg_gap_need(j: np.ndarray, gap_m: float) -> tuple[np.ndarray, np.ndarray]:
    """((T,) how much closer than ``gap_m`` the shins or thighs come, (T, 3) the floor-plane
    direction from the right leg to the left there: between their closest points, or the
    ankles' own left-right where those points meet)."""
    from ..metrics.physical import closest_points

    unit = lambda v: v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)  # noqa: E731
    lh, lk, la, _ = _leg("l")
    rh, rk, ra, _ = _leg("r")
    side = j[:, la] - j[:, ra]
    side[:, 2] = 0.0
    need, u = np.zeros(len(j)), np.zeros((len(j), 3))
    for (p1, q1, p2, q2) in ((lk, la, rk, ra), (lh, lk, rh, rk)):
        c1, c2 = closest_points(j[:, p1], j[:, q1], j[:, p2], j[:, q2])
        v = c1 - c2
        v[:, 2] = 0.0                                  # apart on the floor plane, heights kept
        d = np.clip(gap_m - np.linalg.norm(c1 - c2, axis=-1), 0.0, None)
        more = d > need
        need = np.where(more, d, need)
        along = np.where(np.linalg.norm(v, axis=-1, keepdims=True) > 1e-4, unit(v), unit(side))
        u = np.where(more[:, None], along, u)
    return need, u


def swivel_knees(motion: Motion, gap_m: float = LEG_GAP_M, strength: float = 3.0) -> Motion:
    """Knees turned outwards about each hip → ankle line where the legs come closer than
    ``gap_m``: the legs part without the feet moving (planted feet stay planted)."""
    j = motion.joints.copy()
    need, u = _leg_gap_need(j, gap_m)
    if not need.any():
        return motion
    # the push's direction smoothed in time (the closest points' direction can turn round in
    # a frame where the legs cross, and the knees must not swing with it), its amount in full
    push = gaussian_filter1d(need[:, None] * u, 0.05 * motion.fps, axis=0, mode="nearest")
    push *= (gaussian_filter1d(need, 0.05 * motion.fps, mode="nearest") * 1.3
             / np.maximum(np.linalg.norm(push, axis=-1), 1e-9))[:, None]
    for s, sign in (("l", 1.0), ("r", -1.0)):
        h, k, a, _ = _leg(s)
        axis = j[:, a] - j[:, h]
        axis /= np.maximum(np.linalg.norm(axis, axis=-1, keepdims=True), 1e-9)
        perp = lambda v: v - np.sum(v * axis, -1, keepdims=True) * axis  # noqa: E731
        pole = knee_pole(j, s)
        pole /= np.maximum(np.linalg.norm(pole, axis=-1, keepdims=True), 1e-9)
        pole += strength / gap_m * perp(sign * push)
        j[:, k] = ct.two_bone_ik(j[:, h], j[:, a], *_lengths(j, s), pole)
    return Motion(j, motion.fps, motion.joint_names)


def ground(motion: Motion) -> Motion:
    """The body brought down to the floor wherever it is not jumping (module docstring)."""
    from ..metrics.physical import RISE_M, TOUCH_M

    j = motion.joints.copy()  # float32: a 30-min dance is 16 MB a copy
    low = np.minimum(sole_height(j, "l"), sole_height(j, "r"))
    pelvis = j[:, 0, 2]
    down = low < TOUCH_M
    # standing tall: the pelvis over the lower foot when a foot is down (90th percentile);
    # flight is a pelvis raised above that, as in a jump
    stand = float(np.percentile((pelvis - low)[down] if down.any() else pelvis - low, 90))
    flight = np.clip((pelvis - stand - RISE_M) / RISE_M, 0.0, 1.0)
    flight = gaussian_filter1d(flight, 0.05 * motion.fps, mode="nearest")
    shift = -low * (1.0 - flight)
    shift = np.maximum(gaussian_filter1d(shift, 0.034 * motion.fps, mode="nearest"), -low)  # never below the floor
    j[..., 2] += shift[:, None]
    return Motion(j, motion.fps, motion.joint_names)


def plant_feet(motion: Motion) -> tuple[Motion, dict[str, np.ndarray]]:
    """(motion with feet held during contacts, planting weights ``{"l", "r"}`` in
    [0, 1], 1 on contact frames). A contact frame whose anchor the leg cannot
    reach is left out (the foot lifts there)."""
    j = motion.joints.copy()  # float32: a 30-min dance is 16 MB a copy
    contacts = {}
    for s in "lr":
        h, k, a, f = _leg(s)
        # a foot is lifted off the floor (the arcs below) only while the other one stands
        other_down = gaussian_filter1d((sole_height(j, "r" if s == "l" else "l") < CONTACT_HEIGHT_M).astype(float),
                                       0.05 * motion.fps, mode="nearest")
        low = np.where((j[:, a, 2] <= j[:, f, 2])[:, None], j[:, a], j[:, f])
        low[:, 2] = sole_height(j, s)
        c = ct.contact_frames(low, motion.fps, height_m=CONTACT_HEIGHT_M, speed_m_s=CONTACT_SPEED_M_S, floor=0.0)
        l1, l2 = _lengths(j, s)
        for _ in range(3):  # anchors move when contacts shrink: re-check
            planted, w = ct.plant(j[:, a], c)
            far = c & (np.linalg.norm(planted - j[:, h], axis=-1) > l1 + l2 + 0.01)  # 1 cm past straight
            if not far.any():
                break
            c = c & ~far
        contacts[s] = ct.contact_weights(c, BLEND_FRAMES)[0]
        toe = j[:, f] - j[:, a]
        if c.any():  # the whole foot holds still: ankle and toe at their contact means
            ankle, w = ct.plant(j[:, a], c, BLEND_FRAMES)
            held = ct.plant(j[:, f], c, BLEND_FRAMES)[0] - ankle
            held *= (np.linalg.norm(toe, axis=-1) / np.maximum(np.linalg.norm(held, axis=-1), 1e-9))[:, None]
            toe = np.where(w[:, None] > 0, held, toe)
            ankle[:, 2] -= w * np.minimum(ankle[:, 2] - HEEL_M, ankle[:, 2] + toe[:, 2])  # the sole on the floor
            # easing in and out the foot travels to or from its hold: through the air, not over the floor
            moved = np.linalg.norm(ankle[:, :2] - j[:, a, :2], axis=-1)
            ankle[:, 2] += SWING_M * 4 * w * (1 - w) * np.clip(moved / SWING_M, 0, 1) * other_down
            _resolve_knee(j, s, ankle, l1, l2)
        else:
            w = np.zeros(len(j))
        # a toe never dips into the floor: raise it, turning the foot about the ankle (length kept)
        length = np.linalg.norm(toe, axis=-1)
        toe[:, 2] = np.clip(np.maximum(toe[:, 2], -j[:, a, 2]), -length, length)
        flat = np.linalg.norm(toe[:, :2], axis=-1)
        toe[:, :2] *= (np.sqrt(np.maximum(length ** 2 - toe[:, 2] ** 2, 0.0)) / np.maximum(flat, 1e-9))[:, None]
        j[:, f] = j[:, a] + toe
        # a foot moving over the floor outside a contact is a step: it swings clear of the floor
        foot = np.stack([j[:, a], j[:, f]], 1)
        speed = np.linalg.norm(np.gradient(foot[..., :2], axis=0), axis=-1).max(1) * motion.fps
        lowest = np.minimum(foot[:, 1, 2], foot[:, 0, 2] - HEEL_M)
        lift = np.clip((speed - SWING_SPEED_M_S) / SWING_SPEED_M_S, 0, 1) * np.clip(SWING_M - lowest, 0, None)
        lift = gaussian_filter1d(lift, 0.05 * motion.fps, mode="nearest") * np.sqrt(1 - w)
        if lift.any():
            ankle = j[:, a].copy()
            ankle[:, 2] += lift
            _resolve_knee(j, s, ankle, l1, l2)
    return Motion(j, motion.fps, motion.joint_names), contacts


def ground_dance(motion: Motion) -> Motion:
    """Legs apart, body on the floor, feet planted: steps 1–3 of the module docstring,
    then the legs kept apart once more (planting moves knees), the planted feet staying."""
    planted, held = plant_feet(ground(separate_legs(motion)))
    return swivel_knees(separate_legs(planted, held=held))
