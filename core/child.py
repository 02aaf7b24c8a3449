"""A Python child process that reports by lines: ``python -m MODULE ARG``, its stdout read
line by line as ``KIND REST`` (progress, results), its stderr kept in a temporary file and
read back only when something went wrong. Used by the preview render and by batch jobs: work
that must be stoppable at once (a child can be killed; Blender's render loop cannot be
interrupted from Python) or isolated (its own Blender data)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from typing import Callable


def run_child(module: str, arg: str, on_line: Callable[[str, str], None]) -> tuple[int, str]:
    """Run ``module`` on ``arg``, calling ``on_line(kind, rest)`` for each stdout line; returns
    (exit code, the last 3000 characters of its stderr). The child is killed on any exception
    here (KeyboardInterrupt included); its stdin stays open until it is gone, so a child that
    watches stdin for EOF dies with this process, however this process ends."""
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([sys.executable, "-m", module, arg], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=log)
        try:
            for raw in proc.stdout:
                kind, _, rest = raw.decode("utf-8", "replace").rstrip("\n").partition(" ")
                on_line(kind, rest)
            rc = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdin.close()
            proc.stdout.close()
        log.seek(0)
        return rc, log.read().decode("utf-8", "replace").strip()[-3000:]


def watch_parent(cleanup: Callable[[], None] | None = None) -> None:
    """In the child: exit (after ``cleanup``) as soon as the parent is gone, seen as EOF on
    stdin (the parent never writes to it), from a daemon thread."""
    import os
    import threading

    def watch():
        while os.read(0, 1024):
            pass
        if cleanup is not None:
            try:
                cleanup()
            except OSError:
                pass
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
