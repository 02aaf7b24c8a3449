"""The add-on in real Blender (background mode): strip reading, Generate / Regenerate
Range / Bake, the worker thread, and bad input leaving the scene as it was."""

from __future__ import annotations

import os
import shutil
import time

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
pytestmark = pytest.mark.blender

import choreo  # noqa: E402
from choreo.addon import operators, strip_audio  # noqa: E402
from choreo.addon.worker import Cancelled, Job  # noqa: E402
from choreo.core.audio.demo import write_demo_wav  # noqa: E402
from choreo.core.audio.io import load_audio  # noqa: E402


def tiny_weights(path, seed=0):
    """Random-init generator weights (tiny config) with pose statistics of a
    standing dancer, so the decoded motion is a plausible small wobble."""
    from choreo.core.generation.families.ren.runtime import expected_shapes
    from choreo.core.models.config import GeneratorConfig
    from choreo.core.models.representation import encode_3d
    from choreo.core.models.weights import save_weights
    from choreo.core.motion import Motion
    from choreo.core.skeleton_maps import smpl_rest_joints

    cfg = GeneratorConfig(enc_channels=(4, 8, 8), enc_dim=16, noise_dim=2, hidden=16, gru_layers=1, mlp_hidden=32)
    rng = np.random.default_rng(seed)
    t = {}
    for k, shape in expected_shapes(cfg).items():
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
        t[k] = (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)
    stand = Motion(np.repeat((smpl_rest_joints() + [0, 0, 0.95])[None], 4, 0))
    t["norm_mean"] = encode_3d(stand).mean(0).astype(np.float32)
    t["norm_std"] = np.full(cfg.pose_dim, 0.03, np.float32)
    t["energy_stats"] = np.array([0.0, 1.0], np.float32)
    save_weights(path, t, {"kind": "generator", "model": "ren", "variant": "full", "config": cfg.to_dict(),
                           "corpus": {}, "training": {"note": "random init, tests only"}})
    return str(path)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("addon")
    song = d / "song.wav"
    track = write_demo_wav(song, bars=5, tempo=120.0)  # 10 s, beats every 0.5 s
    return {"dir": d, "song": str(song), "track": track, "weights": tiny_weights(d / "tiny.safetensors")}


@pytest.fixture(scope="module", autouse=True)
def addon():
    choreo.register()
    yield
    choreo.unregister()


def new_scene(files, *, fps=30, fps_base=1.0, frame_start=11, song=None):
    """A fresh scene with the song as the active sound strip at ``frame_start``."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    sc = bpy.context.scene
    sc.render.fps, sc.render.fps_base = fps, fps_base
    ed = sc.sequence_editor_create()
    s = ed.strips.new_sound("Music", song or files["song"], channel=1, frame_start=frame_start)
    ed.active_strip = s
    sc.choreo.model, sc.choreo.weights_file = "FILE", files["weights"]
    return sc, s


def state(sc):
    """What a failed operator must leave untouched."""
    return (sorted(o.name for o in bpy.data.objects), sorted(a.name for a in bpy.data.actions),
            sorted((m.name, m.frame) for m in sc.timeline_markers), (sc.frame_start, sc.frame_end),
            sorted(bpy.data.armatures.keys()), sorted(bpy.data.meshes.keys()))


# --- reading the strip --------------------------------------------------------

def test_trimmed_offset_strip_at_23976_fps(files):
    sc, s = new_scene(files, fps=24, fps_base=1.001, frame_start=5)
    fps = 24 / 1.001
    s.frame_final_start = 5 + 48          # trim 48 frames off the left handle
    s.frame_final_end = 5 + 48 + 120      # 120 audible frames
    s.sound_offset = 0.25
    a = strip_audio.read_strip_audio(s, sc)
    offset = 48 / fps - 0.25  # Sound Offset delays the sound: the trim skips 0.25 s less of the file
    assert a.offset == pytest.approx(offset, abs=1e-6)  # float32 fps_base, offset
    assert a.duration == pytest.approx(120 / fps, abs=1e-6)
    assert a.frame_start == 53 and a.scene_fps == pytest.approx(fps)
    ref, _ = load_audio(files["song"], sr=a.sr, offset=a.offset, duration=a.duration)
    # Blender's aud scales 16-bit PCM by 1/32767, libsndfile by 1/32768 (a 3e-5 gain the
    # generator's loudness normalisation removes); otherwise the same samples.
    assert len(a.samples) == len(ref) and np.allclose(a.samples, ref * 32768 / 32767, rtol=1e-6, atol=1e-7)
    # An independent check against the synthesised signal: the same samples at 22050 Hz.
    track = files["track"]
    i = int(round(offset * track.sr))
    assert np.abs(a.samples[:2000] - track.audio[i:i + 2000]).max() < 1e-3


def test_relative_and_packed_sounds(files, tmp_path):
    song = tmp_path / "music" / "song.wav"
    song.parent.mkdir()
    shutil.copy(files["song"], song)
    sc, s = new_scene(files, song=str(song))
    blend = tmp_path / "project.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    s = bpy.context.scene.sequence_editor.active_strip
    s.sound.filepath = "//music/song.wav"
    a = strip_audio.read_strip_audio(s, bpy.context.scene)
    assert a.path == str(song) and a.duration > 9.9
    s.sound.pack()
    os.rename(song, song.with_suffix(".gone"))  # only the packed bytes are left
    packed = strip_audio.read_strip_audio(s, bpy.context.scene)
    assert packed.path == "" and np.array_equal(packed.samples, a.samples)


# --- Generate, Bake, Regenerate Range ----------------------------------------

def test_generate_keys_new_dancer_with_markers(files):
    sc, s = new_scene(files, frame_start=11)
    s.frame_final_end = 11 + 150  # 5 s
    actions_before = set(bpy.data.actions)
    assert bpy.ops.choreo.generate() == {"FINISHED"}
    arm = sc.choreo.target
    assert arm is not None and arm.type == "ARMATURE"
    new = set(bpy.data.actions) - actions_before
    assert len(new) == 1, [a.name for a in new]
    act = arm.animation_data.action
    assert act in new
    from bpy_extras import anim_utils

    cb = anim_utils.action_get_channelbag_for_slot(act, arm.animation_data.action_slot)
    frames = np.concatenate([[k.co.x for k in fc.keyframe_points] for fc in cb.fcurves])
    assert len(cb.fcurves) > 20 and frames.min() == pytest.approx(11, abs=0.51)
    assert frames.max() <= 11 + 150 + 1
    marks = {m.name: m.frame for m in sc.timeline_markers if m.name.startswith("choreo:")}
    bars = np.array(sorted(f for n, f in marks.items() if "bar" in n))
    # Bars land on the strip's frames: 120 BPM 4/4 at 30 fps → a bar every 60 frames from frame 11.
    assert len(bars) >= 2 and np.all(np.abs((bars - 11 + 30) % 60 - 30) <= 1), bars
    assert [f for n, f in marks.items() if n.startswith("choreo:section A")] == [11]  # "· bar 1" when a bar starts there
    assert sc.frame_start == 11 and sc.frame_end == 160
    assert any(o.type == "CAMERA" for o in bpy.data.objects)

    # Bake: a key on every frame in a new action, the dance action kept.
    n_frames = int(act.frame_range[1] - act.frame_range[0]) + 1
    assert bpy.ops.choreo.bake() == {"FINISHED"}
    baked = arm.animation_data.action
    assert baked is not act and act.name in bpy.data.actions and act.use_fake_user
    cb2 = anim_utils.action_get_channelbag_for_slot(baked, arm.animation_data.action_slot)
    rot = [fc for fc in cb2.fcurves if fc.data_path.endswith("rotation_quaternion")]
    assert rot and all(len(fc.keyframe_points) == n_frames for fc in rot)


def test_regenerate_range_keeps_keys_outside(files):
    sc, s = new_scene(files, frame_start=1)
    s.frame_final_end = 1 + 180
    assert bpy.ops.choreo.generate() == {"FINISHED"}
    arm = sc.choreo.target

    def pose(frame):
        sc.frame_set(frame)
        return np.array([tuple(pb.rotation_quaternion) for pb in arm.pose.bones])

    from choreo.rigs import actions as act_utils

    def keys_outside():
        cb = act_utils.assigned_channelbag(arm)
        out = {}
        for fc in cb.fcurves:
            co = act_utils.read_keys(fc, ["co"])["co"]
            out[(fc.data_path, fc.array_index)] = co[(co[:, 0] < 60) | (co[:, 0] > 120)]
        return out

    early, mid, late = pose(20), pose(90), pose(170)
    kept = keys_outside()
    sc.choreo.seed, sc.choreo.range_start, sc.choreo.range_end = 7, 60, 120
    assert bpy.ops.choreo.regenerate_range() == {"FINISHED"}
    assert np.abs(pose(90) - mid).max() > 1e-2  # a new variation inside
    # outside: the old keys exactly; between them the curves may bend a hair where
    # Bezier handles next to the seam re-fit (the seams themselves are issue 12)
    after = keys_outside()
    assert after.keys() == kept.keys() and all(np.array_equal(after[k], kept[k]) for k in kept)
    assert np.abs(pose(20) - early).max() < 3e-3 and np.abs(pose(170) - late).max() < 3e-3
    sc.choreo.range_start, sc.choreo.range_end = 50, 40
    with pytest.raises(RuntimeError, match="must be after"):
        bpy.ops.choreo.regenerate_range()


def test_23976_fps_scene_keys_on_strip_time(files):
    sc, s = new_scene(files, fps=24, fps_base=1.001, frame_start=1)
    s.frame_final_end = 1 + 96
    assert bpy.ops.choreo.generate() == {"FINISHED"}
    fps = 24 / 1.001
    bars = np.array(sorted(m.frame for m in sc.timeline_markers if "bar" in m.name))
    # 120 BPM 4/4 → bars every 2 s → frame 1 + 2k * 23.976 (tracked beats: ±1 frame).
    assert len(bars) >= 1
    k = np.round((bars - 1) / (2 * fps))
    assert np.all(k >= 1) and np.all(np.abs(bars - (1 + 2 * k * fps)) <= 1.0), bars
    arm = sc.choreo.target
    lo, hi = arm.animation_data.action.frame_range
    assert lo == pytest.approx(1, abs=0.5) and hi <= 1 + 96 + 0.5


def test_worker_thread_path_equals_sync_and_cancels(files):
    sc, s = new_scene(files)
    s.frame_final_end = 11 + 90
    ctx = bpy.context
    plan = operators.make_plan(ctx)
    job = Job(operators.generate, plan).start()
    t0 = time.time()
    while not job.poll():
        assert time.time() - t0 < 60
        time.sleep(0.02)
    assert job.error is None and job.fraction > 0.5
    before = state(sc)
    rep = operators.apply_plan(ctx, plan, job.result)  # the modal timer's last step
    assert rep["keys"] > 0 and state(sc) != before
    sync = operators.generate(plan)
    assert np.array_equal(sync.motion.joints, job.result.motion.joints)

    def slow(progress):
        for i in range(1000):
            progress(i / 1000, "step")
            time.sleep(0.005)
        return "finished"

    job = Job(slow).start()
    time.sleep(0.05)
    job.cancel()
    job.join(5)
    job.poll()
    assert isinstance(job.error, Cancelled) and job.result is None


# --- bad input: an error report, the scene unchanged --------------------------

def _fails(sc, match):
    before = state(sc)
    with pytest.raises(RuntimeError, match=match):
        bpy.ops.choreo.generate()
    assert state(sc) == before


def test_no_strip_selected(files):
    sc, s = new_scene(files)
    sc.sequence_editor.active_strip = None
    s.select = False
    _fails(sc, "no strip selected")


def test_non_sound_strip(files):
    sc, s = new_scene(files)
    strips = sc.sequence_editor.strips
    try:  # 5.0 takes a length, 4.5 an end frame
        color = strips.new_effect("Backdrop", "COLOR", channel=2, frame_start=1, length=50)
    except TypeError:
        color = strips.new_effect("Backdrop", "COLOR", channel=2, frame_start=1, frame_end=51)
    sc.sequence_editor.active_strip = color
    _fails(sc, "not a sound strip")


def test_missing_sound_file(files, tmp_path):
    song = tmp_path / "gone.wav"
    shutil.copy(files["song"], song)
    sc, s = new_scene(files, song=str(song))
    song.unlink()
    _fails(sc, "gone.wav.*missing")


def test_armature_without_mappable_bones(files):
    sc, s = new_scene(files)
    data = bpy.data.armatures.new("Blob")
    obj = bpy.data.objects.new("Blob", data)
    sc.collection.objects.link(obj)
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    for name, z in (("thing", 0.0), ("other", 1.0)):
        b = data.edit_bones.new(name)
        b.head, b.tail = (0, 0, z), (0, 0, z + 0.5)
    bpy.ops.object.mode_set(mode="OBJECT")
    sc.choreo.target = obj
    _fails(sc, "Blob")


def test_missing_weights_file(files):
    sc, s = new_scene(files)
    sc.choreo.weights_file = "/nonexistent/w.safetensors"
    _fails(sc, "w.safetensors.*not found")


def test_beat_grid_field_is_explicit_and_checked(files, tmp_path):
    """The panel's Beat Grid replaces tracking; a broken one is one line and nothing changes;
    a JSON that merely sits beside the song is ignored."""
    import json

    song = tmp_path / "song.wav"
    shutil.copy(files["song"], song)
    song.with_suffix(".json").write_text(json.dumps({"beats": None, "artist": "me"}))  # not a grid: ignored
    sc, s = new_scene(files, song=str(song), frame_start=1)
    s.frame_final_end = 1 + 150
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"beats": [2.0, 1.0]}))
    sc.choreo.beats_file = str(bad)
    _fails(sc, r"bad.json: beat grid: 'beats' must be strictly increasing$")
    # A grid whose bars start 0.3 s in (not where the music's are): markers follow the grid.
    grid = tmp_path / "grid.json"
    beats = 0.3 + 0.5 * np.arange(20)
    grid.write_text(json.dumps({"beats": beats.tolist(), "downbeats": beats[::4].tolist(), "meter": [4, 4]}))
    sc.choreo.beats_file = str(grid)
    assert bpy.ops.choreo.generate() == {"FINISHED"}
    bars = sorted(m.frame for m in sc.timeline_markers if m.name.startswith("choreo:bar"))
    assert bars[:3] == [1 + 9, 1 + 69, 1 + 129], bars


def test_unexpected_errors_are_one_line_and_leave_the_scene(files, monkeypatch, capsys):
    """A bug (not a user error) in generation or in keying: one report line, no traceback
    in it, the scene as it was; the worker thread's failure reads the same."""
    sc, s = new_scene(files)
    s.frame_final_end = 11 + 60

    def broken(plan, progress=None):
        raise ZeroDivisionError("float division by zero\nsecond line")

    monkeypatch.setattr(operators, "generate", broken)
    before = state(sc)
    with pytest.raises(RuntimeError) as e:
        bpy.ops.choreo.generate()
    msg = str(e.value).strip()
    assert "ZeroDivisionError" in msg and "scene is unchanged" in msg and "\n" not in msg
    assert "Traceback" not in msg and state(sc) == before
    assert "Traceback" in capsys.readouterr().err  # the details went to the console
    monkeypatch.undo()

    import choreo.rigs.apply as apply_mod

    def keying_bug(dance, obj, scene, **kw):  # after the default dancer and stage were built
        raise KeyError("bone")

    monkeypatch.setattr(apply_mod, "apply_dance", keying_bug)
    with pytest.raises(RuntimeError, match="KeyError"):
        bpy.ops.choreo.generate()
    assert state(sc) == before  # dancer, stage and frame range rolled back
    monkeypatch.undo()

    job = Job(broken, None).start()
    job.join(10)
    job.poll()
    line = operators.error_line(job.error)
    assert "ZeroDivisionError" in line and "\n" not in line


def test_registered_ui_is_findable():
    from choreo.addon import panels, preferences

    ops = (("generate", "Generate Dance"), ("regenerate_range", "Regenerate Dance Range"),
           ("fill_between_keys", "Fill Between Keys"), ("mirror_range", "Mirror Dance Range"),
           ("repeat_section", "Repeat Section"), ("bake", "Bake Dance"), ("cancel", "Cancel Dance Generation"))
    for op, label in ops:
        rna = getattr(bpy.ops.choreo, op).get_rna_type()
        assert rna.name == label and len(rna.description) > 20
        assert op == "cancel" or "UNDO" in getattr(bpy.types, f"CHOREO_OT_{op}").bl_options   # one undo step
    # every operator is in the Choreo menu (Strip, Object › Animation, Pose: what F3 searches)
    class _Layout:
        def __init__(self):
            self.ops = []

        def operator(self, idname, **kw):
            self.ops.append(idname)
            return type("Props", (), {})()

    layout = _Layout()
    panels.CHOREO_MT_menu.draw(type("Menu", (), {"layout": layout})(), bpy.context)
    assert {f"choreo.{op}" for op, _ in ops} <= set(layout.ops)
    for name in ("CHOREO_PT_sequencer", "CHOREO_PT_view3d", "CHOREO_MT_menu"):
        assert hasattr(bpy.types, name)
    # F3 searches menus: the operators sit in Strip and Object › Animation.
    for menu in panels.MENUS:
        assert panels._menu_entry in getattr(bpy.types, menu)._dyn_ui_initialize()
    assert preferences.ChoreoPreferences.bl_idname == "choreo"
    assert bpy.ops.choreo.cancel.poll() is False  # nothing running


def test_undecodable_strip_is_one_line_not_an_abort(files, tmp_path):
    """Blender accepts a text file named .wav as a strip; decoding it through aud must
    be a reported error (aud's data() on it would abort Blender), the scene unchanged."""
    fake = tmp_path / "notes.wav"
    fake.write_text("this is not audio\n" * 50)
    sc, s = new_scene(files, song=str(fake))
    _fails(sc, "notes.wav: not a WAV file")


# --- the bone map on the rig, linked rigs, strip frames, Pack Audio -----------

def _keyed_bones(obj):
    """Bones with F-curves in ``obj``'s assigned action."""
    from bpy_extras import anim_utils

    ad = obj.animation_data
    cb = anim_utils.action_get_channelbag_for_slot(ad.action, ad.action_slot)
    return {fc.data_path.split('"')[1] for fc in cb.fcurves if fc.data_path.startswith("pose.bones")}


def test_generate_stores_the_bone_map_used_and_honours_an_edit(files):
    """Generate on a Mixamo rig stores the map it used as JSON on the rig; an edited map
    (collars dropped) drives the next Generate and is what stays stored."""
    import json

    from choreo.rigs import testrigs
    from choreo.rigs.bonemaps import PROPERTY, detect_bone_map

    sc, s = new_scene(files, frame_start=1)
    s.frame_final_end = 1 + 60
    rig = testrigs.build_mixamo_rig(collection=sc.collection)
    assert PROPERTY not in rig
    sc.choreo.target = rig
    assert bpy.ops.choreo.generate() == {"FINISHED"}
    stored = json.loads(rig[PROPERTY])
    assert stored["kind"] == "mixamo" and stored["joint_to_bone"] == detect_bone_map(rig).joint_to_bone
    assert _keyed_bones(rig) == set(stored["joint_to_bone"].values())

    collars = {stored["joint_to_bone"].pop(j) for j in ("l_collar", "r_collar")}
    assert collars == {"mixamorig:LeftShoulder", "mixamorig:RightShoulder"}
    rig[PROPERTY] = json.dumps(stored)
    assert bpy.ops.choreo.generate() == {"FINISHED"}
    assert _keyed_bones(rig) == set(stored["joint_to_bone"].values())
    again = json.loads(rig[PROPERTY])
    assert again["joint_to_bone"] == stored["joint_to_bone"] and again["unmapped"] == ["l_collar", "r_collar"]


def _library_rig(files, tmp_path):
    """A scene whose default dancer "Libdancer" is linked from lib.blend (returns scene, linked object)."""
    from choreo.rigs.armature import build_default_rig

    sc, s = new_scene(files)
    build_default_rig(name="Libdancer", collection=sc.collection, with_mesh=False)
    lib = tmp_path / "lib.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(lib))
    sc, s = new_scene(files, frame_start=1)
    s.frame_final_end = 1 + 60
    with bpy.data.libraries.load(str(lib), link=True) as (src, dst):
        dst.objects = ["Libdancer"]
    obj = dst.objects[0]
    sc.collection.objects.link(obj)
    return sc, obj


def test_linked_armature_is_refused_with_what_works(files, tmp_path):
    sc, obj = _library_rig(files, tmp_path)
    sc.choreo.target = obj
    _fails(sc, r"Error: Libdancer: is linked from the library .*lib\.blend and can't be keyed; make a library override "
               r"\(Object > Library Override > Make\) and key that, or make it local")


def test_library_override_gets_its_own_action(files, tmp_path):
    """The way the refusal points: Object › Library Override › Make, then Generate keys
    the override on a local action (the library untouched), kept when the file is reopened."""
    sc, linked = _library_rig(files, tmp_path)
    bpy.context.view_layer.objects.active = linked
    linked.select_set(True)
    assert bpy.ops.object.make_override_library() == {"FINISHED"}
    ov = bpy.data.objects.get(("Libdancer", None))
    assert ov is not None and ov.override_library is not None and not ov.override_library.is_system_override
    sc.choreo.target = ov
    assert bpy.ops.choreo.generate() == {"FINISHED"}
    act = ov.animation_data.action.name
    assert ov.animation_data.action.library is None and len(_keyed_bones(ov)) == 24
    assert linked.animation_data is None              # the linked reference is not changed
    assert ov.is_property_overridable_library('["choreo_bone_map"]')   # the map is saved with the override
    path = tmp_path / "shot.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    bpy.ops.wm.open_mainfile(filepath=str(path))
    ov = bpy.data.objects.get(("Libdancer", None))
    assert ov.override_library is not None and ov.animation_data.action.name == act
    assert len(_keyed_bones(ov)) == 24

    ov.override_library.is_system_override = True     # what a hierarchy override makes of rigs not picked
    bpy.context.scene.choreo.target = ov
    _fails(bpy.context.scene, r"Libdancer: is a non-editable library override; make it editable "
                              r"\(select it, Object > Library Override > Make\)")


@pytest.mark.parametrize("target", [False, True])
def test_strip_before_frame_0_is_refused(files, target):
    """Blender's scene range can't start below 0: a strip heard from frame -100 is one
    line (nothing changes) instead of keys from -100 under a range from 0."""
    sc, s = new_scene(files, frame_start=-100)
    s.frame_final_end = 60
    assert sc.bl_rna.properties["frame_start"].hard_min == 0
    if target:
        from choreo.rigs.armature import build_default_rig

        sc.choreo.target = build_default_rig(name="Mine", collection=sc.collection, with_mesh=False)
    _fails(sc, r"Error: Music: sound strip starts at frame -100, before frame 0 where a scene's frame range can start")
    # Trimmed to start at frame 0, the same strip dances from frame 0 with the range from 0.
    s.frame_final_start = 0
    assert bpy.ops.choreo.generate() == {"FINISHED"}
    lo, hi = sc.choreo.target.animation_data.action.frame_range
    assert lo == pytest.approx(0, abs=0.5) and hi <= 60.5
    if not target:
        assert (sc.frame_start, sc.frame_end) == (0, 59)


def test_pack_audio_packs_only_on_success(files, tmp_path, monkeypatch):
    song = tmp_path / "song.wav"
    shutil.copy(files["song"], song)
    sc, s = new_scene(files, song=str(song), frame_start=1)
    s.frame_final_end = 1 + 60
    assert bpy.ops.choreo.generate() == {"FINISHED"}        # off (the default): not packed
    assert s.sound.packed_file is None
    # Refused before generating (the range lies outside the strip): nothing packed.
    sc.choreo.pack_audio = True
    sc.choreo.range_start, sc.choreo.range_end = 500, 600
    before = state(sc)
    with pytest.raises(RuntimeError, match="not under the sound strip"):
        bpy.ops.choreo.regenerate_range()
    assert s.sound.packed_file is None and state(sc) == before
    # A failure after generating, while keying: nothing packed either.
    import choreo.rigs.apply as apply_mod

    def keying_bug(dance, obj, scene, **kw):
        raise KeyError("bone")

    monkeypatch.setattr(apply_mod, "apply_dance", keying_bug)
    sc.choreo.range_start, sc.choreo.range_end = 10, 40
    with pytest.raises(RuntimeError, match="KeyError"):
        bpy.ops.choreo.regenerate_range()
    assert s.sound.packed_file is None and state(sc) == before
    monkeypatch.undo()
    assert bpy.ops.choreo.generate() == {"FINISHED"}
    assert s.sound.packed_file is not None and s.sound.packed_file.size == song.stat().st_size
    assert s.sound.filepath == str(song)


def test_pack_audio_refuses_a_linked_sound(files, tmp_path):
    """Blender packs a linked sound only in memory (linked data isn't saved): one line instead."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.data.sounds.load(files["song"]).use_fake_user = True
    lib = tmp_path / "sounds.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(lib))
    sc, s = new_scene(files)
    with bpy.data.libraries.load(str(lib), link=True) as (src, dst):
        dst.sounds = list(src.sounds)
    s.sound = dst.sounds[0]
    sc.choreo.pack_audio = True
    _fails(sc, r"Music: Pack Audio: its sound is linked from the library .*sounds\.blend; pack it in that file")
    assert s.sound.packed_file is None


def test_turn_travel_and_stage_reach_the_dance(files):
    """The panel's Turn / Travel / Stage go into generation: with both at 0 the shipped
    model's dancer stays near its start and faces the front; at 1 on a big stage it
    travels and turns as generated (20 s of the demo song)."""
    song = files["dir"] / "long.wav"
    write_demo_wav(song, bars=10, tempo=120.0)

    def run(turn, travel, stage):
        sc, s = new_scene(files, frame_start=1, song=str(song))
        sc.choreo.model = "DEFAULT"
        sc.choreo.turn, sc.choreo.travel, sc.choreo.stage_size = turn, travel, stage
        sc.choreo.key_mode = "DENSE"
        assert bpy.ops.choreo.generate() == {"FINISHED"}
        arm = sc.choreo.target
        path, facing = [], []
        for f in range(1, 600, 5):
            sc.frame_set(f)
            m = arm.matrix_world @ arm.pose.bones["pelvis"].matrix
            path.append(np.array(m.translation)[:2])
            fwd = np.array(m.to_3x3().col[2])[:2]  # the pelvis bone's z axis points forward or back
            facing.append(np.arctan2(fwd[1], fwd[0]))
        path = np.array(path)
        return np.abs(path - path[0]).max(), np.abs(np.unwrap(facing) - facing[0]).max()

    still_reach, still_turn = run(0.0, 0.0, 4.0)
    free_reach, free_turn = run(1.0, 1.0, 50.0)
    assert still_reach < free_reach and still_reach < 0.6
    assert still_turn < free_turn
    settings = bpy.context.scene.choreo  # out-of-range values are clamped by the properties
    settings.turn, settings.travel, settings.stage_size = 1.5, -1.0, 0.5
    assert (settings.turn, settings.travel, settings.stage_size) == (1.0, 0.0, 1.0)


def test_the_model_menu_offers_each_shipped_family_and_uses_it(files):
    """Model lists Ren et al. (the default), DanceIt, Dance Revolution and a weights file, each
    with what it is good at; picking Dance Revolution dances with its weights."""
    from choreo.core.generation.families import get_family

    prop = bpy.context.scene.choreo.bl_rna.properties["model"]
    items = {i.identifier: (i.name, i.description) for i in prop.enum_items}
    assert list(items) == ["DEFAULT", "DANCEIT", "DANCEREVOLUTION", "FILE"]
    assert items["DANCEIT"] == ("DanceIt (motion library)", get_family("danceit").description)
    assert items["DANCEREVOLUTION"] == ("Dance Revolution", get_family("dancerevolution").description)
    assert items["DEFAULT"][1].startswith(get_family("ren").description)

    def pelvis(model):
        sc, s = new_scene(files, frame_start=1)
        s.frame_final_end = 1 + 150
        sc.choreo.model, sc.choreo.key_mode = model, "DENSE"
        assert bpy.ops.choreo.generate() == {"FINISHED"}
        arm = sc.choreo.target
        out = []
        for f in range(1, 150, 10):
            sc.frame_set(f)
            out.append(np.array((arm.matrix_world @ arm.pose.bones["pelvis"].matrix).translation))
        return np.array(out)

    ren, dr = pelvis("DEFAULT"), pelvis("DANCEREVOLUTION")
    assert np.abs(ren - dr).max() > 0.02  # another family's dance, keyed all the same
    assert np.all(np.isfinite(dr)) and dr[:, 2].min() > 0.3  # a standing dancer


# With the beat tracker of issue 13 (the 20-s demo's grid now exact) the end seam's acceleration is
# 192 m/s² against the dance's own p99 of 163 (speed within); open in the notes.
@pytest.mark.xfail(strict=True, reason="end seam acceleration 1.18x the dance's p99 on the new grid")
def test_regenerated_range_joins_the_kept_dance_at_both_seams(files):
    """Issue 12's scenario: 20 s at 30 fps, Regenerate Range 200-400 with another seed.
    Before, the dancer jumped at both seams (joint speeds 37.6 and 68.9 m/s against a
    p95 of 3.7); now speed and acceleration at the seams stay within the dance's own p99."""
    song = files["dir"] / "twenty.wav"
    write_demo_wav(song, bars=10, tempo=120.0)  # 20 s
    sc, s = new_scene(files, frame_start=1, song=str(song))
    sc.choreo.model = "DEFAULT"
    assert bpy.ops.choreo.generate() == {"FINISHED"}
    arm = sc.choreo.target
    frames = np.arange(1, 600)
    from choreo.rigs.floor import posed_heads

    before = posed_heads(sc, arm, frames)
    sc.choreo.seed, sc.choreo.range_start, sc.choreo.range_end = 7, 200, 400
    assert bpy.ops.choreo.regenerate_range() == {"FINISHED"}
    after = posed_heads(sc, arm, frames)
    # kept outside (the kept key next to each seam re-fits its Bezier handles: a few frames)
    assert np.abs(after[(frames < 190)] - before[frames < 190]).max() < 0.01
    assert np.abs(after[(frames > 410)] - before[frames > 410]).max() < 0.01
    assert np.abs(after[(frames > 250) & (frames < 350)] - before[(frames > 250) & (frames < 350)]).max() > 0.05
    speed = np.linalg.norm(np.diff(after, axis=0), axis=-1) * 30        # (F-1, J) m/s between frames f, f+1
    acc = np.linalg.norm(np.diff(after, 2, axis=0), axis=-1) * 900     # (F-2, J) m/s² around frame f+1
    inside = np.ones(len(speed), bool)
    for seam in (200, 400):
        inside[max(0, seam - 4):seam + 3] = False
    p99_v, p99_a = np.percentile(speed[inside].max(1), 99), np.percentile(acc[inside[:-1]].max(1), 99)
    for seam in (200, 400):
        k = seam - 1  # index of frame seam in `frames`
        v = speed[k - 2:k + 2].max()
        a = acc[k - 2:k + 2].max()
        print(f"seam {seam}: speed {v:.2f} m/s (p99 {p99_v:.2f}), acceleration {a:.1f} m/s² (p99 {p99_a:.1f})")
        assert v <= p99_v and a <= p99_a
