"""Beat tracking for choreography: tempo, beat times, meter and downbeats.

The method, each step a small explicit function:

1. **Activations** (:mod:`.activation`): a dilated convolution network reads a
   log-mel spectrogram (23 ms frames) and gives, per frame, the probability of
   a beat and of a downbeat. The beat it learned is the pulse a dancer counts:
   the quarter note in 4/4 and 3/4, the dotted quarter in 6/8 and 12/8.
2. **Beats** (:func:`.beatpath.beat_frames`): a hidden Markov model over beat
   period and position in the beat (55-215 BPM), decoded by Viterbi, follows
   the activation through drifts, ramps and steps of tempo; each beat is then
   placed between frames on the activation's parabolic peak
   (:func:`.beatpath.refine`).
3. **Bars and meter** (:func:`.beatpath.bar_positions`): a second model over
   the beats, (beats per bar in 2, 3, 4; position in the bar), observed
   through the downbeat activation at each beat and the change of harmony
   there (:func:`.beatpath.chord_change`: chords change on bar lines); a bar
   may change its length, rarely (medleys).
4. **Tempo stretches**: the log beat intervals are cut into pieces of steady
   tempo by optimal partitioning (a BIC-like cost per piece scaled by the
   intervals' own jitter); neighbours less than ``MIN_CHANGE`` apart merge. A
   steady song is one stretch; ``BeatMap.tempo`` and ``meter`` are the longest
   stretch's (tempo from a line fit of beat time against beat index), and
   ``BeatMap.tempo_changes`` lists each stretch's (first beat, tempo).
5. **Pulse override**: ``"halve"`` keeps every other beat (on the downbeats'
   parity), ``"double"`` adds the midpoints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ChoreoInputError
from ..progress import ProgressFn, report
from . import beatpath, spectral

#: Shortest audio tracked: one 4/4 bar at 70 BPM (s).
MIN_SECONDS = 4 * 60.0 / 70.0
#: Neighbouring stretches whose tempi differ less than this (relative) are one stretch.
MIN_CHANGE = 0.04
#: Shortest stretch of steady tempo, in beats.
MIN_STRETCH = 8
#: Cost of a new stretch in units of the beat intervals' jitter variance, times log(n).
STRETCH_COST = 4.0


@dataclass
class BeatMap:
    """Result of :func:`track_beats`.

    Attributes
    ----------
    tempo : float
        Tempo of the returned beat level in BPM; where the tempo changes, that
        of the longest stretch.
    beats : np.ndarray
        Beat times in seconds from the start of the audio given (float64).
    downbeats : np.ndarray
        First beat of each bar, seconds (a subset of ``beats``).
    meter : int
        Beats per bar (of the longest stretch).
    tempo_changes : list of (float, float)
        Empty for a song of one tempo; else ``(time, bpm)`` for each stretch of
        steady tempo, in order, ``time`` being its first beat.
    """

    tempo: float
    beats: np.ndarray
    downbeats: np.ndarray
    meter: int
    tempo_changes: list = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready dict with keys ``tempo``, ``beats``, ``downbeats``, ``meter``,
        and ``tempo_changes`` (``[[time, bpm], ...]``) only where the tempo changes."""
        d = {"tempo": round(float(self.tempo), 3),
             "beats": [round(float(b), 4) for b in self.beats],
             "downbeats": [round(float(b), 4) for b in self.downbeats],
             "meter": int(self.meter)}
        if self.tempo_changes:
            d["tempo_changes"] = [[round(float(t), 4), round(float(b), 3)] for t, b in self.tempo_changes]
        return d


# --------------------------------------------------------------------------- features

def _log_mel(y: np.ndarray, sr: int, hop_length: int, n_mels: int = 64) -> tuple[np.ndarray, np.ndarray]:
    S = spectral.melspectrogram(np.asarray(y, dtype=np.float32), sr, n_fft=4 * hop_length,
                                hop_length=hop_length, n_mels=n_mels, fmax=sr / 2)
    return spectral.power_to_db(S, ref=np.max, top_db=80.0), spectral.mel_frequencies(n_mels, fmax=sr / 2)


def positive_flux(L: np.ndarray) -> np.ndarray:
    """Half-wave rectified first difference along time (per mel band)."""
    return np.maximum(0.0, np.diff(L, axis=1, prepend=L[:, :1]))


def onset_envelope(y: np.ndarray, sr: int, hop_length: int = 512) -> np.ndarray:
    """Mean-aggregated spectral-flux onset strength, one value per hop.

    The mean over mel bands (rather than librosa's default median) keeps sparse
    percussion - a kick and a hi-hat hit touch few bands - in the envelope.
    """
    L, _ = _log_mel(y, sr, hop_length)
    return positive_flux(L).mean(axis=0)


# --------------------------------------------------------------------------- API

def track_beats(y: np.ndarray, sr: int, *, pulse: str = "auto", progress: ProgressFn | None = None,
                name: str | None = None, weights=None) -> BeatMap:
    """Track beats, tempo, meter and downbeats of a mono signal.

    Parameters
    ----------
    y : np.ndarray
        Mono audio.
    sr : int
        Sample rate.
    pulse : {"auto", "halve", "double"}
        Metrical level: ``"auto"`` the pulse a dancer counts; ``"halve"`` /
        ``"double"`` return half / twice that many beats.
    progress : ProgressFn, optional
        Called with (fraction, label).
    name : str, optional
        File name used in error messages.
    weights : path, optional
        Activation network weights; None = the shipped ``beats``.

    Raises
    ------
    ChoreoInputError
        If ``pulse`` is unknown or the audio is shorter than one bar.
    """
    from .activation import CHROMA, FPS, BeatActivation, beat_input

    if pulse not in ("auto", "halve", "double"):
        raise ChoreoInputError(name, f"pulse must be 'auto', 'halve' or 'double', not {pulse!r}")
    y = np.asarray(y, dtype=np.float32).ravel()
    if y.size < MIN_SECONDS * sr:
        raise ChoreoInputError(name, f"audio is {y.size / sr:.2f} s long; beat tracking needs at "
                                     f"least one bar ({MIN_SECONDS:.1f} s)")
    report(progress, 0.0, "activations")
    x = beat_input(y, sr)
    act = BeatActivation.load(weights).probabilities(x)
    report(progress, 0.6, "beats")
    frames = beatpath.beat_frames(act[:, 0], FPS)
    beats = beatpath.refine(act[:, 0], frames) / FPS
    report(progress, 0.9, "bars")
    near = np.clip(frames[:, None] + np.arange(-1, 2)[None, :], 0, len(act) - 1)
    pos, meters = beatpath.bar_positions(act[near, 1].max(axis=1), harmony=beatpath.chord_change(x[:, CHROMA], frames))
    report(progress, 1.0, "done")
    return _beat_map(beats, pos, meters, pulse)


def _beat_map(beats: np.ndarray, pos: np.ndarray, meters: np.ndarray, pulse: str) -> BeatMap:
    """BeatMap of beat times with their bar positions and bar lengths."""
    if pulse == "double" and len(beats) > 1:
        mids = (beats[:-1] + beats[1:]) / 2
        beats = np.sort(np.r_[beats, mids])
        pos = np.repeat(pos, 2)[: len(beats)] * 2 + np.tile([0, 1], len(pos))[: len(beats)]
        meters = np.repeat(meters, 2)[: len(beats)] * 2
    elif pulse == "halve" and len(beats) > 1:
        i0 = int(np.argmax(pos == 0))  # the downbeats' parity
        keep = (np.arange(len(beats)) - i0) % 2 == 0
        even = meters % 2 == 0  # 4 -> 2 per bar; an odd bar keeps its length in half pulses
        beats, pos, meters = beats[keep], np.where(even, pos // 2, pos)[keep], np.where(even, meters // 2, meters)[keep]
    bounds = stretch_bounds(beats)
    stretches = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        bt = beats[a:b]
        tempo = 60.0 / float(np.polyfit(np.arange(len(bt)), bt, 1)[0]) if len(bt) > 2 else (
            60.0 / float(np.diff(bt).mean()) if len(bt) > 1 else 0.0)
        m = np.bincount(meters[a:b]).argmax() if b > a else 4
        stretches.append((b - a, float(bt[0]) if len(bt) else 0.0, tempo, int(m)))
    _, _, tempo, meter = max(stretches, key=lambda s: s[0]) if stretches else (0, 0.0, 0.0, 4)
    changes = [(t, bpm) for _, t, bpm, _ in stretches] if len(stretches) > 1 else []
    return BeatMap(tempo=float(tempo), beats=beats, downbeats=beats[pos == 0], meter=int(meter),
                   tempo_changes=changes)


def stretch_bounds(beats: np.ndarray, min_change: float = MIN_CHANGE, min_len: int = MIN_STRETCH,
                   cost: float = STRETCH_COST) -> list[int]:
    """Beat indices ``[0, ..., len(beats)]`` bounding stretches of steady tempo.

    Optimal partitioning of the log beat intervals into pieces of constant mean
    (squared error plus ``cost * sigma^2 * log(n)`` per piece, sigma the
    intervals' jitter from their first differences, robustly), each at least
    ``min_len`` intervals; then neighbours whose tempi differ less than
    ``min_change`` are merged.
    """
    n = len(beats)
    if n < 2 * min_len + 2:
        return [0, n]
    x = np.log(np.diff(beats))
    m = len(x)
    sigma2 = (1.4826 * np.median(np.abs(np.diff(x) - np.median(np.diff(x))))) ** 2 / 2
    sigma2 = max(sigma2, 0.005 ** 2)  # at least 0.5 % jitter (a perfect grid)
    beta = cost * sigma2 * np.log(m)
    c1, c2 = np.r_[0.0, np.cumsum(x)], np.r_[0.0, np.cumsum(x * x)]
    F = np.full(m + 1, np.inf)
    F[0] = -beta
    last = np.zeros(m + 1, np.int64)
    for e in range(min_len, m + 1):
        s = np.arange(0, e - min_len + 1)
        s = s[np.isfinite(F[s])]
        k = e - s
        sse = (c2[e] - c2[s]) - (c1[e] - c1[s]) ** 2 / k
        v = F[s] + sse + beta
        j = int(v.argmin())
        F[e], last[e] = v[j], s[j]
    cuts = [m]
    while cuts[-1] > 0:
        cuts.append(int(last[cuts[-1]]))
    cuts = cuts[::-1]  # interval indices
    merged = True
    while merged and len(cuts) > 2:
        means = [x[a:b].mean() for a, b in zip(cuts[:-1], cuts[1:])]
        gaps = np.abs(np.diff(means))
        k = int(gaps.argmin())
        merged = gaps[k] < np.log1p(min_change)
        if merged:
            del cuts[k + 1]
    # interval i runs from beat i to beat i + 1: a stretch starting at interval c starts at beat c
    return [0, *cuts[1:-1], n]


# --------------------------------------------------------------------------- evaluation

def f_measure(reference: np.ndarray, estimated: np.ndarray, window: float = 0.07) -> float:
    """Beat F-measure (mir_eval's definition, no trimming): greedy one-to-one
    matching of estimated to reference beats within ``window`` seconds,
    closest pairs first; F = 2PR/(P+R). 0 when either list is empty."""
    ref = np.asarray(reference, dtype=float).ravel()
    est = np.asarray(estimated, dtype=float).ravel()
    if ref.size == 0 or est.size == 0:
        return 0.0
    d = np.abs(ref[:, None] - est[None, :])
    i, j = np.nonzero(d <= window)
    order = np.argsort(d[i, j], kind="stable")
    used_r = np.zeros(ref.size, bool)
    used_e = np.zeros(est.size, bool)
    hits = 0
    for k in order:
        if not used_r[i[k]] and not used_e[j[k]]:
            used_r[i[k]] = used_e[j[k]] = True
            hits += 1
    if hits == 0:
        return 0.0
    p, r = hits / est.size, hits / ref.size
    return 2 * p * r / (p + r)
