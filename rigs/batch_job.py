"""One batch job (issue 18), in a process of its own: a dance for a song, and its files.

``python -m <package>.rigs.batch_job JOB_JSON`` generates the job's dance and writes its
outputs into the job's working folder (:func:`make_job`). It is a fresh process per job, so
each job has its own Blender data and one bad rig cannot poison the next. stdout carries only
``progress FRACTION TEXT`` lines and a last ``done JSON`` (the report) or ``error TEXT`` (a
one-line reason); Blender's own output goes to stderr. If the parent dies (stdin reaches
EOF) this process exits at once; the parent's atomic folder means nothing half-written is left
where the outputs go.
"""

from __future__ import annotations

import json
import os
import sys
import time

from ..core.batch.jobs import DEFAULT_RIG
from ..core.child import watch_parent
from ..core.errors import ChoreoError

OUTPUT_FILES = {"npz": "dance.npz", "bvh": "dance.bvh", "blend": "dance.blend", "preview": "preview.mp4",
                "photoreal": "photoreal.mp4"}


def caption_text(job: dict) -> str:
    """The burned-in caption: song, rig or character, model, seed (and energy)."""
    from pathlib import Path

    rig = job["character"] or Path(job["rig"]).stem
    text = f"{Path(job['song_path']).stem} · {rig} · {Path(job['family']).stem} · seed {job['seed']}"
    return text + (f" · energy {job['energy']:g}" if job["energy"] != 1.0 else "")


def make_job(job: dict, folder: str, progress=None) -> dict:
    """Generate ``job``'s dance and write its outputs into ``folder``; returns the report
    (``outputs``: name → file name; ``timings`` s; ``dance``: its length, tempo, beats)."""
    from ..core.cleanup import StagePlan
    from ..core.formats import save_motion
    from ..core.generation import generate_dance, save_dance
    from ..core.progress import report, scaled

    s = job["settings"]
    outputs = s["outputs"]
    timings: dict[str, float] = {}
    t = time.perf_counter()
    dance = generate_dance(job["song_path"], weights=job["family"], seed=job["seed"], energy=job["energy"],
                           start=s.get("start"), end=s.get("end"),
                           stage=StagePlan(s["turn"], s["travel"], s["stage"]).checked(),
                           progress=scaled(progress, 0.0, 0.3))
    timings["generate_s"] = time.perf_counter() - t
    files = {}
    if "npz" in outputs:
        save_dance(dance, os.path.join(folder, OUTPUT_FILES["npz"]))
        files["npz"] = OUTPUT_FILES["npz"]
    if "bvh" in outputs:
        save_motion(dance.motion, os.path.join(folder, OUTPUT_FILES["bvh"]))
        files["bvh"] = OUTPUT_FILES["bvh"]
    if "blend" in outputs or "preview" in outputs:
        from .render import movie_settings
        from .scene import write_dance_blend

        pv = s["preview"]
        settings = movie_settings(pv["engine"], samples=pv["samples"], codec=pv["codec"], quality=pv["quality"],
                                  caption=caption_text(job) if pv["caption"] else None, height=pv["height"],
                                  textured=job["character"] == "actor")
        blend = os.path.join(folder, OUTPUT_FILES["blend"] if "blend" in outputs else ".scene.blend")
        movie = os.path.join(folder, OUTPUT_FILES["preview"]) if "preview" in outputs else None
        t = time.perf_counter()
        rep = write_dance_blend(dance, blend, rig_path=None if job["rig"] == DEFAULT_RIG else job["rig"],
                                render_path=movie, key_mode=s["key_mode"], fps=s["fps"], armature=s.get("armature"),
                                character=job["character"] or "mannequin", camera=pv["camera"],
                                margin=pv["margin"], stage_m=s["stage"],
                                render={"width": pv["width"], "height": pv["height"], "settings": settings},
                                progress=scaled(progress, 0.3, 0.9 if "photoreal" in outputs else 1.0))
        timings.update(rep["timings"])
        timings["blend_s"] = time.perf_counter() - t - rep["timings"].get("render_s", 0.0)
        if "blend" in outputs:
            files["blend"] = OUTPUT_FILES["blend"]
        else:
            os.unlink(blend)
        if movie:
            files["preview"] = OUTPUT_FILES["preview"]
    if "photoreal" in outputs:
        from ..core.audio.io import load_audio
        from ..core.video.film import film_dance
        from ..core.video.renderer import Renderer

        ph = s["photoreal"]
        backend = ph["backend"]
        if backend == "auto":
            import importlib.util

            backend = "torch" if importlib.util.find_spec("torch") is not None else "numpy"
        t = time.perf_counter()
        renderer = Renderer(ph["target"], backend=backend)
        camera = None
        if ph["camera_yaw"]:
            import math
            from dataclasses import replace

            from ..core.video.stage import front_camera

            camera = replace(front_camera(dance.motion.joints, renderer.size), yaw=math.radians(ph["camera_yaw"]))
        y, sr = load_audio(job["song_path"], sr=44100)
        film_dance(renderer, dance.motion.joints, float(dance.motion.fps), (y, sr, float(dance.audio_start)),
                   os.path.join(folder, OUTPUT_FILES["photoreal"]), camera=camera, progress=scaled(progress, 0.9, 1.0))
        timings["photoreal_s"] = time.perf_counter() - t
        files["photoreal"] = OUTPUT_FILES["photoreal"]
    report(progress, 1.0, "done")
    return {"outputs": files, "timings": timings,
            "dance": {"seconds": round(float(dance.duration), 3), "tempo": round(float(dance.tempo), 2),
                      "beats": len(dance.beats), "audio_start": float(dance.audio_start), "model": dance.model}}


def main(argv: list[str]) -> int:
    request = json.loads(argv[0])
    job, folder = request["job"], request["folder"]
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # Blender prints from C to fd 1: send it with stderr to the parent's log
    watch_parent()

    def progress(fraction, text=""):
        out.write(f"progress {float(fraction):.4f} {text}\n")

    try:
        rep = make_job(job, folder, progress)
    except ChoreoError as exc:
        out.write(f"error {' '.join(str(exc).split())}\n")
        return 2
    try:
        import resource
    except ImportError:  # Windows
        rep["peak_rss_mb"] = None
    else:  # this process's peak and its render child's; ru_maxrss is in KiB on Linux
        usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        rep["peak_rss_mb"] = round(max(usage) / 1024, 1)
    out.write("done " + json.dumps(rep) + "\n")
    out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
