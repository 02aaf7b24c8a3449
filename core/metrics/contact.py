"""Physical Foot Contact score (PFC) of a dance, after Stanford-TML/EDGE ``eval/eval_pfc.py``.

A body can only accelerate horizontally, or upwards faster than gravity allows,
while a foot pushes on the floor, i.e. while some foot is still. Per frame:

    a_t = |root acceleration| with its up component clamped to ≥ 0, / max_t a_t
    s_t = min(v_l_ankle, v_l_foot) · min(v_r_ankle, v_r_foot)   (horizontal, m per frame)
    PFC = mean_t a_t · s_t

so a root that accelerates while both feet slide scores badly (↓ is better).
EDGE reports the mean over sequences × 10,000; :func:`physical_foot_contact`
returns the per-sequence value already × 10,000, so the set figure is the plain
mean. EDGE's frame time is 1/30 s and its foot speeds are per-frame
displacements: a motion at another rate is resampled to 30 fps first so the
numbers stay on EDGE's scale.
"""

from __future__ import annotations

import numpy as np

from ..motion import Motion
from ..skeleton import JOINT_INDEX as J

EDGE_FPS = 30.0
SCALE = 10_000.0
_FEET = (J["l_ankle"], J["l_foot"], J["r_ankle"], J["r_foot"])  # SMPL 7, 10, 8, 11


def physical_foot_contact(motion: Motion) -> float:
    """EDGE PFC (↓) of one motion, × 10,000.

    Parameters
    ----------
    motion : Motion
        SMPL-24, metres, z up, any fps (resampled to 30 fps).

    Returns
    -------
    pfc : float ≥ 0. 0 when the root never accelerates (or fewer than 3 frames).
    """
    p = motion.resample(EDGE_FPS).joints.astype(np.float64)
    if len(p) < 3:
        return 0.0
    dt = 1.0 / EDGE_FPS
    root_v = np.diff(p[:, 0], axis=0) / dt
    root_a = np.diff(root_v, axis=0) / dt                      # (T-2, 3)
    root_a[:, 2] = np.maximum(root_a[:, 2], 0.0)
    a = np.linalg.norm(root_a, axis=-1)
    if a.max() <= 0:
        return 0.0
    a /= a.max()
    feet = p[:, _FEET, :2]
    v = np.linalg.norm(feet[2:] - feet[1:-1], axis=-1)         # (T-2, 4), as EDGE: frames t+1 → t+2
    s = np.minimum(v[:, 0], v[:, 1]) * np.minimum(v[:, 2], v[:, 3])
    return float((s * a).mean() * SCALE)
