"""Editing a generated dance: do the edits join, hit the animator's poses and keep the feet planted?

Run: ``.venv/bin/python benchmarks/edit_benchmark.py [--seeds 3]``

In a real Blender session (the add-on's operators), on the shipped default's dance
(seed 0) of a 20-s demo song at 30 fps on the default dancer; for each seed 1…N:

* **Regenerate Range** 200–400 with that seed, with the legs re-planted under the
  joined hips (shipped) and without (:func:`choreo.rigs.legs.replant_legs` off);
* the same with **Travel** locked (the hips' path kept, new legs under it);
* **Fill Between Keys** after the animator turns the left arm on frame 301 and keys
  the pose (the fill reaches 241–361);
* **Mirror Range** 200–400.

Figures: at each seam the largest joint speed and acceleration within two frames over
the dance's own p99 elsewhere (≤ 1: no visible jump); foot slide (cm/s, mean
horizontal speed of a foot touching the floor, :func:`choreo.core.metrics.physical.feet_scores`)
over frames 200–400, against the kept dance's there; the largest joint error on the
keyed frame over the edited arm and its ancestors (cm).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO.parent))

FRAMES = np.arange(1, 600)


def danced_scene(song: str):
    """A fresh scene with ``song`` as a sound strip at frame 1 (30 fps) and the shipped default's dance."""
    import bpy

    bpy.ops.wm.read_factory_settings(use_empty=True)
    sc = bpy.context.scene
    sc.render.fps = 30
    ed = sc.sequence_editor_create()
    ed.active_strip = ed.strips.new_sound("Music", song, channel=1, frame_start=1)
    assert bpy.ops.choreo.generate() == {"FINISHED"}
    return sc, sc.choreo.target


def seam_ratios(x: np.ndarray, seams) -> list[tuple[float, float]]:
    """[(speed / p99, acceleration / p99)] at each seam frame of heads ``x`` (FRAMES, B, 3)."""
    v = np.linalg.norm(np.diff(x, axis=0), axis=-1).max(1) * 30
    a = np.linalg.norm(np.diff(x, 2, axis=0), axis=-1).max(1) * 900
    inside = np.ones(len(v), bool)
    for s in seams:
        inside[max(0, s - 4):s + 3] = False
    pv, pa = np.percentile(v[inside], 99), np.percentile(a[inside[:-1]], 99)
    return [(v[s - 3:s + 1].max() / pv, a[s - 3:s + 1].max() / pa) for s in seams]


def slide(arm, x: np.ndarray) -> float:
    from choreo.core import skeleton as sk
    from choreo.core.metrics.physical import feet_scores
    from choreo.core.motion import Motion

    names = [pb.name for pb in arm.pose.bones]
    order = [names.index(j) for j in sk.JOINT_NAMES]
    return feet_scores(Motion(x[199:400][:, order], fps=30.0))["slide_cm_s"]


def run(song: str, seed: int) -> dict:
    import bpy

    import choreo.rigs.legs as legs
    from choreo.core.rotations import quat_multiply, rotvec_to_quat
    from choreo.rigs.floor import posed_heads

    out = {}
    for name, locks, replant in (("regenerate", set(), True), ("regenerate, legs not re-planted", set(), False),
                                 ("regenerate, travel locked", {"root"}, True)):
        sc, arm = danced_scene(song)
        x0 = posed_heads(sc, arm, FRAMES)
        sc.choreo.seed, sc.choreo.range_start, sc.choreo.range_end, sc.choreo.locks = seed, 200, 400, locks
        same = (lambda anim, rot, *a, **k: np.array(rot)) if not replant else legs.replant_legs
        with mock.patch.object(legs, "replant_legs", same):
            assert bpy.ops.choreo.regenerate_range() == {"FINISHED"}
        x1 = posed_heads(sc, arm, FRAMES)
        out[name] = {"seams": seam_ratios(x1, (200, 400)), "slide": slide(arm, x1), "kept_slide": slide(arm, x0)}

    sc, arm = danced_scene(song)
    sc.choreo.seed = seed
    sc.frame_set(301)
    for bone, rv in (("l_shoulder", (0.0, 0.9, 0.6)), ("l_elbow", (0.0, 0.0, 1.1))):
        pb = arm.pose.bones[bone]
        pb.rotation_quaternion = quat_multiply(rotvec_to_quat(np.array(rv)), np.array(pb.rotation_quaternion))
    for pb in arm.pose.bones:
        pb.keyframe_insert("rotation_quaternion", frame=301)
    want = posed_heads(sc, arm, [301])[0]
    assert bpy.ops.choreo.fill_between_keys() == {"FINISHED"}
    x1 = posed_heads(sc, arm, FRAMES)
    names = [pb.name for pb in arm.pose.bones]
    chain = [names.index(b) for b in ("pelvis", "spine1", "spine2", "spine3", "l_collar", "l_shoulder",
                                      "l_elbow", "l_wrist")]   # the keyed bones, their parents, the elbow's tail
    out["fill"] = {"seams": seam_ratios(x1, (241, 361)), "slide": slide(arm, x1),
                   "pose_error_cm": 100 * float(np.linalg.norm(x1[300, chain] - want[chain], axis=-1).max())}

    sc, arm = danced_scene(song)
    sc.choreo.range_start, sc.choreo.range_end = 200, 400
    assert bpy.ops.choreo.mirror_range() == {"FINISHED"}
    out["mirror"] = {"seams": seam_ratios(posed_heads(sc, arm, FRAMES), (200, 400))}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args(argv)

    import choreo
    from choreo.core.audio.demo import write_demo_wav
    from choreo.rigs.quiet import quiet_blender

    with tempfile.TemporaryDirectory(prefix="choreo_edits_") as tmp, quiet_blender():
        song = str(Path(tmp) / "song.wav")
        write_demo_wav(song, bars=10, tempo=120.0)
        choreo.register()
        try:
            runs = [run(song, s) for s in range(1, args.seeds + 1)]
        finally:
            choreo.unregister()
    print(f"{args.seeds} seeds; medians (max)")
    print("| edit | speed / p99 at the seams | acceleration / p99 | foot slide cm/s | pose error |")
    print("|---|---|---|---|---|")
    for name in runs[0]:
        r = [x[name] for x in runs]
        seams = np.array([x["seams"] for x in r])          # (seeds, 2, 2)
        v, a = seams[..., 0].max(1), seams[..., 1].max(1)
        slides = [x["slide"] for x in r] if "slide" in r[0] else None
        sl = "–" if slides is None else f"{np.median(slides):.1f} (max {max(slides):.1f})"
        if "kept_slide" in r[0]:
            sl += f"; kept {np.median([x['kept_slide'] for x in r]):.1f}"
        pe = f"{max(x['pose_error_cm'] for x in r):.3f} cm" if "pose_error_cm" in r[0] else "–"
        print(f"| {name} | {np.median(v):.2f} ({v.max():.2f}) | {np.median(a):.2f} ({a.max():.2f}) | {sl} | {pe} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
