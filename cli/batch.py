"""``choreo batch JOBS.toml --out DIR``: many songs × rigs × models × seeds, resumable, here or on Ray.

The job file (docs/batch.md; ``examples/batch.toml``) is read and checked whole before any work:
a problem names the file and its line. Each job runs in a process of its own and writes its
folder ``DIR/JOB_ID`` atomically, with a ``manifest.json``; ``--resume`` skips the jobs whose
manifest matches; a failed job is recorded with its one-line reason and the batch goes on.
The run's summary is printed and written to ``DIR/batch.json``; the exit code is 1 when any job
failed. ``--ray ADDRESS`` (or ``auto``) sends one task per job to a Ray cluster instead.
"""

from __future__ import annotations

import importlib.util
import json
import os
import time

from .. import __version__
from ..core.errors import ChoreoInputError
from ..core.progress import cli_bar

WORKER = __name__.rpartition(".")[0].rpartition(".")[0] + ".rigs.batch_job"
SUMMARY = "batch.json"


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "batch", help="run a job file: many dances (songs × rigs × models × seeds), resumable",
        description="Run the jobs of a TOML job file (docs/batch.md): each a dance written into its own folder "
                    "of DIR (.blend, .bvh, .npz, preview and photoreal MP4s, as the file asks) with a manifest. "
                    "Exit 1 when any job failed.")
    p.add_argument("jobs", metavar="JOBS.toml", help="the job file")
    p.add_argument("--out", metavar="DIR", help="output folder (default: the job file's `out`)")
    p.add_argument("--resume", action="store_true",
                   help="skip the jobs whose folder holds a finished manifest made from the same inputs and settings")
    p.add_argument("--ray", metavar="ADDRESS", help="run the jobs on a Ray cluster: its address (host:port), or "
                                                    "auto for the cluster this machine is part of")
    p.add_argument("--cpus-per-job", type=float, default=1.0, metavar="N", help="Ray: CPUs each job asks for (default 1)")
    p.add_argument("--memory-per-job", type=float, default=2.0, metavar="GB",
                   help="Ray: memory each job asks for, GB (default 2)")
    p.add_argument("--list", action="store_true", help="list the jobs and whether each is finished, then stop")
    p.set_defaults(func=run)


def _check_jobs(jobfile) -> None:
    """What only this side can check, before any work: frame rates, and bpy for Blender outputs."""
    from ..core.batch.jobs import JobFileError
    from ..rigs.rates import scene_rate

    for job in jobfile.jobs:
        try:
            scene_rate(job.settings["fps"])
        except ChoreoInputError as exc:
            raise JobFileError(jobfile.path, job.line, exc.problem) from None
        if {"blend", "preview"} & set(job.settings["outputs"]) and importlib.util.find_spec("bpy") is None:
            raise JobFileError(jobfile.path, job.line, ".blend and preview outputs need Blender's bpy module "
                                                       "(pip install bpy)")


def _song_paths(jobfile, out: str, write: bool = True) -> dict[str, str]:
    """Each job's song file; the built-in demo track is synthesised into ``out``/songs (and left
    untouched when the file there already holds it, so a resumed batch rewrites nothing; not
    written at all without ``write``)."""
    from ..core.batch.jobs import DEMO_SONG

    paths = {}
    for job in jobfile.jobs:
        if job.song == DEMO_SONG and DEMO_SONG not in paths:
            from ..core.audio.demo import write_demo_wav
            from ..core.fileio import sha256_file

            demo = os.path.join(out, "songs", "demo.wav")
            paths[DEMO_SONG] = demo
            if not write:
                continue
            fresh = os.path.join(out, "songs", f".demo.{os.getpid()}.wav")
            os.makedirs(os.path.dirname(demo), exist_ok=True)
            try:
                write_demo_wav(fresh)
                if not os.path.isfile(demo) or sha256_file(demo) != sha256_file(fresh):
                    os.replace(fresh, demo)
            finally:
                if os.path.exists(fresh):
                    os.unlink(fresh)
        paths.setdefault(job.song, job.song)
    return paths


def _table(rows: list[dict]) -> list[str]:
    width = max([len(r["job"]) for r in rows] + [3])
    lines = [f"{'job':<{width}}  {'status':<8} {'seconds':>8}  note"]
    for r in rows:
        note = r.get("error") or ""
        lines.append(f"{r['job']:<{width}}  {r['status']:<8} {r['seconds']:>8.1f}  {note}")
    return lines


def run(args) -> int:
    from ..core.batch import read_job_file
    from ..core.batch.runner import _Hashes, is_finished, job_key, run_local, run_ray
    from ..core.fileio import atomic_path, check_output_dir

    if args.out:
        check_output_dir(args.out)  # before the job file is read
    jobfile = read_job_file(args.jobs)
    out = args.out or jobfile.out
    if not out:
        raise ChoreoInputError(args.jobs, "no output folder: pass --out DIR or set `out` in the job file")
    out = check_output_dir(out)
    _check_jobs(jobfile)
    if args.ray and importlib.util.find_spec("ray") is None:
        raise ChoreoInputError("--ray", "Ray is not installed (pip install ray)")
    songs = _song_paths(jobfile, out, write=not args.list)  # --list writes nothing
    hashes = _Hashes()
    tasks, skipped = [], []
    for job in jobfile.jobs:
        d = {**job.to_dict(), "song_path": songs[job.song]}
        if not os.path.isfile(d["song_path"]):  # --list before the demo track was first written
            key, finished = None, False
        else:
            key = job_key(d, hashes, __version__)
            finished = is_finished(out, d, key)
        if args.list:
            print(f"{job.id}  ({'finished' if finished else 'to do'}; line {job.line})")
        elif args.resume and finished:
            skipped.append({"job": job.id, "status": "skipped", "seconds": 0.0, "error": None})
        else:
            tasks.append((d, key))
    if args.list:
        return 0
    os.makedirs(out, exist_ok=True)
    print(f"{len(jobfile.jobs)} jobs: {len(tasks)} to run, {len(skipped)} finished already"
          + (f"; on Ray at {args.ray}" if args.ray else "") + f"; into {out}")
    t0 = time.perf_counter()
    n, done = len(tasks), []
    with cli_bar("batch") as bar:
        def on_done(job, res):
            done.append(res)
            bar(len(done) / max(n, 1), f"{len(done)}/{n} {res['job']} {res['status']}")

        def on_progress(job, f, text):
            bar((len(done) + f) / max(n, 1), f"{len(done) + 1}/{n} {job['id']}: {text}")

        if args.ray:
            run_ray(tasks, out, WORKER, args.ray, cpus=args.cpus_per_job, memory_gb=args.memory_per_job,
                    on_done=on_done)
        else:
            run_local(tasks, out, WORKER, on_progress=on_progress, on_done=on_done)
    seconds = time.perf_counter() - t0
    by_id = {r["job"]: r for r in done + skipped}
    rows = [by_id[j.id] for j in jobfile.jobs]
    for line in _table(rows):
        print(line)
    counts = {s: sum(r["status"] == s for r in rows) for s in ("done", "skipped", "failed")}
    ran = [r for r in rows if r["status"] == "done"]
    per_job = sum(r["seconds"] for r in ran) / len(ran) if ran else 0.0
    print(f"done {counts['done']}, skipped {counts['skipped']}, failed {counts['failed']}; "
          f"{seconds:.1f} s" + (f", {per_job:.1f} s per job" if ran else "")
          + (f", {3600 * len(ran) / seconds:.1f} jobs/hour" if ran and seconds > 0 else ""))
    summary = {"job_file": jobfile.path, "out": out, "choreo": __version__, "ray": args.ray, "seconds": round(seconds, 2),
               "counts": counts, "jobs": rows}
    with atomic_path(os.path.join(out, SUMMARY), suffix=".json") as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=1)
    return 1 if counts["failed"] else 0
