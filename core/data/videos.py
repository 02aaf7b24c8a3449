"""Dances filmed on video as corpus material (issue 17): each clip's dancer lifted to a 3D take,
its sound track a music track.

``choreo dataset build --videos DIR`` trains any family on a choreographer's own filmed dances:
every clip in ``DIR`` goes through the same extraction and lifting as ``choreo import video``
(MediaPipe BlazePose, then :func:`choreo.core.lift.lift_pose2d`), is written as a BVH take named
after the clip, and its sound (when it has one) as a WAV track of the same name; the corpus
builder then pairs takes with music windows as it does mocap. A clip that cannot be used (no
dancer in any frame, damaged) is reported and left out, as a bad mocap file is. Command line
only: MediaPipe is not part of Blender.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..errors import ChoreoInputError
from ..progress import ProgressFn, report, scaled

#: Clip extensions taken from a videos folder.
VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v")
#: Rate of the WAV a clip's sound is written at (the corpus's analysis rate).
SOUND_SR = 22050


def find_videos(video_dir: str | os.PathLike) -> list[Path]:
    """The clips in ``video_dir`` (not recursive), sorted by name."""
    root = Path(video_dir)
    if not root.is_dir():
        raise ChoreoInputError(root, "videos folder not found")
    clips = sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS)
    if not clips:
        raise ChoreoInputError(root, f"no video files ({', '.join(VIDEO_EXTENSIONS)}) in the folder")
    return clips


def stage_videos(clips: list[Path], mocap_dir: Path, music_dir: Path, *, fov_deg: float | None = None,
                 progress: ProgressFn | None = None) -> tuple[list[str], list[str], list[list[str]]]:
    """Lift every clip into ``mocap_dir``/NAME.bvh and write its sound to ``music_dir``/NAME.wav.
    Returns (take names, track names, skipped [[clip, problem]])."""
    from ..formats.bvh import write_bvh
    from ..lift import DEFAULT_FOV_DEG, lift_pose2d
    from ..lift.video import clip_poses
    from ..video.io import read_soundtrack
    from ..video.png import write_wav

    takes, tracks, skipped = [], [], []
    for i, clip in enumerate(clips):
        part = scaled(progress, i / len(clips), (i + 1) / len(clips))
        try:
            poses = clip_poses(clip, scaled(part, 0.0, 0.9))
            lifted = lift_pose2d(poses.pose, fov_deg=fov_deg or DEFAULT_FOV_DEG)
            sound = read_soundtrack(clip, SOUND_SR)
        except ChoreoInputError as exc:
            skipped.append([str(clip), exc.problem])
            continue
        write_bvh(lifted.motion, mocap_dir / f"{clip.stem}.bvh")
        takes.append(clip.stem)
        if sound is not None:
            write_wav(music_dir / f"{clip.stem}.wav", sound, SOUND_SR)
            tracks.append(clip.stem)
        report(part, 1.0, f"lifted {clip.name}")
    return takes, tracks, skipped


def link(src: Path, dst: Path) -> None:
    """``dst`` names ``src`` (a symbolic link, else a copy where links cannot be made)."""
    try:
        os.symlink(src.resolve(), dst)
    except OSError:
        shutil.copy2(src, dst)
