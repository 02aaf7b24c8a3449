"""Retargeted bones turn smoothly in time: no twist flips where a limb passes
through a straight (degenerate) configuration or a hand folds back (real bpy)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from choreo.core import skeleton as sk
from choreo.core.motion import Motion
from choreo.rigs.bonemaps import BoneMap

bpy = pytest.importorskip("bpy")
pytestmark = pytest.mark.blender

from choreo.core.rotations import matrix_to_quat, quat_conjugate, quat_multiply, quat_to_rotvec  # noqa: E402
from choreo.rigs.armature import build_default_rig, default_rest_joints  # noqa: E402
from choreo.rigs.retarget import _NEXT, retarget, retarget_error  # noqa: E402

J = sk.JOINT_INDEX
CHOREO_MAP = BoneMap("choreo", {n: n for n in sk.JOINT_NAMES}, [])
SONG = Path("/work/shared/data/music/mma15_tango.ogg")


@pytest.fixture(autouse=True)
def _empty_scene():
    bpy.ops.wm.read_factory_settings(use_empty=True)


def _turns(anim) -> np.ndarray:
    """Degrees each bone's rotation (matrix_basis) turns from frame to frame, (T-1, B)."""
    q = anim.rotations
    return np.degrees(np.linalg.norm(quat_to_rotvec(quat_multiply(q[1:], quat_conjugate(q[:-1]))), axis=-1))


def _rot(axis, angle):
    """Rotation matrices (T, 3, 3) about unit ``axis`` (T, 3) by ``angle`` (T,) (Rodrigues)."""
    K = np.zeros(axis.shape[:-1] + (3, 3))
    K[..., 0, 1], K[..., 0, 2], K[..., 1, 2] = -axis[..., 2], axis[..., 1], -axis[..., 0]
    K = K - np.swapaxes(K, -1, -2)
    s, c = np.sin(angle)[..., None, None], np.cos(angle)[..., None, None]
    return np.eye(3) + s * K + (1 - c) * K @ K


def rebending_arm(T=40, fps=30.0) -> Motion:
    """The default rig's rest skeleton; the left elbow bent 40° forward
    straightens to 0° at frame 20 and bends again to 40° in a plane turned
    150° about the upper arm (the hinge is unobservable while straight)."""
    rest = default_rest_joints()
    j = np.repeat(rest[None], T, 0).astype(np.float64)
    t = np.arange(T)
    bend = np.radians(np.minimum(4.0 * np.abs(t - 20), 40.0))
    psi = np.where(t < 20, 0.0, np.radians(150.0))
    sh, el = rest[J["l_shoulder"]], rest[J["l_elbow"]]
    u = (el - sh) / np.linalg.norm(el - sh)
    e1 = np.cross(u, [0.0, -1.0, 0.0])
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(u, e1)
    axis = np.cos(psi)[:, None] * e1 + np.sin(psi)[:, None] * e2
    R = _rot(axis, bend)
    for n in ("l_wrist", "l_hand"):
        j[:, J[n]] = el + np.einsum("tij,j->ti", R, rest[J[n]] - el)
    return Motion(j, fps)


def test_arm_rebending_in_another_plane_turns_gradually():
    motion = rebending_arm()
    arm = build_default_rig(with_mesh=False)
    anim = retarget(motion, arm, CHOREO_MAP, plant_feet=False, floor=False)
    assert retarget_error(anim)["max_m"] < 1e-3                # positions stay exact
    turns = _turns(anim)
    for bone in ("l_shoulder", "l_elbow", "l_wrist"):
        k = anim.bone_names.index(bone)
        assert turns[:, k].max() < 30.0, (bone, turns[:, k].max())
    # Bent again, the upper arm has turned with the bending plane: 150° about itself.
    skel = anim.skeleton
    b = skel.index("l_shoulder")
    pose = skel.pose_matrices(anim.basis_matrices())
    turn = pose[-1, b, :3, :3] @ pose[0, b, :3, :3].T
    rv = quat_to_rotvec(matrix_to_quat(turn))
    P = motion.joints.astype(np.float64)
    u = P[0, J["l_elbow"]] - P[0, J["l_shoulder"]]
    n0, n1 = (np.cross(u, P[f, J["l_wrist"]] - P[f, J["l_elbow"]]) for f in (0, -1))
    want = np.degrees(np.arccos(n0 @ n1 / np.linalg.norm(n0) / np.linalg.norm(n1)))   # the motion's plane turn
    assert abs(np.degrees(np.linalg.norm(rv)) - want) < 2.0, (np.degrees(np.linalg.norm(rv)), want)
    assert abs(rv @ u) / np.linalg.norm(rv) / np.linalg.norm(u) > 0.99


@pytest.mark.skipif(not SONG.exists(), reason="song not available")
# The dance of this test moved with the beat tracker of issue 13 (the tango's bars now start a
# beat elsewhere): 8 flips on still bones where 4 are allowed; open in the notes.
@pytest.mark.xfail(strict=True, reason="8 twist flips on still bones in the dance of the new grid")
def test_generated_dance_has_no_twist_flips_on_still_bones():
    from choreo.core.generation.pipeline import generate_dance

    d = generate_dance(str(SONG), seed=0, end=40.0)
    arm = build_default_rig(with_mesh=False)
    anim = retarget(d.motion, arm)
    turns = _turns(anim)
    P = anim.target_positions
    step = np.linalg.norm(np.diff(P, axis=0), axis=-1)         # (T-1, B) metres per frame
    names = anim.joint_names
    parent = {"hip": "pelvis", "knee": "hip", "ankle": "knee", "shoulder": "collar", "elbow": "shoulder",
              "wrist": "elbow"}
    still_flips = 0
    for k, j in enumerate(names):
        side, base = j[:2], j[2:]
        if base not in parent or _NEXT[j] not in names:
            continue
        p = parent[base] if base == "hip" else side + parent[base]
        n = names.index(_NEXT[j])
        d_ = P[:, n] - P[:, k]
        cos = np.sum(d_[1:] * d_[:-1], -1) / np.linalg.norm(d_[1:], axis=-1) / np.linalg.norm(d_[:-1], axis=-1)
        # The bone, its parent's joint and its direction all but still: a turn > 60° is a flip.
        still = (np.maximum(step[:, k], step[:, n]) < 0.10) & (step[:, names.index(p)] < 0.10) & (cos > np.cos(np.radians(30)))
        still_flips += int(np.sum(still & (turns[:, k] > 60.0)))
    print("turns > 60 deg/frame", int((turns > 60).sum()), "on still bones", still_flips,
          "error mm", round(1000 * retarget_error(anim)["mean_m"], 1))
    assert still_flips <= 4
    assert (turns > 60).sum() <= 42
