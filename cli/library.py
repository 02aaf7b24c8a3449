"""``choreo library``: the motion library DanceIt assembles dances from (add, info, remove).

The format is documented in :mod:`choreo.core.library`; without ``--library`` the
default library is used (``$CHOREO_LIBRARY``, else ``~/.local/share/choreo/library``),
made on the first ``add`` with the shipped moves in it.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from ..core.progress import cli_bar, scaled


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("library", help="the motion library DanceIt dances from: add, info, remove")
    sub = parser.add_subparsers(dest="library_command", metavar="ACTION", required=True)
    lib_help = "library folder (default: $CHOREO_LIBRARY, else ~/.local/share/choreo/library)"

    a = sub.add_parser("add", help="add motion files (BVH, Choreo .npz, AIST++ .pkl) to the library")
    a.add_argument("files", nargs="+", metavar="FILE")
    a.add_argument("--library", metavar="DIR", help=lib_help + "; made when missing")
    a.add_argument("--weights", metavar="FILE", default="danceit",
                   help="DanceIt weights whose embeddings are stored with the moves (default: the shipped danceit)")
    a.set_defaults(func=run_add)

    i = sub.add_parser("info", help="list the sources in the library")
    i.add_argument("--library", metavar="DIR", help=lib_help + " (or the shipped moves until it is made)")
    i.set_defaults(func=run_info)

    s = sub.add_parser("ship", help="(developers) rebuild the shipped moves in weights/library from "
                                    "../shared/data: the corpus's training dance takes")
    s.add_argument("--mocap", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mocap"
                                          / "cmu"), help="folder of BVH takes (default: %(default)s)")
    s.add_argument("--weights", metavar="FILE", default="danceit", help="DanceIt weights to embed with")
    s.set_defaults(func=run_ship)

    r = sub.add_parser("remove", help="remove a source (by id, or every source of that name)")
    r.add_argument("source", metavar="ID|NAME")
    r.add_argument("--library", metavar="DIR", help=lib_help)
    r.set_defaults(func=run_remove)


def run_add(args: argparse.Namespace) -> int:
    from ..core.library import MotionLibrary, read_files

    t0 = time.perf_counter()
    with cli_bar("library add") as bar:
        files = read_files(args.files, scaled(bar, 0.0, 0.3))  # a bad file is said before the library is touched
        embed = _embedder(args.weights)
        lib = MotionLibrary.for_writing(args.library)
        added = lib.add_read(files, embed=embed, progress=scaled(bar, 0.3, 1.0))
    for r in added:
        print(f"added {r.id} {r.name}: {r.seconds:.1f} s, {r.fragments} fragments")
    print(f"library {lib.path}: {len(lib.sources())} sources; took {time.perf_counter() - t0:.1f} s")
    return 0


def _embedder(weights: str):
    """What the added moves are stored with: the DanceIt weights' embeddings (none when the
    shipped danceit is not installed: they are computed when a dance first uses them)."""
    from ..core.errors import ChoreoInputError
    from ..core.generation.pipeline import load_generator
    from ..core.models.weights import installed_models

    if weights == "danceit" and "danceit" not in installed_models():
        return None
    gen, _ = load_generator(weights)
    if not hasattr(gen, "library_embedder"):
        raise ChoreoInputError(weights, f"{gen.family} weights, not DanceIt's: they embed no moves")
    return gen.library_embedder()


def run_info(args: argparse.Namespace) -> int:
    from ..core.library import MotionLibrary

    info = MotionLibrary.for_reading(args.library).info()
    print(f"library {info['path']} ({info['format']} v{info['version']}): {info['sources']} sources, "
          f"{info['seconds'] / 60:.2f} min, {info['fragments']} fragments"
          + (f", {info['removed']} removed" if info["removed"] else ""))
    for s in info["list"]:
        print(f"  {s['id']}  {s['name']:<28} {s['seconds']:7.1f} s  {s['fragments']:4d} fragments  "
              f"{'embedded' if s['embedded'] else 'not embedded'}  {s['origin']}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from ..core.library import MotionLibrary

    lib = MotionLibrary.open(args.library) if args.library else MotionLibrary.for_writing(None)
    for r in lib.remove(args.source):
        print(f"removed {r.id} {r.name}")
    return 0


def run_ship(args: argparse.Namespace) -> int:
    """The shipped library: every dance take of the corpus's training split (never a
    held-out take, so benchmark dances cannot copy the moves they are scored against)."""
    from ..core.data.corpus import DEFAULT_VAL_TAKES, find_takes
    from ..core.library import SHIPPED_LIBRARY, MotionLibrary

    takes = [p for name, p in find_takes(args.mocap) if name not in DEFAULT_VAL_TAKES]
    embed = _embedder(args.weights)
    with tempfile.TemporaryDirectory(dir=SHIPPED_LIBRARY.parent) as tmp:
        lib = MotionLibrary.create(Path(tmp) / "library")
        with cli_bar("library ship") as bar:
            lib.add_files(takes, embed=embed, progress=bar,
                          origin_base=Path(args.mocap).parent)  # "cmu/005/005_02.bvh", not this machine's path
        if SHIPPED_LIBRARY.exists():
            shutil.rmtree(SHIPPED_LIBRARY)
        shutil.move(str(lib.path), SHIPPED_LIBRARY)
    info = MotionLibrary.open(SHIPPED_LIBRARY).info()
    print(f"shipped library {SHIPPED_LIBRARY}: {info['sources']} sources, {info['seconds'] / 60:.2f} min, "
          f"{info['fragments']} fragments")
    return 0
