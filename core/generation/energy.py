"""The energy control: one multiplier for the whole dance, or a curve over time.

``energy`` multiplies the corpus's mean squared joint speed (1 = typical; the
accepted range is :data:`ENERGY_RANGE`). It is either one number or an
:class:`EnergyCurve`: multipliers at times in seconds into the song *file*
(the time base of a beat grid), linearly interpolated in between and held
beyond its first and last point. Every generator family gets it as it is, with
the song, and conditions each frame on it at the frame's own file second ``t``
(``log(energy(t)) / energy_stats[1]`` plus the song's level,
:func:`~choreo.core.generation.song.conditioning`, shared by the families), so a
part of a song uses the curve at the part's own file times.

:func:`check_energy` is the one check of both forms (made when a curve is
built, and again by every generation entry point before anything is read);
:func:`read_energy_curve` reads the small JSON or CSV file ``choreo generate
--energy-curve FILE`` takes. numpy only (runs inside a stock Blender).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from ..errors import ChoreoInputError

#: Energy multiplier range accepted (×0.1 to ×10 the corpus's mean squared speed).
ENERGY_RANGE = (0.1, 10.0)
_WHAT = "1 = the corpus's typical energy"


def _check_value(e: float, where: str, name: str = "energy") -> None:
    """Raise :class:`ChoreoInputError` (named ``name``) unless ``e`` is finite and
    in :data:`ENERGY_RANGE`; ``where`` (e.g. ``" at 3.5 s"``) places it in a curve."""
    lo, hi = ENERGY_RANGE
    if not (math.isfinite(e) and lo <= e <= hi):
        label = f"value {e:g}{where}" if where else f"{e}"
        raise ChoreoInputError(name, f"{label} is out of range ({lo:g}–{hi:g}; {_WHAT})")


def _curve_points(times_s, values) -> tuple[np.ndarray, np.ndarray]:
    """``(times, values)`` as read-only float64 arrays, checked: 1-D, the same
    length, at least one point, finite times (s) strictly increasing, every
    value finite and in :data:`ENERGY_RANGE`. Errors are named ``energy curve``."""
    name = "energy curve"
    try:
        t = np.array(times_s, dtype=np.float64)
        v = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ChoreoInputError(name, f"times and values must be numbers ({e})") from None
    if t.ndim != 1 or v.ndim != 1 or len(t) != len(v):
        raise ChoreoInputError(name, f"needs as many times as values (1-D), got {t.shape} and {v.shape}")
    if len(t) == 0:
        raise ChoreoInputError(name, "has no points; give at least one (seconds, multiplier) pair")
    bad = np.flatnonzero(~np.isfinite(t))
    if len(bad):
        raise ChoreoInputError(name, f"time {t[bad[0]]} (point {bad[0] + 1}) is not a finite number of seconds")
    back = np.flatnonzero(np.diff(t) <= 0)
    if len(back):
        i = int(back[0]) + 1
        raise ChoreoInputError(name, f"times must be strictly increasing: {t[i]:g} s (point {i + 1}) "
                                     f"follows {t[i - 1]:g} s")
    lo, hi = ENERGY_RANGE
    bad = np.flatnonzero(~(np.isfinite(v) & (v >= lo) & (v <= hi)))  # the first one is reported
    if len(bad):
        _check_value(float(v[bad[0]]), f" at {t[bad[0]]:g} s", name)
    t.flags.writeable = False
    v.flags.writeable = False
    return t, v


@dataclass(frozen=True, eq=False)
class EnergyCurve:
    """The energy multiplier over time.

    Attributes
    ----------
    times_s : np.ndarray, float64 (n,)
        Seconds into the song file, strictly increasing (n >= 1).
    values : np.ndarray, float64 (n,)
        Multipliers in :data:`ENERGY_RANGE` at those times; linear in between,
        held before the first and after the last point.

    Checked when made (:class:`ChoreoInputError` naming the problem); the
    arrays are read-only copies.
    """

    times_s: np.ndarray
    values: np.ndarray

    def __post_init__(self):
        t, v = _curve_points(self.times_s, self.values)
        object.__setattr__(self, "times_s", t)
        object.__setattr__(self, "values", v)

    def at(self, t_s) -> np.ndarray:
        """Multipliers at file seconds ``t_s`` (any shape), float64."""
        return np.interp(np.asarray(t_s, np.float64), self.times_s, self.values)

    def mean(self, t_s) -> float:
        """Mean multiplier at file seconds ``t_s`` (e.g. a dance's frame times)."""
        return float(np.mean(self.at(t_s)))

    @property
    def is_constant(self) -> bool:
        """True when every point has the same multiplier."""
        return bool(np.all(self.values == self.values[0]))

    def __eq__(self, other) -> bool:
        return (isinstance(other, EnergyCurve) and np.array_equal(self.times_s, other.times_s)
                and np.array_equal(self.values, other.values))

    def __repr__(self) -> str:
        return (f"EnergyCurve({len(self.times_s)} points, {self.times_s[0]:g}–{self.times_s[-1]:g} s, "
                f"{self.values.min():g}–{self.values.max():g})")


def check_energy(energy) -> float | EnergyCurve:
    """``energy`` checked: a number as a float in :data:`ENERGY_RANGE`, or an
    :class:`EnergyCurve` (its points re-checked); else :class:`ChoreoInputError`."""
    if isinstance(energy, EnergyCurve):
        _curve_points(energy.times_s, energy.values)
        return energy
    if isinstance(energy, bool):
        raise ChoreoInputError("energy", f"must be a number, not {energy!r}")
    try:
        e = float(energy)
    except (TypeError, ValueError, OverflowError):
        raise ChoreoInputError("energy", f"must be a number or an EnergyCurve, not {energy!r}") from None
    _check_value(e, "")
    return e


def log_energy(energy: float | EnergyCurve, t_s: np.ndarray) -> np.ndarray | float:
    """``log(energy)`` at file seconds ``t_s``: a float for one number (exactly
    ``math.log`` as always), an array shaped like ``t_s`` for a curve."""
    if isinstance(energy, EnergyCurve):
        return np.log(energy.at(t_s))
    return math.log(energy)


def mean_energy(energy: float | EnergyCurve, t_s: np.ndarray) -> float:
    """The number a dance records as its ``energy``: the multiplier itself, or a
    curve's mean over the dance's frame times ``t_s`` (file seconds)."""
    return energy.mean(t_s) if isinstance(energy, EnergyCurve) else float(energy)


def read_energy_curve(path: str | os.PathLike) -> EnergyCurve:
    """The :class:`EnergyCurve` of a small file of (seconds into the song, multiplier) pairs.

    JSON (``.json``): a list of ``[seconds, multiplier]`` pairs, or an object
    ``{"times": [...], "values": [...]}``. Otherwise CSV: one ``seconds,multiplier``
    pair a line (commas, semicolons, tabs or spaces), ``#`` comments and blank
    lines skipped, an optional non-numeric header line. Every problem is one
    :class:`ChoreoInputError` naming the file.
    """
    if str(path).lower().endswith(".json"):
        from ..fileio import read_json

        d = read_json(path)
        if isinstance(d, dict) and "times" in d and "values" in d:
            times, values = d["times"], d["values"]
        elif isinstance(d, list) and all(isinstance(p, list) and len(p) == 2 for p in d):
            times, values = [p[0] for p in d], [p[1] for p in d]
        else:
            raise ChoreoInputError(path, "energy curve must be a JSON list of [seconds, multiplier] pairs "
                                         "or {\"times\": [...], \"values\": [...]}")
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in [*times, *values]):
            raise ChoreoInputError(path, "energy curve: times and values must be numbers")
    else:
        times, values = _read_csv(path)
    try:
        return EnergyCurve(times, values)
    except ChoreoInputError as e:
        raise ChoreoInputError(path, f"energy curve {e.problem}") from None


def _read_csv(path) -> tuple[list[float], list[float]]:
    """(times, values) of a CSV energy curve (see :func:`read_energy_curve`)."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise ChoreoInputError(path, f"cannot read: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise ChoreoInputError(path, "energy curve is not a text file of seconds,multiplier lines") from None
    times, values, first = [], [], True
    for n, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        cells = text.replace(",", " ").replace(";", " ").split()
        try:
            if len(cells) != 2:
                raise ValueError
            t, v = float(cells[0]), float(cells[1])
        except ValueError:
            if first and not any(c[:1].isdigit() or c[:1] in "+-." for c in cells):
                first = False  # a header such as "seconds,energy"
                continue
            raise ChoreoInputError(path, f"energy curve: line {n} ({line.strip()!r}) is not a "
                                         "seconds,multiplier pair") from None
        first = False
        times.append(t)
        values.append(v)
    return times, values


__all__ = ["ENERGY_RANGE", "EnergyCurve", "check_energy", "log_energy", "mean_energy", "read_energy_curve"]
