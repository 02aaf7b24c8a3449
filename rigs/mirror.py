"""A dance mirrored left for right on the rig's own bones (bpy-free).

Each mapped bone's pose is read as its *turn from rest* in armature space,
``D = R · R_rest⁻¹``; the mirror image of that turn, ``S · D · S`` (``S`` the
reflection through the rig's sagittal plane), is given to the bone's partner
(``l_elbow``'s turn goes to ``r_elbow``; spine, neck and head keep theirs), and
the rotations are solved back down the chain into ``matrix_basis`` quaternions.
Working with turns from rest, not bone axes, makes it independent of how the
rig's bones are rolled, as long as the rest pose itself is symmetric (a T- or
A-pose). The root's location mirrors through the same plane about its rest head,
so travel to the left becomes travel to the right.
"""

from __future__ import annotations

import numpy as np

from ..core.rotations import continuous_quats, matrix_to_quat
from .animation import RigAnimation


def side_axis(anim: RigAnimation) -> np.ndarray:
    """Unit armature-space vector from the rig's right to its left, from the rest heads of
    the hips (else the shoulders)."""
    skel, J = anim.skeleton, dict(zip(anim.joint_names, anim.joint_bones))
    for left, right in (("l_hip", "r_hip"), ("l_shoulder", "r_shoulder"), ("l_collar", "r_collar")):
        if left in J and right in J:
            v = skel.rest[skel.index(J[left]), :3, 3] - skel.rest[skel.index(J[right]), :3, 3]
            if np.linalg.norm(v) > 1e-9:
                return v / np.linalg.norm(v)
    from ..core.errors import ChoreoInputError

    raise ChoreoInputError(anim.armature, "has no mapped left/right hips or shoulders to mirror across")


def partners(anim: RigAnimation) -> list[int]:
    """For each of ``anim.bone_names``, the index of its mirror partner (itself in the middle)."""
    joint_of = dict(zip(anim.joint_bones, anim.joint_names))
    bone_of = dict(zip(anim.joint_names, anim.joint_bones))
    out = []
    for k, b in enumerate(anim.bone_names):
        j = joint_of.get(b, "")
        m = ("r_" + j[2:]) if j.startswith("l_") else ("l_" + j[2:]) if j.startswith("r_") else j
        out.append(anim.bone_names.index(bone_of[m]) if bone_of.get(m) in anim.bone_names else k)
    return out


def mirror_channels(anim: RigAnimation, rot: np.ndarray, loc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(rot, loc)`` (F, B, 4), (F, 3) of ``anim``'s bones mirrored left for right."""
    skel = anim.skeleton
    rot, loc = np.asarray(rot, np.float64), np.asarray(loc, np.float64)
    F, N = len(rot), len(skel.names)
    n = side_axis(anim)
    S = np.eye(3) - 2.0 * np.outer(n, n)
    basis = anim.basis_matrices(rot, loc)
    R, t = skel.pose_transforms(basis[..., :3, :3], basis[..., :3, 3])
    rest = skel.rest[:, :3, :3]
    rel = skel._relative_rest()
    index = [skel.index(b) for b in anim.bone_names]
    mirrored = {}
    for k, m in enumerate(partners(anim)):   # the partner's turn from rest, reflected
        D = R[:, index[k]] @ rest[index[k]].T
        mirrored[index[m]] = S @ D @ S @ rest[index[m]]
    R2 = np.zeros_like(R)
    new_rot = np.empty_like(rot)
    for b in range(N):   # parents first: each bone's basis under its mirrored parent
        p = int(skel.parents[b])
        parent = np.broadcast_to(np.eye(3), (F, 3, 3)) if p < 0 else R2[:, p]
        carried = parent @ rel[b, :3, :3]
        if b in mirrored:
            R2[:, b] = mirrored[b]
            k = index.index(b)
            new_rot[:, k] = matrix_to_quat(np.swapaxes(carried, -1, -2) @ mirrored[b])
        else:
            R2[:, b] = carried   # an unkeyed bone rides along at rest
    r = skel.index(anim.root_bone)
    p = int(skel.parents[r])
    c = skel.rest[r, :3, 3]
    head = c + (t[:, r] - c) @ S.T
    if p >= 0:   # the root's parent is not keyed: its pose is the same in both dances
        local = np.einsum("tji,tj->ti", R[:, p], head - t[:, p])
    else:
        local = head
    CR, Ct = rel[r, :3, :3], rel[r, :3, 3]
    new_loc = (local - Ct) @ CR
    return continuous_quats(new_rot), new_loc
