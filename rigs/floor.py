"""How low a posed rig reaches: the floor check of retargeted dances.

:func:`lowest_points` poses the armature frame by frame from a
:class:`~.animation.RigAnimation` and reads the lowest point Blender evaluates:
the vertices of the meshes its armature modifier deforms, else the heads and
tails of the deform bones that follow the mapped bones. Used by the rig floor
benchmark and its tests. :func:`posed_heads` reads back where Blender puts
every bone over a range of frames (the seam benchmark and tests).
"""

from __future__ import annotations

import time

import bpy
import numpy as np

from ..core.cleanup import contacts as ct
from .bonemaps import bone_map_for, prepare_rig_for_keys
from .retarget import retarget


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


def rig_floor_figures(motion, arm) -> dict:
    """``motion`` retargeted onto ``arm`` (feet planted) and measured in Blender: the
    fraction of frames whose lowest point is > 1 cm under the floor, its median and
    minimum (cm), the fraction of the dance's contact frames within 2 cm of the floor,
    and the retarget error per mapped joint and overall (world cm)."""
    bm = bone_map_for(arm)
    t = time.perf_counter()
    anim = retarget(motion, arm, bm)
    solve_s = time.perf_counter() - t
    low = lowest_points(arm, anim, bm)
    c = ct.foot_contacts(motion)
    contact = c["l"] | c["r"]
    err = anim.error() * anim.info["world_scale"]
    return {"frames": int(anim.num_frames), "solve_s": solve_s,
            "below_1cm": float(np.mean(low < -0.01)), "median_cm": 100 * float(np.median(low)),
            "min_cm": 100 * float(low.min()), "contact_frames": int(contact.sum()),
            "contact_within_2cm": float(np.mean(np.abs(low[contact]) <= 0.02)) if contact.any() else None,
            "joint_error_cm": {j: 100 * float(err[:, k].mean()) for k, j in enumerate(anim.joint_names)},
            "mean_error_cm": 100 * float(err.mean()), "info": {k: v for k, v in anim.info.items()
                                                               if isinstance(v, (int, float, bool))}}


def posed_heads(scene, arm, frames) -> np.ndarray:
    """(F, B, 3) world positions of ``arm``'s pose-bone heads at scene ``frames``, as
    Blender evaluates its action (``frame_set`` per frame)."""
    mw = np.array(arm.matrix_world)
    out = []
    for f in frames:
        scene.frame_set(int(f))
        heads = np.array([tuple(pb.head) for pb in arm.pose.bones])
        out.append(heads @ mw[:3, :3].T + mw[:3, 3])
    return np.array(out)

