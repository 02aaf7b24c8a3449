"""Regenerate Range seams: how hard does the dancer jump where the new stretch meets the kept dance?

Run: ``.venv/bin/python benchmarks/seam_benchmark.py [--seeds 5]``

Issue 12's scenario in a real Blender session (the installed add-on's
operators): a 20-s demo song at 30 fps, **Generate Dance** with the shipped
default (seed 0), then **Regenerate Range** frames 200–400 with seeds 1…N.
Joint positions are read back from the posed armature every frame; at each
seam the largest joint speed and acceleration within two frames are divided
by the dance's own 99th percentile elsewhere (≤ 1: no visible jump). Each
seed runs with the seams joined (:mod:`choreo.rigs.seams`, the shipped
behaviour) and without (the previous behaviour, for the ratio).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO.parent))


def seam_ratios(song: str, seed: int, joined: bool, f0: int = 200, f1: int = 400) -> list[tuple[float, float]]:
    """[(speed / p99, acceleration / p99) at f0, at f1] for one regeneration."""
    import bpy

    import choreo.rigs.ranges as ranges

    bpy.ops.wm.read_factory_settings(use_empty=True)
    sc = bpy.context.scene
    sc.render.fps = 30
    ed = sc.sequence_editor_create()
    ed.active_strip = ed.strips.new_sound("Music", song, channel=1, frame_start=1)
    assert bpy.ops.choreo.generate() == {"FINISHED"}
    sc.choreo.seed, sc.choreo.range_start, sc.choreo.range_end = seed, f0, f1
    plain = lambda rot, loc, *a, **k: (rot, loc, np.zeros(rot.shape[1], bool), False, False)  # noqa: E731
    with mock.patch.object(ranges, "_join_seams", plain if not joined else ranges._join_seams):
        assert bpy.ops.choreo.regenerate_range() == {"FINISHED"}
    arm = sc.choreo.target
    frames = np.arange(1, 600)
    from choreo.rigs.floor import posed_heads

    x = posed_heads(sc, arm, frames)
    v = np.linalg.norm(np.diff(x, axis=0), axis=-1).max(1) * 30
    a = np.linalg.norm(np.diff(x, 2, axis=0), axis=-1).max(1) * 900
    inside = np.ones(len(v), bool)
    for s in (f0, f1):
        inside[s - 4:s + 3] = False
    pv, pa = np.percentile(v[inside], 99), np.percentile(a[inside[:-1]], 99)
    return [(v[s - 3:s + 1].max() / pv, a[s - 3:s + 1].max() / pa) for s in (f0, f1)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args(argv)

    import choreo
    from choreo.core.audio.demo import write_demo_wav
    from choreo.rigs.quiet import quiet_blender

    with tempfile.TemporaryDirectory(prefix="choreo_seams_") as tmp, quiet_blender():
        song = str(Path(tmp) / "song.wav")
        write_demo_wav(song, bars=10, tempo=120.0)
        choreo.register()
        try:
            rows = {j: [seam_ratios(song, s, j) for s in range(1, args.seeds + 1)] for j in (False, True)}
        finally:
            choreo.unregister()
    print("| seams | speed / p99 at 200 | at 400 | acceleration / p99 at 200 | at 400 |")
    print("|---|---|---|---|---|")
    for j, name in ((False, "as before (not joined)"), (True, "joined (shipped)")):
        r = np.array(rows[j])  # (seeds, 2 seams, 2 figures)
        med = np.median(r, axis=0)
        mx = r.max(axis=0)
        print(f"| {name} | {med[0, 0]:.2f} (max {mx[0, 0]:.2f}) | {med[1, 0]:.2f} (max {mx[1, 0]:.2f}) | "
              f"{med[0, 1]:.2f} (max {mx[0, 1]:.2f}) | {med[1, 1]:.2f} (max {mx[1, 1]:.2f}) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
