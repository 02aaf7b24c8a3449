"""A 3D dance placed in the target's picture (issue 16): filmed from the front, normalised onto the
target's floor line and height, its travel kept on the stretch of floor the target was filmed on."""

from __future__ import annotations

import numpy as np
import pytest

from choreo.core import skeleton as sk
from choreo.core.errors import ChoreoInputError
from choreo.core.formats import load_motion
from choreo.core.video.poses import _ANKLES, Camera, PoseStats, dance_keypoints, pose_stats
from choreo.core.video.stage import _moving_average, dance_in_target, fit_travel, front_camera

SIZE = 256
TARGET = PoseStats(close=230.0, far=200.0, height_close=180.0, height_far=150.0, centre_x=128.0,
                   left=100.0, right=156.0)


@pytest.fixture(scope="module")
def travelling(mocap_dir):
    """CMU 05_02 (a dance) carried 6 m to the side over its length: a dance that leaves any picture."""
    m = load_motion(mocap_dir / "005" / "005_02.bvh").resample(sk.FPS)
    j = m.joints[:600].astype(float).copy()
    j[..., 0] += np.linspace(0.0, 6.0, len(j))[:, None]
    return j


def test_a_travelling_dance_stays_on_the_targets_stretch_of_floor(travelling):
    kp = dance_in_target(travelling, sk.FPS, TARGET, SIZE)
    mid = kp[:, _ANKLES, 0].mean(axis=1)
    slow = _moving_average(mid, 31)
    room = TARGET.right - TARGET.left  # (re-averaging the fitted travel blurs its ends a little)
    assert slow.min() >= TARGET.left - 0.1 * room and slow.max() <= TARGET.right + 0.1 * room
    assert slow.max() - slow.min() > 0.9 * room  # scaled, not frozen in place
    assert np.all((kp > -0.1 * SIZE) & (kp < 1.1 * SIZE))
    out = pose_stats(kp, SIZE)  # the target's floor line and proportions
    for k in ("close", "far", "height_close", "height_far"):
        assert getattr(out, k) == pytest.approx(getattr(TARGET, k), rel=0.06, abs=4.0), k


def test_steps_within_a_second_are_kept_and_a_dance_within_range_is_untouched(travelling):
    cam = front_camera(travelling, SIZE)
    kp = dance_keypoints(travelling, cam)
    fitted = fit_travel(kp, TARGET, SIZE, sk.FPS)
    shift = (fitted - kp)[:, 0, 0]
    assert np.allclose(fitted - kp, shift[:, None, None] * np.array([1.0, 0.0]))  # one sideways shift a frame
    assert np.abs(np.diff(shift, 2)).max() < 0.5  # smooth: the body's own steps are not moved
    still = kp.copy()
    still[..., 0] += TARGET.centre_x - still[:, _ANKLES, 0].mean()
    still[..., 0] = TARGET.centre_x + (still[..., 0] - TARGET.centre_x) * 1e-3  # hardly travels
    assert fit_travel(still, TARGET, SIZE, sk.FPS) == pytest.approx(still)


def test_the_front_camera_sees_every_joint_and_bad_dances_are_refused(travelling):
    cam = front_camera(travelling, SIZE)
    assert isinstance(cam, Camera) and cam.width == cam.height_px == SIZE
    uv = dance_keypoints(travelling, cam)
    assert np.all(np.isfinite(uv))
    bad = travelling.copy()
    bad[10, 3] = np.nan
    with pytest.raises(ChoreoInputError, match="NaN"):
        dance_in_target(bad, sk.FPS, TARGET, SIZE)
    with pytest.raises(ChoreoInputError, match="expected"):
        dance_in_target(np.zeros((0, 24, 3)), sk.FPS, TARGET, SIZE)
