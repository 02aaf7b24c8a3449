"""User-facing errors: one clear message naming the file and the problem.

Loaders raise :class:`ChoreoInputError` for anything a user can fix (a bad file,
a wrong argument). The CLI prints it as one line, without a traceback; the
add-on shows it as an operator report.
"""

from __future__ import annotations

import os


class ChoreoError(Exception):
    """Base class for errors Choreo reports to the user as plain text."""


class ChoreoInputError(ChoreoError):
    """A user-supplied file or value is unusable.

    ``path`` names the file (or argument) and ``problem`` says what is wrong
    with it, e.g. ``ChoreoInputError("song.wav", "file is empty")``.
    """

    def __init__(self, path: str | os.PathLike | None, problem: str):
        self.path = None if path is None else os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)
