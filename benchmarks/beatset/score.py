"""Score Choreo's beat tracker (and librosa's, the baseline peer) on the beat set.

Run: ``.venv/bin/python benchmarks/beatset/score.py [--set out/beatset] [--json OUT] [--only choreo librosa]``

A measurement only: the tracker is not changed or tuned here. The scores are
those of benchmarks/beat_benchmark.py, imported from it (strict F at ±70 ms
over the whole track, ``core.audio.beats.f_measure``; any-metrical-level F =
best over the grid, its double, both halves and the off-beat shift,
``beat_benchmark.variants``; tempo relation ``beat_benchmark.relation`` of the
tracker's tempo to the median labelled beat rate). Downbeat F uses the same
±70 ms. Meter right: the tracker's beats per bar equal the label's
``beats_per_bar`` (a 6/8 bar counts 2 dotted-quarter beats, which a tracker
that only answers 3 or 4 cannot match; the table also gives the count over
3- and 4-beat bars). One table per split; never tune on ``test``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))          # benchmarks/: beat_benchmark, beatset

import beat_benchmark as bb  # noqa: E402  (puts the repo's parent on sys.path for `choreo`)
from choreo.core.audio.beats import f_measure, track_beats  # noqa: E402
from choreo.core.audio.io import load_audio  # noqa: E402

FEATURES = ("latin", "swing", "pickup", "tempo_change", "nodrum_intro", "humanised")


def choreo(y, sr):
    bm = track_beats(y, sr)
    return float(bm.tempo), np.asarray(bm.beats, float), np.asarray(bm.downbeats, float), int(bm.meter)


def librosa_peer(y, sr):
    tempo, beats, _ = bb.librosa_tracker(y, sr)
    return tempo, beats, None, None


TRACKERS = {"choreo": choreo, "librosa": librosa_peer}


def load_set(root: Path) -> list[dict]:
    out = []
    for j in sorted(root.glob("bs*.json")):
        rec = json.loads(j.read_text())
        audio = next((j.with_suffix(s) for s in (".ogg", ".wav") if j.with_suffix(s).exists()), None)
        if audio is not None:
            rec["audio"] = audio
            out.append(rec)
    return out


def score_track(rec: dict, name: str, fn, y, sr) -> dict:
    ref = np.asarray(rec["beats"], float)
    ref_db = np.asarray(rec["downbeats"], float)
    t0 = time.perf_counter()
    tempo, beats, downs, meter = fn(y, sr)
    dt = time.perf_counter() - t0
    ref_tempo = bb.tempo_of(ref)
    return {
        "track": rec["title"], "split": rec["split"], "bpm": rec["bpm"], "meter_label": rec["meter"],
        "beats_per_bar": rec["beats_per_bar"], "features": rec["features"],
        "tempo": float(tempo), "relation": bb.relation(float(tempo), ref_tempo),
        "f": f_measure(ref, beats), "f_any": max(f_measure(v, beats) for v in bb.variants(ref)),
        "f_down": None if downs is None else f_measure(ref_db, downs),
        "meter": meter, "meter_right": None if meter is None else meter == rec["beats_per_bar"],
        "seconds": dt, "audio_s": len(y) / sr,
    }


def summary(rows: list[dict]) -> dict:
    if not rows:
        return {}
    f = np.array([r["f"] for r in rows])
    downs = [r["f_down"] for r in rows if r["f_down"] is not None]
    mr = [r for r in rows if r["meter_right"] is not None]
    mr34 = [r for r in mr if r["beats_per_bar"] in (3, 4)]
    worst = sorted(rows, key=lambda r: r["f"])[:3]
    return {
        "n": len(rows),
        "strict_f": float(f.mean()),
        "any_f": float(np.mean([r["f_any"] for r in rows])),
        "down_f": float(np.mean(downs)) if downs else None,
        "meter_right": (sum(r["meter_right"] for r in mr), len(mr)) if mr else None,
        "meter_right_34": (sum(r["meter_right"] for r in mr34), len(mr34)) if mr34 else None,
        "tempo_1x": sum(r["relation"] == "1x" for r in rows),
        "tempo_rel": {k: sum(r["relation"] == k for r in rows) for k in ("1x", "2x", "0.5x", "other")},
        "worst": [(r["track"], round(r["f"], 3)) for r in worst],
        "s_per_min": float(np.sum([r["seconds"] for r in rows]) / np.sum([r["audio_s"] for r in rows]) * 60),
    }


def _fmt(v, nd=3):
    return "-" if v is None else (f"{v:.{nd}f}" if isinstance(v, float) else str(v))


def print_tables(results: dict) -> None:
    names = list(results)
    for split in ("dev", "test"):
        n = len([r for r in results[names[0]] if r["split"] == split])
        print(f"\n### {split} split ({n} tracks)\n")
        print("| tracker | strict F | any-level F | downbeat F | meter right (all) | meter right (3/4-beat bars) "
              "| tempo 1x / 2x / 0.5x / other | s per audio min | worst 3 (strict F) |")
        print("|---|---|---|---|---|---|---|---|---|")
        for name in names:
            s = summary([r for r in results[name] if r["split"] == split])
            if not s:
                continue
            mr = "-" if s["meter_right"] is None else f"{s['meter_right'][0]} / {s['meter_right'][1]}"
            mr34 = "-" if s["meter_right_34"] is None else f"{s['meter_right_34'][0]} / {s['meter_right_34'][1]}"
            rel = s["tempo_rel"]
            worst = ", ".join(f"{t} {f:.2f}" for t, f in s["worst"])
            print(f"| {name} | {s['strict_f']:.3f} | {s['any_f']:.3f} | {_fmt(s['down_f'])} | {mr} | {mr34} | "
                  f"{rel['1x']} / {rel['2x']} / {rel['0.5x']} / {rel['other']} | {s['s_per_min']:.2f} | {worst} |")
    # per feature, both splits together would leak test into tuning: keep them apart
    for split in ("dev", "test"):
        print(f"\n#### by feature, {split} (strict F / downbeat F / meter right; librosa strict F)\n")
        print("| feature | n | choreo strict F | choreo downbeat F | choreo meter right | librosa strict F |")
        print("|---|---|---|---|---|---|")
        groups = {}
        for r in results[names[0]]:
            if r["split"] != split:
                continue
            f = r["features"]
            keys = [f"meter {f['meter']}", f"feel {f['feel']}"] + [k for k in FEATURES if f.get(k)]
            for k in keys:
                groups.setdefault(k, []).append(r["track"])
        for k in sorted(groups):
            tr = set(groups[k])
            line = f"| {k} | {len(tr)} |"
            for name in ("choreo", "librosa"):
                if name not in results:
                    line += " - |" * (3 if name == "choreo" else 1)
                    continue
                s = summary([r for r in results[name] if r["track"] in tr])
                if name == "choreo":
                    mr = "-" if s["meter_right"] is None else f"{s['meter_right'][0]} / {s['meter_right'][1]}"
                    line += f" {s['strict_f']:.3f} | {_fmt(s['down_f'])} | {mr} |"
                else:
                    line += f" {s['strict_f']:.3f} |"
            print(line)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=Path, default=Path("out/beatset"))
    ap.add_argument("--json", type=Path, default=None, help="per-track results (default: SET/score.json)")
    ap.add_argument("--only", nargs="*", choices=list(TRACKERS))
    ap.add_argument("--split", choices=("dev", "test", "both"), default="both")
    args = ap.parse_args(argv)
    recs = load_set(args.set)
    if not recs:
        print(f"{args.set}: no beat-set tracks (build them: benchmarks/beatset/build.py --out {args.set})",
              file=sys.stderr)
        return 2
    if args.split != "both":
        recs = [r for r in recs if r["split"] == args.split]
    trackers = {k: v for k, v in TRACKERS.items() if not args.only or k in args.only}
    results = {k: [] for k in trackers}
    warm = False
    for i, rec in enumerate(recs):
        y, sr = load_audio(rec["audio"])
        if not warm:
            for fn in trackers.values():
                fn(y[: sr * 5], sr)          # warm-up (imports), not timed
            warm = True
        for name, fn in trackers.items():
            results[name].append(score_track(rec, name, fn, y, sr))
        print(f"[{i + 1}/{len(recs)}] {rec['title']} " + " ".join(
            f"{k} {results[k][-1]['f']:.2f}" for k in trackers), file=sys.stderr, flush=True)
    print_tables(results)
    out = args.json or args.set / "score.json"
    out.write_text(json.dumps({"tolerance_s": 0.07, "trimmed": False,
                               "summary": {k: {s: summary([r for r in v if r["split"] == s]) for s in ("dev", "test")}
                                           for k, v in results.items()},
                               "results": results}, indent=1, default=str))
    print(f"\nper-track results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
