"""Music in, a :class:`~.dance.Dance` out: the whole-song generation pipeline.

Steps (see ``docs/generation.md``):

1. the weights (shipped ``default`` unless given) are loaded once and cached
   by path and sha256;
2. the song is read at the model's sample rate (16 kHz), loudness-normalised
   as in training (:func:`~choreo.core.models.conditioning.normalize_loudness`);
3. beats come from the beat grid the caller gives (``beat_grid``: a JSON file
   read by :func:`~choreo.core.audio.grid.read_beat_grid`, or a BeatMap), else
   from :func:`~choreo.core.audio.beats.track_beats`; a JSON file that happens
   to sit beside the song is never read; sections from
   :func:`~choreo.core.audio.sections.find_sections`;
4. every frame's 0.1 s audio piece is encoded in chunks, windows run through
   the GRU and are blended (:mod:`.windows`), the features are denormalised
   and decoded once into joint positions from the origin, facing -y, with the
   feet on the floor.

Energy: the generator is conditioned on the target log energy of the motion;
``energy`` multiplies the corpus's mean squared joint speed, i.e. the target
is ``energy_stats[0] + log(energy)``, normalised with ``energy_stats``.
Noise: :func:`~choreo.core.models.conditioning.smooth_noise` of the seed at the
frame's absolute position in the file, so the same seed gives the same dance,
and a part of the song (``start``/``end``) regenerated with the same seed sees
the same noise as the whole song did there.

2D models (Ren et al.'s own OpenPose-18 front-view setting) make keypoints,
not a 3D dance: :func:`generate_pose2d` runs them through the same steps and
returns a :class:`~.dance2d.Dance2D`; :func:`generate_dance` refuses them.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np

from ..errors import ChoreoInputError
from ..progress import ProgressFn, report, scaled
from .dance import Dance
from .dance2d import Dance2D
from .runtime import ENCODE_CHUNK, GeneratorRuntime, runtime_from_file
from ..models.conditioning import smooth_noise
from .windows import OVERLAP_SECONDS, WINDOW_SECONDS, generate_features

#: Peak below this (about -80 dBFS) is silence: there is nothing to dance to.
SILENCE_PEAK = 1e-4
#: Energy multiplier range accepted (×0.1 to ×10 the corpus's mean squared speed).
ENERGY_RANGE = (0.1, 10.0)
_CACHE: dict[tuple[str, str], GeneratorRuntime] = {}
_CACHE_SIZE = 4
# The last song's analysis and audio codes, keyed on its samples: Generate again on
# the same strip (another seed, energy, a range) skips both. Codes depend on the
# samples and weights only, never on the seed; one song's worth is kept (~3 MB/min).
_RECENT: dict = {}


def _samples_key(y: np.ndarray, sr: int) -> tuple:
    import hashlib

    return (int(sr), len(y), hashlib.blake2b(np.ascontiguousarray(y).view(np.uint8), digest_size=16).hexdigest())


def _recent(kind: str, key, compute):
    """``compute()``, or its result for the same ``key`` the last time ``kind`` was asked."""
    hit = _RECENT.get(kind)
    if hit is not None and hit[0] == key:
        return hit[1]
    value = compute()
    _RECENT[kind] = (key, value)
    return value


# -- weights --------------------------------------------------------------------

def resolve_weights(weights: str | os.PathLike | None) -> tuple[Path, str]:
    """(file, model name) for ``weights``: None = the shipped ``default``, a
    registry name, or a file path."""
    from ..models import weights as W

    if weights is None or (isinstance(weights, str) and weights in W.registry()
                           and not os.path.exists(weights)):
        name = W.DEFAULT_MODEL if weights is None else weights
        if name not in W.registry():
            raise ChoreoInputError(W.REGISTRY, f"no {name!r} generator weights are installed yet; train "
                                               f"one (`choreo train --config configs/ren_full.json`) or "
                                               f"pass a weights file (--weights FILE)")
        return W.shipped_path(name), name
    p = Path(weights)
    return p, str(weights)


def load_generator(weights: str | os.PathLike | None = None) -> tuple[GeneratorRuntime, str]:
    """The numpy generator for ``weights`` (see :func:`resolve_weights`) and its
    model name; cached by resolved path and sha256, so repeated calls read the
    file once (and a changed file is reloaded and re-checked)."""
    from ..models.weights import sha256_file

    path, name = resolve_weights(weights)
    if not path.is_file():
        raise ChoreoInputError(path, "weights file not found")
    key = (str(path.resolve()), sha256_file(path))
    rt = _CACHE.get(key)
    if rt is None:
        rt = runtime_from_file(path)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = rt
    return rt, name


# -- audio ------------------------------------------------------------------------

def song_pieces(y: np.ndarray, sr: int, fps: float, piece: int, a: int, b: int) -> np.ndarray:
    """Audio pieces of frames ``a..b`` exactly as :func:`~choreo.core.audio.features.audio_pieces`
    cuts them (centred, zero beyond the ends), without padding the whole song."""
    starts = np.round(np.arange(a, b, dtype=np.float64) / float(fps) * sr).astype(np.int64) - piece // 2
    lo, hi = int(starts[0]), int(starts[-1]) + piece
    seg = np.zeros(hi - lo, np.float32)
    s0, s1 = max(lo, 0), min(hi, len(y))
    if s1 > s0:
        seg[s0 - lo:s1 - lo] = y[s0:s1]
    return np.lib.stride_tricks.sliding_window_view(seg, piece)[starts - lo]


def encode_song(runtime: GeneratorRuntime, y: np.ndarray, sr: int, progress: ProgressFn | None = None
                ) -> np.ndarray:
    """(T, enc_dim) audio codes of a song (``y`` at the model's rate), loudness
    normalised as in training; pieces are cut chunk by chunk, never all at once."""
    from ..audio.features import n_frames
    from ..models.conditioning import normalize_loudness

    cfg = runtime.cfg
    y = normalize_loudness(y, sr)
    T = n_frames(len(y), sr, cfg.fps)
    code = np.empty((T, cfg.enc_dim), np.float32)
    for a in range(0, T, ENCODE_CHUNK):
        b = min(T, a + ENCODE_CHUNK)
        code[a:b] = runtime.encode(song_pieces(y, sr, cfg.fps, cfg.piece_samples, a, b))
        report(progress, b / T, "audio encoder")
    return code


def _audio_duration(path: Path) -> float | None:
    try:
        import soundfile as sf

        return float(sf.info(str(path)).duration)
    except Exception:  # unreadable: load_audio reports it with the file's name
        return None


def _check_range(path: Path, start, end, duration: float | None) -> tuple[float, float | None]:
    s = 0.0 if start is None else float(start)
    e = None if end is None else float(end)
    if not math.isfinite(s) or s < 0:
        raise ChoreoInputError(path, f"start {s} s is out of range (must be >= 0)")
    if e is not None and (not math.isfinite(e) or e <= s):
        raise ChoreoInputError(path, f"end {e} s must be after start {s} s")
    if duration is not None:
        if s >= duration:
            raise ChoreoInputError(path, f"start {s:.2f} s is beyond the song's end ({duration:.2f} s)")
        if e is not None and e > duration + 0.05:
            raise ChoreoInputError(path, f"end {e:.2f} s is beyond the song's end ({duration:.2f} s)")
    return s, e


def _grid(beat_grid):
    """A BeatMap (file time) from a beat-grid file path or BeatMap; None passes through."""
    from ..audio.beats import BeatMap
    from ..audio.grid import read_beat_grid

    if beat_grid is None or isinstance(beat_grid, BeatMap):
        return beat_grid
    return read_beat_grid(beat_grid)


def _grid_part(grid, start: float, duration: float):
    """(beats, downbeats, tempo, meter) of ``grid`` inside ``start … start + duration``
    on that part's time base; all None without a grid."""
    from ..audio.grid import grid_part

    if grid is None:
        return None, None, None, None
    part = grid_part(grid, start, duration)
    return part.beats, part.downbeats, part.tempo, part.meter


# -- generation -------------------------------------------------------------------

def generate_dance(audio: str | os.PathLike, *, weights=None, seed: int = 0, energy: float = 1.0,
                   start: float | None = None, end: float | None = None, beat_grid=None,
                   progress: ProgressFn | None = None) -> Dance:
    """Generate a dance for an audio file.

    Parameters
    ----------
    audio : str or Path
        wav/flac/ogg/mp3/aiff.
    weights : str, Path or None
        Generator weights file or registry name; None = shipped ``default``.
    seed : int
        Same seed, same song, same weights → the same dance.
    energy : float
        Multiplier of the corpus's mean squared joint speed (0.1–10; 1 = typical).
    start, end : float or None
        Seconds into the file (None = its start / end).
    beat_grid : str, Path, BeatMap or None
        The song's beats (file time) instead of beat tracking: a beat-grid JSON
        file (:mod:`~choreo.core.audio.grid`) or a BeatMap.
    progress : ProgressFn, optional

    Returns
    -------
    Dance
        ``audio_start = start``; beats, downbeats and sections on the dance's time base.

    Raises
    ------
    ChoreoInputError
        Missing/unreadable/silent audio, NaN samples, start/end out of range,
        missing, corrupt or wrong weights.
    """
    return _generate_file(audio, "3d", weights, seed, energy, start, end, beat_grid, progress)


def generate_pose2d(audio: str | os.PathLike, *, weights=None, seed: int = 0, energy: float = 1.0,
                    start: float | None = None, end: float | None = None, beat_grid=None,
                    progress: ProgressFn | None = None) -> Dance2D:
    """Front-view OpenPose-18 keypoints for an audio file, from a 2D generator.

    Parameters and errors as :func:`generate_dance` (``weights`` must name a
    model trained with ``"mode": "2d"``, e.g. the shipped ``ren_2d``; a 3D model
    is refused). Windows are blended in feature space exactly as for 3D models
    and the features are the keypoints themselves
    (:func:`~choreo.core.models.representation.decode_2d`).

    Returns
    -------
    Dance2D
        ``keypoints`` (T, 18, 2): x right, z up, metres, at the model's fps.
    """
    return _generate_file(audio, "2d", weights, seed, energy, start, end, beat_grid, progress)


def _generate_file(audio, mode: str, weights, seed, energy, start, end, beat_grid, progress):
    """What generate_dance and generate_pose2d share: weights and grid first (fail
    fast), the part of the file, the grid's part or tracked beats, then the network."""
    path = Path(audio)
    runtime, model = load_generator(weights)
    _check_mode(runtime, model, mode)
    grid = _grid(beat_grid)
    s, e = _check_range(path, start, end, _audio_duration(path) if path.is_file() else None)
    from ..audio.io import load_audio

    report(progress, 0.0, "loading audio")
    y, sr = load_audio(path, sr=runtime.cfg.sample_rate, offset=s, duration=None if e is None else e - s)
    beats, downbeats, tempo, meter = _grid_part(grid, s, len(y) / sr)
    return _generate(y, sr, beats=beats, downbeats=downbeats, tempo=tempo, meter=meter, name=str(path),
                     audio_path=str(path), audio_start=s, runtime=runtime, model=model, seed=seed,
                     energy=energy, progress=scaled(progress, 0.03, 1.0), mode=mode)


def _check_mode(runtime: GeneratorRuntime, model: str, mode: str) -> None:
    have = runtime.cfg.mode
    if have == mode:
        return
    if have == "2d":
        raise ChoreoInputError(model, "a 2d generator makes front-view 2D poses (OpenPose-18), not a 3D "
                                      "dance; use a 3d model, or generate_pose2d / `choreo generate -o "
                                      "FOLDER` for OpenPose JSON")
    raise ChoreoInputError(model, f"a {have} generator makes a 3D dance, not 2D keypoints; use "
                                  f"generate_dance, or a 2d model (e.g. ren_2d)")


def generate_from_samples(y: np.ndarray, sr: int, *, beats=None, downbeats=None, audio_path: str | None = None,
                          audio_start: float = 0.0, beat_grid=None, weights=None, seed: int = 0,
                          energy: float = 1.0, progress: ProgressFn | None = None) -> Dance:
    """Generate a dance for mono samples ``y`` at ``sr`` Hz (resampled to the
    model's rate when needed).

    ``beats``/``downbeats`` (s from the start of ``y``) skip beat tracking;
    without them a ``beat_grid`` (file or BeatMap in file time, as for
    :func:`generate_dance`) gives its part from ``audio_start`` on; else the
    beats are tracked. ``audio_path`` and
    ``audio_start`` are recorded in the dance; ``audio_path`` names the audio
    in error messages. ``weights`` may also be a loaded
    :class:`~.runtime.GeneratorRuntime`. Other parameters as :func:`generate_dance`.
    """
    if isinstance(weights, GeneratorRuntime):
        runtime, model = weights, weights.name
    else:
        runtime, model = load_generator(weights)
    tempo = meter = None
    if beats is None and beat_grid is not None and sr > 0:
        beats, downbeats, tempo, meter = _grid_part(_grid(beat_grid), float(audio_start), np.size(y) / sr)
    return _generate(np.asarray(y), sr, beats=beats, downbeats=downbeats, tempo=tempo, meter=meter,
                     name=audio_path or "audio samples", audio_path=audio_path, audio_start=audio_start,
                     runtime=runtime, model=model, seed=seed, energy=energy, progress=progress)


def _generate(y, sr, *, beats, downbeats, tempo, meter, name, audio_path, audio_start, runtime, model,
              seed, energy, progress, mode: str = "3d") -> Dance | Dance2D:
    from ..audio.beats import MIN_BPM, track_beats

    cfg = runtime.cfg
    _check_mode(runtime, model, mode)
    seed = _check_seed(seed)
    energy = _check_energy(energy)
    audio_start = float(audio_start)
    if not (math.isfinite(audio_start) and audio_start >= 0):
        raise ChoreoInputError(name, f"audio_start {audio_start} must be >= 0")
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ChoreoInputError(name, f"samples must be mono (1-D), got shape {y.shape}")
    if y.size == 0:
        raise ChoreoInputError(name, "contains no audio samples")
    if not np.all(np.isfinite(y)):
        raise ChoreoInputError(name, "contains NaN or infinite samples")
    peak = float(np.max(np.abs(y)))
    if peak < SILENCE_PEAK:
        db = 20 * math.log10(max(peak, 1e-12))
        raise ChoreoInputError(name, f"audio is silent (peak {db:.0f} dBFS): nothing to dance to")
    if sr != cfg.sample_rate:
        from ..audio.resample import resample

        y = resample(y, sr, cfg.sample_rate)
        sr = cfg.sample_rate
    t0 = time.perf_counter()
    duration = len(y) / sr
    song = _samples_key(y, sr)

    # Beats and sections (the analysis: slower than the model itself).
    if beats is None:
        if duration >= 4 * 60.0 / MIN_BPM:
            bm = _recent("beats", song, lambda: track_beats(y, sr, progress=scaled(progress, 0.0, 0.5), name=name))
            beats, downbeats, tempo, meter = bm.beats.copy(), bm.downbeats.copy(), float(bm.tempo), int(bm.meter)
        else:  # shorter than one bar at the slowest tempo: no grid to find
            beats, downbeats, tempo, meter = np.zeros(0), np.zeros(0), 0.0, 4
    else:
        beats = np.asarray(beats, np.float64).ravel()
        downbeats = np.zeros(0) if downbeats is None else np.asarray(downbeats, np.float64).ravel()
        if not (np.all(np.isfinite(beats)) and np.all(np.isfinite(downbeats))):
            raise ChoreoInputError(name, "beat times must be finite")
        if tempo is None:
            tempo = 60.0 / float(np.median(np.diff(beats))) if len(beats) > 1 else 0.0
        meter = meter or _meter(beats, downbeats)
    grid = (np.asarray(beats, np.float64).tobytes(), np.asarray(downbeats, np.float64).tobytes(), meter)
    sections = _recent("sections", (song, grid), lambda: _sections(y, sr, tempo, beats, downbeats, meter)).copy()
    report(progress, 0.6, "sections")

    music = dict(beats=beats, downbeats=downbeats, sections=sections, audio_path=audio_path,
                 audio_start=audio_start, tempo=float(tempo), model=model, seed=seed, energy=energy)
    if mode == "2d":
        keypoints, _ = generate_keypoints(runtime, y, sr, seed=seed, energy=energy, audio_start=audio_start,
                                          name=name, progress=scaled(progress, 0.6, 0.98))
        report(progress, 1.0, f"done in {time.perf_counter() - t0:.1f} s")
        return Dance2D(keypoints=keypoints, fps=float(cfg.fps), **music)
    motion, _ = generate_motion(runtime, y, sr, seed=seed, energy=energy, audio_start=audio_start,
                                name=name, progress=scaled(progress, 0.6, 0.98))
    report(progress, 1.0, f"done in {time.perf_counter() - t0:.1f} s")
    return Dance(motion=motion, **music)


def generate_motion(runtime: GeneratorRuntime, y: np.ndarray, sr: int, *, seed: int = 0, energy: float = 1.0,
                    audio_start: float = 0.0, name: str = "audio samples", progress: ProgressFn | None = None):
    """The model part of generation: (Motion, window plan) for samples ``y`` at the
    model's rate; no beat tracking, no input checks beyond the model's output."""
    _check_mode(runtime, getattr(runtime, "name", name), "3d")
    feats, plan = _features(runtime, y, sr, seed=seed, energy=energy, audio_start=audio_start,
                            progress=progress)
    return _decode(feats, runtime.cfg.fps, name), plan


def generate_keypoints(runtime: GeneratorRuntime, y: np.ndarray, sr: int, *, seed: int = 0,
                       energy: float = 1.0, audio_start: float = 0.0, name: str = "audio samples",
                       progress: ProgressFn | None = None):
    """The model part of 2D generation: ((T, 18, 2) front-view keypoints, window plan)."""
    from ..models.representation import decode_2d

    _check_mode(runtime, getattr(runtime, "name", name), "2d")
    feats, plan = _features(runtime, y, sr, seed=seed, energy=energy, audio_start=audio_start,
                            progress=progress)
    if not np.all(np.isfinite(feats)):
        raise ChoreoInputError(name, "the generator produced non-finite poses (are the weights sane?)")
    return decode_2d(feats), plan


def _features(runtime: GeneratorRuntime, y: np.ndarray, sr: int, *, seed: int, energy: float,
              audio_start: float, progress: ProgressFn | None):
    """Blended, denormalised pose features of the whole song and the window plan."""
    cfg = runtime.cfg
    # the cached value holds the runtime, so its id cannot be reused by other weights
    key = (_samples_key(y, sr), id(runtime))
    code = _recent("codes", key, lambda: (runtime, encode_song(runtime, y, sr,
                                                                progress=scaled(progress, 0.0, 0.6))))[1]
    T = len(code)
    cond = np.empty((T, cfg.cond_dim), np.float32)
    cond[:, 0] = math.log(energy) / float(runtime.energy_stats[1])
    cond[:, 1:] = smooth_noise(seed, T, cfg, offset_frames=int(round(audio_start * cfg.fps)))
    window = int(round(WINDOW_SECONDS * cfg.fps))
    overlap = int(round(OVERLAP_SECONDS * cfg.fps))
    feats, plan = generate_features(runtime, code, cond, window=window, overlap=overlap,
                                    progress=scaled(progress, 0.6, 0.95))
    return feats, plan


def _check_seed(seed) -> int:
    try:
        s = int(seed)
    except (TypeError, ValueError):
        raise ChoreoInputError("seed", f"must be an integer, not {seed!r}") from None
    if s < 0:
        raise ChoreoInputError("seed", f"must be >= 0, not {s}")
    return s


def _check_energy(energy) -> float:
    try:
        e = float(energy)
    except (TypeError, ValueError):
        raise ChoreoInputError("energy", f"must be a number, not {energy!r}") from None
    lo, hi = ENERGY_RANGE
    if not (math.isfinite(e) and lo <= e <= hi):
        raise ChoreoInputError("energy", f"{e} is out of range ({lo}–{hi}; 1 = the corpus's typical energy)")
    return e


def _meter(beats: np.ndarray, downbeats: np.ndarray) -> int:
    if len(downbeats) < 2 or len(beats) < 2:
        return 4
    per_bar = np.diff(np.searchsorted(beats, downbeats - 1e-6))
    return int(np.median(per_bar)) if len(per_bar) else 4


def _sections(y, sr, tempo, beats, downbeats, meter) -> np.ndarray:
    from ..audio.beats import BeatMap
    from ..audio.sections import find_sections

    if len(downbeats) < 8:  # find_sections needs 2 x 4 bars to split a song
        return np.zeros(1)
    secs = find_sections(y, sr, BeatMap(tempo, np.asarray(beats), np.asarray(downbeats), meter))
    return np.array([float(s) for s, _, _ in secs], np.float64)


# The generator's frame-to-frame jitter (mean joint acceleration ≈17 m/s² against
# ≈5 in the corpus) is removed by a Gaussian of 50 ms — the field's kinematic
# smoothing constant — over the features before decoding: acceleration then
# matches the corpus and Bailando BAS rises (0.21 → 0.26 on a 40-s tango).
SMOOTH_SECONDS = 0.05


def _decode(feats: np.ndarray, fps: float, name: str):
    """Joint positions from the origin facing -y, de-jittered, with constant
    bone lengths (the generator lets them vary ≈15 %), feet on the floor."""
    from ..models.representation import decode_3d
    from ..signal import gaussian_filter1d

    if not np.all(np.isfinite(feats)):
        raise ChoreoInputError(name, "the generator produced non-finite poses (are the weights sane?)")
    if len(feats) > 1:
        feats = gaussian_filter1d(np.asarray(feats, np.float64), SMOOTH_SECONDS * fps, axis=0, mode="nearest")
    motion = decode_3d(feats, fps)
    return motion.with_bone_lengths().on_floor()
