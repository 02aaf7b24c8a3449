"""BVH reading (with forward kinematics) onto SMPL-24, and writing.

Any human skeleton is read: its joints are matched to SMPL-24 by
:mod:`..bonemap` (names, else shape), the up axis comes from the rest
skeleton and the unit from its height (:func:`bvh_to_smpl24`). Files are
written on the SMPL-24 hierarchy (:func:`write_bvh`) or, for tests, on any
named hierarchy (:func:`write_skeleton_bvh`).

Conventions, checked against Blender's own importer (``io_anim_bvh``):

* Euler angles are degrees, composed in the order the CHANNELS line lists
  them, intrinsically: ``Zrotation Yrotation Xrotation`` gives
  ``R = Rz @ Ry @ Rx`` (Blender builds ``Euler(.., 'XYZ')`` for that line,
  which is the same matrix).
* A joint's position in its parent's frame is ``OFFSET + translation
  channels``. Blender instead treats root translation channels as absolute
  positions (it subtracts the OFFSET); the two agree when the root OFFSET is
  zero, which is how :func:`write_bvh` writes files.
* BVH files are usually y up. Choreo is z up: ``(x, y, z)_zup = (x, -z, y)_yup``,
  the same conversion as Blender's importer defaults (axis_forward='-Z',
  axis_up='Y'); files with another up axis are turned likewise (:func:`to_zup`).

:func:`write_bvh` writes metres, y up, so Blender's importer with its defaults
(global_scale=1, axis_forward='-Z', axis_up='Y') gives back the motion in
metres, z up, with bone heads on the joint positions.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import bonemap
from .. import skeleton as sk
from .. import skeleton_maps as smaps
from ..errors import ChoreoInputError
from ..fileio import atomic_path
from ..motion import Motion
from ..rotations import rotation_between

_AXES = {"x": 0, "y": 1, "z": 2}
_POS = ("xposition", "yposition", "zposition")
_ROT = ("xrotation", "yrotation", "zrotation")


@dataclass
class BVH:
    """A parsed BVH file.

    Attributes
    ----------
    names : list of str
        Joint names in file order (parents come before children).
    parents : list of int
        Parent index per joint, -1 for the root.
    offsets : np.ndarray, shape (J, 3)
        OFFSET of each joint in its parent's frame, file units, y up.
    channels : list of list of str
        Lower-cased channel names per joint, in file order.
    frame_time : float
        Seconds per frame.
    values : np.ndarray, shape (F, C)
        The MOTION data, one row per frame.
    end_sites : dict
        Joint index -> End Site OFFSET.
    """

    names: list[str]
    parents: list[int]
    offsets: np.ndarray
    channels: list[list[str]]
    frame_time: float
    values: np.ndarray
    end_sites: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def fps(self) -> float:
        """Frames per second; snapped to a whole number within 0.01 fps, since
        Frame Time is usually written with 6 decimals (0.016667 -> 60, not 59.9988)."""
        fps = 1.0 / self.frame_time
        return float(round(fps)) if abs(fps - round(fps)) < 0.01 else fps

    @property
    def num_frames(self) -> int:
        return int(self.values.shape[0])

    def channel_start(self) -> list[int]:
        """Column of each joint's first channel in :attr:`values`."""
        out, c = [], 0
        for ch in self.channels:
            out.append(c)
            c += len(ch)
        return out


# -- parsing ---------------------------------------------------------------

def _float(tok: str, path, line: int, what: str) -> float:
    try:
        v = float(tok)
    except ValueError:
        raise ChoreoInputError(path, f"line {line}: {what} {tok!r} is not a number") from None
    if not math.isfinite(v):
        raise ChoreoInputError(path, f"line {line}: {what} is {tok}, not a finite number")
    return v


def read_bvh(path: str | os.PathLike) -> BVH:
    """Parse a BVH file.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    BVH

    Raises
    ------
    ChoreoInputError
        For an unreadable or malformed file, naming the line where it can.
    """
    try:
        text = Path(path).read_text(encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise ChoreoInputError(path, "not a text file (BVH is plain text)") from None
    except OSError as e:
        raise ChoreoInputError(path, f"cannot read: {e.strerror or e}") from None
    lines = text.splitlines()
    if not text.strip():
        raise ChoreoInputError(path, "file is empty")

    # Tokens of the hierarchy with their 1-based line numbers, up to MOTION.
    toks: list[tuple[str, int]] = []
    motion_line = None
    for i, ln in enumerate(lines):
        parts = ln.split()
        if parts and parts[0].upper() == "MOTION":
            motion_line = i
            break
        toks.extend((p, i + 1) for p in parts)
    if not toks or toks[0][0].upper() != "HIERARCHY":
        raise ChoreoInputError(path, "does not start with HIERARCHY (not a BVH file)")

    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[list[str]] = []
    end_sites: dict[int, np.ndarray] = {}
    stack: list[int] = []  # joint indices; -2 marks an End Site block
    pos = 1
    n = len(toks)

    def expect(k: int, what: str) -> tuple[str, int]:
        if k >= n:
            raise ChoreoInputError(path, f"hierarchy ends early: expected {what} "
                                         f"(unbalanced braces or missing MOTION?)")
        return toks[k]

    pending: tuple[str, int] | None = None  # (kind, line) awaiting '{'
    while pos < n:
        tok, line = toks[pos]
        key = tok.upper()
        if key in ("ROOT", "JOINT"):
            if key == "ROOT" and (stack or names):
                raise ChoreoInputError(path, f"line {line}: a second ROOT (only one skeleton is supported)")
            if key == "JOINT" and not stack:
                raise ChoreoInputError(path, f"line {line}: JOINT outside any ROOT")
            # The name is the rest of the line: 3ds Max writes "JOINT Bip01 L Thigh".
            end = pos + 1
            while end < n and toks[end][1] == line and toks[end][0] != "{":
                end += 1
            name = " ".join(t for t, _ in toks[pos + 1:end]) if end > pos + 1 else expect(pos + 1, "a joint name")[0]
            names.append(name)
            parents.append(stack[-1] if stack else -1)
            offsets.append([0.0, 0.0, 0.0])
            channels.append([])
            pending = ("joint", line)
            pos = max(end, pos + 2)
        elif key == "END":
            site, _ = expect(pos + 1, "'Site'")
            if site.upper() != "SITE" or not stack or stack[-1] < 0:
                raise ChoreoInputError(path, f"line {line}: misplaced End Site")
            pending = ("end", line)
            pos += 2
        elif tok == "{":
            if pending is None:
                raise ChoreoInputError(path, f"line {line}: '{{' without a ROOT, JOINT or End Site before it")
            stack.append(len(names) - 1 if pending[0] == "joint" else -2 - stack[-1])
            pending = None
            pos += 1
        elif tok == "}":
            if not stack:
                raise ChoreoInputError(path, f"line {line}: unbalanced braces (extra '}}')")
            stack.pop()
            pos += 1
            if not stack and pos < n:
                raise ChoreoInputError(path, f"line {toks[pos][1]}: unbalanced braces: text after the root joint's closing brace")
        elif key == "OFFSET":
            if not stack:
                raise ChoreoInputError(path, f"line {line}: OFFSET outside a joint")
            vals = [_float(expect(pos + k, "three OFFSET values")[0], path, line, "OFFSET value")
                    for k in (1, 2, 3)]
            if stack[-1] >= 0:
                offsets[stack[-1]] = vals
            else:
                end_sites[-2 - stack[-1]] = np.array(vals)
            pos += 4
        elif key == "CHANNELS":
            if not stack or stack[-1] < 0:
                raise ChoreoInputError(path, f"line {line}: CHANNELS outside a joint")
            cnt_tok, _ = expect(pos + 1, "a channel count")
            if not cnt_tok.isdigit():
                raise ChoreoInputError(path, f"line {line}: channel count {cnt_tok!r} is not a number")
            cnt = int(cnt_tok)
            chs = [expect(pos + 2 + k, f"{cnt} channel names")[0].lower() for k in range(cnt)]
            bad = [c for c in chs if c not in _POS + _ROT]
            if bad:
                raise ChoreoInputError(path, f"line {line}: unknown channel {bad[0]!r}")
            if len(set(chs)) != len(chs):
                raise ChoreoInputError(path, f"line {line}: a channel is listed twice")
            channels[stack[-1]] = chs
            pos += 2 + cnt
        else:
            raise ChoreoInputError(path, f"line {line}: unexpected {tok!r} in the hierarchy")
    if stack or pending:
        raise ChoreoInputError(path, "unbalanced braces: the hierarchy is not closed before MOTION")
    if not names:
        raise ChoreoInputError(path, "the hierarchy has no ROOT joint")
    if motion_line is None:
        raise ChoreoInputError(path, "no MOTION section")

    # MOTION header.
    def header(k: int, label: str) -> str:
        if k >= len(lines):
            raise ChoreoInputError(path, f"MOTION section ends before its {label!r} line")
        ln = lines[k].strip()
        if not ln.lower().startswith(label.lower()):
            raise ChoreoInputError(path, f"line {k + 1}: expected {label!r}, found {ln[:40]!r}")
        return ln[len(label):].strip()

    frames_tok = header(motion_line + 1, "Frames:")
    if not frames_tok.isdigit():
        raise ChoreoInputError(path, f"line {motion_line + 2}: frame count {frames_tok!r} is not a whole number")
    n_frames = int(frames_tok)
    frame_time = _float(header(motion_line + 2, "Frame Time:"), path, motion_line + 3, "Frame Time")
    if frame_time <= 0:
        raise ChoreoInputError(path, f"line {motion_line + 3}: Frame Time must be positive")

    n_ch = sum(len(c) for c in channels)
    first = motion_line + 3
    data = [ln for ln in lines[first:]]
    while data and not data[-1].strip():
        data.pop()
    if len(data) != n_frames:
        raise ChoreoInputError(path, f"Frames: says {n_frames} but there are {len(data)} data lines"
                                     + (" (file truncated?)" if len(data) < n_frames else ""))
    if n_frames == 0:
        raise ChoreoInputError(path, "MOTION section has no frames")
    rows = [ln.split() for ln in data]
    for k, r in enumerate(rows):
        if len(r) != n_ch:
            raise ChoreoInputError(path, f"line {first + k + 1}: {len(r)} values, the hierarchy declares {n_ch} channels")
    try:
        values = np.array(rows, dtype=np.float64)
    except ValueError:
        for k, r in enumerate(rows):
            for t in r:
                _float(t, path, first + k + 1, "value")
        raise
    if not np.isfinite(values).all():
        k = int(np.argwhere(~np.isfinite(values))[0, 0])
        raise ChoreoInputError(path, f"line {first + k + 1}: value is not a finite number (NaN or inf)")
    return BVH(names, parents, np.asarray(offsets, dtype=np.float64), channels, frame_time,
               values.reshape(n_frames, n_ch), end_sites)


# -- forward kinematics ----------------------------------------------------

def _axis_rotation(axis: int, angle: np.ndarray) -> np.ndarray:
    """Rotation matrices (F, 3, 3) about a coordinate axis by ``angle`` radians."""
    c, s = np.cos(angle), np.sin(angle)
    m = np.zeros(angle.shape + (3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    m[..., axis, axis] = 1.0
    m[..., i, i] = c
    m[..., j, j] = c
    m[..., i, j] = -s
    m[..., j, i] = s
    return m


def local_rotations(bvh: BVH) -> np.ndarray:
    """Local rotation matrices (F, J, 3, 3) from the Euler channels, in written order."""
    F, J = bvh.num_frames, len(bvh.names)
    out = np.broadcast_to(np.eye(3), (F, J, 3, 3)).copy()
    starts = bvh.channel_start()
    for j, chs in enumerate(bvh.channels):
        r = None
        for k, c in enumerate(chs):
            if c in _ROT:
                m = _axis_rotation(_AXES[c[0]], np.radians(bvh.values[:, starts[j] + k]))
                r = m if r is None else r @ m
        if r is not None:
            out[:, j] = r
    return out


def forward_kinematics(bvh: BVH) -> tuple[np.ndarray, np.ndarray]:
    """Global joint positions and rotations of every frame.

    Returns
    -------
    positions : np.ndarray, shape (F, J, 3)
        File units, file axes (y up).
    rotations : np.ndarray, shape (F, J, 3, 3)
        Global rotation of each joint's frame.
    """
    F, J = bvh.num_frames, len(bvh.names)
    rot_local = local_rotations(bvh)
    starts = bvh.channel_start()
    pos = np.zeros((F, J, 3))
    rot = np.empty((F, J, 3, 3))
    for j in range(J):
        local = np.broadcast_to(bvh.offsets[j], (F, 3)).copy()
        for k, c in enumerate(bvh.channels[j]):
            if c in _POS:
                local[:, _AXES[c[0]]] += bvh.values[:, starts[j] + k]
        p = bvh.parents[j]
        if p < 0:
            pos[:, j] = local
            rot[:, j] = rot_local[:, j]
        else:
            pos[:, j] = pos[:, p] + np.einsum("fij,fj->fi", rot[:, p], local)
            rot[:, j] = rot[:, p] @ rot_local[:, j]
    return pos, rot


def yup_to_zup(points: np.ndarray) -> np.ndarray:
    """(x, y, z) y-up -> (x, -z, y) z-up, Blender's BVH import default."""
    p = np.asarray(points)
    return np.stack([p[..., 0], -p[..., 2], p[..., 1]], axis=-1)


def zup_to_yup(points: np.ndarray) -> np.ndarray:
    """Inverse of :func:`yup_to_zup`: (x, y, z) z-up -> (x, z, -y) y-up."""
    p = np.asarray(points)
    return np.stack([p[..., 0], p[..., 2], -p[..., 1]], axis=-1)


# -- to Motion -------------------------------------------------------------

#: Metres per file unit of the units a BVH may be written in.
UNITS = {"m": 1.0, "dm": 0.1, "cm": 0.01, "in": 0.0254, "mm": 0.001}
# Choreo's z-up coordinates from a file's, per up axis: out[i] = sign[i] * p[perm[i]]
# (a proper rotation; +y is Blender's BVH import default, yup_to_zup).
_TO_ZUP = {"+y": ((0, 2, 1), (1, -1, 1)), "-y": ((0, 2, 1), (1, 1, -1)),
           "+z": ((0, 1, 2), (1, 1, 1)), "-z": ((0, 1, 2), (1, -1, -1)),
           "+x": ((2, 1, 0), (-1, 1, 1)), "-x": ((2, 1, 0), (1, 1, -1))}


def rest_positions(bvh: BVH) -> np.ndarray:
    """Joint positions (J, 3) of the rest skeleton (all channels zero), file units and axes."""
    rest = np.zeros((len(bvh.names), 3))
    for j, p in enumerate(bvh.parents):
        rest[j] = bvh.offsets[j] + (rest[p] if p >= 0 else 0.0)
    return rest


def _chain_height(joints: np.ndarray) -> float:
    """Head -> spine -> pelvis -> hip -> knee -> ankle along the bones of an SMPL-24
    skeleton (24, 3), legs averaged: a standing height that ignores the pose."""
    ix = sk.JOINT_INDEX
    def along(chain):  # noqa: E306
        return sum(float(np.linalg.norm(joints[ix[a]] - joints[ix[b]])) for a, b in zip(chain, chain[1:]))
    trunk = along(("head", "neck", "spine3", "spine2", "spine1", "pelvis"))
    return trunk + 0.5 * sum(along(("pelvis", f"{s}_hip", f"{s}_knee", f"{s}_ankle")) for s in "lr")


def _guess_scale(rest: np.ndarray) -> float:
    """Metres per file unit: the unit of :data:`UNITS` that makes the rest skeleton
    (SMPL-24, file units) closest to the SMPL template's height, on a log scale."""
    ratio = _chain_height(rest) / _chain_height(smaps.smpl_rest_joints())
    return min(UNITS.values(), key=lambda u: abs(math.log(max(ratio * u, 1e-12))))


def up_axis(rest: np.ndarray) -> str:
    """The file axis nearest the pelvis -> head direction of a rest SMPL-24 skeleton: "+y", "-z", ..."""
    d = rest[sk.JOINT_INDEX["head"]] - rest[sk.JOINT_INDEX["pelvis"]]
    k = int(np.argmax(np.abs(d)))
    return ("+" if d[k] >= 0 else "-") + "xyz"[k]


def to_zup(points: np.ndarray, up: str) -> np.ndarray:
    """Points of a file whose up axis is ``up`` ("+y", ...) in Choreo's z-up axes;
    "+y" is :func:`yup_to_zup` (a y-up file faces +z, so the body faces -y)."""
    perm, sign = _TO_ZUP[up]
    p = np.asarray(points)
    return np.stack([sign[i] * p[..., perm[i]] for i in range(3)], axis=-1)


def _skeleton_source(names: list[str]) -> str | None:
    have = set(names)
    for src in ("smpl24", "cc_base"):
        if set(smaps.SOURCES[src].joint_names) <= have:
            return src
    return None


def skeleton_weights(bvh: BVH, path=None) -> tuple[np.ndarray, str]:
    """Weights (24, J) placing SMPL-24 on a BVH's joints, and how they were found.

    SMPL-24 and CC_Base use their :mod:`.skeleton_maps` tables; any other
    skeleton is mapped by joint names (:func:`..bonemap.match_names`), else by
    its tree and rest pose (:func:`..bonemap.match_geometry`, kind "geometry").

    Raises
    ------
    ChoreoInputError
        Naming the core SMPL joints neither way could place.
    """
    src = _skeleton_source(bvh.names)
    if src is not None:
        w = np.zeros((sk.NUM_JOINTS, len(bvh.names)))
        w[:, smaps.source_indices(src, bvh.names)] = smaps.SOURCES[src].weights
        return w, src
    kind, j2b = bonemap.match_names(bvh.names, bvh.parents)
    missing = bonemap.core_missing(j2b)
    if missing:
        geo = bonemap.match_geometry(bvh.names, bvh.parents, rest_positions(bvh))
        if bonemap.core_missing(geo):
            shown = ", ".join(bvh.names[:24]) + (f", ... ({len(bvh.names)} in all)" if len(bvh.names) > 24 else "")
            raise ChoreoInputError(path, f"unknown skeleton: could not place {', '.join(missing)} "
                                         f"(joints found: {shown})")
        kind, j2b = "geometry", geo
    return bonemap.position_weights(bvh.names, j2b)[0], kind


def is_tpose(joints: np.ndarray) -> bool:
    """Whether an SMPL-24 pose (24, 3), z up, is a reference T-pose.

    True when both arms are straight and horizontal (each wrist within 15 %
    of the arm's length of the shoulder's height and the wrists spread to at
    least 90 % of the outstretched span) and the legs are straight under the
    hips.
    """
    g = lambda n: joints[sk.JOINT_INDEX[n]]  # noqa: E731
    span = np.linalg.norm(g("l_wrist") - g("r_wrist"))
    arm = sum(np.linalg.norm(g(f"{s}_{a}") - g(f"{s}_{b}"))
              for s in "lr" for a, b in (("shoulder", "elbow"), ("elbow", "wrist"))) / 2
    full = np.linalg.norm(g("l_shoulder") - g("r_shoulder")) + 2 * arm
    level = all(abs(g(f"{s}_wrist")[2] - g(f"{s}_shoulder")[2]) < 0.15 * arm for s in "lr")
    legs = all(np.linalg.norm(g(f"{s}_ankle") - g(f"{s}_hip"))
               > 0.95 * (np.linalg.norm(g(f"{s}_knee") - g(f"{s}_hip"))
                         + np.linalg.norm(g(f"{s}_ankle") - g(f"{s}_knee"))) for s in "lr")
    return bool(span > 0.9 * full and level and legs)


def leading_tpose(joints: np.ndarray) -> bool:
    """Whether frame 0 of (T, 24, 3) is a prepended T-pose, not motion.

    It must look like a T-pose (:func:`is_tpose`) and be discontinuous with
    frame 1: its mean joint jump is over 5 cm and over ten times the median
    frame-to-frame movement of the rest of the clip.
    """
    if len(joints) < 3 or not is_tpose(joints[0]):
        return False
    steps = np.linalg.norm(np.diff(joints, axis=0), axis=-1).mean(axis=1)
    return bool(steps[0] > 0.05 and steps[0] > 10 * np.median(steps[1:]))


def bvh_to_smpl24(bvh: BVH, scale: float | None = None, path=None) -> np.ndarray:
    """SMPL-24 joint positions (F, 24, 3) in metres, z up, from a parsed BVH.

    The skeleton is mapped by :func:`skeleton_weights`; the up axis is read
    from the rest skeleton (:func:`up_axis`) and the unit guessed from its
    height (:func:`_guess_scale`) unless ``scale`` (metres per unit) is given.
    """
    w, _ = skeleton_weights(bvh, path)
    rest = w @ rest_positions(bvh)
    scale = _guess_scale(rest) if scale is None else float(scale)
    used = np.flatnonzero(w.any(axis=0))
    pos, _ = forward_kinematics(bvh)
    return to_zup(np.einsum("sj,...jd->...sd", w[:, used], pos[:, used]), up_axis(rest)) * scale


def load_bvh_motion(path: str | os.PathLike, scale: float | None = None,
                    drop_tpose: bool | None = None) -> Motion:
    """Load a BVH file as a :class:`Motion` on SMPL-24 (metres, z up, native fps).

    Parameters
    ----------
    path : str or path-like
        A BVH of any human skeleton: SMPL-24 (e.g. written by :func:`write_bvh`),
        Reallusion's CC_Base rig (the CMU set in ../shared/data), the mocap
        naming schemes :mod:`..bonemap` knows, or unknown names mapped by shape;
        y up or any other axis.
    scale : float, optional
        Metres per file unit; when None, the unit (m, dm, cm, in, mm) giving
        a plausible standing height.
    drop_tpose : bool, optional
        Drop frame 0 when it is a prepended T-pose. None detects it
        (:func:`leading_tpose`); True/False force it.
    """
    bvh = read_bvh(path)
    joints = bvh_to_smpl24(bvh, scale, path)
    if drop_tpose is None:
        drop_tpose = leading_tpose(joints)
    if drop_tpose and len(joints) > 1:
        joints = joints[1:]
    return Motion(joints, fps=bvh.fps)


# -- writing ---------------------------------------------------------------

def _unit(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(n, 1e-12), n[..., 0]


def best_rotation(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Rotations R (T, 3, 3) minimising sum_k |R src_k - dst_k|^2 (Kabsch).

    ``src`` is (K, 3) (rest vectors), ``dst`` (T, K, 3) (posed vectors).
    """
    h = np.einsum("ki,tkj->tij", src, dst)
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(np.swapaxes(vt, -1, -2) @ np.swapaxes(u, -1, -2)))
    d[d == 0] = 1.0
    fix = np.ones(u.shape[:-1])
    fix[..., -1] = d
    return np.swapaxes(vt, -1, -2) @ (fix[..., :, None] * np.swapaxes(u, -1, -2))


def euler_zyx(r: np.ndarray) -> np.ndarray:
    """Angles (T, 3) in degrees, (z, y, x), with ``r = Rz @ Ry @ Rx``; unwrapped over time."""
    y = np.arctan2(-r[..., 2, 0], np.hypot(r[..., 0, 0], r[..., 1, 0]))
    z = np.arctan2(r[..., 1, 0], r[..., 0, 0])
    x = np.arctan2(r[..., 2, 1], r[..., 2, 2])
    # Gimbal lock (y = +-90 deg): put all of the remaining rotation in z.
    lock = np.hypot(r[..., 0, 0], r[..., 1, 0]) < 1e-9
    if lock.any():
        x[lock] = 0.0
        z[lock] = np.arctan2(-r[lock][..., 0, 1], r[lock][..., 1, 1])
    ang = np.stack([z, y, x], axis=-1)
    return np.degrees(np.unwrap(ang, axis=0))


def _sibling_frames(vectors: np.ndarray, kids: list[int]) -> np.ndarray:
    """Orthonormal frames (T, 3, 3), columns = axes, from a joint's child vectors.

    ``vectors`` is (T, 24, 3) of child - joint. The first axis runs from the
    right child to the left one (r_hip -> l_hip, r_collar -> l_collar), the
    second towards the middle child (spine1, neck), orthogonalised.
    """
    names = [sk.JOINT_NAMES[k] for k in kids]
    left = kids[[i for i, n in enumerate(names) if n.startswith("l_")][0]]
    right = kids[[i for i, n in enumerate(names) if n.startswith("r_")][0]]
    mid = kids[[i for i, n in enumerate(names) if not n[:2] in ("l_", "r_")][0]]
    x = _unit(vectors[..., left, :] - vectors[..., right, :])[0]
    v = vectors[..., mid, :]
    y = _unit(v - np.sum(v * x, axis=-1, keepdims=True) * x)[0]
    return np.stack([x, y, np.cross(x, y)], axis=-1)


def rest_offsets(joints: np.ndarray) -> np.ndarray:
    """Rest offsets (24, 3) of a clip, in the clip's axes.

    Single children: the SMPL template's T-pose direction with the clip's
    median bone length. Children of the pelvis and spine3: their median layout
    relative to each other, turned into the template's orientation, so that a
    clip whose hips and shoulders keep their layout is reproduced exactly.
    """
    tmpl = smaps.smpl_rest_offsets()
    lengths = np.median(sk.bone_lengths(joints), axis=0)
    out = np.zeros_like(tmpl)
    out[1:] = _unit(tmpl[1:])[0] * lengths[:, None]
    parents = np.asarray(sk.PARENTS)
    vec = np.zeros_like(joints)
    vec[:, 1:] = joints[:, 1:] - joints[:, parents[1:]]
    for j in range(sk.NUM_JOINTS):
        kids = [c for c in range(sk.NUM_JOINTS) if sk.PARENTS[c] == j]
        if len(kids) < 3:
            continue
        frames = _sibling_frames(vec, kids)                       # (T, 3, 3)
        layout = np.median(np.einsum("tji,tkj->tki", frames, vec[:, kids]), axis=0)
        out[kids] = layout @ _sibling_frames(tmpl, kids).T
    return out


def _children(parents) -> dict[int, list[int]]:
    return {j: [c for c in range(len(parents)) if parents[c] == j] for j in range(len(parents))}


def solve_rotations(joints: np.ndarray, offsets: np.ndarray, parents=sk.PARENTS) -> np.ndarray:
    """Local rotations (T, J, 3, 3) that pose a rest skeleton onto ``joints``.

    Parameters
    ----------
    joints : np.ndarray, shape (T, J, 3)
        Target positions; a joint whose targets are NaN has none (finger,
        twist and end joints just follow their parent).
    offsets : np.ndarray, shape (J, 3)
        Rest offset of each joint from its parent, same axes.
    parents : sequence of int
        Parent of each joint (parents first), SMPL-24's by default.

    Each joint with one targeted child gets the swing that turns the child's
    rest offset onto the posed bone, in the parent's posed frame (no twist).
    Joints with several (pelvis, spine3) get the best-fit rotation of all
    their children's offsets, exact when the children keep their rest layout.
    Other joints keep the identity.
    """
    T, J = joints.shape[0], len(parents)
    children = _children(parents)
    aimed = np.isfinite(joints).all(axis=(0, 2))
    at = np.array(joints, dtype=np.float64)     # targets, or where FK puts untargeted joints
    glob = np.empty((T, J, 3, 3))
    local = np.broadcast_to(np.eye(3), (T, J, 3, 3)).copy()
    for j in range(J):
        p = parents[j]
        gp = np.broadcast_to(np.eye(3), (T, 3, 3)) if p < 0 else glob[:, p]
        if not aimed[j]:
            at[:, j] = (0.0 if p < 0 else at[:, p]) + gp @ offsets[j]
        kids = [c for c in children[j] if aimed[c]]
        if len(kids) == 1:
            c = kids[0]
            d = np.einsum("tji,tj->ti", gp, at[:, c] - at[:, j])
            local[:, j] = rotation_between(offsets[c], d)
        elif kids:
            g = best_rotation(offsets[kids], at[:, kids] - at[:, j:j + 1])
            local[:, j] = np.swapaxes(gp, -1, -2) @ g
        glob[:, j] = gp @ local[:, j]
    return local


def _hierarchy_text(names, parents, offsets: np.ndarray, end_sites: dict[int, np.ndarray],
                    moving=(0,)) -> list[str]:
    children = _children(parents)
    out = ["HIERARCHY"]

    def emit(j: int, depth: int) -> None:
        ind = "\t" * depth
        out.append(f"{ind}{'ROOT' if parents[j] < 0 else 'JOINT'} {names[j]}")
        out.append(ind + "{")
        o = offsets[j]
        out.append(f"{ind}\tOFFSET {o[0]:.6f} {o[1]:.6f} {o[2]:.6f}")
        if j in moving:
            out.append(f"{ind}\tCHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation")
        else:
            out.append(f"{ind}\tCHANNELS 3 Zrotation Yrotation Xrotation")
        for c in children[j]:
            emit(c, depth + 1)
        if not children[j]:
            e = end_sites[j]
            out.extend([f"{ind}\tEnd Site", f"{ind}\t{{", f"{ind}\t\tOFFSET {e[0]:.6f} {e[1]:.6f} {e[2]:.6f}", f"{ind}\t}}"])
        out.append(ind + "}")

    emit(0, 0)
    return out


def _dfs_order(parents) -> list[int]:
    children = _children(parents)
    order, stack = [], [0]
    while stack:
        j = stack.pop()
        order.append(j)
        stack.extend(reversed(children[j]))
    return order


def _write_text(path, lines: list[str], data: np.ndarray, num_frames: int, fps: float) -> None:
    lines = lines + ["MOTION", f"Frames: {num_frames}", f"Frame Time: {1.0 / fps:.8f}"]
    fmt = " ".join(["%.6f"] * data.shape[1])
    body = "\n".join(fmt % tuple(row) for row in data)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="ascii") as f:
        f.write("\n".join(lines) + "\n" + body + "\n")


def write_skeleton_bvh(path: str | os.PathLike, names, parents, offsets: np.ndarray,
                       targets: np.ndarray, fps: float, moving=(0,)) -> None:
    """Write a motion on any named hierarchy as BVH, e.g. to test importers.

    Parameters
    ----------
    names, parents : sequences
        Joint names and parent indices (-1 for the root, parents first).
    offsets : np.ndarray, shape (J, 3)
        Rest OFFSETs, in the file's units and axes (any up axis). A moving
        joint's OFFSET is where its translation channels start from.
    targets : np.ndarray, shape (T, J, 3)
        Joint positions per frame, same units and axes; NaN for joints without
        a target (they follow their parent, see :func:`solve_rotations`).
    moving : sequence of int
        Joints with translation channels (the root, plus e.g. the hips under a
        fixed "Reference" root); their targets are needed.
    """
    targets = np.asarray(targets, dtype=np.float64)
    local = solve_rotations(targets, offsets, parents)
    glob = np.empty_like(local)
    for j, p in enumerate(parents):
        glob[:, j] = local[:, j] if p < 0 else glob[:, p] @ local[:, j]
    cols = []
    for j in _dfs_order(parents):
        if j in moving:
            p = parents[j]
            rel = targets[:, j] - (0.0 if p < 0 else targets[:, p])
            rel = rel if p < 0 else np.einsum("tji,tj->ti", glob[:, p], rel)
            cols.append(rel - offsets[j])
        cols.append(euler_zyx(local[:, j]))
    children = _children(parents)
    end_sites = {j: np.zeros(3) for j in range(len(parents)) if not children[j]}
    lines = _hierarchy_text(names, parents, offsets, end_sites, moving)
    _write_text(path, lines, np.concatenate(cols, axis=1), len(targets), fps)


def write_bvh(motion: Motion, path: str | os.PathLike) -> None:
    """Write a :class:`Motion` as a BVH on the SMPL-24 hierarchy.

    Units are metres and the file is y up (``(x, y, z)_bvh = (x, z, -y)``
    of Choreo's z up), so Blender's BVH importer with its defaults
    (global_scale 1, forward -Z, up Y) restores metres, z up. The root
    (pelvis) has OFFSET 0 and 6 channels holding its position; every other
    joint has 3 rotation channels, ``Zrotation Yrotation Xrotation``. Rest
    offsets use the clip's median bone lengths in the SMPL template's T-pose
    directions (:func:`rest_offsets`), so joint positions are reproduced
    exactly for motions whose bones keep their lengths (and whose pelvis and
    chest keep their children's layout); otherwise bone directions are kept.
    The file is written atomically.
    """
    joints = motion.joints.astype(np.float64)
    if not np.isfinite(joints).all():
        raise ChoreoInputError(path, "motion has NaN or infinite joint positions; nothing written")
    offsets = zup_to_yup(rest_offsets(joints))
    jy = zup_to_yup(joints)
    local = solve_rotations(jy, offsets)
    tmpl = zup_to_yup(smaps.smpl_rest_offsets())
    end_sites = {}
    for j in range(sk.NUM_JOINTS):
        if j not in sk.PARENTS:
            d = _unit(tmpl[j])[0]
            end_sites[j] = d * max(0.3 * np.linalg.norm(offsets[j]), 0.05)
    cols = [jy[:, 0]] + [euler_zyx(local[:, j]) for j in _dfs_order(sk.PARENTS)]
    lines = _hierarchy_text(sk.JOINT_NAMES, sk.PARENTS, offsets, end_sites)
    _write_text(path, lines, np.concatenate(cols, axis=1), motion.num_frames, motion.fps)
