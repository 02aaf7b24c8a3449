"""Editing a keyed dance: which frames a range operation replaces, what it keeps, and
**Fill Between Keys**.

Regenerate Range and Fill Between Keys share :func:`range_plan`: the range must lie
under the sound strip, the lock set must leave something to change, and the
armature must already dance — all said in one line before anything is generated.
The keys themselves are joined, posed and locked by :mod:`choreo.rigs.ranges`.
"""

from __future__ import annotations

import math

import bpy

from ..core.errors import ChoreoInputError
from .operators import Plan, _GenerateBase, make_plan

#: Fill Between Keys reaches this many seconds beyond the first and last of your keys
#: (about a bar at 120 BPM), so the dance can arrive at and leave each pose.
FILL_MARGIN_SECONDS = 2.0


def strip_frames(plan: Plan) -> tuple[int, int]:
    """First and last whole scene frame the plan's sound strip plays."""
    a = plan.audio
    first = math.ceil(a.frame_start - 1e-6)
    last = math.floor(a.frame_start + (len(a.samples) / a.sr) * a.scene_fps - 1e-6)
    return first, last


def range_plan(context, frame_range: tuple[int, int], *, plan: Plan | None = None,
               follow_keys: bool | None = None) -> Plan:
    """The plan of a range operation on frames ``frame_range``; refuses, naming the
    problem, a range outside the strip, a lock set that leaves nothing to change and an
    armature without a dance."""
    from ..rigs.bonegroups import BONE_GROUPS, lock_closure

    settings = context.scene.choreo
    locks = tuple(sorted(lock_closure(settings.locks)))
    if set(locks) >= set(BONE_GROUPS):
        raise ChoreoInputError("Locks", "every bone group is locked: nothing is left to regenerate; unlock one")
    plan = make_plan(context, frame_range) if plan is None else plan   # reading the strip is the slow part
    plan.frame_range = (int(frame_range[0]), int(frame_range[1]))
    first, last = strip_frames(plan)
    f0, f1 = frame_range
    if f0 < first or f1 > last:
        raise ChoreoInputError(plan.audio.strip_name, f"range {f0}–{f1} is not under the sound strip, which "
                                                      f"plays frames {first}–{last}")
    obj = bpy.data.objects.get((plan.target_name, None))
    ad = obj.animation_data
    if ad is None or ad.action is None:
        raise ChoreoInputError(obj.name, "has no dance to edit yet: press Generate Dance first (or key a few "
                                         "poses for Fill Between Keys)")
    plan.locks = locks
    plan.follow_keys = bool(settings.follow_keys if follow_keys is None else follow_keys)
    return plan


def fill_range(obj, bone_map, first: int, last: int, fps: float) -> tuple[int, int]:
    """Frames Fill Between Keys replaces: from :data:`FILL_MARGIN_SECONDS` before the
    first of the animator's keys on the dancing bones to as long after the last, within
    the strip's frames ``first … last``."""
    from ..rigs.ranges import animator_key_frames

    keys = animator_key_frames(obj, sorted(set(bone_map.joint_to_bone.values())))
    keys = keys[(keys >= first) & (keys <= last)]
    if not len(keys):
        raise ChoreoInputError(obj.name, "has none of your keys under the sound strip to fill between: key or "
                                         "edit a pose (I in the viewport) on the frames the dance must reach")
    margin = int(round(FILL_MARGIN_SECONDS * fps))
    return max(first, int(math.floor(keys[0])) - margin), min(last, int(math.ceil(keys[-1])) + margin)


class CHOREO_OT_fill_between_keys(_GenerateBase, bpy.types.Operator):
    """Regenerate the dance around your own keys so it passes through them"""

    bl_idname = "choreo.fill_between_keys"
    bl_label = "Fill Between Keys"
    bl_description = ("Regenerate the dance from two seconds before your first key to two seconds after "
                      "your last, passing exactly through every pose you keyed or edited and moving to "
                      "the music in between; Choreo's own keys elsewhere and locked bone groups are kept")

    def plan(self, context) -> Plan:
        settings = context.scene.choreo
        obj = settings.target
        if obj is None:
            raise ChoreoInputError("Armature", "Fill Between Keys needs a target armature with your keys")
        probe = make_plan(context)   # the strip and the armature's bone map, checked
        first, last = strip_frames(probe)
        frames = fill_range(obj, probe.bone_map, first, last, probe.audio.scene_fps)
        return range_plan(context, frames, plan=probe, follow_keys=True)




# --- phrases: Mirror Range, Repeat Section (no generation: the dance on the rig is reused) ----

def _dancer(context):
    """(armature, bone map): the target armature, else the active one; checked."""
    from .operators import check_armature, dancer_object

    obj = dancer_object(context)
    if obj is None:
        raise ChoreoInputError("Armature", "no target armature: set Armature in the Choreo panel")
    return obj, check_armature(obj)


def _key_settings(context) -> dict:
    s = context.scene.choreo
    return {"mode": s.key_mode.lower(), "tolerance_m": float(s.tolerance)}


def mirror_range(context) -> dict:
    """Mirror the dance between From and To left for right (see :mod:`choreo.rigs.phrases`)."""
    import numpy as np

    from ..rigs import phrases
    from ..rigs.apply import scene_fps

    scene = context.scene
    obj, bmap = _dancer(context)
    s = scene.choreo
    f0, f1 = int(s.range_start), int(s.range_end)
    first, last = phrases.dance_frames(obj)
    if f1 <= f0:
        raise ChoreoInputError("Mirror range", f"To ({f1}) must be after From ({f0})")
    if f0 < first or f1 > last:
        raise ChoreoInputError(obj.name, f"range {f0}–{f1} is not inside its dance (frames {first}–{last})")
    rep = phrases.rewrite(obj, bmap, scene_fps(scene), [(np.arange(f0, f1 + 1, dtype=float), (f0, f1))],
                          mirror=True, beats=phrases.beat_frames(scene), **_key_settings(context))
    return {"frames": (f0, f1), "keys": rep.keys, "armature": obj.name}


def repeat_section(context, mirror: bool) -> dict:
    """Dance the section under the playhead again wherever the song repeats it."""
    from ..rigs import phrases
    from ..rigs.apply import scene_fps

    scene = context.scene
    obj, bmap = _dancer(context)
    first, last = phrases.dance_frames(obj)
    secs = phrases.sections(scene, last)
    if not secs:
        raise ChoreoInputError(scene.name, "has no Choreo section markers: Generate Dance first (it marks the "
                                           "song's sections A, B, … on the timeline)")
    now = scene.frame_current
    source = next((sec for sec in secs if sec[0] <= now <= sec[1]), None)
    if source is None:
        raise ChoreoInputError("Repeat Section", f"frame {now} is in no section: put the playhead in the "
                                                 "section to repeat")
    targets = [sec for sec in secs if sec[2] == source[2] and sec != source]
    if not targets:
        order = " ".join(lab for _, _, lab in secs)
        raise ChoreoInputError("Repeat Section", f"section {source[2]} (frames {source[0]}–{source[1]}) is not "
                                                 f"repeated in the song (sections {order})")
    beats = phrases.beat_frames(scene)
    jobs = [phrases.beat_map((source[0], source[1]), (max(t0, first), min(t1, last)), beats)
            for t0, t1, _ in targets]
    rep = phrases.rewrite(obj, bmap, scene_fps(scene), jobs, mirror=mirror, beats=beats, **_key_settings(context))
    return {"section": source[2], "targets": [r for _, r in jobs], "keys": rep.keys, "armature": obj.name}


class CHOREO_OT_mirror_range(bpy.types.Operator):
    """Mirror the dance between From and To, left for right"""

    bl_idname = "choreo.mirror_range"
    bl_label = "Mirror Dance Range"
    bl_description = ("Dance the frames From–To mirrored, left for right (travel to the left becomes travel "
                      "to the right), joined to the kept dance at both ends; the previous action is kept")
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        from .operators import error_line

        try:
            out = mirror_range(context)
        except Exception as exc:
            self.report({"ERROR"}, error_line(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Choreo: mirrored frames {out['frames'][0]}–{out['frames'][1]} on {out['armature']}")
        return {"FINISHED"}


class CHOREO_OT_repeat_section(bpy.types.Operator):
    """Dance the section under the playhead again where the song repeats it"""

    bl_idname = "choreo.repeat_section"
    bl_label = "Repeat Section"
    bl_description = ("Copy the dance of the section under the playhead (the timeline's Choreo section "
                      "markers) onto every other section with the same letter, beat for beat, joined at "
                      "both ends; Mirrored dances the repeats left for right")
    bl_options = {"REGISTER", "UNDO"}

    mirror: bpy.props.BoolProperty(name="Mirrored", description="Dance the repeats mirrored, left for right",
                                   default=False)

    def execute(self, context):
        from .operators import error_line

        try:
            out = repeat_section(context, self.mirror)
        except Exception as exc:
            self.report({"ERROR"}, error_line(exc))
            return {"CANCELLED"}
        where = ", ".join(f"{a}–{b}" for a, b in out["targets"])
        self.report({"INFO"}, f"Choreo: section {out['section']} danced again{' mirrored' if self.mirror else ''} "
                              f"at frames {where}")
        return {"FINISHED"}


classes = (CHOREO_OT_fill_between_keys, CHOREO_OT_mirror_range, CHOREO_OT_repeat_section)
