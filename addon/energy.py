"""The Energy curve: ``scene.choreo.energy`` keyed over the timeline drives the
energy control over time.

The choreographer keys the panel's Energy (right-click › Insert Keyframe at a
few frames) or draws its F-curve in the Graph Editor. Before generating,
:func:`plan_energy` evaluates that F-curve — the one with data path
``choreo.energy`` in the scene's active action (its assigned slot) — at every
scene frame the sound strip plays, clamps it to the property's range and hands
an :class:`~choreo.core.generation.energy.EnergyCurve` in seconds into the sound
file to generation. Scene frame ``f`` plays file second ``offset + (f -
frame_start) / fps`` (:class:`~.strip_audio.StripAudio`), so the curve sits under
the music exactly where it was drawn. Unkeyed (or a muted F-curve, or one whose
value never changes) is one number, exactly as before.

What is read is the F-curve of the active action (with its modifiers, as
``FCurve.evaluate`` gives them); drivers on the property, NLA strips and the
action's influence are not evaluated. Main thread only.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.generation.energy import EnergyCurve
from .strip_audio import StripAudio

#: The property the curve is keyed on, relative to the scene.
DATA_PATH = "choreo.energy"


def energy_fcurve(scene):
    """The F-curve animating ``scene.choreo.energy`` in the scene's active action
    (the channelbag of its assigned slot), or None: unkeyed, or muted."""
    from ..rigs.actions import assigned_channelbag

    ad = scene.animation_data
    if ad is None or ad.action is None:
        return None
    bag = assigned_channelbag(scene)
    fcurves = bag.fcurves if bag is not None else getattr(ad.action, "fcurves", None)  # 4.x legacy action
    fc = fcurves.find(DATA_PATH) if fcurves is not None else None
    if fc is None or fc.mute:
        return None
    return fc


def strip_energy_curve(fc, audio: StripAudio, lo: float, hi: float) -> EnergyCurve:
    """F-curve ``fc`` evaluated at every scene frame ``audio`` plays (from its
    ``frame_start`` for ``duration`` s, one frame past the end), clamped to
    ``lo … hi``: multipliers at seconds into the sound file."""
    fps = float(audio.scene_fps)
    steps = np.arange(int(math.ceil(audio.duration * fps)) + 1)
    frames = float(audio.frame_start) + steps
    values = np.clip(np.array([fc.evaluate(float(f)) for f in frames], np.float64), lo, hi)
    return EnergyCurve(float(audio.offset) + steps / fps, values)


def plan_energy(scene, audio: StripAudio) -> tuple[float, EnergyCurve | None]:
    """``(energy, curve)`` to generate with: the property's value and None when it
    is not keyed (or its curve is constant under the strip: that value, exactly
    as an unkeyed one), else its :class:`EnergyCurve` under the strip."""
    settings = scene.choreo
    fc = energy_fcurve(scene)
    if fc is None:
        return float(settings.energy), None
    prop = settings.bl_rna.properties["energy"]
    curve = strip_energy_curve(fc, audio, float(prop.hard_min), float(prop.hard_max))
    if curve.is_constant:
        return float(curve.values[0]), None
    return float(settings.energy), curve


__all__ = ["DATA_PATH", "energy_fcurve", "strip_energy_curve", "plan_energy"]
