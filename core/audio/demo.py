"""The built-in demo track: a short pop-like song synthesised with numpy.

``make demo`` needs no outside file: drums (kick, snare, hi-hat), a bass line
and chords are rendered on an exact beat grid, so the grid (and the section
layout) doubles as ground truth for the beat tracker and the section finder.
The structure is intro / A / B / A / outro: the intro has drums only, A and B
differ in chords, voicing and density, the outro drops snare, hats and bass.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ..fileio import atomic_path

PEAK_DBFS = -1.0

# Chord roots as MIDI notes with their quality: A is C G Am F, B lifts a minor
# third to Eb Bb Cm Ab, so the two share no chord at a boundary.
_PROGRESSIONS = {
    "A": [(48, "maj"), (43, "maj"), (45, "min"), (41, "maj")],
    "B": [(51, "maj"), (46, "maj"), (48, "min"), (44, "maj")],
}
_INTERVALS = {"maj": (0, 4, 7, 12), "min": (0, 3, 7, 12)}


@dataclass
class DemoTrack:
    """A synthesised song and the exact facts of its construction.

    Attributes
    ----------
    audio : np.ndarray, float32, shape (n,)
        Mono signal, peak at -1 dBFS.
    sr : int
        Sample rate in Hz.
    tempo : float
        Beats per minute.
    meter : int
        Beats per bar.
    beats, downbeats : np.ndarray, float64
        Exact beat and bar-start times in seconds (the first beat is at 0).
    sections : list of [start, end, label]
        Exact section spans in seconds with labels ``intro``, ``A``, ``B``, ``outro``.
    """

    audio: np.ndarray
    sr: int
    tempo: float
    meter: int
    beats: np.ndarray
    downbeats: np.ndarray
    sections: list = field(default_factory=list)

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sr

    def to_dict(self) -> dict:
        """The ground truth as JSON-ready data (the audio is left out)."""
        return {"tempo": self.tempo, "meter": self.meter, "sr": self.sr,
                "duration": self.duration, "beats": self.beats.tolist(),
                "downbeats": self.downbeats.tolist(),
                "sections": [[float(s), float(e), str(lab)] for s, e, lab in self.sections]}


def section_layout(bars: int) -> list[tuple[int, int, str]]:
    """Bar spans ``(first_bar, stop_bar, label)`` of the demo's sections.

    30 bars give intro 4, A 8, B 8, A 6, outro 4. Short tracks shrink the
    intro/outro first; under 3 bars the whole track is one ``A`` section.
    """
    if bars < 1:
        raise ValueError("bars must be >= 1")
    if bars < 3:
        return [(0, bars, "A")]
    edge = min(4, bars // 6)
    middle = bars - 2 * edge
    third = max(1, (middle // 3 + 1) // 2 * 2) if middle >= 6 else max(1, middle // 3)
    parts = [("A", third), ("B", third), ("A", middle - 2 * third)]
    spans, bar = [], 0
    if edge:
        spans.append((0, edge, "intro"))
        bar = edge
    for label, n in parts:
        if n > 0:
            spans.append((bar, bar + n, label))
            bar += n
    if edge:
        spans.append((bar, bar + edge, "outro"))
    return spans


def synthesize_demo(tempo: float = 118.0, meter: int = 4, bars: int = 30, sr: int = 22050,
                    seed: int = 0) -> DemoTrack:
    """Render the demo song.

    Parameters
    ----------
    tempo : float
        Beats per minute (40–240).
    meter : int
        Beats per bar (2–7).
    bars : int
        Number of bars; 30 at 118 BPM is about a minute.
    sr : int
        Sample rate in Hz.
    seed : int
        Seed of the noise generator (drums); the same arguments give the same samples.

    Returns
    -------
    DemoTrack
    """
    if not 40.0 <= tempo <= 240.0:
        raise ValueError(f"tempo {tempo} outside 40–240 BPM")
    if not 2 <= meter <= 7:
        raise ValueError(f"meter {meter} outside 2–7")
    rng = np.random.default_rng(seed)
    spb = 60.0 / tempo
    n_beats = bars * meter
    beats = np.arange(n_beats) * spb
    downbeats = beats[::meter].copy()
    n = int(round(bars * meter * spb * sr))
    out = np.zeros(n + sr, dtype=np.float64)  # one second of room for ringing tails
    kick, snare, hat = _kick(sr), _snare(sr, rng), _hat(sr, rng)
    layout = section_layout(bars)
    sections = []
    for first, stop, label in layout:
        sections.append([float(downbeats[first]), float(stop * meter * spb), label])
        for bar in range(first, stop):
            t0 = bar * meter * spb
            chord_root, quality = _PROGRESSIONS["B" if label == "B" else "A"][(bar - first) % 4]
            for b in range(meter):
                t = t0 + b * spb
                _add(out, kick, t, sr, 1.0 if b == 0 else 0.75)
                if label in ("A", "B") and _is_backbeat(b, meter):
                    _add(out, snare, t, sr, 0.55)
                if label != "outro":
                    _add(out, hat, t, sr, 0.22)
                    _add(out, hat, t + spb / 2, sr, 0.14 if label != "B" else 0.2)
                    if label == "B":  # busier sixteenths in B
                        _add(out, hat, t + spb / 4, sr, 0.07)
                        _add(out, hat, t + 3 * spb / 4, sr, 0.07)
            if label in ("A", "B"):
                _bass_bar(out, chord_root - 12, t0, spb, meter, sr, busy=label == "B")
            if label == "A":
                _pad(out, chord_root + 12, quality, t0, meter * spb, sr, 0.09)
            elif label == "B":
                for b in range(meter):  # off-beat bright stabs
                    _stab(out, chord_root + 24, quality, t0 + (b + 0.5) * spb, 0.35 * spb, sr, 0.07)
            elif label == "outro":
                fade = 1.0 - (bar - first) / max(stop - first, 1) * 0.6
                _pad(out, chord_root + 12, quality, t0, meter * spb, sr, 0.09 * fade)
    sections[0][0] = 0.0
    y = out[:n]
    fade = min(len(y), int(0.05 * sr))  # no click at the very end
    y[len(y) - fade:] *= np.linspace(1.0, 0.0, fade)
    peak = float(np.max(np.abs(y))) or 1.0
    y = (y * (10 ** (PEAK_DBFS / 20) * 0.999 / peak)).astype(np.float32)
    return DemoTrack(y, sr, float(tempo), int(meter), beats, downbeats, sections)


def write_demo_wav(path: str | os.PathLike, track: DemoTrack | None = None, **kwargs) -> DemoTrack:
    """Write the demo track (``track`` or ``synthesize_demo(**kwargs)``) as a 16-bit WAV.

    The file is written to a temporary name beside ``path`` and moved into place,
    so a failed write never leaves a partial file. Returns the track.
    """
    import soundfile as sf

    if track is None:
        track = synthesize_demo(**kwargs)
    with atomic_path(path, suffix=".wav") as tmp:
        sf.write(tmp, track.audio, track.sr, subtype="PCM_16", format="WAV")
    return track


# --- instruments -------------------------------------------------------------

def _is_backbeat(beat: int, meter: int) -> bool:
    return beat % 2 == 1 if meter % 2 == 0 else beat > 0


def _add(out: np.ndarray, sample: np.ndarray, t: float, sr: int, gain: float) -> None:
    i = int(round(t * sr))
    stop = min(len(out), i + len(sample))
    if i < stop:
        out[i:stop] += gain * sample[: stop - i]


def _kick(sr: int) -> np.ndarray:
    """A decaying sine sweep 150 → 45 Hz."""
    t = np.arange(int(0.35 * sr)) / sr
    freq = 45 + 105 * np.exp(-t / 0.04)
    phase = 2 * np.pi * np.cumsum(freq) / sr
    click = np.exp(-t / 0.002) * 0.3
    return np.sin(phase) * np.exp(-t / 0.09) + click


def _snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    """Band-limited noise plus a 185 Hz body."""
    from scipy.signal import butter, sosfilt

    t = np.arange(int(0.22 * sr)) / sr
    noise = sosfilt(butter(2, [1500, min(8000, 0.45 * sr)], btype="band", fs=sr, output="sos"),
                    rng.standard_normal(len(t)))
    return noise * np.exp(-t / 0.05) * 1.6 + np.sin(2 * np.pi * 185 * t) * np.exp(-t / 0.03) * 0.5


def _hat(sr: int, rng: np.random.Generator) -> np.ndarray:
    """High-passed noise with a fast decay."""
    from scipy.signal import butter, sosfilt

    t = np.arange(int(0.06 * sr)) / sr
    noise = sosfilt(butter(4, min(7000, 0.4 * sr), btype="high", fs=sr, output="sos"),
                    rng.standard_normal(len(t)))
    return noise * np.exp(-t / 0.012)


def _midi_hz(note: float) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def _saw(freq: float, n: int, sr: int, harmonics: int) -> np.ndarray:
    """Additive saw-ish tone (1/k partials, none above Nyquist)."""
    t = np.arange(n) / sr
    wave = np.zeros(n)
    for k in range(1, harmonics + 1):
        if k * freq >= 0.45 * sr:
            break
        wave += np.sin(2 * np.pi * k * freq * t) / k
    return wave


def _envelope(n: int, sr: int, attack: float, release: float) -> np.ndarray:
    env = np.ones(n)
    a, r = min(n, int(attack * sr)), min(n, int(release * sr))
    if a:
        env[:a] = np.linspace(0, 1, a)
    if r:
        env[n - r:] *= np.linspace(1, 0, r)
    return env


def _bass_bar(out, root, t0, spb, meter, sr, busy):
    """Root on each beat (and the fifth on off-beats when ``busy``)."""
    step = spb / 2 if busy else spb
    for i in range(int(round(meter * spb / step))):
        note = root + (7 if busy and i % 2 else 0)
        n = int(0.9 * step * sr)
        tone = _saw(_midi_hz(note), n, sr, 6) * _envelope(n, sr, 0.005, 0.03)
        tone *= np.exp(-np.arange(n) / sr / (step * 1.5))
        _add(out, tone, t0 + i * step, sr, 0.35)


def _pad(out, root, quality, t0, dur, sr, gain):
    n = int(dur * sr)
    env = _envelope(n, sr, 0.08, 0.15)
    for iv in _INTERVALS[quality]:
        _add(out, _saw(_midi_hz(root + iv), n, sr, 4) * env, t0, sr, gain)


def _stab(out, root, quality, t, dur, sr, gain):
    n = int(dur * sr)
    env = _envelope(n, sr, 0.003, 0.02) * np.exp(-np.arange(n) / sr / (dur * 0.6))
    for iv in _INTERVALS[quality]:
        _add(out, _saw(_midi_hz(root + iv), n, sr, 10) * env, t, sr, gain)
