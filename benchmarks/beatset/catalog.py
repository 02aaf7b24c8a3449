"""The MMA grooves the beat set is built from, chosen by hand across genres.

Each entry names a groove file of the MMA library installed by Debian's
``mma`` package (``/usr/share/mma/lib/<lib>/<file>.mma``) and, from it, the
main groove (A sections), a variation (B section), an intro and an ending
groove (``None``: the file has none; the main groove is used).

How a groove's MMA beats map to the labelled pulse:

``mult``  MMA beats per labelled beat (MIDI quarter notes per pulse). MMA counts
          bars in its own "beats" (``Time``); most 6/8 grooves count eighth
          notes (``Time 6``), so their dotted-quarter pulse is 3 MMA beats.
``ppb``   labelled beats (pulses) per bar.
``meter`` the time signature the groove defines, e.g. (6, 8); a 6/8 bar has
          ppb = 2 dotted-quarter pulses, a 12/8 bar ppb = 4.

None of the 24 groove files of ../shared/data/music is used (SHARED_FILES).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Groove:
    lib: str            # MMA library folder: stdlib, casio, kara, pflib, yamaha, zoom, alexis
    file: str           # groove file without .mma
    main: str           # main groove (A sections)
    var: str | None     # variation (B section)
    intro: str | None
    end: str | None
    genre: str
    lo: int             # pulse tempo range (labelled beats per minute)
    hi: int
    time: int = 4       # MMA "Time": MMA beats per bar
    mult: float = 1.0   # MMA beats per labelled beat
    ppb: int = 4        # labelled beats per bar
    meter: tuple[int, int] = (4, 4)
    latin: bool = False
    swing: bool = False  # the groove swings by itself (triplet or shuffle patterns)
    drums: bool = True
    tabs: int = 0        # chord positions per bar when the file sets them ("Time 6/8": 2); 0: one per MMA beat

    @property
    def qualified(self) -> str:
        """The name ``Groove`` takes: plain for stdlib, ``lib:Name`` otherwise
        (the shared set's convention)."""
        return self.main if self.lib == "stdlib" else f"{self.lib}:{self.main}"

    def cmd(self, g: str) -> str:
        """Argument of MMA's ``Groove`` command for groove ``g`` of this file."""
        return g if self.lib == "stdlib" else f"{self.lib}:{g}"


#: groove files the shared development set (../shared/data/music) uses: never here.
SHARED_FILES = {
    "stdlib/popballad", "alexis/hiphop", "stdlib/softrock", "stdlib/waltz", "stdlib/ska",
    "casio/hip-hop", "stdlib/rhumba", "stdlib/samba", "stdlib/bvfunk", "casio/funk1",
    "stdlib/dsoul", "stdlib/march", "stdlib/boneym", "stdlib/chacha", "stdlib/tango",
    "casio/dancepop1", "stdlib/bossanova", "stdlib/basicrock", "stdlib/swing", "stdlib/mambo",
    "stdlib/polka", "stdlib/countryswing", "stdlib/jive", "stdlib/vienesewaltz",
}
#: their main grooves as the shared JSONs spell them ("groove")
SHARED_GROOVES = {
    "PopBallad", "alexis:HipHop", "SoftRock", "Waltz", "Ska", "casio:Hip-Hop", "Rhumba", "Samba",
    "BVFunk", "casio:Funk1", "DSoul", "March", "BoneyM", "ChaCha", "Tango", "casio:DancePop1",
    "BossaNova", "BasicRock", "Swing", "Mambo", "Polka", "CountrySwing", "Jive", "VieneseWaltz",
}

G = Groove
SIX8 = dict(meter=(6, 8), ppb=2)
TWELVE8 = dict(meter=(12, 8), ppb=4)
WALTZ = dict(time=3, meter=(3, 4), ppb=3)

CATALOG: list[Groove] = [
    # ---------------------------------------------------------- 4/4 rock / pop / dance
    G("stdlib", "50srock", "50sRock", "50sRockPlus", "50sRockIntro", "50sRockEnd", "rock", 120, 180),
    G("stdlib", "60srock", "60sRock", "60sRock1", "60sRockIntro", "60sRockEnd", "rock", 110, 170),
    G("stdlib", "8beat", "8Beat", "8Beat1", "8BeatIntro", "8BeatEnd", "pop", 90, 150),
    G("stdlib", "bubblerock", "BubbleRock", "BubbleRockPlus", "BubbleRockIntro", "BubbleRockEnd", "rock", 110, 160),
    G("stdlib", "folkrock", "FolkRock", "FolkRockPlus", "FolkRockIntro", "FolkRockEnd", "rock", 100, 160),
    G("stdlib", "jazzrock", "JazzRock", "JazzRockPlus", "JazzRockIntro", "JazzRockEnd", "fusion", 100, 160),
    G("stdlib", "rockballad", "RockBallad", "RockBallad1", "RockBalladIntro", "RockBalladEnd", "ballad", 60, 90),
    G("stdlib", "ballad", "Ballad", "Ballad1", "BalladIntro", "BalladEnd", "ballad", 60, 90),
    G("stdlib", "guitarballad", "GuitarBallad", "GuitarBallad1", "GuitarBalladIntro", "GuitarBalladEnd", "ballad", 60, 90),
    G("stdlib", "pianoballad", "PianoBallad", "PianoBallad1", "PianoBalladIntro", "PianoBalladEnd", "ballad", 60, 90),
    G("stdlib", "rb", "R&B", "R&BPlus", "R&BIntro", "R&BEnd", "rnb", 80, 120),
    G("stdlib", "rb-ballad", "R&B-Ballad", "R&B-BalladPlus", "R&B-BalladIntro", "R&B-BalladEnd", "rnb", 60, 85),
    G("stdlib", "twist", "Twist", "Twist4", "TwistIntro", "TwistEnd", "rock", 140, 180),
    G("stdlib", "trance", "Trance", "Trance1", "TranceIntro", "TranceEnd", "electronic", 125, 145),
    G("stdlib", "strut", "Strut", "Strut2", "StrutIntro", "StrutEnd", "funk", 90, 125),
    G("stdlib", "folk", "Folk", "FolkWalk", "FolkIntro", "FolkEnd", "folk", 90, 140),
    G("stdlib", "bluegrass", "BlueGrass", "BlueGrassClap", "BlueGrassIntro", "BlueGrassEnd", "country", 120, 190),
    G("stdlib", "hillcountry", "HillCountry", "HillCountryPlus", "HillCountryIntro", "HillCountryEnd", "country", 100, 150),
    G("stdlib", "slowcountry", "SlowCountry", "SlowCountryPlus", None, None, "country", 60, 90),
    G("stdlib", "zydeco", "Zydeco", "ZydecoPlus", "ZydecoIntro", "ZydecoEnd", "cajun", 120, 170),
    G("stdlib", "desert", "Desert", "DesertSus", None, "DesertEnd", "world", 90, 130),
    G("stdlib", "broadway", "Broadway", "Broadway1", "BroadwayIntro", "BroadwayEnd", "showtune", 100, 160),
    G("stdlib", "bwmarch", "BWMarch", "BWMarchPlus", "BWMarchIntro", "BWMarchEnd", "march", 100, 130),
    G("stdlib", "dixiemarch", "DixieMarch", "DixieMarchPlus", "DixieMarchIntro", "DixieMarchEnd", "march", 100, 130),
    G("stdlib", "spiritual", "Spiritual", "SpiritualPlus", "SpiritualIntro", "SpiritualEnd", "gospel", 70, 110),
    G("casio", "8beat1", "8Beat1", None, "8Beat1Intro", "8Beat1End", "pop", 90, 140),
    G("casio", "16beat2", "16Beat2", None, "16Beat2Intro", "16Beat2End", "pop", 70, 110),
    G("casio", "60ssoul", "60sSoul", None, "60sSoulIntro", "60sSoulEnd", "soul", 90, 130),
    G("casio", "80spop", "80sPop", None, "80sPopIntro", "80sPopEnd", "pop", 100, 140),
    G("casio", "dance1", "Dance1", None, "Dance1Intro", "Dance1End", "dance", 115, 135),
    G("casio", "dance2", "Dance2", None, "Dance2Intro", "Dance2End", "dance", 115, 135),
    G("casio", "digitalrock", "DigitalRock", None, "DigitalRockIntro", "DigitalRockEnd", "rock", 100, 150),
    G("casio", "discosoul", "DiscoSoul", None, "DiscoSoulIntro", "DiscoSoulEnd", "disco", 105, 130),
    G("casio", "electricpop", "ElectricPop", None, "ElectricPopIntro", "ElectricPopEnd", "pop", 100, 140),
    G("casio", "funk2", "Funk2", None, "Funk2Intro", "Funk2End", "funk", 90, 120),
    G("casio", "heavymetal", "HeavyMetal", None, "HeavyMetalIntro", "HeavyMetalEnd", "metal", 120, 180),
    G("casio", "house", "House", None, "HouseIntro", "HouseEnd", "electronic", 118, 130),
    G("casio", "modernrb", "ModernR&B", None, "ModernR&BIntro", "ModernR&BEnd", "rnb", 70, 100),
    G("casio", "poprock1", "PopRock1", None, "PopRock1Intro", "PopRock1End", "rock", 100, 150),
    G("casio", "rave", "Rave", None, "RaveIntro", "RaveEnd", "electronic", 130, 160),
    G("casio", "soul", "Soul", None, "SoulIntro", "SoulEnd", "soul", 80, 120),
    G("casio", "techno", "Techno", None, "TechnoIntro", "TechnoEnd", "electronic", 120, 150),
    G("casio", "triphop", "TripHop", None, "TripHopIntro", "TripHopEnd", "hiphop", 70, 100),
    G("casio", "worldpop", "WorldPop", None, "WorldPopIntro", "WorldPopEnd", "world", 90, 130),
    G("casio", "slowrock", "SlowRock", None, "SlowRockIntro", "SlowRockEnd", "rock", 60, 90),
    G("casio", "germanmarch", "GermanMarch", None, "GermanMarchIntro", "GermanMarchEnd", "march", 100, 130),
    G("kara", "8beatmotown", "8beatmotownA", "8beatmotownB", "8beatmotownIntroA", "8beatmotownEndingA", "soul", 100, 150),
    G("kara", "Kfunk1", "Kfunk1A", "Kfunk1B", "Kfunk1IntroA", "Kfunk1EndingA", "funk", 90, 120),
    G("pflib", "8beat1", "8beat1A", "8beat1B", None, "8beat1E", "pop", 90, 150),
    G("pflib", "16beat1", "16beat1A", "16beat1B", None, "16beat1E", "pop", 70, 110),
    G("pflib", "metal1", "metal1A", "metal1B", None, "metal1E", "metal", 120, 180),
    G("pflib", "highfive", "highfiveA", "highfiveB", None, "highfiveE", "rock", 100, 150),
    G("alexis", "teamtechno", "TeamTechno", "TeamTechnoSus", "TeamTechnoIntro", "TeamTechnoEnd", "electronic", 125, 145),
    G("yamaha", "w-rock", "W-RockMainA", "W-RockMainB", "W-RockIntroA", "W-RockEndingA", "rock", 100, 150),
    G("yamaha", "western", "WesternMainA", "WesternMainB", "WesternIntroA", "WesternEndingA", "country", 100, 150),
    G("zoom", "pop", "POP01", "POP04", None, None, "pop", 90, 140),
    G("zoom", "rock", "ROCK05", "ROCK12", None, None, "rock", 100, 170),
    G("zoom", "funk", "FUNK03", "FUNK07", None, None, "funk", 85, 120),
    G("zoom", "hiphop", "HIP04", "HIP11", None, None, "hiphop", 70, 100),
    G("zoom", "dance", "DANC02", "DANC04", None, None, "dance", 115, 135),
    G("zoom", "dnb", "DnB01", "DnB03", None, None, "electronic", 160, 180),
    G("zoom", "techno", "TECH03", "TECH06", None, None, "electronic", 120, 150),
    G("zoom", "rnb", "RnB02", "RnB05", None, None, "rnb", 70, 110),
    G("zoom", "reggae", "REGG01", "REGG03", None, None, "reggae_ska", 70, 100),
    G("zoom", "punk", "PUNK01", "PUNK02", None, None, "rock", 150, 190),
    G("zoom", "mtl", "MTL01", "MTL03", None, None, "metal", 110, 170),
    G("zoom", "trip", "TRIP01", "TRIP03", None, None, "hiphop", 70, 100),
    G("zoom", "country", "CNTR01", "CNTR03", None, None, "country", 100, 160),
    G("zoom", "mide", "MidE01", "MidE02", None, None, "world", 90, 130),
    G("zoom", "beat16", "16Beat05", "16Beat08", None, None, "pop", 70, 110),
    # ---------------------------------------------------------- swing / shuffle / jazz (4/4)
    G("stdlib", "bigband", "BigBand", "BigBandPlus", "BigBandIntro", "BigBandEnd", "swing", 110, 180, swing=True),
    G("stdlib", "easyswing", "EasySwing", "EasySwing1", "EasySwingIntro", "EasySwingEnd", "swing", 90, 150, swing=True),
    G("stdlib", "fastswing", "FastSwing", "FastSwingWalk", "FastSwingIntro", "FastSwingEnd", "swing", 150, 190, swing=True),
    G("stdlib", "jazzcombo", "JazzCombo", "JazzCombo1", "JazzComboIntro", "JazzComboEnd", "jazz", 100, 170, swing=True),
    G("stdlib", "dixie", "Dixie", "Dixie1", "DixieIntro", "DixieEnd", "jazz", 140, 190, swing=True),
    G("stdlib", "charleston", "Charleston", "Charleston1", "CharlestonIntro", "CharlestonEnd", "swing", 140, 190, swing=True),
    G("stdlib", "foxtrot", "Foxtrot", "FoxTrotPlus", "FoxTrotIntro", "FoxTrotEnd", "ballroom", 100, 130, swing=True),
    G("stdlib", "shuffleboggie", "ShuffleBoggie", "ShuffleBoggie1", "ShuffleBoggieIntro", "ShuffleBoggieEnd", "blues", 100, 150, swing=True),
    G("stdlib", "westernswing", "WesternSwing", "WesternSwingPlus", "WesternSwingIntro", "WesternSwingEnd", "country", 120, 180, swing=True),
    G("stdlib", "countryblues", "CountryBlues", "CountryBlues1", "CountryBluesIntro", "CountryBluesEnd", "blues", 80, 130, swing=True),
    G("stdlib", "fastblues", "FastBlues", "FastBlues1", None, "FastBluesEnd", "blues", 130, 180, swing=True),
    G("stdlib", "softshoe", "Softshoe", "SoftShoePlus", "SoftShoeIntro", "SoftShoeEnd", "swing", 100, 140, swing=True),
    G("stdlib", "mellowjazz", "MellowJazz", "MellowJazzPlus", "MellowJazzIntro", "MellowJazzEnd", "jazz", 80, 120, swing=True),
    G("stdlib", "nitejazz", "NiteJazz", "NiteJazzPlus", "NiteJazzIntro", "NiteJazzEnd", "jazz", 80, 130, swing=True),
    G("stdlib", "slowjazz", "SlowJazz", "SlowJazz1", "SlowJazzIntro", "SlowJazzEnd", "jazz", 60, 90, swing=True),
    G("casio", "slowswing", "SlowSwing", None, "SlowSwingIntro", "SlowSwingEnd", "swing", 70, 110, swing=True),
    G("casio", "16shuffle1", "16Shuffle1", None, "16Shuffle1Intro", "16Shuffle1End", "pop", 70, 100, swing=True),
    G("casio", "popshuffle1", "PopShuffle1", None, "PopShuffle1Intro", "PopShuffle1End", "pop", 100, 140, swing=True),
    G("casio", "shufflerock", "ShuffleRock", None, "ShuffleRockIntro", "ShuffleRockEnd", "rock", 110, 160, swing=True),
    G("casio", "middlebigband", "MiddleBigBand", None, "MiddleBigBandIntro", "MiddleBigBandEnd", "swing", 110, 160, swing=True),
    G("kara", "happyshuffle", "HappyshuffleA", "HappyshuffleB", "HappyshuffleIntroA", None, "pop", 100, 140, swing=True),
    G("yamaha", "jazzswing", "JazzSwingMainA", "JazzSwingMainB", "JazzSwingIntroA", "JazzSwingEndingA", "jazz", 110, 180, swing=True),
    G("yamaha", "jazzbasie", "JazzBasieA", "JazzBasieB", "JazzBasieIntroA", "JazzBasieEndingA", "swing", 100, 160, swing=True),
    G("zoom", "shuffle", "SHFL01", "SHFL03", None, None, "blues", 90, 140, swing=True),
    G("zoom", "jazz", "JAZZ01", "JAZZ03", None, None, "jazz", 100, 180, swing=True),
    # ---------------------------------------------------------- Latin / Afro-Cuban (4/4)
    G("stdlib", "salsa", "Salsa", "SalsaPlus", "SalsaIntro", "SalsaEnd", "latin", 150, 190, latin=True),
    G("stdlib", "son", "Son", "SonPlus", "SonIntro", "SonEnd", "latin", 90, 130, latin=True),
    G("stdlib", "merengue", "Merengue", "Merengue1", "MerengueIntro", "MerengueEnd", "latin", 120, 170, latin=True),
    G("stdlib", "bolero", "Bolero", "BoleroAlt", "BoleroIntro", "BoleroEnd", "latin", 90, 120, latin=True),
    G("stdlib", "slowbolero", "SlowBolero", "SlowBolero1", "SlowBoleroIntro", "SlowBoleroEnd", "latin", 60, 90, latin=True),
    G("stdlib", "beguine", "Beguine", "Beguine1", "BeguineIntro", "BeguineEnd", "latin", 100, 140, latin=True),
    G("stdlib", "calypso", "Calypso", "Calypso1", "CalypsoIntro", "CalypsoEnd", "latin", 100, 140, latin=True),
    G("stdlib", "jazzrhumba", "JazzRhumba", "JazzRhumbaPlus", "JazzRhumbaIntro", "JazzRhumbaEnd", "latin", 90, 130, latin=True),
    G("stdlib", "lfusion", "LFusion", "LFusion1", "LFusionIntro", "LFusionEnd", "latin", 90, 130, latin=True),
    G("stdlib", "lighttango", "LightTango", "LightTango1", "LightTangoIntro", "LightTangoEnd", "tango", 110, 135),
    G("casio", "latinfusion", "LatinFusion", None, "LatinFusionIntro", "LatinFusionEnd", "latin", 90, 130, latin=True),
    G("casio", "latinhouse", "LatinHouse", None, "LatinHouseIntro", "LatinHouseEnd", "latin", 115, 130, latin=True),
    G("kara", "kbossa", "kbossaA", "kbossaB", "kbossaIntroA", "kbossaEndingA", "latin", 110, 150, latin=True),
    G("yamaha", "salsa1", "Salsa1MainA", "Salsa1MainB", "Salsa1IntroA", "Salsa1EndingA", "latin", 150, 190, latin=True),
    G("yamaha", "salsa2", "Salsa2MainA", "Salsa2MainB", "Salsa2IntroA", "Salsa2EndingA", "latin", 150, 190, latin=True),
    G("yamaha", "mambo", "MamboMainA", "MamboMainB", "MamboIntroA", "MamboEndingA", "latin", 150, 190, latin=True),
    G("yamaha", "jazzbossa", "JazzBossaA", "JazzBossaB", "JazzBossaIntroA", "JazzBossaEndingA", "latin", 110, 150, latin=True),
    G("zoom", "latin", "LATN01", "LATN05", None, None, "latin", 90, 140, latin=True),
    G("zoom", "latin", "LATN08", "LATN10", None, None, "latin", 90, 140, latin=True),
    G("zoom", "bossa", "BOSSA01", "BOSSA02", None, None, "latin", 110, 150, latin=True),
    G("zoom", "samba", "SAMBA01", "SAMBA02", None, None, "latin", 90, 110, latin=True),
    G("zoom", "afro", "AFRO01", "AFRO03", None, None, "latin", 90, 130, latin=True),
    G("zoom", "afro", "AFRO05", "AFRO07", None, None, "latin", 90, 130, latin=True),
    # ---------------------------------------------------------- 3/4
    G("stdlib", "countrywaltz", "CountryWaltz", "CountryWaltz1", "CountryWaltzIntro", "CountryWaltzEnd", "waltz", 90, 160, **WALTZ),
    G("stdlib", "fastwaltz", "FastWaltz", "FastWaltzPlus", "FastWaltzIntro", "FastWaltzEnd", "waltz", 140, 190, **WALTZ),
    G("stdlib", "frenchwaltz", "FrenchWaltz", "FrenchWaltz1", "FrenchWaltzIntro", "FrenchWaltzEnd", "waltz", 100, 170, **WALTZ),
    G("stdlib", "jazzwaltz", "JazzWaltz", "JazzWaltz1", "JazzWaltzIntro", "JazzWaltzEnd", "jazz", 110, 180, swing=True, **WALTZ),
    G("stdlib", "fastjazzwaltz", "FastJazzWaltz", "FastJazzWaltz1", "FastJazzWaltzIntro", "FastJazzWaltzEnd", "jazz", 150, 190, swing=True, **WALTZ),
    G("stdlib", "modernjazzwaltz", "ModernJazzWaltz", "ModernJazzWaltz1", "ModernJazzWaltzIntro", "ModernJazzWaltzEnd", "jazz", 110, 170, swing=True, **WALTZ),
    G("stdlib", "rockwaltz", "RockWaltz", "RockWaltz1", "RockWaltzIntro", "RockWaltzEnd", "waltz", 80, 140, **WALTZ),
    G("stdlib", "broadwaywaltz", "BroadwayWaltz", "BroadwayWaltz1", "BroadwayWaltzIntro", "BroadwayWaltzEnd", "waltz", 100, 170, **WALTZ),
    G("stdlib", "latinwaltz", "LatinWaltz", "LatinWaltzPlus", "LatinWaltzIntro", "LatinWaltzEnd", "latin", 100, 160, latin=True, **WALTZ),
    G("stdlib", "arpeggiowaltz", "ArpeggioWaltz", "ArpeggioWaltz8", "ArpeggioWaltzIntro", None, "waltz", 80, 140, drums=False, **WALTZ),
    G("casio", "popwaltz", "PopWaltz", None, "PopWaltzIntro", "PopWaltzEnd", "waltz", 90, 150, **WALTZ),
    G("casio", "jazzwaltz", "JazzWaltz", None, "JazzWaltzIntro", "JazzWaltzEnd", "jazz", 110, 170, swing=True, **WALTZ),
    G("yamaha", "jazzwaltz", "JazzWaltzMainA", "JazzWaltzMainB", "JazzWaltzIntroA", "JazzWaltzEndingA", "jazz", 110, 170, swing=True, **WALTZ),
    G("zoom", "bald34", "BALD05", "BALD11", None, None, "ballad", 70, 120, **WALTZ),
    G("zoom", "rock34", "ROCK28", None, None, None, "rock", 90, 150, **WALTZ),
    # ---------------------------------------------------------- 6/8: the dotted-quarter pulse, 2 per bar
    G("stdlib", "68swing", "68Swing", "68Swing1", "68SwingIntro", "68SwingEnd", "swing", 70, 120, time=6, mult=3, swing=True, **SIX8),
    G("stdlib", "68march", "68March", "68MarchPlus", "68MarchIntro", "68MarchEnd", "march", 100, 130, time=2, mult=1, **SIX8),
    G("stdlib", "blues68", "Blues68", "Blues68Walk", None, None, "blues", 60, 90, time=6, mult=3, **SIX8),
    G("stdlib", "ballad68", "Ballad68", "Ballad68Plus", "Ballad68Intro", "Ballad68End", "ballad", 60, 80, time=4, mult=2, **SIX8),
    G("stdlib", "arpeggio68", "Arpeggio68", "Arpeggio68-816", "Arpeggio68Intro", None, "ballad", 60, 90, time=6, mult=3, drums=False, **SIX8),
    G("casio", "68ballad", "68Ballad", None, "68BalladIntro", "68BalladEnd", "ballad", 60, 80, time=6, mult=3, **SIX8),
    G("zoom", "blues68", "68BLUS", None, None, None, "blues", 60, 90, time=6, mult=3, tabs=2, **SIX8),
    G("zoom", "blues34", "BLUS04", None, None, None, "blues", 60, 90, time=6, mult=3, tabs=2, **SIX8),
    # ---------------------------------------------------------- 12/8: MMA beat = dotted quarter, 4 per bar
    G("stdlib", "rock-128", "Rock128", "Rock128Plus", "Rock128Intro", "Rock128End", "rock", 60, 100, swing=True, **TWELVE8),
    G("stdlib", "ballad128", "Ballad128", "Ballad128Plus", "Ballad128Intro", "Ballad128End", "ballad", 60, 80, swing=True, **TWELVE8),
    G("stdlib", "blues128", "Blues128", "Blues128Plus", "Blues128Intro", "Blues128End", "blues", 60, 90, swing=True, **TWELVE8),
]


def file_path(g: Groove) -> str:
    return f"{g.lib}/{g.file}"
