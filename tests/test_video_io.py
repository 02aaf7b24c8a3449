"""Clips in, MP4 with the song out (issue 16's command-line video path, PyAV): frames and
rate round-trip, the song's part lands on the frames it belongs to, bad files are one line."""

from __future__ import annotations

import numpy as np
import pytest

av = pytest.importorskip("av")

from choreo.core.errors import ChoreoInputError  # noqa: E402
from choreo.core.video.io import VideoReader, write_video  # noqa: E402

FPS, SR = 30.0, 22050


def frames(n=60, flash=30):
    for k in range(n):
        img = np.full((64, 96, 3), 40, np.uint8)
        if k == flash:
            img[:] = 230
        yield img


def song(click_at: float, seconds=6.0):
    y = np.zeros(int(seconds * SR), np.float32)
    i = int(click_at * SR)
    y[i:i + 200] = 0.9
    return y


def test_frames_and_rate_round_trip(tmp_path):
    out = tmp_path / "clip.mp4"
    assert write_video(out, frames(), FPS) == 60
    with VideoReader(out) as r:
        assert (r.width, r.height, r.fps, r.frames) == (96, 64, 30.0, 60)
        got = list(r.frames_rgb())
    assert len(got) == 60 and int(np.argmax([f.mean() for f in got])) == 30


def test_the_songs_part_is_synced_to_the_frames(tmp_path):
    out = tmp_path / "clip.mp4"
    # the frames show the song from 2.0 s: the click at 3.0 s of the song is 1.0 s into the clip
    write_video(out, frames(), FPS, audio=(song(3.0), SR), audio_start=2.0)
    with av.open(str(out)) as c:
        stream = c.streams.audio[0]
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(stream)])
        first = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
    t = first + np.argmax(np.abs(pcm) > 0.3) / stream.rate
    assert abs(t - 1.0) < 0.03, t   # AAC's priming is in the stream's start time
    assert abs(len(pcm) / stream.rate - 2.0) < 0.1   # as long as the frames, not the song


def test_bad_files_are_one_line_and_nothing_is_left(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 10)
    with pytest.raises(ChoreoInputError, match="cannot read as video"):
        VideoReader(junk)
    with pytest.raises(ChoreoInputError, match="no such file"):
        VideoReader(tmp_path / "missing.mp4")
    out = tmp_path / "odd.mp4"
    with pytest.raises(ChoreoInputError, match="even height"):
        write_video(out, [np.zeros((63, 96, 3), np.uint8)], FPS)
    assert not out.exists() and not list(tmp_path.glob(".odd*"))
