"""Generation: a whole song through the trained generator, in numpy.

:func:`generate_dance` (audio file) and :func:`generate_from_samples` (samples)
return a :class:`Dance`; :func:`save_dance`/:func:`load_dance` store it.
The numpy forward pass is :mod:`.runtime`, windowing and blending :mod:`.windows`.
"""

from .dance import Dance, load_dance, save_dance
from .pipeline import generate_dance, generate_from_samples, load_generator

__all__ = ["Dance", "save_dance", "load_dance", "generate_dance", "generate_from_samples", "load_generator"]
