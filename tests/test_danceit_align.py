"""DanceIt spatial alignment (TSD, Alg. 1) and its linear baseline on fragments of a
real CMU dance cut from different times, and on synthetic periodic motion."""

from __future__ import annotations

import numpy as np
import pytest

from choreo.core.formats import load_motion
from choreo.core.generation.families.danceit.spatial import (discontinuities, frames_for, linear_align,
                                                             spatial_align)
from choreo.core.generation.windows import seam_report, velocity_jumps
from choreo.core.motion import Motion

# (start, stop) frames at 30 fps of CMU 005_18 (15 s of ballet), out of order so every join jumps
FRAGMENTS = [(20, 80), (300, 360), (140, 200), (400, 458), (60, 120), (230, 290)]


@pytest.fixture(scope="module")
def take(mocap_dir) -> np.ndarray:
    return load_motion(mocap_dir / "005" / "005_18.bvh").resample(30.0).joints.astype(np.float64)


@pytest.fixture(scope="module")
def cut(take):
    """Fragments concatenated with root continuity (each starts where the last left
    off, moving on at its last ground velocity): (joints, joins, plan)."""
    parts, plan = [], []
    for a, b in FRAGMENTS:
        f = take[a:b].copy()
        if parts:
            last = parts[-1]
            f[:, :, :2] += 2 * last[-1, 0, :2] - last[-2, 0, :2] - f[0, 0, :2]
        start = plan[-1][1] if plan else 0
        parts.append(f)
        plan.append((start, start + len(f)))
    return np.concatenate(parts), [a for a, _ in plan[1:]], plan


def _outside(n: int, joins, half: int) -> np.ndarray:
    keep = np.ones(n, bool)
    for k in joins:
        keep[k - half + 1:k + half] = False
    return keep


def _window_max_jump(joints: np.ndarray, joins, half: int) -> float:
    """Largest velocity jump (m/s) anywhere from one frame before a window to one after."""
    jumps = velocity_jumps(Motion(joints, 30.0))
    return max(jumps[k - half - 2:k + half + 1].max() for k in joins)


def test_spatial_alignment_repairs_joins_of_a_real_dance(cut):
    x, joins, plan = cut
    half = frames_for(8 / 24, 30.0) // 2
    assert half == 5
    assert set(joins) <= set(discontinuities(x).tolist())
    y, lin = spatial_align(x, joins), linear_align(x, joins)
    before, after, lin_rep = (seam_report(Motion(m, 30.0), plan) for m in (x, y, lin))
    # the cut's velocity jump is many times the dance's own; after alignment it is not
    assert before["p95_ratio"] > 8
    assert after["p95_ratio"] < 1.5 and before["p95_ratio"] > 8 * after["p95_ratio"]
    assert lin_rep["p95_ratio"] < 1.5
    # the kinks left at the window ends are far smaller than the cut
    assert _window_max_jump(y, joins, half) < 0.4 * _window_max_jump(x, joins, half)
    # untouched outside the windows (bitwise), window ends kept, so no drift
    keep = _outside(len(x), joins, half)
    assert np.array_equal(y[keep], x[keep]) and np.array_equal(lin[keep], x[keep])
    for k in joins:
        assert np.array_equal(y[[k - half, k + half]], x[[k - half, k + half]])
    assert np.array_equal(y[-1], x[-1])
    # TSD is not the straight bridge: it adds the curvature of the preceding second,
    # never more than the dancer's own departure from a chord over ω_a frames there
    u = np.linspace(0.0, 1.0, 2 * half + 1)[:, None, None]
    for k in joins:
        ref = max(np.abs(x[a:a + 2 * half + 1] - (x[a] + u * (x[a + 2 * half] - x[a]))).max()
                  for a in range(k - 7 * half, k - half, 2 * half))
        gap = np.abs(y - lin)[k - half:k + half].max()
        assert 1e-3 < gap <= 1.2 * ref, (k, gap, ref)


def test_continuous_motion_and_dtype_are_kept(take):
    x = take[:200]
    assert np.array_equal(spatial_align(x, [60, 120]), x)       # joins without a jump: left alone
    x32 = x.astype(np.float32).copy()
    x32[100:] += 0.2
    y = spatial_align(x32, [100])
    assert y.dtype == np.float32 and np.array_equal(y[:95], x32[:95]) and np.array_equal(y[106:], x32[106:])
    assert np.abs(np.diff(y[94:107], axis=0)).max() < 0.2


def test_tsd_restores_a_periodic_motion_that_the_linear_bridge_flattens():
    t = np.arange(120)
    for period in (5, 10):
        x = np.zeros((120, 1, 3))
        x[:, 0, 0] = 0.05 * np.sin(2 * np.pi * t / period)
        x[:, 0, 1] = 0.01 * t
        y = x.copy()
        y[60:, 0, 2] += 0.3                                     # a cut at frame 60
        ideal = x[56:65].copy()
        ideal[:, 0, 2] = np.linspace(0.0, 0.3, 11)[1:-1]
        tsd = np.abs(spatial_align(y, [60])[56:65] - ideal).max()
        lin = np.abs(linear_align(y, [60])[56:65] - ideal).max()
        assert tsd < 0.3 * lin, (period, tsd, lin)
    with pytest.raises(ValueError):
        spatial_align(np.zeros((10, 3)), [5])
