"""2D dances onto a keyed armature in Blender (issue 17): ``choreo import … -o x.blend`` and the
File › Import operators, with the music of the selected strip and marks where nobody was seen."""

from __future__ import annotations

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
pytestmark = pytest.mark.blender

import choreo  # noqa: E402
from choreo.cli import main  # noqa: E402
from choreo.core.audio.demo import write_demo_wav  # noqa: E402
from choreo.core.formats.dancerevolution import write_dancerevolution  # noqa: E402
from choreo.core.formats.openpose import Pose2D, write_openpose  # noqa: E402
from choreo.core.lift import views  # noqa: E402


@pytest.fixture(scope="module")
def sources(mocap_dir, tmp_path_factory):
    from choreo.core.formats.bvh import load_bvh_motion

    joints = load_bvh_motion(mocap_dir / "005" / "005_12.bvh").resample(30.0).joints[:120].astype(np.float64)
    view = views.random_view(np.random.default_rng(21), joints, ranges={"hfov_deg": (60.0, 60.0)})
    kp = views.keypoints(joints, view, "openpose18")
    conf = np.ones(kp.shape[:2])
    conf[30:36] = 0.0
    d = tmp_path_factory.mktemp("lift_blend")
    write_openpose(Pose2D(kp, conf, "openpose18", 30.0, views.WIDTH, views.HEIGHT), d / "op")
    kp25 = views.keypoints(joints, view, "openpose25")[::2] * (1280 / views.WIDTH)
    write_dancerevolution(d / "dr.json", Pose2D(kp25, np.ones(kp25.shape[:2]), "openpose25", 15.0, 1280, 720))
    write_demo_wav(d / "song.wav", bars=3, tempo=120.0)
    return d


@pytest.fixture(scope="module", autouse=True)
def addon():
    choreo.register()
    yield
    choreo.unregister()


def _markers(scene) -> list[str]:
    return [m.name for m in sorted(scene.timeline_markers, key=lambda m: m.frame)]


def test_one_command_makes_a_keyed_blend_with_the_gap_marked(sources, tmp_path):
    out = tmp_path / "lifted.blend"
    assert main(["import", "openpose", str(sources / "op"), "-o", str(out), "--width", "1920",
                 "--height", "1080"]) == 0
    bpy.ops.wm.open_mainfile(filepath=str(out))
    arms = [o for o in bpy.data.objects if o.type == "ARMATURE"]
    assert len(arms) == 1 and arms[0].animation_data and arms[0].animation_data.action
    assert any("no dancer seen" in m for m in _markers(bpy.context.scene))
    from choreo.rigs.actions import assigned_channelbag

    frames = [k.co[0] for fc in assigned_channelbag(arms[0]).fcurves for k in fc.keyframe_points]
    assert max(frames) - min(frames) >= 110  # the 4-s dance is keyed over its length


def test_import_operators_key_the_default_dancer_to_the_selected_strip(sources):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    sc = bpy.context.scene
    sc.render.fps = 30
    ed = sc.sequence_editor_create()
    ed.active_strip = ed.strips.new_sound("Music", str(sources / "song.wav"), channel=1, frame_start=11)
    assert bpy.ops.choreo.import_dancerevolution(filepath=str(sources / "dr.json")) == {"FINISHED"}
    arm = sc.choreo.target
    assert arm is not None and arm.type == "ARMATURE" and arm.animation_data.action is not None
    names = _markers(sc)
    assert any(n.startswith("choreo:bar") for n in names) and sum(n == "choreo:·" for n in names) >= 4  # the beats
    first = min(m.frame for m in sc.timeline_markers)
    assert first == 11 and sc.frame_start == 11
    # the OpenPose import onto the same (now dancing) armature: a new action, the old one kept
    old = arm.animation_data.action
    assert bpy.ops.choreo.import_openpose(directory=str(sources / "op"), fps=30.0) == {"FINISHED"}
    assert arm.animation_data.action is not old and old.name in bpy.data.actions
    assert any("no dancer seen" in n for n in _markers(sc))


def test_bad_sources_change_nothing(sources, tmp_path):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    sc = bpy.context.scene
    before = (sorted(o.name for o in bpy.data.objects), sorted(a.name for a in bpy.data.actions),
              len(sc.timeline_markers))
    empty = tmp_path / "empty"
    empty.mkdir()
    bad = tmp_path / "bad.json"
    bad.write_text('{"dance_array": [[1, 2]]}')
    for op, kw, message in ((bpy.ops.choreo.import_openpose, {"directory": str(empty)}, "no OpenPose"),
                            (bpy.ops.choreo.import_openpose, {"directory": str(tmp_path / "missing")}, "not a folder"),
                            (bpy.ops.choreo.import_dancerevolution, {"filepath": str(bad)}, "need at least 50"),
                            (bpy.ops.choreo.import_dancerevolution, {"filepath": str(tmp_path / "none.json")},
                             "no such file")):
        with pytest.raises(RuntimeError, match=message) as e:  # a one-line error report, no traceback
            op(**kw)
        assert "Traceback" not in str(e.value) and str(e.value).count("\n") <= 1
    after = (sorted(o.name for o in bpy.data.objects), sorted(a.name for a in bpy.data.actions),
             len(sc.timeline_markers))
    assert after == before
