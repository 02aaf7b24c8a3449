"""Key Poses mode (rigs/keyposes.py): poses on beats and on the half-beats the
motion needs, eased aligned handles, and the remaining error per bone group,
on the real bpy module.

Synthetic armatures and animations come from tests/test_keys.py; the end-to-end
test generates a real dance with the shipped default weights on a demo song.
"""

from __future__ import annotations

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
pytestmark = pytest.mark.blender

from choreo.core import skeleton as sk  # noqa: E402
from choreo.rigs import actions, fcurve_eval  # noqa: E402
from choreo.rigs.bonegroups import BONE_GROUPS, channel_groups, group_errors, joint_groups  # noqa: E402
from choreo.rigs.keyposes import ERROR_PROPERTY, ease_handles, read_error_record, velocities  # noqa: E402
from choreo.rigs.keys import _channel_values, sample_at, write_action  # noqa: E402


def _keys_helpers():
    """tests/test_keys.py's rig and animation builders (the suite runs in importlib
    mode: test modules are not importable by name)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("_choreo_test_keys", Path(__file__).with_name("test_keys.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_tk = _keys_helpers()
channelbag, evaluated_error, make_rig, synthetic_anim = (_tk.channelbag, _tk.evaluated_error, _tk.make_rig,
                                                         _tk.synthetic_anim)
BPM = 120.0
FPS, F0 = 24.0, 1


@pytest.fixture(autouse=True)
def empty_file():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    yield


def sway_anim(obj, seconds: float, fps: float = 30.0, seed: int = 0, accents=(3.25, 5.75)):
    """A dance-like animation: slow sways (0.15–0.35 Hz, 0.3 rad) on every bone, a slow
    root, and sharp 0.08-s accents at ``accents`` (s): at 120 BPM, on half-beats."""
    from choreo.rigs.animation import RigAnimation

    rng = np.random.default_rng(seed)
    skel = _tk.rig_skeleton(obj)
    T = int(round(seconds * fps)) + 1
    t = np.arange(T) / fps
    B = len(skel.names)
    axes = rng.normal(size=(B, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    angle = 0.3 * np.sin(2 * np.pi * rng.uniform(0.15, 0.35, B)[None] * t[:, None] + rng.uniform(0, 6, B)[None])
    for a in accents:
        angle += 0.5 * np.exp(-0.5 * ((t[:, None] - a) / 0.08) ** 2) * rng.choice([-1, 1], B)[None]
    rot = np.concatenate([np.cos(angle / 2)[..., None], np.sin(angle / 2)[..., None] * axes[None]], -1)
    loc = np.stack([0.2 * np.sin(0.5 * t), 0.1 * np.sin(t), 0.02 * np.sin(np.pi * t / 2)], 1)
    anim = RigAnimation(armature=obj.name, bone_names=list(skel.names), rotations=rot, root_bone="pelvis",
                        root_location=loc, fps=fps, skeleton=skel, joint_names=list(sk.JOINT_NAMES),
                        joint_bones=list(sk.JOINT_NAMES), target_positions=np.zeros((T, 24, 3)))
    anim.target_positions = anim.joint_positions()
    return anim


def _beat_frames(beats, seconds: float):
    """(beat frames, allowed frames): each beat's nearest frame (plus first/last)
    and every half-beat between two of them."""
    last = F0 + int(round(seconds * FPS))
    bf = np.unique(np.r_[np.round(F0 + np.asarray(beats) * FPS).astype(int), F0, last])
    half = np.round((bf[1:] + bf[:-1]) / 2).astype(int)
    return bf, set(bf.tolist()) | set(half.tolist())


def _curves(obj, anim):
    fcs = {(fc.data_path, fc.array_index): fc for fc in channelbag(obj).fcurves}
    out = []
    for b in anim.bone_names:
        out += [fcs[(f'pose.bones["{b}"].rotation_quaternion', i)] for i in range(4)]
    return out + [fcs[(f'pose.bones["{anim.root_bone}"].location', i)] for i in range(3)]


def test_poses_keys_only_beats_and_half_beats():
    obj = make_rig()
    anim = sway_anim(obj, 8.0)
    beats = np.arange(0, 8.0, 60 / BPM)
    rep = write_action(obj, anim, scene_fps=FPS, frame_start=F0, beat_times=beats, mode="poses")
    beat_frames, allowed = _beat_frames(beats, 8.0)
    fcs = _curves(obj, anim)
    for fc in fcs:   # a full pose on every key, all on the same frames
        assert len(fc.keyframe_points) == rep.keys
    frames = np.array([kp.co.x for kp in fcs[0].keyframe_points]).astype(int)
    assert set(frames.tolist()) <= allowed                      # never on arbitrary frames
    assert set(beat_frames.tolist()) <= set(frames.tolist())    # every beat is a pose
    halves = sorted(set(frames.tolist()) - set(beat_frames.tolist()))
    assert 0 < len(halves) <= (len(beat_frames) - 1) // 2       # half-beats only where needed
    # the sharp accents on the half-beats at 3.25 s and 5.75 s get a key each
    assert {F0 + int(3.25 * FPS), F0 + int(5.75 * FPS)} <= set(halves)
    types = {int(kp.co.x): kp.type for kp in fcs[0].keyframe_points}
    assert all(types[f] == "KEYFRAME" for f in beat_frames) and all(types[h] == "BREAKDOWN" for h in halves)
    dense = write_action(obj, anim, scene_fps=FPS, frame_start=F0, mode="dense")
    beats_rep = write_action(obj, anim, scene_fps=FPS, frame_start=F0, beat_times=beats, mode="beats")
    print(f"\nposes: {rep.keys} keys ({rep.keys / len(beats):.2f}/beat), max {rep.max_error_m * 1000:.1f} mm, "
          f"mean {rep.mean_error_m * 1000:.2f} mm; beats: {beats_rep.keys} keys; dense {dense.keys}")
    assert rep.keys <= beats_rep.keys < dense.keys


def test_handles_aligned_through_every_key_without_overshoot():
    obj = make_rig()
    anim = synthetic_anim(obj, 6.0, seed=3)
    beats = np.arange(0, 6.0, 60 / BPM)
    write_action(obj, anim, scene_fps=FPS, frame_start=F0, beat_times=beats, mode="poses")
    fcs = _curves(obj, anim)
    frames = np.arange(F0, F0 + int(round(6.0 * FPS)) + 1)
    rot, loc = sample_at(anim, (frames - F0) / FPS)
    ref = _channel_values(rot, loc)
    for c, fc in enumerate(fcs):
        k = actions.read_keys(fc)
        x, y = k["co"][:, 0].astype(np.float64), k["co"][:, 1].astype(np.float64)
        for name in ("handle_left_type", "handle_right_type"):
            assert {actions.enum_value(name, "ALIGNED")} == set(k[name].tolist())   # set, not auto
        # the curve passes through every key, and the key is the motion at that frame
        assert np.allclose([fc.evaluate(f) for f in x.tolist()], y, atol=1e-6)
        assert np.allclose(y, ref[x.astype(int) - F0, c], atol=1e-6)
        # handles a third of the neighbouring interval; left and right on one line through the key
        h = np.diff(x)
        assert np.allclose(x[1:] - k["handle_left"][1:, 0], h / 3, atol=1e-3)
        assert np.allclose(k["handle_right"][:-1, 0] - x[:-1], h / 3, atol=1e-3)
        sl = (y - k["handle_left"][:, 1]) * (k["handle_right"][:, 0] - x)
        sr = (k["handle_right"][:, 1] - y) * (x - k["handle_left"][:, 0])
        assert np.allclose(sl, sr, atol=1e-5)
        # no overshoot: between two keys the curve stays within what the motion does there
        sub = np.arange(x[0], x[-1], 0.25)
        val = np.array([fc.evaluate(f) for f in sub.tolist()])
        seg = np.clip(np.searchsorted(x, sub, side="right") - 1, 0, len(x) - 2)
        idx = (x - F0).astype(int)
        lo = np.array([ref[idx[s]:idx[s + 1] + 1, c].min() for s in range(len(x) - 1)])
        hi = np.array([ref[idx[s]:idx[s + 1] + 1, c].max() for s in range(len(x) - 1)])
        assert np.all(val >= lo[seg] - 1e-5) and np.all(val <= hi[seg] + 1e-5)


def test_error_per_group_matches_blenders_evaluation():
    obj = make_rig()
    anim = synthetic_anim(obj, 8.0, seed=1)
    beats = np.arange(0, 8.0, 60 / BPM)
    rep = write_action(obj, anim, scene_fps=FPS, frame_start=F0, beat_times=beats, mode="poses")
    assert list(rep.group_max_error_m) == list(BONE_GROUPS)
    frames = np.arange(F0, F0 + int(round(8.0 * FPS)) + 1)
    err = evaluated_error(obj, anim, frames, F0, FPS)      # FCurve.evaluate, frame by frame
    gmax, gmean = group_errors(err, joint_groups(anim))
    for g in BONE_GROUPS:
        assert rep.group_max_error_m[g] == pytest.approx(gmax[g], abs=2e-5)
        assert rep.group_mean_error_m[g] == pytest.approx(gmean[g], abs=2e-5)
    assert rep.max_error_m == pytest.approx(max(gmax.values()), abs=2e-5)
    print("\nper group max/mean (mm): " + ", ".join(
        f"{g} {gmax[g] * 1000:.1f}/{gmean[g] * 1000:.2f}" for g in BONE_GROUPS))


def test_bone_groups_of_channels():
    obj = make_rig()
    anim = synthetic_anim(obj, 1.0)
    groups = channel_groups(anim)
    assert len(groups) == 4 * len(anim.bone_names) + 3 and groups[-3:] == ["root"] * 3
    by_bone = dict(zip(anim.bone_names, groups[:-3:4]))
    assert by_bone["pelvis"] == "root" and by_bone["l_wrist"] == "left_arm" and by_bone["r_collar"] == "right_arm"
    assert by_bone["l_knee"] == "legs" and by_bone["neck"] == "spine_head"
    assert sorted(j for js in BONE_GROUPS.values() for j in js) == sorted(sk.JOINT_NAMES)
    assert set(joint_groups(anim)) == set(BONE_GROUPS)


def test_fcurve_eval_matches_blender_for_set_handles():
    """rigs.fcurve_eval gives what FCurve.evaluate gives for Key Poses' aligned handles,
    and for aligned handles of any length (asymmetric, longer than the segment)."""
    obj = make_rig()
    anim = synthetic_anim(obj, 6.0, seed=2)
    write_action(obj, anim, scene_fps=FPS, frame_start=F0, beat_times=np.arange(0, 6.0, 0.5), mode="poses")
    fcs = _curves(obj, anim)
    frames = np.arange(-3, F0 + 6 * FPS + 4, 0.37)
    mine = fcurve_eval.evaluate(fcs, frames)
    ref = np.array([[fc.evaluate(f) for f in frames.tolist()] for fc in fcs]).T
    scale = np.maximum(np.abs(ref).max(axis=0), 1e-3)
    assert (np.abs(mine - ref).max(axis=0) / scale).max() < 1e-4

    rng = np.random.default_rng(0)
    aligned = actions.enum_value("handle_left_type", "ALIGNED")
    for fc in fcs[:12]:   # random aligned handles: the same x for every curve or not
        n = len(fc.keyframe_points)
        k = actions.read_keys(fc)
        slope = rng.normal(size=n) * 0.2
        ll, lr = rng.uniform(0.1, 12, n), rng.uniform(0.1, 12, n)
        k["handle_left"] = np.stack([k["co"][:, 0] - ll, k["co"][:, 1] - slope * ll], 1)
        k["handle_right"] = np.stack([k["co"][:, 0] + lr, k["co"][:, 1] + slope * lr], 1)
        k["handle_left_type"] = k["handle_right_type"] = np.full(n, aligned, np.int32)
        actions.write_keys(fc, k)
    mine = fcurve_eval.evaluate(fcs, frames)
    ref = np.array([[fc.evaluate(f) for f in frames.tolist()] for fc in fcs]).T
    scale = np.maximum(np.abs(ref).max(axis=0), 1e-3)
    assert (np.abs(mine - ref).max(axis=0) / scale).max() < 1e-4


def test_ease_handles_clamped_to_the_motion():
    """bpy-free handle maths: slope from the motion's velocity where there is room,
    scaled down (keeping both handles aligned) where a segment would overshoot."""
    frames = np.arange(0, 31)
    vals = np.sin(frames / 30 * 2 * np.pi)[:, None]            # one period, 30 frames
    keys = np.array([0, 10, 20, 30])
    hd = ease_handles(frames, keys, vals)
    vel = velocities(vals)
    assert np.allclose(hd.right_x - frames[keys], [10 / 3] * 3 + [10 / 3])
    # never steeper than the motion, and at least one handle shortened: key 10 sits past the
    # peak at 7.5, its left handle would rise above the segment's maximum (1.0) at full slope
    assert hd.left_y[1, 0] <= 1.0 + 1e-12
    for k, i in enumerate(keys):
        right_slope = (hd.right_y[k, 0] - vals[i, 0]) / (hd.right_x[k] - i)
        assert abs(right_slope) <= abs(vel[i, 0]) + 1e-12
    lo = [vals[a:b + 1].min() for a, b in zip(keys[:-1], keys[1:])]
    hi = [vals[a:b + 1].max() for a, b in zip(keys[:-1], keys[1:])]
    assert np.all(hd.right_y[:-1, 0] >= np.array(lo) - 1e-12) and np.all(hd.right_y[:-1, 0] <= np.array(hi) + 1e-12)
    assert np.all(hd.left_y[1:, 0] >= np.array(lo) - 1e-12) and np.all(hd.left_y[1:, 0] <= np.array(hi) + 1e-12)


def test_generated_dance_poses_fewer_keys_than_beats(tmp_path):
    """A real dance (shipped default weights, 20-s demo song) on the default rig:
    Key Poses needs no more keys per beat than On Beats, reports the error per
    group in apply_dance's report and keeps it on the rig for the panel."""
    from choreo.core.audio.demo import write_demo_wav
    from choreo.core.generation.pipeline import generate_dance
    from choreo.rigs.apply import apply_dance
    from choreo.rigs.armature import build_default_rig

    song = tmp_path / "song.wav"
    write_demo_wav(song, bars=10, tempo=120.0)
    dance = generate_dance(song)
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 30, 1.0
    arm = build_default_rig(with_mesh=False)
    with pytest.raises(Exception):
        apply_dance(dance, arm, scene, frame_start=1, key_mode="bogus")
    assert ERROR_PROPERTY not in arm                             # a failure leaves no record
    beats = apply_dance(dance, arm, scene, frame_start=1, key_mode="beats")
    poses = apply_dance(dance, arm, scene, frame_start=1, key_mode="poses")
    n = len(dance.beats)
    print(f"\n20-s generated dance: beats {beats['keys'] / n:.2f} keys/beat (max {beats['key_error_max_m'] * 100:.1f} "
          f"cm), poses {poses['keys'] / n:.2f} keys/beat (max {poses['key_error_max_m'] * 100:.1f} cm, "
          f"mean {poses['key_error_mean_m'] * 1000:.1f} mm)")
    assert poses["keys"] / n <= beats["keys"] / n
    assert poses["keys"] <= 2 * (n + 1) + 1
    assert set(poses["key_error_groups_max_m"]) == set(BONE_GROUPS)
    assert max(poses["key_error_groups_max_m"].values()) == pytest.approx(poses["key_error_max_m"])
    rec = read_error_record(arm)
    assert rec["mode"] == "poses" and rec["max_m"] == pytest.approx(poses["key_error_groups_max_m"], abs=1e-6)
    assert tuple(rec["frames"]) == tuple(poses["frames"])


class _Layout:
    """Records what a panel draws (labels), accepting any layout call."""

    def __init__(self, labels=None):
        self.labels = [] if labels is None else labels

    def label(self, text="", **_kw):
        self.labels.append(text)

    def __getattr__(self, name):   # column(), row(), box(), grid_flow(), prop(), operator(), ...
        return lambda *a, **k: _Layout(self.labels)


def test_generate_key_poses_shows_error_per_group_in_the_panel(tmp_path):
    """Generate Dance in Key Poses mode (the add-on's operator, shipped weights, 10-s demo
    song); the panel then draws the per-group error kept on the armature."""
    import choreo
    from choreo.addon import panels
    from choreo.core.audio.demo import write_demo_wav
    from choreo.rigs.bonegroups import GROUP_LABELS

    song = tmp_path / "song.wav"
    write_demo_wav(song, bars=5, tempo=120.0)
    choreo.register()
    try:
        sc = bpy.context.scene
        sc.render.fps = 30
        ed = sc.sequence_editor_create()
        ed.active_strip = ed.strips.new_sound("Music", str(song), channel=1, frame_start=1)
        sc.choreo.key_mode = "POSES"
        assert bpy.ops.choreo.generate() == {"FINISHED"}
        arm = sc.choreo.target
        rec = read_error_record(arm)
        assert rec["mode"] == "poses" and set(rec["max_m"]) == set(BONE_GROUPS)
        fcs = [fc for fc in channelbag(arm).fcurves if fc.data_path.endswith("rotation_quaternion")]
        assert {kp.handle_left_type for fc in fcs for kp in fc.keyframe_points} == {"ALIGNED"}
        layout = _Layout()
        panels._draw(layout, bpy.context)
        assert any(t.startswith("Key error · Key Poses") for t in layout.labels)
        for g, label in GROUP_LABELS.items():
            i = layout.labels.index(label)
            assert layout.labels[i + 1] == (f"max {rec['max_m'][g] * 100:.1f} cm · "
                                            f"mean {rec['mean_m'][g] * 100:.1f} cm")
    finally:
        choreo.unregister()


def test_poses_in_a_regenerated_range_keep_the_keys_outside():
    obj = make_rig()
    anim = sway_anim(obj, 8.0)
    beats = np.arange(0, 8.0, 60 / BPM)
    write_action(obj, anim, scene_fps=FPS, frame_start=F0, beat_times=beats, mode="poses")
    before = [actions.read_keys(fc) for fc in _curves(obj, anim)]
    other = sway_anim(obj, 8.0, seed=5)
    rep = write_action(obj, other, scene_fps=FPS, frame_start=F0, beat_times=beats, mode="poses",
                       frame_range=(40, 120))
    assert rep.frames == (40, 120) and set(rep.group_max_error_m) == set(BONE_GROUPS)
    bf, _ = _beat_frames(beats, 8.0)
    poses = np.unique(np.r_[bf[(bf >= 40) & (bf <= 120)], 40, 120])   # the range's ends are poses too
    allowed = set(poses.tolist()) | set(np.round((poses[1:] + poses[:-1]) / 2).astype(int).tolist())
    for old, fc in zip(before, _curves(obj, other)):
        new = actions.read_keys(fc)
        x = new["co"][:, 0]
        out_old, out_new = (old["co"][:, 0] < 40) | (old["co"][:, 0] > 120), (x < 40) | (x > 120)
        assert np.array_equal(old["co"][out_old], new["co"][out_new])          # kept as they were
        assert set(x[~out_new].astype(int).tolist()) <= allowed                # beats and half-beats
        inside = ~out_new
        assert {int(t) for t in new["handle_left_type"][inside]} == {actions.enum_value("handle_left_type", "ALIGNED")}
