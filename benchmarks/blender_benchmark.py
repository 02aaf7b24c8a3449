"""Blender benchmark: a whole song to a .blend, keys, retargeting on four rig kinds, preview render.

Run: ``.venv/bin/python benchmarks/blender_benchmark.py [--minutes 3] [--weights W]
[--render-frames 30] [--no-cli] [--json OUT]``

On a synthetic song (:mod:`choreo.core.audio.demo`, 118 BPM, beats tracked
since no grid lies beside it), all on the CPU, it prints:

- ``choreo generate SONG -o out.blend`` (no render) wall time as a command
  (a fresh process: Python, bpy and numpy imports included), and the same work
  in-process split into generation / new scene / retarget / keys / markers /
  save (from :func:`choreo.rigs.scene.write_dance_blend`'s and
  :func:`choreo.rigs.apply.apply_dance`'s timings; markers timed on their own);
- keys in ``beats`` vs ``dense`` mode on the default rig: keyed poses, poses
  per second of dance, keyframe points, write throughput (points per second of
  wall time) and the key error (joint distance of the evaluated F-curves from
  the retargeted motion, max / mean over every frame);
- retargeting error (:func:`choreo.rigs.retarget.retarget_error`, world metres)
  on the default rig, Mixamo (plain and with FBX axes), a generated Rigify rig
  and an SMPL rig, three ways:

  ``dance``: the generated motion as is. Its bone lengths are not the rig's
  (the network outputs joint positions, so lengths even vary over time); the
  retargeter scales it by leg length and aims each bone, so the error is mostly
  proportion mismatch. ``rig lengths``: the motion first rebuilt with the rig's
  own rest bone lengths (:meth:`Motion.with_bone_lengths`, lengths measured
  between the mapped bones' heads); what remains is what a rigid skeleton
  cannot follow: the fixed angles at branching joints (pelvis → hips/spine,
  chest → neck/collars) and, on Rigify, the collars it leaves unmapped (their
  lengths are the motion's, scaled). ``round trip``: joint positions the rig
  can reach exactly (forward kinematics of the first solve) solved again: the
  solver's own error (rigs with all 24 joints mapped);
- motion roughness: mean joint acceleration (m/s²) and mean bone-length
  variation (std / mean) of the generated dance; they drive how many keys
  the ``beats`` mode needs and the ``dance`` retarget error;
- Workbench preview render seconds per frame at 640×360 over ``--render-frames``
  frames (H.264 + AAC): the first frame (start-up) and the median of the rest.

Every figure is measured when run; nothing is hard-coded.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO.parent))  # so `import choreo` works from a plain checkout

from choreo.core import skeleton as sk  # noqa: E402
from choreo.core.audio.demo import write_demo_wav  # noqa: E402
from choreo.core.generation import generate_dance  # noqa: E402

TEMPO = 118.0


def write_song(path: Path, minutes: float) -> float:
    """A demo song of about ``minutes`` at 118 BPM in 4/4; its duration (s)."""
    bars = max(1, int(round(minutes * 60 * TEMPO / 60 / 4)))
    track = write_demo_wav(path, bars=bars, tempo=TEMPO, seed=1)
    return len(track.audio) / track.sr


def cli_seconds(song: Path, out: Path, weights: str | None) -> float:
    """Wall time of ``python -m choreo generate SONG -o OUT.blend`` in a fresh process."""
    cmd = [sys.executable, "-m", "choreo", "generate", str(song), "-o", str(out)]
    if weights:
        cmd += ["--weights", weights]
    t = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=str(REPO.parent), timeout=900)
    sec = time.perf_counter() - t
    if res.returncode != 0 or not out.is_file():
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{res.stdout[-2000:]}{res.stderr[-2000:]}")
    return sec


def key_figures(rep: dict) -> dict:
    t = rep["timings"]
    points = int(rep["keys"]) * int(rep.get("key_channels") or 0)
    return {"poses": int(rep["keys"]), "poses_per_s": float(rep["keys_per_second"]), "points": points,
            "write_s": float(t["keys_s"]), "points_per_wall_s": points / max(t["keys_s"], 1e-9),
            "error_max_m": float(rep["key_error_max_m"]), "error_mean_m": float(rep["key_error_mean_m"])}


def end_to_end(dance_fn, out_blend: Path, render_frames: int, tmp: Path) -> tuple[dict, dict, dict, object]:
    """Generation + write_dance_blend (beats keys) split into steps, then dense
    keys on the same rig and a Workbench render of the first frames."""
    import bpy

    from choreo.rigs.apply import apply_dance
    from choreo.rigs.markers import add_dance_markers
    from choreo.rigs.render import render_preview
    from choreo.rigs.scene import FRAME_START, SCENE_FPS, write_dance_blend

    t = time.perf_counter()
    dance = dance_fn()
    gen_s = time.perf_counter() - t
    t = time.perf_counter()
    res = write_dance_blend(dance, out_blend, key_mode="beats")
    blend_s = time.perf_counter() - t
    ap = res["apply"]
    scene = bpy.context.scene
    t = time.perf_counter()
    add_dance_markers(scene, beats=dance.beats, downbeats=dance.downbeats, sections=dance.sections,
                      frame_start=FRAME_START, scene_fps=SCENE_FPS)
    markers_s = time.perf_counter() - t
    steps = {"generation_s": gen_s, "scene_s": res["timings"]["scene_s"],
             "retarget_s": ap["timings"]["retarget_s"], "keys_s": ap["timings"]["keys_s"],
             "markers_s": markers_s,
             "apply_other_s": ap["timings"]["total_s"] - ap["timings"]["retarget_s"] - ap["timings"]["keys_s"],
             "stage_s": blend_s - res["timings"]["scene_s"] - res["timings"]["apply_s"] - res["timings"]["save_s"],
             "save_s": res["timings"]["save_s"]}
    steps["total_s"] = gen_s + blend_s
    keys = {"beats": key_figures(ap), "markers": int(res["markers"]), "frames": int(res["frames"])}

    arm = bpy.data.objects[res["armature"]]
    dense = apply_dance(dance, arm, scene, frame_start=FRAME_START, key_mode="dense")
    keys["dense"] = key_figures(dense)

    stamps = []  # the render runs in a child process: its per-frame progress stamps the frames
    t0 = time.perf_counter()
    r = render_preview(scene, tmp / "preview.mp4", frame_range=(FRAME_START, FRAME_START + render_frames - 1),
                       progress=lambda f, label="": stamps.append(time.perf_counter()) if f > 0 else None)
    gaps = np.diff([t0] + stamps)
    render = {"frames": r["frames"], "width": r["width"], "height": r["height"], "total_s": r["seconds"],
              "s_per_frame": r["seconds_per_frame"], "first_frame_s": float(gaps[0]) if len(gaps) else None,
              "median_after_first_s": float(statistics.median(gaps[1:])) if len(gaps) > 1 else None}
    return steps, keys, render, dance


# -- retargeting on the rig kinds --------------------------------------------------

def rig_world_joints(arm, bone_map) -> dict[str, np.ndarray]:
    """World rest positions of the mapped joints (the mapped bones' heads)."""
    mw = np.array(arm.matrix_world)
    return {j: (mw @ np.array([*arm.data.bones[b].head_local, 1.0]))[:3] for j, b in bone_map.joint_to_bone.items()}


def rig_lengths(motion, rest: dict[str, np.ndarray]) -> np.ndarray:
    """(23,) bone lengths: the rig's where both ends are mapped, else the
    motion's median scaled by the leg-length ratio (as the retargeter scales)."""
    from choreo.rigs.retarget import _leg_length

    arr = np.zeros((24, 3))
    for j, v in rest.items():
        arr[sk.JOINT_INDEX[j]] = v
    scale = _leg_length(arr) / _leg_length(motion.joints.astype(np.float64))
    own = np.median(motion.bone_lengths(), axis=0) * scale
    out = own.copy()
    for j in range(1, 24):
        a, b = sk.JOINT_NAMES[sk.PARENTS[j]], sk.JOINT_NAMES[j]
        if a in rest and b in rest:
            out[j - 1] = float(np.linalg.norm(rest[b] - rest[a]))
    return out


def reachable_motion(anim, arm):
    """The rig's own FK joint positions (world) of ``anim`` as a Motion (all 24 mapped)."""
    from choreo.core.motion import Motion

    mw = np.array(arm.matrix_world)
    fk = anim.joint_positions() @ mw[:3, :3].T + mw[:3, 3]
    order = [anim.joint_names.index(j) for j in sk.JOINT_NAMES]
    return Motion(fk[:, order].astype(np.float32), anim.fps)


def retarget_kinds(motion) -> dict:
    import bpy

    from choreo.rigs import testrigs
    from choreo.rigs.armature import build_default_rig
    from choreo.rigs.bonemaps import bone_map_for
    from choreo.rigs.retarget import retarget, retarget_error

    bpy.ops.wm.read_factory_settings(use_empty=True)
    coll = bpy.context.scene.collection
    builders = {
        "choreo": lambda: build_default_rig(collection=coll, with_mesh=False),
        "mixamo": lambda: testrigs.build_mixamo_rig(collection=coll),
        "mixamo_fbx": lambda: testrigs.build_mixamo_rig("mixamorig1:", name="Mixamo FBX", collection=coll,
                                                        fbx_axes=True),
        "rigify": lambda: testrigs.generate_rigify(testrigs.build_rigify_metarig(collection=coll)),
        "smpl": lambda: testrigs.build_smpl_rig(collection=coll),
    }
    out = {}
    for kind, build in builders.items():
        t = time.perf_counter()
        arm = build()
        build_s = time.perf_counter() - t
        bm = bone_map_for(arm)
        t = time.perf_counter()
        anim = retarget(motion, arm, bm)
        solve_s = time.perf_counter() - t
        row = {"map": bm.kind, "mapped": len(bm.joint_to_bone), "build_s": build_s, "retarget_s": solve_s,
               "dance": retarget_error(anim)}
        matched = motion.with_bone_lengths(rig_lengths(motion, rig_world_joints(arm, bm)))
        row["rig_lengths"] = retarget_error(retarget(matched, arm, bm))
        if len(bm.joint_to_bone) == 24:
            row["round_trip"] = retarget_error(retarget(reachable_motion(anim, arm), arm, bm))
        out[kind] = row
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=3.0, help="song length (default 3)")
    ap.add_argument("--weights", help="generator weights (default: the shipped 'default')")
    ap.add_argument("--render-frames", type=int, default=30)
    ap.add_argument("--no-cli", action="store_true", help="skip the `choreo generate` command timing")
    ap.add_argument("--json", metavar="OUT", help="also write the figures as JSON")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="choreo_blender_bench_") as tmpd:
        tmp = Path(tmpd)
        song = tmp / "song.wav"
        seconds = write_song(song, args.minutes)
        res = {"song": {"seconds": seconds, "tempo": TEMPO, "synthetic": True},
               "weights": args.weights or "default", "cpu_threads": os.cpu_count()}
        if not args.no_cli:
            res["cli_generate_blend_s"] = cli_seconds(song, tmp / "cli.blend", args.weights)
        steps, keys, render, dance = end_to_end(
            lambda: generate_dance(song, weights=args.weights), tmp / "out.blend", args.render_frames, tmp)
        res.update(steps=steps, keys=keys, render=render, beats=len(dance.beats), tempo_found=dance.tempo)
        res["retarget"] = retarget_kinds(dance.motion)
        j = dance.motion.joints.astype(np.float64)
        lengths = dance.motion.bone_lengths()
        res["motion"] = {"accel_m_s2": float(np.linalg.norm(j[2:] - 2 * j[1:-1] + j[:-2], axis=-1).mean()
                                             * dance.motion.fps ** 2),
                         "bone_length_cv": float((lengths.std(0) / lengths.mean(0)).mean())}

    print(f"song: {seconds:.0f} s synthetic, {TEMPO:.0f} BPM (tracked {res['tempo_found']:.1f}, "
          f"{res['beats']} beats); weights {res['weights']}; CPU")
    if "cli_generate_blend_s" in res:
        print(f"`choreo generate song -o out.blend`: {res['cli_generate_blend_s']:.1f} s wall (fresh process)")
    s = steps
    print("in-process: " + ", ".join(f"{k[:-2]} {v:.2f} s" for k, v in s.items()))
    for mode in ("beats", "dense"):
        k = keys[mode]
        print(f"keys {mode:5s}: {k['poses']} poses ({k['poses_per_s']:.2f}/s of dance), {k['points']} points "
              f"written in {k['write_s']:.2f} s ({k['points_per_wall_s']:.0f}/s); error max "
              f"{100 * k['error_max_m']:.2f} cm, mean {100 * k['error_mean_m']:.2f} cm")
    print(f"markers: {keys['markers']}; generated motion: mean joint acceleration "
          f"{res['motion']['accel_m_s2']:.1f} m/s², bone-length variation {100 * res['motion']['bone_length_cv']:.1f}%")
    print("retarget error (world cm, mean / p95 / max):")
    for kind, r in res["retarget"].items():
        fmt = lambda e: f"{100 * e['mean_m']:.2f} / {100 * e['p95_m']:.2f} / {100 * e['max_m']:.2f}"  # noqa: E731
        rt = (f"; round trip {1e6 * r['round_trip']['mean_m']:.2f} / {1e6 * r['round_trip']['max_m']:.2f} µm "
              "(mean / max)" if "round_trip" in r else "")
        print(f"  {kind:10s} ({r['map']}, {r['mapped']} joints, solve {r['retarget_s']:.2f} s): dance {fmt(r['dance'])}"
              f"; rig lengths {fmt(r['rig_lengths'])}{rt}")
    print(f"render: Workbench {render['width']}×{render['height']}, {render['frames']} frames in "
          f"{render['total_s']:.2f} s = {render['s_per_frame']:.3f} s/frame (first {render['first_frame_s']:.2f} s, "
          f"then median {render['median_after_first_s']:.3f} s)")
    if args.json:
        from choreo.core.fileio import atomic_path

        with atomic_path(args.json, suffix=".json") as tmpj:
            Path(tmpj).write_text(json.dumps(res, indent=1, default=float))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
