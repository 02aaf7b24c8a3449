"""A dance as a finished .blend (and optionally a preview MP4), without the UI.

:func:`write_dance_blend` builds a fresh scene: the music as a sound strip, a
dancer (Choreo's default rig, or the armature of a .blend / .fbx), the dance
keyed on it with beat and section markers, a camera and a light, at the frame
rate asked for (never the rig file's), then saves atomically. Blender's own
output (save and import notes) is kept from the terminal (:mod:`.quiet`). It
replaces the current Blender session's data, so call it from a command-line
process (``choreo demo``), not from inside the add-on.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from .quiet import quiet_blender

with quiet_blender():  # Blender 5.2 logs its colour-management set-up when bpy is imported
    import bpy

from ..core.batch.jobs import CHARACTERS
from ..core.errors import ChoreoInputError
from ..core.progress import report, scaled
from . import strips
from .rates import scene_rate

SCENE_FPS = 30
FRAME_START = 1


def add_music_strip(scene, audio_path: str, audio_start: float, n_frames: int, *, frame_start: int = FRAME_START):
    """A sound strip whose audible part starts ``audio_start`` s into the file at
    scene frame ``frame_start`` and lasts ``n_frames`` frames (or to the file's end).

    The file is placed ``round(audio_start * fps)`` frames before ``frame_start``
    and its left handle trimmed to ``frame_start`` (within half a frame of
    ``audio_start``: :func:`song_frame` says exactly where that second plays, for
    the keys), so the song's own part plays under the dance; no *Sound Offset*
    is used (Blender 5.0 delays the sound by it, the opposite of what its
    description suggests). The path is made absolute, so a relative song path
    (``cd songs && choreo generate x.ogg``) still finds the file wherever the
    .blend is saved and opened.
    """
    audio_path = os.path.abspath(audio_path)
    if not os.path.isfile(audio_path):
        raise ChoreoInputError(audio_path, "music file of the dance not found")
    ed = scene.sequence_editor_create()
    fps = scene.render.fps / scene.render.fps_base
    skip = int(round(audio_start * fps))  # file frames before the dance
    try:
        strip = ed.strips.new_sound("Music", audio_path, channel=1, frame_start=frame_start - skip)
    except RuntimeError as exc:  # Blender's message does not name the file
        raise ChoreoInputError(audio_path, f"Blender cannot read this sound ({exc})") from None
    left = strips.content_frames(strip) - skip  # file frames after audio_start
    strips.set_right_handle(strip, frame_start + max(1, min(n_frames, left)))
    strips.set_left_handle(strip, frame_start)
    return strip


def song_frame(strip, scene, seconds: float) -> float:
    """Scene frame (fractional) where second ``seconds`` of the file of
    ``strip`` (placed by :func:`add_music_strip`, no Sound Offset) plays."""
    return strips.content_start(strip) + seconds * scene.render.fps / scene.render.fps_base


def pick_armature(objs, path, name):
    """The armature named ``name`` among ``objs``, or the only one; never a guess."""
    arms = [o for o in objs if o is not None and o.type == "ARMATURE"]
    if not arms:
        raise ChoreoInputError(path, "contains no armature")
    names = ", ".join(sorted(o.name for o in arms))
    if name is None:
        if len(arms) > 1:
            raise ChoreoInputError(path, f"holds {len(arms)} armatures ({names}); choose one with --armature NAME")
        return arms[0]
    for o in arms:
        if o.name == name:
            return o
    raise ChoreoInputError(path, f"has no armature named {name!r}; its armatures: {names}")


def load_rig(scene, rig_path: str | os.PathLike | None, armature: str | None = None,
             character: str = "mannequin"):
    """The dancer: Choreo's default rig dressed as ``character`` (the grey
    ``mannequin``, or the ``actor``: a textured person in a T-shirt and jeans), or
    the armature (the only one, or the one named ``armature``) appended from a
    .blend (with the objects parented to it) or imported from an .fbx. The FBX
    importer sets the scene's frame rate to the file's: callers put their own back."""
    if rig_path is None:
        if armature is not None:
            raise ChoreoInputError(armature, "an armature name needs a rig file (--rig)")
        if character not in CHARACTERS:
            raise ChoreoInputError(character, f"unknown character; expected one of {', '.join(CHARACTERS)}")
        from .armature import build_default_rig, default_rest_joints

        arm = build_default_rig(collection=scene.collection, with_mesh=character == "mannequin")
        if character == "actor":
            from .actor import build_actor

            build_actor(arm, default_rest_joints(), scene.collection)
        return arm
    path = os.path.abspath(os.fspath(rig_path))
    if not os.path.isfile(path):
        raise ChoreoInputError(path, "rig file not found")
    ext = Path(path).suffix.lower()
    if ext == ".blend":
        with quiet_blender():  # a user error raised inside is not followed by Blender's text
            try:
                with bpy.data.libraries.load(path, link=False) as (src, dst):
                    dst.objects = list(src.objects)
            except OSError as exc:
                raise ChoreoInputError(path, f"not a readable .blend ({exc})") from None
        arm = pick_armature(dst.objects, path, armature)
        keep = {arm} | {o for o in dst.objects if o is not None and o.parent == arm}
        for o in dst.objects:
            if o is None:
                continue
            if o in keep:
                scene.collection.objects.link(o)
            else:
                bpy.data.objects.remove(o)
        return arm
    if ext == ".fbx":
        before = set(bpy.data.objects)
        with quiet_blender():
            try:
                bpy.ops.import_scene.fbx(filepath=path)
            except RuntimeError as exc:
                raise ChoreoInputError(path, f"FBX import failed ({str(exc).strip().splitlines()[-1]})") from None
        return pick_armature([o for o in bpy.data.objects if o not in before], path, armature)
    raise ChoreoInputError(path, f"unsupported rig file {ext or '(no extension)'}; expected .blend or .fbx")


def save_blend_atomic(out_path: str | os.PathLike) -> str:
    """Save the session as ``out_path`` through a temporary copy and a rename."""
    out_path = os.path.abspath(os.fspath(out_path))
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    tmp = os.path.join(os.path.dirname(out_path), f".{os.path.basename(out_path)}.{os.getpid()}.part.blend")
    try:
        with quiet_blender():
            res = bpy.ops.wm.save_as_mainfile(filepath=tmp, copy=True, compress=False)
        if "FINISHED" not in res or not os.path.isfile(tmp):
            raise RuntimeError(f"Blender did not save {tmp}")
        os.replace(tmp, out_path)
    finally:
        for leftover in (tmp, tmp + "1"):
            if os.path.exists(leftover):
                os.unlink(leftover)
    return out_path


def write_dance_blend(dance, out_path, *, rig_path=None, render_path=None, key_mode: str = "beats",
                      fps=None, armature: str | None = None, pack_audio: bool = False,
                      notes=(), character: str = "mannequin", camera: str = "follow", margin: float = 0.1,
                      stage_m: float = 4.0, render: dict | None = None, progress=None) -> dict:
    """Write ``dance`` as a ready-to-open .blend (and optionally an MP4 preview).

    Parameters
    ----------
    dance : choreo.core.generation.Dance
        Dance time 0 is ``dance.audio_start`` s into ``dance.audio_path``.
    out_path : path
        The .blend to write (atomically).
    rig_path : path, optional
        A .blend (its armature, with the objects parented to it) or .fbx to
        dance; default Choreo's rig.
    render_path : path, optional
        Also render an MP4 with the music there (640×360 Workbench unless ``render`` says).
    key_mode : {"beats", "poses", "dense"}
    fps : float or str, optional
        Scene frame rate (:func:`~.rates.scene_rate`: 30, 25, 23.976,
        "24000/1001" …; default ``SCENE_FPS``); a rig file's own rate never
        replaces it.
    armature : str, optional
        The armature object to dance when the rig file holds several.
    pack_audio : bool
        Pack the song into the .blend, so it plays without the song file.
    notes : sequence of (float, str)
        Further markers (dance time s, text), e.g. where a lifted dance was filled.
    character : {"mannequin", "actor"}
        How Choreo's default rig is dressed (:func:`load_rig`; not for a rig file).
    camera, margin, stage_m
        The camera (:func:`.stage.add_preview_stage`): ``follow`` (default) tracks the
        dancer keeping ``margin`` of the frame clear, ``stage`` frames the ``stage_m``
        square, ``fixed`` frames all of the dance from one place.
    render : dict, optional
        The movie: ``width`` and ``height`` (the scene's resolution, saved in the .blend
        too), ``settings`` (:func:`.render.movie_settings`: engine, codec, caption …).
    progress : ProgressFn, optional

    Returns
    -------
    dict
        ``blend``, ``mp4`` (or None), ``armature``, ``frames``, ``fps`` (float),
        ``markers``, ``apply`` (apply_dance's report), ``render`` (or None) and
        ``timings`` (seconds per step).

    Notes
    -----
    This resets the running Blender session (``read_factory_settings``).
    """
    from .apply import apply_dance

    rate = scene_rate(SCENE_FPS if fps is None else fps)
    timings = {}
    t = time.perf_counter()
    report(progress, 0.0, "new scene")
    with quiet_blender():
        bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.name = "Choreo"
    render = dict(render or {})
    scene.render.resolution_x, scene.render.resolution_y = render.get("width", 640), render.get("height", 360)
    if rig_path is not None and character != "mannequin":
        raise ChoreoInputError(rig_path, "a character dresses Choreo's own rig, not a rig file")
    arm = load_rig(scene, rig_path, armature, character)
    # After the rig: the FBX importer sets the scene to the file's rate. Frames,
    # keys, markers and the strip are all placed at this one.
    scene.render.fps, scene.render.fps_base = rate
    scene_fps = rate[0] / rate[1]
    n = int(round(dance.motion.duration * scene_fps))
    dance_start = float(FRAME_START)  # scene frame of dance time 0
    if dance.audio_path:
        strip = add_music_strip(scene, os.fspath(dance.audio_path), float(dance.audio_start), n)
        if pack_audio:
            strips.pack_sound(strip.sound)
        # The strip starts on a whole frame; the keys go where the song's second
        # audio_start really plays (up to half a frame off frame 1 at 23.976 fps).
        dance_start = song_frame(strip, scene, float(dance.audio_start))
    timings["scene_s"] = time.perf_counter() - t

    t = time.perf_counter()
    apply_report = apply_dance(dance, arm, scene, frame_start=dance_start, key_mode=key_mode, notes=notes,
                               progress=scaled(progress, 0.05, 0.5))
    if not any(m.name.startswith("choreo:") for m in scene.timeline_markers):
        from .markers import add_dance_markers, labelled_sections

        add_dance_markers(scene, beats=dance.beats, downbeats=dance.downbeats, sections=labelled_sections(dance),
                          frame_start=dance_start, scene_fps=scene_fps, notes=notes)
    timings["apply_s"] = time.perf_counter() - t

    from .stage import add_preview_stage

    scene.frame_start, scene.frame_end = FRAME_START, FRAME_START + max(n, 1) - 1
    add_preview_stage(scene, arm, motion=dance.motion, camera=camera, margin=margin, stage_m=stage_m)
    scene.frame_set(FRAME_START)

    t = time.perf_counter()
    report(progress, 0.5, "save")
    blend = save_blend_atomic(out_path)
    timings["save_s"] = time.perf_counter() - t

    movie = None
    if render_path is not None:
        from .render import render_preview

        movie = render_preview(scene, render_path, width=scene.render.resolution_x,
                               height=scene.render.resolution_y, settings=render.get("settings"),
                               progress=scaled(progress, 0.55, 1.0))
        timings["render_s"] = movie["seconds"]
    report(progress, 1.0, "done")
    return {"blend": blend, "mp4": movie["path"] if movie else None, "armature": arm.name,
            "frames": n, "fps": scene_fps,
            "markers": sum(m.name.startswith("choreo:") for m in scene.timeline_markers),
            "apply": apply_report, "render": movie, "timings": timings}
