"""A synthetic "filmed person" clip: the dressed actor (:mod:`.actor`) dancing a
mocap take in front of a plain wall, seen by a fixed camera that is exactly
a :class:`~choreo.core.video.poses.Camera`, rendered to an H.264 MP4 (issue 16).

It stands in for the ~2-minute video of a target person that the
pose-to-video renderer trains on: :func:`render_actor_clip` returns the clip
and its ground-truth OpenPose-18 keypoints (:func:`~choreo.core.video.poses.dance_keypoints`
of the joints the rig really reached). :func:`actor_take` loads a CMU take and
:func:`default_actor_camera` frames its whole travel like a phone on a tripod.

Engines: "WORKBENCH" (image textures, studio light, shadows, cavity/AO; the
fast one without a GPU) and "CYCLES" (CPU path tracing, few samples plus
OpenImageDenoise: soft shadows, subsurface skin, cloth sheen). The render
runs in a child process (:func:`.render.render_preview`), so it can be
stopped at once, and the MP4 appears only when complete.

Only :func:`render_actor_clip` needs bpy; the rest is numpy.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from ..core import skeleton as sk
from ..core.errors import ChoreoInputError
from ..core.progress import report, scaled
from ..core.video.poses import Camera, dance_keypoints

ENGINES = ("WORKBENCH", "CYCLES")
#: Where the CMU takes are: ../shared/data/mocap/cmu beside the repository (or $CHOREO_SHARED_DATA/mocap/cmu).
CMU_DIR = Path(os.environ.get("CHOREO_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) \
    / "mocap" / "cmu"

WALL = (0.72, 0.70, 0.66)          # sRGB: a warm off-white wall
FLOOR = (0.50, 0.45, 0.40)         # a brown-grey floor
WALL_GAP_M = 1.2                   # the wall stands this far behind the dancer's furthest point


# -- the take and the camera (numpy) ---------------------------------------------

def _one_take(take: str, fps: float, root: Path, stage_m: float | None) -> np.ndarray:
    from ..core.cleanup.stage import StagePlan, stage_dance
    from ..core.formats.bvh import load_bvh_motion

    try:
        subject, trial = (int(x) for x in str(take).split("_"))
    except ValueError:
        raise ChoreoInputError(take, "not a CMU take name (SUBJECT_TRIAL, e.g. 05_02)") from None
    path = root / f"{subject:03d}" / f"{subject:03d}_{trial:02d}.bvh"
    if not path.is_file():
        raise ChoreoInputError(path, "CMU take not found")
    motion = load_bvh_motion(path).resample(fps).normalized_facing().on_floor()
    if stage_m is not None:  # a person filming themselves dances on a small patch of floor
        motion = stage_dance(motion, StagePlan(turn=1.0, travel=0.25, stage_m=stage_m))
    return motion.joints.astype(np.float64)


def actor_take(take: str | Sequence[str] = "05_02", seconds: float | None = None, *, fps: float = 30.0,
               stage_m: float | None = 1.5, mocap_dir: str | os.PathLike | None = None) -> np.ndarray:
    """SMPL-24 joints (T, 24, 3) (metres, z up, facing −y at the start, feet on
    the floor at z = 0, pelvis starting over the origin) of CMU take ``take``
    ("05_02", "5_2" or "005_02"), or of several takes one after another (each
    starting over the origin: a cut, as in an edited clip), resampled to ``fps``,
    the first ``seconds`` s (None: all of it). With ``stage_m`` each take's travel
    is cut to a quarter and kept on a square of that side (m), as a person filming
    themselves dances in front of the camera (None: the travel as recorded)."""
    if seconds is not None and not seconds > 0:
        raise ChoreoInputError("seconds", f"must be positive, got {seconds}")
    root = Path(mocap_dir) if mocap_dir is not None else CMU_DIR
    takes = [take] if isinstance(take, str) else list(take)
    if not takes:
        raise ChoreoInputError("take", "no CMU take named")
    want = None if seconds is None else max(1, int(round(seconds * fps)))
    parts, n = [], 0
    for t in takes:
        parts.append(_one_take(t, fps, root, stage_m))
        n += len(parts[-1])
        if want is not None and n >= want:
            break
    return np.concatenate(parts)[:want]


def _fit_points(joints: np.ndarray) -> np.ndarray:
    """World points the camera must see: every joint (≤ 2000 frames) grown by the
    body's ~12 cm around it, the top of the hair and the shoe soles."""
    j = np.asarray(joints, float)
    j = j[np.linspace(0, len(j) - 1, min(len(j), 2000)).round().astype(int)]
    pts = [j + o for o in ([0.12, 0, 0], [-0.12, 0, 0], [0, 0, 0.12], [0, 0, -0.12], [0, 0, 0])]
    pts.append(j[:, [sk.JOINT_INDEX["head"]]] + [0.0, 0.0, 0.2])
    soles = j[:, list(sk.FEET)].copy()
    soles[..., 2] = np.minimum(soles[..., 2], 0.0)
    pts.append(soles)
    return np.concatenate([p.reshape(-1, 3) for p in pts])


def default_actor_camera(joints: np.ndarray, size: int = 512, *, margin: float = 0.06,
                         height: float = 1.1, fov_deg: float = 50.0) -> Camera:
    """A fixed front camera (a phone on a tripod ``height`` m up, horizontal
    field of view ``fov_deg``) framing the whole take ``joints`` (T, 24, 3):
    ``size`` × ``size`` pixels, the body's extremes at least ``margin`` of the
    image from its edges, the travel centred, pitched to centre the body."""
    j = np.asarray(joints, float)
    if j.ndim != 3 or j.shape[0] == 0 or j.shape[1:] != (24, 3) or not np.all(np.isfinite(j)):
        raise ChoreoInputError("joints", f"expected finite (frames, 24, 3) joints, got {j.shape}")
    if int(size) < 16 or int(size) % 2:
        raise ChoreoInputError("size", f"must be an even number of pixels ≥ 16 (H.264), got {size}")
    pts = _fit_points(j)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    look = ((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2)
    focal = size / 2 / math.tan(math.radians(fov_deg) / 2)
    zmid = (lo[2] + hi[2]) / 2

    def camera(d):
        # Pitch so the body's vertical middle at the travel's centre is on the image's centre row.
        pitch = math.atan2(height - zmid, d)
        return Camera(width=int(size), height_px=int(size), focal=focal, distance=d, height=height,
                      yaw=0.0, pitch=pitch, look_at=look)

    def fits(d):
        cam = camera(d)
        rot, centre = cam._frame()
        if np.any((pts - centre) @ rot[2] <= 0.3):      # anything behind or at the lens
            return False
        uv = cam.project(pts)
        return bool(np.all(np.abs(uv - size / 2) <= (0.5 - margin) * size))

    near = (hi[1] - lo[1]) / 2 + 0.5
    far = near + 2.0
    while not fits(far):
        far *= 1.5
        if far > 1e4:
            raise ChoreoInputError("joints", "the take cannot be framed (does it fly off?)")
    for _ in range(40):                                 # the nearest camera that sees it all
        mid = (near + far) / 2
        near, far = (near, mid) if fits(mid) else (mid, far)
    return camera(far)


# -- the Blender scene -----------------------------------------------------------

def camera_matrix(camera: Camera) -> np.ndarray:
    """The 4×4 world matrix of a Blender camera seeing what ``camera`` sees
    (Blender cameras look down their −z with +y up)."""
    rot, centre = camera._frame()                       # rows: right, down, forward
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2] = rot[0], -rot[1], -rot[2]
    m[:3, 3] = centre
    return m


def add_camera(scene, camera: Camera):
    """A Blender camera object matching ``camera`` exactly (pinhole, focal in
    pixels over the image width, centred principal point), made the scene's
    camera, and the render size set to the camera's pixels."""
    import bpy
    from mathutils import Matrix

    data = bpy.data.cameras.new("Choreo Actor Camera")
    data.sensor_fit = "HORIZONTAL"
    data.sensor_width = 36.0
    data.lens = camera.focal * data.sensor_width / camera.width
    data.shift_x = data.shift_y = 0.0
    data.clip_start, data.clip_end = 0.05, 500.0
    obj = bpy.data.objects.new("Choreo Actor Camera", data)
    scene.collection.objects.link(obj)
    obj.matrix_world = Matrix(camera_matrix(camera).tolist())
    scene.camera = obj
    r = scene.render
    r.resolution_x, r.resolution_y, r.resolution_percentage = camera.width, camera.height_px, 100
    r.pixel_aspect_x = r.pixel_aspect_y = 1.0
    return obj


def _plain_material(name: str, colour, roughness: float = 1.0):
    import bpy

    from .actor import _image, _srgb_to_linear

    mat = bpy.data.materials.new(name)
    lin = (*_srgb_to_linear(colour), 1.0)
    mat.diffuse_color = lin
    mat.roughness = roughness
    mat.specular_intensity = 0.0
    if bpy.app.version < (5, 0, 0) and not mat.use_nodes:
        mat.use_nodes = True
    nt = mat.node_tree
    bsdf = nt.nodes.get("Principled BSDF") or nt.nodes.new("ShaderNodeBsdfPrincipled")
    tex = nt.nodes.new("ShaderNodeTexImage")           # Workbench's Texture mode needs an image
    tex.image = _image(name, np.tile(np.asarray(colour, float), (4, 4, 1)))
    nt.links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
    nt.nodes.active = tex
    bsdf.inputs["Roughness"].default_value = roughness
    return mat


def _plane(scene, name: str, corners, colour):
    import bpy

    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata([tuple(map(float, c)) for c in corners], [], [(0, 1, 2, 3)])
    mesh.uv_layers.new(name="UVMap")
    mesh.materials.append(_plain_material(name, colour))
    obj = bpy.data.objects.new(name, mesh)
    scene.collection.objects.link(obj)
    return obj


def add_room(scene, joints: np.ndarray):
    """A floor (z = 0) and a wall ``WALL_GAP_M`` behind the dance, both plain and
    much larger than any view of them, and the world the same colour as the wall."""
    import bpy

    j = np.asarray(joints, float).reshape(-1, 3)
    cx = (j[:, 0].min() + j[:, 0].max()) / 2
    y_wall = j[:, 1].max() + WALL_GAP_M
    big = 60.0
    _plane(scene, "Choreo Floor", [(cx - big, y_wall - 2 * big, 0), (cx + big, y_wall - 2 * big, 0),
                                   (cx + big, y_wall, 0), (cx - big, y_wall, 0)], FLOOR)
    _plane(scene, "Choreo Wall", [(cx - big, y_wall, 0), (cx + big, y_wall, 0),
                                  (cx + big, y_wall, big), (cx - big, y_wall, big)], WALL)
    from .actor import _srgb_to_linear

    if scene.world is None:
        scene.world = bpy.data.worlds.new("Choreo World")
    scene.world.color = tuple(_srgb_to_linear(WALL))
    return y_wall


def _add_lights(scene, joints: np.ndarray):
    """Cycles/EEVEE lights: a big soft key from the front left and above, a
    fill from the front right and a little from above (Workbench uses its
    studio light); none between the dancer and the wall, which stays plain."""
    import bpy
    from mathutils import Vector

    j = np.asarray(joints, float).reshape(-1, 3)
    target = Vector(((j[:, 0].min() + j[:, 0].max()) / 2, (j[:, 1].min() + j[:, 1].max()) / 2, 1.0))
    for name, offset, energy, size in (("Key", (-2.5, -3.5, 3.0), 500.0, 2.5),
                                       ("Fill", (3.0, -3.0, 1.5), 140.0, 3.0),
                                       ("Top", (0.5, 0.0, 3.5), 120.0, 2.0)):
        light = bpy.data.lights.new(f"Choreo {name}", "AREA")
        light.energy, light.size = energy, size
        obj = bpy.data.objects.new(f"Choreo {name}", light)
        scene.collection.objects.link(obj)
        obj.location = target + Vector(offset)
        obj.rotation_euler = (target - obj.location).to_track_quat("-Z", "Y").to_euler()


#: Default samples per engine: Workbench anti-aliasing samples (1 = FXAA), Cycles paths per pixel.
DEFAULT_SAMPLES = {"WORKBENCH": 5, "CYCLES": 4}
WORKBENCH_AA = {1: "FXAA", 5: "5", 8: "8", 11: "11", 16: "16", 32: "32"}


def engine_settings(engine: str, samples: int | None = None) -> dict:
    """The render settings (dotted scene paths, for :func:`.render.render_preview`)
    of the actor's look in ``engine``; H.264 at high quality, no audio.

    ``samples``: Workbench anti-aliasing samples (1 = FXAA, 5, 8, 11, 16 or 32;
    shadows are drawn once per sample, so 5 costs ~3× FXAA) or Cycles paths per
    pixel (denoised by OpenImageDenoise); None: :data:`DEFAULT_SAMPLES`."""
    engine = str(engine).upper()
    if engine not in ENGINES:
        raise ChoreoInputError("engine", f"unknown render engine {engine!r}; expected one of {', '.join(ENGINES)}")
    n = DEFAULT_SAMPLES[engine] if samples is None else int(samples)
    movie = {"render.ffmpeg.audio_codec": "NONE", "render.ffmpeg.constant_rate_factor": "HIGH",
             "render.ffmpeg.ffmpeg_preset": "GOOD", "render.film_transparent": False}
    if engine == "WORKBENCH":
        if n not in WORKBENCH_AA:
            raise ChoreoInputError("samples", f"Workbench takes 1 (FXAA), 5, 8, 11, 16 or 32 samples, got {samples}")
        return {**movie,
                "display.render_aa": WORKBENCH_AA[n],
                "display.shading.light": "STUDIO",
                "display.shading.studio_light": "paint.sl",       # warm and bright; the others look grey
                "display.shading.color_type": "TEXTURE",
                "display.shading.show_specular_highlight": True,
                "display.shading.show_shadows": True,
                "display.shading.shadow_intensity": 0.35,
                "display.light_direction": [-0.45, -0.6, 0.65],   # from the front left, above
                "display.shadow_focus": 0.6,
                "display.shading.show_cavity": True,
                "display.shading.cavity_type": "BOTH",
                "display.shading.cavity_ridge_factor": 0.4,
                "display.shading.cavity_valley_factor": 1.0,
                "display.shading.curvature_ridge_factor": 0.5,
                "display.shading.curvature_valley_factor": 0.7,
                "display.shading.show_object_outline": False,
                "view_settings.view_transform": "Standard",
                "view_settings.look": "None",
                "view_settings.exposure": 0.5}
    if not 1 <= n <= 4096:
        raise ChoreoInputError("samples", f"Cycles samples must be 1 to 4096, got {samples}")
    return {**movie,
            "render.engine": "CYCLES",
            "cycles.device": "CPU",
            "cycles.samples": n,
            "cycles.use_adaptive_sampling": True,
            "cycles.adaptive_threshold": 0.05,
            "cycles.use_denoising": True,
            "cycles.denoiser": "OPENIMAGEDENOISE",
            # At a few samples the denoiser dominates: its fast mode without prefiltering the
            # albedo/normal passes halves its cost and looks the same at these sizes.
            "cycles.denoising_quality": "FAST",
            "cycles.denoising_prefilter": "NONE",
            "cycles.max_bounces": 4,
            "cycles.diffuse_bounces": 2,
            "cycles.glossy_bounces": 1,
            "cycles.transmission_bounces": 0,
            "cycles.transparent_max_bounces": 2,
            "cycles.caustics_reflective": False,
            "cycles.caustics_refractive": False,
            "render.use_persistent_data": True,
            "view_settings.view_transform": "Standard",
            "view_settings.look": "None"}


def _kabsch(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Rotations (T, 3, 3) best turning point sets ``src`` (T, K, 3) onto ``dst`` (K, 3)."""
    h = np.einsum("tki,kj->tij", src, dst)
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(np.einsum("tij,tjk->tik", u, vt)))
    fix = np.ones((len(src), 3))
    fix[:, 2] = d
    return np.einsum("tji,tj,tkj->tik", vt, fix, u)


def actor_rest_joints(joints: np.ndarray) -> np.ndarray:
    """Rest joints (24, 3) of a rig that can reach the take ``joints`` (T, 24, 3)
    exactly: the default rig's rest pose (:func:`.armature.default_rest_joints`:
    facing −y, arms out, feet on z = 0) with the take's median bone lengths,
    and at each branching joint (pelvis → hips and spine; chest → neck and
    collars) the take's own rigid layout of the children, turned onto the
    default one (best fit over the frames): the template's layout differs
    from a mocap skeleton's by centimetres, which the retarget cannot absorb.
    The neck → head line is the take's mean one, seen from the chest."""
    from .armature import default_rest_joints

    j = np.asarray(joints, float)
    base = default_rest_joints()
    lengths = np.median(sk.bone_lengths(j), axis=0)
    kids: dict[int, list[int]] = {}
    for k, p in enumerate(sk.PARENTS):
        if p >= 0:
            kids.setdefault(p, []).append(k)
    offsets = {}
    for b, cs in kids.items():
        if len(cs) < 2:
            continue
        src = j[:, cs] - j[:, [b]]
        rot = _kabsch(src, base[cs] - base[b])
        mean = np.einsum("tij,tkj->tki", rot, src).mean(axis=0)
        offsets.update({c: mean[i] for i, c in enumerate(cs)})
        if sk.JOINT_NAMES[b] == "spine3":
            # The head joint is one point: the head turns with the neck bone, so the face
            # (built looking ahead at rest) looks ahead when the neck → head line leans
            # as it usually does in the take, seen from the chest, not as the template's.
            neck, head = sk.JOINT_INDEX["neck"], sk.JOINT_INDEX["head"]
            d = np.einsum("tij,tj->ti", rot, j[:, head] - j[:, neck]).mean(axis=0)
            offsets[head] = d / np.linalg.norm(d) * lengths[head - 1]
    rest = base.copy()
    for k in range(1, 24):
        p = sk.PARENTS[k]
        if k in offsets:
            rest[k] = rest[p] + offsets[k]
        else:
            d = base[k] - base[p]
            rest[k] = rest[p] + d / np.linalg.norm(d) * lengths[k - 1]
    rest[:, 2] -= rest[list(sk.FEET), 2].min()
    return rest


def _actor_rig(joints: np.ndarray, collection, seed: int):
    """An SMPL-24 armature with :func:`actor_rest_joints` (bones named like the
    joints, quaternion rotations, the "choreo" bone map), dressed as the actor."""
    from .actor import build_actor
    from .armature import make_armature, smpl_bone_specs
    from .bonemaps import BoneMap, store_bone_map

    rest = actor_rest_joints(joints)
    arm = make_armature("Choreo Actor", smpl_bone_specs(rest), collection)
    arm.data.display_type = "OCTAHEDRAL"
    for pb in arm.pose.bones:
        pb.rotation_mode = "QUATERNION"
    store_bone_map(arm, BoneMap("choreo", {n: n for n in sk.JOINT_NAMES}, []))
    arm["choreo_rig"] = "actor"
    build_actor(arm, rest, collection, seed=seed)
    return arm, np.median(sk.bone_lengths(joints), axis=0)


def camera_path(camera: Camera, frames: int, orbit_deg: float = 0.0) -> list[Camera]:
    """The camera of each of ``frames`` frames: ``camera`` turned evenly about its look-at point's
    vertical through ``orbit_deg`` degrees over the clip (0: still)."""
    from dataclasses import replace

    turn = np.deg2rad(orbit_deg) * np.arange(frames) / max(frames - 1, 1)
    return [replace(camera, yaw=camera.yaw + float(a)) for a in turn]


def render_actor_clip(joints: np.ndarray, out_mp4: str | os.PathLike, *, camera: Camera, fps: float = 30,
                      engine: str = "WORKBENCH", samples: int | None = None, seed: int = 0,
                      orbit_deg: float = 0.0, progress=None) -> dict:
    """Render the actor dancing ``joints`` to the MP4 ``out_mp4`` (atomic).

    Parameters
    ----------
    joints : array (T, 24, 3)
        SMPL-24 joints, metres, z up, facing −y at rest, feet on z = 0 (a
        :class:`~choreo.core.motion.Motion`'s ``joints``), sampled at ``fps``.
    out_mp4 : path
        H.264 MP4 of ``camera.width`` × ``camera.height_px`` pixels, T frames at
        ``fps``, no audio.
    camera : Camera
        The camera (at the first frame); the Blender camera is exactly this pinhole.
    orbit_deg : float
        A moving camera: it circles the look-at point by this many degrees over the clip
        (:func:`camera_path`), keyed on every frame.
    engine : {"WORKBENCH", "CYCLES"}
        Workbench (studio light, shadows, cavity; image textures) or Cycles
        (CPU path tracing: soft light, subsurface skin). On 2 shared CPU
        cores, s/frame at 256² / 512²: Workbench 0.07 / 0.19 with FXAA,
        0.33 / 0.65 with 5 samples; Cycles 0.7 / 2.5 at 4 samples, 2.4 / 8.6
        at 16.
    samples : int, optional
        Workbench anti-aliasing samples (1 = FXAA) or Cycles paths per pixel
        (:func:`engine_settings`); default :data:`DEFAULT_SAMPLES`.
    seed : int
        Varies the textures' noise.
    progress : ProgressFn, optional

    Returns
    -------
    dict
        ``path``, ``frames``, ``fps``, ``width``, ``height``, ``engine``,
        ``seconds`` (render), ``seconds_per_frame``, ``setup_seconds``,
        ``keypoints`` (T, 18, 2) ground-truth OpenPose-18 pixels of the figure
        (:func:`dance_keypoints` of the joints the rig reached), ``cameras`` (each
        frame's :class:`Camera`) and
        ``joint_error_max_m`` (those joints vs ``joints``: bone lengths made
        constant, the retarget's residual).

    Notes
    -----
    Resets the running Blender session (``read_factory_settings``): call it
    from a command-line process, not from inside the add-on.
    """
    j = np.asarray(joints, float)
    if j.ndim != 3 or j.shape[0] < 2 or j.shape[1:] != (24, 3) or not np.all(np.isfinite(j)):
        raise ChoreoInputError("joints", f"expected finite (frames ≥ 2, 24, 3) joints, got {j.shape}")
    engine = str(engine).upper()
    settings = engine_settings(engine, samples)         # checks engine and samples
    if camera.width % 2 or camera.height_px % 2 or min(camera.width, camera.height_px) < 16:
        raise ChoreoInputError("camera", "H.264 needs even image sizes ≥ 16 px, "
                                         f"got {camera.width}×{camera.height_px}")
    cams = camera_path(camera, len(j), orbit_deg)
    for k in (0, len(j) // 2, len(j) - 1):              # raises if the dance goes behind the camera
        dance_keypoints(j, cams[k])
    from .quiet import quiet_blender

    with quiet_blender():
        import bpy
    from ..core.motion import Motion
    from .keys import write_action
    from .rates import scene_rate
    from .render import render_preview
    from .retarget import retarget

    t0 = time.perf_counter()
    report(progress, 0.0, "scene")
    with quiet_blender():
        bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.name = "Choreo Actor"
    rate = scene_rate(fps)
    scene.render.fps, scene.render.fps_base = rate
    scene_fps = rate[0] / rate[1]
    arm, lengths = _actor_rig(j, scene.collection, seed)

    report(progress, 0.03, "keys")
    motion = Motion(j, scene_fps).with_bone_lengths(lengths)
    anim = retarget(motion, arm, plant_feet=False, floor=False)
    write_action(arm, anim, scene_fps=scene_fps, frame_start=1.0, mode="dense", name="Choreo Actor Dance")
    fk = anim.joint_positions()                         # armature space = world (the rig is at the origin)
    reached = np.empty_like(j)
    for k, name in enumerate(anim.joint_names):
        reached[:, sk.JOINT_INDEX[name]] = fk[:, k]

    cam_obj = add_camera(scene, camera)
    if orbit_deg:
        from mathutils import Matrix

        for f, c in enumerate(cams, start=1):
            cam_obj.matrix_world = Matrix(camera_matrix(c).tolist())
            cam_obj.keyframe_insert("location", frame=f)
            cam_obj.keyframe_insert("rotation_euler", frame=f)
    add_room(scene, j)
    _add_lights(scene, j)
    scene.frame_start, scene.frame_end = 1, len(j)
    scene.frame_set(1)
    setup = time.perf_counter() - t0

    render = render_preview(scene, out_mp4, width=camera.width, height=camera.height_px,
                            settings=settings, progress=scaled(progress, 0.05, 1.0))
    report(progress, 1.0, "done")
    return {"path": render["path"], "frames": render["frames"], "fps": scene_fps, "width": camera.width,
            "height": camera.height_px, "engine": engine, "seconds": render["seconds"],
            "seconds_per_frame": render["seconds_per_frame"], "setup_seconds": setup,
            "keypoints": np.stack([dance_keypoints(reached[k:k + 1], c)[0] for k, c in enumerate(cams)]),
            "cameras": cams,
            "joint_error_max_m": float(np.linalg.norm(reached - j, axis=-1).max())}
