"""Preview render cost and how fast an interrupt stops it.

Run: ``.venv/bin/python benchmarks/render_benchmark.py [--frames 90] [--repeats 2]
[--interrupts 3] [--song SONG]``

- :func:`choreo.rigs.render.render_preview` (a child process renders a saved
  copy) on a generated dance of ``--frames`` frames at 640×360: wall seconds
  and CPU seconds (this process and its children) per frame, each repeat; CPU
  time is the steadier figure on a shared machine;
- ``choreo generate SONG -o x.blend --render x.mp4`` sent SIGINT and SIGTERM
  once frames are being rendered: seconds from the signal to the exit, and the
  exit status.

Every figure is measured when run; nothing is hard-coded.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_SONG = Path(__file__).resolve().parents[2] / "shared" / "data" / "music" / "mma02_hiphop.ogg"


def _cpu() -> float:
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + c.ru_utime + c.ru_stime


def render_cost(song: str, frames: int, repeats: int, tmp: Path) -> None:
    import bpy

    from choreo.core.generation.pipeline import generate_dance
    from choreo.rigs.render import render_preview
    from choreo.rigs.scene import write_dance_blend

    dance = generate_dance(song, start=10.0, end=10.0 + frames / 30)
    write_dance_blend(dance, tmp / "r.blend")
    for i in range(repeats):
        c0, t0 = _cpu(), time.perf_counter()
        r = render_preview(bpy.context.scene, tmp / "r.mp4")
        wall, cpu = time.perf_counter() - t0, _cpu() - c0
        print(f"render {r['frames']} frames 640×360: {wall:.1f} s wall ({wall / r['frames']:.3f} s/frame), "
              f"{cpu:.1f} s CPU ({cpu / r['frames']:.3f} s/frame)  [repeat {i + 1}]", flush=True)


def interrupt_latency(song: str, sig: int, tmp: Path) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp))
    p = subprocess.Popen([sys.executable, "-m", "choreo", "generate", song, "-o", "x.blend", "--render", "x.mp4",
                          "--start", "0", "--end", "20"], cwd=folder, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env={**os.environ, "CHOREO_PROGRESS_INTERVAL": "0"})
    for line in p.stderr:
        if "render frame 2/" in line:
            break
    t0 = time.perf_counter()
    p.send_signal(sig)
    p.communicate(timeout=300)
    left = sorted(os.listdir(folder))
    print(f"{signal.Signals(sig).name} during the render: exit {p.returncode} after "
          f"{time.perf_counter() - t0:.2f} s; files left: {left or 'none'}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--song", default=str(DEFAULT_SONG))
    ap.add_argument("--frames", type=int, default=90)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--interrupts", type=int, default=3, help="runs per signal")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        render_cost(args.song, args.frames, args.repeats, Path(tmp))
        for sig in (signal.SIGINT, signal.SIGTERM):
            for _ in range(args.interrupts):
                interrupt_latency(args.song, sig, Path(tmp))


if __name__ == "__main__":
    main()
