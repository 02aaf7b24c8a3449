"""DanceIt skeleton metrics (S_BA, Table II moving distribution, MDD, SDD) and the
seam report on abutting fragments."""

from __future__ import annotations

import numpy as np

from choreo.core.generation.windows import seam_report
from choreo.core.metrics.danceit import BINS_M, beat_alignment_rate, mdd, moving_distribution, sdd
from choreo.core.motion import Motion
from choreo.core.skeleton_maps import smpl_rest_joints

REST = smpl_rest_joints().astype(np.float64)


def _from_steps(step_m: np.ndarray) -> Motion:
    """The rest pose translated along x by the per-frame steps ``step_m`` (T-1,)."""
    x = np.concatenate([[0.0], np.cumsum(step_m)])
    j = np.repeat(REST[None], len(x), axis=0)
    j[:, :, 0] += x[:, None]
    return Motion(j, 30.0)


def test_beat_alignment_rate_on_and_off_the_beat():
    beats = np.arange(1, 19) * 0.5                      # 120 BPM: every 15 frames
    steps = np.full(299, 0.002)
    steps[np.arange(15, 286, 15) - 1] = 0.03             # the step into each beat frame is the largest
    assert beat_alignment_rate(_from_steps(steps), beats) == 1.0
    assert beat_alignment_rate(_from_steps(np.roll(steps, 5)), beats) == 0.0   # 1/6 s late
    assert beat_alignment_rate(_from_steps(np.roll(steps, 1)), beats) == 1.0   # within one frame


def test_moving_distribution_bins_a_known_speed():
    walk = _from_steps(np.full(90, 3.0 / 30.0))           # 3 m/s: 10 cm per 1/30 s ≈ 31 px
    pct = moving_distribution(walk, "hand")
    assert np.isclose(pct.sum(), 100.0) and pct[1] == 100.0
    assert BINS_M[1] < 0.1 < BINS_M[2]
    # the same speed at 60 fps is still 10 cm per 1/30 s
    fast = Motion(_from_steps(np.full(180, 3.0 / 60.0)).joints, 60.0)
    assert moving_distribution([fast], "foot")[1] == 100.0


def _dance(seed: int, n: int = 300) -> Motion:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 30.0
    j = np.repeat(REST[None], n, axis=0)
    for joint in (20, 21, 7, 8):
        f, ph = rng.uniform(0.5, 2.0), rng.uniform(0, 2 * np.pi)
        j[:, joint, 0] += 0.4 * np.sin(2 * np.pi * f * t + ph)
    return Motion(j, 30.0)


def test_mdd_and_sdd_grow_with_jitter_and_spread():
    real = [_dance(s) for s in range(4)]
    assert mdd(real, real, "hand") == 0.0 and sdd(real, real, "foot") == 0.0
    rng = np.random.default_rng(9)

    def jitter(m: Motion, sd: float) -> Motion:
        return Motion(m.joints + rng.normal(0, sd, m.joints.shape), m.fps)

    small = mdd([jitter(m, 0.005) for m in real], real, "hand")
    large = mdd([jitter(m, 0.03) for m in real], real, "hand")
    assert 0 < small < large
    wide = []
    for m in real:
        j = m.joints.copy()
        j[:, 21, 0] += 0.3                              # right wrist 30 cm further out
        wide.append(Motion(j, 30.0))
    assert sdd(wide, real, "hand") > 1.0 and sdd(wide, real, "foot") == 0.0


def test_seam_report_counts_abutting_joins():
    t = np.arange(300) / 30.0
    j = np.repeat(REST[None], 300, axis=0)
    j[:, 20:24, 2] += 0.2 * np.sin(2 * np.pi * t)[:, None]
    plan = [(0, 100), (100, 200), (200, 300)]
    rep = seam_report(Motion(j, 30.0), plan)
    assert rep["join_frames"] == 6 and 0.3 < rep["p95_ratio"] < 1.5
    cut = j.copy()
    cut[200:, 20:24, 0] += 0.1                          # a jump where the third fragment starts
    assert seam_report(Motion(cut, 30.0), plan)["max_ratio"] > 5
    # overlapping plans count only their crossfades, as before
    assert seam_report(Motion(j, 30.0), [(0, 120), (100, 220), (200, 300)])["join_frames"] == 2 * 22
