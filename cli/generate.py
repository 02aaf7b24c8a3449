"""``choreo generate SONG -o OUT``: a dance for a song, as .npz, .bvh or a ready .blend.

A 2D model (``--weights ren_2d`` or ``dr_2d``, the papers' OpenPose-18 front-view setting)
writes a folder of OpenPose JSON frames (OUT without a suffix) or an .npz of
the keypoints; for .bvh/.blend its front view is lifted to 3D by the shipped lifter
(:func:`choreo.core.lift.lift_front_view`), so every family can key a rig.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

from ..core.batch.jobs import CAMERAS
from ..core.errors import ChoreoInputError
from ..core.fileio import atomic_paths, check_output, check_output_dir, check_outputs
from ..core.progress import cli_bar, scaled

OUTPUTS = (".npz", ".bvh", ".blend")
#: Options only a .blend OUT uses (argparse dest -> flag); given with another OUT they are refused.
BLEND_ONLY = {"rig": "--rig", "render": "--render", "key_mode": "--key-mode", "fps": "--fps",
              "armature": "--armature", "pack_audio": "--pack-audio", "camera": "--camera"}


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
    p.add_argument("--energy", type=float, default=None,
                   help="energy multiplier, 0.1–10 (1 = the training dances' typical energy; the default)")
    p.add_argument("--energy-curve", metavar="FILE",
                   help="energy over time instead of --energy: a CSV of seconds,multiplier lines or a JSON "
                        "list of [seconds, multiplier] pairs (seconds into SONG; linear in between)")
    p.add_argument("--turn", type=float, default=0.5, metavar="T",
                   help="how much of the generated sustained turning to keep, 0–1 (0 = faces the front; "
                        "default 0.5; net turning stays ≤ 4 turns/min)")
    p.add_argument("--travel", type=float, default=0.5, metavar="T",
                   help="how much of the generated travel to keep, 0–1 (0 = dances on the spot; default 0.5)")
    p.add_argument("--stage", type=float, default=4.0, metavar="M",
                   help="side of the square stage the dancer stays on, metres, 1–50 (default 4)")
    p.add_argument("--start", type=float, metavar="S", help="start at S seconds into the song")
    p.add_argument("--end", type=float, metavar="E", help="end at E seconds into the song")
    p.add_argument("--weights", metavar="FILE", help="generator weights (.safetensors) or a shipped "
                                                     "name (default: the shipped 'default')")
    p.add_argument("--library", metavar="DIR", help="motion library to assemble the dance from (--weights danceit; "
                                                    "default: your default library, else the shipped moves)")
    p.add_argument("--fragment-seconds", type=float, metavar="S",
                   help="length of each library move, rounded to whole beats (--weights danceit; default 2)")
    p.add_argument("--no-repeat-seconds", type=float, metavar="S",
                   help="a library move is not used again within S seconds (--weights danceit; default 30)")
    p.add_argument("--rig", metavar="RIG", help=".blend/.fbx rig to dance (with a .blend OUT)")
    p.add_argument("--render", metavar="MP4", help="also render a preview MP4 (with a .blend OUT)")
    p.add_argument("--camera", choices=CAMERAS,  # None: not given (refused with other OUTs)
                   help="the scene's camera: follows the dancer (default), frames the --stage square, or frames "
                        "all of the dance from one place (with a .blend OUT)")
    p.add_argument("--key-mode", choices=("beats", "poses", "dense"),  # None: not given (refused with other OUTs)
                   help="keys on beats and extremes within 2 cm (default), key poses (beats and needed "
                        "half-beats, eased handles) or every frame (with a .blend OUT)")
    p.add_argument("--fps", metavar="RATE", help="scene frame rate: 24, 25, 30 (default), 50, 60, 23.976 or "
                                                 "24000/1001 … (with a .blend OUT; a rig's own rate never "
                                                 "replaces it)")
    p.add_argument("--armature", metavar="NAME", help="the armature to dance when the --rig file holds several")
    p.add_argument("--pack-audio", action="store_true",
                   help="pack the song into the .blend, so it plays without the song file (with a .blend OUT)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..core.formats import save_motion
    from ..core.generation import generate_dance, load_generator, save_dance
    from ..core.models.representation import OPENPOSE18

    out = Path(args.out)
    ext = out.suffix.lower()
    if ext and ext not in OUTPUTS:
        raise ChoreoInputError(out, f"output must end in {', '.join(OUTPUTS)} (or be a folder, for 2D models)")
    _check_options(args, out, ext)
    options = _family_options(args)
    generator, model = load_generator(args.weights, options)  # fail fast on bad weights and options
    if generator.output == OPENPOSE18 and ext not in (".bvh", ".blend") and not args.bvh:
        return _run_2d(args, out, ext, model, _grid(args))  # keypoints; a .bvh/.blend is lifted to 3D below
    if not ext:
        raise ChoreoInputError(out, f"output must end in {', '.join(OUTPUTS)}; a folder of OpenPose JSON "
                                    f"is for 2D models (--weights ren_2d or dr_2d)")
    written = [p for p in (args.out, args.bvh, args.render) if p]
    check_outputs(written)  # writable, before any work
    grid = _grid(args)
    t0 = time.perf_counter()
    with cli_bar("generate") as bar:
        dance = generate_dance(args.song, weights=args.weights, seed=args.seed, energy=_energy(args),
                               start=args.start, end=args.end, beat_grid=grid, stage=_stage(args), options=options,
                               progress=scaled(bar, 0.0, 0.5 if ext == ".blend" else 0.95))
        # Every output goes to a temporary file beside it; all are renamed into place
        # only when all were written, so a failure or an interrupt replaces none.
        with atomic_paths(written) as temps:
            tmp = dict(zip(written, temps))
            if ext == ".npz":
                save_dance(dance, tmp[args.out])
            elif ext == ".bvh":
                save_motion(dance.motion, tmp[args.out])
            if args.bvh:
                save_motion(dance.motion, tmp[args.bvh])
            if ext == ".blend":
                try:
                    from ..rigs.scene import write_dance_blend
                except ImportError as exc:
                    raise ChoreoInputError(out, f"writing .blend needs Blender's bpy module ({exc})") from None
                write_dance_blend(dance, tmp[args.out], rig_path=args.rig, render_path=tmp.get(args.render),
                                  key_mode=args.key_mode or "beats", fps=args.fps, armature=args.armature,
                                  pack_audio=args.pack_audio, camera=args.camera or "follow", stage_m=args.stage,
                                  progress=scaled(bar, 0.5, 1.0))
    seconds = time.perf_counter() - t0
    for path in written:
        print(f"wrote {path}")
    tempo = f"{dance.tempo:.1f} BPM" if dance.tempo > 0 else "no beat grid (clip too short)"
    print(f"dance {dance.duration:.1f} s from {dance.audio_start:.1f} s, {tempo}, {len(dance.beats)} beats, "
          f"{len(dance.sections)} sections, seed {dance.seed}, {_energy_text(dance)}, "
          f"model {dance.model}; took {seconds:.1f} s")
    return 0


def _family_options(args) -> dict:
    """The family options given (``--library``, ``--fragment-seconds``, ``--no-repeat-seconds``); a library folder
    that is not one is said before any work."""
    options = {"library": args.library, "fragment_seconds": args.fragment_seconds,
               "no_repeat_seconds": args.no_repeat_seconds}
    if args.library:
        from ..core.library import MotionLibrary

        MotionLibrary.open(args.library)
    return {k: v for k, v in options.items() if v is not None}


def _energy(args):
    """The energy to generate with: ``--energy-curve``'s :class:`EnergyCurve` (read and
    checked; a bad file is one error naming it), else ``--energy`` (default 1)."""
    from ..core.generation.energy import check_energy, read_energy_curve

    if args.energy_curve:
        if args.energy is not None:
            raise ChoreoInputError(args.energy_curve, "give --energy or --energy-curve, not both")
        return read_energy_curve(args.energy_curve)
    return check_energy(1.0 if args.energy is None else args.energy)


def _energy_text(dance) -> str:
    """``energy 1.5``, or for a curve ``energy curve 0.3–3 (mean 1.65)``."""
    c = dance.energy_curve
    if c is None:
        return f"energy {dance.energy:g}"
    return f"energy curve {c.values.min():g}–{c.values.max():g} (mean {dance.energy:.3g})"


def _stage(args):
    """The turn / travel / stage choices as a checked StagePlan."""
    from ..core.cleanup import StagePlan

    return StagePlan(args.turn, args.travel, args.stage).checked()


def _check_options(args, out: Path, ext: str) -> None:
    """Refuse, before any work, bad values, options that do not apply to OUT or files of the wrong kind."""
    from ..core.generation.pipeline import check_seed

    check_seed(args.seed)
    _energy(args)  # a bad --energy or --energy-curve file, before any work
    _stage(args)
    if ext == ".blend" and importlib.util.find_spec("bpy") is None:
        raise ChoreoInputError(out, "writing .blend needs Blender's bpy module (pip install bpy, or run "
                                    "inside Blender)")
    if ext != ".blend":
        for dest, flag in BLEND_ONLY.items():
            if getattr(args, dest, None) not in (None, False):
                raise ChoreoInputError(out, f"{flag} needs a .blend output")
    if args.bvh and Path(args.bvh).suffix.lower() != ".bvh":
        raise ChoreoInputError(args.bvh, "--bvh file must end in .bvh")
    if args.render and Path(args.render).suffix.lower() != ".mp4":
        raise ChoreoInputError(args.render, "--render file must end in .mp4")
    if args.fps is not None:
        from ..rigs.rates import scene_rate  # bpy-free

        scene_rate(args.fps)  # a bad rate fails before the dance is generated
    if args.armature and not args.rig:
        raise ChoreoInputError(args.armature, "--armature names an armature of --rig RIG; give --rig too")
    if args.rig:
        if Path(args.rig).suffix.lower() not in (".blend", ".fbx"):
            raise ChoreoInputError(args.rig, "--rig must be a .blend or .fbx file")
        if not Path(args.rig).is_file():
            raise ChoreoInputError(args.rig, "rig file not found")


def _grid(args):
    from ..core.audio.grid import read_beat_grid

    return read_beat_grid(args.beats) if args.beats else None  # a bad grid fails before the audio loads


def _run_2d(args, out: Path, ext: str, model: str, grid) -> int:
    """A 2D model: OpenPose JSON frames (folder OUT) or the keypoints (.npz)."""
    from ..core.generation import generate_pose2d, save_dance2d
    from ..core.generation.dance2d import write_openpose_dir

    if ext == ".npz":  # writable, before any work
        check_output(out)
    else:
        check_output_dir(out)
    t0 = time.perf_counter()
    with cli_bar("generate 2D") as bar:
        dance = generate_pose2d(args.song, weights=args.weights, seed=args.seed, energy=_energy(args),
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
          f"{len(dance.sections)} sections, seed {dance.seed}, {_energy_text(dance)}, "
          f"model {dance.model}; took {seconds:.1f} s")
    return 0
