"""Reading songs: any of wav/flac/ogg/mp3, any rate and channel count, to float32 mono."""

from __future__ import annotations

import os

import numpy as np

from ..errors import ChoreoInputError

DEFAULT_SR = 22050
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff")


def load_audio(path: str | os.PathLike, sr: int = DEFAULT_SR, offset: float = 0.0,
               duration: float | None = None) -> tuple[np.ndarray, int]:
    """Decode ``path`` to float32 mono at ``sr`` Hz (with soundfile: the CLI and training).

    ``offset`` and ``duration`` (seconds) select a part of the file, as a sound
    strip's trimmed handles do. Raises :class:`ChoreoInputError` naming the file
    when it is missing, empty, not audio, truncated or holds non-finite samples.
    Inside Blender the add-on decodes with Blender's own ``aud`` instead and
    hands the samples to :func:`prepare_samples`, as this does.
    """
    path = os.fspath(path)
    check_audio_file(path)
    try:
        import soundfile as sf
    except ImportError:
        raise ChoreoInputError(path, "reading audio files outside Blender needs the soundfile package "
                                     "(pip install soundfile)") from None
    try:
        with sf.SoundFile(path) as f:
            native_sr = f.samplerate
            start = int(round(max(offset, 0.0) * native_sr))
            frames = -1 if duration is None else int(round(duration * native_sr))
            if start:
                f.seek(min(start, f.frames))
            y = f.read(frames=frames, dtype="float32", always_2d=True)
    except ChoreoInputError:
        raise
    except Exception as exc:  # libsndfile's messages are terse; name the file.
        raise ChoreoInputError(path, f"not a readable audio file ({_short(exc)})") from None
    return prepare_samples(y, native_sr, sr, path, part=bool(offset or duration)), sr


def check_audio_file(path: str) -> None:
    """Refuse a missing, empty or truncated-WAV file before any decoder sees it."""
    if not os.path.isfile(path):
        raise ChoreoInputError(path, "no such file")
    if os.path.getsize(path) == 0:
        raise ChoreoInputError(path, "file is empty")
    _check_wav_complete(path)


def prepare_samples(y: np.ndarray, native_sr: float, sr: int, name: str, part: bool = False) -> np.ndarray:
    """Decoded samples ``y`` (n,) or (n, channels) at ``native_sr`` → contiguous float32
    mono at ``sr`` (channel mean, then :func:`~choreo.core.audio.resample.resample`).

    Every decoder's output goes through here, so the CLI, training and Blender
    see the same samples for the same decoded audio. Raises
    :class:`ChoreoInputError` naming ``name`` when there are no samples (``part``:
    in the requested range) or some are NaN or infinite.
    """
    from .resample import resample

    y = np.asarray(y, dtype=np.float32)
    if y.ndim == 2:
        y = y.mean(axis=1, dtype=np.float32) if y.shape[1] > 1 else y[:, 0]
    if y.size == 0:
        raise ChoreoInputError(name, "contains no audio samples" + (" in the requested range" if part else ""))
    if not np.all(np.isfinite(y)):
        raise ChoreoInputError(name, "contains NaN or infinite samples")
    native_sr = int(round(native_sr))
    if native_sr != sr:
        y = resample(y, native_sr, sr)
    return np.ascontiguousarray(y, dtype=np.float32)


def _check_wav_complete(path: str) -> None:
    """Raise if a RIFF/WAVE file's data chunk claims more bytes than the file holds.

    libsndfile silently reads a truncated WAV up to where it ends, so a cut-off
    download would otherwise pass as a shorter song.
    """
    import struct

    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            chunk_id, chunk_size = struct.unpack("<4sI", f.read(8))
            if chunk_id == b"data":
                if chunk_size not in (0, 0xFFFFFFFF) and pos + 8 + chunk_size > size:
                    raise ChoreoInputError(path, f"truncated WAV: header promises {chunk_size} bytes of "
                                                 f"audio, file holds {size - pos - 8}")
                return
            pos += 8 + chunk_size + (chunk_size & 1)
    # no data chunk found: libsndfile reports that file as unreadable itself


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    return text[:160]
