"""Key modes on a whole song: how many keys, and how far the keyed curves drift from the dance.

Run: ``.venv/bin/python benchmarks/keys_benchmark.py [--seconds 180 | --song SONG [--end S]] [--seed 0]``

Issue 12 item 5. A 3-min song (the demo writer's track at 118 BPM unless
``--song`` names one, e.g. a track of ../shared/data/music), one dance from the
shipped default generator, retargeted once onto the default rig at 30 fps, then
keyed in each mode (:func:`choreo.rigs.keys.write_action`): *On Beats* at the
default 2 cm tolerance, *Key Poses*, *Key Poses* with Blender's auto-clamped
handles instead of the eased ones (the same key rule; shows what the handles
buy), and *Every Frame*. Error: distance of every mapped joint between forward
kinematics of the curves as Blender evaluates them and the dense motion, over
every frame; per bone group (:data:`choreo.rigs.bonegroups.BONE_GROUPS`, the
group's joints). "write s": the bulk keyframe writes; "key s": the whole
keying call (writes, evaluation rounds).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO.parent))


class _AutoHandles:
    """Stands in for eased handles: ``columns`` gives None, so keys get auto-clamped handles."""

    def columns(self, cols):
        return None


def key_all_modes(dance, *, fps: float = 30.0) -> list[tuple[str, object, float]]:
    """``[(mode label, KeyReport, key seconds)]`` for one dance on the default rig."""
    import bpy

    import choreo.rigs.keys as keys
    from choreo.rigs import bonemaps
    from choreo.rigs.armature import build_default_rig
    from choreo.rigs.retarget import retarget

    bpy.ops.wm.read_factory_settings(use_empty=True)
    arm = build_default_rig(with_mesh=False)
    bmap = bonemaps.bone_map_for(arm)
    bonemaps.prepare_rig_for_keys(arm, bmap)
    anim = retarget(dance.motion, arm, bmap)
    runs = [("On Beats (2 cm)", "beats", None), ("Key Poses", "poses", None),
            ("Key Poses, auto-clamped handles", "poses", _AutoHandles()), ("Every Frame", "dense", None)]
    out = []
    for label, mode, patch in runs:
        ctx = mock.patch.object(keys, "ease_handles", lambda *a, **k: patch) if patch else mock.patch.object(
            keys, "ease_handles", keys.ease_handles)
        with ctx:
            t = time.perf_counter()
            rep = keys.write_action(arm, anim, scene_fps=fps, frame_start=1, beat_times=dance.beats, mode=mode,
                                    tolerance_m=0.02)
            out.append((label, rep, time.perf_counter() - t))
    return out


def print_tables(rows, n_beats: int, seconds: float) -> None:
    """Markdown tables: keys and overall error per mode, then error per bone group."""
    from choreo.rigs.bonegroups import BONE_GROUPS, GROUP_LABELS

    print("| mode | keys | keys/beat | keys/s | max error | mean error | write s | key s |")
    print("|---|---|---|---|---|---|---|---|")
    for label, r, t in rows:
        print(f"| {label} | {r.keys} | {r.keys / n_beats:.2f} | {r.keys / seconds:.2f} | "
              f"{r.max_error_m * 100:.1f} cm | {r.mean_error_m * 1000:.2f} mm | {r.write_seconds:.2f} | {t:.2f} |")
    print()
    print("| mode | " + " | ".join(GROUP_LABELS[g] for g in BONE_GROUPS) + " |")
    print("|---|" + "---|" * len(BONE_GROUPS))
    for label, r, _t in rows:
        cells = [f"{r.group_max_error_m[g] * 100:.1f} / {r.group_mean_error_m[g] * 1000:.1f}"
                 if g in r.group_max_error_m else "—" for g in BONE_GROUPS]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print("\n(per group: max cm / mean mm)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--song", help="audio file (default: the demo track, written to a temporary folder)")
    ap.add_argument("--seconds", type=float, default=180.0, help="length of the demo track (s)")
    ap.add_argument("--end", type=float, help="with --song: use its first END seconds (default: all of it)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    from choreo.core.audio.demo import write_demo_wav
    from choreo.core.generation.pipeline import generate_dance
    from choreo.rigs.quiet import quiet_blender

    with tempfile.TemporaryDirectory(prefix="choreo_keys_") as tmp:
        song = args.song
        if song is None:
            song = str(Path(tmp) / "song.wav")
            write_demo_wav(song, bars=int(round(args.seconds * 118.0 / 60 / 4)), tempo=118.0)
        t = time.perf_counter()
        dance = generate_dance(song, seed=args.seed, end=args.end if args.song else None)
        gen_s = time.perf_counter() - t
        with quiet_blender():
            rows = key_all_modes(dance)
    seconds = float(dance.motion.duration)
    print(f"{Path(song).name if args.song else 'demo track'}: {seconds:.1f} s, {len(dance.beats)} beats, "
          f"{dance.tempo:.0f} BPM, generated in {gen_s:.1f} s; default rig, 30 fps\n")
    print_tables(rows, len(dance.beats), seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
