"""Beat tracker: F-measure definition, synthetic drum patterns, overrides, real tracks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from choreo.core.audio.beats import BeatMap, f_measure, onset_envelope, track_beats
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

def _hit(n, sr, kind, rng):
    t = np.arange(n) / sr
    if kind == "kick":
        return np.sin(2 * np.pi * (50 + 80 * np.exp(-t * 30)) * t) * np.exp(-t * 12)
    if kind == "snare":
        return (0.6 * rng.standard_normal(n) + 0.4 * np.sin(2 * np.pi * 190 * t)) * np.exp(-t * 20)
    spec = np.fft.rfft(rng.standard_normal(n))  # hat: noise above 5 kHz only, as a real hi-hat
    spec[np.fft.rfftfreq(n, 1 / sr) < 5000] = 0
    return 0.5 * np.fft.irfft(spec, n) * np.exp(-t * 60)


def drums(bpm: float, meter: int, seconds: float, seed: int = 0):
    """Kick on the bar's first (and, in 4/4, third) beat, snare on the others,
    hi-hats on eighths, and a soft organ chord that changes every bar (the
    only cue telling beat 1 from beat 3); returns (signal, beats, downbeats)."""
    rng = np.random.default_rng(seed)
    period = 60.0 / bpm
    y = np.zeros(int(seconds * SR) + SR)
    n = int(0.25 * SR)
    beats = np.arange(0, seconds, period)
    for k, b in enumerate(beats):
        pos = k % meter
        kind = "kick" if pos == 0 or (meter == 4 and pos == 2) else "snare"
        for when, what in ((b, kind), (b, "hat"), (b + period / 2, "hat")):
            i = int(round(when * SR))
            y[i:i + n] += _hit(n, SR, what, rng)[: len(y[i:i + n])]
    chords = ([220.0, 277.2, 329.6], [293.7, 370.0, 440.0], [246.9, 311.1, 370.0], [196.0, 246.9, 293.7])
    for k, b in enumerate(beats[::meter]):
        i, j = int(round(b * SR)), min(len(y), int(round((b + meter * period) * SR)))
        t = np.arange(j - i) / SR
        y[i:j] += 0.05 * sum(np.sin(2 * np.pi * f * t) for f in chords[k % 4]) * np.minimum(1, t * 50)
    y += 0.003 * rng.standard_normal(len(y))  # a quiet bed, as in any mix (log flux needs a floor)
    y = (y / np.abs(y).max() * 0.8).astype(np.float32)
    return y[: int(seconds * SR)], beats, beats[::meter]


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
@pytest.mark.parametrize("track", ["mma02_hiphop", "mma12_march", "mma21_polka",
                                   "mma05_ska", "mma07_rhumba", "mma13_boneym"])
def test_real_tracks(music_dir, track):
    from choreo.core.audio.io import load_audio

    y, sr = load_audio(music_dir / f"{track}.ogg")
    truth = json.loads((music_dir / f"{track}.json").read_text())
    bm = track_beats(y, sr)
    assert f_measure(truth["beats"], bm.beats) >= 0.8, (track, bm.tempo)
    assert bm.tempo == pytest.approx(truth["bpm"], rel=0.01)
    assert bm.meter == truth["meter"][0]
