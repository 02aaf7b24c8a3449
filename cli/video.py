"""``choreo video``: photoreal dance videos of a target person (issue 16; docs/photoreal.md).

- ``prepare CLIP --out TARGET``: the person in a clip of them (MediaPipe BlazePose per frame),
  cropped to a square working picture, with their pose-space record;
- ``train TARGET``: the pose-to-video renderer for that person (pix2pixHD-style, resumable);
- ``render DANCE --target MODEL -o OUT.mp4``: a Choreo dance (.npz or .blend) as a video of the
  person, with the song's part in sync;
- ``stand-in OUT.mp4``: a clip of a dressed figure dancing a CMU take, rendered by Blender, to
  try the stage (and test it) without filming anyone.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from ..core.errors import ChoreoInputError
from ..core.fileio import check_output
from ..core.progress import cli_bar, scaled
from ..core.video.film import film_dance


STAND_IN_TAKES = [f"05_{k:02d}" for k in range(1, 21)]


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("video", help="photoreal videos of a target person: prepare, train, render")
    sub = parser.add_subparsers(dest="video_command", metavar="ACTION", required=True)

    p = sub.add_parser("prepare", help="find the person in a clip of them and write a target folder")
    p.add_argument("clip", metavar="CLIP", help="a video of one person, full body, fixed camera (any container)")
    p.add_argument("--out", required=True, metavar="TARGET_DIR", help="the target folder to write")
    p.add_argument("--size", type=int, default=256, help="square working resolution in pixels (default 256)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing target folder")
    p.set_defaults(func=run_prepare)

    t = sub.add_parser("train", help="train the renderer for a prepared target (resumable)")
    t.add_argument("target", metavar="TARGET_DIR")
    t.add_argument("--config", default="cpu", metavar="cpu|gpu|FILE",
                   help="cpu: ≤ 1 h on 2 cores (default); gpu: the full configuration; or a JSON file")
    t.add_argument("--steps", type=int, help="training steps (default: the configuration's)")
    t.add_argument("--resolution", type=int, help="train at this square size (default: the configuration's)")
    t.add_argument("--restart", action="store_true",
                   help="start again instead of resuming from TARGET_DIR/train's checkpoint")
    t.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    t.add_argument("--out", metavar="MODEL", help="weights to write (default TARGET_DIR/renderer.safetensors)")
    t.set_defaults(func=run_train)

    r = sub.add_parser("render", help="render a dance as a video of the target person")
    r.add_argument("dance", metavar="DANCE", help="a Choreo dance .npz, or a .blend with a keyed armature")
    r.add_argument("--target", required=True, metavar="MODEL", help="the trained renderer (.safetensors)")
    r.add_argument("-o", "--out", required=True, metavar="OUT.mp4")
    r.add_argument("--armature", metavar="NAME", help="the armature to render when the .blend holds several")
    r.add_argument("--song", metavar="FILE", help="the song to mux (default: the dance's own)")
    r.add_argument("--no-audio", action="store_true", help="write the video without sound")
    r.add_argument("--camera-yaw", type=float, default=0.0, metavar="DEG",
                   help="film the dance turned by this angle about the vertical (default 0: from the front)")
    r.add_argument("--backend", choices=("auto", "torch", "numpy"), default="auto",
                   help="torch (~3× faster on a CPU, or a GPU with --device), numpy (what Blender runs), or "
                        "auto (default: torch when installed)")
    r.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="for --backend torch")
    r.set_defaults(func=run_render)

    d = sub.add_parser("demo", help="the whole path on Choreo's own stand-in target: out/video_demo.mp4",
                       description="Render the stand-in clip, prepare it, train a renderer briefly on the CPU, "
                                   "and film the demo track's dance as the stand-in: DIR/video_demo.mp4 (with the "
                                   "song) and DIR/video_demo_frames.png (held-out frames: pose, generated, real; "
                                   "then frames of the demo dance); prints the held-out SSIM.")
    d.add_argument("--out", metavar="DIR", default="out", help="output folder (default: out/)")
    d.add_argument("--seconds", type=float, default=40.0, help="stand-in clip length (default 40 s)")
    d.add_argument("--steps", type=int, default=800, help="training steps (default 800, ~5 min on 2 cores)")
    d.set_defaults(func=run_demo)

    s = sub.add_parser("stand-in", help="render a clip of a dressed figure dancing a CMU take (a target to try)")
    s.add_argument("out", metavar="OUT.mp4")
    s.add_argument("--take", nargs="+", default=STAND_IN_TAKES, metavar="TAKE",
                   help="CMU takes from ../shared/data, one after another (default: subject 5's dances, "
                        "05_01 … 05_20)")
    s.add_argument("--seconds", type=float, default=60.0, help="length in seconds (default 60)")
    s.add_argument("--size", type=int, default=512, help="square picture size in pixels (default 512)")
    s.add_argument("--engine", choices=("workbench", "cycles"), default="workbench",
                   help="workbench: ~0.2 s a frame at 512² on 2 cores; cycles: path traced, ~2.5 s")
    s.add_argument("--samples", type=int, help="anti-aliasing samples (workbench, default 5; 1 = FXAA) or "
                                                "paths per pixel (cycles, default 4, denoised)")
    s.set_defaults(func=run_stand_in)


def run_prepare(args: argparse.Namespace) -> int:
    from ..core.video.prepare import prepare_target

    t0 = time.perf_counter()
    with cli_bar("video prepare") as bar:
        target = prepare_target(args.clip, args.out, size=args.size, overwrite=args.overwrite, progress=bar)
    skipped = target.meta.get("skipped", [])
    print(f"wrote {target.path}: {len(target.keypoints)} frames at {target.size}² ({target.fps:g} fps), "
          f"{len(skipped)} skipped; took {time.perf_counter() - t0:.1f} s")
    for frame, why in skipped[:10]:
        print(f"  skipped clip frame {frame}: {why}")
    if len(skipped) > 10:
        print(f"  … and {len(skipped) - 10} more (target.json lists them all)")
    return 0


def run_train(args: argparse.Namespace) -> int:
    from ..core.training.photoreal import from_target, load_config, train_renderer
    from ..core.video.target import read_target

    target = read_target(args.target)
    config = load_config(args.config)
    out = Path(args.out) if args.out else Path(target.path) / "renderer.safetensors"
    check_output(out)
    t0 = time.perf_counter()
    with cli_bar("video train") as bar:
        result = train_renderer(from_target(target), config, out, Path(target.path) / "train",
                                steps=args.steps, resolution=args.resolution, device=args.device,
                                resume=False if args.restart else "auto", progress=bar, log=_say,
                                extra_meta=target_meta(target))
    if args.steps and result["steps"] > args.steps:
        _say(f"the checkpoint in {Path(target.path) / 'train'} had {result['steps']} steps already, more than "
             f"--steps {args.steps}: nothing more was trained (--restart starts again)")
    held = result["held_out"]
    print(f"wrote {out}: {result['steps']} steps in {time.perf_counter() - t0:.0f} s on {result['device']}; "
          f"held-out frames SSIM {held['ssim']:.3f}, PSNR {held['psnr']:.1f} dB; "
          f"previews in {Path(target.path) / 'train' / 'previews'}")
    return 0


def _say(message: str) -> None:
    """A line for the user that does not break a progress bar."""
    from tqdm import tqdm

    tqdm.write(message, file=sys.stderr)


def target_meta(target) -> dict:
    """What a renderer keeps of its target: the pose-space record and where it came from."""
    from dataclasses import asdict

    return {"target": {"stats": asdict(target.stats), "size": target.size, "fps": target.fps,
                       "clip_sha256": target.meta["clip"]["sha256"]}}


def _dance_joints(path: Path, armature: str | None, own_song: bool = True):
    """(joints (T, 24, 3), fps, samples (y, rate) or None, start s) of a dance file: the song's
    part under its first frame; the dance's own song is decoded only when ``own_song``."""
    if path.suffix.lower() == ".blend":
        from ..addon.blend_dance import read_blend_dance

        joints, fps, song = read_blend_dance(path, armature)
        return (joints, fps, None, 0.0) if song is None else (joints, fps, song[:2], song[2])
    if path.suffix.lower() != ".npz":
        raise ChoreoInputError(path, "a dance must be a Choreo .npz or a .blend")
    if armature:
        raise ChoreoInputError(path, "--armature is for a .blend dance")
    from ..core.audio.io import load_audio
    from ..core.generation import load_dance

    dance = load_dance(path)
    samples = None
    if dance.audio_path and own_song:
        if not os.path.isfile(dance.audio_path):
            raise ChoreoInputError(dance.audio_path, f"song of {path.name} not found; pass --song FILE or --no-audio")
        samples = load_audio(dance.audio_path, sr=44100)
    return dance.motion.joints, float(dance.motion.fps), samples, float(dance.audio_start)


def run_render(args: argparse.Namespace) -> int:
    from ..core.audio.io import load_audio
    from ..core.video.renderer import Renderer
    from ..core.video.stage import front_camera

    out = Path(check_output(args.out))
    if out.suffix.lower() != ".mp4":
        raise ChoreoInputError(out, "the video must end in .mp4")
    backend = args.backend
    if backend == "auto":
        import importlib.util

        backend = "torch" if importlib.util.find_spec("torch") is not None else "numpy"
    renderer = Renderer(args.target, backend=backend, device=args.device)
    renderer.target_stats  # noqa: B018  (weights without a target record are said before any work)
    t0 = time.perf_counter()
    with cli_bar("video render") as bar:
        joints, fps, samples, start = _dance_joints(Path(args.dance), args.armature,
                                                    own_song=not (args.song or args.no_audio))
        if args.song and not args.no_audio:
            samples = load_audio(args.song, sr=44100)
        song = None if samples is None or args.no_audio else (*samples, start)
        camera = None
        if args.camera_yaw:
            from dataclasses import replace

            camera = replace(front_camera(joints, renderer.size), yaw=math.radians(args.camera_yaw))
        n = film_dance(renderer, joints, fps, song, out, camera=camera, progress=bar)
    secs = time.perf_counter() - t0
    print(f"wrote {out}: {n} frames at {renderer.size}², {n / fps:.1f} s of dance, {n / secs:.1f} frames/s; "
          f"took {secs:.1f} s")
    return 0


def run_stand_in(args: argparse.Namespace) -> int:
    from ..rigs.actor_clip import actor_take, default_actor_camera, render_actor_clip

    out = Path(check_output(args.out))
    joints = actor_take(args.take, seconds=args.seconds)
    camera = default_actor_camera(joints, args.size)
    t0 = time.perf_counter()
    with cli_bar("video stand-in") as bar:
        info = render_actor_clip(joints, out, camera=camera, engine=args.engine.upper(), samples=args.samples,
                                 progress=bar)
    print(f"wrote {out}: {info['frames']} frames at {args.size}², {info['seconds_per_frame']:.2f} s/frame; "
          f"took {time.perf_counter() - t0:.1f} s")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from ..core.audio.demo import write_demo_wav
    from ..core.audio.io import load_audio
    from ..core.generation.pipeline import generate_dance
    from ..core.training.photoreal import from_target, load_config, train_renderer
    from ..core.video.png import write_png
    from ..core.video.poses import pose_image
    from ..core.video.prepare import prepare_target
    from ..core.video.renderer import Renderer
    from ..rigs.actor_clip import actor_take, default_actor_camera, render_actor_clip

    out = Path(args.out)
    work = out / "video_demo"
    work.mkdir(parents=True, exist_ok=True)
    movie, sheet = out / "video_demo.mp4", out / "video_demo_frames.png"
    check_output(movie)
    check_output(sheet)
    t0 = time.perf_counter()
    with cli_bar("video demo") as bar:
        joints = actor_take(STAND_IN_TAKES, seconds=args.seconds)
        render_actor_clip(joints, work / "standin.mp4", camera=default_actor_camera(joints, 512), samples=1,
                          progress=scaled(bar, 0.0, 0.3))
        target = prepare_target(work / "standin.mp4", work / "target", size=256, overwrite=True,
                                progress=scaled(bar, 0.3, 0.4))
        weights = work / "target" / "renderer.safetensors"
        result = train_renderer(from_target(target), load_config("cpu"), weights, work / "target" / "train",
                                steps=args.steps, progress=scaled(bar, 0.4, 0.9), extra_meta=target_meta(target))
        wav = out / "demo.wav"
        write_demo_wav(str(wav))
        dance = generate_dance(str(wav), progress=scaled(bar, 0.9, 0.92))
        y, sr = load_audio(wav, sr=44100)
        renderer = Renderer(weights, backend="torch", device="cpu")
        n = film_dance(renderer, dance.motion.joints, dance.motion.fps, (y, sr, dance.audio_start), movie,
                       progress=scaled(bar, 0.92, 1.0))
    # the picture: held-out frames (pose | generated | real), then the demo dance (pose | generated | blank)
    frames = target.load_frames()
    held = np.arange(len(target))[target.held_out]
    pick = held[np.linspace(0, len(held) - 1, 4).round().astype(int)]
    gen = list(renderer.render_keypoints(target.keypoints[held[0]:pick[-1] + 1]))
    R = renderer.size
    rows = [[pose_image(target.keypoints[i], R, R, renderer.limb_width), gen[i - held[0]], frames[i]] for i in pick]
    kp = renderer.place_dance(dance.motion.joints, dance.motion.fps)
    dance_frames = list(renderer.render_keypoints(kp[:int(8 * dance.motion.fps)]))
    for i in np.linspace(0, len(dance_frames) - 1, 3).round().astype(int):
        rows.append([pose_image(kp[i], R, R, renderer.limb_width), dance_frames[i], np.full_like(frames[0], 255)])
    write_png(sheet, np.concatenate([np.concatenate(r, axis=1) for r in rows], axis=0))
    held_out = result["held_out"]
    print(f"stand-in target: {len(target)} frames ({len(held)} held out), renderer trained {result['steps']} steps "
          f"in {result['seconds']:.0f} s")
    print(f"held-out SSIM {held_out['ssim']:.3f}, PSNR {held_out['psnr']:.1f} dB (frames the renderer never saw)")
    print(f"wrote {movie}: {n} frames, {n / dance.motion.fps:.1f} s of the demo dance with its song")
    print(f"wrote {sheet}; took {time.perf_counter() - t0:.0f} s")
    return 0
