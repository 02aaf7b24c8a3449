"""The ``choreo`` command: one sub-command per module in this package.

Each module defines ``add_parser(subparsers)`` that registers its sub-command
and sets ``func`` (a callable taking the parsed args, returning an exit code).
User errors (:class:`ChoreoError`) print one line and exit 2, never a traceback.
SIGINT and SIGTERM stop a command with ``choreo: interrupted`` (exit 130 and
143); both arrive as :class:`KeyboardInterrupt` in the main thread, so every
``finally`` and atomic writer removes its temporary files on the way out. A
closed stdout (``choreo analyze … | head -1``) ends the command quietly (141).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading
from typing import Iterator

from .. import __version__
from ..core.errors import ChoreoError

COMMANDS = ("demo", "analyze", "dataset", "train", "generate", "imports", "library", "video", "batch", "bench")
EXIT_SIGINT, EXIT_SIGTERM, EXIT_SIGPIPE = 130, 143, 141  # 128 + the signal's number, as a shell reports it


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the main thread is, like Ctrl-C's KeyboardInterrupt."""


def _raise_terminated(signum, frame):
    raise Terminated()


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="choreo", description="Music in, a dance on an armature out.")
    parser.add_argument("--version", action="version", version=f"choreo {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f".{name}", __name__).add_parser(sub)
    return parser


def _stdout_to_devnull() -> None:
    """The reader of stdout is gone: send what is still buffered nowhere, so the
    interpreter's final flush does not print a BrokenPipeError (Python's own advice)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # a replaced stdout (tests): nothing to redirect
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def main(argv: list[str] | None = None) -> int:
    with _sigterm_raises():
        try:
            parser = build_parser()
            args = parser.parse_args(argv)
            if not getattr(args, "func", None):
                parser.print_help()
                return 2
            code = int(args.func(args) or 0)
            sys.stdout.flush()  # a closed pipe shows here, not at exit
            return code
        except ChoreoError as exc:
            print(f"choreo: error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt as exc:
            for line in ["interrupted", *getattr(exc, "__notes__", ())]:
                print(f"choreo: {line}", file=sys.stderr)
            return EXIT_SIGTERM if isinstance(exc, Terminated) else EXIT_SIGINT
        except BrokenPipeError:
            _stdout_to_devnull()
            return EXIT_SIGPIPE
