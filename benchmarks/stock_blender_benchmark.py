"""Generate in a stock Blender: time from pressing Generate to keys on the armature.

Run: ``.venv/bin/python benchmarks/stock_blender_benchmark.py [--python STOCK_PY] [--minutes 3] [--runs 3]``

``STOCK_PY`` is the Python of a venv holding only ``bpy`` (what a stock
Blender's Python has; default ``.venv-stock-5.0.1/bin/python``, which
``make test`` creates). The extension zip (built here by Blender's own tool)
is installed there through Blender's extension installer, a synthetic song
(:mod:`choreo.core.audio.demo`, 118 BPM, no beat grid: beats are tracked) is
put in the Video Sequencer, and ``bpy.ops.choreo.generate()`` runs onto the
default mannequin with the shipped default weights, as a user's click does:

- **first**: the first Generate in a fresh Blender session right after
  installing (the add-on's modules, the weights and every numpy filterbank
  load now);
- **first, new session**: the first Generate in a second Blender process in
  which the extension is already installed and enabled (what every later
  Blender session pays once);
- **warm**: the median of ``--runs`` further Generates on the same strip in
  that session (each a new action, the previous one kept on an NLA track; the
  song's analysis and audio codes are reused, only the dance is new);
- **warm, another song**: then one Generate after pointing the strip at a
  song the session has not analysed (a 124-BPM synthetic song of the same length).

Each figure is the operator's wall time (strip read, analysis, network,
retarget, keys, markers). Nothing is hard-coded.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO.parent))  # so `import choreo` works from a plain checkout

from choreo.addon.package import build_extension  # noqa: E402
from choreo.core.audio.demo import write_demo_wav  # noqa: E402

SESSION = r"""
import json, statistics, sys, time
import bpy
zip_path, song, runs, install, song2 = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1", sys.argv[5]
t = time.perf_counter()
if install:
    assert bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default",
                                                    enable_on_install=True) == {"FINISHED"}
    bpy.ops.wm.save_userpref()
install_s = time.perf_counter() - t
if "bl_ext.user_default.choreo" not in bpy.context.preferences.addons:
    # installed by the first session; a background Blender does not load saved
    # preferences, so enable it as start-up does for an enabled extension
    bpy.ops.preferences.addon_enable(module="bl_ext.user_default.choreo")
assert "bl_ext.user_default.choreo" in bpy.context.preferences.addons
sc = bpy.context.scene
sc.render.fps, sc.render.fps_base = 30, 1.0
ed = sc.sequence_editor_create()
strip = ed.strips.new_sound("Music", song, channel=1, frame_start=1)
ed.active_strip = strip
times = []
for i in range(1 + runs):
    t = time.perf_counter()
    assert bpy.ops.choreo.generate() == {"FINISHED"}
    times.append(time.perf_counter() - t)
other_s = None
if runs:  # warm, but a song this session has not analysed yet
    strip.sound.filepath = song2
    t = time.perf_counter()
    assert bpy.ops.choreo.generate() == {"FINISHED"}
    other_s = time.perf_counter() - t
heavy = sorted(m for m in ("scipy", "librosa", "torch", "safetensors", "soundfile", "numba") if m in sys.modules)
arm = sc.choreo.target
print("RESULT " + json.dumps({"install_s": install_s, "first_s": times[0], "warm": times[1:],
                              "warm_median_s": statistics.median(times[1:]) if runs else None,
                              "warm_other_song_s": other_s,
                              "heavy_modules": heavy, "frames": sc.frame_end - sc.frame_start + 1,
                              "actions": len(bpy.data.actions), "bpy": bpy.app.version_string}))
"""


def _session(python: str, env: dict, zip_path: Path, song: Path, song2: Path, runs: int, install: bool) -> dict:
    out = subprocess.run([python, "-c", SESSION, str(zip_path), str(song), str(runs), "1" if install else "0",
                          str(song2)],
                         capture_output=True, text=True, env=env, timeout=1800)
    line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
    if out.returncode != 0 or line is None:
        sys.exit(f"stock Blender session failed (exit {out.returncode}):\n{out.stdout[-3000:]}{out.stderr[-3000:]}")
    return json.loads(line[len("RESULT "):])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", default=str(REPO / ".venv-stock-5.0.1" / "bin" / "python"),
                    help="Python of a venv with only bpy (default: %(default)s)")
    ap.add_argument("--minutes", type=float, default=3.0, help="song length (default 3)")
    ap.add_argument("--runs", type=int, default=3, help="warm Generates after the first (default 3)")
    ap.add_argument("--json", metavar="OUT", help="also write the figures as JSON")
    args = ap.parse_args(argv)
    if not Path(args.python).is_file():
        sys.exit(f"{args.python}: no such Python; make one with `python3.11 -m venv V && V/bin/pip install "
                 f"bpy==5.0.1` (or run `make test`, which creates .venv-stock-5.0.1)")
    with tempfile.TemporaryDirectory(prefix="choreo_stock_bench_") as tmp:
        tmp = Path(tmp)
        zip_path = build_extension(tmp / "dist")
        zip_mb = zip_path.stat().st_size / 1e6
        song = tmp / "song.wav"
        bars = max(1, int(round(args.minutes * 60 * 118 / 60 / 4)))
        write_demo_wav(song, bars=bars, tempo=118.0)
        song2 = tmp / "song2.wav"
        write_demo_wav(song2, bars=int(round(bars * 124 / 118)), tempo=124.0)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["BLENDER_USER_RESOURCES"] = str(tmp / "user")
        after_install = _session(args.python, env, zip_path, song, song2, 0, install=True)
        session = _session(args.python, env, zip_path, song, song2, args.runs, install=False)
    result = {"bpy": session["bpy"], "song_s": bars * 4 * 60 / 118.0, "zip_mb": zip_mb,
              "install_s": after_install["install_s"], "first_after_install_s": after_install["first_s"],
              "first_new_session_s": session["first_s"], "warm_median_s": session["warm_median_s"],
              "warm_s": session["warm"], "warm_other_song_s": session["warm_other_song_s"], "heavy_modules": sorted(set(after_install["heavy_modules"])
                                                                 | set(session["heavy_modules"]))}
    print(f"stock bpy {result['bpy']} ({args.python}); song {result['song_s']:.0f} s, zip {result['zip_mb']:.1f} MB")
    print(f"  install                        {result['install_s']:6.2f} s")
    print(f"  Generate, first after install  {result['first_after_install_s']:6.2f} s")
    print(f"  Generate, first in new session {result['first_new_session_s']:6.2f} s")
    print(f"  Generate, warm (median of {args.runs})    {result['warm_median_s']:6.2f} s"
          f"   ({', '.join(f'{t:.2f}' for t in result['warm_s'])})")
    print(f"  Generate, warm, another song   {result['warm_other_song_s']:6.2f} s")
    print(f"  non-Blender packages imported: {', '.join(result['heavy_modules']) or 'none'}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
