"""Motion readers and writers: BVH, OpenPose JSON, Dance Revolution JSON, AIST++, npz.

:func:`load_motion` and :func:`save_motion` pick the format from the file:

======================  =========================================  ==========
extension               contents                                   read/write
======================  =========================================  ==========
``.bvh``                any human skeleton (read): SMPL-24,        both
                        CC_Base, CMU/Truebones, Bandai-Namco,
                        Mixamo, Rokoko, Xsens MVN, Perception
                        Neuron, OptiTrack, Biped, HumanIK names
                        or unknown names by shape; any unit and
                        up axis (docs/retarget.md). Written:
                        SMPL-24, metres, y up
``.npz``                Choreo interchange (:mod:`.npz`)           both
``.pkl``                AIST++ keypoints3d or motions              read
======================  =========================================  ==========

2D sources (OpenPose frame directories, Dance Revolution ``.json``) are pose
sequences, not 3D motions: read them with :func:`load_pose2d`.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ChoreoInputError
from ..motion import Motion

MOTION_EXTENSIONS = (".bvh", ".npz", ".pkl")


def load_motion(path: str | os.PathLike) -> Motion:
    """Load a 3D motion file as a :class:`Motion` (SMPL-24, metres, z up)."""
    p = Path(path)
    if not p.exists():
        raise ChoreoInputError(p, "no such file")
    ext = p.suffix.lower()
    if ext == ".bvh":
        from .bvh import load_bvh_motion
        return load_bvh_motion(p)
    if ext == ".npz":
        from .npz import load_npz_motion
        return load_npz_motion(p)
    if ext in (".pkl", ".pickle"):
        from .aist import load_aist
        return load_aist(p)
    if ext == ".json" or p.is_dir():
        raise ChoreoInputError(p, "holds 2D poses, not a 3D motion; read it with load_pose2d "
                                  "(or lift it to 3D first)")
    with open(p, "rb") as f:
        head = f.read(16)
    if head.lstrip().upper().startswith(b"HIERARCHY"):
        from .bvh import load_bvh_motion
        return load_bvh_motion(p)
    if head.startswith(b"PK"):
        from .npz import load_npz_motion
        return load_npz_motion(p)
    raise ChoreoInputError(p, f"unknown motion format {ext or '(no extension)'}; "
                              f"expected one of {', '.join(MOTION_EXTENSIONS)}")


def save_motion(motion: Motion, path: str | os.PathLike) -> None:
    """Write ``motion`` as ``.bvh`` or ``.npz`` (chosen by extension), atomically."""
    ext = Path(path).suffix.lower()
    if ext == ".bvh":
        from .bvh import write_bvh
        return write_bvh(motion, path)
    if ext == ".npz":
        from .npz import save_npz_motion
        return save_npz_motion(motion, path)
    raise ChoreoInputError(path, f"cannot write motion as {ext or '(no extension)'}; use .bvh or .npz")


def load_pose2d(path: str | os.PathLike, fps: float | None = None):
    """Load a 2D pose sequence: an OpenPose frame directory (or one frame file)
    or a Dance Revolution sample ``.json``; returns an :class:`openpose.Pose2D`."""
    import json

    from .dancerevolution import load_dancerevolution
    from .openpose import read_openpose

    p = Path(path)
    if p.is_dir():
        return read_openpose(p, fps=fps or 30.0)
    if p.suffix.lower() == ".json" and p.is_file():
        try:
            with open(p, encoding="utf-8") as f:
                is_dr = '"dance_array"' in f.read(1 << 20)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            is_dr = False
        if is_dr:
            pose = load_dancerevolution(p).pose
            if fps:
                pose.fps = float(fps)
            return pose
        return read_openpose(p, fps=fps or 30.0)
    raise ChoreoInputError(p, "not a 2D pose source (OpenPose directory or .json)")
