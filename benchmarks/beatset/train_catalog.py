"""The MMA grooves of the *train* set: groove files the beat set does not use.

The beat set (``catalog.CATALOG``) is Choreo's development set: its ``dev``
split validates, its ``test`` split is never tuned on. A beat/downbeat
activation network must learn from other music, so this catalogue takes only
groove files of ``/usr/share/mma/lib/{stdlib,casio,kara,pflib,yamaha,zoom,alexis}``
that are in neither ``CATALOG`` nor ``SHARED_FILES`` (the shared 24-track set),
checked at import time (``check_disjoint``). A file is used whole or not at
all: several numbered grooves of one file (zoom ``08Beat01``..``08Beat12``)
are separate entries, but never a groove of a file the beat set plays.

The fields are ``catalog.Groove``'s (``mult``, ``ppb``, ``meter``, ``tabs``,
``time`` as there). Chosen by hand from each file's ``Doc`` text and a
rendering of every groove (``mma``, 8 bars: MIDI time signature, where the
kick, snare and pitched notes fall in the beat, triplet/swing positions).

Left out, with the reason:

- ``stdlib/afro-cuban``: 6/8 "implemented as a 3/4 time", accents on 1, 2 and
  3.5: the pulse is ambiguous (as in the beat set).
- ``stdlib/jazz-54``: 5/4, a meter the labels do not cover.
- ``stdlib/metronome``, ``metronome3``, ``metronome6``, ``metronome68``: count-in
  clicks, not grooves; ``stdlib/none``: silence.
- ``zoom/intro``, ``zoom/ending``, ``zoom/count``: one-bar fills and count-ins.
- ``casio/fastbigband``: "probably in 2/4 so try halving your tempo" (its doc):
  the pulse is ambiguous.
- ``casio/60spop``: the snare plays every off-beat and the kick is busier
  off the beat than on it: notated at half the pulse, so the labelled grid
  would be ambiguous.
- zoom ``AMB03``, ``16FUS04``, ``FUS08``, ``THRS01``, ``04JAZZ03``,
  ``04JAZZ04``: kick and snare sit off the MMA beat (a pattern notated at
  half or double time, or a dotted-eighth polyrhythm with no downbeat).
- yamaha ``...IntroA`` of jazzbouncy, jazzcountry, jazztrio, jazzGrtrio: drum
  count-ins with no other instrument (the main groove is used instead, or
  IntroB).

All of these files are 4/4 except two 12/8 ones (``pflib/slowrock``, "50's
slow rock", triplets throughout, and ``yamaha/jazzcountry``, converted from
"Old Country 12 8.sty"); both are ``Time 4`` with triplets, so one MMA beat
is one dotted-quarter pulse (mult 1, 4 per bar) like the beat set's
``Rock128``. Every 3/4 and 6/8 groove file of these libraries is already in
the beat set or the shared set, so the train set has none.

MMA resolves ``lib:Groove`` by the groove name over all libraries (its
``searchDB`` ignores the folder), so ``casio:Blues`` would load
``stdlib/blues.mma``; the train set's songs therefore name the file,
``lib/file:Groove`` (``song.TRAIN.explicit_files``).
"""

from __future__ import annotations

import re
from pathlib import Path

from .catalog import CATALOG, SHARED_FILES, Groove

G = Groove
TWELVE8 = dict(meter=(12, 8), ppb=4)

#: libraries the train set may draw from
LIBS = ("stdlib", "casio", "kara", "pflib", "yamaha", "zoom", "alexis")


def _casio(file: str, main: str, genre: str, lo: int, hi: int, intro: str | None = None,
           end: str | None = None, **kw) -> Groove:
    """A Casio WK-3000 conversion: one groove, ``<main>Intro`` and ``<main>End``."""
    return G("casio", file, main, None, intro or main + "Intro", end or main + "End", genre, lo, hi, **kw)


def _zoom(file: str, names: list[str], genre: str, lo: int, hi: int, swing: set[str] = frozenset(),
          **kw) -> list[Groove]:
    """Zoom drum patterns: every listed pattern is a main groove once, the next
    pattern of the same feel (straight or swung) its variation. Zoom files have
    no intro or ending grooves and no pitched tracks (drums only)."""
    out = []
    for feel in (False, True):
        group = [n for n in names if (n in swing) == feel]
        for i, n in enumerate(group):
            var = group[(i + 1) % len(group)] if len(group) > 1 else None
            out.append(G("zoom", file, n, var, None, None, genre, lo, hi, swing=feel, **kw))
    return out


TRAIN_CATALOG: list[Groove] = [
    # ---------------------------------------------------------- stdlib (4/4)
    G("stdlib", "arpeggio44", "Arpeggio4", "Arpeggio8", "Arpeggio4Intro", None, "ballad", 70, 120, drums=False),
    G("stdlib", "bebop", "Bebop", "BebopPlus", "BebopIntro", "BebopEnd", "jazz", 120, 160),
    G("stdlib", "bluefolk", "BlueFolk", "BlueFolkPlus", "BlueFolkIntro", "BlueFolkEnd", "folk", 70, 120, swing=True),
    G("stdlib", "bluefolk", "BlueFolk2", "BlueFolk2Plus", "BlueFolkIntro", "BlueFolkEnd", "folk", 70, 120, swing=True),
    G("stdlib", "blues", "Blues", "Blues1", "BluesIntro", "BluesEnd", "blues", 70, 120),
    G("stdlib", "blues", "BluesTriple", "BluesTripleL", "BluesIntro", "BluesEnd", "blues", 60, 100, swing=True),
    G("stdlib", "boggiewoggie", "BoggieWoggie", "BoggieWoggie1", "BoggieWoggieIntro", "BoggieWoggieEnd", "blues",
      100, 160, swing=True, drums=False),
    G("stdlib", "boggiewoggie", "BoggieWoggie2", "BoggieWoggie3", "BoggieWoggieIntro", "BoggieWoggieEnd", "blues",
      100, 160, swing=True, drums=False),
    G("stdlib", "cubanguitar", "CubanGuitar", "CubanGuitarPlus", "CubanGuitarIntro", "CubanGuitarEnd", "latin",
      80, 120, latin=True, drums=False),
    G("stdlib", "descendingjazz", "DescendingJazz", "DescendingJazzPlus", "DescendingJazzIntro", "DescendingJazzEnd",
      "jazz", 90, 140),
    G("stdlib", "evansish", "Evansish", "Evansish1", "EvansishIntro", "EvansishEnd", "jazz", 80, 140, swing=True),
    G("stdlib", "folkballad", "FolkBallad", "FolkBallad1", "FolkBalladIntro", "FolkBalladEnd", "folk", 60, 100,
      drums=False),
    G("stdlib", "folkyjazz", "FolkyJazzGuitar", "FolkyJazzGuitarPlus", "FolkyJazzGuitarIntro", "FolkyJazzGuitarEnd",
      "jazz", 80, 130),
    G("stdlib", "folkyjazz", "FolkyJazzPiano", "FolkyJazzPianoPlus", "FolkyJazzPianoIntro", "FolkyJazzPianoEnd",
      "jazz", 80, 130),
    G("stdlib", "gypsyjazz", "GypsyJazz", "GypsyJazzFiddle", "GypsyJazzIntro", "GypsyJazzEnd", "jazz", 140, 190,
      drums=False),
    G("stdlib", "hymn", "HymnWalk", "HymnWalkPlus", None, "HymnEnd", "gospel", 60, 100, drums=False),
    G("stdlib", "jazzguitar", "JazzGuitar", "JazzGuitarWalk", "JazzGuitarIntro", "JazzGuitarEnd", "jazz", 70, 130,
      drums=False),
    G("stdlib", "jazzguitar", "JazzGuitar2", "JazzGuitar3", "JazzGuitar1Intro", "JazzGuitarEnd1", "jazz", 70, 130,
      swing=True, drums=False),
    G("stdlib", "lullaby", "Lullaby", "LullabyWalk", "LullabyIntro", "LullabyEnd", "ballad", 60, 100, drums=False),
    G("stdlib", "modernjazz", "ModernJazz", "ModernJazz1", "ModernJazzIntro", "ModernJazzEnd", "jazz", 90, 150,
      swing=True),
    G("stdlib", "popspiritual", "PopSpiritual", "PopSpiritualPlus", "PopSpiritualIntro", "PopSpiritualEnd", "gospel",
      60, 90, drums=False),
    G("stdlib", "quickstep", "QuickStep", "QuickStepHit", "QuickStepIntro", "QuickStepEnd", "ballroom", 150, 190),
    G("stdlib", "quickstep", "QuickStepDuh", "QuickStepWalk", "QuickStepIntro8", "QuickStepEnd", "ballroom", 150, 190),
    G("stdlib", "ragtime", "RagTime", "RagtimePlus", "RagtimeIntro", "RagtimeEnd", "ragtime", 140, 190, drums=False),
    G("stdlib", "showtune", "ShowTune1", "ShowTune2", "ShowTuneIntro", "ShowTuneEnd", "showtune", 80, 130,
      drums=False),
    G("stdlib", "slowblues", "SlowBlues", "SlowBluesWalk4", "SlowBluesIntro", "SlowBluesEnd", "blues", 60, 85),
    G("stdlib", "slowblues", "SlowBlues12Triple", "SlowBlues4Triple", "SlowBluesIntro", "SlowBluesEnd", "blues",
      60, 85, swing=True),
    G("stdlib", "slowbroadway", "SlowBroadway", "SlowBroadway1", "SlowBroadwayIntro", "SlowBroadwayEnd", "showtune",
      70, 110),
    G("stdlib", "slowspiritual", "SlowSpiritual", "SlowSpiritualPlus", "SlowSpiritualIntro", "SlowSpiritualEnd",
      "gospel", 60, 80, drums=False),
    G("stdlib", "stringballad", "StringBalladStrum", "StringBalladVoiceStrum", "StringBalladIntro", "StringBalladEnd",
      "ballad", 60, 80, drums=False),
    # ---------------------------------------------------------- casio (4/4; Casio WK-3000 conversions)
    _casio("16beat1", "16Beat1", "pop", 90, 120, intro="16beat1Intro", end="16beat1End"),
    _casio("16beat3", "16Beat3", "electronic", 120, 140),
    _casio("16beatballad1", "16BeatBallad1", "ballad", 60, 85),
    _casio("16beatballad2", "16BeatBallad2", "ballad", 60, 85),
    _casio("16beatballad3", "16BeatBallad3", "ballad", 60, 85),
    _casio("16shuffle2", "16Shuffle2", "electronic", 90, 120),
    _casio("60srock", "60sRock", "soul", 90, 130),
    _casio("8beat2", "8Beat2", "pop", 90, 140),
    _casio("8beat3", "8Beat3", "rock", 100, 140),
    _casio("8beatballad1", "8BeatBallad1", "ballad", 60, 90),
    _casio("8beatballad2", "8BeatBallad2", "ballad", 60, 90),
    _casio("8beatballad3", "8BeatBallad3", "ballad", 60, 90),
    _casio("8beatdance", "8BeatDance", "dance", 110, 130),
    _casio("8beatpop1", "8BeatPop1", "pop", 100, 140),
    _casio("8beatpop2", "8BeatPop2", "pop", 100, 140),
    _casio("8beatpop3", "8BeatPop3", "pop", 100, 140),
    _casio("ambient1", "Ambient1", "electronic", 90, 125),
    _casio("ambient2", "Ambient2", "electronic", 90, 125, swing=True),
    _casio("ambient3", "Ambient3", "electronic", 90, 125),
    _casio("blues", "Blues", "blues", 70, 120, swing=True),
    _casio("dancepop2", "DancePop2", "dance", 115, 130),
    _casio("dancepop3", "DancePop3", "dance", 115, 130),
    _casio("foxtrot", "Foxtrot", "ballroom", 100, 130, swing=True),
    _casio("fusion", "Fusion", "fusion", 90, 130),
    _casio("jazzcombo", "JazzCombo", "jazz", 90, 140, swing=True),
    _casio("march1", "March1", "march", 100, 130),
    _casio("mellowrb", "MellowRB", "rnb", 70, 100),
    _casio("modernjazz", "ModernJazz", "jazz", 90, 150, swing=True),
    _casio("oldieballad", "OldieBallad", "ballad", 60, 85, swing=True),
    _casio("polka", "Polka", "polka", 100, 140),
    _casio("polkafox", "PolkaFox", "polka", 100, 140),
    _casio("pop", "Pop", "pop", 90, 130),
    _casio("popballad", "PopBallad", "ballad", 60, 90),
    _casio("poppolka", "PopPolka", "polka", 100, 140),
    _casio("poprock2", "PopRock2", "rock", 100, 150),
    _casio("popshuffle2", "PopShuffle2", "pop", 100, 140),
    _casio("quickstep", "QuickStep", "ballroom", 170, 190),
    _casio("r+b", "R&B", "rnb", 80, 120),
    _casio("rock1", "Rock1", "rock", 100, 150),
    _casio("rock2", "Rock2", "rock", 100, 150),
    _casio("serenade", "Serenade", "ballad", 60, 90),
    _casio("shuffleboogie", "ShuffleBoogie", "blues", 100, 150, swing=True),
    _casio("slow16beat", "Slow16Beat", "pop", 60, 90),
    _casio("slowbigband", "SlowBigBand", "swing", 70, 110, swing=True),
    _casio("soulpop", "SoulPop", "soul", 90, 130),
    _casio("swing", "Swing", "swing", 110, 170, swing=True),
    _casio("trance1", "Trance1", "electronic", 125, 145),
    _casio("trance2", "Trance2", "electronic", 125, 145),
    _casio("twist", "Twist", "rock", 140, 180),
    # ---------------------------------------------------------- kara (4/4)
    G("kara", "2beatp", "2beatpA", "2beatpB", "2beatpIntroA", "2beatpEndingA", "country", 100, 150, swing=True,
      drums=False),
    G("kara", "2beatp", "2beatpC", "2beatpD", "2beatpIntroC", "2beatpEndingC", "country", 100, 150, swing=True,
      drums=False),
    G("kara", "K50s_rock", "50s_RockA", "50s_RockB", "50s_RockIntroA", "50s_RockEndingA", "rock", 140, 180),
    G("kara", "K50s_rock", "50s_RockC", "50s_RockD", "50s_RockIntroC", "50s_RockEndingC", "rock", 140, 180),
    G("kara", "fasttwist", "fasttwistA", "fasttwistB", "fasttwistIntroA", "fasttwistEndingA", "rock", 130, 150),
    G("kara", "kwestballad", "kwestballadA", "kwestballadB", "kwestballadIntroA", "kwestballadEndingA", "country",
      65, 100, swing=True),
    G("kara", "kwestballad", "kwestballadC", "kwestballadD", "kwestballadIntroB", "kwestballadEndingC", "country",
      65, 100, swing=True),
    G("kara", "twi", "TwiMainA", "TwiMainB", "TwiIntroB", "TwiEndingB", "rock", 130, 170),
    # ---------------------------------------------------------- pflib
    G("pflib", "16beat2", "16beat2A", "16beat2B", None, "16beat2E", "pop", 70, 110),
    G("pflib", "8beat2", "8beat2A", "8beat2B", None, "8beat2E", "rock", 100, 150),
    G("pflib", "metal2", "metal2A", "metal2B", None, "metal2E", "metal", 90, 140, swing=True),
    G("pflib", "rock1", "rock1A", "rock1B", None, "rock1E", "rock", 100, 150),
    G("pflib", "slowrock", "slowrockA", "slowrockB", None, "slowrockE", "rock", 60, 85, swing=True, **TWELVE8),
    # ---------------------------------------------------------- yamaha (PSR style conversions)
    G("yamaha", "jazzGrtrio", "JazzGrTrioMainA", "JazzGrTrioMainB", "JazzGrTrioIntroB", "JazzGrTrioEndingB", "jazz",
      100, 170, swing=True),
    G("yamaha", "jazzbouncy", "JazzBouncyMainA", "JazzBouncyMainB", None, "JazzBouncyEndingA", "jazz", 100, 160,
      swing=True),
    G("yamaha", "jazzcountry", "JazzCountryMainA", "JazzCountryMainB", None, "JazzCountryEndingA", "country", 60, 100,
      swing=True, **TWELVE8),
    G("yamaha", "jazztrio", "JazzTrioMainA", "JazzTrioMainB", None, "JazzTrioEndingA", "jazz", 100, 170, swing=True),
    G("yamaha", "quando-g.s280", "QuandoGSMainA", "QuandoGSMainB", "QuandoGSIntroA", "QuandoGSEndingA", "latin",
      80, 100, latin=True),
    G("yamaha", "quando-g.s280", "QuandoGSMainC", "QuandoGSMainD", "QuandoGSIntroC", "QuandoGSEndingC", "latin",
      80, 100, latin=True),
    # ---------------------------------------------------------- zoom (drum kits only, 4/4)
    *_zoom("ambient", ["AMB01", "AMB02", "AMB04"], "electronic", 80, 120),
    *_zoom("bald", ["BALD01", "BALD02", "BALD03", "BALD04", "BALD06", "BALD07", "BALD08", "BALD09", "BALD10"],
           "ballad", 60, 90, swing={"BALD02", "BALD03", "BALD04", "BALD09", "BALD10"}),
    *_zoom("beat8", [f"08Beat{k:02d}" for k in range(1, 13)], "pop", 90, 150,
           swing={f"08Beat{k:02d}" for k in range(7, 13)}),
    *_zoom("blues", ["BLUS01", "BLUS02", "BLUS03", "BLUS05", "BLUS06"], "blues", 80, 130,
           swing={"BLUS01", "BLUS02", "BLUS03", "BLUS05", "BLUS06"}),
    *_zoom("cntry", ["CNTRY"], "country", 100, 150),
    *_zoom("fus16", ["16FUS01", "16FUS02", "16FUS03"], "fusion", 80, 120),
    *_zoom("fusion", ["FUS01", "FUS02", "FUS03", "FUS04", "FUS05", "FUS06", "FUS07"], "fusion", 90, 130),
    *_zoom("house", ["HOUS01", "HOUS02", "HOUS03", "HOUS04"], "electronic", 118, 130),
    *_zoom("hrk", ["HRK01", "HRK02", "HRK03", "HRK04", "HRK05", "HRK06", "HRK07"], "rock", 100, 160),
    *_zoom("jazz04", ["04JAZZ01", "04JAZZ02"], "jazz", 100, 180, swing={"04JAZZ01", "04JAZZ02"}),
    *_zoom("ska", ["SKA01", "SKA02", "SKA03", "SKA04"], "reggae_ska", 100, 150),
    *_zoom("thr", ["THRS02"], "metal", 100, 150),
]

#: groove files whose grooves are drum kits only (no pitched track): a
#: drum-less intro would be silence, so the train set never gives them one
DRUM_ONLY_LIBS = frozenset({"zoom"})


def file_key(g: Groove) -> str:
    return f"{g.lib}/{g.file}"


def check_disjoint(train: list[Groove] | None = None) -> None:
    """Raise AssertionError unless every train groove file is outside the
    beat set's files (CATALOG) and the shared set's (SHARED_FILES), comes from
    one of LIBS, and no (file, main groove) pair repeats."""
    train = TRAIN_CATALOG if train is None else train
    beat_files = {file_key(g) for g in CATALOG}
    files = {file_key(g) for g in train}
    assert not files & beat_files, sorted(files & beat_files)
    assert not files & SHARED_FILES, sorted(files & SHARED_FILES)
    assert all(g.lib in LIBS for g in train)
    keys = [(file_key(g), g.main.lower()) for g in train]
    assert len(keys) == len(set(keys)), "a (file, main groove) pair repeats"


def library_problems(lib: Path = Path("/usr/share/mma/lib")) -> list[str]:
    """Names of train grooves that their file does not define (needs the MMA
    library; an empty list means all are there)."""
    bad = []
    for g in TRAIN_CATALOG:
        text = (lib / g.lib / f"{g.file}.mma").read_text(encoding="latin-1")
        for name in (g.main, g.var, g.intro, g.end):
            if name and not re.search(r"(?im)^\s*defgroove\s+" + re.escape(name) + r"(?:\s|$)", text):
                bad.append(f"{file_key(g)}:{name}")
    return bad


check_disjoint()
