"""A plain artist's-mannequin body for the default rig.

Each body part is a tapered capsule (a lathe of rings with round caps),
optionally flattened into an ellipse, bound rigidly to one bone; the capsules
overlap at the joints like a wooden mannequin's, so no blending is needed and
joints never collapse. ~2.7k vertices, one material, built with bmesh.
"""

from __future__ import annotations

import math

import numpy as np

from ..core import skeleton as sk

import bpy  # first: bmesh is importable only once bpy is loaded
import bmesh  # noqa: E402

_SEGS = 12           # vertices around each ring
_CAP_RINGS = 3       # rings per round cap
_BODY_RINGS = 4      # rings along the straight part

MATERIAL_NAME = "Choreo Mannequin"
BODY_COLOR = (0.80, 0.62, 0.45, 1.0)   # light wood


def _frame(axis: np.ndarray, side_hint: np.ndarray):
    w = axis / max(np.linalg.norm(axis), 1e-9)
    u = side_hint - np.dot(side_hint, w) * w
    if np.linalg.norm(u) < 1e-6:
        u = np.array([0.0, 1.0, 0.0]) - w[1] * w
    u /= np.linalg.norm(u)
    return u, np.cross(w, u), w


def _capsule(a, b, ra, rb, widen=1.0, flatten=1.0, side=(1.0, 0.0, 0.0), segs=_SEGS):
    """Vertices (N, 3) and quad/tri faces of a capsule from ``a`` (radius ``ra``)
    to ``b`` (radius ``rb``); ``widen``/``flatten`` scale the cross-section along
    ``side`` and across it; ``segs`` vertices around each ring."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    length = np.linalg.norm(b - a)
    u, v, w = _frame(b - a, np.asarray(side, float))
    # Profile (distance along the axis, radius), from the bottom pole to the top pole.
    prof = []
    for k in range(_CAP_RINGS, 0, -1):                       # bottom cap (excluding pole)
        t = k / (_CAP_RINGS + 1) * math.pi / 2
        prof.append((-ra * math.sin(t), ra * math.cos(t)))
    for k in range(_BODY_RINGS + 1):
        f = k / _BODY_RINGS
        prof.append((f * length, ra + (rb - ra) * f))
    for k in range(1, _CAP_RINGS + 1):
        t = k / (_CAP_RINGS + 1) * math.pi / 2
        prof.append((length + rb * math.sin(t), rb * math.cos(t)))
    ang = np.linspace(0, 2 * math.pi, segs, endpoint=False)
    verts = [a - ra * w]
    for z, r in prof:
        ring = (a + z * w)[None] + r * (np.cos(ang)[:, None] * u * widen + np.sin(ang)[:, None] * v * flatten)
        verts.extend(ring)
    verts.append(b + rb * w)
    nr, top = len(prof), len(verts) - 1
    faces = [(0, 1 + (i + 1) % segs, 1 + i) for i in range(segs)]
    for r in range(nr - 1):
        o0, o1 = 1 + r * segs, 1 + (r + 1) * segs
        faces += [(o0 + i, o0 + (i + 1) % segs, o1 + (i + 1) % segs, o1 + i) for i in range(segs)]
    last = 1 + (nr - 1) * segs
    faces += [(last + i, last + (i + 1) % segs, top) for i in range(segs)]
    return np.array(verts), faces


def _parts(j: np.ndarray):
    """(bone, a, b, ra, rb, widen, flatten) for every body part."""
    J = lambda n: j[sk.JOINT_INDEX[n]]  # noqa: E731
    up = np.array([0.0, 0.0, 1.0])
    fwd = np.array([0.0, -1.0, 0.0])
    parts = [
        ("pelvis", J("r_hip") + 0.03 * up, J("l_hip") + 0.03 * up, 0.095, 0.095, 1.0, 1.0),
        ("spine1", J("spine1"), J("spine2"), 0.105, 0.11, 1.35, 0.85),
        ("spine2", J("spine2"), J("spine3"), 0.11, 0.12, 1.4, 0.85),
        ("spine3", J("spine3"), J("neck") - 0.03 * up, 0.12, 0.08, 1.45, 0.85),
        ("neck", J("neck"), J("head") - 0.02 * up, 0.045, 0.04, 1.0, 1.0),
        ("head", J("head") + 0.02 * up + 0.01 * fwd, J("head") + 0.13 * up + 0.01 * fwd, 0.085, 0.09, 0.9, 1.05),
    ]
    for s in ("l", "r"):
        ankle, foot = J(f"{s}_ankle"), J(f"{s}_foot")
        heel = ankle.copy()
        heel[1] += 0.04
        heel[2] = 0.035
        ball = foot.copy()
        ball[2] = 0.03
        wrist, hand = J(f"{s}_wrist"), J(f"{s}_hand")
        d = (hand - wrist) / np.linalg.norm(hand - wrist)
        parts += [
            (f"{s}_hip", J(f"{s}_hip"), J(f"{s}_knee"), 0.075, 0.052, 1.0, 1.0),
            (f"{s}_knee", J(f"{s}_knee"), ankle, 0.05, 0.038, 1.0, 1.0),
            (f"{s}_ankle", heel, ball, 0.035, 0.03, 1.25, 1.0),
            (f"{s}_foot", ball, ball + 0.05 * fwd, 0.03, 0.025, 1.25, 1.0),
            (f"{s}_collar", J(f"{s}_collar"), J(f"{s}_shoulder"), 0.045, 0.05, 1.0, 1.0),
            (f"{s}_shoulder", J(f"{s}_shoulder"), J(f"{s}_elbow"), 0.05, 0.04, 1.0, 1.0),
            (f"{s}_elbow", J(f"{s}_elbow"), wrist, 0.04, 0.03, 1.0, 1.0),
            (f"{s}_wrist", wrist + 0.01 * d, hand, 0.035, 0.038, 1.0, 0.45),
            (f"{s}_hand", hand, hand + 0.07 * d, 0.034, 0.02, 1.0, 0.4),
        ]
    return parts


def _material():
    mat = bpy.data.materials.get(MATERIAL_NAME)
    if mat is None:
        mat = bpy.data.materials.new(MATERIAL_NAME)
        mat.diffuse_color = BODY_COLOR          # Workbench "Material" colour
        mat.roughness = 0.6
        if mat.node_tree is not None:           # Cycles/EEVEE colour
            bsdf = mat.node_tree.nodes.get("Principled BSDF")
            if bsdf is not None:
                bsdf.inputs["Base Color"].default_value = BODY_COLOR
    return mat


def build_mannequin(arm_obj, joints: np.ndarray, collection=None):
    """Build the mannequin mesh for ``arm_obj`` whose bones are named like
    SMPL joints and sit at ``joints`` (24, 3) in armature space; returns the
    mesh object, parented to the armature with an Armature modifier and one
    vertex group per bone (every vertex weighted 1 to its part's bone)."""
    bm = bmesh.new()
    deform = bm.verts.layers.deform.verify()
    name = arm_obj.name + " Body"
    mesh = bpy.data.meshes.new(name)
    obj = bpy.data.objects.new(name, mesh)
    groups = {n: obj.vertex_groups.new(name=n) for n in sk.JOINT_NAMES}
    for bone, a, b, ra, rb, widen, flatten in _parts(np.asarray(joints, float)):
        verts, faces = _capsule(a, b, ra, rb, widen, flatten)
        bv = [bm.verts.new(p) for p in verts]
        gi = groups[bone].index
        for v in bv:
            v[deform][gi] = 1.0
        for f in faces:
            bm.faces.new([bv[i] for i in f])
    bm.normal_update()
    bm.to_mesh(mesh)
    bm.free()
    for p in mesh.polygons:
        p.use_smooth = True
    mesh.materials.append(_material())
    return bind_to_armature(obj, arm_obj, collection, "mannequin")


def bind_to_armature(obj, arm_obj, collection, kind: str):
    """Link the body mesh ``obj`` into ``collection`` (default: the scene's), parent it to
    ``arm_obj`` with an Armature modifier, tag it ``choreo_rig`` = ``kind``; returns it."""
    (collection or bpy.context.scene.collection).objects.link(obj)
    obj.parent = arm_obj
    mod = obj.modifiers.new("Armature", "ARMATURE")
    mod.object = arm_obj
    obj["choreo_rig"] = kind
    return obj
