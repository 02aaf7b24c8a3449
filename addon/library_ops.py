"""Add to Library: the animator's own moves into the motion library DanceIt dances from.

Both operators write only the library folder (the panel's Library field, else the
default library): the scene is left as it was (its current frame restored), so they
take no undo step. A problem is one report line, and nothing is added.
"""

from __future__ import annotations

import bpy
from bpy.props import StringProperty

from ..core.errors import ChoreoInputError
from .operators import dancer_object, error_line


def _library(context):
    from ..core.library import MotionLibrary

    path = context.scene.choreo.library
    return MotionLibrary.for_writing(bpy.path.abspath(path) if path else None)


def _embedder():
    """The shipped DanceIt's embedder, so added moves are stored ready to retrieve (None when
    DanceIt is not installed: the moves are embedded when a dance first uses them)."""
    from ..core.generation.pipeline import load_generator
    from ..core.models.weights import installed_models

    if "danceit" not in installed_models():
        return None
    return load_generator("danceit")[0].library_embedder()


def _done(op, lib, rec) -> None:
    op.report({"INFO"}, f"Choreo: added {rec.name!r} to the library {lib.path} "
                        f"({rec.seconds:.1f} s, {rec.fragments} moves); {len(lib.sources())} sources")


class CHOREO_OT_add_action_to_library(bpy.types.Operator):
    """Add the armature's current action to the motion library DanceIt assembles dances from"""

    bl_idname = "choreo.add_action_to_library"
    bl_label = "Add Action to Library"
    bl_options = {"REGISTER"}

    @classmethod
    def poll(cls, context):
        obj = dancer_object(context)
        return obj is not None and obj.animation_data is not None and obj.animation_data.action is not None

    def execute(self, context):
        from ..rigs.apply import scene_fps
        from ..rigs.sample import armature_motion

        try:
            arm = dancer_object(context)
            action = arm.animation_data.action
            f0, f1 = (int(round(f)) for f in action.frame_range)
            if f1 - f0 < 2:
                raise ChoreoInputError(action.name, "the action is a single pose, not a move")
            scene = context.scene
            wm = context.window_manager
            wm.progress_begin(0.0, 1.0)
            try:
                motion = armature_motion(scene, arm, range(f0, f1 + 1), scene_fps(scene),
                                         progress=lambda f, _label="": wm.progress_update(f))
            finally:
                wm.progress_end()
            lib = _library(context)
            where = f"{bpy.data.filepath or 'unsaved file'}: {arm.name} / {action.name} (frames {f0}-{f1})"
            rec = lib.add_motion(motion, action.name, origin=where, embed=_embedder())
        except Exception as exc:  # noqa: BLE001 — one report line, never a traceback dialog
            self.report({"ERROR"}, error_line(exc))
            return {"CANCELLED"}
        _done(self, lib, rec)
        return {"FINISHED"}


class CHOREO_OT_add_file_to_library(bpy.types.Operator):
    """Add a motion file (BVH, Choreo .npz, AIST++ .pkl) to the motion library DanceIt assembles dances from"""

    bl_idname = "choreo.add_file_to_library"
    bl_label = "Add File to Library"
    bl_options = {"REGISTER"}

    filepath: StringProperty(subtype="FILE_PATH")
    filter_glob: StringProperty(default="*.bvh;*.npz;*.pkl", options={"HIDDEN"})

    def invoke(self, context, event):
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        from ..core.library import read_files

        try:
            files = read_files([bpy.path.abspath(self.filepath)])  # a bad file is said before any library is made
            lib = _library(context)
            rec = lib.add_read(files, embed=_embedder())[0]
        except Exception as exc:  # noqa: BLE001
            self.report({"ERROR"}, error_line(exc))
            return {"CANCELLED"}
        _done(self, lib, rec)
        return {"FINISHED"}


classes = (CHOREO_OT_add_action_to_library, CHOREO_OT_add_file_to_library)
