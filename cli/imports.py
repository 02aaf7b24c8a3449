"""``choreo import video|openpose|dancerevolution SOURCE -o OUT``: a 2D dance lifted onto 3D.

The source's keypoints go through the shipped lifter (:mod:`choreo.core.lift`) to a dance on
the canonical skeleton, written as ``.npz`` (the dance, with ``lift_seen``: the share of the
body seen in each frame), ``.bvh`` or a ready ``.blend`` (a rig keyed, markers). With a song
(a video's own sound track, or ``--song``) the dance carries the song's beats, bars and
sections, as a generated one does, and a ``.blend`` is keyed on the beats. Frames where the
dancer was not seen are filled between seen ones, printed, and marked in the ``.blend``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from ..core.errors import ChoreoInputError
from ..core.fileio import atomic_paths, check_outputs
from ..core.progress import cli_bar, scaled

OUTPUTS = (".npz", ".bvh", ".blend")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "import", help="lift a video, an OpenPose folder or a Dance Revolution sample to a 3D dance",
        description="Lift a 2D dance (a video of a dancer, OpenPose frame files, a Dance Revolution JSON) onto "
                    "Choreo's 3D skeleton and write it as .npz, .bvh or a ready .blend.")
    sub = p.add_subparsers(dest="source", metavar="SOURCE", required=True)
    for name, what, metavar in (("video", "a clip of one dancer (MediaPipe BlazePose finds the poses; the "
                                          "clip's sound is the dance's song)", "CLIP"),
                                ("openpose", "a folder of OpenPose frame JSON files (BODY_18 or BODY_25)", "DIR"),
                                ("dancerevolution", "a Dance Revolution sample (.json, BODY_25 at 15 fps)", "FILE")):
        q = sub.add_parser(name, help=what, description=f"Lift {what}.")
        q.add_argument("path", type=Path, metavar=metavar)
        q.add_argument("-o", "--out", required=True, type=Path, metavar="OUT",
                       help="output .npz (the dance), .bvh (motion only) or .blend (a keyed rig with markers)")
        q.add_argument("--song", type=Path, metavar="SONG",
                       help="the music danced to (beats, bars and sections; in the .blend)"
                            + ("; default: the clip's own sound" if name == "video" else ""))
        q.add_argument("--song-start", type=float, default=0.0, metavar="S",
                       help="song seconds at the first frame (default: %(default)s)")
        if name == "video":
            q.add_argument("--no-audio", action="store_true", help="ignore the clip's sound")
        if name == "openpose":
            q.add_argument("--fps", type=float, default=30.0, help="frame rate of the frames (default: %(default)s)")
            q.add_argument("--width", type=int, default=0, help="image width in pixels (default: from the points)")
            q.add_argument("--height", type=int, default=0, help="image height in pixels (default: from the points)")
        q.add_argument("--fov", type=float, default=None, metavar="DEG",
                       help="the camera's horizontal field of view (default: 60; depth and travel scale with it)")
        q.add_argument("--raw", action="store_true",
                       help="leave the lifted motion as it is (no grounding, no planted feet)")
        q.add_argument("--rig", metavar="RIG", help=".blend/.fbx rig to key (with a .blend OUT; default Choreo's)")
        q.add_argument("--armature", metavar="NAME", help="the armature to key when the rig file holds several")
        q.add_argument("--key-mode", choices=("beats", "poses", "dense"), default=None,
                       help="keys on beats (default with a song), on key poses (default without) or every frame")
        q.set_defaults(func=run)


def _source_pose(args, bar):
    """(Pose2D, what it is, the song to use or None, per-frame status or None)."""
    from ..core.formats.dancerevolution import load_dancerevolution

    if args.source == "openpose":
        from ..core.formats.openpose import read_openpose

        if not args.path.is_dir():
            raise ChoreoInputError(args.path, "not a folder of OpenPose frame files")
        if not args.fps > 0:
            raise ChoreoInputError("--fps", f"must be positive, got {args.fps}")
        return read_openpose(args.path, fps=args.fps, width=args.width, height=args.height), "OpenPose", None, None
    if args.source == "dancerevolution":
        if not args.path.is_file():
            raise ChoreoInputError(args.path, "no such file")
        return load_dancerevolution(args.path).pose, "Dance Revolution", None, None
    from ..core.lift.video import clip_poses

    clip = clip_poses(args.path, scaled(bar, 0.0, 0.6))
    return clip.pose, "video", None if args.no_audio else args.path, clip.status


def _music(song: Path | None, start: float, duration: float, bar) -> dict:
    """The :class:`DanceMusic` fields of the dance: the song's part it was danced to, or none."""
    from ..core.lift import FPS, no_music

    if song is None:
        return no_music()
    from ..core.audio.io import DEFAULT_SR, load_audio
    from ..core.data.videos import VIDEO_EXTENSIONS
    from ..core.generation.pipeline import analyse_part

    if song.suffix.lower() in VIDEO_EXTENSIONS:
        from ..core.video.io import read_soundtrack

        y, sr = read_soundtrack(song, DEFAULT_SR), DEFAULT_SR
        if y is None:
            return _music(None, 0.0, duration, bar)
    else:
        y, sr = load_audio(song, sr=DEFAULT_SR)
    if not (start >= 0 and start < len(y) / sr):
        raise ChoreoInputError("--song-start", f"{start:g} s is not within the song ({len(y) / sr:.1f} s)")
    _, music = analyse_part(y, sr, fps=FPS, sample_rate=DEFAULT_SR, start=start,
                            end=min(start + duration, len(y) / sr), name=str(song), audio_path=str(song),
                            audio_start=0.0, model="lifter", progress=bar)
    return music


def run(args: argparse.Namespace) -> int:
    from ..core.formats import save_motion
    from ..core.generation.dance import Dance, save_dance
    from ..core.lift import DEFAULT_FOV_DEG, lift_pose2d

    out = args.out
    ext = out.suffix.lower()
    if ext not in OUTPUTS:
        raise ChoreoInputError(out, f"output must end in {', '.join(OUTPUTS)}")
    if ext != ".blend" and (args.rig or args.armature or args.key_mode):
        raise ChoreoInputError(out, "--rig, --armature and --key-mode need a .blend output")
    check_outputs([out])  # writable, before any work
    if args.song is not None and not args.song.is_file():
        raise ChoreoInputError(args.song, "no such file")
    t0 = time.perf_counter()
    with cli_bar(f"import {args.source}") as bar:
        pose, what, song, status = _source_pose(args, bar)
        song = args.song or song
        lifted = lift_pose2d(pose, fov_deg=args.fov or DEFAULT_FOV_DEG, ground=not args.raw)
        bar(0.7, "lifted")
        m = lifted.motion
        music = _music(song, args.song_start, m.duration, scaled(bar, 0.7, 0.85))
        dance = Dance(motion=m, **music)
        holes = lifted.gaps()
        with atomic_paths([out]) as (tmp,):
            if ext == ".npz":
                save_dance(dance, tmp, extra={"lift_seen": lifted.seen.astype(np.float32)})
            elif ext == ".bvh":
                save_motion(m, tmp)
            else:
                try:
                    from ..rigs.scene import write_dance_blend
                except ImportError as exc:
                    raise ChoreoInputError(out, f"writing .blend needs Blender's bpy module ({exc})") from None
                key_mode = args.key_mode or ("beats" if len(dance.beats) else "poses")
                write_dance_blend(dance, tmp, rig_path=args.rig, armature=args.armature, key_mode=key_mode,
                                  notes=[(a, "no dancer seen") for a, _ in holes], progress=scaled(bar, 0.85, 1.0))
    seconds = time.perf_counter() - t0
    print(f"wrote {out}")
    seen = lifted.seen
    print(f"{what}: {m.num_frames} frames ({m.duration:.1f} s at {m.fps:g} fps), {100 * seen.mean():.0f} % of the "
          f"body seen on average, {int((seen >= 0.999).sum())} frames whole")
    if status is not None:
        from collections import Counter

        off = {k: v for k, v in Counter(status).items() if k != "ok"}
        if off:
            print("frames without one dancer: " + ", ".join(f"{k} {v}" for k, v in sorted(off.items())))
    if holes:
        shown = ", ".join(f"{a:.2f}-{b:.2f} s" for a, b in holes[:8]) + (" …" if len(holes) > 8 else "")
        print(f"filled where the dancer was not seen ({int(lifted.filled.sum())} frames): {shown}")
    song_text = f"song {song} from {dance.audio_start:.1f} s, {dance.tempo:.1f} BPM, {len(dance.beats)} beats" \
        if dance.audio_path else "no song"
    print(f"{song_text}; lifted with a {args.fov or DEFAULT_FOV_DEG:g}° field of view; took {seconds:.1f} s")
    return 0
