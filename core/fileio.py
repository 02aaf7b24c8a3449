"""Writing files so that nothing the user has is lost: outputs land whole or not at all.

Every command's outputs go through here:

- :func:`check_outputs` / :func:`check_output_dir` refuse, before any work, an
  output that cannot be written (a folder, FIFO or device at the target, a
  parent that is a file, a folder without write permission, one file given as two outputs);
- :func:`atomic_paths` (and :func:`atomic_path` for one file) writes to
  temporary files beside the targets and renames them into place only when
  every one of them was written, so a failure or an interrupt leaves all the
  old files as they were.

Outputs are regular files. A symlink at a target is followed: the file it
points to is replaced and the link is kept.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import stat
import tempfile
import time
from pathlib import Path
from typing import Iterator, Sequence

#: Temporary files are ``.<target name>.<pid>.<random>.part<suffix>`` beside the
#: target: the pid tells whether their writer is still alive (:func:`remove_stale_temps`).
_TEMP = re.compile(r"^\..*\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.part(\.[^.]*)?$")
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a device"),
          (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


def _error(path, problem: str):
    from .errors import ChoreoInputError

    return ChoreoInputError(path, problem)


def output_path(path: str | os.PathLike) -> str:
    """The absolute file a write to ``path`` replaces (a symlink followed to its
    target); :class:`ChoreoInputError` when something other than a regular file is there."""
    real = os.path.realpath(os.path.abspath(os.fspath(path)))
    try:
        mode = os.stat(real).st_mode
    except (FileNotFoundError, NotADirectoryError):  # not there yet (a parent that is a file: _check_folder)
        return real
    except OSError as e:  # a symlink loop, a path through a file, …
        raise _error(path, f"cannot write: {e.strerror or e}") from None
    for test, kind in _KINDS:
        if test(mode):
            raise _error(path, f"is {kind}, not a regular file; outputs are written only to regular files")
    return real


def _check_folder(path, folder: str) -> None:
    """``folder`` (or, when it is still to be made, its nearest existing parent) is a writable folder."""
    existing = folder
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise _error(path, f"cannot write: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise _error(path, f"cannot write: folder {existing} is not writable")


def check_outputs(paths: Sequence[str | os.PathLike]) -> list[str]:
    """Refuse, before any work starts, output files that cannot be written or a
    file given twice. Returns the absolute paths that will be replaced (see
    :func:`output_path`); raises :class:`ChoreoInputError` naming the path."""
    reals: list[str] = []
    for path in paths:
        real = output_path(path)
        if real in reals:
            raise _error(path, f"is the same file as {os.fspath(paths[reals.index(real)])}; give each output "
                               f"its own file")
        _check_folder(path, os.path.dirname(real))
        reals.append(real)
    return reals


def check_output(path: str | os.PathLike) -> str:
    """:func:`check_outputs` of one file."""
    return check_outputs([path])[0]


def check_output_dir(path: str | os.PathLike) -> str:
    """Like :func:`check_output` for an output folder: it must be a writable
    folder or be creatable. Returns its absolute path."""
    real = os.path.realpath(os.path.abspath(os.fspath(path)))
    if os.path.lexists(real) and not os.path.isdir(real):
        raise _error(path, "exists and is not a folder")
    _check_folder(path, real)
    return real


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM for a few renames or unlinks, so an interrupt comes
    after them and cannot leave half the outputs replaced."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def atomic_paths(paths: Sequence[str | os.PathLike],
                 suffixes: Sequence[str] | None = None) -> Iterator[list[str]]:
    """Yield one temporary path beside each of ``paths``; when the block succeeds
    they replace ``paths``, all of them; when it raises (or is interrupted) none does.

    Write every file to its yielded path inside the ``with`` block. ``suffixes``
    (default: each target's own extension) end the temporary names, for
    libraries that key on them (``np.savez`` appends ``.npz`` unless the name
    ends with it). Missing parent folders are created. Targets are checked as
    :func:`check_outputs` does; an OSError creating or renaming the files, or
    running out of space, is a :class:`ChoreoInputError` naming the target.
    """
    targets = check_outputs(paths)
    suffixes = list(suffixes) if suffixes is not None else [os.path.splitext(t)[1] for t in targets]
    temps: list[str] = []
    try:
        try:
            for target, suffix in zip(targets, suffixes):
                folder = os.path.dirname(target)
                os.makedirs(folder, exist_ok=True)
                # The name is cut so a long target name still leaves room for the temp's.
                prefix = f".{os.path.basename(target)[:100]}.{os.getpid()}."
                fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".part" + suffix, dir=folder)
                os.close(fd)
                temps.append(tmp)
        except OSError as e:
            raise _error(paths[len(temps)], f"cannot write: {e.strerror or e}") from None
        yield list(temps)
        # mkstemp makes the files private (0600); give them the mode a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        for path in paths:  # the targets may have changed during the work: check again, then rename
            output_path(path)
        with _signals_held():
            for i, (tmp, target) in enumerate(zip(temps, targets)):
                try:
                    os.chmod(tmp, 0o666 & ~umask)
                    os.replace(tmp, target)
                except OSError as e:
                    raise _error(paths[i], f"cannot write: {e.strerror or e}") from None
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):  # the block's own writes ran out of room
            raise _error(paths[0], f"cannot write: {e.strerror}") from None
        raise
    finally:
        with _signals_held():
            for tmp in temps:
                if os.path.lexists(tmp):
                    os.unlink(tmp)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[str]:
    """:func:`atomic_paths` for one file: yield a temporary path beside ``path``;
    on success it replaces ``path``, on failure ``path`` is left as it was."""
    with atomic_paths([path], [suffix]) as (tmp,):
        yield tmp


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike, recheck=None) -> Iterator[str]:
    """A new empty folder beside ``path`` to fill; when the block ends without an error it
    takes ``path``'s place (an old folder there is moved aside first, put back if the swap
    fails, then removed), so a failure or an interrupt leaves ``path`` as it was. The caller
    decides beforehand whether an existing folder may be replaced; ``recheck()``, if given,
    runs again just before the swap (the folder may have changed during the work)."""
    out = os.path.abspath(os.fspath(path))
    parent, name = os.path.split(out)
    os.makedirs(parent, exist_ok=True)
    stage = tempfile.mkdtemp(prefix=f".{name}.{os.getpid()}.", suffix=".part", dir=parent)
    new, old = os.path.join(stage, "new"), None
    os.mkdir(new)
    try:
        yield new
        if recheck is not None:
            recheck()
        if os.path.isdir(out):
            old = os.path.join(stage, "old")
            os.replace(out, old)
        os.replace(new, out)
    except BaseException:
        if old is not None and os.path.exists(old) and not os.path.exists(out):
            os.replace(old, out)
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def remove_stale_temps(folder: str | os.PathLike, max_age: float = 3600.0) -> list[str]:
    """Remove the temporary files of killed writers in a folder only Choreo
    writes (the cache): every dotfile there is one. Removed are those whose
    writer's pid is gone, and any older than ``max_age`` seconds (a reused pid,
    or a name from before pids were written). Returns the names removed."""
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    now = time.time()
    for name in names:
        if not name.startswith("."):
            continue
        path = os.path.join(folder, name)
        m = _TEMP.match(name)
        try:
            dead = m is not None and os.name != "nt" and not _alive(int(m["pid"]))  # os.kill(pid, 0) kills on Windows
            if dead or now - os.lstat(path).st_mtime > max_age:
                os.unlink(path)
                removed.append(name)
        except OSError:  # gone already, or not ours to remove
            pass
    return removed


def read_json(path: str | os.PathLike):
    """Parse a user's JSON file; unreadable or malformed files raise
    :class:`ChoreoInputError` naming the file."""
    import json

    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise _error(path, f"cannot read: {e.strerror or e}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise _error(path, f"not valid JSON: {e}") from None


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes, read in 1 MB chunks."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def repo_path(p: str | os.PathLike) -> Path:
    """A path from a config: ``~`` expanded; a relative one is relative to the repository root
    (where ``out/`` and ``../shared`` are), not to the working folder."""
    p = Path(os.path.expanduser(os.fspath(p)))
    return p if p.is_absolute() else Path(__file__).resolve().parents[1] / p
