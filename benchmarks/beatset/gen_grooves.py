"""Procedural MMA grooves for the *gen* set: written here, no MMA library file.

The train set (``train_catalog``) can only use MMA library files the beat set
does not, and those are all 4/4 (bar four 12/8 tracks). This module writes its
own grooves (``SeqSize``, ``Time``, ``Drum-*`` tracks with ``Tone`` and
``Sequence``, ``Bass``/``Walk``, ``Chord``, ``Arpeggio`` with General MIDI
voices, ``DefGroove``) in triple and compound meters, so the gen set is
disjoint from the beat set by construction and teaches the network 3/4, 6/8
and 12/8.

``GEN_CATALOG`` is a list of ``catalog.Groove`` entries with ``lib`` =
"gen": ``file`` is the style, ``main`` a numbered groove of it (``Jig03``),
``var``/``intro``/``end`` its variation (``Jig03B``), intro and 2-bar ending.
``groove_text(g)`` is the MMA text that defines the four grooves; it is a pure
function of the entry (``random.Random`` seeded with ``GROOVE_SEED``, the
style and the number), and ``song.to_mma`` puts it at the top of every gen
song, which then plays ``Groove Jig03`` by its plain name.

The metrical grid, per meter (the same fields and machinery as ``catalog.py``:
``time`` MMA beats a bar, ``mult`` MMA beats per labelled beat, ``ppb``
labelled beats a bar; one MMA beat is one MIDI quarter note, 192 ticks):

====== ============ ====== ==== === ===========================================
meter  MMA ``Time`` mult   ppb  MMA labelled beat
====== ============ ====== ==== === ===========================================
2/4    2            1      2    quarter note (MMA beats 1, 2)
3/4    3            1      3    quarter note (MMA beats 1, 2, 3)
4/4    4            1      4    quarter note
6/8    6 (eighths)  3      2    dotted quarter = MMA beats 1 and 4
12/8   12 (eighths) 3      4    dotted quarter = MMA beats 1, 4, 7, 10
====== ============ ====== ==== ===========================================

In 6/8 and 12/8 every MMA beat is a written eighth (MMA ``Tempo`` = 3 x the
labelled BPM, as ``stdlib/68swing``), so all patterns sit on whole MMA beats
and the dotted-quarter pulse is every third one. Every pattern here has its
kick (or, in folk styles, the low drum) on the first labelled beat of the bar
and a drum on every labelled beat of the main groove (Afro and bembe bells are
laid over a kick on every dotted quarter, so the labelled pulse is never in
doubt); swung (triplet) positions are written out (e.g. 2.6667 in a 3/4 jazz
waltz), and the MMA bar starts where the pattern's bar starts, so
``labels.py`` (a beat every ``mult`` MMA beats, a downbeat every ``ppb``) is
exact. Durations are written in MIDI ticks (``96t``).

Each entry has: the main groove (``SeqSize 4``: a repeated bar, sometimes an
alternate second bar, and a fill or a break in bar 4), a variation (busier or
sparser: more hi-hat/percussion or an added arpeggio, or fewer drums; bar 4 a
fill, a break with one drum hit, or none), an intro (sparse: pulse-only
percussion, no arpeggio) and a 2-bar ending (one bar of the main groove, then
one hit). Voices are drawn from sensible General MIDI choices per style; the
song plan (``song.plan_song``) adds tempo, form, chords, pickup, tempo
change, humanised timing and drum-less intros as for the other sets.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from .catalog import Groove

GROOVE_SEED = 6868

# ---------------------------------------------------------------- formatting

PPQ = 192


def _pos(p: float) -> str:
    s = f"{p:.4f}".rstrip("0").rstrip(".")
    return s


def _dur(beats: float) -> str:
    return f"{max(1, int(round(beats * PPQ)))}t"


def drum(hits) -> str:
    """[(pos, vol)] -> an MMA drum bar ('z' for none)."""
    if not hits:
        return "z"
    return "{" + "; ".join(f"{_pos(p)} 0 {int(v)}" for p, v in sorted(hits)) + "}"


def notes(hits) -> str:
    """Chord / Arpeggio / Walk bar: [(pos, dur beats, vol)]."""
    if not hits:
        return "z"
    return "{" + "; ".join(f"{_pos(p)} {_dur(d)} {int(v)}" for p, d, v in sorted(hits)) + "}"


def bass(hits) -> str:
    """Bass bar: [(pos, dur beats, note offset, vol)]."""
    if not hits:
        return "z"
    return "{" + "; ".join(f"{_pos(p)} {_dur(d)} {n} {int(v)}" for p, d, n, v in sorted(hits)) + "}"


# ---------------------------------------------------------------- meters

@dataclass(frozen=True)
class Meter:
    name: str
    time: int          # MMA beats a bar
    mult: int          # MMA beats per labelled beat
    ppb: int           # labelled beats a bar
    sig: tuple

    @property
    def pulses(self) -> list[float]:
        return [1 + k * self.mult for k in range(self.ppb)]

    @property
    def compound(self) -> bool:
        return self.mult == 3


M24 = Meter("2/4", 2, 1, 2, (2, 4))
M34 = Meter("3/4", 3, 1, 3, (3, 4))
M44 = Meter("4/4", 4, 1, 4, (4, 4))
M68 = Meter("6/8", 6, 3, 2, (6, 8))
M128 = Meter("12/8", 12, 3, 4, (12, 8))

T3 = 1.0 / 3          # a triplet eighth in a quarter-note beat


def _eighths(m: Meter, on: int, off: int, triplet: bool = False) -> list:
    """Hits on every eighth (compound: every MMA beat; simple: every half beat,
    or the swung 2/3 position) with ``on`` volume on labelled beats."""
    if m.compound:
        return [(float(b), on if (b - 1) % 3 == 0 else off) for b in range(1, m.time + 1)]
    out = []
    for b in range(1, m.time + 1):
        out += [(float(b), on), (b + (2 * T3 if triplet else 0.5), off)]
    return out


# ---------------------------------------------------------------- a style's bars

@dataclass
class Bar:
    """One bar of every track: drums {track: [(pos, vol)]}, pitched {track: str}."""
    drums: dict
    pitched: dict

    def copy(self) -> "Bar":
        return Bar({k: list(v) for k, v in self.drums.items()}, dict(self.pitched))


@dataclass
class StyleOut:
    settings: dict      # track -> [setting lines]
    main: Bar
    alt: Bar | None     # optional alternate 2nd bar of the main groove
    busy: Bar
    sparse: Bar
    intro: Bar
    final: Bar          # the last bar of the ending


def _drum_set(tone: str, vol: str = "m", extra: tuple = ()) -> list[str]:
    return [f"Tone {tone}", f"Volume {vol}", "RTime 2", "RVolume 8", *extra]


def _pitched_set(voice: str, octave: int, vol: str = "m", art: int = 90, extra: tuple = ()) -> list[str]:
    return [f"Voice {voice}", f"Octave {octave}", f"Volume {vol}", f"Articulate {art}",
            "RTime 3", "RVolume 8", *extra]


def _chord_set(voice: str, octave: int = 5, vol: str = "mp", art: int = 90) -> list[str]:
    return _pitched_set(voice, octave, vol, art, ("Voicing Mode=Optimal",))


def _arp_set(r: random.Random, voice: str, octave: int = 6, vol: str = "mp") -> list[str]:
    return _pitched_set(voice, octave, vol, 90, (f"Direction {r.choice(['Up', 'Down', 'Random', 'Both'])}",
                                                  "Range 1.5"))


def _final(m: Meter, chord_voice_track: str = "Chord") -> Bar:
    return Bar({"Drum-Kick": [(1.0, 110)], "Drum-Crash": [(1.0, 100)]},
               {chord_voice_track: notes([(1, m.time - 0.1, 85)]), "Bass": bass([(1, m.time - 0.1, 1, 95)])})


# ------------------------------------------------------------------ 3/4 styles

def waltz(r: random.Random, m: Meter) -> StyleOut:
    """Oom-pah-pah: kick and bass on 1, chords (and hi-hat) on 2 and 3."""
    cv = r.choice(["Accordion", "Piano1", "Strings", "SteelGuitar", "Piano2", "Organ2", "TremoloStrings"])
    hh = r.choice(["ClosedHiHat", "PedalHiHat", "Tambourine"])
    s = {"Drum-Kick": _drum_set(r.choice(["KickDrum1", "KickDrum2"])),
         "Drum-HH": _drum_set(hh, "mp"),
         "Drum-Snare": _drum_set("SnareDrum2", "p"),
         "Drum-Crash": _drum_set("CrashCymbal1", "mp"),
         "Bass": _pitched_set(r.choice(["AcousticBass", "Tuba", "FingeredBass"]), 3, "mf", 80),
         "Chord": _chord_set(cv, 5, "mp", r.choice([60, 75, 90])),
         "Arpeggio": _arp_set(r, r.choice(["Flute", "Glockenspiel", "Clarinet", "Violin", "Celesta"]))}
    snare = r.random() < 0.5
    cd = r.choice([0.6, 0.9])
    main = Bar({"Drum-Kick": [(1.0, 100)], "Drum-HH": [(2.0, 75), (3.0, 70)],
                "Drum-Snare": [(2.0, 55), (3.0, 50)] if snare else []},
               {"Bass": bass([(1, 0.9, 1, 95)]), "Chord": notes([(2, cd, 75), (3, cd, 70)])})
    alt = main.copy()
    alt.pitched["Bass"] = bass([(1, 0.9, 5, 90)])
    busy = main.copy()
    busy.drums["Drum-HH"] = [(1.0, 60), (2.0, 75), (2.5, 45), (3.0, 70), (3.5, 45)]
    busy.pitched["Arpeggio"] = notes([(b, 0.45, 70) for b in (1, 1.5, 2, 2.5, 3, 3.5)])
    sparse = main.copy()
    sparse.drums["Drum-Snare"] = []
    sparse.pitched["Chord"] = notes([(1, 2.9, 65)])
    intro = Bar({"Drum-HH": [(1.0, 55), (2.0, 70), (3.0, 70)]}, {"Chord": main.pitched["Chord"]})
    return StyleOut(s, main, alt, busy, sparse, intro, _final(m))


def jazzwaltz(r: random.Random, m: Meter) -> StyleOut:
    """Swung ride (ding, ding-a ding), hi-hat foot on 2, walking or 2-feel bass."""
    s = {"Drum-Ride": _drum_set(r.choice(["RideCymbal1", "RideCymbal2"]), "mp"),
         "Drum-HH": _drum_set("PedalHiHat", "mp"),
         "Drum-Kick": _drum_set("KickDrum1", "p"),
         "Drum-Snare": _drum_set("SnareDrum1", "p"),
         "Drum-Crash": _drum_set("CrashCymbal1", "mp"),
         "Walk": _pitched_set(r.choice(["AcousticBass", "FretlessBass"]), 3, "mf", 85),
         "Bass": _pitched_set("AcousticBass", 3, "mf", 85),
         "Chord": _chord_set(r.choice(["Piano1", "JazzGuitar", "Vibraphone", "EPiano", "RhodesPiano"]), 5, "mp", 70),
         "Arpeggio": _arp_set(r, r.choice(["Vibraphone", "TenorSax", "Flute", "JazzGuitar"]), 5)}
    ride = r.choice([[(1.0, 90), (2.0, 75), (2 + 2 * T3, 55), (3.0, 75)],
                     [(1.0, 90), (2.0, 75), (3.0, 75), (3 + 2 * T3, 55)],
                     [(1.0, 90), (1 + 2 * T3, 50), (2.0, 75), (3.0, 75)]])
    hh = r.choice([[(2.0, 60)], [(2.0, 55), (3.0, 55)], [(3.0, 60)]])
    walking = r.random() < 0.6
    comp = r.choice([[(2, 0.6, 70), (3, 0.6, 65)], [(1, 0.6, 70), (2 + 2 * T3, 0.3, 65)],
                     [(2 + 2 * T3, 0.3, 65), (3 + 2 * T3, 0.3, 60)]])
    main = Bar({"Drum-Ride": ride, "Drum-HH": hh, "Drum-Kick": [(1.0, 70)]},
               {"Chord": notes(comp)})
    if walking:
        main.pitched["Walk"] = notes([(1, 0.9, 90), (2, 0.9, 80), (3, 0.9, 80)])
    else:
        main.pitched["Bass"] = bass([(1, 1.9, 1, 90), (3, 0.9, 5, 75)])
    alt = None
    busy = main.copy()
    busy.drums["Drum-Snare"] = [(2 + 2 * T3, 40), (3 + 2 * T3, 35)]
    busy.pitched["Arpeggio"] = notes([(1, 0.6, 70), (1 + 2 * T3, 0.3, 55), (2, 0.6, 65), (3, 0.9, 65)])
    if not walking:
        busy.pitched.pop("Bass")
        busy.pitched["Walk"] = notes([(1, 0.9, 90), (2, 0.9, 80), (3, 0.9, 80)])
    sparse = main.copy()
    sparse.drums["Drum-Ride"] = [(1.0, 85), (2.0, 70), (3.0, 70)]
    intro = Bar({"Drum-Ride": [(1.0, 80), (2.0, 65), (3.0, 65)], "Drum-HH": hh}, {"Chord": notes(comp)})
    return StyleOut(s, main, alt, busy, sparse, intro, _final(m))


def folk34(r: random.Random, m: Meter) -> StyleOut:
    """Laendler / folk waltz: strummed guitar on 1-2-3, root-fifth bass, light snare on 2 and 3."""
    s = {"Drum-Kick": _drum_set("KickDrum1"),
         "Drum-Snare": _drum_set(r.choice(["SideKick", "SnareDrum2"]), "mp"),
         "Drum-Tamb": _drum_set(r.choice(["Tambourine", "Shaker", "JingleBell"]), "mp"),
         "Drum-Crash": _drum_set("CrashCymbal2", "mp"),
         "Bass": _pitched_set(r.choice(["AcousticBass", "FingeredBass", "ContraBass"]), 3, "mf", 80),
         "Chord": _chord_set(r.choice(["SteelGuitar", "NylonGuitar", "Accordion", "Banjo"]), 5, "mp", 80),
         "Arpeggio": _arp_set(r, r.choice(["Fiddle", "Flute", "Recorder", "Accordion", "Whistle"]))}
    main = Bar({"Drum-Kick": [(1.0, 95)], "Drum-Snare": [(2.0, 60), (3.0, 60)]},
               {"Bass": bass([(1, 0.9, 1, 90)]), "Chord": notes([(1, 0.8, 70), (2, 0.8, 80), (3, 0.8, 75)])})
    alt = main.copy()
    alt.pitched["Bass"] = bass([(1, 0.9, 5, 85)])
    busy = main.copy()
    busy.drums["Drum-Tamb"] = [(1.0, 70), (2.0, 70), (2.5, 40), (3.0, 70), (3.5, 40)]
    busy.pitched["Arpeggio"] = notes([(b, 0.45, 70) for b in (1, 1.5, 2, 2.5, 3, 3.5)])
    sparse = main.copy()
    sparse.drums["Drum-Snare"] = [(3.0, 50)]
    sparse.drums["Drum-Tamb"] = [(2.0, 55)]
    intro = Bar({"Drum-Tamb": [(1.0, 60), (2.0, 55), (3.0, 55)]}, {"Chord": main.pitched["Chord"]})
    return StyleOut(s, main, alt, busy, sparse, intro, _final(m))


def mazurka(r: random.Random, m: Meter) -> StyleOut:
    """Mazurka: dotted figure on 1, the accent on 2 or 3 (kick and bass still on 1)."""
    acc = r.choice([2.0, 3.0])
    s = {"Drum-Kick": _drum_set("KickDrum1"),
         "Drum-Snare": _drum_set(r.choice(["SnareDrum1", "SnareDrum2", "HandClap"]), "mf"),
         "Drum-Perc": _drum_set(r.choice(["HighWoodBlock", "Tambourine", "Castanets", "Claves"]), "mp"),
         "Drum-Crash": _drum_set("CrashCymbal1", "mp"),
         "Bass": _pitched_set(r.choice(["AcousticBass", "Tuba", "Cello"]), 3, "mf", 85),
         "Chord": _chord_set(r.choice(["Accordion", "Piano1", "Bandoneon", "Strings", "PizzicatoString"]), 5, "mp", 70),
         "Arpeggio": _arp_set(r, r.choice(["Violin", "Clarinet", "Flute", "Accordion"]))}
    perc = [(1.0, 60), (1.75, 45), (2.0, 70 if acc == 2 else 55), (3.0, 70 if acc == 3 else 55)]
    main = Bar({"Drum-Kick": [(1.0, 90)], "Drum-Snare": [(acc, 95)], "Drum-Perc": perc},
               {"Bass": bass([(1, 0.9, 1, 90)]),
                "Chord": notes([(2, 0.7, 90 if acc == 2 else 65), (3, 0.7, 90 if acc == 3 else 65)])})
    alt = main.copy()
    alt.pitched["Bass"] = bass([(1, 0.9, 5, 85)])
    busy = main.copy()
    busy.pitched["Arpeggio"] = notes([(1, 0.7, 70), (1.75, 0.2, 55), (2, 0.45, 75), (2.5, 0.45, 60), (3, 0.9, 70)])
    busy.drums["Drum-Kick"] = [(1.0, 90), (3.0, 55)]
    sparse = main.copy()
    sparse.drums["Drum-Perc"] = [(1.0, 55), (2.0, 55), (3.0, 55)]
    intro = Bar({"Drum-Perc": [(1.0, 60), (2.0, 60), (3.0, 60)], "Drum-Snare": [(acc, 70)]},
                {"Chord": main.pitched["Chord"]})
    return StyleOut(s, main, alt, busy, sparse, intro, _final(m))


def popwaltz(r: random.Random, m: Meter) -> StyleOut:
    """3/4 pop/rock ballad: kick on 1, snare on 3 (or 2 and 3), eighth hi-hats, arpeggiated keys."""
    s = {"Drum-Kick": _drum_set(r.choice(["KickDrum1", "KickDrum2"]), "mf"),
         "Drum-Snare": _drum_set(r.choice(["SnareDrum1", "SnareDrum2", "SideKick"]), "mf"),
         "Drum-HH": _drum_set("ClosedHiHat", "mp"),
         "Drum-Crash": _drum_set("CrashCymbal1", "mp"),
         "Bass": _pitched_set(r.choice(["FingeredBass", "PickedBass", "FretlessBass"]), 3, "mf", 90),
         "Chord": _chord_set(r.choice(["Strings", "WarmPad", "Organ1", "SlowStrings"]), 5, "p", 100),
         "Arpeggio": _arp_set(r, r.choice(["Piano1", "EPiano", "CleanGuitar", "NylonGuitar", "Piano2"]), 5)}
    snare = r.choice([[(3.0, 90)], [(2.0, 80), (3.0, 80)], [(2.0, 85)]])
    quarters = r.random() < 0.5
    hh = [(1.0, 70), (2.0, 65), (3.0, 65)] if quarters else _eighths(m, 70, 45)
    kick = r.choice([[(1.0, 100)], [(1.0, 100), (2.5, 50)], [(1.0, 100), (3.5, 45)]])
    main = Bar({"Drum-Kick": kick, "Drum-Snare": snare, "Drum-HH": hh},
               {"Bass": bass([(1, 1.9, 1, 90), (3, 0.9, 5, 75)]), "Chord": notes([(1, 2.95, 60)]),
                "Arpeggio": notes([(b, 0.45, 65) for b in (1, 1.5, 2, 2.5, 3, 3.5)])})
    alt = None
    busy = main.copy()
    busy.drums["Drum-HH"] = _eighths(m, 75, 50)
    busy.drums["Drum-Kick"] = kick + ([(2.0, 60)] if (2.0, 85) not in snare and (2.0, 80) not in snare else [])
    sparse = main.copy()
    sparse.drums["Drum-HH"] = [(1.0, 60), (2.0, 55), (3.0, 55)]
    sparse.pitched.pop("Arpeggio")
    sparse.pitched["Chord"] = notes([(1, 0.9, 60), (2, 0.9, 55), (3, 0.9, 55)])
    intro = Bar({"Drum-HH": [(1.0, 55), (2.0, 50), (3.0, 50)]}, {"Arpeggio": main.pitched["Arpeggio"]})
    return StyleOut(s, main, alt, busy, sparse, intro, _final(m))


def countrywaltz(r: random.Random, m: Meter) -> StyleOut:
    """Country waltz: root/fifth bass on 1, guitar chops and brushes on 2 and 3."""
    s = {"Drum-Kick": _drum_set("KickDrum1", "mp"),
         "Drum-Snare": _drum_set("SnareDrum2", "p"),
         "Drum-HH": _drum_set("PedalHiHat", "mp"),
         "Drum-Crash": _drum_set("CrashCymbal2", "mp"),
         "Bass": _pitched_set(r.choice(["AcousticBass", "FingeredBass"]), 3, "mf", 80),
         "Chord": _chord_set(r.choice(["SteelGuitar", "Piano1", "Honky-TonkPiano", "CleanGuitar"]), 5, "mp", 60),
         "Arpeggio": _arp_set(r, r.choice(["Fiddle", "Banjo", "Harmonica", "SteelGuitar"]))}
    main = Bar({"Drum-Kick": [(1.0, 100)], "Drum-Snare": [(2.0, 55), (3.0, 55)],
                "Drum-HH": [(1.0, 50), (2.0, 60), (3.0, 55)]},
               {"Bass": bass([(1, 0.9, 1, 90)]), "Chord": notes([(2, 0.5, 75), (3, 0.5, 70)])})
    alt = main.copy()
    alt.pitched["Bass"] = bass([(1, 0.9, 5, 85)])
    busy = main.copy()
    busy.pitched["Arpeggio"] = notes([(b, 0.45, 65) for b in (1, 1.5, 2, 2.5, 3, 3.5)])
    busy.drums["Drum-Snare"] = [(2.0, 60), (3.0, 60), (3.5, 35)]
    sparse = main.copy()
    sparse.drums["Drum-Snare"] = []
    intro = Bar({"Drum-HH": [(1.0, 50), (2.0, 60), (3.0, 55)]}, {"Chord": main.pitched["Chord"]})
    return StyleOut(s, main, alt, busy, sparse, intro, _final(m))


# ------------------------------------------------------------------ 6/8 styles (Time 6: MMA beat = eighth)

def ballad68(r: random.Random, m: Meter) -> StyleOut:
    """6/8 ballad: kick on 1, snare/rim on 4, eighth hi-hats, piano arpeggio in eighths, pad."""
    s = {"Drum-Kick": _drum_set("KickDrum1", "mf"),
         "Drum-Snare": _drum_set(r.choice(["SideKick", "SnareDrum1", "SnareDrum2"]), "mf"),
         "Drum-HH": _drum_set(r.choice(["ClosedHiHat", "RideCymbal1"]), "mp"),
         "Drum-Crash": _drum_set("CrashCymbal1", "mp"),
         "Bass": _pitched_set(r.choice(["FingeredBass", "AcousticBass", "FretlessBass"]), 3, "mf", 95),
         "Chord": _chord_set(r.choice(["Strings", "WarmPad", "SlowStrings", "Organ1", "ChoirAahs"]), 5, "p", 100),
         "Arpeggio": _arp_set(r, r.choice(["Piano1", "EPiano", "NylonGuitar", "CleanGuitar", "OrchestralHarp"]), 5)}
    main = Bar({"Drum-Kick": [(1.0, 100)], "Drum-Snare": [(4.0, 85)], "Drum-HH": _eighths(m, 70, 45)},
               {"Bass": bass([(1, 2.8, 1, 90), (4, 2.8, 5, 75)]), "Chord": notes([(1, 5.9, 60)]),
                "Arpeggio": notes([(b, 0.95, 70 if b in (1, 4) else 55) for b in range(1, 7)])})
    alt = main.copy()
    alt.drums["Drum-Kick"] = [(1.0, 100), (3.0, 60)]
    busy = main.copy()
    busy.drums["Drum-Kick"] = [(1.0, 100), (3.0, 60), (6.0, 55)]
    busy.drums["Drum-Snare"] = [(4.0, 90), (6.0, 35)]
    sparse = main.copy()
    sparse.drums["Drum-HH"] = [(1.0, 60), (4.0, 60)]
    intro = Bar({"Drum-HH": [(1.0, 55), (4.0, 50)]}, {"Arpeggio": main.pitched["Arpeggio"]})
    return StyleOut(s, main, alt, busy, sparse, intro, _final(m))


def doowop68(r: random.Random, m: Meter) -> StyleOut:
    """Doo-wop in 6/8: piano chords on every eighth (accents on 1 and 4), kick 1, snare 4."""
    s = {"Drum-Kick": _drum_set("KickDrum1", "mf"),
         "Drum-Snare": _drum_set(r.choice(["SnareDrum1", "SnareDrum2", "HandClap"]), "mf"),
         "Drum-HH": _drum_set(r.choice(["ClosedHiHat", "RideCymbal1"]), "mp"),
         "Drum-Crash": _drum_set("CrashCymbal1", "mp"),
         "Bass": _pitched_set(r.choice(["AcousticBass", "FingeredBass"]), 3, "mf", 90),
         "Chord": _chord_set(r.choice(["Piano1", "Piano2", "Honky-TonkPiano", "EPiano"]), 5, "mp", 70),
         "Arpeggio": _arp_set(r, r.choice(["VoiceOohs", "ChoirAahs", "TenorSax", "Strings"]), 5)}
    main = Bar({"Drum-Kick": [(1.0, 100)], "Drum-Snare": [(4.0, 90)], "Drum-HH": [(1.0, 65), (4.0, 65)]},
               {"Bass": bass([(1, 2.8, 1, 90), (4, 2.8, 1, 80)]),
                "Chord": notes([(b, 0.8, 85 if b in (1, 4) else 60) for b in range(1, 7)])})
    alt = main.copy()
    alt.pitched["Bass"] = bass([(1, 1.9, 1, 90), (3, 0.9, 3, 70), (4, 2.8, 5, 80)])
    busy = main.copy()
    busy.drums["Drum-HH"] = _eighths(m, 65, 45)
    busy.pitched["Arpeggio"] = notes([(1, 2.8, 60), (4, 2.8, 55)])
    sparse = main.copy()
    sparse.drums["Drum-Snare"] = [(4.0, 60)]
    intro = Bar({"Drum-HH": [(1.0, 55), (4.0, 55)]}, {"Chord": main.pitched["Chord"]})
    return StyleOut(s, main, alt, busy, sparse, intro, _final(m))


def jig(r: random.Random, m: Meter) -> StyleOut:
    """Irish jig: bodhran on every eighth (accents on 1 and 4), boom-chick guitar, fiddle eighths."""
    s = {"Drum-Bodhran": _drum_set(r.choice(["LowTom1", "LowTom2", "MidTom2"]), "mf"),
         "Drum-Kick": _drum_set("KickDrum1", "mp"),
         "Drum-Tamb": _drum_set(r.choice(["Tambourine", "JingleBell", "Shaker"]), "mp"),
         "Drum-Crash": _drum_set("CrashCymbal2", "mp"),
         "Bass": _pitched_set(r.choice(["AcousticBass", "FingeredBass", "Cello"]), 3, "mf", 80),
         "Chord": _chord_set(r.choice(["SteelGuitar", "NylonGuitar", "Accordion", "Piano1", "Banjo"]), 5, "mp", 75),
         "Arpeggio": _arp_set(r, r.choice(["Fiddle", "Flute", "Whistle", "Accordion", "Recorder", "BagPipe"]))}
    bod = r.choice([[(1.0, 100), (2.0, 50), (3.0, 60), (4.0, 90), (5.0, 50), (6.0, 60)],
                    [(1.0, 100), (3.0, 60), (4.0, 90), (6.0, 60)],
                    [(1.0, 100), (2.0, 45), (3.0, 55), (4.0, 90), (6.0, 55)]])
    kick = r.random() < 0.5
    main = Bar({"Drum-Bodhran": bod, "Drum-Kick": [(1.0, 80), (4.0, 70)] if kick else []},
               {"Bass": bass([(1, 1.9, 1, 90), (4, 1.9, 5, 80)]),
                "Chord": notes([(1, 0.9, 85), (3, 0.7, 60), (4, 0.9, 80), (6, 0.7, 60)])})
    alt = main.copy()
    alt.pitched["Bass"] = bass([(1, 1.9, 1, 90), (4, 1.9, 3, 75)])
    busy = main.copy()
    busy.pitched["Arpeggio"] = notes([(b, 0.9, 85 if b in (1, 4) else 60) for b in range(1, 7)])
    busy.drums["Drum-Tamb"] = [(1.0, 70), (4.0, 70)]
    sparse = main.copy()
    sparse.drums["Drum-Bodhran"] = [(1.0, 95), (4.0, 85)]
    intro = Bar({"Drum-Bodhran": [(1.0, 80), (4.0, 70)]}, {"Chord": main.pitched["Chord"]})
    return StyleOut(s, main, alt, busy, sparse, intro, _final(m))


def march68(r: random.Random, m: Meter) -> StyleOut:
    """6/8 march: bass drum and tuba on 1 and 4, snare long-short, brass 'pah' on 3 and 6."""
    s = {"Drum-Kick": _drum_set(r.choice(["KickDrum2", "KickDrum1"]), "mf"),
         "Drum-Snare": _drum_set(r.choice(["SnareDrum1", "SnareDrum2"]), "mf"),
         "Drum-Cym": _drum_set(r.choice(["CrashCymbal2", "SplashCymbal", "OpenHiHat"]), "mp"),
         "Drum-Crash": _drum_set("CrashCymbal1", "mp"),
         "Bass": _pitched_set(r.choice(["Tuba", "AcousticBass", "Trombone"]), 3, "mf", 80),
         "Chord": _chord_set(r.choice(["BrassSection", "FrenchHorn", "Accordion", "Piano1"]), 5, "mp", 60),
         "Arpeggio": _arp_set(r, r.choice(["Piccolo", "Clarinet", "Trumpet", "Glockenspiel"]))}
    main = Bar({"Drum-Kick": [(1.0, 100), (4.0, 75)], "Drum-Snare": [(1.0, 90), (3.0, 60), (4.0, 75), (6.0, 60)]},
               {"Bass": bass([(1, 1.8, 1, 90), (4, 1.8, 5, 85)]), "Chord": notes([(3, 0.7, 75), (6, 0.7, 75)])})
    alt = None
    busy = main.copy()
    busy.drums["Drum-Snare"] = [(1.0, 95), (2.0, 45), (3.0, 60), (4.0, 80), (5.0, 45), (6.0, 60)]
    busy.drums["Drum-Cym"] = [(1.0, 70)]
    busy.pitched["Arpeggio"] = notes([(b, 0.9, 70) for b in range(1, 7)])
    sparse = main.copy()
    sparse.drums["Drum-Snare"] = [(4.0, 70)]
    intro = Bar({"Drum-Snare": [(1.0, 80), (3.0, 55), (4.0, 80), (6.0, 55)]}, {})
    return StyleOut(s, main, alt, busy, sparse, intro, _final(m))


def afro68(r: random.Random, m: Meter) -> StyleOut:
    """Afro 6/8: kick/low drum on every dotted quarter (the labelled pulse), a short bell
    pattern, shaker on every eighth, conga tones between the pulses."""
    bell = r.choice([[1, 3, 5, 6], [1, 3, 4, 6], [1, 2, 4, 5]])
    s = {"Drum-Kick": _drum_set(r.choice(["KickDrum1", "LowConga", "LowTom2"]), "mf"),
         "Drum-Bell": _drum_set(r.choice(["CowBell", "HighAgogo", "LowAgogo", "Claves"]), "mp"),
         "Drum-Shaker": _drum_set(r.choice(["Shaker", "Maracas", "Cabasa"]), "mp"),
         "Drum-Conga": _drum_set(r.choice(["OpenHighConga", "MuteHighConga", "HighBongo"]), "mp"),
         "Drum-Crash": _drum_set("SplashCymbal", "mp"),
         "Bass": _pitched_set(r.choice(["FingeredBass", "AcousticBass", "SynthBass1"]), 3, "mf", 85),
         "Chord": _chord_set(r.choice(["Marimba", "Kalimba", "CleanGuitar", "Vibraphone"]), 5, "mp", 70),
         "Arpeggio": _arp_set(r, r.choice(["Marimba", "Kalimba", "Xylophone", "CleanGuitar"]))}
    main = Bar({"Drum-Kick": [(1.0, 100), (4.0, 90)], "Drum-Bell": [(float(b), 80 if b == 1 else 65) for b in bell],
                "Drum-Shaker": _eighths(m, 70, 45)},
               {"Bass": bass([(1, 1.8, 1, 90), (3, 0.9, 5, 70), (4, 1.8, 1, 85)]),
                "Chord": notes([(1, 0.8, 75), (3, 0.8, 60), (4, 0.8, 70), (6, 0.8, 60)])})
    alt = main.copy()
    alt.drums["Drum-Conga"] = [(3.0, 70), (6.0, 70)]
    busy = main.copy()
    busy.drums["Drum-Conga"] = [(2.0, 55), (3.0, 70), (5.0, 55), (6.0, 70)]
    busy.pitched["Arpeggio"] = notes([(b, 0.9, 75 if b in (1, 4) else 60) for b in range(1, 7)])
    sparse = main.copy()
    sparse.drums["Drum-Shaker"] = [(1.0, 60), (4.0, 60)]
    intro = Bar({"Drum-Kick": [(1.0, 85), (4.0, 80)], "Drum-Shaker": _eighths(m, 60, 40)}, {})
    return StyleOut(s, main, alt, busy, sparse, intro, _final(m))


def bembe68(r: random.Random, m: Meter) -> StyleOut:
    """Latin 6/8 (bembe-like): the 7-stroke bell over two 6/8 bars, but a kick and a low
    conga on every dotted quarter, so the labelled pulse is unambiguous."""
    s = {"Drum-Kick": _drum_set("KickDrum1", "mf"),
         "Drum-Bell": _drum_set(r.choice(["CowBell", "HighAgogo", "RideBell"]), "mp"),
         "Drum-Conga": _drum_set("LowConga", "mf"),
         "Drum-Quinto": _drum_set(r.choice(["OpenHighConga", "MuteHighConga"]), "mp"),
         "Drum-Shaker": _drum_set(r.choice(["Shaker", "Maracas", "Cabasa"]), "p"),
         "Drum-Crash": _drum_set("CrashCymbal1", "mp"),
         "Bass": _pitched_set(r.choice(["AcousticBass", "FingeredBass"]), 3, "mf", 85),
         "Chord": _chord_set(r.choice(["Piano1", "Piano2", "NylonGuitar", "Vibraphone"]), 5, "mp", 70),
         "Arpeggio": _arp_set(r, r.choice(["Piano1", "Marimba", "Flute", "Trumpet"]))}
    bell_a = [(1.0, 85), (3.0, 65), (5.0, 65), (6.0, 65)]
    bell_b = [(2.0, 65), (4.0, 70), (6.0, 65)]
    base = {"Drum-Kick": [(1.0, 100), (4.0, 85)], "Drum-Conga": [(1.0, 75), (4.0, 75)],
            "Drum-Quinto": [(3.0, 60), (6.0, 60)], "Drum-Shaker": _eighths(m, 60, 40)}
    pitched = {"Bass": bass([(1, 1.8, 1, 90), (3, 0.9, 5, 70), (4, 1.8, 5, 80)]),
               "Chord": notes([(1, 0.8, 75), (3, 0.8, 60), (4, 0.8, 70), (5, 0.8, 55)])}
    main = Bar(dict(base, **{"Drum-Bell": bell_a}), dict(pitched))
    alt = Bar(dict(base, **{"Drum-Bell": bell_b}), dict(pitched))
    busy = main.copy()
    busy.drums["Drum-Quinto"] = [(2.0, 55), (3.0, 65), (5.0, 55), (6.0, 65)]
    busy.pitched["Arpeggio"] = notes([(b, 0.9, 70) for b in range(1, 7)])
    sparse = main.copy()
    sparse.drums["Drum-Quinto"] = []
    sparse.drums["Drum-Shaker"] = [(1.0, 55), (4.0, 55)]
    intro = Bar({"Drum-Kick": [(1.0, 85), (4.0, 80)], "Drum-Bell": bell_a}, {})
    return StyleOut(s, main, alt, busy, sparse, intro, _final(m))


def folkrock68(r: random.Random, m: Meter) -> StyleOut:
    """6/8 folk-rock: kick 1, snare 4, eighth hi-hats, arpeggiated guitar, organ."""
    s = {"Drum-Kick": _drum_set(r.choice(["KickDrum1", "KickDrum2"]), "mf"),
         "Drum-Snare": _drum_set(r.choice(["SnareDrum1", "SnareDrum2"]), "mf"),
         "Drum-HH": _drum_set(r.choice(["ClosedHiHat", "OpenHiHat", "RideCymbal2"]), "mp"),
         "Drum-Crash": _drum_set("CrashCymbal1", "mp"),
         "Bass": _pitched_set(r.choice(["PickedBass", "FingeredBass"]), 3, "mf", 90),
         "Chord": _chord_set(r.choice(["Organ1", "Organ3", "Strings", "OverDriveGuitar"]), 5, "p", 100),
         "Arpeggio": _arp_set(r, r.choice(["CleanGuitar", "SteelGuitar", "NylonGuitar", "Piano2"]), 5)}
    kick = r.choice([[(1.0, 100)], [(1.0, 100), (3.0, 65)], [(1.0, 100), (6.0, 60)]])
    main = Bar({"Drum-Kick": kick, "Drum-Snare": [(4.0, 90)], "Drum-HH": _eighths(m, 70, 50)},
               {"Bass": bass([(1, 1.9, 1, 90), (3, 0.9, 1, 70), (4, 2.8, 5, 80)]), "Chord": notes([(1, 5.9, 55)]),
                "Arpeggio": notes([(b, 0.95, 70 if b in (1, 4) else 55) for b in range(1, 7)])})
    alt = None
    busy = main.copy()
    busy.drums["Drum-Snare"] = [(4.0, 95), (5.0, 35), (6.0, 40)]
    busy.drums["Drum-Kick"] = kick + [(4.0, 70)]
    sparse = main.copy()
    sparse.drums["Drum-HH"] = [(1.0, 60), (4.0, 60)]
    sparse.pitched.pop("Chord")
    intro = Bar({"Drum-HH": [(1.0, 55), (4.0, 55)]}, {"Arpeggio": main.pitched["Arpeggio"]})
    return StyleOut(s, main, alt, busy, sparse, intro, _final(m))


# ------------------------------------------------------------------ 12/8 styles (Time 12)

def _twelve(on=80, off=50):
    return [(float(b), on if (b - 1) % 3 == 0 else off) for b in range(1, 13)]


def slowblues128(r: random.Random, m: Meter) -> StyleOut:
    """12/8 slow blues: ride/hi-hat triplets, kick 1 and 3, snare 2 and 4 (dotted quarters),
    piano triplet chords, bass on the pulses."""
    s = {"Drum-Kick": _drum_set("KickDrum1", "mf"),
         "Drum-Snare": _drum_set(r.choice(["SnareDrum1", "SnareDrum2"]), "mf"),
         "Drum-HH": _drum_set(r.choice(["ClosedHiHat", "RideCymbal1", "RideCymbal2"]), "mp"),
         "Drum-Crash": _drum_set("CrashCymbal1", "mp"),
         "Bass": _pitched_set(r.choice(["FingeredBass", "AcousticBass", "FretlessBass"]), 3, "mf", 90),
         "Chord": _chord_set(r.choice(["Piano1", "Organ1", "Organ2", "EPiano", "RhodesPiano"]), 5, "mp", 70),
         "Arpeggio": _arp_set(r, r.choice(["CleanGuitar", "JazzGuitar", "OverDriveGuitar", "TenorSax"]), 5)}
    main = Bar({"Drum-Kick": [(1.0, 100), (7.0, 85)], "Drum-Snare": [(4.0, 90), (10.0, 90)], "Drum-HH": _twelve(75, 45)},
               {"Bass": bass([(1, 2.8, 1, 90), (4, 2.8, 3, 80), (7, 2.8, 5, 85), (10, 2.8, 6, 80)]),
                "Chord": notes([(b, 0.8, 75 if (b - 1) % 3 == 0 else 55) for b in range(1, 13)])})
    alt = main.copy()
    alt.drums["Drum-Kick"] = [(1.0, 100), (6.0, 60), (7.0, 85)]
    busy = main.copy()
    busy.drums["Drum-Snare"] = [(4.0, 90), (9.0, 35), (10.0, 90), (12.0, 40)]
    busy.pitched["Arpeggio"] = notes([(b, 0.9, 65) for b in (1, 3, 4, 6, 7, 9, 10, 12)])
    sparse = main.copy()
    sparse.drums["Drum-HH"] = [(float(b), 60) for b in (1, 4, 7, 10)]
    sparse.pitched["Chord"] = notes([(1, 5.8, 60), (7, 5.8, 55)])
    intro = Bar({"Drum-HH": _twelve(60, 35)}, {"Chord": main.pitched["Chord"]})
    return StyleOut(s, main, alt, busy, sparse, intro, _final(m))


def shuffle128(r: random.Random, m: Meter) -> StyleOut:
    """12/8 shuffle: hi-hat on triplets 1 and 3 of each pulse, boogie bass, backbeat on 2 and 4."""
    s = {"Drum-Kick": _drum_set("KickDrum1", "mf"),
         "Drum-Snare": _drum_set(r.choice(["SnareDrum1", "SnareDrum2"]), "mf"),
         "Drum-HH": _drum_set(r.choice(["ClosedHiHat", "RideCymbal1"]), "mp"),
         "Drum-Crash": _drum_set("CrashCymbal1", "mp"),
         "Bass": _pitched_set(r.choice(["FingeredBass", "PickedBass", "AcousticBass"]), 3, "mf", 85),
         "Chord": _chord_set(r.choice(["Piano1", "Honky-TonkPiano", "Organ1", "CleanGuitar"]), 5, "mp", 60),
         "Arpeggio": _arp_set(r, r.choice(["Harmonica", "AltoSax", "OverDriveGuitar", "Piano2"]), 5)}
    shuf = [(float(b), 80 if (b - 1) % 3 == 0 else 50) for b in (1, 3, 4, 6, 7, 9, 10, 12)]
    main = Bar({"Drum-Kick": [(1.0, 100), (7.0, 90)], "Drum-Snare": [(4.0, 95), (10.0, 95)], "Drum-HH": shuf},
               {"Bass": bass([(1, 1.8, 1, 90), (3, 0.8, 1, 65), (4, 1.8, 3, 85), (6, 0.8, 3, 60),
                              (7, 1.8, 5, 85), (9, 0.8, 5, 60), (10, 1.8, 6, 85), (12, 0.8, 5, 60)]),
                "Chord": notes([(4, 1.8, 75), (6, 0.8, 55), (10, 1.8, 75), (12, 0.8, 55)])})
    alt = main.copy()
    alt.drums["Drum-Kick"] = [(1.0, 100), (7.0, 90), (9.0, 60)]
    busy = main.copy()
    busy.drums["Drum-HH"] = _twelve(80, 45)
    busy.pitched["Arpeggio"] = notes([(b, 0.8, 65) for b in (1, 3, 4, 6, 7, 9, 10, 12)])
    sparse = main.copy()
    sparse.drums["Drum-HH"] = [(float(b), 65) for b in (1, 4, 7, 10)]
    intro = Bar({"Drum-HH": shuf}, {"Bass": main.pitched["Bass"]})
    return StyleOut(s, main, alt, busy, sparse, intro, _final(m))


def afro128(r: random.Random, m: Meter) -> StyleOut:
    """Afro 12/8: the standard 7-stroke bell over a kick on every dotted quarter and shaker triplets."""
    s = {"Drum-Kick": _drum_set(r.choice(["KickDrum1", "LowConga", "MuteSurdo"]), "mf"),
         "Drum-Bell": _drum_set(r.choice(["CowBell", "HighAgogo", "Claves", "RideBell"]), "mp"),
         "Drum-Shaker": _drum_set(r.choice(["Shaker", "Maracas", "Cabasa"]), "mp"),
         "Drum-Conga": _drum_set(r.choice(["OpenHighConga", "MuteHighConga", "LowBongo"]), "mp"),
         "Drum-Crash": _drum_set("SplashCymbal", "mp"),
         "Bass": _pitched_set(r.choice(["FingeredBass", "SynthBass2", "AcousticBass"]), 3, "mf", 85),
         "Chord": _chord_set(r.choice(["Marimba", "Kalimba", "CleanGuitar", "Vibraphone", "Organ2"]), 5, "mp", 70),
         "Arpeggio": _arp_set(r, r.choice(["Marimba", "Kalimba", "Xylophone", "Flute"]))}
    bell = [(float(b), 85 if b == 1 else 65) for b in (1, 3, 5, 6, 8, 10, 12)]
    main = Bar({"Drum-Kick": [(1.0, 100), (4.0, 85), (7.0, 95), (10.0, 85)], "Drum-Bell": bell,
                "Drum-Shaker": _twelve(65, 40)},
               {"Bass": bass([(1, 1.8, 1, 90), (4, 1.8, 5, 75), (7, 1.8, 1, 85), (9, 0.8, 3, 65), (10, 1.8, 5, 80)]),
                "Chord": notes([(1, 0.8, 75), (3, 0.8, 60), (6, 0.8, 60), (7, 0.8, 70), (9, 0.8, 60), (12, 0.8, 60)])})
    alt = main.copy()
    alt.drums["Drum-Conga"] = [(3.0, 60), (6.0, 70), (9.0, 60), (12.0, 70)]
    busy = main.copy()
    busy.drums["Drum-Conga"] = [(2.0, 50), (3.0, 65), (5.0, 50), (6.0, 70), (8.0, 50), (9.0, 65), (11.0, 50), (12.0, 70)]
    busy.pitched["Arpeggio"] = notes([(b, 0.9, 70 if (b - 1) % 3 == 0 else 55) for b in range(1, 13)])
    sparse = main.copy()
    sparse.drums["Drum-Shaker"] = [(float(b), 55) for b in (1, 4, 7, 10)]
    intro = Bar({"Drum-Kick": [(1.0, 85), (4.0, 75), (7.0, 80), (10.0, 75)], "Drum-Bell": bell}, {})
    return StyleOut(s, main, alt, busy, sparse, intro, _final(m))


def doowop128(r: random.Random, m: Meter) -> StyleOut:
    """12/8 doo-wop ballad: piano triplets, kick 1 and 3, snare 2 and 4, 'ooh' pad."""
    s = {"Drum-Kick": _drum_set("KickDrum1", "mf"),
         "Drum-Snare": _drum_set(r.choice(["SnareDrum1", "SideKick", "HandClap"]), "mf"),
         "Drum-HH": _drum_set(r.choice(["ClosedHiHat", "RideCymbal1"]), "p"),
         "Drum-Crash": _drum_set("CrashCymbal1", "mp"),
         "Bass": _pitched_set(r.choice(["AcousticBass", "FingeredBass"]), 3, "mf", 85),
         "Chord": _chord_set(r.choice(["Piano1", "Piano2", "EPiano"]), 5, "mp", 70),
         "Arpeggio": _arp_set(r, r.choice(["VoiceOohs", "ChoirAahs", "TenorSax", "Strings"]), 5)}
    main = Bar({"Drum-Kick": [(1.0, 100), (7.0, 85)], "Drum-Snare": [(4.0, 85), (10.0, 85)],
                "Drum-HH": [(float(b), 60) for b in (1, 4, 7, 10)]},
               {"Bass": bass([(1, 2.8, 1, 90), (4, 2.8, 1, 75), (7, 2.8, 5, 85), (10, 2.8, 5, 75)]),
                "Chord": notes([(b, 0.8, 80 if (b - 1) % 3 == 0 else 55) for b in range(1, 13)])})
    alt = main.copy()
    alt.drums["Drum-Kick"] = [(1.0, 100), (3.0, 55), (7.0, 85)]
    busy = main.copy()
    busy.drums["Drum-HH"] = _twelve(60, 40)
    busy.pitched["Arpeggio"] = notes([(1, 5.8, 60), (7, 5.8, 55)])
    sparse = main.copy()
    sparse.drums["Drum-Kick"] = [(1.0, 90)]
    intro = Bar({"Drum-HH": [(float(b), 55) for b in (1, 4, 7, 10)]}, {"Chord": main.pitched["Chord"]})
    return StyleOut(s, main, alt, busy, sparse, intro, _final(m))


# ------------------------------------------------------------------ 2/4 and 4/4 (balance)

def polka24(r: random.Random, m: Meter) -> StyleOut:
    """Polka: kick and bass on the beats, snare and accordion on the off-beats."""
    s = {"Drum-Kick": _drum_set("KickDrum1", "mf"),
         "Drum-Snare": _drum_set(r.choice(["SnareDrum1", "SnareDrum2"]), "mp"),
         "Drum-HH": _drum_set(r.choice(["ClosedHiHat", "PedalHiHat"]), "mp"),
         "Drum-Crash": _drum_set("CrashCymbal1", "mp"),
         "Bass": _pitched_set(r.choice(["Tuba", "AcousticBass"]), 3, "mf", 75),
         "Chord": _chord_set(r.choice(["Accordion", "BrassSection", "Piano1"]), 5, "mp", 60),
         "Arpeggio": _arp_set(r, r.choice(["Clarinet", "Trumpet", "Accordion"]))}
    main = Bar({"Drum-Kick": [(1.0, 100), (2.0, 80)], "Drum-Snare": [(1.5, 65), (2.5, 65)],
                "Drum-HH": [(1.0, 60), (2.0, 60)]},
               {"Bass": bass([(1, 0.45, 1, 90), (2, 0.45, 5, 85)]), "Chord": notes([(1.5, 0.4, 75), (2.5, 0.4, 75)])})
    alt = main.copy()
    alt.drums["Drum-Snare"] = [(2.5, 70)]
    busy = main.copy()
    busy.pitched["Arpeggio"] = notes([(b, 0.22, 65) for b in (1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75)])
    sparse = main.copy()
    sparse.drums["Drum-Snare"] = [(2.0, 60)]
    intro = Bar({"Drum-HH": [(1.0, 60), (2.0, 60)]}, {"Chord": main.pitched["Chord"]})
    return StyleOut(s, main, alt, busy, sparse, intro, _final(m))


def march24(r: random.Random, m: Meter) -> StyleOut:
    """2/4 march: bass drum on both beats, snare figure, tuba root/fifth, brass on the beats."""
    s = {"Drum-Kick": _drum_set(r.choice(["KickDrum2", "KickDrum1"]), "mf"),
         "Drum-Snare": _drum_set("SnareDrum1", "mf"),
         "Drum-Cym": _drum_set(r.choice(["CrashCymbal2", "SplashCymbal"]), "p"),
         "Drum-Crash": _drum_set("CrashCymbal1", "mp"),
         "Bass": _pitched_set(r.choice(["Tuba", "Trombone"]), 3, "mf", 75),
         "Chord": _chord_set(r.choice(["BrassSection", "FrenchHorn", "SynthBrass1"]), 5, "mp", 60),
         "Arpeggio": _arp_set(r, r.choice(["Piccolo", "Glockenspiel", "Clarinet"]))}
    main = Bar({"Drum-Kick": [(1.0, 100), (2.0, 70)], "Drum-Snare": [(1.0, 90), (1.75, 50), (2.0, 70)]},
               {"Bass": bass([(1, 0.45, 1, 90), (2, 0.45, 5, 85)]), "Chord": notes([(1, 0.4, 70), (2, 0.4, 70)])})
    alt = main.copy()
    alt.drums["Drum-Snare"] = [(1.0, 90), (2.0, 70), (2.75, 50)]
    busy = main.copy()
    busy.drums["Drum-Cym"] = [(1.0, 70), (2.0, 60)]
    busy.pitched["Arpeggio"] = notes([(b, 0.22, 65) for b in (1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75)])
    sparse = main.copy()
    sparse.drums["Drum-Snare"] = [(2.0, 70)]
    intro = Bar({"Drum-Snare": [(1.0, 70), (1.75, 45), (2.0, 75)]}, {})
    return StyleOut(s, main, alt, busy, sparse, intro, _final(m))


def pop44(r: random.Random, m: Meter) -> StyleOut:
    """4/4 pop/rock: kick 1 and 3, snare 2 and 4, eighth hi-hats."""
    s = {"Drum-Kick": _drum_set(r.choice(["KickDrum1", "KickDrum2"]), "mf"),
         "Drum-Snare": _drum_set(r.choice(["SnareDrum1", "SnareDrum2", "HandClap"]), "mf"),
         "Drum-HH": _drum_set(r.choice(["ClosedHiHat", "RideCymbal1"]), "mp"),
         "Drum-Crash": _drum_set("CrashCymbal1", "mp"),
         "Bass": _pitched_set(r.choice(["FingeredBass", "PickedBass", "SynthBass1"]), 3, "mf", 85),
         "Chord": _chord_set(r.choice(["Piano1", "CleanGuitar", "Organ1", "EPiano"]), 5, "mp", 80),
         "Arpeggio": _arp_set(r, r.choice(["CleanGuitar", "Piano2", "SynthStrings1"]), 5)}
    kick = r.choice([[(1.0, 100), (3.0, 90)], [(1.0, 100), (2.5, 70), (3.0, 90)], [(1.0, 100), (3.0, 90), (3.5, 65)]])
    main = Bar({"Drum-Kick": kick, "Drum-Snare": [(2.0, 95), (4.0, 95)], "Drum-HH": [(float(b), 70) for b in range(1, 5)]},
               {"Bass": bass([(b, 0.9, 1, 85) for b in range(1, 5)]), "Chord": notes([(1, 1.8, 70), (3, 1.8, 65)])})
    alt = None
    busy = main.copy()
    busy.drums["Drum-HH"] = _eighths(m, 75, 50)
    busy.pitched["Arpeggio"] = notes([(b + h, 0.45, 60) for b in range(1, 5) for h in (0, 0.5)])
    sparse = main.copy()
    sparse.drums["Drum-HH"] = []
    intro = Bar({"Drum-HH": [(float(b), 60) for b in range(1, 5)]}, {"Chord": main.pitched["Chord"]})
    return StyleOut(s, main, alt, busy, sparse, intro, _final(m))


def shuffle44(r: random.Random, m: Meter) -> StyleOut:
    """4/4 shuffle (swung eighths written as triplets), walking bass."""
    s = {"Drum-Kick": _drum_set("KickDrum1", "mf"),
         "Drum-Snare": _drum_set(r.choice(["SnareDrum1", "SnareDrum2"]), "mf"),
         "Drum-HH": _drum_set(r.choice(["ClosedHiHat", "RideCymbal1"]), "mp"),
         "Drum-Crash": _drum_set("CrashCymbal1", "mp"),
         "Walk": _pitched_set(r.choice(["AcousticBass", "FingeredBass"]), 3, "mf", 85),
         "Bass": _pitched_set("FingeredBass", 3, "mf", 85),
         "Chord": _chord_set(r.choice(["Piano1", "Organ1", "Honky-TonkPiano"]), 5, "mp", 60),
         "Arpeggio": _arp_set(r, r.choice(["Harmonica", "TenorSax", "JazzGuitar"]), 5)}
    main = Bar({"Drum-Kick": [(1.0, 100), (3.0, 90)], "Drum-Snare": [(2.0, 95), (4.0, 95)],
                "Drum-HH": _eighths(m, 75, 45, triplet=True)},
               {"Walk": notes([(b, 0.9, 85) for b in range(1, 5)]),
                "Chord": notes([(2, 0.6, 70), (2 + 2 * T3, 0.3, 55), (4, 0.6, 70), (4 + 2 * T3, 0.3, 55)])})
    alt = None
    busy = main.copy()
    busy.pitched["Arpeggio"] = notes([(b + h, 0.3, 60) for b in range(1, 5) for h in (0, 2 * T3)])
    sparse = main.copy()
    sparse.drums["Drum-HH"] = [(float(b), 65) for b in range(1, 5)]
    intro = Bar({"Drum-HH": _eighths(m, 60, 35, triplet=True)}, {"Walk": main.pitched["Walk"]})
    return StyleOut(s, main, alt, busy, sparse, intro, _final(m))


# ------------------------------------------------------------------ the catalogue

@dataclass(frozen=True)
class Style:
    fn: object
    meter: Meter
    n: int             # grooves (= tracks) of this style
    genre: str
    lo: int            # labelled pulse BPM range
    hi: int
    latin: bool = False
    swing: bool = False


STYLES = {
    # 3/4 (72)
    "waltz": Style(waltz, M34, 14, "waltz", 84, 180),
    "jazzwaltz": Style(jazzwaltz, M34, 14, "jazz", 110, 190, swing=True),
    "folkwaltz": Style(folk34, M34, 12, "folk", 100, 170),
    "mazurka": Style(mazurka, M34, 10, "folk", 120, 180),
    "popwaltz": Style(popwaltz, M34, 12, "pop", 70, 140),
    "countrywaltz": Style(countrywaltz, M34, 10, "country", 85, 150),
    # 6/8 (72)
    "ballad68": Style(ballad68, M68, 12, "ballad", 60, 75),
    "doowop68": Style(doowop68, M68, 8, "ballad", 60, 80),
    "jig": Style(jig, M68, 14, "folk", 100, 130),
    "march68": Style(march68, M68, 10, "march", 100, 125),
    "afro68": Style(afro68, M68, 10, "world", 80, 130),
    "bembe68": Style(bembe68, M68, 10, "latin", 90, 130, latin=True),
    "folkrock68": Style(folkrock68, M68, 8, "rock", 60, 95),
    # 12/8 (36)
    "slowblues128": Style(slowblues128, M128, 10, "blues", 60, 80, swing=True),
    "shuffle128": Style(shuffle128, M128, 10, "blues", 80, 130, swing=True),
    "afro128": Style(afro128, M128, 8, "world", 90, 130),
    "doowop128": Style(doowop128, M128, 8, "ballad", 60, 78, swing=True),
    # 2/4 and 4/4 (28)
    "polka": Style(polka24, M24, 8, "polka", 110, 160),
    "march24": Style(march24, M24, 6, "march", 100, 130),
    "pop44": Style(pop44, M44, 8, "pop", 80, 140),
    "shuffle44": Style(shuffle44, M44, 6, "blues", 90, 150, swing=True),
}


def _gname(style: str, k: int) -> str:
    return f"G{style.capitalize()}{k:02d}"


def _make_catalog() -> list[Groove]:
    out = []
    for name, st in STYLES.items():
        m = st.meter
        for k in range(st.n):
            main = _gname(name, k)
            out.append(Groove("gen", name, main, main + "B", main + "Intro", main + "End", st.genre,
                              st.lo, st.hi, time=m.time, mult=float(m.mult), ppb=m.ppb, meter=m.sig,
                              latin=st.latin, swing=st.swing, drums=True))
    # interleave the styles (round robin) so that any prefix of the set is mixed
    by_style: dict[str, list[Groove]] = {}
    for g in out:
        by_style.setdefault(g.file, []).append(g)
    mixed = []
    while any(by_style.values()):
        for name in STYLES:
            if by_style[name]:
                mixed.append(by_style[name].pop(0))
    return mixed


GEN_CATALOG: list[Groove] = _make_catalog()


# ------------------------------------------------------------------ MMA text of one entry

def _fill(r: random.Random, m: Meter, bar: Bar, swing: bool) -> Bar:
    """The bar with its last labelled beat (or two) turned into a snare/tom run."""
    b = bar.copy()
    n_p = 2 if m.ppb >= 4 and r.random() < 0.5 else 1
    start = 1 + (m.ppb - n_p) * m.mult
    for k, v in list(b.drums.items()):
        b.drums[k] = [(p, vol) for p, vol in v if p < start]
    if m.compound:
        sub = [start + i for i in range(n_p * 3)]
    elif swing:
        sub = [start + i + f for i in range(n_p) for f in (0, 2 * T3)]
    else:
        sub = [start + i + f for i in range(n_p) for f in (0, 0.5)]
    b.drums["Drum-FillA"] = [(p, 60 + 4 * i) for i, p in enumerate(sub) if i % 2 == 0]
    b.drums["Drum-FillB"] = [(p, 62 + 4 * i) for i, p in enumerate(sub) if i % 2 == 1]
    b.drums["Drum-Kick"] = [x for x in bar.drums.get("Drum-Kick", []) if x[0] < start] + [(start, 85)]
    return b


def _break(bar: Bar) -> Bar:
    """A stop bar: one kick and crash on 1, the band plays on."""
    return Bar({"Drum-Kick": [(1.0, 100)], "Drum-Crash": [(1.0, 90)]}, dict(bar.pitched))


def _with_crash(bar: Bar) -> Bar:
    b = bar.copy()
    b.drums["Drum-Crash"] = [(1.0, 85)]
    return b


def _groove_block(name: str, m: Meter, settings: dict, bars: list[Bar], doc: str) -> list[str]:
    tracks = [t for t in settings if any(t in b.drums or t in b.pitched for b in bars)]
    for t in ("Drum-FillA", "Drum-FillB"):
        if any(t in b.drums for b in bars) and t not in tracks:
            tracks.append(t)
    lines = ["SeqClear", f"Time {m.time}", f"SeqSize {len(bars)}"]
    for t in tracks:
        if t.startswith("Drum-"):
            seq = [drum(b.drums.get(t, [])) for b in bars]
        else:
            seq = [b.pitched.get(t, "z") for b in bars]
        lines.append(f"Begin {t}")
        lines += ["  " + s for s in settings[t]]
        lines.append("  Sequence " + " ".join(seq))
        lines.append("End")
    lines.append(f"DefGroove {name} {doc}")
    return lines


@lru_cache(maxsize=None)
def groove_text(g: Groove) -> str:
    """MMA definitions of the four grooves (main, variation, intro, ending) of gen entry ``g``."""
    st = STYLES[g.file]
    m = st.meter
    r = random.Random(f"gen-groove:{GROOVE_SEED}:{g.file}:{g.main}")
    out = st.fn(r, m)
    settings = dict(out.settings)
    settings["Drum-FillA"] = _drum_set(r.choice(["SnareDrum1", "SnareDrum2", "HighTom1"]), "mf")
    settings["Drum-FillB"] = _drum_set(r.choice(["MidTom1", "LowTom1", "HighTom2"]), "mf")
    settings.setdefault("Drum-Crash", _drum_set("CrashCymbal1", "mp"))
    swing = st.swing

    second = out.alt if out.alt is not None else out.main
    last = r.choice(["fill", "fill", "same", "alt"])
    bar4 = {"fill": _fill(r, m, second, swing), "same": out.main, "alt": second}[last]
    first = _with_crash(out.main) if r.random() < 0.4 else out.main
    main_bars = [first, second, out.main, bar4]

    kind = r.choice(["busy", "busy", "sparse"])
    vb = out.busy if kind == "busy" else out.sparse
    vb2 = vb.copy()
    if out.alt is not None and kind == "busy":       # keep an alternating pattern (bembe bell)
        for k, v in out.alt.drums.items():
            if k not in ("Drum-Conga", "Drum-Quinto", "Drum-Kick"):
                vb2.drums[k] = list(v)
    end4 = r.choice(["fill", "break", "none"])
    v4 = {"fill": _fill(r, m, vb2, swing), "break": _break(vb2), "none": vb2}[end4]
    var_bars = [_with_crash(vb), vb2, vb, v4]

    intro_bars = [out.intro, out.intro, out.intro, _fill(r, m, out.intro, swing)]
    end_bars = [out.main, out.final]

    head = [f"// gen groove {g.file}:{g.main} ({m.name}, Time {m.time}, {m.mult} MMA beat(s) per labelled beat, "
            f"{m.ppb} a bar); variation {kind}/{end4}, main bar 4 {last}"]
    lines = head
    lines += _groove_block(g.main, m, settings, main_bars, f"{g.file} main")
    lines += _groove_block(g.var, m, settings, var_bars, f"{g.file} variation ({kind})")
    lines += _groove_block(g.intro, m, settings, intro_bars, f"{g.file} intro")
    lines += _groove_block(g.end, m, settings, end_bars, f"{g.file} ending")
    return "\n".join(lines) + "\n"


def meter_counts() -> dict:
    c: dict = {}
    for g in GEN_CATALOG:
        k = f"{g.meter[0]}/{g.meter[1]}"
        c[k] = c.get(k, 0) + 1
    return c
