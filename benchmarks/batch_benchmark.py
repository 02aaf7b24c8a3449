"""Batch rendering figures (issue 18), as a studio would run it, through `choreo batch`:

1. jobs per hour for 1-minute songs on this machine, preview included (the demo track's first
   60 s; `.blend` + a 640×360 Workbench preview with the follow camera), run one after another;
2. 8 shorter jobs run one after another, then the same 8 on a local Ray cluster started here
   (`ray start --head` on 127.0.0.1 with one worker slot per core): the speed-up;
3. memory per job: the peak resident memory of each job's process and its render process.

    python benchmarks/batch_benchmark.py [--work out/batch_bench] [--json out/batch_bench.json]

Prints the figures and writes the JSON record (`make figures` copies it into
benchmarks/results/batch_bench.json and renders the tables in README.md and docs/batch.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _job_file(path: Path, *, seconds: float, seeds: int) -> Path:
    path.write_text(f"""[[jobs]]
songs = ["demo"]
end = {seconds}
seeds = {list(range(seeds))}
outputs = ["blend", "preview"]
[jobs.preview]
width = 640
height = 360
camera = "follow"
""", encoding="utf-8")
    return path


def _batch(jobs: Path, out: Path, *extra: str) -> tuple[float, list[dict]]:
    """Run `choreo batch`; (wall seconds, the manifests of its jobs)."""
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "choreo", "batch", str(jobs), "--out", str(out), *extra],
                       capture_output=True, text=True, env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})
    wall = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"choreo batch failed:\n{r.stdout}\n{r.stderr[-3000:]}")
    manifests = [json.loads(p.read_text()) for p in sorted(out.glob("*/manifest.json"))]
    return wall, manifests


def _timings(manifests: list[dict]) -> dict:
    def med(key):
        vals = [m["timings"].get(key, 0.0) for m in manifests]
        return round(statistics.median(vals), 2)

    return {"total_s": med("total_s"), "generate_s": med("generate_s"), "blend_s": med("blend_s"),
            "render_s": med("render_s"), "peak_rss_mb": max(m["peak_rss_mb"] for m in manifests),
            "frames": round(statistics.median(m["dance"]["seconds"] for m in manifests) * 30)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", default=str(REPO / "out" / "batch_bench"))
    ap.add_argument("--json", default=str(REPO / "out" / "batch_bench.json"))
    ap.add_argument("--long-jobs", type=int, default=2, help="1-minute jobs (default 2)")
    ap.add_argument("--short-jobs", type=int, default=8, help="jobs run sequentially and on Ray (default 8)")
    ap.add_argument("--short-seconds", type=float, default=15.0, help="length of those jobs' songs (default 15)")
    args = ap.parse_args(argv)
    from choreo.core.batch.cluster import local_ray_cluster

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    cores = os.cpu_count() or 1

    long_jobs = _job_file(work / "long.toml", seconds=60.0, seeds=args.long_jobs)
    wall, manifests = _batch(long_jobs, work / "long")
    long = {"jobs": args.long_jobs, "song_seconds": 60.0, "wall_s": round(wall, 1), **_timings(manifests)}
    long["jobs_per_hour"] = round(3600 * args.long_jobs / wall, 1)
    print(f"1-min songs: {long['jobs_per_hour']} jobs/hour ({long['total_s']:.0f} s a job: generate "
          f"{long['generate_s']:.0f} s, key + save {long['blend_s']:.0f} s, render {long['render_s']:.0f} s for "
          f"{long['frames']} frames); peak memory {long['peak_rss_mb']:.0f} MB")

    short_jobs = _job_file(work / "short.toml", seconds=args.short_seconds, seeds=args.short_jobs)
    seq_wall, seq_manifests = _batch(short_jobs, work / "sequential")
    with local_ray_cluster(num_cpus=cores) as address:
        ray_wall, ray_manifests = _batch(short_jobs, work / "ray", "--ray", address)
    hosts_pids = {(m["host"], m["pid"]) for m in ray_manifests}
    short = {"jobs": args.short_jobs, "song_seconds": args.short_seconds, "workers": cores,
             "sequential_s": round(seq_wall, 1), "ray_s": round(ray_wall, 1),
             "speedup": round(seq_wall / ray_wall, 2), "ray_worker_processes": len(hosts_pids),
             "sequential": _timings(seq_manifests), "ray": _timings(ray_manifests)}
    print(f"{args.short_jobs} jobs of {args.short_seconds:g} s: sequential {seq_wall:.0f} s, Ray ({cores} worker "
          f"slots) {ray_wall:.0f} s: speed-up {short['speedup']:.2f}×; a job's render {short['sequential']['render_s']:.0f} s "
          f"alone, {short['ray']['render_s']:.0f} s beside another; peak memory a job "
          f"{short['sequential']['peak_rss_mb']:.0f} MB")
    record = {"cores": cores, "long": long, "short": short,
              "note": "through `choreo batch`; the demo track; .blend + 640x360 Workbench preview (follow camera)"}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(record, indent=1))
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
