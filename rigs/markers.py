"""Timeline markers for a dance: beats, bar numbers, section starts.

One marker per frame, named so they read at a glance and stay out of the
way: ``choreo:·`` on a beat, ``choreo:bar 5`` on a bar's first beat,
``choreo:section B · bar 9`` where a section starts. The ``choreo:`` prefix
marks them as Choreo's: a new call replaces them and never touches the
user's own markers.
"""

from __future__ import annotations

import string
from typing import Callable

import numpy as np

PREFIX = "choreo:"
BEAT = PREFIX + "·"


def is_choreo_marker(marker) -> bool:
    return marker.name.startswith(PREFIX)


def labelled_sections(dance) -> list:
    """``dance``'s sections as (start, end, label) for the markers: its own labels
    (equal for sections that sound alike) where it has them, else its start times."""
    labels = tuple(getattr(dance, "section_labels", ()) or ())
    starts = np.atleast_1d(np.asarray(dance.sections, np.float64))
    if len(labels) != len(starts):
        return starts
    return [(float(t), float(t), lab) for t, lab in zip(starts, labels)]


def _section_starts(sections) -> list[tuple[float, str]]:
    """(time, label) from start times (labelled 1, 2, …) or (start, end, label) tuples."""
    if sections is None:
        return []
    items = list(sections) if not isinstance(sections, np.ndarray) or sections.ndim else []
    out = []
    for i, s in enumerate(items):
        if isinstance(s, (tuple, list)) and len(s) == 3:
            out.append((float(s[0]), str(s[2])))
        else:
            out.append((float(s), string.ascii_uppercase[i] if i < 26 else str(i + 1)))
    return out


def dance_marker_frames(*, beats, downbeats, sections, frame_start: float, scene_fps: float, notes=()
                        ) -> dict[int, str]:
    """{frame: name} of the markers :func:`add_dance_markers` makes (no bpy)."""
    def frame(t: float) -> int:
        return int(round(frame_start + float(t) * scene_fps))

    names: dict[int, str] = {}
    for t in np.asarray(beats if beats is not None else [], np.float64).ravel():
        names[frame(t)] = BEAT
    bars = np.asarray(downbeats if downbeats is not None else [], np.float64).ravel()
    for n, t in enumerate(bars, start=1):
        names[frame(t)] = f"{PREFIX}bar {n}"
    for t, label in _section_starts(sections):
        n = int(np.searchsorted(bars, t + 1e-3, side="right"))   # bar the section starts in
        names[frame(t)] = f"{PREFIX}section {label}" + (f" · bar {n}" if n >= 1 else "")
    for t, text in notes:  # said on the marker already there, if any
        f = frame(t)
        names[f] = f"{names[f]} · {text}" if f in names and names[f] != BEAT else f"{PREFIX}{text}"
    return names


def add_dance_markers_undoable(scene, *, beats, downbeats, sections, frame_start: float, scene_fps: float,
                               notes=()) -> tuple[int, Callable[[], None]]:
    """:func:`add_dance_markers`, also returning a function that restores the
    markers as they were before the call."""
    markers = scene.timeline_markers
    old = [(m.name, m.frame, m.select, m.camera) for m in markers if is_choreo_marker(m)]
    new = dance_marker_frames(beats=beats, downbeats=downbeats, sections=sections,
                              frame_start=frame_start, scene_fps=scene_fps, notes=notes)

    def undo() -> None:
        for m in [m for m in scene.timeline_markers if is_choreo_marker(m)]:
            scene.timeline_markers.remove(m)
        for name, f, sel, cam in old:
            m = scene.timeline_markers.new(name, frame=f)
            m.select, m.camera = sel, cam

    try:
        for m in [m for m in markers if is_choreo_marker(m)]:
            markers.remove(m)
        for f in sorted(new):
            m = markers.new(new[f], frame=f)
            m.select = False
    except Exception:
        undo()
        raise
    return len(new), undo


def add_dance_markers(scene, *, beats, downbeats, sections, frame_start: float, scene_fps: float,
                      notes=()) -> int:
    """Put the dance's beats, bars and sections on ``scene``'s timeline.

    Parameters
    ----------
    scene : bpy.types.Scene
    beats, downbeats : array-like
        Times (s) on the dance's time base.
    sections : array-like
        Section start times (s), labelled A, B, C… in order, or
        ``(start, end, label)`` tuples (:func:`~choreo.core.audio.sections.find_sections`).
    frame_start : float
        Scene frame of dance time 0.
    scene_fps : float
        ``render.fps / render.fps_base``.
    notes : sequence of (float, str)
        Other things to mark, at times (s) on the dance's time base (a lifted dance's
        stretches without a person).

    Returns
    -------
    int
        Markers added. Earlier ``choreo:`` markers are removed first; other
        markers are left alone.
    """
    n, _ = add_dance_markers_undoable(scene, beats=beats, downbeats=downbeats, sections=sections,
                                      frame_start=frame_start, scene_fps=scene_fps, notes=notes)
    return n
