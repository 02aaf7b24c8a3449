"""The song every generator family dances to, analysed once by the shared pipeline.

A :class:`Song` holds the samples at the generator's rate and what the pipeline
found in them: the part to dance (in frames), beats, meter, sections, and the
song's level over time (the music's share of the energy conditioning). A family's
``generate`` reads it and never analyses the music itself; :func:`conditioning` is the
per-frame energy and seeded noise every family's network reads beside the music.

:func:`recent` keeps the last song's analysis and a family's audio codes, keyed on
the samples: Generate again on the same strip (another seed, energy, a range)
skips both. Codes depend on the samples and weights only, never on the seed; one
song's worth is kept (~3 MB/min).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..audio.beats import BeatMap
from ..progress import ProgressFn

_RECENT: dict = {}


def samples_key(y: np.ndarray, sr: int) -> tuple:
    """What caches of ``y`` are keyed on: its rate, length and a hash of its samples."""
    import hashlib

    return (int(sr), len(y), hashlib.blake2b(np.ascontiguousarray(y).view(np.uint8), digest_size=16).hexdigest())


def recent(kind: str, key, compute):
    """``compute()``, or its result for the same ``key`` the last time ``kind`` was asked."""
    hit = _RECENT.get(kind)
    if hit is not None and hit[0] == key:
        return hit[1]
    value = compute()
    _RECENT[kind] = (key, value)
    return value


@dataclass(frozen=True, eq=False)
class Song:
    """Samples and their analysis, as every family gets them.

    Attributes
    ----------
    samples : np.ndarray
        Mono float32 at ``sr`` (the generator's rate): the whole of what was
        given, so a part is danced as the whole song is there.
    sr : int
    fps : float
        The generator's frame rate; frame ``k`` is at ``k / fps`` s into ``samples``.
    part : (int, int)
        Frames ``a .. b - 1`` to dance.
    name : str
        Names the audio in error messages.
    audio_start : float
        File seconds of ``samples[0]``.
    beats, downbeats : np.ndarray
        Seconds from the part's start (frame ``a``).
    tempo : float or None
        BPM; 0 or None when unknown.
    meter : int
        Beats to the bar.
    sections, section_labels
        Section start times (s from the part's start) and their labels.
    grid : BeatMap or None
        The beats of the whole of ``samples`` (s from ``samples[0]``), where known: a
        part's music is heard, and the seed's noise counted in bars, as in the whole
        song (``beats``/``downbeats`` are the part's share of it).
    """

    samples: np.ndarray
    sr: int
    fps: float
    part: tuple[int, int]
    name: str = "audio samples"
    audio_start: float = 0.0
    beats: np.ndarray = field(default_factory=lambda: np.zeros(0))
    downbeats: np.ndarray = field(default_factory=lambda: np.zeros(0))
    tempo: float | None = None
    meter: int = 4
    sections: np.ndarray = field(default_factory=lambda: np.zeros(1))
    section_labels: tuple[str, ...] = ("A",)
    grid: BeatMap | None = None
    #: :func:`samples_key` of the samples, when the caller has it (hashing a long song twice costs)
    samples_id: tuple | None = None

    @cached_property
    def key(self) -> tuple:
        """:func:`samples_key` of the samples."""
        return self.samples_id if self.samples_id is not None else samples_key(self.samples, self.sr)

    @property
    def n_frames(self) -> int:
        """Frames of the whole of ``samples``."""
        from ..audio.features import n_frames

        return n_frames(len(self.samples), self.sr, self.fps)

    @property
    def level(self) -> np.ndarray:
        """(n_frames,) the song's level as a z-score over the whole song
        (:func:`~choreo.core.models.conditioning.loudness_curve`): louder music, a bigger dance."""
        from ..models.conditioning import loudness_curve

        return recent("loudness", (self.key, self.fps),
                      lambda: loudness_curve(self.samples, self.sr, self.fps, self.n_frames))

    @property
    def first_downbeat(self) -> float | None:
        """Where bars are counted from: the first downbeat (else beat), s from the part's
        start (the whole song's first, before the part, where the :attr:`grid` is known), or None."""
        if self.grid is not None:
            for times in (self.grid.downbeats, self.grid.beats):
                if len(times):
                    return float(times[0]) - self.part[0] / self.fps
        for times in (self.downbeats, self.beats):
            if times is not None and len(times):
                return float(times[0])
        return None

    @property
    def song_beats(self) -> np.ndarray:
        """Beat times of the whole of ``samples`` (s from ``samples[0]``): the :attr:`grid`'s,
        else the part's own."""
        if self.grid is not None:
            return np.asarray(self.grid.beats, np.float64)
        return np.asarray(self.beats, np.float64) + self.part[0] / self.fps

    @property
    def song_downbeats(self) -> np.ndarray:
        """Downbeat times of the whole of ``samples`` (s from ``samples[0]``), as :attr:`song_beats`."""
        if self.grid is not None:
            return np.asarray(self.grid.downbeats, np.float64)
        return np.asarray(self.downbeats, np.float64) + self.part[0] / self.fps


def song_features(song: Song, progress: ProgressFn | None = None) -> np.ndarray:
    """(n_frames, 438) raw music features of the whole of ``song``'s samples, loudness
    normalised as in training, the beat column from the song's beats (kept for the next
    call on the same song and beats)."""
    from ..audio.features import music_features
    from ..models.conditioning import normalize_loudness

    beats = song.song_beats  # the whole song's: a part hears the music as the whole song does
    key = (song.key, float(song.fps), beats.tobytes())
    return recent("music features", key, lambda: music_features(normalize_loudness(song.samples, song.sr), song.sr,
                                                                song.fps, beats=beats, progress=progress).values)


def conditioning(song: Song, cfg, energy_stats, training: dict | None, *, seed: int, energy,
                 frames: tuple[int, int]) -> np.ndarray:
    """(c1 - c0, 1 + cfg.noise_dim) float32 condition of ``song``'s frames ``frames = (c0, c1)``.

    Column 0 is the energy: frame ``k``'s is ``log(energy(t)) / energy_stats[1] + gain × level[k]``
    at its file second ``t = audio_start + k / fps``, ``energy`` a multiplier or an
    :class:`~.energy.EnergyCurve`, ``gain`` :func:`~choreo.core.models.conditioning.level_gain`
    of the weights' ``training`` metadata. The rest is the seed's smooth noise, a function
    of the song frame, whose knots sit a whole number of beats apart, phased on a downbeat
    counted from the file's start. ``cfg``: any family's config with ``fps``, ``noise_dim``
    and ``noise_period``.
    """
    from ..models.conditioning import level_gain, musical_noise_period, smooth_noise
    from .energy import log_energy

    c0, c1 = frames
    # The music sets the energy over time (the song's level, whole-song z-score) and
    # the pulse the seed's choices fall on (knots a whole number of beats apart).
    level = song.level
    cond = np.empty((c1 - c0, cfg.cond_dim), np.float32)
    gain = level_gain(training)
    times = song.audio_start + np.arange(c0, c1) / cfg.fps  # file seconds of the frames
    cond[:, 0] = log_energy(energy, times) / float(energy_stats[1]) + gain * level[c0:c1]
    offset = int(round(song.audio_start * cfg.fps))
    period = musical_noise_period(song.tempo, cfg)
    if period is not None:  # knots on the song's pulse: a downbeat's phase, counted from the file's start
        downbeat = song.first_downbeat
        phase = 0.0 if downbeat is None else ((song.audio_start + song.part[0] / cfg.fps + downbeat)
                                              * cfg.fps) % period
        offset = song.audio_start * cfg.fps - phase + period
    cond[:, 1:] = smooth_noise(seed, c1 - c0, cfg, offset_frames=offset + c0, period_frames=period)
    return cond
