"""Motion methods and the skeleton mappings to and from SMPL-24."""

from __future__ import annotations

import numpy as np
import pytest

from choreo.core import skeleton as sk
from choreo.core import skeleton_maps as smaps
from choreo.core.motion import Motion


def _rest(height=0.95) -> np.ndarray:
    return smaps.smpl_rest_joints() + np.array([0.0, 0.0, height])


def _sine_motion(fps=60.0, seconds=4.0, freq=1.0) -> Motion:
    """The template body bobbing up and down at ``freq`` Hz by 10 cm."""
    t = np.arange(int(seconds * fps)) / fps
    j = _rest()[None].repeat(len(t), 0)
    j[..., 2] += 0.1 * np.sin(2 * np.pi * freq * t)[:, None]
    return Motion(j, fps)


def _turned(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
    return (_rest() @ rot.T) + np.array([0.4, -1.2, 0.0])


# -- Motion ----------------------------------------------------------------

def test_resample_60_to_30_keeps_shape_and_timing():
    m = _sine_motion(60.0)
    r = m.resample(30.0)
    assert r.fps == 30.0 and abs(r.num_frames - m.num_frames / 2) <= 1
    assert abs(r.duration - m.duration) < 2 / 30
    expected = 0.95 + 0.1 * np.sin(2 * np.pi * r.times)
    mid = slice(5, r.num_frames - 5)   # away from the filter's edges
    np.testing.assert_allclose(r.joints[mid, 0, 2], expected[mid], atol=2e-3)


def test_resample_30_to_23976():
    m = _sine_motion(30.0, freq=0.5)
    fps = 24000 / 1001
    r = m.resample(fps)
    assert r.fps == pytest.approx(fps)
    assert r.num_frames == int(np.floor((m.num_frames - 1) * fps / 30.0)) + 1
    expected = 0.95 + 0.1 * np.sin(2 * np.pi * 0.5 * r.times)
    np.testing.assert_allclose(r.joints[:, 0, 2], expected, atol=3e-3)
    assert r.joints.shape[1:] == (24, 3)


def test_mirror_twice_is_identity_and_swaps_sides():
    m = Motion(np.stack([_turned(0.3), _turned(0.5)]), 30.0)
    mm = m.mirrored()
    np.testing.assert_allclose(mm.mirrored().joints, m.joints)
    li, ri = sk.JOINT_INDEX["l_wrist"], sk.JOINT_INDEX["r_wrist"]
    np.testing.assert_allclose(mm.joints[:, li], m.joints[:, ri] * np.array([-1, 1, 1]))
    np.testing.assert_allclose(mm.joints[:, 0], m.joints[:, 0] * np.array([-1, 1, 1]))


@pytest.mark.parametrize("angle", [0.0, 1.0, -2.5, np.pi])
def test_normalized_facing_turns_hips_normal_to_minus_y(angle):
    m = Motion(_turned(angle)[None], 30.0).normalized_facing()
    j = m.joints[0]
    left = j[sk.JOINT_INDEX["l_hip"]] - j[sk.JOINT_INDEX["r_hip"]]
    normal = np.cross(left, [0.0, 0.0, 1.0])
    normal /= np.linalg.norm(normal)
    np.testing.assert_allclose(normal, [0.0, -1.0, 0.0], atol=1e-5)
    np.testing.assert_allclose(j[0, :2], 0.0, atol=1e-6)
    assert j[0, 2] == pytest.approx(_rest()[0, 2], abs=1e-6)   # height kept


def test_with_bone_lengths_gives_constant_lengths():
    rng = np.random.default_rng(0)
    j = _rest()[None].repeat(20, 0) + rng.normal(0, 0.02, (20, 24, 3))
    m = Motion(j, 30.0)
    assert np.ptp(m.bone_lengths(), axis=0).max() > 0.01
    c = m.with_bone_lengths()
    assert np.ptp(c.bone_lengths(), axis=0).max() < 1e-5
    np.testing.assert_allclose(c.bone_lengths()[0], np.median(m.bone_lengths(), axis=0), atol=1e-5)
    np.testing.assert_allclose(c.joints[:, 0], m.joints[:, 0])


def test_on_floor():
    m = _sine_motion(30.0)
    f = m.on_floor()
    assert f.floor_height() == pytest.approx(0.0, abs=1e-6)
    assert f.joints[..., 2].min() > -0.05


# -- skeleton maps -----------------------------------------------------------

def test_every_source_table_is_affine():
    for name, src in smaps.SOURCES.items():
        assert src.weights.shape == (24, len(src.joint_names)), name
        np.testing.assert_allclose(src.weights.sum(axis=1), 1.0, err_msg=name)
        assert src.estimated <= set(sk.JOINT_NAMES)
    # Translating the input translates the output (works for 2D and 3D).
    pts = np.random.default_rng(1).normal(size=(4, 18, 2))
    np.testing.assert_allclose(smaps.to_smpl24(pts + [3.0, -2.0], "openpose18"),
                               smaps.to_smpl24(pts, "openpose18") + [3.0, -2.0])


def test_estimated_joints_documented():
    op = smaps.SOURCES["openpose18"].estimated
    assert {"pelvis", "spine1", "spine2", "spine3", "neck", "head", "l_collar", "l_foot", "l_hand"} <= op
    assert "l_knee" not in op and "r_wrist" not in op
    assert "l_hand" not in smaps.SOURCES["blazepose33"].estimated
    assert smaps.SOURCES["smpl24"].estimated == frozenset()


@pytest.mark.parametrize("source", ["openpose18", "openpose25", "coco17"])
def test_keypoints_from_smpl_map_back(source):
    rest = _rest()
    if source == "openpose25":
        pts = smaps.smpl24_to_openpose25(rest)
    else:
        op = smaps.smpl24_to_openpose18(rest)
        pts = np.stack([op[smaps.OPENPOSE18_NAMES.index(n)] for n in smaps.SOURCES[source].joint_names])
    back = smaps.to_smpl24(pts, source)
    err = np.linalg.norm(back - rest, axis=-1)
    observed = [sk.JOINT_INDEX[n] for n in sk.JOINT_NAMES if n not in smaps.SOURCES[source].estimated]
    assert err[observed].max() < 1e-9
    assert np.median(err) < 0.05 and err.max() < 0.2   # estimates land near the template's joints


def test_openpose18_face_points_from_head():
    rest = _rest()   # faces -y
    op = smaps.smpl24_to_openpose18(rest)
    g = lambda n: op[smaps.OPENPOSE18_NAMES.index(n)]  # noqa: E731
    head = rest[sk.JOINT_INDEX["head"]]
    assert g("nose")[1] < head[1] - 0.05                      # in front
    assert g("l_eye")[0] > g("r_eye")[0] and g("l_ear")[0] > head[0] > g("r_ear")[0]
    assert g("l_eye")[2] > head[2]
    np.testing.assert_allclose(g("neck"), 0.5 * (g("l_shoulder") + g("r_shoulder")))
    # Turning the body turns the face with it.
    rot = np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1.0]])
    op2 = smaps.smpl24_to_openpose18(rest @ rot.T)
    np.testing.assert_allclose(op2, op @ rot.T, atol=1e-9)


def test_blazepose_and_cc_base_tables():
    names = smaps.BLAZEPOSE33_NAMES
    assert len(names) == 33 and names[15] == "l_wrist" and names[32] == "r_foot_index"
    pts = np.zeros((33, 3))
    pts[names.index("l_wrist")] = [1.0, 0, 0]
    pts[names.index("l_index")] = [2.0, 0, 0]
    pts[names.index("l_pinky")] = [2.0, 0, 0]
    assert smaps.to_smpl24(pts, "blazepose33")[sk.JOINT_INDEX["l_hand"], 0] == pytest.approx(1.5)
    cc = smaps.SOURCES["cc_base"]
    assert "CC_Base_L_Thigh" in cc.joint_names and cc.weights.shape == (24, len(cc.joint_names))
    with pytest.raises(KeyError):
        smaps.to_smpl24(pts, "kinect")
    with pytest.raises(ValueError):
        smaps.to_smpl24(pts, "coco17")


def test_rest_template_is_symmetric_and_faces_minus_y():
    rest = smaps.smpl_rest_joints()
    np.testing.assert_allclose(rest[list(sk.MIRROR)] * [-1, 1, 1], rest, atol=1e-9)
    m = Motion(rest[None] + [0, 0, 1.0], 30.0)
    assert np.degrees(m.facing_angle()) == pytest.approx(-90.0, abs=2.0)


def test_resample_adds_no_ripple_far_from_the_origin():
    """Straight-line travel 10 m from the origin stays straight at any rate (no fake acceleration)."""
    t = np.arange(90) / 30.0
    j = np.zeros((90, 24, 3)) + np.array([10.0, -7.0, 1.0])
    j[..., 0] += 0.8 * t[:, None]
    m = Motion(j, 30.0)
    for fps in (60.0, 24.0, 23.976, 15.0, 10.0):
        r = m.resample(fps).joints.astype(np.float64)
        acc = np.abs(np.diff(r[5:-5, 0, 0], 2)) * fps**2
        assert acc.max() < 0.05, (fps, acc.max())
