"""Generation: a whole song through a trained generator, in numpy.

:func:`generate_dance` (audio file) and :func:`generate_from_samples` (samples)
return a :class:`Dance`; :func:`save_dance`/:func:`load_dance` store it.
2D models (OpenPose-18 front view): :func:`generate_pose2d` → :class:`Dance2D`.
``energy`` is one multiplier or an :class:`EnergyCurve` over the song's seconds.
Generators come in families (:mod:`.families`, one folder each: :func:`all_families`,
:func:`family_of`); the song's analysis, decoding and clean-up are shared
(:mod:`.pipeline`), windowing and blending are in :mod:`.windows`.
"""

from .dance import Dance, load_dance, save_dance
from .dance2d import Dance2D, load_dance2d, save_dance2d
from .energy import EnergyCurve, read_energy_curve
from .families import Family, all_families
from .pipeline import family_of, generate_dance, generate_from_samples, generate_pose2d, load_generator

__all__ = ["Dance", "save_dance", "load_dance", "generate_dance", "generate_from_samples", "load_generator",
           "Dance2D", "save_dance2d", "load_dance2d", "generate_pose2d", "EnergyCurve", "read_energy_curve",
           "Family", "all_families", "family_of"]
