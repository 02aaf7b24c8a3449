"""Beat tracking for choreography: tempo, beat times, meter and downbeats.

The hard part on dance music is the *metrical level*: a tracker easily locks to
the eighth notes of a slow ballad or to the half notes of an oom-pah polka.
The algorithm here separates the questions:

1. **Features** - one log-mel spectrogram gives spectral-flux onset envelopes for
   the whole band (mean over mel bands, robust on sparse percussion) and for three
   bands: low (< 150 Hz: kick, bass), mid (150-2000 Hz: snare, chords) and high.
2. **Tempo family** - the autocorrelation of the full-band envelope is scored on
   an octave-folded comb (a lag and its half), which finds the period family
   (X, 2X, X/2, ...) without deciding the octave.
3. **Octave** - the quarter-note level must lie in a dance range (70-180 BPM).
   When both X and 2X fit, the beats are tracked at 2X and the weak (odd)
   pulses are checked for kick/bass or snare/chord content: if neither the low
   nor the mid band on the weak pulses reaches half its strength on the strong
   pulses, the weak pulses are only decoration (hi-hats, shakers), so the beat
   is X; otherwise every pulse is a beat and the beat is 2X.
4. **Beats** - dynamic programming (Ellis 2007) on the full-band envelope with a
   fixed period and a log-period transition penalty.
5. **Meter and downbeats** - per beat, the low-band onset strength and the
   harmonic change (chroma novelty); the meter (3 or 4) and bar phase whose
   first beats stand out most win.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ChoreoInputError
from ..progress import ProgressFn, report

#: Quarter-note tempo range (BPM) a choreographer can step to.
MIN_BPM, MAX_BPM = 70.0, 180.0
#: Weak pulses whose low- and mid-band onsets stay below this fraction of the
#: strong pulses' are subdivisions, not beats.
SUBDIVISION_RATIO = 0.5
#: Transition penalty of the beat DP (librosa's ``tightness``).
TIGHTNESS = 100.0
_BANDS_HZ = (150.0, 2000.0)


@dataclass
class BeatMap:
    """Result of :func:`track_beats`.

    Attributes
    ----------
    tempo : float
        Tempo of the returned beat level in BPM.
    beats : np.ndarray
        Beat times in seconds from the start of the audio given (float64).
    downbeats : np.ndarray
        First beat of each bar, seconds (a subset of ``beats``).
    meter : int
        Beats per bar.
    """

    tempo: float
    beats: np.ndarray
    downbeats: np.ndarray
    meter: int

    def to_dict(self) -> dict:
        """JSON-ready dict with keys ``tempo``, ``beats``, ``downbeats``, ``meter``."""
        return {"tempo": round(float(self.tempo), 3),
                "beats": [round(float(b), 4) for b in self.beats],
                "downbeats": [round(float(b), 4) for b in self.downbeats],
                "meter": int(self.meter)}


# --------------------------------------------------------------------------- features

def _hop(sr: int) -> int:
    """Hop of ~23 ms (512 samples at 22.05 kHz), scaled with the sample rate."""
    return max(64, int(round(512 * sr / 22050 / 64)) * 64)


def _log_mel(y: np.ndarray, sr: int, hop_length: int, n_mels: int = 64) -> tuple[np.ndarray, np.ndarray]:
    import librosa

    n_fft = 4 * hop_length
    S = librosa.feature.melspectrogram(y=np.asarray(y, dtype=np.float32), sr=sr, n_fft=n_fft,
                                       hop_length=hop_length, n_mels=n_mels, fmax=sr / 2)
    return librosa.power_to_db(S, ref=np.max, top_db=80.0), librosa.mel_frequencies(n_mels, fmax=sr / 2)


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


def _band_envelopes(L: np.ndarray, freqs: np.ndarray) -> dict[str, np.ndarray]:
    F = _flux(L)
    lo, hi = _BANDS_HZ
    return {"full": F.mean(axis=0), "low": F[freqs < lo].mean(axis=0),
            "mid": F[(freqs >= lo) & (freqs < hi)].mean(axis=0), "high": F[freqs >= hi].mean(axis=0)}


# --------------------------------------------------------------------------- tempo

def _autocorr(env: np.ndarray, fps: float) -> np.ndarray:
    """Normalised autocorrelation of the envelope minus its 1 s moving average."""
    w = max(1, int(round(fps)))
    e = env - np.convolve(env, np.ones(w) / w, mode="same")
    n = len(e)
    a = np.fft.irfft(np.abs(np.fft.rfft(e, 2 * n)) ** 2)[:n]
    return a / max(a[0], 1e-12)


def _acf_at(a: np.ndarray, lag: float) -> float:
    """Linear interpolation of ``a`` at a fractional lag."""
    i = int(lag)
    if i + 1 >= len(a):
        return 0.0
    f = lag - i
    return float((1 - f) * a[i] + f * a[i + 1])


def tempo_family(env: np.ndarray, fps: float) -> float:
    """Base tempo X in [MIN_BPM, 2*MIN_BPM) of the envelope's period family.

    Each candidate X is scored by the autocorrelation at its period and at half
    of it (the 2X pulse), so a track whose eighths or half notes dominate still
    lands on the same family; the octave is decided later.
    """
    a = _autocorr(env, fps)
    bpms = MIN_BPM * 2.0 ** (np.arange(0, 1, 1 / 600.0))
    score = np.array([_acf_at(a, 60 * fps / b) + _acf_at(a, 30 * fps / b) for b in bpms])
    k = int(np.argmax(score))
    return float(bpms[k])


def refine_tempo(env: np.ndarray, fps: float, bpm: float, span: float = 0.04) -> float:
    """The autocorrelation peak within +-``span`` of ``bpm`` (sharpens the comb's estimate)."""
    a = _autocorr(env, fps)
    bpms = bpm * np.linspace(1 - span, 1 + span, 161)
    return float(bpms[int(np.argmax([_acf_at(a, 60 * fps / b) for b in bpms]))])


# --------------------------------------------------------------------------- beat DP

def _local_max(env: np.ndarray, frames: np.ndarray, w: int = 1) -> np.ndarray:
    idx = np.clip(np.asarray(frames, dtype=int), 0, len(env) - 1)
    return np.max([env[np.clip(idx + d, 0, len(env) - 1)] for d in range(-w, w + 1)], axis=0)


def dp_beats(env: np.ndarray, period: float, tightness: float = TIGHTNESS) -> np.ndarray:
    """Beat frames by dynamic programming (Ellis 2007) for a fixed ``period`` in frames.

    Maximises the sum of normalised onset strength at the beats minus
    ``tightness * log(interval / period)**2`` per interval.
    """
    e = env / (np.std(env) + 1e-12)
    e = e - np.convolve(e, np.ones(int(round(period))) / round(period), mode="same")  # local mean off
    n = len(e)
    lags = np.arange(int(round(period / 2)), int(round(2 * period)) + 1)
    pen = -tightness * np.log(lags / period) ** 2
    score = e.copy()
    back = np.full(n, -1)
    for t in range(lags[0], n):
        prev = t - lags
        ok = prev >= 0
        cand = score[prev[ok]] + pen[ok]
        j = int(np.argmax(cand))
        if cand[j] > 0:
            score[t] = e[t] + cand[j]
            back[t] = prev[ok][j]
    # End on the best-scoring frame within the last period.
    tail = np.arange(max(0, n - int(round(period))), n)
    t = int(tail[np.argmax(score[tail])])
    out = []
    while t >= 0:
        out.append(t)
        t = back[t]
    return np.array(out[::-1], dtype=int)


# --------------------------------------------------------------------------- meter

def _chroma_novelty(y: np.ndarray, sr: int, hop: int, beat_frames: np.ndarray) -> np.ndarray:
    """Harmonic change at each beat: cosine distance of the chroma of the beat
    before and after it (zero for the first beat)."""
    import librosa

    C = librosa.feature.chroma_stft(y=y, sr=sr, hop_length=hop, n_fft=4 * hop)
    bounds = np.r_[0, beat_frames, C.shape[1]]
    seg = np.stack([C[:, a:max(b, a + 1)].mean(axis=1) for a, b in zip(bounds[:-1], bounds[1:])], axis=1)
    seg = seg / (np.linalg.norm(seg, axis=0, keepdims=True) + 1e-9)
    # segment k spans beats k-1..k; beat i is between segment i and i+1
    sim = np.sum(seg[:, :-1] * seg[:, 1:], axis=0)  # sim[i] at boundary beat_frames[i]
    return 1.0 - sim


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
    L, freqs = _log_mel(y, sr, hop)
    env = _band_envelopes(L, freqs)
    report(progress, 0.4, "tempo")
    x = tempo_family(env["full"], fps)
    if 2 * x <= MAX_BPM:  # both X and 2X are danceable: track at 2X and test the weak pulses
        fast = 2 * refine_tempo(env["full"], fps, x)
        frames = dp_beats(env["full"], 60 * fps / fast)
        strong, ratio = _weak_pulse_ratio(env, frames)
        if ratio < SUBDIVISION_RATIO:
            frames, tempo = frames[strong::2], fast / 2
        else:
            tempo = fast
    else:
        tempo = refine_tempo(env["full"], fps, x)
        frames = _fix_phase(env["full"], dp_beats(env["full"], 60 * fps / tempo))
    if pulse == "double":
        mids = ((frames[:-1] + frames[1:]) / 2).round().astype(int)
        frames, tempo = np.sort(np.r_[frames, mids]), 2 * tempo
    report(progress, 0.7, "meter")
    feats = np.stack([_local_max(env["low"], frames), _chroma_novelty(y, sr, hop, frames)])
    feats = (feats - feats.mean(axis=1, keepdims=True)) / (feats.std(axis=1, keepdims=True) + 1e-9)
    meter, phase = estimate_meter(feats)
    if pulse == "halve":
        frames, tempo = frames[phase % 2::2], tempo / 2
        meter, phase = (2, 0) if meter == 4 else (meter, 0)
    beats = frames.astype(np.float64) * hop / sr
    if len(beats) > 2:  # the tracked beats pin the tempo down better than the autocorrelation grid
        tempo = 60.0 / float(np.polyfit(np.arange(len(beats)), beats, 1)[0])
    report(progress, 1.0, "done")
    return BeatMap(tempo=float(tempo), beats=beats, downbeats=beats[phase::meter].copy(), meter=meter)


def _fix_phase(env: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Shift the beats by half a period when the off-beats carry onsets more
    consistently (higher geometric-mean strength) than the beats - the DP's sum
    can be pulled onto loud but irregular off-beat accents."""
    if len(frames) < 4:
        return frames
    e = env / (env.std() + 1e-12)
    mids = ((frames[:-1] + frames[1:]) / 2).round().astype(int)
    g = lambda f: float(np.mean(np.log(_local_max(e, f) + 0.05)))
    if g(mids) <= g(frames):
        return frames
    period = int(round(np.median(np.diff(frames))))
    extra = frames[-1] + period // 2
    return np.r_[mids, extra] if extra < len(env) else mids


def _weak_pulse_ratio(env: dict[str, np.ndarray], frames: np.ndarray) -> tuple[int, float]:
    """(parity of the strong pulses, max over low/mid of weak/strong onset strength)."""
    full = _local_max(env["full"], frames)
    strong = 0 if full[0::2].mean() >= full[1::2].mean() else 1
    ratios = []
    for band in ("low", "mid"):
        s = _local_max(env[band], frames)
        ratios.append(s[1 - strong::2].mean() / max(s[strong::2].mean(), 1e-12))
    return strong, float(max(ratios))


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
