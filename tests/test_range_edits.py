"""Regenerating a range over an animator's work (rigs/ranges.py, edits.py, keyrecord.py) in
real Blender data: the animator's keys are poses the new stretch passes through, locked
bone groups keep their keys bit for bit, and impossible requests change nothing."""

from __future__ import annotations

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
pytestmark = pytest.mark.blender

from choreo.core.errors import ChoreoInputError  # noqa: E402
from choreo.core.rotations import rotvec_to_quat  # noqa: E402
from choreo.rigs import keyrecord  # noqa: E402
from choreo.rigs.bonegroups import lock_closure, locked_channels  # noqa: E402
from choreo.rigs.edits import offset_curve, pass_through  # noqa: E402
from choreo.rigs.keys import write_action  # noqa: E402


def _keys_helpers():
    """tests/test_keys.py's rig and dance makers (tests run with --import-mode=importlib)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("_test_keys_helpers", Path(__file__).with_name("test_keys.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_h = _keys_helpers()
channelbag, make_rig, synthetic_anim = _h.channelbag, _h.make_rig, _h.synthetic_anim

BEATS = np.arange(0, 4, 0.5)


@pytest.fixture(autouse=True)
def empty_file():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    yield


def _curves(obj):
    return {(fc.data_path, fc.array_index): fc for fc in channelbag(obj).fcurves}


def _quat(fcs, bone, f):
    return np.array([fcs[(f'pose.bones["{bone}"].rotation_quaternion', i)].evaluate(f) for i in range(4)])


def _pose_key(obj, bone: str, frame: int, q) -> None:
    """What an animator does: rotate a bone and insert a keyframe on its rotation."""
    pb = obj.pose.bones[bone]
    pb.rotation_quaternion = q
    pb.keyframe_insert("rotation_quaternion", frame=frame)


def test_offset_curve_hits_poses_and_fades_to_zero():
    off = offset_curve(100, np.array([30, 40]), np.array([[1.0], [-2.0]]), reach=15)
    assert off[30, 0] == 1.0 and off[40, 0] == -2.0
    assert off[0, 0] == 0 and off[99, 0] == 0 and np.all(off[:16] == 0) and np.all(off[55:] == 0)
    assert np.abs(np.diff(off[:, 0])).max() < 1.9 * 3 / 10    # eased: quintic slope, no step
    free = offset_curve(50, np.array([2]), np.array([[1.0]]), reach=10, pinned_start=False)
    assert free[0, 0] == 1.0 and free[2, 0] == 1.0     # no seam before: held up to the pose


def test_pass_through_is_exact_on_posed_frames():
    rng = np.random.default_rng(0)
    rot = rotvec_to_quat(np.cumsum(rng.normal(0, 0.05, (60, 3, 3)), 0))
    loc = np.cumsum(rng.normal(0, 0.01, (60, 3)), 0)
    target = rotvec_to_quat(np.array([0.0, 2.0, 0.5]))
    poses = {"rot": {1: (np.array([25]), -target[None])}, "loc": (np.array([40]), np.array([[1.0, 2.0, 3.0]]))}
    r, lo = pass_through(rot, loc, poses, root=0, reach=10)
    assert np.allclose(np.abs(r[25, 1] @ target), 1.0, atol=1e-12) and np.allclose(lo[40], [1, 2, 3])
    assert np.allclose(r[:, 0], rot[:, 0]) and np.allclose(r[:, 2], rot[:, 2])   # other bones untouched
    assert np.allclose(r[:14, 1], rot[:14, 1]) and np.allclose(r[36:, 1], rot[36:, 1])
    assert np.allclose(r[0], rot[0]) and np.allclose(lo[-1], loc[-1])           # seams pinned


def test_regenerate_range_passes_through_the_animators_keys():
    obj = make_rig()
    a, b = synthetic_anim(obj, 4.0, seed=1), synthetic_anim(obj, 4.0, seed=2)
    write_action(obj, a, scene_fps=30, frame_start=1, beat_times=BEATS)
    assert keyrecord.PROPERTY in obj.animation_data.action
    target = rotvec_to_quat(np.array([0.0, 0.0, 1.2]))     # the animator bends the left elbow on frame 46
    _pose_key(obj, "l_elbow", 46, target)
    obj.pose.bones["pelvis"].location = (0.3, -0.2, 0.1)   # and moves the hips on frame 52
    obj.pose.bones["pelvis"].keyframe_insert("location", frame=52)
    rep = write_action(obj, b, scene_fps=30, frame_start=1, beat_times=BEATS, frame_range=(31, 75))
    fcs = _curves(obj)
    q = _quat(fcs, "l_elbow", 46)
    assert abs(abs(q @ target) - 1) < 1e-6                     # through the pose, exactly
    assert np.allclose([fcs[('pose.bones["pelvis"].location', i)].evaluate(52) for i in range(3)],
                       [0.3, -0.2, 0.1], atol=1e-6)
    assert rep.poses == 9 and rep.pose_error_m < 0.01   # the elbow with its 6 ancestors, the hips twice
    # around the pose the new dance (b) plays: far from it the curves are b's, joined
    assert not np.allclose(_quat(fcs, "l_elbow", 70), _quat(fcs, "l_elbow", 46), atol=0.05)
    # the posed keys stay the animator's: the next regeneration follows them again
    rec = keyrecord.read_record(obj.animation_data.action)
    fc = fcs[('pose.bones["l_elbow"].rotation_quaternion', 0)]
    assert 46.0 in keyrecord.animator_keys(fc, rec)
    assert len(keyrecord.animator_keys(fcs[('pose.bones["r_elbow"].rotation_quaternion', 0)], rec)) == 0
    write_action(obj, a, scene_fps=30, frame_start=1, beat_times=BEATS, frame_range=(31, 75))
    assert abs(abs(_quat(_curves(obj), "l_elbow", 46) @ target) - 1) < 1e-6
    # follow_keys=False replaces them like Choreo's own keys
    write_action(obj, a, scene_fps=30, frame_start=1, beat_times=BEATS, frame_range=(31, 75), follow_keys=False)
    assert abs(abs(_quat(_curves(obj), "l_elbow", 46) @ target) - 1) > 1e-3


def test_a_hand_keyed_blocking_pass_is_all_poses():
    """An action Choreo never wrote has no record: every key in the range is a pose."""
    obj = make_rig()
    for f, ang in ((10, 0.5), (40, -0.8)):
        for pb in obj.pose.bones:
            pb.rotation_quaternion = rotvec_to_quat(np.array([ang, 0.0, 0.0]))
            pb.keyframe_insert("rotation_quaternion", frame=f)
        obj.pose.bones["pelvis"].location = (0, 0, 0)
        obj.pose.bones["pelvis"].keyframe_insert("location", frame=f)
    rep = write_action(obj, synthetic_anim(obj, 4.0, seed=3), scene_fps=30, frame_start=1, beat_times=BEATS,
                       frame_range=(1, 60))
    fcs = _curves(obj)
    for f, ang in ((10, 0.5), (40, -0.8)):
        want = rotvec_to_quat(np.array([ang, 0.0, 0.0]))
        for bone in ("l_knee", "head", "r_wrist"):
            assert abs(abs(_quat(fcs, bone, f) @ want) - 1) < 1e-6
    assert rep.poses == 2 * 25   # 24 bones and the location on each of two frames


def test_locked_groups_keep_their_keys_bit_for_bit():
    obj = make_rig()
    a, b = synthetic_anim(obj, 4.0, seed=1), synthetic_anim(obj, 4.0, seed=2)
    write_action(obj, a, scene_fps=30, frame_start=1, beat_times=BEATS)
    before = {k: keyrecord_keys(fc) for k, fc in _curves(obj).items()}
    bones, travel = locked_channels(a, ["left_arm", "legs"])
    assert "l_elbow" in bones and "r_knee" in bones and "pelvis" in bones and travel   # legs keep the hips
    assert "r_elbow" not in bones and "spine2" not in bones
    write_action(obj, b, scene_fps=30, frame_start=1, beat_times=BEATS, frame_range=(31, 75),
                 locked_bones=bones, lock_travel=travel)
    after = {k: keyrecord_keys(fc) for k, fc in _curves(obj).items()}
    for (path, i), keys in after.items():
        bone = path.split('"')[1]
        if bone in bones or (path.endswith(".location") and travel):
            assert np.array_equal(keys, before[(path, i)]), path        # bit-identical
    changed = [p for (p, i), k in after.items() if "r_elbow" in p and not np.array_equal(k, before[(p, i)])]
    assert changed   # the unlocked right arm was regenerated


def keyrecord_keys(fc) -> np.ndarray:
    co = np.empty(2 * len(fc.keyframe_points), np.float32)
    fc.keyframe_points.foreach_get("co", co)
    return co


def test_impossible_locks_and_lost_bones_change_nothing():
    obj = make_rig()
    a = synthetic_anim(obj, 4.0, seed=1)
    write_action(obj, a, scene_fps=30, frame_start=1, beat_times=BEATS)
    act = obj.animation_data.action
    n_actions = len(bpy.data.actions)
    every = [*a.bone_names]
    with pytest.raises(ChoreoInputError, match="nothing is left"):
        write_action(obj, a, scene_fps=30, frame_start=1, frame_range=(31, 60), locked_bones=every, lock_travel=True)
    with pytest.raises(ChoreoInputError, match="unknown bone group"):
        lock_closure(["tail"])
    # the animator keyed a bone that has since been renamed away
    fc = channelbag(obj).fcurves.new('pose.bones["gone"].location', index=0)
    fc.keyframe_points.insert(40, 1.0)
    with pytest.raises(ChoreoInputError, match="gone"):
        write_action(obj, a, scene_fps=30, frame_start=1, frame_range=(31, 60))
    assert obj.animation_data.action == act and len(bpy.data.actions) == n_actions


def test_mirror_swaps_sides_through_the_sagittal_plane():
    from choreo.core import skeleton as sk
    from choreo.rigs.mirror import mirror_channels

    obj = make_rig()
    a = synthetic_anim(obj, 2.0, seed=4)
    a.joint_names = list(sk.JOINT_NAMES)
    rot, loc = mirror_channels(a, a.rotations, a.root_location)
    p, m = a.joint_positions(), a.joint_positions(rot, loc)
    flip = np.array([-1.0, 1.0, 1.0])             # the rig's left is +x
    assert np.abs(m - (p * flip)[:, list(sk.MIRROR)]).max() < 1e-6   # float32 rest data
    back = mirror_channels(a, rot, loc)            # twice is the dance itself
    assert np.abs(a.joint_positions(*back) - p).max() < 1e-6
