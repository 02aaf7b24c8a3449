"""Fréchet distance and diversity of feature sets (FID_k / FID_g, Div_k / Div_g).

After Bailando ``utils/metrics_new.py`` and google-research/mint
``tools/calculate_scores.py``: both sets are normalised with the REFERENCE
set's mean and std (+1e-10), then

    FID = ‖μ_g − μ_r‖² + Tr(Σ_g + Σ_r − 2·sqrtm(Σ_g Σ_r))    (real part of sqrtm)
    Div = mean Euclidean distance over all pairs of generated feature vectors.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg
from scipy.spatial.distance import pdist

EPS = 1e-10


def _as_2d(x, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"{name} must be (N, D) feature vectors, got shape {a.shape}")
    return a


def normalize(gen, ref) -> tuple[np.ndarray, np.ndarray]:
    """Normalise ``gen`` and ``ref`` (N, D) with ``ref``'s per-dimension mean and
    std (+1e-10, population std as ``np.std``). Returns (gen_n, ref_n).

    Departure from the references: a dimension that is constant in ``ref`` (a
    geometric relation that never fires in a small, one-style reference set) is
    only centred, not divided by 1e-10, which would turn one stray frame of a
    generated set into a distance of 1e19 and drown every other dimension.
    """
    gen, ref = _as_2d(gen, "gen"), _as_2d(ref, "ref")
    mean, std = ref.mean(axis=0), ref.std(axis=0)
    scale = np.where(std > 1e-8, std + EPS, 1.0)
    return (gen - mean) / scale, (ref - mean) / scale


def frechet_distance(a, b) -> float:
    """Fréchet distance between Gaussians fitted to feature sets ``a`` and ``b``
    (N, D) each, no normalisation. Covariances are ``np.cov`` (N-1); the matrix
    square root is :func:`scipy.linalg.sqrtm`, its real part kept, with 1e-5 on the
    diagonals if the product is singular (as the reference). Needs N ≥ 2 each."""
    a, b = _as_2d(a, "a"), _as_2d(b, "b")
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"Fréchet distance needs at least 2 samples per set, got {len(a)} and {len(b)}")
    mu1, mu2 = a.mean(axis=0), b.mean(axis=0)
    s1, s2 = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    with warnings.catch_warnings():  # few samples in many dimensions: singular, expected
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(s1 @ s2)
        if not np.isfinite(covmean).all():
            off = np.eye(len(s1)) * 1e-5
            covmean = linalg.sqrtm((s1 + off) @ (s2 + off))
    covmean = np.real(covmean)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))


def fid(gen_feats, ref_feats) -> float:
    """FID (↓) of generated features against reference features (N, D), both
    normalised by the reference set (:func:`normalize`)."""
    g, r = normalize(gen_feats, ref_feats)
    return frechet_distance(g, r)


def diversity(feats, ref_feats=None) -> float:
    """Diversity (↑): mean pairwise Euclidean distance between the feature vectors
    (N, D), after normalising with ``ref_feats``'s statistics when given (how
    Div_k / Div_g are reported). 0 for identical samples; nan for fewer than 2."""
    f = _as_2d(feats, "feats")
    if ref_feats is not None:
        f, _ = normalize(f, ref_feats)
    if len(f) < 2:
        return float("nan")
    return float(pdist(f).mean())
