"""Settings the animator edits (``scene.choreo``) and the running job's state
(``window_manager.choreo_job``).

The job state lives on the window manager, not the scene: it is neither saved
in the .blend nor part of undo, so cancelling a generation leaves the scene
exactly as it was.
"""

from __future__ import annotations

import bpy
from bpy.props import (BoolProperty, EnumProperty, FloatProperty, IntProperty, PointerProperty,
                       StringProperty)


def _model_items() -> list[tuple[str, str, str]]:
    """The model menu: each shipped generator family (its one line on what it is good at),
    the default's first, then a weights file."""
    from ..core.generation.families import shipped_families
    from ..core.models.weights import DEFAULT_MODEL

    fams = sorted(shipped_families(), key=lambda f: f.shipped != DEFAULT_MODEL)
    items = [("DEFAULT" if f.shipped == DEFAULT_MODEL else f.name.upper(), f.title or f.name,
              f.description + (" (or the weights set in the add-on preferences)" if f.shipped == DEFAULT_MODEL
                               else "")) for f in fams]
    if not items or items[0][0] != "DEFAULT":
        items.insert(0, ("DEFAULT", "Shipped", "The shipped default generator (or the one set in the add-on "
                                               "preferences)"))
    return items + [("FILE", "Weights File", "A generator weights file (.safetensors) trained with `choreo train`")]


def _poll_armature(self, obj) -> bool:
    return obj.type == "ARMATURE"


class ChoreoSettings(bpy.types.PropertyGroup):
    """Per-scene generation settings."""

    model: EnumProperty(
        name="Model",
        description="Which generator family (or weights file) makes the dance",
        items=_model_items(),
        default="DEFAULT")
    weights_file: StringProperty(
        name="Weights", description="Generator weights file (.safetensors) used when Model is Weights File",
        subtype="FILE_PATH", default="")
    library: StringProperty(
        name="Library",
        description="Motion library DanceIt assembles the dance from (a folder made by `choreo library add` or "
                    "Add to Library); empty = your default library, or the shipped moves until you add your own",
        subtype="DIR_PATH", default="")
    fragment_seconds: FloatProperty(
        name="Move Length", description="Length of each library move DanceIt places, rounded to the song's "
                                        "phrase (1, 2, 4 or 8 beats)",
        default=2.0, min=0.5, max=8.0, subtype="TIME_ABSOLUTE", unit="TIME_ABSOLUTE")
    no_repeat_seconds: FloatProperty(
        name="No Repeat", description="DanceIt uses a library move again only after this many seconds",
        default=30.0, min=0.0, soft_max=120.0, subtype="TIME_ABSOLUTE", unit="TIME_ABSOLUTE")
    beats_file: StringProperty(
        name="Beat Grid",
        description="Optional beat-grid JSON (beats, downbeats, meter; seconds into the sound file) used "
                    "instead of beat tracking; empty = track the beats of the music",
        subtype="FILE_PATH", default="")
    seed: IntProperty(
        name="Seed", description="Variation: the same song, seed and energy always give the same dance",
        default=0, min=0)
    energy: FloatProperty(
        name="Energy", description="How big and busy the movement is (1 = as the music suggests). Key it "
                                   "(right-click › Insert Keyframe) or draw its F-curve in the Graph Editor "
                                   "to change it over the song: Generate follows the curve under the strip",
        default=1.0, min=0.1, soft_max=3.0, max=10.0)
    turn: FloatProperty(
        name="Turn", description="How much of the dance's sustained turning to keep (0 = faces the front, "
                                 "1 = as generated; net turning stays at most 4 turns a minute)",
        default=0.5, min=0.0, max=1.0, subtype="FACTOR")
    travel: FloatProperty(
        name="Travel", description="How much of the dance's travel across the floor to keep (0 = on the spot)",
        default=0.5, min=0.0, max=1.0, subtype="FACTOR")
    stage_size: FloatProperty(
        name="Stage", description="Side of the square stage around the start the dancer stays on",
        default=4.0, min=1.0, max=50.0, subtype="DISTANCE", unit="LENGTH")
    key_mode: EnumProperty(
        name="Keys",
        description="How the dance is keyed on the armature",
        items=[("BEATS", "On Beats", "Few keys, on the beats plus where needed to stay within the tolerance; "
                                     "easy to edit"),
               ("POSES", "Key Poses", "A pose on every beat, and on a half-beat only where the motion needs "
                                      "one; handles ease through the beats as in a hand-keyed dance. Fewest "
                                      "keys; the remaining error per bone group is shown after Generate"),
               ("DENSE", "Every Frame", "A key on every frame; exact, harder to edit")],
        default="BEATS")
    tolerance: FloatProperty(
        name="Tolerance", description="Largest joint drift allowed between keys (On Beats mode)",
        default=0.02, min=0.001, max=0.5, subtype="DISTANCE", unit="LENGTH")
    target: PointerProperty(
        name="Armature", type=bpy.types.Object, poll=_poll_armature,
        description="Armature that dances; empty = create Choreo's default dancer and a preview stage")
    pack_audio: BoolProperty(
        name="Pack Audio",
        description="When Generate succeeds, pack the sound strip's audio file into the .blend (same undo "
                    "step), so the song travels with the file",
        default=False)
    range_start: IntProperty(
        name="From", description="First scene frame Regenerate Range replaces", default=1)
    range_end: IntProperty(
        name="To", description="Last scene frame Regenerate Range replaces", default=250)
    follow_keys: BoolProperty(
        name="Follow My Keys",
        description="Regenerate Range passes exactly through the keys you inserted or edited inside the "
                    "range (Choreo's own keys are replaced); off: your keys there are replaced too",
        default=True)
    locks: EnumProperty(
        name="Keep",
        description="Bone groups Regenerate Range and Fill Between Keys leave exactly as they are",
        items=[("left_arm", "L Arm", "Keep the left arm's keys"),
               ("right_arm", "R Arm", "Keep the right arm's keys"),
               ("spine_head", "Spine", "Keep the spine, neck and head keys"),
               ("legs", "Legs", "Keep the legs' keys, with the hips and travel they stepped with (new hips "
                                "over kept legs would drag the planted feet)"),
               ("root", "Travel", "Keep the hips: where the dancer is and faces")],
        options={"ENUM_FLAG"}, default=set())
    photoreal_model: StringProperty(
        name="Renderer", subtype="FILE_PATH",
        description="The target person's renderer (.safetensors), trained with choreo video train")
    photoreal_output: StringProperty(
        name="Video", subtype="FILE_PATH", default="//photoreal.mp4",
        description="Where Render Photoreal Video writes the MP4 (// = beside the .blend)")


class ChoreoJob(bpy.types.PropertyGroup):
    """State of the running generation, drawn by the panels (not saved)."""

    running: BoolProperty(name="Running", default=False)
    progress: FloatProperty(name="Progress", default=0.0, min=0.0, max=1.0, subtype="FACTOR")
    status: StringProperty(name="Status", default="")


classes = (ChoreoSettings, ChoreoJob)


def register_props() -> None:
    bpy.types.Scene.choreo = PointerProperty(type=ChoreoSettings)
    bpy.types.WindowManager.choreo_job = PointerProperty(type=ChoreoJob)


def unregister_props() -> None:
    del bpy.types.WindowManager.choreo_job
    del bpy.types.Scene.choreo
