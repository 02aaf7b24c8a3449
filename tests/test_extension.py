"""The extension zip: built by Blender's own tool, installed headless into a
throw-away user folder, then Generate run from the installed module — on the
default dancer, Mixamo (plain and FBX-imported axes), a generated Rigify rig and
an SMPL rig, with the weights shipped inside the zip."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from choreo.addon.package import build_extension

pytestmark = pytest.mark.blender
REPO = Path(__file__).resolve().parent.parent

INSTALL_AND_GENERATE = r"""
import json, os, sys
import bpy
zip_path, song, weights = sys.argv[1:4]
res = bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
assert res == {"FINISHED"}, res
name = "bl_ext.user_default.choreo"
mod = sys.modules[name]
assert name in bpy.context.preferences.addons, list(bpy.context.preferences.addons.keys())
prefs = bpy.context.preferences.addons[name].preferences
sc = bpy.context.scene
sc.render.fps, sc.render.fps_base = 30, 1.0
ed = sc.sequence_editor_create()
strip = ed.strips.new_sound("Music", song, channel=1, frame_start=1)
strip.frame_final_end = 1 + 90
ed.active_strip = strip
sc.choreo.model, sc.choreo.weights_file = "FILE", weights
assert bpy.ops.choreo.generate() == {"FINISHED"}
arm = sc.choreo.target
print("RESULT " + json.dumps({
    "module_file": mod.__file__, "weights_pref": prefs.weights_path,
    "action": arm.animation_data.action.name,
    "markers": sum(m.name.startswith("choreo:") for m in sc.timeline_markers),
    "user_dir": bpy.utils.resource_path("USER"),
}))
"""

# Everything below runs from the INSTALLED module (bl_ext.user_default.choreo),
# shipped weights included: no weights file is set anywhere.
FOUR_RIGS = r"""
import importlib, json, sys
import numpy as np
import bpy
from bpy_extras import anim_utils
zip_path, song = sys.argv[1:3]
assert bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default",
                                                enable_on_install=True) == {"FINISHED"}
mod = lambda m: importlib.import_module("bl_ext.user_default.choreo." + m)
testrigs, bonemaps, ops, retarget, W = (mod(m) for m in (
    "rigs.testrigs", "rigs.bonemaps", "addon.operators", "rigs.retarget", "core.models.weights"))
sc = bpy.context.scene
sc.render.fps, sc.render.fps_base = 30, 1.0
ed = sc.sequence_editor_create()
strip = ed.strips.new_sound("Music", song, channel=1, frame_start=1)
strip.frame_final_end = 1 + 180
ed.active_strip = strip
assert sc.choreo.model == "DEFAULT" and not sc.choreo.weights_file
# The dance Generate makes (same strip, seed and weights: deterministic), to check the poses against.
dance = ops.generate(ops.make_plan(bpy.context))
out = {"shipped": str(W.shipped_path()), "model": dance.model, "beats": len(dance.beats), "rigs": {}}
FRAMES = (15, 100)                      # dance frames; scene frame = 1 + dance frame (strip starts at 1)

def run(kind, arm):
    before = set(bpy.data.actions)
    if arm is not None:
        sc.choreo.target = arm
    assert bpy.ops.choreo.generate() == {"FINISHED"}, kind
    arm = sc.choreo.target
    act = arm.animation_data.action
    cb = anim_utils.action_get_channelbag_for_slot(act, arm.animation_data.action_slot)
    keyed = {}
    for fc in cb.fcurves:
        if fc.data_path.startswith('pose.bones["') and fc.data_path.endswith("rotation_quaternion"):
            b = fc.data_path.split('"')[1]
            keyed[b] = keyed.get(b, 0) + len(fc.keyframe_points)
    bm = bonemaps.bone_map_for(arm)
    anim = retarget.retarget(dance.motion, arm, bm)
    mw = np.array(arm.matrix_world)
    world = lambda p: p @ mw[:3, :3].T + mw[:3, 3]
    fk, tgt = world(anim.joint_positions()), world(anim.target_positions)
    shown = []
    for k in FRAMES:                     # what Blender evaluates: pose bone heads (world)
        sc.frame_set(1 + k)
        shown.append(world(np.array([tuple(arm.pose.bones[b].head) for b in anim.joint_bones])))
    fr = list(FRAMES)
    out["rigs"][kind] = {
        "armature": arm.name, "map": bm.kind, "new_action": act not in before,
        "mapped": sorted(bm.joint_to_bone.values()), "keyed": keyed,
        "markers": sum(m.name.startswith("choreo:") for m in sc.timeline_markers),
        "moved_m": np.linalg.norm(shown[1] - shown[0], axis=-1).tolist(),
        "vs_keys_m": float(np.linalg.norm(np.stack(shown) - fk[fr], axis=-1).max()),
        "vs_dance_mean_m": float(np.linalg.norm(np.stack(shown) - tgt[fr], axis=-1).mean()),
    }

run("choreo", None)                      # no target: the add-on builds its dancer
run("mixamo", testrigs.build_mixamo_rig())
run("mixamo_fbx", testrigs.build_mixamo_rig("mixamorig1:", name="Mixamo FBX", fbx_axes=True))
run("rigify", testrigs.generate_rigify(testrigs.build_rigify_metarig()))
run("smpl", testrigs.build_smpl_rig())
print("RESULT " + json.dumps(out), flush=True)
import os
os._exit(0)  # bpy 4.5 as a module can hang in its exit teardown after Rigify; the result is out
"""


def _user_env(tmp_path):
    user = tmp_path / "user"
    return user, dict(os.environ, BLENDER_USER_RESOURCES=str(user), BLENDER_USER_SCRIPTS=str(user / "scripts"),
                      BLENDER_USER_CONFIG=str(user / "config"))


def _run_blender(script, args, env, cwd) -> dict:
    out = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True,
                         timeout=300, env=env, cwd=cwd)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def test_zip_holds_the_package_and_no_development_files(tmp_path):
    zip_path = build_extension(tmp_path / "dist")
    names = zipfile.ZipFile(zip_path).namelist()
    assert "blender_manifest.toml" in names and "__init__.py" in names
    for need in ("addon/operators.py", "addon/strip_audio.py", "rigs/scene.py", "core/generation/pipeline.py",
                 "core/generation/families/ren/runtime.py", "weights/weights.json", "weights/default.safetensors"):
        assert need in names, need
    # The panel reaches the shipped default, each other family's shipped 3D model (or a file), the
    # beat tracker's network and the lifter (File > Import, 2D weights files): the ablation, 2D, ST-GCN
    # and cross-modal weights stay in the repository ([build] paths_exclude_pattern).
    weights = sorted(n for n in names if n.startswith("weights/") and not n.startswith("weights/library/"))
    assert weights == ["weights/beats.safetensors", "weights/danceit.safetensors",
                       "weights/dancerevolution.safetensors", "weights/default.safetensors",
                       "weights/lifter.safetensors", "weights/weights.json"], weights
    # DanceIt's shipped moves (read-only; a user's own library lives where they say)
    assert {"weights/library/library.json", "weights/library/log.jsonl",
            "weights/library/sources/s0001.npz"} <= set(names)
    assert (REPO / "weights" / "ren_full.safetensors").is_file()   # ... and are still there for benchmarks
    for name in names:
        top = name.split("/")[0]
        assert top not in {"tests", "benchmarks", "out", "dist", ".venv", ".git"}, name
        assert "__pycache__" not in name and not name.endswith(".pyc"), name


def test_installed_extension_generates(tmp_path):
    sys.path.insert(0, os.path.dirname(__file__))
    from test_addon import tiny_weights

    from choreo.core.audio.demo import write_demo_wav

    zip_path = build_extension(tmp_path / "dist")
    song = tmp_path / "song.wav"
    write_demo_wav(song, bars=2, tempo=120.0)
    weights = tiny_weights(tmp_path / "w.safetensors")
    user, env = _user_env(tmp_path)
    res = _run_blender(INSTALL_AND_GENERATE, (zip_path, song, weights), env, tmp_path)
    installed = Path(res["module_file"]).resolve()
    assert installed.is_relative_to(user.resolve()), res  # the temp user folder, not the repo
    assert res["weights_pref"] == "" and res["action"] and res["markers"] >= 1


def test_installed_extension_dances_every_rig_kind_with_shipped_weights(tmp_path):
    """Generate (no weights file: the shipped default) onto the four rig kinds;
    each gets a new action keyed on its mapped bones, markers, and a pose that
    Blender evaluates to the retargeted dance and that moves."""
    from choreo.core.audio.demo import write_demo_wav

    zip_path = build_extension(tmp_path / "dist")
    song = tmp_path / "song.wav"
    write_demo_wav(song, bars=4, tempo=120.0)           # 8 s; the strip plays the first 6 s
    user, env = _user_env(tmp_path)
    res = _run_blender(FOUR_RIGS, (zip_path, song), env, tmp_path)
    assert Path(res["shipped"]).resolve().is_relative_to(user.resolve()), res["shipped"]
    assert res["model"] == "default" and res["beats"] >= 8, (res["model"], res["beats"])
    expect = {"choreo": ("choreo", 24), "mixamo": ("mixamo", 24), "mixamo_fbx": ("mixamo", 24),
              "rigify": ("rigify", 20), "smpl": ("smpl", 24)}
    assert set(res["rigs"]) == set(expect)
    for kind, r in res["rigs"].items():
        bm_kind, n_bones = expect[kind]
        assert r["map"] == bm_kind and len(r["mapped"]) == n_bones, (kind, r["map"], r["mapped"])
        assert r["new_action"], kind
        assert set(r["mapped"]) <= set(r["keyed"]), (kind, set(r["mapped"]) - set(r["keyed"]))
        # 4 quaternion channels, a key at least every second (6 s) on each mapped bone.
        assert all(r["keyed"][b] >= 4 * 6 for b in r["mapped"]), (kind, r["keyed"])
        assert r["markers"] >= 4, (kind, r["markers"])
        moved = sorted(r["moved_m"])
        assert moved[len(moved) // 2] > 0.03 and moved[-1] > 0.15, (kind, moved)
        # Blender's evaluated pose = the keyed retarget (beats-mode tolerance 2 cm) ...
        assert r["vs_keys_m"] < 0.025, (kind, r["vs_keys_m"])
        # ... and near the dance itself (rig proportions differ from the dancer's: ~0.1 m).
        assert r["vs_dance_mean_m"] < 0.2, (kind, r["vs_dance_mean_m"])
