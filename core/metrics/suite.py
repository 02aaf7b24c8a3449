"""The benchmark's metric table and the set-level evaluation of generated dances.

:data:`METRICS` names every set-level figure with its direction (↑ higher is
better, ↓ lower is better), a one-line description and the variant it follows;
:func:`evaluate_set` computes them all for a generated set against a reference
(ground-truth) set. See docs/metrics.md for sources and adaptations.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from ..motion import Motion
from . import beats as B
from .contact import physical_foot_contact
from .distribution import moving_distribution_distance, spacing_distribution_distance
from .fid import diversity, fid
from .geometric import geometric_features
from .kinetic import kinetic_features


class MetricInfo(NamedTuple):
    direction: str      # "↑" or "↓"
    description: str
    variant: str


METRICS: dict[str, MetricInfo] = {
    "FID_k": MetricInfo("↓", "Fréchet distance of 72-d kinetic features to the reference set",
                        "AIST++ kinetic.py, correct acceleration (quirk off), 60 fps, first 20 s; "
                        "normalised by the reference set"),
    "FID_g": MetricInfo("↓", "Fréchet distance of 32-d geometric (Müller) features to the reference set",
                        "AIST++ manual.py, SMPL-template thresholds, z up; normalised by the reference set"),
    "Div_k": MetricInfo("↑", "mean pairwise distance of kinetic features (closer to GT's is better)",
                        "Bailando; features normalised by the reference set"),
    "Div_g": MetricInfo("↑", "mean pairwise distance of geometric features (closer to GT's is better)",
                        "Bailando; features normalised by the reference set"),
    "BAS_bailando": MetricInfo("↑", "beat align score: mean over music beats of exp(-d²/2σ²) to the nearest motion beat",
                               "Bailando: smoothed mean-speed minima, σ = 50 ms"),
    "BAS_fact": MetricInfo("↑", "beat align score: mean over motion beats of exp(-d²/2σ²) to the nearest music beat",
                           "FACT: summed-speed minima (±167 ms order), σ = 50 ms, first 2 s skipped"),
    "beat_coverage": MetricInfo("↑", "motion beats / music beats (real dances ≈ 0.56 in Dance Revolution)",
                                "Dance Revolution; motion beats = prominent speed minima ≥ 0.25 s apart"),
    "beat_hit_rate": MetricInfo("↑", "motion beats within ±70 ms of a music beat / motion beats",
                                "Dance Revolution"),
    "S_BA": MetricInfo("↑", "music beats on which the largest-motion frame of the beat's window falls",
                       "DanceIt eq. 17, window = one beat interval, ±1/24 s"),
    "MDD_hand": MetricInfo("↓", "symmetric KL of wrist adjacent-frame displacement histograms vs the reference set",
                           "DanceIt eq. 18, Table II bins, 460 px body, 3D per 1/30 s"),
    "MDD_foot": MetricInfo("↓", "symmetric KL of ankle adjacent-frame displacement histograms vs the reference set",
                           "DanceIt eq. 18, Table II bins, 460 px body, 3D per 1/30 s"),
    "SDD_hand": MetricInfo("↓", "symmetric KL of the wrist-to-wrist spacing histograms vs the reference set",
                           "DanceIt §V-C1, spacing per frame, 20-px bins to 600 px, 460 px body"),
    "SDD_foot": MetricInfo("↓", "symmetric KL of the ankle-to-ankle spacing histograms vs the reference set",
                           "DanceIt §V-C1, spacing per frame, 20-px bins to 600 px, 460 px body"),
    "PFC": MetricInfo("↓", "physical foot contact: root acceleration while both feet slide",
                      "EDGE eval_pfc.py at 30 fps, mean per clip × 10,000"),
}

Item = tuple  # (Motion, music_beats seconds on the motion's time base)


def set_features(items: Sequence[Item], *, kinetic_quirk: bool = False) -> dict[str, np.ndarray]:
    """Kinetic (N, 72) and geometric (N, 32) features of a set of (motion, beats)
    items; pass the result of the reference set as ``ref_features`` to
    :func:`evaluate_set` to compute it once for several methods."""
    motions = [m for m, _ in items]
    return {"kinetic": np.stack([kinetic_features(m, reference_quirk=kinetic_quirk) for m in motions]),
            "geometric": np.stack([geometric_features(m) for m in motions]),
            "motions": motions, "kinetic_quirk": kinetic_quirk}


def clip_scores(motion: Motion, music_beats) -> dict[str, float]:
    """Per-clip beat and contact scores of one dance (set figures are their nanmean)."""
    return {"BAS_bailando": B.bas_bailando(motion, music_beats),
            "BAS_fact": B.bas_fact(motion, music_beats),
            "beat_coverage": B.beat_coverage(motion, music_beats),
            "beat_hit_rate": B.beat_hit_rate_dr(motion, music_beats),
            "S_BA": B.s_ba(motion, music_beats),
            "PFC": physical_foot_contact(motion)}


def _nanmean(values) -> float:
    v = np.asarray(values, dtype=np.float64)
    return float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")


def evaluate_set(gen: Sequence[Item], ref: Sequence[Item], *, kinetic_quirk: bool = False,
                 ref_features: dict | None = None) -> dict[str, float]:
    """Every metric of :data:`METRICS` for a generated set against a reference set.

    Parameters
    ----------
    gen, ref : sequences of (Motion, music_beats)
        Dances (SMPL-24, metres, z up, any fps) with their music beat times in
        seconds on the motion's time base. At least 2 items each (FID needs a
        covariance). The reference beats are not used.
    kinetic_quirk : bool
        Use the reference-code acceleration quirk for FID_k / Div_k.
    ref_features : dict, optional
        :func:`set_features` of ``ref`` computed beforehand (same ``kinetic_quirk``).

    Returns
    -------
    scores : dict name -> float, keys as :data:`METRICS`. Beat scores and PFC are
        means over the generated clips (clips without music beats ignored).
    """
    if len(gen) < 2 or len(ref) < 2:
        raise ValueError(f"evaluate_set needs at least 2 generated and 2 reference dances, got {len(gen)} and {len(ref)}")
    rf = ref_features if ref_features is not None else set_features(ref, kinetic_quirk=kinetic_quirk)
    if rf.get("kinetic_quirk", kinetic_quirk) != kinetic_quirk:
        raise ValueError("ref_features were computed with another kinetic_quirk setting")
    gf = set_features(gen, kinetic_quirk=kinetic_quirk)
    out = {"FID_k": fid(gf["kinetic"], rf["kinetic"]),
           "FID_g": fid(gf["geometric"], rf["geometric"]),
           "Div_k": diversity(gf["kinetic"], rf["kinetic"]),
           "Div_g": diversity(gf["geometric"], rf["geometric"])}
    per_clip = [clip_scores(m, b) for m, b in gen]
    for name in ("BAS_bailando", "BAS_fact", "beat_coverage", "beat_hit_rate", "S_BA", "PFC"):
        out[name] = _nanmean([c[name] for c in per_clip])
    out["MDD_hand"] = moving_distribution_distance(gf["motions"], rf["motions"], "hand")
    out["MDD_foot"] = moving_distribution_distance(gf["motions"], rf["motions"], "foot")
    for part in ("hand", "foot"):
        out[f"SDD_{part}"] = spacing_distribution_distance(gf["motions"], rf["motions"], part)
    return {name: out[name] for name in METRICS}
