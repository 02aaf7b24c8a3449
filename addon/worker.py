"""A background thread for the bpy-free part of a generation.

Blender's data may only be touched on the main thread, so the operator reads
the strip's samples first, hands them to :class:`Job` (which runs core
generation in a thread) and polls :meth:`Job.poll` from its modal timer.
Nothing in this module imports bpy.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable


class Cancelled(Exception):
    """Raised inside the worker when the user cancelled the job."""


class Job:
    """Run ``fn(*args, progress=callback, **kwargs)`` in a daemon thread.

    ``progress(fraction, label)`` calls from ``fn`` are queued for the main
    thread; after :meth:`cancel` the next progress call raises
    :class:`Cancelled`, which stops ``fn`` at its next checkpoint.
    """

    def __init__(self, fn: Callable[..., Any], *args, **kwargs):
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._queue: queue.Queue = queue.Queue()
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name="choreo-generate", daemon=True)
        self.fraction, self.label = 0.0, ""
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = False

    def start(self) -> "Job":
        self._thread.start()
        return self

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _progress(self, fraction: float, label: str = "") -> None:
        if self._cancel.is_set():
            raise Cancelled()
        self._queue.put(("progress", float(fraction), label))

    def _run(self) -> None:
        try:
            out = self._fn(*self._args, progress=self._progress, **self._kwargs)
            self._queue.put(("done", out, None))
        except BaseException as exc:  # handed to the main thread, which reports it
            self._queue.put(("error", exc, None))

    def poll(self) -> bool:
        """Drain the queue (main thread); True once the job has finished
        (then ``result`` or ``error`` is set)."""
        while True:
            try:
                kind, a, b = self._queue.get_nowait()
            except queue.Empty:
                return self.done
            if kind == "progress":
                self.fraction, self.label = a, b
            elif kind == "done":
                self.result, self.done = a, True
            else:
                self.error, self.done = a, True

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)
