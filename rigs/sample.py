"""An armature's animation read back as a SMPL-24 motion (what Add to Library stores).

Each mapped joint is its bone's posed head in world space, as Blender evaluates the
action (``frame_set`` per frame, so constraints and drivers count). Joints a rig
does not map (Rigify's collars and hands, a rig without toes) are estimated from
their neighbours with the proportions :mod:`choreo.core.skeleton_maps` uses for
keypoint sources: collar half way between chest and shoulder, hand 35 % of a
forearm beyond the wrist, ball of the foot 13 % of a shin below the ankle.
"""

from __future__ import annotations

import numpy as np

from ..core import skeleton as sk
from ..core.motion import Motion
from ..core.progress import report
from .bonemaps import bone_map_for

_I = sk.JOINT_INDEX


def _fill(j: np.ndarray, have: set[str]) -> None:
    """Estimate in place the joints not in ``have`` (F, 24, 3) from mapped neighbours."""
    g = lambda n: j[:, _I[n]]  # noqa: E731
    mid_hip = 0.5 * (g("l_hip") + g("r_hip"))
    thorax = 0.5 * (g("l_shoulder") + g("r_shoulder"))
    spine = [n for n in ("spine1", "spine2", "spine3") if n in have]
    for n, f in (("spine1", 0.25), ("spine2", 0.55), ("spine3", 0.75)):
        if n not in have:
            j[:, _I[n]] = (1 - f) * mid_hip + f * thorax if not spine else (1 - f) * g("pelvis") + f * thorax
    if "neck" not in have:
        j[:, _I["neck"]] = 0.6 * thorax + 0.4 * g("head")
    for s in "lr":
        if f"{s}_collar" not in have:
            j[:, _I[f"{s}_collar"]] = 0.5 * (g("spine3") + g(f"{s}_shoulder"))
        if f"{s}_hand" not in have:
            j[:, _I[f"{s}_hand"]] = 1.35 * g(f"{s}_wrist") - 0.35 * g(f"{s}_elbow")
        if f"{s}_foot" not in have:
            j[:, _I[f"{s}_foot"]] = 1.13 * g(f"{s}_ankle") - 0.13 * g(f"{s}_knee")


def armature_motion(scene, arm, frames, fps: float, progress=None) -> Motion:
    """The motion of ``arm`` at scene ``frames`` (at ``fps``): SMPL-24 joints, metres, z up.
    The scene's current frame is restored afterwards."""
    bmap = bone_map_for(arm)
    bones = arm.pose.bones
    mw = np.array(arm.matrix_world)
    mapped = [(_I[jn], bones[b]) for jn, b in bmap.joint_to_bone.items() if b in bones]
    joints = np.zeros((len(frames), sk.NUM_JOINTS, 3))
    current = scene.frame_current
    try:
        for k, f in enumerate(frames):
            if k % 50 == 0:
                report(progress, k / max(len(frames), 1), f"frame {f}")
            scene.frame_set(int(f))
            for i, pb in mapped:
                joints[k, i] = pb.head
    finally:
        scene.frame_set(current)
    joints = joints @ mw[:3, :3].T + mw[:3, 3]
    _fill(joints, set(bmap.joint_to_bone))
    return Motion(joints.astype(np.float32), fps)
