"""Beat grids given by the user: a JSON file of beat and downbeat times.

A grid replaces beat tracking when the user (``--beats FILE``, the panel's
Beat Grid field) or a dataset (``NAME.json`` beside each track of a corpus's
music folder) supplies it. Nothing reads a grid because it happens to sit
beside a song. The format is the one the shared music ships::

    {"beats": [0.5, 1.0, ...],        # seconds, strictly increasing, >= 2
     "downbeats": [0.5, 2.5, ...],    # seconds, optional (default: every meter-th beat)
     "meter": [4, 4],                 # beats per bar (2-16), or [beats, unit]; optional (default 4)
     "bpm": 120.0}                    # optional (10-1000); else from the median beat interval

Every problem is one :class:`~choreo.core.errors.ChoreoInputError` naming the file.
"""

from __future__ import annotations

import math
import os

import numpy as np

from ..errors import ChoreoInputError
from ..fileio import read_json
from .beats import BeatMap

#: Beats per bar a grid may declare (1 would make every beat a downbeat).
METER_RANGE = (2, 16)
#: Note values a meter's unit may be ([beats, unit]).
METER_UNITS = (1, 2, 4, 8, 16, 32)
#: Tempo (the given bpm, else the median beat interval's) a grid may have.
TEMPO_RANGE = (10.0, 1000.0)


def _times(path, d: dict, key: str) -> np.ndarray:
    v = d.get(key)
    if not isinstance(v, list) or not all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in v):
        raise ChoreoInputError(path, f"beat grid: {key!r} must be a list of times in seconds"
                                     f"{'' if v is None else f', not {type(v).__name__}'}")
    t = np.asarray(v, dtype=np.float64)
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ChoreoInputError(path, f"beat grid: {key!r} holds a negative, NaN or infinite time")
    if np.any(np.diff(t) <= 0):
        raise ChoreoInputError(path, f"beat grid: {key!r} must be strictly increasing")
    return t


def _whole(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and float(v).is_integer()


def _meter(path, d: dict) -> int:
    m = d.get("meter", 4)
    beats, unit = (m[0], m[1] if len(m) == 2 else 4) if isinstance(m, list) and len(m) in (1, 2) else (m, 4)
    if not (_whole(beats) and METER_RANGE[0] <= beats <= METER_RANGE[1] and _whole(unit) and unit in METER_UNITS):
        raise ChoreoInputError(path, f"beat grid: 'meter' must be beats per bar ({METER_RANGE[0]}–"
                                     f"{METER_RANGE[1]}) or [beats, unit], not {d.get('meter')!r}")
    return int(beats)


def read_beat_grid(path: str | os.PathLike) -> BeatMap:
    """The :class:`BeatMap` of a beat-grid JSON file (file time, seconds); see the module doc."""
    return beat_grid_from_dict(read_json(path), path)


def beat_grid_from_dict(d, path: str | os.PathLike) -> BeatMap:
    """:func:`read_beat_grid` of already parsed JSON ``d``; ``path`` names it in errors."""
    if not isinstance(d, dict):
        raise ChoreoInputError(path, "beat grid must be a JSON object with a 'beats' list")
    beats = _times(path, d, "beats")
    if len(beats) < 2:
        raise ChoreoInputError(path, f"beat grid needs at least two beats, has {len(beats)}")
    meter = _meter(path, d)
    if "downbeats" in d:
        downbeats = _times(path, d, "downbeats")
    else:
        downbeats = beats[::meter].copy()
    bpm = d.get("bpm")
    lo, hi = TEMPO_RANGE
    if bpm is None:
        tempo = 60.0 / float(np.median(np.diff(beats)))
        if not lo <= tempo <= hi:
            raise ChoreoInputError(path, f"beat grid: the beats' median interval makes {tempo:.4g} BPM, "
                                         f"outside {lo:g}–{hi:g}")
    elif isinstance(bpm, bool) or not isinstance(bpm, (int, float)) or not (math.isfinite(bpm) and lo <= bpm <= hi):
        raise ChoreoInputError(path, f"beat grid: 'bpm' must be a number in {lo:g}–{hi:g}, not {bpm!r}")
    else:
        tempo = float(bpm)
    return BeatMap(tempo=tempo, beats=beats, downbeats=downbeats, meter=meter)


def grid_part(grid: BeatMap, start: float, duration: float) -> BeatMap:
    """The beats of ``grid`` inside ``[start, start + duration)`` on that part's time
    base (seconds from ``start``); tempo and meter kept."""
    def part(t):
        t = np.asarray(t, np.float64)
        return t[(t >= start - 1e-6) & (t < start + duration)] - start

    return BeatMap(tempo=float(grid.tempo), beats=part(grid.beats), downbeats=part(grid.downbeats),
                   meter=int(grid.meter))


# -- fixes a choreographer makes in one step ---------------------------------------------

#: What :func:`fix_grid` can do to a beat grid.
FIXES = ("halve", "double", "earlier", "later")


def _first_downbeat_index(grid: BeatMap) -> int:
    """Index in ``grid.beats`` of the beat nearest the first downbeat (0 without downbeats)."""
    if not len(grid.downbeats) or not len(grid.beats):
        return 0
    return int(np.argmin(np.abs(grid.beats - grid.downbeats[0])))


def _bars(beats: np.ndarray, first: int, meter: int) -> np.ndarray:
    """Every ``meter``-th beat, counted from beat index ``first`` (and back to the start)."""
    return beats[first % meter::meter].copy() if len(beats) else beats.copy()


def fix_grid(grid: BeatMap, fix: str | None = None, *, meter: int | None = None) -> BeatMap:
    """``grid`` with one fix a choreographer asks for (times unchanged in unit: seconds).

    Parameters
    ----------
    grid : BeatMap
    fix : {"halve", "double", "earlier", "later"} or None
        ``halve``: every other beat is dropped (the tracker counted the off-beats; the
        beats that carry the downbeats stay); ``double``: a beat is added half-way
        between each two (the tracker counted half notes); ``earlier`` / ``later``: the bar lines move one beat earlier / later.
        Halving or doubling keeps the first downbeat and ``meter`` beats to the bar.
    meter : int or None
        Beats to the bar (2–16), counted from the first downbeat.

    Returns
    -------
    BeatMap
        Tempo scaled by halving or doubling (tempo changes too).

    Raises
    ------
    ChoreoInputError
        An unknown fix, a meter out of range, or halving a grid of fewer than four beats.
    """
    if fix is not None and fix not in FIXES:
        raise ChoreoInputError("beat grid", f"fix must be one of {', '.join(FIXES)}, not {fix!r}")
    m = int(grid.meter if meter is None else meter)
    if not (_whole(m) and METER_RANGE[0] <= m <= METER_RANGE[1]):
        raise ChoreoInputError("beat grid", f"meter must be {METER_RANGE[0]}–{METER_RANGE[1]} beats to the bar, "
                                            f"not {meter!r}")
    beats = np.asarray(grid.beats, np.float64)
    first = _first_downbeat_index(grid)
    tempo, changes = float(grid.tempo), list(grid.tempo_changes)
    if fix == "halve":
        if len(beats) < 4:
            raise ChoreoInputError("beat grid", f"has {len(beats)} beats: too few to halve")
        beats, first = beats[first % 2::2].copy(), first // 2
        tempo, changes = tempo / 2, [(t, b / 2) for t, b in changes]
    elif fix == "double":
        if len(beats) >= 2:
            mid = (beats[:-1] + beats[1:]) / 2
            full = np.empty(2 * len(beats) - 1)
            full[0::2], full[1::2] = beats, mid
            beats, first = full, 2 * first
        tempo, changes = tempo * 2, [(t, b * 2) for t, b in changes]
    elif fix in ("earlier", "later"):
        first += -1 if fix == "earlier" else 1
    return BeatMap(tempo=tempo, beats=beats, downbeats=_bars(beats, first, m), meter=m, tempo_changes=changes)


def grid_to_dict(grid: BeatMap) -> dict:
    """A beat-grid JSON object :func:`beat_grid_from_dict` reads back (seconds, exact)."""
    return {"beats": [float(t) for t in grid.beats], "downbeats": [float(t) for t in grid.downbeats],
            "meter": int(grid.meter), "bpm": float(grid.tempo)}
