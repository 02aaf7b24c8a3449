"""Bone groups an animator thinks in: left arm, right arm, legs, spine & head,
root/travel.

One place for the grouping, keyed by the canonical SMPL-24 joint names of
:mod:`choreo.core.skeleton`: the key report (:mod:`.keys`, :mod:`.keyposes`)
gives the remaining error per group, and locks use the same groups. bpy-free.

The root group is the pelvis: its location (travel across the floor) and its
rotation (facing, the whole body's tilt); ``legs`` start at the hips, the arms
at the collars, ``spine_head`` is spine1–3, neck and head.
"""

from __future__ import annotations

import numpy as np

from ..core import skeleton as sk

BONE_GROUPS: dict[str, tuple[str, ...]] = {
    "left_arm": ("l_collar", "l_shoulder", "l_elbow", "l_wrist", "l_hand"),
    "right_arm": ("r_collar", "r_shoulder", "r_elbow", "r_wrist", "r_hand"),
    "legs": ("l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle", "l_foot", "r_foot"),
    "spine_head": ("spine1", "spine2", "spine3", "neck", "head"),
    "root": ("pelvis",),
}
#: Display names, in :data:`BONE_GROUPS` order.
GROUP_LABELS: dict[str, str] = {"left_arm": "Left arm", "right_arm": "Right arm", "legs": "Legs",
                                "spine_head": "Spine & head", "root": "Root / travel"}
#: SMPL joint name → its group.
JOINT_GROUP: dict[str, str] = {j: g for g, joints in BONE_GROUPS.items() for j in joints}
ROOT = "root"

assert sorted(JOINT_GROUP) == sorted(sk.JOINT_NAMES), "every SMPL joint is in exactly one group"


def joint_groups(anim) -> list[str]:
    """Group of each of ``anim.joint_names`` (a :class:`~.animation.RigAnimation`'s
    mapped joints; unknown names fall in ``spine_head``)."""
    return [JOINT_GROUP.get(j, "spine_head") for j in anim.joint_names]


def bone_group(anim, bone: str) -> str:
    """Group of rig bone ``bone``: the group of the joint whose bone it is
    (``anim.joint_bones``, head joints before tail joints); a bone that carries
    no joint (a twist or in-between bone) takes the group of its nearest mapped
    ancestor, else ``spine_head``."""
    at_tail = list(anim.joint_at_tail) or [False] * len(anim.joint_bones)
    carried = {}
    for j, b, tail in sorted(zip(anim.joint_names, anim.joint_bones, at_tail), key=lambda x: x[2]):
        carried.setdefault(b, j)
    skel = anim.skeleton
    i = skel.index(bone) if bone in skel.names else -1
    while i >= 0:
        name = skel.names[i]
        if name in carried:
            return JOINT_GROUP.get(carried[name], "spine_head")
        i = int(skel.parents[i])
    return "spine_head"


def channel_groups(anim) -> list[str]:
    """Group of every channel :mod:`.keys` writes, in its order: 4 quaternion
    channels per ``anim.bone_names`` bone, then the 3 root-location channels
    (always :data:`ROOT`: travel)."""
    out = []
    for b in anim.bone_names:
        out += [bone_group(anim, b)] * 4
    return out + [ROOT] * 3


def group_errors(err: np.ndarray, groups: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    """Per-group ``(max, mean)`` of joint errors ``err`` (F, J) in metres, for
    joints whose groups are ``groups`` (J,); groups without joints are left out.
    Keys in :data:`BONE_GROUPS` order."""
    err = np.asarray(err, np.float64)
    gmax, gmean = {}, {}
    for g in BONE_GROUPS:
        cols = [j for j, name in enumerate(groups) if name == g]
        if cols and err.size:
            gmax[g] = float(err[:, cols].max())
            gmean[g] = float(err[:, cols].mean())
    return gmax, gmean


#: Groups that can be locked for a regeneration (``root``: where the dancer is and faces).
LOCK_GROUPS = tuple(BONE_GROUPS)


def lock_closure(groups) -> set[str]:
    """The groups actually kept when ``groups`` are locked: the legs stand on the floor
    only under the hips they stepped with, so locking ``legs`` keeps ``root`` too (new
    hips over kept legs would drag the planted feet across the floor)."""
    groups = set(groups)
    unknown = sorted(groups - set(BONE_GROUPS))
    if unknown:
        from ..core.errors import ChoreoInputError

        raise ChoreoInputError("Locks", f"unknown bone group(s) {unknown}; choose from {list(BONE_GROUPS)}")
    if "legs" in groups:
        groups.add(ROOT)
    return groups


def locked_channels(anim, groups) -> tuple[list[str], bool]:
    """``(bones, travel)``: the rig bones of ``anim`` whose rotation keys are kept and
    whether the root's location keys are, for locked ``groups`` (see :func:`lock_closure`)."""
    groups = lock_closure(groups)
    bones = [b for b in anim.bone_names if bone_group(anim, b) in groups]
    return bones, ROOT in groups
