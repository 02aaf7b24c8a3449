"""BVH files from other mocap sources: each naming scheme, unknown names, units, up axes.

Every test writes its own BVH: a real CMU dance (SMPL-24) posed on the scheme's
hierarchy (extra root, extra spine joints, fingers, twist and end joints) with
rest offsets from the SMPL template in the scheme's unit and up axis, then
checks the loaded joints against the dance for the joints the scheme observes.
"""

from __future__ import annotations

import numpy as np
import pytest

from choreo.core import bonemap
from choreo.core import skeleton as sk
from choreo.core.errors import ChoreoInputError
from choreo.core.formats import bvh, load_motion

IX = sk.JOINT_INDEX
LIMB_PARTS = ("hip", "knee", "ankle", "foot", "collar", "shoulder", "elbow", "wrist", "knuckle")


@pytest.fixture(scope="module")
def dance(mocap_dir):
    return load_motion(mocap_dir / "005" / "005_02.bvh").frames(100, 140)


def _lr(template: str, s: str, sides) -> str:
    return template.format(S=sides[0] if s == "l" else sides[1])


def _build(spec: dict, joints: np.ndarray):
    """(names, parents, rest (J, 3), targets (T, J, 3), observed SMPL joints), z up, metres.

    Untargeted joints (fingers, twist, end joints, the fixed extra root) have NaN targets.
    """
    rest_off = bvh.rest_offsets(joints)
    R = np.zeros((sk.NUM_JOINTS, 3))
    for j, p in enumerate(sk.PARENTS):
        R[j] = rest_off[j] + (R[p] if p >= 0 else 0.0)
    R[:, 2] -= R[:, 2].min() - 0.05                 # feet on the floor
    T = len(joints)
    names, parents, rest, targets, observed = [], [], [], [], set()

    def add(name, parent, r, t=None, smpl=None):
        names.append(name)
        parents.append(-1 if parent is None else names.index(parent))
        rest.append(np.asarray(r, dtype=np.float64))
        targets.append(np.full((T, 3), np.nan) if t is None else t)
        if smpl:
            observed.add(smpl)
        return name

    def smpl(n):
        return R[IX[n]], joints[:, IX[n]]

    root = add(spec["root"], None, np.zeros(3), np.zeros((T, 3))) if spec.get("root") else None
    pelvis = add(spec["pelvis"], root, *smpl("pelvis"), smpl="pelvis")
    chain = spec["spine"]
    n = len(chain)
    picks = {0: "spine1", n // 2: "spine2", n - 1: "spine3"} if n >= 3 else {0: "spine1", 1: "spine3"}
    anchors = {-1: smpl("pelvis"), n: smpl("neck"), **{i: smpl(j) for i, j in picks.items()}}
    parent = pelvis
    for i, name in enumerate(chain):
        if i in picks:
            parent = add(name, parent, *anchors[i], smpl=picks[i])
            continue
        lo = max(k for k in anchors if k < i)
        hi = min(k for k in anchors if k > i)
        f = (i - lo) / (hi - lo)
        parent = add(name, parent, *(a + f * (b - a) for a, b in zip(anchors[lo], anchors[hi])))
    chest = parent
    neck = add(spec["neck"], chest, *smpl("neck"), smpl="neck")
    head = add(spec["head"], neck, *smpl("head"), smpl="head")
    sides = spec.get("sides", ("Left", "Right"))
    limbs = spec["limbs"]
    for s in "lr":
        name = {p: _lr(limbs[p], s, sides) for p in LIMB_PARTS if p in limbs}
        up = add(name["hip"], chain[0] if spec.get("thighs_on_spine") else pelvis, *smpl(f"{s}_hip"), smpl=f"{s}_hip")
        up = add(name["knee"], up, *smpl(f"{s}_knee"), smpl=f"{s}_knee")
        up = add(name["ankle"], up, *smpl(f"{s}_ankle"), smpl=f"{s}_ankle")
        if "foot" in name:
            add(name["foot"], up, *smpl(f"{s}_foot"), smpl=f"{s}_foot")
        up = neck if spec.get("collars_on_neck") else chest
        if "collar" in name:
            up = add(name["collar"], up, *smpl(f"{s}_collar"), smpl=f"{s}_collar")
        up = add(name["shoulder"], up, *smpl(f"{s}_shoulder"), smpl=f"{s}_shoulder")
        mid = 0.5 * (R[IX[f"{s}_shoulder"]] + R[IX[f"{s}_elbow"]])
        if "twist" in spec:
            add(_lr(spec["twist"], s, sides), up, mid)
        up = add(name["elbow"], up, *smpl(f"{s}_elbow"), smpl=f"{s}_elbow")
        wrist = add(name["wrist"], up, *smpl(f"{s}_wrist"), smpl=f"{s}_wrist")
        w, h = smpl(f"{s}_wrist"), smpl(f"{s}_hand")
        if "knuckle" in name:       # the SMPL hand joint is half way to the middle knuckle
            add(name["knuckle"], wrist, 2 * h[0] - w[0], 2 * h[1] - w[1], smpl=f"{s}_hand")
        side = 1.0 if s == "l" else -1.0
        for k, finger in enumerate(spec.get("fingers", ())):
            add(_lr(finger, s, sides), wrist, w[0] + np.array([side * 0.06, -0.02 + 0.02 * k, -0.01]))
    for end in spec.get("ends", ()):
        add(end, head, R[IX["head"]] + [0.0, 0.0, 0.15])
    return names, parents, np.array(rest), np.stack(targets, axis=1), sorted(observed)


def _write(tmp_path, spec, joints, unit=0.01, up="y", tpose=False, name="take.bvh"):
    names, parents, rest, targets, observed = _build(spec, joints)
    if tpose:   # a leading reference frame: every joint at rest, the hips where the dance starts
        shift = targets[0, names.index(spec["pelvis"])] - rest[names.index(spec["pelvis"])]
        first = np.where(np.isnan(targets[:1]), np.nan, rest[None] + shift)
        if spec.get("root"):
            first[0, 0] = targets[0, 0]
        targets = np.concatenate([first, targets])
    conv = bvh.zup_to_yup if up == "y" else (lambda p: p)
    file_rest, file_targets = conv(rest) / unit, conv(targets) / unit
    offsets = np.array([file_rest[j] - (file_rest[p] if p >= 0 else 0.0) for j, p in enumerate(parents)])
    moving = (0, names.index(spec["pelvis"])) if spec.get("root") else (0,)
    path = tmp_path / name
    bvh.write_skeleton_bvh(path, names, parents, offsets, file_targets, 30.0, moving)
    return path, observed


SCHEMES = {
    # CMU-BVH conversions: an extra root, Spine + Chest, Collar/UpArm/LowArm.
    "cmu": dict(root="root", pelvis="Hips", spine=["Spine", "Chest"], neck="Neck", head="Head",
                limbs=dict(hip="{S}UpLeg", knee="{S}Leg", ankle="{S}Foot", foot="{S}Toe", collar="{S}Collar",
                           shoulder="{S}UpArm", elbow="{S}LowArm", wrist="{S}Hand"), ends=["Head_End"]),
    "truebones": dict(root="Reference", pelvis="Hips", spine=["Spine", "Spine1", "Chest"], neck="Neck", head="Head",
                      limbs=dict(hip="{S}UpLeg", knee="{S}Leg", ankle="{S}Foot", foot="{S}ToeBase",
                                 collar="{S}Shoulder", shoulder="{S}Arm", elbow="{S}ForeArm", wrist="{S}Hand"),
                      fingers=["{S}HandThumb1", "{S}HandIndex1"]),
    "bandai_namco": dict(root="joint_Root", pelvis="Hips", spine=["Spine", "Chest"], neck="Neck", head="Head",
                         sides=("L", "R"),
                         limbs=dict(hip="UpperLeg_{S}", knee="LowerLeg_{S}", ankle="Foot_{S}", foot="Toes_{S}",
                                    collar="Shoulder_{S}", shoulder="UpperArm_{S}", elbow="LowerArm_{S}",
                                    wrist="Hand_{S}")),
    "mixamo": dict(pelvis="mixamorig:Hips", spine=["mixamorig:Spine", "mixamorig:Spine1", "mixamorig:Spine2"],
                   neck="mixamorig:Neck", head="mixamorig:Head", ends=["mixamorig:HeadTop_End"],
                   limbs=dict(hip="mixamorig:{S}UpLeg", knee="mixamorig:{S}Leg", ankle="mixamorig:{S}Foot",
                              foot="mixamorig:{S}ToeBase", collar="mixamorig:{S}Shoulder",
                              shoulder="mixamorig:{S}Arm", elbow="mixamorig:{S}ForeArm",
                              wrist="mixamorig:{S}Hand", knuckle="mixamorig:{S}HandMiddle1"),
                   fingers=["mixamorig:{S}HandThumb1", "mixamorig:{S}HandIndex1"]),
    "rokoko": dict(pelvis="Hips", spine=["Spine1", "Spine2", "Spine3", "Spine4"], neck="Neck", head="Head",
                   ends=["HeadEnd"],
                   limbs=dict(hip="{S}Thigh", knee="{S}Shin", ankle="{S}Foot", foot="{S}Toe",
                              collar="{S}Shoulder", shoulder="{S}Arm", elbow="{S}ForeArm", wrist="{S}Hand"),
                   fingers=["{S}Finger1Metacarpal", "{S}Finger2Metacarpal"]),
    "xsens": dict(pelvis="Pelvis", spine=["L5", "L3", "T12", "T8"], neck="Neck", head="Head",
                  limbs=dict(hip="{S}UpperLeg", knee="{S}LowerLeg", ankle="{S}Foot", foot="{S}Toe",
                             collar="{S}Shoulder", shoulder="{S}UpperArm", elbow="{S}ForeArm", wrist="{S}Hand")),
    "perception_neuron": dict(pelvis="Hips", spine=["Spine", "Spine1", "Spine2", "Spine3"], neck="Neck",
                              head="Head",
                              limbs=dict(hip="{S}UpLeg", knee="{S}Leg", ankle="{S}Foot", collar="{S}Shoulder",
                                         shoulder="{S}Arm", elbow="{S}ForeArm", wrist="{S}Hand",
                                         knuckle="{S}HandMiddle1"),
                              fingers=["{S}HandThumb1", "{S}InHandIndex", "{S}InHandMiddle"]),
    "optitrack": dict(pelvis="Skeleton001_Hip", spine=["Skeleton001_Ab", "Skeleton001_Chest"],
                      neck="Skeleton001_Neck", head="Skeleton001_Head", sides=("L", "R"),
                      limbs=dict(hip="Skeleton001_{S}Thigh", knee="Skeleton001_{S}Shin", ankle="Skeleton001_{S}Foot",
                                 foot="Skeleton001_{S}Toe", collar="Skeleton001_{S}Shoulder",
                                 shoulder="Skeleton001_{S}UArm", elbow="Skeleton001_{S}FArm",
                                 wrist="Skeleton001_{S}Hand")),
    "biped": dict(root="Bip01", pelvis="Bip01 Pelvis", spine=["Bip01 Spine", "Bip01 Spine1", "Bip01 Spine2"],
                  neck="Bip01 Neck", head="Bip01 Head", sides=("L", "R"), thighs_on_spine=True,
                  collars_on_neck=True, ends=["Bip01 HeadNub"], twist="Bip01 {S} UpArmTwist",
                  limbs=dict(hip="Bip01 {S} Thigh", knee="Bip01 {S} Calf", ankle="Bip01 {S} Foot",
                             foot="Bip01 {S} Toe0", collar="Bip01 {S} Clavicle", shoulder="Bip01 {S} UpperArm",
                             elbow="Bip01 {S} Forearm", wrist="Bip01 {S} Hand", knuckle="Bip01 {S} Finger2"),
                  fingers=["Bip01 {S} Finger0", "Bip01 {S} Finger1"]),
    "humanik": dict(root="Character1_Reference", pelvis="Character1_Hips",
                    spine=["Character1_Spine", "Character1_Spine1", "Character1_Spine2"],
                    neck="Character1_Neck", head="Character1_Head", twist="Character1_{S}ArmRoll",
                    limbs=dict(hip="Character1_{S}UpLeg", knee="Character1_{S}Leg", ankle="Character1_{S}Foot",
                               foot="Character1_{S}ToeBase", collar="Character1_{S}Shoulder",
                               shoulder="Character1_{S}Arm", elbow="Character1_{S}ForeArm",
                               wrist="Character1_{S}Hand", knuckle="Character1_{S}HandMiddle1")),
}
# (scheme, metres per unit, up axis, leading T-pose frame)
CASES = [("cmu", 0.01, "y", True), ("truebones", 1.0, "z", False), ("bandai_namco", 0.01, "y", False),
         ("mixamo", 0.01, "y", True), ("rokoko", 1.0, "y", False), ("xsens", 0.01, "z", True),
         ("perception_neuron", 0.001, "y", False), ("optitrack", 1.0, "y", True), ("biped", 0.0254, "y", False),
         ("humanik", 0.1, "y", False)]
MAX_ERR = {}


def _tolerance(spec: dict) -> float:
    """1 cm; 2.5 cm where the hierarchy can't hold the dance exactly: two spine
    joints can't bend like SMPL's three (the dance's spine1 -> spine3 distance
    varies by ~2 cm, a bone's can't), and Biped's thighs hang from the spine."""
    return 0.01 if len(spec["spine"]) >= 3 and not spec.get("thighs_on_spine") else 0.025


def _check(path, dance, observed, tol=0.01):
    m = bvh.load_bvh_motion(path)
    assert m.num_frames == dance.num_frames and m.fps == 30.0
    idx = [IX[j] for j in observed]
    err = np.linalg.norm(m.joints[:, idx] - dance.joints[:, idx], axis=-1)
    assert err.max() < tol, (path.name, observed[int(err.max(axis=0).argmax())], err.max())
    # Estimated joints (a hand from the forearm, a foot from the shin) stay near their place.
    assert np.linalg.norm(m.joints - dance.joints, axis=-1).max() < 0.2
    return float(err.max())


@pytest.mark.parametrize("scheme,unit,up,tpose", CASES, ids=[c[0] for c in CASES])
def test_scheme_loads_like_the_original(tmp_path, dance, scheme, unit, up, tpose):
    path, observed = _write(tmp_path, SCHEMES[scheme], dance.joints, unit, up, tpose)
    b = bvh.read_bvh(path)
    assert bvh.skeleton_weights(b)[1] != "geometry"         # mapped by names
    MAX_ERR[scheme] = _check(path, dance, observed, _tolerance(SCHEMES[scheme]))


def test_z_up_and_y_up_files_load_identically(tmp_path, dance):
    spec = SCHEMES["xsens"]
    a, _ = _write(tmp_path, spec, dance.joints, 0.01, "y", name="y.bvh")
    b, _ = _write(tmp_path, spec, dance.joints, 0.01, "z", name="z.bvh")
    np.testing.assert_allclose(bvh.load_bvh_motion(a).joints, bvh.load_bvh_motion(b).joints, atol=1e-4)


def _anonymous(spec: dict) -> dict:
    """The same hierarchy with joints named j0, j1, ..."""
    out, k = {}, iter(range(1000))
    for key, v in spec.items():
        if isinstance(v, str) and key not in ("twist",):
            out[key] = f"j{next(k)}"
        elif isinstance(v, list):
            out[key] = [f"j{next(k)}" for _ in v]
        elif key == "limbs":
            out[key] = {p: f"j{next(k)}{{S}}" for p in v}
        else:
            out[key] = v
    out["sides"] = ("a", "b")
    return out


@pytest.mark.parametrize("toes,up", [(True, "y"), (False, "z")])
def test_unknown_names_load_by_shape(tmp_path, dance, toes, up):
    spec = _anonymous(SCHEMES["truebones"])
    if not toes:
        del spec["limbs"]["foot"]
    path, observed = _write(tmp_path, spec, dance.joints, 0.01, up, tpose=True)
    b = bvh.read_bvh(path)
    assert bonemap.core_missing(bonemap.match_names(b.names, b.parents)[1])
    assert bvh.skeleton_weights(b)[1] == "geometry"
    MAX_ERR[f"geometry{'' if toes else ', no toes'} ({up} up)"] = _check(path, dance, observed, _tolerance(spec))


def test_skeleton_without_legs_is_refused(tmp_path, dance):
    spec = dict(SCHEMES["cmu"], limbs={k: v for k, v in SCHEMES["cmu"]["limbs"].items()
                                       if k in ("collar", "shoulder", "elbow", "wrist")})
    names, parents, rest, targets, _ = _build(dict(spec, limbs=dict(spec["limbs"], hip="{S}UpLeg",
                                                                     knee="{S}Leg", ankle="{S}Foot")), dance.joints)
    keep = [j for j, n in enumerate(names) if not n.endswith(("UpLeg", "Leg", "Foot"))]
    remap = {j: i for i, j in enumerate(keep)}
    parents = [remap.get(parents[j], -1) for j in keep]
    names = [names[j] for j in keep]
    off = np.array([rest[j] - (rest[keep[p]] if p >= 0 else 0) for j, p in zip(keep, parents)])
    path = tmp_path / "nolegs.bvh"
    bvh.write_skeleton_bvh(path, names, parents, bvh.zup_to_yup(off) * 100, bvh.zup_to_yup(targets[:, keep]) * 100,
                           30.0, (0, 1))
    with pytest.raises(ChoreoInputError) as e:
        bvh.load_bvh_motion(path)
    msg = str(e.value)
    assert str(path) in msg and "could not place l_hip, r_hip, l_knee, r_knee, l_ankle, r_ankle" in msg
    assert "joints found: root, Hips, Spine" in msg


def test_units_are_guessed_and_scale_overrides(tmp_path, dance):
    spec = SCHEMES["mixamo"]
    for unit in bvh.UNITS.values():
        path, _ = _write(tmp_path, spec, dance.joints, unit, name=f"u{unit}.bvh")
        m = bvh.load_bvh_motion(path)
        assert np.abs(m.joints - dance.joints).max() < 0.12, unit
    forced = bvh.load_bvh_motion(path, scale=0.002)          # last file is in millimetres
    np.testing.assert_allclose(forced.joints, m.joints * 2, atol=1e-9)


def test_report_max_errors():
    # Runs last in this file: the per-scheme errors, for the record (pytest -s shows them).
    for k, v in MAX_ERR.items():
        print(f"{k:32s} max error of observed joints {v * 1000:.2f} mm")
