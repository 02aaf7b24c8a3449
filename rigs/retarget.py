"""Retarget joint positions (a :class:`~choreo.core.motion.Motion`) onto any
mapped armature, as per-bone rotations.

Method
------
The motion is scaled so its legs are as long as the rig's (hip to ankle),
placed at the armature object's origin and turned to the rig's facing, then
expressed in armature space (the inverse of ``matrix_world``: FBX imports at
0.01 scale with Y-up bones work like any other rig). Bones are solved
parents first, all frames at once with numpy: for a mapped bone, forward
kinematics of what is solved so far gives its parent's posed frame; the
bone's rotation maps a rest frame onto a target frame, each built from a
primary vector (this joint → the next mapped joint down the chain: exact
swing) and a secondary vector that fixes the twist:

- pelvis: the hip line; spine bones: the hip line blended into the collar
  line going up; chest, neck, head: the collar (or shoulder) line;
- upper arm, forearm: the elbow hinge axis (shoulder–elbow–wrist); while
  the arm is near straight it goes from the axis before to the axis after,
  the shorter way (:func:`_coherent_axis`); the hand turns from where the
  forearm carries it by the shortest way (no twist of its own);
- thigh, shin: the knee hinge axis; a straight leg turns to the toe
  direction (the knee points over the toes); foot: the ankle's hinge
  (toe × shin), the knee's where the foot is in line with the shin;
- collars: the torso's up vector.

Unmapped bones keep their rest pose; a mapped bone whose child joint sits
several bones further down (Rigify's extra spine/neck bones) aims through
them at that joint. A bone carrying several mapped joints (pelvis → spine1
and hips, chest → neck and collars) takes the rotation that best fits all of
them (Wahba), and the pelvis is placed so the hips' midpoint is the motion's.
The legs go through an analytic two-bone IK to the motion's ankles every
frame, planted during floor contacts (:mod:`choreo.core.cleanup.contacts`);
the floor rule lifts the motion so the rig's sole (its skinned foot vertices,
else its foot bones) stands on the floor where the motion's feet do, pins
contact feet onto it and keeps the others out of it.

``matrix_basis = C⁻¹ · G · R`` where ``R`` is the bone's rest rotation
(``matrix_local``), ``G`` the rest→target frame rotation and ``C`` the pose
the bone would have with an identity basis; quaternions are ``w, x, y, z``,
sign-continuous over time. See docs/retarget.md.
"""

from __future__ import annotations

import time

import numpy as np

from ..core import skeleton as sk
from ..core.errors import ChoreoInputError
from ..core.motion import Motion
from ..core.progress import ProgressFn, report
from ..core.cleanup import contacts as ct
from ..core.rotations import continuous_quats, matrix_to_quat
from .animation import RigAnimation, RigSkeleton
from .bonemaps import BoneMap

J = sk.JOINT_INDEX
# The joint each joint's bone points at (None: no child in the motion).
_NEXT = {
    "pelvis": "spine1", "spine1": "spine2", "spine2": "spine3", "spine3": "neck", "neck": "head",
    "head": None,
    **{f"{s}_{a}": (f"{s}_{b}" if b else None) for s in "lr" for a, b in (
        ("hip", "knee"), ("knee", "ankle"), ("ankle", "foot"), ("foot", None),
        ("collar", "shoulder"), ("shoulder", "elbow"), ("elbow", "wrist"), ("wrist", "hand"), ("hand", None))},
}
# How much of the collar line (vs the hip line) sets each spine bone's twist.
_SPINE_MIX = {"pelvis": 0.0, "spine1": 1 / 3, "spine2": 2 / 3, "spine3": 1.0, "neck": 1.0, "head": 1.0}
# Hinge angles (sin) below which the hinge plane is not trusted, and above which it fully is.
_HINGE_LO, _HINGE_HI = np.sin(np.radians(8.0)), np.sin(np.radians(25.0))
# A foot in contact whose sole comes this close to the floor (world m) is pinned onto it.
_PIN_M = 0.03


# -- small vector helpers ------------------------------------------------------

def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _frame(primary: np.ndarray, secondary: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Orthonormal frames (…, 3, 3), columns (primary, secondary ⊥ primary,
    their cross); ``fallback`` replaces a secondary that is near the primary."""
    e1 = _unit(primary)
    s = secondary - np.sum(secondary * e1, -1, keepdims=True) * e1
    f = fallback - np.sum(fallback * e1, -1, keepdims=True) * e1
    ns = np.linalg.norm(s, axis=-1, keepdims=True)
    # Turn from the fallback to the secondary (about the primary) as the secondary
    # collapses onto the primary: a vector blend of near-opposite ones would flip.
    a = np.clip((ns / np.maximum(np.linalg.norm(secondary, axis=-1, keepdims=True), 1e-12) - 0.05) / 0.2, 0, 1)
    f, s = _unit(f), _unit(s)
    g = np.cross(e1, f)
    turn = a * np.arctan2(np.sum(s * g, -1, keepdims=True), np.sum(s * f, -1, keepdims=True))
    e2 = _unit(np.cos(turn) * f + np.sin(turn) * g)
    e3 = np.cross(e1, e2)
    return np.stack([e1, e2, e3], axis=-1)


def _transported_frame(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors ``r``, ``s`` (T, 3) ⟂ the unit directions ``d`` (T, 3),
    carried along in time without twisting (each frame's ``r`` is the previous
    one projected off the new ``d``): angles about ``d`` measured against them
    change only as much as the measured vector turns about ``d``."""
    T = len(d)
    e = np.eye(3)[int(np.argmin(np.abs(d[0])))]
    rx, ry, rz = (e - (e @ d[0]) * d[0]) / np.linalg.norm(e - (e @ d[0]) * d[0])
    out = np.empty((T, 3))
    for t, (dx, dy, dz) in enumerate(d.tolist()):
        k = rx * dx + ry * dy + rz * dz
        px, py, pz = rx - k * dx, ry - k * dy, rz - k * dz
        n = (px * px + py * py + pz * pz) ** 0.5
        if n < 1e-3:          # d turned onto r within a frame: keep r's old partner ⟂ d instead
            px, py, pz = dy * rz - dz * ry, dz * rx - dx * rz, dx * ry - dy * rx
            n = max((px * px + py * py + pz * pz) ** 0.5, 1e-12)
        rx, ry, rz = px / n, py / n, pz / n
        out[t] = rx, ry, rz
    return out, np.cross(d, out)


def _wrap(a: np.ndarray) -> np.ndarray:
    return (a + np.pi) % (2 * np.pi) - np.pi


def _coherent_axis(d: np.ndarray, raw: np.ndarray, conf: np.ndarray, fallback: np.ndarray | None = None,
                   ramp: int = 6) -> np.ndarray:
    """A secondary axis (T, 3) ⟂ the unit directions ``d`` that turns smoothly in time.

    ``raw`` is the measured axis, trusted with ``conf`` ∈ [0, 1] (a hinge's
    plane fades as the limb straightens). The axis is an angle about ``d``
    (against a frame carried along ``d`` without twist): the measurement's where
    ``conf`` is 1; across a stretch where it is not, the angle goes from the one
    before to the one after the stretch the shorter way (re-bending in another
    plane turns the bone over the stretch, not in the frame the plane
    reappears), pulled towards the measurement by ``conf`` and less the further
    it disagrees (not at all when opposite: no side to turn to). With a
    ``fallback`` (T, 3; a straight leg: the toes) a stretch longer than two
    ``ramp`` frames follows the fallback, turning to and from it over ``ramp``
    frames. Never a vector blend: near-opposite vectors blended flip the bone.
    """
    T = len(d)
    r, s = _transported_frame(d)
    ang = lambda v: np.arctan2(np.sum(v * s, -1), np.sum(v * r, -1))  # noqa: E731
    theta = ang(raw)
    conf = np.clip(conf, 0.0, 1.0)
    t = np.arange(T)
    anchor = conf >= 0.999
    value = theta.copy()
    if fallback is not None:
        prev = np.maximum.accumulate(np.where(anchor, t, -10 ** 9))
        nxt = np.minimum.accumulate(np.where(anchor, t, 10 ** 9)[::-1])[::-1]
        deep = np.minimum(t - prev, nxt - t) > ramp     # far from any trusted frame: the fallback is
        value = np.where(deep, ang(fallback), theta)
        anchor = anchor | deep
    if not anchor.any():
        return _unit(raw - np.sum(raw * d, -1, keepdims=True) * d)
    a_idx = np.flatnonzero(anchor)
    base = np.interp(t, a_idx, np.unwrap(value[a_idx]))
    delta = _wrap(theta - base)
    h = np.where(anchor, base, base + conf * 0.5 * (1.0 + np.cos(delta)) * delta)
    return np.cos(h)[:, None] * r + np.sin(h)[:, None] * s


def _swing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Shortest rotations (T, 3, 3) taking the directions ``a`` onto ``b`` (T, 3)."""
    a, b = _unit(a), _unit(b)
    v = np.cross(a, b)
    c = np.sum(a * b, -1)
    K = np.zeros(v.shape[:-1] + (3, 3))
    K[..., 0, 1], K[..., 0, 2], K[..., 1, 2] = -v[..., 2], v[..., 1], -v[..., 0]
    K = K - np.swapaxes(K, -1, -2)
    S = np.eye(3) + K + K @ K / np.maximum(1.0 + c, 1e-9)[..., None, None]
    flip = 1.0 + c < 1e-6                                  # opposite: half a turn about any axis ⟂ a
    if np.any(flip):
        e = np.eye(3)[np.argmin(np.abs(a[flip]), axis=-1)]
        u = _unit(e - np.sum(e * a[flip], -1, keepdims=True) * a[flip])
        S[flip] = 2 * u[:, :, None] * u[:, None, :] - np.eye(3)
    return S


def _best_rotation(rest: np.ndarray, target: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Rotations (T, 3, 3) taking the vectors ``rest`` (K, 3) closest onto
    ``target`` (T, K, 3) in the weighted least-squares sense (Wahba's problem,
    by SVD; never a reflection)."""
    H = np.einsum("k,tki,kj->tij", weights, target, rest)
    U, _, Vt = np.linalg.svd(H)
    U[..., :, 2] *= np.sign(np.linalg.det(U @ Vt))[..., None]
    return U @ Vt


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


# -- rest data ---------------------------------------------------------------

def rig_skeleton(arm_obj, bones=None) -> RigSkeleton:
    """Rest data of ``arm_obj``'s bones (``bone.matrix_local``, lengths), parents
    ordered before children.

    ``bones`` (names) keeps only those bones and their ancestors, enough for
    forward kinematics of a big rig (Rigify: 700 bones) to stay cheap.
    """
    if getattr(arm_obj, "type", None) != "ARMATURE":
        raise ChoreoInputError(getattr(arm_obj, "name", str(arm_obj)), "is not an armature object")
    all_bones = arm_obj.data.bones
    keep = None
    if bones is not None:
        keep = set()
        for n in bones:
            b = all_bones.get(n)
            if b is None:
                raise ChoreoInputError(arm_obj.name, f"has no bone {n!r}")
            while b is not None and b.name not in keep:
                keep.add(b.name)
                b = b.parent
    order: list = []
    seen: set[str] = set()

    def visit(b):
        if b.name in seen or (keep is not None and b.name not in keep):
            return
        seen.add(b.name)
        order.append(b)
        for c in b.children:
            visit(c)

    for b in all_bones:
        if b.parent is None:
            visit(b)
    names = [b.name for b in order]
    index = {n: i for i, n in enumerate(names)}
    parents = np.array([index[b.parent.name] if b.parent is not None else -1 for b in order], np.int64)
    rest = np.array([np.array(b.matrix_local, np.float64) for b in order]).reshape(-1, 4, 4)
    lengths = np.array([b.length for b in order], np.float64)
    return RigSkeleton(names, parents, rest, lengths)


# -- the solver --------------------------------------------------------------

class _Pose:
    """Armature-space pose (rotation (T, 3, 3), head (T, 3)) of bones, computed
    lazily down the tree; unsolved bones are at rest relative to their parent."""

    def __init__(self, skel: RigSkeleton, T: int):
        self.skel, self.T = skel, T
        self.rest_rot = skel.rest[:, :3, :3]
        self.rel = np.linalg.inv(skel.rest[np.maximum(skel.parents, 0)]) @ skel.rest
        self.rot: dict[int, np.ndarray] = {}
        self.pos: dict[int, np.ndarray] = {}

    def carried(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Pose of bone ``b`` if its own matrix_basis were identity."""
        p = int(self.skel.parents[b])
        if p < 0:
            return (np.broadcast_to(self.rest_rot[b], (self.T, 3, 3)),
                    np.broadcast_to(self.skel.rest[b, :3, 3], (self.T, 3)))
        pr, pp = self.get(p)
        return pr @ self.rel[b, :3, :3], pp + pr @ self.rel[b, :3, 3]

    def get(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        if b not in self.rot:
            self.rot[b], self.pos[b] = self.carried(b)
        return self.rot[b], self.pos[b]


def _resolve_map(arm_obj, bone_map: BoneMap | None) -> BoneMap:
    if bone_map is None:
        from .bonemaps import bone_map_for  # H4a: stored map, else detected

        bone_map = bone_map_for(arm_obj)
    bones = arm_obj.data.bones
    for j, b in bone_map.joint_to_bone.items():
        if j not in J:
            raise ChoreoInputError(arm_obj.name, f"bone map names unknown joint {j!r}")
        if bones.get(b) is None:
            raise ChoreoInputError(arm_obj.name, f"bone map maps {j} to bone {b!r}, which the armature lacks")
    for need in ("pelvis", "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle"):
        if need not in bone_map.joint_to_bone:
            raise ChoreoInputError(arm_obj.name, f"bone map has no bone for {need}: cannot retarget the legs")
    return bone_map


def _world_matrix(arm_obj) -> np.ndarray:
    return np.array(arm_obj.matrix_world, np.float64).reshape(4, 4)


def _rig_yaw(left_arm: np.ndarray, mw: np.ndarray) -> float:
    """Heading (rad about world z) of the rig's front relative to -y.

    The rest front (left × up, in armature space) is snapped to the nearest
    axis, since rigs are modelled facing an axis and a slightly asymmetric
    rest pose should not turn the dance; the object's rotation then applies
    exactly, so a rig turned in the scene dances turned with it.
    """
    rot = mw[:3, :3] / np.linalg.norm(mw[:3, :3], axis=0, keepdims=True)
    up_arm = rot.T @ np.array([0.0, 0.0, 1.0])
    front = np.cross(left_arm, up_arm)
    if np.linalg.norm(front) < 1e-12:
        return 0.0
    k = int(np.argmax(np.abs(front)))
    snapped = np.zeros(3)
    snapped[k] = np.sign(front[k])
    fw = rot @ snapped
    if np.linalg.norm(fw[:2]) < 1e-6:
        return 0.0
    return float(np.arctan2(fw[1], fw[0]) - np.arctan2(-1.0, 0.0))


def _leg_length(p: np.ndarray) -> float:
    """Mean hip→knee→ankle length of joints (…, 24, 3) (median over frames)."""
    total = 0.0
    for s in "lr":
        a = np.linalg.norm(p[..., J[f"{s}_knee"], :] - p[..., J[f"{s}_hip"], :], axis=-1)
        b = np.linalg.norm(p[..., J[f"{s}_ankle"], :] - p[..., J[f"{s}_knee"], :], axis=-1)
        total += float(np.median(a + b))
    return total / 2.0


def _sole_points(arm_obj, bone_name: str) -> np.ndarray:
    """Rest points (K, 3, armature space) of the foot hanging from ``bone_name``
    (the ankle's bone), whose lowest one, however the foot turns, touches the
    floor: the vertices of meshes skinned to the armature whose strongest group
    is that bone or one of its descendants (the toes); without such a mesh, the
    heads and tails of those bones."""
    import bpy

    bones = arm_obj.data.bones
    # A generated Rigify rig's foot_fk.L moves ORG-foot.L (heel, toe) and
    # DEF-foot.L (what the mesh follows) through constraints, not parenting.
    base = bone_name.replace("_fk", "")
    roots = [bones[bone_name], *(bones[p + base] for p in ("ORG-", "DEF-") if p + base in bones)]
    names = {n for b in roots for n in (b.name, *(c.name for c in b.children_recursive))}
    bone = bones[bone_name]
    mw = _world_matrix(arm_obj)
    ankle_z = (mw @ np.array([*bone.head_local, 1.0]))[2]
    pts = []
    for o in bpy.data.objects:
        if o.type != "MESH" or not any(m.type == "ARMATURE" and m.object == arm_obj for m in o.modifiers):
            continue
        groups = {g.index for g in o.vertex_groups if g.name in names}
        if not groups:
            continue
        co = np.empty(3 * len(o.data.vertices))
        o.data.vertices.foreach_get("co", co)
        om = np.array(o.matrix_world, np.float64)
        world = co.reshape(-1, 3) @ om[:3, :3].T + om[:3, 3]
        verts = o.data.vertices
        for i in np.flatnonzero(world[:, 2] < ankle_z):   # only what lies below the ankle can touch the floor
            g = verts[int(i)].groups
            if len(g) and max(g, key=lambda e: e.weight).group in groups:
                pts.append(world[i])
    if not pts:
        return np.array([np.array(v, np.float64) for n in names for v in (bones[n].head_local, bones[n].tail_local)])
    pts = np.array(pts) @ np.linalg.inv(mw)[:3, :3].T + np.linalg.inv(mw)[:3, 3]
    # Keep the points that are lowest for some direction of "down" (an
    # approximate convex hull, 512 directions: under 1 mm off on a foot).
    k = np.arange(512) + 0.5
    z = 1 - 2 * k / 512
    r = np.sqrt(1 - z * z)
    dirs = np.stack([r * np.cos(np.pi * (3 - np.sqrt(5)) * k), r * np.sin(np.pi * (3 - np.sqrt(5)) * k), z], 1)
    return pts[np.unique(np.argmin(pts @ dirs.T, axis=0))]


def retarget(motion: Motion, arm_obj, bone_map: BoneMap | None = None, *, plant_feet: bool = True,
             floor: bool = True, progress: ProgressFn | None = None) -> RigAnimation:
    """Solve ``motion`` onto ``arm_obj``'s bones.

    Parameters
    ----------
    motion : Motion
        SMPL-24 joints (metres, z up, facing -y), taken relative to the
        armature object's origin and facing.
    arm_obj : bpy.types.Object
        An armature; any object transform (FBX imports: rotated, 0.01 scale).
    bone_map : BoneMap, optional
        Joint → bone; default :func:`.bonemaps.bone_map_for` (stored or detected).
    plant_feet : bool
        Hold feet still during floor contacts (:mod:`choreo.core.cleanup.contacts`).
    floor : bool
        Stand the rig's soles on the floor (the plane through the object's
        origin) where the motion's feet touch z = 0, and keep feet out of it;
        False places the motion as it is (scaled), without floor corrections.
    progress : callable, optional
        ``progress(fraction, label)``.

    Returns
    -------
    RigAnimation
        Rotations of every mapped bone, the pelvis bone's location, the
        (scaled, armature-space) target positions. ``anim.info`` holds the
        scale, floor offset, timings, contact counts and skating before/after (cm/s).
    """
    t0 = time.perf_counter()
    if motion.num_frames < 1:
        raise ChoreoInputError("motion", "has no frames")
    if not np.all(np.isfinite(motion.joints)):
        raise ChoreoInputError("motion", "has non-finite joint positions")
    bone_map = _resolve_map(arm_obj, bone_map)
    jmap = {j: b for j, b in bone_map.joint_to_bone.items()}
    mapped = [j for j in sk.JOINT_NAMES if j in jmap]
    skel = rig_skeleton(arm_obj, [jmap[j] for j in mapped])
    bidx = {j: skel.index(jmap[j]) for j in mapped}
    report(progress, 0.05, "rest pose")

    # Each mapped joint's nearest mapped SMPL ancestor (the head joint's bone aims from it).
    mparent: dict[str, str | None] = {}
    for j in mapped:
        p = sk.PARENTS[J[j]]
        while p >= 0 and sk.JOINT_NAMES[p] not in jmap:
            p = sk.PARENTS[p]
        mparent[j] = sk.JOINT_NAMES[p] if p >= 0 else None
    # ... and its nearest mapped ancestor in the rig's own hierarchy: a bone moves
    # the joints of its SMPL children rigidly only where the two agree.
    bone_joint = {b: j for j, b in bidx.items()}

    def rig_parent(j):
        p = int(skel.parents[bidx[j]])
        while p >= 0 and p not in bone_joint:
            p = int(skel.parents[p])
        return bone_joint.get(p)

    # Branching joints (pelvis → spine1, hips; chest → neck, collars): their bone
    # takes the best-fit rotation of all its children, not the aim at one of them.
    branch = {j: [c for c in mapped if mparent[c] == j and rig_parent(c) == j] for j in mapped}
    branch = {j: cs for j, cs in branch.items() if len(cs) >= 2}

    # Rest joints (armature space) at the mapped bones' heads.
    rest_j = {j: skel.rest[bidx[j], :3, 3] for j in mapped}
    mw = _world_matrix(arm_obj)
    mw_inv = np.linalg.inv(mw)
    to_world = lambda p: p @ mw[:3, :3].T + mw[:3, 3]  # noqa: E731
    up_row = mw[2, :3]                                     # armature vector → world height change
    up_arm = mw_inv[:3, :3] @ np.array([0.0, 0.0, 1.0])   # armature vector raising 1 world unit

    # Motion → world: scale by leg length, place at the object, turn to the rig's facing.
    rig_world = {j: to_world(v) for j, v in rest_j.items()}
    arr = np.zeros((24, 3))
    for j, v in rig_world.items():
        arr[J[j]] = v
    rig_leg = _leg_length(arr)
    src = motion.joints.astype(np.float64)
    mot_leg = _leg_length(src)
    if not (rig_leg > 0 and mot_leg > 0):
        raise ChoreoInputError(arm_obj.name, "legs have zero length")
    scale = rig_leg / mot_leg
    yaw = _rig_yaw(rest_j["l_hip"] - rest_j["r_hip"], mw)
    c, s_ = np.cos(yaw), np.sin(yaw)
    rz = np.array([[c, -s_, 0], [s_, c, 0], [0, 0, 1.0]])
    world = (scale * src) @ rz.T + mw[:3, 3]
    X = world @ mw_inv[:3, :3].T + mw_inv[:3, 3]            # (T, 24, 3) armature space
    T = len(X)

    # Per-frame and rest direction helpers.
    def line(P, a, b):
        return P[..., J[a], :] - P[..., J[b], :]

    def getp(P, j):
        return P[..., J[j], :]

    restP = np.zeros((24, 3))
    for j, v in rest_j.items():
        restP[J[j]] = v
    has = lambda j: j in jmap  # noqa: E731
    side_line = lambda P: _unit(line(P, "l_collar", "r_collar") if has("l_collar") and has("r_collar")  # noqa: E731
                                else line(P, "l_shoulder", "r_shoulder"))
    hip_line = lambda P: _unit(line(P, "l_hip", "r_hip"))  # noqa: E731

    def torso_up(P):
        top = 0.5 * (getp(P, "l_shoulder") + getp(P, "r_shoulder")) if has("l_shoulder") and has("r_shoulder") \
            else getp(P, "head")
        return _unit(top - getp(P, "pelvis"))

    def forward(P):
        return _unit(np.cross(hip_line(P) + side_line(P), torso_up(P)))

    fwd_rest, fwd_t = forward(restP), forward(X)
    up_rest, up_t = torso_up(restP), torso_up(X)

    # Contacts on the motion itself (metres, z up): where feet are planted and pinned to the floor.
    contacts = ct.foot_contacts(motion) if plant_feet or floor else {s: np.zeros(T, bool) for s in "lr"}

    pose = _Pose(skel, T)
    targets = X.copy()                                     # what each joint should reach
    rotations = {}
    hinge: dict[str, np.ndarray] = {}                      # per limb, (T, 3) target hinge axis
    hinge_rest: dict[str, np.ndarray] = {}
    root_loc = np.zeros((T, 3))
    info = {"scale": float(scale), "world_scale": float(abs(np.linalg.det(mw[:3, :3])) ** (1 / 3)),
            "yaw_deg": float(np.degrees(yaw)), "plant_feet": bool(plant_feet), "floor": bool(floor)}
    free_ankles: dict[str, np.ndarray] = {}               # ankles before planting
    ik_ankle: dict[str, np.ndarray] = {}

    def next_mapped(j):
        """The nearest mapped joint down ``j``'s chain (or None)."""
        n = _NEXT[j]
        while n is not None and n not in jmap:
            n = _NEXT[n]
        return n

    def primary_vectors(j, b):
        """(rest (3,), target (T, 3)) primary vectors of joint j's bone."""
        n = next_mapped(j)
        if n is not None:
            return rest_j[n] - rest_j[j], targets[:, J[n]] - targets[:, J[j]]
        if _NEXT[j] is not None:                           # motion has the child, the rig lacks its bone
            return skel.rest[b, :3, 1] * skel.lengths[b], X[:, J[_NEXT[j]]] - X[:, J[j]]
        if j == "head" and mparent[j] is not None:         # no child: the neck→head line
            pj = mparent[j]
            return rest_j[j] - rest_j[pj], X[:, J[j]] - X[:, J[pj]]
        return None

    def limb_hinge(side, upper, mid, low, fallback_t, fallback_rest):
        """Hinge axes (rest (3,), target (T,3)) of upper→mid→low, coherent in time
        (:func:`_coherent_axis`): where the limb is near straight the hinge keeps
        to the angle it had before and after (and, with ``fallback_t``, to that)."""
        d1 = _unit(X[:, J[f"{side}_{mid}"]] - X[:, J[f"{side}_{upper}"]])
        d2 = _unit(X[:, J[f"{side}_{low}"]] - X[:, J[f"{side}_{mid}"]])
        raw = np.cross(d1, d2)
        sin = np.linalg.norm(raw, axis=-1)
        w = _smoothstep((sin - _HINGE_LO) / (_HINGE_HI - _HINGE_LO))
        n = _coherent_axis(d1, raw, w, None if fallback_t is None else _unit(fallback_t))
        r_up = rest_j.get(f"{side}_{mid}", None)
        r_d1 = _unit(r_up - rest_j[f"{side}_{upper}"]) if r_up is not None else fallback_rest[1]
        n_rest = np.cross(r_d1, fallback_rest[0])
        if fallback_t is None and not (w >= 0.999).any():  # never bent: the body's forward decides
            n = _coherent_axis(d1, np.cross(d1, fwd_t), np.ones(T))
        return _unit(n_rest), n

    # Hinge axes: elbows (arm flexes forward), knees (shin flexes backward).
    for sd in "lr":
        if all(has(f"{sd}_{k}") for k in ("shoulder", "elbow")):
            hinge_rest[f"{sd}_arm"], hinge[f"{sd}_arm"] = limb_hinge(
                sd, "shoulder", "elbow", "wrist", None, (fwd_rest, None))
        toe = X[:, J[f"{sd}_foot"]] - X[:, J[f"{sd}_ankle"]]
        thigh = _unit(X[:, J[f"{sd}_knee"]] - X[:, J[f"{sd}_hip"]])
        hinge_rest[f"{sd}_leg"], hinge[f"{sd}_leg"] = limb_hinge(
            sd, "hip", "knee", "ankle", np.cross(thigh, -_unit(toe)), (-fwd_rest, None))
        # The foot's twist: its own hinge (toe × shin, the ankle's axis, ⟂ the toes),
        # the knee hinge where the foot lies in line with the shin. The knee hinge
        # itself swings with the thigh, and the foot turned with it while still.
        a_j = f"{sd}_ankle"
        if has(a_j) and (pv := primary_vectors(a_j, bidx[a_j])) is not None:
            shin = _unit(X[:, J[a_j]] - X[:, J[f"{sd}_knee"]])
            toe_u = _unit(pv[1])
            raw = np.cross(toe_u, shin)
            w = _smoothstep((np.linalg.norm(raw, axis=-1) - _HINGE_LO) / (_HINGE_HI - _HINGE_LO))
            r_raw = np.cross(_unit(pv[0]), _unit(rest_j[a_j] - rest_j[f"{sd}_knee"]))
            if np.linalg.norm(r_raw) > _HINGE_LO:
                sign = 1.0 if r_raw @ hinge_rest[f"{sd}_leg"] >= 0 else -1.0
                # Its rest twin stays the knee's (as for a straight leg, whose hinge
                # is the toes' side): the feet keep the turn-out they had.
                hinge_rest[f"{sd}_foot"] = hinge_rest[f"{sd}_leg"]
                hinge[f"{sd}_foot"] = _coherent_axis(toe_u, sign * raw, w, hinge[f"{sd}_leg"])

    def secondary(j):
        """(rest (3,), target (T, 3), fallback rest, fallback target) twist vectors."""
        base = j[2:] if j[:2] in ("l_", "r_") else j
        sd = j[0]
        if base in _SPINE_MIX:
            m = _SPINE_MIX[base]
            r = _unit((1 - m) * hip_line(restP) + m * side_line(restP))
            t = _unit((1 - m) * hip_line(X) + m * side_line(X))
            return r, t, fwd_rest, fwd_t
        if base == "collar":
            return up_rest, up_t, fwd_rest, fwd_t
        if base in ("shoulder", "elbow", "wrist", "hand") and f"{sd}_arm" in hinge:
            return hinge_rest[f"{sd}_arm"], hinge[f"{sd}_arm"], up_rest, up_t
        if base == "ankle" and f"{sd}_foot" in hinge:
            return hinge_rest[f"{sd}_foot"], hinge[f"{sd}_foot"], hinge_rest[f"{sd}_leg"], hinge[f"{sd}_leg"]
        if base in ("hip", "knee", "ankle", "foot"):
            return hinge_rest[f"{sd}_leg"], hinge[f"{sd}_leg"], fwd_rest, fwd_t
        return up_rest, up_t, fwd_rest, fwd_t

    def aim(j, prim):
        """Armature-space rotation (T, 3, 3) taking joint j's rest frame onto its target frame."""
        r_sec, t_sec, r_fb, t_fb = secondary(j)
        F_rest = _frame(prim[0][None], r_sec[None], r_fb[None])[0]
        return _frame(prim[1], t_sec, t_fb) @ F_rest.T

    def follow(j, prim):
        """Armature-space rotation (T, 3, 3) of joint j's bone that turns it from
        where its parent carries it onto its primary by the shortest way: no twist
        of its own (a hand has none in SMPL-24; it turns with the forearm)."""
        b = bidx[j]
        c_rot = pose.carried(b)[0]
        back = pose.rest_rot[b].T
        carried = c_rot @ (back @ prim[0])
        G = _swing(carried, prim[1]) @ c_rot @ back
        # Folded back (near half a turn from where the parent carries it) the
        # shortest way is undefined: keep the twist coherent in time there.
        e1 = _unit(prim[0])
        perp = np.eye(3)[int(np.argmin(np.abs(e1)))]
        perp = _unit(perp - (perp @ e1) * e1)
        cos = np.sum(_unit(carried) * _unit(prim[1]), -1)
        sec = _coherent_axis(_unit(prim[1]), G @ perp, _smoothstep((cos + 0.8) / 0.5))
        return _frame(prim[1], sec, sec) @ _frame(e1[None], perp[None], perp[None])[0].T

    def place(j, G):
        """Pose joint j's bone with armature-space rest→pose rotation G (T, 3, 3)."""
        b = bidx[j]
        c_rot, c_pos = pose.carried(b)
        want = G @ pose.rest_rot[b]
        pose.rot[b], pose.pos[b] = want, c_pos
        rotations[j] = np.swapaxes(c_rot, -1, -2) @ want

    def branch_rotation(j):
        cs = branch[j]
        return _best_rotation(np.array([rest_j[c] - rest_j[j] for c in cs]),
                              np.stack([targets[:, J[c]] - targets[:, J[j]] for c in cs], 1), np.ones(len(cs)))

    # The floor. The rig's foot hangs rigidly from the ankle's bone (toes stay at
    # rest), turned by the same rotation whatever the legs do: the height of its
    # lowest point below the ankle is known per frame before solving.
    sole_drop: dict[str, np.ndarray] = {}                   # (T,) world height of the sole below the ankle (< 0)
    if floor:
        for sd in "lr":
            pts = _sole_points(arm_obj, jmap[f"{sd}_ankle"]) - rest_j[f"{sd}_ankle"]
            G = aim(f"{sd}_ankle", primary_vectors(f"{sd}_ankle", bidx[f"{sd}_ankle"]))
            sole_drop[sd] = (np.swapaxes(G, -1, -2) @ up_row @ pts.T).min(axis=-1)
        # One vertical offset puts the rig's sole on the floor where the motion's
        # feet stand: minus the median height the sole would have over the contact
        # frames with the ankles where the motion puts them (the rig's ankle sits
        # higher or lower above its sole than the motion's above the floor).
        sole = np.stack([world[:, J[f"{sd}_ankle"], 2] - mw[2, 3] + sole_drop[sd] for sd in "lr"], 1)
        on = np.stack([contacts["l"], contacts["r"]], 1)
        lift = -float(np.median(sole[on]) if on.any() else np.percentile(sole.min(axis=1), 5))
        X += lift * up_arm
        targets += lift * up_arm
        info["floor_offset_m"] = lift

    def floor_goal(sd, goal):
        """Ankle goal (T, 3) moved up or down so the sole meets the floor in
        contacts (eased like the planting) and up out of it elsewhere."""
        if sd not in sole_drop:
            return goal
        pen = -(goal @ up_row + sole_drop[sd])             # how far the sole is below the floor
        w, seg = ct.contact_weights(contacts[sd])
        # A contact lets the ankle rise 8 cm (hysteresis): one whose sole never
        # comes within 3 cm of the floor is a foot resting in the air, not pinned.
        for k in np.unique(seg[seg >= 0]):
            if -pen[(seg == k) & contacts[sd]].max() > _PIN_M:
                w[seg == k] = 0.0
        return goal + (w * pen + (1 - w) * np.maximum(pen, 0.0))[:, None] * up_arm

    def leg_ik(j, goal):
        """(hip, knee) of a two-bone IK from hip joint j's posed head to the ankle
        ``goal``, the knee on the motion's side: its own offset from the motion's
        hip→ankle line (on a straight leg the hinge axis decides)."""
        sd = j[0]
        hip = pose.carried(bidx[j])[1]
        h, k, a = (X[:, J[f"{sd}_{n}"]] for n in ("hip", "knee", "ankle"))
        l1 = float(np.linalg.norm(rest_j[f"{sd}_knee"] - rest_j[j]))
        l2 = float(np.linalg.norm(rest_j[f"{sd}_ankle"] - rest_j[f"{sd}_knee"]))
        u = _unit(a - h)
        off = (k - h) - np.sum((k - h) * u, -1, keepdims=True) * u
        pole = off + 1e-3 * l1 * _unit(np.cross(_unit(goal - hip), hinge[f"{sd}_leg"]))
        return hip, ct.two_bone_ik(hip, goal, l1, l2, pole)

    # Solve in the rig's own parents-first order: usually the SMPL order, but
    # Rigify hangs the hips bone below the lower spine, for instance.
    n_mapped = len(mapped)
    for k, j in enumerate(sorted(mapped, key=lambda j: bidx[j])):
        b = bidx[j]
        base = j[2:] if j[:2] in ("l_", "r_") else j
        sd = j[0]
        if j == "pelvis":
            c_rot, c_pos = pose.carried(b)
            G = branch_rotation(j) if j in branch else aim(j, primary_vectors(j, b))
            place(j, G)
            # The pelvis bone's location puts the hips' midpoint where the motion
            # has it, so the legs reach the feet as the motion bends them; the
            # pelvis joint follows the rig's own pelvis shape (its hips sit
            # lower below it than a CMU dancer's, for instance).
            hips = [h for h in ("l_hip", "r_hip") if h in branch.get(j, ())]
            head = X[:, J[j]].copy()
            if hips:
                mid_rest = np.mean([rest_j[h] for h in hips], 0) - rest_j[j]
                head = np.mean([X[:, J[h]] for h in hips], 0) - G @ mid_rest
            root_loc = np.einsum("tji,tj->ti", c_rot, head - c_pos)
            pose.pos[b] = head
        elif j in branch:
            place(j, branch_rotation(j))
        elif base == "hip":
            # Legs: two-bone IK to the ankle the motion has (planted, on the
            # floor), so the hips' offsets can't lower or lift the feet.
            knee_j, ankle_j, foot_j = f"{sd}_knee", f"{sd}_ankle", f"{sd}_foot"
            free_ankles[sd] = targets[:, J[ankle_j]].copy()
            goal = ct.plant(free_ankles[sd], contacts[sd])[0] if plant_feet else free_ankles[sd]
            goal = floor_goal(sd, goal)
            root, knee = leg_ik(j, goal)
            # Targets keep the motion's joints, moved only by planting and the floor.
            targets[:, J[knee_j]] += knee - leg_ik(j, free_ankles[sd])[1]
            targets[:, J[ankle_j]] += goal - free_ankles[sd]
            targets[:, J[foot_j]] += goal - free_ankles[sd]
            ik_ankle[sd] = goal
            place(j, aim(j, (rest_j[knee_j] - rest_j[j], knee - root)))
        elif base == "knee" and sd in ik_ankle:            # the shin aims at the IK ankle itself
            place(j, aim(j, (rest_j[f"{sd}_ankle"] - rest_j[j], ik_ankle[sd] - pose.carried(b)[1])))
        else:
            prim = primary_vectors(j, b)
            if prim is None:                               # leaf without a direction: stays at rest
                rotations[j] = np.broadcast_to(np.eye(3), (T, 3, 3))
                pose.get(b)
            elif base == "wrist":
                place(j, follow(j, prim))
            else:
                place(j, aim(j, prim))
        report(progress, 0.05 + 0.85 * (k + 1) / n_mapped, jmap[j])

    bone_names = [jmap[j] for j in mapped]
    quats = continuous_quats(matrix_to_quat(np.stack([rotations[j] for j in mapped], axis=1)))
    anim = RigAnimation(
        armature=arm_obj.name, bone_names=bone_names, rotations=quats.astype(np.float64),
        root_bone=jmap["pelvis"], root_location=root_loc, fps=motion.fps, skeleton=skel,
        joint_names=mapped, joint_bones=bone_names, target_positions=targets[:, [J[j] for j in mapped]],
        joint_at_tail=[False] * len(mapped))
    info["solve_s"] = time.perf_counter() - t0

    # Skating (world units/s → cm/s) over full-contact frames, before and after planting.
    if plant_feet and free_ankles:
        fk = anim.joint_positions()
        for sd, free in free_ankles.items():
            c = contacts[sd]
            after = fk[:, mapped.index(f"{sd}_ankle")]
            info[f"{sd}_contact_frames"] = int(c.sum())
            info[f"{sd}_skating_before_cm_s"] = 100 * ct.skating(to_world(free), c, motion.fps)
            info[f"{sd}_skating_after_cm_s"] = 100 * ct.skating(to_world(after), c, motion.fps)
    anim.info = info
    report(progress, 1.0, "retargeted")
    return anim


def retarget_error(anim: RigAnimation) -> dict:
    """Joint-position error of ``anim`` (FK of its rotations vs its targets) in
    world metres (armature units times the object's scale): ``{"mean_m", "p95_m", "max_m"}``."""
    e = anim.error() * float(getattr(anim, "info", {}).get("world_scale", 1.0))
    return {"mean_m": float(e.mean()), "p95_m": float(np.percentile(e, 95)), "max_m": float(e.max())}
