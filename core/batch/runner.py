"""Running batch jobs: each in a process of its own, into its own folder, with a manifest.

A job's outputs are written into a fresh folder beside its final one and swapped into place
only when all of them and the manifest are written (:func:`~choreo.core.fileio.atomic_folder`),
so a crash, a kill or a failure never leaves a half-written job folder; an old finished folder
stays until the new one replaces it. The manifest (``manifest.json``) records the inputs'
hashes, the settings, the Choreo version, the outputs' sizes and hashes, timings and peak
memory; ``--resume`` skips a job whose manifest matches what the job would now be made from and
whose outputs are all there, as recorded. The work of a job is done by a worker module (the
CLI names it: :mod:`choreo.rigs.batch_job`) run as ``python -m MODULE``; a failure is the
worker's one-line reason, recorded for that job while the others go on.

:func:`run_local` runs the jobs one after another here; :func:`run_ray` hands each to a Ray
cluster as one task (resources declared per job), with the same folders and manifests, and
Ray retries a task whose worker died.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from dataclasses import dataclass, field

from ..fileio import atomic_folder, sha256_file
from .jobs import DEFAULT_RIG

MANIFEST = "manifest.json"


@dataclass
class Outcome:
    """How one job went: ``status`` done, skipped or failed; ``error`` the one-line reason."""

    job: str
    status: str
    seconds: float = 0.0
    error: str | None = None
    attempts: int = 1
    report: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"job": self.job, "status": self.status, "seconds": round(self.seconds, 2), "error": self.error,
                "report": self.report}


class _Hashes:
    """sha256 of input files, each read once per batch."""

    def __init__(self):
        self._seen: dict[str, str] = {}

    def __call__(self, path: str) -> str:
        if path not in self._seen:
            self._seen[path] = sha256_file(path)
        return self._seen[path]


def job_key(job: dict, hashes, version: str) -> dict:
    """What a job is made from, as its manifest records it: the Choreo version, the job's
    settings and the hashes of its song, rig, model and photoreal target."""
    from ..generation.pipeline import resolve_weights

    weights, _ = resolve_weights(job["family"])
    inputs = {"song": hashes(job["song_path"]), "family": hashes(str(weights))}
    if job["rig"] != DEFAULT_RIG:
        inputs["rig"] = hashes(job["rig"])
    target = job["settings"].get("photoreal", {}).get("target")
    if "photoreal" in job["settings"]["outputs"] and target:
        inputs["photoreal_target"] = hashes(target)
    made = {k: job[k] for k in ("id", "rig", "character", "family", "seed", "energy", "settings")}
    return {"choreo": version, "job": made, "inputs": inputs}


def read_manifest(folder: str) -> dict | None:
    try:
        with open(os.path.join(folder, MANIFEST), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def is_finished(out: str, job: dict, key: dict) -> bool:
    """Whether ``out``/job holds a finished job made from ``key`` with all its outputs as recorded."""
    folder = os.path.join(out, job["id"])
    m = read_manifest(folder)
    if not m or m.get("key") != key or m.get("status") != "done":
        return False
    for rec in m.get("outputs", {}).values():
        p = os.path.join(folder, rec["file"])
        if not os.path.isfile(p) or os.path.getsize(p) != rec["bytes"]:
            return False
    return True


def _remove_stale_work(out: str, job_id: str) -> None:
    """Folders a killed attempt at this job left (one attempt at a job runs at a time)."""
    prefix = f".{job_id}."
    for name in os.listdir(out) if os.path.isdir(out) else ():
        if name.startswith(prefix) and name.endswith(".part"):
            shutil.rmtree(os.path.join(out, name), ignore_errors=True)


class JobFailed(Exception):
    pass


def _run_worker(module: str, job: dict, folder: str, on_progress) -> dict:
    """Run ``python -m module`` on ``job`` into ``folder``; its report, or :class:`JobFailed`."""
    from ..child import run_child

    got: dict = {}

    def on_line(kind, rest):
        if kind == "progress" and on_progress is not None:
            frac, _, text = rest.partition(" ")
            on_progress(float(frac), text)
        elif kind in ("done", "error"):
            got[kind] = rest

    rc, tail = run_child(module, json.dumps({"job": job, "folder": folder}), on_line)
    if "error" in got:
        raise JobFailed(got["error"])
    if rc != 0 or "done" not in got:
        lines = [ln for ln in tail.splitlines() if ln.strip()]
        raise JobFailed(f"the job's process stopped (exit {rc}): {lines[-1].strip() if lines else 'no output'}")
    return json.loads(got["done"])


def execute_job(job: dict, out: str, key: dict, module: str, on_progress=None) -> dict:
    """Make one job into ``out``/job id (atomically) and return its :class:`Outcome` as a dict.
    A job's own failure is an outcome, not an exception; the worker process being killed is
    an exception (Ray retries the task)."""
    t0 = time.perf_counter()
    os.makedirs(out, exist_ok=True)
    _remove_stale_work(out, job["id"])
    try:
        with atomic_folder(os.path.join(out, job["id"])) as work:
            rep = _run_worker(module, job, work, on_progress)
            outputs = {name: {"file": f, "bytes": os.path.getsize(os.path.join(work, f)),
                              "sha256": sha256_file(os.path.join(work, f))} for name, f in rep["outputs"].items()}
            seconds = time.perf_counter() - t0
            manifest = {"job": job["id"], "status": "done", "key": key, "song": job["song_path"],
                        "outputs": outputs, "timings": {**rep["timings"], "total_s": round(seconds, 2)},
                        "dance": rep.get("dance", {}), "peak_rss_mb": rep.get("peak_rss_mb"),
                        "host": socket.gethostname(), "pid": os.getpid(),
                        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            with open(os.path.join(work, MANIFEST), "w", encoding="utf-8") as f:
                json.dump(manifest, f, indent=1)
    except JobFailed as exc:
        return Outcome(job["id"], "failed", time.perf_counter() - t0, str(exc)).to_dict()
    return Outcome(job["id"], "done", seconds, report={"timings": manifest["timings"],
                                                        "peak_rss_mb": manifest["peak_rss_mb"],
                                                        "host": manifest["host"]}).to_dict()


def run_local(tasks: list[tuple[dict, dict]], out: str, module: str, on_start=None, on_progress=None,
              on_done=None) -> list[dict]:
    """Run ``tasks`` ((job, key) pairs) one after another; returns their outcomes."""
    results = []
    for job, key in tasks:
        if on_start:
            on_start(job)
        res = execute_job(job, out, key, module,
                          (lambda f, text, j=job: on_progress(j, f, text)) if on_progress else None)
        results.append(res)
        if on_done:
            on_done(job, res)
    return results


def run_ray(tasks: list[tuple[dict, dict]], out: str, module: str, address: str, *, cpus: float = 1.0,
            memory_gb: float = 2.0, retries: int = 3, on_done=None) -> list[dict]:
    """Submit each of ``tasks`` to the Ray cluster at ``address`` ("auto": the one this machine
    is part of) as one task declaring ``cpus`` CPUs, ``memory_gb`` of memory and, for a job with
    a photoreal output, a GPU when the cluster has one; a task whose worker died is retried up to
    ``retries`` times. ``out`` and the songs must be on storage every node sees."""
    import ray

    ray.init(address=address, logging_level="ERROR", log_to_driver=False)
    try:
        has_gpu = ray.cluster_resources().get("GPU", 0) > 0
        remote = ray.remote(execute_job)
        refs = {}
        for job, key in tasks:
            gpu = 1 if has_gpu and "photoreal" in job["settings"]["outputs"] else 0
            ref = remote.options(num_cpus=cpus, memory=int(memory_gb * 2**30), num_gpus=gpu, max_retries=retries,
                                 retry_exceptions=False, name=f"choreo:{job['id']}").remote(job, out, key, module)
            refs[ref] = job
        results = {}
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            job = refs[ready[0]]
            try:
                res = ray.get(ready[0])
            except Exception as exc:  # an error outside the job's own work, or a worker dead too often
                cause = getattr(exc, "cause", None)  # a RayTaskError carries the task's own exception
                why = (f"{type(cause).__name__}: {' '.join(str(cause).split())}" if cause is not None
                       else f"its Ray worker died more than {retries} times ({type(exc).__name__})")
                res = Outcome(job["id"], "failed", 0.0, why).to_dict()
            results[job["id"]] = res
            if on_done:
                on_done(job, res)
        return [results[job["id"]] for job, _ in tasks]
    finally:
        ray.shutdown()
