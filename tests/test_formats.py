"""Motion readers and writers: round trips, real files and bad input."""

from __future__ import annotations

import csv
import json
import pickle

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from choreo.core import skeleton as sk
from choreo.core import skeleton_maps as smaps
from choreo.core.errors import ChoreoInputError
from choreo.core.rotations import axis_angle_to_matrix
from choreo.core.formats import load_motion, load_pose2d, save_motion
from choreo.core.formats import aist, bvh, dancerevolution, npz, openpose
from choreo.core.motion import Motion


def _dance(T=48, fps=30.0, seed=0) -> Motion:
    """A rigid-bone SMPL-24 clip: template skeleton, swaying and turning, arms waving."""
    rng = np.random.default_rng(seed)
    rest = smaps.smpl_rest_joints() + np.array([0.0, 0.0, 0.95])
    t = np.arange(T) / fps
    ang = 0.8 * np.sin(2 * np.pi * 0.7 * t) + rng.normal(0, 0.01, T)
    rot = Rotation.from_euler("z", ang[:, None]).as_matrix()
    j = np.einsum("tij,kj->tki", rot, rest - rest[0]) + rest[0]
    j[:, sk.JOINT_INDEX["l_wrist"], 2] += 0.2 * np.sin(2 * np.pi * t)
    j[..., 0] += 0.3 * t[:, None]
    return Motion(j, fps).with_bone_lengths()


# -- BVH -------------------------------------------------------------------

TINY = """HIERARCHY
ROOT hips
{
  OFFSET 1.0 2.0 3.0
  CHANNELS 6 Xposition Yposition Zposition Xrotation Zrotation Yrotation
  JOINT knee
  {
    OFFSET 0.0 -4.0 0.5
    CHANNELS 3 Yrotation Xrotation Zrotation
    End Site
    {
      OFFSET 0.0 -4.0 0.0
    }
  }
  JOINT chest
  {
    OFFSET 0.0 3.0 0.0
    CHANNELS 3 Zrotation Xrotation Yrotation
    JOINT head
    {
      OFFSET 0.0 2.0 1.0
      CHANNELS 3 Zrotation Yrotation Xrotation
      End Site
      {
        OFFSET 0.0 1.0 0.0
      }
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.04
0.5 0.0 -1.0 10.0 20.0 30.0 5.0 -15.0 25.0 40.0 50.0 -60.0 0 0 0
1.0 2.0 3.0 -90.0 45.0 170.0 0.0 0.0 0.0 12.0 -7.0 33.0 9 8 7
"""


def test_bvh_forward_kinematics_matches_intrinsic_euler(tmp_path):
    p = tmp_path / "tiny.bvh"
    p.write_text(TINY)
    b = bvh.read_bvh(p)
    assert b.names == ["hips", "knee", "chest", "head"] and b.parents == [-1, 0, 0, 2]
    assert b.fps == 25.0 and b.num_frames == 2
    pos, _ = bvh.forward_kinematics(b)
    for f, row in enumerate(b.values):
        # Channels in written order, intrinsic: scipy's upper-case sequences.
        r0 = Rotation.from_euler("XZY", row[3:6], degrees=True)
        r2 = Rotation.from_euler("ZXY", row[9:12], degrees=True)
        hips = np.array([1.0, 2.0, 3.0]) + row[:3]
        knee = hips + r0.apply([0.0, -4.0, 0.5])
        chest = hips + r0.apply([0.0, 3.0, 0.0])
        head = chest + (r0 * r2).apply([0.0, 2.0, 1.0])
        np.testing.assert_allclose(pos[f], [hips, knee, chest, head], atol=1e-9)


def test_bvh_axes_and_units():
    p = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(bvh.yup_to_zup(p), [[1.0, -3.0, 2.0]])
    np.testing.assert_allclose(bvh.zup_to_yup(bvh.yup_to_zup(p)), p)


def test_cmu_dance_loads_on_smpl24(mocap_dir):
    m = bvh.load_bvh_motion(mocap_dir / "005" / "005_02.bvh")
    assert m.num_frames == 562 and m.fps == 60.0 and m.joints.shape == (562, 24, 3)
    head = m.joints[:, sk.JOINT_INDEX["head"], 2]
    assert 1.3 < np.median(head) < 1.9          # metres, z up
    assert np.ptp(m.bone_lengths(), axis=0).max() < 0.01   # rigid skeleton


def test_cmu_walk_goes_forward_along_minus_y(mocap_dir):
    m = bvh.load_bvh_motion(mocap_dir / "002" / "002_01.bvh")  # RL_BoneRoot variant
    travel = m.joints[-1, 0] - m.joints[0, 0]
    assert travel[1] < -2.0 and abs(travel[0]) < 0.3
    assert abs(np.degrees(m.facing_angle(0)) + 90) < 20   # faces -y too
    assert m.joints[..., 2].min() > 0.0


def test_tpose_detection_agrees_with_descriptions(mocap_dir):
    rows = list(csv.DictReader(open(mocap_dir / "descriptions.csv")))
    assert len(rows) == 61
    for r in rows:
        b = bvh.read_bvh(mocap_dir / r["file"])
        joints = bvh.bvh_to_smpl24(b)
        assert bvh.leading_tpose(joints) == (r["frame0_is_tpose"] == "true"), r["file"]
        if r["frame0_is_tpose"] == "true":
            assert bvh.load_bvh_motion(mocap_dir / r["file"]).num_frames == int(r["frames"]) - 1


def test_bvh_round_trip(tmp_path):
    m = _dance()
    p = tmp_path / "out.bvh"
    bvh.write_bvh(m, p)
    back = bvh.load_bvh_motion(p)
    assert back.num_frames == m.num_frames and back.fps == m.fps
    assert np.abs(back.joints - m.joints).max() < 1e-4
    b = bvh.read_bvh(p)
    assert sorted(b.names) == sorted(sk.JOINT_NAMES) and b.names[0] == "pelvis" and len(b.channels[0]) == 6
    assert all(len(c) == 3 for c in b.channels[1:])
    assert np.allclose(b.offsets[0], 0.0)   # root OFFSET 0: Blender's convention agrees


def test_bvh_writer_reproduces_cmu_positions(mocap_dir, tmp_path):
    m = bvh.load_bvh_motion(mocap_dir / "005" / "005_03.bvh").frames(0, 200)
    p = tmp_path / "cmu.bvh"
    save_motion(m, p)
    back = load_motion(p)
    err = np.linalg.norm(back.joints - m.joints, axis=-1)
    # Every bone but neck->head (whose CC_Base length flexes by ~6 mm) is rigid.
    assert np.delete(err, sk.JOINT_INDEX["head"], axis=1).max() < 1e-4
    assert err.max() < 0.01


def _bad(tmp_path, text, name="bad.bvh"):
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(ChoreoInputError) as e:
        bvh.read_bvh(p)
    assert str(p) in str(e.value)
    return e.value.problem


def test_bvh_bad_input(tmp_path):
    assert "empty" in _bad(tmp_path, "")
    assert "no MOTION" in _bad(tmp_path, TINY.split("MOTION")[0])
    lines = TINY.splitlines()
    first = lines.index("MOTION") + 4     # 1-based line number of the first data line
    short = "\n".join(lines[:-1] + ["1.0 2.0 3.0"]) + "\n"
    msg = _bad(tmp_path, short)
    assert f"line {first + 1}" in msg and "3 values" in msg and "15 channels" in msg
    assert "Frames: says 3" in _bad(tmp_path, TINY.replace("Frames: 2", "Frames: 3"))
    truncated = "\n".join(lines[:-1]) + "\n"
    assert "truncated" in _bad(tmp_path, truncated)
    msg = _bad(tmp_path, TINY.replace("0.5 0.0 -1.0", "0.5 abc -1.0"))
    assert f"line {first}" in msg and "'abc'" in msg
    assert f"line {first + 1}" in _bad(tmp_path, TINY.replace("1.0 2.0 3.0 -90.0", "1.0 nan 3.0 -90.0"))
    unbalanced = TINY.replace("      OFFSET 0.0 1.0 0.0\n      }", "      OFFSET 0.0 1.0 0.0\n")
    assert "unbalanced" in _bad(tmp_path, unbalanced)
    assert "unbalanced" in _bad(tmp_path, TINY.replace("}\nMOTION", "}\n}\nMOTION"))
    assert "HIERARCHY" in _bad(tmp_path, "hello\nworld\n")
    assert "twice" in _bad(tmp_path, TINY.replace("Yrotation Xrotation Zrotation", "Yrotation Xrotation Yrotation"))
    assert "unknown channel" in _bad(tmp_path, TINY.replace("Xrotation Zrotation Yrotation", "Xrotation Zrotation Wrotation"))
    p = tmp_path / "bin.bvh"
    p.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ChoreoInputError):
        bvh.read_bvh(p)


def test_bvh_unknown_skeleton(tmp_path):
    p = tmp_path / "tiny.bvh"
    p.write_text(TINY)
    with pytest.raises(ChoreoInputError, match="unknown skeleton"):
        bvh.load_bvh_motion(p)


# -- npz -------------------------------------------------------------------

def test_npz_round_trip_and_validation(tmp_path):
    m = _dance(fps=24.0)
    p = tmp_path / "m.npz"
    save_motion(m, p)
    back = load_motion(p)
    np.testing.assert_array_equal(back.joints, m.joints)
    assert back.fps == 24.0 and back.joint_names == sk.JOINT_NAMES
    assert [x.name for x in tmp_path.iterdir()] == ["m.npz"]   # no temp files left

    def bad(**over):
        d = dict(joints=m.joints, fps=24.0, joint_names=np.array(sk.JOINT_NAMES), up="z", units="m",
                 format_version=1)
        d.update(over)
        d = {k: v for k, v in d.items() if v is not None}
        q = tmp_path / "bad.npz"
        np.savez(q, **d)
        with pytest.raises(ChoreoInputError) as e:
            npz.load_npz_motion(q)
        assert str(q) in str(e.value)
        return e.value.problem

    assert "joints" in bad(joints=None)
    assert "(T, 24, 3)" in bad(joints=np.zeros((5, 17, 3)))
    nan = m.joints.copy()
    nan[7, 3, 1] = np.nan
    assert "frame 7" in bad(joints=nan)
    assert "units" in bad(units="cm")
    assert "joint_names" in bad(joint_names=np.array(sk.JOINT_NAMES[::-1]))
    assert "fps" in bad(fps=0.0)
    assert "newer" in bad(format_version=99)
    assert "pickled" in bad(joints=np.array([None, 1], dtype=object))
    q = tmp_path / "junk.npz"
    q.write_bytes(b"not a zip")
    with pytest.raises(ChoreoInputError):
        load_motion(q)


def test_save_motion_rejects_unknown_extension(tmp_path):
    with pytest.raises(ChoreoInputError, match=r"\.txt"):
        save_motion(_dance(), tmp_path / "m.txt")
    with pytest.raises(ChoreoInputError, match="no such file"):
        load_motion(tmp_path / "missing.bvh")


# -- OpenPose --------------------------------------------------------------

def _write_frame(path, people):
    path.write_text(json.dumps({"version": 1.3, "people": [{"pose_keypoints_2d": p} for p in people]}))


def test_openpose_round_trip(tmp_path):
    m = _dance()
    for layout, n in (("openpose18", 18), ("openpose25", 25)):
        pose = openpose.motion_to_pose2d(m, layout, 640, 480)
        assert pose.points.shape == (m.num_frames, n, 2)
        files = openpose.write_openpose(pose, tmp_path / layout)
        assert len(files) == m.num_frames
        back = load_pose2d(tmp_path / layout, fps=30.0)
        assert back.layout == layout and back.fps == 30.0
        np.testing.assert_allclose(back.points, pose.points, atol=1e-3)
        smpl, conf = back.to_smpl24_2d()
        assert smpl.shape == (m.num_frames, 24, 2) and (conf == 1).all()
        # The writer projects the OpenPose points; observed joints are the SMPL joints themselves.
        pts3 = (smaps.smpl24_to_openpose18 if n == 18 else smaps.smpl24_to_openpose25)(m.joints)
        np.testing.assert_allclose(pose.points, openpose.project_front(pts3, 640, 480))
        names = smaps.SOURCES[layout].joint_names
        for name in ("l_knee", "r_wrist", "l_ankle"):
            np.testing.assert_allclose(pts3[:, names.index(name)], m.joints[:, sk.JOINT_INDEX[name]], atol=1e-6)
            np.testing.assert_allclose(smpl[:, sk.JOINT_INDEX[name]], back.points[:, names.index(name)])


def test_openpose_front_view_orientation():
    m = _dance().normalized_facing()
    pts = openpose.project_front(m.joints[:1])[0]
    # Head above pelvis (image y down); the dancer's left (+x) is on image right.
    assert pts[sk.JOINT_INDEX["head"], 1] < pts[0, 1]
    assert pts[sk.JOINT_INDEX["l_shoulder"], 0] > pts[sk.JOINT_INDEX["r_shoulder"], 0]


def test_openpose_picks_best_person_and_fills_gaps(tmp_path):
    d = tmp_path / "frames"
    d.mkdir()
    base = np.column_stack([np.arange(18) * 10.0, np.arange(18) * 5.0, np.full(18, 0.9)])
    small = base.copy()
    small[:, :2] *= 0.1
    for i in range(5):
        kp = base.copy()
        kp[:, 0] += i * 10
        if i == 2:
            kp[4] = 0.0          # wrist missing in frame 2
        people = [small.ravel().tolist(), kp.ravel().tolist()] if i != 3 else []
        _write_frame(d / f"f_{i}_keypoints.json", people)
    pose = openpose.read_openpose(d)
    assert pose.layout == "openpose18" and pose.num_frames == 5
    assert pose.confidence[2, 4] == 0 and (pose.confidence[3] == 0).all()
    np.testing.assert_allclose(pose.points[:, 0, 0], [0, 10, 20, 30, 40])   # big person, frame 3 interpolated
    np.testing.assert_allclose(pose.points[2, 4], [60.0, 20.0])


def test_openpose_natural_frame_order(tmp_path):
    d = tmp_path / "frames"
    d.mkdir()
    for i in (1, 2, 10):
        kp = np.column_stack([np.full(25, float(i)), np.zeros(25), np.ones(25)])
        _write_frame(d / f"clip_{i}_keypoints.json", [kp.ravel().tolist()])
    pose = openpose.read_openpose(d)
    assert pose.layout == "openpose25"
    np.testing.assert_allclose(pose.points[:, 0, 0], [1, 2, 10])


def test_openpose_bad_input(tmp_path):
    d = tmp_path / "frames"
    d.mkdir()
    with pytest.raises(ChoreoInputError, match="no OpenPose"):
        openpose.read_openpose(d)
    (d / "a.json").write_text("{not json")
    with pytest.raises(ChoreoInputError, match="a.json.*not valid JSON"):
        openpose.read_openpose(d)
    _write_frame(d / "a.json", [[1.0] * 30])
    with pytest.raises(ChoreoInputError, match="30 values"):
        openpose.read_openpose(d)
    _write_frame(d / "a.json", [])
    with pytest.raises(ChoreoInputError, match="no person"):
        openpose.read_openpose(d)
    _write_frame(d / "a.json", [[1.0] * 54])
    _write_frame(d / "b.json", [[1.0] * 75])
    with pytest.raises(ChoreoInputError, match="b.json.*75 values"):
        openpose.read_openpose(d)
    (d / "b.json").write_text(json.dumps({"frames": []}))
    with pytest.raises(ChoreoInputError, match="people"):
        openpose.read_openpose(d)


# -- Dance Revolution ------------------------------------------------------

def test_dancerevolution_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    T = 30
    dance = rng.uniform(-0.9, 0.9, (T, 274))           # body + face + hands, as released
    music = rng.normal(size=(T, 438))
    p = tmp_path / "sample.json"
    p.write_text(json.dumps({"id": "ballet_1_0", "length": T, "music_array": music.tolist(),
                             "dance_array": dance.tolist()}))
    s = dancerevolution.load_dancerevolution(p)
    assert s.id == "ballet_1_0" and s.music.shape == (T, 438) and s.pose.fps == 15.0
    assert s.pose.layout == "openpose25" and s.pose.points.shape == (T, 25, 2)
    np.testing.assert_allclose(s.pose.points[3, 8], (dance[3, 16:18] + 1) * 0.5 * np.array([1280, 720]))
    q = tmp_path / "out.json"
    dancerevolution.write_dancerevolution(q, s.pose, s.music, "x")
    back = dancerevolution.load_dancerevolution(q)
    np.testing.assert_allclose(back.pose.points, s.pose.points, atol=1e-3)
    np.testing.assert_allclose(back.music, music)
    assert load_pose2d(q).layout == "openpose25"
    # From a Motion through the BODY_25 projection.
    pose = openpose.motion_to_pose2d(_dance(T), "openpose25")
    dancerevolution.write_dancerevolution(q, pose)
    assert np.abs(json.loads(q.read_text())["dance_array"]).max() <= 1.0


def test_dancerevolution_bad_input(tmp_path):
    p = tmp_path / "s.json"
    for content, msg in (({"music_array": [[1.0]]}, "dance_array"),
                         ({"dance_array": [[0.0] * 20]}, "at least 50"),
                         ({"dance_array": [[0.0] * 50] * 3, "length": 4}, "length says 4"),
                         ({"dance_array": [[0.0] * 50] * 3, "music_array": [[0.0]] * 2}, "music_array has 2"),
                         ({"dance_array": [[0.0] * 50, [0.0] * 49]}, "rectangular")):
        p.write_text(json.dumps(content))
        with pytest.raises(ChoreoInputError, match=msg):
            dancerevolution.load_dancerevolution(p)


# -- AIST++ ----------------------------------------------------------------

def test_aist_keypoints(tmp_path):
    m = _dance(T=20)
    coco = np.zeros((20, 17, 3))
    idx = {n: i for i, n in enumerate(smaps.COCO17_NAMES)}
    for n in ("l_shoulder", "r_shoulder", "l_elbow", "r_elbow", "l_wrist", "r_wrist",
              "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle"):
        coco[:, idx[n]] = m.joints[:, sk.JOINT_INDEX[n]]
    face = smaps.smpl24_to_openpose18(m.joints)
    for n in ("nose", "l_eye", "r_eye", "l_ear", "r_ear"):
        coco[:, idx[n]] = face[:, smaps.OPENPOSE18_NAMES.index(n)]
    cm_yup = bvh.zup_to_yup(coco) * 100.0
    noisy = cm_yup.copy()
    noisy[5, 3] = np.nan
    p = tmp_path / "gBR_sBM_cAll_d04_mBR0_ch01.pkl"
    with open(p, "wb") as f:
        pickle.dump({"keypoints3d": cm_yup + 50.0, "keypoints3d_optim": noisy}, f)
    got = load_motion(p)
    assert got.fps == 60.0 and got.num_frames == 20
    for n in ("l_knee", "r_wrist", "l_ankle"):
        np.testing.assert_allclose(got.joints[:, sk.JOINT_INDEX[n]], m.joints[:, sk.JOINT_INDEX[n]], atol=1e-5)
    # Estimated joints are close to the truth on this (template) body; least so
    # the hands (extrapolated along the forearm) and the feet (COCO has no foot
    # points: placed under the ankle, missing the foot's forward reach).
    err = np.linalg.norm(got.joints - m.joints, axis=-1).max(axis=0)
    ends = [sk.JOINT_INDEX[n] for n in ("l_hand", "r_hand", "l_foot", "r_foot")]
    assert np.delete(err, ends).max() < 0.06 and err[ends].max() < 0.25, err
    raw = aist.load_aist_keypoints(p, optimized=False)
    np.testing.assert_allclose(raw.joints[:, 4], got.joints[:, 4] + bvh.yup_to_zup(np.full(3, 0.5)), atol=1e-5)


def test_aist_smpl_motion(tmp_path):
    T = 10
    poses = np.zeros((T, 72))
    poses[:, 0:3] = [0.0, np.pi / 2, 0.0]             # root turned 90 deg about SMPL's y (up)
    poses[:, 18 * 3:18 * 3 + 3] = [0.0, 0.0, 0.5]     # left elbow bent
    trans = np.column_stack([np.linspace(0, 90, T), np.full(T, 85.0), np.zeros(T)])  # cm, y up
    p = tmp_path / "motion.pkl"
    with open(p, "wb") as f:
        pickle.dump({"smpl_poses": poses, "smpl_trans": trans, "smpl_scaling": np.array([94.0]),
                     "smpl_loss": 1.6}, f)
    m = load_motion(p)
    rest = smaps.smpl_rest_joints()
    pelvis = m.joints[:, 0]
    np.testing.assert_allclose(pelvis[:, 0], np.linspace(0, 0.9, T) + 0.94 * rest[0, 0], atol=1e-6)
    np.testing.assert_allclose(pelvis[:, 2], 0.85 + 0.94 * smaps._SMPL_REST_YUP[0, 1], atol=1e-6)
    bl = sk.bone_lengths(m.joints)
    np.testing.assert_allclose(bl, np.broadcast_to(sk.bone_lengths(rest[None])[0] * 0.94, bl.shape), atol=1e-6)
    # Turned 90 deg about up: the hip line (left = +x at rest) now runs along y.
    hip = m.joints[0, 1] - m.joints[0, 2]
    assert abs(hip[0]) < 1e-6 and abs(hip[1]) > 0.1


def test_axis_angle_matches_scipy():
    aa = np.random.default_rng(3).normal(size=(50, 3))
    np.testing.assert_allclose(axis_angle_to_matrix(aa), Rotation.from_rotvec(aa).as_matrix(), atol=1e-12)


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_aist_refuses_unsafe_pickles(tmp_path, capsys):
    p = tmp_path / "evil.pkl"
    with open(p, "wb") as f:
        pickle.dump({"smpl_poses": _Evil()}, f)
    with pytest.raises(ChoreoInputError, match="builtins.print"):
        load_motion(p)
    assert "pwned" not in capsys.readouterr().out


def test_aist_bad_input(tmp_path):
    p = tmp_path / "a.pkl"
    cases = [({"smpl_poses": np.zeros((4, 72))}, "smpl_trans"),
             ({"smpl_poses": np.zeros((4, 70)), "smpl_trans": np.zeros((4, 3))}, r"\(T, 72\)"),
             ({"smpl_poses": np.zeros((4, 72)), "smpl_trans": np.zeros((3, 3))}, "3 frames"),
             ({"smpl_poses": np.zeros((4, 72)), "smpl_trans": np.zeros((4, 3)), "smpl_scaling": np.array([-1.0])}, "positive"),
             ({"keypoints3d": np.zeros((4, 16, 3))}, "17, 3"),
             ({"keypoints3d": np.full((4, 17, 3), np.nan)}, "every frame"),
             ({"other": 1}, "not an AIST"),
             ([1, 2, 3], "not an AIST")]
    for content, msg in cases:
        with open(p, "wb") as f:
            pickle.dump(content, f)
        with pytest.raises(ChoreoInputError, match=msg):
            load_motion(p)
    p.write_bytes(pickle.dumps({"keypoints3d": np.zeros((4, 17, 3))})[:40])
    with pytest.raises(ChoreoInputError, match="not a readable pickle"):
        load_motion(p)
    p.write_bytes(b"")
    with pytest.raises(ChoreoInputError, match="empty"):
        load_motion(p)
