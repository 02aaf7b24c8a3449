"""Beat, downbeat and tempo labels of a planned song, from the MIDI file MMA
wrote for it: the tempo map turns the metrical grid (ticks) into seconds.

The grid is the plan's: a labelled beat every ``mult`` MMA beats (quarter
notes of the MIDI file) from the song start, a downbeat every ``ppb`` beats.
Humanised timing (RTime) and swing move *notes* around that grid; they never
move the labels. The drum notes are used only as a check of the phase.
"""

from __future__ import annotations

import numpy as np

from .midi import Midi
from .song import Plan

DRUM_CHANNEL = 9


def grid_ticks(p: Plan, ppq: int) -> dict:
    """Tick positions of the labelled grid of plan ``p`` (floats; exact for the
    multipliers used: 0.5, 1, 2, 3 MMA beats)."""
    g = p.groove
    pulse = p.mult * ppq
    total = len(p.bars) * g.time * ppq
    offset = (p.ppb - p.pickup) * pulse if p.pickup else 0.0
    n_beats = int(np.floor((total - offset) / pulse + 1e-9))
    beats = offset + pulse * np.arange(n_beats)
    lab_bar = p.ppb * pulse
    m0 = int(np.ceil(offset / lab_bar - 1e-9))
    downs = lab_bar * np.arange(m0, int(np.floor((total - 1e-9) / lab_bar)) + 1)
    downs = downs[downs < total - 1e-9]
    return {"offset": float(offset), "total": float(total), "pulse": float(pulse),
            "beats": beats, "downbeats": downs}


def drum_check(p: Plan, m: Midi, grid: dict) -> dict:
    """How the drum notes sit on the labelled grid (a check, not a label):
    ``beat_coverage`` is the share of labelled beats (drum-less intro and the
    2-bar ending left out) with a drum onset within ±(RTime + 6) ticks,
    ``offbeat_coverage`` the same for the grid shifted by half a beat, and
    ``on_beat_fraction`` the share of drum onsets on a labelled beat. A grid
    that was off the music (a wrong bar length, a lead-in) would have a low
    beat coverage below its off-beat coverage."""
    ticks = np.array([n[0] for n in m.notes if n[1] == DRUM_CHANNEL], float)
    ticks = ticks[(ticks >= grid["offset"] - 12) & (ticks < grid["total"])]
    if ticks.size == 0:
        return {"drum_onsets": 0}
    tol = p.humanise + 6
    bar = p.groove.time * m.ppq
    beats = grid["beats"]
    beats = beats[(beats >= p.nodrum_bars * bar + (bar if p.pickup else 0)) & (beats < grid["total"] - 2 * bar)]

    def cover(b):
        return float(np.mean(np.abs(ticks[None, :] - b[:, None]).min(axis=1) <= tol)) if b.size else float("nan")
    d = np.abs(ticks[:, None] - grid["beats"][None, :]).min(axis=1)
    return {"drum_onsets": int(ticks.size),
            "beat_coverage": round(cover(beats), 4),
            "offbeat_coverage": round(cover(beats + grid["pulse"] / 2), 4),
            "on_beat_fraction": round(float(np.mean(d <= tol)), 4)}


def derive(p: Plan, m: Midi, start_sample: int | None = None, sr: int = 22050) -> dict:
    """Labels of plan ``p`` from its MIDI ``m``. Times are seconds from the
    first audio sample, which is the MIDI time of the first labelled beat
    (rounded to a sample when ``start_sample`` is given)."""
    grid = grid_ticks(p, m.ppq)
    t0 = m.seconds([grid["offset"]])[0]
    if start_sample is not None:
        t0 = start_sample / sr
    beats = np.array(m.seconds(grid["beats"])) - t0
    downs = np.array(m.seconds(grid["downbeats"])) - t0
    end_s = m.seconds([grid["total"]])[0] - t0
    changes = [(round(m.seconds([t])[0] - t0, 6), round(60e6 / us / p.mult, 4))
               for t, us in sorted(m.tempos) if t > grid["offset"]]
    sigs = sorted({(a, b) for _, a, b in m.timesigs})
    notes = [n[0] for n in m.notes]
    checks = {
        "timesigs": [f"{a}/{b}" for a, b in sigs],
        "timesig_ok": sigs == [tuple(p.groove.meter)],
        "last_note_tick": int(max(notes)) if notes else -1,
        "bars_ok": bool(notes) and grid["total"] - 2 * p.groove.time * m.ppq <= max(notes) < grid["total"] + 24,
        "tempo_events": len(m.tempos),
    }
    checks.update(drum_check(p, m, grid))
    return {"beats": np.round(beats, 6), "downbeats": np.round(downs, 6), "end_s": float(end_s),
            "tempo_changes": changes, "checks": checks, "t0_s": float(t0)}
