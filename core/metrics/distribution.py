"""Hand / foot Moving Distribution Distance (MDD), after DanceIt (Guo et al. 2021, eq. 18).

The displacement of the hands (wrists) or feet (ankles) between adjacent
frames is histogrammed over a whole set of dances with DanceIt's Table II bins,
and the two sets are compared by the symmetric KL divergence

    MDD = (KL(gen ‖ ref) + KL(ref ‖ gen)) / 2          (↓)

Adaptations: DanceIt measures 2D OpenPose keypoints in pixels per 1/30 s. Here
the displacement is 3D (view independent) per 1/30 s (at any fps: speed × 1/30 s),
converted to pixels by assuming the dancer is :data:`BODY_PIXELS` = 460 px tall
from ankle to head (the SMPL template's 1.46 m), a full-body dancer in DanceIt's
512 × 512 frames; 1 px ≈ 3.2 mm, so the first bin (0–20 px) is 0–1.9 m/s.
Displacements beyond 400 px fall in the last bin. Empty bins get
:data:`SMOOTH` = 1e-6 probability before renormalising, so the KL stays finite.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..motion import Motion
from ..skeleton import JOINT_INDEX as J
from ..skeleton_maps import smpl_rest_joints

BINS_PX = np.array([0.0, 20.0, 40.0, 60.0, 80.0, 400.0])  # DanceIt Table II
BODY_PIXELS = 460.0
_REST = smpl_rest_joints()
BODY_METRES = float(_REST[J["head"], 2] - _REST[J["l_ankle"], 2])
METRES_PER_PIXEL = BODY_METRES / BODY_PIXELS
STEP_S = 1.0 / 30.0
SMOOTH = 1e-6
PARTS = {"hand": (J["l_wrist"], J["r_wrist"]), "foot": (J["l_ankle"], J["r_ankle"])}


def displacements_px(motion: Motion, part: str = "hand") -> np.ndarray:
    """Displacement (pixels per 1/30 s, see the module note) of both wrists
    (``part="hand"``) or ankles (``"foot"``) between adjacent frames, flattened."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {sorted(PARTS)}, got {part!r}")
    p = motion.joints[:, list(PARTS[part])].astype(np.float64)
    d = np.linalg.norm(np.diff(p, axis=0), axis=-1) * (motion.fps * STEP_S)
    return (d / METRES_PER_PIXEL).ravel()


def moving_histogram(motions: Sequence[Motion], part: str = "hand") -> np.ndarray:
    """Probability of each Table II bin (5,) over all adjacent-frame displacements
    of ``motions`` (values above the last edge counted in the last bin)."""
    d = np.concatenate([displacements_px(m, part) for m in motions] or [np.zeros(0)])
    if d.size == 0:
        raise ValueError("moving_histogram needs at least one motion with two frames")
    h, _ = np.histogram(np.clip(d, 0.0, BINS_PX[-1]), bins=BINS_PX)
    return h / h.sum()


def moving_distribution_distance(gen_motions: Sequence[Motion], ref_motions: Sequence[Motion],
                                 part: str = "hand") -> float:
    """DanceIt MDD (↓) between the hand (``part="hand"``) or foot (``"foot"``)
    moving distributions of two sets of motions: symmetric KL of the Table II
    histograms. 0 for identical distributions."""
    p = moving_histogram(gen_motions, part) + SMOOTH
    q = moving_histogram(ref_motions, part) + SMOOTH
    p, q = p / p.sum(), q / q.sum()
    return float(0.5 * (np.sum(p * np.log(p / q)) + np.sum(q * np.log(q / p))))
