"""Keys on the beats, markers and apply_dance, on the real bpy module.

The animation is built here from a small SMPL-shaped armature and synthetic
rotations (smooth sines plus sharp accents on a few beats), so these tests
don't depend on the retargeter; the end-to-end test runs once it exists.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
pytestmark = pytest.mark.blender

from choreo.core import skeleton as sk  # noqa: E402
from choreo.core.errors import ChoreoInputError  # noqa: E402
from choreo.rigs import actions  # noqa: E402
from choreo.rigs.animation import RigAnimation, RigSkeleton  # noqa: E402
from choreo.rigs.keys import sample_at, write_action  # noqa: E402
from choreo.rigs.markers import add_dance_markers  # noqa: E402

BPM = 120.0
TOL = 0.02


@pytest.fixture(autouse=True)
def empty_file():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    yield


def _rest_joints() -> np.ndarray:
    j = np.zeros((24, 3))
    pos = {"pelvis": (0, 0, 1.0), "spine1": (0, 0, 1.1), "spine2": (0, 0, 1.25), "spine3": (0, 0, 1.38),
           "neck": (0, 0, 1.55), "head": (0, 0, 1.65)}
    for side, x in (("l", 1), ("r", -1)):
        pos.update({f"{side}_hip": (0.09 * x, 0, 0.92), f"{side}_knee": (0.1 * x, 0, 0.5),
                    f"{side}_ankle": (0.1 * x, 0, 0.08), f"{side}_foot": (0.1 * x, -0.12, 0.02),
                    f"{side}_collar": (0.08 * x, 0, 1.5), f"{side}_shoulder": (0.18 * x, 0, 1.48),
                    f"{side}_elbow": (0.45 * x, 0, 1.48), f"{side}_wrist": (0.7 * x, 0, 1.48),
                    f"{side}_hand": (0.8 * x, 0, 1.48)})
    for name, p in pos.items():
        j[sk.JOINT_INDEX[name]] = p
    return j


def make_rig(name: str = "Dancer"):
    """A 24-bone armature, bones named as SMPL joints, head of each at its joint."""
    joints = _rest_joints()
    arm = bpy.data.armatures.new(name)
    obj = bpy.data.objects.new(name, arm)
    bpy.context.scene.collection.objects.link(obj)
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode='EDIT')
    first_child = {p: j for j, p in reversed(list(enumerate(sk.PARENTS)))}
    first_child.update({0: sk.JOINT_INDEX["spine1"], 9: sk.JOINT_INDEX["neck"]})
    for j, jn in enumerate(sk.JOINT_NAMES):
        eb = arm.edit_bones.new(jn)
        eb.head = joints[j]
        eb.tail = joints[first_child[j]] if j in first_child else joints[j] + (0, -0.06, 0.06)
        if sk.PARENTS[j] >= 0:
            eb.parent = arm.edit_bones[sk.JOINT_NAMES[sk.PARENTS[j]]]
    bpy.ops.object.mode_set(mode='OBJECT')
    for pb in obj.pose.bones:
        pb.rotation_mode = 'QUATERNION'
    return obj


def rig_skeleton(obj) -> RigSkeleton:
    bones = obj.data.bones
    names = [b.name for b in bones]
    return RigSkeleton(names=names,
                       parents=np.array([names.index(b.parent.name) if b.parent else -1 for b in bones]),
                       rest=np.array([np.array(b.matrix_local) for b in bones]),
                       lengths=np.array([b.length for b in bones]))


def synthetic_anim(obj, seconds: float, fps: float = 30.0, seed: int = 0, accents=(2.0, 4.5)) -> RigAnimation:
    """Smooth sines on every bone plus sharp 0.1 s accents at ``accents`` (s)."""
    rng = np.random.default_rng(seed)
    skel = rig_skeleton(obj)
    T = int(round(seconds * fps)) + 1
    t = np.arange(T) / fps
    B = len(skel.names)
    axes = rng.normal(size=(B, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    freq = rng.uniform(0.3, 1.0, B) * BPM / 60.0 / 2
    angle = 0.35 * np.sin(2 * np.pi * freq[None] * t[:, None] + rng.uniform(0, 6, B)[None])
    for a in accents:
        angle += 0.6 * np.exp(-0.5 * ((t[:, None] - a) / 0.05) ** 2) * rng.choice([-1, 1], B)[None]
    rot = np.concatenate([np.cos(angle / 2)[..., None], np.sin(angle / 2)[..., None] * axes[None]], -1)
    loc = np.stack([0.2 * np.sin(t), 0.1 * np.sin(2 * t), 0.05 * np.sin(4 * np.pi * t)], 1)
    anim = RigAnimation(armature=obj.name, bone_names=list(skel.names), rotations=rot, root_bone="pelvis",
                        root_location=loc, fps=fps, skeleton=skel, joint_names=list(sk.JOINT_NAMES),
                        joint_bones=list(sk.JOINT_NAMES), target_positions=np.zeros((T, 24, 3)))
    anim.target_positions = anim.joint_positions()
    return anim


def channelbag(obj, action=None):
    ad = obj.animation_data
    action = action or ad.action
    slot = ad.action_slot if action == ad.action else action.slots[0]
    from bpy_extras import anim_utils
    return anim_utils.action_get_channelbag_for_slot(action, slot)


def evaluated_error(obj, anim, frames, frame_start, scene_fps) -> np.ndarray:
    """(F, J) joint error of the action's curves against the motion, evaluated here independently."""
    cb = channelbag(obj)
    fcs = {(fc.data_path, fc.array_index): fc for fc in cb.fcurves}
    rot = np.array([[[fcs[(f'pose.bones["{b}"].rotation_quaternion', i)].evaluate(f) for i in range(4)]
                     for b in anim.bone_names] for f in frames])
    loc = np.array([[fcs[('pose.bones["pelvis"].location', i)].evaluate(f) for i in range(3)] for f in frames])
    ref_rot, ref_loc = sample_at(anim, (np.asarray(frames) - frame_start) / scene_fps)
    return np.linalg.norm(anim.joint_positions(rot, loc) - anim.joint_positions(ref_rot, ref_loc), axis=-1)


def test_beats_mode_keys_on_beats_within_tolerance():
    obj = make_rig()
    anim = synthetic_anim(obj, 8.0)
    beats = np.arange(0, 8.0, 60 / BPM)
    fps, f0 = 24.0, 1
    rep = write_action(obj, anim, scene_fps=fps, frame_start=f0, beat_times=beats, tolerance_m=TOL)
    dense = write_action(obj, anim, scene_fps=fps, frame_start=f0, mode="dense")
    print(f"\nbeats mode: {rep.keys} keys ({rep.keys_per_second:.2f}/s, {rep.rounds} rounds), "
          f"max {rep.max_error_m * 1000:.1f} mm, mean {rep.mean_error_m * 1000:.2f} mm; "
          f"dense: {dense.keys_per_second:.1f}/s")
    assert rep.frames == (1, 1 + 8 * 24)
    assert rep.max_error_m <= TOL
    assert rep.keys_per_second < 0.5 * dense.keys_per_second

    # Re-read the first action honestly: keys on every beat frame, typed KEYFRAME; error ≤ tol.
    beats_act = bpy.data.actions[rep.action_name]
    obj.animation_data.action = beats_act
    obj.animation_data.action_slot = beats_act.slots[0]
    fc = channelbag(obj).fcurves.find('pose.bones["l_wrist"].rotation_quaternion', index=1)
    key_frames = {int(round(k.co[0])): k.type for k in fc.keyframe_points}
    for b in beats:
        assert key_frames[int(round(f0 + b * fps))] == 'KEYFRAME'
    assert 'BREAKDOWN' in key_frames.values()          # in-betweens where the accents need them
    assert fc.group.name == "l_wrist"
    frames = np.arange(1, 1 + 8 * 24 + 1)
    err = evaluated_error(obj, anim, frames, f0, fps)
    assert err.max() <= TOL + 1e-6
    hands_feet = [sk.JOINT_INDEX[n] for n in ("l_wrist", "r_wrist", "l_ankle", "r_ankle", "l_foot", "r_foot")]
    assert err[:, hands_feet].max() <= TOL + 1e-6
    assert abs(err.max() - rep.max_error_m) < 1e-4


def test_dense_exact_at_23_976_fps():
    obj = make_rig()
    anim = synthetic_anim(obj, 3.0)
    fps = 24000 / 1001
    f0 = 10.4                      # fractional start: keys still on integer frames
    rep = write_action(obj, anim, scene_fps=fps, frame_start=f0, mode="dense")
    frames = np.arange(11, int(np.floor(f0 + 3.0 * fps)) + 1)
    assert rep.frames == (frames[0], frames[-1]) and rep.keys == len(frames)
    assert rep.max_error_m < 1e-5
    assert evaluated_error(obj, anim, frames, f0, fps).max() < 1e-5
    # Key values are the motion at the frame's exact time, not the nearest 30 fps sample.
    fc = channelbag(obj).fcurves.find('pose.bones["pelvis"].location', index=0)
    co = np.array([k.co for k in fc.keyframe_points])
    t = (co[:, 0] - f0) / fps
    assert np.allclose(co[:, 1], 0.2 * np.sin(t), atol=2e-4)


def test_second_write_keeps_first_and_survives_save(tmp_path):
    obj = make_rig()
    anim = synthetic_anim(obj, 2.0)
    user = bpy.data.actions.new("My pose")          # a user's action already on the rig
    slot = user.slots.new(id_type='OBJECT', name=obj.name)
    ident = slot.identifier
    obj.animation_data_create().action = user
    cb = actions.ensure_channelbag(user, user.slots[ident])
    actions.new_fcurve(cb, 'pose.bones["head"].location', 2, "head").keyframe_points.insert(1, 0.5)

    r1 = write_action(obj, anim, scene_fps=24, frame_start=1, beat_times=[0.5, 1.0])
    r2 = write_action(obj, anim, scene_fps=24, frame_start=1, beat_times=[0.5, 1.0])
    assert (r1.action_name, r2.action_name) == ("Choreo Dance", "Choreo Dance.001")
    ad = obj.animation_data
    assert ad.action.name == "Choreo Dance.001"
    tracks = {t.name: t for t in ad.nla_tracks}
    assert set(tracks) == {"Choreo previous", "Choreo previous.001"}
    assert all(t.mute for t in tracks.values())
    kept = {t.strips[0].action.name for t in tracks.values()}
    assert kept == {"My pose", "Choreo Dance"}
    assert bpy.data.actions["My pose"].use_fake_user and bpy.data.actions["Choreo Dance"].use_fake_user

    path = str(tmp_path / "keys.blend")
    bpy.ops.wm.save_as_mainfile(filepath=path)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.wm.open_mainfile(filepath=path)
    obj = bpy.data.objects["Dancer"]
    assert obj.animation_data.action.name == "Choreo Dance.001"
    assert obj.animation_data.action_slot is not None
    cb = channelbag(obj)
    assert len(cb.fcurves) == 24 * 4 + 3
    assert len(cb.fcurves[0].keyframe_points) == r2.keys
    assert "My pose" in bpy.data.actions and len(obj.animation_data.nla_tracks) == 2


def test_regenerate_range_keeps_keys_outside():
    obj = make_rig()
    a = synthetic_anim(obj, 4.0, seed=1)
    b = synthetic_anim(obj, 4.0, seed=2)
    write_action(obj, a, scene_fps=30, frame_start=1, mode="dense")
    first = obj.animation_data.action
    rep = write_action(obj, b, scene_fps=30, frame_start=1, beat_times=np.arange(0, 4, 0.5), frame_range=(31, 60))
    assert obj.animation_data.action != first and first.name in bpy.data.actions
    fcs_a = {(fc.data_path, fc.array_index): fc for fc in channelbag(obj, first).fcurves}
    for fc in channelbag(obj).fcurves:
        old = fcs_a[(fc.data_path, fc.array_index)]
        new_keys = {int(round(k.co[0])): k.co[1] for k in fc.keyframe_points}
        for k in old.keyframe_points:
            f = int(round(k.co[0]))
            if f < 31 or f > 60:
                assert new_keys[f] == pytest.approx(k.co[1], abs=1e-7)
        assert 31 in new_keys and 60 in new_keys       # the regenerated range is pinned at both ends
    assert rep.frames[0] >= 31 and rep.frames[1] <= 60 and rep.max_error_m <= TOL
    # the range is b joined onto a (rigs/seams.py): b's own pose inside, shifted and turned
    # as a whole and faded in and out at the seams, so no joint jumps at frames 31 or 60
    cb = channelbag(obj)
    fcs = {(fc.data_path, fc.array_index): fc for fc in cb.fcurves}
    frames = np.arange(26, 66)
    rot = np.array([[[fcs[(f'pose.bones["{n}"].rotation_quaternion', i)].evaluate(f) for i in range(4)]
                     for n in b.bone_names] for f in frames])
    loc = np.array([[fcs[('pose.bones["pelvis"].location', i)].evaluate(f) for i in range(3)] for f in frames])
    step = np.linalg.norm(np.diff(b.joint_positions(rot, loc), axis=0), axis=-1).max(1)
    ref_a, ref_b = (np.linalg.norm(np.diff(m.joint_positions(), axis=0), axis=-1).max(1) for m in (a, b))
    typical = max(np.percentile(ref_a, 99), np.percentile(ref_b, 99))
    assert step.max() <= 1.5 * typical, (step.round(3), typical)


def test_markers_replace_only_choreo_markers():
    scene = bpy.context.scene
    scene.timeline_markers.new("cue lights", frame=7)
    n = add_dance_markers(scene, beats=np.arange(0, 4, 0.5), downbeats=np.arange(0, 4, 2.0),
                          sections=np.array([0.0, 2.0]), frame_start=1, scene_fps=24)
    names = {m.frame: m.name for m in scene.timeline_markers}
    assert n == 8 and len(names) == 9
    assert names[1] == "choreo:section A · bar 1" and names[49] == "choreo:section B · bar 2"
    assert names[13] == "choreo:·" and names[7] == "cue lights"
    n = add_dance_markers(scene, beats=[0.0, 1.0], downbeats=[0.0], sections=[], frame_start=101, scene_fps=24)
    names = sorted((m.frame, m.name) for m in scene.timeline_markers)
    assert n == 2 and names == [(7, "cue lights"), (101, "choreo:bar 1"), (125, "choreo:·")]


def test_dense_write_speed_24_bones_3600_frames():
    obj = make_rig()
    anim = synthetic_anim(obj, 3599 / 30, accents=())
    t = time.perf_counter()
    rep = write_action(obj, anim, scene_fps=30, frame_start=1, mode="dense")
    total = time.perf_counter() - t
    print(f"\ndense 24 bones x 3600 frames: keys written in {rep.write_seconds:.3f} s "
          f"({rep.keys * rep.channels} keyframe points; {total:.2f} s with evaluation check)")
    assert rep.keys == 3600 and rep.write_seconds < 0.5 and rep.max_error_m < 1e-5


def test_bad_inputs_leave_rig_untouched():
    obj = make_rig()
    anim = synthetic_anim(obj, 1.0)
    with pytest.raises(ChoreoInputError):
        write_action(obj, anim, scene_fps=24, frame_start=1, mode="sparse")
    with pytest.raises(ChoreoInputError, match="frame range"):
        write_action(obj, anim, scene_fps=24, frame_start=1, frame_range=(500, 600))
    assert obj.animation_data is None and not bpy.data.actions
    mesh = bpy.data.objects.new("Box", bpy.data.meshes.new("Box"))
    with pytest.raises(ChoreoInputError, match="Box"):
        write_action(mesh, anim, scene_fps=24, frame_start=1)


def _state(scene, obj):
    ad = obj.animation_data
    return (sorted(a.name for a in bpy.data.actions), sorted((m.name, m.frame) for m in scene.timeline_markers),
            ad.action.name if ad and ad.action else None, sorted(t.name for t in ad.nla_tracks) if ad else [],
            [pb.rotation_mode for pb in obj.pose.bones])


def test_apply_dance_cmu_take_on_default_rig(mocap_dir):
    pytest.importorskip("choreo.rigs.retarget")
    from choreo.core.formats.bvh import load_bvh_motion
    from choreo.core.generation.dance import Dance
    from choreo.rigs.apply import apply_dance
    from choreo.rigs.armature import build_default_rig

    motion = load_bvh_motion(mocap_dir / "005" / "005_02.bvh").resample(30).frames(0, 181)
    motion = motion.normalized_facing().on_floor()
    beats = np.arange(0, motion.duration, 0.5)
    dance = Dance(motion=motion, beats=beats, downbeats=beats[::4], sections=np.array([0.0, 4.0]),
                  audio_path=None, audio_start=0.0, tempo=120.0, model="test", seed=0, energy=1.0)
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 24, 1.0
    scene.timeline_markers.new("cue", frame=3)
    arm = build_default_rig(with_mesh=False)
    for pb in arm.pose.bones[:3]:
        pb.rotation_mode = 'XYZ'                   # a user's rig in Euler: restored on failure
    before = _state(scene, arm)
    with pytest.raises(ChoreoInputError):
        apply_dance(dance, arm, scene, frame_start=1, key_mode="bogus")
    assert _state(scene, arm) == before            # all or nothing

    rep = apply_dance(dance, arm, scene, frame_start=1, tolerance_m=TOL)
    dense = apply_dance(dance, arm, scene, frame_start=1, key_mode="dense")
    print(f"\nCMU 005_02 (6 s ballet) on the default rig: {rep['keys']} keys, {rep['keys_per_second']:.1f}/s "
          f"(dense {dense['keys_per_second']:.0f}/s), key error max {rep['key_error_max_m'] * 1000:.1f} mm "
          f"mean {rep['key_error_mean_m'] * 1000:.2f} mm, retarget error mean {rep['retarget_error_mean_m'] * 1000:.0f} mm, "
          f"{rep['timings']['total_s']:.2f} s")
    assert rep["action"] == "Choreo Dance" and dense["action"] == "Choreo Dance.001"
    assert rep["key_error_max_m"] <= TOL and dense["key_error_max_m"] < 1e-5
    assert rep["keys"] < dense["keys"] and rep["frames"] == (1, 145)
    assert rep["bone_map"] == "choreo" and rep["markers"] == len(beats)
    names = {m.frame: m.name for m in scene.timeline_markers}
    assert names[3] == "cue" and names[1] == "choreo:section A · bar 1"
    assert all(pb.rotation_mode == 'QUATERNION' for pb in arm.pose.bones[:3])


def test_frame_start_follows_sound_strip(music_dir):
    from choreo.rigs.apply import dance_frame_start

    song = sorted(music_dir.glob("*.ogg"))[0]
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 24, 1.0
    ed = scene.sequence_editor_create()
    strips = ed.strips if hasattr(ed, "strips") else ed.sequences   # 5.0 / 4.5
    strip = strips.new_sound("song", str(song), channel=1, frame_start=10)
    strip.sound_offset = 0.5

    class D:   # only the fields dance_frame_start reads
        audio_path, audio_start = str(song), 2.0

    assert dance_frame_start(D, scene) == pytest.approx(10 + (2.0 + 0.5) * 24)  # the offset delays the sound
    D.audio_path = str(song.with_name("other.ogg"))
    assert dance_frame_start(D, scene) == scene.frame_start


def test_linked_rig_is_refused(tmp_path):
    make_rig("Linked")
    path = str(tmp_path / "lib.blend")
    bpy.ops.wm.save_as_mainfile(filepath=path)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    with bpy.data.libraries.load(path, link=True) as (src, dst):
        dst.objects = ["Linked"]
    obj = dst.objects[0]
    bpy.context.scene.collection.objects.link(obj)
    assert obj.library is not None
    anim = synthetic_anim(obj, 1.0)
    with pytest.raises(ChoreoInputError, match="Linked.*library"):
        write_action(obj, anim, scene_fps=24, frame_start=1)
    assert not bpy.data.actions


def test_numpy_fcurve_evaluation_equals_blenders():
    """rigs.fcurve_eval (used to measure the On Beats error) gives what FCurve.evaluate
    gives: auto, auto-clamped, vector and long free handles, fractional key frames,
    frames before, between, on and after the keys."""

    from choreo.rigs import actions, fcurve_eval

    bpy.ops.wm.read_factory_settings(use_empty=True)
    obj = bpy.data.objects.new("o", None)
    bpy.context.scene.collection.objects.link(obj)
    act = bpy.data.actions.new("t")
    slot = act.slots.new(id_type='OBJECT', name='o')
    obj.animation_data_create()
    obj.animation_data.action, obj.animation_data.action_slot = act, slot
    cb = actions.ensure_channelbag(act, slot)  # 4.5 has no anim_utils helper for it
    rng = np.random.default_rng(0)
    handle_types = ("AUTO_CLAMPED", "AUTO", "VECTOR")
    for i in range(20):
        fc = cb.fcurves.new(f'["p{i}"]', index=0)
        n = int(rng.integers(1, 40))
        fr = np.sort(rng.choice(np.arange(-10, 400), n, replace=False)).astype(np.float32)
        if i % 4 == 0:
            fr = fr + rng.random(n).astype(np.float32) * 0.5
        vals = rng.standard_normal(n).astype(np.float32) * (10 if i % 2 else 0.1)
        ht = np.full(n, actions.enum_value("handle_left_type", handle_types[i % 3]), np.int32)
        actions.write_keys(fc, {"co": np.stack([fr, vals], 1), "handle_left_type": ht, "handle_right_type": ht,
                                "interpolation": np.full(n, actions.enum_value("interpolation", "BEZIER"), np.int32)})
        if i % 5 == 4:  # free handles longer than their segments: Blender shortens them
            for kp in fc.keyframe_points:
                kp.handle_left_type = kp.handle_right_type = 'FREE'
                kp.handle_left = (kp.co.x - 30, kp.co.y + 3)
                kp.handle_right = (kp.co.x + 30, kp.co.y - 3)
    linear = cb.fcurves.new('["lin"]', index=0)  # not Bezier: evaluated by Blender itself
    linear.keyframe_points.insert(0, 0.0).interpolation = 'LINEAR'
    linear.keyframe_points.insert(10, 1.0)
    frames = np.arange(-20, 420, 0.37)
    mine = fcurve_eval.evaluate(list(cb.fcurves), frames)
    ref = np.array([[fc.evaluate(f) for f in frames.tolist()] for fc in cb.fcurves]).T
    # Blender solves the segment's cubic in single precision: 1e-4 relative to the curve's range
    scale = np.maximum(np.abs(ref).max(axis=0), 1e-3)
    assert (np.abs(mine - ref).max(axis=0) / scale).max() < 1e-4
