"""Dance metrics rank obvious cases the right way, on real CMU dance and synthetic figures."""

from __future__ import annotations

import time

import numpy as np
import pytest

from choreo.core.data import align, kinematic
from choreo.core.formats import load_motion
from choreo.core.metrics import beats as B
from choreo.core.metrics import suite
from choreo.core.metrics.contact import physical_foot_contact
from choreo.core.metrics.distribution import moving_distribution_distance
from choreo.core.metrics.fid import diversity, fid, frechet_distance, normalize
from choreo.core.metrics.geometric import FEATURES, geometric_features
from choreo.core.metrics.kinetic import kinetic_features
from choreo.core.motion import Motion
from choreo.core.skeleton import JOINT_INDEX as J
from choreo.core.skeleton_maps import smpl_rest_joints


@pytest.fixture(scope="module")
def takes(mocap_dir):
    """CMU subject 005 dance takes (02–20) at 30 fps."""
    paths = sorted((mocap_dir / "005").glob("005_*.bvh"))[1:]
    assert len(paths) >= 10
    return [load_motion(p).resample(30.0) for p in paths]


def frozen(m: Motion) -> Motion:
    return Motion(np.repeat(m.joints[:1], m.num_frames, axis=0), m.fps)


def clips(takes, n, seed, beat=0.5):
    """n random 5–10 s excerpts (shorter when the take is) with a synthetic beat grid."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        m = takes[k % len(takes)]
        length = min(m.num_frames, int(rng.uniform(5, 10) * 30))
        s = int(rng.integers(0, m.num_frames - length + 1))
        c = m.frames(s, s + length)
        out.append((c, np.arange(0.25, c.duration, beat)))
    return out


@pytest.fixture(scope="module")
def aligned(takes):
    """Takes warped (core.data.align) so their kinematic beats land on a beat grid:
    list of (motion, grid)."""
    out = []
    for m in takes:
        kb = kinematic.kinematic_beats(m)
        if len(kb) < 3:
            continue
        ibi = float(np.median(np.diff(kb)))
        dur = min(m.duration - kb[0], 8.0)
        grid = np.arange(0.0, dur, ibi)
        a = align.match_beats(kb, grid, float(kb[0]), dur, m.duration, 0.8, 1.25)
        if a is not None and a.matched >= 3:
            out.append((align.warp_motion(m, a), grid))
    assert len(out) >= 8
    return out


# -- set-level features ----------------------------------------------------------

def test_fid_and_diversity_basics(takes):
    ref = clips(takes, 24, 0)
    feats = np.stack([kinetic_features(m) for m, _ in ref])
    assert feats.shape == (24, 72) and np.isfinite(feats).all()
    assert abs(fid(feats, feats)) < 1e-3  # sqrtm of a singular (N < D) product: round-off only
    assert diversity(np.repeat(feats[:1], 5, axis=0), feats) == 0.0
    assert diversity(feats, feats) > 1.0
    g, r = normalize(feats[:5], feats)
    np.testing.assert_allclose(r.mean(0), 0, atol=1e-9)
    # A shifted Gaussian: Fréchet distance = ‖Δμ‖² (same covariance).
    x = np.random.default_rng(0).normal(size=(400, 3))
    assert frechet_distance(x + [2.0, 0, 0], x) == pytest.approx(4.0, rel=1e-6)


def test_frozen_pose_scores_worse_than_real_dance(takes):
    ref, gen = clips(takes, 30, 1), clips(takes, 30, 2)
    still = [(frozen(m), b) for m, b in gen]
    real_scores = suite.evaluate_set(gen, ref)
    frozen_scores = suite.evaluate_set(still, ref)
    assert set(real_scores) == set(suite.METRICS)
    assert real_scores["FID_k"] < frozen_scores["FID_k"] / 10
    assert real_scores["FID_g"] < frozen_scores["FID_g"]
    assert real_scores["BAS_bailando"] > frozen_scores["BAS_bailando"] == 0.0
    assert real_scores["BAS_fact"] > frozen_scores["BAS_fact"] == 0.0
    assert real_scores["Div_k"] > frozen_scores["Div_k"]
    assert frozen_scores["beat_coverage"] == 0.0 < real_scores["beat_coverage"]
    # MDD: ≈ 0 against itself, larger against a frozen set.
    ms = [m for m, _ in gen]
    for part in ("hand", "foot"):
        assert moving_distribution_distance(ms, ms, part) == pytest.approx(0.0, abs=1e-12)
        assert moving_distribution_distance([m for m, _ in still], ms, part) > 0.5
    assert real_scores["MDD_hand"] < frozen_scores["MDD_hand"]
    assert real_scores["MDD_foot"] < frozen_scores["MDD_foot"]


def test_evaluate_set_is_fast(takes):
    items = clips(takes, 100, 3)
    ref = suite.set_features(items[:50])
    t0 = time.perf_counter()
    scores = suite.evaluate_set(items[50:], items[:50], ref_features=ref)
    assert time.perf_counter() - t0 < 5.0
    assert all(np.isfinite(v) for v in scores.values())
    for name, info in suite.METRICS.items():
        assert info.direction in ("↑", "↓") and info.description and info.variant, name


# -- beats ---------------------------------------------------------------------------

def test_half_beat_shift_lowers_both_bas(aligned):
    on_b = [B.bas_bailando(m, g[1:]) for m, g in aligned]
    off_b = [B.bas_bailando(m, g[1:] + np.median(np.diff(g)) / 2) for m, g in aligned]
    on_f = [B.bas_fact(m, g) for m, g in aligned]
    off_f = [B.bas_fact(m, g + np.median(np.diff(g)) / 2) for m, g in aligned]
    assert np.mean(on_b) > np.mean(off_b) + 0.2
    assert np.mean(on_f) > np.mean(off_f) + 0.2
    hit_on = np.nanmean([B.beat_hit_rate_dr(m, g[1:]) for m, g in aligned])
    hit_off = np.nanmean([B.beat_hit_rate_dr(m, g[1:] + np.median(np.diff(g)) / 2) for m, g in aligned])
    assert hit_on > hit_off + 0.3


def synthetic_pulses(beats, duration=6.0, fps=30.0):
    """A figure whose speed peaks (Gaussian pulses of 60 ms) at ``beats`` and is
    nearly still in between; it glides along x."""
    t = np.arange(int(duration * fps)) / fps
    speed = 0.05 + sum(np.exp(-0.5 * ((t - b) / 0.06) ** 2) for b in beats)
    x = np.cumsum(speed) / fps
    base = smpl_rest_joints()
    return Motion(base[None] + np.stack([x, 0 * x, 0 * x], 1)[:, None, :], fps)


def test_s_ba_counts_largest_motion_on_the_beat_and_motion_beats_are_times():
    grid = np.arange(0.5, 5.6, 0.5)
    on = synthetic_pulses(grid)
    off = synthetic_pulses(grid + 0.25)
    assert B.s_ba(on, grid) > 0.9 > 0.1 > B.s_ba(off, grid)
    assert np.isnan(B.s_ba(on, np.array([])))
    # Speed minima of `off` sit on the grid: Bailando's motion beats are there, in seconds.
    mb = B.motion_beats_bailando(off)
    assert B.bas_bailando(off, grid[1:-1]) > 0.8
    assert np.abs(mb[:, None] - grid[1:-1][None]).min(axis=0).max() < 0.03
    assert B.beat_align_score(mb, grid[1:-1]) == pytest.approx(B.bas_bailando(off, grid[1:-1]))


# -- kinetic / geometric ------------------------------------------------------------

def test_kinetic_quirk_differs_and_jump_is_vertical():
    fps = 30.0
    t = np.arange(31) / fps
    z = 2.0 * t * (1.0 - t)                            # a 1 s jump, 0.5 m high: a = -4 m/s²
    jump = Motion(smpl_rest_joints()[None] + np.stack([0 * t, 0 * t, z], 1)[:, None, :], fps)
    k = kinetic_features(jump).reshape(24, 3)
    assert np.all(k[:, 1] > 100 * (k[:, 0] + 1e-12))    # vertical KE, not horizontal
    assert np.allclose(k[:, 1], k[0, 1], rtol=0.01) and np.allclose(k[:, 2], k[0, 2], rtol=0.01)  # rigid
    # Gliding sideways instead puts it in the horizontal column.
    slide = Motion(smpl_rest_joints()[None] + np.stack([z, 0 * t, 0 * t], 1)[:, None, :], fps)
    ks = kinetic_features(slide).reshape(24, 3)
    assert np.all(ks[:, 0] > 100 * (ks[:, 1] + 1e-12))
    assert k[0, 2] == pytest.approx(4.0, rel=1e-6)      # the spline to 60 fps is exact on a parabola
    quirk = kinetic_features(jump, reference_quirk=True).reshape(24, 3)
    np.testing.assert_allclose(quirk[:, :2], k[:, :2])
    assert not np.allclose(quirk[:, 2], k[:, 2], rtol=0.1)


def test_geometric_features_use_z_up():
    rest = smpl_rest_joints()
    still = Motion(np.repeat(rest[None], 10, axis=0), 30.0)
    f = geometric_features(still)
    assert f.shape == (len(FEATURES),) == (32,)
    names = [(kind, joints) for kind, joints, _ in FEATURES]
    r_ankle_up = names.index(("nplane", ("zero", "up", "z_min", "rankle")))
    assert f[r_ankle_up] == 0.0
    lifted = rest.copy()
    lifted[[J["r_ankle"], J["r_foot"]], 2] += 0.5     # right foot raised 0.5 m
    f2 = geometric_features(Motion(np.repeat(lifted[None], 10, axis=0), 30.0))
    assert f2[r_ankle_up] == 1.0
    assert f2[names.index(("nplane", ("zero", "up", "z_min", "lankle")))] == 0.0
    fast = [i for i, (kind, _) in enumerate(names) if kind == "fast"]
    assert np.all(f[fast] == 0.0)


# -- contact ---------------------------------------------------------------------------

def test_pfc_penalises_sliding_feet(takes):
    worse = 0
    for m in takes[:8]:
        t = m.times[:, None, None]
        sway = np.concatenate([0.3 * np.sin(2 * np.pi * 0.8 * t), 0 * t, 0 * t], axis=-1)
        slid = Motion(m.joints + sway.astype(np.float32), m.fps)  # whole body, feet included, slides
        worse += physical_foot_contact(slid) > physical_foot_contact(m)
    assert worse >= 7
    assert physical_foot_contact(frozen(takes[0])) == 0.0


def test_constant_reference_dimension_does_not_explode_fid():
    from choreo.core.metrics.fid import fid

    rng = np.random.default_rng(0)
    ref = rng.standard_normal((40, 4))
    ref[:, 3] = 0.0  # a relation that never fires in the reference
    gen = rng.standard_normal((40, 4))
    gen[:, 3] = 0.05
    assert fid(gen, ref) < 50
