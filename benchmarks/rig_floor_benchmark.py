"""Rig floor benchmark: do the retargeted rigs stand on the floor, and how far
is each joint from the dance?

Run: ``.venv/bin/python benchmarks/rig_floor_benchmark.py [--song FILE] [--seconds 20]
[--seed 0] [--take 005_05] [--json OUT]``

Two dances: a generated one (``generate_dance`` on ``--song``, default
``../shared/data/music/mma03_softrock.ogg``, else the demo track; first
``--seconds`` s, ``--seed``) and a real CMU take (``../shared/data/mocap/cmu``,
subject 5). Rigs: the default rig with its mannequin mesh, and the test rigs
of :mod:`choreo.rigs.testrigs` (Mixamo as the FBX importer brings it, SMPL,
Rigify's metarig), which have no mesh. Each dance is retargeted
(:func:`choreo.rigs.retarget.retarget`, feet planted), posed in Blender frame by
frame, and measured in world space:

- ``below``: fraction of frames whose lowest point is more than 1 cm under
  the floor (the plane z = armature origin height, where the dance's feet
  stand). Lowest point: the depsgraph-evaluated mesh vertex; without a mesh,
  the lowest head or tail of the deform bones among the mapped bones and
  their descendants;
- ``median`` / ``min``: lowest-point height (cm) over all frames;
- ``contact``: fraction of the dance's foot-contact frames
  (:func:`choreo.core.cleanup.contacts.foot_contacts`, either foot) whose
  lowest point is within 2 cm of the floor;
- per-joint retarget error (``RigAnimation.error``, world cm, mean over
  frames) for each mapped SMPL joint, and the mean over all of them.

Every figure is measured when run; nothing is hard-coded.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO.parent))  # so `import choreo` works from a plain checkout
SHARED = REPO.parent / "shared" / "data"

from choreo.core import skeleton as sk  # noqa: E402
from choreo.rigs.floor import rig_floor_figures  # noqa: E402


def generated_motion(song: Path | None, seconds: float, seed: int):
    from choreo.core.generation.pipeline import generate_dance

    with tempfile.TemporaryDirectory(prefix="choreo_floor_") as tmp:
        if song is None or not song.is_file():
            from choreo.core.audio.demo import write_demo_wav

            song = Path(tmp) / "demo.wav"
            write_demo_wav(song, bars=max(2, int(seconds * 118 / 240) + 1))
        return generate_dance(song, seed=seed, start=0.0, end=seconds).motion, song.name


def cmu_motion(take: str):
    from choreo.core.formats import load_motion

    m = load_motion(SHARED / "mocap" / "cmu" / take.split("_")[0] / f"{take}.bvh").resample(30.0)
    return m.normalized_facing().on_floor().with_bone_lengths()


def rig_builders() -> dict:
    import bpy

    from choreo.rigs import testrigs
    from choreo.rigs.armature import build_default_rig

    coll = lambda: bpy.context.scene.collection  # noqa: E731
    return {
        "default (mesh)": lambda: build_default_rig(collection=coll(), with_mesh=True),
        "mixamo fbx": lambda: testrigs.build_mixamo_rig(collection=coll(), fbx_axes=True, arm_angle_deg=40),
        "smpl": lambda: testrigs.build_smpl_rig(collection=coll()),
        "rigify meta": lambda: testrigs.build_rigify_metarig(collection=coll()),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--song", type=Path, default=SHARED / "music" / "mma03_softrock.ogg")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--take", default="005_05", help="CMU take (subject 5)")
    ap.add_argument("--json", metavar="OUT", help="also write the figures as JSON")
    args = ap.parse_args(argv)

    motions = {}
    gen, song_name = generated_motion(args.song, args.seconds, args.seed)
    motions[f"generated ({song_name}, {args.seconds:g} s, seed {args.seed})"] = gen
    motions[f"CMU {args.take}"] = cmu_motion(args.take)

    import bpy

    res = {}
    for mname, motion in motions.items():
        for rname, build in rig_builders().items():
            bpy.ops.wm.read_factory_settings(use_empty=True)
            res[f"{mname} | {rname}"] = rig_floor_figures(motion, build())

    print("floor (lowest point, world cm; the floor is z = 0 under the rig):")
    print(f"| dance | rig | frames | > 1 cm below | median | min | contact frames within 2 cm | mean error |")
    print("|---|---|---|---|---|---|---|---|")
    for key, r in res.items():
        mname, rname = key.split(" | ")
        cw = "—" if r["contact_within_2cm"] is None else f"{100 * r['contact_within_2cm']:.1f} % of {r['contact_frames']}"
        print(f"| {mname} | {rname} | {r['frames']} | {100 * r['below_1cm']:.1f} % | {r['median_cm']:+.2f} | "
              f"{r['min_cm']:+.2f} | {cw} | {r['mean_error_cm']:.2f} |")
    keys = list(res)
    print("\nper-joint retarget error (world cm, mean over frames; — = unmapped):")
    print("| joint | " + " | ".join(k.replace(" | ", " / ") for k in keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for j in sk.JOINT_NAMES:
        cells = [f"{res[k]['joint_error_cm'][j]:.1f}" if j in res[k]["joint_error_cm"] else "—" for k in keys]
        print(f"| {j} | " + " | ".join(cells) + " |")
    print("| **mean** | " + " | ".join(f"{res[k]['mean_error_cm']:.2f}" for k in keys) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
