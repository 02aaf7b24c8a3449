"""Is this file whole audio of a format we read? Container checks, no decoding.

Decoders are no help here: libsndfile and Blender's ``aud`` both play a cut-off
OGG or MP3 up to where it ends (a 20 kB head of a song passes as a 2-s song),
mpg123 prints "Note: Illegal Audio-MPEG-Header" noise for a text file, and
``aud`` on a file it cannot read may abort Blender with a C++ exception. So
every file is checked here first, in pure Python (it runs in a stock Blender),
by reading headers and walking pages/frames through a memory map:

* the format is sniffed from the bytes; a file whose bytes are no format at all
  is refused naming the format its extension claims ("not an MP3 file (it starts
  with text: 'hello…')"). Real audio of another format under the wrong
  extension is accepted and checked as what it is: soundfile and ``aud`` both
  pick the decoder from the bytes, so both read it.
* WAV/AIFF: the audio chunk may not claim more bytes than the file holds.
* FLAC: metadata must be whole; the last frame must end at the end of the file
  (its CRC-16 checks out) and reach STREAMINFO's total sample count.
* OGG: pages are walked and their CRCs checked (decoders drop a bad page
  silently); every logical stream must end on a complete page with the
  end-of-stream flag.
* MP3: frames are walked from the first sync; no undecodable bytes between
  frames, the last one must not run past the end, and a Xing/Info/VBRI header's
  frame count must be there. (An MP3 without such a header cut exactly between
  frames cannot be told from a shorter song.)
* ID3v1/v2, APEv2 and Lyrics3 tags around the audio are allowed.

:func:`check_container` raises :class:`~choreo.core.errors.ChoreoInputError`;
a format it does not know under an extension it does not know is left to the
decoder. Damage inside FLAC frames is not looked for (a CRC-16 per frame in
pure Python would cost as much as decoding): soundfile fails mid-read on it.
"""

from __future__ import annotations

import mmap
import os
import struct
import zlib

from ..errors import ChoreoInputError

# extension → the format it promises (the names used in messages)
CLAIMED = {".wav": "WAV", ".wave": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".oga": "OGG", ".opus": "OGG",
           ".mp3": "MP3", ".mp2": "MP3", ".aif": "AIFF", ".aiff": "AIFF", ".aifc": "AIFF"}


def check_container(path: str) -> None:
    """Raise :class:`ChoreoInputError` naming ``path`` if it is not whole audio.

    ``path`` must be an existing, non-empty regular file (see
    :func:`~choreo.core.audio.io.check_audio_file`).
    """
    claimed = CLAIMED.get(os.path.splitext(path)[1].lower())
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        kind, start = _sniff(mm, _skip_id3v2(mm), search=claimed == "MP3")
        if kind is None:
            if claimed is None and not _is_text(mm[:64]):
                return  # some other format (caf, m4a …): the decoder decides
            what = f"not {_article(claimed)} {claimed} file" if claimed else "not an audio file"
            raise ChoreoInputError(path, f"{what} (it starts with {_describe(mm[:64])})")
        CHECKS[kind](path, mm, start)


# --- sniffing ---------------------------------------------------------------------

def _sniff(mm, start: int, search: bool) -> tuple[str | None, int]:
    """The format of the bytes from ``start`` and the offset where it begins."""
    head = mm[start:start + 12]
    if head[:4] in (b"RIFF", b"RIFX", b"RF64") and head[8:12] == b"WAVE":
        return "WAV", start
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "AIFF", start
    if head[:4] == b"fLaC":
        return "FLAC", start
    if head[:4] == b"OggS":
        return "OGG", start
    # MPEG audio has no magic: a confirmed frame sync at the start (or, for a
    # file named .mp3, after some leading junk, which decoders skip too)
    first = _find_mpeg(mm, start, start + (1 << 16 if search else 1), lone=True)
    return ("MP3", first) if first is not None else (None, start)


def _skip_id3v2(mm, pos: int = 0) -> int:
    """Offset after any ID3v2 tags at ``pos`` (MP3s start with them, some FLACs too)."""
    while mm[pos:pos + 3] == b"ID3" and len(mm) >= pos + 10:
        b = mm[pos + 6:pos + 10]
        if any(x & 0x80 for x in b):
            break  # not a syncsafe size: not a tag
        size = (b[0] << 21) | (b[1] << 14) | (b[2] << 7) | b[3]
        pos += 10 + size + (10 if mm[pos + 5] & 0x10 else 0)  # footer flag
    return min(pos, len(mm))


def _is_text(head: bytes) -> bool:
    text = head.decode("utf-8", errors="ignore")  # (a character cut at the end is dropped)
    return (bool(text) and len(text.encode()) >= len(head) - 3
            and all(c.isprintable() or c in "\t\r\n\f" for c in text))


def _describe(head: bytes) -> str:
    if _is_text(head):
        lines = head.decode("utf-8", errors="ignore").lstrip("\ufeff").strip().splitlines()
        line = lines[0] if lines else ""
        return "text: " + repr(line[:24] + ("…" if len(line) > 24 else ""))
    return "bytes " + " ".join(f"{b:02x}" for b in head[:8]) + (" …" if len(head) > 8 else "")


def _article(name: str) -> str:
    return "an" if name in ("MP3", "OGG", "AIFF") else "a"


def _broken(path: str, state: str, kind: str, why: str) -> ChoreoInputError:
    return ChoreoInputError(path, f"{state} {kind} file: {why}; copy or download it again")


# --- WAV / AIFF: the audio chunk's size against the file's ------------------------------

def _check_wav(path: str, mm, start: int) -> None:
    """libsndfile reads a truncated WAV up to where it ends, so the data chunk's
    size is the only sign (0 and 0xFFFFFFFF mean "unknown", as streaming writers leave it)."""
    size, order = len(mm), ">" if mm[start:start + 4] == b"RIFX" else "<"  # RIFX: big-endian WAV
    rf64_data = None
    pos = start + 12
    while pos + 8 <= size:
        chunk_id, chunk_size = struct.unpack_from(order + "4sI", mm, pos)
        if chunk_id == b"ds64" and pos + 24 <= size:
            rf64_data = struct.unpack_from("<Q", mm, pos + 16)[0]
        if chunk_id == b"data":
            if chunk_size == 0xFFFFFFFF and rf64_data is not None:
                chunk_size = rf64_data
            if chunk_size not in (0, 0xFFFFFFFF) and pos + 8 + chunk_size > size:
                raise _broken(path, "truncated", "WAV", f"the header promises {chunk_size} bytes of "
                                                        f"audio, the file holds {size - pos - 8}")
            return
        pos += 8 + chunk_size + (chunk_size & 1)
    raise _broken(path, "truncated", "WAV", "it ends before its audio data")


def _check_aiff(path: str, mm, start: int) -> None:
    size, aifc = len(mm), mm[start + 8:start + 12] == b"AIFC"
    pos, frame_bytes = start + 12, None
    while pos + 8 <= size:
        chunk_id, chunk_size = struct.unpack_from(">4sI", mm, pos)
        if chunk_id == b"COMM" and pos + 16 <= size and not aifc:  # AIFC may be compressed
            channels, frames, bits = struct.unpack_from(">HIH", mm, pos + 8)
            frame_bytes = frames * channels * ((bits + 7) // 8)
        if chunk_id == b"SSND":
            need = pos + 8 + chunk_size
            if frame_bytes is not None and pos + 16 <= size:
                need = max(need, pos + 16 + struct.unpack_from(">I", mm, pos + 8)[0] + frame_bytes)
            if chunk_size not in (0, 0xFFFFFFFF) and need > size:
                raise _broken(path, "truncated", "AIFF", f"the header promises {need - pos - 8} bytes of "
                                                         f"audio, the file holds {size - pos - 8}")
            return
        pos += 8 + chunk_size + (chunk_size & 1)
    raise _broken(path, "truncated", "AIFF", "it ends before its audio data")


# --- OGG: page structure ------------------------------------------------------------

def _check_ogg(path: str, mm, start: int) -> None:
    size, pos = len(mm), start
    open_streams: set[int] = set()
    first = True
    while pos < size:
        if mm[pos:pos + 4] != b"OggS":
            # junk between pages (decoders resync): skip to the next capture pattern;
            # junk after the last page (a tag some programs append) ends the walk
            nxt = mm.find(b"OggS", pos)
            if nxt < 0:
                break
            pos = nxt
        if pos + 27 > size or pos + 27 + mm[pos + 26] > size:
            raise _broken(path, "truncated", "OGG", f"it ends inside the page header at byte {pos}")
        flags, serial, nseg = mm[pos + 5], struct.unpack_from("<I", mm, pos + 14)[0], mm[pos + 26]
        end = pos + 27 + nseg + sum(mm[pos + 27:pos + 27 + nseg])
        if end > size:
            raise _broken(path, "truncated", "OGG", f"it ends inside the page at byte {pos} "
                                                    f"({end - size} of its {end - pos} bytes are missing)")
        crc = struct.unpack_from("<I", mm, pos + 22)[0]
        if _ogg_crc(mm[pos:pos + 22] + b"\0\0\0\0" + mm[pos + 26:end]) != crc:
            # decoders drop such a page silently: a stretch of the song would be missing
            raise _broken(path, "damaged", "OGG", f"the page at byte {pos} fails its checksum")
        if first and not flags & 0x02:
            raise ChoreoInputError(path, "not a whole OGG file: it does not start with a stream header "
                                         "(the start is missing?)")
        first = False
        if flags & 0x02:
            open_streams.add(serial)
        if flags & 0x04:
            open_streams.discard(serial)
        pos = end
    if open_streams:
        raise _broken(path, "truncated", "OGG", "its stream stops before its last page "
                                                "(no end-of-stream flag)")


_REVERSED = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def _ogg_crc(page: bytes) -> int:
    """Ogg's CRC-32 (poly 0x04C11DB7, MSB first, no inversion) at zlib's speed: it is
    zlib's bit-reflected CRC-32 of the bit-reversed bytes, un-inverted and reversed."""
    raw = ~zlib.crc32(page.translate(_REVERSED), 0xFFFFFFFF) & 0xFFFFFFFF
    return int(f"{raw:032b}"[::-1], 2)


# --- FLAC: metadata, then the last frame -------------------------------------------------

def _check_flac(path: str, mm, start: int) -> None:
    size, pos = len(mm), start + 4
    info = None
    while True:
        if pos + 4 > size:
            raise _broken(path, "truncated", "FLAC", "it ends inside its metadata")
        head = mm[pos]
        length = int.from_bytes(mm[pos + 1:pos + 4], "big")
        if pos + 4 + length > size:
            raise _broken(path, "truncated", "FLAC", "it ends inside its metadata")
        if head & 0x7F == 0 and length >= 34:
            min_block, max_block = struct.unpack_from(">HH", mm, pos + 4)
            max_frame = int.from_bytes(mm[pos + 11:pos + 14], "big")
            packed = int.from_bytes(mm[pos + 14:pos + 22], "big")
            info = {"min_block": min_block, "max_block": max_block, "max_frame": max_frame,
                    "channels": ((packed >> 41) & 0x7) + 1, "total": packed & 0xFFFFFFFFF}
        pos += 4 + length
        if head & 0x80:
            break
    if info is None:
        raise ChoreoInputError(path, "not a readable FLAC file: it has no STREAMINFO block")
    audio_start, end = pos, _strip_trailing_tags(mm, pos)
    if end == audio_start:
        if info["total"]:
            raise _broken(path, "truncated", "FLAC", "it ends before its audio frames")
        return  # an empty stream: prepare_samples reports "no audio samples"
    # Scan back for the last frame header whose CRC-16 over [header, end) matches:
    # that frame ends exactly at the end of the file. A false sync inside audio data
    # fails the header CRC-8 or the CRC-16; the attempts are capped for cut files.
    window = info["max_frame"] + 32 if info["max_frame"] else 1 << 20
    lo, p, tries = max(audio_start, end - window), end - 2, 0
    while tries < 8:
        p = mm.rfind(b"\xff", lo, p)
        if p < 0:
            break
        frame = _flac_frame_header(mm, p, end, info)
        if frame is not None:
            tries += 1
            if _crc16(mm, p, end - 2) == int.from_bytes(mm[end - 2:end], "big"):
                first_sample, block = frame
                if info["total"] and first_sample + block < info["total"]:
                    raise _broken(path, "truncated", "FLAC", f"its frames stop at sample {first_sample + block} "
                                                             f"of the {info['total']} its header promises")
                return
    raise _broken(path, "truncated", "FLAC", "it ends inside an audio frame")


def _strip_trailing_tags(mm, lo: int) -> int:
    """End of the audio data before an ID3v1 tag or APEv2 tag some taggers append."""
    end = len(mm)
    if end - lo >= 128 and mm[end - 128:end - 125] == b"TAG":
        end -= 128
    if end - lo >= 32 and mm[end - 32:end - 24] == b"APETAGEX":
        end -= struct.unpack_from("<I", mm, end - 20)[0] + (32 if mm[end - 9] & 0x80 else 0)
    return max(end, lo)


_BLOCK = {1: 192, **{c: 576 << (c - 2) for c in range(2, 6)}, **{c: 256 << (c - 8) for c in range(8, 16)}}


def _flac_frame_header(mm, p: int, end: int, info: dict) -> tuple[int, int] | None:
    """``(first sample, block size)`` of a valid frame header at ``p``, else None."""
    if p + 6 > end or mm[p + 1] & 0xFE != 0xF8:
        return None
    variable = mm[p + 1] & 1
    bs_code, sr_code = mm[p + 2] >> 4, mm[p + 2] & 0xF
    ch_code, ss_code = mm[p + 3] >> 4, (mm[p + 3] >> 1) & 0x7
    if bs_code == 0 or sr_code == 15 or ch_code > 10 or ss_code == 3 or mm[p + 3] & 1:
        return None
    if (ch_code + 1 if ch_code < 8 else 2) != info["channels"]:
        return None
    q = p + 4
    lead = mm[q]  # frame or sample number, coded like UTF-8 (up to 0xFE + 6 bytes)
    ones = next((n for n in range(8) if lead & (0x80 >> n) == 0), 8)
    if ones in (1, 8):
        return None
    extra = max(ones - 1, 0)
    if q + 1 + extra + 4 > end:
        return None
    number = lead & (0x7F >> ones)
    for b in mm[q + 1:q + 1 + extra]:
        if b & 0xC0 != 0x80:
            return None
        number = (number << 6) | (b & 0x3F)
    q += 1 + extra
    if bs_code == 6:
        block, q = mm[q] + 1, q + 1
    elif bs_code == 7:
        block, q = int.from_bytes(mm[q:q + 2], "big") + 1, q + 2
    else:
        block = _BLOCK[bs_code]
    q += {12: 1, 13: 2, 14: 2}.get(sr_code, 0)
    if q >= end or block > max(info["max_block"], 16) or _crc8(mm, p, q) != mm[q]:
        return None
    return (number if variable else number * info["min_block"]), block


def _table(poly: int, width: int) -> list[int]:
    top, mask, out = 1 << (width - 1), (1 << width) - 1, []
    for i in range(256):
        c = i << (width - 8)
        for _ in range(8):
            c = ((c << 1) ^ poly) & mask if c & top else (c << 1) & mask
        out.append(c)
    return out


_CRC8, _CRC16 = _table(0x07, 8), _table(0x8005, 16)


def _crc8(mm, a: int, b: int) -> int:
    c = 0
    for x in mm[a:b]:
        c = _CRC8[c ^ x]
    return c


def _crc16(mm, a: int, b: int) -> int:
    c, t = 0, _CRC16
    for x in mm[a:b]:
        c = ((c << 8) & 0xFFFF) ^ t[(c >> 8) ^ x]
    return c


# --- MP3: MPEG audio frames --------------------------------------------------------------

_KBPS = {  # (MPEG-1?, layer) → bitrate index 1..14 in kbit/s
    (True, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_KBPS[(False, 3)] = _KBPS[(False, 2)]
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mpeg_frame(mm, p: int) -> tuple[int, int] | None:
    """``(length in bytes, stream key)`` of an MPEG audio frame header at ``p``; the
    key (version, layer, rate) must stay the same through a stream. A free-format
    frame (bit rate index 0) has no length in its header: 0."""
    h = mm[p:p + 4]
    if len(h) < 4 or h[0] != 0xFF or h[1] & 0xE0 != 0xE0:
        return None
    version, layer = (h[1] >> 3) & 3, 4 - ((h[1] >> 1) & 3)
    bitrate, rate, pad = h[2] >> 4, (h[2] >> 2) & 3, (h[2] >> 1) & 1
    if version == 1 or layer == 4 or bitrate == 15 or rate == 3 or h[3] & 3 == 2:
        return None
    if bitrate == 0:
        return 0, (version, layer, rate)
    kbps, hz = _KBPS[(version == 3, layer)][bitrate - 1] * 1000, _RATES[version][rate]
    if layer == 1:
        length = (12 * kbps // hz + pad) * 4
    else:
        length = (144 if version == 3 or layer == 2 else 72) * kbps // hz + pad
    return length, (version, layer, rate)


def _find_mpeg(mm, lo: int, hi: int, lone: bool = False) -> int | None:
    """First offset in ``[lo, hi)`` of a frame followed by another of the same stream:
    one lone sync pattern is too easy to hit by chance. With ``lone``, a frame right
    at ``lo`` (where the audio starts) that reaches the end of the file counts too,
    so a file cut inside its first frames is called truncated, not "not an MP3"."""
    p = lo
    while p < hi:
        p = mm.find(b"\xff", p, hi + 1)
        if p < 0 or p >= hi:
            return None
        frame = _mpeg_frame(mm, p)
        if frame is not None and frame[0] == 0 and p == lo and lone:
            return p  # free format: nothing to confirm it with
        if frame is not None and frame[0]:
            nxt = p + frame[0]
            if (_mpeg_frame(mm, nxt) or (0, None))[1] == frame[1] or nxt == len(mm) \
                    or (lone and p == lo and nxt + 4 > len(mm)):
                return p
        p += 1
    return None


def _check_mp3(path: str, mm, first: int) -> None:
    size = len(mm)
    length, key = _mpeg_frame(mm, first)
    if length == 0:
        return  # free format: frame lengths are not in the headers; left to the decoder
    promised = _vbr_frame_count(mm, first)
    pos, frames = first, 0
    while pos < size:
        frame = _mpeg_frame(mm, pos)
        if frame is None or frame[1] != key or frame[0] == 0:
            if mm[pos:pos + 3] == b"ID3" and _skip_id3v2(mm, pos) > pos:
                pos = _skip_id3v2(mm, pos)  # a tag between songs joined into one file
                continue
            if mm[pos:pos + 3] == b"TAG" or mm[pos:pos + 8] in (b"APETAGEX", b"LYRICSBE"):
                break  # tags after the audio (ID3v1, APEv2, Lyrics3)
            nxt = _find_mpeg(mm, pos + 1, size)
            if nxt is None:
                break  # trailing junk after the last frame
            # mpg123 gives up resyncing after 1 kB, ffmpeg skips silently: audio is lost either way
            raise _broken(path, "damaged", "MP3", f"{nxt - pos} bytes at byte {pos} are not MPEG audio")
        if pos + frame[0] > size:
            raise _broken(path, "truncated", "MP3", f"its last frame (at byte {pos}) needs {frame[0]} "
                                                    f"bytes, the file holds {size - pos}")
        frames += 1
        pos += frame[0]
    # LAME's Xing/Info count leaves out its own frame (VBRI's may not): one frame of slack
    if promised is not None and frames < promised:
        raise _broken(path, "truncated", "MP3", f"its header promises {promised} audio frames, "
                                                f"the file holds {frames - 1}")


def _vbr_frame_count(mm, p: int) -> int | None:
    """The frame count a Xing/Info or VBRI header in the frame at ``p`` promises, if any."""
    h = mm[p:p + 4]
    mono = (h[3] >> 6) == 3
    side = (17 if mono else 32) if (h[1] >> 3) & 3 == 3 else (9 if mono else 17)
    x = p + 4 + side
    if mm[x:x + 4] in (b"Xing", b"Info") and struct.unpack_from(">I", mm, x + 4)[0] & 1:
        return struct.unpack_from(">I", mm, x + 8)[0]
    v = p + 36
    if mm[v:v + 4] == b"VBRI":
        return struct.unpack_from(">I", mm, v + 14)[0]
    return None


CHECKS = {"WAV": _check_wav, "AIFF": _check_aiff, "FLAC": _check_flac, "OGG": _check_ogg, "MP3": _check_mp3}
