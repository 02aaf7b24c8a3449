"""A dance filmed as a target person: the renderer's frames and the song into one MP4."""

from __future__ import annotations

from ..progress import scaled


def film_dance(renderer, joints, fps: float, song, out, *, camera=None, progress=None) -> int:
    """Write the MP4 ``out`` of a dance (SMPL-24 ``joints`` at ``fps``) filmed as ``renderer``'s
    target person, with ``song`` = (samples, rate, start s) or None; returns the frames written."""
    from .io import write_video

    kp = renderer.place_dance(joints, fps, camera)
    frames = renderer.render_keypoints(kp, progress=scaled(progress, 0.0, 0.98))
    audio = None if song is None else (song[0], song[1])
    return write_video(out, frames, fps, audio=audio, audio_start=song[2] if song else 0.0, n_frames=len(kp))
