"""Choreo's default rig: one bone per SMPL-24 joint, named as the joint.

The rest pose is the SMPL neutral template (:func:`core.skeleton_maps.smpl_rest_joints`)
lifted so the foot joints touch z = 0, the same floor convention as
:meth:`core.motion.Motion.on_floor`. Every bone's head sits at its joint and
its tail at its child (spine3 → neck, pelvis → spine1); leaves (head, hands,
feet) get tails that continue the limb. Pose bones rotate in quaternions,
which is what the retargeter keys.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from ..core import skeleton as sk
from ..core.skeleton_maps import smpl_rest_joints
from .bonemaps import BoneMap, store_bone_map

import bpy

# The bone of a joint with several children points at this one.
_MAIN_CHILD = {"pelvis": "spine1", "spine3": "neck"}


def default_rest_joints() -> np.ndarray:
    """(24, 3) rest joint positions of the default rig: metres, z up, facing -y,
    pelvis over the origin, lowest foot joint on z = 0."""
    j = smpl_rest_joints().astype(np.float64)
    j[:, 2] -= j[list(sk.FEET), 2].min()
    return j


def smpl_bone_specs(joints: np.ndarray, names: Sequence[str] = sk.JOINT_NAMES):
    """(name, head, tail, parent_name) per SMPL joint for an armature whose
    bone heads sit at ``joints`` (24, 3); ``names`` renames the bones."""
    children: dict[int, list[int]] = {}
    for j, p in enumerate(sk.PARENTS):
        children.setdefault(p, []).append(j)
    specs = []
    for j, jn in enumerate(sk.JOINT_NAMES):
        head = joints[j]
        kids = children.get(j, [])
        if jn in _MAIN_CHILD:
            tail = joints[sk.JOINT_INDEX[_MAIN_CHILD[jn]]]
        elif kids:
            tail = joints[kids[0]]
        elif jn == "head":
            tail = head + np.array([0.0, 0.0, 0.2])
        elif jn.endswith("_foot"):
            tail = head + np.array([0.0, -0.07, 0.0])     # toes point forward (-y)
        else:                                               # hands continue the forearm
            d = head - joints[sk.PARENTS[j]]
            tail = head + 0.08 * d / max(np.linalg.norm(d), 1e-9)
        parent = names[sk.PARENTS[j]] if sk.PARENTS[j] >= 0 else None
        specs.append((names[j], np.asarray(head, float), np.asarray(tail, float), parent))
    return specs


def _link(obj, collection):
    (collection or bpy.context.scene.collection).objects.link(obj)


def make_armature(name: str, bones: Iterable[tuple], collection=None, *,
                  matrix_world=None, show_in_front=True) -> "bpy.types.Object":
    """A new armature object from ``(name, head, tail, parent[, roll])`` tuples
    given in armature space (parents listed before children).

    Uses edit mode, entered through a context override so it works with bpy
    as a module in background; the previous active object and mode are left
    as they were when possible.
    """
    data = bpy.data.armatures.new(name)
    obj = bpy.data.objects.new(name, data)
    _link(obj, collection)
    if matrix_world is not None:
        obj.matrix_world = matrix_world
    obj.show_in_front = show_in_front
    view_layer = bpy.context.view_layer
    prev_active = view_layer.objects.active
    prev_mode = prev_active.mode if prev_active is not None else "OBJECT"
    if prev_mode != "OBJECT":
        bpy.ops.object.mode_set(mode="OBJECT")
    view_layer.objects.active = obj
    with bpy.context.temp_override(active_object=obj, object=obj):
        bpy.ops.object.mode_set(mode="EDIT")
        try:
            eb = data.edit_bones
            for spec in bones:
                bname, head, tail, parent = spec[:4]
                b = eb.new(bname)
                b.head = tuple(float(x) for x in head)
                b.tail = tuple(float(x) for x in tail)
                if len(spec) > 4:
                    b.roll = float(spec[4])
                if parent is not None:
                    b.parent = eb[parent]
                    b.use_connect = (b.parent.tail - b.head).length < 1e-6
        finally:
            bpy.ops.object.mode_set(mode="OBJECT")
    if prev_active is not None and prev_active.name in view_layer.objects:
        view_layer.objects.active = prev_active
        if prev_mode != "OBJECT":
            try:
                bpy.ops.object.mode_set(mode=prev_mode)
            except RuntimeError:
                pass
    else:
        view_layer.objects.active = obj
    return obj


def build_default_rig(name: str = "Choreo Dancer", collection=None, with_mesh: bool = True):
    """Build Choreo's default dancer: an SMPL-24 armature (bones named like the
    joints, quaternion rotations, bone map kind "choreo" stored on it) and,
    with ``with_mesh``, a skinned mannequin parented to it.

    Parameters
    ----------
    name : str
        Object name of the armature (the mesh is ``name + " Body"``).
    collection : bpy.types.Collection or None
        Where to link the new objects (default: the scene's master collection).
    with_mesh : bool
        Add the mannequin mesh.

    Returns
    -------
    bpy.types.Object
        The armature object.
    """
    joints = default_rest_joints()
    obj = make_armature(name, smpl_bone_specs(joints), collection)
    obj.data.display_type = "OCTAHEDRAL"
    for pb in obj.pose.bones:
        pb.rotation_mode = "QUATERNION"
    store_bone_map(obj, BoneMap("choreo", {n: n for n in sk.JOINT_NAMES}, []))
    obj["choreo_rig"] = "default"
    if with_mesh:
        from .mannequin import build_mannequin

        build_mannequin(obj, joints, collection=collection)
    return obj
