"""What the add-on runs needs numpy alone: Generate, Regenerate Range and Bake in
real Blender with every non-Blender package blocked from importing.

A fast in-venv guard; tests/test_stock_blender.py is the real user's install
(a venv with only bpy, the built zip installed through Blender's installer).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("bpy")
pytestmark = pytest.mark.blender

BLOCKED = ("scipy", "librosa", "torch", "safetensors", "soundfile", "numba", "sklearn", "soxr", "av",
           "matplotlib", "tqdm", "audioread", "resampy", "mediapipe", "cv2", "jax")

SCRIPT = r"""
import importlib.abc, json, sys
BLOCKED = set(json.loads(sys.argv[2]))

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is not in a stock Blender")
        return None

sys.meta_path.insert(0, Block())
import bpy
import choreo
choreo.register()
sc = bpy.context.scene
sc.render.fps, sc.render.fps_base = 30, 1.0
ed = sc.sequence_editor_create()
strip = ed.strips.new_sound("Music", sys.argv[1], channel=1, frame_start=1)
ed.active_strip = strip
assert bpy.ops.choreo.generate() == {"FINISHED"}
first = sc.choreo.target.animation_data.action
sc.choreo.range_start, sc.choreo.range_end = 60, 200
sc.choreo.seed = 3
assert bpy.ops.choreo.regenerate_range() == {"FINISHED"}
assert bpy.ops.choreo.bake() == {"FINISHED"}
arm = sc.choreo.target
print("RESULT " + json.dumps({
    "loaded": sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED),
    "markers": sum(m.name.startswith("choreo:") for m in sc.timeline_markers),
    "actions": len(bpy.data.actions), "tracks": len(arm.animation_data.nla_tracks)}))
"""


def test_generate_regenerate_bake_without_any_other_package(tmp_path):
    from choreo.core.audio.demo import write_demo_wav

    song = tmp_path / "song.wav"
    write_demo_wav(song, bars=8, tempo=120.0)  # 16 s, no grid anywhere
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(song), json.dumps(BLOCKED)], capture_output=True,
                       text=True, timeout=300, cwd=tmp_path)
    line = next((x for x in r.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert r.returncode == 0 and line, (r.stdout[-2000:] + r.stderr[-4000:])
    out = json.loads(line[len("RESULT "):])
    assert out["loaded"] == []
    assert out["markers"] > 10 and out["actions"] >= 3 and out["tracks"] >= 2
