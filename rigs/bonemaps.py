"""Which bone of an armature carries which joint of the canonical skeleton.

Convention: ``joint_to_bone[joint]`` is the bone whose HEAD sits at that SMPL
joint (pelvis → Hips, l_knee → LeftLeg, l_wrist → LeftHand, ...).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass
class BoneMap:
    kind: str                                   # "choreo" | "mixamo" | "rigify_meta" | "rigify" | "smpl" | "custom"
    joint_to_bone: dict[str, str]
    unmapped: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "BoneMap":
        d = json.loads(text)
        return cls(kind=str(d.get("kind", "custom")), joint_to_bone={str(k): str(v) for k, v in d["joint_to_bone"].items()},
                   unmapped=[str(u) for u in d.get("unmapped", [])])


# ---------------------------------------------------------------------------
# Recognising rigs
# ---------------------------------------------------------------------------
import re

from ..core import skeleton as sk
from ..core.errors import ChoreoInputError

PROPERTY = "choreo_bone_map"

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
# spine_fk.* the spine, the *_fk limbs with IK_FK = 1 (see prepare_rig_for_keys).
# With those switches, posing these bones moves them exactly as their bone
# hierarchy says (checked in tests/test_rigs_build.py).
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

# (kind, table, bones that must exist for the kind to be considered)
_KNOWN = (
    ("choreo", {n: n for n in sk.JOINT_NAMES}, ()),
    ("rigify", _RIGIFY, ("torso", "thigh_fk.L", "upper_arm_fk.L")),
    ("rigify_meta", _RIGIFY_META, ("spine", "thigh.L", "upper_arm.L")),
    ("mixamo", _MIXAMO, ()),
    ("smpl", _SMPL, ()),
    ("smpl", _SMPLX, ()),
)
# Rig-specific prefixes removed before matching ("mixamorig:", "m_avg_", ...).
_PREFIX = re.compile(r"^(?:.*:|[mf]_avg_|smplx?_|cc_base_|bip0*1[ _]?)", re.IGNORECASE)


def _stripped(name: str) -> str:
    return _PREFIX.sub("", name).lower()


def _core_missing(j2b: dict[str, str]) -> list[str]:
    miss = [j for j in CORE_JOINTS if j != "spine" and j not in j2b]
    if not any(s in j2b for s in ("spine1", "spine2", "spine3")):
        miss.insert(7, "spine")
    return miss


def _depth(bones, name: str) -> int:
    b, d = bones[name], 0
    while b.parent is not None:
        b, d = b.parent, d + 1
    return d


def _lookup(bones) -> dict[str, str]:
    """Stripped lower-case name -> bone name (the shallowest bone wins a tie)."""
    out: dict[str, str] = {}
    for b in sorted(bones, key=lambda b: (_depth(bones, b.name), b.name)):
        for key in (b.name.lower(), _stripped(b.name)):
            out.setdefault(key, b.name)
    return out


def _from_table(bones, table: dict[str, str]) -> dict[str, str]:
    look = _lookup(bones)
    return {j: look[t.lower()] for j, t in table.items() if t.lower() in look}


# -- fuzzy matching for custom rigs -----------------------------------------
_SIDE = {"l": "l", "left": "l", "r": "r", "right": "r", "lf": "l", "rt": "r"}
_SKIP = {"end", "nub", "tip", "twist", "ik", "pole", "target", "roll", "mch", "org", "tweak", "ctrl",
         "helper", "null", "top", "jnt_end", "socket", "ik_target", "poles", "vis"}
_LIMB = {  # sided part names -> joint
    "hip": ("upleg", "upperleg", "thigh", "thighbone", "femur", "hip", "uleg"),
    "knee": ("leg", "lowerleg", "loleg", "calf", "shin", "knee", "tibia", "lleg", "crus"),
    "ankle": ("foot", "ankle"),
    "foot": ("toe", "toes", "toebase", "ball", "toe0", "toe1", "toes0"),
    "collar": ("collar", "clavicle", "clav", "collarbone", "scapula"),
    "shoulder": ("upperarm", "uparm", "arm", "humerus", "uarm"),
    "elbow": ("forearm", "lowerarm", "loarm", "elbow", "larm"),
    "wrist": ("hand", "wrist"),
    "hand": ("handmiddle1", "middle1", "middle01", "fmiddle01", "middlefinger1", "middle0"),
}
_CENTRE = {
    "pelvis": ("hips", "hip", "pelvis"),
    "neck": ("neck", "neck1", "neck01"),
    "head": ("head",),
}
_SPINE_WORDS = ("spine", "chest", "torso", "abdomen", "waist", "back", "spine0", "spine1", "spine2",
                "spine3", "spine01", "spine02", "spine03", "upperchest", "lowerback", "upperback")


def _tokens(name: str) -> list[str]:
    name = _PREFIX.sub("", name)
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)       # camelCase
    return [t for t in re.split(r"[\s_.\-:|]+", name.lower()) if t]


def _split_side(tokens: list[str]) -> tuple[str | None, str]:
    side = None
    if len(tokens) > 1 and tokens[0] in _SIDE:
        side, tokens = _SIDE[tokens[0]], tokens[1:]
    elif len(tokens) > 1 and tokens[-1] in _SIDE:
        side, tokens = _SIDE[tokens[-1]], tokens[:-1]
    return side, "".join(tokens)


def _fuzzy(arm) -> dict[str, str]:
    bones = arm.data.bones
    found: dict[tuple[str | None, str], list[str]] = {}
    for b in sorted(bones, key=lambda b: (_depth(bones, b.name), b.name)):
        toks = _tokens(b.name)
        if any(t in _SKIP for t in toks):
            continue
        side, key = _split_side(toks)
        found.setdefault((side, key), []).append(b.name)

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
    # The spine: bones between the pelvis and the neck (or the head).
    top = j2b.get("neck") or j2b.get("head")
    if "pelvis" in j2b and top:
        chain, b = [], bones[top].parent
        while b is not None and b.name != j2b["pelvis"]:
            chain.append(b.name)
            b = b.parent
        if b is not None:
            chain.reverse()
            if top == j2b.get("head") and "neck" not in j2b and chain:
                j2b["neck"] = chain.pop()
            if len(chain) >= 3:
                j2b.update(spine1=chain[0], spine2=chain[len(chain) // 2], spine3=chain[-1])
            elif len(chain) == 2:
                j2b.update(spine1=chain[0], spine3=chain[1])
            elif len(chain) == 1:
                j2b["spine3"] = chain[0]
    if not any(s in j2b for s in ("spine1", "spine2", "spine3")):
        for w in _SPINE_WORDS:
            if (None, w) in found:
                j2b["spine1"] = found[(None, w)][0]
                break
    return j2b


def _bone_map(kind: str, j2b: dict[str, str]) -> BoneMap:
    j2b = {j: j2b[j] for j in sk.JOINT_NAMES if j in j2b}
    return BoneMap(kind, j2b, [j for j in sk.JOINT_NAMES if j not in j2b])


def detect_bone_map(arm_obj) -> BoneMap:
    """Recognise which bone of ``arm_obj`` carries each SMPL-24 joint.

    Known rigs are matched by their naming schemes: Choreo's default rig,
    Mixamo (with or without "mixamorig:"/"mixamorigN:"), Rigify's metarig and
    generated rig (FK controls), SMPL ("Pelvis", "L_Hip", optionally
    "m_avg_"-prefixed) and SMPL-X ("pelvis", "left_hip"). Anything else is
    matched by name parts (case, separators, L/R/Left/Right prefixes or
    suffixes, synonyms such as thigh/upleg/upperleg) as kind "custom".

    Raises
    ------
    ChoreoInputError
        Naming the armature and the core joints (pelvis, hips, knees, ankles,
        spine, shoulders, elbows, wrists, head) that could not be mapped.
    """
    if arm_obj is None or getattr(arm_obj, "type", None) != "ARMATURE":
        raise ChoreoInputError(getattr(arm_obj, "name", None), "is not an armature")
    bones = arm_obj.data.bones
    if all(n in bones for n in sk.JOINT_NAMES):          # exact names only: "Pelvis" is SMPL's
        return _bone_map("choreo", {n: n for n in sk.JOINT_NAMES})
    for kind, table, required in _KNOWN[1:]:
        if any(r not in bones for r in required):
            continue
        j2b = _from_table(bones, table)
        if not _core_missing(j2b):
            return _bone_map(kind, j2b)
    j2b = _fuzzy(arm_obj)
    missing = _core_missing(j2b)
    if not j2b:
        raise ChoreoInputError(arm_obj.name, f"no mappable bones: none of its {len(bones)} bones is named like "
                               "a body part (hips, spine, thigh/upleg, shin, foot, upper arm, forearm, hand, "
                               "head); set its \"choreo_bone_map\" property to map them by hand")
    if missing:
        raise ChoreoInputError(arm_obj.name, "could not map: " + ", ".join(missing)
                               + " (set its \"choreo_bone_map\" property to map them by hand)")
    return _bone_map("custom", j2b)


def store_bone_map(arm_obj, bone_map: BoneMap) -> bool:
    """Save ``bone_map`` on ``arm_obj`` as the JSON custom property "choreo_bone_map".

    Returns whether it was stored. A library override keeps only a property its
    library's armature already has (Blender drops the custom properties an
    override adds when the file is reopened): there the property is made
    overridable, so the map and later hand edits are saved; an override whose
    library armature has none gets nothing (its map is detected each time).
    """
    if getattr(arm_obj, "override_library", None) is not None:
        if PROPERTY not in arm_obj:
            return False
        arm_obj.property_overridable_library_set(f'["{PROPERTY}"]', True)
    arm_obj[PROPERTY] = bone_map.to_json()
    return True


def load_bone_map(arm_obj) -> BoneMap | None:
    """The bone map stored on ``arm_obj``, or None when there is none.

    The property is user-editable, so it is checked: malformed JSON, unknown
    joint names or bones the armature lacks raise :class:`ChoreoInputError`
    naming the armature.
    """
    raw = arm_obj.get(PROPERTY)
    if raw is None:
        return None
    where = f'its "{PROPERTY}" property'
    try:
        bm = BoneMap.from_json(str(raw))
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ChoreoInputError(arm_obj.name, f"{where} is not a valid bone map ({type(e).__name__}: {e}); "
                               'expected JSON like {"kind": "custom", "joint_to_bone": {"pelvis": "Hips", ...}}')
    bad = sorted(set(bm.joint_to_bone) - set(sk.JOINT_NAMES))
    if bad:
        raise ChoreoInputError(arm_obj.name, f"{where} names unknown joints: {', '.join(bad)} "
                               f"(joints are {', '.join(sk.JOINT_NAMES)})")
    bones = arm_obj.data.bones if getattr(arm_obj, "type", None) == "ARMATURE" else {}
    gone = [f"{j} -> {b!r}" for j, b in bm.joint_to_bone.items() if b not in bones]
    if gone:  # e.g. bones renamed since Choreo stored the map
        raise ChoreoInputError(arm_obj.name, f"{where} maps to bones the armature lacks: {', '.join(gone)} "
                               "(fix those names, or delete the property to map the rig again)")
    missing = _core_missing(bm.joint_to_bone)
    if missing:
        raise ChoreoInputError(arm_obj.name, f"{where} leaves core joints unmapped: {', '.join(missing)}")
    bm.unmapped = [j for j in sk.JOINT_NAMES if j not in bm.joint_to_bone]
    return bm


def bone_map_for(arm_obj) -> BoneMap:
    """The stored bone map of ``arm_obj`` if it has one, else a detected one."""
    return load_bone_map(arm_obj) or detect_bone_map(arm_obj)


# Rigify limb switches: 1.0 = FK. The head and neck follow the chest so that
# the FK chain composes like a plain hierarchy.
_RIGIFY_SWITCHES = {
    **{f"{limb}_parent.{s}": {"IK_FK": 1.0, "FK_limb_follow": 0.0}
       for limb in ("upper_arm", "thigh") for s in "LR"},
    "torso": {"neck_follow": 1.0, "head_follow": 1.0},
}


def prepare_rig_for_keys(arm_obj, bone_map: BoneMap) -> dict[str, float]:
    """Make the mapped bones of ``arm_obj`` drive the body and take quaternion keys.

    Every mapped pose bone gets ``rotation_mode = "QUATERNION"`` (its current
    rotation kept). On a generated Rigify rig the arm and leg IK/FK switches
    are set to FK (``IK_FK = 1``) and the neck and head made to follow the
    chest, so that the ``*_fk`` controls the map names move the body.

    Returns
    -------
    dict
        ``"bone[prop]" -> value`` for each rig property changed.
    """
    changed: dict[str, float] = {}
    pose = arm_obj.pose
    for bone in bone_map.joint_to_bone.values():
        pb = pose.bones.get(bone)
        if pb is not None and pb.rotation_mode != "QUATERNION":
            q = pb.matrix_basis.to_quaternion()
            pb.rotation_mode = "QUATERNION"
            pb.rotation_quaternion = q
    if bone_map.kind == "rigify":
        for bone, props in _RIGIFY_SWITCHES.items():
            pb = pose.bones.get(bone)
            if pb is None:
                continue
            for prop, value in props.items():
                if prop in pb.keys() and pb[prop] != value:
                    pb[prop] = value
                    changed[f'{bone}["{prop}"]'] = value
    return changed
