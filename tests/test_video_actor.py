"""The synthetic target clip (issue 16): the dressed actor dancing a CMU take, rendered by the
real bpy to an MP4 whose figure is where the ground-truth keypoints say and which MediaPipe
BlazePose reads as a person."""

from __future__ import annotations

import time

import numpy as np
import pytest

from choreo.core.errors import ChoreoInputError
from choreo.core.skeleton_maps import OPENPOSE18_NAMES

bpy = pytest.importorskip("bpy")
pytestmark = pytest.mark.blender

SIZE = 256
FIRST, FRAMES = 120, 24             # a turning, arm-waving stretch of 05_02
OP = {n: i for i, n in enumerate(OPENPOSE18_NAMES)}
# BlazePose landmark → OpenPose-18 keypoint (both name the person's own left and right).
BLAZE = {0: "nose", 11: "l_shoulder", 12: "r_shoulder", 23: "l_hip", 24: "r_hip", 27: "l_ankle", 28: "r_ankle"}


@pytest.fixture(scope="module")
def clip(mocap_dir, tmp_path_factory):
    pytest.importorskip("av")                                # reading the MP4 back
    from choreo.core.video.io import VideoReader
    from choreo.rigs.actor_clip import actor_take, default_actor_camera, render_actor_clip

    joints = actor_take("05_02", stage_m=None, mocap_dir=mocap_dir)  # the take's frames as recorded
    joints = joints[FIRST:FIRST + FRAMES]
    camera = default_actor_camera(joints, SIZE)              # fixed, framing these frames' travel
    out = tmp_path_factory.mktemp("actor") / "actor.mp4"
    t = time.perf_counter()
    res = render_actor_clip(joints, out, camera=camera, samples=1)
    wall = time.perf_counter() - t
    with VideoReader(out) as r:
        meta = (r.width, r.height, r.fps)
        frames = np.stack(list(r.frames_rgb()))
    print(f"\nactor clip: {FRAMES} frames {SIZE}² Workbench (FXAA) {res['seconds_per_frame']:.3f} s/frame, "
          f"{wall:.1f} s in all; joint error {res['joint_error_max_m'] * 1000:.2f} mm")
    return res, meta, frames.astype(np.int16), camera, joints


def _corners(frames: np.ndarray, k: int = 10) -> dict[str, np.ndarray]:
    """Every frame's 10×10-pixel corner patches (T, k, k, 3)."""
    return {"top_left": frames[:, :k, :k], "top_right": frames[:, :k, -k:],
            "bottom_left": frames[:, -k:, :k], "bottom_right": frames[:, -k:, -k:]}


def test_clip_file_and_ground_truth(clip):
    res, (w, h, fps), frames, camera, joints = clip
    from choreo.core.video.poses import dance_keypoints

    assert (w, h, fps) == (SIZE, SIZE, 30.0) and frames.shape == (FRAMES, SIZE, SIZE, 3)
    assert res["frames"] == FRAMES and res["path"].endswith("actor.mp4")
    assert res["keypoints"].shape == (FRAMES, 18, 2)
    # The rig is built to reach the take: its joints are the take's within a millimetre.
    assert res["joint_error_max_m"] < 1e-3
    assert np.abs(res["keypoints"] - dance_keypoints(joints, camera)).max() < 0.5
    kp = res["keypoints"]
    assert kp.min() > 0 and kp.max() < SIZE                 # the whole body in the picture


def test_figure_is_where_the_keypoints_say(clip):
    res, _, frames, _, _ = clip
    corners = _corners(frames)
    for name, patch in corners.items():                     # a plain, still background
        assert patch.std(axis=(0, 1, 2)).max() < 4.0, name
    wall = corners["top_left"].mean(axis=(0, 1, 2))
    floor = corners["bottom_left"].mean(axis=(0, 1, 2))
    assert np.abs(wall - corners["top_right"].mean(axis=(0, 1, 2))).max() < 6
    assert np.abs(floor - corners["bottom_right"].mean(axis=(0, 1, 2))).max() < 6
    kp = res["keypoints"]
    hips = 0.5 * (kp[:, OP["l_hip"]] + kp[:, OP["r_hip"]])
    # Not the chest: the shirt's cream print is near the wall's colour.
    points = {"neck": kp[:, OP["neck"]], "mid-hip": hips, "nose": kp[:, OP["nose"]],
              "l_knee": kp[:, OP["l_knee"]], "r_knee": kp[:, OP["r_knee"]]}
    for name, p in points.items():
        xy = np.round(p - 0.5).astype(int)                      # pixel (x, y) holding the point
        pix = frames[np.arange(FRAMES), xy[:, 1], xy[:, 0]]
        off_bg = np.minimum(np.abs(pix - wall).max(axis=1), np.abs(pix - floor).max(axis=1))
        assert (off_bg > 25).mean() >= 0.95, f"{name}: background colour at {np.mean(off_bg <= 25):.0%} of frames"
    # 30 px left of the leftmost keypoint, at the hips' height: background.
    x = np.clip(kp[..., 0].min(axis=1) - 30, 0, None).astype(int)
    y = hips[:, 1].astype(int)
    pix = frames[np.arange(FRAMES), y, x]
    near_bg = np.minimum(np.abs(pix - wall).max(axis=1), np.abs(pix - floor).max(axis=1))
    assert (near_bg < 12).mean() >= 0.9


def test_face_has_features(clip):
    res, _, frames, _, _ = clip
    kp = res["keypoints"]
    stds, dark = [], []
    for t in range(FRAMES):
        ears = kp[t, [OP["l_ear"], OP["r_ear"]]]
        half = max(3, int(np.ceil(0.5 * np.linalg.norm(ears[0] - ears[1]))))   # about the face's width
        x, y = np.round(kp[t, OP["nose"]]).astype(int)
        box = frames[t, y - half:y + half + 1, x - half:x + half + 1].reshape(-1, 3)
        lum = box @ np.array([0.299, 0.587, 0.114])
        stds.append(lum.std())
        dark.append((lum < 70).mean())                      # hair, brows, irises
    # Skin, hair, eyes and lips: a patterned box, not a flat one (a flat wall patch is ~1).
    assert np.median(stds) > 15, np.round(stds, 1)
    assert np.median(dark) > 0.05


def test_mediapipe_finds_the_person(clip):
    mp_pose = pytest.importorskip("mediapipe").solutions.pose
    res, _, frames, _, _ = clip
    kp = res["keypoints"]
    found, errors = 0, []
    with mp_pose.Pose(static_image_mode=False, model_complexity=1) as pose:
        for t in range(FRAMES):
            out = pose.process(np.ascontiguousarray(frames[t], dtype=np.uint8))
            if out.pose_landmarks is None:
                continue
            found += 1
            lm = out.pose_landmarks.landmark
            for i, name in BLAZE.items():
                p = np.array([lm[i].x * SIZE, lm[i].y * SIZE])
                errors.append((name, np.linalg.norm(p - kp[t, OP[name]]) / SIZE))
    rate = found / FRAMES
    by = {n: np.mean([e for m, e in errors if m == n]) for n in BLAZE.values()}
    print(f"\nBlazePose: person in {rate:.0%} of frames; mean error / image size: "
          + ", ".join(f"{n} {e:.1%}" for n, e in by.items()))
    assert rate >= 0.9
    assert max(by.values()) < 0.05, by                      # each landmark within 5 % on average
    assert np.median([e for _, e in errors]) < 0.02


def test_blender_camera_is_the_pinhole(tmp_path):
    """Small white balls at known points render where :meth:`Camera.project` puts them
    (a non-square image, the camera turned and pitched): within a tenth of a pixel."""
    import math

    from choreo.core.video.poses import Camera
    from choreo.rigs.actor_clip import add_camera
    from choreo.rigs.quiet import quiet_blender

    with quiet_blender():
        bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    cam = Camera(width=160, height_px=120, focal=150.0, distance=5.0, height=1.3, yaw=math.radians(25),
                 pitch=math.radians(10), look_at=(0.3, -0.2, 0.9))
    add_camera(scene, cam)
    points = np.array([[0.3, -0.2, 0.9], [0.9, 0.1, 1.6], [-0.4, -0.5, 0.2], [0.2, 0.6, 1.9]])
    for p in points:
        bpy.ops.mesh.primitive_uv_sphere_add(radius=0.05, location=tuple(p), segments=32, ring_count=16)
    scene.render.engine = "BLENDER_WORKBENCH"
    shading = scene.display.shading
    shading.light, shading.color_type, shading.single_color = "FLAT", "SINGLE", (1.0, 1.0, 1.0)
    scene.world = bpy.data.worlds.new("black")
    scene.world.color = (0.0, 0.0, 0.0)
    scene.display.render_aa = "16"
    scene.view_settings.view_transform = "Standard"
    scene.render.image_settings.file_format = "PNG"
    scene.render.filepath = str(tmp_path / "balls.png")
    with quiet_blender():
        bpy.ops.render.render(write_still=True)
    img = bpy.data.images.load(str(tmp_path / "balls.png"))
    w, h = img.size
    lum = np.array(img.pixels[:]).reshape(h, w, 4)[::-1, :, 0]      # rows top-down, as the Camera's y
    ys, xs = np.mgrid[0:h, 0:w] + 0.5                                # pixel centres
    for u, v in cam.project(points):
        near = (np.abs(xs - u) < 8) & (np.abs(ys - v) < 8)
        wgt = lum * near
        centroid = np.array([(wgt * xs).sum(), (wgt * ys).sum()]) / wgt.sum()
        assert np.abs(centroid - (u, v)).max() < 0.15, (centroid, (u, v))


def test_cycles_renders_the_actor(mocap_dir, tmp_path):
    pytest.importorskip("av")
    from choreo.core.video.io import VideoReader
    from choreo.core.video.poses import Camera
    from choreo.rigs.actor_clip import actor_take, render_actor_clip

    joints = actor_take("05_02", seconds=0.1, mocap_dir=mocap_dir)      # 3 frames
    camera = Camera(width=64, height_px=64, focal=80.0, distance=4.0, height=1.0, look_at=(0.0, 0.0, 0.9))
    res = render_actor_clip(joints, tmp_path / "cycles.mp4", camera=camera, engine="cycles", samples=1)
    with VideoReader(res["path"]) as r:
        frames = np.stack(list(r.frames_rgb())).astype(int)
    assert frames.shape == (3, 64, 64, 3) and res["engine"] == "CYCLES"
    hip = np.round(res["keypoints"][0, OP["r_hip"]]).astype(int)
    assert np.abs(frames[0, hip[1], hip[0]] - frames[0, 2, 2]).max() > 25      # jeans, not the wall


def test_bad_inputs(tmp_path):
    from choreo.core.video.poses import Camera
    from choreo.rigs.actor_clip import actor_take, default_actor_camera, render_actor_clip

    cam = Camera(width=64, height_px=64)
    ok = np.zeros((3, 24, 3))
    with pytest.raises(ChoreoInputError, match="joints"):
        render_actor_clip(np.zeros((3, 17, 3)), tmp_path / "a.mp4", camera=cam)
    with pytest.raises(ChoreoInputError, match="engine"):
        render_actor_clip(ok, tmp_path / "a.mp4", camera=cam, engine="EEVEE")
    with pytest.raises(ChoreoInputError, match="samples"):
        render_actor_clip(ok, tmp_path / "a.mp4", camera=cam, samples=3)
    with pytest.raises(ChoreoInputError, match="even"):
        render_actor_clip(ok, tmp_path / "a.mp4", camera=Camera(width=63, height_px=64))
    with pytest.raises(ChoreoInputError, match="size"):
        default_actor_camera(ok, 31)
    with pytest.raises(ChoreoInputError, match="take"):
        actor_take("ballet", mocap_dir=tmp_path)
    with pytest.raises(ChoreoInputError, match="not found"):
        actor_take("05_99", mocap_dir=tmp_path)
    assert not list(tmp_path.iterdir())                     # nothing written
