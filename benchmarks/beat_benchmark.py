"""Beat-tracking benchmark on the tracks with exact beat grids.

Run: ``.venv/bin/python benchmarks/beat_benchmark.py [--music DIR] [--json OUT]``

For Choreo's tracker, librosa's default ``beat_track(y=y, sr=sr)`` and (if
installed) essentia's ``BeatTrackerMultiFeature`` it prints per track:

- strict F: F-measure at +-70 ms against the annotated quarter-note beats,
  scored over the whole track (no trimming of the first 5 s, unlike mir_eval);
- any-level F: the best F over the reference grid, its double, its halves
  (both phases) and its off-beat shift;
- the tempo relation of the estimate to the annotation (1x, 2x, 0.5x, other);
- downbeat F (same +-70 ms) where the tracker reports downbeats;
- analysis time per track (audio decoding excluded).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO.parent))  # so `import choreo` works from a plain checkout

from choreo.core.audio.beats import f_measure, track_beats  # noqa: E402
from choreo.core.audio.io import load_audio  # noqa: E402


def variants(ref: np.ndarray) -> list[np.ndarray]:
    """Reference grid, its double, both halves and its off-beat shift."""
    mids = (ref[:-1] + ref[1:]) / 2
    return [ref, np.sort(np.r_[ref, mids]), ref[0::2], ref[1::2], mids]


def relation(est_bpm: float, ref_bpm: float, tol: float = 0.04) -> str:
    for label, k in (("1x", 1.0), ("2x", 2.0), ("0.5x", 0.5)):
        if abs(est_bpm / (k * ref_bpm) - 1) <= tol:
            return label
    return "other"


def tempo_of(beats: np.ndarray) -> float:
    return 60.0 / float(np.median(np.diff(beats))) if len(beats) > 1 else 0.0


# ------------------------------------------------------------------ trackers

def choreo_tracker(y, sr):
    bm = track_beats(y, sr)
    return bm.tempo, bm.beats, bm.downbeats


def librosa_tracker(y, sr):
    import librosa

    tempo, frames = librosa.beat.beat_track(y=y, sr=sr)
    beats = librosa.frames_to_time(frames, sr=sr)
    return float(np.atleast_1d(tempo)[0]), beats, None


def essentia_tracker(y, sr):
    import essentia.standard as es
    import librosa

    y44 = librosa.resample(y, orig_sr=sr, target_sr=44100) if sr != 44100 else y
    beats, _ = es.BeatTrackerMultiFeature()(np.asarray(y44, dtype=np.float32))
    beats = np.asarray(beats, dtype=float)
    return tempo_of(beats), beats, None


def available_trackers() -> tuple[dict, list[str]]:
    trackers = {"choreo": choreo_tracker, "librosa": librosa_tracker}
    notes = []
    try:
        import essentia  # noqa: F401
        trackers["essentia"] = essentia_tracker
    except ImportError:
        notes.append("essentia: not installed")
    return trackers, notes


# ------------------------------------------------------------------ main

def evaluate(music: Path, trackers: dict) -> dict:
    rows = {name: [] for name in trackers}
    for path in sorted(music.glob("*.json")):
        audio = path.with_suffix(".ogg")
        if not audio.exists():
            continue
        truth = json.loads(path.read_text())
        ref = np.asarray(truth["beats"], float)
        ref_db = np.asarray(truth["downbeats"], float)
        y, sr = load_audio(audio)
        for name, fn in trackers.items():
            fn(y[: sr * 5], sr) if not rows[name] else None  # warm-up (imports, JIT), not timed
            t0 = time.perf_counter()
            tempo, beats, downbeats = fn(y, sr)
            dt = time.perf_counter() - t0
            rows[name].append({
                "track": path.stem, "bpm": truth["bpm"], "meter": truth["meter"][0],
                "tempo": float(tempo), "relation": relation(float(tempo), truth["bpm"]),
                "f": f_measure(ref, beats), "f_any": max(f_measure(v, beats) for v in variants(ref)),
                "f_down": None if downbeats is None else f_measure(ref_db, downbeats),
                "seconds": dt})
    return rows


def print_table(rows: dict, notes: list[str]) -> None:
    names = list(rows)
    print("Beat F-measure, +-70 ms, whole track scored (no 5 s trim). any = best over "
          "grid/double/half/off-beat.")
    head = f"{'track':20s} {'bpm':>4s}"
    for n in names:
        head += f" | {n[:8]:>8s} F   any  rel    down  time"
    print(head)
    tracks = [r["track"] for r in rows[names[0]]]
    for i, t in enumerate(tracks):
        line = f"{t[:20]:20s} {rows[names[0]][i]['bpm']:4d}"
        for n in names:
            r = rows[n][i]
            down = "   -" if r["f_down"] is None else f"{r['f_down']:.2f}"
            line += f" | {r['tempo']:6.1f} {r['f']:.2f} {r['f_any']:.2f} {r['relation']:>5s} {down:>5s} {r['seconds']:5.2f}"
        print(line)
    print()
    for n in names:
        rs = rows[n]
        f = np.array([r["f"] for r in rs])
        rel = [r["relation"] for r in rs]
        downs = [r["f_down"] for r in rs if r["f_down"] is not None]
        down = f"{np.mean(downs):.3f}" if downs else "-"
        print(f"{n:9s} mean F {f.mean():.3f}  min F {f.min():.3f} ({rs[int(f.argmin())]['track']})  "
              f"mean any-level F {np.mean([r['f_any'] for r in rs]):.3f}  downbeat F {down}  "
              f"tempo 1x/2x/0.5x/other {rel.count('1x')}/{rel.count('2x')}/{rel.count('0.5x')}/{rel.count('other')}  "
              f"mean time {np.mean([r['seconds'] for r in rs]):.2f} s")
    for note in notes:
        print(note)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--music", type=Path, default=REPO.parent / "shared" / "data" / "music")
    ap.add_argument("--json", type=Path, default=None, help="write per-track results here")
    ap.add_argument("--only", nargs="*", help="tracker names to run (default: all available)")
    args = ap.parse_args(argv)
    if not args.music.is_dir():
        print(f"{args.music}: no such directory", file=sys.stderr)
        return 2
    trackers, notes = available_trackers()
    if args.only:
        trackers = {k: v for k, v in trackers.items() if k in args.only}
    rows = evaluate(args.music, trackers)
    print_table(rows, notes)
    if args.json:
        fd, tmp = tempfile.mkstemp(dir=args.json.parent or ".", suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump({"tolerance_s": 0.07, "trimmed": False, "notes": notes, "results": rows}, fh, indent=1)
        os.replace(tmp, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
