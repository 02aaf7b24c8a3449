"""``choreo analyze SONG``: tempo, meter, beats, downbeats and sections of a song."""

from __future__ import annotations

import json
import os

from ..core.progress import cli_bar, scaled
from ..core.fileio import atomic_path, check_output

LONG_SECONDS = 20.0  # show a progress bar beyond this length (when stderr is a terminal)


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("analyze", help="beat map and sections of a song",
                              description="Print a song's tempo, meter, beats, downbeats and sections.")
    p.add_argument("song", metavar="SONG", help="audio file (wav, flac, ogg, mp3, aiff)")
    p.add_argument("--json", metavar="OUT", help="also write the beat map as JSON to OUT")
    p.add_argument("--pulse", choices=("auto", "halve", "double"), default="auto",
                   help="tempo octave: trust the tracker, or halve/double its tempo")
    p.add_argument("--bar", choices=("earlier", "later"),
                   help="move the bar lines one beat earlier or later (the downbeat was off by a beat)")
    p.add_argument("--meter", type=int, metavar="N", help="beats to the bar (2-16), counted from the first downbeat")
    p.set_defaults(func=run)


def analyze_file(path: str, pulse: str = "auto", progress=None, *, bar: str | None = None,
                 meter: int | None = None) -> dict:
    """Load and analyse ``path``; returns the JSON-ready beat map with sections
    (a beat-grid file ``choreo generate --beats`` reads). ``bar`` ("earlier" /
    "later") and ``meter`` fix the bar lines (:func:`~choreo.core.audio.grid.fix_grid`).

    Raises :class:`~choreo.core.errors.ChoreoInputError` for unusable input.
    """
    from ..core.audio.beats import track_beats
    from ..core.audio.grid import fix_grid
    from ..core.audio.io import load_audio
    from ..core.audio.sections import find_sections

    fix_grid_check(bar, meter)   # before the song is read
    y, sr = load_audio(path)
    beatmap = track_beats(y, sr, pulse=pulse, progress=scaled(progress, 0.0, 0.7), name=path)
    beatmap = fix_grid(beatmap, bar, meter=meter)
    sections = find_sections(y, sr, beatmap)
    if progress is not None:
        progress(1.0, "done")
    return {"file": os.path.abspath(path), "duration": round(len(y) / sr, 4),
            "tempo": round(float(beatmap.tempo), 3), "meter": int(beatmap.meter),
            "beats": [round(float(b), 4) for b in beatmap.beats],
            "downbeats": [round(float(b), 4) for b in beatmap.downbeats],
            "sections": [[round(float(s), 4), round(float(e), 4), str(lab)] for s, e, lab in sections],
            **({"tempo_changes": [[round(float(t), 4), round(float(b), 3)] for t, b in beatmap.tempo_changes]}
               if beatmap.tempo_changes else {})}


def fix_grid_check(bar: str | None, meter: int | None) -> None:
    """The fixes :func:`analyze_file` applies, checked on a tiny grid (fails fast)."""
    import numpy as np

    from ..core.audio.beats import BeatMap
    from ..core.audio.grid import fix_grid

    fix_grid(BeatMap(120.0, np.arange(4) * 0.5, np.zeros(1), 4), bar, meter=meter)


def summary_lines(result: dict, max_times: int = 8) -> list[str]:
    """A compact human summary of :func:`analyze_file`'s result."""
    def times(values):
        shown = ", ".join(f"{t:.2f}" for t in values[:max_times])
        return shown + (f", … ({len(values)} in all)" if len(values) > max_times else "")

    secs = "  ".join(f"{lab} {s:.1f}–{e:.1f}s" for s, e, lab in result["sections"])
    changes = result.get("tempo_changes")
    return [f"{result['file']}  ({result['duration']:.1f} s)",
            f"  tempo     {result['tempo']:.1f} BPM, {result['meter']} beats a bar, first downbeat "
            + (f"{result['downbeats'][0]:.2f} s" if result["downbeats"] else "–")
            + ("; changes: " + ", ".join(f"{t:.1f} s {b:.1f} BPM" for t, b in changes) if changes else ""),
            f"  beats     {len(result['beats'])}: {times(result['beats'])}",
            f"  downbeats {len(result['downbeats'])}: {times(result['downbeats'])}",
            f"  sections  {secs}"]


def write_json(path: str, data: dict) -> None:
    """Write ``data`` to ``path`` atomically (temp file beside it, then rename)."""
    with atomic_path(path, suffix=".json") as tmp, open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


def _is_long(path: str) -> bool:
    from ..core.audio.io import check_audio_file

    check_audio_file(path)  # one clear line before libsndfile/mpg123 print their own notes
    try:
        import soundfile as sf

        return sf.info(path).duration > LONG_SECONDS
    except Exception:  # unreadable: load_audio reports it properly
        return False


def run(args) -> int:
    if args.json:
        check_output(args.json)  # before the analysis, not after it
    with cli_bar("analyze", enabled=None if _is_long(args.song) else False) as pbar:
        result = analyze_file(args.song, pulse=args.pulse, progress=pbar, bar=args.bar, meter=args.meter)
    if args.json:  # written first: a reader of stdout that is gone does not cost the file
        write_json(args.json, result)
    print("\n".join(summary_lines(result)))
    if args.json:
        print(f"wrote {args.json}")
    return 0
