"""``choreo bench``: every metric for the baselines and every generator on the held-out windows."""

from __future__ import annotations

import copy
import importlib.util
import time
from pathlib import Path

import numpy as np

from ..core.errors import ChoreoInputError
from ..core.progress import cli_bar, report, scaled

REPO = Path(__file__).resolve().parent.parent
SHARED_MUSIC = REPO.parent / "shared" / "data" / "music"
_ALIASES = {"gt": "GT", "ground_truth": "GT", "rand_frame": "Rand Frame", "rand_seq": "Rand Seq",
            "frozen": "Frozen"}
QUICK = {"windows": 8, "longterm_s": 8.0, "longterm_tracks": 2, "seeds": 2}
#: The long-term curve's real-dance level: random 4-s stretches of the training dances.
GT_LEVEL = "GT level (real 4-s stretches)"
DEFAULT = {"windows": None, "longterm_s": 180.0, "longterm_tracks": 4, "seeds": 3}


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "bench", help="benchmark the generators and baselines on the held-out music",
        description="Evaluate GT, Rand Frame, Rand Seq, Frozen and every generator weights file present "
                    "(shipped + out/train) on the corpus's held-out (val) music windows with every "
                    "metric; long-term FID_k, frozen windows and multimodality over 3-minute medleys of the "
                    "held-out tracks; speed and memory per generator.")
    p.add_argument("--quick", action="store_true", help="few windows, short long-term clips (a smoke test)")
    p.add_argument("--json", metavar="OUT", help="also write the results JSON here")
    p.add_argument("--out", default="out/bench", metavar="DIR", help="folder for table.md, bench.json, PNGs")
    p.add_argument("--methods", nargs="+", metavar="NAME",
                   help="methods to run: GT, rand_frame, rand_seq, frozen, shipped weights names, "
                        ".safetensors files (default: all baselines + every generator found)")
    p.add_argument("--corpus", default="out/corpus.npz", help="paired corpus (default out/corpus.npz)")
    p.add_argument("--music", type=Path, default=SHARED_MUSIC, help="folder of the corpus's tracks")
    p.add_argument("--crossmodal", metavar="FILE", help="cross-modal weights (default: shipped)")
    p.add_argument("--seed", type=int, default=0, help="seed of the baselines and generators")
    p.add_argument("--no-rigs", action="store_true",
                   help="skip the figures on the default mannequin rig (they need Blender's bpy module)")
    p.set_defaults(func=run)


# -- methods -------------------------------------------------------------------

def _generator(path: Path):
    """The generator in ``path`` (any family), or None for other or broken weights."""
    from ..core.generation import load_generator

    try:
        return load_generator(path)[0]
    except ChoreoInputError:
        return None


def discover_generators(train_dir: Path = Path("out/train")) -> list[tuple[str, Path]]:
    """(name, file) of every generator present: shipped (registry) ones first, then
    ``train_dir/*.safetensors`` by file name (Ren's as ``ren_<stem>``); the same file (sha256) once."""
    from ..core.models.representation import SMPL24
    from ..core.models.weights import WEIGHTS_DIR, registry, sha256_file

    found, seen = [], set()
    cands = [(n, WEIGHTS_DIR / e["file"]) for n, e in sorted(registry().items(), key=lambda x: x[0] != "default")]
    cands += [(None, p) for p in sorted(train_dir.glob("*.safetensors"))]
    for name, path in cands:
        gen = _generator(path) if path.is_file() else None
        if gen is None or gen.output != SMPL24:  # 2D models: no SMPL-24 motion
            continue
        name = name or (f"ren_{path.stem}" if gen.family == "ren" else path.stem)
        digest = sha256_file(path)
        if digest not in seen and name not in {n for n, _ in found}:
            seen.add(digest)
            found.append((name, path))
    return found


def variants(name: str, path: Path) -> list[tuple[str, Path, dict]]:
    """The runs of one generator: its family's :attr:`~choreo.core.generation.families.Family.variants`
    (the family with its bench options, then its ablations), else the weights as they are."""
    from ..core.generation.families import get_family

    fam = get_family(_generator(path).family)
    runs = fam.variants() if fam.variants is not None else (("", {}),)
    return [(name + suffix, path, dict(options)) for suffix, options in runs]


def resolve_methods(names: list[str] | None) -> list[tuple[str, Path | None, dict]]:
    """(method, weights file or None for a baseline, family options) in table order. A
    generator given by name runs with its family's variants; ``NAME_SUFFIX`` runs one variant."""
    from ..core.metrics.baselines import BASELINES
    from ..core.models.weights import registry, shipped_path

    if not names:
        return [(b, None, {}) for b in BASELINES] + [v for n, p in discover_generators() for v in variants(n, p)]
    out = []
    for n in names:
        key = n.strip().lower().replace(" ", "_").replace("-", "_")
        base = next((r for r in sorted(registry(), key=len, reverse=True) if n.startswith(r + "_")), None)
        if key in _ALIASES:
            out.append((_ALIASES[key], None, {}))
        elif n in registry():
            if _generator(shipped_path(n)) is None:
                raise ChoreoInputError(n, "shipped weights are not a dance generator")
            out += variants(n, shipped_path(n))
        elif base is not None and _generator(shipped_path(base)) is not None and \
                any(v[0] == n for v in variants(base, shipped_path(base))):
            out += [v for v in variants(base, shipped_path(base)) if v[0] == n]
        elif Path(n).is_file():
            if _generator(Path(n)) is None:
                raise ChoreoInputError(n, "not generator weights")
            out.append((Path(n).stem, Path(n), {}))
        else:
            raise ChoreoInputError(n, "unknown method: not a baseline (GT, rand_frame, rand_seq, frozen), "
                                      "a shipped weights name (or NAME_VARIANT) or a weights file")
    return out


def _track_audio(music_dir: Path, track: str) -> Path:
    from ..core.data.corpus import AUDIO_EXTS

    for ext in AUDIO_EXTS:
        if (music_dir / f"{track}{ext}").is_file():
            return music_dir / f"{track}{ext}"
    raise ChoreoInputError(music_dir, f"no audio for track {track!r} (needed to generate); pass --music DIR")


# -- run ---------------------------------------------------------------------------

def _shown(path) -> str:
    """``path`` relative to the repository when inside it: bench.json is recorded in the
    repository (benchmarks/figures.py) and must not carry this machine's folders."""
    try:
        return Path(path).resolve().relative_to(REPO).as_posix()
    except ValueError:
        return str(path)


def run_bench(corpus_path, music_dir, out_dir, methods=None, quick=False, seed=0, crossmodal=None,
              progress=None, json_path=None, rigs: bool = True) -> dict:
    """Run the benchmark; writes ``table.md``, ``bench.json``, ``longterm.png`` and
    ``metrics.png`` to ``out_dir`` (and the results JSON to ``json_path``), all of
    them or, on a failure or an interrupt, none, and returns the results dict."""
    from ..core.data.corpus import Corpus
    from ..core.fileio import atomic_paths, sha256_file
    from ..core.metrics import baselines as BL
    from ..core.metrics import longterm as LT
    from ..core.metrics import report as R
    from ..core.metrics.crossmodal import CrossModalMetric
    from ..core.metrics.suite import evaluate_set, set_features

    t_start = time.perf_counter()
    s = QUICK if quick else DEFAULT
    out_dir = Path(out_dir)
    if not Path(corpus_path).exists():  # the usual first run: say how to make one
        raise ChoreoInputError(corpus_path, f"corpus not found; build it with `make corpus` or `choreo dataset "
                                            f"build --mocap DIR --music DIR --out {corpus_path}`")
    plan = resolve_methods(methods)
    corpus = Corpus.load(corpus_path)
    fps = corpus.fps
    report(progress, 0.0, "windows")
    windows = BL.eval_windows(corpus, "val", s["windows"])
    if len(windows) < 2:
        raise ChoreoInputError(corpus_path, "need at least 2 held-out (val) windows to benchmark")
    train = BL.training_motions(corpus)
    train_items = [(p.motion, p.beats) for p in corpus.pairs("train")]
    report(progress, 0.02, "reference features")
    ref_feats = set_features(train_items)
    metric = (CrossModalMetric.load(crossmodal)).fit_corpus(corpus, "train")
    ren_metric = copy.copy(metric)  # Ren's exact form (1 neighbour), same dictionary: docs/bench.md
    ren_metric.neighbours = 1
    if any(w.features is None for w in windows):
        raise ChoreoInputError(corpus_path, "corpus has no music features; rebuild it without --no-features")
    # long-term: medleys of the val tracks (each in turn first), `longterm_s` long, `seeds` seeds each
    val_tracks = sorted({w.track for w in BL.eval_windows(corpus, "val")})[: s["longterm_tracks"]]
    gens = [(n, p) for n, p, _ in plan if p is not None]
    lt_jobs = LT.medley_jobs([_track_audio(music_dir, t) for t in val_tracks], s["longterm_s"],
                             range(seed, seed + s["seeds"])) if gens else []
    lt_ref = [w.motion.seconds(0, LT.WINDOW_SECONDS) for w in BL.eval_windows(corpus, "val")
              if w.motion.duration >= LT.WINDOW_SECONDS]
    from ..core.metrics.kinetic import kinetic_features

    lt_ref_k = np.stack([kinetic_features(m) for m in lt_ref]) if len(lt_ref) >= 2 else None

    rows, curves, lt_rows = [], {}, []
    from ..core.generation.windows import corpus_energy_range

    energy_range = corpus_energy_range(corpus)
    rig = _rig_figures if rigs and importlib.util.find_spec("bpy") is not None else None
    body_rows, music_dances = _reference_body_rows(corpus, music_dir, windows, rig), {}
    lt_audio = _job_audio(lt_jobs)
    n = len(plan)
    for i, (name, path, options) in enumerate(plan):
        step = scaled(progress, 0.05 + 0.9 * i / n, 0.05 + 0.9 * (i + 1) / n)
        report(step, 0.0, name)
        resources = None
        if path is None:
            motions = BL.baseline_motions(name, windows, train, seed)
        else:
            tracks = sorted({w.track for w in windows})
            jobs = [{"audio": str(_track_audio(music_dir, t)), "start": 0.0, "duration": None, "seed": seed}
                    for t in tracks] + lt_jobs
            gen, resources = LT.run_generator(path, jobs, fps, options=options)
            joins = resources.pop("joins")[:len(tracks)]
            by_track = dict(zip(tracks, gen))
            motions = []
            for w in windows:
                m = by_track[w.track]
                a = int(round(w.music_start * fps))
                idx = np.minimum(np.arange(a, a + w.frames), m.num_frames - 1)
                motions.append(type(m)(m.joints[idx], fps))
            if lt_ref_k is not None and lt_jobs:
                curves[name] = LT.windowed_fid(gen[len(tracks):], lt_ref_k)
            if lt_jobs:
                from ..core.metrics.body_report import body_row

                dances = {}
                for job, m in zip(lt_jobs, gen[len(tracks):]):
                    dances.setdefault(LT.job_song(job), {})[job["seed"]] = m
                body_rows.append(body_row(name, gen[len(tracks):], lt_audio, dances, rig))
                music_dances[name] = dances
                if name in curves:
                    lt_rows.append(LT.longterm_row(name, dances, curves[name], ref_feats["kinetic"], energy_range))
            report(step, 0.5, f"{name}: metrics")
        items = [(m, w.beats) for m, w in zip(motions, windows)]
        scores = evaluate_set(items, train_items, ref_features=ref_feats)
        scores["crossmodal"] = metric.score_set(motions, [w.features for w in windows], fps)
        scores["crossmodal_1"] = ren_metric.score_set(motions, [w.features for w in windows], fps)
        row = {"method": name, "kind": "baseline" if path is None else "generator",
               "weights": None if path is None else _shown(path), "metrics": scores, "resources": resources,
               "danceit": _danceit_forms(motions, gen[:len(tracks)] if path is not None else [],
                                         joins if path is not None else [])}
        if options:
            row["options"] = {k: _shown(v) if k == "library" else v for k, v in options.items()}
        rows.append(row)
    if curves and lt_ref_k is not None:  # the real-dance level: random 4-s stretches of training dances
        from ..core.metrics.fid import fid

        rng = np.random.default_rng([seed, 3])
        k_win = len(next(iter(curves.values())))
        level, real = [], {}
        for k in range(k_win):
            crops = []
            for j in range(len(lt_jobs)):
                m = train[int(rng.integers(len(train)))]
                a = int(rng.integers(max(1, m.num_frames - int(LT.WINDOW_SECONDS * fps) + 1)))
                crops.append(m.frames(a, a + int(LT.WINDOW_SECONDS * fps)))
                real[f"stretch {k}.{j}"] = {0: crops[-1]}
            level.append(fid(np.stack([kinetic_features(c) for c in crops]), lt_ref_k))
        curves[GT_LEVEL] = np.array(level)
        lt_rows.insert(0, LT.longterm_row(GT_LEVEL, real, level, ref_feats["kinetic"], energy_range))
    report(progress, 0.96, "writing")
    frames = np.array([w.frames for w in windows])
    result = {
        "protocol": {
            "corpus": _shown(corpus_path), "corpus_sha256": sha256_file(corpus_path),
            "split": "val", "windows": len(windows),
            "tracks": sorted({w.track for w in windows}), "fps": fps,
            "clip_seconds": {"min": float(frames.min() / fps), "median": float(np.median(frames) / fps),
                             "max": float(frames.max() / fps)},
            "reference_set": f"train split, {len(train_items)} pairs incl. mirrors (FID, Div, MDD)",
            "variants": {"BAS": "BAS_bailando = Bailando (mean over music beats, σ 50 ms); BAS_fact = FACT",
                         "FID_k": "correct acceleration (reference quirk off), normalised by the reference set",
                         "crossmodal": f"{_shown(metric.name)}, dictionary = {metric.dictionary_size} train music "
                                       f"windows, closest dance of the {metric.neighbours} nearest; "
                                       "crossmodal_1 (JSON only): of the nearest, Ren's exact form"},
            "generation": "whole val track generated once per generator (seed), window frames cut out",
            "longterm": {"seconds": s["longterm_s"], "window_s": LT.WINDOW_SECONDS, "tracks": val_tracks,
                         "songs": sorted({LT.job_song(j) for j in lt_jobs}),
                         "seeds": s["seeds"], "reference": f"first 4 s of {len(lt_ref)} val pairs",
                         "frozen": "4-s windows whose motion energy is below the train dances' p1",
                         "multimodality_k": "mean Div_k-normalised kinetic distance between seeds, "
                                            "same song and window"},
            "resources": "per generator, fresh subprocess: peak RSS = ru_maxrss; speed = model part, 1 thread",
            "seed": seed, "quick": bool(quick),
        },
        "rows": rows,
        "longterm": {"window_s": LT.WINDOW_SECONDS, "fid_k": curves, "rows": lt_rows,
                     "energy_range": list(energy_range)},
        "seconds": time.perf_counter() - t_start,
    }
    from ..core.metrics import body_report as BR

    result["body"] = {"rows": body_rows, "longterm_jobs": "first {:g} s of medleys of {} (each in turn first) "
                      "× seeds {}".format(s["longterm_s"], ", ".join(val_tracks), list(range(seed, seed + s["seeds"]))),
        "gt": "val windows (whole-take dances warped onto the unseen tracks)",
        "reference": "train pairs (the CMU dances, warped onto the train tracks)"}
    table = R.markdown_table(rows) + "\n" + R.markdown_danceit_table(rows) + "\n" + BR.markdown_body_table(body_rows) \
        + ("\n" + LT.markdown_longterm_table(lt_rows, s["longterm_s"]) if lt_rows else "")
    shown = next(iter(music_dances), None)
    names = ["table.md", "bench.json", "metrics.png"] + (["longterm.png"] if curves else []) \
        + (["music.png"] if shown else [])
    targets = [out_dir / n for n in names] + ([json_path] if json_path else [])
    with atomic_paths(targets) as tmp:
        R.write_text(tmp[0], table + "\n" + R.variants_note() + BR.body_note())
        R.write_json(tmp[1], result)
        R.plot_metrics(rows, tmp[2])
        if curves:
            from ..core.generation.families import all_families

            LT.plot_curves(curves, tmp[3], highlight=[f.shipped for f in all_families()] + [GT_LEVEL])
        if shown:
            BR.plot_music(music_dances[shown], _levels(lt_jobs, lt_audio), tmp[names.index("music.png")], shown)
        if json_path:
            R.write_json(tmp[-1], result)
    result["table"] = table
    report(progress, 1.0, "done")
    return result


def _danceit_forms(motions, whole, joins) -> dict:
    """DanceIt's Table II (hand / foot moving distribution, %, on the val windows) and, for a
    dance assembled from fragments, its join figure on the whole val tracks: p95 velocity
    change at the joins over p95 inside fragments, at the cut (±1 frame) and over the
    spatial-alignment window (±5 frames), median over the tracks."""
    from ..core.generation.windows import seam_report
    from ..core.metrics.danceit import moving_distribution

    out = {"hand_pct": moving_distribution(motions, "hand").tolist(),
           "foot_pct": moving_distribution(motions, "foot").tolist()}
    plans = [(m, [(0, j[0])] + list(zip(j, j[1:])) + [(j[-1], m.num_frames)]) for m, j in zip(whole, joins) if j]
    if plans:
        out["joins"] = int(sum(len(p) - 1 for _, p in plans))
        for reach in (1, 5):
            out[f"join_p95_ratio_{reach}"] = float(np.median([seam_report(m, p, reach)["p95_ratio"] for m, p in plans]))
    return out


def _job_audio(jobs) -> list[tuple[np.ndarray, int]]:
    """(samples from the job's start, rate) of each long-term job, each song read once."""
    from ..core.metrics.longterm import job_audio, job_song

    cache, out = {}, []
    for job in jobs:
        key = (job_song(job), job["start"], job["duration"])
        if key not in cache:
            cache[key] = job_audio(job, 22050)
        out.append(cache[key])
    return out


def _levels(jobs, audio) -> dict[str, np.ndarray]:
    """The song level (dB, 1/30-s frames, smoothed 1 s) of each job's song, for the plot."""
    from ..core.models.conditioning import loudness_curve

    from ..core.metrics.longterm import job_song

    songs = {job_song(j): a for j, a in zip(jobs, audio)}  # one per song, not per seed
    return {name: loudness_curve(y, sr, 30.0, int(len(y) / sr * 30)) for name, (y, sr) in songs.items()}


def _rig_figures(motion) -> dict:
    """``rig_*`` figures of ``motion`` (its first 20 s) on the default mannequin rig, in Blender."""
    from ..rigs.quiet import quiet_blender

    with quiet_blender():
        import bpy

        from ..rigs.armature import build_default_rig
        from ..rigs.floor import rig_floor_figures

        bpy.ops.wm.read_factory_settings(use_empty=True)
        arm = build_default_rig(collection=bpy.context.scene.collection, with_mesh=True)
        r = rig_floor_figures(motion.frames(0, int(20 * motion.fps)), arm)
        bpy.ops.wm.read_factory_settings(use_empty=True)
    on = r["contact_within_2cm"]
    return {"rig_below_floor_frac": r["below_1cm"], "rig_feet_on_floor_frac": float("nan") if on is None else on,
            "rig_joint_err_cm": r["mean_error_cm"]}


def _reference_body_rows(corpus, music_dir, windows, rig=None) -> list[dict]:
    """GT (the held-out windows) and the reference set (train pairs) in the body table."""
    from ..core.audio.io import load_audio
    from ..core.metrics.body_report import body_row
    from ..core.metrics.music_dependence import MIN_WINDOWS, WINDOW_S

    songs = {}

    def audio(track, start, seconds):
        if track not in songs:
            songs[track] = load_audio(_track_audio(music_dir, track), sr=22050)
        y, sr = songs[track]
        return y[int(start * sr):int((start + seconds) * sr) + 1], sr

    def row(name, clips):  # clips: (motion, track, music start); songs read only where r can be had
        long = any(m.duration >= MIN_WINDOWS * WINDOW_S for m, _, _ in clips)
        sound = [audio(t, s, m.duration) for m, t, s in clips] if long else None
        return body_row(name, [m for m, _, _ in clips], sound, rig=rig)

    train = [p for p in corpus.pairs("train") if not p.mirrored]
    return [row("GT", [(w.motion, w.track, w.music_start) for w in windows]),
            row("Reference (train)", [(p.motion, p.track, p.music_start) for p in train])]


def run(args) -> int:
    from ..core.fileio import check_output, check_output_dir

    check_output_dir(args.out)  # before the benchmark's minutes of work, not after
    if args.json:
        check_output(args.json)
    with cli_bar("bench") as bar:
        res = run_bench(args.corpus, args.music, args.out, args.methods, args.quick, args.seed,
                        args.crossmodal, progress=bar, json_path=args.json, rigs=not args.no_rigs)
    table = res.pop("table")
    p = res["protocol"]
    print(f"{p['windows']} held-out windows ({p['clip_seconds']['median']:.1f} s median) of "
          f"{', '.join(p['tracks'])}; reference: {p['reference_set']}")
    print(table, end="")
    print(f"wrote {Path(args.out) / 'table.md'}, bench.json, metrics.png"
          + (", longterm.png" if res["longterm"]["fid_k"] else "") + (f", {args.json}" if args.json else "")
          + f" in {res['seconds']:.0f} s")
    return 0
