"""The preview render, as a child process of :func:`.render.render_preview`.

``python -m <package>.rigs.render_job JOB_JSON`` opens the saved copy, sets up
the preview and renders the movie. stdout carries only ``frame`` (one per
rendered frame) and ``wrote PATH``; everything Blender prints goes to stderr,
which the parent keeps out of the terminal. SIGINT is ignored (a Ctrl-C
reaches the whole process group; the parent decides and kills this process),
and if the parent dies, stdin reaches EOF and this process removes its partial
movie and exits.
"""

from __future__ import annotations

import json
import os
import signal
import sys

from ..core.child import watch_parent


def main(argv: list[str]) -> int:
    job = json.loads(argv[0])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    progress = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # Blender prints from C to fd 1: send it with stderr to the parent's log
    watch_parent(lambda: os.unlink(job["movie"]))

    import bpy

    from .render import apply_settings, configure_preview

    bpy.ops.wm.open_mainfile(filepath=job["blend"], load_ui=False)
    scene = bpy.data.scenes[job["scene"]]
    configure_preview(scene, width=job["width"], height=job["height"])
    apply_settings(scene, job.get("settings", ()))
    scene.frame_start, scene.frame_end = job["frames"]
    scene.render.filepath = job["movie"]
    bpy.app.handlers.render_post.append(lambda *_: progress.write("frame\n"))
    bpy.ops.render.render(animation=True, scene=scene.name)
    progress.write(f"wrote {scene.render.frame_path(frame=scene.frame_start)}\n")
    progress.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
