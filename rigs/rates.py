"""Scene frame rates as Blender stores them: ``render.fps`` (an integer) and
``render.fps_base`` (the divisor). No bpy: the CLI can check ``--fps`` early."""

from __future__ import annotations

import math

from ..core.errors import ChoreoInputError

NTSC = 1.001  # 23.976 = 24 / 1.001, 29.97 = 30 / 1.001, …


def scene_rate(fps) -> tuple[int, float]:
    """``(render.fps, render.fps_base)`` for a rate given as 30, "25", 23.976,
    "23.98" or "24000/1001" (NTSC rates get base 1.001 exactly)."""
    text = str(fps).strip()
    try:
        num, _, den = text.partition("/")
        value = float(num) / float(den) if den else float(num)
    except (ValueError, ZeroDivisionError):
        raise ChoreoInputError("fps", f"not a frame rate: {text!r} (e.g. 30, 25, 23.976 or 24000/1001)") from None
    if not (math.isfinite(value) and 1.0 <= value <= 240.0):
        raise ChoreoInputError("fps", f"must be between 1 and 240 frames per second, got {text}")
    whole = round(value)
    if abs(value - whole) < 1e-6:
        return int(whole), 1.0
    ntsc = round(value * NTSC)
    if abs(value - ntsc / NTSC) < 0.005:
        return int(ntsc), NTSC
    return int(whole), whole / value  # any other rate, as Blender's FBX importer sets it
