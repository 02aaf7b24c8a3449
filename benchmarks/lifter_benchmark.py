"""How well 2D lifts to 3D (issue 17): the learned lifter against the geometric baseline.

On the held-out CMU takes (never trained on), each filmed whole by cameras of a seed no
training step drew, in every keypoint layout, from clean 2D and from 2D with a detector's
noise (1 % of the body's height, 2 % of the points lost):

- MPJPE and PA-MPJPE (mm) of the pelvis-relative joints in camera axes, learned lifter vs
  Taylor's bone-length method (the SMPL template's lengths for a 1.70 m dancer, temporal sign
  resolution) vs the same with the take's true bone lengths (the baseline's best case);
- of the whole dance placed on the floor (:func:`~choreo.core.lift.world.lift_points`, the
  true focal length given, as a calibrated camera would): the pelvis's path error after the
  best yaw and shift on the floor (m), foot sliding on contacts (cm/s; raw, grounded, truth)
  and the raw network's bone-length variation (coefficient of variation, %; every lifted
  dance is then rebuilt with constant lengths).

Anchors (Human3.6M, not this data): VideoPose3D 46.8 mm MPJPE from detected 2D, 37.2 mm from
ground-truth 2D; MotionBERT 39.2 mm. Usage::

    python benchmarks/lifter_benchmark.py [--weights W] [--views 3] [--json out/lifter_bench.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from choreo.core import skeleton as sk  # noqa: E402
from choreo.core.lift import network as N  # noqa: E402
from choreo.core.lift.taylor import taylor_lift, template_lengths  # noqa: E402
from choreo.core.lift.views import HEIGHT, WIDTH  # noqa: E402
from choreo.core.lift.world import lift_points  # noqa: E402
from choreo.core.metrics.physical import feet_scores  # noqa: E402
from choreo.core.metrics.pose3d import mpjpe, pa_mpjpe  # noqa: E402
from choreo.core.motion import Motion  # noqa: E402
from choreo.core.lift import views as V  # noqa: E402


def _path_error(lifted: np.ndarray, true: np.ndarray) -> float:
    """Mean pelvis floor-position error (m) after the best rotation about z and shift (2D Procrustes)."""
    a, b = lifted[:, 0, :2], true[:, 0, :2]
    a0, b0 = a - a.mean(0), b - b.mean(0)
    u, _, vt = np.linalg.svd(a0.T @ b0)
    d = np.sign(np.linalg.det(u @ vt))
    rot = u @ np.diag([1, d]) @ vt
    return float(np.linalg.norm(a0 @ rot - b0, axis=-1).mean())


def _cv(joints: np.ndarray) -> float:
    lengths = sk.bone_lengths(joints)
    return float(100 * np.mean(lengths.std(0) / np.maximum(lengths.mean(0), 1e-9)))


def run(weights: str | None, n_views: int) -> dict:
    lifter = N.Lifter.load(weights)
    allt = V.load_takes("../shared/data/mocap/cmu")
    _, val = V.split_takes(allt, lifter.meta.get("training", {}).get("val_takes"))
    takes = {n: allt[n] for n in val}
    tmpl = template_lengths()
    out = {"takes": val, "views": n_views, "weights": weights or "shipped",
           "training": lifter.meta.get("training", {}), "pose": {}, "world": {}}
    t_net = t_tay = frames = 0.0
    per_take: dict[str, list] = {}
    axes: list = []
    for noisy in (False, True):
        key = "noisy" if noisy else "clean"
        rows: dict[str, dict[str, list]] = {}
        world: dict[str, list] = {}
        for name, layout, ex in V.heldout_views(takes, n_views, noisy):
            true = ex["rel"]
            t = time.perf_counter()
            rel, _ = lifter(ex["points"], ex["seen"], layout)
            t_net += time.perf_counter() - t
            t = time.perf_counter()
            tay = taylor_lift(ex["points"], ex["seen"], tmpl)
            t_tay += time.perf_counter() - t
            own = np.median(sk.bone_lengths(true), axis=0)
            tay_true = taylor_lift(ex["points"], ex["seen"], own)
            frames += len(true)
            if not noisy and layout == "openpose25":  # where the error lies: per take, per camera axis
                per_take.setdefault(name, []).append((mpjpe(rel, true), len(true)))
                axes.append((np.abs(rel - true).reshape(-1, 3).mean(0), len(true)))
            r = rows.setdefault(layout, {})
            for what, pred in (("learned", rel), ("taylor", tay), ("taylor_true_lengths", tay_true)):
                r.setdefault(what, []).append((mpjpe(pred, true), pa_mpjpe(pred, true), len(true)))
            # the whole dance on the floor, from the camera's true focal length
            w = world.setdefault(layout, [])
            raw = lift_points(ex["keypoints"], ex["keypoints_seen"], layout, lifter, focal=ex["focal"],
                              centre=(WIDTH / 2, HEIGHT / 2), ground=False)
            grounded = lift_points(ex["keypoints"], ex["keypoints_seen"], layout, lifter, focal=ex["focal"],
                                   centre=(WIDTH / 2, HEIGHT / 2), ground=True)
            truth = Motion(ex["world"], N.FPS).on_floor()
            w.append((_path_error(grounded.motion.joints, truth.joints),
                      feet_scores(raw.motion)["slide_cm_s"], feet_scores(grounded.motion)["slide_cm_s"],
                      feet_scores(truth)["slide_cm_s"], _cv(rel), len(true)))
        out["pose"][key] = {}
        for layout, r in rows.items():
            out["pose"][key][layout] = {}
            for what, vals in r.items():
                v = np.array(vals)
                wt = v[:, 2] / v[:, 2].sum()
                out["pose"][key][layout][what] = {"mpjpe_mm": round(1000 * float(wt @ v[:, 0]), 1),
                                                  "pa_mpjpe_mm": round(1000 * float(wt @ v[:, 1]), 1)}
        out["world"][key] = {}
        for layout, vals in world.items():
            v = np.array(vals)
            wt = v[:, -1] / v[:, -1].sum()
            out["world"][key][layout] = {"path_error_m": round(float(wt @ v[:, 0]), 3),
                                         "slide_raw_cm_s": round(float(wt @ v[:, 1]), 1),
                                         "slide_grounded_cm_s": round(float(wt @ v[:, 2]), 1),
                                         "slide_truth_cm_s": round(float(wt @ v[:, 3]), 1),
                                         "bone_cv_raw_pct": round(float(wt @ v[:, 4]), 2)}
    out["clean_openpose25"] = {
        "per_take_mpjpe_mm": {n: round(1000 * float(np.average([m for m, _ in v], weights=[k for _, k in v])), 1)
                              for n, v in per_take.items()},
        "axis_error_mm": [round(1000 * float(x), 1) for x in
                          np.average([a for a, _ in axes], axis=0, weights=[k for _, k in axes])]}
    out["speed"] = {"learned_ms_per_frame": round(1000 * t_net / frames, 3),
                    "taylor_ms_per_frame": round(1000 * t_tay / frames, 3)}
    return out


def video_comparison(frames: int = 300, size: int = 512) -> dict:
    """A held-out take (005_12, its first ``frames``) rendered by Blender as Choreo's dressed figure,
    the dancer found by MediaPipe BlazePose: PA-MPJPE (mm) of the lifter on the detected 2D, of the
    lifter on the same camera's exact 2D, and of MediaPipe's own 3D (world) landmarks."""
    import tempfile

    from choreo.core.lift import lift_pose2d
    from choreo.core.formats.openpose import Pose2D
    from choreo.core.skeleton_maps import smpl24_to_layout, to_smpl24
    from choreo.core.lift.video import clip_poses
    from choreo.rigs.actor_clip import actor_take, default_actor_camera, render_actor_clip

    joints = actor_take("05_12", stage_m=None)[:frames]
    cam = default_actor_camera(joints, size)
    with tempfile.TemporaryDirectory() as d:
        render_actor_clip(joints, Path(d) / "clip.mp4", camera=cam, samples=1)
        clip = clip_poses(Path(d) / "clip.mp4")
    fov = float(np.degrees(2 * np.arctan(size / 2 / cam.focal)))
    truth = joints - joints[:, :1]

    def pa(pred, mask):
        return round(1000 * pa_mpjpe(pred[mask] - pred[mask][:, :1], truth[mask]), 1)

    detected = lift_pose2d(clip.pose, fov_deg=fov).motion.joints.astype(np.float64)
    exact_kp = cam.project(smpl24_to_layout(joints, "blazepose33"))
    exact = lift_pose2d(Pose2D(exact_kp, np.ones(exact_kp.shape[:2]), "blazepose33", 30.0, size, size),
                        fov_deg=fov).motion.joints.astype(np.float64)
    has_world = np.isfinite(clip.world).all(axis=(1, 2))
    seen = np.array([s == "ok" for s in clip.status]) & has_world
    mp = to_smpl24(np.nan_to_num(clip.world), "blazepose33")
    return {"take": "005_12", "frames": frames, "size": size, "detected_frames": int(seen.sum()),
            "learned_detected_pa_mm": pa(detected, seen), "learned_exact_pa_mm": pa(exact, seen),
            "mediapipe_world_pa_mm": pa(mp, seen)}


def table(res: dict) -> str:
    lines = ["| 2D | layout | learned MPJPE / PA | Taylor (template) | Taylor (true lengths) |",
             "|---|---|---|---|---|"]
    for key, layouts in res["pose"].items():
        for layout, r in layouts.items():
            cells = [f"{r[w]['mpjpe_mm']:.0f} / {r[w]['pa_mpjpe_mm']:.0f}"
                     for w in ("learned", "taylor", "taylor_true_lengths")]
            lines.append(f"| {key} | {layout} | " + " | ".join(cells) + " |")
    lines += ["", "| 2D | layout | path error m | slide raw / grounded / truth cm/s | bone CV raw % |",
              "|---|---|---|---|---|"]
    for key, layouts in res["world"].items():
        for layout, r in layouts.items():
            lines.append(f"| {key} | {layout} | {r['path_error_m']:.3f} | {r['slide_raw_cm_s']:.1f} / "
                         f"{r['slide_grounded_cm_s']:.1f} / {r['slide_truth_cm_s']:.1f} | {r['bone_cv_raw_pct']:.2f} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", default=None, help="lifter weights (default: the shipped ones)")
    ap.add_argument("--views", type=int, default=3, help="held-out cameras per take (default: %(default)s)")
    ap.add_argument("--json", type=Path, default=Path("out/lifter_bench.json"))
    ap.add_argument("--no-video", action="store_true", help="skip the rendered clip through MediaPipe (needs bpy, "
                                                            "mediapipe)")
    args = ap.parse_args()
    t = time.perf_counter()
    res = run(args.weights, args.views)
    if not args.no_video:
        res["video"] = video_comparison()
        print(f"video ({res['video']['take']}, {res['video']['frames']} frames, MediaPipe): PA-MPJPE mm, lifter "
              f"on detected 2D {res['video']['learned_detected_pa_mm']}, on exact 2D "
              f"{res['video']['learned_exact_pa_mm']}, MediaPipe's own 3D {res['video']['mediapipe_world_pa_mm']}")
    res["seconds"] = round(time.perf_counter() - t, 1)
    print(table(res))
    print(f"speed: learned {res['speed']['learned_ms_per_frame']} ms/frame, "
          f"Taylor {res['speed']['taylor_ms_per_frame']} ms/frame; {res['seconds']} s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=1))
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
