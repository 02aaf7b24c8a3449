"""Add-on preferences: compute device and a default weights file."""

from __future__ import annotations

import bpy
from bpy.props import EnumProperty, StringProperty

# The top-level package: "choreo" when installed as a plain add-on or imported
# from the repo, "bl_ext.<repo>.choreo" as an extension.
PACKAGE = __package__.rpartition(".")[0]


class ChoreoPreferences(bpy.types.AddonPreferences):
    bl_idname = PACKAGE

    device: EnumProperty(
        name="Compute Device",
        description="Where generation runs; the shipped runtime is numpy on the CPU, "
                    "CUDA is used only by torch-based models",
        items=[("AUTO", "Automatic", "CUDA when torch sees a GPU, else the CPU"),
               ("CPU", "CPU", "Always the CPU"),
               ("CUDA", "CUDA", "An NVIDIA GPU through torch")],
        default="AUTO")
    weights_path: StringProperty(
        name="Default Weights",
        description="Generator weights (.safetensors) used instead of the shipped model; empty = shipped",
        subtype="FILE_PATH", default="")

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "device")
        layout.prop(self, "weights_path")


def preferences(context=None):
    """This add-on's preferences, or ``None`` when not registered as an add-on
    (e.g. ``choreo.register()`` called from a script)."""
    context = context or bpy.context
    addon = context.preferences.addons.get(PACKAGE)
    return addon.preferences if addon is not None else None


classes = (ChoreoPreferences,)
