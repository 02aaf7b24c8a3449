"""Layered actions (Blender 4.4+ / 5.0): a new Action + slot per write, its
channelbag and F-curves, and keeping the action it replaces.

Blender 5.0 removed ``Action.fcurves``/``Action.groups``; curves live in
``action.layers[0].strips[0].channelbag(slot).fcurves``. 5.0 has
``bpy_extras.anim_utils.action_ensure_channelbag_for_slot`` and
``fcurves.new(..., group_name=)``; 4.4/4.5 create the layer and strip
themselves and set ``fc.group``. Nothing here deletes or overwrites a user's
action: the replaced one goes to a muted NLA track and gets a fake user, and
:class:`ActionSwap` undoes a swap exactly (used when a later step fails).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import bpy
import numpy as np
from bpy_extras import anim_utils

from ..core.errors import ChoreoInputError

PREVIOUS_TRACK = "Choreo previous"
_KP = bpy.types.Keyframe.bl_rna.properties
# Keyframe attributes copied when an action's keys are carried over.
_FLOAT2 = ("co", "handle_left", "handle_right")
_ENUMS = ("interpolation", "handle_left_type", "handle_right_type", "type", "easing")
_FLOATS = ("back", "amplitude", "period")


def enum_value(prop: str, item: str) -> int:
    """Integer of a Keyframe enum item, for ``foreach_set`` (e.g. ``("interpolation", "BEZIER")``)."""
    return _KP[prop].enum_items[item].value


def unique_action_name(base: str) -> str:
    """``base``, or ``base.001``, ``base.002``… : the first name no action has."""
    if base not in bpy.data.actions:
        return base
    n = 1
    while f"{base}.{n:03d}" in bpy.data.actions:
        n += 1
    return f"{base}.{n:03d}"


def check_animatable(obj) -> None:
    """Raise :class:`ChoreoInputError` when ``obj``'s animation can't be replaced
    safely: linked from a library, a non-editable (system) library override, or
    in NLA tweak mode.

    An editable library override is keyed like a local object: its new action
    is local and assigning it is an override Blender saves (Blender's way to
    animate a linked character); linked data itself can't be changed.
    """
    lib = getattr(obj, "library", None)
    if lib is not None:
        raise ChoreoInputError(obj.name, f"is linked from the library {bpy.path.abspath(lib.filepath)} and "
                               "can't be keyed; make a library override (Object > Library Override > Make) "
                               "and key that, or make it local (Object > Relations > Make Local)")
    ov = getattr(obj, "override_library", None)
    if ov is not None and ov.is_system_override:
        raise ChoreoInputError(obj.name, "is a non-editable library override; make it editable "
                               "(select it, Object > Library Override > Make) to key it")
    ad = obj.animation_data
    if ad is not None and ad.use_tweak_mode:
        raise ChoreoInputError(obj.name, "is in NLA tweak mode; exit tweak mode (Tab in the NLA editor) first")


def assigned_channelbag(obj):
    """Channelbag of ``obj``'s assigned action and slot, or None."""
    ad = obj.animation_data
    if ad is None or ad.action is None or ad.action_slot is None:
        return None
    return anim_utils.action_get_channelbag_for_slot(ad.action, ad.action_slot)


def ensure_channelbag(action, slot):
    """The channelbag for ``slot`` in ``action``'s first layer/strip, created if missing."""
    if hasattr(anim_utils, "action_ensure_channelbag_for_slot"):  # 5.0
        return anim_utils.action_ensure_channelbag_for_slot(action, slot)
    layer = action.layers[0] if action.layers else action.layers.new("Layer")
    strip = layer.strips[0] if layer.strips else layer.strips.new(type='KEYFRAME')
    return strip.channelbag(slot, ensure=True)


def new_fcurve(channelbag, data_path: str, index: int, group: str | None):
    """A new F-curve in ``channelbag``, in group ``group`` (created if needed)."""
    if group is None:
        return channelbag.fcurves.new(data_path, index=index)
    try:
        return channelbag.fcurves.new(data_path, index=index, group_name=group)  # 5.0
    except TypeError:  # 4.4/4.5: no group_name argument
        fc = channelbag.fcurves.new(data_path, index=index)
        grp = channelbag.groups.get(group) or channelbag.groups.new(group)
        fc.group = grp
        return fc


def read_keys(fc, names=None) -> dict[str, np.ndarray]:
    """Keyframe attributes of F-curve ``fc`` as arrays (see :func:`write_keys`):
    all of them, or only ``names``."""
    kp = fc.keyframe_points
    n = len(kp)
    out: dict[str, np.ndarray] = {}
    for name in (*_FLOAT2, *_ENUMS, *_FLOATS) if names is None else names:
        a = np.empty(2 * n if name in _FLOAT2 else n, np.int32 if name in _ENUMS else np.float32)
        kp.foreach_get(name, a)
        out[name] = a.reshape(n, 2) if name in _FLOAT2 else a
    return out


def write_keys(fc, keys: dict[str, np.ndarray]) -> None:
    """Replace ``fc``'s keyframes by ``keys`` (arrays by attribute: ``co`` (n, 2)
    required; missing attributes keep Blender's defaults) in a few bulk calls,
    then let Blender recompute auto handles (``fc.update()``)."""
    kp = fc.keyframe_points
    kp.clear()
    n = len(keys["co"])
    if n == 0:
        return
    kp.add(n)
    first = kp[0]
    for name in (*_FLOAT2, *_ENUMS, *_FLOATS):
        if name not in keys:
            continue
        a = np.ascontiguousarray(keys[name], np.int32 if name in _ENUMS else np.float32).ravel()
        # Enum foreach_set is slow (~0.1 µs a key): skip it when every new key
        # already has the value (kp.add uses the user's defaults for new keys).
        if name in _ENUMS and (a == a[0]).all() and _KP[name].enum_items[getattr(first, name)].value == a[0]:
            continue
        kp.foreach_set(name, a)
    fc.update()


def copy_fcurve(src_fc, channelbag, keep=None):
    """Copy ``src_fc`` into ``channelbag`` (keys, extrapolation, flags); ``keep``,
    a function of the key frames (n,) → bool mask, selects which keys to copy."""
    grp = src_fc.group.name if src_fc.group is not None else None
    fc = new_fcurve(channelbag, src_fc.data_path, src_fc.array_index, grp)
    keys = read_keys(src_fc)
    if keep is not None:
        mask = keep(keys["co"][:, 0])
        keys = {k: v[mask] for k, v in keys.items()}
    write_keys(fc, keys)
    fc.extrapolation = src_fc.extrapolation
    fc.auto_smoothing = src_fc.auto_smoothing
    fc.mute, fc.hide, fc.lock = src_fc.mute, src_fc.hide, src_fc.lock
    return fc


@dataclass
class ActionSwap:
    """A new action assigned to ``obj`` in place of ``previous``; :meth:`undo`
    puts everything back (previous action and slot, fake-user flag, NLA) and
    deletes the new action."""

    obj: object
    action: object
    slot_identifier: str
    previous: object = None
    previous_slot: str | None = None
    previous_fake_user: bool = False
    created_animdata: bool = False
    track_name: str | None = None
    extra: list = field(default_factory=list)   # callables run first on undo

    def undo(self) -> None:
        for fn in reversed(self.extra):
            fn()
        obj = self.obj
        ad = obj.animation_data
        if ad is not None and self.track_name and self.track_name in ad.nla_tracks:
            ad.nla_tracks.remove(ad.nla_tracks[self.track_name])
        if self.created_animdata:
            obj.animation_data_clear()
        elif ad is not None:
            ad.action = self.previous
            if self.previous is not None and self.previous_slot in self.previous.slots:
                ad.action_slot = self.previous.slots[self.previous_slot]
        if self.previous is not None:
            self.previous.use_fake_user = self.previous_fake_user
        if self.action is not None and self.action.name in bpy.data.actions:
            bpy.data.actions.remove(self.action)
        self.action = None


def _unique_track_name(ad, base: str) -> str:
    names = {t.name for t in ad.nla_tracks}
    if base not in names:
        return base
    n = 1
    while f"{base}.{n:03d}" in names:
        n += 1
    return f"{base}.{n:03d}"


def _push_to_nla(ad, action, slot_identifier: str | None) -> str:
    """Put ``action`` on a new muted NLA track (one per replaced action, since
    the strips of one track may not overlap) and return the track's name."""
    track = ad.nla_tracks.new()
    track.name = _unique_track_name(ad, PREVIOUS_TRACK)
    start = int(np.floor(action.frame_range[0]))
    strip = track.strips.new(action.name, start, action)
    if slot_identifier and slot_identifier in action.slots:
        try:
            strip.action_slot = action.slots[slot_identifier]
        except (TypeError, RuntimeError):  # slot not suitable: keep Blender's choice
            pass
    track.mute = True
    return track.name


def swap_in_new_action(obj, name: str = "Choreo Dance") -> tuple[ActionSwap, object]:
    """Create a new action (unique ``name``) with a slot for ``obj``, assign it,
    and keep the previous one (muted NLA track + fake user).

    Returns
    -------
    (ActionSwap, channelbag)
        The swap record (call ``undo()`` to revert) and the new action's
        empty channelbag for ``obj``'s slot.
    """
    check_animatable(obj)
    created = obj.animation_data is None
    ad = obj.animation_data or obj.animation_data_create()
    prev = ad.action
    prev_slot = ad.action_slot.identifier if (prev is not None and ad.action_slot is not None) else None
    swap = ActionSwap(obj=obj, action=None, slot_identifier="", previous=prev, previous_slot=prev_slot,
                      previous_fake_user=bool(prev.use_fake_user) if prev is not None else False,
                      created_animdata=created)
    try:
        act = bpy.data.actions.new(unique_action_name(name))
        swap.action = act
        slot = act.slots.new(id_type='OBJECT', name=obj.name)
        ident = slot.identifier
        swap.slot_identifier = ident
        if prev is not None:
            prev.use_fake_user = True
            swap.track_name = _push_to_nla(ad, prev, prev_slot)
        ad.action = act
        # Assigning the action can reallocate its slots: look the slot up again
        # (reusing the old Python reference crashes Blender 5.0.1).
        if ad.action_slot is None or ad.action_slot.identifier != ident:
            ad.action_slot = act.slots[ident]
        return swap, ensure_channelbag(act, act.slots[ident])
    except Exception:
        swap.undo()
        raise
