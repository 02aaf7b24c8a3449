"""Taylor's geometric 2D→3D baseline (core/lift/taylor.py): exact where its camera model holds,
sane on a CMU dance seen through the lifter's training cameras, deterministic, NaN-free."""

from __future__ import annotations

import numpy as np
import pytest

from choreo.core import skeleton as sk
from choreo.core.lift import taylor, views
from choreo.core.metrics.pose3d import mpjpe, pa_mpjpe

CHILD = np.arange(1, sk.NUM_JOINTS)
PARENT = np.asarray(sk.PARENTS[1:])


@pytest.fixture(scope="module")
def take(mocap_dir):
    """CMU 005_05 (a dance) at 30 fps: (T, 24, 3) metres, z up."""
    from choreo.core.formats.bvh import load_bvh_motion

    return load_bvh_motion(mocap_dir / "005" / "005_05.bvh").resample(30.0).joints.astype(np.float64)


def rigid(joints: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``joints``' bone directions rebuilt with exactly ``lengths``: a motion that fits them."""
    out = np.zeros_like(joints)
    out[:, 0] = joints[:, 0]
    d = joints[:, CHILD] - joints[:, PARENT]
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    for b, c in enumerate(CHILD):
        out[:, c] = out[:, PARENT[b]] + lengths[b] * d[:, b]
    return out


def test_template_lengths_scale_with_height():
    a, b = taylor.template_lengths(), taylor.template_lengths(2 * 1.70)
    assert a.shape == (len(sk.BONES),) and np.all(a > 0)
    assert np.allclose(b, 2 * a)
    assert 1.6 < taylor.TEMPLATE_HEIGHT_M < 1.8       # the SMPL neutral template's stature


def test_orthographic_projection_with_true_lengths_is_reconstructed_exactly(take):
    lengths = taylor.template_lengths(1.80)
    cam = views.random_view(np.random.default_rng(3), take).camera_points(rigid(take, lengths))
    s_true = 400.0                                                      # px per metre
    pts = s_true * cam[..., :2] + np.array([960.0, 540.0])
    out = taylor.taylor_lift(pts, np.ones(pts.shape[:2], bool), lengths)
    assert out.shape == cam.shape and np.all(out[:, 0] == 0.0)
    # every bone exactly its length: the scale keeps every depth offset real
    assert np.allclose(sk.bone_lengths(out), lengths, atol=1e-9)
    # re-projection: x, y are the image points over one scale per frame, at most the true one
    rel = pts - pts[:, :1]
    s = (rel * out[..., :2]).sum(axis=(1, 2)) / (out[..., :2] ** 2).sum(axis=(1, 2))
    assert np.allclose(out[..., :2] * s[:, None, None], rel, atol=1e-6)
    assert np.all(s <= s_true * (1 + 1e-9)) and np.median(s) > 0.95 * s_true
    # with the camera model and the lengths right, only the signs remain: most come out right
    assert pa_mpjpe(out, cam) < 0.12


def test_a_cmu_dance_through_random_views_lifts_to_a_plausible_pose(take):
    """Clean 2D (openpose25, perspective) of a take no parameter was tuned on, template lengths.
    Measured: PA-MPJPE 154-173 mm, MPJPE 210-228 mm over these views. The bounds sit below a
    pose-agnostic guess, the template T-pose every frame (PA-MPJPE 206 mm, MPJPE 324-418 mm):
    a broken scale, sign or tree would land above them."""
    rng = np.random.default_rng(0)
    for _ in range(3):
        ex = views.example(rng, take, "openpose25", noise=0.0, miss=0.0, view=views.random_view(rng, take))
        out = taylor.taylor_lift(ex["points"], ex["seen"])
        pa, mp = pa_mpjpe(out, ex["rel"]), mpjpe(out, ex["rel"])
        assert np.isfinite(pa) and np.isfinite(mp)
        assert pa < 0.20 and mp < 0.30


def test_deterministic(take):
    ex = views.example(np.random.default_rng(1), take[:90], "coco17", noise=0.02, miss=0.05)
    a = taylor.taylor_lift(ex["points"], ex["seen"])
    b = taylor.taylor_lift(ex["points"].copy(), ex["seen"].copy())
    assert np.array_equal(a, b)


def test_unseen_joints_and_frames_do_not_make_nan(take):
    ex = views.example(np.random.default_rng(2), take[:120], "openpose18", noise=0.02, miss=0.1)
    pts, seen = ex["points"].copy(), ex["seen"].copy()
    seen[40:50] = False                                                 # the whole person lost
    seen[:, sk.JOINT_INDEX["l_wrist"]] = False                          # a joint never seen
    pts[~seen] = np.nan                                                 # and no number there
    lengths = taylor.template_lengths()
    out = taylor.taylor_lift(pts, seen, lengths)
    assert out.shape == (120, 24, 3) and np.isfinite(out).all()
    lost = sk.bone_lengths(out)[40:50]                                   # bones of no frame nearby: interpolated,
    assert np.allclose(lost, lengths, atol=1e-6)                        # at their lengths
    nothing = taylor.taylor_lift(np.zeros((5, 24, 2)), np.zeros((5, 24), bool))
    assert np.isfinite(nothing).all()
    with pytest.raises(ValueError):
        taylor.taylor_lift(np.zeros((5, 17, 2)), np.ones((5, 17), bool))
