"""The ``choreo`` command: one sub-command per module in this package.

Each module defines ``add_parser(subparsers)`` that registers its sub-command
and sets ``func`` (a callable taking the parsed args, returning an exit code).
User errors (:class:`ChoreoError`) print one line and exit 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .. import __version__
from ..core.errors import ChoreoError

COMMANDS = ("demo", "analyze", "dataset", "train", "generate", "bench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="choreo", description="Music in, a dance on an armature out.")
    parser.add_argument("--version", action="version", version=f"choreo {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f".{name}", __name__).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ChoreoError as exc:
        print(f"choreo: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("choreo: interrupted", file=sys.stderr)
        return 130
