"""``choreo generate SONG -o OUT``: a dance for a song, as .npz, .bvh or a ready .blend.

A 2D model (``--weights ren_2d``, Ren et al.'s OpenPose-18 front-view setting)
writes a folder of OpenPose JSON frames (OUT without a suffix) or an .npz of
the keypoints; it has no 3D motion for .bvh/.blend.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..core.errors import ChoreoInputError
from ..core.progress import cli_bar, scaled

OUTPUTS = (".npz", ".bvh", ".blend")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "generate", help="generate a dance for a song",
        description="Generate a dance for SONG with the trained generator and write it to OUT: "
                    ".npz (the dance: motion + beats, sections, settings), .bvh (motion only) "
                    "or .blend (a scene with rig, keys, markers, music).")
    p.add_argument("song", metavar="SONG", help="audio file (wav, flac, ogg, mp3, aiff)")
    p.add_argument("--beats", metavar="FILE", help="beat grid JSON (beats, downbeats, meter, bpm; seconds into "
                                                   "SONG) used instead of beat tracking")
    p.add_argument("-o", "--out", required=True, metavar="OUT",
                   help="output .npz, .bvh or .blend; with a 2D model a folder (OpenPose JSON per frame) "
                        "or .npz (the keypoints)")
    p.add_argument("--bvh", metavar="FILE", help="also write the motion as BVH")
    p.add_argument("--seed", type=int, default=0, help="variation seed (same seed, same dance; default 0)")
    p.add_argument("--energy", type=float, default=1.0,
                   help="energy multiplier, 0.1–10 (1 = the training dances' typical energy)")
    p.add_argument("--start", type=float, metavar="S", help="start at S seconds into the song")
    p.add_argument("--end", type=float, metavar="E", help="end at E seconds into the song")
    p.add_argument("--weights", metavar="FILE", help="generator weights (.safetensors) or a shipped "
                                                     "name (default: the shipped 'default')")
    p.add_argument("--rig", metavar="RIG", help=".blend/.fbx rig to dance (with a .blend OUT)")
    p.add_argument("--render", metavar="MP4", help="also render a preview MP4 (with a .blend OUT)")
    p.add_argument("--key-mode", choices=("beats", "dense"), default="beats",
                   help="keys on beats and extremes (default) or on every frame (with a .blend OUT)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..core.audio.grid import read_beat_grid
    from ..core.formats import save_motion
    from ..core.generation import generate_dance, load_generator, save_dance

    out = Path(args.out)
    ext = out.suffix.lower()
    if ext and ext not in OUTPUTS:
        raise ChoreoInputError(out, f"output must end in {', '.join(OUTPUTS)} (or be a folder, for 2D models)")
    if ext != ".blend" and (args.rig or args.render):
        raise ChoreoInputError(out, "--rig and --render need a .blend output")
    if args.bvh and Path(args.bvh).suffix.lower() != ".bvh":
        raise ChoreoInputError(args.bvh, "--bvh file must end in .bvh")
    runtime, model = load_generator(args.weights)  # fail fast on bad weights; cached for generation
    grid = read_beat_grid(args.beats) if args.beats else None  # and on a bad grid
    if runtime.cfg.mode == "2d":
        return _run_2d(args, out, ext, model, grid)
    if not ext:
        raise ChoreoInputError(out, f"output must end in {', '.join(OUTPUTS)}; a folder of OpenPose JSON "
                                    f"is for 2D models (--weights ren_2d)")
    t0 = time.perf_counter()
    written = []
    with cli_bar("generate") as bar:
        dance = generate_dance(args.song, weights=args.weights, seed=args.seed, energy=args.energy,
                               start=args.start, end=args.end, beat_grid=grid,
                               progress=scaled(bar, 0.0, 0.5 if ext == ".blend" else 0.95))
        if ext == ".npz":
            save_dance(dance, out)
        elif ext == ".bvh":
            save_motion(dance.motion, out)
        written.append(str(out))
        if args.bvh:
            save_motion(dance.motion, args.bvh)
            written.append(args.bvh)
        if ext == ".blend":
            try:
                from ..rigs.scene import write_dance_blend
            except ImportError as exc:
                raise ChoreoInputError(out, f"writing .blend needs Blender's bpy module ({exc})") from None
            result = write_dance_blend(dance, out, rig_path=args.rig, render_path=args.render,
                                       key_mode=args.key_mode, progress=scaled(bar, 0.5, 1.0))
            if isinstance(result, dict) and result.get("mp4"):
                written.append(str(result["mp4"]))
    seconds = time.perf_counter() - t0
    for path in written:
        print(f"wrote {path}")
    tempo = f"{dance.tempo:.1f} BPM" if dance.tempo > 0 else "no beat grid (clip too short)"
    print(f"dance {dance.duration:.1f} s from {dance.audio_start:.1f} s, {tempo}, {len(dance.beats)} beats, "
          f"{len(dance.sections)} sections, seed {dance.seed}, energy {dance.energy:g}, "
          f"model {dance.model}; took {seconds:.1f} s")
    return 0


def _run_2d(args, out: Path, ext: str, model: str, grid) -> int:
    """A 2D model: OpenPose JSON frames (folder OUT) or the keypoints (.npz)."""
    from ..core.generation import generate_pose2d, save_dance2d
    from ..core.generation.dance2d import write_openpose_dir

    if ext in (".bvh", ".blend") or args.bvh:
        raise ChoreoInputError(args.bvh or out, f"{model} is a 2D model (OpenPose-18 front view): it makes no 3D "
                                                f"motion for .bvh/.blend; write a folder (OpenPose JSON) or .npz")
    t0 = time.perf_counter()
    with cli_bar("generate 2D") as bar:
        dance = generate_pose2d(args.song, weights=args.weights, seed=args.seed, energy=args.energy,
                                start=args.start, end=args.end, beat_grid=grid,
                                progress=scaled(bar, 0.0, 0.95))
        if ext == ".npz":
            save_dance2d(dance, out)
            written = f"wrote {out}"
        else:
            frames = write_openpose_dir(dance, out)
            written = f"wrote {len(frames)} OpenPose frames to {out}"
    seconds = time.perf_counter() - t0
    print(written)
    tempo = f"{dance.tempo:.1f} BPM" if dance.tempo > 0 else "no beat grid (clip too short)"
    print(f"2D dance {dance.duration:.1f} s from {dance.audio_start:.1f} s, {tempo}, {len(dance.beats)} beats, "
          f"{len(dance.sections)} sections, seed {dance.seed}, energy {dance.energy:g}, "
          f"model {dance.model}; took {seconds:.1f} s")
    return 0
