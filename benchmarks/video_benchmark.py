"""The photoreal stage measured on Choreo's stand-in target (issue 16; docs/photoreal.md).

Run: ``.venv/bin/python benchmarks/video_benchmark.py [--work out/video] [--seconds 90] [--steps N]``

Each stage reuses its output when it exists (delete it to redo it):

1. the stand-in clip: a dressed figure dancing CMU subject 5's takes one after another,
   rendered by Blender (``choreo video stand-in``, 512², Workbench);
2. the target: ``choreo video prepare`` at 256² (MediaPipe BlazePose per frame); its last
   10 % is the held-out run, never trained on;
3. the renderer: ``choreo video train`` with ``configs/photoreal_cpu.json`` (resumes);
4. the figures, into ``WORK/video_bench.json`` and a contact sheet ``WORK/heldout_sheet.png``
   (pose | generated | real, held-out frames):
   - self-transfer on the held-out frames (the target's own detected poses, rolled out from a
     blank first frame, every frame conditioned on the previous *generated* one): SSIM and PSNR
     against the real frames, with and without the face residual, and SSIM of the nose-centred
     face patch alone;
   - temporal stability: mean absolute frame-to-frame difference (0–255) of the generated
     held-out run against the real run's;
   - render speed in frames/s, numpy (what Blender runs) and torch on this CPU, at 256² (the
     trained renderer) and 512² (the same architecture, untrained: speed does not depend on
     the weights' values), against DanceIt's 8.6 frames/s on a consumer GPU.
   LPIPS is not reported: its weights (AlexNet/VGG features) cannot be had offline here.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO.parent))
DANCEIT_FPS = 8.6


def _choreo(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "choreo", *args], check=True, cwd=REPO)


def _speed(renderer, kp, runs: int = 3) -> float:
    """Median frames/s of ``renderer`` over ``kp`` (one warm-up frame first)."""
    next(iter(renderer.render_keypoints(kp[:1])))
    rates = []
    for _ in range(runs):
        t0 = time.perf_counter()
        n = sum(1 for _ in renderer.render_keypoints(kp))
        rates.append(n / (time.perf_counter() - t0))
    return statistics.median(rates)


def _untrained(weights: Path, size: int, out: Path) -> Path:
    """Weights of the trained renderer's architecture at ``size``² (fresh, untrained)."""
    import torch

    from choreo.core.models.photoreal import Photoreal, PhotorealConfig
    from choreo.core.models.weights import load_weights, module_tensors, save_weights

    _, meta = load_weights(weights)
    torch.manual_seed(0)
    net = Photoreal(PhotorealConfig.from_dict(meta["config"]["model"]))
    ratio = size / meta["size"]
    save_weights(out, module_tensors(net), dict(meta, size=size, face_patch=int(round(meta["face_patch"] * ratio)),
                                                limb_width=meta["limb_width"] * ratio))
    return out


def _sheet(poses, gen, real, path: Path) -> None:
    import numpy as np
    from PIL import Image

    rows = [np.concatenate([p, g, r], axis=1) for p, g, r in zip(poses, gen, real)]
    Image.fromarray(np.concatenate(rows, axis=0)).save(path)


def measure(target_dir: Path, weights: Path, work: Path) -> dict:
    import numpy as np

    from choreo.core.video.poses import pose_image
    from choreo.core.video.quality import psnr, ssim
    from choreo.core.video.renderer import Renderer, face_box, face_centre
    from choreo.core.video.target import read_target

    target = read_target(target_dir)
    held = range(*target.held_out.indices(len(target)))
    frames = target.load_frames()
    real = frames[held.start:held.stop]
    kp = target.keypoints[held.start:held.stop]
    r = Renderer(weights)
    R = r.size
    with_face = list(r.render_keypoints(kp))
    poses = [pose_image(k, R, R, r.limb_width) for k in kp]
    no_face = list(r.render(poses, faces=None))

    def face_ssim(gen):
        vals = []
        for g, t, k in zip(gen, real, kp):
            c = face_centre(k)
            if c is None:
                continue
            y0, x0 = face_box(c, R, r.face_patch)
            P = r.face_patch
            vals.append(ssim(g[y0:y0 + P, x0:x0 + P], t[y0:y0 + P, x0:x0 + P]))
        return float(np.mean(vals)) if vals else None

    def motion(seq):
        s = np.asarray(seq, np.float32)
        return float(np.abs(np.diff(s, axis=0)).mean())

    out = {
        "target": {"frames": len(target), "held_out": len(held), "size": R, "fps": target.fps,
                   "skipped": len(target.meta.get("skipped", []))},
        "training": {k: r.meta.get(k) for k in ("steps", "seconds", "seconds_per_step", "device", "train_frames")},
        "held_out": {
            "ssim": float(np.mean([ssim(g, t) for g, t in zip(with_face, real)])),
            "psnr": float(np.mean([psnr(g, t) for g, t in zip(with_face, real)])),
            "ssim_no_face_gan": float(np.mean([ssim(g, t) for g, t in zip(no_face, real)])),
            "face_ssim": face_ssim(with_face),
            "face_ssim_no_face_gan": face_ssim(no_face),
            "frame_difference": motion(with_face),
            "frame_difference_real": motion(real),
        },
        "lpips": "not measured: no LPIPS weights can be had offline",
        "speed_fps": {},
        "danceit_fps": DANCEIT_FPS,
    }
    pick = np.linspace(0, len(held) - 1, 6).round().astype(int)
    _sheet([poses[i] for i in pick], [with_face[i] for i in pick], [real[i] for i in pick], work / "heldout_sheet.png")
    sample = kp[:60]
    for size, w in ((R, weights), (2 * R, _untrained(weights, 2 * R, work / f"untrained_{2 * R}.safetensors"))):
        for backend in ("numpy", "torch"):
            scaled_kp = sample * (size / R)
            out["speed_fps"][f"{backend}_{size}"] = _speed(Renderer(w, backend=backend, device="cpu"), scaled_kp)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=REPO / "out" / "video")
    ap.add_argument("--seconds", type=float, default=90.0, help="length of the stand-in clip")
    ap.add_argument("--steps", type=int, help="training steps (default: the CPU configuration's)")
    args = ap.parse_args(argv)
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    clip, target, weights = work / "standin.mp4", work / "target", work / "target" / "renderer.safetensors"
    timings = {}
    t0 = time.perf_counter()
    if not clip.exists():
        _choreo("video", "stand-in", str(clip), "--seconds", str(args.seconds), "--size", "512", "--samples", "1")
        timings["stand_in_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if not (target / "target.json").exists():
        _choreo("video", "prepare", str(clip), "--out", str(target), "--size", "256")
        timings["prepare_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if not weights.exists():
        _choreo("video", "train", str(target), "--config", "cpu", *(["--steps", str(args.steps)] if args.steps else []))
        timings["train_s"] = time.perf_counter() - t0
    result = measure(target, weights, work)
    result["timings"] = timings
    (work / "video_bench.json").write_text(json.dumps(result, indent=2))
    h = result["held_out"]
    print(f"held-out self-transfer ({result['target']['held_out']} frames at {result['target']['size']}²): "
          f"SSIM {h['ssim']:.3f} (no face GAN {h['ssim_no_face_gan']:.3f}), PSNR {h['psnr']:.1f} dB; "
          f"face patch SSIM {h['face_ssim']:.3f} (no face GAN {h['face_ssim_no_face_gan']:.3f}); "
          f"frame-to-frame difference {h['frame_difference']:.2f} (real {h['frame_difference_real']:.2f})")
    print("render speed, frames/s on this CPU: " + ", ".join(f"{k} {v:.1f}" for k, v in result["speed_fps"].items())
          + f" (DanceIt: {DANCEIT_FPS} on a GPU)")
    print(f"wrote {work / 'video_bench.json'} and {work / 'heldout_sheet.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
