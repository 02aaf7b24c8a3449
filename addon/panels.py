"""Sidebar panels: Sequencer (a sound strip is active) and 3D viewport (an armature is selected)."""

from __future__ import annotations

import bpy


def _draw(layout, context) -> None:
    s = context.scene.choreo
    job = context.window_manager.choreo_job
    col = layout.column()
    col.prop(s, "target")
    col.prop(s, "model")
    if s.model == "FILE":
        col.prop(s, "weights_file")
    if s.model in ("DANCEIT", "FILE"):  # a weights file of DanceIt reads them too
        box = col.box()
        box.prop(s, "library")
        row = box.row(align=True)
        row.prop(s, "fragment_seconds")
        row.prop(s, "no_repeat_seconds")
        row = box.row(align=True)
        row.operator("choreo.add_action_to_library", icon="ADD", text="Add Action")
        row.operator("choreo.add_file_to_library", icon="FILE_NEW", text="Add File…")
    col.prop(s, "beats_file")
    from .beat_grid import draw as draw_grid

    draw_grid(col, context)
    row = col.row(align=True)
    row.prop(s, "seed")
    row.prop(s, "energy")
    row = col.row(align=True)
    row.prop(s, "turn")
    row.prop(s, "travel")
    col.prop(s, "stage_size")
    col.prop(s, "key_mode")
    if s.key_mode == "BEATS":
        col.prop(s, "tolerance")
    col.prop(s, "pack_audio")
    col.separator()
    if job.running:
        col.progress(factor=job.progress, type="BAR", text=job.status or "Generating…")
        col.operator("choreo.cancel", icon="CANCEL", text="Cancel")
    else:
        col.operator("choreo.generate", icon="PLAY_SOUND")
        box = col.box()
        row = box.row(align=True)
        row.prop(s, "range_start")
        row.prop(s, "range_end")
        box.operator("choreo.regenerate_range", icon="FILE_REFRESH", text="Regenerate Range")
        box.operator("choreo.fill_between_keys", icon="KEYFRAME_HLT")
        row = box.row(align=True)
        row.operator("choreo.mirror_range", icon="MOD_MIRROR", text="Mirror Range")
        row.operator("choreo.repeat_section", icon="LOOP_FORWARDS", text="Repeat Section")
        row.operator("choreo.repeat_section", icon="MOD_MIRROR", text="Mirrored").mirror = True
        row = box.row(align=True)
        row.prop(s, "locks")
        box.prop(s, "follow_keys")
        col.operator("choreo.bake", icon="ACTION")
        box = col.box()
        box.prop(s, "photoreal_model")
        box.prop(s, "photoreal_output")
        box.operator("choreo.render_photoreal", icon="RENDER_ANIMATION")
        if job.status:
            col.label(text=job.status, icon="INFO")
        _draw_key_error(col, context)


_MODE_NAMES = {"beats": "On Beats", "poses": "Key Poses", "dense": "Every Frame"}


def _draw_key_error(col, context) -> None:
    """The last Generate's remaining key error per bone group on the target armature
    (else the active one): max and mean joint distance between the keyed curves and
    the dance, from the record :func:`~choreo.rigs.apply.apply_dance` keeps on the rig."""
    from ..rigs.bonegroups import GROUP_LABELS
    from ..rigs.keyposes import read_error_record
    from .operators import dancer_object

    rec = read_error_record(dancer_object(context))
    if rec is None:
        return
    box = col.box()
    frames = rec.get("frames") or [0, 0]
    box.label(text=f"Key error · {_MODE_NAMES.get(rec.get('mode'), rec.get('mode'))} · "
                   f"frames {frames[0]}–{frames[-1]}", icon="GRAPH")
    grid = box.grid_flow(row_major=True, columns=2, even_columns=False, align=True)
    for group, label in GROUP_LABELS.items():
        if group in rec["max_m"]:
            grid.label(text=label)
            mean = rec["mean_m"].get(group, 0.0)
            grid.label(text=f"max {rec['max_m'][group] * 100:.1f} cm · mean {mean * 100:.1f} cm")


class CHOREO_PT_sequencer(bpy.types.Panel):
    bl_label = "Choreo"
    bl_idname = "CHOREO_PT_sequencer"
    bl_space_type = "SEQUENCE_EDITOR"
    bl_region_type = "UI"
    bl_category = "Choreo"

    @classmethod
    def poll(cls, context):
        strip = getattr(context, "active_strip", None)
        return strip is not None and strip.type == "SOUND"

    def draw(self, context):
        _draw(self.layout, context)


class CHOREO_PT_view3d(bpy.types.Panel):
    bl_label = "Choreo"
    bl_idname = "CHOREO_PT_view3d"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Choreo"

    @classmethod
    def poll(cls, context):
        obj = context.active_object
        return obj is not None and obj.type == "ARMATURE"

    def draw(self, context):
        _draw(self.layout, context)


class CHOREO_MT_menu(bpy.types.Menu):
    """Choreo's operators in the Strip and Object › Animation menus, which is
    also what makes them findable in F3 search (it searches menus)."""

    bl_label = "Choreo"
    bl_idname = "CHOREO_MT_menu"

    def draw(self, context):
        layout = self.layout
        layout.operator("choreo.generate", icon="PLAY_SOUND")
        layout.operator("choreo.regenerate_range", icon="FILE_REFRESH")
        layout.operator("choreo.fill_between_keys", icon="KEYFRAME_HLT")
        layout.operator("choreo.mirror_range", icon="MOD_MIRROR")
        layout.operator("choreo.repeat_section", icon="LOOP_FORWARDS")
        layout.operator("choreo.bake", icon="ACTION")
        layout.operator("choreo.render_photoreal", icon="RENDER_ANIMATION")
        layout.operator("choreo.cancel", icon="CANCEL")


def _menu_entry(self, context):
    self.layout.separator()
    self.layout.menu(CHOREO_MT_menu.bl_idname, icon="OUTLINER_OB_ARMATURE")


MENUS = ("SEQUENCER_MT_strip", "VIEW3D_MT_object_animation", "VIEW3D_MT_pose")


def register_menus() -> None:
    for name in MENUS:
        getattr(bpy.types, name).append(_menu_entry)


def unregister_menus() -> None:
    for name in MENUS:
        getattr(bpy.types, name).remove(_menu_entry)


classes = (CHOREO_PT_sequencer, CHOREO_PT_view3d, CHOREO_MT_menu)
