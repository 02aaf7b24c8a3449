"""New legs under kept hips, with the feet standing still.

When a regeneration keeps the hips' path (the *Travel* lock) but dances new legs,
the new legs hang from hips that move as the old dance did, so a foot the new
dance plants would drag across the floor. :func:`replant_legs` finds where the
new dance's own feet stand (:func:`~choreo.core.cleanup.contacts.contact_frames`
on the new dance under its own hips, in world axes), holds each foot there under
the kept hips (eased in and out over a few frames) and turns the thigh, shin and foot bones to reach it — two-bone IK
towards the ankle with the knee bending the way it did, the foot aimed at its
held toe. bpy-free; only the leg bones' rotations change.
"""

from __future__ import annotations

import numpy as np

from ..core.cleanup.contacts import contact_frames, contact_weights, two_bone_ik
from ..core.metrics.physical import HEEL_M
from ..core.rotations import matrix_to_quat, quat_to_matrix, rotation_between
from .animation import RigAnimation

_PARTS = ("hip", "knee", "ankle", "foot")


def _chain(anim: RigAnimation, side: str):
    """(joint indices hip, knee, ankle, toe; bone indices into ``anim.bone_names`` of the
    thigh, shin and foot), or None when the rig lacks a part of the leg."""
    names = list(anim.joint_names)
    if any(f"{side}_{p}" not in names for p in _PARTS):
        return None
    joints = [names.index(f"{side}_{p}") for p in _PARTS]
    at_tail = list(anim.joint_at_tail) or [False] * len(names)
    if any(at_tail[j] for j in joints[:3]):
        return None
    bones = [anim.joint_bones[j] for j in joints[:3]]
    if any(b not in anim.bone_names for b in bones) or len(set(bones)) < 3:
        return None
    return joints, [anim.bone_names.index(b) for b in bones]


def replant_legs(anim: RigAnimation, rot: np.ndarray, loc: np.ndarray, source: tuple[np.ndarray, np.ndarray],
                 to_world: np.ndarray, fps: float, *, seams: tuple[bool, bool] = (False, False)) -> np.ndarray:
    """Rotations ``rot`` (F, B, 4) with each leg turned so its foot stands still wherever
    the ``source`` dance's (``(rot, loc)``, the same bones) foot stands.

    ``loc`` (F, 3) is the root location the legs now hang from; ``to_world`` (3, 3) turns
    armature axes into world axes (z up); ``fps`` is the frame rate of the samples.
    ``seams``: the first / last sample continues a kept dance, so a foot standing there
    stays where it stands on that sample (not at its contact's mean).
    """
    rot = np.array(rot, np.float64)
    M = np.asarray(to_world, np.float64)
    src = anim.joint_positions(*source) @ M.T
    floor = _floor(anim, src)
    for side in ("l", "r"):
        chain = _chain(anim, side)
        if chain is None:
            continue
        (hip, knee, ankle, toe), (kt, ks, kf) = chain
        P = anim.joint_positions(rot, loc)
        contact = contact_frames(src[:, ankle], fps) | contact_frames((P @ M.T)[:, ankle], fps)
        if not contact.any():
            continue
        goal, toe_goal, move = _held_feet(P @ M.T, src, contact, (hip, knee, ankle, toe), seams)
        if floor is not None:   # no sole under the new dance's floor (a seam's fade can tilt a toe into it)
            low = np.minimum(goal[:, 2] - HEEL_M, toe_goal[:, 2]) < floor - 1e-4
            goal[:, 2] = np.maximum(goal[:, 2], floor + HEEL_M)
            toe_goal[:, 2] = np.maximum(toe_goal[:, 2], floor)
            move = move | low
        inv = np.linalg.inv(M).T
        goal, toe_goal = goal @ inv, toe_goal @ inv
        if not move.any():
            continue
        H, K0, A0, T0 = (P[move, j] for j in (hip, knee, ankle, toe))
        G, TG = goal[move], toe_goal[move]
        l1 = np.linalg.norm(K0 - H, axis=-1).mean()
        l2 = np.linalg.norm(A0 - K0, axis=-1).mean()
        K = two_bone_ik(H, G, l1, l2, K0 - H)
        d1 = rotation_between(K0 - H, K - H)                    # the thigh, about the hip
        A1 = H + np.einsum("tij,tj->ti", d1, A0 - H)
        d2 = rotation_between(A1 - K, G - K)                    # the shin, about the knee
        d21 = d2 @ d1
        T1 = G + np.einsum("tij,tj->ti", d21, T0 - A0)
        d3 = rotation_between(T1 - G, TG - G)                   # the foot, aimed at its held toe
        R = _armature_rotations(anim, rot[move], loc[move])
        for k, turn, carried in ((kt, d1, None), (ks, d2, d1), (kf, d3, d21)):
            b = anim.skeleton.index(anim.bone_names[k])
            basis = quat_to_matrix(rot[move, k])
            C = R[:, b] @ np.swapaxes(basis, -1, -2)            # parent ∘ rest: pose = C · basis
            if carried is not None:                              # the parent has turned already
                C = carried @ C
                full = turn @ carried @ R[:, b]
            else:
                full = turn @ R[:, b]
            q = matrix_to_quat(np.swapaxes(C, -1, -2) @ full)
            q *= np.where(np.sum(q * rot[move, k], -1, keepdims=True) < 0, -1.0, 1.0)
            rot[move, k] = q
    return rot


def _held_feet(P: np.ndarray, src: np.ndarray, contact: np.ndarray, joints, seams=(False, False)) -> tuple:
    """(ankle goal (T, 3), toe goal (T, 3), moved (T,) bool) in world axes: during each contact
    the foot stands on the new dance's floor height (``src``) where the legs, hanging from the
    hips of ``P``, can hold it all through the contact (where it is on a seam's frame, for a
    contact running through a seam); eased in and out over a few frames (``contact_weights``;
    carrying the change across the gaps between contacts drags low swinging feet more: measured)."""
    hip, knee, ankle, toe = joints
    leg = 0.98 * float(np.median(np.linalg.norm(P[:, knee] - P[:, hip], axis=-1)
                                 + np.linalg.norm(P[:, ankle] - P[:, knee], axis=-1)))
    w, seg = contact_weights(contact)
    goal, toe_goal = P[:, ankle].copy(), P[:, toe].copy()
    for k in np.unique(seg[seg >= 0]):
        run = np.flatnonzero((seg == k) & contact)
        at_seam = run[0] if seams[0] and run[0] == 0 else run[-1] if seams[1] and run[-1] == len(P) - 1 else None
        if at_seam is not None:
            a, t = P[at_seam, ankle].copy(), P[at_seam, toe].copy()
        else:
            H = P[run, hip]
            a = np.append(P[run, ankle, :2].mean(0), np.median(src[run, ankle, 2]))
            to_hips = np.append(H[:, :2].mean(0) - a[:2], 0.0)
            for frac in np.linspace(0.0, 1.0, 11):   # the nearest spot every hip position reaches
                if np.linalg.norm(a + frac * to_hips - H, axis=-1).max() <= leg:
                    break
            a = a + frac * to_hips
            t = np.append(a[:2] + (P[run, toe, :2] - P[run, ankle, :2]).mean(0), np.median(src[run, toe, 2]))
        sel = seg == k
        goal[sel] += w[sel, None] * (a - goal[sel])
        toe_goal[sel] += w[sel, None] * (t - toe_goal[sel])
    return goal, toe_goal, w > 0


def _floor(anim: RigAnimation, src: np.ndarray) -> float | None:
    """World height of the ``src`` dance's floor: the 5th percentile of its lower sole (the
    toe, or the heel :data:`~choreo.core.metrics.physical.HEEL_M` under the ankle)."""
    soles = []
    for side in ("l", "r"):
        chain = _chain(anim, side)
        if chain is not None:
            (_, _, ankle, toe), _ = chain
            soles.append(np.minimum(src[:, ankle, 2] - HEEL_M, src[:, toe, 2]))
    return float(np.percentile(np.min(soles, axis=0), 5)) if soles else None


def _armature_rotations(anim: RigAnimation, rot: np.ndarray, loc: np.ndarray) -> np.ndarray:
    """(F, N, 3, 3) armature-space rotations of every skeleton bone."""
    basis = anim.basis_matrices(rot, loc)
    R, _ = anim.skeleton.pose_transforms(basis[..., :3, :3], basis[..., :3, 3])
    return R
