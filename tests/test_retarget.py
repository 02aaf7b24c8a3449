"""Retargeting joint positions onto armatures: exactness, Blender agreement,
object transforms, foot planting, twist and speed (real bpy)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from choreo.core import skeleton as sk
from choreo.core.errors import ChoreoInputError
from choreo.core.motion import Motion
from choreo.core.cleanup import contacts as ct
from choreo.rigs.bonemaps import BoneMap

bpy = pytest.importorskip("bpy")
pytestmark = pytest.mark.blender

from choreo.rigs.armature import build_default_rig, default_rest_joints, make_armature, smpl_bone_specs  # noqa: E402
from choreo.core.rotations import continuous_quats, matrix_to_quat, quat_to_matrix  # noqa: E402
from choreo.rigs.retarget import retarget, retarget_error, rig_skeleton  # noqa: E402
from choreo.rigs.testrigs import build_mixamo_rig  # noqa: E402

J = sk.JOINT_INDEX
CHOREO_MAP = BoneMap("choreo", {n: n for n in sk.JOINT_NAMES}, [])


@pytest.fixture(scope="module")
def cmu(mocap_dir) -> Motion:
    """A CMU dance take (7.6 s) at 30 fps, facing -y, feet on the floor, rigid bones."""
    from choreo.core.formats import load_motion

    m = load_motion(mocap_dir / "005" / "005_05.bvh").resample(30.0)
    return m.frames(0, 300).normalized_facing().on_floor().with_bone_lengths()


@pytest.fixture(autouse=True)
def _empty_scene():
    bpy.ops.wm.read_factory_settings(use_empty=True)


def _rx(a):
    c, s = np.cos(a), np.sin(a)
    return np.stack([np.stack([np.ones_like(a), 0 * a, 0 * a], -1), np.stack([0 * a, c, -s], -1),
                     np.stack([0 * a, s, c], -1)], -2)


def _rz(a):
    c, s = np.cos(a), np.sin(a)
    return np.stack([np.stack([c, -s, 0 * a], -1), np.stack([s, c, 0 * a], -1),
                     np.stack([0 * a, 0 * a, np.ones_like(a)], -1)], -2)


def synthetic_motion(T=90, fps=30.0) -> Motion:
    """The default rig's rest skeleton squatting (knees bending forward, up
    to 80°), turning 90° about z and walking along x; arms straight."""
    rest = default_rest_joints()
    t = np.arange(T) / fps
    bend = np.radians(40) * (1 - np.cos(2 * np.pi * t / 1.5))          # 0..80°
    j = np.repeat(rest[None], T, 0)
    for s in "lr":
        knee = j[:, J[f"{s}_knee"]].copy()
        for n in ("ankle", "foot"):
            k = J[f"{s}_{n}"]
            j[:, k] = knee + np.einsum("tij,tj->ti", _rx(bend), j[:, k] - knee)
    yaw = np.radians(90) * t / t[-1]
    pel = rest[J["pelvis"]]
    j = np.einsum("tij,tkj->tki", _rz(yaw), j - pel) + pel
    j[..., 0] += 0.3 * t[:, None]
    return Motion(j, fps)


def _own_rig(motion: Motion, name="Own"):
    """An armature whose rest pose is frame 0 of ``motion`` (its own proportions)."""
    return make_armature(name, smpl_bone_specs(motion.joints[0].astype(np.float64)))


def _blender_heads(arm, anim, frames):
    """World-space heads of the mapped joints' bones, posed by Blender from the solved keys."""
    for pb in arm.pose.bones:
        pb.rotation_mode = "QUATERNION"
    out = []
    for f in frames:
        for k, n in enumerate(anim.bone_names):
            arm.pose.bones[n].rotation_quaternion = anim.rotations[f, k]
        arm.pose.bones[anim.root_bone].location = anim.root_location[f]
        bpy.context.view_layer.update()
        mw = np.array(arm.matrix_world)
        heads = np.array([np.array(arm.pose.bones[n].head) for n in anim.joint_bones])
        out.append(heads @ mw[:3, :3].T + mw[:3, 3])
    return np.array(out)


def _to_world(arm, p):
    mw = np.array(arm.matrix_world)
    return p @ mw[:3, :3].T + mw[:3, 3]


def test_quaternion_helpers():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(50, 4))
    q /= np.linalg.norm(q, axis=-1, keepdims=True)


    back = matrix_to_quat(quat_to_matrix(q))
    assert np.allclose(np.abs(np.sum(back * q, -1)), 1.0, atol=1e-9)
    flipped = q.copy()
    flipped[1::2] *= -1
    smooth = continuous_quats(np.cumsum(flipped * 0.01, 0) + q[0])
    assert np.all(np.sum(smooth[1:] * smooth[:-1], -1) > 0)


def test_best_rotation_recovers_rotations():
    # Wahba by SVD: exact for a rotated rigid set, vectorised over frames, never a reflection.

    from choreo.rigs.retarget import _best_rotation

    rng = np.random.default_rng(1)
    R = quat_to_matrix(rng.normal(size=(40, 4)))
    rest = rng.normal(size=(3, 3))
    got = _best_rotation(rest, np.einsum("tij,kj->tki", R, rest), np.array([1.0, 2.0, 0.5]))
    assert np.abs(got - R).max() < 1e-9
    flat = _best_rotation(rest, -np.broadcast_to(rest, (5, 3, 3)), np.ones(3))   # a mirror is no rotation
    assert np.allclose(np.linalg.det(flat), 1.0)


def test_rig_skeleton_parents_first():
    arm = build_default_rig(with_mesh=False)
    skel = rig_skeleton(arm)
    assert sorted(skel.names) == sorted(sk.JOINT_NAMES)
    for i, p in enumerate(skel.parents):
        assert p < i
    rest = default_rest_joints()
    for n in sk.JOINT_NAMES:
        assert np.allclose(skel.rest[skel.index(n), :3, 3], rest[J[n]], atol=1e-5)
    part = rig_skeleton(arm, ["l_wrist"])
    assert part.names == ["pelvis", "spine1", "spine2", "spine3", "l_collar", "l_shoulder", "l_elbow", "l_wrist"]


def test_own_proportions_exact_and_matches_blender(cmu):
    # (a) a rig built on the motion's own skeleton: the solve is exact, feet planted or not.
    arm = _own_rig(cmu)
    for plant in (False, True):
        anim = retarget(cmu, arm, CHOREO_MAP, plant_feet=plant, floor=False)
        err = retarget_error(anim)
        print(f"own-proportions rig, plant={plant}: error mean {err['mean_m'] * 1000:.3f} mm, "
              f"p95 {err['p95_m'] * 1000:.3f} mm, max {err['max_m'] * 1000:.3f} mm")
        assert err["mean_m"] < 0.01 and err["max_m"] < 0.01
        assert abs(anim.info["scale"] - 1.0) < 1e-4 and abs(anim.info["yaw_deg"]) < 1e-6
    # FK of the targets hits the motion itself (not only the planted targets).
    unplanted = retarget(cmu, arm, CHOREO_MAP, plant_feet=False, floor=False)
    assert np.abs(unplanted.joint_positions() - cmu.joints).max() < 1e-3
    # (b) Blender, posed from the keys, puts every joint where numpy FK says.
    frames = [0, 57, 211, cmu.num_frames - 1]
    blender = _blender_heads(arm, anim, frames)
    numpy_fk = _to_world(arm, anim.joint_positions()[frames])
    assert np.abs(blender - numpy_fk).max() < 1e-4
    assert np.all(np.isfinite(anim.rotations))
    assert np.all(np.sum(anim.rotations[1:] * anim.rotations[:-1], -1) > 0)   # sign-continuous


def test_default_and_mixamo_fbx_rigs(cmu):
    # (c) Mixamo as the FBX importer brings it: Y-up bones in cm, object rotated and scaled 0.01, A-pose.
    default = build_default_rig(with_mesh=False)
    mixamo = build_mixamo_rig(fbx_axes=True, arm_angle_deg=40)
    a_def = retarget(cmu, default)
    a_mix = retarget(cmu, mixamo)
    e_def, e_mix = retarget_error(a_def), retarget_error(a_mix)
    for name, e, a in (("default", e_def, a_def), ("mixamo fbx", e_mix, a_mix)):
        print(f"{name}: error mean {e['mean_m'] * 100:.2f} cm p95 {e['p95_m'] * 100:.2f} cm "
              f"max {e['max_m'] * 100:.2f} cm (scale {a.info['scale']:.3f})")
    assert a_mix.info["world_scale"] == pytest.approx(0.01, rel=1e-6)
    # Same body (both are built on the SMPL template): same world-space error, despite the transform.
    assert e_mix["mean_m"] == pytest.approx(e_def["mean_m"], abs=2e-3)
    # Only proportions are off (CMU subject vs template): small relative to a 1.7 m body.
    assert e_mix["mean_m"] < 0.15 and e_mix["p95_m"] < 0.3
    # The hips' midpoint lands on the scaled trajectory, lifted by the floor offset, in world metres.
    fk = _to_world(mixamo, a_mix.joint_positions())
    mid = 0.5 * (fk[:, a_mix.joint_names.index("l_hip")] + fk[:, a_mix.joint_names.index("r_hip")])
    want = a_mix.info["scale"] * 0.5 * (cmu.joints[:, J["l_hip"]] + cmu.joints[:, J["r_hip"]])
    assert np.abs(mid - want - [0, 0, a_mix.info["floor_offset_m"]]).max() < 1e-4
    # Blender agrees in world space on the scaled, rotated object as well.
    frames = [0, 150]
    assert np.abs(_blender_heads(mixamo, a_mix, frames)
                  - _to_world(mixamo, a_mix.joint_positions()[frames])).max() < 1e-4


def test_foot_contacts_and_planting(cmu):
    # Contacts on a synthetic foot: still on the floor, then lifted and moved.
    T = 60
    j = np.repeat(default_rest_joints()[None], T, 0)
    j[30:, J["l_ankle"], 2] += np.linspace(0, 0.3, 30)
    j[30:, J["l_ankle"], 0] += np.linspace(0, 0.5, 30)
    c = ct.foot_contacts(Motion(j, 30.0))
    assert c["l"][:28].all() and not c["l"][40:].any() and c["r"].all()
    w, _ = ct.contact_weights(np.r_[np.zeros(10, bool), np.ones(10, bool), np.zeros(10, bool)], 3)
    assert w[10:20].min() == 1.0 and 0 < w[8] < w[9] < 1 and w[5] == 0
    # (d) planting on a real take onto a rig with other proportions.
    arm = build_default_rig(with_mesh=False)
    anim = retarget(cmu, arm, CHOREO_MAP, plant_feet=True)
    for s in "lr":
        before, after = anim.info[f"{s}_skating_before_cm_s"], anim.info[f"{s}_skating_after_cm_s"]
        print(f"{s} foot: {anim.info[f'{s}_contact_frames']} contact frames, skating "
              f"{before:.2f} -> {after:.2f} cm/s")
        assert anim.info[f"{s}_contact_frames"] > 10
        assert after < 0.3 * before
    # The IK keeps the leg lengths: the rig's error does not grow from planting.
    free = retarget(cmu, arm, CHOREO_MAP, plant_feet=False)
    assert retarget_error(anim)["mean_m"] < retarget_error(free)["mean_m"] + 0.005


def test_knee_twist_follows_motion():
    # (e) The rig's knee hinge (the thigh's and shin's rest x axis) follows the
    # motion's hinge, also while the dancer turns: knees bend forward, not sideways.
    motion = synthetic_motion()
    arm = build_default_rig(with_mesh=False)
    anim = retarget(motion, arm, CHOREO_MAP, plant_feet=False)
    assert retarget_error(anim)["max_m"] < 1e-3
    skel = anim.skeleton
    pose = skel.pose_matrices(anim.basis_matrices())
    for s in "lr":
        hip, knee, ankle = (motion.joints[:, J[f"{s}_{n}"]].astype(float) for n in ("hip", "knee", "ankle"))
        d1, d2 = knee - hip, ankle - knee
        n = np.cross(d1, d2)
        bent = np.linalg.norm(n, axis=-1) / np.linalg.norm(d1, axis=-1) / np.linalg.norm(d2, axis=-1) > np.sin(np.radians(30))
        assert bent.sum() > 20
        n = n[bent] / np.linalg.norm(n[bent], axis=-1, keepdims=True)
        for bone in (f"{s}_hip", f"{s}_knee"):
            b = skel.index(bone)
            axis = pose[bent, b, :3, :3] @ skel.rest[b, :3, :3].T @ np.array([1.0, 0.0, 0.0])
            assert np.sum(axis * n, -1).min() > 0.95, bone
        # The knee ends up in front of the hip→ankle line, in the dancer's turning frame.
        fwd = np.cross(motion.joints[bent, J["l_hip"]] - motion.joints[bent, J["r_hip"]], [0.0, 0.0, 1.0])
        assert np.all(np.sum((knee[bent] - 0.5 * (hip[bent] + ankle[bent])) * fwd, -1) > 0)


def test_straight_arms_and_speed(cmu):
    # (f) 3600 frames (2 minutes) onto a 22+ bone rig; straight-arm frames stay finite and smooth.
    arm = build_mixamo_rig(fbx_axes=True)
    loop = np.concatenate([cmu.joints, cmu.joints[::-1]])
    long = Motion(np.resize(loop, (3600, *loop.shape[1:])), 30.0)
    assert long.num_frames == 3600
    retarget(long.frames(0, 30), arm)                     # warm-up (imports, caches)
    t0 = time.perf_counter()
    anim = retarget(long, arm)
    dt = time.perf_counter() - t0
    print(f"retarget 3600 frames x {len(anim.bone_names)} bones: {dt:.3f} s "
          f"(solve {anim.info['solve_s']:.3f} s, incl. planting)")
    assert dt < 2.0
    assert np.all(np.isfinite(anim.rotations))
    assert np.all(np.sum(anim.rotations[1:] * anim.rotations[:-1], -1) > 0)
    # Straight arms (synthetic motion: the T-pose arms never bend) have no hinge plane.
    synth = retarget(synthetic_motion(), build_default_rig(with_mesh=False), CHOREO_MAP)
    k = synth.bone_names.index("l_shoulder")
    assert np.all(np.isfinite(synth.rotations)) and np.allclose(synth.rotations[:, k, 0], synth.rotations[0, k, 0], atol=0.2)


def test_bad_bone_map_names_the_armature(cmu):
    arm = build_default_rig(with_mesh=False)
    bad = BoneMap("custom", {**CHOREO_MAP.joint_to_bone, "l_knee": "NoSuchBone"}, [])
    with pytest.raises(ChoreoInputError, match="NoSuchBone"):
        retarget(cmu, arm, bad)
    legless = BoneMap("custom", {k: v for k, v in CHOREO_MAP.joint_to_bone.items() if k != "r_ankle"}, [])
    with pytest.raises(ChoreoInputError, match="r_ankle"):
        retarget(cmu, arm, legless)


def test_headless_blend_stores_the_bone_map_of_an_fbx_rig(tmp_path):
    """`choreo generate --rig rig.fbx -o x.blend`'s path: the rig imported from a real FBX
    carries the bone map the dance used, as JSON, in the saved .blend; a failed
    apply_dance stores nothing."""
    from choreo.core.generation.dance import Dance
    from choreo.rigs.apply import apply_dance
    from choreo.rigs.bonemaps import PROPERTY, detect_bone_map, load_bone_map
    from choreo.rigs.scene import write_dance_blend

    build_mixamo_rig("mixamorig1:", collection=bpy.context.scene.collection, fbx_axes=True)
    fbx = tmp_path / "rig.fbx"
    assert bpy.ops.export_scene.fbx(filepath=str(fbx), object_types={"ARMATURE"}, add_leaf_bones=False) == {"FINISHED"}
    motion = synthetic_motion(60)
    beats = np.arange(0, motion.duration, 0.5)
    dance = Dance(motion=motion, beats=beats, downbeats=beats[::4], sections=np.array([0.0]), audio_path=None,
                  audio_start=0.0, tempo=120.0, model="test", seed=0, energy=1.0)
    out = write_dance_blend(dance, tmp_path / "out.blend", rig_path=fbx)
    assert out["apply"]["bone_map"] == "mixamo" and out["apply"]["bone_map_stored"]
    bpy.ops.wm.open_mainfile(filepath=out["blend"])
    arm = bpy.data.objects[out["armature"]]
    stored = load_bone_map(arm)
    assert stored.kind == "mixamo" and stored.joint_to_bone == detect_bone_map(arm).joint_to_bone
    assert stored.joint_to_bone["l_knee"] == "mixamorig1:LeftLeg"

    fresh = build_mixamo_rig(name="Fresh", collection=bpy.context.scene.collection)
    with pytest.raises(ChoreoInputError, match="sparse"):
        apply_dance(dance, fresh, bpy.context.scene, frame_start=1, key_mode="sparse")
    assert PROPERTY not in fresh
