"""Clean-up every generator family's dance goes through (bpy-free, numpy).

:func:`clean_dance` runs, in order, :func:`.beats.align_to_beats` (the
dance's accents moved onto the music's beats), :func:`.stage.stage_dance` (sustained
turning and travel scaled by the choreographer's ``turn`` and ``travel``, the
path kept on the stage) and :func:`.feet.ground_dance` (legs kept apart, the
body on the floor except in jumps, feet planted during contacts). The shared
generation path applies it after decoding, so every family gets it.
"""

from __future__ import annotations

from ..motion import Motion
from .stage import StagePlan


def clean_dance(motion: Motion, plan: StagePlan | None = None, beats=None) -> Motion:
    """``motion`` (SMPL-24, metres, z up, feet on z = 0) put on the ``beats`` (s from
    its first frame; None: left as it is), staged and grounded."""
    from .beats import align_to_beats
    from .feet import ground_dance
    from .stage import stage_dance

    return ground_dance(stage_dance(align_to_beats(motion, beats), plan or StagePlan()))


__all__ = ["StagePlan", "clean_dance"]
