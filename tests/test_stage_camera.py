"""The preview cameras (issue 18): ``follow`` keeps a travelling dancer's full body in frame,
larger than ``fixed`` does; ``stage`` frames the stage square; the damping neither lags nor
overshoots."""

from __future__ import annotations

import math

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
pytestmark = pytest.mark.blender

from choreo.core import skeleton as sk  # noqa: E402
from choreo.core.motion import Motion  # noqa: E402


def _travelling_dancer(scene, seconds=8.0, fps=30):
    """The default rig keyed walking 6 m to the right and 2 m back, with a jump."""
    from choreo.rigs.armature import build_default_rig

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.fps = fps
    scene.render.resolution_x, scene.render.resolution_y = 640, 360
    arm = build_default_rig(collection=scene.collection)
    n = int(seconds * fps)
    t = np.linspace(0.0, 1.0, n)
    path = np.column_stack([6.0 * t, 2.0 * t ** 2, 0.3 * np.exp(-((t - 0.5) / 0.03) ** 2)])  # a jump mid-way
    pelvis = arm.pose.bones["pelvis"]
    pelvis.rotation_mode = "QUATERNION"
    rest_head = np.array(arm.data.bones["pelvis"].head_local)
    for f, p in enumerate(path, 1):
        # The bone's location is in its rest frame; the default rig's pelvis rest frame is the world's
        # up to its roll, so the world offset is mapped through the bone's rest matrix.
        m = np.array(arm.data.bones["pelvis"].matrix_local)[:3, :3]
        pelvis.location = m.T @ p
        pelvis.keyframe_insert("location", frame=f)
    scene.frame_start, scene.frame_end = 1, n
    return scene, arm, path + rest_head


def _in_frame(scene, cam, arm, frames):
    """(min, max) of every bone head's normalised image x and y over ``frames``, and the mean
    image height of the body."""
    from bpy_extras.object_utils import world_to_camera_view
    from mathutils import Vector

    lo, hi, heights = np.full(2, 9.0), np.full(2, -9.0), []
    for f in frames:
        scene.frame_set(f)
        mw = arm.matrix_world
        pts = np.array([tuple(world_to_camera_view(scene, cam, mw @ Vector(pb.head)))
                        for pb in arm.pose.bones])
        assert (pts[:, 2] > 0).all()
        lo, hi = np.minimum(lo, pts[:, :2].min(0)), np.maximum(hi, pts[:, :2].max(0))
        heights.append(pts[:, 1].max() - pts[:, 1].min())
    return lo, hi, float(np.mean(heights))


def test_follow_camera_keeps_a_travelling_dancer_framed_and_large():
    from choreo.rigs.stage import add_preview_stage

    scene, arm, _ = _travelling_dancer(bpy.context.scene)
    frames = list(range(1, scene.frame_end + 1, 7))
    cam, _ = add_preview_stage(scene, arm, camera="follow", margin=0.1)
    lo, hi, h_follow = _in_frame(scene, cam, arm, frames)
    assert (lo > 0.05).all() and (hi < 0.95).all(), (lo, hi)   # inside, with most of the margin kept
    locs = np.array([tuple(cam.matrix_world.translation) for _ in [0]])
    assert locs.shape == (1, 3)
    # The camera moves with the dancer (keyed), at one distance.
    ys = []
    for f in (1, scene.frame_end):
        scene.frame_set(f)
        ys.append(tuple(cam.matrix_world.translation))
    assert ys[1][0] - ys[0][0] > 4.0
    cam2, _ = add_preview_stage(scene, arm, camera="fixed")
    assert cam2 == cam and cam.animation_data is None      # a fixed camera drops the follow keys
    _, _, h_fixed = _in_frame(scene, cam, arm, frames)
    assert h_follow > 1.8 * h_fixed and h_follow > 0.55, (h_follow, h_fixed)


def test_follow_camera_has_no_lag_and_no_overshoot():
    from choreo.rigs.stage import follow_path, smooth_path

    fps = 30
    step = np.r_[np.zeros(60), np.ones(60)][:, None]           # a sudden 1 m step
    y = smooth_path(step, fps)[:, 0]
    assert y.min() >= -1e-9 and y.max() <= 1 + 1e-9           # no overshoot
    assert abs(y[59] + y[60] - 1.0) < 0.05                     # symmetric about the step: no lag
    assert 0.99 < y[-1] <= 1.0 and y[0] < 0.01
    ramp = np.linspace(0, 10, 300)[:, None]                     # steady travel is followed exactly
    assert np.abs(smooth_path(ramp, fps)[100:200] - ramp[100:200]).max() < 1e-3
    j = np.zeros((10, 24, 3))
    j[:, :, 2] = np.linspace(0.0, 1.7, 24)
    centre, dist = follow_path(j, fps, math.radians(50), math.radians(30), margin=0.1)
    assert np.allclose(centre[:, :2], 0) and 2.0 < dist < 6.0


def test_stage_camera_frames_the_stage_square():
    from bpy_extras.object_utils import world_to_camera_view
    from mathutils import Vector

    from choreo.rigs.stage import add_preview_stage

    scene, arm, path = _travelling_dancer(bpy.context.scene, seconds=2.0)
    motion = Motion(np.repeat(path[:1, None], 24, axis=1).astype(np.float32), 30.0)
    cam, _ = add_preview_stage(scene, arm, motion, camera="stage", stage_m=5.0)
    bpy.context.view_layer.update()
    c = path[0]
    corners = [(c[0] + dx, c[1] + dy, 0.0) for dx in (-2.5, 2.5) for dy in (-2.5, 2.5)]
    for p in corners:
        x, y, z = world_to_camera_view(scene, cam, Vector(p))
        assert 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0 and z > 0, p
    floor = next(o for o in scene.objects if o.get("choreo_stage") == "floor")
    assert len(floor.data.materials) == 2 and len({p.material_index for p in floor.data.polygons}) == 2


@pytest.mark.parametrize("codec, names", [("h265", {"hevc"}), ("av1", {"av1", "libdav1d", "libaom-av1"})])
def test_movie_settings_pick_the_codec_and_burn_in_the_caption(tmp_path, codec, names):
    import av

    from choreo.rigs.render import movie_settings, render_preview
    from choreo.rigs.stage import add_preview_stage

    scene, arm, _ = _travelling_dancer(bpy.context.scene, seconds=0.2)
    add_preview_stage(scene, arm, camera="follow")
    tops = {}
    for caption in (None, "demo · mannequin · default · seed 3"):
        out = tmp_path / f"{codec}_{bool(caption)}.mp4"
        render_preview(scene, out, width=320, height=180,
                       settings=movie_settings(codec=codec, quality="high", caption=caption, height=180))
        with av.open(str(out)) as c:
            assert c.streams.video[0].codec_context.name in names   # the decoder PyAV picked
            frame = next(c.decode(video=0)).to_ndarray(format="rgb24").astype(float)
        tops[caption is not None] = frame[:8, :60].mean()   # the caption's dark band sits top left
    assert tops[True] < tops[False] - 10, tops


def test_lit_engines_are_set_up_by_their_settings():
    """EEVEE (software GL without a GPU: slow, so not rendered here) and Cycles, as a job file names them."""
    from choreo.rigs.render import apply_settings, configure_preview, eevee_engine, movie_settings

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    configure_preview(scene)
    apply_settings(scene, movie_settings("eevee", samples=8, codec="h265", quality="high"))
    assert scene.render.engine == eevee_engine() and scene.eevee.taa_render_samples == 8
    assert (scene.render.ffmpeg.codec, scene.render.ffmpeg.constant_rate_factor) == ("H265", "HIGH")
    assert scene.render.ffmpeg.audio_codec == "AAC"                 # the song stays in
    apply_settings(scene, movie_settings("cycles", samples=4))
    assert scene.render.engine == "CYCLES" and scene.cycles.samples == 4 and scene.cycles.device == "CPU"
    with pytest.raises(ValueError):
        movie_settings("workbench", samples=3)
