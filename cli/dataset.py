"""``choreo dataset``: build the paired music–dance corpus, or print the figures of a built one."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..core.data import corpus as cp
from ..core.progress import cli_bar

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("dataset", help="build or inspect the paired music–dance corpus")
    sub = parser.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)

    b = sub.add_parser("build", help="pair mocap takes with music tracks, warped onto the beats")
    b.add_argument("--mocap", type=Path, default=None,
                   help="folder of BVH takes (default: ../shared/data/mocap/cmu, or none with --videos)")
    b.add_argument("--music", type=Path, default=None,
                   help="folder of tracks (+ NAME.json beat grids) (default: ../shared/data/music, or none with --videos)")
    b.add_argument("--videos", type=Path, default=None, metavar="DIR",
                   help="folder of clips of one dancer each: lifted to 3D takes, their sound tracks as music "
                        "(docs/corpus.md#your-own-videos)")
    b.add_argument("--fov", type=float, default=None, metavar="DEG",
                   help="with --videos: the cameras' horizontal field of view (default: 60)")
    b.add_argument("--out", type=Path, required=True, help="corpus .npz to write")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--takes", nargs="+", metavar="TAKE",
                   help="take names (file stems); default: the dance takes of descriptions.csv")
    b.add_argument("--tracks", nargs="+", metavar="TRACK", help="track names; default: all in --music")
    b.add_argument("--val-takes", nargs="*", metavar="TAKE",
                   help="takes held out for validation (default: " + " ".join(cp.DEFAULT_VAL_TAKES) + " on "
                        "Choreo's data, else about 15 %% of your takes, spread through them by name; "
                        "none given: hold none out)")
    b.add_argument("--val-tracks", nargs="*", metavar="TRACK",
                   help="tracks held out for validation (default: " + " ".join(cp.DEFAULT_VAL_TRACKS) + " on "
                        "Choreo's data, else about 15 %% of your tracks)")
    b.add_argument("--segment-seconds", type=float, default=cp.BuildParams.segment_seconds,
                   help="target length of a music window, rounded to whole bars (default: %(default)s)")
    b.add_argument("--min-ratio", type=float, default=cp.BuildParams.min_ratio, help="slowest local warp")
    b.add_argument("--max-ratio", type=float, default=cp.BuildParams.max_ratio, help="fastest local warp")
    b.add_argument("--no-mirror", action="store_true", help="skip the mirrored copy of every pair")
    b.add_argument("--no-features", action="store_true", help="do not store per-frame music features")
    b.set_defaults(func=run_build)

    i = sub.add_parser("info", help="print the figures of a built corpus")
    i.add_argument("corpus", type=Path)
    i.set_defaults(func=run_info)


def format_summary(s: dict) -> str:
    """The report printed by ``build`` and ``info``."""
    lines = [
        f"dance: {s['source_minutes']:.2f} min of source takes -> {s['paired_minutes']:.2f} min paired "
        f"({s['paired_minutes_with_mirrors']:.2f} min with mirrors)",
        f"pairs: {s['pairs']['train']} train, {s['pairs']['val']} val (mirrored copies included; "
        f"{s['unmirrored_pairs']['train']} + {s['unmirrored_pairs']['val']} without)",
        f"split: val takes {' '.join(s['takes']['val']) or '-'}; val tracks {' '.join(s['tracks']['val']) or '-'}; "
        f"train {len(s['takes']['train'])} takes x {len(s['tracks']['train'])} tracks",
    ]
    if s["warp_mean_percentiles"]:
        pct = "  ".join(f"p{k}={v:.3f}" for k, v in s["warp_mean_percentiles"].items())
        lo, hi = s["warp_local_range"]
        lines.append(f"warp ratio per pair (mean): {pct}; local range {lo:.3f}-{hi:.3f}")
    lines.append(f"beat alignment, Bailando BAS (mean over music beats, sigma 50 ms): "
                 f"warped {s['bas']['warped']:.3f} vs unwarped {s['bas']['unwarped']:.3f}")
    lines.append(f"music beats with a kinematic beat within +-70 ms: "
                 f"warped {100 * s['hit']['warped']:.1f}% vs unwarped {100 * s['hit']['unwarped']:.1f}%")
    feats = (f"{s['features']} columns, stored once per music window ({s.get('feature_windows', 0)} windows)"
             if s["features"] else "none")
    lines.append(f"music features: {feats}")
    return "\n".join(lines)


def run_build(args: argparse.Namespace) -> int:
    params = cp.BuildParams(seed=args.seed, takes=args.takes, val_takes=args.val_takes,
                            val_tracks=args.val_tracks, segment_seconds=args.segment_seconds,
                            min_ratio=args.min_ratio, max_ratio=args.max_ratio, mirror=not args.no_mirror,
                            features=not args.no_features)
    if args.fov is not None and args.videos is None:
        from ..core.errors import ChoreoInputError

        raise ChoreoInputError("--fov", "is for --videos (the cameras that filmed them)")
    t0 = time.perf_counter()
    with cli_bar("building corpus") as bar:
        if args.videos is None:
            corpus = cp.build_corpus(args.mocap or SHARED / "mocap" / "cmu", args.music or SHARED / "music",
                                     args.out, params, tracks=args.tracks, progress=bar)
            lifted = []
        else:
            corpus, lifted = _build_with_videos(args, params, bar)
    elapsed = time.perf_counter() - t0
    print(f"wrote {args.out} in {elapsed:.1f} s")
    for line in lifted:
        print(line)
    for path, problem in corpus.params.get("skipped", []):
        print(f"skipped {path}: {problem}")
    chosen = [w for w, given in (("takes", args.val_takes), ("tracks", args.val_tracks)) if given is None]
    if chosen:
        print(f"held out (chosen, not named): {' and '.join(chosen)} as listed under split below")
    print(format_summary(corpus.summary()))
    return 0


def _build_with_videos(args: argparse.Namespace, params: cp.BuildParams, bar) -> tuple[cp.Corpus, list[str]]:
    """The corpus of the clips in ``--videos`` (lifted, their sound as tracks) with the takes of
    ``--mocap`` and the tracks of ``--music`` where given; (corpus, lines saying what was lifted)."""
    import tempfile
    from dataclasses import replace

    from ..core.data.videos import find_videos, link, stage_videos
    from ..core.errors import ChoreoInputError
    from ..core.fileio import check_output
    from ..core.progress import scaled

    check_output(args.out)  # before minutes of lifting
    clips = find_videos(args.videos)
    with tempfile.TemporaryDirectory(prefix="choreo-videos-") as tmp:
        mocap_dir, music_dir = Path(tmp) / "mocap", Path(tmp) / "music"
        mocap_dir.mkdir()
        music_dir.mkdir()
        names = []
        for name, path in cp.find_takes(args.mocap, args.takes) if args.mocap else []:
            link(path, mocap_dir / f"{name}.bvh")
            names.append(name)
        tracks = []
        for f in cp.find_tracks(args.music, args.tracks) if args.music else []:
            link(f, music_dir / f.name)
            if f.with_suffix(".json").is_file():
                link(f.with_suffix(".json"), music_dir / f.with_suffix(".json").name)
            tracks.append(f.stem)
        clash = sorted({c.stem for c in clips} & (set(names) | set(tracks)))
        if clash:
            raise ChoreoInputError(args.videos, f"clip names clash with takes or tracks: {', '.join(clash)}")
        takes, sounds, skipped = stage_videos(clips, mocap_dir, music_dir, fov_deg=args.fov,
                                              progress=scaled(bar, 0.0, 0.6))
        lines = [f"skipped {c}: {why}" for c, why in skipped]
        if not takes:
            raise ChoreoInputError(args.videos, "no clip could be lifted: " + "; ".join(
                f"{Path(c).name}: {why}" for c, why in skipped[:3]))
        if not (tracks or sounds):
            raise ChoreoInputError(args.videos, "no music: the clips have no sound; give --music")
        lines.insert(0, f"lifted {len(takes)} of {len(clips)} clips into takes ({', '.join(takes)}); "
                        f"{len(sounds)} with their own sound as tracks")
        corpus = cp.build_corpus(mocap_dir, music_dir, args.out, replace(params, takes=names + takes),
                                 progress=scaled(bar, 0.6, 1.0))
    return corpus, lines


def run_info(args: argparse.Namespace) -> int:
    corpus = cp.Corpus.load(args.corpus)
    print(f"{args.corpus}: format {int(corpus.arrays['format_version'])}, {len(corpus)} pairs at {corpus.fps:g} fps, "
          f"seed {corpus.params.get('seed')}")
    print(format_summary(corpus.summary()))
    return 0
