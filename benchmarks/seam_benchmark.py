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
sys.path.insert(0, str(REPO / "benchmarks"))   # edit_benchmark's scene and seam measure


def seam_ratios(song: str, seed: int, joined: bool, f0: int = 200, f1: int = 400) -> list[tuple[float, float]]:
    """[(speed / p99, acceleration / p99) at f0, at f1] for one regeneration."""
    import bpy

    import choreo.rigs.ranges as ranges
    from choreo.rigs.floor import posed_heads
    from edit_benchmark import FRAMES, danced_scene
    from edit_benchmark import seam_ratios as ratios_at

    sc, arm = danced_scene(song)
    sc.choreo.seed, sc.choreo.range_start, sc.choreo.range_end = seed, f0, f1
    plain = lambda rot, loc, *a, **k: (rot, loc, np.zeros(rot.shape[1], bool), False, False)  # noqa: E731
    with mock.patch.object(ranges, "_join_seams", plain if not joined else ranges._join_seams):
        assert bpy.ops.choreo.regenerate_range() == {"FINISHED"}
    return ratios_at(posed_heads(sc, arm, FRAMES), (f0, f1))


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
