"""How long the container check (core/audio/containers.py) takes: ms per file on
the shared tracks, the demo track and long songs in each format, beside what
decoding the same file with soundfile takes.

    .venv/bin/python benchmarks/container_check.py [--minutes 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from choreo.core.audio.containers import check_container  # noqa: E402
from choreo.core.audio.demo import write_demo_wav  # noqa: E402

MUSIC = Path(os.environ.get("CHOREO_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) / "music"


def ms(fn, repeat=3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return 1e3 * best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the long test songs")
    args = ap.parse_args()
    tracks = sorted(MUSIC.glob("*.ogg"))
    times = [ms(lambda p=p: check_container(str(p))) for p in tracks]
    print(f"{len(tracks)} shared OGG tracks: check {np.mean(times):.2f} ms a file (max {max(times):.2f}); "
          f"decode {ms(lambda: sf.read(tracks[0]), 1):.0f} ms for {tracks[0].name}")
    with tempfile.TemporaryDirectory() as d:
        demo = Path(d) / "demo.wav"
        write_demo_wav(demo)
        t = ms(lambda: check_container(str(demo)))
        print(f"demo track (wav, {demo.stat().st_size / 1e6:.1f} MB): check {t:.2f} ms")
        y, sr = sf.read(tracks[0], dtype="float32")
        reps = int(np.ceil(args.minutes * 60 * sr / len(y)))
        long = np.tile(np.stack([y, y[::-1]], 1), (reps, 1))[: int(args.minutes * 60 * sr)]
        for ext, fmt in (("wav", "WAV"), ("flac", "FLAC"), ("ogg", "OGG"), ("mp3", "MP3")):
            p = Path(d) / f"long.{ext}"
            with sf.SoundFile(p, "w", sr, 2, format=fmt) as f:  # in blocks: one big OGG write crashes libsndfile
                for i in range(0, len(long), 1 << 16):
                    f.write(long[i:i + (1 << 16)])
            print(f"{args.minutes:g}-min stereo {ext} ({p.stat().st_size / 1e6:.1f} MB): "
                  f"check {ms(lambda: check_container(str(p))):.1f} ms, decode {ms(lambda: sf.read(p), 1):.0f} ms")


if __name__ == "__main__":
    main()
