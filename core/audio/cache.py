"""A small on-disk cache of arrays, keyed by content hash.

Entries are ``.npz`` files under ``$CHOREO_CACHE_DIR``, else
``$XDG_CACHE_HOME/choreo``, else ``~/.cache/choreo``. A key is the sha256 of a
kind, the source file's sha256 and the parameters (including a version string),
so a changed file or setting never hits a stale entry. Writes are atomic; a
corrupt or unreadable entry is treated as a miss (and removed). A write killed
midway leaves a temporary file; the first use of the cache in a process removes
those of writers that are gone. Nothing is pickled: entries hold plain numeric arrays only.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from ..errors import ChoreoError
from ..fileio import atomic_path, remove_stale_temps

_swept: set[str] = set()  # cache folders already cleaned of stale temporary files by this process


def cache_dir() -> Path:
    """The cache folder (not created)."""
    env = os.environ.get("CHOREO_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "choreo"


def file_digest(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """sha256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def make_key(kind: str, digest: str, params: dict) -> str:
    """Cache key of ``kind`` for content ``digest`` under JSON-able ``params``."""
    text = json.dumps({"kind": kind, "digest": digest, "params": params}, sort_keys=True)
    return f"{kind}-{hashlib.sha256(text.encode()).hexdigest()[:40]}"


def entry_path(key: str) -> Path:
    return cache_dir() / f"{key}.npz"


def _sweep() -> None:
    """Once per process and folder: remove the temporary files of killed writers."""
    folder = str(cache_dir())
    if folder not in _swept:
        _swept.add(folder)
        remove_stale_temps(folder)


def load(key: str) -> dict[str, np.ndarray] | None:
    """The arrays stored under ``key``, or None when absent or unreadable."""
    _sweep()
    path = entry_path(key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        try:  # corrupt: drop it so the next save replaces it cleanly
            path.unlink()
        except OSError:
            pass
        return None


def save(key: str, arrays: dict[str, np.ndarray]) -> Path | None:
    """Store ``arrays`` under ``key`` atomically; returns the path, or None if the
    cache folder is not writable (caching is best-effort, never an error)."""
    _sweep()
    try:
        with atomic_path(entry_path(key), suffix=".npz") as tmp:
            np.savez(tmp, **{k: np.asarray(v) for k, v in arrays.items()})
    except (OSError, ChoreoError):  # atomic_path reports an unwritable folder as a ChoreoInputError
        return None
    return entry_path(key)
