"""Choreo's bpy-free core: audio, skeletons, motion, data, models, metrics.

Nothing here imports bpy, so the same code serves the CLI, the tests and the
worker process the add-on spawns.
"""
