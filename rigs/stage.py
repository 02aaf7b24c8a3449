"""A preview stage for a dancer: a front camera framing the whole dance, a
sun, and a floor, set up for Workbench renders.

The objects are tagged with the custom property ``choreo_stage`` and reused
when the stage is set up again, so repeated calls never duplicate them.
"""

from __future__ import annotations

import math

import numpy as np

import bpy
from mathutils import Euler, Vector

_TAG = "choreo_stage"
_PITCH = math.radians(8.0)      # camera looks slightly down
_MARGIN = 0.35                  # metres around the dancer's travel
FLOOR_COLOR = (0.55, 0.55, 0.57, 1.0)


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


def _frame_camera(cam, scene, lo, hi):
    data = cam.data
    data.lens = 40.0
    data.sensor_fit = "AUTO"
    w, h = scene.render.resolution_x, scene.render.resolution_y
    aspect = w / max(h, 1)
    fov = 2 * math.atan(data.sensor_width / 2 / data.lens)      # along the longer side
    hfov = fov if aspect >= 1 else 2 * math.atan(math.tan(fov / 2) * aspect)
    vfov = fov if aspect < 1 else 2 * math.atan(math.tan(fov / 2) / aspect)
    centre = (lo + hi) / 2
    half_w, half_h = (hi[0] - lo[0]) / 2, (hi[2] - lo[2]) / 2
    dist = max(half_w / math.tan(hfov / 2), half_h / math.tan(vfov / 2) / math.cos(_PITCH))
    dist += (hi[1] - lo[1]) / 2                                   # from the front of the travel box
    cam.location = (centre[0], centre[1] - dist * math.cos(_PITCH), centre[2] + dist * math.sin(_PITCH))
    cam.rotation_mode = "XYZ"
    cam.rotation_euler = Euler((math.pi / 2 - _PITCH, 0.0, 0.0))
    data.clip_end = max(100.0, dist * 4)


def _floor(scene, lo, hi):
    def make():
        mesh = bpy.data.meshes.new("Choreo Floor")
        obj = bpy.data.objects.new("Choreo Floor", mesh)
        mat = bpy.data.materials.new("Choreo Floor")
        mat.diffuse_color = FLOOR_COLOR
        mat.roughness = 0.9
        if mat.node_tree is not None and mat.node_tree.nodes.get("Principled BSDF") is not None:
            mat.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = FLOOR_COLOR
        mesh.materials.append(mat)
        return obj
    floor = _tagged(scene, "floor", make)
    size = max(hi[0] - lo[0], hi[1] - lo[1]) / 2 + 4.0
    cx, cy = (lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2
    mesh = floor.data
    mesh.clear_geometry()
    mesh.from_pydata([(cx - size, cy - size, 0), (cx + size, cy - size, 0), (cx + size, cy + size, 0),
                      (cx - size, cy + size, 0)], [], [(0, 1, 2, 3)])
    mesh.update()
    return floor


def add_preview_stage(scene, target_obj, motion=None):
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

    Returns
    -------
    (camera_obj, light_obj)
        The scene's Choreo camera (made the active camera) and sun.
    """
    lo, hi = _extent(target_obj, motion)

    cam = _tagged(scene, "camera", lambda: bpy.data.objects.new("Choreo Camera", bpy.data.cameras.new("Choreo Camera")))
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
