"""Render Photoreal Video: the dancer's action over the scene's frames, filmed as the target person.

1. main thread: the armature's joints over the scene's frame range (as Blender evaluates the
   action), the music strip's part under them, the renderer's weights (trained with
   ``choreo video train``) and the output path — every problem is one line, nothing written;
2. worker thread (numpy only): the dance placed in the target's picture
   (:mod:`choreo.core.video.stage`) and rendered frame by frame into PNGs in a temporary folder;
3. main thread: Blender's own ffmpeg makes the MP4 with the song (:mod:`choreo.rigs.movie`),
   written beside the .blend under a temporary name and renamed when complete.

The scene is not changed (no undo step); the temporary folder is removed on success, failure
and Esc alike.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass

import bpy
import numpy as np

from ..core.errors import ChoreoInputError
from ..core.fileio import check_output
from .blend_dance import music_strip, scene_dance
from .operators import WorkerOperator, dancer_object
from .strip_audio import active_sound_strip, sequencer_scene


@dataclass
class PhotorealPlan:
    renderer: object           # the loaded Renderer (numpy only: the worker uses it as it is)
    out: str
    keypoints: np.ndarray      # (T, 18, 2) in the target's picture
    fps: float
    song: tuple | None         # (samples, rate, start s) or None


def _music(context):
    """The selected sound strip, else the scene's music strip (or None: a silent video)."""
    try:
        return active_sound_strip(context)
    except ChoreoInputError:
        return music_strip(sequencer_scene(context))


def output_path(settings) -> str:
    """The movie's absolute path: the panel's Video field, relative to the saved .blend."""
    raw = settings.photoreal_output or "//photoreal.mp4"
    if raw.startswith("//") and not bpy.data.filepath:
        raise ChoreoInputError("Video", "save the .blend first: the video is written beside it")
    out = os.path.abspath(bpy.path.abspath(raw))
    if not out.lower().endswith(".mp4"):
        raise ChoreoInputError(out, "the video must end in .mp4")
    return check_output(out)


def make_photoreal_plan(context, progress=None) -> PhotorealPlan:
    from ..core.video.renderer import Renderer

    settings = context.scene.choreo
    arm = dancer_object(context)
    if arm is None:
        raise ChoreoInputError("Armature", "no target armature: pick the dancer in the panel or select it")
    if not settings.photoreal_model:
        raise ChoreoInputError("Renderer", "choose the renderer trained for the target (choreo video train)")
    weights = os.path.abspath(bpy.path.abspath(settings.photoreal_model))
    out = output_path(settings)
    renderer = Renderer(weights)  # bad weights are said before the frames are read
    renderer.target_stats  # noqa: B018
    joints, fps, song = scene_dance(context.scene, arm, _music(context), progress)
    keypoints = renderer.place_dance(joints, fps)
    return PhotorealPlan(renderer, out, keypoints, fps, song)


def render_frames(plan: PhotorealPlan, progress=None) -> str:
    """The plan's frames as PNGs (and the song's part as a WAV) in a new temporary folder,
    returned; the folder is removed if this stops early (an error, Esc)."""
    from ..core.video.png import write_png, write_wav

    folder = tempfile.mkdtemp(prefix="choreo_photoreal_")
    try:
        n = len(plan.keypoints)
        for k, frame in enumerate(plan.renderer.render_keypoints(plan.keypoints)):
            write_png(os.path.join(folder, f"frame_{k:06d}.png"), frame)
            if progress is not None:
                progress((k + 1) / n, f"Rendering frame {k + 1}/{n}")
        if plan.song is not None:
            y, sr, start = plan.song
            a = int(round(start * sr))
            write_wav(os.path.join(folder, "song.wav"), y[a:a + int(round(n / plan.fps * sr))], sr)
        if progress is not None:
            progress(1.0, "Writing the video…")  # a last check for Esc before the result is handed over
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


class CHOREO_OT_render_photoreal(WorkerOperator, bpy.types.Operator):
    """Film the dancer's action as the target person with the trained renderer, with the music"""

    bl_idname = "choreo.render_photoreal"
    bl_label = "Render Photoreal Video"
    bl_description = ("Render the target armature's dance over the scene's frame range as a video of the "
                      "target person (a renderer trained with choreo video train), with the music strip's "
                      "part, to the Video path beside the .blend; the scene is not changed")
    bl_options = {"REGISTER"}  # writes a file, not the scene: no undo step
    working = "Rendering…"
    applying = "Writing the video…"

    def plan(self, context) -> PhotorealPlan:
        return make_photoreal_plan(context)

    def work(self, plan: PhotorealPlan, progress=None) -> str:
        return render_frames(plan, progress)

    def apply(self, context, plan: PhotorealPlan, folder: str) -> str:
        from ..rigs.movie import mux_frames

        try:
            frames = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".png"))
            wav = os.path.join(folder, "song.wav")
            mux_frames(frames, plan.fps, plan.out, wav if os.path.isfile(wav) else None)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        n = len(plan.keypoints)
        return f"Choreo: wrote {os.path.basename(plan.out)}, {n} frames ({n / plan.fps:.1f} s)"

    def discard(self, folder: str) -> None:
        shutil.rmtree(folder, ignore_errors=True)


classes = (CHOREO_OT_render_photoreal,)
