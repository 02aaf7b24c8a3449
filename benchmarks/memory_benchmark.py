"""Memory benchmark: peak RSS and seconds of ``choreo generate`` and ``choreo analyze``
on long songs.

Run: ``.venv/bin/python benchmarks/memory_benchmark.py [--minutes 3,30,60]
[--commands generate,analyze] [--repo CHECKOUT] [--songs DIR] [--json OUT]``

Songs of each length are made from the shared tracks (/work/shared/data/music,
looped in order) as a real user's file would be: 44.1 kHz stereo 16-bit FLAC
(right channel = left at 0.8 gain, so the mono mix is not a no-op). They are
kept in ``--songs`` (default: a folder in the temp dir) and reused by later runs.

Each command runs in its own child process (``python -m choreo ...`` of
``--repo``, default this checkout; pass a ``git worktree add /tmp/base HEAD``
copy to measure a baseline) and its peak resident set is read from
``os.wait4``'s rusage for that child alone (``ru_maxrss``). The feature cache is
pointed at an empty temp folder so nothing is served from it.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
MUSIC = Path("/work/shared/data/music")
SR = 44100


def make_song(path: Path, minutes: float) -> Path:
    """A ``minutes``-long 44.1 kHz stereo FLAC of the shared tracks in a loop, written
    track by track (the benchmark itself never holds the whole song)."""
    import math

    import soundfile as sf
    from scipy.signal import resample_poly

    if path.is_file() and abs(sf.info(str(path)).duration - minutes * 60) < 1:
        return path
    tracks = sorted(glob.glob(str(MUSIC / "*.ogg")))
    if not tracks:
        raise SystemExit(f"no tracks in {MUSIC}")
    left = int(round(minutes * 60 * SR))
    tmp = path.with_suffix(".part.flac")
    with sf.SoundFile(str(tmp), "w", samplerate=SR, channels=2, subtype="PCM_16") as out:
        i = 0
        while left > 0:
            y, sr = sf.read(tracks[i % len(tracks)], dtype="float32", always_2d=True)
            g = math.gcd(SR, sr)
            y = resample_poly(y.mean(axis=1), SR // g, sr // g).astype(np.float32)[:left]
            out.write(np.stack([y, 0.8 * y], axis=1).clip(-1, 1))
            left -= len(y)
            i += 1
    os.replace(tmp, path)
    return path


def run_child(repo: Path, args: list[str], cache: str) -> tuple[float, float, int, str]:
    """(peak RSS MB, seconds, exit code, last stderr line) of ``python -m choreo ARGS`` from ``repo``."""
    shim = tempfile.mkdtemp(prefix="choreo-shim-")
    os.symlink(repo, os.path.join(shim, "choreo"))  # `import choreo` → this checkout, ahead of any install
    env = dict(os.environ, PYTHONPATH=shim, CHOREO_CACHE_DIR=cache)
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-m", "choreo", *args], env=env, cwd=shim,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - t0
    os.unlink(os.path.join(shim, "choreo"))
    os.rmdir(shim)
    lines = [l for l in err.replace("\r", "\n").splitlines() if l.strip()]
    return usage.ru_maxrss / 1024.0, seconds, p.returncode, lines[-1] if lines else ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", default="3,30,60")
    ap.add_argument("--commands", default="generate,analyze")
    ap.add_argument("--repo", default=str(REPO), help="checkout whose `choreo` runs (default: this one)")
    ap.add_argument("--songs", default=os.path.join(tempfile.gettempdir(), "choreo-memory-songs"))
    ap.add_argument("--json", metavar="OUT")
    a = ap.parse_args()
    songs = Path(a.songs)
    songs.mkdir(parents=True, exist_ok=True)
    repo = Path(a.repo).resolve()
    rows = []
    print(f"checkout {repo}")
    print(f"{'minutes':>7} {'command':>9} {'peak RSS MB':>12} {'seconds':>8}  status")
    with tempfile.TemporaryDirectory(prefix="choreo-membench-") as work:
        for minutes in [float(m) for m in a.minutes.split(",")]:
            song = make_song(songs / f"song_{minutes:g}min.flac", minutes)
            for cmd in a.commands.split(","):
                if cmd == "generate":
                    args = ["generate", str(song), "-o", os.path.join(work, "x.npz")]
                elif cmd == "analyze":
                    args = ["analyze", str(song), "--json", os.path.join(work, "y.json")]
                else:
                    raise SystemExit(f"unknown command {cmd!r}")
                mb, sec, rc, last = run_child(repo, args, os.path.join(work, "cache"))
                status = "ok" if rc == 0 else f"exit {rc}: {last}"
                print(f"{minutes:7g} {cmd:>9} {mb:12.0f} {sec:8.1f}  {status}", flush=True)
                rows.append({"minutes": minutes, "command": cmd, "peak_rss_mb": round(mb, 1),
                             "seconds": round(sec, 2), "exit": rc})
    if a.json:
        Path(a.json).write_text(json.dumps({"repo": str(repo), "rows": rows}, indent=1) + "\n")
    return 0 if all(r["exit"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
