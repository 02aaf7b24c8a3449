"""Blender UI: properties, operators, panels, preferences.

Only this layer imports bpy (inside :func:`register`, so importing the package
stays bpy-free). Imports point one way: addon -> rigs -> core.
"""


def _classes():
    from . import (beat_grid, edit_ops, import_ops, library_ops, operators, panels, photoreal_ops, preferences,
                   properties)

    return (properties.classes + preferences.classes + operators.classes + edit_ops.classes + beat_grid.classes
            + library_ops.classes + photoreal_ops.classes + import_ops.classes + panels.classes)


def register():
    import bpy

    from . import import_ops, panels, properties

    for cls in _classes():
        bpy.utils.register_class(cls)
    properties.register_props()
    panels.register_menus()
    import_ops.register_menu()


def unregister():
    import bpy

    from . import import_ops, panels, properties

    import_ops.unregister_menu()
    panels.unregister_menus()
    properties.unregister_props()
    for cls in reversed(_classes()):
        bpy.utils.unregister_class(cls)
