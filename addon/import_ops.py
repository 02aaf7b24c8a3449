"""File › Import › Choreo: a 2D dance (OpenPose folder, Dance Revolution sample, video) lifted
onto an armature.

The same three steps as Generate (:class:`~.operators.WorkerOperator`):

1. main thread: the file or folder, the target armature (the panel's, the selected one, or
   none: Choreo's default dancer is made) and, when a sound strip is selected, the music
   (the dance starts where the strip is heard, with its beats, bars and sections); without
   one the dance starts at the current frame;
2. worker thread (numpy only, like the add-on): the keypoints read and lifted
   (:func:`choreo.core.lift.lift_pose2d`), the music analysed;
3. main thread: keyed on the armature with markers, and a ``choreo:no dancer seen`` marker
   where the source showed nobody (those frames were filled between seen ones) — one undo
   step, everything rolled back on failure.

A video needs MediaPipe, which Blender does not ship: the video import says so in one line and
names the command that does it (``choreo import video``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import bpy
import numpy as np
from bpy.props import BoolProperty, FloatProperty, StringProperty

from ..core.data.videos import VIDEO_EXTENSIONS
from ..core.errors import ChoreoInputError
from .operators import Plan, WorkerOperator, apply_plan, check_armature, dancer_object
from .strip_audio import StripAudio, active_sound_strip, read_strip_audio, sequencer_scene


@dataclass
class ImportPlan:
    source: str          # "openpose", "dancerevolution" or "video"
    path: str
    fps: float
    fov: float
    ground: bool
    base: Plan           # where and what to key (the Generate plan's fields)


def _audio(context) -> StripAudio:
    """The selected sound strip's music, or none: the dance starts at the current frame."""
    scene = context.scene
    fps = scene.render.fps / scene.render.fps_base
    try:
        seq = sequencer_scene(context)
        return read_strip_audio(active_sound_strip(context, seq), seq)
    except ChoreoInputError:
        return StripAudio(np.zeros(0, np.float32), 22050, "", 0.0, 0.0, float(scene.frame_current), fps, "")


def make_import_plan(context, source: str, path: str, fps: float, fov: float, ground: bool) -> ImportPlan:
    path = os.path.abspath(bpy.path.abspath(path))
    if source == "openpose":
        if not os.path.isdir(path):
            raise ChoreoInputError(path, "not a folder of OpenPose frame files")
    elif not os.path.isfile(path):
        raise ChoreoInputError(path, "no such file")
    if source == "video":
        import importlib.util

        if importlib.util.find_spec("mediapipe") is None:
            raise ChoreoInputError(path, "finding a dancer in a video needs MediaPipe, which Blender does not ship: "
                                         "run  choreo import video CLIP -o dance.blend  (or .npz) instead")
    settings = context.scene.choreo
    target = dancer_object(context)
    bone_map = check_armature(target) if target is not None else None
    base = Plan(scene_name=context.scene.name, audio=_audio(context), target_name=target.name if target else None,
                bone_map=bone_map, weights=None, seed=0, energy=1.0, key_mode=settings.key_mode.lower(),
                tolerance=float(settings.tolerance))
    return ImportPlan(source, path, float(fps), float(fov), bool(ground), base)


def lift(plan: ImportPlan, progress=None):
    """(the lifted :class:`~choreo.core.generation.dance.Dance`, the filled stretches' markers); no bpy."""
    from ..core.generation.dance import Dance
    from ..core.lift import FPS, lift_pose2d
    from ..core.progress import report, scaled

    if plan.source == "openpose":
        from ..core.formats.openpose import read_openpose

        pose = read_openpose(plan.path, fps=plan.fps)
    elif plan.source == "dancerevolution":
        from ..core.formats.dancerevolution import load_dancerevolution

        pose = load_dancerevolution(plan.path).pose
    else:
        from ..core.lift.video import clip_poses

        pose = clip_poses(plan.path, scaled(progress, 0.0, 0.6)).pose
    report(progress, 0.6, "lifting")
    lifted = lift_pose2d(pose, fov_deg=plan.fov, ground=plan.ground)
    m = lifted.motion
    a = plan.base.audio
    if a.samples.size:
        from ..core.audio.io import DEFAULT_SR
        from ..core.generation.pipeline import analyse_part

        _, music = analyse_part(a.samples, a.sr, fps=FPS, sample_rate=DEFAULT_SR, start=0.0,
                                end=min(m.duration, a.duration), name=a.strip_name, audio_path=a.path or None,
                                audio_start=a.offset, model="lifter", progress=scaled(progress, 0.7, 1.0))
    else:
        from ..core.lift import no_music

        music = no_music()
    notes = tuple((start, "no dancer seen") for start, _ in lifted.gaps())
    return Dance(motion=m, **music), notes


class _ImportBase(WorkerOperator):
    bl_options = {"REGISTER", "UNDO"}
    working = "Lifting…"
    source = ""

    fov: FloatProperty(name="Field of View", default=60.0, min=10.0, max=150.0, subtype="NONE",
                       description="The camera's horizontal field of view (degrees): depth and travel scale with it")
    ground: BoolProperty(name="Ground", default=True,
                         description="Put the body on the floor and hold the feet still while they stand")

    def invoke(self, context, event):
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        """After the file browser: the worker with progress in the UI, inline in background mode."""
        if bpy.app.background or context.window is None:
            return WorkerOperator.execute(self, context)
        return WorkerOperator.invoke(self, context, None)

    def _path(self) -> str:
        return self.filepath

    def _fps(self) -> float:
        return 30.0

    def plan(self, context) -> ImportPlan:
        return make_import_plan(context, self.source, self._path(), self._fps(), self.fov, self.ground)

    def work(self, plan: ImportPlan, progress=None):
        return lift(plan, progress)

    def apply(self, context, plan: ImportPlan, result) -> str:
        dance, notes = result
        plan.base.notes = notes
        report = apply_plan(context, plan.base, dance)
        bits = [f"Choreo: {dance.motion.duration:.1f} s dance lifted from {os.path.basename(plan.path.rstrip(os.sep))}",
                f"on {report['armature']}"]
        if dance.tempo > 0:
            bits.append(f"{dance.tempo:.0f} BPM")
        if report.get("keys") is not None:
            bits.append(f"{report['keys']} keys")
        if notes:
            bits.append(f"{len(notes)} stretches without the dancer filled (marked)")
        return ", ".join(bits)


class CHOREO_OT_import_openpose(_ImportBase, bpy.types.Operator):
    """Lift a folder of OpenPose frame files (BODY_18 or BODY_25) onto the armature"""

    bl_idname = "choreo.import_openpose"
    bl_label = "Import OpenPose Dance"
    source = "openpose"

    directory: StringProperty(subtype="DIR_PATH")
    filter_folder: BoolProperty(default=True, options={"HIDDEN"})
    fps: FloatProperty(name="Frame Rate", default=30.0, min=1.0, max=240.0, description="The frames' rate")

    def _path(self) -> str:
        return self.directory

    def _fps(self) -> float:
        return self.fps


class CHOREO_OT_import_dancerevolution(_ImportBase, bpy.types.Operator):
    """Lift a Dance Revolution sample (.json, BODY_25 keypoints at 15 fps) onto the armature"""

    bl_idname = "choreo.import_dancerevolution"
    bl_label = "Import Dance Revolution Dance"
    source = "dancerevolution"

    filepath: StringProperty(subtype="FILE_PATH")
    filter_glob: StringProperty(default="*.json", options={"HIDDEN"})


class CHOREO_OT_import_video(_ImportBase, bpy.types.Operator):
    """Find the dancer in a video (MediaPipe BlazePose) and lift the dance onto the armature"""

    bl_idname = "choreo.import_video"
    bl_label = "Import Dance from Video"
    source = "video"

    filepath: StringProperty(subtype="FILE_PATH")
    filter_glob: StringProperty(default=";".join(f"*{e}" for e in VIDEO_EXTENSIONS), options={"HIDDEN"})


def _menu(self, context):
    layout = self.layout
    layout.operator(CHOREO_OT_import_openpose.bl_idname, text="Choreo: OpenPose Dance (folder)")
    layout.operator(CHOREO_OT_import_dancerevolution.bl_idname, text="Choreo: Dance Revolution Dance (.json)")
    layout.operator(CHOREO_OT_import_video.bl_idname, text="Choreo: Dance from Video")


def register_menu() -> None:
    bpy.types.TOPBAR_MT_file_import.append(_menu)


def unregister_menu() -> None:
    bpy.types.TOPBAR_MT_file_import.remove(_menu)


classes = (CHOREO_OT_import_openpose, CHOREO_OT_import_dancerevolution, CHOREO_OT_import_video)
