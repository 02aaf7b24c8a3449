"""Beat tracker: F-measure definition, synthetic drum patterns, overrides, real tracks, tempo changes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from choreo.core.audio.beats import BeatMap, f_measure, onset_envelope, track_beats
from choreo.core.audio.medley import drum_song, medley, ramp_beats
from choreo.core.errors import ChoreoInputError

SR = 22050


# ------------------------------------------------------------------ f_measure

def test_f_measure_hand_cases():
    ref = np.array([1.0, 2.0, 3.0, 4.0])
    assert f_measure(ref, ref) == 1.0
    assert f_measure(ref, ref + 0.069) == 1.0
    assert f_measure(ref, ref + 0.071) == 0.0
    assert f_measure(ref, []) == 0.0 and f_measure([], ref) == 0.0
    # half of the beats: P = 1, R = 0.5 -> F = 2/3
    assert f_measure(ref, ref[::2]) == pytest.approx(2 / 3)
    # double tempo: P = 0.5, R = 1
    est = np.sort(np.r_[ref, ref + 0.5])
    assert f_measure(ref, est) == pytest.approx(2 / 3)
    # one-to-one: two estimates near one reference beat count once
    assert f_measure([1.0], [0.98, 1.02]) == pytest.approx(2 * 0.5 * 1 / 1.5)


# ------------------------------------------------------------------ synthetic drums

def drums(bpm: float, meter: int, seconds: float, seed: int = 0):
    """:func:`drum_song` at one tempo; returns (signal, beats, downbeats)."""
    beats = np.arange(0, seconds, 60.0 / bpm)
    return drum_song(beats, meter, seconds, SR, seed), beats, beats[::meter]


@pytest.mark.parametrize("bpm", [72, 118, 150])
def test_synthetic_4_4(bpm):
    y, beats, downs = drums(bpm, 4, 20.0, seed=bpm)
    bm = track_beats(y, SR)
    assert isinstance(bm, BeatMap)
    assert f_measure(beats, bm.beats) >= 0.9, bm.tempo
    assert bm.meter == 4
    assert bm.tempo == pytest.approx(bpm, rel=0.04)
    assert f_measure(downs, bm.downbeats) >= 0.8
    d = bm.to_dict()
    assert set(d) == {"tempo", "beats", "downbeats", "meter"}
    json.dumps(d)


def test_synthetic_3_4():
    y, beats, downs = drums(100, 3, 20.0, seed=3)
    bm = track_beats(y, SR)
    assert f_measure(beats, bm.beats) >= 0.9
    assert bm.meter == 3
    assert f_measure(downs, bm.downbeats) >= 0.8


def test_pulse_override_changes_level():
    y, beats, _ = drums(118, 4, 16.0, seed=5)
    auto = track_beats(y, SR)
    half = track_beats(y, SR, pulse="halve")
    double = track_beats(y, SR, pulse="double")
    assert half.tempo == pytest.approx(auto.tempo / 2, rel=0.02)
    assert double.tempo == pytest.approx(auto.tempo * 2, rel=0.02)
    assert f_measure(beats[::2], half.beats) >= 0.9 or f_measure(beats[1::2], half.beats) >= 0.9
    assert f_measure(np.sort(np.r_[beats, beats + 30 / 118]), double.beats) >= 0.9


def test_onset_envelope_shape():
    y, _, _ = drums(120, 4, 5.0)
    env = onset_envelope(y, SR)
    assert env.ndim == 1 and abs(len(env) - len(y) // 512) <= 2 and np.all(env >= 0)


def test_too_short_and_bad_pulse_raise():
    with pytest.raises(ChoreoInputError, match="song.wav"):
        track_beats(np.zeros(SR, np.float32), SR, name="song.wav")
    y, _, _ = drums(120, 4, 6.0)
    with pytest.raises(ChoreoInputError, match="pulse"):
        track_beats(y, SR, pulse="triple")


# ------------------------------------------------------------------ real tracks

# hiphop/march/polka: level; ska: precise period (was tracked at 2X);
# rhumba and boneym: off-beats as loud as the beats (were tracked on the "and").
@pytest.mark.parametrize("track", [pytest.param("mma02_hiphop", marks=pytest.mark.xfail(
                                       strict=True, reason="the learned tracker takes 152 BPM (16th hats)")),
                                   "mma12_march", "mma21_polka",
                                   "mma05_ska", "mma07_rhumba", "mma13_boneym"])
def test_real_tracks(music_dir, track):
    from choreo.core.audio.io import load_audio

    y, sr = load_audio(music_dir / f"{track}.ogg")
    truth = json.loads((music_dir / f"{track}.json").read_text())
    bm = track_beats(y, sr)
    assert f_measure(truth["beats"], bm.beats) >= 0.8, (track, bm.tempo)
    assert bm.tempo == pytest.approx(truth["bpm"], rel=0.01)
    assert bm.meter == truth["meter"][0]
    assert bm.tempo_changes == []  # one tempo: one stretch, the single-tempo path


# ------------------------------------------------------------------ tempo changes

def _check_parts(song, bm, downbeats_in=()):
    """Per part of the song: beats F >= 0.95 (downbeat F >= 0.8 in the parts
    ``downbeats_in``); each join with every beat there and no extra one; one
    stretch per part, its tempo within 2 % and its start within one beat."""
    for k, (a, b, bpm) in enumerate(song.parts):
        def inside(x, lo=a, hi=b):
            return x[(x >= lo - 0.035) & (x < hi - 0.035)]

        assert f_measure(inside(song.beats), inside(bm.beats)) >= 0.95, k
        if k in downbeats_in:
            assert f_measure(inside(song.downbeats), inside(bm.downbeats)) >= 0.8, k
        if k:
            i = int(np.searchsorted(song.beats, a - 1e-6))  # 3 beats either side, cut between beats
            ref = song.beats[i - 3:i + 3]
            lo, hi = (song.beats[i - 4] + ref[0]) / 2, (ref[-1] + song.beats[i + 3]) / 2
            est = bm.beats[(bm.beats >= lo) & (bm.beats < hi)]
            assert len(est) == len(ref) and f_measure(ref, est) == 1.0, (k, ref, est)
    assert len(bm.tempo_changes) == len(song.parts), bm.tempo_changes
    for (a, _, bpm), (t, tempo) in zip(song.parts, bm.tempo_changes):
        assert tempo == pytest.approx(bpm, rel=0.02) and abs(t - a) < 60.0 / bpm, (a, bm.tempo_changes)


def test_tempo_change_synthetic():
    """100 BPM drums, then 132 BPM: two stretches, joined on the beat (no shared data needed)."""
    first = np.arange(0, 30, 0.6)
    beats = np.r_[first, first[-1] + 0.6 + np.arange(0, 30, 60 / 132)]
    y = drum_song(beats, 4, 60.0, SR, seed=7)
    bm = track_beats(y, SR)
    from choreo.core.audio.medley import GriddedSong

    song = GriddedSong(y, SR, beats, beats[::4], [(0.0, 30.0, 100.0), (30.0, 60.0, 132.0)])
    _check_parts(song, bm, downbeats_in=(0, 1))
    d = bm.to_dict()
    assert [bpm for _, bpm in d["tempo_changes"]] == pytest.approx([100, 132], rel=0.02)
    json.dumps(d)


@pytest.mark.xfail(strict=True, reason="the learned tracker puts one extra beat in the cut between the parts")
def test_medley_slow_then_fast(music_dir):
    """The issue's case in small: ~90 BPM (ska, 88) then ~160 BPM (polka, 158), 30 s each.
    One global tempo tracked the ska part at the polka's rate (F 0.23)."""
    song = medley(music_dir, [("mma05_ska", 0, 30), ("mma21_polka", 8, 30)])
    bm = track_beats(song.audio, song.sr)
    _check_parts(song, bm, downbeats_in=(0, 1))
    longest = max(song.parts, key=lambda p: p[1] - p[0])
    assert bm.tempo == pytest.approx(longest[2], rel=0.01)


def test_medley_three_parts_meter_change(music_dir):
    """Waltz (84, 3/4), disco (112, 4/4), mambo (152): each stretch its own tempo and
    meter. (Mambo's downbeats are wrong on the whole track too, so not asked here.)"""
    song = medley(music_dir, [("mma04_waltz", 8, 25), ("mma11_dsoul", 8, 25), ("mma20_mambo", 8, 25)])
    bm = track_beats(song.audio, song.sr)
    _check_parts(song, bm, downbeats_in=(0, 1))
    db = np.diff(np.searchsorted(bm.beats, bm.downbeats))
    assert np.median(db[: len(db) // 4]) == 3 and np.median(db[-len(db) // 4:]) == 4


@pytest.mark.parametrize("bpm0, bpm1, seconds", [(120, 126, 40), (100, 130, 60)])
def test_tempo_drift_followed(bpm0, bpm1, seconds):
    """A gliding tempo: a few % drift the beat DP follows at one period; 30 % in a
    minute (one period was 0.86 F) is cut into stretches."""
    beats = ramp_beats(bpm0, bpm1, seconds)
    bm = track_beats(drum_song(beats, 4, seconds, SR, seed=bpm0), SR)
    assert f_measure(beats, bm.beats) >= 0.95, bm.tempo
    assert min(bpm0, bpm1) * 0.98 <= bm.tempo <= max(bpm0, bpm1) * 1.02
