"""Armatures of the kinds Choreo meets in the wild, built in real bpy for tests.

All are built from the SMPL template rest pose (:func:`.armature.default_rest_joints`)
so a retargeted motion can be compared joint for joint; only the names, the
extra bones, the rest pose of the arms and the object transform differ, the
way they differ on real rigs.
"""

from __future__ import annotations

import math

import numpy as np

from ..core import skeleton as sk
from .armature import default_rest_joints, make_armature, smpl_bone_specs

import bpy
from mathutils import Matrix

MIXAMO_NAMES = {
    "pelvis": "Hips", "spine1": "Spine", "spine2": "Spine1", "spine3": "Spine2",
    "neck": "Neck", "head": "Head",
    **{f"{s}_{j}": f"{S}{m}" for s, S in (("l", "Left"), ("r", "Right")) for j, m in (
        ("hip", "UpLeg"), ("knee", "Leg"), ("ankle", "Foot"), ("foot", "ToeBase"),
        ("collar", "Shoulder"), ("shoulder", "Arm"), ("elbow", "ForeArm"),
        ("wrist", "Hand"), ("hand", "HandMiddle1"))},
}
SMPL_NAMES = {n: "_".join(p.capitalize() if len(p) > 1 else p.upper() for p in n.split("_"))
              for n in sk.JOINT_NAMES}          # "Pelvis", "L_Hip", "Spine1", ...
SMPLX_NAMES = {n: n.replace("l_", "left_", 1) if n.startswith("l_") else
               n.replace("r_", "right_", 1) if n.startswith("r_") else n for n in sk.JOINT_NAMES}
SMPLX_NAMES["l_hand"], SMPLX_NAMES["r_hand"] = "left_middle1", "right_middle1"


def _posed_arms(joints: np.ndarray, arm_angle_deg: float) -> np.ndarray:
    """Lower both arms by ``arm_angle_deg`` about the shoulder joints (A-pose)."""
    j = joints.copy()
    if not arm_angle_deg:
        return j
    for side, sign in (("l", 1.0), ("r", -1.0)):
        a = math.radians(arm_angle_deg) * sign
        c, s = math.cos(a), math.sin(a)
        rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
        pivot = j[sk.JOINT_INDEX[f"{side}_shoulder"]].copy()
        for n in ("elbow", "wrist", "hand"):
            k = sk.JOINT_INDEX[f"{side}_{n}"]
            j[k] = pivot + rot @ (j[k] - pivot)
    return j


def _specs(names: dict[str, str], joints: np.ndarray, extra=()):
    order = [names[n] for n in sk.JOINT_NAMES]
    specs = smpl_bone_specs(joints, order)
    return specs + list(extra)


def _fbx_matrix(scale: float) -> Matrix:
    """Object transform an FBX import gives (Y-up centimetres): rotated +90° about x, scaled."""
    return Matrix.Rotation(math.pi / 2, 4, "X") @ Matrix.Diagonal((scale, scale, scale, 1.0))


def build_mixamo_rig(prefix: str = "mixamorig:", *, name: str = "Mixamo Rig", collection=None,
                     fbx_axes: bool = False, arm_angle_deg: float = 0.0, scale: float = 1.0):
    """A Mixamo-style armature (Hips, Spine, Spine1, Spine2, Neck, Head,
    LeftUpLeg, ..., HeadTop_End, LeftToe_End) with bone names prefixed by
    ``prefix`` ("mixamorig:", "mixamorig1:" or "").

    ``fbx_axes`` builds it the way Blender's FBX importer brings Mixamo files
    in: bones in Y-up centimetres, the object rotated 90° about x and scaled
    0.01, so world positions are the same. ``arm_angle_deg`` lowers the arms
    into an A-pose; ``scale`` resizes the whole body.
    """
    j = _posed_arms(default_rest_joints(), arm_angle_deg) * scale
    names = {k: prefix + v for k, v in MIXAMO_NAMES.items()}
    extra = []
    up = np.array([0.0, 0.0, 1.0])
    extra.append((prefix + "HeadTop_End", j[15] + 0.18 * up * scale, j[15] + 0.26 * up * scale, names["head"]))
    for s in ("l", "r"):
        S = "Left" if s == "l" else "Right"
        toe = j[sk.JOINT_INDEX[f"{s}_foot"]]
        extra.append((f"{prefix}{S}Toe_End", toe + np.array([0, -0.06, 0]) * scale,
                      toe + np.array([0, -0.09, 0]) * scale, names[f"{s}_foot"]))
        hand = j[sk.JOINT_INDEX[f"{s}_hand"]]
        d = hand - j[sk.JOINT_INDEX[f"{s}_wrist"]]
        extra.append((f"{prefix}{S}HandMiddle2", hand + d * 0.45, hand + d * 0.8, names[f"{s}_hand"]))
    specs = _specs(names, j, extra)
    mw = None
    if fbx_axes:
        # Armature space = world / 0.01 expressed in Y-up axes: (x, y, z)_world -> (x, z, -y) * 100.
        to_local = np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]]) * 100.0
        specs = [(n, to_local @ h, to_local @ t, p) for n, h, t, p in specs]
        mw = _fbx_matrix(0.01)
    obj = make_armature(name, specs, collection, matrix_world=mw)
    return obj


def build_smpl_rig(style: str = "smpl", *, prefix: str = "", name: str = "SMPL Rig", collection=None):
    """An SMPL-family armature.

    ``style="smpl"``: "Pelvis", "L_Hip", "Spine1", ... "L_Hand" (the SMPL
    Blender/Unity add-on's names; pass ``prefix="m_avg_"`` for its exact
    ones, under an "m_avg_root"-style root bone). ``style="smplx"``: the
    SMPL-X add-on's "root" → "pelvis", "left_hip", "left_knee", ... with
    "jaw" and "left_middle1" (SMPL-X has no hand joint).
    """
    if style not in ("smpl", "smplx"):
        raise ValueError(f"style must be 'smpl' or 'smplx', got {style!r}")
    j = default_rest_joints()
    table = SMPL_NAMES if style == "smpl" else SMPLX_NAMES
    names = {k: prefix + v for k, v in table.items()}
    specs = _specs(names, j)
    root = prefix + "root"
    pelvis = names["pelvis"]
    specs = [(root, np.zeros(3), np.array([0.0, 0.0, 0.1]), None)] + [
        (n, h, t, root if n == pelvis else p) for n, h, t, p in specs]
    if style == "smplx":
        specs.append((prefix + "jaw", j[15] + [0, -0.02, -0.03], j[15] + [0, -0.1, -0.05], names["head"]))
        for s, S in (("l", "left"), ("r", "right")):
            hand = j[sk.JOINT_INDEX[f"{s}_hand"]]
            d = hand - j[sk.JOINT_INDEX[f"{s}_wrist"]]
            specs.append((f"{prefix}{S}_middle2", hand + 0.45 * d, hand + 0.8 * d, names[f"{s}_hand"]))
    return make_armature(name, specs, collection)


def build_named_rig(joint_to_bone: dict[str, str], *, name: str = "Custom Rig", collection=None,
                    extra_bones: bool = True):
    """An SMPL-shaped armature with arbitrary bone names (``joint_to_bone``
    covers all 24 joints); with ``extra_bones`` a root and a head-top bone are
    added, as custom rigs usually have."""
    j = default_rest_joints()
    specs = _specs(joint_to_bone, j)
    if extra_bones:
        pelvis = joint_to_bone["pelvis"]
        specs = [("Root", np.zeros(3), np.array([0.0, 0.3, 0.0]), None)] + [
            (n, h, t, "Root" if n == pelvis else p) for n, h, t, p in specs]
        specs.append(("HeadTop", j[15] + [0, 0, 0.2], j[15] + [0, 0, 0.28], joint_to_bone["head"]))
    return make_armature(name, specs, collection)


def _enable_rigify():
    import addon_utils

    if not addon_utils.check("rigify")[1]:
        bpy.ops.preferences.addon_enable(module="rigify")


def build_rigify_metarig(name: str = "metarig", collection=None):
    """Rigify's Human metarig (159 bones), built headless; returns the object."""
    _enable_rigify()
    if bpy.context.view_layer.objects.active is not None and bpy.context.object.mode != "OBJECT":
        bpy.ops.object.mode_set(mode="OBJECT")
    bpy.ops.object.armature_human_metarig_add()
    meta = bpy.context.view_layer.objects.active
    bpy.ops.object.mode_set(mode="OBJECT")
    meta.name = name
    if collection is not None:
        for c in list(meta.users_collection):
            c.objects.unlink(meta)
        collection.objects.link(meta)
    return meta


def generate_rigify(metarig):
    """Generate the Rigify control rig from ``metarig`` (~3 s); returns the rig object."""
    _enable_rigify()
    view_layer = bpy.context.view_layer
    if view_layer.objects.active is not None and view_layer.objects.active.mode != "OBJECT":
        bpy.ops.object.mode_set(mode="OBJECT")
    before = {o.name for o in bpy.data.objects}
    for o in view_layer.objects:
        o.select_set(False)
    view_layer.objects.active = metarig
    metarig.select_set(True)
    # No context override: the generator switches the active object itself.
    result = bpy.ops.pose.rigify_generate()
    if "FINISHED" not in result:
        raise RuntimeError(f"rigify_generate returned {result}")
    rig = getattr(metarig.data, "rigify_target_rig", None)
    if rig is None:
        new = [bpy.data.objects[n] for n in {o.name for o in bpy.data.objects} - before]
        rig = next(o for o in new if o.type == "ARMATURE")
    return rig
