"""A movie from numbered frames and a song part, made by Blender's own ffmpeg.

A stock Blender has no Python video encoder, but its Video Sequencer renders strips to an H.264
MP4 with AAC sound. :func:`mux_frames` does that in a temporary scene: an image-sequence strip
of the frames and a sound strip of the WAV, rendered to a temporary movie and renamed into
place when complete. The temporary scene and the sound it loaded are removed whatever happens,
so the user's scenes are as they were. Main thread only.
"""

from __future__ import annotations

import os

import bpy

from ..core.errors import ChoreoInputError
from .quiet import quiet_blender
from .rates import scene_rate
from .render import configure_preview
from .scene import add_music_strip


def mux_frames(frames: list[str], fps: float, out_path: str | os.PathLike, wav: str | None = None) -> str:
    """Render the PNG ``frames`` (one folder, in order, all one size) at ``fps`` with the WAV
    ``wav`` from its start (or silent) to the MP4 ``out_path``, atomically; returns its path."""
    if not frames:
        raise ChoreoInputError(out_path, "no frames to write")
    out_path = os.path.abspath(os.fspath(out_path))
    folder = os.path.dirname(frames[0])
    part = os.path.join(os.path.dirname(out_path), f".{os.path.basename(out_path)}.{os.getpid()}.part.mp4")
    scene = bpy.data.scenes.new("Choreo Movie")
    sounds_before = set(bpy.data.sounds)
    try:
        scene.render.fps, scene.render.fps_base = scene_rate(fps)
        ed = scene.sequence_editor_create()
        strip = ed.strips.new_image("Frames", frames[0], channel=2, frame_start=1)
        for f in frames[1:]:
            if os.path.dirname(f) != folder:
                raise ValueError("frames must share one folder")
            strip.elements.append(os.path.basename(f))
        w, h = strip.elements[0].orig_width, strip.elements[0].orig_height
        if not (w and h):  # Blender reads the size lazily; the frames are ours, so ask PNG's header
            with open(frames[0], "rb") as fh:
                head = fh.read(24)
            w, h = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        scene.frame_start, scene.frame_end = 1, len(frames)
        if wav:
            add_music_strip(scene, wav, 0.0, len(frames))
        configure_preview(scene, width=w, height=h, audio=bool(wav))
        scene.render.use_sequencer = True
        # The frames are finished pictures: no view transform or look may touch their colours.
        vs = scene.view_settings
        vs.view_transform, vs.look, vs.exposure, vs.gamma = "Standard", "None", 0.0, 1.0
        scene.render.ffmpeg.constant_rate_factor = "HIGH"
        scene.render.filepath = part
        with quiet_blender():
            bpy.ops.render.render(animation=True, scene=scene.name)
        if not os.path.isfile(part):
            raise ChoreoInputError(out_path, "Blender wrote no movie")
        os.replace(part, out_path)
        return out_path
    finally:
        if os.path.exists(part):
            os.unlink(part)
        bpy.data.scenes.remove(scene)
        for s in set(bpy.data.sounds) - sounds_before:
            if s.users == 0:
                bpy.data.sounds.remove(s)
