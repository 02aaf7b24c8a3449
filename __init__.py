"""Choreo: music in, a dance on an armature out, keyed to the beats.

This file is the extension's entry point in Blender (``bl_ext.<repo>.choreo``)
and the ``choreo`` package outside it. It imports no bpy at import time, so
``choreo.core`` works in plain Python; Blender calls :func:`register`.
"""

__version__ = "0.1.0"


def register():
    from .addon import register as _register

    _register()


def unregister():
    from .addon import unregister as _unregister

    _unregister()
