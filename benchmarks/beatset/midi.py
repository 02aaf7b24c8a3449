"""A minimal Standard MIDI File reader: the tempo map, time signatures and
note onsets, enough to derive exact beat labels from MMA's output.

No third-party dependency (pretty_midi/mido are not in the venv)."""

from __future__ import annotations

import struct
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Midi:
    ppq: int
    tempos: list[tuple[int, int]] = field(default_factory=list)     # (tick, µs per quarter)
    timesigs: list[tuple[int, int, int]] = field(default_factory=list)  # (tick, num, den)
    notes: list[tuple[int, int, int, int]] = field(default_factory=list)  # (tick, channel 0-15, pitch, velocity)
    end_tick: int = 0

    # -------------------------------------------------------------- tempo map
    def _segments(self):
        tm = sorted(self.tempos) or [(0, 500000)]
        if tm[0][0] != 0:
            tm.insert(0, (0, 500000))
        # collapse events at the same tick: the last one wins
        out: list[tuple[int, int]] = []
        for t, us in tm:
            if out and out[-1][0] == t:
                out[-1] = (t, us)
            else:
                out.append((t, us))
        secs = [0.0]
        for (t0, us0), (t1, _) in zip(out, out[1:]):
            secs.append(secs[-1] + (t1 - t0) * us0 / 1e6 / self.ppq)
        return out, secs

    def seconds(self, ticks):
        """Seconds of each tick (float ticks allowed) from the tempo map."""
        seg, secs = self._segments()
        starts = [t for t, _ in seg]
        res = []
        for tk in ticks:
            i = max(0, bisect_right(starts, tk) - 1)
            t0, us = seg[i]
            res.append(secs[i] + (tk - t0) * us / 1e6 / self.ppq)
        return res

    def bpm_at(self, tick) -> float:
        seg, _ = self._segments()
        us = seg[0][1]
        for t, u in seg:
            if t <= tick:
                us = u
        return 60e6 / us


def _varlen(data: bytes, i: int) -> tuple[int, int]:
    v = 0
    while True:
        b = data[i]
        i += 1
        v = (v << 7) | (b & 0x7F)
        if not b & 0x80:
            return v, i


def read_midi(path) -> Midi:
    data = Path(path).read_bytes()
    if data[:4] != b"MThd":
        raise ValueError(f"{path}: not a MIDI file")
    hlen = struct.unpack(">I", data[4:8])[0]
    _fmt, ntrk, div = struct.unpack(">HHH", data[8:14])
    if div & 0x8000:
        raise ValueError(f"{path}: SMPTE time division not supported")
    m = Midi(ppq=div)
    i = 8 + hlen
    for _ in range(ntrk):
        assert data[i:i + 4] == b"MTrk", "bad track chunk"
        tlen = struct.unpack(">I", data[i + 4:i + 8])[0]
        j, end = i + 8, i + 8 + tlen
        tick, status = 0, 0
        while j < end:
            dt, j = _varlen(data, j)
            tick += dt
            b = data[j]
            if b == 0xFF:
                typ = data[j + 1]
                ln, j = _varlen(data, j + 2)
                payload = data[j:j + ln]
                j += ln
                if typ == 0x51:
                    m.tempos.append((tick, int.from_bytes(payload, "big")))
                elif typ == 0x58:
                    m.timesigs.append((tick, payload[0], 2 ** payload[1]))
                elif typ == 0x2F:
                    m.end_tick = max(m.end_tick, tick)
                continue
            if b in (0xF0, 0xF7):
                ln, j = _varlen(data, j + 1)
                j += ln
                continue
            if b & 0x80:
                status = b
                j += 1
            kind, ch = status & 0xF0, status & 0x0F
            if kind in (0xC0, 0xD0):
                j += 1
                continue
            d1, d2 = data[j], data[j + 1]
            j += 2
            if kind == 0x90 and d2 > 0:
                m.notes.append((tick, ch, d1, d2))
        i = end
    m.notes.sort()
    m.end_tick = max([m.end_tick] + [n[0] for n in m.notes])
    return m
