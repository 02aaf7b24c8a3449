"""A motion library: the user's own moves, which DanceIt assembles dances from.

On disk a library is a folder (format ``choreo-motion-library``, version 1):

``library.json``
    ``{"format": "choreo-motion-library", "version": 1, "fps": 30, "body_height_m": …}``,
    written once when the library is made; anything else there is refused as foreign.
``log.jsonl``
    One JSON record per line, only ever appended: ``{"op": "add", "id": "s0003", "name",
    "file": "sources/s0003.npz", "sha256", "frames", "fragments", "origin", "origin_sha256",
    "added", "embedding": {"model", "frames"} | null}`` or ``{"op": "remove", "id", "removed"}``.
    Removing a source appends a record; nothing already written is rewritten.
``sources/<id>.npz``
    The normalised motion (:func:`.sources.normalize_source`): ``joints`` (T, 24, 3)
    float32 at 30 fps, ``starts`` (K,) int64 fragment start frames (kinematic beats),
    and, when a matching model was given, ``embedding`` (K, D) float32: each fragment's
    pose embedding for that model (sha256 in the record) and fragment length (frames).
    Written atomically before its record, and checked against the record's sha256
    when read, so a damaged file is named, never used.

A library is written by one process at a time. The default library
(:func:`default_library_path`) starts with the moves Choreo ships
(:data:`SHIPPED_LIBRARY`, CMU subject 5's training takes) and grows with the user's.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .. import skeleton as sk
from ..errors import ChoreoInputError
from ..fileio import atomic_path, sha256_file
from ..motion import Motion
from ..progress import ProgressFn, report, scaled
from .sources import BODY_HEIGHT, fragment_starts, normalize_source, read_source

FORMAT = "choreo-motion-library"
VERSION = 1
HEADER = "library.json"
LOG = "log.jsonl"
SOURCES = "sources"
#: The moves shipped with Choreo (read-only, inside the extension).
SHIPPED_LIBRARY = Path(__file__).resolve().parents[2] / "weights" / "library"

#: ``(joints (T, 24, 3), starts (K,), frames) -> (K', D)`` embeddings of the fragments that fit.
Embedder = Callable[[np.ndarray, np.ndarray, int], np.ndarray]


def default_library_path() -> Path:
    """Where the user's library lives unless they name one: ``$CHOREO_LIBRARY``, else
    ``$XDG_DATA_HOME/choreo/library`` (``~/.local/share/choreo/library``)."""
    env = os.environ.get("CHOREO_LIBRARY")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "choreo" / "library"


@dataclass(frozen=True)
class SourceRecord:
    """One added source, as its ``add`` record says."""

    id: str
    name: str
    file: str
    sha256: str
    frames: int
    fragments: int
    origin: str = ""
    origin_sha256: str = ""
    added: str = ""
    embedding: dict | None = None

    @property
    def seconds(self) -> float:
        return self.frames / sk.FPS


@dataclass
class Source:
    """A source's data: its normalised ``motion``, fragment ``starts`` (frames) and
    stored ``embedding`` (K, D) with ``embedding_key`` = (model sha256, frames), or None."""

    record: SourceRecord
    motion: Motion
    starts: np.ndarray
    embedding: np.ndarray | None = None
    embedding_key: tuple[str, int] | None = None


@dataclass
class MotionLibrary:
    """A library folder, its records read and checked (:meth:`open`)."""

    path: Path
    records: list[SourceRecord] = field(default_factory=list)
    removed: set[str] = field(default_factory=set)

    # -- opening ---------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike) -> "MotionLibrary":
        """The library in folder ``path``; :class:`ChoreoInputError` naming the file when
        it is missing, foreign, newer than this Choreo reads or damaged."""
        path = Path(path)
        head = path / HEADER
        if not path.is_dir():
            raise ChoreoInputError(path, "no motion library here (no such folder); add moves with "
                                         "`choreo library add FILES --library FOLDER`")
        if not head.is_file():
            raise ChoreoInputError(path, f"not a Choreo motion library (no {HEADER})")
        try:
            meta = json.loads(head.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as e:
            raise ChoreoInputError(head, f"unreadable library header ({e})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ChoreoInputError(head, f"not a Choreo motion library (format is not {FORMAT!r})")
        version = meta.get("version")
        if not isinstance(version, int) or version > VERSION:
            raise ChoreoInputError(head, f"library version {version!r} is newer than this Choreo reads ({VERSION})")
        lib = cls(path)
        lib._read_log()
        return lib

    @classmethod
    def create(cls, path: str | os.PathLike) -> "MotionLibrary":
        """A new, empty library in ``path`` (made, or an empty folder)."""
        path = Path(path)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise ChoreoInputError(path, "cannot make a motion library here: not an empty folder")
        (path / SOURCES).mkdir(parents=True, exist_ok=True)
        with atomic_path(path / HEADER) as tmp, open(tmp, "w", encoding="utf-8") as f:
            json.dump({"format": FORMAT, "version": VERSION, "fps": sk.FPS, "body_height_m": BODY_HEIGHT}, f)
        (path / LOG).touch()
        return cls(path)

    @classmethod
    def for_writing(cls, path: str | os.PathLike | None = None) -> "MotionLibrary":
        """The library to add to: ``path``, or the default library; one that does not
        exist yet is made (the default one starting with the shipped moves)."""
        default = path is None
        path = Path(path) if path is not None else default_library_path()
        if (path / HEADER).is_file():
            return cls.open(path)
        lib = cls.create(path)
        if default and (SHIPPED_LIBRARY / HEADER).is_file():
            lib.copy_from(cls.open(SHIPPED_LIBRARY))
        return lib

    @classmethod
    def for_reading(cls, path: str | os.PathLike | None = None) -> "MotionLibrary":
        """The library to dance from: ``path``, else the default library when it has been
        made, else the shipped moves."""
        if path is not None:
            return cls.open(path)
        default = default_library_path()
        return cls.open(default if (default / HEADER).is_file() else SHIPPED_LIBRARY)

    def _read_log(self) -> None:
        log = self.path / LOG
        try:
            text = log.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ChoreoInputError(self.path, f"damaged motion library: {LOG} is missing") from None
        except (OSError, UnicodeDecodeError) as e:
            raise ChoreoInputError(log, f"unreadable library log ({e})") from None
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        elif lines:  # no newline at the end: an add interrupted while writing its record
            lines.pop()
        ids: dict[str, SourceRecord] = {}
        for n, line in enumerate(lines, 1):
            try:
                rec = json.loads(line)
                op = rec["op"]
                if op == "add":
                    r = SourceRecord(**{k: rec[k] for k in SourceRecord.__dataclass_fields__ if k in rec})
                    if r.id in ids or not r.file.startswith(SOURCES + "/") or ".." in r.file:
                        raise ValueError(f"bad or repeated source {r.id!r}")
                    ids[r.id] = r
                elif op == "remove":
                    if rec["id"] not in ids:
                        raise ValueError(f"removes unknown source {rec['id']!r}")
                    self.removed.add(rec["id"])
                else:
                    raise ValueError(f"unknown op {op!r}")
            except (ValueError, KeyError, TypeError) as e:
                raise ChoreoInputError(log, f"line {n}: damaged library record ({e})") from None
        self.records = list(ids.values())

    # -- reading ---------------------------------------------------------------
    def sources(self) -> list[SourceRecord]:
        """The sources in the library (added and not removed), in the order added."""
        return [r for r in self.records if r.id not in self.removed]

    def load(self, record: SourceRecord) -> Source:
        """A source's data, its file checked against its record."""
        p = self.path / record.file
        if not p.is_file():
            raise ChoreoInputError(p, f"damaged motion library: the file of source {record.id} is missing")
        if sha256_file(p) != record.sha256:
            raise ChoreoInputError(p, f"damaged motion library: source {record.id}'s file does not match its "
                                      "record (sha256); remove the source and add it again")
        try:
            with np.load(p, allow_pickle=False) as f:
                data = {k: f[k] for k in f.files}
            joints, starts = data["joints"], data["starts"].astype(np.int64)
        except (OSError, ValueError, KeyError, EOFError) as e:
            raise ChoreoInputError(p, f"damaged motion library source ({e})") from None
        if joints.shape != (record.frames, sk.NUM_JOINTS, 3):
            raise ChoreoInputError(p, f"damaged motion library source: joints {joints.shape}")
        emb = data.get("embedding")
        key = None if emb is None or not record.embedding else (record.embedding["model"],
                                                               int(record.embedding["frames"]))
        return Source(record, Motion(joints, sk.FPS), starts, emb, key)

    def info(self) -> dict:
        """What is in the library: sources, their lengths and fragments, totals."""
        live = self.sources()
        return {"path": str(self.path), "format": FORMAT, "version": VERSION, "sources": len(live),
                "removed": len(self.removed), "seconds": sum(r.seconds for r in live),
                "fragments": sum(r.fragments for r in live),
                "list": [{"id": r.id, "name": r.name, "seconds": round(r.seconds, 2), "fragments": r.fragments,
                          "origin": r.origin, "added": r.added,
                          "embedded": bool(r.embedding)} for r in live]}

    # -- writing (append only) ---------------------------------------------------
    def _append(self, rec: dict) -> None:
        line = json.dumps(rec, sort_keys=True) + "\n"
        log = self.path / LOG
        with open(log, "rb+") as f:  # a record cut off by a killed add was never a record: drop it
            data = f.read()
            if data and not data.endswith(b"\n"):
                f.truncate(data.rfind(b"\n") + 1)
        with open(log, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def _next_id(self) -> str:
        return f"s{len(self.records) + 1:04d}"

    def add_motion(self, motion: Motion, name: str, *, origin: str = "", origin_sha256: str = "",
                   embed: tuple[str, int, Embedder] | None = None) -> SourceRecord:
        """Add ``motion`` (normalised here) as a source called ``name``; ``embed`` =
        (model sha256, fragment frames, embedder) stores its fragments' embeddings."""
        return self._add(normalize_source(motion, name), name, origin, origin_sha256, embed)

    def _add(self, m: Motion, name: str, origin: str, origin_sha256: str, embed) -> SourceRecord:
        """Write the normalised motion ``m`` as a new source and append its record."""
        if self.path.resolve() == SHIPPED_LIBRARY.resolve():
            raise ChoreoInputError(self.path, "the shipped moves are read-only; add to your own library "
                                              "(--library FOLDER, or the default one)")
        starts = fragment_starts(m)
        arrays = {"joints": m.joints.astype(np.float32), "starts": starts}
        emb_rec = None
        if embed is not None:
            model, frames, fn = embed
            arrays["embedding"] = np.asarray(fn(m.joints, starts, frames), np.float32)
            emb_rec = {"model": model, "frames": int(frames)}
        sid = self._next_id()
        rel = f"{SOURCES}/{sid}.npz"
        with atomic_path(self.path / rel, suffix=".npz") as tmp:
            np.savez_compressed(tmp, **arrays)
        rec = SourceRecord(id=sid, name=str(name), file=rel, sha256=sha256_file(self.path / rel),
                           frames=m.num_frames, fragments=int(len(starts)), origin=str(origin),
                           origin_sha256=origin_sha256,
                           added=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                           embedding=emb_rec)
        self._append({"op": "add", **rec.__dict__})
        self.records.append(rec)
        return rec

    def add_read(self, files: Sequence[tuple[Path, Motion]], *, embed: tuple[str, int, Embedder] | None = None,
                 progress: ProgressFn | None = None,
                 origin_base: str | os.PathLike | None = None) -> list[SourceRecord]:
        """Add the sources :func:`read_files` read. Records keep each file's absolute path as
        its origin (relative to ``origin_base`` if given)."""
        out = []
        for i, (p, m) in enumerate(files):
            report(progress, i / max(len(files), 1), f"adding {p.name}")
            where = os.path.relpath(p.resolve(), Path(origin_base).resolve()) if origin_base else str(p.resolve())
            out.append(self._add(m, p.stem, where, sha256_file(p), embed))
        report(progress, 1.0, f"added {len(out)} source(s)")
        return out

    def add_files(self, paths: Sequence[str | os.PathLike], *, embed: tuple[str, int, Embedder] | None = None,
                  progress: ProgressFn | None = None,
                  origin_base: str | os.PathLike | None = None) -> list[SourceRecord]:
        """Add each file: :func:`read_files`, then :meth:`add_read`."""
        files = read_files(paths, scaled(progress, 0.0, 0.5))
        return self.add_read(files, embed=embed, progress=scaled(progress, 0.5, 1.0), origin_base=origin_base)

    def copy_from(self, other: "MotionLibrary") -> None:
        """Append every source of ``other`` (its files copied byte for byte)."""
        for r in other.sources():
            src = other.load(r)
            sid = self._next_id()
            rel = f"{SOURCES}/{sid}.npz"
            with atomic_path(self.path / rel, suffix=".npz") as tmp, open(tmp, "wb") as f:
                f.write((other.path / r.file).read_bytes())
            rec = SourceRecord(**{**r.__dict__, "id": sid, "file": rel})
            self._append({"op": "add", **rec.__dict__})
            self.records.append(rec)
            del src

    def remove(self, which: str) -> list[SourceRecord]:
        """Remove the source with id ``which`` (or the sources called ``which``)."""
        if self.path.resolve() == SHIPPED_LIBRARY.resolve():
            raise ChoreoInputError(self.path, "the shipped moves are read-only")
        live = self.sources()
        hit = [r for r in live if r.id == which] or [r for r in live if r.name == which]
        if not hit:
            raise ChoreoInputError(self.path, f"no source {which!r} in the library (see `choreo library info`)")
        now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        for r in hit:
            self._append({"op": "remove", "id": r.id, "removed": now})
            self.removed.add(r.id)
        return hit


def read_files(paths: Sequence[str | os.PathLike], progress: ProgressFn | None = None) -> list[tuple[Path, Motion]]:
    """(path, normalised motion) of each file, all read before any is added: a bad file
    (missing, 2D, too short, an unknown skeleton) is one :class:`ChoreoInputError` and adds nothing."""
    out = []
    for i, p in enumerate(paths):
        report(progress, i / max(len(paths), 1), f"reading {Path(p).name}")
        out.append((Path(p), normalize_source(read_source(p), str(p))))
    return out


__all__ = ["MotionLibrary", "read_files", "SourceRecord", "Source", "default_library_path", "SHIPPED_LIBRARY", "FORMAT",
           "VERSION", "BODY_HEIGHT"]
