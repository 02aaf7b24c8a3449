"""The photoreal stage's pose space (issue 16): a 3D dance through a camera, Everybody Dance
Now's global pose normalisation onto a target, and the pose image."""

from __future__ import annotations

import numpy as np
import pytest

from choreo.core import skeleton as sk
from choreo.core.errors import ChoreoInputError
from choreo.core.formats import load_motion
from choreo.core.skeleton_maps import smpl_rest_joints
from choreo.core.video.poses import (LIMB_COLOURS, LIMBS, Camera, dance_keypoints, normalize, pose_image,
                                     pose_stats)


def standing(z0=0.0):
    j = smpl_rest_joints()
    j[:, 2] -= j[:, 2].min() - z0
    return j


def test_camera_projects_as_a_pinhole():
    cam = Camera(width=400, height_px=300, focal=500.0, distance=5.0, height=1.0, look_at=(0.0, 0.0, 1.0))
    uv = cam.project(np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 1.0], [0.0, 0.0, 2.0], [0.0, 5.0, 1.0]]))
    assert np.allclose(uv[0], [200, 150])                  # the look-at point is the image centre
    assert np.allclose(uv[1], [300, 150])                  # 1 m to the dancer's left at 5 m: +100 px (x right)
    assert np.allclose(uv[2], [200, 50])                   # 1 m up: -100 px (y down)
    assert np.allclose(uv[3], [200, 150])                  # further away on the axis: same pixel
    turned = Camera(focal=500.0, distance=5.0, yaw=np.pi / 2, look_at=(0.0, 0.0, 1.0))
    assert np.allclose(turned.project(np.array([[0.0, 1.0, 1.0]])), [[256 - 100, 256]])  # seen from the side
    with pytest.raises(ChoreoInputError, match="behind the camera"):
        cam.project(np.array([[0.0, -6.0, 1.0]]))


def test_dance_keypoints_stand_upright_and_refuse_bad_dances():
    kp = dance_keypoints(standing()[None].repeat(3, 0), Camera())
    i = {n: k for k, n in enumerate(("nose", "neck"))}
    assert kp.shape == (3, 18, 2) and kp[0, i["nose"], 1] < kp[0, i["neck"], 1] < kp[0, 10, 1]  # head above ankles
    assert kp[0, 2, 0] < kp[0, 5, 0]  # the right shoulder on the image's left: the dancer faces the camera
    with pytest.raises(ChoreoInputError, match="NaN"):
        dance_keypoints(np.full((2, 24, 3), np.nan), Camera())
    with pytest.raises(ChoreoInputError, match="expected"):
        dance_keypoints(np.zeros((0, 24, 3)), Camera())


def test_normalisation_puts_the_source_on_the_targets_floor_line_and_proportions(mocap_dir):
    m = load_motion(mocap_dir / "005" / "005_02.bvh").resample(sk.FPS)
    src = dance_keypoints(m.joints, Camera(focal=900.0, distance=7.0, height=1.4))   # the dance, filmed far
    tgt = dance_keypoints(m.joints[::-1] * 0.85, Camera(focal=600.0, distance=4.0, height=0.9, look_at=(0.3, 0, 0.9)))
    s, t = pose_stats(src, 512), pose_stats(tgt, 512)
    out = pose_stats(normalize(src, s, t), 512)
    for k in ("close", "far", "height_close", "height_far", "centre_x"):
        assert getattr(out, k) == pytest.approx(getattr(t, k), rel=0.03, abs=3.0), k
    assert normalize(tgt, t, t) == pytest.approx(tgt)  # a target normalised onto itself is unchanged


def test_pose_image_draws_each_limb_in_its_colour():
    cam = Camera(width=128, height_px=128, focal=90.0, distance=5.0)
    kp = dance_keypoints(standing()[None], cam)[0]
    img = pose_image(kp, 128, 128, thickness=3)
    assert img.shape == (128, 128, 3) and img.dtype == np.uint8
    colours = {tuple(c) for c in img.reshape(-1, 3)} - {(0, 0, 0)}
    assert len(colours) >= 12 and colours <= {tuple(c) for c in LIMB_COLOURS}
    a, b = LIMBS[8]  # right knee → right ankle: its midpoint carries its colour
    mid = ((kp[a] + kp[b]) / 2).astype(int)
    assert tuple(img[mid[1], mid[0]]) == tuple(LIMB_COLOURS[8])
    kp[a] = np.nan  # an undetected keypoint leaves its limbs out
    assert tuple(LIMB_COLOURS[8]) not in {tuple(c) for c in pose_image(kp, 128, 128, 3).reshape(-1, 3)}
