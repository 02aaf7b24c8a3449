"""Fixing the beat grid in one step (issue 13, item 5): core fixes, `choreo analyze --bar/--meter`,
and in real Blender the grid Generate keeps on the sound, the panel's fixes moving the
markers, and the next Generate keying on the fixed grid."""

from __future__ import annotations

import json

import numpy as np
import pytest

from choreo.core.audio.beats import BeatMap
from choreo.core.audio.grid import beat_grid_from_dict, fix_grid, grid_to_dict
from choreo.core.errors import ChoreoInputError

BEATS = np.arange(16) * 0.5 + 0.25


def _grid(first=1, meter=4):
    return BeatMap(120.0, BEATS.copy(), BEATS[first::meter].copy(), meter)


def test_fixes_halve_double_shift_and_set_the_meter():
    g = _grid()
    h = fix_grid(g, "halve")
    assert h.tempo == 60.0 and np.allclose(h.beats, BEATS[1::2]) and np.allclose(h.downbeats, BEATS[1::8])
    d = fix_grid(g, "double")
    assert d.tempo == 240.0 and len(d.beats) == 31 and np.allclose(d.beats[1::2], BEATS[:-1] + 0.25)
    assert d.downbeats[0] == g.downbeats[0] and np.allclose(np.diff(d.downbeats), 1.0)   # 4 beats of 0.25 s
    assert np.allclose(fix_grid(g, "later").downbeats, BEATS[2::4])
    assert np.allclose(fix_grid(g, "earlier").downbeats, BEATS[0::4])
    assert np.allclose(fix_grid(fix_grid(g, "earlier"), "later").downbeats, g.downbeats)   # undoes itself
    t = fix_grid(g, meter=3)
    assert t.meter == 3 and np.allclose(t.downbeats, BEATS[1::3])
    back = beat_grid_from_dict(grid_to_dict(t), "g.json")                               # a grid file again
    assert np.array_equal(back.beats, t.beats) and np.array_equal(back.downbeats, t.downbeats) and back.meter == 3
    with pytest.raises(ChoreoInputError, match="fix must be"):
        fix_grid(g, "sideways")
    with pytest.raises(ChoreoInputError, match="meter must be 2–16"):
        fix_grid(g, meter=1)
    with pytest.raises(ChoreoInputError, match="too few to halve"):
        fix_grid(BeatMap(120.0, BEATS[:3], BEATS[:1], 4), "halve")


def test_analyze_fixes_the_bar_and_meter(gridded_song, tmp_path, capsys):
    from choreo.cli import main

    song, _track = gridded_song
    out = tmp_path / "grid.json"
    assert main(["analyze", str(song), "--json", str(out)]) == 0
    plain = json.loads(out.read_text())
    assert main(["analyze", str(song), "--bar", "later", "--meter", "3", "--json", str(out)]) == 0
    fixed = json.loads(out.read_text())
    assert fixed["meter"] == 3 and fixed["beats"] == plain["beats"]
    first = plain["beats"].index(plain["downbeats"][0])
    assert fixed["downbeats"][:3] == plain["beats"][(first + 1) % 3::3][:3]
    assert "first downbeat" in capsys.readouterr().out
    assert main(["analyze", str(song), "--meter", "1"]) != 0   # one line, before the song is analysed
    assert "meter must be 2–16" in capsys.readouterr().err


@pytest.fixture(scope="module")
def blender():
    bpy = pytest.importorskip("bpy")
    import choreo

    choreo.register()
    yield bpy
    choreo.unregister()


def _bars(sc):
    """Frames of Choreo's bar lines (a bar marker, or a section marker naming its bar)."""
    return sorted(m.frame for m in sc.timeline_markers if m.name.startswith("choreo:bar") or
                  (m.name.startswith("choreo:section") and " · bar " in m.name))


@pytest.mark.blender
def test_generate_keeps_the_grid_a_fix_moves_the_markers_and_the_next_dance(blender, tmp_path):
    bpy = blender
    from choreo.addon.beat_grid import PROPERTY, stored
    from choreo.core.audio.demo import write_demo_wav

    song = tmp_path / "song.wav"
    write_demo_wav(song, bars=6, tempo=120.0)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    sc = bpy.context.scene
    sc.render.fps = 30
    ed = sc.sequence_editor_create()
    strip = ed.strips.new_sound("Music", str(song), channel=1, frame_start=1)
    ed.active_strip = strip
    with pytest.raises(RuntimeError, match="no beat grid yet"):
        bpy.ops.choreo.fix_beats(action="LATER")
    assert bpy.ops.choreo.generate() == {"FINISHED"}
    d = stored(strip.sound)
    assert d is not None and d["meter"] == 4 and abs(d["bpm"] - 120) < 1 and not d["fixes"]
    bars = _bars(sc)
    beat_frames = np.round(1 + np.asarray(d["beats"]) * 30).astype(int)

    assert bpy.ops.choreo.fix_beats(action="LATER") == {"FINISHED"}
    moved = _bars(sc)
    later = [int(beat_frames[np.searchsorted(beat_frames, b) + 1]) for b in bars[:-1]]
    assert set(later) <= set(moved) and not set(bars) & set(moved)          # every bar line one beat later
    assert stored(strip.sound)["fixes"] == ["later"]

    # the next Generate keys on the fixed grid: its bar markers are where the fix put them
    sc.choreo.seed = 3
    assert bpy.ops.choreo.generate() == {"FINISHED"}
    assert _bars(sc)[:3] == moved[:3]
    assert bpy.ops.choreo.fix_beats(action="METER", meter=3) == {"FINISHED"}
    three = _bars(sc)
    assert np.all(np.abs(np.diff(three[:4]) - 45) <= 1)                         # 3 beats of 15 frames
    # the sound pointed at another file is another song: its grid is tracked again
    other = tmp_path / "other.wav"
    write_demo_wav(other, bars=6, tempo=100.0)
    strip.sound.filepath = str(other)
    assert bpy.ops.choreo.generate() == {"FINISHED"}
    assert abs(stored(strip.sound)["bpm"] - 100) < 1 and not stored(strip.sound)["fixes"]
    assert bpy.ops.choreo.fix_beats(action="FORGET") == {"FINISHED"}
    assert PROPERTY not in strip.sound
