"""The extension's house: manifest, import rules, registration, CLI entry points."""

from __future__ import annotations

import ast
import importlib.util
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LAYERS = {"core": 0, "rigs": 1, "addon": 2}


def _package_sources():
    for path in sorted(REPO.rglob("*.py")):
        rel = path.relative_to(REPO)
        if rel.parts[0] in {"tests", "benchmarks", "build", "dist", "out"} or rel.parts[0].startswith("."):
            continue
        yield rel, ast.parse(path.read_text(), filename=str(path))


def test_manifest_passes_blenders_validator():
    from choreo.addon.package import run_blender_ext

    run_blender_ext("validate", str(REPO))


def test_importing_the_package_imports_no_bpy():
    code = ("import sys, choreo, choreo.core.motion, choreo.core.audio, choreo.cli;"
            "import choreo.rigs, choreo.addon;"
            "bad = [m for m in sys.modules if m == 'bpy' or m.startswith('bpy.')];"
            "assert not bad, bad")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


def test_imports_point_one_way_and_are_relative():
    """addon -> rigs -> core; core never touches bpy; no absolute `choreo` imports
    (so the same files run as bl_ext.<repo>.choreo inside Blender)."""
    problems = []
    for rel, tree in _package_sources():
        layer = LAYERS.get(rel.parts[0])
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level == 0:
                    names = [node.module or ""]
                else:
                    # Resolve the relative import to a top-level area of the package.
                    pkg_parts = list(rel.parts[:-1])
                    up = node.level - 1
                    base = pkg_parts[: len(pkg_parts) - up] if up else pkg_parts
                    target = (base + (node.module or "").split("."))[:1]
                    if layer is not None and target and target[0] in LAYERS and LAYERS[target[0]] > layer:
                        problems.append(f"{rel}:{node.lineno} imports upward into {target[0]}")
            for name in names:
                top = name.split(".")[0]
                if top == "choreo":
                    problems.append(f"{rel}:{node.lineno} absolute import of {name}")
                if top in {"bpy", "bpy_extras", "mathutils", "aud"} and rel.parts[0] == "core":
                    problems.append(f"{rel}:{node.lineno} core imports {name}")
    assert not problems, "\n".join(problems)


@pytest.mark.blender  # the addon modules import bpy
def test_package_imports_under_the_extension_module_name():
    """Load every module as `bl_ext.user_default.choreo.*`, as Blender does."""
    spec = importlib.util.spec_from_file_location(
        "bl_ext_user_default_choreo", REPO / "__init__.py", submodule_search_locations=[str(REPO)])
    pkg = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = pkg
    try:
        spec.loader.exec_module(pkg)
        names = [m.name for m in pkgutil.walk_packages([str(REPO)], prefix=spec.name + ".")
                 if not any(part in {"tests", "benchmarks", "__main__"} for part in m.name.split("."))]
        for name in names:
            importlib.import_module(name)
        assert any(n.endswith(".core.motion") for n in names)
    finally:
        for name in [n for n in sys.modules if n.startswith(spec.name)]:
            del sys.modules[name]


@pytest.mark.blender
def test_register_and_unregister_in_blender():
    code = ("import bpy, choreo; choreo.register(); choreo.unregister(); choreo.register(); choreo.unregister();"
            "print('ok', bpy.app.version_string)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-2000:]


def test_cli_entry_points():
    out = subprocess.run([sys.executable, "-m", "choreo", "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "analyze" in out.stdout, out.stderr
    exe = Path(sys.executable).with_name("choreo")
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "choreo" in out.stdout, out.stderr
