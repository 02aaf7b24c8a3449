"""Add-on preferences: a default weights file.

(No compute-device choice: everything the add-on runs is numpy on the CPU;
torch, and with it CUDA, is for ``choreo train`` outside Blender.)
"""

from __future__ import annotations

import bpy
from bpy.props import StringProperty

# The top-level package: "choreo" when installed as a plain add-on or imported
# from the repo, "bl_ext.<repo>.choreo" as an extension.
PACKAGE = __package__.rpartition(".")[0]


class ChoreoPreferences(bpy.types.AddonPreferences):
    bl_idname = PACKAGE

    weights_path: StringProperty(
        name="Default Weights",
        description="Generator weights (.safetensors) used instead of the shipped model; empty = shipped",
        subtype="FILE_PATH", default="")

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "weights_path")


def preferences(context=None):
    """This add-on's preferences, or ``None`` when not registered as an add-on
    (e.g. ``choreo.register()`` called from a script)."""
    context = context or bpy.context
    addon = context.preferences.addons.get(PACKAGE)
    return addon.preferences if addon is not None else None


classes = (ChoreoPreferences,)
