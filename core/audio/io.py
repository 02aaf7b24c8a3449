"""Reading songs: any of wav/flac/ogg/mp3, any rate and channel count, to float32 mono."""

from __future__ import annotations

import os

import numpy as np

from ..errors import ChoreoInputError
from .containers import check_container

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
            start = min(int(round(max(offset, 0.0) * native_sr)), f.frames)
            if start:
                f.seek(start)
            count = None if duration is None else int(round(duration * native_sr))
            expect = f.frames - start if count is None else min(count, f.frames - start)
            y = _decode_blocks(_read_blocks(f, start, count, path), native_sr, sr, path, expect,
                               part=bool(offset or duration))
    except ChoreoInputError:
        raise
    except Exception as exc:  # libsndfile's messages are terse; name the file.
        raise ChoreoInputError(path, f"not a readable audio file ({_short(exc)})") from None
    return y, sr


#: Frames decoded at once: 2**18 (6 s at 44.1 kHz, 2 MB of stereo float32). A
#: song is never decoded whole at its native rate and channel count.
_DECODE_BLOCK = 1 << 18


def _read_blocks(f, first: int, count: int | None, name: str):
    """Consecutive float32 (n, channels) blocks of the open SoundFile ``f`` from its
    position, frame ``first``: ``count`` frames, or to the end for None. A decoder
    error there is damage inside the audio data (the container was checked whole),
    reported with where it happened."""
    left, done = count, 0
    while left is None or left > 0:
        try:
            block = f.read(frames=_DECODE_BLOCK if left is None else min(_DECODE_BLOCK, left),
                           dtype="float32", always_2d=True)
        except Exception as exc:  # e.g. FLAC "decoder lost sync" in damaged frames
            at = (first + done) / f.samplerate
            raise ChoreoInputError(name, f"damaged audio data: decoding failed about {at:.1f} s in "
                                         f"({_short(exc)})") from None
        if len(block) == 0:
            return
        yield block
        done += len(block)
        if left is not None:
            left -= len(block)


def _decode_blocks(blocks, native_sr: float, sr: int, name: str, expect: int, part: bool) -> np.ndarray:
    """Decoded blocks at ``native_sr`` → one float32 mono array at ``sr``: each block
    mixed and checked by :func:`prepare_samples`, then streamed through
    :class:`~choreo.core.audio.resample.Resampler` (equal to resampling the whole
    mono signal), so only the output is song-sized. ``expect`` (input frames, a
    hint) sizes the output."""
    from .resample import Resampler

    native = int(round(native_sr))
    stream = Resampler(native, sr) if native != sr else None
    out = np.empty(int(np.ceil(max(expect, 0) * sr / native)) + 1, dtype=np.float32)
    used = 0
    got = 0

    def put(samples: np.ndarray) -> None:
        nonlocal out, used
        if used + len(samples) > len(out):  # the header under-counted: grow
            out = np.concatenate([out[:used], np.empty(max(len(samples), used // 4), np.float32)])
        out[used:used + len(samples)] = samples
        used += len(samples)

    for block in blocks:
        mono = prepare_samples(block, native, native, name)  # channel mean, NaN check; same rate
        got += len(mono)
        put(stream.push(mono) if stream is not None else mono)
    if got == 0:
        raise ChoreoInputError(name, "contains no audio samples" + (" in the requested range" if part else ""))
    if stream is not None:
        put(stream.finish())
    return out[:used] if used > len(out) - 1024 else out[:used].copy()  # a big over-estimate is freed


def check_audio_file(path: str) -> None:
    """Refuse a missing, empty, non-audio or truncated file before any decoder sees it
    (decoders read a cut-off file silently, and print noise for a non-audio one):
    :func:`~choreo.core.audio.containers.check_container` reads its structure."""
    if not os.path.isfile(path):
        raise ChoreoInputError(path, "no such file")
    if os.path.getsize(path) == 0:
        raise ChoreoInputError(path, "file is empty")
    check_container(path)


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


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    return text[:160]
