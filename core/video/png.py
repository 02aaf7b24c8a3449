"""PNG and WAV files from numpy arrays with the standard library alone (zlib, wave).

Inside Blender there is no image or audio writer Choreo can call from a worker thread (bpy is
main-thread only), so *Render Photoreal Video* writes its frames and the song's part with these
and lets Blender's own ffmpeg make the movie (:mod:`choreo.rigs.movie`).
"""

from __future__ import annotations

import os
import struct
import wave
import zlib

import numpy as np


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(rgb: np.ndarray, level: int = 1) -> bytes:
    """An 8-bit RGB PNG of ``rgb`` (H, W, 3) uint8; filter 0 on every row, zlib ``level``
    (1: fast, the frames are temporary)."""
    img = np.ascontiguousarray(rgb, dtype=np.uint8)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"expected (height, width, 3) RGB, got {img.shape}")
    h, w = img.shape[:2]
    raw = np.concatenate([np.zeros((h, 1), np.uint8), img.reshape(h, w * 3)], axis=1).tobytes()
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(raw, level)) + _chunk(b"IEND", b""))


def write_png(path: str | os.PathLike, rgb: np.ndarray) -> None:
    with open(path, "wb") as f:
        f.write(png_bytes(rgb))


def write_wav(path: str | os.PathLike, samples: np.ndarray, sr: int) -> None:
    """Mono 16-bit PCM WAV of float ``samples`` (clipped to [-1, 1]) at ``sr`` Hz."""
    pcm = (np.clip(np.asarray(samples, np.float32), -1.0, 1.0) * 32767.0).round().astype("<i2")
    with wave.open(os.fspath(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(sr))
        w.writeframes(pcm.tobytes())
