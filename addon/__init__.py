"""Blender UI: properties, operators, panels, preferences (issue 4 fills this in).

Only this layer imports bpy. Imports point one way: addon -> rigs -> core.
"""

classes: tuple = ()


def register():
    import bpy

    for cls in classes:
        bpy.utils.register_class(cls)


def unregister():
    import bpy

    for cls in reversed(classes):
        bpy.utils.unregister_class(cls)
