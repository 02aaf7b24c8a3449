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

Spacing Distribution Distance (SDD, DanceIt §V-C1) is the same symmetric KL on
the per-frame distance between the two wrists (two ankles), in the same pixels;
the paper gives no bins, so :data:`SPACING_BINS_PX` are Table II's 20-px width
from 0 to 600 px (a 1.9 m span; larger spacings fall in the last bin). The paper's
"discrepancy of adjacent frames" could also mean the change of spacing per frame;
we take the spacing itself, which is what distinguishes a stance.
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
SPACING_BINS_PX = np.arange(0.0, 601.0, 20.0)


def _part(part: str) -> list[int]:
    if part not in PARTS:
        raise ValueError(f"part must be one of {sorted(PARTS)}, got {part!r}")
    return list(PARTS[part])


def _histogram(values: Sequence[np.ndarray], edges: np.ndarray) -> np.ndarray:
    """Probability per bin of ``edges`` of all ``values`` (clipped into the bins)."""
    d = np.concatenate(list(values) or [np.zeros(0)])
    if d.size == 0:
        raise ValueError("a distribution needs at least one motion with two frames")
    h, _ = np.histogram(np.clip(d, edges[0], edges[-1]), bins=edges)
    return h / h.sum()


def symmetric_kl(p: np.ndarray, q: np.ndarray, smooth: float = SMOOTH) -> float:
    """(KL(p ‖ q) + KL(q ‖ p)) / 2 of two histograms, ``smooth`` added to every bin
    and both renormalised (so empty bins stay finite). 0 for identical ones."""
    p = np.asarray(p, np.float64) + smooth
    q = np.asarray(q, np.float64) + smooth
    p, q = p / p.sum(), q / q.sum()
    return float(0.5 * (np.sum(p * np.log(p / q)) + np.sum(q * np.log(q / p))))


def displacements_px(motion: Motion, part: str = "hand") -> np.ndarray:
    """Displacement (pixels per 1/30 s, see the module note) of both wrists
    (``part="hand"``) or ankles (``"foot"``) between adjacent frames, flattened."""
    p = motion.joints[:, _part(part)].astype(np.float64)
    d = np.linalg.norm(np.diff(p, axis=0), axis=-1) * (motion.fps * STEP_S)
    return (d / METRES_PER_PIXEL).ravel()


def moving_histogram(motions: Sequence[Motion], part: str = "hand") -> np.ndarray:
    """Probability of each Table II bin (5,) over all adjacent-frame displacements
    of ``motions`` (values above the last edge counted in the last bin)."""
    return _histogram([displacements_px(m, part) for m in motions], BINS_PX)


def moving_distribution_distance(gen_motions: Sequence[Motion], ref_motions: Sequence[Motion],
                                 part: str = "hand") -> float:
    """DanceIt MDD (↓) between the hand (``part="hand"``) or foot (``"foot"``)
    moving distributions of two sets of motions: symmetric KL of the Table II
    histograms. 0 for identical distributions."""
    return symmetric_kl(moving_histogram(gen_motions, part), moving_histogram(ref_motions, part))


def spacings_px(motion: Motion, part: str = "hand") -> np.ndarray:
    """(T,) distance between the two wrists (``part="hand"``) or ankles (``"foot"``)
    in each frame, in pixels (see the module note)."""
    p = motion.joints[:, _part(part)].astype(np.float64)
    return np.linalg.norm(p[:, 0] - p[:, 1], axis=-1) / METRES_PER_PIXEL


def spacing_histogram(motions: Sequence[Motion], part: str = "hand") -> np.ndarray:
    """Probability of each :data:`SPACING_BINS_PX` bin (30,) over all frames of ``motions``."""
    return _histogram([spacings_px(m, part) for m in motions], SPACING_BINS_PX)


def spacing_distribution_distance(gen_motions: Sequence[Motion], ref_motions: Sequence[Motion],
                                  part: str = "hand") -> float:
    """DanceIt SDD (↓): symmetric KL of the hand (foot) spacing histograms of two
    sets of motions. 0 for identical distributions."""
    return symmetric_kl(spacing_histogram(gen_motions, part), spacing_histogram(ref_motions, part))
