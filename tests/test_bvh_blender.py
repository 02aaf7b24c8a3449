"""Exported BVH files import in Blender's own BVH importer with our joint positions."""

from __future__ import annotations

import numpy as np
import pytest

from choreo.core import skeleton as sk
from choreo.core.formats.bvh import load_bvh_motion, write_bvh
from choreo.core.motion import Motion

bpy = pytest.importorskip("bpy")
pytestmark = pytest.mark.blender


def _blender_positions(path, frames):
    """Import ``path`` with the importer's defaults; world-space bone heads (F, 24, 3)."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    assert bpy.ops.import_anim.bvh(filepath=str(path)) == {"FINISHED"}
    arm = next(o for o in bpy.data.objects if o.type == "ARMATURE")
    scene = bpy.context.scene
    first, last = arm.animation_data.action.frame_range
    out = []
    for f in frames:
        scene.frame_set(int(first) + f)  # BVH frame 0 lands on the importer's frame_start
        ev = arm.evaluated_get(bpy.context.evaluated_depsgraph_get())
        mw = np.array(ev.matrix_world)
        heads = np.array([ev.pose.bones[n].head for n in sk.JOINT_NAMES])
        out.append(heads @ mw[:3, :3].T + mw[:3, 3])
    return np.array(out), int(round(last - first)) + 1


def test_cmu_export_matches_blender_import(mocap_dir, tmp_path):
    # 2 s of ballet: large rotations everywhere, pelvis travelling and turning.
    motion = load_bvh_motion(mocap_dir / "005" / "005_02.bvh").frames(100, 220).with_bone_lengths()
    path = tmp_path / "dance.bvh"
    write_bvh(motion, path)
    frames = [0, 1, 30, 61, 97, motion.num_frames - 1]
    pos, count = _blender_positions(path, frames)
    assert count == motion.num_frames
    err = np.linalg.norm(pos - motion.joints[frames], axis=-1)
    assert err.max() < 1e-3, f"max Blender-vs-Choreo error {err.max() * 1000:.3f} mm"
    # Our own reader agrees with Blender's too.
    back = load_bvh_motion(path)
    assert back.num_frames == motion.num_frames and back.fps == motion.fps
    assert np.abs(back.joints[frames] - pos).max() < 1e-3


def test_synthetic_export_matches_blender_import(tmp_path):
    # A rigid-bone skeleton spinning about z while walking along -y; no shared data needed.
    from choreo.core.skeleton_maps import smpl_rest_joints

    rest = smpl_rest_joints() + np.array([0.0, 0.0, 0.95])
    t = np.arange(40) / 30.0
    ang = 1.5 * np.sin(2 * np.pi * 0.5 * t)
    c, s = np.cos(ang), np.sin(ang)
    rot = np.zeros((len(t), 3, 3))
    rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1], rot[:, 2, 2] = c, -s, s, c, 1.0
    joints = np.einsum("tij,kj->tki", rot, rest - rest[0]) + rest[0]
    joints[..., 1] -= 0.8 * t[:, None]
    # Raise the left arm over time (rotation about the shoulder's forward axis).
    arm = [sk.JOINT_INDEX[n] for n in ("l_elbow", "l_wrist", "l_hand")]
    sh = joints[:, sk.JOINT_INDEX["l_shoulder"]][:, None]
    lift = np.linspace(0, 1.2, len(t))
    v = joints[:, arm] - sh
    horiz = np.linalg.norm(v[..., :2], axis=-1)
    joints[:, arm] = sh + np.stack([v[..., 0] * np.cos(lift)[:, None], v[..., 1] * np.cos(lift)[:, None],
                                    v[..., 2] + horiz * np.sin(lift)[:, None]], axis=-1)
    motion = Motion(joints, fps=30.0).with_bone_lengths()  # the lift above stretches the arm
    path = tmp_path / "synthetic.bvh"
    write_bvh(motion, path)
    frames = [0, 13, 39]
    pos, count = _blender_positions(path, frames)
    assert count == 40
    assert np.linalg.norm(pos - motion.joints[frames], axis=-1).max() < 1e-3
