"""A throwaway local Ray cluster (the tests' and the benchmark's), started and stopped with
Ray's own command line, as a studio starts a real one (docs/batch.md)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def local_ray_cluster(num_cpus: int = 2, object_store_mb: int = 100) -> Iterator[str]:
    """``ray start --head`` on 127.0.0.1 with ``num_cpus`` worker slots; yields its address
    (``127.0.0.1:PORT``) and stops it afterwards: only its own processes (those started with
    its temporary folder, and their children), never another Ray on the machine, as a plain
    ``ray stop`` would. Usage statistics are off."""
    ray = Path(sys.executable).with_name("ray")
    if not ray.is_file():
        ray = Path(shutil.which("ray") or "ray")
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="choreo_ray_", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    start = [str(ray), "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", f"--num-cpus={num_cpus}",
             f"--object-store-memory={object_store_mb * 10**6}", "--include-dashboard=false",
             "--disable-usage-stats", f"--temp-dir={temp}"]
    r = subprocess.run(start, capture_output=True, text=True, env=env, timeout=300)
    if r.returncode != 0:
        shutil.rmtree(temp, ignore_errors=True)
        raise RuntimeError(f"ray start failed: {r.stderr.strip()[-2000:]}")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        _stop(temp)
        shutil.rmtree(temp, ignore_errors=True)


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process this user can see (Linux /proc)."""
    procs = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except (OSError, IndexError, ValueError):
            continue
        procs[int(d)] = (ppid, cmd)
    return procs


def _stop(temp: str, wait: float = 10.0) -> None:
    """End the cluster whose processes name ``temp``, with their descendants (the workers)."""
    procs = _processes()
    mine = {pid for pid, (_, cmd) in procs.items() if temp in cmd}
    grew = True
    while grew:
        kids = {pid for pid, (ppid, _) in procs.items() if ppid in mine} - mine
        grew, mine = bool(kids), mine | kids
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in mine:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        deadline = time.time() + wait
        while time.time() < deadline and any(os.path.exists(f"/proc/{p}") and not _zombie(p) for p in mine):
            time.sleep(0.1)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except OSError:
        return True
