"""Shared fixtures. Tests that need ../shared/data skip when it is absent,
except under CI=true, where its absence is a failure."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("CHOREO_SHARED_DATA", REPO.parent / "shared" / "data"))


def _require(path: Path) -> Path:
    if path.exists():
        return path
    if os.environ.get("CI") == "true":
        pytest.fail(f"{path} is missing: CI must have ../shared/data beside the clone")
    pytest.skip(f"{path} not found (set CHOREO_SHARED_DATA or put shared/ beside the repo)")


@pytest.fixture(scope="session")
def music_dir() -> Path:
    """../shared/data/music: tracks with exact beat grids."""
    return _require(SHARED_DATA / "music")


@pytest.fixture(scope="session")
def mocap_dir() -> Path:
    """../shared/data/mocap/cmu: CMU takes on the CC_Base skeleton (BVH)."""
    return _require(SHARED_DATA / "mocap" / "cmu")


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    """Keep feature caches out of the user's home during tests. Session-wide: a
    module- or session-scoped fixture (a corpus build) is set up before any
    function-scoped one, and would otherwise read and fill ~/.cache/choreo —
    entries another numpy computed (their last bits differ between 1.26 and 2.x).
    The default motion library, too, is a fresh folder, never ~/.local/share/choreo."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CHOREO_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
        mp.setenv("CHOREO_LIBRARY", str(tmp_path_factory.getbasetemp() / "default_library"))
        yield


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory, mocap_dir, music_dir) -> Path:
    """A two-take, two-track corpus (one take and one track held out) for training tests."""
    from choreo.core.data.corpus import BuildParams, build_corpus

    path = tmp_path_factory.mktemp("tiny_corpus") / "corpus.npz"
    params = BuildParams(seed=1, takes=["005_02", "005_18"], val_takes=["005_18"], val_tracks=["mma07_rhumba"],
                         features=False)
    build_corpus(mocap_dir, music_dir, path, params, tracks=["mma07_rhumba", "mma13_boneym"])
    return path


@pytest.fixture
def one_torch_thread():
    """The trainers run single-threaded by default; on a shared 2-core machine
    two torch threads are many times slower, so the direct torch tests do too."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _random_photoreal(path: Path, stats: dict) -> None:
    """Untrained renderer weights in the trained layout (``core/models/photoreal.py``), made with
    numpy: where torch cannot be had (Python 3.13), the add-on's path still runs on a renderer."""
    from choreo.core.models.weights import save_weights

    rng = np.random.default_rng(0)
    model = {"ngf": 8, "n_down": 2, "n_blocks": 2, "face_ngf": 8, "face_n_down": 2, "face_n_blocks": 1}
    t = {}
    for prefix, ngf, n_down, n_blocks in (("generator.", 8, 2, 2), ("face.", 8, 2, 1)):
        ch = [ngf * 2 ** i for i in range(n_down + 1)]
        shapes = {"inp.weight": (ngf, 6, 7, 7), "out.weight": (3, ngf, 7, 7), "out.bias": (3,)}
        shapes.update({f"down.{i}.weight": (ch[i + 1], ch[i], 3, 3) for i in range(n_down)})
        shapes.update({f"blocks.{i}.conv{k}.weight": (ch[-1], ch[-1], 3, 3) for i in range(n_blocks) for k in (1, 2)})
        shapes.update({f"up.{n_down - 1 - i}.weight": (ch[i + 1], ch[i], 3, 3) for i in range(n_down)})
        for name, shape in shapes.items():
            fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
            t[prefix + name] = (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)
    save_weights(path, t, {"kind": "choreo-photoreal", "version": 1, "config": {"model": model}, "size": 64,
                           "face_patch": 12, "limb_width": 1.0,
                           "target": {"stats": stats, "size": 64, "fps": 30.0, "clip_sha256": "synthetic"}})


@pytest.fixture(scope="session")
def photoreal_weights(tmp_path_factory) -> Path:
    """A photoreal renderer (tiny configuration, 64²) with a target record as ``choreo video
    train`` writes it: trained 30 steps on the trainer's synthetic figure, or, without torch,
    random weights of the same layout."""
    d = tmp_path_factory.mktemp("photoreal")
    stats = {"close": 58.0, "far": 54.0, "height_close": 46.0, "height_far": 42.0, "centre_x": 32.0,
             "left": 26.0, "right": 38.0}
    try:
        import torch  # noqa: F401
    except (ImportError, pytest.skip.Exception):  # (CHOREO_TORCH_OPTIONAL turns the import into a skip)
        _random_photoreal(d / "renderer.safetensors", stats)
        return d / "renderer.safetensors"
    from choreo.core.training.photoreal import load_config, synthetic_clip, train_renderer

    data = synthetic_clip(n_frames=40, size=64)
    train_renderer(data, load_config("tiny"), d / "renderer.safetensors", d / "train", steps=30,
                   extra_meta={"target": {"stats": stats, "size": 64, "fps": 30.0, "clip_sha256": "synthetic"}})
    return d / "renderer.safetensors"


@pytest.fixture(scope="session")
def gridded_song(tmp_path_factory):
    """A 12-s synthetic song (120 BPM, 16 kHz wav) with its exact beat grid as SONG.json
    beside it, the way the shared music ships (generation reads it only when given
    explicitly, ``--beats`` / ``beat_grid=``): ``(song_path, DemoTrack)``."""
    import json

    from choreo.core.audio.demo import synthesize_demo, write_demo_wav

    root = tmp_path_factory.mktemp("gridded_song")
    track = synthesize_demo(tempo=120.0, bars=6, sr=16000)
    song = root / "song.wav"
    write_demo_wav(song, track)
    song.with_suffix(".json").write_text(json.dumps(
        {"bpm": 120, "meter": [4, 4], "beats": track.beats.tolist(), "downbeats": track.downbeats.tolist(),
         "duration_s": track.duration}))
    return song, track


# --- keeping bpy and torch apart --------------------------------------------
# On Python 3.13 (bpy 5.2) torch and bpy in one process are known to crash (a
# segfault in torch.optim.AdamW.__init__ during the ST-GCN tests, with bpy
# loaded: ../shared/docs/stock-blender.md), so `make test-latest` runs the
# suite as two processes: `pytest -m "not blender"` with CHOREO_NO_BPY=1, then
# `pytest -m blender`. A test that needs bpy but is not marked `blender` would
# then run in neither; here importing bpy in the first process is an error that
# names the test (or the module that lacks `pytestmark = pytest.mark.blender`).
_NO_BPY = "bpy is kept out of this pytest process (CHOREO_NO_BPY=1)"


class _RefusingLoader:
    def __init__(self, error):
        self.error = error

    def create_module(self, spec):
        raise self.error

    def exec_module(self, module):
        raise self.error


class _NoBpy:
    """A meta-path finder: bpy (and Blender's other modules) are found as usual
    (``importlib.util.find_spec`` still tells where the wheel is) but refuse to load."""

    names = {"bpy", "bpy_extras", "mathutils", "aud"}

    def find_spec(self, fullname, path=None, target=None):
        import importlib.machinery

        if fullname.split(".")[0] not in self.names:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None:
            spec.loader = _RefusingLoader(ModuleNotFoundError(f"{_NO_BPY}: import {fullname}", name=fullname))
        return spec


if os.environ.get("CHOREO_NO_BPY") == "1":
    import sys

    sys.meta_path.insert(0, _NoBpy())


def _module_marked_blender(path: Path) -> bool:
    import ast

    for node in ast.parse(path.read_text()).body:
        if (isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "pytestmark" for t in node.targets)
                and "blender" in ast.unparse(node.value)):
            return True
    return False


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    rep = outcome.get_result()
    if (os.environ.get("CHOREO_NO_BPY") == "1" and rep.skipped and _NO_BPY in str(rep.longrepr)
            and isinstance(collector, pytest.Module) and not _module_marked_blender(Path(collector.path))):
        rep.outcome = "failed"
        rep.longrepr = (f"{collector.path.name} imports bpy at module level but has no "
                        "`pytestmark = pytest.mark.blender`: `make test-latest` would run none of it")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if os.environ.get("CHOREO_NO_BPY") == "1" and not rep.passed and _NO_BPY in str(rep.longrepr):
        rep.outcome = "failed"
        rep.longrepr = (f"{item.nodeid} imports bpy but is not marked blender "
                        "(@pytest.mark.blender): `make test-latest` would never run it")


# Python 3.13 has no CPU build of torch on PyPI (its Linux wheels there are CUDA
# builds of several GB), so `make test-latest` installs torch only where a CPU
# build can be had and sets CHOREO_TORCH_OPTIONAL=1: without torch, a test whose
# code (Choreo's or the test's own) imports torch is skipped, saying so; other
# packages probing for torch get the usual ModuleNotFoundError.
_NO_TORCH = "torch is not installed (no CPU build for this Python here; see `make test-latest`)"


def _torch_import_from_choreo() -> bool:
    import sys

    f = sys._getframe(1)
    while f is not None and (f.f_code.co_filename.startswith("<frozen importlib")
                             or f.f_code.co_filename == __file__ or f.f_globals.get("__name__") == "importlib"):
        f = f.f_back
    if f is None:
        return False
    # The importer is Choreo's own code (as `choreo.*`, or loaded under Blender's
    # `bl_ext.*` name) or a test: a file of the repository outside its venvs.
    try:
        rel = Path(f.f_code.co_filename).resolve().relative_to(REPO.resolve())
    except ValueError:
        return False
    return not rel.parts[0].startswith(".venv")


class _NoTorch:
    """A meta-path finder for an absent torch: an ``import torch`` in Choreo's code
    or a test skips the test; anything else (a package probing for torch) finds no
    torch, as usual."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] == "torch" and _torch_import_from_choreo():
            raise pytest.skip.Exception(f"{_NO_TORCH}: import {fullname}", allow_module_level=True)
        return None


if os.environ.get("CHOREO_TORCH_OPTIONAL") == "1":
    import importlib.util
    import sys

    if importlib.util.find_spec("torch") is None:
        sys.meta_path.insert(0, _NoTorch())


def pytest_sessionfinish(session, exitstatus):
    session.config._choreo_exitstatus = int(exitstatus)


def pytest_unconfigure(config):
    """bpy 4.5 never finishes exiting once Rigify has generated a rig (its interpreter
    shutdown waits forever; bpy 5.x exits): there, after pytest has said everything, leave
    at once with pytest's exit status, so `make test-lts` ends."""
    import sys

    bpy = sys.modules.get("bpy")
    if bpy is None or bpy.app.version >= (5, 0, 0) or "rigify.generate" not in sys.modules:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(getattr(config, "_choreo_exitstatus", 0))
