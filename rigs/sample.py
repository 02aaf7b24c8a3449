"""An armature's animation read back as a SMPL-24 motion (what Add to Library stores).

Each mapped joint is its bone's posed head in world space, as Blender evaluates the
action (``frame_set`` per frame, so constraints and drivers count). Joints a rig does
not map (Rigify's collars and hands, a rig without toes) are estimated from their
neighbours by :func:`choreo.core.bonemap.position_weights`, as for a BVH skeleton.
"""

from __future__ import annotations

import numpy as np

from ..core.bonemap import position_weights
from ..core.motion import Motion
from ..core.progress import report
from .bonemaps import bone_map_for


def armature_motion(scene, arm, frames, fps: float, progress=None) -> Motion:
    """The motion of ``arm`` at scene ``frames`` (at ``fps``): SMPL-24 joints, metres, z up.
    The scene's current frame is restored afterwards."""
    j2b = bone_map_for(arm).joint_to_bone
    names = sorted(set(j2b.values()))
    weights, _ = position_weights(names, j2b)
    bones = [arm.pose.bones[n] for n in names]
    mw = np.array(arm.matrix_world)
    heads = np.zeros((len(frames), len(names), 3))
    current = scene.frame_current
    try:
        for k, f in enumerate(frames):
            if k % 50 == 0:
                report(progress, k / max(len(frames), 1), f"frame {f}")
            scene.frame_set(int(f))
            heads[k] = [pb.head for pb in bones]
    finally:
        scene.frame_set(current)
    joints = np.einsum("sj,fjd->fsd", weights, heads @ mw[:3, :3].T + mw[:3, 3])
    return Motion(joints.astype(np.float32), fps)
