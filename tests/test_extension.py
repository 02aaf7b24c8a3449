"""The extension zip: built by Blender's own tool, installed headless into a
throw-away user folder, then Generate run from the installed module."""

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
    "module_file": mod.__file__, "device": prefs.device,
    "action": arm.animation_data.action.name,
    "markers": sum(m.name.startswith("choreo:") for m in sc.timeline_markers),
    "user_dir": bpy.utils.resource_path("USER"),
}))
"""


def test_zip_holds_the_package_and_no_development_files(tmp_path):
    zip_path = build_extension(tmp_path / "dist")
    names = zipfile.ZipFile(zip_path).namelist()
    assert "blender_manifest.toml" in names and "__init__.py" in names
    for need in ("addon/operators.py", "addon/strip_audio.py", "rigs/scene.py", "core/generation/pipeline.py"):
        assert need in names, need
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
    user = tmp_path / "user"
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(user), BLENDER_USER_SCRIPTS=str(user / "scripts"),
               BLENDER_USER_CONFIG=str(user / "config"))
    out = subprocess.run([sys.executable, "-c", INSTALL_AND_GENERATE, str(zip_path), str(song), weights],
                         capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("RESULT "))
    res = json.loads(line[len("RESULT "):])
    installed = Path(res["module_file"]).resolve()
    assert installed.is_relative_to(user.resolve()), res  # the temp user folder, not the repo
    assert res["device"] == "AUTO" and res["action"] and res["markers"] >= 1
