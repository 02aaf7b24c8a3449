"""Keep Blender's own chatter out of the user's terminal.

Blender prints from C straight to file descriptors 1 and 2 (``Info: Saved copy
as …``, FBX import notes, ``EGL Error`` lines), past ``sys.stdout``. Around a
Blender step, :func:`quiet_blender` points both descriptors at a temporary file
and throws the text away if the step succeeds; if it fails with anything but a
user error or an interrupt (which are reported in one line), the text is
written to stderr so that a real error is not lost.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import tempfile

from ..core.errors import ChoreoError


def _flush_c_stdio() -> None:
    """Flush C's stdio buffers: Blender's printf text may still sit there."""
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):  # no libc handle (Windows): Blender flushes its own
        pass


def _flush_python() -> None:
    for s in (sys.stdout, sys.stderr):
        try:
            s.flush()
        except (AttributeError, OSError, ValueError):
            pass


@contextlib.contextmanager
def quiet_blender():
    """Capture fds 1 and 2 for the block; show the text only if the block fails."""
    fds = [1, 2]  # where C's stdout and stderr write, whatever sys.stdout is
    try:
        saved = [os.dup(fd) for fd in fds]
    except OSError:  # no such descriptors (a GUI process without a console)
        yield
        return
    _flush_python()
    _flush_c_stdio()
    with tempfile.TemporaryFile() as log:
        try:
            for fd in fds:
                os.dup2(log.fileno(), fd)
            try:
                yield
            finally:
                _flush_python()
                _flush_c_stdio()
                for fd, keep in zip(fds, saved):
                    os.dup2(keep, fd)
        except ChoreoError:
            raise
        except Exception:
            log.seek(0)
            text = log.read().decode("utf-8", "replace").strip()
            if text:
                print(text, file=sys.stderr)
            raise
        finally:
            for keep in saved:
                os.close(keep)
