"""A generated dance: the motion plus the music facts it was made for.

Saved as an ``.npz`` that is also a plain Choreo motion file (format 1 of
:mod:`choreo.core.formats.npz`: ``joints``, ``fps``, ``joint_names``, ``up``,
``units``, ``format_version``), so :func:`choreo.core.formats.load_motion`
reads it; the extra arrays are ``beats``, ``downbeats``, ``sections``,
``audio_path`` ("" when none), ``audio_start``, ``tempo``, ``model``,
``seed``, ``energy`` and ``dance_version``; a dance made with an energy
curve also has ``energy_times`` and ``energy_values`` (float64, seconds into the
song file and multipliers). Files without them (older ones) read as before, and
older readers ignore them.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass

import numpy as np

from ..errors import ChoreoInputError
from ..fileio import atomic_path
from ..formats.npz import FORMAT_VERSION
from ..motion import Motion
from .energy import EnergyCurve

DANCE_VERSION = 1
_EXTRA = ("beats", "downbeats", "sections", "audio_path", "audio_start", "tempo", "model", "seed",
          "energy", "dance_version")
#: Written only when the dance was made with an :class:`EnergyCurve`, and when its
#: sections are labelled (older files have neither).
OPTIONAL = ("energy_times", "energy_values", "section_labels", "sources_json")


@dataclass(kw_only=True)
class DanceMusic:
    """What a dance (3D or 2D) was made for and with; keyword-only fields.

    Attributes
    ----------
    beats, downbeats : np.ndarray
        Times (s) on the dance's time base (0 = ``audio_start`` s into the song).
    sections : np.ndarray
        Section start times (s), same base.
    audio_path : str or None
        The song the dance was made for.
    audio_start : float
        Seconds into the audio file where the dance starts.
    tempo : float
        BPM (0.0 when the clip is too short to find beats).
    model : str
        Weights name (registry) or file.
    seed : int
    energy : float
        The energy multiplier; with a curve, its mean over the dance's frames.
    energy_curve : EnergyCurve or None
        The curve the dance was made with (times in seconds into the song file), if any.
    section_labels : tuple of str
        One label per section, equal for sections that sound alike (A, B, A, …);
        empty when unknown (then they read A, B, C… in order).
    sources : tuple of dict
        For a dance assembled from a motion library (DanceIt): which source and moment
        fills which part of the song, one dict per fragment (``song_start_s``,
        ``song_end_s`` in file seconds, ``bars``, ``source``, ``source_id``,
        ``source_start_s``, ``source_end_s``, …); empty for a network's dance.
    """

    beats: np.ndarray
    downbeats: np.ndarray
    sections: np.ndarray
    audio_path: str | None
    audio_start: float
    tempo: float
    model: str
    seed: int
    energy: float
    energy_curve: EnergyCurve | None = None
    section_labels: tuple[str, ...] = ()
    sources: tuple[dict, ...] = ()


@dataclass
class Dance(DanceMusic):
    """A dance made for a song: ``motion`` (30 fps SMPL-24, metres, z up; frame
    ``k`` at ``k / fps`` s after ``audio_start``) plus :class:`DanceMusic`."""

    motion: Motion

    @property
    def duration(self) -> float:
        return self.motion.duration


def save_dance(dance: Dance, path: str | os.PathLike, extra: dict[str, np.ndarray] | None = None) -> None:
    """Write ``dance`` to ``path`` (.npz) atomically; also a valid motion .npz. ``extra``: further
    arrays (a lifted dance's ``lift_seen``), which readers of dances skip."""
    m = dance.motion
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, joints=m.joints.astype(np.float32), fps=np.float64(m.fps),
                 joint_names=np.array(m.joint_names, dtype=str), up=np.array("z"), units=np.array("m"),
                 format_version=np.int64(FORMAT_VERSION), dance_version=np.int64(DANCE_VERSION),
                 **(extra or {}), **music_arrays(dance))


def music_arrays(dance: DanceMusic) -> dict[str, np.ndarray]:
    """The :class:`DanceMusic` fields of a dance (3D or 2D) as .npz arrays."""
    curve = dance.energy_curve
    extra = {} if curve is None else dict(energy_times=np.asarray(curve.times_s, np.float64),
                                          energy_values=np.asarray(curve.values, np.float64))
    if dance.section_labels:
        extra["section_labels"] = np.array(list(dance.section_labels), dtype=str)
    if dance.sources:
        extra["sources_json"] = np.array(json.dumps(list(dance.sources)), dtype=str)
    return dict(extra, beats=np.asarray(dance.beats, np.float64),
                downbeats=np.asarray(dance.downbeats, np.float64), sections=np.asarray(dance.sections, np.float64),
                audio_path=np.array(dance.audio_path or "", dtype=str),
                audio_start=np.float64(dance.audio_start), tempo=np.float64(dance.tempo),
                model=np.array(str(dance.model), dtype=str), seed=np.int64(dance.seed),
                energy=np.float64(dance.energy))


def music_fields(data: dict, path) -> dict:
    """The inverse of :func:`music_arrays`, checked: the :class:`DanceMusic` keyword arguments."""
    out = {"energy_curve": None}
    if "energy_times" in data or "energy_values" in data:
        if not ("energy_times" in data and "energy_values" in data):
            raise ChoreoInputError(path, "energy curve needs both energy_times and energy_values")
        try:
            out["energy_curve"] = EnergyCurve(np.atleast_1d(data["energy_times"]),
                                              np.atleast_1d(data["energy_values"]))
        except ChoreoInputError as e:
            raise ChoreoInputError(path, f"energy curve {e.problem}") from None
    for k in ("beats", "downbeats", "sections"):
        a = np.atleast_1d(data[k]).astype(np.float64)
        if a.ndim != 1 or not np.all(np.isfinite(a)):
            raise ChoreoInputError(path, f"{k} must be a 1-D array of finite times")
        out[k] = a
    if "section_labels" in data:
        labels = tuple(str(x) for x in np.atleast_1d(data["section_labels"]))
        if len(labels) != len(out["sections"]) or not all(labels):
            raise ChoreoInputError(path, f"section_labels: {len(labels)} labels for {len(out['sections'])} sections")
        out["section_labels"] = labels
    if "sources_json" in data:
        try:
            sources = json.loads(str(data["sources_json"]))
            if not (isinstance(sources, list) and all(isinstance(d, dict) for d in sources)):
                raise ValueError("not a list of records")
        except ValueError as e:
            raise ChoreoInputError(path, f"sources_json is not a list of fragment records ({e})") from None
        out["sources"] = tuple(sources)
    return dict(out, audio_path=str(data["audio_path"]) or None, audio_start=float(data["audio_start"]),
                tempo=float(data["tempo"]), model=str(data["model"]), seed=int(data["seed"]),
                energy=float(data["energy"]))


def load_dance(path: str | os.PathLike) -> Dance:
    """Read a dance written by :func:`save_dance`.

    Raises
    ------
    ChoreoInputError
        Naming the file: missing, not a motion file, or a motion without the
        dance's music data.
    """
    from ..formats.npz import load_npz_motion

    if not os.path.isfile(path):
        raise ChoreoInputError(path, "no such file")
    motion = load_npz_motion(path)  # checks joints, names, units, finiteness
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files if k in _EXTRA + OPTIONAL}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise ChoreoInputError(path, f"cannot read as .npz: {e}") from None
    missing = [k for k in _EXTRA if k not in data]
    if missing:
        raise ChoreoInputError(path, f"a motion, not a Choreo dance: missing {', '.join(missing)}")
    if int(data["dance_version"]) > DANCE_VERSION:
        raise ChoreoInputError(path, f"dance_version {int(data['dance_version'])} is newer than this "
                                     f"Choreo reads ({DANCE_VERSION})")
    return Dance(motion=motion, **music_fields(data, path))


__all__ = ["Dance", "DanceMusic", "save_dance", "load_dance", "DANCE_VERSION"]
