"""Decoding beat and downbeat activations into beats, bars and meter (numpy).

Two hidden Markov models, each solved exactly by Viterbi:

1. **Beats** (:func:`beat_frames`): the bar-pointer state space of Whiteley,
   Cemgil & Godsill (2006) in the efficient form of Krebs, Böck & Widmer
   (2015), one beat long: a state is (tempo, frames since the beat); the
   position advances one frame per frame, and only at a beat may the tempo
   change, with probability ``exp(-TEMPO_LAMBDA * |ratio - 1|)``. A tempo's
   period is fractional (states ``TEMPO_STEP`` apart): its beats come the whole
   frame counts either side of it apart, in proportion, so a fast tempo is
   not forced to pay for a tempo change at every beat (at 43 frames a second,
   158 BPM is 16.35 frames).
   The first ``1 / OBS_LAMBDA`` of each beat is "beat" (observed through the
   activation ``a``), the rest "no beat" (observed through ``(1 - a) /
   (OBS_LAMBDA - 1)``). The path follows drifts, ramps and steps of tempo.
2. **Bars** (:func:`bar_positions`): over the tracked beats, a state is (beats
   per bar m in ``METERS``, position in the bar); the position advances one per
   beat, and a bar may change its length at its end with probability
   ``METER_CHANGE``. A bar's first beat is observed through the downbeat
   activation there, the others through its complement.

Units: frames of the activation (``fps`` per second); periods in frames.
"""

from __future__ import annotations

import numpy as np

#: Tempo range of the beat model (labelled pulses per minute).
MIN_BPM, MAX_BPM = 55.0, 215.0
#: Sharpness of the tempo-change distribution at a beat (Krebs et al.: 100).
TEMPO_LAMBDA = 100.0
#: Tempo states are this far apart (ratio of their periods).
TEMPO_STEP = 0.03
#: Share of a beat observed as "beat" (Krebs et al.: 16).
OBS_LAMBDA = 16.0
#: Beats per bar the bar model knows: 2 (2/4 and the two dotted quarters of 6/8),
#: 3 and 4 (4/4, and the four dotted quarters of 12/8).
METERS = (2, 3, 4)
#: Probability that a bar's length differs from the previous bar's.
METER_CHANGE = 1e-4
#: Weight of the harmonic change at a beat in the log-likelihood of a downbeat there
#: (per standard deviation; chosen on the beat set's dev split).
HARMONY_WEIGHT = 1.0
#: Log-probability paid per 2-beat bar (chosen on the beat set's dev split).
SHORT_BAR = -1.0
#: Leading and trailing beats whose activation is below this share of the median
#: beat's are dropped (the path's beats over silence at the ends).
END_TRIM = 0.25
_EPS = 1e-7


def _periods(fps: float, min_bpm: float, max_bpm: float, step: float) -> np.ndarray:
    """Nominal beat periods (frames, fractional), ``step`` apart in ratio."""
    lo, hi = 60 * fps / max_bpm, 60 * fps / min_bpm
    return lo * (1 + step) ** np.arange(int(np.ceil(np.log(hi / lo) / np.log1p(step))) + 1)


def beat_frames(act: np.ndarray, fps: float, min_bpm: float = MIN_BPM, max_bpm: float = MAX_BPM,
                tempo_lambda: float = TEMPO_LAMBDA, obs_lambda: float = OBS_LAMBDA,
                tempo_step: float = TEMPO_STEP) -> np.ndarray:
    """Frames of the most likely beat sequence for beat activation ``act`` (T,), in 0..1.

    A tempo state has a fractional nominal period P: its beats come
    floor(P) or floor(P) + 1 frames apart, with the odds that make P the mean
    interval, so a tempo between two whole frame counts costs nothing to hold.
    Each beat is placed on the activation's highest frame within the beat
    states of the path.
    """
    act = np.clip(np.asarray(act, np.float64), _EPS, 1 - _EPS)
    T = len(act)
    P = _periods(fps, min_bpm, max_bpm, tempo_step)
    K = len(P)
    lo = np.floor(P).astype(np.int64)  # beats lo or lo + 1 frames apart
    frac = P - lo
    n = lo + 1  # positions 0 .. lo of each tempo
    first = np.r_[0, np.cumsum(n)[:-1]]
    S = int(n.sum())
    pos = np.arange(S) - np.repeat(first, n)
    is_beat = pos < np.maximum(1.0, np.repeat(P, n) / obs_lambda)
    with np.errstate(divide="ignore"):
        l_hold, l_end = np.log(frac), np.log1p(-frac)  # at position lo - 1: wait a frame, or beat
    early, late = first + lo - 1, first + lo
    ratio = P[None, :] / P[:, None]  # [from, to]
    logT = -tempo_lambda * np.abs(ratio - 1)
    logT -= np.log(np.exp(logT).sum(axis=1, keepdims=True))
    logT[logT < np.log(1e-9)] = -np.inf
    lb = np.log(act)
    ln = np.log((1 - act) / (obs_lambda - 1))
    beat_idx = np.flatnonzero(is_beat)
    gain = lb - ln
    delta = np.full(S, -np.log(S)) + ln[0]
    delta[beat_idx] += gain[0]
    back = np.empty((T, K), np.int16)   # tempo before each tempo's beat
    waited = np.empty((T, K), bool)     # that tempo's last beat came at lo + 1 frames
    cols = np.arange(K)
    new = np.empty(S)
    for t in range(1, T):
        e0, e1 = delta[early] + l_end, delta[late]
        w = e1 > e0
        cand = np.where(w, e1, e0)[:, None] + logT
        b = cand.argmax(axis=0)
        back[t], waited[t] = b, w
        new[1:] = delta[:-1]
        new[late] = delta[early] + l_hold
        new[first] = cand[b, cols]
        new += ln[t]
        new[beat_idx] += gain[t]
        delta, new = new, delta
    # back-track whole beats at a time: inside a beat the path is deterministic
    s = int(delta.argmax())
    k = int(np.searchsorted(first, s, side="right") - 1)
    p = s - int(first[k])
    t = T - 1
    starts = []  # (frame of position 0, period)
    region = np.maximum(1, np.ceil(P / obs_lambda)).astype(np.int64)  # frames observed as "beat"
    while t - p > -region[k]:  # a beat whose region reaches frame 0 counts
        t0 = t - p
        starts.append((t0, int(region[k])))
        if t0 <= 0:
            break
        j = int(back[t0, k])
        t, p, k = t0 - 1, int(lo[j]) - 1 + int(waited[t0, j]), j
    beats = []
    for t0, w in starts[::-1]:
        a = max(t0, 0)
        beats.append(a + int(act[a:t0 + w].argmax()))
    beats = np.asarray(beats, dtype=np.int64)
    # the path runs on through silence before and after the music: no beats there
    if len(beats):
        strong = act[beats] >= END_TRIM * np.median(act[beats])
        beats = beats[np.argmax(strong):len(beats) - np.argmax(strong[::-1])] if strong.any() else beats[:0]
    return beats


def refine(act: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Fractional frames: the vertex of the parabola through each frame's
    activation and its two neighbours (a peak between frames)."""
    a = np.asarray(act, np.float64)
    f = np.asarray(frames, np.int64)
    out = f.astype(np.float64)
    ok = (f > 0) & (f < len(a) - 1)
    l, c, r = a[f[ok] - 1], a[f[ok]], a[f[ok] + 1]
    den = l - 2 * c + r
    off = np.where(den < -1e-12, 0.5 * (l - r) / np.where(den < -1e-12, den, -1.0), 0.0)
    out[ok] += np.clip(off, -0.5, 0.5)
    return out


def chord_change(chroma: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """How much the harmony changes at each beat, standardised over the song (n,).

    For spans of one and two beats, the cosine distance between the mean chroma
    just before the beat and just after it, summed (chords change on bar lines).
    ``chroma`` is (T, 12), ``frames`` the beats' frames."""
    C = np.asarray(chroma, np.float64)
    f = np.asarray(frames, np.int64)
    n = len(f)
    cum = np.vstack([np.zeros((1, C.shape[1])), np.cumsum(C, axis=0)])
    edges = np.r_[f, len(C)]
    out = np.zeros(n)
    for k in (1, 2):
        lo = np.clip(np.arange(n) - k, 0, n)
        hi = np.clip(np.arange(n) + k, 0, n)
        before = cum[f] - cum[edges[lo]]
        after = cum[edges[hi]] - cum[f]
        num = (before * after).sum(axis=1)
        den = np.linalg.norm(before, axis=1) * np.linalg.norm(after, axis=1)
        out += np.where(den > 1e-12, 1 - num / np.maximum(den, 1e-12), 0.0)
    return (out - out.mean()) / (out.std() + 1e-9)


def bar_positions(down: np.ndarray, meters=METERS, change: float = METER_CHANGE, harmony: np.ndarray | None = None,
                  harmony_weight: float = HARMONY_WEIGHT, short_bar: float = SHORT_BAR) -> tuple[np.ndarray, np.ndarray]:
    """Bar position (0 = downbeat) and beats per bar of each beat, from each beat's
    downbeat probability ``down`` (n,), by Viterbi over (meter, position).

    ``harmony`` (n,), :func:`chord_change` at the beats, adds ``harmony_weight``
    times itself to the log-likelihood of a downbeat there: where the network
    hears two equal kicks a bar, the chord change tells beat 1 from beat 3.
    ``short_bar`` is the log-probability paid by every bar of 2 beats: two bars
    of 2 must explain the downbeat evidence better than one of 4."""
    d = np.clip(np.asarray(down, np.float64), _EPS, 1 - _EPS)
    n = len(d)
    M = list(meters)
    first = np.r_[0, np.cumsum(M)[:-1]]
    S = int(sum(M))
    mtr = np.repeat(M, M)
    pos = np.arange(S) - np.repeat(first, M)
    ends = first + np.asarray(M) - 1
    stay, move = np.log(1 - change), np.log(change / max(1, len(M) - 1))
    switch = np.where(np.eye(len(M), dtype=bool), stay, move)  # [from meter, to meter]
    obs = np.where(pos[None, :] == 0, np.log(d)[:, None], np.log(1 - d)[:, None])  # (n, S)
    obs[:, first[np.asarray(M) == 2]] += short_bar
    if harmony is not None:
        obs[:, pos == 0] += harmony_weight * np.asarray(harmony, np.float64)[:, None]
    delta = -np.log(S) + obs[0]
    back = np.empty((n, S), np.int16)
    inner = np.flatnonzero(pos > 0)  # each follows the previous position of the same bar
    for i in range(1, n):
        cand_bar = delta[ends][:, None] + switch  # into each meter's position 0
        b = cand_bar.argmax(axis=0)
        new = np.empty(S)
        new[inner] = delta[inner - 1]
        back[i, inner] = inner - 1
        new[first] = cand_bar[b, np.arange(len(M))]
        back[i, first] = ends[b]
        delta = new + obs[i]
    s = int(delta.argmax())
    path = np.empty(n, np.int64)
    for i in range(n - 1, -1, -1):
        path[i] = s
        if i:
            s = int(back[i, s])
    return pos[path], mtr[path]
