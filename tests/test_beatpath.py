"""The beat and bar decoders (core/audio/beatpath.py) and the tempo stretches, on activations made by hand."""

from __future__ import annotations

import numpy as np
import pytest

from choreo.core.audio import beatpath
from choreo.core.audio.beats import _beat_map, stretch_bounds

FPS = 22050 / 512


def pulses(times: np.ndarray, n: int, width: float = 1.0, floor: float = 0.02) -> np.ndarray:
    """An activation with a Gaussian bump (sd ``width`` frames) at each time (s)."""
    f = np.arange(n)[:, None]
    return np.clip(floor + np.exp(-0.5 * ((f - np.asarray(times)[None, :] * FPS) / width) ** 2).max(axis=1), 0, 1)


@pytest.mark.parametrize("bpm", [58, 96, 128, 200])
def test_beats_on_a_steady_pulse(bpm):
    times = np.arange(0.3, 30, 60 / bpm)
    act = pulses(times, int(31 * FPS))
    frames = beatpath.beat_frames(act, FPS)
    est = beatpath.refine(act, frames) / FPS
    assert len(est) == len(times)
    assert np.abs(est - times).max() < 0.004  # sub-frame (a frame is 23 ms)


def test_beats_follow_a_tempo_step_and_ignore_an_offbeat_decoy():
    times = np.r_[np.arange(0.5, 20, 0.5), 20 + np.arange(0, 20, 60 / 150)]
    act = pulses(times, int(41 * FPS))
    act = np.maximum(act, 0.3 * pulses(times[:-1] + np.diff(times) / 2, len(act)))  # weaker off-beats
    est = beatpath.refine(act, beatpath.beat_frames(act, FPS)) / FPS
    assert len(est) == len(times) and np.abs(est - times).max() < 0.01


def test_beats_need_no_activation_anywhere():
    frames = beatpath.beat_frames(np.full(400, 0.01), FPS)
    assert frames.ndim == 1 and np.all(np.diff(frames) > 0)


@pytest.mark.parametrize("meter, phase", [(4, 0), (4, 3), (3, 1), (2, 1)])
def test_bars_meter_and_phase(meter, phase):
    rng = np.random.default_rng(meter * 10 + phase)
    n = 64
    pos = (np.arange(n) - phase) % meter
    # a bar of 2 pays SHORT_BAR: its every downbeat must be clear
    hi, low = (0.95, 0.03) if meter == 2 else (0.7, 0.15)
    down = np.where(pos == 0, hi, low) + rng.uniform(-0.03, 0.03, n)
    got_pos, got_m = beatpath.bar_positions(down)
    assert np.all(got_m == meter) and np.array_equal(got_pos, pos)


def test_bars_change_length_once():
    pos = np.r_[np.arange(48) % 3, np.arange(48) % 4]
    down = np.where(pos == 0, 0.8, 0.1)
    got_pos, got_m = beatpath.bar_positions(down)
    assert np.array_equal(got_pos, pos)
    assert np.all(got_m[:48] == 3) and np.all(got_m[48:] == 4)


def test_stretches_steady_song_is_one_even_with_jitter():
    rng = np.random.default_rng(1)
    beats = np.cumsum(0.5 + rng.normal(0, 0.012, 120))
    assert stretch_bounds(beats) == [0, 120]


def test_stretches_cut_at_a_step():
    beats = np.r_[np.arange(61) * 0.6, 36 + np.arange(1, 81) * 60 / 132]
    b = stretch_bounds(beats)
    assert len(b) == 3 and abs(b[1] - 60) <= 1


def test_beat_map_pulse_overrides():
    beats = np.arange(32) * 0.5
    pos, meters = np.arange(32) % 4, np.full(32, 4)
    auto = _beat_map(beats, pos, meters, "auto")
    half = _beat_map(beats, pos, meters, "halve")
    double = _beat_map(beats, pos, meters, "double")
    assert auto.meter == 4 and auto.tempo == pytest.approx(120) and np.array_equal(auto.downbeats, beats[::4])
    assert half.meter == 2 and half.tempo == pytest.approx(60) and np.array_equal(half.downbeats, beats[::4])
    assert double.meter == 8 and double.tempo == pytest.approx(240) and np.array_equal(double.downbeats, beats[::4])
    assert len(double.beats) == 63


def test_a_beat_on_the_first_frame_is_kept():
    times = np.arange(0.0, 12, 0.6)
    act = pulses(times, int(12.5 * FPS))
    est = beatpath.beat_frames(act, FPS)
    assert est[0] == 0 and len(est) == len(times)


def test_chord_change_peaks_where_the_chords_change():
    frames = np.arange(16) * 20
    chroma = np.zeros((330, 12))
    for bar in range(4):  # one chord a bar of 4 beats
        chroma[bar * 80:(bar + 1) * 80, [bar * 3 % 12, (bar * 3 + 4) % 12, (bar * 3 + 7) % 12]] = 1.0
    chroma[320:] = chroma[319]
    h = beatpath.chord_change(chroma, frames)
    assert set(np.argsort(h)[-3:]) == {4, 8, 12}
