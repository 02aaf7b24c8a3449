"""Generation benchmark: speed, memory, numpy vs torch, seams and freezing.

Run: ``.venv/bin/python benchmarks/generate_benchmark.py [--weights FILE] [--runs N]
[--minutes 1,3,10] [--corpus out/corpus.npz] [--json OUT]``

On synthetic songs (:mod:`choreo.core.audio.demo`, 118 BPM) it prints:

- generator time per minute of music on CPU (median of ``--runs``) for each
  song length: the model part (audio encoder, windowed GRU + MLP, blending,
  decoding) and, once per length, the whole pipeline with beat tracking and
  sections; both as × real time;
- peak Python-heap memory of the model part (tracemalloc, numpy buffers included);
- the numpy runtime against torch's ``DanceGenerator.forward`` on the same
  windows in the same process (ratio);
- seams: velocity jumps at window joins vs inside windows on a 5-min song;
- parts: a 40-s part of that song (``frames=``, as ``--start/--end``) against the
  whole song's dance there, after turning and moving it onto the whole's
  (max joint distance; what is left is the per-dance bone lengths and floor);
- freezing: energy of every 4-s stretch of that song against the corpus's
  p1–p99 range of 4-s stretches (``out/corpus.npz``).

Without ``--weights`` the shipped ``default`` is used, or random-init weights
when none is registered (said in the output: speed figures hold, seam and
freeze figures then describe an untrained network).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO.parent))  # so `import choreo` works from a plain checkout

from choreo.core.audio.demo import synthesize_demo  # noqa: E402
from choreo.core.generation import generate_from_samples, load_generator  # noqa: E402
from choreo.core.generation.pipeline import generate_motion  # noqa: E402
from choreo.core.generation.windows import corpus_energy_range, freeze_report, seam_report  # noqa: E402
from choreo.core.models import weights as W  # noqa: E402


def song(minutes: float, sr: int):
    bars = max(1, int(round(minutes * 60 * 118 / 60 / 4)))
    return synthesize_demo(tempo=118.0, bars=bars, sr=sr, seed=1)


def pick_weights(arg: str | None, tmp: str) -> tuple[str, str]:
    if arg:
        return arg, f"weights {arg}"
    if W.DEFAULT_MODEL in W.registry():
        return W.DEFAULT_MODEL, "shipped default weights"
    from choreo.core.generation.families.ren.random_init import save_random_weights

    path = os.path.join(tmp, "random.safetensors")
    save_random_weights(path)
    return path, "RANDOM-INIT weights (no default registered): speed holds, seams/freezing are untrained"


def time_model(rt, track, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        generate_motion(rt, track.audio, track.sr, seed=0)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def peak_memory(rt, track) -> float:
    tracemalloc.start()
    try:
        generate_motion(rt, track.audio, track.sr, seed=0)
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def part_vs_whole(rt, track, motion, start_s: float = 100.0, seconds: float = 40.0) -> dict:
    """Max joint distance (m) between a part generated on its own and the whole
    song's ``motion`` there, after the least-squares turn about z and xy move."""
    fps = rt.cfg.fps
    a = int(round(start_s * fps))
    b = min(motion.num_frames, a + int(round(seconds * fps)))
    part, _ = generate_motion(rt, track.audio, track.sr, seed=0, frames=(a, b))
    ref, j = motion.joints[a:b].astype(np.float64), part.joints.astype(np.float64)
    pa, pb = ref[..., :2].reshape(-1, 2), j[..., :2].reshape(-1, 2)
    u, _, vt = np.linalg.svd((pb - pb.mean(0)).T @ (pa - pa.mean(0)))
    j[..., :2] = ((pb - pb.mean(0)) @ (u @ vt) + pa.mean(0)).reshape(j[..., :2].shape)
    d = np.linalg.norm(j - ref, axis=-1).max(axis=1)
    return {"start_s": a / fps, "seconds": (b - a) / fps, "max_m": float(d.max()), "median_m": float(np.median(d))}


def numpy_vs_torch(rt, weights_path: str, track, runs: int) -> dict:
    """Same windows (8 s, all of a 3-min song's) through both forwards."""
    import torch

    from choreo.core.models.conditioning import model_pieces
    from choreo.core.models.generator import DanceGenerator

    cfg = rt.cfg
    tensors, _ = W.load_weights(weights_path if os.path.exists(weights_path) else W.shipped_path(weights_path))
    model = DanceGenerator(cfg).eval()
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in tensors.items()})
    pieces = model_pieces(track.audio, track.sr, cfg)
    win = int(8 * cfg.fps)
    n = len(pieces) // win
    p = pieces[: n * win].reshape(n, win, -1)
    c = np.zeros((n, win, cfg.cond_dim), np.float32)
    tn, tt = [], []
    with torch.no_grad():
        pt, ct = torch.from_numpy(p), torch.from_numpy(c)
        for _ in range(runs):
            t0 = time.perf_counter()
            a = rt.forward(p, c)
            tn.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            b = model(pt, ct).numpy()
            tt.append(time.perf_counter() - t0)
    return {"windows": n, "numpy_s": statistics.median(tn), "torch_s": statistics.median(tt),
            "torch_threads": torch.get_num_threads(),
            "numpy_over_torch": statistics.median(tn) / statistics.median(tt),
            "max_abs_diff": float(np.abs(a - b).max())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", help="generator weights file or shipped name")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--minutes", default="1,3,10")
    ap.add_argument("--seam-minutes", type=float, default=5.0)
    ap.add_argument("--corpus", default=str(REPO / "out" / "corpus.npz"))
    ap.add_argument("--json", metavar="OUT")
    args = ap.parse_args()
    result: dict = {"cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        weights, note = pick_weights(args.weights, tmp)
        rt, model = load_generator(weights)
        sr = rt.cfg.sample_rate
        result.update(weights=model, weights_note=note)
        print(f"{note}\nCPU cores: {os.cpu_count()}\n")
        print(f"{'song':>6} {'model s':>8} {'s/min':>7} {'×RT':>7} {'peak MB':>8} {'full s':>7} {'×RT':>6}")
        rows = []
        for minutes in [float(m) for m in args.minutes.split(",")]:
            track = song(minutes, sr)
            dur = track.duration
            t_model = time_model(rt, track, args.runs)
            peak = peak_memory(rt, track)
            t0 = time.perf_counter()
            generate_from_samples(track.audio, sr, weights=rt)  # with beat tracking and sections
            t_full = time.perf_counter() - t0
            row = {"minutes": dur / 60, "model_s": t_model, "model_s_per_min": t_model / (dur / 60),
                   "model_x_realtime": dur / t_model, "peak_mb": peak, "full_s": t_full,
                   "full_x_realtime": dur / t_full}
            rows.append(row)
            print(f"{dur / 60:5.1f}m {t_model:8.2f} {row['model_s_per_min']:7.2f} {row['model_x_realtime']:7.0f} "
                  f"{peak:8.0f} {t_full:7.1f} {row['full_x_realtime']:6.0f}")
        result["speed"] = rows

        cmp = numpy_vs_torch(rt, weights, song(3, sr), args.runs)
        result["numpy_vs_torch"] = cmp
        print(f"\nnumpy runtime vs torch forward ({cmp['windows']} windows of 8 s, torch {cmp['torch_threads']} "
              f"threads): numpy {cmp['numpy_s']:.2f} s, torch {cmp['torch_s']:.2f} s, "
              f"ratio {cmp['numpy_over_torch']:.2f}, max |diff| {cmp['max_abs_diff']:.1e}")

        track = song(args.seam_minutes, sr)
        motion, plan = generate_motion(rt, track.audio, sr, seed=0)
        seams = seam_report(motion, plan)
        result["seams"] = seams
        print(f"\nseams ({seams['windows']} windows, {track.duration / 60:.1f} min): |Δvelocity| m/s "
              f"join p95 {seams['join']['p95']:.3f} max {seams['join']['max']:.3f} | "
              f"inside p95 {seams['inside']['p95']:.3f} max {seams['inside']['max']:.3f} | "
              f"p95 ratio {seams['p95_ratio']:.2f}, max ratio {seams['max_ratio']:.2f}")
        part = part_vs_whole(rt, track, motion)
        result["part_vs_whole"] = part
        print(f"part {part['start_s']:.0f}–{part['start_s'] + part['seconds']:.0f} s vs the whole song's dance "
              f"there (turned and moved onto it): max {part['max_m'] * 100:.1f} cm, median "
              f"{part['median_m'] * 100:.1f} cm per frame")
        rng_ = None
        if os.path.exists(args.corpus):
            rng_ = corpus_energy_range(args.corpus)
        fr = freeze_report(motion, rng_)
        result["freeze"] = fr
        line = (f"freezing: {fr['windows']} stretches of 4 s, energy min {fr['min']:.3f} median "
                f"{fr['median']:.3f} max {fr['max']:.3f} m²/s²")
        if rng_:
            line += (f"; corpus p1–p99 {rng_[0]:.3f}–{rng_[1]:.3f}: {fr['below']} below, "
                     f"{fr['above']} above")
        else:
            line += f" (no corpus at {args.corpus})"
        print(line)
    if args.json:
        from choreo.core.fileio import atomic_path

        with atomic_path(args.json, suffix=".json") as tmp, open(tmp, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
