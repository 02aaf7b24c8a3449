"""Operators: Generate Dance, Regenerate Range, Bake Dance, Cancel.

Generation runs in three steps so that nothing is ever half-written:

1. main thread: read the selected sound strip's samples (heard from frame 0
   or later), check the target armature (local or an editable library
   override, mappable) and the weights — any problem is reported and nothing
   changes;
2. worker thread (UI) or inline (background mode): bpy-free core generation;
3. main thread: pack the sound (Pack Audio), create the default dancer if
   needed, key the armature, add markers. A failure here removes whatever
   step 3 created and unpacks the sound.

In the UI ``invoke`` starts the worker and a modal timer drains its progress
into ``window_manager.choreo_job``; Esc or Cancel stops it with the scene
untouched. The whole change is one undo step (the operator's own, pushed when
it finishes). With ``bpy.app.background`` there is no event loop and the
operators run synchronously.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import bpy

from ..core.cleanup import StagePlan
from ..core.errors import ChoreoError, ChoreoInputError
from ..rigs.strips import pack_sound
from .strip_audio import StripAudio, active_sound_strip, read_strip_audio, sequencer_scene
from .worker import Cancelled, Job

_ACTIVE_JOB: dict = {}  # the one running modal job: {"job": Job, "cancel": bool}


@dataclass
class Plan:
    """Everything read from Blender on the main thread before generating."""

    scene_name: str
    audio: StripAudio
    target_name: str | None
    bone_map: object | None
    weights: str | None
    seed: int
    energy: float
    key_mode: str
    tolerance: float
    frame_range: tuple[int, int] | None = None
    beat_grid: object | None = None  # a BeatMap in sound-file time, from the Beat Grid field
    pack_sound: str | None = None    # name of the strip's sound to pack on success (Pack Audio)
    timings: dict = field(default_factory=dict)
    stage: object = None             # a StagePlan: turn, travel, stage size
    keep_grid: str | None = None     # name of the sound to keep the tracked beat grid on (addon.beat_grid)
    locks: tuple = ()                # bone groups a range keeps as they are (rigs.bonegroups)
    follow_keys: bool = True         # a range passes through the animator's keys inside it
    energy_curve: object | None = None  # an EnergyCurve (file seconds) when scene.choreo.energy is keyed
    options: dict = field(default_factory=dict)  # the family's own settings (DanceIt's library, move length)
    notes: tuple = ()                # further markers (dance s, text): where a lifted dance was filled


# --- step 1: read and check (main thread) ------------------------------------

def _weights(context, settings) -> str | None:
    from .preferences import preferences

    if settings.model == "FILE":
        path = bpy.path.abspath(settings.weights_file)
        if not settings.weights_file:
            raise ChoreoInputError("Weights", "Model is Weights File but no file is set")
        if not os.path.isfile(path):
            raise ChoreoInputError(path, "weights file not found")
        return path
    if settings.model != "DEFAULT":  # a shipped family
        from ..core.generation.families import get_family
        from ..core.models.weights import shipped_path

        return str(shipped_path(get_family(settings.model.lower(), "Model").shipped))
    prefs = preferences(context)
    if prefs is not None and prefs.weights_path:
        path = bpy.path.abspath(prefs.weights_path)
        if not os.path.isfile(path):
            raise ChoreoInputError(path, "weights file set in the Choreo preferences not found")
        return path
    return None


def family_options(settings, weights) -> dict:
    """The model's own settings from the panel, for a family that takes them (DanceIt's
    library and move length; a library folder that is not one is said before generating)."""
    from ..core.generation.pipeline import load_generator

    if settings.model not in ("DANCEIT", "FILE") or not hasattr(load_generator(weights)[0], "with_options"):
        return {}
    options = {"fragment_seconds": float(settings.fragment_seconds),
               "no_repeat_seconds": float(settings.no_repeat_seconds)}
    if settings.library:
        from ..core.library import MotionLibrary

        options["library"] = bpy.path.abspath(settings.library)
        MotionLibrary.open(options["library"])
    return options


def dancer_object(context):
    """The armature the panel's operators act on: the target armature, else the active
    object if it is an armature, else None."""
    obj = context.scene.choreo.target
    if obj is None and context.active_object is not None and context.active_object.type == "ARMATURE":
        obj = context.active_object
    return obj


def check_armature(obj):
    """The bone map of armature ``obj``; raises when it cannot be keyed (the
    same check :func:`~choreo.rigs.apply.apply_dance` makes, done before generating)."""
    from ..rigs.actions import check_animatable
    from ..rigs.bonemaps import bone_map_for

    if obj.type != "ARMATURE":
        raise ChoreoInputError(obj.name, "is not an armature")
    check_animatable(obj)
    return bone_map_for(obj)


def _check_strip_frames(strip) -> None:
    """The dance is keyed from the strip's left handle; a scene's frame range
    can't start before frame 0 (Blender clamps it), so a strip heard from a
    negative frame would give keys the scene never plays: refuse it."""
    from ..rigs.strips import left_handle

    first = left_handle(strip)
    if first < 0:
        raise ChoreoInputError(strip.name, f"sound strip starts at frame {first:g}, before frame 0 where a "
                                           "scene's frame range can start; move it to frame 0 or later "
                                           "(or trim its start to frame 0)")


def _sound_to_pack(strip) -> str | None:
    """Name of ``strip``'s sound for Pack Audio (None: already packed)."""
    sound = strip.sound
    if sound is None or sound.packed_file is not None:
        return None
    if sound.library is not None:
        raise ChoreoInputError(strip.name, f"Pack Audio: its sound is linked from the library "
                                           f"{bpy.path.abspath(sound.library.filepath)}; pack it in that "
                                           "file, or turn Pack Audio off")
    return sound.name


def make_plan(context, frame_range=None) -> Plan:
    """Read the strip and the settings; raises :class:`ChoreoError` on bad input."""
    t0 = time.perf_counter()
    seq_scene = sequencer_scene(context)
    strip = active_sound_strip(context, seq_scene)
    settings = context.scene.choreo
    _check_strip_frames(strip)
    pack = _sound_to_pack(strip) if settings.pack_audio else None
    audio = read_strip_audio(strip, seq_scene)
    target = settings.target
    bone_map = check_armature(target) if target is not None else None
    if frame_range is not None and target is None:
        raise ChoreoInputError("Armature", "Regenerate Range needs a target armature that already dances")
    grid, keep_grid = None, None
    if settings.beats_file:
        from ..core.audio.grid import read_beat_grid

        grid = read_beat_grid(bpy.path.abspath(settings.beats_file))
    else:   # the grid kept on the sound (tracked before, perhaps fixed: the panel shows it)
        from .beat_grid import covers, grid_of, stored

        kept = stored(strip.sound)
        if kept is not None and covers(kept, strip.sound, audio.offset, audio.duration):
            grid = grid_of(kept)
        elif strip.sound is not None and strip.sound.library is None:
            keep_grid = strip.sound.name   # tracked now: kept on the sound on success
    from .energy import plan_energy

    energy, curve = plan_energy(context.scene, audio)  # keyed Energy: its F-curve under the strip
    weights = _weights(context, settings)
    return Plan(scene_name=context.scene.name, audio=audio, target_name=target.name if target else None,
                bone_map=bone_map, weights=weights, options=family_options(settings, weights), seed=int(settings.seed),
                energy=energy, energy_curve=curve, key_mode=settings.key_mode.lower(),
                stage=StagePlan(float(settings.turn), float(settings.travel), float(settings.stage_size)).checked(),
                tolerance=float(settings.tolerance), frame_range=frame_range, beat_grid=grid,
                pack_sound=pack, keep_grid=keep_grid, timings={"read_audio_s": time.perf_counter() - t0})


# --- step 2: generate (bpy-free, may run in a thread) ------------------------

def generate(plan: Plan, progress=None):
    """The :class:`~choreo.core.generation.Dance` for ``plan`` (no bpy access)."""
    from ..core.generation.pipeline import generate_from_samples

    a = plan.audio
    return generate_from_samples(a.samples, a.sr, audio_path=a.path or None, audio_start=a.offset,
                                 beat_grid=plan.beat_grid, weights=plan.weights, seed=plan.seed,
                                 energy=plan.energy if plan.energy_curve is None else plan.energy_curve,
                                 stage=plan.stage, options=plan.options, progress=progress)


# --- step 3: write (main thread) ---------------------------------------------

def _snapshot():
    return {"objects": set(bpy.data.objects), "actions": set(bpy.data.actions),
            "armatures": set(bpy.data.armatures), "meshes": set(bpy.data.meshes),
            "cameras": set(bpy.data.cameras), "lights": set(bpy.data.lights),
            "materials": set(bpy.data.materials), "collections": set(bpy.data.collections)}


def _rollback(before) -> None:
    """Remove data-blocks created since ``before`` (the default dancer, its mesh,
    the stage); :func:`~choreo.rigs.apply.apply_dance` undoes its own keys and markers."""
    for key in before:
        coll = getattr(bpy.data, key)
        for idb in set(coll) - before[key]:
            coll.remove(idb)


def apply_plan(context, plan: Plan, dance, progress=None) -> dict:
    """Key ``dance`` onto the plan's armature (or a new default dancer) in the
    scene; all-or-nothing."""
    from ..rigs.apply import apply_dance

    scene = bpy.data.scenes.get(plan.scene_name)
    if scene is None:
        raise ChoreoInputError(plan.scene_name, "scene was removed while the dance was generated")
    # (name, None): the local object, not a linked one of the same name (an override's reference)
    obj = bpy.data.objects.get((plan.target_name, None)) if plan.target_name else None
    if plan.target_name and obj is None:
        raise ChoreoInputError(plan.target_name, "armature was removed while the dance was generated")
    before = _snapshot()
    frames = (scene.frame_start, scene.frame_end)
    t0 = time.perf_counter()
    packed, forget_grid = None, None
    try:
        if plan.pack_sound is not None:  # first: a file that can't be packed changes nothing else
            sound = bpy.data.sounds.get((plan.pack_sound, None))
            if sound is None:
                raise ChoreoInputError(plan.pack_sound, "sound was removed while the dance was generated")
            if sound.packed_file is None:
                pack_sound(sound)
                packed = sound
        created = obj is None
        if created:
            from ..rigs.armature import build_default_rig
            from ..rigs.stage import add_preview_stage

            obj = build_default_rig(collection=scene.collection)
            add_preview_stage(scene, obj, motion=dance.motion)
        report = apply_dance(dance, obj, scene, frame_start=plan.audio.frame_start,
                             key_mode=plan.key_mode, tolerance_m=plan.tolerance,
                             bone_map=plan.bone_map, frame_range=plan.frame_range, locks=plan.locks,
                             follow_keys=plan.follow_keys, notes=plan.notes, progress=progress)
        if created:
            scene.choreo.target = obj
            f0 = int(round(plan.audio.frame_start))
            scene.frame_start = f0
            scene.frame_end = f0 + max(1, int(round(dance.motion.duration * plan.audio.scene_fps))) - 1
        sound = bpy.data.sounds.get((plan.keep_grid, None)) if plan.keep_grid else None
        if sound is not None:
            from .beat_grid import keep_tracked

            forget_grid = keep_tracked(sound, dance, plan.audio)
    except BaseException:
        if forget_grid is not None:
            forget_grid()
        _rollback(before)
        scene.frame_start, scene.frame_end = frames
        if packed is not None:
            packed.unpack(method="REMOVE")  # drops the packed copy; the file path is unchanged
        raise
    report = dict(report or {})
    report["armature"] = obj.name
    report["apply_s"] = time.perf_counter() - t0
    report["packed_sound"] = packed.name if packed is not None else None
    return report


def error_line(exc: BaseException) -> str:
    """The one-line report for a failure: the file/strip and the problem for a
    :class:`ChoreoError`; for anything unexpected its type and first line, with
    the traceback printed to the system console (never shown as a dialog)."""
    if isinstance(exc, ChoreoError):
        return " ".join(str(exc).split())
    import traceback

    traceback.print_exception(type(exc), exc, exc.__traceback__)
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return (f"Choreo failed unexpectedly ({type(exc).__name__}{': ' + first if first else ''}); "
            "the scene is unchanged, details are in the system console")


def _summary(dance, report) -> str:
    n = report.get("keys")
    bits = [f"{dance.motion.duration:.1f} s dance", f"{dance.tempo:.0f} BPM", f"on {report['armature']}"]
    if n is not None:
        bits.append(f"{n} keys")
    if report.get("poses"):   # Regenerate Range / Fill Between Keys through the animator's keys
        bits.append(f"through {report['poses']} of your poses (joint error ≤ {100 * report['pose_error_m']:.1f} cm)")
    return "Choreo: " + ", ".join(bits)


# --- operators ---------------------------------------------------------------

class WorkerOperator:
    """An operator in three steps (module notes): :meth:`plan` on the main thread (every check;
    nothing changes), :meth:`work` bpy-free (a thread in the UI, inline in background mode),
    :meth:`apply` on the main thread (writes, or rolls back what it wrote and raises).
    Esc or Cancel stops the work at its next progress call (a work that leaves files removes
    them on its way out); a result that finished but is not applied goes to :meth:`discard`."""

    bl_options = {"REGISTER", "UNDO"}
    working = "Generating…"   # panel status while the work runs, and while applying
    applying = "Keying…"

    _job: Job | None = None
    _timer = None
    _plan = None

    def plan(self, context):
        raise NotImplementedError

    def work(self, plan, progress=None):
        raise NotImplementedError

    def apply(self, context, plan, result) -> str:
        """Write ``result``; returns the one-line report."""
        raise NotImplementedError

    def discard(self, result) -> None:
        pass

    def execute(self, context):
        """Synchronous path: background mode, scripts, and Adjust Last Operation."""
        try:
            plan = self.plan(context)
            result = self.work(plan)
            message = self.apply(context, plan, result)
        except Exception as exc:  # every failure is one line; apply rolled back what it wrote
            self.report({"ERROR"}, error_line(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, message)
        return {"FINISHED"}

    def invoke(self, context, event):
        if bpy.app.background or context.window is None:
            return self.execute(context)
        if _ACTIVE_JOB:
            self.report({"WARNING"}, "Choreo is already working; cancel it first")
            return {"CANCELLED"}
        try:
            self._plan = self.plan(context)
        except Exception as exc:
            self.report({"ERROR"}, error_line(exc))
            return {"CANCELLED"}
        self._job = Job(self.work, self._plan).start()
        _ACTIVE_JOB.update(job=self._job, cancel=False)
        wm = context.window_manager
        wm.choreo_job.running, wm.choreo_job.progress, wm.choreo_job.status = True, 0.0, self.working
        self._timer = wm.event_timer_add(0.1, window=context.window)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def _finish(self, context, status: str):
        wm = context.window_manager
        if self._timer is not None:
            wm.event_timer_remove(self._timer)
            self._timer = None
        _ACTIVE_JOB.clear()
        wm.choreo_job.running = False
        wm.choreo_job.status = status
        _redraw(context)

    def _stop(self, context, status: str) -> None:
        """End without applying (a result that finished meanwhile is discarded)."""
        self._finish(context, status)
        job = self._job
        if job is not None and job.poll() and job.error is None:
            self.discard(job.result)

    def cancel(self, context):
        """Blender ends the modal (a file load, the window closing): stop the worker."""
        if self._job is not None:
            self._job.cancel()
        self._stop(context, "Cancelled")

    def modal(self, context, event):
        job = self._job
        if (event.type == "ESC" and event.value == "PRESS") or _ACTIVE_JOB.get("cancel"):
            job.cancel()
            self._stop(context, "Cancelled")
            self.report({"INFO"}, "Choreo: cancelled, nothing changed")
            return {"CANCELLED"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        done = job.poll()
        wm = context.window_manager
        wm.choreo_job.progress = 0.9 * job.fraction
        wm.choreo_job.status = job.label or self.working
        _redraw(context)
        if not done:
            return {"RUNNING_MODAL"}
        if job.error is not None:
            exc = job.error
            self._stop(context, "Failed")
            if isinstance(exc, Cancelled):
                return {"CANCELLED"}
            self.report({"ERROR"}, error_line(exc))
            return {"CANCELLED"}
        try:
            wm.choreo_job.status = self.applying
            message = self.apply(context, self._plan, job.result)
        except Exception as exc:
            self._stop(context, "Failed")
            self.report({"ERROR"}, error_line(exc))
            return {"CANCELLED"}
        wm.choreo_job.progress = 1.0
        self._finish(context, "Done")
        self.report({"INFO"}, message)
        return {"FINISHED"}


class _GenerateBase(WorkerOperator):
    def frame_range(self, context):
        return None

    def plan(self, context) -> Plan:
        """What to generate and write; raises :class:`ChoreoError` before anything runs."""
        return make_plan(context, self.frame_range(context))

    def work(self, plan: Plan, progress=None):
        t = time.perf_counter()
        dance = generate(plan, progress)
        plan.timings["generate_s"] = time.perf_counter() - t
        return dance

    def apply(self, context, plan: Plan, dance) -> str:
        return _summary(dance, apply_plan(context, plan, dance))


def _redraw(context) -> None:
    screen = getattr(context, "screen", None)
    if screen is not None:
        for area in screen.areas:
            if area.type in {"SEQUENCE_EDITOR", "VIEW_3D"}:
                area.tag_redraw()


class CHOREO_OT_generate(_GenerateBase, bpy.types.Operator):
    """Generate a dance for the selected sound strip's music and key it on the target armature"""

    bl_idname = "choreo.generate"
    bl_label = "Generate Dance"
    bl_description = ("Generate a dance from the selected sound strip's music and key it on the target "
                      "armature (or on a new default dancer), with beat and section markers")


class CHOREO_OT_regenerate_range(_GenerateBase, bpy.types.Operator):
    """Replace the dance between From and To with a new variation, keeping the keys outside"""

    bl_idname = "choreo.regenerate_range"
    bl_label = "Regenerate Dance Range"
    bl_description = ("Generate again (use another Seed for a new variation) and replace only the keys "
                      "between From and To: the new stretch joins the kept dance at both ends, passes "
                      "through your own keys inside (Follow My Keys) and leaves locked bone groups as they are")

    def frame_range(self, context):
        s = context.scene.choreo
        if s.range_end <= s.range_start:
            raise ChoreoInputError("Regenerate range", f"To ({s.range_end}) must be after From ({s.range_start})")
        return (int(s.range_start), int(s.range_end))

    def plan(self, context) -> Plan:
        from .edit_ops import range_plan

        return range_plan(context, self.frame_range(context))


def bake_dance(context, obj) -> dict:
    """Bake what ``obj`` shows over its action's frame range into plain per-frame keys.

    The result includes constraints and drivers (IK, Rigify controls, a
    Child Of on the hips…), so it plays the same after an FBX/glTF export. The
    baked action replaces the active one, which is kept (fake user) and muted
    on an NLA track so nothing is lost.
    """
    from bpy_extras import anim_utils

    check_armature(obj)
    ad = obj.animation_data
    old = ad.action if ad else None
    if old is None:
        raise ChoreoInputError(obj.name, "has no action to bake; generate a dance first")
    scene = context.scene
    f0, f1 = (int(v) for v in old.frame_range)
    opts = anim_utils.BakeOptions(only_selected=False, do_pose=True, do_object=False, do_visual_keying=True,
                                  do_constraint_clear=False, do_parents_clear=False, do_clean=False,
                                  do_location=True, do_rotation=True, do_scale=False, do_bbone=False,
                                  do_custom_props=False)
    current = scene.frame_current
    it = anim_utils.bake_action_objects_iter([(obj, None)], bake_options=opts)
    it.send(None)
    try:
        for f in range(f0, f1 + 1):  # the iterator leaves setting the frame to its caller
            scene.frame_set(f)
            it.send(f)
        new, = it.send(None)
    finally:
        scene.frame_set(current)
    old.use_fake_user = True
    track = ad.nla_tracks.new()
    track.name = f"{old.name} (before bake)"
    track.strips.new(old.name, int(old.frame_range[0]), old)
    track.mute = True
    new.name = f"{old.name} Baked"
    return {"action": new.name, "frames": (f0, f1), "previous": old.name}


class CHOREO_OT_bake(bpy.types.Operator):
    """Bake the dance, with the rig's constraints, to plain keys on every frame"""

    bl_idname = "choreo.bake"
    bl_label = "Bake Dance"
    bl_description = ("Bake what the armature shows (dance plus constraints, IK, Rigify controls) into a "
                      "new action with a key on every frame, for export; the original action is kept")
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        obj = dancer_object(context)
        if obj is None:
            self.report({"ERROR"}, "Armature: no target armature to bake")
            return {"CANCELLED"}
        try:
            out = bake_dance(context, obj)
        except Exception as exc:
            self.report({"ERROR"}, error_line(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Choreo: baked frames {out['frames'][0]}–{out['frames'][1]} into {out['action']}")
        return {"FINISHED"}


class CHOREO_OT_cancel(bpy.types.Operator):
    """Stop the running generation or render; the scene is left unchanged"""

    bl_idname = "choreo.cancel"
    bl_label = "Cancel Dance Generation"
    bl_description = "Stop the running dance generation or video render; nothing is written"

    @classmethod
    def poll(cls, context):
        return bool(_ACTIVE_JOB)

    def execute(self, context):
        if _ACTIVE_JOB:
            _ACTIVE_JOB["cancel"] = True
            _ACTIVE_JOB["job"].cancel()
        return {"FINISHED"}


classes = (CHOREO_OT_generate, CHOREO_OT_regenerate_range, CHOREO_OT_bake, CHOREO_OT_cancel)
