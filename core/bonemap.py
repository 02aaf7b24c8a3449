"""Which joint of a named skeleton carries which SMPL-24 joint (bpy-free).

One implementation serves Blender armatures (:mod:`choreo.rigs.bonemaps`
adapts ``arm.data.bones``) and BVH files (:mod:`choreo.core.formats.bvh`). A
skeleton is described by its joint names and each joint's parent index (-1
for a root); the geometric fallback also takes rest positions.

Convention: ``joint_to_bone[joint]`` is the joint (bone) whose HEAD sits at
that SMPL joint (pelvis -> Hips, l_knee -> LeftLeg, l_wrist -> LeftHand). In
a BVH a joint's position *is* that point.

Matching, in order (:func:`match_names`): exact SMPL-24 names; the known
naming tables (Rigify generated and metarig, Mixamo, SMPL, SMPL-X); then name
parts (:func:`_fuzzy`): case, separators, L/R/Left/Right prefixes or
suffixes, synonyms (thigh/upleg/upperleg, calf/shin/lowerleg, ...), which
covers the mocap schemes too (CMU/Truebones, Rokoko, Xsens MVN, Perception
Neuron, OptiTrack Motive, 3ds Max Biped, HumanIK), and the spine as the chain
between the pelvis and the neck. A prefix most names share (``mixamorig:``,
``Character1_``, ``Skeleton001_``, ``Bip01``) is ignored. When names say
nothing, :func:`match_geometry` finds the body from the tree and the rest pose.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from . import skeleton as sk
from .skeleton_maps import _combo

#: Joints without which a dance can't be shown; "spine" means any of spine1-3.
CORE_JOINTS = ("pelvis", "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle", "spine",
               "l_shoulder", "r_shoulder", "l_elbow", "r_elbow", "l_wrist", "r_wrist", "head")


def _sided(table: dict[str, str], left: str, right: str, *, suffix: bool = False) -> dict[str, str]:
    """Expand {"hip": "UpLeg"} into l_/r_ entries with the rig's side marks."""
    out = {}
    for j, b in table.items():
        out["l_" + j] = b + left if suffix else left + b
        out["r_" + j] = b + right if suffix else right + b
    return out


_MIXAMO = {"pelvis": "Hips", "spine1": "Spine", "spine2": "Spine1", "spine3": "Spine2", "neck": "Neck",
           "head": "Head", **_sided({"hip": "UpLeg", "knee": "Leg", "ankle": "Foot", "foot": "ToeBase",
                                     "collar": "Shoulder", "shoulder": "Arm", "elbow": "ForeArm",
                                     "wrist": "Hand", "hand": "HandMiddle1"}, "Left", "Right")}
_RIGIFY_META = {"pelvis": "spine", "spine1": "spine.001", "spine2": "spine.002", "spine3": "spine.003",
                "neck": "spine.004", "head": "spine.006",
                **_sided({"hip": "thigh", "knee": "shin", "ankle": "foot", "foot": "toe", "collar": "shoulder",
                          "shoulder": "upper_arm", "elbow": "forearm", "wrist": "hand", "hand": "f_middle.01"},
                         ".L", ".R", suffix=True)}
# A generated Rigify rig, mapped to the FK controls an animator keys: "torso"
# carries the whole body (its head sits a little above the pelvis joint),
# spine_fk.* the spine, the *_fk limbs with IK_FK = 1 (see
# rigs.bonemaps.prepare_rig_for_keys). With those switches, posing these bones
# moves them exactly as their bone hierarchy says (tests/test_rigs_build.py).
_RIGIFY = {"pelvis": "torso", "spine1": "spine_fk", "spine2": "spine_fk.002", "spine3": "spine_fk.003",
           "neck": "neck", "head": "head",
           **_sided({"hip": "thigh_fk", "knee": "shin_fk", "ankle": "foot_fk", "foot": "toe_fk",
                     "shoulder": "upper_arm_fk", "elbow": "forearm_fk",
                     "wrist": "hand_fk"}, ".L", ".R", suffix=True)}
# The collars (and the hand ends) are left out on purpose: the arm hangs from ORG-shoulder.*, which
# copies the "shoulder.*" control through a constraint, not through the bone
# hierarchy, so keying it would break the plain parent-chain forward kinematics
# the retargeter relies on (the arm solve absorbs the collar's small motion).
_SMPL = {n: "_".join(p.capitalize() if len(p) > 1 else p.upper() for p in n.split("_")) for n in sk.JOINT_NAMES}
_SMPLX = {**{n: n for n in sk.JOINT_NAMES if not n.startswith(("l_", "r_"))},
          **_sided({j: j for j in ("hip", "knee", "ankle", "foot", "collar", "shoulder", "elbow", "wrist")},
                   "left_", "right_"),
          "l_hand": "left_middle1", "r_hand": "right_middle1"}

# (kind, table, joints that must exist for the kind to be considered)
KNOWN = (
    ("rigify", _RIGIFY, ("torso", "thigh_fk.L", "upper_arm_fk.L")),
    ("rigify_meta", _RIGIFY_META, ("spine", "thigh.L", "upper_arm.L")),
    ("mixamo", _MIXAMO, ()),
    ("smpl", _SMPL, ()),
    ("smpl", _SMPLX, ()),
)
# Rig-specific prefixes removed before matching ("mixamorig:", "m_avg_", "Bip01 ", ...).
_PREFIX = re.compile(r"^(?:.*:|[mf]_avg_|smplx?_|cc_base_|bip0*1[ _]?)", re.IGNORECASE)
# A leading word and its separator: the candidate for a shared prefix ("Character1_").
_LEAD = re.compile(r"^[^_:\s]+[_:\s]+")


def core_missing(j2b: dict[str, str]) -> list[str]:
    """The :data:`CORE_JOINTS` a map lacks, in that order."""
    miss = [j for j in CORE_JOINTS if j != "spine" and j not in j2b]
    if not any(s in j2b for s in ("spine1", "spine2", "spine3")):
        miss.insert(7, "spine")
    return miss


def ordered(j2b: dict[str, str]) -> dict[str, str]:
    """``j2b`` in SMPL-24 joint order."""
    return {j: j2b[j] for j in sk.JOINT_NAMES if j in j2b}


def common_prefix(names) -> str:
    """The leading word most names share ("Character1_", "Skeleton001_"), else "".

    Exporters write the character's name before every joint; a side word
    ("Left_", "L_") is not such a prefix.
    """
    heads = Counter(m.group(0) for n in names if (m := _LEAD.match(_PREFIX.sub("", n))))
    if not heads:
        return ""
    head, count = heads.most_common(1)[0]
    word = re.split(r"[_:\s]", head)[0].lower()
    return head if count >= 0.6 * len(names) and word not in _SIDE else ""


def _depths(parents) -> list[int]:
    out = []
    for j in range(len(parents)):
        d, p = 0, parents[j]
        while p >= 0:
            d, p = d + 1, parents[p]
        out.append(d)
    return out


def _shallow_first(names, parents) -> list[int]:
    """Joint indices by depth, then name: the shallowest joint wins a tie."""
    depth = _depths(parents)
    return sorted(range(len(names)), key=lambda j: (depth[j], names[j]))


def _unprefixed(name: str, prefix: str) -> str:
    name = _PREFIX.sub("", name)
    return name[len(prefix):] if prefix and name.startswith(prefix) else name


def _lookup(names, parents, prefix: str) -> dict[str, str]:
    """Lower-case name (as is and without prefixes) -> joint name."""
    out: dict[str, str] = {}
    for j in _shallow_first(names, parents):
        for key in (names[j].lower(), _unprefixed(names[j], prefix).lower()):
            out.setdefault(key, names[j])
    return out


# -- fuzzy matching ---------------------------------------------------------
_SIDE = {"l": "l", "left": "l", "r": "r", "right": "r", "lf": "l", "rt": "r"}
_SKIP = {"end", "nub", "tip", "twist", "ik", "pole", "target", "roll", "mch", "org", "tweak", "ctrl",
         "helper", "null", "top", "jnt_end", "socket", "ik_target", "poles", "vis"}
_LIMB = {  # sided part names -> joint
    "hip": ("upleg", "upperleg", "thigh", "thighbone", "femur", "hip", "uleg"),
    "knee": ("leg", "lowerleg", "lowleg", "loleg", "calf", "shin", "knee", "tibia", "lleg", "crus"),
    "ankle": ("foot", "ankle"),
    "foot": ("toe", "toes", "toebase", "ball", "toe0", "toe1", "toes0"),
    "collar": ("collar", "clavicle", "clav", "collarbone", "scapula"),
    "shoulder": ("upperarm", "uparm", "arm", "humerus", "uarm"),
    "elbow": ("forearm", "lowerarm", "lowarm", "loarm", "elbow", "larm", "farm"),
    "wrist": ("hand", "wrist"),
    # The middle finger's first joint (Biped numbers the fingers from 0, the thumb).
    "hand": ("handmiddle1", "middle1", "middle01", "fmiddle01", "middlefinger1", "middle0", "finger2"),
}
_CENTRE = {
    "pelvis": ("hips", "hip", "pelvis"),
    "neck": ("neck", "neck1", "neck01"),
    "head": ("head",),
}
_SPINE_WORDS = ("spine", "chest", "torso", "abdomen", "waist", "back", "spine0", "spine1", "spine2",
                "spine3", "spine01", "spine02", "spine03", "upperchest", "lowerback", "upperback", "ab")


def _tokens(name: str, prefix: str = "") -> list[str]:
    name = _unprefixed(name, prefix)
    if not name.isupper():
        name = re.sub(r"^([LR])(?=[A-Z])", r"\1 ", name)     # OptiTrack's "LThigh", "RUArm"
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)       # camelCase
    return [t for t in re.split(r"[\s_.\-:|]+", name.lower()) if t]


def _split_side(tokens: list[str]) -> tuple[str | None, str]:
    side = None
    if len(tokens) > 1 and tokens[0] in _SIDE:
        side, tokens = _SIDE[tokens[0]], tokens[1:]
    elif len(tokens) > 1 and tokens[-1] in _SIDE:
        side, tokens = _SIDE[tokens[-1]], tokens[:-1]
    return side, "".join(tokens)


def spine_from_chain(chain: list[str]) -> dict[str, str]:
    """spine1-3 from the joints strictly between the pelvis and the neck, bottom first:
    the first, the middle and the last (two joints: spine1 and spine3)."""
    if len(chain) >= 3:
        return {"spine1": chain[0], "spine2": chain[len(chain) // 2], "spine3": chain[-1]}
    if len(chain) == 2:
        return {"spine1": chain[0], "spine3": chain[1]}
    return {"spine3": chain[0]} if chain else {}


def _spine_chain(names, parents, j2b: dict[str, str]) -> dict[str, str]:
    """spine1-3 (and the neck, when only the head is mapped) from the joints
    between the mapped pelvis and the neck (or head); {} when they aren't linked."""
    index = {n: i for i, n in enumerate(names)}
    top = j2b.get("neck") or j2b.get("head")
    if "pelvis" not in j2b or not top:
        return {}
    chain, b = [], parents[index[top]]
    while b >= 0 and names[b] != j2b["pelvis"]:
        chain.append(names[b])
        b = parents[b]
    if b < 0:
        return {}
    chain.reverse()
    out = {}
    if top == j2b.get("head") and "neck" not in j2b and chain:
        out["neck"] = chain.pop()
    return {**out, **spine_from_chain(chain)}


def _fuzzy(names, parents, prefix: str) -> dict[str, str]:
    found: dict[tuple[str | None, str], list[str]] = {}
    for j in _shallow_first(names, parents):
        toks = _tokens(names[j], prefix)
        if any(t in _SKIP for t in toks):
            continue
        side, key = _split_side(toks)
        found.setdefault((side, key), []).append(names[j])

    def pick(side, words):
        for w in words:
            if (side, w) in found:
                return found[(side, w)][0]
        return None

    j2b: dict[str, str] = {}
    for j, words in _CENTRE.items():
        got = pick(None, words)
        if got:
            j2b[j] = got
    for s in ("l", "r"):
        # "Shoulder" is the collar when the rig also has an upper-arm bone and no clavicle.
        has_arm = pick(s, _LIMB["shoulder"]) is not None
        has_clav = pick(s, _LIMB["collar"]) is not None
        limb = dict(_LIMB)
        if has_arm and not has_clav:
            limb["collar"] = limb["collar"] + ("shoulder",)
        elif not has_arm:
            limb["shoulder"] = limb["shoulder"] + ("shoulder",)
        for part, words in limb.items():
            got = pick(s, words)
            if got and got not in j2b.values():
                j2b[f"{s}_{part}"] = got
    j2b.update(_spine_chain(names, parents, j2b))
    if not any(s in j2b for s in ("spine1", "spine2", "spine3")):
        for w in _SPINE_WORDS:
            if (None, w) in found:
                j2b["spine1"] = found[(None, w)][0]
                break
    return j2b


def match_names(names, parents) -> tuple[str, dict[str, str]]:
    """``(kind, joint_to_bone)`` for a skeleton, by its joint names.

    ``kind`` is "choreo" (exact SMPL-24 names), a :data:`KNOWN` kind whose
    table covers the core joints, else "custom" (name parts). The map may
    still lack core joints: check it with :func:`core_missing`.
    """
    have = set(names)
    if all(n in have for n in sk.JOINT_NAMES):          # exact names only: "Pelvis" is SMPL's
        return "choreo", {n: n for n in sk.JOINT_NAMES}
    prefix = common_prefix(names)
    look = _lookup(names, parents, prefix)
    for kind, table, required in KNOWN:
        if any(r not in have for r in required):
            continue
        j2b = {j: look[t.lower()] for j, t in table.items() if t.lower() in look}
        if kind == "mixamo":  # the Mixamo family (HumanIK, Truebones, Neuron) varies in spine joints
            j2b = {j: b for j, b in j2b.items() if not j.startswith("spine")}
            j2b.update(_spine_chain(names, parents, j2b))
        if not core_missing(j2b):
            return kind, ordered(j2b)
    return "custom", ordered(_fuzzy(names, parents, prefix))


# -- positions --------------------------------------------------------------
# Heights of the centre joints above the pelvis in the SMPL template (metres),
# to place spine joints a skeleton lacks between the ones it has.
_CENTRE_CHAIN = ("pelvis", "spine1", "spine2", "spine3", "neck", "head")
_CENTRE_HEIGHT = (0.0, 0.114, 0.248, 0.301, 0.520, 0.588)


def position_weights(names, j2b: dict[str, str]) -> tuple[np.ndarray, frozenset[str]]:
    """Weights (24, J) writing each SMPL joint as a combination of skeleton joints.

    Mapped joints are taken as they are, except a hand mapped to the middle
    finger's knuckle: the SMPL hand joint lies half way between it and the
    wrist (as for CC_Base in :mod:`.skeleton_maps`). Joints the map lacks are
    *estimated* (returned as the second value): spine and neck joints on the
    line between their mapped neighbours at the template's heights, a collar
    between the chest, the neck and its shoulder, the hand 35 % of a forearm
    beyond the wrist, the foot just below the ankle along the shin. The core
    joints (:data:`CORE_JOINTS`) must be mapped.
    """
    index = {n: i for i, n in enumerate(names)}
    t: dict[str, dict[str, float]] = {j: {b: 1.0} for j, b in j2b.items()}
    for s in "lr":
        hand = j2b.get(f"{s}_hand")
        if hand and hand != j2b[f"{s}_wrist"] and re.search("middle|finger", hand, re.IGNORECASE):
            t[f"{s}_hand"] = {j2b[f"{s}_wrist"]: 0.5, hand: 0.5}
    have = [k for k, j in enumerate(_CENTRE_CHAIN) if j in t]
    for k, j in enumerate(_CENTRE_CHAIN):
        if j in t:
            continue
        lo = max(i for i in have if i < k)
        hi = min(i for i in have if i > k)
        f = (_CENTRE_HEIGHT[k] - _CENTRE_HEIGHT[lo]) / (_CENTRE_HEIGHT[hi] - _CENTRE_HEIGHT[lo])
        t[j] = _combo((1 - f, t[_CENTRE_CHAIN[lo]]), (f, t[_CENTRE_CHAIN[hi]]))
    for s in "lr":
        g = lambda n: t[f"{s}_{n}"]  # noqa: E731
        t.setdefault(f"{s}_collar", _combo((0.25, t["spine3"]), (0.25, t["neck"]), (0.5, g("shoulder"))))
        t.setdefault(f"{s}_hand", _combo((1.35, g("wrist")), (-0.35, g("elbow"))))
        t.setdefault(f"{s}_foot", _combo((1.13, g("ankle")), (-0.13, g("knee"))))
    w = np.zeros((sk.NUM_JOINTS, len(names)))
    for j, name in enumerate(sk.JOINT_NAMES):
        for b, v in t[name].items():
            w[j, index[b]] += v
    return w, frozenset(j for j in sk.JOINT_NAMES if j not in j2b)


# -- by geometry ------------------------------------------------------------

def _branches(adj: list[list[int]], x: int) -> list[list[int]]:
    """The joints of each component left when ``x`` is removed, one per neighbour."""
    out = []
    for n in adj[x]:
        seen, stack = {x, n}, [n]
        while stack:
            for m in adj[stack.pop()]:
                if m not in seen:
                    seen.add(m)
                    stack.append(m)
        seen.discard(x)
        out.append(sorted(seen))
    return out


def _limb_pairs(adj, rest: np.ndarray, size: float):
    """(joint, limb branch a, limb branch b, reach) for every joint with two mirror
    limbs: branches of the same number of joints and reach (within 10 %), each
    reaching over a quarter of the body's size."""
    out = []
    for x in range(len(adj)):
        if len(adj[x]) < 3:
            continue
        br = _branches(adj, x)
        reach = [float(np.linalg.norm(rest[b] - rest[x], axis=1).max()) for b in br]
        for a in range(len(br)):
            for b in range(a + 1, len(br)):
                if (len(br[a]) == len(br[b]) >= 2 and min(reach[a], reach[b]) > 0.25 * size
                        and abs(reach[a] - reach[b]) < 0.1 * max(reach[a], reach[b])):
                    out.append((x, br[a], br[b], max(reach[a], reach[b])))
    return out


def _chain(adj, rest, start: int, branch: list[int], min_len: float) -> list[int]:
    """Joints along a limb from ``start``: each step to the neighbour in ``branch``
    whose own sub-branch reaches farthest; joints within ``min_len`` of the previous
    joint on the chain (zero-length links like CMU's LHipJoint) are skipped."""
    inside, out, prev, cur = set(branch), [], start, start
    anchor = rest[start]
    while True:
        nxt = [n for n in adj[cur] if n in inside and n != prev]
        if not nxt:
            return out
        def reach(n):  # noqa: E306
            sub = [m for b in _branches(adj, cur) if n in b for m in b]
            return float(np.linalg.norm(rest[sub] - rest[cur], axis=1).max())
        prev, cur = cur, max(nxt, key=reach)
        if np.linalg.norm(rest[cur] - anchor) > min_len:
            out.append(cur)
            anchor = rest[cur]


def _path(parents, a: int, b: int) -> list[int]:
    """Joints on the tree path from ``a`` to ``b``, both included."""
    def up(j):
        out = [j]
        while parents[out[-1]] >= 0:
            out.append(parents[out[-1]])
        return out
    ua, ub = up(a), up(b)
    meet = next(j for j in ua if j in set(ub))
    return ua[:ua.index(meet) + 1] + ub[:ub.index(meet)][::-1]


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def match_geometry(names, parents, rest: np.ndarray) -> dict[str, str]:
    """Map a skeleton with meaningless names ("j0", "j1", ...) from its shape.

    The pelvis and the chest are the two joints with a pair of mirror limbs
    (:func:`_limb_pairs`); the pelvis is the one whose limbs point away from
    the other (legs hang down from it; arms leave the chest sideways). The spine
    is the path between them, the neck and head the chest's remaining branch.
    Legs are hip, knee, ankle (and toe as the foot); arms collar (when the first
    bone is short next to the upper arm), shoulder, elbow, wrist. Left is
    ``up x forward``, forward being the toes' direction; without toes, BVH's
    convention (y up, facing +z: left is +x). ``rest`` (J, 3) holds the rest
    positions; returns what it could place (maybe nothing).
    """
    rest = np.asarray(rest, dtype=np.float64)
    J = len(names)
    adj: list[list[int]] = [[] for _ in range(J)]
    for j, p in enumerate(parents):
        if p >= 0:
            adj[j].append(p)
            adj[p].append(j)
    size = float(max(np.ptp(rest, axis=0).max(), 1e-9))
    pairs = sorted(_limb_pairs(adj, rest, size), key=lambda q: -q[3])
    ends = []
    for q in pairs:
        if all(q[0] != e[0] for e in ends):
            ends.append(q)
    if len(ends) < 2:
        return {}
    ends = ends[:2]

    def away(q, other):  # how far a joint's limbs point away from the other joint
        s = _unit(rest[other] - rest[q[0]])
        return sum(float(_unit(rest[b].mean(axis=0) - rest[q[0]]) @ s) for b in q[1:3])

    legs, arms = sorted(ends, key=lambda q: away(q, ends[1][0] if q is ends[0] else ends[0][0]))
    pelvis, chest = legs[0], arms[0]
    min_len = 0.01 * size
    j2b = {"pelvis": names[pelvis]}
    j2b.update({k: names[v] for k, v in spine_from_chain(_path(parents, pelvis, chest)[1:]).items()})
    others = [b for b in _branches(adj, chest) if pelvis not in b and b != arms[1] and b != arms[2]]
    if others:
        head_chain = _chain(adj, rest, chest, max(others, key=lambda b: np.ptp(rest[b + [chest]], axis=0).max()),
                            min_len)
        if head_chain:
            # Neck, Head, HeadTop_End: the last joint is often the top of the skull.
            j2b["neck"] = names[head_chain[0]]
            j2b["head"] = names[head_chain[-1] if len(head_chain) <= 2 else head_chain[-2]]
    up = _unit(rest[names.index(j2b.get("head", names[chest]))] - rest[pelvis])
    leg_chains = [_chain(adj, rest, pelvis, b, min_len) for b in legs[1:3]]
    arm_chains = [_chain(adj, rest, chest, b, min_len) for b in arms[1:3]]
    toes = [c[3] for c in leg_chains if len(c) > 3]
    if len(toes) == 2:
        fwd = sum(rest[t] - rest[c[2]] for t, c in zip(toes, leg_chains))
        left = np.cross(up, fwd - (fwd @ up) * up)
    else:  # BVH's convention: the body's left is +x (+z for an x-up file)
        left = np.eye(3)[2 if abs(up[0]) > max(abs(up[1]), abs(up[2])) else 0]

    def by_side(chains):
        return sorted(chains, key=lambda c: -float(rest[c].mean(axis=0) @ left) if c else 0.0)

    for s, c in zip("lr", by_side(leg_chains)):
        for part, j in zip(("hip", "knee", "ankle", "foot"), c):
            j2b[f"{s}_{part}"] = names[j]
    for s, c in zip("lr", by_side(arm_chains)):
        if len(c) >= 4:
            bone = [np.linalg.norm(rest[c[k + 1]] - rest[c[k]]) for k in range(3)]
            # A collar is short next to the upper arm; the upper arm and forearm match.
            has_collar = abs(np.log(bone[1] / max(bone[2], 1e-12))) < abs(np.log(bone[0] / max(bone[1], 1e-12)))
        else:
            has_collar = False
        parts = ("collar", "shoulder", "elbow", "wrist") if has_collar else ("shoulder", "elbow", "wrist")
        for part, j in zip(parts, c):
            j2b[f"{s}_{part}"] = names[j]
    return ordered(j2b)
