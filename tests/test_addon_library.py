"""DanceIt in Blender (issue 15): Generate from a library with the model menu's fields,
the action's record of which move fills which bars, Add to Library, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
pytestmark = pytest.mark.blender

import choreo  # noqa: E402
from choreo.core.audio.demo import write_demo_wav  # noqa: E402
from choreo.core.library import MotionLibrary  # noqa: E402


def danceit_weights(path):
    """Random-init DanceIt (MatchNet) weights: the assembly is what is tested here."""
    from choreo.core.generation.families.danceit.matchnet import expected_shapes
    from choreo.core.models.matchnet_config import MatchNetConfig
    from choreo.core.models.weights import save_weights

    cfg = MatchNetConfig()
    rng = np.random.default_rng(0)
    t = {k: (np.abs(rng.normal(size=s)) + 0.5 if k.endswith(("_std", "running_var")) else 0.1 * rng.normal(size=s))
         .astype(np.float32) for k, s in expected_shapes(cfg).items()}
    save_weights(path, t, {"kind": "generator", "family": "danceit", "config": cfg.to_dict(),
                           "training": {"note": "random init, tests only"}})
    return str(path)


@pytest.fixture(scope="module")
def files(tmp_path_factory, mocap_dir):
    d = tmp_path_factory.mktemp("addon_library")
    song = d / "song.wav"
    write_demo_wav(song, bars=8, tempo=120.0)  # 16 s
    lib = MotionLibrary.create(d / "lib")
    lib.add_files(sorted((mocap_dir / "005").glob("005_*.bvh"))[2:7])
    return {"song": str(song), "weights": danceit_weights(d / "danceit.safetensors"), "lib": str(lib.path)}


@pytest.fixture(scope="module", autouse=True)
def addon():
    choreo.register()
    yield
    choreo.unregister()


def scene(files):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    sc = bpy.context.scene
    sc.render.fps, sc.render.fps_base = 30, 1.0
    ed = sc.sequence_editor_create()
    ed.active_strip = ed.strips.new_sound("Music", files["song"], channel=1, frame_start=1)
    sc.choreo.model, sc.choreo.weights_file, sc.choreo.library = "FILE", files["weights"], files["lib"]
    return sc


def test_generate_records_where_each_move_came_from(files):
    sc = scene(files)
    assert bpy.ops.choreo.generate() == {"FINISHED"}
    action = sc.choreo.target.animation_data.action
    rows = json.loads(action["choreo_sources"])
    names = {r.id: r.name for r in MotionLibrary.open(files["lib"]).sources()}
    assert rows and all(names[r["source_id"]] == r["source"] for r in rows)
    assert rows[0]["frames"][0] == pytest.approx(1.0) and rows[-1]["frames"][1] == pytest.approx(481.0, abs=1)
    assert all(a["frames"][1] == pytest.approx(b["frames"][0]) for a, b in zip(rows, rows[1:]))
    assert all(len(r["bars"]) == 2 for r in rows)


def test_add_action_to_library_leaves_the_scene_alone(files, tmp_path):
    sc = scene(files)
    assert bpy.ops.choreo.generate() == {"FINISHED"}
    sc.choreo.library = str(tmp_path / "new_lib")
    sc.frame_set(7)
    before = (sorted(bpy.data.objects.keys()), sorted(bpy.data.actions.keys()), sc.frame_current)
    assert bpy.ops.choreo.add_action_to_library() == {"FINISHED"}
    assert (sorted(bpy.data.objects.keys()), sorted(bpy.data.actions.keys()), sc.frame_current) == before
    lib = MotionLibrary.open(tmp_path / "new_lib")
    (rec,) = lib.sources()
    action = sc.choreo.target.animation_data.action
    assert rec.name == action.name and abs(rec.seconds - 16.0) < 0.2
    src = lib.load(rec)
    assert src.motion.num_frames == rec.frames and len(src.starts) > 3


def test_a_folder_that_is_no_library_is_one_report(files, tmp_path):
    sc = scene(files)
    sc.choreo.library = str(tmp_path)
    before = sorted(bpy.data.objects.keys())
    with pytest.raises(RuntimeError, match="not a Choreo motion library"):
        bpy.ops.choreo.generate()
    assert sorted(bpy.data.objects.keys()) == before
