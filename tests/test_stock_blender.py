"""The user's install: the extension zip in a stock Blender's Python.

A stock Blender's Python has bpy, numpy, requests, zstandard and cython (plus
Blender's own modules such as ``aud``) and nothing else — no scipy, librosa,
safetensors, soundfile or torch (docs: ../shared/docs/stock-blender.md). A venv
holding only ``pip install bpy==VERSION`` is exactly that set, so this test
builds one (``.venv-stock-VERSION`` in the repository, git-ignored, reused while
its stamp matches), installs the zip that ``make extension`` builds into it the
way a user does (Get Extensions › Install from Disk =
``extensions.package_install_files``, into a throw-away user folder), and
presses Generate on a song with no beat grid beside it, with the default
settings and the weights shipped in the zip, onto the default mannequin and
onto a Mixamo rig.

Variants: (bpy version, Python). ``CHOREO_STOCK_BLENDER`` picks them
("5.0.1", "5.2.3", "4.5.15,5.2.3", "all" or "none"; a version not listed below
runs too, on the Python its Blender has); the Makefile sets it (``make test``:
5.0.1, ``make test-latest``: 5.2.3, ``make test-lts``: 4.5.15). Unset, the
variant of this interpreter's Python runs (3.11: 5.0.1, 3.13: 5.2.3). The Python
for a variant is ``$CHOREO_PYTHON311`` / ``$CHOREO_PYTHON313`` (the Makefile
passes PYTHON / PYTHON313), else ``python3.X`` on PATH, else pyenv's.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.blender
REPO = Path(__file__).resolve().parent.parent

# (bpy on PyPI, Python it needs): Blender 4.5 LTS and 5.0 = Python 3.11 + numpy 1.26;
# 5.1 and later (5.2 LTS) = Python 3.13 + numpy 2.x.
DEFAULT_FOR_PYTHON = {"3.11": "5.0.1", "3.13": "5.2.3"}


def _python_of(version: str) -> str:
    major, minor = (int(x) for x in version.split(".")[:2])
    return "3.11" if (major, minor) < (5, 1) else "3.13"


def _selected() -> set[str] | None:
    sel = os.environ.get("CHOREO_STOCK_BLENDER", "").strip()
    return None if not sel else {v.strip() for v in sel.split(",") if v.strip()}


VARIANTS = [("4.5.15", "3.11"), ("5.0.1", "3.11"), ("5.2.3", "3.13")]
VARIANTS += [(v, _python_of(v)) for v in sorted((_selected() or set()) - {"all", "none"} - {v for v, _ in VARIANTS})]
# What a stock Blender does not ship: none of it may be imported to Generate.
NOT_IN_BLENDER = ("scipy", "librosa", "torch", "safetensors", "soundfile", "numba", "sklearn", "av", "mediapipe", "cv2")
# Weights the add-on cannot reach from its panel: kept in the repository, not in the zip.
NOT_IN_ZIP = ("weights/ren_", "weights/dr_", "weights/choreo_crop_energy.", "weights/stgcn.", "weights/crossmodal.")
STAMP = ".choreo-stock"


def _wanted(version: str) -> bool:
    sel = _selected()
    if sel is None:
        return DEFAULT_FOR_PYTHON.get(f"{sys.version_info.major}.{sys.version_info.minor}") == version
    return "all" in sel or version in sel


def _python_version(exe: str) -> str | None:
    try:
        out = subprocess.run([exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def find_python(minor: str) -> str | None:
    """An interpreter of Python ``minor`` ("3.11"): $CHOREO_PYTHON311, python3.11 on PATH
    (a pyenv shim may exist and still fail: each candidate is run), pyenv's, or this one."""
    cands = [os.environ.get("CHOREO_PYTHON" + minor.replace(".", "")), f"python{minor}"]
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    cands += sorted(glob.glob(os.path.join(pyenv_root, "versions", f"{minor}*", "bin", f"python{minor}")),
                    reverse=True)
    if f"{sys.version_info.major}.{sys.version_info.minor}" == minor:
        cands.append(getattr(sys, "_base_executable", sys.executable))
    for exe in filter(None, cands):
        path = shutil.which(exe) or exe
        if _python_version(path) == minor:
            return path
    return None


@contextlib.contextmanager
def _lock(name: str):
    """An exclusive lock (two test runs must not build the same venv at once)."""
    import fcntl

    key = hashlib.sha1(str(REPO).encode()).hexdigest()[:12]
    with open(os.path.join(tempfile.gettempdir(), f"choreo-{key}-{name}.lock"), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def stock_venv(version: str, python: str) -> tuple[Path, float]:
    """``.venv-stock-VERSION`` with only ``pip install bpy==VERSION`` in it: created,
    or reused when its stamp says it was made for this bpy and this Python.
    Returns (venv python, seconds spent creating it; 0 when reused)."""
    venv = REPO / f".venv-stock-{version}"
    py = venv / "bin" / "python"
    stamp = f"bpy=={version}\npython {_python_version(python)}\n"
    with _lock(venv.name):
        if py.is_file() and (venv / STAMP).is_file() and (venv / STAMP).read_text() == stamp:
            return py, 0.0
        t0 = time.perf_counter()
        shutil.rmtree(venv, ignore_errors=True)
        for cmd in ([python, "-m", "venv", str(venv)],
                    [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                     f"bpy=={version}"]):
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
            if out.returncode != 0:
                shutil.rmtree(venv, ignore_errors=True)
                pytest.fail(f"making {venv.name} failed: {' '.join(cmd)}\n{out.stdout[-2000:]}{out.stderr[-3000:]}")
        (venv / STAMP).write_text(stamp)
        return py, time.perf_counter() - t0


# Runs in the stock venv. It prints "STEP ..." as it goes (the failure message
# shows where it stopped) and one "RESULT {json}" line at the end.
USER_INSTALL = r"""
import importlib, importlib.util, json, os, sys
zip_path, song, user_dir, renderer, openpose_dir = sys.argv[1:6]
out = {"python": sys.version.split()[0]}
def step(msg):
    print("STEP " + msg, flush=True)

# The venv is a stock Blender's Python: none of the extra packages can even be found.
out["findable"] = sorted(m for m in NOT_IN_BLENDER if importlib.util.find_spec(m) is not None)
import numpy as np
import bpy
from bpy_extras import anim_utils
out["bpy"], out["numpy"] = bpy.app.version_string, np.__version__
step(f"bpy {bpy.app.version_string}, numpy {np.__version__}, Python {out['python']}")

step("install " + os.path.basename(zip_path))
res = bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
assert res == {"FINISHED"}, res
name = "bl_ext.user_default.choreo"
assert name in bpy.context.preferences.addons, list(bpy.context.preferences.addons.keys())
out["module_file"] = sys.modules[name].__file__
out["bl_options"] = sorted(bpy.types.CHOREO_OT_generate.bl_options)

sc = bpy.context.scene
sc.render.fps, sc.render.fps_base = 30, 1.0
ed = sc.sequence_editor_create()
strip = ed.strips.new_sound("Song", song, channel=1, frame_start=1)
strip.select = True
ed.active_strip = strip
assert sc.choreo.model == "DEFAULT" and not sc.choreo.weights_file and sc.choreo.target is None

def state():
    # What Generate changes and an undo must restore.
    sc = bpy.context.scene
    tgt = sc.choreo.target
    return {"mark": sc.get("choreo_test_mark"),
            "actions": sorted(a.name for a in bpy.data.actions),
            "objects": sorted(o.name for o in bpy.data.objects),
            "markers": sorted((m.name, m.frame) for m in sc.timeline_markers),
            "target": tgt.name if tgt else None,
            "target_action": tgt.animation_data.action.name if tgt and tgt.animation_data and
                             tgt.animation_data.action else None}

def generate(label):
    # One press of Generate, as from the UI: undo=True makes Blender push the
    # operator's undo step (calls from Python push none by default). Background
    # mode starts with no undo stack: ed.undo_push creates it. The scene mark
    # makes the step before the press differ from any earlier one, so an undo
    # that went too far (Generate pushed no step) shows as well.
    bpy.context.scene["choreo_test_mark"] = label
    assert bpy.ops.ed.undo_push(message="before " + label) == {"FINISHED"}
    before = set(bpy.data.actions)
    s0 = state()
    step("Generate " + label)
    res = bpy.ops.choreo.generate("EXEC_DEFAULT", True)
    assert res == {"FINISHED"}, res
    sc = bpy.context.scene
    arm = sc.choreo.target
    ad = arm.animation_data
    act = ad.action
    cb = anim_utils.action_get_channelbag_for_slot(act, ad.action_slot)
    keyed = {}
    for fc in cb.fcurves:
        if fc.data_path.startswith('pose.bones["'):
            b = fc.data_path.split('"')[1]
            keyed[b] = keyed.get(b, 0) + len(fc.keyframe_points)
    r = {"armature": arm.name, "action": act.name, "new_action": act not in before,
         "new_actions": len(set(bpy.data.actions) - before), "keyed": keyed,
         "markers": sum(m.name.startswith("choreo:") for m in sc.timeline_markers),
         "muted_nla": [[s.action.name for s in t.strips] for t in ad.nla_tracks if t.mute],
         "unmuted_nla": [t.name for t in ad.nla_tracks if not t.mute]}
    s1 = state()
    step("undo " + label)
    if not bpy.ops.ed.undo.poll():              # Generate pushed no undo step at all
        r["undo_restores"], r["after_undo"], r["redo_restores"] = False, "nothing to undo", False
    else:
        assert bpy.ops.ed.undo() == {"FINISHED"}
        r["undo_restores"] = state() == s0
        r["after_undo"] = state() if not r["undo_restores"] else None
        assert bpy.ops.ed.redo() == {"FINISHED"}
        r["redo_restores"] = state() == s1
    r["before"], r["after"] = s0, s1
    return r

def mapped_bones(arm_name):
    bonemaps = importlib.import_module(name + ".rigs.bonemaps")
    return sorted(bonemaps.bone_map_for(bpy.data.objects[arm_name]).joint_to_bone.values())

out["runs"] = {}
out["runs"]["mannequin"] = generate("mannequin")          # (a) no target: Choreo builds its dancer
out["runs"]["mannequin_again"] = generate("mannequin_again")  # the first action goes to a muted NLA track
out["mapped"] = {"mannequin": mapped_bones(out["runs"]["mannequin"]["armature"])}
bpy.context.scene.choreo.model = "DANCEREVOLUTION"       # the other shipped family, from the model menu
out["runs"]["dancerevolution"] = generate("dancerevolution")
bpy.context.scene.choreo.model = "DANCEIT"               # DanceIt: the shipped moves, the default library
out["runs"]["danceit"] = generate("danceit")
act = bpy.context.scene.choreo.target.animation_data.action
out["danceit_sources"] = json.loads(act["choreo_sources"]) if "choreo_sources" in act else None
bpy.context.scene.choreo.library = os.path.join(os.path.dirname(zip_path), "my_library")
step("Add Action to Library")                            # the animator's moves into their own library
out["add_to_library"] = sorted(bpy.ops.choreo.add_action_to_library())
out["my_library"] = sorted(os.listdir(os.path.join(os.path.dirname(zip_path), "my_library", "sources")))
bpy.context.scene.choreo.library = ""
bpy.context.scene.choreo.model = "DEFAULT"
testrigs = importlib.import_module(name + ".rigs.testrigs")
rig = testrigs.build_mixamo_rig()                        # (b) a Mixamo-named rig
bpy.context.scene.choreo.target = rig
out["runs"]["mixamo"] = generate("mixamo")
out["mapped"]["mixamo"] = mapped_bones(out["runs"]["mixamo"]["armature"])

# Editing the dance (issue 12): a pose the animator keys, Fill Between Keys through it,
# Regenerate Range with the left arm locked, Mirror Range — all on numpy alone.
step("edit the dance")
sc = bpy.context.scene   # undo and redo replaced the scene data: look it up again
arm = sc.choreo.target
bmap = importlib.import_module(name + ".rigs.bonemaps").bone_map_for(arm)
elbow, hand = bmap.joint_to_bone["l_elbow"], bmap.joint_to_bone["r_wrist"]
def quat(bone, f):
    ad = arm.animation_data
    cb = anim_utils.action_get_channelbag_for_slot(ad.action, ad.action_slot)
    path = 'pose.bones["%s"].rotation_quaternion' % bpy.utils.escape_identifier(bone)
    return [cb.fcurves.find(path, index=i).evaluate(f) for i in range(4)]
sc.frame_set(61)
arm.pose.bones[elbow].rotation_quaternion = (0.8, 0.6, 0.0, 0.0)
arm.pose.bones[elbow].keyframe_insert("rotation_quaternion", frame=61)
arm_name, before_fill = arm.name, arm.animation_data.action.name
assert bpy.ops.ed.undo_push(message="before fill") == {"FINISHED"}
edits = {"fill": sorted(bpy.ops.choreo.fill_between_keys("EXEC_DEFAULT", True))}
after_fill = bpy.data.objects[arm_name].animation_data.action.name
assert bpy.ops.ed.undo() == {"FINISHED"}          # one undo step takes the whole fill back
edits["undo_fill"] = bpy.data.objects[arm_name].animation_data.action.name == before_fill != after_fill
assert bpy.ops.ed.redo() == {"FINISHED"}
sc = bpy.context.scene
arm = bpy.data.objects[arm_name]
edits["redo_fill"] = arm.animation_data.action.name == after_fill
edits["fill_pose"] = quat(elbow, 61)
sc.choreo.range_start, sc.choreo.range_end, sc.choreo.seed = 200, 400, 3
sc.choreo.locks = {"left_arm"}
left = [quat(elbow, f) for f in range(200, 401, 10)]
right = [quat(hand, f) for f in range(200, 401, 10)]
edits["locked"] = sorted(bpy.ops.choreo.regenerate_range("EXEC_DEFAULT", True))
edits["left_kept"] = left == [quat(elbow, f) for f in range(200, 401, 10)]
edits["right_changed"] = right != [quat(hand, f) for f in range(200, 401, 10)]
edits["mirror"] = sorted(bpy.ops.choreo.mirror_range("EXEC_DEFAULT", True))
edits["previous_kept"] = sum(t.mute for t in arm.animation_data.nla_tracks)
out["edits"] = edits

# File > Import > Choreo: OpenPose Dance (issue 17): the shipped lifter (numpy) keys the dancer
# from the selected strip's start; the frames without anybody are marked.
step("Import OpenPose Dance")
sc = bpy.context.scene
arm = sc.choreo.target
before_import = arm.animation_data.action.name
res = sorted(bpy.ops.choreo.import_openpose("EXEC_DEFAULT", True, directory=openpose_dir, fps=30.0))
out["import"] = {"result": res, "new_action": arm.animation_data.action.name != before_import,
                 "marked": sum("no dancer seen" in m.name for m in sc.timeline_markers)}

# Render Photoreal Video (issue 16): the dance filmed as a target person by the renderer's numpy
# runtime, the movie made by Blender's own ffmpeg, beside the saved .blend.
if renderer:
    step("Render Photoreal Video")
    sc = bpy.context.scene
    sc.frame_end = sc.frame_start + 44
    sc.choreo.photoreal_model = renderer
    blend = os.path.join(os.path.dirname(zip_path), "dance.blend")
    bpy.ops.wm.save_as_mainfile(filepath=blend)
    n_scenes = len(bpy.data.scenes)
    res = sorted(bpy.ops.choreo.render_photoreal())
    movie = os.path.join(os.path.dirname(blend), "photoreal.mp4")
    clip = bpy.data.movieclips.load(movie) if os.path.isfile(movie) else None
    out["photoreal"] = {"result": res, "frames": clip.frame_duration if clip else 0,
                        "size": list(clip.size) if clip else None, "scenes_kept": len(bpy.data.scenes) == n_scenes}
out["user_dir"] = user_dir
out["imported"] = sorted({m.split(".")[0] for m in sys.modules} & set(NOT_IN_BLENDER))
print("RESULT " + json.dumps(out), flush=True)
os._exit(0)  # bpy as a module can hang in its exit teardown; the result is out
"""


def _user_env(tmp_path: Path) -> tuple[Path, dict]:
    """A throw-away Blender user folder; nothing of the dev venv leaks in."""
    user = tmp_path / "user"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(BLENDER_USER_RESOURCES=str(user), BLENDER_USER_SCRIPTS=str(user / "scripts"),
               BLENDER_USER_CONFIG=str(user / "config"), PYTHONNOUSERSITE="1")
    return user, env


def _openpose_folder(out: Path, mocap_dir: Path) -> Path:
    """BODY_25 frames of a CMU take seen by a camera (4 s), nobody in frames 30–35."""
    import numpy as np

    from choreo.core.formats.bvh import load_bvh_motion
    from choreo.core.formats.openpose import Pose2D, write_openpose
    from choreo.core.lift import views

    joints = load_bvh_motion(mocap_dir / "005" / "005_12.bvh").resample(30.0).joints[:120]
    view = views.random_view(np.random.default_rng(3), joints.astype(np.float64))
    kp = views.keypoints(joints.astype(np.float64), view, "openpose25")
    conf = np.ones(kp.shape[:2])
    conf[30:36] = 0.0
    write_openpose(Pose2D(kp, conf, "openpose25", 30.0, views.WIDTH, views.HEIGHT), out)
    return out


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


@pytest.fixture(scope="module")
def extension_zip(tmp_path_factory):
    from choreo.addon.package import build_extension

    return build_extension(tmp_path_factory.mktemp("stock_dist"))


def test_zip_carries_only_weights_the_addon_can_use(extension_zip, capsys):
    names = zipfile.ZipFile(extension_zip).namelist()
    assert "weights/default.safetensors" in names and "weights/weights.json" in names
    extra = [n for n in names if n.startswith(NOT_IN_ZIP)]
    assert not extra, extra
    size = extension_zip.stat().st_size
    with capsys.disabled():
        print(f"\n{extension_zip.name}: {size / 1e6:.2f} MB ({size} bytes), {len(names)} files")
    # the code and five networks: Ren's default (3.1 MB), Dance Revolution (5.4 MB; float32 compresses
    # little), the lifter (5.2 MB), the beat tracker's (0.4 MB) and DanceIt's MatchNet (0.7 MB), and
    # DanceIt's shipped moves (1.1 MB)
    assert size < 18e6, size


@pytest.mark.slow
@pytest.mark.parametrize("version,python", VARIANTS, ids=[f"bpy{v}-py{p}" for v, p in VARIANTS])
def test_generate_in_a_stock_blender(version, python, extension_zip, tmp_path, capsys, request):
    """Install the zip into bpy==VERSION with nothing else, Generate twice onto the
    default mannequin and once onto a Mixamo rig; everything numpy + Blender only."""
    if not _wanted(version):
        pytest.skip(f"stock Blender {version} runs when CHOREO_STOCK_BLENDER names it "
                    f"(make test: 5.0.1, make test-latest: 5.2.3, make test-lts: 4.5.15)")
    exe = find_python(python)
    if exe is None:
        msg = f"no Python {python} for the stock Blender {version} venv (set CHOREO_PYTHON{python.replace('.', '')})"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    py, made_s = stock_venv(version, exe)
    with capsys.disabled():
        print(f"\n.venv-stock-{version}: " + (f"created in {made_s:.1f} s" if made_s else "reused"))

    from choreo.core.audio.demo import synthesize_demo, write_demo_wav

    song = tmp_path / "song.wav"                      # 24 s, 120 BPM; no song.json beat grid beside it
    write_demo_wav(song, synthesize_demo(tempo=120.0, bars=12))
    assert not song.with_suffix(".json").exists()
    user, env = _user_env(tmp_path)
    script = f"NOT_IN_BLENDER = {NOT_IN_BLENDER!r}\n" + USER_INSTALL
    t0 = time.perf_counter()
    try:  # a renderer to film the dance with: trained by the dev venv's torch (skipped without it)
        renderer = str(request.getfixturevalue("photoreal_weights"))
    except pytest.skip.Exception:
        renderer = ""
    openpose = _openpose_folder(tmp_path / "openpose", request.getfixturevalue("mocap_dir"))
    out = subprocess.run([str(py), "-c", script, str(extension_zip), str(song), str(user), renderer, str(openpose)],
                         capture_output=True, text=True, timeout=900, env=env, cwd=tmp_path)
    run_s = time.perf_counter() - t0
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
    if out.returncode != 0 or not lines:
        text = out.stdout + "\n" + out.stderr
        errors = [ln.strip() for ln in text.splitlines() if re.match(r"\s*\w+(Error|Exception):", ln)]
        steps = [ln for ln in out.stdout.splitlines() if ln.startswith("STEP ")]
        pytest.fail(f"the extension failed in a stock Blender {version} (bpy only; exit {out.returncode} "
                    f"after {run_s:.0f} s) at {steps[-1] if steps else 'start'}: "
                    f"{errors[-1] if errors else 'no error line'}\nlast lines:\n{_tail(text)}", pytrace=False)
    res = json.loads(lines[-1][len("RESULT "):])
    with capsys.disabled():
        print(f"stock Blender {res['bpy']} (numpy {res['numpy']}, Python {res['python']}): {run_s:.1f} s")

    check_result(res, user)
    assert ("photoreal" in res) == bool(renderer), "Render Photoreal Video was not pressed"


def check_result(res: dict, user: Path) -> None:
    """The checks on what USER_INSTALL reported (also usable on a run in a full venv,
    with ``findable`` and ``imported`` cleared)."""
    assert res["findable"] == [], f"not a stock Blender Python: {res['findable']}"
    assert Path(res["module_file"]).resolve().is_relative_to(user.resolve()), res["module_file"]
    # One undo step per Generate, observed headless: background mode has no undo
    # stack until ed.undo_push makes one, and an operator called from Python pushes
    # no step unless called with undo=True, as the UI's button is. Each Generate was
    # pressed so after a marked step; one ed.undo gave back exactly the scene before
    # it (not an earlier step's), and ed.redo the scene after it.
    assert "UNDO" in res["bl_options"] and "REGISTER" in res["bl_options"], res["bl_options"]
    runs = res["runs"]
    for label, r in runs.items():
        assert r["new_action"] and r["new_actions"] == 1, (label, r["new_actions"])
        assert r["markers"] >= 4, (label, r["markers"])
        mapped = res["mapped"]["mixamo" if label == "mixamo" else "mannequin"]
        assert len(mapped) == 24 and set(mapped) <= set(r["keyed"]), (label, sorted(set(mapped) - set(r["keyed"])))
        assert all(n >= 4 * 24 for b, n in r["keyed"].items() if b in mapped), (label, r["keyed"])
        assert r["undo_restores"], (label, "one undo does not restore the scene before Generate",
                                    r["before"], r["after_undo"])
        assert r["redo_restores"], (label, "redo does not bring the Generate back")
    first, again = runs["mannequin"], runs["mannequin_again"]
    assert first["before"]["target"] is None and first["armature"] == again["armature"]
    assert again["action"] != first["action"]
    assert [first["action"]] in again["muted_nla"] and not again["unmuted_nla"], again["muted_nla"]
    assert runs["mixamo"]["armature"] == "Mixamo Rig"
    dr = runs["dancerevolution"]  # Dance Revolution, chosen in the model menu, onto the same mannequin
    assert dr["armature"] == first["armature"] and dr["action"] not in (first["action"], again["action"])
    # DanceIt from the model menu: moves of the shipped library, each recorded on the action
    assert runs["danceit"]["armature"] == first["armature"], runs["danceit"]
    src = res["danceit_sources"]
    assert src and all(r["source"].startswith("005_") and len(r["frames"]) == 2 for r in src), src
    assert res["add_to_library"] == ["FINISHED"] and res["my_library"] == ["s0001.npz"], res["my_library"]
    ed = res["edits"]
    assert ed["fill"] == ["FINISHED"] and ed["locked"] == ["FINISHED"] and ed["mirror"] == ["FINISHED"], ed
    assert abs(abs(sum(a * b for a, b in zip(ed["fill_pose"], (0.8, 0.6, 0.0, 0.0)))) - 1) < 1e-5, ed["fill_pose"]
    assert ed["left_kept"] and ed["right_changed"], ed
    assert ed["undo_fill"] and ed["redo_fill"], ed
    assert ed["previous_kept"] >= 3, ed   # each of the three edits kept the action before it on a muted NLA track
    assert all(b.startswith("mixamorig:") for b in res["mapped"]["mixamo"]), res["mapped"]["mixamo"]
    assert res["imported"] == [], f"Generate imported packages a stock Blender lacks: {res['imported']}"
    imp = res["import"]  # File > Import > Choreo: OpenPose Dance, lifted by the numpy runtime
    assert imp["result"] == ["FINISHED"] and imp["new_action"] and imp["marked"] == 1, imp
    if "photoreal" in res:
        pr = res["photoreal"]
        assert pr["result"] == ["FINISHED"] and pr["frames"] == 45 and pr["size"] == [64, 64], pr
        assert pr["scenes_kept"], pr
