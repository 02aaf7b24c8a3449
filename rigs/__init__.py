"""Motion -> Blender data: armatures, bone maps, retargeting, keyframes.

Depends on core, never on addon.
"""
