"""Spectral analysis in plain numpy: the subset of librosa that Choreo runs.

A stock Blender ships numpy but neither scipy nor librosa, so everything the
add-on computes at generation time is implemented here once and shared by
training, the command line and the add-on. Each function reproduces its
librosa 0.11 counterpart with librosa's defaults (named in its docstring);
``tests/test_spectral.py`` checks them against librosa, which serves only as
the test oracle.

Conventions (librosa's):

- Audio ``y`` is mono, shape ``(n_samples,)``, any float dtype.
- Spectrograms are ``(n_bins, n_frames)``: frequency down, time across.
  Frame ``t`` is centred on sample ``t * hop_length`` (the signal is padded
  with ``n_fft // 2`` zeros on each side), so there are
  ``1 + n_samples // hop_length`` frames (``1 + (n_samples - 1) // hop_length``
  for an odd ``n_fft``).
- Power is ``|STFT|**2`` of the raw samples (no scaling); decibels are
  ``10 * log10(power / ref)``.
- Outputs are float32 (as librosa gives for float32 audio) unless a docstring
  says otherwise. FFTs run in float64 on both numpy 1.x and 2.x (numpy 2
  would keep float32 input in float32).

Long songs are framed block by block, so the complex STFT of a whole song
never exists at once: only the real outputs are full size. From audio, the
mel, chroma, MFCC and tuning estimates stream the power spectrogram too
(:func:`mel_and_chroma`, :func:`mfcc_and_tuning`: an hour's spectrogram at
22050 Hz would be 640 MB); HPSS and the tempogram work in blocks of frames.

The constant-Q transform (:func:`cqt`, :func:`chroma_cqt`) is the one
approximation: librosa halves the signal for each lower octave with soxr, which
numpy cannot reproduce, so it is halved here with a Kaiser-windowed sinc; with
that decimator (librosa's ``res_type="polyphase"``) the results are librosa's.
"""

from __future__ import annotations

import functools
from typing import Callable, Optional, Sequence, Tuple, Union

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "power_spectrogram", "mel_frequencies", "mel_filters", "melspectrogram", "power_to_db",
    "hpss", "estimate_tuning", "chroma_filters", "chroma_stft", "mel_and_chroma", "cqt", "chroma_cqt",
    "dct_ortho", "mfcc", "mfcc_and_tuning", "delta",
    "tempogram", "time_to_frames", "frames_to_time", "sync",
]

#: Bytes of float64 frames per STFT block (~8 MB keeps a block in cache-friendly
#: sizes and bounds the transient complex spectrum to ~8 MB as well).
_BLOCK_BYTES = 1 << 23
#: Elements per median-filter block (windows x kernel), bounding its scratch memory.
_MEDIAN_BLOCK = 1 << 22
#: piptrack's defaults, used by :func:`estimate_tuning` (Hz, Hz, fraction of the frame max).
_PIP_FMIN, _PIP_FMAX, _PIP_THRESHOLD = 150.0, 4000.0, 0.1


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


# --------------------------------------------------------------------------- STFT

@functools.lru_cache(maxsize=16)
def _hann(n: int) -> np.ndarray:
    """Periodic Hann window of ``n`` samples (float64), as scipy's ``get_window("hann", n)``
    (which gives ``[1.]`` for ``n == 1``)."""
    if n <= 1:
        return _readonly(np.ones(n))
    phase = np.linspace(-np.pi, np.pi, n + 1)[:-1]
    return _readonly(0.5 + 0.5 * np.cos(phase))


def _check_audio(y) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"audio must be mono, shape (n_samples,), not {y.shape}")
    if not np.issubdtype(y.dtype, np.floating):
        raise ValueError(f"audio must be floating point, not {y.dtype}")
    step = 1 << 20  # in chunks: no song-sized boolean array
    if not all(np.isfinite(y[a:a + step]).all() for a in range(0, len(y), step)):
        raise ValueError("audio is not finite everywhere (NaN or inf samples)")
    return y


def _check_fft(n_fft: int, hop_length: int) -> None:
    if int(n_fft) != n_fft or n_fft < 1 or int(hop_length) != hop_length or hop_length < 1:
        raise ValueError(f"n_fft={n_fft} and hop_length={hop_length} must be positive integers")


def _n_frames(n_samples: int, n_fft: int, hop_length: int) -> int:
    """Frames of the centred STFT: the padded signal framed with no partial frame."""
    return max(0, 1 + (n_samples + 2 * (n_fft // 2) - n_fft) // hop_length)


def _power_blocks(y: np.ndarray, n_fft: int, hop_length: int, magnitude: bool = False):
    """Yield ``(first_frame, P)`` with ``P`` the power of consecutive frames,
    shape ``(frames_in_block, 1 + n_fft // 2)``, float32 (``y`` already checked);
    with ``magnitude``, ``|STFT|`` instead of its square."""
    n_fft, hop_length = int(n_fft), int(hop_length)
    window = _hann(n_fft)
    total = _n_frames(len(y), n_fft, hop_length)
    per_block = max(1, _BLOCK_BYTES // (8 * n_fft))
    pad = n_fft // 2
    for a in range(0, total, per_block):
        b = min(total, a + per_block)
        # Samples this block's frames cover, in original-signal coordinates;
        # the zero padding is materialised only here, per block.
        lo, hi = a * hop_length - pad, (b - 1) * hop_length + n_fft - pad
        seg = np.zeros(hi - lo, dtype=np.float64)
        src_lo, src_hi = max(lo, 0), min(hi, len(y))
        if src_hi > src_lo:
            seg[src_lo - lo:src_hi - lo] = y[src_lo:src_hi]
        frames = sliding_window_view(seg, n_fft)[::hop_length]
        # librosa stores the STFT as complex64 and squares its magnitude in
        # float32; doing the same keeps the results bit-close (and is fast).
        spec = np.fft.rfft(frames * window, axis=-1).astype(np.complex64)
        power = np.abs(spec)
        if not magnitude:
            np.multiply(power, power, out=power)
        yield a, power


def power_spectrogram(y: np.ndarray, n_fft: int, hop_length: int) -> np.ndarray:
    """Power spectrogram ``|STFT(y)|**2``.

    Same as ``np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length))**2``
    (periodic Hann window of ``n_fft`` samples, centred frames, zero padding).

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono audio, finite.
    n_fft : int
        FFT and window length in samples.
    hop_length : int
        Samples between frame centres.

    Returns
    -------
    np.ndarray, shape (1 + n_fft // 2, n_frames), float32
        Power (squared amplitude of the raw sample values) of bin ``k``
        (``k * sr / n_fft`` Hz) in frame ``t`` (centred at ``t * hop_length``);
        ``n_frames = 1 + n_samples // hop_length`` for an even ``n_fft``.
        float32 whatever ``y``'s dtype. Frames lie contiguous in memory
        (Fortran order, like librosa's).
    """
    y = _check_audio(y)
    _check_fft(n_fft, hop_length)
    out = np.empty((_n_frames(len(y), int(n_fft), int(hop_length)), 1 + int(n_fft) // 2), dtype=np.float32)
    for a, power in _power_blocks(y, n_fft, hop_length):
        out[a:a + len(power)] = power
    return out.T


def _row_groups(basis: np.ndarray, rows: int = 8) -> tuple:
    """``(r0, r1, c0, c1)``: consecutive groups of ``rows`` filters and the bins
    where any of them is non-zero. Mel triangles are narrow, so multiplying
    only those columns is ~5x faster than the dense product."""
    groups = []
    for r0 in range(0, len(basis), rows):
        r1 = min(len(basis), r0 + rows)
        support = np.flatnonzero(basis[r0:r1].any(axis=0))
        c0, c1 = (int(support[0]), int(support[-1]) + 1) if len(support) else (0, 0)
        groups.append((r0, r1, c0, c1))
    return tuple(groups)


def _project(plan: tuple, X: np.ndarray) -> np.ndarray:
    """``basis @ X`` for ``plan = (basis, groups)`` (see :func:`_row_groups`)."""
    basis, groups = plan
    out = np.empty((len(basis), X.shape[1]), dtype=np.result_type(basis, X))
    for r0, r1, c0, c1 in groups:
        out[r0:r1] = basis[r0:r1, c0:c1] @ X[c0:c1]
    return out


def _stream_power(y: np.ndarray, n_fft: int, hop_length: int, plans: tuple = (),
                  peaks_sr: Optional[float] = None, peaks_of_magnitude: bool = False) -> tuple[list, list]:
    """One pass over the power spectrogram of ``y``, block by block: ``basis @ P``
    for each ``(basis, groups)`` plan (``(len(basis), n_frames)`` float32, the only
    full-size arrays) and, given ``peaks_sr``, :func:`_spectral_peaks` of every
    block of ``P`` (what :func:`estimate_tuning` of ``P`` votes on), or with
    ``peaks_of_magnitude`` of ``|STFT|`` (what librosa's ``estimate_tuning(y=y)`` does)."""
    y = _check_audio(y)
    _check_fft(n_fft, hop_length)
    total = _n_frames(len(y), int(n_fft), int(hop_length))
    outs = [np.empty((len(plan[0]), total), dtype=np.float32) for plan in plans]
    found = []
    for a, block in _power_blocks(y, n_fft, hop_length, magnitude=peaks_of_magnitude):
        power = block * block if peaks_of_magnitude else block  # as _power_blocks squares, in float32
        for out, plan in zip(outs, plans):
            out[:, a:a + len(power)] = _project(plan, power.T)
        if peaks_sr is not None:  # estimate_tuning infers n_fft from the bins, as here
            found.append(_spectral_peaks(block, peaks_sr, 2 * (int(n_fft) // 2)))
    return outs, found


def _filtered_power(y: np.ndarray, n_fft: int, hop_length: int, plan: tuple) -> np.ndarray:
    """``basis @ power_spectrogram(y)`` computed per block: only the
    ``(len(basis), n_frames)`` result is full size."""
    return _stream_power(y, n_fft, hop_length, (plan,))[0][0]


def _n_fft_of(S: np.ndarray, n_fft: int) -> int:
    """librosa's rule: an ``n_fft`` that does not fit ``S``'s bins is inferred from them."""
    return n_fft if n_fft // 2 + 1 == S.shape[-2] else 2 * (S.shape[-2] - 1)


# --------------------------------------------------------------------------- mel

# Slaney's mel scale (librosa's default): linear below 1 kHz, 200/3 Hz per mel;
# logarithmic above, 27 mel per factor 6.4. The constants are spelled as librosa
# computes them (e.g. 1000 / (200/3) is not exactly 15) so the filters agree to the bit.
_MEL_HZ = 200.0 / 3
_LOG_HZ = 1000.0
_LOG_MEL = _LOG_HZ / _MEL_HZ
_LOG_STEP = np.log(6.4) / 27.0


def _hz_to_mel(hz):
    hz = np.asarray(hz, dtype=np.float64)
    log_part = _LOG_MEL + np.log(np.maximum(hz, _LOG_HZ) / _LOG_HZ) / _LOG_STEP
    return np.where(hz >= _LOG_HZ, log_part, hz / _MEL_HZ)


def _mel_to_hz(mel):
    mel = np.asarray(mel, dtype=np.float64)
    log_part = _LOG_HZ * np.exp(_LOG_STEP * (np.maximum(mel, _LOG_MEL) - _LOG_MEL))
    return np.where(mel >= _LOG_MEL, log_part, _MEL_HZ * mel)


def mel_frequencies(n_mels: int, fmin: float = 0.0, fmax: float = 11025.0) -> np.ndarray:
    """Frequencies evenly spaced on the Slaney mel scale.

    Same as ``librosa.mel_frequencies(n_mels, fmin=fmin, fmax=fmax)`` (``htk=False``).

    Parameters
    ----------
    n_mels : int
        Number of frequencies.
    fmin, fmax : float
        First and last frequency, Hz.

    Returns
    -------
    np.ndarray, shape (n_mels,), float64
        Frequencies in Hz, increasing from ``fmin`` to ``fmax``.
    """
    return _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), int(n_mels)))


@functools.lru_cache(maxsize=32)
def _mel_basis(sr: float, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    bin_hz = np.fft.rfftfreq(n_fft, d=1.0 / sr)
    edges = mel_frequencies(n_mels + 2, fmin=fmin, fmax=fmax)  # band i spans edges[i]..edges[i+2]
    width = np.diff(edges)
    dist = edges[:, None] - bin_hz[None, :]
    rising = -dist[:-2] / width[:-1, None]
    falling = dist[2:] / width[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)
    # Slaney normalisation: a triangle's peak is 2 / (its width in Hz), so every
    # band has unit area (about constant energy per band). Scaled after the
    # float32 rounding, like librosa, so the weights agree to the bit.
    return _readonly((weights * (2.0 / (edges[2:] - edges[:-2]))[:, None]).astype(np.float32))


@functools.lru_cache(maxsize=32)
def _mel_plan(sr: float, n_fft: int, n_mels: int, fmin: float, fmax: float) -> tuple:
    basis = _mel_basis(sr, n_fft, n_mels, fmin, fmax)
    return basis, _row_groups(basis)


def _mel_key(sr, n_fft, n_mels, fmin, fmax) -> tuple:
    return float(sr), int(n_fft), int(n_mels), float(fmin), float(sr) / 2 if fmax is None else float(fmax)


def mel_filters(sr: float, n_fft: int, n_mels: int = 128, fmin: float = 0.0,
                fmax: Optional[float] = None) -> np.ndarray:
    """Mel filterbank: triangles on the Slaney mel scale, area-normalised.

    Same as ``librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)``.

    Parameters
    ----------
    sr : float
        Sample rate, Hz.
    n_fft : int
        FFT length the filters apply to.
    n_mels : int
        Number of mel bands.
    fmin, fmax : float
        Lowest and highest band edge, Hz (``fmax=None``: ``sr / 2``).

    Returns
    -------
    np.ndarray, shape (n_mels, 1 + n_fft // 2), float32
        Weights ``M`` such that ``M @ S`` maps a power spectrogram to mel
        bands. A fresh copy (the cached original stays intact).
    """
    return _mel_basis(*_mel_key(sr, n_fft, n_mels, fmin, fmax)).copy()


def melspectrogram(y: Optional[np.ndarray], sr: float, n_fft: int = 2048, hop_length: int = 512,
                   n_mels: int = 128, fmin: float = 0.0, fmax: Optional[float] = None,
                   S: Optional[np.ndarray] = None) -> np.ndarray:
    """Mel power spectrogram.

    Same as ``librosa.feature.melspectrogram(y=y, sr=sr, n_fft=n_fft,
    hop_length=hop_length, n_mels=n_mels, fmin=fmin, fmax=fmax)`` (power 2).

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,), or None
        Mono audio; ignored when ``S`` is given.
    sr : float
        Sample rate, Hz.
    n_fft, hop_length : int
        STFT length and hop, samples. An ``n_fft`` that does not match ``S``'s
        bins is inferred from them (``2 * (n_bins - 1)``), like librosa.
    n_mels : int
        Number of mel bands.
    fmin, fmax : float
        Band edges, Hz (``fmax=None``: ``sr / 2``).
    S : np.ndarray, shape (1 + n_fft // 2, n_frames), optional
        A power spectrogram (:func:`power_spectrogram`) to reuse instead of
        computing one from ``y``.

    Returns
    -------
    np.ndarray, shape (n_mels, n_frames), float32
        Power per mel band (float64 if ``S`` is float64).
    """
    if S is not None:
        S = np.asarray(S)
        return _project(_mel_plan(*_mel_key(sr, _n_fft_of(S, int(n_fft)), n_mels, fmin, fmax)), S)
    if y is None:
        raise ValueError("melspectrogram needs audio y or a power spectrogram S")
    return _filtered_power(y, n_fft, hop_length, _mel_plan(*_mel_key(sr, n_fft, n_mels, fmin, fmax)))


def power_to_db(S: np.ndarray, ref: Union[float, Callable] = 1.0, amin: float = 1e-10,
                top_db: Optional[float] = 80.0) -> np.ndarray:
    """Power to decibels: ``10 * log10(max(S, amin) / max(ref, amin))``, floored
    at ``top_db`` below the peak.

    Same as ``librosa.power_to_db(S, ref=ref, amin=amin, top_db=top_db)``.

    Parameters
    ----------
    S : np.ndarray
        Power, any shape, non-negative.
    ref : float or callable
        Power that maps to 0 dB, or a function of ``S`` giving it (``np.max``).
    amin : float
        Smallest power considered (> 0); keeps silence finite.
    top_db : float or None
        Dynamic range kept below the maximum, dB (None: no floor).

    Returns
    -------
    np.ndarray, shape of ``S``
        Decibels, float32 for float32 input (the dtype follows ``S``).
    """
    return _to_db(S, ref, amin, top_db, in_place=False)


def _to_db(S, ref, amin: float, top_db: Optional[float], in_place: bool) -> np.ndarray:
    """:func:`power_to_db`; with ``in_place`` a float array ``S`` becomes the result
    (a long song's mel spectrogram is not copied)."""
    S = np.asarray(S)
    if amin <= 0:
        raise ValueError("amin must be strictly positive")
    if np.iscomplexobj(S):
        raise ValueError("power_to_db takes power (real), not a complex STFT")
    if not np.issubdtype(S.dtype, np.floating):
        S = S.astype(np.float32)
    ref_value = ref(S) if callable(ref) else np.abs(ref)
    # One output array, updated in place (a long song's mel is large).
    db = np.maximum(amin, S, out=S) if in_place and S.ndim else np.asarray(np.maximum(amin, S))
    np.log10(db, out=db)
    db *= 10.0
    # The reference in S's precision, as numpy 1.x computes librosa's expression.
    db -= np.asarray(10.0 * np.log10(np.maximum(amin, ref_value))).astype(db.dtype)
    if top_db is not None:
        if top_db < 0:
            raise ValueError("top_db must be non-negative")
        if db.size:
            np.maximum(db, db.max() - top_db, out=db)
    return db


# --------------------------------------------------------------------------- HPSS

def _median_filter_last(x: np.ndarray, size: int, a: int = 0, b: Optional[int] = None) -> np.ndarray:
    """Columns ``a:b`` of the median over ``size`` neighbours along the last axis
    of a 2-D array, edges mirrored (``d c b a | a b c d | d c b a``), as
    ``scipy.ndimage.median_filter(mode="reflect")``.

    For an even ``size`` the window is ``x[i - size//2 : i + size - size//2]``
    and the result its upper median (scipy's rank ``size // 2``). Only the
    columns asked for (and ``size - 1`` neighbours) are read, so a long
    spectrogram can be filtered block by block with the very same result.
    """
    n = x.shape[1]
    b = n if b is None else b
    if n == 0 or size <= 1:
        return x[:, a:b].copy()
    left = size // 2
    # Mirrored column indices (period 2n, as np.pad's "symmetric" for any width).
    idx = np.arange(a - left, b + size - 1 - left) % (2 * n)
    idx = np.where(idx >= n, 2 * n - 1 - idx, idx)
    windows = sliding_window_view(x[:, idx], size, axis=1)  # (rows, b - a, size), no copy
    out = np.empty((x.shape[0], b - a), dtype=x.dtype)
    per_block = max(1, _MEDIAN_BLOCK // (max(1, b - a) * size))
    for r in range(0, len(x), per_block):
        # A full sort of short rows is faster in numpy than np.partition.
        out[r:r + per_block] = np.sort(windows[r:r + per_block], axis=-1)[..., left]
    return out


def _softmask(X: np.ndarray, X_ref: np.ndarray, power: float, split_zeros: bool) -> np.ndarray:
    """``X**p / (X**p + X_ref**p)``, scaled by ``max(X, X_ref)`` first so the powers
    cannot overflow; where both are ~0 the mask is 0.5 (``split_zeros``) or 0."""
    Z = np.maximum(X, X_ref)
    silent = Z < np.finfo(Z.dtype).tiny
    Z[silent] = 1
    mask = (X / Z) ** power
    ref_mask = (X_ref / Z) ** power
    sound = ~silent
    mask[sound] /= mask[sound] + ref_mask[sound]
    mask[silent] = 0.5 if split_zeros else 0.0
    return mask


def _pair(value) -> tuple:
    return (value[0], value[1]) if isinstance(value, (tuple, list)) else (value, value)


def hpss(S: np.ndarray, kernel_size: Union[int, Sequence[int]] = 17, power: float = 2.0,
         margin: Union[float, Sequence[float]] = 1.0) -> Tuple[np.ndarray, np.ndarray]:
    """Harmonic/percussive separation of a spectrogram by median filtering.

    Same as ``librosa.decompose.hpss(S, kernel_size=kernel_size, power=power,
    margin=margin)`` for a real spectrogram: the harmonic part is what a median
    along time keeps (sustained partials), the percussive part what a median
    along frequency keeps (broadband hits); each gets a soft mask of ``S``.

    Parameters
    ----------
    S : np.ndarray, shape (n_bins, n_frames)
        Non-negative spectrogram (magnitude, power or mel power).
    kernel_size : int or (int, int)
        Median lengths (frames for harmonic, bins for percussive).
    power : float
        Exponent of the soft masks (> 0; ``np.inf`` gives hard masks).
    margin : float or (float, float)
        Margins >= 1 (harmonic, percussive); above 1 a bin must dominate by
        that factor and the remainder belongs to neither part.

    Returns
    -------
    H, P : np.ndarray, shape of ``S``
        Harmonic and percussive spectrograms, same dtype and units as ``S``
        (``H + P == S`` when ``margin`` is 1).
    """
    S = np.asarray(S)
    if np.iscomplexobj(S):
        raise ValueError("hpss takes a real (magnitude or power) spectrogram")
    if S.ndim != 2:
        raise ValueError(f"hpss takes a (n_bins, n_frames) spectrogram, not shape {S.shape}")
    if not np.issubdtype(S.dtype, np.floating):
        S = S.astype(np.float32)
    win_harm, win_perc = (int(k) for k in _pair(kernel_size))
    margin_harm, margin_perc = _pair(margin)
    if margin_harm < 1 or margin_perc < 1:
        raise ValueError("margins must be >= 1.0")
    if power <= 0:
        raise ValueError("power must be strictly positive")
    if S.size and S.min() < 0:  # no song-sized boolean array
        raise ValueError("hpss takes a non-negative spectrogram")
    H, P = np.empty_like(S), np.empty_like(S)
    split_zeros = margin_harm == 1 and margin_perc == 1
    n = S.shape[1]
    # Frames per block: the filters' and masks' scratch stays ~_MEDIAN_BLOCK
    # elements; every value is computed as from the whole spectrogram.
    per_block = max(1, _MEDIAN_BLOCK // (max(1, S.shape[0]) * max(win_harm, win_perc, 1)))
    for a in range(0, n, per_block):
        b = min(n, a + per_block)
        block = S[:, a:b]
        harm = _median_filter_last(S, win_harm, a, b)
        perc = np.ascontiguousarray(_median_filter_last(np.ascontiguousarray(block.T), win_perc).T)
        if not np.isfinite(power):
            H[:, a:b], P[:, a:b] = block * (harm > perc * margin_harm), block * (perc > harm * margin_perc)
            continue
        H[:, a:b] = block * _softmask(harm, perc * margin_harm, power, split_zeros)
        P[:, a:b] = block * _softmask(perc, harm * margin_perc, power, split_zeros)
    return H, P


# --------------------------------------------------------------------------- tuning and chroma

def _spectral_peaks(X: np.ndarray, sr: float, n_fft: int) -> Tuple[np.ndarray, np.ndarray]:
    """piptrack (librosa defaults) on frames ``X`` (rows = frames, columns = bins):
    interpolated frequency (Hz) and magnitude of every local maximum above 10 %
    of its frame's maximum, between 150 and min(4000, sr/2) Hz, in ``X``'s dtype.

    The arithmetic follows librosa's dtypes (its parabola is float64 from
    float32 sums) so the peaks, and thus the tuning histogram, are identical.
    """
    real = X.dtype.type
    n_bins = X.shape[1]
    bin_hz = np.fft.rfftfreq(n_fft, d=1.0 / sr)[:n_bins]
    in_band = np.flatnonzero((_PIP_FMIN <= bin_hz) & (bin_hz < min(_PIP_FMAX, float(sr) / 2)))
    if len(in_band) == 0 or X.shape[0] == 0:
        return np.zeros(0, dtype=X.dtype), np.zeros(0, dtype=X.dtype)
    # Bin 0 (0 Hz) is never in the band; the last bin only for an odd n_fft.
    lo, hi = int(in_band[0]), int(in_band[-1]) + 1
    floor = real(_PIP_THRESHOLD) * X.max(axis=1, keepdims=True)
    near = X[:, lo - 1:min(hi + 1, n_bins)]
    Z = near * (near > floor)
    if hi == n_bins:  # the last bin only needs to beat its left neighbour
        Z = np.concatenate([Z, np.full((len(Z), 1), -np.inf, dtype=Z.dtype)], axis=1)
    centre = Z[:, 1:-1]
    rows, cols = np.nonzero((centre > Z[:, :-2]) & (centre >= Z[:, 2:]))
    cols = cols + lo
    last = cols == n_bins - 1
    below, here = X[rows, cols - 1], X[rows, cols]
    above = np.where(last, here, X[rows, np.minimum(cols + 1, n_bins - 1)])
    # Vertex of the parabola through the three bins, in bins from the centre
    # (0 where it would lie more than one bin away, and at the last bin).
    curvature = (above + below).astype(np.float64) - 2 * here.astype(np.float64)
    slope = (above - below).astype(np.float64) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(np.abs(slope) >= np.abs(curvature), 0.0, -slope / curvature).astype(X.dtype)
    gradient = np.where(last, here - below, (above - below) / real(2.0))  # np.gradient along bins
    mags = here + real(0.5) * gradient * shift
    pitches = ((cols + shift.astype(np.float64)) * float(sr) / n_fft).astype(X.dtype)
    return pitches, mags


def estimate_tuning(S: np.ndarray, sr: float, n_fft: int, bins_per_octave: int = 12,
                    resolution: float = 0.01, *, from_power: bool = False) -> float:
    """Tuning offset of the music from A440 equal temperament, in fractions of a bin.

    Same as ``librosa.estimate_tuning(S=S, sr=sr, n_fft=n_fft,
    bins_per_octave=bins_per_octave, resolution=resolution)``: spectral peaks
    (``librosa.piptrack`` defaults: 150-4000 Hz, above 10 % of the frame
    maximum, parabolically interpolated) at least as strong as their median
    vote in a histogram of their deviation from the nearest bin (whole
    semitones for 12 bins per octave); the fullest bin's left edge wins.

    Parameters
    ----------
    S : np.ndarray, shape (1 + n_fft // 2, n_frames)
        Magnitude or power spectrogram (librosa's chroma passes power).
    sr : float
        Sample rate, Hz.
    n_fft : int
        FFT length of ``S`` (inferred from ``S`` when they disagree, like librosa).
    bins_per_octave : int
        Pitch bins per octave.
    resolution : float
        Histogram step, fractions of a bin.
    from_power : bool
        ``S`` is a power spectrogram to be analysed as its square root, the
        magnitude: ``estimate_tuning(P, ..., from_power=True)`` is
        ``librosa.estimate_tuning(y=y, sr=sr, bins_per_octave=...)`` (which
        takes the magnitude STFT of ``y``, n_fft 2048, hop 512) for
        ``P = power_spectrogram(y, 2048, 512)``, without a magnitude copy of ``P``.

    Returns
    -------
    float
        Offset in ``[-0.5, 0.5)`` fractions of a bin (0.0 without any peak).
    """
    S = np.asarray(S)
    if not np.issubdtype(S.dtype, np.floating):
        S = S.astype(np.float32)
    n_fft = _n_fft_of(S, int(n_fft))
    per_block = max(1, _BLOCK_BYTES // (4 * max(1, S.shape[0])))
    found = []
    for a in range(0, S.shape[1], per_block):
        block = np.abs(S[:, a:a + per_block]).T
        found.append(_spectral_peaks(np.ascontiguousarray(np.sqrt(block) if from_power else block), sr, n_fft))
    return _tuning_from_peaks(found, bins_per_octave, resolution)


def _tuning_from_peaks(found: list, bins_per_octave: int, resolution: float) -> float:
    """:func:`estimate_tuning`'s vote over ``found``, a list of ``(pitches, mags)``
    from :func:`_spectral_peaks` (one pair per block of frames)."""
    voiced = [m[p > 0] for p, m in found]
    n_voiced = sum(len(m) for m in voiced)
    threshold = np.median(np.concatenate(voiced), overwrite_input=True) if n_voiced else 0.0
    del voiced
    # Histogram counts add up over blocks: no need to gather the chosen pitches.
    edges = np.linspace(-0.5, 0.5, int(np.ceil(1.0 / resolution)) + 1)
    counts = np.zeros(len(edges) - 1, dtype=np.int64)
    for pitches, mags in found:
        chosen = pitches[(mags >= threshold) & (pitches > 0)]
        counts += np.histogram(_bin_residual(chosen, bins_per_octave), edges)[0]
    if not counts.any():
        return 0.0
    return float(edges[np.argmax(counts)])


def _bin_residual(freqs: np.ndarray, bins_per_octave: int) -> np.ndarray:
    """Deviation of each frequency from the nearest A440-tuned bin, in
    ``[-0.5, 0.5)`` fractions of a bin."""
    # Octaves above A0 (27.5 Hz) in the frequencies' own dtype (float32), like
    # librosa: the histogram then bins exactly the same values.
    octaves = np.log2(freqs / freqs.dtype.type(27.5))
    residual = np.mod(bins_per_octave * octaves, 1.0)
    residual[residual >= 0.5] -= 1.0  # 0.95 is -0.05 from the next bin up
    return residual


def _normalize_columns(x: np.ndarray, norm: float) -> np.ndarray:
    """Each column divided by its ``norm`` (inf: max |x|; else the L^norm);
    columns whose norm is below the dtype's ``tiny`` stay as they are."""
    mag = np.abs(x).astype(np.float64)
    if norm == np.inf:
        length = mag.max(axis=0, keepdims=True) if x.shape[0] else np.ones((1, x.shape[1]))
    else:
        length = np.sum(mag ** norm, axis=0, keepdims=True) ** (1.0 / norm)
    length[length < np.finfo(x.dtype).tiny] = 1.0
    return (x / length).astype(x.dtype)


@functools.lru_cache(maxsize=32)
def _chroma_basis(sr: float, n_fft: int, n_chroma: int, tuning: float) -> np.ndarray:
    # Fractional pitch-class position of each FFT bin (bins per octave = n_chroma,
    # counted from A0 of the tuned A440).
    hz = np.linspace(0, sr, n_fft, endpoint=False)[1:]
    a440 = 440.0 * 2.0 ** (tuning / n_chroma)
    position = n_chroma * np.log2(hz / (a440 / 16))
    # 0 Hz gets a made-up position 1.5 octaves below bin 1 (half a chroma
    # rotation away, and a wide bump).
    position = np.concatenate(([position[0] - 1.5 * n_chroma], position))
    width = np.concatenate((np.maximum(np.diff(position), 1.0), [1.0]))
    half = np.round(n_chroma / 2.0)
    # Signed distance of each bin from each chroma, wrapped to +-n_chroma/2.
    dist = np.remainder(position[None, :] - np.arange(n_chroma, dtype=np.float64)[:, None]
                        + half + 10 * n_chroma, n_chroma) - half
    weights = np.exp(-0.5 * (2 * dist / width[None, :]) ** 2)  # a Gaussian bump per chroma
    weights = _normalize_columns(weights, 2.0)  # each FFT bin spreads unit energy over chroma
    # Emphasise the octaves around ctroct = 5 (A0 + 5 octaves = 880 Hz), half-width 2 octaves.
    weights *= np.exp(-0.5 * ((position / n_chroma - 5.0) / 2.0) ** 2)[None, :]
    weights = np.roll(weights, -3 * (n_chroma // 12), axis=0)  # start at C, not A
    return _readonly(np.ascontiguousarray(weights[:, :1 + n_fft // 2], dtype=np.float32))


def chroma_filters(sr: float, n_fft: int, n_chroma: int = 12, tuning: float = 0.0) -> np.ndarray:
    """Chroma filterbank: FFT bins to pitch classes.

    Same as ``librosa.filters.chroma(sr=sr, n_fft=n_fft, n_chroma=n_chroma,
    tuning=tuning)`` (ctroct 5, octwidth 2, L2-normalised bins, starting at C).

    Parameters
    ----------
    sr : float
        Sample rate, Hz.
    n_fft : int
        FFT length the filters apply to.
    n_chroma : int
        Pitch classes per octave.
    tuning : float
        Offset from A440, fractions of a chroma bin.

    Returns
    -------
    np.ndarray, shape (n_chroma, 1 + n_fft // 2), float32
        Weights ``C`` such that ``C @ S`` maps a power spectrogram to chroma
        (row 0 = C). A fresh copy.
    """
    return _chroma_basis(float(sr), int(n_fft), int(n_chroma), float(tuning)).copy()


def chroma_stft(y: Optional[np.ndarray] = None, sr: float = 22050, n_fft: int = 2048,
                hop_length: int = 512, S: Optional[np.ndarray] = None,
                tuning: Optional[float] = None) -> np.ndarray:
    """Chromagram from a power spectrogram, each frame max-normalised.

    Same as ``librosa.feature.chroma_stft(y=y, sr=sr, n_fft=n_fft,
    hop_length=hop_length, S=S, tuning=tuning)`` (12 chroma, norm inf).

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,), optional
        Mono audio; ignored when ``S`` is given.
    sr : float
        Sample rate, Hz.
    n_fft, hop_length : int
        STFT length and hop, samples (``n_fft`` is inferred from ``S`` when
        they disagree, like librosa).
    S : np.ndarray, shape (1 + n_fft // 2, n_frames), optional
        POWER spectrogram (:func:`power_spectrogram`) to reuse.
    tuning : float or None
        Offset from A440 in fractions of a chroma bin; None estimates it from
        the spectrogram (:func:`estimate_tuning`).

    Returns
    -------
    np.ndarray, shape (12, n_frames), float32
        Energy per pitch class C, C#, ..., B; each frame divided by its
        maximum (all-zero frames stay zero).

    Notes
    -----
    From ``y`` the spectrogram is streamed block by block, never whole: with
    ``tuning=None`` one pass collects the spectral peaks that set the tuning
    and a second applies the filters.
    """
    if S is None:
        if y is None:
            raise ValueError("chroma_stft needs audio y or a power spectrogram S")
        if tuning is None:
            tuning = _tuning_from_peaks(_stream_power(y, n_fft, hop_length, peaks_sr=sr)[1], 12, 0.01)
        return _chroma_of_audio(y, sr, n_fft, hop_length, tuning)
    S = np.asarray(S)
    n_fft = _n_fft_of(S, int(n_fft))
    if tuning is None:
        # librosa estimates with its default n_fft (2048), i.e. 2 * (n_bins - 1)
        # whenever that does not fit S: the same except for an odd n_fft.
        tuning = estimate_tuning(S, sr, 2 * (S.shape[0] - 1), bins_per_octave=12)
    return _normalize_columns(_chroma_basis(float(sr), n_fft, 12, float(tuning)) @ S, np.inf)


def _chroma_of_audio(y: np.ndarray, sr: float, n_fft: int, hop_length: int, tuning: float) -> np.ndarray:
    basis = _chroma_basis(float(sr), int(n_fft), 12, float(tuning))
    return _normalize_columns(_filtered_power(y, n_fft, hop_length, (basis, _row_groups(basis))), np.inf)


def mel_and_chroma(y: np.ndarray, sr: float, n_fft: int = 2048, hop_length: int = 512, n_mels: int = 128,
                   fmin: float = 0.0, fmax: Optional[float] = None,
                   tuning: Optional[float] = None) -> Tuple[np.ndarray, np.ndarray]:
    """The mel spectrogram and the STFT chromagram of one power spectrogram,
    without holding that spectrogram.

    Same as ``melspectrogram(None, sr, n_fft, hop_length, n_mels, fmin, fmax,
    S=P)`` and ``chroma_stft(sr=sr, S=P)`` for ``P = power_spectrogram(y, n_fft,
    hop_length)``, to float32 rounding, but ``P`` (``(1 + n_fft // 2) * n_frames``
    floats, 640 MB for an hour at 22050 Hz and hop 512) is streamed twice block by
    block: once for the mel bands and the peaks that set the tuning, once for
    the chroma.

    With ``tuning`` given (fractions of a chroma bin from A440) nothing is
    estimated and ``P`` is streamed once, for both.

    Returns
    -------
    mel : np.ndarray, shape (n_mels, n_frames), float32
    chroma : np.ndarray, shape (12, n_frames), float32
        Tuning estimated as :func:`chroma_stft` does (12 bins per octave, on the power).
    """
    if tuning is not None:
        basis = _chroma_basis(float(sr), int(n_fft), 12, float(tuning))
        (mel, chroma), _ = _stream_power(y, n_fft, hop_length, (_mel_plan(*_mel_key(sr, n_fft, n_mels, fmin, fmax)),
                                                               (basis, _row_groups(basis))))
        return mel, _normalize_columns(chroma, np.inf)
    (mel,), found = _stream_power(y, n_fft, hop_length, (_mel_plan(*_mel_key(sr, n_fft, n_mels, fmin, fmax)),),
                                  peaks_sr=sr)
    tuning = _tuning_from_peaks(found, 12, 0.01)
    del found
    return mel, _chroma_of_audio(y, sr, n_fft, hop_length, tuning)


# --------------------------------------------------------------------------- constant-Q chroma

#: C1 (MIDI note 24, 32.70 Hz): librosa's default lowest constant-Q frequency.
_C1_HZ = 440.0 * 2.0 ** ((24 - 69) / 12.0)
#: Equivalent noise bandwidth of the Hann window in bins (librosa's tabulated value),
#: which sets how far above its centre a constant-Q filter reaches.
_HANN_ENBW = 1.50018310546875
#: Each filter's spectrum drops its smallest coefficients holding this share of
#: its L1 mass (librosa's ``sparsity=0.01``).
_CQT_SPARSITY = 0.01
#: Half-length of the factor-2 decimator: :func:`.resample.kaiser_sinc` for a
#: rate change of 1/2 (a Kaiser (beta 5) windowed sinc of 41 taps, cutoff at the
#: output's Nyquist, taps summing to 1).
_HALF_TAPS = 20
#: Outputs per row of the decimator's matrix product.
_HALF_ROW = 32
#: Input samples per constant-Q block (~48 s at 22050 Hz, plus ~1.5 s of
#: margins); bounds the decimated copies and the frame matrices.
_CQT_BLOCK_SAMPLES = 1 << 20


@functools.lru_cache(maxsize=1)
def _halfband() -> Tuple[float, np.ndarray]:
    """``(centre, odd)``: the decimator's centre tap and its taps at odd offsets
    ``-19, -17, ..., 19`` from the centre (float32); the taps at even offsets
    other than 0 are zeros of the sinc."""
    from .resample import kaiser_sinc

    h, half = kaiser_sinc(1, 2)
    assert half == _HALF_TAPS
    return float(h[_HALF_TAPS]), _readonly(h[1::2].astype(np.float32))


@functools.lru_cache(maxsize=1)
def _halfband_toeplitz() -> np.ndarray:
    """The odd taps as a matrix: ``X @ T`` filters rows of ``_HALF_ROW + 19``
    consecutive odd samples into ``_HALF_ROW`` outputs (a BLAS product instead
    of a 20-tap loop per output)."""
    _, odd = _halfband()
    T = np.zeros((_HALF_ROW + len(odd) - 1, _HALF_ROW), dtype=np.float32)
    for r in range(_HALF_ROW):
        T[r:r + len(odd), r] = odd
    return _readonly(T)


def _halve(x: np.ndarray) -> np.ndarray:
    """Low-pass ``x`` (float32) and keep every other sample: ``ceil(n / 2)``
    samples, sample ``k`` centred on input sample ``2k``, zeros beyond the ends."""
    centre, odd = _halfband()
    n_out = (len(x) + 1) // 2
    # y[k] = centre * x[2k] + sum_e odd[e] * x[2k - 19 + 2e]: a correlation of the
    # odd samples x[2j + 1] (padded with the zeros outside x) with the odd taps.
    rows = -(-n_out // _HALF_ROW)
    half = len(odd) // 2
    odds = np.zeros(rows * _HALF_ROW + len(odd) - 1, dtype=np.float32)
    src = x[1::2]
    odds[half:half + len(src)] = src
    T = _halfband_toeplitz()
    X = np.ascontiguousarray(sliding_window_view(odds, T.shape[0])[::_HALF_ROW][:rows])
    out = (X @ T).reshape(-1)[:n_out]
    out += np.float32(centre) * x[0::2][:n_out]
    return out


def _cqt_frequencies(fmin: float, n_bins: int, bins_per_octave: int, tuning: float) -> np.ndarray:
    return fmin * 2.0 ** (tuning / bins_per_octave) * 2.0 ** (np.arange(n_bins) / bins_per_octave)


def _cqt_q(freqs: np.ndarray) -> np.ndarray:
    """Quality factor ``f / bandwidth`` of each filter: the bandwidth spans half
    way to each neighbour on a log scale (one-sided at the ends), ``Q = 1/alpha``
    with ``alpha = (r**2 - 1) / (r**2 + 1)``, ``r`` the local frequency ratio."""
    if len(freqs) < 2:
        raise ValueError("a constant-Q transform needs at least 2 bins")
    logf = np.log2(freqs)
    per_octave = np.empty_like(freqs)
    per_octave[0] = 1.0 / (logf[1] - logf[0])
    per_octave[-1] = 1.0 / (logf[-1] - logf[-2])
    per_octave[1:-1] = 2.0 / (logf[2:] - logf[:-2])
    r2 = 2.0 ** (2.0 / per_octave)
    return (r2 + 1.0) / (r2 - 1.0)


def _cqt_filter_spectra(f: np.ndarray, q: np.ndarray, sr: float) -> Tuple[int, np.ndarray]:
    """``(N, B)``: the sparse spectra (rows, bins ``0..N/2``, complex128) of one
    octave's filters at sample rate ``sr``, as librosa builds them.

    Filter ``k`` is a complex sinusoid at ``f[k]`` under a periodic Hann window of
    ``L = q[k] * sr / f[k]`` samples (``floor(L/2) - floor(-L/2)`` taps), divided
    by its L1 norm, centred in ``N`` (the power of 2 above the longest ``L``) and
    scaled by ``L / N``; its FFT keeps the non-negative bins, minus the smallest
    ones holding 1 % of their L1 mass. Rounded through complex64 at the points
    librosa stores complex64, so the same coefficients survive.
    """
    lengths = q * sr / f
    n_fft = int(2.0 ** np.ceil(np.log2(lengths.max())))
    # All filters on one grid of n_fft samples: filter k occupies `count[k]`
    # samples from `start[k]`, its tap numbers running from floor(-L/2).
    first = np.floor(-lengths / 2)
    count = (np.floor(lengths / 2) - first).astype(int)
    start = (n_fft - count) // 2
    i = np.arange(n_fft)[None, :] - start[:, None]  # sample index within each filter
    inside = (i >= 0) & (i < count[:, None])
    taps = first[:, None] + i
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * i / count[:, None])  # periodic Hann
    filt = np.where(inside, np.exp(2j * np.pi * (f / sr)[:, None] * taps) * window, 0.0)
    filt /= np.sum(np.abs(filt), axis=1, keepdims=True)
    basis = filt.astype(np.complex64)
    basis *= (lengths / n_fft)[:, None]
    spec = np.fft.fft(basis.astype(np.complex128), axis=1)[:, :n_fft // 2 + 1]
    mags = np.abs(spec)
    ordered = np.sort(mags, axis=1)
    mass = np.cumsum(ordered / mags.sum(axis=1, keepdims=True), axis=1)
    cut = ordered[np.arange(len(f)), np.argmin(mass < _CQT_SPARSITY, axis=1)]
    spec[mags < cut[:, None]] = 0.0
    return n_fft, spec.astype(np.complex64).astype(np.complex128)


@functools.lru_cache(maxsize=2)
def _dft_table(n: int) -> np.ndarray:
    """``(n, n // 2 + 1, 2)`` float32: ``cos`` and ``sin`` of ``-2 pi j b / n``."""
    phase = -2.0 * np.pi * (np.outer(np.arange(n), np.arange(n // 2 + 1)) % n) / n
    return _readonly(np.stack([np.cos(phase), np.sin(phase)], axis=2).astype(np.float32))


@functools.lru_cache(maxsize=4)
def _cqt_plan(sr: float, hop_length: int, fmin: float, n_bins: int, bins_per_octave: int,
              tuning: float) -> tuple:
    """Everything :func:`_cqt_blocks` needs, per octave (highest first).

    Returns ``(early, octaves)``: ``early`` halvings of the input before the top
    octave, and per octave a tuple ``(lo, hi, level, hop, n_fft, mode, arrays)``
    for CQT bins ``lo:hi`` (``m = hi - lo`` filters), computed on the input
    halved ``level`` times with frames of ``n_fft`` samples every ``hop``.

    - ``mode == "direct"``: ``arrays = (G,)``, the filters as time kernels
      ``g[k, j] = sum_b B[k, b] e^{-2 pi i j b / n_fft}`` (what librosa's sparse
      spectra ``B`` do to a rectangular frame), real parts then imaginary parts,
      float32: ``(n_fft, 2m)``, or when ``hop`` divides ``n_fft`` its hop-long
      slices side by side, ``(hop, steps * 2m)``.
    - ``mode == "sliding"`` (cheaper where the hop is short): ``arrays = (E,
      undo, W, groups)``: the DFT on the bins the filters use, one row per frame
      sample (``(n_fft, 2 n_used)``, cos and sin interleaved), the phase to undo
      per frame ``t mod steps``, the filter spectra on those bins as a real
      ``(2 n_used, 2m)`` matrix, and its non-zero blocks (:func:`_row_groups`).
    """
    freqs = _cqt_frequencies(fmin, n_bins, bins_per_octave, tuning)
    q = _cqt_q(freqs)
    nyquist = sr / 2.0
    cutoff = float(np.max(freqs * (1.0 + 0.5 * _HANN_ENBW / q)))
    if cutoff > nyquist:
        raise ValueError(f"constant-Q filters reach {cutoff:.0f} Hz, above the Nyquist frequency "
                         f"{nyquist:.0f} Hz: lower fmin or use fewer bins")
    n_octaves = int(np.ceil(n_bins / bins_per_octave))
    # Halve the input up front while the top octave stays far below Nyquist and
    # the hop keeps enough factors of two for the octaves (librosa's rule).
    twos = (hop_length & -hop_length).bit_length() - 1
    early = min(max(0, int(np.ceil(np.log2(nyquist / cutoff)) - 1) - 1), max(0, twos - n_octaves + 1))
    base_sr, hop, level = sr / 2 ** early, hop_length // 2 ** early, early
    base_lengths = q * base_sr / freqs
    octaves = []
    shapes = None  # (f / rate, q, n_fft, spectra, E) of the octave above
    for i in range(n_octaves):
        hi = n_bins - bins_per_octave * i
        lo = max(0, hi - bins_per_octave)
        rate = base_sr / 2 ** (level - early)
        relative = freqs[lo:hi] / rate
        if (shapes is not None and len(shapes[0]) == hi - lo and np.allclose(relative, shapes[0], rtol=1e-12, atol=0)
                and np.allclose(q[lo:hi], shapes[1], rtol=1e-12, atol=0)):
            # The same filters relative to the rate (an octave lower at half the
            # rate), up to rounding: reuse their spectra.
            n_fft, B = shapes[2], shapes[3].copy()
        else:
            n_fft, B = _cqt_filter_spectra(freqs[lo:hi], q[lo:hi], rate)
            shapes = (relative, q[lo:hi], n_fft, B.copy(), {})
        # librosa scales the filters by sqrt(base_sr / rate) and each halved
        # signal by sqrt(2), then divides by sqrt(length at base_sr); the halvings
        # before the top octave scale every octave alike and are left out.
        B *= (2.0 ** (level - early) / np.sqrt(base_lengths[lo:hi]))[:, None]
        used = np.flatnonzero(np.any(B != 0, axis=0))
        m, n_used = hi - lo, len(used)
        steps = n_fft // hop if n_fft % hop == 0 else 0
        if steps >= 2 and hop * 2 * n_used + 4 * n_used * m < n_fft * 2 * m:
            # DFT of a whole frame on the used bins, one row per sample, columns
            # (cos, sin) interleaved per bin so a row of products is complex64.
            key = used.tobytes()
            if key not in shapes[4]:
                shapes[4][key] = _readonly(_dft_table(n_fft)[:, used].reshape(n_fft, 2 * n_used))
            E = shapes[4][key]
            # Phase that frame t's sum of hops is off by: e^{-2 pi i t b / steps}.
            undo = np.exp(2j * np.pi * np.outer(np.arange(steps), used) / steps).astype(np.complex64)
            # The filters on those bins as the real matrix of a complex product,
            # (re, im) interleaved per bin in and per filter out; each filter
            # uses ~23 of the bins, so groups of filters multiply only theirs.
            Bu = B[:, used].T  # (n_used, m)
            W = np.empty((n_used, 2, m, 2))
            W[:, 0, :, 0], W[:, 1, :, 0] = Bu.real, -Bu.imag
            W[:, 0, :, 1], W[:, 1, :, 1] = Bu.imag, Bu.real
            W = W.reshape(2 * n_used, 2 * m).astype(np.float32)
            groups = _row_groups(np.ascontiguousarray(W.T), rows=16)
            arrays = (E, _readonly(undo), _readonly(W), groups)
            mode = "sliding"
        else:
            full = np.zeros((m, n_fft), dtype=np.complex128)
            full[:, :n_fft // 2 + 1] = B
            g = np.fft.fft(full, axis=1)  # g[k, j] = sum_b B[k, b] exp(-2 pi i j b / N)
            G = np.concatenate([g.real.T, g.imag.T], axis=1)  # (n_fft, 2m): sample j of a frame
            if steps:  # (hop, steps * 2m): the kernels' hop-long slices side by side
                G = G.reshape(steps, hop, 2 * m).transpose(1, 0, 2).reshape(hop, steps * 2 * m)
            arrays = (_readonly(np.ascontiguousarray(G, dtype=np.float32)),)
            mode = "direct"
        octaves.append((lo, hi, level, hop, n_fft, mode, arrays))
        if hop % 2 == 0:
            hop //= 2
            level += 1
    return early, tuple(octaves)


def _cqt_n_frames(n: int, plan: tuple) -> int:
    """librosa's frame count: each octave's ``1 + len // hop``, trimmed to the fewest."""
    _, octaves = plan
    lengths = [n]
    for _ in range(max(o[2] for o in octaves)):
        lengths.append((lengths[-1] + 1) // 2)
    return min(1 + lengths[o[2]] // o[3] for o in octaves)


def _octave_response(seg: np.ndarray, offset: int, t0: int, t1: int, octave: tuple) -> np.ndarray:
    """|CQT| ``(m, t1 - t0)`` of one octave for frames ``t0:t1``; ``seg`` holds the
    octave's signal from its sample ``offset`` on (covering the frames)."""
    lo, hi, level, hop, n_fft, mode, arrays = octave
    start = t0 * hop - n_fft // 2 - offset  # first sample of frame t0 in seg
    m = hi - lo
    if mode == "direct":
        (G,) = arrays
        if n_fft % hop == 0:
            # Frame t is hops t..t+steps-1: multiply each hop by every slice of
            # the kernels once, then add the slices' products along the diagonal.
            steps = n_fft // hop
            n_hops = t1 - t0 + steps - 1
            A = seg[start:start + n_hops * hop].reshape(n_hops, hop) @ G
            R = A[:t1 - t0, :2 * m].copy()
            for q in range(1, steps):
                R += A[q:q + t1 - t0, 2 * m * q:2 * m * (q + 1)]
        else:
            span = seg[start:start + (t1 - t0 - 1) * hop + n_fft]
            R = np.ascontiguousarray(sliding_window_view(span, n_fft)[::hop]) @ G
        return np.hypot(R[:, :m], R[:, m:]).T
    # Sliding: a frame is `steps` consecutive hops. Each hop's DFT on the used
    # bins with its phase counted on the frame grid (c_u, one matrix product per
    # u mod steps), summed over `steps` hops, is the frame's DFT up to a phase
    # e^{-2 pi i t b / steps} per bin, undone before the filters apply.
    E, undo, W, groups = arrays
    steps = n_fft // hop  # a power of 2: n_fft is, and hop divides it
    n_hops = t1 - t0 + steps - 1
    hops = seg[start:start + n_hops * hop].reshape(n_hops, hop)
    c = np.empty((n_hops, E.shape[1]), dtype=np.float32)
    for r in range(steps):
        i = (r - t0) % steps
        if i < n_hops:
            np.matmul(hops[i::steps], E[r * hop:(r + 1) * hop], out=c[i::steps])
    spare = np.empty_like(c)
    width = 1
    while width < steps:  # window sums by doubling: c[u] = sum of c[u:u + width]
        np.add(c[:n_hops - width], c[width:n_hops], out=spare[:n_hops - width])
        c, spare = spare, c
        n_hops -= width
        width *= 2
    D = c[:t1 - t0].view(np.complex64)
    D *= undo[np.arange(t0, t1) % steps]
    D = D.view(np.float32)
    V = np.empty((t1 - t0, W.shape[1]), dtype=np.float32)
    for r0, r1, c0, c1 in groups:
        np.matmul(D[:, c0:c1], W[c0:c1, r0:r1], out=V[:, r0:r1])
    return np.abs(V.view(np.complex64)).T


def _cqt_blocks(y: np.ndarray, plan: tuple):
    """Yield ``(t0, C)``: |CQT| ``(n_bins, frames)`` for consecutive blocks of frames."""
    early, octaves = plan
    n = len(y)
    n_frames = _cqt_n_frames(n, plan)
    deepest = max(o[2] for o in octaves)
    align = 2 ** deepest
    hop0 = octaves[0][3] * 2 ** octaves[0][2]  # the hop in input samples
    per_block = max(1, _CQT_BLOCK_SAMPLES // hop0)
    n_bins = octaves[0][1]
    lengths = [n]
    for _ in range(deepest):
        lengths.append((lengths[-1] + 1) // 2)
    for t0 in range(0, n_frames, per_block):
        t1 = min(n_frames, t0 + per_block)
        # Samples each level must hold, from the deepest octave's frames down to
        # the input (each halving reads _HALF_TAPS samples either side).
        need = {}
        for lo, hi, level, hop, n_fft, mode, arrays in octaves:
            a, b = t0 * hop - n_fft // 2, (t1 - 1) * hop + n_fft // 2 + hop
            if level in need:
                a, b = min(a, need[level][0]), max(b, need[level][1])
            need[level] = (a, b)
        a, b = need.get(deepest, (0, 0))
        for level in range(deepest - 1, -1, -1):
            a, b = 2 * a - 2 * _HALF_TAPS, 2 * b + 2 * _HALF_TAPS
            if level in need:
                a, b = min(a, need[level][0]), max(b, need[level][1])
        a = (a // align) * align  # halvings map sample 2k to k
        seg = np.zeros(b - a, dtype=np.float32)
        lo_, hi_ = max(a, 0), min(b, n)
        if hi_ > lo_:
            seg[lo_ - a:hi_ - a] = y[lo_:hi_]
        offset = a
        C = np.empty((n_bins, t1 - t0), dtype=np.float32)
        level = 0
        for octave in octaves:
            while level < octave[2]:
                seg = _halve(seg)
                offset //= 2
                level += 1
                # The halved signal is zero outside its own length, as if the
                # whole input had been halved (and framed with zero padding).
                first, last = -offset, lengths[level] - offset
                if first > 0:
                    seg[:first] = 0.0
                if last < len(seg):
                    seg[max(last, 0):] = 0.0
            C[octave[0]:octave[1]] = _octave_response(seg, offset, t0, t1, octave)
        yield t0, C


def _cqt_setup(y, sr, hop_length, fmin, n_bins, bins_per_octave, tuning) -> Tuple[np.ndarray, tuple]:
    y = _check_audio(y)
    if int(hop_length) != hop_length or hop_length < 1:
        raise ValueError(f"hop_length={hop_length} must be a positive integer")
    if int(bins_per_octave) != bins_per_octave or bins_per_octave < 1 or n_bins < 2:
        raise ValueError("bins_per_octave must be a positive integer and n_bins at least 2")
    fmin = _C1_HZ if fmin is None else float(fmin)
    if tuning is None:
        tuning = _tuning_of_audio(y, sr, int(bins_per_octave))
    plan = _cqt_plan(float(sr), int(hop_length), fmin, int(n_bins), int(bins_per_octave), float(tuning))
    return y, plan  # blocks are copied (as float32) one at a time


def _tuning_of_audio(y: np.ndarray, sr: float, bins_per_octave: int) -> float:
    """``librosa.estimate_tuning(y=y, sr=sr, bins_per_octave=...)``: the peaks of
    the magnitude STFT (n_fft 2048, hop 512), streamed block by block."""
    found = [_spectral_peaks(mag, sr, 2048) for _, mag in _power_blocks(y, 2048, 512, magnitude=True)]
    return _tuning_from_peaks(found, bins_per_octave, 0.01)


def cqt(y: np.ndarray, sr: float = 22050, hop_length: int = 512, fmin: Optional[float] = None,
        n_bins: int = 84, bins_per_octave: int = 12, tuning: Optional[float] = 0.0) -> np.ndarray:
    """Constant-Q magnitude spectrogram.

    Approximates ``np.abs(librosa.cqt(y, sr=sr, hop_length=hop_length, fmin=fmin,
    n_bins=n_bins, bins_per_octave=bins_per_octave, tuning=tuning))`` (Hann
    filters, filter_scale 1, L1 norm, sparsity 0.01, length-scaled), computed
    the same way: the top octave from ``y``, each lower one from ``y`` low-passed
    and halved once more, as the rectangular-window STFT of its frames times the
    octave's sparse filter spectra. Only the decimator differs: a 41-tap
    Kaiser half-band filter here, librosa's default soxr there. With
    ``res_type="polyphase"`` (scipy's ``resample_poly``, the same Kaiser filter)
    librosa gives this result to float32 rounding (3e-7 of the maximum); its
    default soxr result is within ~4e-3 of the maximum (about 2 % of a bin's own
    maximum in the two lowest octaves, which pass through six decimators).

    Long inputs are processed in blocks of ~2**20 samples (the decimated
    signals and frame products of one block at a time); the work is about
    seven matrix products over the frames, one per octave.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono audio, finite.
    sr : float
        Sample rate, Hz.
    hop_length : int
        Samples between frame centres; each octave below the top halves it, so
        it should hold a factor ``2 ** (n_octaves - 1)`` (librosa's condition).
    fmin : float or None
        Frequency of bin 0 before tuning, Hz (None: C1, 32.70 Hz).
    n_bins, bins_per_octave : int
        Number of bins, and bins per octave (geometric spacing).
    tuning : float or None
        Offset from A440 in fractions of a bin; None estimates it from ``y``
        like ``librosa.estimate_tuning(y=y, sr=sr, bins_per_octave=...)``.

    Returns
    -------
    np.ndarray, shape (n_bins, n_frames), float32
        Magnitude of bin ``k`` (``fmin * 2**((k + tuning) / bins_per_octave)``
        Hz) in frame ``t`` (centred on sample ``t * hop_length``); usually
        ``n_frames = 1 + n_samples // hop_length``.
    """
    y, plan = _cqt_setup(y, sr, hop_length, fmin, n_bins, bins_per_octave, tuning)
    out = np.empty((int(n_bins), _cqt_n_frames(len(y), plan)), dtype=np.float32)
    for t0, C in _cqt_blocks(y, plan):
        out[:, t0:t0 + C.shape[1]] = C
    return out


def _cq_to_chroma(n_bins: int, bins_per_octave: int, n_chroma: int, fmin: float) -> np.ndarray:
    """Which chroma each CQT bin adds to (librosa's ``cq_to_chroma``, no window):
    ``bins_per_octave / n_chroma`` consecutive bins centred on each pitch class,
    rotated so that chroma 0 is C."""
    merge = bins_per_octave // n_chroma
    if merge * n_chroma != bins_per_octave:
        raise ValueError("bins_per_octave must be a multiple of n_chroma")
    k = np.arange(n_bins)
    chroma = ((k % bins_per_octave + merge // 2) % bins_per_octave) // merge
    midi = 12.0 * (np.log2(fmin) - np.log2(440.0)) + 69.0
    shift = int(np.round(np.mod(midi, 12) * (n_chroma / 12.0)))
    return (chroma + shift) % n_chroma


def chroma_cqt(y: np.ndarray, sr: float = 22050, hop_length: int = 512, fmin: Optional[float] = None,
               tuning: Optional[float] = None, n_chroma: int = 12, n_octaves: int = 7,
               bins_per_octave: int = 36) -> np.ndarray:
    """Constant-Q chromagram, each frame max-normalised.

    Approximates ``librosa.feature.chroma_cqt(y=y, sr=sr, hop_length=hop_length,
    fmin=fmin, tuning=tuning, n_chroma=n_chroma, n_octaves=n_octaves,
    bins_per_octave=bins_per_octave)`` (norm inf, threshold 0): the magnitudes
    of :func:`cqt` (``n_octaves * bins_per_octave`` bins from ``fmin``) summed
    into pitch classes, ``bins_per_octave / n_chroma`` neighbouring bins each.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono audio, finite.
    sr : float
        Sample rate, Hz.
    hop_length : int
        Samples between frame centres (a multiple of ``2 ** (n_octaves - 1)``).
    fmin : float or None
        Lowest CQT frequency before tuning, Hz (None: C1).
    tuning : float or None
        Offset from A440 in fractions of a CQT bin; None estimates it from ``y``
        (:func:`estimate_tuning` on its magnitude STFT, n_fft 2048, hop 512).
    n_chroma, n_octaves, bins_per_octave : int
        Pitch classes, octaves and CQT bins per octave.

    Returns
    -------
    np.ndarray, shape (n_chroma, n_frames), float32
        Energy per pitch class C, C#, ..., B; each frame divided by its
        maximum (all-zero frames stay zero); frames as :func:`cqt`'s.

    Notes
    -----
    Computed block by block: memory beyond the input and the output is a few
    tens of MB at any length (the tuning pass streams its STFT too).
    """
    n_bins = int(n_octaves) * int(bins_per_octave)
    fmin = _C1_HZ if fmin is None else float(fmin)
    target = _cq_to_chroma(n_bins, int(bins_per_octave), int(n_chroma), fmin)
    y, plan = _cqt_setup(y, sr, hop_length, fmin, n_bins, bins_per_octave, tuning)
    onehot = np.zeros((int(n_chroma), n_bins), dtype=np.float32)
    onehot[target, np.arange(n_bins)] = 1.0
    out = np.empty((int(n_chroma), _cqt_n_frames(len(y), plan)), dtype=np.float32)
    for t0, C in _cqt_blocks(y, plan):
        out[:, t0:t0 + C.shape[1]] = onehot @ C
    return _normalize_columns(out, np.inf)


# --------------------------------------------------------------------------- MFCC

@functools.lru_cache(maxsize=16)
def _dct_basis(n_in: int, n_out: int) -> np.ndarray:
    """Rows ``k < n_out`` of the orthonormal DCT-II matrix of size ``n_in`` (float64)."""
    k = np.arange(min(n_out, n_in), dtype=np.float64)[:, None]
    n = np.arange(n_in, dtype=np.float64)[None, :]
    basis = np.cos(np.pi * k * (2 * n + 1) / (2 * n_in)) * np.sqrt(2.0 / n_in)
    basis[0] /= np.sqrt(2.0)
    return _readonly(basis)


def dct_ortho(x: np.ndarray, n: int, axis: int = 0) -> np.ndarray:
    """First ``n`` coefficients of the orthonormal DCT-II along ``axis``.

    Same as ``scipy.fft.dct(x, type=2, norm="ortho", axis=axis)`` truncated to
    ``n`` coefficients: ``X[k] = s_k * sum_j x[j] * cos(pi * k * (2j + 1) / (2N))``
    with ``s_0 = sqrt(1/N)``, ``s_k = sqrt(2/N)``.

    Parameters
    ----------
    x : np.ndarray
        Real input, any shape.
    n : int
        Coefficients kept (at most ``x.shape[axis]``).
    axis : int
        Axis transformed.

    Returns
    -------
    np.ndarray
        ``x`` with ``axis`` replaced by ``min(n, N)`` coefficients, in ``x``'s
        float dtype (computed in float64).
    """
    x = np.asarray(x)
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    moved = np.moveaxis(x, axis, 0)
    basis = _dct_basis(moved.shape[0], int(n))
    flat = moved.reshape(moved.shape[0], -1)
    out = np.empty((len(basis), flat.shape[1]), dtype=dtype)
    per_block = max(1, _BLOCK_BYTES // (8 * max(1, flat.shape[0])))
    for a in range(0, flat.shape[1], per_block):  # float64 copies one block at a time
        out[:, a:a + per_block] = basis @ flat[:, a:a + per_block].astype(np.float64)
    return np.moveaxis(out.reshape((len(basis),) + moved.shape[1:]), 0, axis)


def mfcc(y: Optional[np.ndarray], sr: float, n_mfcc: int = 20, n_fft: int = 2048, hop_length: int = 512,
         n_mels: int = 128, S: Optional[np.ndarray] = None) -> np.ndarray:
    """Mel-frequency cepstral coefficients.

    Same as ``librosa.feature.mfcc(y=y, sr=sr, n_mfcc=n_mfcc, n_fft=n_fft,
    hop_length=hop_length, n_mels=n_mels)``: mel power -> dB (ref 1, 80 dB
    range) -> orthonormal DCT-II, no liftering.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,), or None
        Mono audio; ignored when ``S`` is given.
    sr : float
        Sample rate, Hz.
    n_mfcc : int
        Coefficients kept.
    n_fft, hop_length : int
        STFT length and hop, samples.
    n_mels : int
        Mel bands (0 Hz to sr/2).
    S : np.ndarray, shape (1 + n_fft // 2, n_frames), optional
        A POWER spectrogram (:func:`power_spectrogram`, not a mel or dB one)
        with this ``n_fft``; the mel filterbank is applied here.

    Returns
    -------
    np.ndarray, shape (n_mfcc, n_frames), float32
        Cepstral coefficients of the dB mel spectrum (coefficient 0 ~ loudness).
    """
    mel = melspectrogram(y, sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, S=S)
    return _mfcc_of_mel(mel, n_mfcc)


def _mfcc_of_mel(mel: np.ndarray, n_mfcc: int) -> np.ndarray:
    """MFCC of a fresh mel power spectrogram, which becomes its dB (no copy of a long song's mel)."""
    return dct_ortho(_to_db(mel, 1.0, 1e-10, 80.0, in_place=True), n_mfcc, axis=0)


def mfcc_and_tuning(y: np.ndarray, sr: float, n_mfcc: int = 20, n_fft: int = 2048, hop_length: int = 512,
                    n_mels: int = 128, bins_per_octave: int = 12) -> Tuple[np.ndarray, float]:
    """:func:`mfcc` of ``y`` and its tuning, from one streamed STFT pass.

    The tuning is :func:`estimate_tuning` of the magnitude STFT (its peaks
    voted in ``bins_per_octave`` bins): for n_fft 2048 and hop 512 that is
    ``librosa.estimate_tuning(y=y, sr=sr, bins_per_octave=...)``, what
    :func:`chroma_cqt` estimates with ``tuning=None``.

    Returns
    -------
    mfcc : np.ndarray, shape (n_mfcc, n_frames), float32
    tuning : float
        Fractions of a bin, in ``[-0.5, 0.5)``.
    """
    plan = _mel_plan(*_mel_key(sr, n_fft, n_mels, 0.0, None))
    (mel,), found = _stream_power(y, n_fft, hop_length, (plan,), peaks_sr=sr, peaks_of_magnitude=True)
    tuning = _tuning_from_peaks(found, int(bins_per_octave), 0.01)
    del found
    return _mfcc_of_mel(mel, n_mfcc), tuning


def delta(data: np.ndarray, width: int = 9) -> np.ndarray:
    """Local slope along the last axis (first-order delta features).

    Same as ``librosa.feature.delta(data, width=width)`` (a Savitzky-Golay
    first derivative of order 1, ``mode="interp"``): inside, the least-squares
    slope over ``width`` neighbours, ``sum_k k * x[t+k] / sum_k k**2``; the
    first and last ``width // 2`` frames take the slope of the line fitted to
    the first (last) ``width`` frames, i.e. the nearest inner value.

    Parameters
    ----------
    data : np.ndarray, shape (..., n_frames)
        Features over time.
    width : int
        Odd window length >= 3 and <= ``n_frames``.

    Returns
    -------
    np.ndarray, shape of ``data``
        Change per frame, in ``data``'s units; float32 for float32 input
        (float64 otherwise), computed in float64.
    """
    data = np.atleast_1d(np.asarray(data))
    width = int(width)
    if width < 3 or width % 2 != 1:
        raise ValueError(f"width must be an odd integer >= 3, not {width}")
    n = data.shape[-1]
    if width > n:
        raise ValueError(f"width={width} cannot exceed the number of frames ({n})")
    dtype = np.float32 if data.dtype == np.float32 else np.float64
    x = data.astype(np.float64)
    half = width // 2
    offsets = np.arange(-half, half + 1)
    out = np.empty(x.shape, dtype=np.float64)
    inner = out[..., half:n - half]
    inner[...] = 0.0
    for k in offsets[offsets != 0]:
        inner += k * x[..., half + k:n - half + k]
    inner /= float(np.sum(offsets ** 2))
    out[..., :half] = out[..., half:half + 1]
    out[..., n - half:] = out[..., n - half - 1:n - half]
    return out.astype(dtype)


# --------------------------------------------------------------------------- tempogram

def _next_regular(n: int) -> int:
    """Smallest 2^a 3^b 5^c >= n: an FFT length numpy transforms quickly."""
    m = max(1, n)
    while True:
        rest = m
        for p in (2, 3, 5):
            while rest % p == 0:
                rest //= p
        if rest == 1:
            return m
        m += 1


def tempogram(onset_envelope: np.ndarray, win_length: int = 384, start: int = 0,
              stop: Optional[int] = None) -> np.ndarray:
    """Autocorrelation tempogram of an onset envelope.

    Same as ``librosa.feature.tempogram(onset_envelope=onset_envelope,
    win_length=win_length)`` (centred, Hann window, norm inf): for each frame
    ``t``, the autocorrelation of the Hann-windowed ``win_length`` frames of
    the envelope centred on ``t`` (extended by linear ramps down to 0 at the
    ends), divided by its largest magnitude (normally the zero lag).

    Parameters
    ----------
    onset_envelope : np.ndarray, shape (n_frames,)
        Onset strength per frame.
    win_length : int
        Window length, frames; also the number of lags returned.
    start, stop : int
        Only columns ``start:stop`` (default all), the very values of the whole
        tempogram: a long song's (``384 * n_frames`` float64, 480 MB for an hour
        at hop 512) can be used piece by piece.

    Returns
    -------
    np.ndarray, shape (win_length, stop - start), float64
        Row ``l`` is lag ``l`` frames (a tempo of ``60 * sr / (hop * l)`` BPM);
        each column's maximum is 1 (all-zero columns stay zero). float64, as
        librosa returns (its float64 window promotes the envelope).
    """
    env = np.asarray(onset_envelope)
    if env.ndim != 1:
        raise ValueError(f"onset_envelope must be 1-D, not shape {env.shape}")
    win_length = int(win_length)
    if win_length < 1:
        raise ValueError("win_length must be a positive integer")
    n = len(env)
    half = win_length // 2
    if not np.issubdtype(env.dtype, np.floating):
        env = env.astype(np.float64)
    # Ramps in the envelope's own dtype (as librosa pads), promoted by the window.
    padded = np.pad(env, (half, half), mode="linear_ramp", end_values=(0, 0))
    if len(padded) < win_length:  # librosa cannot frame this (n == 0 with an odd window)
        raise ValueError(f"onset envelope of {n} frames is too short for win_length={win_length}")
    frames = sliding_window_view(padded, win_length)[:n]
    window = _hann(win_length)
    n_pad = _next_regular(2 * win_length - 1)
    start, stop = max(0, int(start)), n if stop is None else min(int(stop), n)
    out = np.empty((win_length, max(0, stop - start)), dtype=np.float64)
    per_block = max(1, _BLOCK_BYTES // (16 * n_pad))
    for a in range(start, stop, per_block):
        b = min(stop, a + per_block)
        spec = np.fft.rfft(frames[a:b] * window, n=n_pad, axis=-1)
        lags = np.fft.irfft(spec.real ** 2 + spec.imag ** 2, n=n_pad, axis=-1)[:, :win_length]
        out[:, a - start:b - start] = _normalize_columns(lags.T, np.inf)  # per column: blocks change nothing
    return out


# --------------------------------------------------------------------------- frames and time

def time_to_frames(times, sr: float, hop_length: int) -> np.ndarray:
    """Frame index containing each time: ``floor(int(t * sr) / hop_length)``.

    Same as ``librosa.time_to_frames(times, sr=sr, hop_length=hop_length)``.

    Parameters
    ----------
    times : float or array-like
        Seconds.
    sr : float
        Sample rate, Hz.
    hop_length : int
        Samples per frame.

    Returns
    -------
    np.ndarray of int, shape of ``times``
        Frame indices (the sample index is truncated toward zero first).
    """
    samples = (np.asanyarray(times) * sr).astype(int)
    return np.asarray(np.floor(samples // hop_length), dtype=int)


def frames_to_time(frames, sr: float, hop_length: int) -> np.ndarray:
    """Start time of each frame index: ``int(frame * hop_length) / sr``.

    Same as ``librosa.frames_to_time(frames, sr=sr, hop_length=hop_length)``.

    Parameters
    ----------
    frames : int or array-like
        Frame indices.
    sr : float
        Sample rate, Hz.
    hop_length : int
        Samples per frame.

    Returns
    -------
    np.ndarray of float64, shape of ``frames``
        Seconds.
    """
    samples = (np.asanyarray(frames) * hop_length).astype(int)
    return samples / float(sr)


def sync(data: np.ndarray, idx: Sequence[int], aggregate: Callable = np.mean) -> np.ndarray:
    """Aggregate the frames between consecutive boundaries along the last axis.

    Same as ``librosa.util.sync(data, idx, aggregate=aggregate, pad=False)`` for
    integer frame indices: boundaries outside ``[0, n_frames]`` are dropped,
    the rest sorted and de-duplicated, and segment ``i`` is
    ``aggregate(data[..., b[i]:b[i+1]], axis=-1)``.

    Parameters
    ----------
    data : np.ndarray, shape (..., n_frames)
        Features over time.
    idx : sequence of int
        Frame boundaries, >= 0 (include ``n_frames`` to close the last segment).
    aggregate : callable
        Reduction taking ``axis=`` (np.mean, np.median, np.max, ...).

    Returns
    -------
    np.ndarray, shape (..., n_segments), dtype of ``data``
        One aggregated value per segment.
    """
    data = np.asarray(data)
    bounds = np.asarray(idx)
    if bounds.size and not np.issubdtype(bounds.dtype, np.integer):
        raise ValueError(f"frame indices must be integers, not {bounds.dtype}")
    if np.any(bounds < 0):
        raise ValueError("negative frame index")
    n = data.shape[-1]
    bounds = np.unique(bounds[bounds <= n]).astype(int)
    out = np.empty(data.shape[:-1] + (max(0, len(bounds) - 1),), dtype=data.dtype)
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        out[..., i] = aggregate(data[..., a:b], axis=-1)
    return out
