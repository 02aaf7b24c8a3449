"""Long-term quality (Dance Revolution, seed 004, Fig. 4) and generation cost.

A generator dances long songs (3-minute medleys of the held-out tracks by
default, :func:`medley_jobs`); each dance is cut into consecutive 4-s windows
and FID_k is computed per window index across the dances (several songs ×
seeds) against a reference set. A model whose dance freezes or drifts shows a
rising curve. :func:`longterm_row` adds the frozen-window count (stretches
whose energy falls below the corpus's p1,
:func:`~choreo.core.generation.windows.freeze_report`) and the multimodality
(:func:`multimodality`: how far apart the seeds' dances to one song are).

Generation runs in a fresh subprocess per generator (:func:`run_generator`,
``python -m choreo.core.metrics.longterm``), so its peak RSS
(``VmHWM`` of that process, at the end; ``ru_maxrss`` where /proc is absent)
is the generator's alone: imports + weights + audio + generation. The
resident size after imports and weight loading is reported beside it.
Speed = generated seconds / wall seconds of the whole pipeline from samples
(:func:`~choreo.core.generation.pipeline.generate_from_samples`: beats,
sections, audio encoder, GRU windows, decoding, clean-up; audio decoding
excluded), so the benchmark measures the dances a user gets.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ChoreoInputError
from ..motion import Motion

WINDOW_SECONDS = 4.0


def _rss_mb(field: str = "VmRSS") -> float:
    """This process's resident size (``VmRSS``) or its peak (``VmHWM``), MB. The peak is
    read here, not from ``ru_maxrss``, which Linux carries over from a parent through
    fork and exec (a bench that has loaded Blender would report Blender's size)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def job_song(job: dict) -> str:
    """The name of a job's song: the file's stem, or the stems of a medley joined by ``+``."""
    paths = job["audio"] if isinstance(job["audio"], (list, tuple)) else [job["audio"]]
    return "+".join(Path(p).stem for p in paths)


def job_audio(job: dict, sr: int) -> tuple[np.ndarray, int]:
    """The samples of a job ``{"audio": file or [files], "start", "duration"}`` at ``sr``:
    a list of files is a medley, the files played one after another, then cut to the part."""
    from ..audio.io import load_audio

    if not isinstance(job["audio"], (list, tuple)):
        return load_audio(job["audio"], sr=sr, offset=float(job["start"]), duration=job.get("duration"))
    a = int(round(float(job["start"]) * sr))
    b = None if job.get("duration") is None else a + int(round(float(job["duration"]) * sr))
    parts, n = [], 0
    for path in job["audio"]:
        if b is not None and n >= b:  # the medley is long enough: the rest is never read
            break
        parts.append(load_audio(path, sr=sr)[0])
        n += len(parts[-1])
    return np.concatenate(parts)[a:b], sr


def medley_jobs(tracks: Sequence[os.PathLike | str], seconds: float, seeds: Sequence[int]) -> list[dict]:
    """One medley per track (every track in turn, starting from it: rotations of
    ``tracks``), each the first ``seconds`` of it, danced with every seed."""
    tracks = [str(t) for t in tracks]
    songs = [tracks[k:] + tracks[:k] for k in range(len(tracks))]
    return [{"audio": songs[k], "start": 0.0, "duration": float(seconds), "seed": int(sd)}
            for k in range(len(songs)) for sd in seeds]


def generate_jobs(weights: str, jobs: Sequence[dict], out_path: str, options: dict | None = None) -> dict:
    """Generate every job ``{"audio" (a file or a medley's files), "start", "duration"
    (None = to the end), "seed"}`` with ``weights`` (and the family ``options``); joints saved
    to ``out_path`` (.npz, ``m0``, ``m1``, …); returns the cost figures. Runs in the worker process."""
    from ..generation.pipeline import generate_from_samples, load_generator

    generator, _ = load_generator(weights, options)
    rss_loaded = _rss_mb()
    gen_s = wall = 0.0
    arrays, last = {}, (None, None)
    for k, job in enumerate(jobs):
        key = (job_song(job), job["start"], job.get("duration"))
        if last[0] != key:  # one song's seeds follow each other: it is read once
            last = (key, job_audio(job, generator.sample_rate))
        y, sr = last[1]
        single = not isinstance(job["audio"], (list, tuple))
        t0 = time.perf_counter()
        dance = generate_from_samples(y, sr, weights=generator, seed=int(job["seed"]),
                                      audio_start=float(job["start"]) if single else 0.0,
                                      audio_path=str(job["audio"]) if single else None)
        motion = dance.motion
        wall += time.perf_counter() - t0
        gen_s += motion.duration
        arrays[f"m{k}"] = motion.joints
        # a library dance's joins (frames where a fragment starts), for the join figure
        arrays[f"j{k}"] = np.array([round((p["song_start_s"] - dance.audio_start) * motion.fps)
                                    for p in dance.sources[1:]], np.int64)
    np.savez(out_path, **arrays)
    return {"generated_s": gen_s, "wall_s": wall, "speed_x_realtime": gen_s / max(wall, 1e-9),
            "rss_loaded_mb": rss_loaded,
            "peak_rss_mb": _peak_mb()}


def _peak_mb() -> float:
    peak = _rss_mb("VmHWM")
    return peak if peak == peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_generator(weights: str | os.PathLike, jobs: Sequence[dict], fps: float = 30.0,
                  timeout: float = 1800, options: dict | None = None) -> tuple[list[Motion], dict]:
    """Run :func:`generate_jobs` in a fresh Python process (clean peak RSS);
    returns the motions (one per job) and the cost figures, with ``"joins"``: per job the
    frames where a library dance's fragments meet (empty for a network's dance)."""
    with tempfile.TemporaryDirectory(prefix="choreo_bench_") as tmp:
        spec, out = Path(tmp) / "jobs.json", Path(tmp) / "motions.npz"
        spec.write_text(json.dumps({"weights": str(weights), "jobs": list(jobs), "out": str(out),
                                    "options": options or {}}))
        env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        proc = subprocess.run([sys.executable, "-m", "choreo.core.metrics.longterm", str(spec)],
                              capture_output=True, text=True, timeout=timeout, env=env)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
            raise ChoreoInputError(weights, f"generation failed: {last}")
        stats = json.loads(proc.stdout.strip().splitlines()[-1])
        with np.load(out) as z:
            motions = [Motion(z[f"m{k}"], fps) for k in range(len(jobs))]
            stats["joins"] = [z[f"j{k}"].tolist() for k in range(len(jobs))]
    return motions, stats


def window_crops(motions: Sequence[Motion], window_s: float = WINDOW_SECONDS) -> list[list[Motion]]:
    """Consecutive ``window_s`` crops: result[k] = window k of every motion long enough."""
    n = min(int(m.duration // window_s) for m in motions)
    return [[m.seconds(k * window_s, (k + 1) * window_s) for m in motions] for k in range(n)]


def windowed_fid(motions: Sequence[Motion], ref_kinetic: np.ndarray, window_s: float = WINDOW_SECONDS,
                 kinetic_quirk: bool = False) -> np.ndarray:
    """FID_k of each consecutive ``window_s`` window (across ``motions``, ≥ 2) against
    the reference kinetic features (N, 72)."""
    from .fid import fid
    from .kinetic import kinetic_features

    out = []
    for crops in window_crops(motions, window_s):
        feats = np.stack([kinetic_features(c, reference_quirk=kinetic_quirk) for c in crops])
        out.append(fid(feats, ref_kinetic))
    return np.array(out, np.float64)


def multimodality(dances: dict[str, dict[int, Motion]], ref_kinetic: np.ndarray,
                  window_s: float = WINDOW_SECONDS) -> float:
    """Multimodality (Dance Revolution Table 1, after Lee et al. 2019): the mean
    distance between dances generated for the same music with different seeds.
    Here: kinetic features of each ``window_s`` window, normalised by the reference
    set as Div_k is; per song and window index, the mean pairwise distance across
    the seeds; averaged over both. ``dances[song][seed]``; nan with fewer than 2 seeds."""
    from .fid import diversity
    from .kinetic import kinetic_features

    vals = []
    for by_seed in dances.values():
        if len(by_seed) < 2:
            continue
        for crops in window_crops([by_seed[k] for k in sorted(by_seed)], window_s):
            vals.append(diversity(np.stack([kinetic_features(c) for c in crops]), ref_kinetic))
    return float(np.mean(vals)) if vals else float("nan")


def longterm_row(name: str, dances: dict[str, dict[int, Motion]], curve: Sequence[float], ref_kinetic: np.ndarray,
                 energy_range: tuple[float, float] | None, window_s: float = WINDOW_SECONDS) -> dict:
    """The long-song figures of one method: FID_k over the first and the last minute of its
    curve, the frozen windows (energy below the corpus's p1) of all its dances, multimodality."""
    from ..generation.windows import freeze_report

    curve = np.asarray(curve, np.float64)
    per_min = max(1, int(round(60.0 / window_s)))
    frozen = windows = 0
    for by_seed in dances.values():
        for m in by_seed.values():
            r = freeze_report(m, energy_range, window_s)
            windows += r["windows"]
            frozen += r.get("below", 0)
    return {"method": name, "fid_k_first_min": float(np.mean(curve[:per_min])) if len(curve) else float("nan"),
            "fid_k_last_min": float(np.mean(curve[-per_min:])) if len(curve) else float("nan"),
            "frozen_windows": int(frozen), "windows": int(windows),
            "multimodality_k": multimodality(dances, ref_kinetic, window_s)}


def markdown_longterm_table(rows: Sequence[dict], seconds: float) -> str:
    """Markdown: one row per method of :func:`longterm_row`."""
    from .report import _fmt

    lines = [f"| method ({seconds / 60:g}-min songs) | FID_k ↓ first minute | FID_k ↓ last minute "
             "| frozen 4-s windows ↓ | multimodality_k ↑ |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['method']} | {_fmt(r['fid_k_first_min'])} | {_fmt(r['fid_k_last_min'])} | "
                     f"{r['frozen_windows']} / {r['windows']} | {_fmt(r['multimodality_k'])} |")
    return "\n".join(lines) + "\n"


def plot_curves(curves: dict[str, Sequence[float]], path: str | os.PathLike, window_s: float = WINDOW_SECONDS,
                title: str = "Long-term FID_k per 4-s window", highlight: Sequence[str] | None = None) -> None:
    """One line per method: FID_k (log scale) against the window's start time; PNG written atomically.
    With ``highlight``, those methods are drawn in colour and the others thin and grey (one legend entry)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..fileio import atomic_path

    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    grey = False
    for name, vals in curves.items():
        v = np.asarray(vals, np.float64)
        if not len(v):
            continue
        x, y = np.arange(len(v)) * window_s, np.maximum(v, 1e-6)
        if highlight is not None and name not in highlight:
            ax.plot(x, y, color="0.6", lw=0.7, alpha=0.6, label=None if grey else "other generators", zorder=1)
            grey = True
            continue
        ax.plot(x, y, marker="o", ms=3, label=name, zorder=2,
                linestyle="--" if name.startswith("GT") else "-")
    ax.set_xlabel("window start (s)")
    ax.set_ylabel("FID_k ↓ (log)")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def _main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="bench worker: generate jobs with one generator")
    ap.add_argument("spec")
    spec = json.loads(Path(ap.parse_args(argv).spec).read_text())
    stats = generate_jobs(spec["weights"], spec["jobs"], spec["out"], spec.get("options"))
    print(json.dumps(stats))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
