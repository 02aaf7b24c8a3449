"""A dressed, textured person for the default rig: the target "actor" of the
pose-to-video renderer's synthetic training clip (issue 16).

:func:`build_actor` builds one mesh (~12k vertices) whose parts follow the
SMPL-named bones as the mannequin's (:mod:`.mannequin`) do: limbs, hands and
shoes are its tapered capsules (more segments), bound rigidly to one bone;
the T-shirt's body is a lofted tube whose rings follow the spine bones with
blended weights (it bends smoothly), its short sleeves open tubes; the head
is a modelled skull-and-jaw surface. Materials: skin (face, neck, forearms,
hands), the T-shirt with a round print on its chest (front and back
differ), jeans, sneakers, a hair cap over the top and back of the head, and
a face — eye whites and irises, eyebrows, a nose, lips, ears — placed where
:func:`~choreo.core.skeleton_maps.smpl24_to_openpose18` puts the nose, eyes
and ears, so the face keypoints land on it and a face-enhancement GAN has
real detail to learn.

Every texture is a numpy image packed into the .blend (nothing external).
Each material has an Image Texture node (the active node: Workbench shows it
with ``shading.color_type = "TEXTURE"``) feeding a Principled BSDF with
subsurface skin, cloth sheen and a bump from the texture (what Cycles uses),
and a ``diffuse_color`` (Workbench's "Material" colour).
"""

from __future__ import annotations

import math

import numpy as np

from ..core import skeleton as sk
from .mannequin import _capsule, _frame, bind_to_armature

import bpy

SEGS = 20            # vertices around each capsule ring (the mannequin has 12)
HEAD_ROWS, HEAD_COLS = 24, 40

# sRGB colours (0–1).
SKIN = (0.78, 0.56, 0.43)
SHIRT = (0.62, 0.16, 0.15)        # brick red
SHIRT_PRINT = (0.93, 0.90, 0.82)
JEANS = (0.17, 0.24, 0.40)
SHOE = (0.13, 0.13, 0.14)
SOLE = (0.90, 0.89, 0.86)
HAIR = (0.16, 0.10, 0.06)
EYE_WHITE = (0.72, 0.68, 0.64)
IRIS = (0.10, 0.06, 0.04)
BROW = (0.12, 0.08, 0.05)
LIPS = (0.66, 0.36, 0.34)

# material name → (colour, Workbench roughness, Principled extras)
_MATERIALS = {
    "skin": (SKIN, 0.55, {"Subsurface Weight": 0.25, "Subsurface Radius": (0.9, 0.45, 0.3),
                          "Subsurface Scale": 0.02, "Roughness": 0.5}),
    "shirt": (SHIRT, 0.9, {"Roughness": 0.85, "Sheen Weight": 0.15}),
    "jeans": (JEANS, 0.9, {"Roughness": 0.85, "Sheen Weight": 0.1}),
    "shoes": (SHOE, 0.6, {"Roughness": 0.55}),
    "hair": (HAIR, 0.5, {"Roughness": 0.6}),
    "eye_white": (EYE_WHITE, 0.15, {"Roughness": 0.1, "Subsurface Weight": 0.1}),
    "iris": (IRIS, 0.15, {"Roughness": 0.1}),
    "brow": (BROW, 0.6, {"Roughness": 0.6}),
    "lips": (LIPS, 0.35, {"Roughness": 0.35, "Subsurface Weight": 0.2, "Subsurface Radius": (0.9, 0.4, 0.3),
                          "Subsurface Scale": 0.01}),
}
_BUMP = {"skin": 0.08, "shirt": 0.25, "jeans": 0.3, "hair": 0.35, "shoes": 0.1}
MATERIAL_NAMES = tuple(_MATERIALS)
_PREFIX = "Choreo Actor "


# -- textures (numpy) ------------------------------------------------------------

def _noise(rng, h: int, w: int, sy: float, sx: float) -> np.ndarray:
    """Smooth noise (h, w), zero mean, unit std, tiling in both directions:
    white noise low-passed by a Gaussian ``sy`` × ``sx`` pixels wide (via FFT)."""
    f = np.fft.fft2(rng.standard_normal((h, w)))
    ky, kx = np.fft.fftfreq(h)[:, None], np.fft.fftfreq(w)[None, :]
    f *= np.exp(-2 * math.pi ** 2 * ((ky * sy) ** 2 + (kx * sx) ** 2))
    n = np.fft.ifft2(f).real
    return (n - n.mean()) / max(n.std(), 1e-9)


def _tint(colour, shade: np.ndarray) -> np.ndarray:
    """(h, w, 3) image: ``colour`` times ``shade`` (h, w), clipped to 0–1."""
    return np.clip(np.asarray(colour, float)[None, None] * shade[..., None], 0.0, 1.0)


def _texture_pixels(kind: str, rng) -> np.ndarray:
    """The (h, w, 3) sRGB texture of material ``kind``; row 0 is the image's top
    (v = 1), u runs round a part from its side axis (0.75 is the front)."""
    if kind == "skin":
        h = w = 256
        shade = 1 + 0.015 * _noise(rng, h, w, 24, 24) + 0.02 * _noise(rng, h, w, 2, 2)
        return _tint(SKIN, shade)
    if kind == "shirt":
        h = w = 512
        y, x = np.mgrid[0:h, 0:w]
        v, u = 1 - (y + 0.5) / h, (x + 0.5) / w
        folds = 0.035 * _noise(rng, h, w, 10, 24) + 0.04 * _noise(rng, h, w, 40, 40)
        knit = 0.03 * np.sin(2 * math.pi * x / 2.5) * (0.6 + 0.4 * np.sin(2 * math.pi * y / 3.0))
        shade = 1 + folds + knit + 0.03 * _noise(rng, h, w, 1, 1)
        shade *= np.where(v < 0.03, 0.85, 1.0) * np.where(v > 0.97, 0.8, 1.0)   # hem and neck bands
        img = _tint(SHIRT, shade)
        # A round print on the chest (the torso is ~0.95 m round, ~0.55 m tall):
        # a cream disc, a dark ring, three blue stripes.
        px, py = (u - 0.75) * 0.95, (v - 0.63) * 0.55
        r = np.hypot(px, py)
        disc = r < 0.06
        ring = (r >= 0.06) & (r < 0.068)
        stripes = disc & (np.abs(py) < 0.033) & ((np.floor((py + 0.033) / 0.0132) % 2) == 0)
        img[disc] = _tint(SHIRT_PRINT, shade)[disc]
        img[stripes] = _tint((0.12, 0.28, 0.45), shade)[stripes]
        img[ring] = _tint((0.1, 0.1, 0.12), shade)[ring]
        return img
    if kind == "jeans":
        h = w = 512
        y, x = np.mgrid[0:h, 0:w]
        u = (x + 0.5) / w
        twill = 0.06 * np.sin(2 * math.pi * (x + y) / 4.0)
        fade = 0.09 * _noise(rng, h, w, 40, 20) + 0.05 * _noise(rng, h, w, 3, 12)
        shade = 1 + twill + fade + 0.04 * _noise(rng, h, w, 1, 1)
        img = _tint(JEANS, shade)
        seam = (np.abs(((u + 0.25) % 0.5) - 0.25) < 0.006)          # side seams at u = 0 and 0.5
        img[seam] = _tint((0.55, 0.45, 0.3), shade)[seam]
        return img
    if kind == "hair":
        h = w = 256
        shade = 1 + 0.25 * _noise(rng, h, w, 14, 1.2) + 0.12 * _noise(rng, h, w, 40, 6)
        return _tint(HAIR, shade)
    if kind == "shoes":
        h = w = 128
        y, x = np.mgrid[0:h, 0:w]
        u = (x + 0.5) / w
        shade = 1 + 0.05 * _noise(rng, h, w, 3, 3)
        img = _tint(SHOE, shade)
        sole = np.abs(u - 0.75) < 0.15                               # the capsule's underside
        img[sole] = _tint(SOLE, shade)[sole]
        stripe = np.abs(u - 0.95) < 0.03                             # a side stripe
        img[stripe] = _tint((0.85, 0.85, 0.85), shade)[stripe]
        return img
    return _tint(_MATERIALS[kind][0], np.ones((8, 8)))


def _srgb_to_linear(c):
    c = np.asarray(c, float)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _image(name: str, rgb: np.ndarray):
    """A packed Blender image of ``rgb`` (h, w, 3), sRGB, row 0 at the top."""
    h, w, _ = rgb.shape
    img = bpy.data.images.get(name)
    if img is not None:
        bpy.data.images.remove(img)
    img = bpy.data.images.new(name, w, h, alpha=False)
    rgba = np.ones((h, w, 4), np.float32)
    rgba[..., :3] = rgb[::-1]                      # Blender's rows go bottom-up
    img.pixels.foreach_set(rgba.ravel())
    img.pack()                                     # a generated image's pixels are not saved otherwise
    return img


def actor_material(kind: str, seed: int = 0):
    """The material ``kind`` (one of :data:`MATERIAL_NAMES`); made once per file
    (a second actor in the same file shares it, ``seed`` and all)."""
    name = _PREFIX + kind
    mat = bpy.data.materials.get(name)
    if mat is not None:
        return mat
    colour, rough, extras = _MATERIALS[kind]
    rng = np.random.default_rng([seed, MATERIAL_NAMES.index(kind)])
    pixels = _texture_pixels(kind, rng)
    mat = bpy.data.materials.new(name)
    mat.diffuse_color = (*_srgb_to_linear(pixels.reshape(-1, 3).mean(axis=0)), 1.0)
    mat.roughness = rough
    mat.metallic = 0.0
    if bpy.app.version < (5, 0, 0) and not mat.use_nodes:   # 4.5: node trees are opt-in; 5.x always has one
        mat.use_nodes = True
    nt = mat.node_tree
    bsdf = nt.nodes.get("Principled BSDF") or nt.nodes.new("ShaderNodeBsdfPrincipled")
    tex = nt.nodes.new("ShaderNodeTexImage")
    tex.image = _image(name, pixels)
    tex.interpolation = "Cubic" if pixels.shape[0] > 8 else "Closest"
    nt.links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
    nt.nodes.active = tex                          # Workbench's Texture mode shows the active image node
    for key, value in extras.items():
        if key in bsdf.inputs:
            bsdf.inputs[key].default_value = value
    if kind in _BUMP:
        bump = nt.nodes.new("ShaderNodeBump")
        bump.inputs["Strength"].default_value = _BUMP[kind]
        bump.inputs["Distance"].default_value = 0.002
        nt.links.new(tex.outputs["Color"], bump.inputs["Height"])
        nt.links.new(bump.outputs["Normal"], bsdf.inputs["Normal"])
    return mat


# -- geometry ----------------------------------------------------------------------

class _Parts:
    """Vertices, faces, per-face material and per-loop UVs of every part, and the
    bone weights of their vertices."""

    def __init__(self):
        self.verts: list[np.ndarray] = []
        self.faces: list[tuple] = []
        self.mats: list[int] = []
        self.uvs: list[np.ndarray] = []
        self.groups: dict[str, list[tuple[int, float]]] = {}
        self.n = 0

    def add(self, bones, mat: str, verts: np.ndarray, faces, uv_axis, v_span: float = 1.0):
        """Add a part bound to bone ``bones`` (a name, or per vertex a dict
        {bone: weight}); ``uv_axis`` = (origin, up, side, h0, h1): its cylindrical
        projection (u round ``up`` from ``side``, v from 0 at h0 to ``v_span`` at h1)."""
        verts = np.asarray(verts, float)
        o, up, side, h0, h1 = uv_axis
        uv = _cylinder_uv(verts, faces, o, up, side, h0, h0 + (h1 - h0) / v_span)
        if isinstance(bones, str):
            bones = [{bones: 1.0}] * len(verts)
        for k, weights in enumerate(bones):
            for bone, w in weights.items():
                self.groups.setdefault(bone, []).append((self.n + k, w))
        self.verts.append(verts)
        self.faces += [tuple(self.n + i for i in f) for f in faces]
        self.mats += [MATERIAL_NAMES.index(mat)] * len(faces)
        self.uvs.append(uv)
        self.n += len(verts)

    def capsule(self, bone, mat, a, b, ra, rb, widen=1.0, flatten=1.0, side=(1.0, 0.0, 0.0), uv_axis=None,
                v_span=1.0):
        a, b = np.asarray(a, float), np.asarray(b, float)
        verts, faces = _capsule(a, b, ra, rb, widen, flatten, side, segs=SEGS)
        if uv_axis is None:
            u, _, w = _frame(b - a, np.asarray(side, float))
            uv_axis = (a, w, u, -ra, np.linalg.norm(b - a) + rb)
        self.add(bone, mat, verts, faces, uv_axis, v_span)


def _loft(rings, segs: int = 2 * SEGS, cap_start: bool = True, cap_end: bool = True):
    """A tube through ``rings`` = [(centre, x_axis, y_axis, a, b, n), …]: each
    cross-section the superellipse |x/a|^n + |y/b|^n = 1 (n = 2: an ellipse;
    larger: boxier, as a torso is); ends closed by flat fans or left open.
    Returns vertices, faces and the ring index of every vertex (−1 start cap
    centre, len(rings) end cap centre)."""
    t = np.linspace(0, 2 * math.pi, segs, endpoint=False)
    verts, ring_of = [], []
    for k, (c, ex, ey, a, b, n) in enumerate(rings):
        cx, sy = np.cos(t), np.sin(t)
        px = np.sign(cx) * np.abs(cx) ** (2 / n) * a
        py = np.sign(sy) * np.abs(sy) ** (2 / n) * b
        verts += list(np.asarray(c, float) + px[:, None] * np.asarray(ex, float) + py[:, None] * np.asarray(ey, float))
        ring_of += [k] * segs
    faces = []
    for k in range(len(rings) - 1):
        o0, o1 = k * segs, (k + 1) * segs
        faces += [(o0 + i, o0 + (i + 1) % segs, o1 + (i + 1) % segs, o1 + i) for i in range(segs)]
    if cap_start:
        verts.append(np.asarray(rings[0][0], float))
        ring_of.append(-1)
        c = len(verts) - 1
        faces += [(c, (i + 1) % segs, i) for i in range(segs)]
    if cap_end:
        verts.append(np.asarray(rings[-1][0], float))
        ring_of.append(len(rings))
        c, o = len(verts) - 1, (len(rings) - 1) * segs
        faces += [(o + i, o + (i + 1) % segs, c) for i in range(segs)]
    return np.array(verts), faces, ring_of


def _cylinder_uv(verts, faces, origin, up, side, h0, h1) -> np.ndarray:
    """Per-loop UVs (loops, 2) of ``faces``: u the angle round ``up`` from
    ``side`` (0.25 toward up × side), v the height along ``up`` from h0 (0) to h1 (1).
    A face across the u = 0/1 seam gets u + 1 on its low side."""
    up = np.asarray(up, float) / np.linalg.norm(up)
    side = np.asarray(side, float) - np.dot(side, up) * up
    side /= np.linalg.norm(side)
    other = np.cross(up, side)
    p = verts - np.asarray(origin, float)
    u = (np.arctan2(p @ other, p @ side) / (2 * math.pi)) % 1.0
    v = (p @ up - h0) / max(h1 - h0, 1e-9)
    radial = np.linalg.norm(p - np.outer(p @ up, up), axis=1)
    out = []
    for f in faces:
        fu = u[list(f)]
        pole = radial[list(f)] < 1e-7                       # a cap's tip: no angle of its own
        if (~pole).any():
            ref = fu[~pole]
            if ref.max() - ref.min() > 0.5:
                fu = np.where(fu < 0.5, fu + 1.0, fu)
                ref = fu[~pole]
            fu = np.where(pole, ref.mean(), fu)
        out.extend(zip(fu, v[list(f)]))
    return np.array(out, float)


def _head_shape(z: np.ndarray, theta: np.ndarray):
    """Head surface (head frame: x left, y forward, z up, metres from the head
    joint) at height parameter ``z`` (−1 chin … 1 crown) and angle ``theta``
    round the vertical (π/2 = forward): a skull ellipsoid whose lower half
    narrows into a jaw and chin."""
    zc, hz = 0.045, 0.112                              # chin 6.7 cm below the joint, crown 15.7 cm above
    c = np.sqrt(np.clip(1 - z * z, 0, 1))
    low = np.clip(-z, 0, 1)
    lat = 0.074 * c * (1 - 0.22 * low ** 1.5)          # jaw narrower than the skull
    front = 0.094 * c * (1 - 0.1 * low) + 0.012 * low * c
    back = 0.096 * c * (1 - 0.35 * low ** 2)           # the nape curves in
    depth = np.where(np.sin(theta) > 0, front, back)
    return np.stack([lat * np.cos(theta), depth * np.sin(theta), zc + hz * z], axis=-1)


def _head_front(height: float, lateral: float) -> float:
    """Forward distance (m) of the face surface at ``height`` m above the head
    joint and ``lateral`` m to the side (numerically, on :func:`_head_shape`)."""
    z = np.clip((height - 0.045) / 0.112, -0.999, 0.999)
    th = np.linspace(math.pi / 2, math.pi / 2 + 1.5, 600)
    p = _head_shape(np.full_like(th, z), th)
    k = int(np.argmin(np.abs(np.abs(p[:, 0]) - abs(lateral))))
    return float(p[k, 1])


def _head_grid():
    """Vertices and faces of the head surface: rings of :data:`HEAD_COLS` from
    chin to crown, a vertex at each pole."""
    z = np.linspace(-1, 1, HEAD_ROWS + 1)[1:-1]
    th = np.linspace(0, 2 * math.pi, HEAD_COLS, endpoint=False)
    Z, TH = np.meshgrid(z, th, indexing="ij")
    ring = _head_shape(Z, TH).reshape(-1, 3)
    bottom, top = _head_shape(np.array(-1.0), np.array(0.0)), _head_shape(np.array(1.0), np.array(0.0))
    verts = np.concatenate([bottom[None], ring, top[None]])
    return verts, _grid_faces(len(z), HEAD_COLS, bottom_pole=True)


def _grid_faces(rows: int, cols: int, bottom_pole: bool) -> list[tuple]:
    """Faces of ``rows`` rings of ``cols`` vertices (after a bottom pole vertex
    when ``bottom_pole``) closed by a top pole vertex after them."""
    o = 1 if bottom_pole else 0
    idx = lambda r, c: o + r * cols + c % cols  # noqa: E731
    faces = [(0, idx(0, c + 1), idx(0, c)) for c in range(cols)] if bottom_pole else []
    for r in range(rows - 1):
        faces += [(idx(r, c), idx(r, c + 1), idx(r + 1, c + 1), idx(r + 1, c)) for c in range(cols)]
    top = o + rows * cols
    faces += [(idx(rows - 1, c), idx(rows - 1, c + 1), top) for c in range(cols)]
    return faces


def _hairline(theta: np.ndarray) -> np.ndarray:
    """Height parameter (of :func:`_head_shape`) of the hairline round the head:
    the top of the forehead at the front, the tops of the ears at the sides,
    the nape at the back."""
    f = np.sin(theta)                                    # 1 front, 0 sides, −1 back
    height = np.where(f > 0, 0.045 + 0.052 * np.clip(f, 0, 1) ** 1.5, 0.045 + 0.105 * f)
    return (height - 0.045) / 0.112


def _hair_grid(rng):
    """The hair: the head surface above :func:`_hairline`, grown by 1–1.7 cm
    (fuller on top) with a little random clumping; its edge follows the line."""
    rows = HEAD_ROWS // 2 + 2
    th = np.linspace(0, 2 * math.pi, HEAD_COLS, endpoint=False)
    lo = _hairline(th)
    f = np.linspace(0, 1, rows, endpoint=False)[:, None]
    Z = lo[None] + (1 - lo[None]) * (1 - (1 - f) ** 1.3)   # rows crowd toward the hairline
    TH = np.broadcast_to(th, Z.shape)
    ring = _head_shape(Z, TH).reshape(-1, 3)
    verts = np.concatenate([ring, _head_shape(np.array(1.0), np.array(0.0))[None]])
    d = verts - np.array([0, 0, 0.045])
    n = d / np.linalg.norm(d, axis=-1, keepdims=True)
    grow = 0.01 + 0.007 * np.clip(n[:, 2], 0, 1) + 0.0015 * rng.standard_normal(len(verts))
    grow[:HEAD_COLS] *= 0.5                               # thin at the hairline
    return verts + grow[:, None] * n, _grid_faces(rows, HEAD_COLS, bottom_pole=False)


def _add_head(parts: _Parts, h: np.ndarray, rng):
    """The head, hair and face at the head joint ``h`` (rest pose: facing −y)."""
    L, F, U = np.eye(3)[0], -np.eye(3)[1], np.eye(3)[2]

    def world(p):                        # head frame (x left, y forward, z up) → rest space
        p = np.asarray(p, float)
        return h + p[..., :1] * L + p[..., 1:2] * F + p[..., 2:3] * U

    uv_axis = (h, U, L, -0.07, 0.17)
    verts, faces = _head_grid()
    parts.add("head", "skin", world(verts), faces, uv_axis)
    verts, faces = _hair_grid(rng)
    parts.add("head", "hair", world(verts), faces, uv_axis)

    def on_face(height, lateral, out=0.0):
        return np.array([lateral, _head_front(height, lateral) + out, height])

    def cap(mat, p, q, ra, rb, widen=1.0, flatten=1.0, side=(1.0, 0.0, 0.0), bone="head"):
        parts.capsule(bone, mat, world(p), world(q), ra, rb, widen, flatten,
                      side=world(np.asarray(side)) - world(np.zeros(3)))

    def chain(mat, points, radii, flatten=0.6, side=(0, 0, 1)):
        for p, q, ra, rb in zip(points[:-1], points[1:], radii[:-1], radii[1:]):
            cap(mat, p, q, ra, rb, 1.0, flatten, side=side)

    for s in (1.0, -1.0):                                # s = +1: the left side
        # Eyes: an almond of white following the face's curve, a dark iris in front.
        inner, outer = on_face(0.04, 0.019 * s, -0.0012), on_face(0.041, 0.045 * s, -0.002)
        cap("eye_white", inner, outer, 0.0044, 0.004, 1.0, 0.7, side=(0, 0, 1))
        eye = on_face(0.0405, 0.032 * s, 0.0)
        cap("iris", eye - [0, 0.0015, 0], eye + [0, 0.0008, 0], 0.0049, 0.0049)
        chain("brow", [on_face(0.058, 0.011 * s, 0.001), on_face(0.064, 0.028 * s, 0.002),
                       on_face(0.061, 0.049 * s, 0.0)], [0.0036, 0.003, 0.002], flatten=0.5)
        ear = np.array([0.073 * s, -0.008, 0.028])
        cap("skin", ear - [0, 0, 0.024], ear + [0, 0, 0.024], 0.016, 0.013, 1.0, 0.4, side=(0, 1, 0))
        wing = (on_face(0.009, 0.0115 * s, -0.006), on_face(0.011, 0.0095 * s, -0.004))   # a nostril's wing
        cap("skin", *wing, 0.006, 0.006)
    # The nose: a bridge from between the eyes to a rounded tip.
    chain("skin", [on_face(0.046, 0.0, -0.006), on_face(0.024, 0.0, 0.006), on_face(0.008, 0.0, 0.014)],
          [0.0065, 0.0075, 0.0095], flatten=1.0, side=(1, 0, 0))
    # Lips: upper and lower, curved with the face, thinning to the corners.
    xs = (-0.025, -0.013, 0.0, 0.013, 0.025)
    chain("lips", [on_face(-0.026 - 0.002 * (1 - abs(x) / 0.025), x, -0.001) for x in xs],
          [0.002, 0.0038, 0.0042, 0.0038, 0.002])
    chain("lips", [on_face(-0.035 + 0.003 * abs(x) / 0.025, x, -0.001) for x in xs],
          [0.002, 0.0045, 0.0052, 0.0045, 0.002])


def _add_body(parts: _Parts, j: np.ndarray):
    """Torso, limbs, hands and feet around the rest joints ``j`` (24, 3)."""
    J = lambda n: j[sk.JOINT_INDEX[n]]  # noqa: E731
    U, F, L = np.array([0.0, 0.0, 1.0]), np.array([0.0, -1.0, 0.0]), np.array([1.0, 0.0, 0.0])
    # The shirt's torso: a lofted tube, boxy in section, from the hem (just
    # above the hip joints) to the neck, its rings placed by fractions of the
    # hips-to-shoulders height (mocap skeletons put the spine joints at quite
    # different heights), centred on the spine, each following the spine bone
    # at its height (blended near the joints, so the body bends smoothly).
    # One cylindrical projection, so the print sits on the chest whole.
    spine = ["pelvis", "spine1", "spine2", "spine3", "neck"]
    sz = np.array([J(n)[2] for n in spine])
    z_hip = 0.5 * (J("l_hip")[2] + J("r_hip")[2])
    z_sh = 0.5 * (J("l_shoulder")[2] + J("r_shoulder")[2])
    top = min(z_sh + 0.02, J("head")[2] - 0.11)           # the neck hole, below the chin
    span = z_sh - z_hip
    rings = [  # height, half width, half depth, forward shift (m)
        (z_hip + 0.09 * span, 0.162, 0.112, 0.02),
        (z_hip + 0.3 * span, 0.152, 0.106, 0.02),
        (z_hip + 0.5 * span, 0.152, 0.109, 0.024),
        (z_hip + 0.7 * span, 0.166, 0.12, 0.032),
        (min(z_hip + 0.87 * span, top - 0.06), 0.172, 0.115, 0.025),
        (top - 0.03, 0.150, 0.092, 0.012),
        (top, 0.082, 0.062, 0.0),
    ]

    def spine_weights(z):
        k = int(np.clip(np.searchsorted(sz, z) - 1, 0, 3))   # the bone from joint k to k + 1
        w = {spine[k]: 1.0}
        for kk in (k, k + 1):                               # blend across a joint within 3 cm
            if 0 < kk < 4 and abs(z - sz[kk]) < 0.03:
                a = 0.5 + 0.5 * (z - sz[kk]) / 0.03             # 0 below … 1 above
                w = {spine[kk - 1]: 1 - a, spine[kk]: a}
        return w

    def spine_xy(z):
        return np.array([np.interp(z, sz, [J(n)[0] for n in spine]), np.interp(z, sz, [J(n)[1] for n in spine]), 0.0])

    ex, ey = L, -F                                        # ex × ey = up: outward faces
    spec = [(spine_xy(zz) + zz * U + fw * F, ex, ey, hw, hd, 2.6) for zz, hw, hd, fw in rings]
    verts, faces, ring_of = _loft(spec)
    weights = [spine_weights(rings[max(0, min(k, len(rings) - 1))][0]) for k in ring_of]
    weights = [{"spine3": 0.6, "neck": 0.4} if k >= len(rings) - 1 else w for k, w in zip(ring_of, weights)]
    centre = np.array([J("pelvis")[0], J("pelvis")[1], 0.0])
    torso_uv = (centre, U, L, rings[0][0], rings[-1][0] + 0.01)
    parts.add(weights, "shirt", verts, faces, torso_uv)
    parts.capsule("neck", "skin", J("neck") - 0.03 * U, J("head") - 0.03 * U + 0.01 * F, 0.052, 0.047)
    # Jeans: the hips and a waist under the shirt's hem.
    hips = 0.5 * (J("l_hip") + J("r_hip"))
    r_hips = float(np.clip(0.175 - np.linalg.norm(J("l_hip") - J("r_hip")) / 2, 0.085, 0.11))
    parts.capsule("pelvis", "jeans", J("r_hip") + 0.035 * U, J("l_hip") + 0.035 * U, r_hips, r_hips, 1.0, 1.0,
                  side=(0.0, 1.0, 0.0), uv_axis=(hips, U, L, -0.1, 0.2))
    parts.capsule("pelvis", "jeans", hips + 0.01 * F, hips + 0.06 * U + 0.01 * F, 0.105, 0.1, 1.32, 0.86)
    for s in ("l", "r"):
        sign = 1.0 if s == "l" else -1.0
        ankle, foot = J(f"{s}_ankle"), J(f"{s}_foot")
        heel = ankle + np.array([0.0, 0.045, 0.0])
        heel[2] = 0.045
        ball = foot.copy()
        ball[2] = 0.038
        parts.capsule(f"{s}_hip", "jeans", J(f"{s}_hip"), J(f"{s}_knee"), 0.092, 0.066, side=L * sign)
        parts.capsule(f"{s}_knee", "jeans", J(f"{s}_knee"), ankle + 0.015 * U, 0.065, 0.056, side=L * sign)
        parts.capsule(f"{s}_ankle", "shoes", heel, ball, 0.047, 0.043, 1.2, 0.85, side=L)
        parts.capsule(f"{s}_foot", "shoes", ball, ball + 0.055 * F, 0.043, 0.036, 1.2, 0.8, side=L)
        sh, el, wr, hd = J(f"{s}_shoulder"), J(f"{s}_elbow"), J(f"{s}_wrist"), J(f"{s}_hand")
        d_up, d_lo = (el - sh) / np.linalg.norm(el - sh), (hd - wr) / np.linalg.norm(hd - wr)
        # Mocap shoulder joints sit high (CMU's on CC_Base: level with the neck joint), so the
        # shoulder's flesh hangs below the joint (−up at rest, inward when the arm hangs).
        low = 0.022 * U
        parts.capsule(f"{s}_collar", "shirt", J(f"{s}_collar") - 0.02 * U, sh - low, 0.045, 0.05, 1.0, 0.9,
                      side=U, v_span=0.4)
        parts.capsule(f"{s}_shoulder", "skin", sh + 0.03 * d_up - low, el, 0.048, 0.041, side=F)
        parts.capsule(f"{s}_shoulder", "shirt", sh - 0.02 * d_up - low, sh + 0.04 * d_up - low, 0.05, 0.05,
                      side=F, v_span=0.4)
        # A short sleeve: an open tube a little wider than the arm, a hem at its end.
        ax, ay = _frame(d_up, U)[:2]
        if np.dot(np.cross(ax, ay), d_up) < 0:
            ay = -ay
        sleeve = [(sh + t * (el - sh) - low * (1 - t / 0.42), ax, ay, r, r * 0.95, 2.0)
                  for t, r in ((-0.05, 0.058), (0.15, 0.058), (0.32, 0.056), (0.42, 0.057))]
        verts, faces, _ = _loft(sleeve, segs=SEGS, cap_start=False, cap_end=False)
        parts.add(f"{s}_shoulder", "shirt", verts, faces, (sh, d_up, ax, -0.05, 0.5), 0.4)
        parts.capsule(f"{s}_elbow", "skin", el, wr, 0.045, 0.03, side=F)
        parts.capsule(f"{s}_wrist", "skin", wr + 0.012 * d_lo, hd, 0.033, 0.036, 1.0, 0.45)
        parts.capsule(f"{s}_hand", "skin", hd, hd + 0.075 * d_lo, 0.033, 0.02, 1.0, 0.42)
        thumb0 = wr + 0.025 * d_lo + 0.022 * F
        parts.capsule(f"{s}_wrist", "skin", thumb0, thumb0 + 0.035 * d_lo + 0.025 * F, 0.012, 0.01)


def build_actor(arm_obj, joints: np.ndarray, collection=None, *, seed: int = 0):
    """Dress ``arm_obj`` (bones named like the SMPL joints, sitting at ``joints``
    (24, 3) metres in armature space, rest pose facing −y) as a person.

    Returns the mesh object ``arm_obj.name + " Actor"``: ~12k vertices, one
    material slot per :data:`MATERIAL_NAMES` entry, a UV map, vertex groups
    named like the bones (the shirt's body blended between spine bones, every
    other part weight 1 on one bone), an Armature modifier, parented to the
    armature. ``seed`` varies the textures' noise.
    """
    j = np.asarray(joints, float)
    if j.shape != (24, 3) or not np.all(np.isfinite(j)):
        from ..core.errors import ChoreoInputError

        raise ChoreoInputError("joints", f"expected finite (24, 3) rest joints, got {j.shape}")
    parts = _Parts()
    _add_body(parts, j)
    _add_head(parts, j[sk.JOINT_INDEX["head"]], np.random.default_rng(seed))

    name = arm_obj.name + " Actor"
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(np.concatenate(parts.verts).tolist(), [], parts.faces)
    for mat in MATERIAL_NAMES:
        mesh.materials.append(actor_material(mat, seed))
    mesh.polygons.foreach_set("material_index", np.array(parts.mats, np.int32))
    mesh.polygons.foreach_set("use_smooth", np.ones(len(parts.faces), bool))
    uv = mesh.uv_layers.new(name="UVMap")
    uv.data.foreach_set("uv", np.concatenate(parts.uvs).astype(np.float32).ravel())
    mesh.update()
    obj = bpy.data.objects.new(name, mesh)
    for bone, members in parts.groups.items():
        group = obj.vertex_groups.new(name=bone)
        for w in sorted({w for _, w in members}):
            group.add([i for i, wi in members if wi == w], w, "REPLACE")
    return bind_to_armature(obj, arm_obj, collection, "actor")
