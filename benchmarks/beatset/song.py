"""Seeded song plans and their MMA text.

A plan is a pure function of (set, set seed, track index): the groove, tempo,
form, chords and features (pickup, tempo change, drum-less intro, humanised
timing, added swing, half/double-time feel) are drawn from ``random.Random``
seeded with a string, so the same seed always gives the same ``.mma`` text.

Two sets are planned the same way (``SETS``): the beat set (``BEATSET``, the
default everywhere: ``catalog.CATALOG``, names ``bs...``, split dev/test),
the train set (``TRAIN``: ``train_catalog.TRAIN_CATALOG``, groove files
disjoint from the beat set's, names ``bt...``, every track split "train") and
the gen set (``GEN``: ``gen_grooves.GEN_CATALOG``, grooves written by
``gen_grooves`` into each song, no MMA library file; names ``bg...``, split
"train"; mostly 3/4, 6/8 and 12/8).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

from .catalog import CATALOG, Groove
from .gen_grooves import GEN_CATALOG, groove_text
from .train_catalog import DRUM_ONLY_LIBS, TRAIN_CATALOG

SET_SEED = 2024
TRAIN_SEED = 7331
GEN_SEED = 6868
#: tracks in the set: every catalog entry once, plus a second track for every
#: entry that is not 4/4 or is Latin (the rarer classes)
KEYS = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
LO_BPM, HI_BPM = 60, 190

# progressions: (semitones above the key, chord suffix) per bar
_I, _ii, _iii, _IV, _V, _vi = (0, ""), (2, "m"), (4, "m"), (5, ""), (7, ""), (9, "m")
PROGS = {
    "pop": [[_I, _V, _vi, _IV], [_I, _vi, _IV, _V], [_vi, _IV, _I, _V], [_I, _IV, _vi, _V]],
    "blues": [[(0, "7")] * 4 + [(5, "7")] * 2 + [(0, "7")] * 2 + [(7, "7"), (5, "7"), (0, "7"), (7, "7")]],
    "jazz": [[(2, "m7"), (7, "7"), (0, "maj7"), (9, "7")], [(0, "maj7"), (9, "m7"), (2, "m7"), (7, "7")],
             [(4, "m7"), (9, "7"), (2, "m7"), (7, "7")]],
    "minor": [[(0, "m"), (8, ""), (3, ""), (10, "")], [(0, "m"), (5, "m"), (7, "7"), (0, "m")],
              [(0, "m"), (10, ""), (8, ""), (7, "7")]],
    "latin": [[(0, "m"), (5, "m"), (7, "7"), (0, "m")], [_I, _IV, (7, "7"), _IV], [(2, "m7"), (7, "7"), (0, "maj7"), (0, "maj7")],
              [(0, "maj7"), (2, "m7"), (4, "m7"), (2, "m7")]],
}
HARMONY = {"blues": "blues", "jazz": "jazz", "swing": "jazz", "latin": "latin", "tango": "minor",
           "metal": "minor", "electronic": "minor", "hiphop": "minor", "world": "minor"}


@dataclass
class Plan:
    index: int
    name: str
    groove: Groove
    seed: int                 # MMA RndSeed
    bpm: float                # labelled pulse tempo at the start
    mma_tempo: int            # MMA Tempo (MMA beats per minute)
    feel: str                 # "normal", "half" (drums at half the labelled tempo) or "double"
    mult: float               # MMA beats per labelled beat
    ppb: int                  # labelled beats per labelled bar
    pickup: int               # pulses sounding before the first downbeat (0: none)
    nodrum_bars: int          # MMA bars at the start with the drums off
    humanise: int             # AllTracks RTime in ticks (0: off)
    swing_added: bool         # SwingMode On before the groove loads
    tempo_change: dict | None  # {"kind": "step"|"ramp", "bar": MMA bar, "mma_tempo": int, "beats": ramp beats}
    bars: list = field(default_factory=list)   # [(groove name, [chord tokens], drums on)]
    set_name: str = "beatset"   # the SetSpec it belongs to
    explicit_files: bool = False  # Groove commands name the file (lib/file:Groove)

    @property
    def features(self) -> dict:
        g = self.groove
        return {
            "meter": f"{g.meter[0]}/{g.meter[1]}",
            "latin": g.latin,
            "swing": bool(g.swing or self.swing_added),
            "pickup": self.pickup > 0,
            "tempo_change": self.tempo_change is not None,
            "nodrum_intro": self.nodrum_bars > 0,
            "humanised": self.humanise > 0,
            "feel": self.feel,
        }

    def mma_text(self) -> str:
        return to_mma(self)


@dataclass(frozen=True)
class SetSpec:
    """A planned set: its catalogue and how tracks are drawn from it."""
    name: str                     # "beatset" or "train"
    catalog: tuple                # of Groove
    prefix: str                   # track names: <prefix><index:03d>_<file>_<main>
    seed: int                     # the set seed (build.py --seed overrides)
    out: str                      # default output folder of build.py
    copies: int = 0               # tracks per entry; 0: the beat set's rule (one, two if not 4/4 or Latin)
    explicit_files: bool = False  # "Groove lib/file:Name": MMA resolves "lib:Name" by name over all libraries
    drumless_intro_on_drum_only: bool = True  # the beat set allows it (a silent intro on zoom grooves)
    splits: tuple = ("dev", "test")


BEATSET = SetSpec("beatset", tuple(CATALOG), "bs", SET_SEED, "out/beatset")
TRAIN = SetSpec("train", tuple(TRAIN_CATALOG), "bt", TRAIN_SEED, "out/beattrain", copies=2,
                explicit_files=True, drumless_intro_on_drum_only=False, splits=("train",))
#: procedural grooves (gen_grooves): each entry once; its groove definitions are in the song
GEN = SetSpec("gen", tuple(GEN_CATALOG), "bg", GEN_SEED, "out/beatgen", copies=1, splits=("train",))
SETS = {s.name: s for s in (BEATSET, TRAIN, GEN)}


def track_list(spec: SetSpec = BEATSET) -> list[Groove]:
    """The catalog entries, one per track, in track order (fixed). The beat
    set: every entry once, then a second track for every entry that is not
    4/4 or is Latin; a set with ``copies`` = n: all entries, n times over."""
    cat = list(spec.catalog)
    if spec.copies:
        return cat * spec.copies
    out = list(cat)
    out += [g for g in cat if g.meter != (4, 4) or g.latin]
    return out


def _chord(key: int, deg: tuple[int, str]) -> str:
    return KEYS[(key + deg[0]) % 12] + deg[1]


def plan_song(index: int, set_seed: int | None = None, spec: SetSpec = BEATSET) -> Plan:
    """Plan track ``index`` of set ``spec`` (the beat set by default) with the
    set seed ``set_seed`` (default: the set's own, 2024, 7331 or 6868)."""
    set_seed = spec.seed if set_seed is None else set_seed
    groove = track_list(spec)[index]
    rng = random.Random(f"beatset:{set_seed}:{index}:{groove.lib}/{groove.main}")
    g = groove
    straight44 = g.meter == (4, 4) and g.time == 4 and not g.latin and not g.swing and g.drums
    feel = "normal"
    if straight44:
        u = rng.random()
        feel = "half" if u < 0.15 else "double" if u < 0.30 else "normal"
    mult = g.mult * {"normal": 1.0, "half": 0.5, "double": 2.0}[feel]
    ppb = g.ppb
    if feel == "half":            # drums at 60-90: labelled pulse 120-180
        mma_tempo = rng.randint(60, 90)
    elif feel == "double":        # drums at 120-180: labelled pulse 60-90
        mma_tempo = 2 * rng.randint(60, 90)
    else:
        lo, hi = max(g.lo, LO_BPM), min(g.hi, HI_BPM)
        mma_tempo = int(round(rng.randint(lo, hi) * g.mult))
    bpm = mma_tempo / mult
    assert LO_BPM - 1e-9 <= bpm <= HI_BPM + 1e-9, (g, bpm)

    # MMA bars per labelled bar, and labelled bars per MMA bar
    lab_bar_beats = ppb * mult            # MMA beats in a labelled bar
    mma_bar_s = g.time * 60.0 / mma_tempo
    target_s = rng.uniform(32.0, 55.0)
    step = 2                              # sections in steps of 2 MMA bars
    n_body = max(8, int(round(target_s / mma_bar_s / 2)) * 2)

    has_intro = g.intro is not None and rng.random() < 0.6
    intro_n = (4 if mma_bar_s * 4 <= 12 else 2) if has_intro else 0
    end_n = 2
    rest = max(6, n_body - intro_n - end_n)
    a = max(2, (rest // 3) // step * step)
    b = max(2, rest - 2 * a)
    sections = []
    if intro_n:
        sections.append((g.intro, intro_n, "intro"))
    sections += [(g.main, a, "A"), (g.var or g.main, b, "B"), (g.main, a, "A"), (g.end or g.main, end_n, "end")]

    # features
    pickup = 0
    if feel == "normal" and rng.random() < 0.22:
        pickup = rng.choice([1, 2]) if ppb == 4 else 1
    nodrum = 0
    if g.drums and rng.random() < 0.22:
        nodrum = rng.choice([2, 4])
        if not spec.drumless_intro_on_drum_only and g.lib in DRUM_ONLY_LIBS:
            nodrum = 0                    # a drum kit with its drums off is silence
    humanise = 0
    if rng.random() < 0.35:
        tick_s = 60.0 / (mma_tempo * 192)
        humanise = max(2, min(12, int(0.02 / tick_s)))     # at most ±20 ms
    swing_added = straight44 and feel == "normal" and rng.random() < 0.2
    tempo_change = None
    if rng.random() < 0.25:
        kind = "ramp" if rng.random() < 0.35 else "step"
        for _ in range(20):
            f = rng.choice([-1, 1]) * rng.uniform(0.08, 0.25)
            new = int(round(mma_tempo * (1 + f)))
            if LO_BPM <= new / mult <= HI_BPM:
                break
        else:
            new = mma_tempo
        start_b = (intro_n + a) + (1 if pickup else 0)
        tempo_change = {"kind": kind, "bar": start_b, "mma_tempo": new,
                        "beats": g.time * 2 if kind == "ramp" else 0}

    # chords: one per labelled bar
    style = HARMONY.get(g.genre, "pop")
    prog = rng.choice(PROGS[style])
    key = rng.randrange(12)
    bars = []
    lab_bar = 0
    tabs = g.tabs or g.time               # chord positions per MMA bar
    tab_beats = g.time / tabs

    def chord_tokens() -> list[str]:
        nonlocal lab_bar
        toks: list[str] = []
        if lab_bar_beats >= g.time:           # one chord spans >= 1 MMA bar
            per = int(round(lab_bar_beats / g.time))
            bar_in = len(bars) - (1 if pickup else 0)
            c = _chord(key, prog[(bar_in // per) % len(prog)])
            return [c] + ["/"] * (tabs - 1)
        n = int(round(g.time / lab_bar_beats))
        w = int(round(lab_bar_beats / tab_beats))
        for _ in range(n):
            toks += [_chord(key, prog[lab_bar % len(prog)])] + ["/"] * (w - 1)
            lab_bar += 1
        return toks

    if pickup:
        s = (ppb - pickup) * mult / tab_beats       # chord positions before the pickup
        assert abs(s - round(s)) < 1e-9
        s = int(round(s))
        toks = ["z!"] * s + [_chord(key, (7, "7"))] + ["/"] * (tabs - s - 1)
        bars.append((sections[0][0], toks, nodrum == 0, "pickup"))
    k = 0
    for gname, n, label in sections:
        for _ in range(n):
            drums = k >= nodrum
            bars.append((gname, chord_tokens(), drums, label))
            k += 1
    name = f"{spec.prefix}{index:03d}_{g.file.replace('-', '').replace('+', '').lower()}_{g.main.lower()}"
    name = "".join(ch for ch in name if ch.isalnum() or ch == "_")
    seed = int(hashlib.sha256(name.encode()).hexdigest()[:6], 16)
    return Plan(index, name, g, seed, bpm, mma_tempo, feel, mult, ppb, pickup, nodrum, humanise,
                swing_added, tempo_change, bars, spec.name, spec.explicit_files)


def to_mma(p: Plan) -> str:
    g = p.groove
    f = p.features
    title = "Choreo beat set" if p.set_name == "beatset" else f"Choreo {p.set_name} set"
    lines = [f"// {p.name}: {title} (benchmarks/beatset), generated, do not edit",
             f"// groove {g.lib}/{g.file}:{g.main}; meter {f['meter']}; pulse {p.bpm:g} BPM; feel {p.feel}",
             f"// features: {', '.join(k for k, v in f.items() if v is True)}",
             f"RndSeed {p.seed}"]
    if p.swing_added:
        lines.append("SwingMode On")
    if g.lib == "gen":             # the grooves are defined here, from gen_grooves (no library file)
        lines += groove_text(g).splitlines()
    lines.append(f"Tempo {p.mma_tempo}")
    cur_groove, cur_drums = None, True
    for i, (gname, toks, drums, _label) in enumerate(p.bars):
        tc = p.tempo_change
        if tc and i == tc["bar"]:
            lines.append(f"Tempo {tc['mma_tempo']}" + (f" {tc['beats']}" if tc["kind"] == "ramp" else ""))
        if gname != cur_groove:
            if g.lib == "gen":
                lines.append(f"Groove {gname}")
            else:
                lines.append(f"Groove {g.lib}/{g.file}:{gname}" if p.explicit_files else f"Groove {g.cmd(gname)}")
            lines.append(f"TimeSig {g.meter[0]} {g.meter[1]}")
            if p.humanise:
                lines.append(f"AllTracks RTime {p.humanise}")
                lines.append("AllTracks RVolume 10")
            cur_groove = gname
            if p.nodrum_bars:      # state it after every Groove command
                lines.append("AllTracks Drum " + ("On" if drums else "Off"))
            cur_drums = drums
        if drums != cur_drums:
            lines.append("AllTracks Drum " + ("On" if drums else "Off"))
            cur_drums = drums
        lines.append(f"{i + 1} " + " ".join(toks))
    return "\n".join(lines) + "\n"
