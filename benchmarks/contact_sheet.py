"""Contact sheet: generated and real dances on the default mannequin, and the floor seen edge-on.

Run: ``.venv/bin/python benchmarks/contact_sheet.py [--song FILE] [--seconds 20]
[--seed 0] [--weights W[,W…]] [--take 005_05] [--frames 6] [--out out/contact_sheet.png]``

Rows: the dance of each ``--weights`` (shipped names or files; default: the shipped
default) on ``--song`` (a held-out track by default) and a real CMU take, each retargeted onto the default mannequin
(:func:`choreo.rigs.retarget.retarget`, feet planted) and rendered by Workbench
at ``--frames`` evenly spaced moments: a three-quarter view from the front, and
below it the same frame seen edge-on at the floor (orthographic, camera at
floor height), where a foot in the floor or a dancer floating above it shows at
once. The lowest mesh point of each frame is written under it (cm; 0 = on the
floor). Pictures, not figures: the numbers are ``choreo bench``'s and
``benchmarks/rig_floor_benchmark.py``'s.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO.parent))  # so `import choreo` works from a plain checkout
SHARED = REPO.parent / "shared" / "data"


def _dances(song: Path, seconds: float, seed: int, take: str, weights: list[str | None]) -> dict:
    from choreo.core.formats import load_motion
    from choreo.core.generation.pipeline import generate_dance

    out = {}
    for w in weights:
        label = "generated" if w is None else Path(w).stem
        out[f"{label} ({song.stem}, seed {seed})"] = generate_dance(song, weights=w, seed=seed, end=seconds).motion
    real = load_motion(SHARED / "mocap" / "cmu" / take.split("_")[0] / f"{take}.bvh").resample(30.0)
    out[f"real (CMU {take})"] = real.normalized_facing().on_floor().with_bone_lengths()
    return out


def _render_rows(motion, n: int, tmp: Path) -> tuple[list[np.ndarray], list[np.ndarray], list[float]]:
    """Front and edge-on renders (RGB arrays) of ``n`` frames of ``motion`` on the
    mannequin, and the lowest mesh point (m) of each."""
    import bpy
    from mathutils import Euler, Vector

    from choreo.rigs.armature import build_default_rig
    from choreo.rigs.bonemaps import bone_map_for
    from choreo.rigs.floor import lowest_points
    from choreo.rigs.render import configure_preview
    from choreo.rigs.retarget import retarget
    from choreo.rigs.stage import add_preview_stage

    bpy.ops.wm.read_factory_settings(use_empty=True)
    sc = bpy.context.scene
    arm = build_default_rig(collection=sc.collection, with_mesh=True)
    anim = retarget(motion, arm)
    cam, _ = add_preview_stage(sc, arm, motion)
    configure_preview(sc, width=320, height=400, audio=False)
    img = sc.render.image_settings
    if hasattr(img, "media_type"):  # 5.0: the file family before the format
        img.media_type = "IMAGE"
    img.file_format = "PNG"
    side = bpy.data.objects.new("Edge-on", bpy.data.cameras.new("Edge-on"))
    sc.collection.objects.link(side)
    side.data.type, side.data.ortho_scale = "ORTHO", 2.2
    side.rotation_mode = "XYZ"
    side.rotation_euler = Euler((math.radians(90), 0.0, 0.0))  # level, along +y
    # the ground as a block whose top face is the floor: seen level, its edge is z = 0 and it
    # hides whatever sinks below it
    bpy.ops.mesh.primitive_cube_add(size=1.0, location=(0.0, 0.0, -0.5))
    block = bpy.context.active_object
    block.scale = (40.0, 40.0, 1.0)
    for o in sc.objects:  # the stage's own floor plane would fight with the block's top face
        if o.type == "MESH" and o is not block and o.name.startswith("Choreo Floor"):
            o.hide_render = True
    cam.rotation_mode = "QUATERNION"
    cam.data.lens = 50.0
    frames = np.linspace(0, anim.num_frames - 1, n).round().astype(int)
    low = lowest_points(arm, anim, bone_map_for(arm))
    pbs = arm.pose.bones
    front, edge = [], []
    for k, f in enumerate(frames):
        for b, name in enumerate(anim.bone_names):
            pbs[name].rotation_quaternion = anim.rotations[f, b]
        pbs[anim.root_bone].location = anim.root_location[f]
        bpy.context.view_layer.update()
        hip = np.array(arm.matrix_world @ pbs[anim.root_bone].head)
        side.location = (hip[0], hip[1] - 30.0, 0.8)
        # the front camera follows the dancer: three-quarter view from the front, above
        target = Vector((hip[0], hip[1], 0.9))
        cam.location = target + Vector((1.3, -3.2, 0.5))
        cam.rotation_quaternion = (target - cam.location).to_track_quat("-Z", "Y")
        for camera, out in ((cam, front), (side, edge)):
            sc.camera = camera
            path = tmp / f"{len(front) + len(edge)}.png"
            sc.render.filepath = str(path)
            bpy.ops.render.render(write_still=True)
            import matplotlib.image as mpimg

            out.append(mpimg.imread(str(path))[..., :3])
    return front, edge, [float(low[f]) for f in frames]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--song", type=Path, default=SHARED / "music" / "mma15_tango.ogg")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--weights", help="generators, comma-separated (shipped names or files; default: the default)")
    ap.add_argument("--take", default="005_05", help="CMU take (subject 5)")
    ap.add_argument("--frames", type=int, default=6)
    ap.add_argument("--out", type=Path, default=Path("out/contact_sheet.png"))
    args = ap.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from choreo.core.fileio import atomic_path
    from choreo.rigs.quiet import quiet_blender

    dances = _dances(args.song, args.seconds, args.seed, args.take,
                     args.weights.split(",") if args.weights else [None])
    rows = []
    with tempfile.TemporaryDirectory(prefix="choreo_sheet_") as tmp, quiet_blender():
        for name, motion in dances.items():
            rows.append((name, *_render_rows(motion, args.frames, Path(tmp))))
    fig, axes = plt.subplots(2 * len(rows), args.frames, figsize=(1.6 * args.frames, 4.3 * len(rows)), dpi=110)
    for r, (name, front, edge, low) in enumerate(rows):
        for c in range(args.frames):
            for k, img in enumerate((front[c], edge[c])):
                ax = axes[2 * r + k, c]
                ax.imshow(img)
                ax.set_xticks([])
                ax.set_yticks([])
                if k == 1:
                    ax.set_xlabel(f"lowest {100 * low[c]:+.1f} cm", fontsize=7)
            if c == 0:
                axes[2 * r, 0].set_ylabel(name, fontsize=7)
                axes[2 * r + 1, 0].set_ylabel("edge-on at the floor", fontsize=7)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.out, suffix=".png") as tmp_png:
        fig.savefig(tmp_png, format="png")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
