"""Generation benchmark: speed, memory, numpy vs torch, seams and freezing, for any family.

Run: ``.venv/bin/python benchmarks/generate_benchmark.py [--weights W[,W…]] [--runs N]
[--minutes 1,3,10] [--compare-minutes 3] [--seam-minutes 5] [--corpus out/corpus.npz]
[--torch-threads N] [--stock] [--json OUT]``

``--weights`` takes shipped names, weights files, or several of them separated by
commas (``default,dancerevolution``): each is measured in turn in the same process,
so their ratios come from one run. A shipped name of a family (``Family.shipped``)
that is not installed yet is replaced by that family's random-init weights
(``families/<family>/random_init.py``; said in the output: speed and memory hold,
seam and freeze figures then describe an untrained network). Without
``--weights``: the shipped ``default``.

On synthetic songs (:mod:`choreo.core.audio.demo`, 118 BPM) it prints, per weights:

- the generator's time per song length on CPU, through the shared pipeline
  (:func:`~choreo.core.generation.pipeline.generate_motion`, whatever the family):
  the model part (the family's music input, its network, decoding, clean-up), the
  median of ``--runs`` first-time runs (the song's cached analysis and codes
  cleared before each), then once again on the same song with another seed (the
  add-on's Generate again: analysis and codes reused); and, once per length, the
  whole pipeline with beat tracking and sections; all as × real time;
- peak Python-heap memory of the model part (tracemalloc, numpy buffers included);
- the numpy runtime against the family's torch model on the same input of a
  3-min song in the same process (time ratio and max |diff|; one function per
  family in :data:`COMPARE`);
- seams: velocity jumps at window joins vs inside windows on a 5-min song, for
  a family that runs windows (a streaming one has none);
- parts: a 40-s part of that song (``frames=``, as ``--start/--end``) against the
  whole song's dance there, after turning and moving it onto the whole's
  (max joint distance; what is left is the per-dance bone lengths and floor);
- freezing: energy of every 4-s stretch of that song against the corpus's
  p1–p99 range of 4-s stretches (``out/corpus.npz``);

and a summary line per weights (with the 3-min song's speed against the first
weights'). ``--stock`` runs as a stock Blender would: torch, scipy, librosa and
soundfile cannot be imported (the torch comparison is skipped).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO.parent))  # so `import choreo` works from a plain checkout

from choreo.core.audio.demo import synthesize_demo  # noqa: E402
from choreo.core.generation import all_families, generate_from_samples, load_generator  # noqa: E402
from choreo.core.generation import song as song_cache  # noqa: E402
from choreo.core.generation.pipeline import generate_motion, resolve_weights  # noqa: E402
from choreo.core.generation.windows import corpus_energy_range, freeze_report, seam_report  # noqa: E402
from choreo.core.models import weights as W  # noqa: E402

#: What a stock Blender's Python lacks (as ``tests/test_dancerevolution.py`` blocks them).
NOT_IN_STOCK_BLENDER = ("torch", "scipy", "librosa", "soundfile")
#: The speed target of issue 14 item 5 (model part of a 3-min song).
TARGET_X_REALTIME = 100.0


def block_stock_imports() -> None:
    """Make :data:`NOT_IN_STOCK_BLENDER` unimportable from now on, as in a stock Blender."""
    import importlib.abc

    loaded = sorted(m for m in sys.modules if m.split(".")[0] in NOT_IN_STOCK_BLENDER)
    if loaded:
        raise SystemExit(f"--stock: already imported before the block: {', '.join(loaded)}")

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in NOT_IN_STOCK_BLENDER:
                raise ImportError(f"{name} is not in a stock Blender")

    sys.meta_path.insert(0, Block())


@dataclass(frozen=True)
class Track:
    audio: np.ndarray
    sr: int

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sr


#: Makes the synthetic song in a child process under ``--stock`` (the synthesiser's filters are
#: scipy's, which the block keeps out of this process).
SONG_CHILD = """import sys
sys.path.insert(0, sys.argv[1])
import numpy as np
from choreo.core.audio.demo import synthesize_demo
np.save(sys.argv[2], synthesize_demo(tempo=118.0, bars=int(sys.argv[3]), sr=int(sys.argv[4]), seed=1).audio)
"""


def song(minutes: float, sr: int, stock: bool = False) -> Track:
    """The 118-BPM demo song of about ``minutes`` at ``sr`` Hz."""
    bars = max(1, int(round(minutes * 60 * 118 / 60 / 4)))
    if not stock:
        return Track(synthesize_demo(tempo=118.0, bars=bars, sr=sr, seed=1).audio, sr)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "song.npy")
        subprocess.run([sys.executable, "-c", SONG_CHILD, str(REPO.parent), out, str(bars), str(sr)], check=True)
        return Track(np.load(out), sr)


def pick_weights(arg: str | None, tmp: str) -> tuple[str, str]:
    """(weights for :func:`load_generator`, what to say about them): ``arg`` as given, or,
    for a family's shipped name that is not installed, that family's random-init weights."""
    name = arg or W.DEFAULT_MODEL
    if name in W.registry() or os.path.exists(name):
        return name, "shipped weights" if name in W.registry() else f"weights file {name}"
    fam = next((f for f in all_families() if f.shipped == name), None)
    if fam is None:
        return name, f"weights {name}"  # load_generator says what is wrong with it
    path = os.path.join(tmp, f"{fam.name}-random.safetensors")
    importlib.import_module(fam.load.__module__ + ".random_init").save_random_weights(path)
    return path, (f"RANDOM-INIT {fam.name} weights, default config ({name!r} not installed): "
                  f"speed and memory hold, seams/freezing are untrained")


def cold_motion(gen, track, seed: int = 0, **kw):
    """:func:`generate_motion` as on a song the session has not seen (its cached analysis
    and the family's codes or music features dropped first)."""
    song_cache._RECENT.clear()
    return generate_motion(gen, track.audio, track.sr, seed=seed, **kw)


def time_model(gen, track, runs: int) -> tuple[float, float]:
    """(median first-time seconds of ``runs``, seconds of one more run with another seed, cache warm)."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        cold_motion(gen, track)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    generate_motion(gen, track.audio, track.sr, seed=1)
    return statistics.median(times), time.perf_counter() - t0


def peak_memory(gen, track) -> float:
    song_cache._RECENT.clear()
    tracemalloc.start()
    try:
        generate_motion(gen, track.audio, track.sr, seed=0)
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def part_vs_whole(gen, track, motion, start_s: float = 100.0, seconds: float = 40.0) -> dict:
    """Max joint distance (m) between a part generated on its own and the whole
    song's ``motion`` there, after the least-squares turn about z and xy move."""
    fps = gen.fps
    a = min(int(round(start_s * fps)), motion.num_frames // 3)
    b = min(motion.num_frames, a + int(round(seconds * fps)))
    part, _ = generate_motion(gen, track.audio, track.sr, seed=0, frames=(a, b))
    ref, j = motion.joints[a:b].astype(np.float64), part.joints.astype(np.float64)
    pa, pb = ref[..., :2].reshape(-1, 2), j[..., :2].reshape(-1, 2)
    u, _, vt = np.linalg.svd((pb - pb.mean(0)).T @ (pa - pa.mean(0)))
    j[..., :2] = ((pb - pb.mean(0)) @ (u @ vt) + pa.mean(0)).reshape(j[..., :2].shape)
    d = np.linalg.norm(j - ref, axis=-1).max(axis=1)
    return {"start_s": a / fps, "seconds": (b - a) / fps, "max_m": float(d.max()), "median_m": float(np.median(d))}


# -- numpy runtime vs the family's torch model ----------------------------------------

def _timed(runs: int, threads: int, numpy_fn, torch_fn) -> dict:
    """Both forwards ``runs`` times, alternating, torch on ``threads`` threads (0: its own
    choice): median times, their ratio and the outputs' max |diff|."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads or before)
    tn, tt = [], []
    try:
        with torch.no_grad():
            for _ in range(runs):
                t0 = time.perf_counter()
                a = numpy_fn()
                tn.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                b = torch_fn().numpy()
                tt.append(time.perf_counter() - t0)
        used = torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
    n, t = statistics.median(tn), statistics.median(tt)
    return {"numpy_s": n, "torch_s": t, "torch_threads": used, "numpy_over_torch": n / t,
            "max_abs_diff": float(np.abs(a - b).max()), "max_abs_output": float(np.abs(b).max())}


def _torch_model(cls, gen, path):
    import torch

    tensors, _ = W.load_weights(path)
    model = cls(gen.cfg).eval()
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in tensors.items()})
    return model


def compare_ren(gen, path, track, runs: int, threads: int) -> dict:
    """Ren: the same 8-s windows (all of the song's) through ``forward`` of both."""
    import torch

    from choreo.core.models.conditioning import model_pieces
    from choreo.core.models.generator import DanceGenerator

    cfg = gen.cfg
    model = _torch_model(DanceGenerator, gen, path)
    pieces = model_pieces(track.audio, track.sr, cfg)
    win = int(8 * cfg.fps)
    n = len(pieces) // win
    p = pieces[: n * win].reshape(n, win, -1)
    c = np.zeros((n, win, cfg.cond_dim), np.float32)
    pt, ct = torch.from_numpy(p), torch.from_numpy(c)
    return {"input": f"{n} windows of 8 s", **_timed(runs, threads, lambda: gen.forward(p, c), lambda: model(pt, ct))}


def compare_dancerevolution(gen, path, track, runs: int, threads: int) -> dict:
    """Dance Revolution: the song's music features and conditioning (as its ``generate``
    makes them) through the streaming runtime's ``run`` and the model's forward (normalised
    poses), as ``tests/test_dancerevolution.py::test_runtime_equals_torch_across_chunk_seams``."""
    import torch

    from choreo.core.audio.features import n_frames
    from choreo.core.generation.song import song_features
    from choreo.core.generation.song import Song, conditioning
    from choreo.core.models.dancerevolution import DanceRevolution

    model = _torch_model(DanceRevolution, gen, path)
    s = Song(samples=track.audio, sr=track.sr, fps=gen.fps, part=(0, n_frames(len(track.audio), track.sr, gen.fps)))
    music = song_features(s)
    cond = conditioning(s, gen.cfg, gen.energy_stats, gen.meta.get("training"), seed=0, energy=1.0,
                        frames=(0, len(music)))
    m, c = torch.from_numpy(np.ascontiguousarray(music, np.float32))[None], torch.from_numpy(cond)[None]
    return {"input": f"{len(music)} frames of music features, one pass",
            **_timed(runs, threads, lambda: gen.run(music, cond), lambda: model(m, c)[0])}


#: family name → (generator, weights file, 3-min track, runs, torch threads) → comparison figures.
COMPARE = {"ren": compare_ren, "dancerevolution": compare_dancerevolution}


# -- one weights ----------------------------------------------------------------------

def bench_weights(arg: str | None, args, tmp: str) -> dict:
    weights, note = pick_weights(arg, tmp)
    gen, model = load_generator(weights)
    sr = gen.sample_rate
    result: dict = {"label": arg or W.DEFAULT_MODEL, "weights": model, "family": gen.family, "weights_note": note,
                    "fps": gen.fps, "sample_rate": sr}
    print(f"== {arg or W.DEFAULT_MODEL}: {gen.family} family, {note}")
    print(f"{'song':>6} {'model s':>8} {'s/min':>7} {'×RT':>7} {'again s':>8} {'peak MB':>8} {'full s':>7} "
          f"{'×RT':>6}")
    rows = []
    for minutes in [float(m) for m in args.minutes.split(",")]:
        track = song(minutes, sr, args.stock)
        dur = track.duration
        t_model, t_again = time_model(gen, track, args.runs)
        peak = peak_memory(gen, track)
        song_cache._RECENT.clear()
        t0 = time.perf_counter()
        generate_from_samples(track.audio, sr, weights=gen)  # with beat tracking and sections
        t_full = time.perf_counter() - t0
        row = {"minutes": dur / 60, "model_s": t_model, "model_s_per_min": t_model / (dur / 60),
               "model_x_realtime": dur / t_model, "again_s": t_again, "peak_mb": peak, "full_s": t_full,
               "full_x_realtime": dur / t_full}
        rows.append(row)
        print(f"{dur / 60:5.1f}m {t_model:8.2f} {row['model_s_per_min']:7.2f} {row['model_x_realtime']:7.0f} "
              f"{t_again:8.2f} {peak:8.0f} {t_full:7.1f} {row['full_x_realtime']:6.0f}")
    result["speed"] = rows

    compare = COMPARE.get(gen.family)
    if args.stock:
        print("\nnumpy runtime vs torch: skipped (--stock: torch cannot be imported)")
    elif compare is None:
        print(f"\nnumpy runtime vs torch: no comparison for the {gen.family} family")
    else:
        cmp = compare(gen, resolve_weights(weights)[0], song(args.compare_minutes, sr), args.runs,
                      args.torch_threads)
        result["numpy_vs_torch"] = cmp
        print(f"\nnumpy runtime vs torch ({cmp['input']}, torch {cmp['torch_threads']} threads): numpy "
              f"{cmp['numpy_s']:.2f} s, torch {cmp['torch_s']:.2f} s, ratio {cmp['numpy_over_torch']:.2f}, "
              f"max |diff| {cmp['max_abs_diff']:.1e} (outputs up to {cmp['max_abs_output']:.2g})")

    track = song(args.seam_minutes, sr, args.stock)
    motion, plan = cold_motion(gen, track)
    if plan:
        seams = seam_report(motion, plan)
        print(f"\nseams ({seams['windows']} windows, {track.duration / 60:.1f} min): |Δvelocity| m/s "
              f"join p95 {seams['join']['p95']:.3f} max {seams['join']['max']:.3f} | "
              f"inside p95 {seams['inside']['p95']:.3f} max {seams['inside']['max']:.3f} | "
              f"p95 ratio {seams['p95_ratio']:.2f}, max ratio {seams['max_ratio']:.2f}")
    else:
        seams = None
        print(f"\nseams ({track.duration / 60:.1f} min): no windows (streaming decoder)")
    result["seams"] = seams
    part = part_vs_whole(gen, track, motion)
    result["part_vs_whole"] = part
    print(f"part {part['start_s']:.0f}–{part['start_s'] + part['seconds']:.0f} s vs the whole song's dance "
          f"there (turned and moved onto it): max {part['max_m'] * 100:.1f} cm, median "
          f"{part['median_m'] * 100:.1f} cm per frame")
    rng_ = corpus_energy_range(args.corpus) if os.path.exists(args.corpus) else None
    fr = freeze_report(motion, rng_)
    result["freeze"] = fr
    line = (f"freezing: {fr['windows']} stretches of 4 s, energy min {fr['min']:.3f} median "
            f"{fr['median']:.3f} max {fr['max']:.3f} m²/s²")
    if rng_:
        line += f"; corpus p1–p99 {rng_[0]:.3f}–{rng_[1]:.3f}: {fr['below']} below, {fr['above']} above"
    else:
        line += f" (no corpus at {args.corpus})"
    print(line + "\n")
    return result


def nearest_row(result: dict, minutes: float = 3.0) -> dict:
    return min(result["speed"], key=lambda r: abs(r["minutes"] - minutes))


def summary(result: dict, first: dict) -> str:
    """One line: the ~3-min song's speed and memory, the torch comparison, seams, freezing."""
    r = nearest_row(result)
    line = (f"{result['label']} ({result['family']}): {r['minutes']:.1f}-min song model "
            f"{r['model_x_realtime']:.0f}× real time")
    if abs(r["minutes"] - 3.0) < 0.5:
        met = "met" if r["model_x_realtime"] >= TARGET_X_REALTIME else "NOT met"
        line += f" (target ≥{TARGET_X_REALTIME:.0f}×: {met})"
    line += f", full pipeline {r['full_x_realtime']:.0f}×, peak {r['peak_mb']:.0f} MB"
    if result is not first:
        f = nearest_row(first)
        line += (f"; model time {r['model_s'] / f['model_s']:.2f}× and peak "
                 f"{r['peak_mb'] / f['peak_mb']:.2f}× {first['label']}'s")
    cmp = result.get("numpy_vs_torch")
    if cmp:
        line += f"; numpy/torch time {cmp['numpy_over_torch']:.2f}, max |diff| {cmp['max_abs_diff']:.1e}"
    s = result["seams"]
    line += f"; seams p95 ratio {s['p95_ratio']:.2f}" if s else "; no windows"
    fr = result["freeze"]
    if "below" in fr:
        line += f"; {fr['below']}/{fr['windows']} 4-s stretches below the corpus"
    return line


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", help="weights files or shipped names, comma-separated (default: default)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--minutes", default="1,3,10")
    ap.add_argument("--compare-minutes", type=float, default=3.0, help="song of the numpy vs torch comparison")
    ap.add_argument("--seam-minutes", type=float, default=5.0)
    ap.add_argument("--corpus", default=str(REPO / "out" / "corpus.npz"))
    ap.add_argument("--torch-threads", type=int, default=0,
                    help="torch's threads in the numpy vs torch comparison (0: torch's default; 1 on a busy machine)")
    ap.add_argument("--stock", action="store_true", help="torch, scipy, librosa, soundfile unimportable")
    ap.add_argument("--json", metavar="OUT")
    args = ap.parse_args(argv)
    if args.stock:
        block_stock_imports()
    names = [w.strip() for w in args.weights.split(",") if w.strip()] if args.weights else [None]
    print(f"CPU cores: {os.cpu_count()}; runs: {args.runs}" + ("; stock (numpy only)" if args.stock else "") + "\n")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            results.append(bench_weights(name, args, tmp))
    print("summary:")
    for r in results:
        print("  " + summary(r, results[0]))
    if args.json:
        from choreo.core.fileio import atomic_path

        out = {"cpu_count": os.cpu_count(), "runs": args.runs, "stock": args.stock, "results": results}
        with atomic_path(args.json, suffix=".json") as tmp, open(tmp, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=1)
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
