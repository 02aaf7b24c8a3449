"""Long songs in bounded memory: decoding block by block and resampling as a stream
give what decoding and resampling the whole song at once gives."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from choreo.core.audio.io import load_audio, prepare_samples
from choreo.core.audio.resample import Resampler, resample


@pytest.mark.parametrize("orig, target", [(44100, 22050), (44100, 16000), (48000, 22050), (22050, 16000),
                                          (16000, 22050), (44100, 48000)])
def test_streamed_resampling_is_the_one_shot_resampling(orig, target):
    """Any block sizes, even single samples, give ``resample`` of the whole signal."""
    rng = np.random.default_rng(orig + target)
    y = rng.standard_normal(50_003).astype(np.float32)
    stream, out, i = Resampler(orig, target), [], 0
    for n in [1, 2, 3] + list(rng.integers(1, 9000, 40)):
        out.append(stream.push(y[i:i + n]))
        i += n
    out.append(stream.push(y[i:]))
    out.append(stream.finish())
    got = np.concatenate(out)
    want = resample(y, orig, target)
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    assert len(Resampler(orig, target).finish()) == 0  # nothing in, nothing out


@pytest.fixture(scope="module")
def stereo_flac(tmp_path_factory, music_dir):
    """A shared track as a user's file would be: 44.1 kHz stereo FLAC, 60 s and 180 s."""
    y, sr = sf.read(str(music_dir / "mma07_rhumba.ogg"), dtype="float32")
    y = resample(y[:60 * sr], sr, 44100)
    files = {}
    for seconds in (60, 180):
        mono = np.tile(y, seconds // 60)
        path = tmp_path_factory.mktemp("flac") / f"song{seconds}.flac"
        sf.write(str(path), np.stack([mono, 0.5 * mono[::-1]], axis=1), 44100, subtype="PCM_16")
        files[seconds] = path
    return files


def _one_shot(path, sr, offset=0.0, duration=None):
    """The old path: the whole (part of the) file at its rate and channels, then mixed and resampled."""
    with sf.SoundFile(str(path)) as f:
        f.seek(int(round(offset * f.samplerate)))
        raw = f.read(frames=-1 if duration is None else int(round(duration * f.samplerate)), dtype="float32",
                     always_2d=True)
        return prepare_samples(raw, f.samplerate, sr, str(path))


@pytest.mark.parametrize("sr", [22050, 16000, 44100])
def test_block_decoding_is_the_whole_file_decoding(stereo_flac, sr):
    path = stereo_flac[60]
    for kw in ({}, {"offset": 12.345, "duration": 20.0}, {"offset": 55.0, "duration": 30.0}):
        y, got_sr = load_audio(path, sr=sr, **kw)
        want = _one_shot(path, sr, **kw)
        assert got_sr == sr and y.dtype == np.float32 and y.shape == want.shape, kw
        np.testing.assert_allclose(y, want, rtol=0, atol=1e-6, err_msg=str(kw))


def test_decoding_memory_does_not_grow_with_the_native_rate(stereo_flac):
    """Decoding keeps only the output song-sized: 2 more minutes of 44.1 kHz stereo
    cost about their 22050 Hz mono output (5.3 MB), where the whole-file read held the
    stereo samples and their mono mix too (about 6 times that)."""
    def peak(path):
        load_audio(path, sr=22050)  # filters and decoder state built once
        tracemalloc.start()
        try:
            y, _ = load_audio(path, sr=22050)
            return tracemalloc.get_traced_memory()[1], y.nbytes
        finally:
            tracemalloc.stop()

    (p60, out60), (p180, out180) = peak(stereo_flac[60]), peak(stereo_flac[180])
    assert p180 - p60 < 1.5 * (out180 - out60), f"grew {(p180 - p60) / 1e6:.1f} MB for {(out180 - out60) / 1e6:.1f}"


def test_music_features_never_hold_the_whole_tempogram(music_dir):
    """The 384-lag tempogram is computed only for the motion frames in hand, a block
    at a time: the features of a 3x longer song grow by about 4x their own rows
    (mel and onset frames at the fine hop), not the 12x the whole float64 tempogram
    and its normalised copies took; and the values are those of the whole tempogram."""
    from choreo.core.audio import spectral
    from choreo.core.audio.beats import onset_envelope
    from choreo.core.audio.features import COLUMNS, TEMPOGRAM_HOP, _interp_frames, music_features

    y, sr = sf.read(str(music_dir / "mma03_softrock.ogg"), dtype="float32")

    def peak(y):
        tracemalloc.start()
        try:
            f = music_features(y, sr, beats=np.arange(0, len(y) / sr, 0.5))
            return tracemalloc.get_traced_memory()[1], f
        finally:
            tracemalloc.stop()

    (p1, f1), (p3, f3) = peak(y), peak(np.tile(y, 3))
    assert p3 - p1 < 6 * (f3.values.nbytes - f1.values.nbytes), f"grew {(p3 - p1) / 1e6:.1f} MB"
    env = onset_envelope(y, sr, hop_length=TEMPOGRAM_HOP)
    whole = spectral.tempogram(env, 384)
    assert np.array_equal(spectral.tempogram(env, 384, start=100, stop=900), whole[:, 100:900])
    want = _interp_frames(whole, f1.times, sr, TEMPOGRAM_HOP).astype(np.float32)
    assert np.array_equal(f1.values[:, COLUMNS["tempogram"]], want)
