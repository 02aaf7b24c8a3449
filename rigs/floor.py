"""How low a posed rig reaches: the floor check of retargeted dances.

:func:`lowest_points` poses the armature frame by frame from a
:class:`~.animation.RigAnimation` and reads the lowest point Blender evaluates:
the vertices of the meshes its armature modifier deforms, else the heads and
tails of the deform bones that follow the mapped bones. Used by the rig floor
benchmark and its tests.
"""

from __future__ import annotations

import bpy
import numpy as np

from .bonemaps import prepare_rig_for_keys


def lowest_points(arm, anim, bone_map) -> np.ndarray:
    """(T,) world height of the rig's lowest point per frame, relative to the
    armature origin's height, posed by Blender from ``anim``."""
    prepare_rig_for_keys(arm, bone_map)
    meshes = [o for o in bpy.data.objects if o.type == "MESH"
              and any(m.type == "ARMATURE" and m.object == arm for m in o.modifiers)]
    mapped = set(bone_map.joint_to_bone.values())
    chain = [b.name for b in arm.data.bones if b.use_deform            # what a skinned mesh follows
             and any(a.name in mapped for a in [b, *b.parent_recursive])]
    pbs = arm.pose.bones
    floor = float(np.array(arm.matrix_world)[2, 3])
    out = np.empty(anim.num_frames)
    for f in range(anim.num_frames):
        for k, n in enumerate(anim.bone_names):
            pbs[n].rotation_quaternion = anim.rotations[f, k]
        pbs[anim.root_bone].location = anim.root_location[f]
        bpy.context.view_layer.update()
        if meshes:
            dg = bpy.context.evaluated_depsgraph_get()
            low = np.inf
            for o in meshes:
                ev = o.evaluated_get(dg)
                co = np.empty(len(ev.data.vertices) * 3)
                ev.data.vertices.foreach_get("co", co)
                mw = np.array(ev.matrix_world)
                low = min(low, float((co.reshape(-1, 3) @ mw[2, :3] + mw[2, 3]).min()))
        else:
            mw = np.array(arm.matrix_world)
            pts = np.array([p for n in chain for p in (pbs[n].head, pbs[n].tail)])
            low = float((pts @ mw[2, :3] + mw[2, 3]).min())
        out[f] = low - floor
    return out
