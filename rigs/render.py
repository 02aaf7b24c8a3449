"""Preview movies: Workbench render of the scene to an H.264 MP4 with the music (AAC).

Workbench is the only fast engine without a GPU (≈0.1 s/frame at 640×360);
EEVEE falls back to software GL there. The render runs in a child process
(:mod:`.render_job`) on a saved copy of the session: Blender's render loop is C
code that a Python signal cannot stop (it swallows exceptions raised in
``render_post``), but a child can be killed, so Ctrl-C or SIGTERM stops the
render at once. The movie is written to a temporary name beside the target and
moved into place only when complete; Blender's output is kept from the
terminal and shown only when the render fails. ``settings`` changes the look
(engine, shading, codec: :mod:`.actor_clip` renders with Cycles through it).
"""

from __future__ import annotations

import json
import os
import time

import bpy

from ..core.progress import report
from .quiet import quiet_blender

_JOB = __name__.rpartition(".")[0] + ".render_job"


def configure_preview(scene, *, width: int = 640, height: int = 360, audio: bool = True) -> None:
    """Set ``scene`` up for a Workbench H.264/AAC MP4 preview."""
    r = scene.render
    r.engine = "BLENDER_WORKBENCH"
    r.resolution_x, r.resolution_y, r.resolution_percentage = int(width), int(height), 100
    r.use_file_extension = False
    scene.display.render_aa = "FXAA"  # 1 sample instead of 8: ~3× faster, fine for a preview
    shading = scene.display.shading
    shading.light = "STUDIO"
    shading.color_type = "MATERIAL"
    img = r.image_settings
    if hasattr(img, "media_type"):  # 5.0: pick the movie family before the format
        img.media_type = "VIDEO"
    img.file_format = "FFMPEG"
    ff = r.ffmpeg
    ff.format = "MPEG4"
    ff.codec = "H264"
    ff.constant_rate_factor = "MEDIUM"
    ff.ffmpeg_preset = "REALTIME"
    ff.audio_codec = "AAC" if audio else "NONE"
    if audio:
        ff.audio_channels = "STEREO"
        ff.audio_mixrate = 48000
        ff.audio_bitrate = 192


_CODECS = {"h264": "H264", "h265": "H265", "av1": "AV1"}
_QUALITY = {"low": "LOW", "medium": "MEDIUM", "high": "HIGH", "lossless": "PERC_LOSSLESS"}
_STAMPS_OFF = ("date", "time", "render_time", "frame", "frame_range", "memory", "hostname", "camera", "lens",
               "scene", "marker", "filename", "sequencer_strip")


def eevee_engine() -> str:
    """EEVEE's identifier in this Blender (4.5 calls it BLENDER_EEVEE_NEXT)."""
    ids = {e.identifier for e in bpy.types.RenderSettings.bl_rna.properties["engine"].enum_items}
    return "BLENDER_EEVEE" if "BLENDER_EEVEE" in ids else "BLENDER_EEVEE_NEXT"


def movie_settings(engine: str = "workbench", *, samples: int | None = None, codec: str = "h264",
                   quality: str = "medium", caption: str | None = None, height: int = 360,
                   textured: bool = False) -> dict:
    """Render settings (dotted scene paths, for :func:`render_preview`) over the preview's own.

    ``engine``: ``workbench`` (the fast preview; ``samples`` = anti-aliasing samples, 1 = FXAA),
    ``eevee`` (lit; ``samples`` per pixel, default 16; without a GPU Blender draws it in
    software, slowly) or ``cycles`` (lit, on the CPU; ``samples`` paths per pixel, denoised).
    ``codec`` h264, h265 or av1 in an MP4; ``quality`` low, medium, high or lossless (the
    encoder's constant rate factor). ``caption``: a line of text burned into every frame's
    foot. ``textured``: Workbench shows image textures (the dressed actor)."""
    from .actor_clip import WORKBENCH_AA, engine_settings

    s: dict = {}
    if engine == "workbench":
        if samples is not None:
            if samples not in WORKBENCH_AA:
                raise ValueError(f"Workbench takes 1 (FXAA), 5, 8, 11, 16 or 32 samples, got {samples}")
            s["display.render_aa"] = WORKBENCH_AA[samples]
        if textured:
            s["display.shading.color_type"] = "TEXTURE"
    elif engine == "eevee":
        s["render.engine"] = eevee_engine()
        s["eevee.taa_render_samples"] = int(samples or 16)
    elif engine == "cycles":
        s.update({k: v for k, v in engine_settings("CYCLES", samples).items()
                  if k.startswith("cycles.") or k in ("render.engine", "render.use_persistent_data")})
    else:
        raise ValueError(f"unknown engine {engine!r}")
    s["render.ffmpeg.codec"] = _CODECS[codec]
    s["render.ffmpeg.constant_rate_factor"] = _QUALITY[quality]
    if caption:
        s["render.use_stamp"] = True
        s.update({f"render.use_stamp_{k}": False for k in _STAMPS_OFF})
        s["render.use_stamp_note"] = True
        s["render.stamp_note_text"] = str(caption)
        s["render.stamp_font_size"] = max(12, int(height) // 24)
        s["render.stamp_background"] = [0.0, 0.0, 0.0, 0.55]
    return s


def apply_settings(scene, settings) -> None:
    """Set ``(dotted path, value)`` pairs (or a dict of them) on ``scene``, in order."""
    for path, value in (settings.items() if isinstance(settings, dict) else settings):
        *owners, attr = path.split(".")
        target = scene
        for name in owners:
            target = getattr(target, name)
        setattr(target, attr, tuple(value) if isinstance(value, list) else value)


def _run_job(job: dict, n: int, progress) -> str:
    """Run :mod:`.render_job` on ``job``; return the movie it wrote.

    Its stdout carries only ``frame`` / ``wrote PATH`` lines; Blender's own
    output goes to a log read back only on failure. The child is killed on any
    exception here, KeyboardInterrupt included.
    """
    from ..core.child import run_child

    state = {"written": None, "done": 0}

    def on_line(kind, rest):
        if kind == "frame":
            state["done"] += 1
            report(progress, state["done"] / max(n, 1), f"render frame {state['done']}/{n}")
        elif kind == "wrote":
            state["written"] = rest

    rc, tail = run_child(_JOB, json.dumps(job), on_line)
    written = state["written"]
    if rc != 0 or not written or not os.path.isfile(written):
        raise RuntimeError(f"preview render failed (exit {rc}); Blender said:\n{tail}")
    return written


def render_preview(scene, out_path: str | os.PathLike, *, width: int = 640, height: int = 360,
                   frame_range: tuple[int, int] | None = None, settings: dict | None = None,
                   progress=None) -> dict:
    """Render ``scene`` to the MP4 ``out_path`` (atomic) and return timings.

    Parameters
    ----------
    scene : bpy.types.Scene
        Rendered as it is now (a copy of the session is saved for the child
        process); ``scene`` itself is not changed.
    frame_range : (int, int), optional
        Inclusive frames; default the scene's range.
    settings : dict, optional
        ``{"dotted.path": value}`` set on the scene, in order, after the
        preview set-up (:func:`configure_preview`), e.g.
        ``{"render.engine": "CYCLES", "cycles.samples": 16}``; values are
        JSON (lists for vectors). Default: the plain preview.
    progress : ProgressFn, optional
        Called after every rendered frame.

    Returns
    -------
    dict
        ``path``, ``frames``, ``seconds``, ``seconds_per_frame``, ``width``, ``height``.
    """
    out_path = os.path.abspath(os.fspath(out_path))
    folder = os.path.dirname(out_path)
    os.makedirs(folder, exist_ok=True)
    stem = os.path.join(folder, f".{os.path.basename(out_path)}.{os.getpid()}.part")
    movie, blend = stem + ".mp4", stem + ".blend"
    f0, f1 = (scene.frame_start, scene.frame_end) if frame_range is None else map(int, frame_range)
    n = f1 - f0 + 1
    t0 = time.perf_counter()
    try:
        with quiet_blender():
            if "FINISHED" not in bpy.ops.wm.save_as_mainfile(filepath=blend, copy=True, compress=False):
                raise RuntimeError(f"Blender did not save {blend}")
        written = _run_job({"blend": blend, "scene": scene.name, "movie": movie, "frames": [f0, f1],
                            "width": int(width), "height": int(height), "settings": list((settings or {}).items())},
                           n, progress)
        os.replace(written, out_path)
    finally:
        for leftover in (movie, blend, blend + "1"):
            if os.path.exists(leftover):
                os.unlink(leftover)
    seconds = time.perf_counter() - t0
    return {"path": out_path, "frames": n, "seconds": seconds, "seconds_per_frame": seconds / max(n, 1),
            "width": int(width), "height": int(height)}
