"""The rigs Choreo builds (default rig, mannequin, stage) and recognises (bone maps)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from choreo.core import skeleton as sk
from choreo.core.errors import ChoreoInputError
from choreo.core.motion import Motion
from choreo.core.skeleton_maps import smpl_rest_joints

bpy = pytest.importorskip("bpy")
pytestmark = pytest.mark.blender

from choreo.rigs import testrigs as tr  # noqa: E402
from choreo.rigs.armature import build_default_rig  # noqa: E402
from choreo.rigs.bonemaps import (BoneMap, bone_map_for, detect_bone_map, load_bone_map,  # noqa: E402
                                  prepare_rig_for_keys, store_bone_map)
from choreo.rigs.stage import add_preview_stage  # noqa: E402


@pytest.fixture(autouse=True)
def clean_file():
    bpy.ops.wm.read_factory_settings(use_empty=True)


def _heads(arm, names):
    return np.array([arm.data.bones[n].head_local for n in names])


def test_default_rig_matches_template_and_is_skinned():
    arm = build_default_rig()
    assert sorted(b.name for b in arm.data.bones) == sorted(sk.JOINT_NAMES)
    ref = smpl_rest_joints()
    heads = _heads(arm, sk.JOINT_NAMES)
    # Same template, lifted so the lowest foot joint is on the floor.
    shift = heads - ref
    assert np.abs(shift - shift[0]).max() < 1e-3
    assert abs(shift[0, :2]).max() < 1e-6 and abs(heads[list(sk.FEET), 2].min()) < 1e-6
    for j, p in enumerate(sk.PARENTS):
        b = arm.data.bones[sk.JOINT_NAMES[j]]
        assert (b.parent.name if b.parent else None) == (sk.JOINT_NAMES[p] if p >= 0 else None)
        assert b.length > 0.02
    assert {pb.rotation_mode for pb in arm.pose.bones} == {"QUATERNION"}
    bm = load_bone_map(arm)
    assert bm.kind == "choreo" and bm.joint_to_bone == {n: n for n in sk.JOINT_NAMES} and bm.unmapped == []

    body = arm.children[0]
    assert body.type == "MESH" and body.parent == arm
    assert body.modifiers[0].type == "ARMATURE" and body.modifiers[0].object == arm
    assert 1000 < len(body.data.vertices) < 5000
    assert {g.name for g in body.vertex_groups} == set(sk.JOINT_NAMES)
    assert all(sum(g.weight for g in v.groups) > 0.99 for v in body.data.vertices)
    co = np.array([v.co for v in body.data.vertices])
    assert co[:, 2].min() > -0.02 and 1.6 < co[:, 2].max() < 1.9       # on the floor, human height
    # Skinning follows the bones: bend the left knee, the left shin's vertices move, the right's don't.
    arm.pose.bones["l_knee"].rotation_quaternion = (0.7071, 0.7071, 0, 0)
    bpy.context.view_layer.update()
    ev = body.evaluated_get(bpy.context.evaluated_depsgraph_get())
    moved = np.linalg.norm(np.array([v.co for v in ev.data.vertices]) - co, axis=1)
    groups = {g.index: g.name for g in body.vertex_groups}
    owner = np.array([groups[v.groups[0].group] for v in body.data.vertices])
    assert np.median(moved[owner == "l_knee"]) > 0.1 and moved[owner == "r_knee"].max() < 1e-6


def test_bone_map_survives_save_and_reopen(tmp_path):
    arm = build_default_rig(name="Dancer", with_mesh=False)
    custom = BoneMap("choreo", {n: n for n in sk.JOINT_NAMES if n != "l_hand"}, ["l_hand"])
    store_bone_map(arm, custom)
    path = tmp_path / "rig.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.wm.open_mainfile(filepath=str(path))
    arm = bpy.data.objects["Dancer"]
    back = bone_map_for(arm)
    assert back.joint_to_bone == custom.joint_to_bone and back.unmapped == ["l_hand"]


def test_bone_map_on_a_library_override(tmp_path):
    """An override keeps only custom properties its library armature has: there the map
    (an edit here) is stored and survives reopening; elsewhere nothing is written."""
    from choreo.rigs.bonemaps import PROPERTY

    sc = bpy.context.scene
    build_default_rig(name="WithMap", collection=sc.collection, with_mesh=False)
    tr.build_mixamo_rig(name="NoMap", collection=sc.collection)
    lib = tmp_path / "lib.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(lib))
    bpy.ops.wm.read_factory_settings(use_empty=True)
    sc = bpy.context.scene
    with bpy.data.libraries.load(str(lib), link=True) as (src, dst):
        dst.objects = ["WithMap", "NoMap"]
    for o in dst.objects:
        sc.collection.objects.link(o)
    with_map, no_map = (o.override_create(remap_local_usages=True) for o in dst.objects)
    edited = BoneMap("choreo", {n: n for n in sk.JOINT_NAMES if n != "l_hand"}, ["l_hand"])
    assert store_bone_map(with_map, edited) is True
    assert store_bone_map(no_map, detect_bone_map(no_map)) is False and PROPERTY not in no_map
    path = tmp_path / "shot.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    bpy.ops.wm.open_mainfile(filepath=str(path))
    back = load_bone_map(bpy.data.objects[("WithMap", None)])
    assert back.joint_to_bone == edited.joint_to_bone and back.unmapped == ["l_hand"]


def test_malformed_user_bone_map_names_the_armature():
    arm = build_default_rig(name="Edited", with_mesh=False)
    arm["choreo_bone_map"] = '{"kind": "custom", "joint_to_bone": {"pelvis": "pelvis",'   # cut short
    with pytest.raises(ChoreoInputError, match="Edited.*choreo_bone_map"):
        load_bone_map(arm)
    d = json.loads(BoneMap("custom", {n: n for n in sk.JOINT_NAMES}).to_json())
    d["joint_to_bone"]["l_knee"] = "Knee.L"
    arm["choreo_bone_map"] = json.dumps(d)
    with pytest.raises(ChoreoInputError, match=r"Edited.*l_knee -> 'Knee.L'"):
        bone_map_for(arm)
    d["joint_to_bone"] = {"pelvis": "pelvis", "tail": "head"}
    arm["choreo_bone_map"] = json.dumps(d)
    with pytest.raises(ChoreoInputError, match="Edited.*unknown joints: tail"):
        load_bone_map(arm)


MIXAMO_EXPECT = {"pelvis": "Hips", "spine1": "Spine", "spine3": "Spine2", "l_hip": "LeftUpLeg",
                 "l_knee": "LeftLeg", "l_ankle": "LeftFoot", "l_foot": "LeftToeBase", "l_collar": "LeftShoulder",
                 "l_shoulder": "LeftArm", "l_elbow": "LeftForeArm", "r_wrist": "RightHand", "head": "Head"}


@pytest.mark.parametrize("prefix", ["mixamorig:", "mixamorig7:", ""])
def test_detect_mixamo(prefix):
    arm = tr.build_mixamo_rig(prefix, fbx_axes=prefix == "mixamorig:")
    bm = detect_bone_map(arm)
    assert bm.kind == "mixamo" and bm.unmapped == []
    for j, b in MIXAMO_EXPECT.items():
        assert bm.joint_to_bone[j] == prefix + b
    # With FBX axes the bones still sit at the template joints in world space.
    mw = np.array(arm.matrix_world)
    heads = _heads(arm, [bm.joint_to_bone[n] for n in sk.JOINT_NAMES]) @ mw[:3, :3].T + mw[:3, 3]
    ref = _heads(build_default_rig(with_mesh=False), sk.JOINT_NAMES)
    assert np.abs(heads - ref).max() < 1e-4


@pytest.mark.parametrize("style,prefix,pelvis,knee,hand", [
    ("smpl", "", "Pelvis", "L_Knee", "L_Hand"),
    ("smpl", "m_avg_", "m_avg_Pelvis", "m_avg_L_Knee", "m_avg_L_Hand"),
    ("smplx", "", "pelvis", "left_knee", "left_middle1"),
])
def test_detect_smpl(style, prefix, pelvis, knee, hand):
    bm = detect_bone_map(tr.build_smpl_rig(style, prefix=prefix))
    assert bm.kind == "smpl" and bm.unmapped == []
    assert (bm.joint_to_bone["pelvis"], bm.joint_to_bone["l_knee"], bm.joint_to_bone["l_hand"]) == (pelvis, knee, hand)


def _custom_names(fmt):
    parts = {"hip": "UpperLeg", "knee": "LowerLeg", "ankle": "Foot", "foot": "Toes", "collar": "Clavicle",
             "shoulder": "UpperArm", "elbow": "LowerArm", "wrist": "Hand", "hand": "Fingers"}
    names = {"pelvis": "Hip", "spine1": "Waist", "spine2": "Spine_Lower", "spine3": "Chest", "neck": "Neck",
             "head": "Head"}
    for s in "lr":
        for j, p in parts.items():
            names[f"{s}_{j}"] = fmt(s, p)
    return names


@pytest.mark.parametrize("fmt", [lambda s, p: f"{s.upper()}_{p}", lambda s, p: f"{p.lower()}.{s}",
                                 lambda s, p: f"{'Left' if s == 'l' else 'Right'}{p}"])
def test_detect_custom_rig_by_name_parts(fmt):
    names = _custom_names(fmt)
    bm = detect_bone_map(tr.build_named_rig(names))
    assert bm.kind == "custom"
    for j in sk.JOINT_NAMES:
        if j.endswith("_hand"):
            assert j in bm.unmapped                          # "Fingers" is not a known name: optional
        else:
            assert bm.joint_to_bone[j] == names[j], j


def test_missing_and_unmappable_bones_are_named():
    names = {j: f"bone{i:02d}" for i, j in enumerate(sk.JOINT_NAMES)}
    with pytest.raises(ChoreoInputError, match="Blobs: no mappable bones"):
        detect_bone_map(tr.build_named_rig(names, name="Blobs", extra_bones=False))
    names = _custom_names(lambda s, p: f"{s.upper()}_{p}")
    names["l_knee"], names["r_knee"] = "L_Bendy", "R_Bendy"
    with pytest.raises(ChoreoInputError, match=r"Partial: could not map: l_knee, r_knee$|Partial: could not map: l_knee, r_knee "):
        detect_bone_map(tr.build_named_rig(names, name="Partial"))


def test_rigify_metarig_and_generated_rig():
    meta = tr.build_rigify_metarig()
    bm = detect_bone_map(meta)
    assert bm.kind == "rigify_meta" and bm.unmapped == []
    assert [bm.joint_to_bone[j] for j in ("pelvis", "spine3", "neck", "head", "l_knee", "r_shoulder")] == [
        "spine", "spine.003", "spine.004", "spine.006", "shin.L", "upper_arm.R"]

    rig = tr.generate_rigify(meta)
    bm = detect_bone_map(rig)
    assert bm.kind == "rigify"
    assert bm.joint_to_bone["l_hip"] == "thigh_fk.L" and bm.joint_to_bone["r_wrist"] == "hand_fk.R"
    assert set(bm.unmapped) == {"l_collar", "r_collar", "l_hand", "r_hand"}
    changed = prepare_rig_for_keys(rig, bm)
    assert changed['thigh_parent.L["IK_FK"]'] == 1.0 and rig.pose.bones["upper_arm_parent.R"]["IK_FK"] == 1.0
    assert {rig.pose.bones[b].rotation_mode for b in bm.joint_to_bone.values()} == {"QUATERNION"}

    # Posed through the map, the controls move exactly as their bone hierarchy
    # says (what the retargeter's forward kinematics assumes), and the
    # deforming chain follows the FK controls.
    from mathutils import Quaternion
    rng = np.random.default_rng(0)
    names = list(bm.joint_to_bone.values())
    for n in names:
        rig.pose.bones[n].rotation_quaternion = Quaternion(rng.normal(size=3), 0.5)
    rig.pose.bones["torso"].location = (0.1, 0.2, 0.05)
    bpy.context.view_layer.update()
    rest = {b.name: np.array(b.matrix_local) for b in rig.data.bones}

    def fk(name):
        b = rig.data.bones[name]
        basis = np.array(rig.pose.bones[name].matrix_basis) if name in names else np.eye(4)
        if b.parent is None:
            return rest[name] @ basis
        return fk(b.parent.name) @ np.linalg.inv(rest[b.parent.name]) @ rest[name] @ basis

    for n in names:
        assert np.abs(np.array(rig.pose.bones[n].matrix) - fk(n)).max() < 1e-4, n
    for ctrl, org in (("thigh_fk.L", "ORG-thigh.L"), ("shin_fk.R", "ORG-shin.R"), ("forearm_fk.L", "ORG-forearm.L"),
                      ("hand_fk.R", "ORG-hand.R")):
        assert np.abs(np.array(rig.pose.bones[ctrl].matrix) - np.array(rig.pose.bones[org].matrix)).max() < 1e-4


def test_preview_stage_frames_the_travel_and_is_reused():
    arm = build_default_rig()
    scene = bpy.context.scene
    # A dancer walking 3 m to the right and 2 m back.
    t = np.linspace(0, 1, 40)[:, None, None]
    rest = _heads(arm, sk.JOINT_NAMES)[None]
    joints = rest + t * np.array([3.0, 2.0, 0.0])
    cam, light = add_preview_stage(scene, arm, Motion(joints))
    assert scene.camera == cam and light.data.type == "SUN"
    assert scene.display.shading.light == "STUDIO" and scene.display.shading.show_shadows
    bpy.context.view_layer.update()
    from bpy_extras.object_utils import world_to_camera_view
    pts = joints.reshape(-1, 3)[::7]
    for p in pts:
        x, y, z = world_to_camera_view(scene, cam, __import__("mathutils").Vector(p))
        assert 0.0 < x < 1.0 and 0.0 < y < 1.0 and z > 0, (p, x, y)
    assert cam.location.y < joints[..., 1].min()                   # in front (the dancer faces -y)
    cam2, light2 = add_preview_stage(scene, arm)
    assert (cam2, light2) == (cam, light)
    assert sum(o.type == "CAMERA" for o in bpy.data.objects) == 1
    assert sum(o.type == "LIGHT" for o in bpy.data.objects) == 1
    assert sum(o.get("choreo_stage") == "floor" for o in bpy.data.objects) == 1
