"""Beat tracking for choreography: tempo, beat times, meter and downbeats.

Dance music makes two choices hard: the *metrical level* (a tracker locks to
the eighths of a slow ballad or the half notes of a polka) and the *phase*
(off-beat hi-hats or bass can be louder than the beats). The method:

1. **Features** - one log-mel spectrogram gives spectral-flux onset envelopes:
   full band (mean over mel bands, keeps sparse percussion), mid band
   (150-2000 Hz: snare, chords) and the low band (< 150 Hz) of the harmonic
   part of a median-filter HPSS (bass *notes*, not kicks); plus a chroma-gram.
2. **Tempo family** - the envelope autocorrelation on an octave-folded comb
   (a lag and its half) gives the base tempo X in 70-140 BPM, octave undecided.
   **Tempo changes** (medleys, DJ mixes): the same score on 16 s windows every
   4 s, followed by a Viterbi path (slow drift free, a jump costs
   ``CHANGE_COST``), cuts the song into stretches of steady tempo (neighbours
   >= ``MIN_CHANGE`` apart; a song of one tempo is one stretch, and every step
   below is then exactly the single-tempo method). Each change is then placed
   to ~0.3 s by a CUSUM of the onset products across a beat at the two periods.
   Steps 3-7 run per stretch; changes by exactly an octave (72 -> 144) are not
   seen (the family is folded) and get one level.
3. **Precise period** - a global comb fit (period and phase jointly maximising
   the onset strength summed at phi + k*P, period steps of 0.05 %) sharpens
   X's period ~50x beyond the autocorrelation peak (fitted away from changes).
4. **Pulse** - dynamic programming (Ellis 2007) tracks the 2X pulse at that
   period. At 2X beats and off-beats both carry onsets, so the path does not
   slip between them (at X it can); the DP still follows tempo drift (a 15 %
   glide in 40 s). Through a change, each stretch's DP may continue the
   previous stretch's path within 2 s of it, so one path runs on and the join
   sits on the onsets: no beat lost or doubled there.
5. **Phase** - which parity of the 2X pulses holds the beats is voted by two
   independent cues, each a log contrast (beats vs the midpoints between them):
   broadband onset strength (accents) and harmonic change (chroma novelty
   half a beat either side; chords change on beats).
6. **Level** - when 2X is danceable (<= 180 BPM) the weak pulses are beats if
   their bass-note or mid-band onsets reach ``SUBDIVISION_RATIO`` of the strong
   pulses'; otherwise they are decoration (hi-hats, shakers) and X is the beat.
   At 2X the phase vote is repeated against the eighth-note off-beats.
7. **Meter and downbeats** - chroma novelty per beat over one- and two-beat
   contexts (a chord change at a bar start outscores passing changes); the
   meter (3 or 4) and bar phase whose first beats stand out most win.
8. **Tempo** - a line fit of beat time against beat index, per stretch;
   ``BeatMap.tempo`` and ``meter`` are the longest stretch's, and
   ``BeatMap.tempo_changes`` lists each stretch's (first beat, tempo).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ChoreoInputError
from ..progress import ProgressFn, report
from . import spectral

#: Quarter-note tempo range (BPM) a choreographer can step to.
MIN_BPM, MAX_BPM = 70.0, 180.0
#: Weak pulses whose bass-note and mid-band onsets stay below this fraction of
#: the strong pulses' are subdivisions, not beats. On the 24 benchmark tracks
#: the ratio is <= 0.47 where X is the beat and >= 0.67 where 2X is; 0.55 sits
#: between them.
SUBDIVISION_RATIO = 0.55
#: Transition penalty of the beat DP (librosa's ``tightness``).
TIGHTNESS = 100.0
_BANDS_HZ = (150.0, 2000.0)
#: Candidate base tempi X: one octave from MIN_BPM in steps of 1/600 octave (0.12 %).
_FAMILY_BPM = MIN_BPM * 2.0 ** (np.arange(0, 1, 1 / 600.0))
#: The local tempo is scored on windows this long (s), one every hop (s).
TEMPO_WINDOW_S, TEMPO_HOP_S = 16.0, 4.0
#: Cost of a tempo change in window scores (each window's span 0..1): a new
#: tempo must fit several windows clearly better. The 24 benchmark tracks show
#: no change even at 0.3.
CHANGE_COST = 1.5
#: Local tempo drift followed for free per hop, in 1/600 octave (0.12 %).
DRIFT_BINS = 1
#: Smaller changes stay in one stretch: the beat DP follows them anyway.
MIN_CHANGE = 0.04
#: Neighbouring stretches' beat DPs overlap by this much (s) either side of a
#: change, so the DP puts the join on the onsets.
JOIN_S = 2.0


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

def _hop(sr: int) -> int:
    """Hop of ~23 ms (512 samples at 22.05 kHz), scaled with the sample rate."""
    return max(64, int(round(512 * sr / 22050 / 64)) * 64)


def _log_mel(y: np.ndarray, sr: int, hop_length: int, n_mels: int = 64) -> tuple[np.ndarray, np.ndarray]:
    S = spectral.melspectrogram(np.asarray(y, dtype=np.float32), sr, n_fft=4 * hop_length,
                                hop_length=hop_length, n_mels=n_mels, fmax=sr / 2)
    return spectral.power_to_db(S, ref=np.max, top_db=80.0), spectral.mel_frequencies(n_mels, fmax=sr / 2)


def _flux(L: np.ndarray) -> np.ndarray:
    """Half-wave rectified first difference along time (per mel band)."""
    return np.maximum(0.0, np.diff(L, axis=1, prepend=L[:, :1]))


def onset_envelope(y: np.ndarray, sr: int, hop_length: int = 512) -> np.ndarray:
    """Mean-aggregated spectral-flux onset strength, one value per hop.

    The mean over mel bands (rather than librosa's default median) keeps sparse
    percussion - a kick and a hi-hat hit touch few bands - in the envelope.
    """
    L, _ = _log_mel(y, sr, hop_length)
    return _flux(L).mean(axis=0)


# --------------------------------------------------------------------------- tempo

def _autocorr(env: np.ndarray, fps: float) -> np.ndarray:
    """Normalised autocorrelation of the envelope minus its 1 s moving average."""
    w = max(1, int(round(fps)))
    e = env - np.convolve(env, np.ones(w) / w, mode="same")
    n = len(e)
    a = np.fft.irfft(np.abs(np.fft.rfft(e, 2 * n)) ** 2)[:n]
    return a / max(a[0], 1e-12)


def _family_score(a: np.ndarray, fps: float) -> np.ndarray:
    """Score of each candidate X in :data:`_FAMILY_BPM`: the autocorrelation ``a``
    at its period plus at half of it (the 2X pulse), linearly interpolated."""
    s = np.zeros(len(_FAMILY_BPM))
    for lag in (60 * fps / _FAMILY_BPM, 30 * fps / _FAMILY_BPM):
        i = lag.astype(int)
        f = lag - i
        ok = i + 1 < len(a)
        i = np.where(ok, i, 0)
        s += np.where(ok, (1 - f) * a[i] + f * a[i + ok], 0.0)
    return s


def tempo_family(env: np.ndarray, fps: float) -> float:
    """Base tempo X in [MIN_BPM, 2*MIN_BPM) of the envelope's period family.

    Each candidate X is scored by the autocorrelation at its period and at half
    of it (the 2X pulse), so a track whose eighths or half notes dominate still
    lands on the same family; the octave is decided later.
    """
    return float(_FAMILY_BPM[int(np.argmax(_family_score(_autocorr(env, fps), fps)))])


def tempo_stretches(env: np.ndarray, fps: float) -> list[int]:
    """Frames where the tempo changes for good (empty for a song of one tempo),
    each within about half a window of the change (see :func:`_refine_change`).

    The tempo family is scored on windows of ``TEMPO_WINDOW_S`` every
    ``TEMPO_HOP_S`` (each window's scores scaled to 0..1), and a Viterbi path
    through the folded octave follows it: drift of up to ``DRIFT_BINS`` per hop
    is free, any other step costs ``CHANGE_COST``, so one odd window (a break,
    a fill) never moves it. The path's steps cut it into runs; neighbouring
    runs less than ``MIN_CHANGE`` apart are merged, closest first.
    """
    w, h = int(round(TEMPO_WINDOW_S * fps)), int(round(TEMPO_HOP_S * fps))
    starts = np.arange(0, len(env) - w + 1, h)
    if len(starts) < 3:
        return []
    S = np.stack([_family_score(_autocorr(env[a:a + w], fps), fps) for a in starts])
    S = (S - S.min(axis=1, keepdims=True)) / (np.ptp(S, axis=1, keepdims=True) + 1e-12)
    path = _tempo_path(S)
    m = len(_FAMILY_BPM)

    def gap(x, y):  # octaves between two bins; the folded octave is a circle (70 BPM sits next to 139.9)
        d = abs(x - y) % m
        return min(d, m - d) / m

    def centre(i, j):  # median bin of windows i..j-1, unwrapped around the first
        rel = (path[i:j] - path[i] + m // 2) % m - m // 2
        return (path[i] + float(np.median(rel))) % m

    steps = [gap(x, y) * m > DRIFT_BINS for x, y in zip(path[:-1], path[1:])]
    edges = [0, *(np.nonzero(steps)[0] + 1), len(path)]
    while len(edges) > 2:
        gaps = [gap(centre(edges[k - 1], edges[k]), centre(edges[k], edges[k + 1]))
                for k in range(1, len(edges) - 1)]
        k = int(np.argmin(gaps))
        if gaps[k] >= np.log2(1 + MIN_CHANGE):
            break
        del edges[k + 1]
    return [int(round((starts[i - 1] + starts[i] + w) / 2)) for i in edges[1:-1]]


def _refine_change(env: np.ndarray, lo: int, hi: int, p0: float, p1: float) -> int:
    """The frame in [lo, hi) where period ``p1`` takes over from ``p0`` (X-level
    beat periods, frames): the split maximising the envelope's products across
    a beat and across half a beat, e(t - q/2) * e(t + q/2) for q = p and p/2,
    summed at ``p0`` before it and at ``p1`` after (a CUSUM change point; the
    products are centred on t, so the estimate is not late). Within ~0.3 s on
    the medleys, where the windowed family placed changes up to 7 s off."""
    w = max(1, int(round(2 * max(p0, p1))))
    a, b = max(0, lo - w), min(len(env), hi + w)
    seg = env[a:b] - np.convolve(env[a:b], np.ones(w) / w, mode="same")
    t = np.arange(len(seg), dtype=float)

    def at(x):
        return np.interp(x, t, seg, left=0.0, right=0.0)

    def fit(p):
        return sum(at(t - q / 2) * at(t + q / 2) for q in (p, p / 2))

    d = (fit(p0) - fit(p1))[lo - a:hi - a]
    return lo + int(np.argmax(np.r_[0.0, np.cumsum(d)]))


def _tempo_path(S: np.ndarray) -> np.ndarray:
    """Bins (circular) maximising the summed window scores ``S`` (windows x bins)
    less ``CHANGE_COST`` per step beyond ``DRIFT_BINS``."""
    n, m = S.shape
    bins = np.arange(m)
    shifts = np.arange(-DRIFT_BINS, DRIFT_BINS + 1)
    best, back = S[0].copy(), np.zeros((n, m), dtype=int)
    for i in range(1, n):
        near = np.stack([np.roll(best, d) for d in shifts])  # near[j, b] = best[b - shifts[j]]
        j = near.argmax(axis=0)
        stay, src = near[j, bins], (bins - shifts[j]) % m
        g = int(np.argmax(best))
        jump = stay < best[g] - CHANGE_COST
        back[i] = np.where(jump, g, src)
        best = np.where(jump, best[g] - CHANGE_COST, stay) + S[i]
    path = [int(np.argmax(best))]
    for i in range(n - 1, 0, -1):
        path.append(int(back[i, path[-1]]))
    return np.array(path[::-1])


# --------------------------------------------------------------------------- beat DP

def _local_max(env: np.ndarray, frames: np.ndarray, w: int = 1) -> np.ndarray:
    idx = np.clip(np.asarray(frames, dtype=int), 0, len(env) - 1)
    return np.max([env[np.clip(idx + d, 0, len(env) - 1)] for d in range(-w, w + 1)], axis=0)


def dp_beats(env: np.ndarray, period: float, tightness: float = TIGHTNESS) -> np.ndarray:
    """Beat frames by dynamic programming (Ellis 2007) for a fixed ``period`` in frames.

    Maximises the sum of normalised onset strength at the beats minus
    ``tightness * log(interval / period)**2`` per interval.
    """
    return _dp_stretches(env, [period], [(0, len(env))], tightness)


def _dp_stretches(env: np.ndarray, periods, spans, tightness: float = TIGHTNESS) -> np.ndarray:
    """:func:`dp_beats` through stretches of different tempo: one path of beat frames.

    Stretch k has period ``periods[k]`` on frames ``spans[k]`` = [lo, hi); spans
    of neighbours overlap where the change may lie. A path in stretch k may come
    from stretch k-1 (an interval near either period costs nothing), so the DP
    itself places each join on the onsets and keeps one beat path through it.
    """
    base = env / (np.std(env) + 1e-12)
    n = len(env)
    scores, backs, lagss = [], [], []  # per stretch, over its span; back = stretch * n + frame
    for k, (period, (lo, hi)) in enumerate(zip(periods, spans)):
        w = int(round(period))
        a, b = max(0, lo - w), min(n, hi + w)
        e = (base[a:b] - np.convolve(base[a:b], np.ones(w) / w, mode="same"))[lo - a:hi - a]  # local mean off
        lags = np.arange(int(round(period / 2)), int(round(2 * period)) + 1)
        pen = -tightness * np.log(lags / period) ** 2
        sc, bk = e.copy(), np.full(hi - lo, -1)
        if k:  # joins: intervals from the previous stretch's beats, near either period
            (plo, phi), psc, pl = spans[k - 1], scores[-1], lagss[-1]
            jl = np.arange(min(pl[0], lags[0]), max(pl[-1], lags[-1]) + 1)
            jpen = -tightness * np.minimum(np.log(jl / periods[k - 1]) ** 2, np.log(jl / period) ** 2)
        for t in range(lo + lags[0] if not k else lo, hi):
            prev = t - lags
            ok = prev >= lo
            cand = sc[prev[ok] - lo] + pen[ok]
            src = prev[ok] + k * n
            if k and t - jl[-1] < phi:
                jp = t - jl
                jok = (jp >= plo) & (jp < phi)
                cand = np.r_[cand, psc[jp[jok] - plo] + jpen[jok]]
                src = np.r_[src, jp[jok] + (k - 1) * n]
            if not len(cand):  # before the stretch's first possible interval
                continue
            j = int(np.argmax(cand))
            if cand[j] > 0:
                sc[t - lo] = e[t - lo] + cand[j]
                bk[t - lo] = src[j]
        scores.append(sc)
        backs.append(bk)
        lagss.append(lags)
    # End on the best-scoring frame within the last period.
    lo, hi = spans[-1]
    tail = np.arange(max(lo, hi - int(round(periods[-1]))), hi)
    t = int(tail[np.argmax(scores[-1][tail - lo])]) + (len(periods) - 1) * n
    out = []
    while t >= 0:
        out.append(t)
        t = backs[t // n][t % n - spans[t // n][0]]
    return np.array(out[::-1], dtype=int) % n


# --------------------------------------------------------------------------- meter

def _chroma_novelty(chroma: np.ndarray, beat_frames: np.ndarray, span: int = 1) -> np.ndarray:
    """Harmonic change at each beat: cosine distance between the mean chroma of
    the ``span`` beats before it and the ``span`` beats after it.

    With ``span=2`` a chord change at a bar start outscores the passing
    changes of a walking bass or an anticipated chord.
    """
    bounds = np.r_[0, beat_frames, chroma.shape[1]]
    seg = np.stack([chroma[:, a:max(b, a + 1)].mean(axis=1) for a, b in zip(bounds[:-1], bounds[1:])], axis=1)
    cs = np.concatenate([np.zeros((seg.shape[0], 1)), np.cumsum(seg, axis=1)], axis=1)
    # segment j spans beats j-1..j, so beat i lies between segments i and i+1
    i = np.arange(len(beat_frames))
    u = cs[:, i + 1] - cs[:, np.maximum(0, i - span + 1)]
    v = cs[:, np.minimum(seg.shape[1], i + 1 + span)] - cs[:, i + 1]
    return 1.0 - np.sum(u * v, axis=0) / (np.linalg.norm(u, axis=0) * np.linalg.norm(v, axis=0) + 1e-9)


def estimate_meter(beat_feats: np.ndarray, meters=(3, 4)) -> tuple[int, int]:
    """(meter, phase) whose bar-first beats stand out most.

    ``beat_feats`` is (n_feat, n_beats), each feature standardised. For each
    meter and phase, contrast = mean at the phase minus mean elsewhere, summed
    over features; meters are compared by contrast over the pooled std.
    """
    best = (-np.inf, 4, 0)
    n = beat_feats.shape[1]
    for m in meters:
        if n < 2 * m:
            continue
        for ph in range(m):
            on = np.zeros(n, bool)
            on[ph::m] = True
            c = float(np.sum(beat_feats[:, on].mean(axis=1) - beat_feats[:, ~on].mean(axis=1)))
            if c > best[0]:
                best = (c, m, ph)
    return best[1], best[2]


# --------------------------------------------------------------------------- API

def track_beats(y: np.ndarray, sr: int, *, pulse: str = "auto", progress: ProgressFn | None = None,
                name: str | None = None) -> BeatMap:
    """Track beats, tempo, meter and downbeats of a mono signal.

    Parameters
    ----------
    y : np.ndarray
        Mono audio.
    sr : int
        Sample rate.
    pulse : {"auto", "halve", "double"}
        Metrical level: ``"auto"`` picks the quarter note in 70-180 BPM;
        ``"halve"``/``"double"`` return half / twice that many beats.
    progress : ProgressFn, optional
        Called with (fraction, label).
    name : str, optional
        File name used in error messages.

    Raises
    ------
    ChoreoInputError
        If ``pulse`` is unknown or the audio is shorter than one bar.
    """
    if pulse not in ("auto", "halve", "double"):
        raise ChoreoInputError(name, f"pulse must be 'auto', 'halve' or 'double', not {pulse!r}")
    y = np.asarray(y, dtype=np.float32).ravel()
    min_s = 4 * 60.0 / MIN_BPM  # one 4/4 bar at the slowest tempo
    if y.size < min_s * sr:
        raise ChoreoInputError(name, f"audio is {y.size / sr:.2f} s long; beat tracking needs at "
                                     f"least one bar ({min_s:.1f} s)")
    hop = _hop(sr)
    fps = sr / hop
    report(progress, 0.0, "onsets")
    feats = _features(y, sr, hop)
    env = feats["full"]
    n = len(env)
    report(progress, 0.4, "tempo")
    bounds, periods = _plan_stretches(env, fps)
    join = int(round(JOIN_S * fps))
    spans = [(max(0, lo - join), min(n, hi + join)) for lo, hi in zip(bounds[:-1], bounds[1:])]
    # Track the 2X pulse: at that level every beat and off-beat carries onsets, so
    # the DP stays on one grid; then each stretch decides its level and phase.
    frames = _dp_stretches(env, [p / 2 for p in periods], spans)
    report(progress, 0.7, "meter")
    # Each pulse belongs to the stretch its time falls in: at a join the DP's own
    # choice of stretch is arbitrary (the interval fits either period there).
    which = np.searchsorted(bounds, frames, side="right") - 1
    parts = [(frames[which == k], periods[k]) for k in range(len(periods)) if np.any(which == k)]
    cuts = [0]  # each stretch's features end half-way to the next one's first pulse
    for (a, _), (b, _) in zip(parts[:-1], parts[1:]):
        cuts.append((int(a[-1]) + int(b[0])) // 2 + 1)
    cuts.append(n)
    beats, downbeats, stretches = [], [], []
    for (part, period), a, b in zip(parts, cuts[:-1], cuts[1:]):
        sub = feats if (a, b) == (0, n) else {key: v[..., a:b] for key, v in feats.items()}
        fr, tempo, meter, phase = _stretch_beats(sub, part - a, period, fps, pulse)
        bt = (fr + a).astype(np.float64) * hop / sr
        if len(bt) > 2:  # the tracked beats pin the tempo down (follows any drift the DP followed)
            tempo = 60.0 / float(np.polyfit(np.arange(len(bt)), bt, 1)[0])
        beats.append(bt)
        downbeats.append(bt[phase::meter])
        stretches.append((b - a, float(bt[0]) if len(bt) else a * hop / sr, float(tempo), meter))
    report(progress, 1.0, "done")
    _, _, tempo, meter = max(stretches, key=lambda s: s[0])
    changes = []
    for k, (_, t, bpm, _) in enumerate(stretches if len(stretches) > 1 else []):
        if k and len(beats[k]) and len(beats[k - 1]):  # the join beat opens the new tempo's first interval
            gap = beats[k][0] - beats[k - 1][-1]
            if abs(np.log(gap * bpm / 60)) < abs(np.log(gap * stretches[k - 1][2] / 60)):
                t = float(beats[k - 1][-1])
        changes.append((t, bpm))
    return BeatMap(tempo=tempo, beats=np.concatenate(beats), downbeats=np.concatenate(downbeats),
                   meter=meter, tempo_changes=changes)


def _plan_stretches(env: np.ndarray, fps: float) -> tuple[list[int], list[float]]:
    """Stretch bounds ``[0, change, ..., n]`` (frames) and each stretch's X-level
    period (frames): steps 2-3 of the module doc."""
    n = len(env)
    bounds = [0, *tempo_stretches(env, fps), n]
    margin = int(round((TEMPO_WINDOW_S / 2 + TEMPO_HOP_S) * fps))  # how far off a change may be found
    periods = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):  # fitted away from the changes
        c = min(margin, (hi - lo) // 4)
        core = env[lo + (c if lo else 0):hi - (c if hi < n else 0)]
        periods.append(comb_period(core, 60 * fps / tempo_family(core, fps)))
    for k in range(1, len(bounds) - 1):
        lo, hi = max(bounds[k] - margin, bounds[k - 1]), min(bounds[k] + margin, bounds[k + 1])
        bounds[k] = _refine_change(env, lo, hi, periods[k - 1], periods[k])
    return bounds, periods


def _stretch_beats(feats: dict, frames: np.ndarray, period: float, fps: float,
                   pulse: str) -> tuple[np.ndarray, float, int, int]:
    """(beat frames, tempo, meter, bar phase) of one stretch of steady tempo from its
    2X pulse ``frames`` and X-level ``period``: steps 5-7 of the module doc."""
    strong = 0 if phase_score(feats, frames[0::2]) >= phase_score(feats, frames[1::2]) else 1
    if 60 * fps / (period / 2) <= MAX_BPM and _weak_pulse_ratio(feats, frames, strong) >= SUBDIVISION_RATIO:
        period = period / 2  # the weak pulses carry bass notes or snare/chords: they are beats
        frames = _fix_phase(feats, frames, period)
    else:
        frames = frames[strong::2]
    tempo = 60 * fps / period
    if pulse == "double":
        mids = ((frames[:-1] + frames[1:]) / 2).round().astype(int)
        frames, tempo = np.sort(np.r_[frames, mids]), 2 * tempo
    bf = np.stack([_chroma_novelty(feats["chroma"], frames, 1), _chroma_novelty(feats["chroma"], frames, 2)])
    bf = (bf - bf.mean(axis=1, keepdims=True)) / (bf.std(axis=1, keepdims=True) + 1e-9)
    meter, phase = estimate_meter(bf)
    if pulse == "halve":
        frames, tempo = frames[phase % 2::2], tempo / 2
        meter, phase = (2, 0) if meter == 4 else (meter, 0)
    return frames, tempo, meter, phase


def _features(y: np.ndarray, sr: int, hop: int) -> dict[str, np.ndarray]:
    """Onset envelopes (log-mel flux: full band, mid band; low band of the HPSS
    harmonic part) and the chroma-gram, all from one power spectrogram."""
    n_fft = 4 * hop
    # one power spectrogram, streamed: an hour's would be 640 MB
    S, chroma = spectral.mel_and_chroma(y, sr, n_fft=n_fft, hop_length=hop, n_mels=64, fmax=sr / 2)
    freqs = spectral.mel_frequencies(64, fmax=sr / 2)
    ref = max(float(S.max()), 1e-10)  # silence stays finite
    F = _flux(spectral.power_to_db(S, ref=ref, top_db=80.0))
    H, _ = spectral.hpss(S, kernel_size=17)  # sustained (pitched) part of the mel spectrogram
    Fh = _flux(spectral.power_to_db(H, ref=ref, top_db=80.0))
    lo, hi = _BANDS_HZ
    low, mid = freqs < lo, (freqs >= lo) & (freqs < hi)
    low, mid = (low if low.any() else freqs <= freqs[1]), (mid if mid.any() else freqs > 0)
    return {"full": F.mean(axis=0), "mid": F[mid].mean(axis=0), "hlow": Fh[low].mean(axis=0),
            "chroma": chroma}


def comb_period(env: np.ndarray, period: float, span: float = 0.03, step: float = 0.0005) -> float:
    """Period (frames, fractional) within +-``span`` of ``period`` whose pulse comb,
    at its best phase, collects the most onset strength.

    A global fit of period and phase to a constant-tempo stretch resolves the
    period to ``step`` (0.05 %), far finer than an autocorrelation peak, so a
    grid built from it stays on the beat over the whole track.
    """
    w = max(1, int(round(period)))
    e = env - np.convolve(env, np.ones(w) / w, mode="same")
    g = np.exp(-0.5 * np.arange(-3, 4) ** 2)
    e = np.convolve(e, g / g.sum(), mode="same")  # tolerate a frame of jitter
    t = np.arange(len(e))
    best, best_p = -np.inf, period
    for p in period * np.exp(np.arange(-span, span + step / 2, step)):
        k = int((len(e) - 1) // p)
        if k < 2:
            return period
        pos = np.arange(0.0, p, 0.25)[:, None] + p * np.arange(k)[None, :]
        s = float(np.interp(pos, t, e).mean(axis=1).max())
        if s > best:
            best, best_p = s, p
    return float(best_p)


def _nov_at(chroma: np.ndarray, frames: np.ndarray, w: float) -> np.ndarray:
    """Cosine distance between the mean chroma of ``w`` frames before and after each frame."""
    n = chroma.shape[1]
    cs = np.concatenate([np.zeros((chroma.shape[0], 1)), np.cumsum(chroma, axis=1)], axis=1)
    a = np.clip(np.round(frames).astype(int), 1, n - 1)
    w = max(1, int(round(w)))
    b0, b1 = np.maximum(0, a - w), np.minimum(n, a + w)
    u = (cs[:, a] - cs[:, b0]) / (a - b0)
    v = (cs[:, b1] - cs[:, a]) / (b1 - a)
    return 1.0 - np.sum(u * v, axis=0) / (np.linalg.norm(u, axis=0) * np.linalg.norm(v, axis=0) + 1e-9)


def phase_score(feats: dict, frames: np.ndarray) -> float:
    """Evidence that ``frames`` are beats rather than the off-beats between them.

    Sum of two log contrasts, beats vs midpoints: broadband onset strength
    (accents) and harmonic change (chroma novelty over half a beat on each
    side - chords change on beats). Positive favours ``frames``.
    """
    frames = np.asarray(frames)
    if len(frames) < 3:
        return 0.0
    mids = (frames[:-1] + frames[1:]) / 2
    on, off = frames[:-1], mids
    acc = np.log(_local_max(feats["full"], on).mean() + 1e-9) - np.log(_local_max(feats["full"], off).mean() + 1e-9)
    w = float(np.median(np.diff(frames))) / 2
    nov = np.log(_nov_at(feats["chroma"], on, w).mean() + 1e-9) - np.log(_nov_at(feats["chroma"], off, w).mean() + 1e-9)
    return float(acc + nov)


def _fix_phase(feats: dict, frames: np.ndarray, period: float) -> np.ndarray:
    """Shift the beats by half a beat when the midpoints score as beats (see :func:`phase_score`)."""
    if len(frames) < 4:
        return frames
    mids = ((frames[:-1] + frames[1:]) / 2).round().astype(int)
    if phase_score(feats, frames) >= phase_score(feats, mids):
        return frames
    extra = frames[-1] + int(round(period / 2))
    return np.r_[mids, extra] if extra < len(feats["full"]) else mids


def _weak_pulse_ratio(feats: dict, frames: np.ndarray, strong: int) -> float:
    """Max over the mid band (snare, chords) and the harmonic low band (bass
    notes) of the weak pulses' onset strength over the strong pulses'."""
    if len(frames) < 4:
        return 0.0
    ratios = []
    for band in ("mid", "hlow"):
        s = _local_max(feats[band], frames)
        ratios.append(s[1 - strong::2].mean() / max(s[strong::2].mean(), 1e-12))
    return float(max(ratios))


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
