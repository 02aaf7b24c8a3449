"""DanceIt's skeleton metrics (Guo et al. 2021, §V-C, Tables I–II) under the paper's names.

Each is implemented once, where its family lives; this module gathers them and
adds Table II's percentages:

- :func:`beat_alignment_rate` — S_BA (eq. 14, 17), :func:`.beats.s_ba`: each music
  beat owns a window of one beat interval (ω_c) centred on it, the pose beat is
  the step of largest mean joint displacement in it, and the beat counts when
  the pose beat is within one 24-fps frame (1/24 s) of it. At 30 fps, with steps
  placed between frames, that accepts the step into and the step out of the beat
  frame (±1 frame), the nearest equivalent of the paper's exact match at 24 fps.
  A window *starting* at the beat (eq. 14 read literally) would score a peak on
  the beat only when the movement falls for a whole beat after it, so it is centred.
- :func:`moving_distribution` — Table II: % of adjacent-frame hand (wrist) / foot
  (ankle) displacements per bin (0, 20, 40, 60, 80, 400 px per 1/30 s).
- :func:`mdd` — MDD_{h,f} (eq. 18), :func:`.distribution.moving_distribution_distance`.
- :func:`sdd` — SDD_{h,f}, :func:`.distribution.spacing_distribution_distance`.

Pixels → metres: a 1.46 m ankle-to-head SMPL body spans 460 px of DanceIt's
512-px frames, 1 px ≈ 3.2 mm (:data:`.distribution.METRES_PER_PIXEL`); so the bins
are 0–6.3–12.7–19.0–25.3–127 mm per 1/30 s, i.e. 0–1.9–3.8–5.7–7.6–38 m/s.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..motion import Motion
from .beats import s_ba as beat_alignment_rate
from .distribution import BINS_PX, METRES_PER_PIXEL, moving_histogram
from .distribution import moving_distribution_distance as mdd
from .distribution import spacing_distribution_distance as sdd

#: Table II bin edges in metres per 1/30 s.
BINS_M = BINS_PX * METRES_PER_PIXEL

__all__ = ["beat_alignment_rate", "moving_distribution", "mdd", "sdd", "BINS_M"]


def moving_distribution(motions: Motion | Sequence[Motion], part: str = "hand") -> np.ndarray:
    """DanceIt Table II row: percentage (5,) of the adjacent-frame displacements of
    both wrists (``part="hand"``) or ankles (``"foot"``) in each bin of
    :data:`BINS_M` (metres per 1/30 s at any fps; beyond the last edge counted in
    the last bin). Sums to 100."""
    if isinstance(motions, Motion):
        motions = [motions]
    return 100.0 * moving_histogram(motions, part)
