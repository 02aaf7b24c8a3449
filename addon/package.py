"""The extension zip, built and validated by Blender's own tool.

``blender_ext.py`` ships inside the bpy wheel (scripts/addons_core/bl_pkg/cli);
it runs standalone, so building needs no Blender session and no bpy import.
What goes into the zip is set by ``[build] paths_exclude_pattern`` in
blender_manifest.toml. ``python -m choreo.addon.package [OUT_DIR]`` is what
``make extension`` runs.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from ..core.errors import ChoreoError

REPO = Path(__file__).resolve().parent.parent


def blender_ext_script() -> str:
    """Path of Blender's extension tool inside the installed bpy wheel."""
    spec = importlib.util.find_spec("bpy")
    if spec is None or not spec.submodule_search_locations:
        raise ChoreoError("bpy is not installed: the extension builder ships inside the bpy wheel")
    root = list(spec.submodule_search_locations)[0]
    hits = glob.glob(os.path.join(root, "*", "scripts", "addons_core", "bl_pkg", "cli", "blender_ext.py"))
    if not hits:
        raise ChoreoError(f"blender_ext.py not found under {root}")
    return hits[0]


def run_blender_ext(*args: str) -> str:
    """Run the tool with ``args``; its output, or ChoreoError with it on failure."""
    out = subprocess.run([sys.executable, blender_ext_script(), *args], capture_output=True, text=True,
                         timeout=300)
    if out.returncode != 0:
        raise ChoreoError(f"blender_ext.py {args[0]} failed:\n{out.stdout}{out.stderr}")
    return out.stdout


def build_extension(out_dir: str | os.PathLike = "dist") -> Path:
    """Build the zip of this repository into ``out_dir``, validate it, return its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    run_blender_ext("build", "--source-dir", str(REPO), "--output-dir", str(out_dir))
    version = next(line.split('"')[1] for line in (REPO / "blender_manifest.toml").read_text().splitlines()
                   if line.startswith("version"))
    zip_path = out_dir / f"choreo-{version}.zip"
    run_blender_ext("validate", str(zip_path))
    return zip_path


if __name__ == "__main__":
    print(build_extension(sys.argv[1] if len(sys.argv) > 1 else "dist"))
