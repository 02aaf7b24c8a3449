"""Music in, a :class:`~.dance.Dance` out: the whole-song generation pipeline, shared by
every generator family (:mod:`.families`).

Steps (see ``docs/generation.md``):

1. seed and energy are checked (:func:`check_seed`, :func:`check_energy`)
   before anything is read; the weights (shipped ``default`` unless given) are
   loaded once by the family their metadata names and cached by path and sha256;
2. the whole song is read at the generator's sample rate, block by block;
3. beats come from the beat grid the caller gives (``beat_grid``: a JSON file
   read by :func:`~choreo.core.audio.grid.read_beat_grid`, or a BeatMap), else
   from :func:`~choreo.core.audio.beats.track_beats`; a JSON file that happens
   to sit beside the song is never read; sections from
   :func:`~choreo.core.audio.sections.find_sections`; all of it, with the part
   to dance, is one :class:`~.song.Song`;
4. the generator makes pose features of the part and of the frames the
   de-jittering and clean-up reach either side (:meth:`~.families.Generator.generate`);
5. by the generator's output: 3D features are de-jittered and decoded once into
   joint positions from the origin, facing -y, with the feet on the floor, then
   cleaned up; 2D features are the keypoints.

Energy: ``energy`` multiplies the corpus's mean squared joint speed; it is one
number or an :class:`~.energy.EnergyCurve` (multipliers at seconds into the song
file), and a family conditions each frame on it at the frame's own file time.
Noise: the seed decides the variation, the same seed giving the same dance.
Clean-up: every decoded 3D dance goes through :func:`~choreo.core.cleanup.clean_dance`
(turning and travel as the ``stage`` plan says, legs apart, on the floor, feet planted).
A part (``start``/``end``) is the whole song's dance there: it starts on the
song frame nearest ``start`` and a family makes it as inside the whole song;
only its decoding starts afresh (at the origin facing -y, bone lengths and floor
set from the part). Its beats are the whole song's there, its sections the part's.

Generators of 2D keypoints (Ren et al.'s OpenPose-18 front view) go through the
same steps in :func:`generate_pose2d`, which returns a :class:`~.dance2d.Dance2D`;
:func:`generate_dance` refuses them, and :func:`generate_pose2d` 3D ones.
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
# ENERGY_RANGE and check_energy live in .energy (one check for a number and a curve); kept importable here
from .energy import ENERGY_RANGE, EnergyCurve, check_energy, mean_energy  # noqa: F401
from ..cleanup import StagePlan
from ..models.representation import OPENPOSE18, OUTPUTS, SMPL24
from .families import Family, Generator, get_family, load_file
from .song import Song, recent, samples_key

#: Peak below this (about -80 dBFS) is silence: there is nothing to dance to.
SILENCE_PEAK = 1e-4
#: Seeds accepted (inclusive): every one is stored exactly by a dance file's int64.
SEED_RANGE = (0, 2**63 - 1)
_CACHE: dict[tuple[str, str], Generator] = {}
_CACHE_SIZE = 4


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


def load_generator(weights: str | os.PathLike | None = None, options: dict | None = None) -> tuple[Generator, str]:
    """The generator for ``weights`` (see :func:`resolve_weights`), loaded by its
    family (:func:`~.families.load_file`), and its model name; cached by resolved
    path and sha256, so repeated calls read the file once (and a changed file is
    reloaded and re-checked). ``options`` are the family's own settings (e.g.
    DanceIt's ``library``), given to its ``with_options``; a family without any refuses them."""
    from ..models.weights import sha256_file

    if hasattr(weights, "generate"):  # already loaded
        return with_options(weights, options, weights.name), str(weights.name)

    path, name = resolve_weights(weights)
    if not path.is_file():
        raise ChoreoInputError(path, "weights file not found")
    key = (str(path.resolve()), sha256_file(path))
    rt = _CACHE.get(key)
    if rt is None:
        rt = load_file(path)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = rt
    return with_options(rt, options, name), name


def with_options(gen: Generator, options: dict | None, name) -> Generator:
    """``gen`` with its family's ``options`` set (none: ``gen`` itself)."""
    options = {k: v for k, v in (options or {}).items() if v is not None}
    if not options:
        return gen
    if not hasattr(gen, "with_options"):
        raise ChoreoInputError(name, f"a {gen.family} generator takes no options "
                                     f"({', '.join(sorted(options))} are for other families, e.g. danceit)")
    return gen.with_options(**options)


def family_of(weights=None) -> Family:
    """The family of ``weights``: a registry name, a file, None (the shipped default)
    or a loaded generator."""
    gen = weights if hasattr(weights, "generate") else load_generator(weights)[0]
    return get_family(gen.family)


# -- audio ------------------------------------------------------------------------

def _part(n_samples: int, sr: int, fps: float, start: float | None, end: float | None, name: str):
    """``(a, b, i0, i1)``: song frames ``a .. b - 1`` and samples ``i0 .. i1 - 1`` of
    the part ``start … end`` (seconds into the samples; None: their start / end).

    The part starts on the song frame nearest ``start``, so its frames are the
    whole song's own frames (and its windows the whole song's windows)."""
    from ..audio.features import n_frames

    T = n_frames(n_samples, sr, fps)
    a = min(int(round((start or 0.0) * fps)), T)
    i0 = min(int(round(a / fps * sr)), n_samples)
    i1 = n_samples if end is None else min(n_samples, int(round(end * sr)))
    b = min(T, a + n_frames(max(i1 - i0, 0), sr, fps))
    if b <= a:
        raise ChoreoInputError(name, "contains no audio samples in the requested range")
    return a, b, i0, i1


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


# -- generation -------------------------------------------------------------------

def generate_dance(audio: str | os.PathLike, *, weights=None, seed: int = 0, energy: float | EnergyCurve = 1.0,
                   start: float | None = None, end: float | None = None, beat_grid=None,
                   stage: StagePlan | None = None, options: dict | None = None,
                   progress: ProgressFn | None = None) -> Dance:
    """Generate a dance for an audio file.

    Parameters
    ----------
    audio : str or Path
        wav/flac/ogg/mp3/aiff.
    weights : str, Path or None
        Generator weights file or registry name, of any family making 3D motion;
        None = shipped ``default``.
    seed : int
        Same seed, same song, same weights → the same dance; ``0 <= seed < 2**63``
        (:data:`SEED_RANGE`, what the dance file stores).
    energy : float or EnergyCurve
        Multiplier of the corpus's mean squared joint speed (0.1–10; 1 = typical),
        or an :class:`~.energy.EnergyCurve` of multipliers over seconds into the
        file (the dance records its mean over the dance's frames as ``energy``, and
        the curve as ``energy_curve``). Seed and energy are checked before any file is read.
    start, end : float or None
        Seconds into the file (None = its start / end).
    beat_grid : str, Path, BeatMap or None
        The song's beats (file time) instead of beat tracking: a beat-grid JSON
        file (:mod:`~choreo.core.audio.grid`) or a BeatMap.
    stage : StagePlan or None
        Turning, travel and stage size (:class:`~choreo.core.cleanup.stage.StagePlan`;
        None = its defaults: half the generated sustained turning and travel, a 4 × 4 m stage).
    options : dict or None
        The family's own settings (:func:`load_generator`), e.g. DanceIt's ``library``.
    progress : ProgressFn, optional

    Returns
    -------
    Dance
        ``audio_start = start``; beats, downbeats and sections on the dance's time base.

    Raises
    ------
    ChoreoInputError
        Seed or energy out of range, missing/unreadable/silent audio, NaN
        samples, start/end out of range, missing, corrupt or wrong weights.
    """
    return _generate_file(audio, SMPL24, weights, seed, energy, start, end, beat_grid, progress, stage, options)


def generate_pose2d(audio: str | os.PathLike, *, weights=None, seed: int = 0, energy: float | EnergyCurve = 1.0,
                    start: float | None = None, end: float | None = None, beat_grid=None,
                    progress: ProgressFn | None = None) -> Dance2D:
    """Front-view OpenPose-18 keypoints for an audio file, from a 2D generator.

    Parameters and errors as :func:`generate_dance` (``weights`` must make
    2D keypoints, e.g. the shipped ``ren_2d``; a 3D model is refused). The
    features are the keypoints themselves
    (:func:`~choreo.core.models.representation.decode_2d`).

    Returns
    -------
    Dance2D
        ``keypoints`` (T, 18, 2): x right, z up, metres, at the model's fps.
    """
    return _generate_file(audio, OPENPOSE18, weights, seed, energy, start, end, beat_grid, progress)


def _generate_file(audio, output: str, weights, seed, energy, start, end, beat_grid, progress, stage=None,
                   options=None):
    """What generate_dance and generate_pose2d share: seed, energy, weights and grid
    first (fail fast), the part of the file, the grid's part or tracked beats, then the network."""
    seed, energy = check_seed(seed), check_energy(energy)  # before any file is read
    stage = (stage or StagePlan()).checked()
    path = Path(audio)
    gen, model = load_generator(weights, options)
    check_output(gen, model, output, lift=True)
    grid = _grid(beat_grid)
    from ..audio.io import check_audio_file, load_audio

    check_audio_file(str(path))  # missing, cut-off or not audio: said before any decoder reads it
    s, e = _check_range(path, start, end, _audio_duration(path))

    report(progress, 0.0, "loading audio")
    # The whole song, also for a part: a part is the whole song's dance there (same
    # loudness level, same windows), so it needs the song's level and the audio of
    # the windows that reach past the part's edges.
    y, sr = load_audio(path, sr=gen.sample_rate)
    return _generate(y, sr, beats=None, downbeats=None, grid=grid, start=s, end=e, name=str(path),
                     audio_path=str(path), audio_start=0.0, gen=gen, model=model, seed=seed,
                     energy=energy, progress=scaled(progress, 0.03, 1.0), output=output, stage=stage)


#: How to get each output, and shipped weights that make it: for the refusal of the other.
_ENTRY = {SMPL24: ("generate_dance", "default"),
          OPENPOSE18: ("generate_pose2d or `choreo generate -o FOLDER` (OpenPose JSON)", "ren_2d")}


def check_output(gen: Generator, model: str, output: str, lift: bool = False) -> None:
    """:class:`ChoreoInputError` naming ``model`` unless ``gen`` makes ``output`` (or, with ``lift``,
    2D keypoints for a 3D output: the whole pipeline lifts a 2D family's dance onto the skeleton)."""
    have = gen.output
    if have != output and not (lift and have == OPENPOSE18 and output == SMPL24):
        raise ChoreoInputError(model, f"a {gen.family} generator of {OUTPUTS[have]}, not {OUTPUTS[output]}: use "
                                      f"{_ENTRY[have][0]}, or weights of {OUTPUTS[output]} (e.g. {_ENTRY[output][1]})")


def generate_from_samples(y: np.ndarray, sr: int, *, beats=None, downbeats=None, audio_path: str | None = None,
                          audio_start: float = 0.0, beat_grid=None, weights=None, seed: int = 0,
                          energy: float | EnergyCurve = 1.0, start: float | None = None,
                          end: float | None = None, stage: StagePlan | None = None, options: dict | None = None,
                          progress: ProgressFn | None = None) -> Dance:
    """Generate a dance for mono samples ``y`` at ``sr`` Hz (resampled to the
    model's rate when needed).

    ``start``/``end`` (seconds into ``y``) dance only that part, as
    :func:`generate_dance` does a part of a file: with the whole song in ``y``
    the part is the whole song's dance there. ``beats``/``downbeats`` (s from
    the start of ``y``) skip beat tracking; without them a ``beat_grid`` (file
    or BeatMap in file time, as for :func:`generate_dance`) gives its part;
    else the beats of the whole of ``y`` are tracked (once: kept for the next part)
    and cut to the part. ``audio_path`` is recorded in the
    dance and names the audio in error messages; ``audio_start`` is the file
    time of ``y[0]`` (the dance records where its part starts). ``weights``
    may also be a generator from :func:`load_generator`. An
    :class:`~.energy.EnergyCurve` ``energy`` is in file seconds: ``y[0]`` is at
    ``audio_start``. Other parameters as :func:`generate_dance`.
    """
    seed, energy = check_seed(seed), check_energy(energy)  # before the weights are read
    stage = (stage or StagePlan()).checked()
    gen, model = load_generator(weights, options)  # ``options``: the family's own, as for generate_dance
    name = audio_path or "audio samples"
    start, end = _check_range(name, start, end, np.size(y) / sr if sr > 0 else None)
    return _generate(np.asarray(y), sr, beats=beats, downbeats=downbeats, grid=_grid(beat_grid), start=start,
                     end=end, name=name, audio_path=audio_path, audio_start=audio_start, gen=gen,
                     model=model, seed=seed, energy=energy, progress=progress, stage=stage)


def _generate(y, sr, *, beats, downbeats, grid, start, end, name, audio_path, audio_start, gen: Generator, model,
              seed, energy, progress, output: str = SMPL24, stage: StagePlan | None = None) -> Dance | Dance2D:
    """The dance of the part ``start … end`` (s into ``y``; the whole of ``y`` for
    None) of samples ``y`` whose first sample is ``audio_start`` s into the file."""
    check_output(gen, model, output, lift=True)
    analysed, music = analyse_part(y, sr, fps=gen.fps, sample_rate=gen.sample_rate, beats=beats, downbeats=downbeats,
                                   grid=grid, start=start, end=end, name=name, audio_path=audio_path,
                                   audio_start=audio_start, model=model, seed=seed, energy=energy,
                                   progress=progress)
    t0 = time.perf_counter()
    poses, _ = dance_song(gen, analysed, seed=seed, energy=energy, stage=stage, progress=scaled(progress, 0.6, 0.98))
    if hasattr(gen, "provenance"):  # a family that assembles moves says where each came from
        a, b = analysed.part
        t0_part, t1_part = analysed.audio_start + a / gen.fps, analysed.audio_start + b / gen.fps
        music["sources"] = tuple(p for p in gen.provenance(analysed, seed=seed, energy=energy)
                                 if p["song_end_s"] > t0_part and p["song_start_s"] < t1_part)
    report(progress, 1.0, f"done in {time.perf_counter() - t0:.1f} s")
    if output == OPENPOSE18:
        return Dance2D(keypoints=poses, fps=float(gen.fps), **music)
    if gen.output == OPENPOSE18:  # a 2D family's front view, lifted to 3D for a rig
        from ..lift import lift_front_view

        poses = lift_front_view(poses, gen.fps)
    return Dance(motion=poses, **music)


def analyse_part(y, sr, *, fps: float, sample_rate: int, beats=None, downbeats=None, grid=None, start=None,
                 end=None, name: str, audio_path, audio_start: float, model, seed: int = 0, energy=1.0,
                 progress: ProgressFn | None = None) -> tuple[Song, dict]:
    """The analysed :class:`Song` of the part ``start … end`` (s into ``y``) of samples ``y`` whose
    first sample is ``audio_start`` s into the file, at a dance's ``fps``, resampled to
    ``sample_rate``; and the :class:`~.dance.DanceMusic` fields of a dance of it. Every family's
    dance, and a dance lifted from 2D with its song, hears the music through this."""
    from ..audio.beats import MIN_SECONDS, BeatMap, track_beats
    from ..audio.grid import grid_part

    audio_start = float(audio_start)
    if not (math.isfinite(audio_start) and audio_start >= 0):
        raise ChoreoInputError(name, f"audio_start {audio_start} must be >= 0")
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ChoreoInputError(name, f"samples must be mono (1-D), got shape {y.shape}")
    if y.size == 0:
        raise ChoreoInputError(name, "contains no audio samples")
    lo, hi = float(y.min()), float(y.max())  # NaN and inf show here, with no song-sized temporary
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ChoreoInputError(name, "contains NaN or infinite samples")
    if sr != sample_rate:
        from ..audio.resample import resample

        y = resample(y, sr, sample_rate)
        sr = sample_rate
    a, b, i0, i1 = _part(len(y), sr, fps, start, end, name)
    part = y[i0:i1]  # a view: sections and the silence check are the part's
    peak = max(float(part.max()), -float(part.min()))
    if peak < SILENCE_PEAK:
        db = 20 * math.log10(max(peak, 1e-12))
        raise ChoreoInputError(name, f"audio is silent (peak {db:.0f} dBFS): nothing to dance to")
    t0 = time.perf_counter()
    offset = a / fps  # the part's start in y; y[0] is audio_start s into the file
    duration = len(part) / sr
    part_key, song_key = samples_key(part, sr), samples_key(y, sr)

    # Beats and sections (the analysis: slower than the model itself).
    tempo = meter = song_grid = None
    if beats is not None:  # given on y's time base: the part's, on its own
        given = BeatMap(0.0, np.asarray(beats, np.float64).ravel(),
                        np.zeros(0) if downbeats is None else np.asarray(downbeats, np.float64).ravel(), 0)
        if not (np.all(np.isfinite(given.beats)) and np.all(np.isfinite(given.downbeats))):
            raise ChoreoInputError(name, "beat times must be finite")
        song_grid = given
        if offset or end is not None:
            given = grid_part(given, offset, duration)
        beats, downbeats = given.beats, given.downbeats
    elif grid is not None:
        g = grid_part(grid, audio_start + offset, duration)
        beats, downbeats, tempo, meter = g.beats, g.downbeats, g.tempo, g.meter
        song_grid = BeatMap(grid.tempo, np.asarray(grid.beats) - audio_start, np.asarray(grid.downbeats) - audio_start,
                            grid.meter)
    if beats is None:
        if len(y) / sr >= MIN_SECONDS:  # tracked on the whole song (once) and cut to the part, so a part's
            # tempo, downbeats and accents (and with them the seed's noise) are the whole dance's
            song_grid = recent("beats", song_key,
                               lambda: track_beats(y, sr, progress=scaled(progress, 0.0, 0.5), name=name))
            g = grid_part(song_grid, offset, duration)
            beats, downbeats, tempo, meter = g.beats, g.downbeats, g.tempo, g.meter
        else:  # shorter than one bar at the slowest tempo: no grid to find
            beats, downbeats, tempo, meter = np.zeros(0), np.zeros(0), 0.0, 4
    else:
        if tempo is None:
            tempo = 60.0 / float(np.median(np.diff(beats))) if len(beats) > 1 else 0.0
        meter = meter or meter_of(beats, downbeats)
    key = (np.asarray(beats, np.float64).tobytes(), np.asarray(downbeats, np.float64).tobytes(), meter)
    sections, labels = recent("sections", (part_key, key), lambda: _sections(part, sr, tempo, beats, downbeats, meter))
    sections = sections.copy()
    report(progress, 0.6, "sections")

    analysed = Song(samples=y, sr=sr, fps=fps, part=(a, b), name=name, audio_start=audio_start, beats=beats,
                    downbeats=downbeats, tempo=float(tempo), meter=int(meter), sections=sections,
                    section_labels=labels, grid=song_grid, samples_id=song_key)
    frame_times = audio_start + np.arange(a, b) / fps  # file seconds of the dance's frames
    music = dict(beats=beats, downbeats=downbeats, sections=sections, section_labels=labels, audio_path=audio_path,
                 audio_start=audio_start + offset, tempo=float(tempo), model=model, seed=seed,
                 energy=mean_energy(energy, frame_times),
                 energy_curve=energy if isinstance(energy, EnergyCurve) else None)
    report(progress, 0.6, f"music analysed in {time.perf_counter() - t0:.1f} s")
    return analysed, music


def dance_song(gen: Generator, song: Song, *, seed: int, energy: float | EnergyCurve = 1.0,
               stage: StagePlan | None = None, progress: ProgressFn | None = None):
    """``(poses, windows)`` of ``song``'s part by ``gen``: for 3D motion a
    :class:`~choreo.core.motion.Motion`, de-jittered, decoded from the origin and
    cleaned up (:func:`_decode`); for 2D keypoints a (T, 18, 2) array. The generator
    makes the part with the frames the de-jittering and clean-up reach either side."""
    from ..models.representation import decode_2d

    a, b = song.part
    margin = _smooth_margin(gen.fps) + _clean_margin(gen.fps)
    lo, hi = max(0, a - margin), min(song.n_frames, b + margin)
    feats, windows = gen.generate(song, seed=seed, energy=energy, frames=(lo, hi), progress=progress)
    keep = slice(a - lo, b - lo)
    if gen.output == SMPL24:
        return _decode(feats, gen.fps, song.name, keep, stage, song.beats), windows
    feats = feats[keep]
    if not np.all(np.isfinite(feats)):
        raise ChoreoInputError(song.name, "the generator produced non-finite poses (are the weights sane?)")
    return decode_2d(feats), windows


def _model_only(gen: Generator, output: str, y: np.ndarray, sr: int, *, seed, energy, audio_start, frames, name,
                tempo, downbeat, beats=None, stage=None, progress=None):
    """:func:`dance_song` of samples ``y`` at the generator's rate, with the beats given (no analysis)."""
    from ..audio.features import n_frames

    check_output(gen, getattr(gen, "name", name), output)
    part = (0, n_frames(len(y), sr, gen.fps)) if frames is None else (int(frames[0]), int(frames[1]))
    song = Song(samples=y, sr=sr, fps=gen.fps, part=part, name=name, audio_start=audio_start,
                beats=np.zeros(0) if beats is None else np.asarray(beats),
                downbeats=np.zeros(0) if downbeat is None else np.array([float(downbeat)]), tempo=tempo)
    return dance_song(gen, song, seed=seed, energy=energy, stage=stage, progress=progress)


def generate_motion(gen: Generator, y: np.ndarray, sr: int, *, seed: int = 0,
                    energy: float | EnergyCurve = 1.0,
                    audio_start: float = 0.0, frames: tuple[int, int] | None = None,
                    name: str = "audio samples", tempo: float | None = None, downbeat: float | None = None,
                    stage: StagePlan | None = None, beats=None, progress: ProgressFn | None = None):
    """The model part of generation: (Motion, window plan) for samples ``y`` at the
    model's rate, or for its frames ``frames = (a, b)`` only: those are the whole
    song's dance there, decoded from the origin and cleaned up
    (:func:`~choreo.core.cleanup.clean_dance` with ``stage``); no beat tracking,
    no input checks beyond the model's output. ``tempo`` (BPM) and ``downbeat`` (s from
    the first frame asked for; None: the first of ``beats``) put the seed's noise knots
    on the beat, counted from a downbeat
    (:func:`~choreo.core.models.conditioning.musical_noise_period`);
    ``beats`` (s from the first frame asked for) are where the dance's accents go.
    ``energy``: a multiplier or an :class:`~.energy.EnergyCurve` in file seconds
    (``y[0]`` at ``audio_start``)."""
    return _model_only(gen, SMPL24, y, sr, seed=seed, energy=energy, audio_start=audio_start, frames=frames,
                       name=name, tempo=tempo, downbeat=downbeat, beats=beats, stage=stage, progress=progress)


def generate_keypoints(gen: Generator, y: np.ndarray, sr: int, *, seed: int = 0,
                       energy: float | EnergyCurve = 1.0, audio_start: float = 0.0,
                       frames: tuple[int, int] | None = None,
                       name: str = "audio samples", tempo: float | None = None, downbeat: float | None = None,
                       progress: ProgressFn | None = None):
    """The model part of 2D generation: ((T, 18, 2) front-view keypoints, window plan)."""
    return _model_only(gen, OPENPOSE18, y, sr, seed=seed, energy=energy, audio_start=audio_start, frames=frames,
                       name=name, tempo=tempo, downbeat=downbeat, progress=progress)


def check_seed(seed) -> int:
    """``seed`` as an int in :data:`SEED_RANGE` (``0 <= seed < 2**63``), else
    :class:`ChoreoInputError`. The bound is what a dance file stores (int64)."""
    if isinstance(seed, bool) or (isinstance(seed, float) and not seed.is_integer()):
        raise ChoreoInputError("seed", f"must be a whole number, not {seed!r}")
    try:
        s = int(seed)
    except (TypeError, ValueError, OverflowError):
        raise ChoreoInputError("seed", f"must be an integer, not {seed!r}") from None
    lo, hi = SEED_RANGE
    if not lo <= s <= hi:
        raise ChoreoInputError("seed", f"{s} is out of range ({lo}–{hi})")
    return s


def meter_of(beats: np.ndarray, downbeats: np.ndarray) -> int:
    """Beats to the bar: the median count of beats between downbeats (4 when unknown)."""
    if len(downbeats) < 2 or len(beats) < 2:
        return 4
    per_bar = np.diff(np.searchsorted(beats, downbeats - 1e-6))
    return int(np.median(per_bar)) if len(per_bar) else 4


def _sections(y, sr, tempo, beats, downbeats, meter) -> tuple[np.ndarray, tuple[str, ...]]:
    """(section start times, their labels: equal letters for sections that sound alike)."""
    from ..audio.beats import BeatMap
    from ..audio.sections import find_sections

    if len(downbeats) < 8:  # find_sections needs 2 x 4 bars to split a song
        return np.zeros(1), ("A",)
    secs = find_sections(y, sr, BeatMap(tempo, np.asarray(beats), np.asarray(downbeats), meter))
    return np.array([float(s) for s, _, _ in secs], np.float64), tuple(str(lab) for _, _, lab in secs)


# The generator's frame-to-frame jitter (mean joint acceleration ≈17 m/s² against
# ≈5 in the corpus) is removed by a Gaussian of 50 ms — the field's kinematic
# smoothing constant — over the features before decoding: acceleration then
# matches the corpus and Bailando BAS rises (0.21 → 0.26 on a 40-s tango).
SMOOTH_SECONDS = 0.05


#: Seconds of the song either side of a part that are decoded and cleaned up with it,
#: so the clean-up's local steps (beats, legs, floor, contacts) see what the whole song's see.
CLEAN_MARGIN_SECONDS = 4.0


def _clean_margin(fps: float) -> int:
    return int(round(CLEAN_MARGIN_SECONDS * fps))


def _smooth_margin(fps: float) -> int:
    """Frames the smoothing reaches (scipy's radius at truncate 4): a part is
    smoothed with its neighbours' features, as inside the whole song."""
    return int(4.0 * SMOOTH_SECONDS * fps + 0.5)


def _decode(feats: np.ndarray, fps: float, name: str, keep: slice = slice(None), stage: StagePlan | None = None,
            beats=None):
    """Joint positions of frames ``feats[keep]`` from the origin facing -y,
    de-jittered (with the frames around ``keep`` as context), with constant bone
    lengths (the generator lets them vary ≈15 %), feet on the floor, then put on
    the ``beats``, turned, staged and grounded by :func:`~choreo.core.cleanup.clean_dance`."""
    from ..cleanup import clean_dance

    from ..models.representation import decode_3d
    from ..signal import gaussian_filter1d

    if not np.all(np.isfinite(feats)):
        raise ChoreoInputError(name, "the generator produced non-finite poses (are the weights sane?)")
    if len(feats) > 1:
        feats = gaussian_filter1d(np.asarray(feats, np.float64), SMOOTH_SECONDS * fps, axis=0, mode="nearest")
    a, b = keep.indices(len(feats))[:2]
    pre, post = min(a, _clean_margin(fps)), min(len(feats) - b, _clean_margin(fps))
    motion = decode_3d(feats[a - pre:b + post], fps)
    if beats is not None:
        beats = np.asarray(beats, np.float64) + pre / fps
    motion = clean_dance(motion.with_bone_lengths().on_floor(), stage, beats)
    if pre == 0 and post == 0:
        return motion
    # a part: the frames asked for, from the origin facing -y as a whole song starts
    return motion.frames(pre, pre + (b - a)).normalized_facing(0)
