"""DanceIt's skeleton stage: frames per second on this CPU, against the paper's 48.8 frames/s.

Run: ``.venv/bin/python benchmarks/danceit_benchmark.py [--minutes 3] [--runs 3] [--library DIR]``

The skeleton stage is what DanceIt adds between the song's analysis (beats, music
features: shared by every family) and the shared clean-up: the library read and each
fragment embedded by MatchNet's pose encoder, each clip's music embedded, retrieval,
temporal alignment, placement and spatial alignment (``DanceItGenerator.assemble``).
Guo et al. report 48.8 frames/s for their pose-sequence generation on an RTX 2070.
The song is the held-out tracks played one after another (``../shared/data/music``),
on one thread (``OMP_NUM_THREADS=1``, set before numpy loads).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO.parent))
MUSIC = REPO.parent / "shared" / "data" / "music"
PAPER_FPS = 48.8


def main(argv=None) -> int:
    import numpy as np

    from choreo.core.audio.grid import read_beat_grid
    from choreo.core.audio.io import load_audio
    from choreo.core.audio.beats import BeatMap
    from choreo.core.data.corpus import DEFAULT_VAL_TRACKS
    from choreo.core.generation import song as S
    from choreo.core.generation.pipeline import load_generator
    from choreo.core.library import SHIPPED_LIBRARY

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--library", default=str(SHIPPED_LIBRARY))
    args = ap.parse_args(argv)

    gen = load_generator("danceit", {"library": args.library})[0]
    sr, parts, beats, downs, t0 = gen.sample_rate, [], [], [], 0.0
    while t0 < args.minutes * 60:  # the held-out tracks in turn, their exact grids shifted along
        for name in DEFAULT_VAL_TRACKS:
            y, _ = load_audio(MUSIC / f"{name}.ogg", sr=sr)
            g = read_beat_grid(MUSIC / f"{name}.json")
            parts.append(y)
            beats.append(np.asarray(g.beats) + t0)
            downs.append(np.asarray(g.downbeats) + t0)
            t0 += len(y) / sr
    n = int(args.minutes * 60 * sr)
    y = np.concatenate(parts)[:n]
    b, d = np.concatenate(beats), np.concatenate(downs)
    b, d = b[b < n / sr], d[d < n / sr]
    frames = int(args.minutes * 60 * gen.fps)
    song = S.Song(samples=y, sr=sr, fps=gen.fps, part=(0, frames), beats=b, downbeats=d, tempo=0.0, meter=4,
                  grid=BeatMap(0.0, b, d, 4))
    S.song_features(song)
    _ = song.level  # the song's analysis, shared by every family, is done before the clock starts

    times = []
    for k in range(args.runs):
        for key in ("danceit library", "danceit dance"):
            S._RECENT.pop(key, None)
        t = time.perf_counter()
        done = gen.assemble(song, seed=k, energy=1.0)
        times.append(time.perf_counter() - t)
    med = statistics.median(times)
    print(f"DanceIt skeleton stage, {args.minutes:g}-min song ({frames} frames, {len(done.windows)} fragments), "
          f"library {args.library}: median {med:.2f} s of {args.runs} = {frames / med:.0f} frames/s on one CPU "
          f"thread; the paper: {PAPER_FPS} frames/s on a GPU ({frames / med / PAPER_FPS:.0f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
