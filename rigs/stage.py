"""A preview stage for a dancer: a front camera, a sun, and a floor of 1 m tiles
(travel shows against it), set up for Workbench renders.

The camera is one of :data:`CAMERA_MODES`: ``fixed`` frames everything the whole dance
reaches from one place; ``follow`` tracks the dancer's travel with damping (a critically
damped path run forwards and backwards, so it neither lags nor overshoots) at the one
distance that keeps the full body in frame, with a margin, on every frame; ``stage`` frames
a square stage of a side the user sets, centred where the dance starts (the stage the
clean-up keeps the dance on, :func:`choreo.core.cleanup.stage.keep_on_stage`). The objects are
tagged with the custom property ``choreo_stage`` and reused when the stage is set up again,
so repeated calls never duplicate them.
"""

from __future__ import annotations

import math

import numpy as np

import bpy
from mathutils import Euler, Vector

from ..core.batch.jobs import CAMERAS

_TAG = "choreo_stage"
_PITCH = math.radians(8.0)      # camera looks slightly down
_MARGIN = 0.35                  # metres around the dancer's travel
_BODY_PAD = 0.12                # metres from a joint to the body's surface (and the head's top)
FLOOR_COLOR = (0.55, 0.55, 0.57, 1.0)
FLOOR_TILE_COLOR = (0.47, 0.47, 0.50, 1.0)
CAMERA_MODES = CAMERAS
FOLLOW_SECONDS = 0.6            # the follow camera's damping time


def _tagged(scene, role: str, make):
    for obj in scene.objects:
        if obj.get(_TAG) == role:
            return obj
    obj = make()
    obj[_TAG] = role
    scene.collection.objects.link(obj)
    return obj


def _target_points(target_obj) -> np.ndarray:
    """World-space points of the target: its bones' heads/tails, else its bounding box."""
    mw = target_obj.matrix_world
    pts = []
    if target_obj.type == "ARMATURE":
        for b in target_obj.data.bones:
            pts += [mw @ b.head_local, mw @ b.tail_local]
    else:
        pts = [mw @ Vector(c) for c in target_obj.bound_box]
    for child in target_obj.children:
        if child.type == "MESH":
            pts += [child.matrix_world @ Vector(c) for c in child.bound_box]
    return np.array([tuple(p) for p in pts]) if pts else np.zeros((1, 3))


def _extent(target_obj, motion) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) world corners of everything the camera must see."""
    pts = _target_points(target_obj)
    if motion is not None:
        j = np.asarray(motion.joints, np.float64).reshape(-1, 3)
        # Joints are on the rig's armature space; keep the rig's world placement.
        j = j + np.array(tuple(target_obj.matrix_world.translation))
        # A head is ~0.12 m above its joint; add a little for hair and hands.
        pts = np.concatenate([pts, j, j[:, :] + [0.0, 0.0, 0.12]])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    lo[2] = min(lo[2], 0.0)
    return lo - _MARGIN, hi + _MARGIN


def _fovs(cam, scene) -> tuple[float, float]:
    """(horizontal, vertical) field of view of ``cam`` (a 40 mm lens) on the scene's frame, radians."""
    data = cam.data
    data.lens = 40.0
    data.sensor_fit = "AUTO"
    w, h = scene.render.resolution_x, scene.render.resolution_y
    aspect = w / max(h, 1)
    fov = 2 * math.atan(data.sensor_width / 2 / data.lens)      # along the longer side
    hfov = fov if aspect >= 1 else 2 * math.atan(math.tan(fov / 2) * aspect)
    vfov = fov if aspect < 1 else 2 * math.atan(math.tan(fov / 2) / aspect)
    return hfov, vfov


def _aim(cam) -> None:
    cam.rotation_mode = "XYZ"
    cam.rotation_euler = Euler((math.pi / 2 - _PITCH, 0.0, 0.0))


def _frame_camera(cam, scene, lo, hi):
    hfov, vfov = _fovs(cam, scene)
    centre = (lo + hi) / 2
    half_w, half_h = (hi[0] - lo[0]) / 2, (hi[2] - lo[2]) / 2
    dist = max(half_w / math.tan(hfov / 2), half_h / math.tan(vfov / 2) / math.cos(_PITCH))
    dist += (hi[1] - lo[1]) / 2                                   # from the front of the travel box
    cam.location = (centre[0], centre[1] - dist * math.cos(_PITCH), centre[2] + dist * math.sin(_PITCH))
    _aim(cam)
    cam.data.clip_end = max(100.0, dist * 4)


def smooth_path(x: np.ndarray, fps: float, seconds: float = FOLLOW_SECONDS) -> np.ndarray:
    """``x`` (T, D) through a critically damped filter (two first-order stages of time constant
    ``seconds`` / 2) run forwards and then backwards: damped, without lag or overshoot."""
    y = np.asarray(x, np.float64).copy()
    if len(y) < 2 or seconds <= 0:
        return y
    keep = math.exp(-2.0 / (seconds * fps))   # of the previous value, per sample
    for direction in (1, 1, -1, -1):
        idx = range(1, len(y)) if direction > 0 else range(len(y) - 2, -1, -1)
        for t in idx:
            y[t] += keep * (y[t - direction] - y[t])
    return y


def follow_path(joints: np.ndarray, fps: float, hfov: float, vfov: float, margin: float = 0.1,
                seconds: float = FOLLOW_SECONDS, pitch: float = _PITCH) -> tuple[np.ndarray, float]:
    """Where a follow camera looks and from how far.

    ``joints`` (T, K, 3) are world metres sampled at ``fps``, the first joint the pelvis.
    Returns the looked-at points (T, 3), the damped pelvis path at the dance's mid-height,
    and the one distance (m) at which every joint, padded by the body's thickness, stays
    inside the frame less ``margin`` (a fraction of its width and height) on each side, for a
    camera pitched down by ``pitch`` with fields of view ``hfov`` × ``vfov`` (radians)."""
    j = np.asarray(joints, np.float64)
    xy = smooth_path(j[:, 0, :2], fps, seconds)
    z_lo, z_hi = min(0.0, float(j[..., 2].min()) - _BODY_PAD), float(j[..., 2].max()) + _BODY_PAD
    centre = np.column_stack([xy, np.full(len(j), (z_lo + z_hi) / 2)])
    fwd = np.array([0.0, math.cos(pitch), -math.sin(pitch)])
    up = np.array([0.0, math.sin(pitch), math.cos(pitch)])
    rel = j - centre[:, None]
    x, y, f = np.abs(rel[..., 0]) + _BODY_PAD, np.abs(rel @ up) + _BODY_PAD, rel @ fwd
    # A point at depth dist + f is inside while |x| / (dist + f) <= tan(hfov / 2) (1 - 2 margin).
    th, tv = math.tan(hfov / 2) * (1 - 2 * margin), math.tan(vfov / 2) * (1 - 2 * margin)
    need = np.maximum(x / th, y / tv) - f
    return centre, float(max(need.max(), 1.0))


def _action_fcurves(action, anim):
    if hasattr(action, "fcurves"):
        return action.fcurves
    from bpy_extras import anim_utils  # Blender 5: an action's curves live in its slot's channelbag

    return anim_utils.action_get_channelbag_for_slot(action, anim.action_slot).fcurves


def _key_follow_camera(cam, scene, arm, frames: range, margin: float) -> np.ndarray:
    """Key ``cam`` (one location key a frame) to follow ``arm`` over ``frames``; returns the
    sampled world joints (every frame, or every other one above 40 fps or 600 frames)."""
    from .sample import armature_motion

    fps = scene.render.fps / scene.render.fps_base
    step = 2 if fps > 40 or len(frames) > 600 else 1
    sampled = list(frames[::step])
    if sampled[-1] != frames[-1]:
        sampled.append(frames[-1])
    j = armature_motion(scene, arm, sampled, fps / step).joints.astype(np.float64)
    hfov, vfov = _fovs(cam, scene)
    centre, dist = follow_path(j, fps / step, hfov, vfov, margin)
    fwd = np.array([0.0, math.cos(_PITCH), -math.sin(_PITCH)])
    at = np.array(list(frames), np.float64)
    loc = np.column_stack([np.interp(at, sampled, centre[:, k]) for k in range(3)]) - dist * fwd
    _aim(cam)
    cam.data.clip_end = max(100.0, dist * 4)
    if cam.animation_data is not None:
        cam.animation_data_clear()
    cam.location = tuple(loc[0])
    for axis in range(3):
        cam.keyframe_insert("location", index=axis, frame=frames[0])
    for fc in _action_fcurves(cam.animation_data.action, cam.animation_data):
        if fc.data_path != "location":
            continue
        fc.keyframe_points.clear()
        fc.keyframe_points.add(len(at))
        fc.keyframe_points.foreach_set("co", np.column_stack([at, loc[:, fc.array_index]]).ravel())
        fc.update()
    return j


def _floor(scene, lo, hi):
    """A floor of 1 m tiles in two greys under [lo, hi], with 4 m around."""
    def make():
        mesh = bpy.data.meshes.new("Choreo Floor")
        obj = bpy.data.objects.new("Choreo Floor", mesh)
        for name, colour in (("Choreo Floor", FLOOR_COLOR), ("Choreo Floor Tile", FLOOR_TILE_COLOR)):
            mat = bpy.data.materials.new(name)
            mat.diffuse_color = colour
            mat.roughness = 0.9
            if mat.node_tree is not None and mat.node_tree.nodes.get("Principled BSDF") is not None:
                mat.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = colour
            mesh.materials.append(mat)
        return obj
    floor = _tagged(scene, "floor", make)
    x0, y0 = math.floor(lo[0]) - 4, math.floor(lo[1]) - 4
    nx, ny = int(math.ceil(hi[0]) + 4 - x0), int(math.ceil(hi[1]) + 4 - y0)
    gx, gy = np.meshgrid(np.arange(nx + 1) + x0, np.arange(ny + 1) + y0, indexing="ij")
    verts = np.column_stack([gx.ravel(), gy.ravel(), np.zeros(gx.size)])
    i, k = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    v = (i * (ny + 1) + k).ravel()
    faces = np.column_stack([v, v + ny + 1, v + ny + 2, v + 1])
    mesh = floor.data
    mesh.clear_geometry()
    mesh.from_pydata(verts.tolist(), [], faces.tolist())
    if len(mesh.materials) > 1:
        mesh.polygons.foreach_set("material_index", ((i + k) % 2).ravel().astype(np.int32))
    mesh.update()
    return floor


def add_preview_stage(scene, target_obj, motion=None, *, camera: str = "fixed", frames: range | None = None,
                      margin: float = 0.1, stage_m: float = 4.0):
    """Set up (or update) a camera, a sun and a floor around ``target_obj``.

    Parameters
    ----------
    scene : bpy.types.Scene
    target_obj : bpy.types.Object
        The dancer (armature, with its mesh as a child) or any object.
    motion : Motion or None
        When given, the camera frames every joint position of the whole
        dance (``motion.joints`` relative to the rig's location), not just
        the rest pose.
    camera : {"fixed", "follow", "stage"}
        :data:`CAMERA_MODES` (the module's doc). ``follow`` reads the keyed armature
        ``target_obj`` over ``frames`` (default the scene's range) and keys the camera.
    margin : float
        ``follow``: the part of the frame's width and height kept clear on each side.
    stage_m : float
        ``stage``: the side (m) of the square stage, centred on where ``motion`` starts
        (else the rig's rest position).

    Returns
    -------
    (camera_obj, light_obj)
        The scene's Choreo camera (made the active camera) and sun.
    """
    if camera not in CAMERA_MODES:
        raise ValueError(f"camera must be one of {CAMERA_MODES}, not {camera!r}")
    lo, hi = _extent(target_obj, motion)
    cam = _tagged(scene, "camera", lambda: bpy.data.objects.new("Choreo Camera", bpy.data.cameras.new("Choreo Camera")))
    if cam.animation_data is not None:
        cam.animation_data_clear()
    if camera == "follow":
        frames = range(scene.frame_start, scene.frame_end + 1) if frames is None else frames
        j = _key_follow_camera(cam, scene, target_obj, frames, margin).reshape(-1, 3)
        lo, hi = np.minimum(lo, j.min(axis=0) - _MARGIN), np.maximum(hi, j.max(axis=0) + _MARGIN)
    elif camera == "stage":
        start = _target_points(target_obj).mean(axis=0)
        if motion is not None:
            start = np.asarray(motion.joints[0, 0], np.float64) + np.array(tuple(target_obj.matrix_world.translation))
        half = stage_m / 2
        top = hi[2]
        lo = np.array([start[0] - half, start[1] - half, 0.0])
        hi = np.array([start[0] + half, start[1] + half, top])
        _frame_camera(cam, scene, lo, hi)
    else:
        _frame_camera(cam, scene, lo, hi)
    scene.camera = cam

    def make_light():
        light = bpy.data.lights.new("Choreo Sun", "SUN")
        return bpy.data.objects.new("Choreo Sun", light)
    sun = _tagged(scene, "light", make_light)
    sun.data.energy = 3.0
    sun.data.angle = math.radians(5.0)              # soft shadow edges
    sun.rotation_mode = "XYZ"
    sun.rotation_euler = Euler((math.radians(50), 0.0, math.radians(-30)))  # from the front left, above
    sun.location = (hi[0] + 1.0, lo[1] - 1.0, hi[2] + 2.0)

    _floor(scene, lo, hi)

    # Workbench: studio light, material colours, soft shadows from the front.
    shading = scene.display.shading
    shading.light = "STUDIO"
    shading.color_type = "MATERIAL"
    shading.show_shadows = True
    shading.shadow_intensity = 0.4
    shading.show_cavity = False
    scene.display.light_direction = (-0.4, -0.55, 0.75)
    if scene.world is None:
        scene.world = bpy.data.worlds.new("Choreo World")
    scene.world.color = (0.18, 0.18, 0.2)
    return cam, sun
