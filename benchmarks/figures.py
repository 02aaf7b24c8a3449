"""Measured figures in README.md and docs/*.md, rendered from the JSON that measured them.

A figure block in a markdown file is::

    <!-- figures:NAME -->
    (text rendered by BLOCKS[NAME] from its record)
    <!-- /figures:NAME -->

Records live in ``benchmarks/results/`` (committed, so a test can check every
block against its record): ``corpus.json`` is what ``make corpus`` writes to
``out/corpus.json``, ``bench.json`` what ``make bench`` (``choreo bench``)
writes to ``out/bench/bench.json``; the cross-modal block reads the shipped
weights' own metadata. Nobody edits a block by hand.

Run:
  ``python benchmarks/figures.py corpus ARGS``  ``choreo dataset build ARGS``, timed; writes OUT.json beside
                                                its ``--out OUT.npz`` (what ``make corpus`` runs)
  ``python benchmarks/figures.py``              ``make figures``: copy the out/ JSON present into
                                                benchmarks/results/, rewrite every block
  ``python benchmarks/figures.py --check``      exit 1 if a block differs from its rendering
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
#: record name -> where its measuring command writes it (relative to the repository)
SOURCES = {"corpus": "out/corpus.json", "bench": "out/bench/bench.json", "video_bench": "out/video/video_bench.json",
           "lifter_bench": "out/lifter_bench.json", "batch_bench": "out/batch_bench.json"}
MARK = re.compile(r"(<!-- figures:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /figures:(?P=name) -->)", re.S)


# -- records ---------------------------------------------------------------------

def corpus_record(corpus) -> dict:
    """The deterministic figures of a built corpus (those that do not depend on its
    music features, so a ``--no-features`` build of the same inputs gives the same)."""
    a = corpus.arrays
    orig = ~a["pair_mirrored"]
    summary = corpus.summary()
    for key in ("features", "feature_windows"):
        summary.pop(key)
    splits = {}
    for s in ("train", "val"):
        m = orig & (a["pair_split"] == s)
        if m.any():
            splits[s] = {f"{k}_{v}": float(np.nanmean(a[f"pair_{k}_{v}"][m]))
                         for k in ("bas", "hit") for v in ("warped", "unwarped")}
            splits[s]["warped_better"] = float(np.mean(a["pair_bas_warped"][m] > a["pair_bas_unwarped"][m]))
    seconds = corpus.pair_frames()[orig] / corpus.fps
    beats = a["pair_matched_beats"][orig]
    used = np.bincount(a["pair_take"][orig], minlength=len(a["takes"]))
    return {
        "summary": summary, "splits": splits,
        "frames_with_mirrors": int(corpus.pair_frames().sum()),
        "pair_seconds": {"min": float(seconds.min()), "median": float(np.median(seconds)),
                         "max": float(seconds.max())},
        "matched_beats": {"median": float(np.median(beats)), "q1": float(np.percentile(beats, 25)),
                          "q3": float(np.percentile(beats, 75)), "min": int(beats.min()), "max": int(beats.max())},
        "takes_used": int((used > 0).sum()), "takes": int(len(used)),
        "unused_takes": {str(t): float(d) for t, d, n in zip(a["takes"], a["take_duration"], used) if n == 0},
    }


def measure_corpus(args: list[str]) -> dict:
    """Run ``choreo dataset build ARGS`` (its own output shown), then record the corpus
    it wrote with the build time, checksum and size in OUT.json beside OUT.npz."""
    from choreo.core.data.corpus import Corpus
    from choreo.core.fileio import sha256_file

    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--out", type=Path, required=True)
    out = ap.parse_known_args(args)[0].out
    cmd = [sys.executable, "-m", "choreo", "dataset", "build", *args]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as cache:  # an empty feature cache: the build time is a cold one
        rc = subprocess.run(cmd, env={**os.environ, "CHOREO_CACHE_DIR": cache}).returncode
    if rc:
        raise SystemExit(rc)  # choreo has said why, in one line
    seconds = time.perf_counter() - t0
    corpus = Corpus.load(out)
    rec = {"command": "choreo dataset build " + " ".join(args), "seconds": round(seconds, 1),
           "sha256": sha256_file(out), "bytes": out.stat().st_size,
           "format_version": int(corpus.arrays["format_version"]), "features": len(corpus.feature_columns),
           **corpus_record(corpus)}
    path = out.with_suffix(".json")
    path.write_text(json.dumps(rec, indent=1, sort_keys=True) + "\n")
    print(f"sha256 {rec['sha256']}, {rec['bytes'] / 1e6:.0f} MB, {seconds:.1f} s with start-up; "
          f"figures in {path}")
    return rec


def load_records() -> dict:
    """Every record by name: benchmarks/results/*.json, and the shipped cross-modal weights' meta."""
    from choreo.core.models.weights import load_weights, shipped_path

    recs = {p.stem: json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))}
    recs["crossmodal"] = load_weights(shipped_path("crossmodal"))[1]
    return recs


def collect(repo: Path = REPO, results: Path = RESULTS) -> list[str]:
    """Copy the measuring commands' JSON present under ``repo``/out into ``results``;
    returns one line per record saying what was done."""
    lines = []
    corpus_sha = None
    for name, rel in SOURCES.items():
        src, dst = repo / rel, results / f"{name}.json"
        if not src.is_file():
            lines.append(f"{name}: kept {dst.name} ({rel} not found: run `make {name}`)")
            continue
        rec = json.loads(src.read_text())
        if name == "corpus":
            corpus_sha = rec["sha256"]
        if name == "bench":
            p = rec["protocol"]
            kept = results / "corpus.json"
            recorded = corpus_sha or (json.loads(kept.read_text())["sha256"] if kept.is_file() else None)
            if p.get("quick"):
                lines.append(f"bench: kept {dst.name} ({rel} is a --quick run)")
                continue
            if p.get("corpus_sha256") != recorded:
                lines.append(f"bench: kept {dst.name} ({rel} was measured on another corpus than the recorded "
                             f"one: run `make bench`)")
                continue
        results.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        lines.append(f"{name}: recorded {rel} as {dst.relative_to(repo)}")
    return lines


# -- rendering ---------------------------------------------------------------------

def _para(text: str) -> str:
    return textwrap.fill(" ".join(text.split()), 80, break_long_words=False, break_on_hyphens=False)


def _mb(n: int) -> str:
    return f"{n / 1e6:.0f} MB"


def render_corpus(r: dict) -> str:
    """README: the paragraph on the training corpus."""
    s = r["summary"]
    w = s["warp_mean_percentiles"]
    lo, hi = s["warp_local_range"]
    n, total = s["unmirrored_pairs"], s["pairs"]
    return _para(
        f"**Training corpus** — `make corpus` ([docs/corpus.md](docs/corpus.md)): the {s['source_minutes']:.1f} min "
        f"of CMU dance become {n['train'] + n['val']} pairs ({total['train'] + total['val']} with mirrors; "
        f"{s['paired_minutes']:.1f} min paired, {s['paired_minutes_with_mirrors']:.1f} with mirrors), time-warped "
        f"within {lo:.2g}–{hi:.3g}× (mean warp per pair p5–p95 {w['5']:.2f}–{w['95']:.2f}) so kinematic beats "
        f"land on the music's beats. Bailando beat-align score of warped pairs {s['bas']['warped']:.3f} vs "
        f"{s['bas']['unwarped']:.3f} unwarped; music beats with a kinematic beat within ±70 ms "
        f"{100 * s['hit']['warped']:.1f} % vs {100 * s['hit']['unwarped']:.1f} %. Held-out: "
        f"{len(s['takes']['val'])} whole takes × {len(s['tracks']['val'])} whole tracks. Builds in "
        f"{r['seconds']:.0f} s cold, byte-identical on rebuild: format {r['format_version']}, sha256 "
        f"`{r['sha256'][:8]}…`, {_mb(r['bytes'])}.")


def render_corpus_table(r: dict) -> str:
    """docs/corpus.md: the figures of the default build."""
    s, ps, mb = r["summary"], r["pair_seconds"], r["matched_beats"]
    w = s["warp_mean_percentiles"]
    lo, hi = s["warp_local_range"]
    n, total = s["unmirrored_pairs"], s["pairs"]
    unused = ", ".join(f"{t} ({d:.1f} s)" for t, d in r["unused_takes"].items())
    rows = [
        ("dance", f"{s['source_minutes']:.2f} min of source takes → {s['paired_minutes']:.2f} min paired "
                  f"({s['paired_minutes_with_mirrors']:.2f} min with mirrors)"),
        ("pairs", f"{total['train']} train + {total['val']} val with mirrors ({n['train']} + {n['val']} without); "
                  f"{ps['min']:.1f}–{ps['max']:.1f} s each, median {ps['median']:.1f} s; "
                  f"{r['frames_with_mirrors']:,} frames"),
        ("warp ratio, mean per pair", " · ".join(f"p{k} {v:.3f}" for k, v in sorted(w.items(),
                                                                                   key=lambda kv: float(kv[0])))),
        ("warp ratio, local", f"always within {lo:.3f}–{hi:.3f} (by construction, checked per frame)"),
        ("matched beats per pair", f"median {mb['median']:g} (quartiles {mb['q1']:g}–{mb['q3']:g}, "
                                   f"range {mb['min']}–{mb['max']})"),
        ("takes used", f"{r['takes_used']} of {r['takes']}" + (f"; unused: {unused} (windows: {ps['min']:.1f}–"
                                                              f"{ps['max']:.1f} s)" if unused else "")),
        ("build time", f"{r['seconds']:.0f} s cold with start-up (most of it music features for "
                       f"{len(s['tracks']['train']) + len(s['tracks']['val'])} tracks)"),
        ("file", f"{_mb(r['bytes'])}, format {r['format_version']}, {r['features']} feature columns, "
                 f"sha256 `{r['sha256']}`"),
        ("rebuild", "byte-identical (same sha256) for the same inputs and seed"),
    ]
    return "\n".join(["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)])


def render_corpus_bas(r: dict) -> str:
    """docs/corpus.md: beat alignment, warped vs unwarped."""
    s, sp = r["summary"], r["splits"]
    lines = ["| | Bailando BAS ↑ | music beats with a kinematic beat within ±70 ms ↑ | pairs where warping "
             "raises BAS |", "|---|---|---|---|",
             f"| all, warped | **{s['bas']['warped']:.3f}** | **{100 * s['hit']['warped']:.1f} %** | |",
             f"| all, unwarped | {s['bas']['unwarped']:.3f} | {100 * s['hit']['unwarped']:.1f} % | |"]
    for name, v in sp.items():
        lines.append(f"| {name}, warped / unwarped | {v['bas_warped']:.3f} / {v['bas_unwarped']:.3f} | "
                     f"{100 * v['hit_warped']:.1f} % / {100 * v['hit_unwarped']:.1f} % | "
                     f"{100 * v['warped_better']:.0f} % |")
    return "\n".join(lines)


def render_bench(r: dict, corpus: dict) -> str:
    """README: what `choreo bench` ran on, then its table (the same as out/bench/table.md)."""
    from choreo.core.metrics import report as R

    p = r["protocol"]
    c = p["clip_seconds"]
    sha = p["corpus_sha256"]
    corpus_note = "the corpus of `make corpus`" if sha == corpus["sha256"] else "another corpus"
    head = _para(
        f"Recorded run: {len(r['rows'])} methods in {r['seconds']:.0f} s on {corpus_note} (sha256 `{sha[:8]}…`), "
        f"{p['windows']} held-out windows of {c['min']:.1f}–{c['max']:.1f} s (median {c['median']:.1f}) from "
        f"{len(p['tracks'])} unseen tracks ({', '.join(p['tracks'])}); reference set: {p['reference_set']}.")
    return head + "\n\n" + R.markdown_table(r["rows"]).rstrip("\n")


def render_crossmodal(meta: dict) -> str:
    """docs/bench.md: held-out retrieval of the shipped cross-modal embeddings."""
    h = meta["heldout"]
    n = h["windows"]
    rows = [
        ("pose metric: first half of a dance retrieves a second half of the same take",
         f"{h['dance_same_take_top1']:.2f}", f"{h['dance_same_take_chance']:.2f}"),
        (f"music → its own dance, top-5 among {n}", f"{h['music_to_dance_top5']:.2f}",
         f"{h['music_to_dance_top5_chance']:.2f}"),
        ("music → dance median rank", f"{h['music_to_dance_median_rank']:.0f}", f"{h['median_rank_chance']:.0f}"),
        ("retrieved dance closer to the true one than the median training dance", f"{h['metric_retrieval']:.2f}",
         f"{h['metric_retrieval_chance']:.2f}"),
    ]
    return "\n".join(["| | value | chance |", "|---|---|---|", *(f"| {a} | {b} | {c} |" for a, b, c in rows)])


def render_neighbours(r: dict) -> str:
    """docs/bench.md: the cross-modal score with Ren's 1 nearest music window vs Choreo's 10."""
    rows = {row["method"]: row["metrics"] for row in r["rows"]}
    names = [n for n in ("GT", "Rand Frame", "Frozen") if n in rows]
    lines = ["| nearest music windows | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for label, key in (("1 (Ren)", "crossmodal_1"), ("10 (Choreo)", "crossmodal")):
        lines.append(f"| {label} | " + " | ".join(f"{rows[n][key]:.2f}" for n in names) + " |")
    return "\n".join(lines)


def render_body(r: dict) -> str:
    """README: the body / music-dependence table of `choreo bench` (bench.json → body)."""
    from choreo.core.metrics import body_report as BR

    b = r["body"]
    head = _para(f"Recorded run: long-term dances = {b['longterm_jobs']}; GT = {b['gt']}; "
                 f"reference = {b['reference']}.")
    return head + "\n\n" + BR.markdown_body_table(b["rows"]).rstrip("\n")


def render_longterm(r: dict) -> str:
    """README: the long-song table of `choreo bench` (bench.json → longterm.rows)."""
    from choreo.core.metrics import longterm as LT

    p = r["protocol"]["longterm"]
    head = _para(f"Recorded run: {len(p['songs'])} medleys of the held-out tracks ({', '.join(p['tracks'])}, each in "
                 f"turn first), {p['seconds']:g} s each × {p['seeds']} seeds per generator, cut into "
                 f"{p['window_s']:g}-s windows; FID_k per window against the {p['reference']}; frozen: "
                 f"{p['frozen']}; multimodality_k: {p['multimodality_k']}.")
    return head + "\n\n" + LT.markdown_longterm_table(r["longterm"]["rows"], p["seconds"]).rstrip("\n")


def render_danceit(r: dict) -> str:
    """README and docs/danceit.md: DanceIt's own forms (Tables I and II, the join figure) of
    `choreo bench`, for GT, the baselines and each family's shipped row and DanceIt's ablations."""
    from choreo.core.metrics import report as R

    keep = [row for row in r["rows"] if row["kind"] == "baseline" or row["method"] in ("default", "dancerevolution")
            or row["method"].startswith("danceit")]
    head = _para("Recorded run: the same held-out windows; hand/foot columns are % of adjacent-frame wrist / "
                 "ankle displacements per Table II bin (DanceIt's pixels per 1/30 s, 1 px ≈ 3.2 mm); the join "
                 "columns are the p95 joint-velocity change at DanceIt's fragment joins over the p95 inside "
                 "fragments, at the cut (±1 frame) and over the spatial-alignment window (±5), median over the "
                 "val tracks.")
    return head + "\n\n" + R.markdown_danceit_table(keep).rstrip("\n")


def render_video(r: dict) -> str:
    """README and docs/photoreal.md: `make video-bench` on the stand-in target."""
    t, tr, h, sp = r["target"], r["training"], r["held_out"], r["speed_fps"]
    head = _para(
        f"Recorded run (`benchmarks/video_benchmark.py`, CPU configuration, 2 cores, no GPU lent): a "
        f"{t['frames'] + t['skipped']}-frame stand-in clip at 512², {t['skipped']} frames skipped by `prepare`, "
        f"{t['frames']} kept at {t['size']}²; trained {tr['steps']} steps in {tr['seconds'] / 60:.0f} min "
        f"({tr['seconds_per_step']:.2f} s/step) on the first {tr['train_frames']}; measured on the last "
        f"{t['held_out']}, never trained on, rolled out from a blank first frame with every frame conditioned on "
        f"the previous generated one. LPIPS: not measured (its network weights cannot be had offline).")
    rows = [("SSIM (held-out frames) ↑", f"{h['ssim']:.3f}", f"{h['ssim_no_face_gan']:.3f}"),
            ("PSNR dB ↑", f"{h['psnr']:.1f}", "–"),
            ("face patch SSIM ↑", f"{h['face_ssim']:.3f}", f"{h['face_ssim_no_face_gan']:.3f}"),
            ("frame-to-frame difference (0–255; real clip: "
             f"{h['frame_difference_real']:.2f})", f"{h['frame_difference']:.2f}", "–")]
    table = ["| held-out self-transfer | with the face GAN | without |", "|---|---|---|"]
    table += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    size = t["size"]
    speed = ["", "| render speed, frames/s (this CPU, 2 threads) | numpy (Blender) | torch |", "|---|---|---|"]
    for s in (size, 2 * size):
        speed.append(f"| {s}² | {sp[f'numpy_{s}']:.1f} | {sp[f'torch_{s}']:.1f} |")
    speed.append(f"| DanceIt (paper, consumer GPU) | {r['danceit_fps']:g} | |")
    return head + "\n\n" + "\n".join(table + speed)


def render_lifter(r: dict) -> str:
    """README and docs/lifting.md: `benchmarks/lifter_benchmark.py` on the held-out CMU takes."""
    t = r["training"]
    head = _para(
        f"Recorded run (`benchmarks/lifter_benchmark.py`): held-out takes {', '.join(r['takes'])} (never trained "
        f"on), whole, each through {r['views']} cameras no training step drew, in every layout; the lifter trained "
        f"{t['steps']} steps in {t['seconds'] / 60:.0f} min on {t['takes']} takes ({t['minutes']} min of mocap). "
        f"MPJPE / PA-MPJPE in mm, pelvis-relative, camera axes.")
    rows = ["| 2D | layout | learned | Taylor, template lengths | Taylor, the take's lengths |", "|---|---|---|---|---|"]
    for key, layouts in r["pose"].items():
        for layout, v in layouts.items():
            cells = [f"{v[w]['mpjpe_mm']:.0f} / {v[w]['pa_mpjpe_mm']:.0f}"
                     for w in ("learned", "taylor", "taylor_true_lengths")]
            rows.append(f"| {key} | {layout} | " + " | ".join(cells) + " |")
    world = ["", "| placed on the floor (true focal length), 2D | path error m | foot slide on contacts, cm/s: "
                 "raw / grounded / mocap | bone-length variation of the raw network, % |", "|---|---|---|---|"]
    for key, layouts in r["world"].items():
        v = {m: np.mean([x[m] for x in layouts.values()]) for m in next(iter(layouts.values()))}
        world.append(f"| {key} (mean of the layouts) | {v['path_error_m']:.2f} | {v['slide_raw_cm_s']:.1f} / "
                     f"{v['slide_grounded_cm_s']:.1f} / {v['slide_truth_cm_s']:.1f} | {v['bone_cv_raw_pct']:.1f} |")
    sp = r["speed"]
    tail = f"Speed (2 cores): learned {sp['learned_ms_per_frame']:.2f} ms a frame (numpy), Taylor " \
           f"{sp['taylor_ms_per_frame']:.2f} ms."
    c = r.get("clean_openpose25")
    if c:
        x, y, z = c["axis_error_mm"]
        takes = ", ".join(f"{n} {v:.0f}" for n, v in c["per_take_mpjpe_mm"].items())
        tail += (f" Where the error lies (clean OpenPose-25): mean absolute error {x:.0f} / {y:.0f} / {z:.0f} mm "
                 f"across / down / along the view; MPJPE per take {takes} mm.")
    v = r.get("video")
    if v:
        tail += (f" Through a real detector: held-out take {v['take']} ({v['frames']} frames) rendered by Blender "
                 f"as Choreo's dressed figure at {v['size']}², MediaPipe BlazePose found the dancer in "
                 f"{v['detected_frames']}; PA-MPJPE {v['learned_detected_pa_mm']:.0f} mm lifted from its 2D "
                 f"({v['learned_exact_pa_mm']:.0f} mm from the same camera's exact 2D), MediaPipe's own 3D "
                 f"landmarks {v['mediapipe_world_pa_mm']:.0f} mm.")
    tail = _para(tail)
    return head + "\n\n" + "\n".join(rows + world) + "\n\n" + tail


def render_batch(r: dict) -> str:
    """README and docs/batch.md: `benchmarks/batch_benchmark.py` through `choreo batch`."""
    lo, sh = r["long"], r["short"]
    rows = ["| run | jobs | wall s | a job: generate / key + save / render s | peak memory a job |", "|---|---|---|---|---|",
            f"| 1-min songs, one after another | {lo['jobs']} | {lo['wall_s']:.0f} | {lo['generate_s']:.1f} / "
            f"{lo['blend_s']:.1f} / {lo['render_s']:.0f} ({lo['frames']} frames) | {lo['peak_rss_mb']:.0f} MB |"]
    for name, key in (("one after another", "sequential"), (f"local Ray cluster, {sh['workers']} worker slots", "ray")):
        t = sh[key]
        rows.append(f"| {sh['song_seconds']:g}-s songs, {name} | {sh['jobs']} | {sh[key + '_s']:.0f} | "
                    f"{t['generate_s']:.1f} / {t['blend_s']:.1f} / {t['render_s']:.0f} | {t['peak_rss_mb']:.0f} MB |")
    head = _para(
        f"Recorded run (`benchmarks/batch_benchmark.py`, {r['cores']} cores, through `choreo batch`; the demo "
        f"track, `.blend` + a 640×360 Workbench preview with the follow camera, each job in its own process): "
        f"**{lo['jobs_per_hour']:.0f} jobs an hour for 1-minute songs**, preview included; the local Ray "
        f"cluster ran {sh['jobs']} jobs **{sh['speedup']:.2f}× as fast** as one after another.")
    return head + "\n\n" + "\n".join(rows)


#: block name -> renderer of the records
BLOCKS = {
    "bench-danceit": lambda recs: render_danceit(recs["bench"]),
    "bench-longterm": lambda recs: render_longterm(recs["bench"]),
    "bench-body": lambda recs: render_body(recs["bench"]),
    "corpus": lambda recs: render_corpus(recs["corpus"]),
    "corpus-table": lambda recs: render_corpus_table(recs["corpus"]),
    "corpus-bas": lambda recs: render_corpus_bas(recs["corpus"]),
    "bench": lambda recs: render_bench(recs["bench"], recs["corpus"]),
    "crossmodal-heldout": lambda recs: render_crossmodal(recs["crossmodal"]),
    "crossmodal-neighbours": lambda recs: render_neighbours(recs["bench"]),
    "video": lambda recs: render_video(recs["video_bench"]),
    "lifter": lambda recs: render_lifter(recs["lifter_bench"]),
    "batch": lambda recs: render_batch(recs["batch_bench"]),
}


def blocks(text: str) -> list[tuple[str, str]]:
    """(name, body) of every figure block in a markdown text."""
    return [(m["name"], m["body"]) for m in MARK.finditer(text)]


def body(name: str, recs: dict) -> str:
    """A block's body as written between its markers: blank lines around the rendering
    (so a table or paragraph is its own markdown block)."""
    if name not in BLOCKS:
        raise KeyError(f"unknown figure block {name!r} (known: {', '.join(BLOCKS)})")
    return "\n" + BLOCKS[name](recs).strip("\n") + "\n\n"


def rewrite(text: str, recs: dict) -> str:
    """``text`` with every figure block re-rendered from ``recs``."""
    return MARK.sub(lambda m: m.group(1) + body(m["name"], recs) + m.group(4), text)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["corpus"]:
        measure_corpus(argv[1:])
        return 0
    ap = argparse.ArgumentParser(description="Render the figure blocks of README.md and docs/*.md.")
    ap.add_argument("--check", action="store_true", help="only compare; exit 1 if a block is stale")
    args = ap.parse_args(argv)
    if not args.check:
        print("\n".join(collect()))
    recs = load_records()
    stale = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        new = rewrite(text, recs)
        if new != text:
            stale.append(path.relative_to(REPO).as_posix())
            if not args.check:
                path.write_text(new, encoding="utf-8")
    verb = "stale" if args.check else "rewrote"
    print(f"figures: {verb} {', '.join(stale)}" if stale else "figures: every block is up to date")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
