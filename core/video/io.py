"""Reading a clip and writing an MP4 with the song, outside Blender (PyAV: ffmpeg's libraries).

The command line's video path (``choreo video …``, issue 16) reads any container and codec
ffmpeg reads and writes H.264 + AAC MP4. Inside Blender, rendering and muxing go through
Blender's own ffmpeg instead: nothing here is imported by the add-on.

- :class:`VideoReader`: a clip's size, rate and frames as RGB uint8 arrays, in order, one
  at a time (bounded memory, any length); an unreadable file is one
  :class:`~choreo.core.errors.ChoreoInputError` naming it.
- :func:`read_soundtrack`: a clip's own sound as mono samples (None when it has none).
- :func:`write_video`: frames from any iterable at ``fps``, and optionally the song's samples
  from ``audio_start`` s (the part of the song the frames show: frame ``k`` is at
  ``audio_start + k / fps`` s of the song), written to a temporary file and renamed into place
  only when complete.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from ..errors import ChoreoInputError
from ..fileio import atomic_path
from ..progress import ProgressFn, report


def _av():
    try:
        import av
    except ImportError as e:  # a Python without the CLI's video extra
        raise ChoreoInputError("video", f"reading and writing video needs PyAV (pip install av): {e}") from None
    return av


class VideoReader:
    """An open clip: ``width``, ``height``, ``fps``, ``frames`` (the container's count, or an
    estimate from its duration), :meth:`frames_rgb` and :meth:`close` (or use ``with``)."""

    def __init__(self, path: str | os.PathLike):
        av = _av()
        self.path = Path(path)
        if not self.path.is_file():
            raise ChoreoInputError(self.path, "no such file")
        try:
            self._c = av.open(str(self.path))
            streams = self._c.streams.video
        except (av.FFmpegError, UnicodeDecodeError, ValueError) as e:
            raise ChoreoInputError(self.path, f"cannot read as video ({e})") from None
        if not streams:
            self._c.close()
            raise ChoreoInputError(self.path, "holds no video stream")
        self._s = streams[0]
        rate = self._s.average_rate or self._s.guessed_rate
        if not rate or float(rate) <= 0:
            self._c.close()
            raise ChoreoInputError(self.path, "video stream has no frame rate")
        self.fps = float(rate)
        self.width, self.height = int(self._s.codec_context.width), int(self._s.codec_context.height)
        dur = float(self._s.duration * self._s.time_base) if self._s.duration else float(self._c.duration or 0) / 1e6
        self.frames = int(self._s.frames) or int(round(dur * self.fps))

    def frames_rgb(self) -> Iterator[np.ndarray]:
        """Every frame as (height, width, 3) uint8 RGB, in order; a damaged stream ends in a
        :class:`ChoreoInputError` naming the file and the frame."""
        av = _av()
        k = 0
        try:
            for frame in self._c.decode(self._s):
                yield frame.to_ndarray(format="rgb24")
                k += 1
        except av.FFmpegError as e:
            raise ChoreoInputError(self.path, f"video is damaged at frame {k} ({e})") from None

    def close(self) -> None:
        self._c.close()

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_soundtrack(path: str | os.PathLike, sr: int = 22050) -> np.ndarray | None:
    """The first audio stream of a clip as float32 mono at ``sr`` Hz, or None when the clip has
    no sound (or only silence); damage in it is a :class:`ChoreoInputError` naming the file."""
    av = _av()
    try:
        with av.open(str(path)) as c:
            if not c.streams.audio:
                return None
            resampler = av.AudioResampler(format="flt", layout="mono", rate=sr)
            chunks = []
            for frame in c.decode(c.streams.audio[0]):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as e:
        raise ChoreoInputError(path, f"cannot read the clip's sound ({e})") from None
    y = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    if not y.size or not np.isfinite(y).all() or float(np.abs(y).max()) < 1e-4:
        return None
    return y


def write_video(path: str | os.PathLike, frames: Iterable[np.ndarray], fps: float, *,
                audio: tuple[np.ndarray, int] | None = None, audio_start: float = 0.0, crf: int = 20,
                n_frames: int | None = None, progress: ProgressFn | None = None) -> int:
    """Write ``frames`` ((H, W, 3) uint8 RGB, even H and W) as an H.264 MP4 at ``fps``, with
    the mono ``audio`` = (samples, rate) from ``audio_start`` s for as long as the frames
    last; atomically. Returns the frames written. ``n_frames`` (if known) drives ``progress``."""
    av = _av()
    rate = Fraction(fps).limit_denominator(1001)
    written = 0
    with atomic_path(path, suffix=".mp4") as tmp:
        out = av.open(tmp, mode="w", format="mp4")
        try:
            v = out.add_stream("libx264", rate=rate)
            v.pix_fmt, v.options = "yuv420p", {"crf": str(int(crf)), "preset": "medium"}
            a = None
            if audio is not None:
                a = out.add_stream("aac", rate=int(audio[1]))
                a.layout = "mono"
            for img in frames:
                img = np.ascontiguousarray(img, dtype=np.uint8)
                if written == 0:
                    h, w = img.shape[:2]
                    if img.ndim != 3 or img.shape[2] != 3 or h % 2 or w % 2:
                        raise ChoreoInputError(path, f"frames must be (even height, even width, 3) RGB, got {img.shape}")
                    v.width, v.height = w, h
                for packet in v.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                    out.mux(packet)
                written += 1
                if n_frames:
                    report(progress, written / n_frames, f"frame {written}/{n_frames}")
            for packet in v.encode():
                out.mux(packet)
            if a is not None and written:
                y, sr = np.asarray(audio[0], np.float32), int(audio[1])
                i0 = max(0, int(round(audio_start * sr)))
                seg = y[i0:i0 + int(round(written / fps * sr))]
                for s in range(0, len(seg), 1024):
                    chunk = seg[s:s + 1024][None]
                    af = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="flt", layout="mono")
                    af.sample_rate, af.pts = sr, s
                    for packet in a.encode(af):
                        out.mux(packet)
                for packet in a.encode():
                    out.mux(packet)
        finally:
            out.close()
        if written == 0:
            raise ChoreoInputError(path, "no frames to write")
    return written
