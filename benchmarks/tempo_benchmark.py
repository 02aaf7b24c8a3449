"""Beat tracking through tempo changes: medleys of the gridded tracks and tempo ramps.

Run: ``.venv/bin/python benchmarks/tempo_benchmark.py [--music DIR] [--long]``

Each song is built by :mod:`choreo.core.audio.medley` with an exact grid. Per
part of one tempo it prints the beat F-measure (+-70 ms) of the beats in that
part, the tempo of the tracked beats there (line fit) against the
part's, and, at each join, how far the tracker's stretch starts from it
(``-`` where the tracker reports no change there). ``--long`` adds the issue's
case: 5 min at 88 BPM then 5 min at 158 BPM, made of looped tracks.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO.parent))  # so `import choreo` works from a plain checkout

from choreo.core.audio.beats import f_measure, track_beats  # noqa: E402
from choreo.core.audio.medley import GriddedSong, drum_song, medley, ramp_beats  # noqa: E402

MEDLEYS = {
    "ska 88 > polka 158": [("mma05_ska", 0, 30), ("mma21_polka", 8, 30)],
    "hiphop 92 > country 164": [("mma06_hiphop", 8, 30), ("mma22_countryswing", 8, 30)],
    "waltz 84 > dsoul 112 > mambo 152": [("mma04_waltz", 8, 25), ("mma11_dsoul", 8, 25), ("mma20_mambo", 8, 25)],
    "bvfunk 104 > ska 88 > country 164": [("mma09_bvfunk", 8, 25), ("mma05_ska", 8, 25),
                                          ("mma22_countryswing", 8, 25)],
    "funk1 108 > vwaltz 178 > bossa 136": [("mma10_funk1", 8, 25), ("mma24_vienesewaltz", 8, 25),
                                           ("mma17_bossanova", 8, 25)],
    "polka 158 > ska 88": [("mma21_polka", 8, 30), ("mma05_ska", 8, 30)],
    "samba 100 > jive 170": [("mma08_samba", 8, 30), ("mma23_jive", 8, 30)],
    "popballad 72 > swing 146 (octave)": [("mma01_popballad", 8, 30), ("mma19_swing", 8, 30)],
}
LONG = {"issue: 5 min ska 88 > 5 min polka 158": [("mma05_ska", 0, 54, 6), ("mma21_polka", 7, 54, 6)]}


def ramp(bpm0: float, bpm1: float, seconds: float, sr: int = 22050) -> GriddedSong:
    beats = ramp_beats(bpm0, bpm1, seconds)
    return GriddedSong(drum_song(beats, 4, seconds, sr, seed=1), sr, beats, beats[::4],
                       [(0.0, seconds, 0.5 * (bpm0 + bpm1))])


def score(song: GriddedSong) -> None:
    t0 = time.perf_counter()
    bm = track_beats(song.audio, song.sr)
    dt = time.perf_counter() - t0
    starts = [t for t, _ in getattr(bm, "tempo_changes", [])]
    cells = []
    for k, (a, b, bpm) in enumerate(song.parts):
        ref = song.beats[(song.beats >= a - 0.035) & (song.beats < b - 0.035)]
        est = bm.beats[(bm.beats >= a - 0.035) & (bm.beats < b - 0.035)]
        tempo = 60.0 / float(np.polyfit(np.arange(len(est)), est, 1)[0]) if len(est) > 2 else 0.0
        join = "" if not k else (" join " + (f"{min(starts, key=lambda t: abs(t - a)) - a:+.2f}s"
                                             if starts else "-"))
        cells.append(f"F {f_measure(ref, est):.3f} {tempo:5.1f}/{bpm:5.1f}{join}")
    print(f"  {len(song.audio) / song.sr:6.0f} s in {dt:5.2f} s, {max(1, len(starts))} stretch(es): "
          + " | ".join(cells))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--music", type=Path, default=REPO.parent / "shared" / "data" / "music")
    ap.add_argument("--long", action="store_true", help="also the 10-min two-tempo song")
    args = ap.parse_args(argv)
    if not args.music.is_dir():
        print(f"{args.music}: no such directory", file=sys.stderr)
        return 2
    songs = {**MEDLEYS, **(LONG if args.long else {})}
    for name, parts in songs.items():
        print(name)
        score(medley(args.music, parts))
    for bpm0, bpm1, seconds in ((120, 126, 40), (100, 115, 40), (100, 130, 60)):
        print(f"drum ramp {bpm0} > {bpm1} BPM in {seconds} s (tempo column: mean)")
        score(ramp(bpm0, bpm1, seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
