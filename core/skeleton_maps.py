"""Mappings between other skeletons and Choreo's SMPL-24.

Each source skeleton maps to SMPL-24 through a table that writes every SMPL
joint as a weighted combination of source joints, e.g. the pelvis is placed
on the line from the mid-hip to the mid-shoulder. Weights sum to one, so the
same table works for 3D points and for 2D image points.

Joints a source observes directly are exact up to each tracker's own joint
definition; the others are *estimated*, and :data:`SOURCES` lists them per
source (``Source.estimated``). The proportions of the estimates come from the
SMPL neutral template (spine joints at fixed fractions of the hip–shoulder
line, collars half way between the mid-shoulder and each shoulder, the hand
joint 35 % of a forearm beyond the wrist, the foot joint at the ball of the
foot).

Example
-------
>>> pts = np.zeros((10, 18, 2))                      # OpenPose BODY_18, 2D
>>> to_smpl24(pts, "openpose18").shape
(10, 24, 2)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import skeleton as sk

OPENPOSE18_NAMES: tuple[str, ...] = (
    "nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow",
    "l_wrist", "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle",
    "r_eye", "l_eye", "r_ear", "l_ear",
)
OPENPOSE25_NAMES: tuple[str, ...] = (
    "nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow",
    "l_wrist", "mid_hip", "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee",
    "l_ankle", "r_eye", "l_eye", "r_ear", "l_ear", "l_big_toe", "l_small_toe",
    "l_heel", "r_big_toe", "r_small_toe", "r_heel",
)
COCO17_NAMES: tuple[str, ...] = (
    "nose", "l_eye", "r_eye", "l_ear", "r_ear", "l_shoulder", "r_shoulder",
    "l_elbow", "r_elbow", "l_wrist", "r_wrist", "l_hip", "r_hip", "l_knee",
    "r_knee", "l_ankle", "r_ankle",
)
# MediaPipe BlazePose landmark order.
BLAZEPOSE33_NAMES: tuple[str, ...] = (
    "nose", "l_eye_inner", "l_eye", "l_eye_outer", "r_eye_inner", "r_eye",
    "r_eye_outer", "l_ear", "r_ear", "mouth_left", "mouth_right", "l_shoulder",
    "r_shoulder", "l_elbow", "r_elbow", "l_wrist", "r_wrist", "l_pinky",
    "r_pinky", "l_index", "r_index", "l_thumb", "r_thumb", "l_hip", "r_hip",
    "l_knee", "r_knee", "l_ankle", "r_ankle", "l_heel", "r_heel",
    "l_foot_index", "r_foot_index",
)

# Fractions along the mid-hip -> mid-shoulder line (SMPL neutral template).
_SPINE_FRACTION = {"pelvis": 0.16, "spine1": 0.37, "spine2": 0.61, "spine3": 0.70}


@dataclass(frozen=True)
class Source:
    """A source skeleton: its joint names and its SMPL-24 weight matrix.

    ``weights`` is (24, J): ``smpl = weights @ source``. ``estimated`` names
    the SMPL joints that the source does not observe directly.
    """

    name: str
    joint_names: tuple[str, ...]
    weights: np.ndarray
    estimated: frozenset[str]


def _combo(*terms) -> dict[str, float]:
    """Sum of (weight, {name: w}) or (weight, name) terms as one {name: w}."""
    out: dict[str, float] = {}
    for w, t in terms:
        t = {t: 1.0} if isinstance(t, str) else t
        for k, v in t.items():
            out[k] = out.get(k, 0.0) + w * v
    return out


def _mid(a: str, b: str) -> dict[str, float]:
    return {a: 0.5, b: 0.5}


def _keypoint_table(names: tuple[str, ...]) -> tuple[dict[str, dict[str, float]], set[str]]:
    """SMPL-24 table for a keypoint detector with the given joint names."""
    has = set(names)
    mid_hip = {"mid_hip": 1.0} if "mid_hip" in has else _mid("l_hip", "r_hip")
    # OpenPose's neck sits between the shoulders; use it when there is one.
    thorax = {"neck": 1.0} if "neck" in has else _mid("l_shoulder", "r_shoulder")
    if "l_ear" in has:
        head = _mid("l_ear", "r_ear")
    else:
        head = {"nose": 1.0}
    t: dict[str, dict[str, float]] = {}
    for j, f in _SPINE_FRACTION.items():
        t[j] = _combo((1 - f, mid_hip), (f, thorax))
    t["neck"] = _combo((0.6, thorax), (0.4, head))
    t["head"] = _combo((0.9, head), (0.1, thorax))
    for s in ("l", "r"):
        for a, b in (("hip", "hip"), ("knee", "knee"), ("ankle", "ankle"),
                     ("shoulder", "shoulder"), ("elbow", "elbow"), ("wrist", "wrist")):
            t[f"{s}_{a}"] = {f"{s}_{b}": 1.0}
        t[f"{s}_collar"] = _combo((0.5, thorax), (0.5, f"{s}_shoulder"))
        if f"{s}_index" in has:
            t[f"{s}_hand"] = _combo((0.5, f"{s}_wrist"), (0.25, f"{s}_index"), (0.25, f"{s}_pinky"))
        else:
            t[f"{s}_hand"] = _combo((1.35, f"{s}_wrist"), (-0.35, f"{s}_elbow"))
        if f"{s}_big_toe" in has:
            t[f"{s}_foot"] = _combo((0.3, f"{s}_ankle"), (0.35, f"{s}_big_toe"), (0.35, f"{s}_small_toe"))
        elif f"{s}_foot_index" in has:
            t[f"{s}_foot"] = _combo((0.3, f"{s}_ankle"), (0.7, f"{s}_foot_index"))
        else:
            # No foot points: a point just below the ankle along the shin.
            t[f"{s}_foot"] = _combo((1.13, f"{s}_ankle"), (-0.13, f"{s}_knee"))
    observed = {f"{s}_{a}" for s in "lr" for a in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")}
    if "l_index" in has:
        observed |= {"l_hand", "r_hand"}
    estimated = set(sk.JOINT_NAMES) - observed
    return t, estimated


# CC_Base (Reallusion Character Creator) bones, one-to-one except the hand,
# whose SMPL joint lies between the wrist and the middle-finger knuckle.
_CC_BASE_TABLE = {
    "pelvis": "Hip", "spine1": "Waist", "spine2": "Spine01", "spine3": "Spine02",
    "neck": "NeckTwist01", "head": "Head",
    **{f"{s}_{smpl}": f"{S}_{cc}" for s, S in (("l", "L"), ("r", "R")) for smpl, cc in (
        ("hip", "Thigh"), ("knee", "Calf"), ("ankle", "Foot"), ("foot", "ToeBase"),
        ("collar", "Clavicle"), ("shoulder", "Upperarm"), ("elbow", "Forearm"),
        ("wrist", "Hand"))},
}
CC_BASE_NAMES: tuple[str, ...] = tuple(sorted(set(
    "CC_Base_" + v for v in _CC_BASE_TABLE.values()) | {"CC_Base_L_Mid1", "CC_Base_R_Mid1"}))


def _cc_base_table() -> dict[str, dict[str, float]]:
    t = {k: {"CC_Base_" + v: 1.0} for k, v in _CC_BASE_TABLE.items()}
    for s in "LR":
        t[f"{s.lower()}_hand"] = {f"CC_Base_{s}_Hand": 0.5, f"CC_Base_{s}_Mid1": 0.5}
    return t


def _matrix(table: dict[str, dict[str, float]], names: tuple[str, ...]) -> np.ndarray:
    idx = {n: i for i, n in enumerate(names)}
    w = np.zeros((sk.NUM_JOINTS, len(names)))
    for j, name in enumerate(sk.JOINT_NAMES):
        for src, v in table[name].items():
            w[j, idx[src]] += v
    assert np.allclose(w.sum(axis=1), 1.0)
    return w


def _make_sources() -> dict[str, Source]:
    out = {}
    for name, names in (("openpose18", OPENPOSE18_NAMES), ("openpose25", OPENPOSE25_NAMES),
                        ("coco17", COCO17_NAMES), ("blazepose33", BLAZEPOSE33_NAMES)):
        table, est = _keypoint_table(names)
        out[name] = Source(name, names, _matrix(table, names), frozenset(est))
    out["cc_base"] = Source("cc_base", CC_BASE_NAMES, _matrix(_cc_base_table(), CC_BASE_NAMES),
                            frozenset({"l_hand", "r_hand"}))
    out["smpl24"] = Source("smpl24", sk.JOINT_NAMES, np.eye(sk.NUM_JOINTS), frozenset())
    return out


#: Every source skeleton by name: openpose18, openpose25, coco17, blazepose33, cc_base, smpl24.
SOURCES: dict[str, Source] = _make_sources()


def to_smpl24(points: np.ndarray, source: str) -> np.ndarray:
    """Map points on a source skeleton to SMPL-24.

    Parameters
    ----------
    points : np.ndarray, shape (..., J, D)
        Joint positions in the source's joint order (D = 2 or 3).
    source : str
        A key of :data:`SOURCES`.

    Returns
    -------
    np.ndarray, shape (..., 24, D)
    """
    if source not in SOURCES:
        raise KeyError(f"unknown skeleton {source!r}; known: {', '.join(SOURCES)}")
    src = SOURCES[source]
    points = np.asarray(points, dtype=np.float64)
    if points.shape[-2] != len(src.joint_names):
        raise ValueError(f"{source} has {len(src.joint_names)} joints, got shape {points.shape}")
    return np.einsum("sj,...jd->...sd", src.weights, points)


def to_smpl24_confidence(confidence: np.ndarray, source: str) -> np.ndarray:
    """Confidences (..., 24) of the SMPL-24 joints mapped from a source's (..., J): each the
    smallest among the source joints it is built from (0 when any of them was missed)."""
    used = np.abs(SOURCES[source].weights) > 0                             # (24, J)
    conf = np.asarray(confidence, dtype=np.float64)
    return np.where(used, conf[..., None, :], np.inf).min(axis=-1)


def source_indices(source: str, names: list[str] | tuple[str, ...]) -> list[int]:
    """Indices into ``names`` of the joints a source's table uses, in its order.

    Raises KeyError naming the first joint that is missing.
    """
    where = {n: i for i, n in enumerate(names)}
    out = []
    for n in SOURCES[source].joint_names:
        if n not in where:
            raise KeyError(n)
        out.append(where[n])
    return out


def smpl24_to_openpose18(joints: np.ndarray) -> np.ndarray:
    """Project SMPL-24 joints (..., 24, 3), z up, onto the OpenPose BODY_18 layout.

    Body joints are taken as they are (the OpenPose neck is the mid-shoulder
    point). The face points are *estimated* from a head frame: forward is
    left x up, where left runs from the right to the left shoulder and up from
    spine3 to the head (the neck-to-head bone alone leans forward); the nose lies 10 cm in front of the head joint, the
    eyes 8 cm in front, 4 cm up and 3 cm to each side, the ears 3 cm up and
    7.5 cm to each side.
    """
    j = np.asarray(joints, dtype=np.float64)
    g = lambda n: j[..., sk.JOINT_INDEX[n], :]  # noqa: E731

    def unit(v):
        return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)

    head = g("head")
    up = unit(head - g("spine3"))
    left = g("l_shoulder") - g("r_shoulder")
    left = unit(left - np.sum(left * up, axis=-1, keepdims=True) * up)
    fwd = np.cross(left, up)
    out = {
        "nose": head + 0.10 * fwd,
        "neck": 0.5 * (g("l_shoulder") + g("r_shoulder")),
        "l_eye": head + 0.08 * fwd + 0.04 * up + 0.03 * left,
        "r_eye": head + 0.08 * fwd + 0.04 * up - 0.03 * left,
        "l_ear": head + 0.03 * up + 0.075 * left,
        "r_ear": head + 0.03 * up - 0.075 * left,
    }
    for n in OPENPOSE18_NAMES:
        if n not in out:
            out[n] = g(n)
    return np.stack([out[n] for n in OPENPOSE18_NAMES], axis=-2)


# SMPL neutral template joints at rest (T-pose), metres, in SMPL's own axes
# (y up, x to the body's left, z forward), rounded and made left/right
# symmetric. Used where a rest skeleton is needed (BVH export, AIST++ SMPL
# parameters); it is a template, not a fitted SMPL body model.
_SMPL_REST_YUP = np.array([
    [0.000, -0.223, 0.028], [0.069, -0.314, 0.021], [-0.069, -0.314, 0.021],
    [0.000, -0.109, 0.001], [0.105, -0.689, 0.016], [-0.105, -0.689, 0.016],
    [0.000, 0.025, 0.028], [0.090, -1.092, -0.022], [-0.090, -1.092, -0.022],
    [0.000, 0.078, 0.023], [0.116, -1.147, 0.100], [-0.116, -1.147, 0.100],
    [0.000, 0.297, 0.010], [0.078, 0.203, 0.008], [-0.078, 0.203, 0.008],
    [0.000, 0.365, 0.062], [0.177, 0.242, -0.013], [-0.177, 0.242, -0.013],
    [0.418, 0.228, -0.037], [-0.418, 0.228, -0.037], [0.659, 0.235, -0.044],
    [-0.659, 0.235, -0.044], [0.744, 0.226, -0.059], [-0.744, 0.226, -0.059],
])


def smpl_rest_joints() -> np.ndarray:
    """SMPL-24 template T-pose (24, 3) in Choreo's axes: metres, z up, facing -y,
    pelvis at the origin."""
    j = _SMPL_REST_YUP - _SMPL_REST_YUP[0]
    return np.stack([j[:, 0], -j[:, 2], j[:, 1]], axis=-1)


def smpl_rest_offsets() -> np.ndarray:
    """Offsets (24, 3) of each template joint from its parent, z up (row 0 is zero)."""
    j = smpl_rest_joints()
    parents = np.asarray(sk.PARENTS)
    off = j - j[np.maximum(parents, 0)]
    off[0] = 0.0
    return off


def smpl24_to_openpose25(joints: np.ndarray) -> np.ndarray:
    """Project SMPL-24 joints (..., 24, 3), z up, onto OpenPose BODY_25.

    BODY_18's points as in :func:`smpl24_to_openpose18`, plus mid_hip (the
    mean of the hips) and *estimated* feet: the toes 40 % of an ankle-to-ball
    length beyond the SMPL foot joint (big toe 2.5 cm inwards, small toe 2.5 cm
    outwards), the heel 35 % of that length behind the ankle, 5 cm lower.
    """
    j = np.asarray(joints, dtype=np.float64)
    b18 = dict(zip(OPENPOSE18_NAMES, np.moveaxis(smpl24_to_openpose18(j), -2, 0)))
    g = lambda n: j[..., sk.JOINT_INDEX[n], :]  # noqa: E731
    out = dict(b18)
    out["mid_hip"] = 0.5 * (g("l_hip") + g("r_hip"))
    left = g("l_hip") - g("r_hip")
    left = left / np.maximum(np.linalg.norm(left, axis=-1, keepdims=True), 1e-9)
    down = np.array([0.0, 0.0, -1.0])
    for s, side in (("l", 1.0), ("r", -1.0)):
        ankle, foot = g(f"{s}_ankle"), g(f"{s}_foot")
        d = foot - ankle
        out[f"{s}_big_toe"] = foot + 0.4 * d - side * 0.025 * left
        out[f"{s}_small_toe"] = foot + 0.4 * d + side * 0.025 * left
        out[f"{s}_heel"] = ankle - 0.35 * d + 0.05 * down
    return np.stack([out[n] for n in OPENPOSE25_NAMES], axis=-2)


def smpl24_to_coco17(joints: np.ndarray) -> np.ndarray:
    """Project SMPL-24 joints (..., 24, 3) onto COCO-17: BODY_18's points without the neck."""
    b18 = smpl24_to_openpose18(joints)
    idx = [OPENPOSE18_NAMES.index(n) for n in COCO17_NAMES]
    return b18[..., idx, :]


def smpl24_to_blazepose33(joints: np.ndarray) -> np.ndarray:
    """Project SMPL-24 joints (..., 24, 3), z up, onto MediaPipe's BlazePose-33.

    Face points from :func:`smpl24_to_openpose18`'s head frame (inner and outer eye
    corners 1.5 cm either side of the eye, the mouth corners 3 cm under the nose and
    2.5 cm to each side); the hand points beyond the SMPL hand joint (index and pinky
    as far past it as it is past the wrist, 2 cm either side across the palm; the thumb
    2 cm past it, 3 cm to the thumb side); the heel as BODY_25's and the foot
    index at the tip of the toes (the SMPL foot joint 30 % of the way back to the ankle,
    the inverse of :data:`SOURCES`' blazepose33 table).
    """
    j = np.asarray(joints, dtype=np.float64)
    g = lambda n: j[..., sk.JOINT_INDEX[n], :]  # noqa: E731

    def unit(v):
        return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)

    b18 = dict(zip(OPENPOSE18_NAMES, np.moveaxis(smpl24_to_openpose18(j), -2, 0)))
    b25 = dict(zip(OPENPOSE25_NAMES, np.moveaxis(smpl24_to_openpose25(j), -2, 0)))
    up = unit(g("head") - g("spine3"))
    left = g("l_shoulder") - g("r_shoulder")
    left = unit(left - np.sum(left * up, axis=-1, keepdims=True) * up)
    out = {n: b18[n] for n in ("nose", "l_eye", "r_eye", "l_ear", "r_ear")}
    for s, side in (("l", 1.0), ("r", -1.0)):
        out[f"{s}_eye_inner"] = b18[f"{s}_eye"] - side * 0.015 * left
        out[f"{s}_eye_outer"] = b18[f"{s}_eye"] + side * 0.015 * left
        out["mouth_left" if s == "l" else "mouth_right"] = b18["nose"] - 0.03 * up + side * 0.025 * left
        for n in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"):
            out[f"{s}_{n}"] = g(f"{s}_{n}")
        wrist, hand = g(f"{s}_wrist"), g(f"{s}_hand")
        along = unit(hand - wrist)
        across = unit(np.cross(along, up))  # across the palm (its sign does not matter: both points sit either side)
        knuckles = 2.0 * hand - wrist  # the blazepose33 table's hand is the wrist-knuckles midpoint
        out[f"{s}_index"] = knuckles + 0.02 * across
        out[f"{s}_pinky"] = knuckles - 0.02 * across
        out[f"{s}_thumb"] = hand + 0.02 * along + 0.03 * side * left
        out[f"{s}_heel"] = b25[f"{s}_heel"]
        out[f"{s}_foot_index"] = (g(f"{s}_foot") - 0.3 * g(f"{s}_ankle")) / 0.7
    return np.stack([out[n] for n in BLAZEPOSE33_NAMES], axis=-2)


#: The keypoint sets a 2D source may come in, each with its projection from SMPL-24.
KEYPOINT_LAYOUTS = {"openpose18": smpl24_to_openpose18, "openpose25": smpl24_to_openpose25,
                    "coco17": smpl24_to_coco17, "blazepose33": smpl24_to_blazepose33}


def smpl24_to_layout(joints: np.ndarray, layout: str) -> np.ndarray:
    """SMPL-24 joints (..., 24, 3) as the keypoints (..., J, 3) of ``layout`` (a key of
    :data:`KEYPOINT_LAYOUTS`)."""
    if layout not in KEYPOINT_LAYOUTS:
        raise KeyError(f"unknown keypoint layout {layout!r}; known: {', '.join(KEYPOINT_LAYOUTS)}")
    return KEYPOINT_LAYOUTS[layout](joints)
