"""The song's beat grid as the choreographer sees and fixes it.

Generate tracks the beats of the strip's music (unless a Beat Grid file is set)
and keeps the grid it used on the strip's **sound** (``choreo_beat_grid``: JSON,
seconds into the sound file), so the panel can show its tempo, meter and first
downbeat. When the tracker got the pulse or the bar wrong, one click fixes it
(:func:`~choreo.core.audio.grid.fix_grid`: halve or double the pulse, the bar one
beat earlier or later, another meter): Choreo's beat and bar markers move at
once, and the next Generate / Regenerate Range keys the dance on the fixed grid.
**Forget** drops it (the next Generate tracks again). The grid is shown in the
panel whenever it is used, is saved with the .blend and is part of undo.
"""

from __future__ import annotations

import json

import bpy
import numpy as np

from ..core.errors import ChoreoInputError

PROPERTY = "choreo_beat_grid"


def stored(sound) -> dict | None:
    """The grid kept on ``sound`` (``beats``, ``downbeats``, ``meter``, ``bpm``, ``span``
    [first, last] file seconds tracked, ``fixes``), or None."""
    if sound is None or PROPERTY not in sound:
        return None
    try:
        d = json.loads(sound[PROPERTY])
    except (TypeError, ValueError):
        return None
    return d if isinstance(d, dict) and "beats" in d else None


def grid_of(d: dict):
    """The :class:`~choreo.core.audio.beats.BeatMap` of a stored grid (file seconds)."""
    from ..core.audio.grid import beat_grid_from_dict

    return beat_grid_from_dict({k: d[k] for k in ("beats", "downbeats", "meter", "bpm") if k in d},
                               "stored beat grid")


def _file_of(sound) -> str:
    """What the grid was tracked from: the sound's file path (a re-pointed sound is another song)."""
    return str(sound.filepath)


def covers(d: dict, sound, offset: float, duration: float) -> bool:
    """Whether a stored grid belongs to ``sound``'s current file and was tracked over (at
    least) the file part ``offset … offset + duration`` s."""
    span = d.get("span") or [0.0, 0.0]
    return (d.get("file") == _file_of(sound) and span[0] <= offset + 0.05
            and span[1] >= offset + duration - 0.05)


def store(sound, grid, span, fixes=()) -> None:
    """Keep ``grid`` (file seconds) on ``sound``; refuses a sound linked from a library."""
    from ..core.audio.grid import grid_to_dict

    if sound.library is not None:
        raise ChoreoInputError(sound.name, "sound is linked from a library: its beat grid can't be kept on it")
    sound[PROPERTY] = json.dumps(dict(grid_to_dict(grid), span=[float(span[0]), float(span[1])],
                                      fixes=list(fixes), file=_file_of(sound)))


def keep_tracked(sound, dance, audio) -> object:
    """After a Generate that tracked the beats: keep the dance's grid on ``sound``; returns
    a function that puts the previous value back (for a rollback)."""
    from ..core.audio.beats import BeatMap
    from ..core.generation.pipeline import meter_of

    old = sound.get(PROPERTY)

    def restore():
        if old is None:
            if PROPERTY in sound:
                del sound[PROPERTY]
        else:
            sound[PROPERTY] = old

    if sound.library is None and len(dance.beats) >= 2:
        t0 = float(dance.audio_start)
        grid = BeatMap(float(dance.tempo), np.asarray(dance.beats) + t0, np.asarray(dance.downbeats) + t0,
                       meter_of(np.asarray(dance.beats), np.asarray(dance.downbeats)))
        store(sound, grid, (audio.offset, audio.offset + audio.duration))
    return restore


def refresh_markers(scene, strip, grid) -> int:
    """Choreo's beat and bar markers for ``grid`` (file seconds) under ``strip``; section
    markers keep their frames and letters. Returns the number of markers."""
    from ..rigs.markers import PREFIX, add_dance_markers
    from .strip_audio import scene_fps, strip_audible_range

    fps = scene_fps(scene)
    offset, duration, frame = strip_audible_range(strip, fps)
    zero = frame - offset * fps   # scene frame of file second 0
    sections = [((m.frame - zero) / fps, (m.frame - zero) / fps, m.name.split("section ", 1)[1].split(" ")[0])
                for m in scene.timeline_markers if m.name.startswith(PREFIX + "section ")]
    keep = (np.asarray(grid.beats) >= offset - 1e-6) & (np.asarray(grid.beats) <= offset + duration)
    beats = np.asarray(grid.beats)[keep]
    downbeats = np.asarray(grid.downbeats)[(grid.downbeats >= offset - 1e-6) & (grid.downbeats <= offset + duration)]
    return add_dance_markers(scene, beats=beats, downbeats=downbeats, sections=sorted(sections),
                             frame_start=zero, scene_fps=fps)


def summary(d: dict) -> str:
    """``120.0 BPM · 4 a bar · first bar at 0.52 s`` for a stored grid (the beat is
    the pulse a dancer counts: a 6/8 song has 2 dotted-quarter beats a bar)."""
    first = d["downbeats"][0] if d.get("downbeats") else None
    return (f"{d.get('bpm', 0):.1f} BPM · {d.get('meter', 4)} a bar"
            + (f" · first bar at {first:.2f} s" if first is not None else ""))


class CHOREO_OT_fix_beats(bpy.types.Operator):
    """Fix the beat grid Choreo tracked for this song"""

    bl_idname = "choreo.fix_beats"
    bl_label = "Fix Beat Grid"
    bl_description = ("Fix the song's beat grid in one step: halve or double the pulse, move the bar lines one "
                      "beat earlier or later, or set the beats to the bar; the markers move now, and the next "
                      "Generate or Regenerate Range keys the dance on the fixed grid")
    bl_options = {"REGISTER", "UNDO"}

    action: bpy.props.EnumProperty(
        name="Fix", items=[("HALVE", "Half Tempo", "Every other beat: the tracker counted the off-beats"),
                           ("DOUBLE", "Double Tempo", "A beat between each two: the tracker counted half notes"),
                           ("EARLIER", "Bar Earlier", "The bar lines one beat earlier"),
                           ("LATER", "Bar Later", "The bar lines one beat later"),
                           ("METER", "Meter", "Beats to the bar, counted from the first downbeat"),
                           ("FORGET", "Forget", "Drop the grid: the next Generate tracks the beats again")])
    meter: bpy.props.IntProperty(name="Beats to the Bar", default=4, min=2, max=16)

    def execute(self, context):
        from ..core.audio.grid import fix_grid
        from .operators import error_line
        from .strip_audio import active_sound_strip, sequencer_scene

        try:
            seq = sequencer_scene(context)
            strip = active_sound_strip(context, seq)
            d = stored(strip.sound)
            if d is None:
                raise ChoreoInputError(strip.name, "has no beat grid yet: press Generate Dance first (it tracks "
                                                   "the beats and shows them here)")
            if self.action == "FORGET":
                del strip.sound[PROPERTY]
                self.report({"INFO"}, "Choreo: beat grid forgotten; the next Generate tracks the beats again")
                return {"FINISHED"}
            fix = None if self.action == "METER" else self.action.lower()
            grid = fix_grid(grid_of(d), fix, meter=self.meter if self.action == "METER" else None)
            store(strip.sound, grid, d.get("span", [0.0, 0.0]), [*d.get("fixes", []), self.action.lower()])
            n = refresh_markers(context.scene, strip, grid)
        except Exception as exc:
            self.report({"ERROR"}, error_line(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Choreo: beat grid {summary(stored(strip.sound))}; {n} markers")
        return {"FINISHED"}


def draw(layout, context) -> None:
    """The active strip's beat grid and its one-step fixes (nothing without a grid)."""
    from .strip_audio import active_sound_strip, sequencer_scene

    try:
        strip = active_sound_strip(context, sequencer_scene(context))
    except Exception:
        return
    d = stored(getattr(strip, "sound", None))
    if d is None or context.scene.choreo.beats_file:
        return
    box = layout.box()
    fixes = d.get("fixes") or []
    box.label(text=f"Beats: {summary(d)}" + (" (fixed)" if fixes else ""), icon="SEQ_HISTOGRAM")
    row = box.row(align=True)
    for action, text in (("HALVE", "½×"), ("DOUBLE", "2×"), ("EARLIER", "◀ Bar"), ("LATER", "Bar ▶")):
        row.operator("choreo.fix_beats", text=text).action = action
    row = box.row(align=True)
    for m in (2, 3, 4, 6):
        op = row.operator("choreo.fix_beats", text=str(m), depress=int(d.get("meter", 4)) == m)
        op.action, op.meter = "METER", m
    row.operator("choreo.fix_beats", text="", icon="X").action = "FORGET"


classes = (CHOREO_OT_fix_beats,)
