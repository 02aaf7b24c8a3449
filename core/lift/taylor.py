"""A geometric 2D→3D baseline: Taylor's bone-length lifting, with the depth signs resolved over time.

Taylor (“Reconstruction of articulated objects from point correspondences in a single
uncalibrated image”, CVIU 2000): under a scaled orthographic camera a bone of 3D length ``L``
whose image is ``l`` pixels long at ``s`` pixels per metre leans out of the image plane by
``dz = ± sqrt(L² − (l / s)²)``. Knowing the bone lengths (:func:`template_lengths`, or
measured ones) the pose is determined up to the scale ``s`` and one sign per bone.
:func:`taylor_lift` picks the scale per frame as the smallest that keeps every depth offset
real, taken at the least foreshortened moments nearby, and each bone's sign by a 2-state
Viterbi over time (a pose moves continuously, so a sign may only change while the bone
crosses the image plane) with a prior from how bodies usually stand and which way the body
faces. No learning and no training data: what the learned lifter (:mod:`.network`) must
beat. numpy only.
"""

from __future__ import annotations

import numpy as np

from .. import skeleton as sk
from ..skeleton_maps import smpl_rest_joints

_J = sk.JOINT_INDEX
_CHILD = np.arange(1, sk.NUM_JOINTS)
_PARENT = np.asarray(sk.PARENTS[1:])
_BONE = {c: i for i, c in enumerate(_CHILD)}            # child joint -> bone index

#: Template ankle-to-head-joint height over standing height: the ankle sits at 0.039 of
#: stature and the SMPL head joint (mid-head, between chin 0.870 and eyes 0.936) near 0.90
#: (Drillis & Contini's segment proportions, as in Winter, *Biomechanics and Motor Control of
#: Human Movement*). So the SMPL neutral template stands about 1.69 m tall.
_HEAD_TO_ANKLE_OF_HEIGHT = 0.90 - 0.039
_REST = smpl_rest_joints()
TEMPLATE_HEIGHT_M = float(_REST[_J["head"], 2] - 0.5 * (_REST[_J["l_ankle"], 2] + _REST[_J["r_ankle"], 2])) \
    / _HEAD_TO_ANKLE_OF_HEIGHT

#: Which way each bone usually points in the body's frame: (towards the body's left, forward)
#: components of its mean unit direction, rounded, as CMU dance mocap (subject 005) and anatomy
#: have them: thighs a little forward (hips flex more than they extend), shins backward (knees
#: bend only that way), feet forward and turned out, the head forward, upper arms out to the
#: side, forearms and hands forward (elbows bend only that way) and out, the lower spine a little
#: forward (one bends forward more than back). Keyed by each bone's child joint; bones not
#: named: no preference.
LEAN = {
    "l_knee": (0.0, 0.2), "r_knee": (0.0, 0.2), "l_ankle": (0.0, -0.45), "r_ankle": (0.0, -0.45),
    "l_foot": (0.2, 0.55), "r_foot": (-0.2, 0.55), "l_elbow": (0.4, 0.0), "r_elbow": (-0.4, 0.0),
    "l_wrist": (0.25, 0.25), "r_wrist": (-0.25, 0.25), "l_hand": (0.2, 0.25), "r_hand": (-0.2, 0.25),
    "head": (0.0, 0.3), "spine1": (0.0, 0.3), "spine2": (0.0, 0.3),
}
#: Bones across the body (child joint: +1 on the body's left, -1 on its right). Their depths
#: follow one sign, which side of the body is nearer the camera: a torso does not twist
#: through the image plane, so they are resolved together.
LATERAL = {"l_hip": 1, "r_hip": -1, "l_collar": 1, "r_collar": -1, "l_shoulder": 1, "r_shoulder": -1}
#: Weight of the prior against the temporal jump cost (both in metres): a wrong-way bone costs
#: ``PRIOR_WEIGHT × |expected| × |dz|`` per frame, a sign change ``2 min(|dz_t|, |dz_t-1|)`` once.
#: Measured on CMU 005 dance takes (not 005_05) through random views, openpose25, template
#: lengths: PA-MPJPE 184 mm at 0.5, 180 at 2, 176 at 10 and at 100; so the prior decides where
#: it is sure and the temporal cost where it is not (the body side-on, a bone across the body).
PRIOR_WEIGHT = 10.0

#: Bones (by child joint) that set the scale (:func:`_scale`): thighs, shins, upper arms and
#: forearms, whose ends every keypoint layout observes; the other SMPL-24 joints are mostly
#: estimated from those (:mod:`~choreo.core.skeleton_maps`), their lengths only roughly kept.
MEASURE = ("l_knee", "r_knee", "l_ankle", "r_ankle", "l_elbow", "r_elbow", "l_wrist", "r_wrist")
#: How far above the limbs' scale another bone may push it (:func:`_scale`).
SCALE_SLACK = 1.1

_TEMPLATE_L = sk.bone_lengths(_REST[None])[0]
_MEASURE = np.array([sk.JOINT_NAMES[c] in MEASURE for c in _CHILD])
_LEAN = np.array([LEAN.get(sk.JOINT_NAMES[c], (0.0, 0.0)) for c in _CHILD])      # (23, 2)
_SIDE = np.array([LATERAL.get(sk.JOINT_NAMES[c], 0) for c in _CHILD], float)
_LAT = _SIDE != 0


def template_lengths(height_m: float = 1.70) -> np.ndarray:
    """(23,) bone lengths for sk.BONES from the SMPL template scaled to a standing height.

    The lengths a dancer of ``height_m`` metres most likely has when nothing is measured; the
    template's own stature is :data:`TEMPLATE_HEIGHT_M`. Metres.
    """
    return _TEMPLATE_L * (float(height_m) / TEMPLATE_HEIGHT_M)


def _moving(x: np.ndarray, radius: int, reduce) -> np.ndarray:
    """``reduce`` (np.max, np.mean) over a centred window of ±``radius`` along axis 0."""
    if radius < 1 or len(x) == 0:
        return x
    p = np.pad(x, [(radius, radius)] + [(0, 0)] * (x.ndim - 1), mode="edge")
    return reduce(np.lib.stride_tricks.sliding_window_view(p, 2 * radius + 1, axis=0), axis=-1)


def _upper_quartile(x: np.ndarray, axis: int) -> np.ndarray:
    return np.percentile(x, 75.0, axis=axis)


def _fill(x: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Columns of ``x`` (T, ...) with the rows where ``ok`` (T, ...) is False linearly
    interpolated from the rows where it is True (ends held); all-False columns left as they are."""
    x = x.copy()
    t = np.arange(len(x))
    flat, okf = x.reshape(len(x), -1), np.broadcast_to(ok.reshape(len(x), -1), x.reshape(len(x), -1).shape)
    for k in range(flat.shape[1]):
        good = okf[:, k]
        if good.any() and not good.all():
            flat[:, k] = np.interp(t, t[good], flat[good, k])
    return flat.reshape(x.shape)


def _scale(ratio: np.ndarray, fps: float) -> np.ndarray:
    """Pixels per metre (T,) from per-frame bone ratios image length / 3D length (T, 23; NaN
    where unseen). The limbs of :data:`MEASURE` set it: each frame's largest ratio (foreshortening
    only ever shortens, and one of eight limbs mostly lies nearly flat to the image), the upper
    quartile of that within ±1 s (the least foreshortened moments; not the maximum, which
    follows every frame where a limb swings towards the lens and perspective enlarges it, and
    any approach of the dancer), averaged over ±0.25 s, never below the frame's own. Every
    other bone raises it too, so that no bone is longer in the image than it can be, but by at most
    :data:`SCALE_SLACK`: one that asks more disagrees with its length (a joint the detector
    only estimates) and is flattened into the image instead."""
    seen = np.isfinite(ratio)
    r = np.where(seen, ratio, 0.0)
    limb = r[:, _MEASURE].max(axis=1)
    has = seen[:, _MEASURE].any(axis=1)
    if not has.any():                                  # no limb ever seen: the other bones alone
        limb, has = r.max(axis=1), seen.any(axis=1)
        if not has.any():
            return np.ones(len(ratio))
    limb = _fill(limb, has)
    w = max(1, int(round(fps)))
    s = np.maximum(_moving(_moving(limb, w, _upper_quartile), max(1, w // 4), np.mean), limb)
    return np.maximum(np.maximum(s, np.minimum(r.max(axis=1), SCALE_SLACK * s)), 1e-9)


def _viterbi(mag: np.ndarray, unary: np.ndarray) -> np.ndarray:
    """Signs (T, B) of ±1 for depth magnitudes ``mag`` (T, B) in metres minimising the summed
    ``unary`` (T, B, 2; cost of sign -1, +1) plus, between frames, the 3D jump
    ``|σ_t mag_t − σ_t-1 mag_t-1|``: a flip is cheap only where the bone crosses the image plane."""
    T, B = mag.shape
    sign = np.array([-1.0, 1.0])
    cost = unary[0].copy()
    back = np.zeros((T, B, 2), np.int8)
    for t in range(1, T):
        z_now = mag[t][:, None, None] * sign[None, :, None]           # (B, state now, state before)
        z_then = mag[t - 1][:, None, None] * sign[None, None, :]
        total = cost[:, None, :] + np.abs(z_now - z_then)
        back[t] = np.argmin(total, axis=2)
        cost = np.take_along_axis(total, back[t][..., None].astype(np.intp), axis=2)[..., 0] + unary[t]
    state = np.argmin(cost, axis=1)
    out = np.empty((T, B))
    for t in range(T - 1, -1, -1):
        out[t] = sign[state]
        state = back[t, np.arange(B), state]
    return out


def _signs(mag: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Signs (T, B) for depth magnitudes (T, B; m, NaN where unseen) and the prior's expected
    sign, weighted, in [-1, 1] (T, B): :func:`_viterbi` with the wrong-way cost
    ``PRIOR_WEIGHT × |want| × mag`` per frame; unseen frames cost nothing and carry the
    magnitude interpolated from the frames around."""
    ok = np.isfinite(mag)
    m = np.nan_to_num(_fill(np.nan_to_num(mag), ok))
    wrong = np.stack([np.maximum(want, 0.0), np.maximum(-want, 0.0)], axis=-1)     # cost of -1, +1
    return _viterbi(m, PRIOR_WEIGHT * np.where(ok, m, 0.0)[..., None] * wrong)


def taylor_lift(points: np.ndarray, seen: np.ndarray, lengths: np.ndarray | None = None,
                fps: float = 30.0) -> np.ndarray:
    """Pelvis-relative joints (T, 24, 3) in camera axes (x right, y down, z away from camera; metres)
    of SMPL-24 image points (T, 24, 2) (pixels, y down) and seen flags (T, 24).

    ``lengths`` (23,) are the bone lengths in metres in :data:`~choreo.core.skeleton.BONES`
    order (default :func:`template_lengths` of a 1.70 m dancer); ``fps`` sets the time windows.
    Image x and y divided by the scale give x and y (exact under a scaled orthographic camera,
    close under perspective while the body is shallow beside its distance); each bone's depth is
    Taylor's ``± sqrt(L² − (l/s)²)``, its sign resolved over time (:func:`_viterbi`) with a
    prior: the lateral bones (:data:`LATERAL`) together take the side that turns the body the
    way its forward-leaning bones point in the image, then every other bone leans as
    :data:`LEAN` says given the body's left and forward axes (it faces the camera when its left
    side is on the image's right). Bones not seen (either end unseen or not finite) take their
    3D offset interpolated from the frames that see them, or the template's, facing the
    camera, when none does.
    """
    pts = np.asarray(points, dtype=np.float64)
    seen = np.asarray(seen, bool)
    if pts.ndim != 3 or pts.shape[1:] != (sk.NUM_JOINTS, 2) or seen.shape != pts.shape[:2]:
        raise ValueError(f"need points (T, 24, 2) and seen (T, 24), got {pts.shape} and {seen.shape}")
    L = template_lengths() if lengths is None else np.asarray(lengths, dtype=np.float64)
    if L.shape != (len(sk.BONES),) or not np.all(L > 0):
        raise ValueError(f"need 23 positive bone lengths, got shape {L.shape}")
    T = len(pts)
    if T == 0:
        return np.zeros((0, sk.NUM_JOINTS, 3))
    seen = seen & np.isfinite(pts).all(axis=-1)
    pts = np.where(seen[..., None], pts, 0.0)
    bone_seen = seen[:, _CHILD] & seen[:, _PARENT]                        # (T, 23)
    d2 = pts[:, _CHILD] - pts[:, _PARENT]                                 # (T, 23, 2) px
    l2 = np.linalg.norm(d2, axis=-1)
    s = _scale(np.where(bone_seen, l2 / L, np.nan), fps)                   # (T,) px per m
    xy = d2 / s[:, None, None]                                            # (T, 23, 2) m
    mag = np.sqrt(np.maximum(L ** 2 - np.sum(xy ** 2, axis=-1), 0.0))      # (T, 23) m
    mag = np.where(bone_seen, mag, np.nan)

    # The body's left and forward axes in camera axes, horizontal (the camera is taken as level):
    # how wide hips and shoulders look beside how wide they are gives left_x = -forward_z (left
    # on the image's right: facing the camera); the image x of the bones that lean forward gives
    # forward_x = left_z up to size, the sign that decides which side is nearer the lens.
    r = max(1, int(round(fps / 4)))
    size = L[_MEASURE].sum() / _TEMPLATE_L[_MEASURE].sum()                # this body over the template
    width, span = np.zeros(T), np.zeros(T)
    for a, b in (("l_hip", "r_hip"), ("l_shoulder", "r_shoulder")):
        ok = seen[:, _J[a]] & seen[:, _J[b]]
        width += np.where(ok, (pts[:, _J[a], 0] - pts[:, _J[b], 0]) / s, 0.0)
        span += np.where(ok, size * (_REST[_J[a], 0] - _REST[_J[b], 0]), 0.0)
    fwd_z = _moving(-np.clip(width / np.maximum(span, 1e-9), -1.0, 1.0), r, np.mean)
    lean = _LEAN[:, 1]
    lean_x = np.where(bone_seen, xy[..., 0] * lean, 0.0).sum(axis=1)
    lean_n = np.where(bone_seen, np.abs(lean) * L, 0.0).sum(axis=1)
    fwd_x = _moving(np.clip(lean_x / np.maximum(lean_n, 1e-9), -1.0, 1.0), r, np.mean)

    # First the lateral bones as one: the body's left side farther from the lens (+) or nearer.
    known = np.nan_to_num(mag)
    lat_n = (bone_seen & _LAT).sum(axis=1)
    lat = np.where(lat_n > 0, (known * _LAT).sum(axis=1) / np.maximum(lat_n, 1), np.nan)[:, None]
    left_z = _signs(lat, fwd_x[:, None])[:, 0] * np.nan_to_num(_fill(lat, np.isfinite(lat)))[:, 0]
    left_z = left_z / max(float(np.mean(L[_LAT])), 1e-9)
    sgn = np.empty((T, len(L)))
    sgn[:, _LAT] = np.where(left_z[:, None] >= 0, 1.0, -1.0) * _SIDE[_LAT]
    # Then every other bone, leaning as :data:`LEAN` says given the body's axes.
    want = left_z[:, None] * _LEAN[~_LAT, 0] + fwd_z[:, None] * _LEAN[~_LAT, 1]
    sgn[:, ~_LAT] = _signs(mag[:, ~_LAT], want)

    off = np.concatenate([xy, (sgn * np.nan_to_num(mag))[..., None]], axis=-1)         # (T, 23, 3) m
    rest = _REST[_CHILD] - _REST[_PARENT]
    rest = np.stack([rest[:, 0], -rest[:, 2], rest[:, 1]], axis=-1)      # facing the camera, upright
    rest *= (L / np.linalg.norm(rest, axis=-1))[:, None]
    never = ~bone_seen.any(axis=0)
    off[:, never] = rest[never]
    if not bone_seen.all():
        off = _fill(off, np.repeat(bone_seen[..., None], 3, axis=-1))
        n = np.linalg.norm(off, axis=-1, keepdims=True)
        off = np.where(bone_seen[..., None] | (n < 1e-9), off, off * (L[:, None] / np.maximum(n, 1e-9)))

    out = np.zeros((T, sk.NUM_JOINTS, 3))
    for b, c in enumerate(_CHILD):                                       # parents come first
        out[:, c] = out[:, _PARENT[b]] + off[:, b]
    return out
