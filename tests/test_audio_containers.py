"""Cut-off, damaged and non-audio files are refused by their structure
(core/audio/containers.py) with one line naming the file, before any decoder
sees them; whole files, tags and real audio under another extension pass.

The files are real: a shared track decoded and written by libsndfile as each
format (its MP3 encoder is LAME, with a Xing header), then cut with bytes slicing."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf

from choreo.core.audio import containers
from choreo.core.audio.io import check_audio_file, load_audio
from choreo.core.errors import ChoreoInputError

FORMATS = {  # extension → (soundfile format, subtype, channels)
    "wav": ("WAV", "PCM_16", 2), "aiff": ("AIFF", "PCM_16", 1), "flac": ("FLAC", "PCM_16", 2),
    "ogg": ("OGG", "VORBIS", 2), "opus": ("OGG", "OPUS", 1), "mp3": ("MP3", "MPEG_LAYER_III", 2),
}


@pytest.fixture(scope="module")
def whole(music_dir, tmp_path_factory):
    """6 s of a shared track written whole as each format: ``{ext: path}``."""
    d = tmp_path_factory.mktemp("whole")
    y, sr = sf.read(music_dir / "mma05_ska.ogg", frames=6 * 22050, start=20 * 22050, dtype="float32")
    out = {}
    for ext, (fmt, sub, ch) in FORMATS.items():
        data = np.stack([y, y[::-1]], axis=1) if ch == 2 else y
        out[ext] = d / f"song.{ext}"
        sf.write(out[ext], data, 48000 if sub == "OPUS" else sr, format=fmt, subtype=sub)
    return out


def _refused(path, *words):
    with pytest.raises(ChoreoInputError) as info:
        load_audio(path)
    text = str(info.value)
    assert text.startswith(f"{path}: ") and "\n" not in text, text
    assert all(w in text for w in words), text
    return text


def _cut(src, dst, n):
    dst.write_bytes(src.read_bytes()[:n])
    return dst


def test_whole_files_pass(whole):
    for ext, path in whole.items():
        containers.check_container(str(path))
        y, sr = load_audio(path)
        assert abs(len(y) / sr - sf.info(str(path)).duration) < 0.06, ext


def test_shared_tracks_pass_quickly(music_dir):
    """No false alarm on any real track; the check reads structure only (~2 ms a file here)."""
    tracks = sorted(music_dir.glob("*.ogg"))
    assert len(tracks) == 24
    t0 = time.perf_counter()
    for p in tracks:
        check_audio_file(str(p))
    assert (time.perf_counter() - t0) / len(tracks) < 0.05


@pytest.mark.parametrize("ext", sorted(FORMATS))
def test_every_cut_is_refused(whole, tmp_path, ext):
    """A 20 kB head, cuts all through the file and the last byte missing: each is
    'truncated', naming the file (libsndfile and aud read every one of them silently
    as a shorter song, except FLAC, where libsndfile fails mid-read)."""
    size = whole[ext].stat().st_size
    cuts = sorted({20_000, size - 1, *(int(size * f) for f in np.linspace(0.002, 0.998, 15))})
    for n in cuts:
        _refused(_cut(whole[ext], tmp_path / f"cut.{ext}", n), "truncated", FORMATS[ext][0][:3])


def test_ogg_cut_between_pages(whole, tmp_path):
    """Every page is whole, but the stream has no end-of-stream page."""
    data = whole["ogg"].read_bytes()
    pages = [i for i in range(1, len(data)) if data.startswith(b"OggS", i)]
    assert len(pages) >= 5
    for n in pages:
        _refused(_cut(whole["ogg"], tmp_path / "cut.ogg", n), "truncated OGG", "end-of-stream")


def test_mp3_cut_between_frames(whole, tmp_path):
    """Whole frames, fewer than the Xing header counts (all but the last: one frame of slack)."""
    data = whole["mp3"].read_bytes()
    ends, pos = [], 0
    while pos < len(data):
        pos += containers._mpeg_frame(data, pos)[0]
        ends.append(pos)
    assert ends[-1] == len(data) and len(ends) > 100
    for n in ends[:-2:17] + [ends[-3]]:
        _refused(_cut(whole["mp3"], tmp_path / "cut.mp3", n), "truncated MP3", "promises")


def test_flac_cut_between_frames(whole, tmp_path):
    """The last frame checks out, but the samples stop before STREAMINFO's total."""
    data = whole["flac"].read_bytes()
    info = {"channels": 2, "max_block": 4096, "min_block": 4096}
    starts = [p for p in range(8300, len(data)) if data[p] == 0xFF
              and containers._flac_frame_header(data, p, len(data), info)]
    assert len(starts) > 20
    for n in starts[::5]:
        _refused(_cut(whole["flac"], tmp_path / "cut.flac", n), "truncated FLAC", "frames stop")


def test_damaged_middle(whole, tmp_path):
    """2 kB overwritten mid-file: an OGG page fails its checksum, MP3 frames are lost
    (libsndfile returns less audio without a word, or fails mid-read)."""
    rng = np.random.default_rng(0)
    for ext, words in (("ogg", ("damaged OGG file: the page at byte", "fails its checksum")),
                       ("mp3", ("damaged MP3 file:", "are not MPEG audio"))):
        data = bytearray(whole[ext].read_bytes())
        data[len(data) // 2: len(data) // 2 + 2000] = rng.integers(0, 256, 2000, dtype=np.uint8).tobytes()
        p = tmp_path / f"damaged.{ext}"
        p.write_bytes(bytes(data))
        _refused(p, *words)


def test_damaged_flac_frames_fail_mid_decode_naming_the_file(whole, tmp_path):
    """Damage inside FLAC frames passes the structure check (whole metadata, a whole
    last frame); libsndfile then fails mid-read ("flac decoder lost sync"), which
    load_audio must call damaged data, not "not a readable audio file"."""
    data = bytearray(whole["flac"].read_bytes())
    data[len(data) // 2: len(data) // 2 + 2000] = bytes(2000)
    p = tmp_path / "damaged.flac"
    p.write_bytes(bytes(data))
    containers.check_container(str(p))
    _refused(p, "damaged audio data: decoding failed about", "s in (")


@pytest.mark.parametrize("ext", ["mp3", "wav", "ogg", "flac", "aiff", "oga"])
def test_text_named_as_audio_is_one_line(tmp_path, capfd, ext):
    p = tmp_path / f"notes.{ext}"
    p.write_text("hello, these are my notes about the song\nsecond line\n")
    name = containers.CLAIMED["." + ext]
    article = "an" if name in ("MP3", "OGG", "AIFF") else "a"
    text = _refused(p)
    assert text == f"{p}: not {article} {name} file (it starts with text: 'hello, these are my note…')"
    assert capfd.readouterr().err == ""  # no decoder noise before it


def test_binary_garbage_named_mp3(tmp_path, capfd):
    p = tmp_path / "noise.mp3"
    p.write_bytes(bytes(range(256)) * 8)
    assert _refused(p).endswith("not an MP3 file (it starts with bytes 00 01 02 03 04 05 06 07 …)")
    assert capfd.readouterr().err == ""


def test_real_audio_under_another_extension_is_read_as_what_it_is(whole, tmp_path):
    """Both decoders pick theirs from the bytes, so the check does too."""
    for src, ext in (("ogg", "mp3"), ("mp3", "wav"), ("flac", "ogg"), ("wav", "flac")):
        p = tmp_path / f"{src}_named.{ext}"
        p.write_bytes(whole[src].read_bytes())
        assert np.array_equal(load_audio(p)[0], load_audio(whole[src])[0]), (src, ext)
    _refused(_cut(whole["ogg"], tmp_path / "cut_ogg.mp3", 20_000), "truncated OGG")


def test_tags_around_the_audio_pass(whole, tmp_path):
    """An ID3v2 tag before, an ID3v1 tag after (taggers add them to FLAC and OGG too)."""
    frame = b"TIT2\x00\x00\x00\x05\x00\x00\x00song" + b"\0" * 5  # title frame + padding: 20 bytes
    id3v2 = b"ID3\x03\x00\x00\x00\x00\x00" + bytes([len(frame)]) + frame
    id3v1 = b"TAG" + b"song".ljust(125, b"\0")
    for ext in ("mp3", "flac", "ogg"):
        body = whole[ext].read_bytes()
        variants = [body + id3v1] + ([id3v2 + body] if ext != "ogg" else [])
        for i, data in enumerate(variants):
            p = tmp_path / f"tagged{i}.{ext}"
            p.write_bytes(data)
            containers.check_container(str(p))
    joined = tmp_path / "joined.mp3"  # two songs with their tags, one after the other
    joined.write_bytes(2 * (id3v2 + whole["mp3"].read_bytes() + id3v1))
    containers.check_container(str(joined))
    cut = whole["mp3"].read_bytes()
    (tmp_path / "cut_tagged.mp3").write_bytes(id3v2 + cut[:len(cut) // 2])
    _refused(tmp_path / "cut_tagged.mp3", "truncated MP3")


def test_wav_header_cases(tmp_path):
    """A big-endian RIFX WAV passes; a WAV that ends inside its header is truncated."""
    p = tmp_path / "be.wav"
    sf.write(p, np.zeros(1000, np.float32), 8000, format="WAV", subtype="PCM_16", endian="BIG")
    assert p.read_bytes()[:4] == b"RIFX"
    containers.check_container(str(p))
    _refused(_cut(p, tmp_path / "head.wav", 30), "truncated WAV", "before its audio data")


def _cli(*args):
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, "-m", "choreo", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=120)


def _one_error_line(proc, path, problem):
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"choreo: error: {path}: {problem}"), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_cli_cut_file_is_one_line(music_dir, tmp_path):
    """What the issue measured: a 20 kB head of a song gave a 3-s dance and exit 0."""
    head = _cut(music_dir / "mma01_popballad.ogg", tmp_path / "head.ogg", 20_000)
    _one_error_line(_cli("analyze", head), head, "truncated OGG file: it ends inside the page at byte")


def test_cli_text_named_mp3_is_one_line(tmp_path):
    """What the issue measured: decoder noise on stderr, then 'File does not exist'
    about a file that exists (soundfile's mpg123 speaks as soon as anything opens it)."""
    text = tmp_path / "text.mp3"
    text.write_text("hello this is text\n" * 30)
    problem = "not an MP3 file (it starts with text: 'hello this is text')"
    _one_error_line(_cli("analyze", text), text, problem)
    _one_error_line(_cli("generate", text, "-o", tmp_path / "dance.npz"), text, problem)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["text.mp3"]
