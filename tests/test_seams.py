"""rigs/seams.py on synthetic channels: the joined range is continuous in value and
velocity at both seams, whatever the two dances' facings (bpy-free maths)."""

from __future__ import annotations

import numpy as np
import pytest

from choreo.core.rotations import continuous_quats, quat_conjugate, quat_multiply, quat_to_rotvec, rotvec_to_quat
from choreo.rigs.seams import join_range

UP = np.array([0.0, 0.0, 1.0])


def _dance(seed: int, T: int = 300, B: int = 5, facing: float = 0.0):
    rng = np.random.default_rng(seed)
    v = np.cumsum(rng.normal(0, 0.02, (T, B, 3)), 0)
    q = continuous_quats(rotvec_to_quat(v))
    q[:, 0] = quat_multiply(rotvec_to_quat(np.array([0, 0, facing])), q[:, 0])  # the root turned about up
    loc = np.cumsum(rng.normal(0, 0.01, (T, 3)), 0) + rng.normal(0, 1.0, 3)
    return q, loc


def _steps(q, loc):
    qc = continuous_quats(q)
    ang = np.linalg.norm(quat_to_rotvec(quat_multiply(qc[1:], quat_conjugate(qc[:-1]))), axis=-1).max(1)
    return ang, np.linalg.norm(np.diff(loc, axis=0), axis=-1), qc


@pytest.mark.parametrize("facing", [0.0, 2.0, 3.1, -3.1])
def test_joined_range_is_continuous_at_both_seams(facing):
    qa, la = _dance(1)
    qb, lb = _dance(2, facing=facing)
    f0, f1 = 100, 199
    rot, loc = join_range(qb[f0:f1 + 1], lb[f0:f1 + 1], 0, UP, before=(qa[f0 - 2:f0], la[f0 - 2:f0]),
                          after=(qa[f1 + 1:f1 + 3], la[f1 + 1:f1 + 3]), window=20)
    q = np.concatenate([qa[:f0], rot, qa[f1 + 1:]])
    loc_all = np.concatenate([la[:f0], loc, la[f1 + 1:]])
    ang, lin, _ = _steps(q, loc_all)
    raw_ang, raw_lin, _ = _steps(np.concatenate([qa[:f0], qb[f0:f1 + 1], qa[f1 + 1:]]),
                                 np.concatenate([la[:f0], lb[f0:f1 + 1], la[f1 + 1:]]))
    own = max(np.percentile(_steps(qa, la)[0], 99), np.percentile(_steps(qb, lb)[0], 99))
    own_lin = max(np.percentile(_steps(qa, la)[1], 99), np.percentile(_steps(qb, lb)[1], 99))
    for s in (f0 - 1, f1):   # the steps across each seam
        assert ang[s] <= own and lin[s] <= own_lin, (s, ang[s], own, lin[s], own_lin)
    assert raw_lin[f0 - 1] > 10 * own_lin  # without the join the root jumps (the dances start apart)
    # signs: the range starts on the kept key's side (a curve from q to -q swings through zero)
    assert np.all(np.sum(rot[0] * qa[f0 - 1], axis=-1) > 0)
    # nothing outside the range is touched, and the shape inside is the new dance's
    assert rot.shape == (f1 - f0 + 1, 5, 4) and np.allclose(np.linalg.norm(rot, axis=-1), 1.0)


def test_a_range_at_the_dance_start_only_joins_its_end():
    qa, la = _dance(3)
    qb, lb = _dance(4)
    rot, loc = join_range(qb[:50], lb[:50], 0, UP, before=None, after=(qa[50:52], la[50:52]), window=10)
    assert np.allclose(rot[0], qb[0]) and np.allclose(loc[0], lb[0])  # its start is the new dance's own
    assert np.linalg.norm(loc[-1] + (loc[-1] - loc[-2]) - la[50]) < 0.02
