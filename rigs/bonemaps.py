"""Which bone of an armature carries which joint of the canonical skeleton.

Convention: ``joint_to_bone[joint]`` is the bone whose HEAD sits at that SMPL
joint (pelvis → Hips, l_knee → LeftLeg, l_wrist → LeftHand, ...). The
matching itself is :mod:`choreo.core.bonemap`, shared with BVH import; this
module adapts an armature's bones to it and stores maps on armatures.
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
# Recognising rigs: the name matching lives in core.bonemap (shared with BVH import)
# ---------------------------------------------------------------------------
from ..core import bonemap as cbm
from ..core import skeleton as sk
from ..core.errors import ChoreoInputError

PROPERTY = "choreo_bone_map"

CORE_JOINTS = cbm.CORE_JOINTS
_core_missing = cbm.core_missing


def _skeleton(bones) -> tuple[list[str], list[int]]:
    """An armature's bones as names and parent indices (-1 for a root)."""
    names = [b.name for b in bones]
    index = {n: i for i, n in enumerate(names)}
    return names, [-1 if b.parent is None else index[b.parent.name] for b in bones]


def _bone_map(kind: str, j2b: dict[str, str]) -> BoneMap:
    j2b = cbm.ordered(j2b)
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
    kind, j2b = cbm.match_names(*_skeleton(bones))
    missing = _core_missing(j2b)
    if not j2b:
        raise ChoreoInputError(arm_obj.name, f"no mappable bones: none of its {len(bones)} bones is named like "
                               "a body part (hips, spine, thigh/upleg, shin, foot, upper arm, forearm, hand, "
                               "head); set its \"choreo_bone_map\" property to map them by hand")
    if missing:
        raise ChoreoInputError(arm_obj.name, "could not map: " + ", ".join(missing)
                               + " (set its \"choreo_bone_map\" property to map them by hand)")
    return _bone_map(kind, j2b)


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
