"""Put a :class:`~choreo.core.generation.Dance` on an armature: bone map,
retarget, keys on the beats, timeline markers — all or nothing."""

from __future__ import annotations

import os
import time

import bpy

from ..core.errors import ChoreoInputError
from ..core.progress import report as report_progress
from ..core.progress import scaled
from . import actions, bonemaps, strips
from .bonegroups import locked_channels
from .keyposes import ERROR_PROPERTY, error_record
from .keys import write_action_undoable
from .markers import add_dance_markers_undoable, labelled_sections


def scene_fps(scene) -> float:
    return scene.render.fps / scene.render.fps_base


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def dance_frame_start(dance, scene) -> float:
    """Scene frame of dance time 0: where the sound strip playing the dance's
    song plays second ``dance.audio_start`` of the file, else ``scene.frame_start``."""
    fps = scene_fps(scene)
    ed = scene.sequence_editor
    if dance.audio_path and ed is not None:
        all_strips = ed.strips_all if hasattr(ed, "strips_all") else ed.sequences_all   # 5.0 / 4.5
        for s in all_strips:
            if s.type != 'SOUND' or s.sound is None:
                continue
            path = bpy.path.abspath(s.sound.filepath, library=s.sound.library)
            if _same_file(path, os.fspath(dance.audio_path)):
                # File second x plays at the file's start frame + (x + sound_offset) * fps:
                # Sound Offset delays the sound (mixdowns on 4.5.15, 5.0.1, 5.2.3;
                # choreo.addon.strip_audio).
                return float(strips.content_start(s) + (dance.audio_start + s.sound_offset) * fps)
    return float(scene.frame_start)


def apply_dance(dance, arm_obj, scene, *, frame_start=None, key_mode: str = "beats", tolerance_m: float = 0.02,
                bone_map=None, frame_range=None, follow_keys: bool = True, locks=(), notes=(), progress=None) -> dict:
    """Retarget ``dance`` onto ``arm_obj`` and key it in ``scene``.

    Parameters
    ----------
    dance : Dance
    arm_obj : bpy.types.Object
        An armature: local or an editable library override (not linked data).
    scene : bpy.types.Scene
        Gives the frame rate (``render.fps / fps_base``) and takes the markers.
    frame_start : float or None
        Scene frame of dance time 0; None: where the song's sound strip plays
        ``dance.audio_start`` (else the scene's first frame).
    key_mode : {"beats", "poses", "dense"}
    tolerance_m : float
        Largest joint drift (m) of the keyed curves from the dance ("beats").
    bone_map : BoneMap or None
        None: the rig's stored map, else the detected one.
    frame_range : (int, int) or None
        Regenerate only these frames, keeping the previous keys outside, joined
        at both seams, through the animator's keys inside (``follow_keys``).
    follow_keys : bool
        Pass through the animator's keys inside ``frame_range`` (:mod:`.ranges`).
    locks : iterable of str
        With ``frame_range``: bone groups kept as they are
        (:data:`~.bonegroups.LOCK_GROUPS`; "legs" keeps the hips and the travel with them).
    notes : sequence of (float, str)
        Further markers (dance time s, text), e.g. where a lifted dance was filled.
    progress : ProgressFn or None

    Returns
    -------
    dict
        ``action, keys, keys_per_second, key_error_max_m, key_error_mean_m,
        key_error_groups_max_m, key_error_groups_mean_m`` (m, per bone group), ``poses,
        pose_error_m, retarget_error_mean_m, bone_map, bone_map_stored, unmapped, frames,
        seconds, markers, frame_start, scene_fps, timings``. The map used is
        stored on the armature (:func:`.bonemaps.store_bone_map`;
        ``bone_map_stored`` False on a library override whose library
        armature has no map property).

    Raises
    ------
    ChoreoInputError
        The object is not a usable armature or can't be mapped. On any error
        the scene is left as it was (new action, NLA track, markers removed).
    """
    t_all = time.perf_counter()
    name = getattr(arm_obj, "name", str(arm_obj))
    if getattr(arm_obj, "type", None) != 'ARMATURE':
        raise ChoreoInputError(name, "is not an armature object")
    actions.check_animatable(arm_obj)
    if len(dance.motion.joints) < 2:
        raise ChoreoInputError("dance", "has fewer than two frames")
    from .retarget import retarget, retarget_error

    timings = {}
    report_progress(progress, 0.0, "bone map")
    bmap = bone_map or bonemaps.bone_map_for(arm_obj)
    fps = scene_fps(scene)
    f_start = dance_frame_start(dance, scene) if frame_start is None else float(frame_start)

    # Rig preparation changes rotation modes (values kept) and Rigify IK/FK
    # switches; remember them so a failure can put them back.
    modes = {pb.name: (pb.rotation_mode, tuple(pb.rotation_quaternion), tuple(pb.rotation_euler),
                       tuple(pb.rotation_axis_angle)) for pb in arm_obj.pose.bones}
    props = {pb.name: {k: pb[k] for k in pb.keys() if isinstance(pb[k], (int, float))} for pb in arm_obj.pose.bones}
    undo = []
    try:
        prepare = getattr(bonemaps, "prepare_rig_for_keys", None)
        if prepare is not None:
            prepare(arm_obj, bmap)
        t = time.perf_counter()
        anim = retarget(dance.motion, arm_obj, bmap, progress=scaled(progress, 0.05, 0.5))
        timings["retarget_s"] = time.perf_counter() - t
        rerr = retarget_error(anim)

        report_progress(progress, 0.5, "keys")
        t = time.perf_counter()
        locked_bones, lock_travel = locked_channels(anim, locks)
        keys, swap = write_action_undoable(arm_obj, anim, scene_fps=fps, frame_start=f_start,
                                           beat_times=dance.beats, mode=key_mode, tolerance_m=tolerance_m,
                                           frame_range=frame_range, follow_keys=follow_keys,
                                           locked_bones=locked_bones, lock_travel=lock_travel)
        undo.append(swap.undo)
        timings["keys_s"] = time.perf_counter() - t

        report_progress(progress, 0.95, "markers")
        n_markers, undo_markers = add_dance_markers_undoable(
            scene, beats=dance.beats, downbeats=dance.downbeats, sections=labelled_sections(dance),
            frame_start=f_start, scene_fps=fps, notes=notes)
        undo.append(undo_markers)

        if dance.sources and frame_range is None:  # where each move came from, on the action it keys
            set_sources(bpy.data.actions[keys.action_name], dance, f_start, fps)

        # The map used is kept on the rig as editable JSON: the next Generate
        # reads it back (bone_map_for), hand edits included.
        old_map = arm_obj.get(bonemaps.PROPERTY)
        undo.append(lambda: _restore_property(arm_obj, bonemaps.PROPERTY, old_map))
        map_stored = bonemaps.store_bone_map(arm_obj, bmap)
        # The error per bone group, for the panel: on the rig, so undo and a failure revert it with the keys.
        old_err = arm_obj.get(ERROR_PROPERTY)
        undo.append(lambda: _restore_property(arm_obj, ERROR_PROPERTY, old_err))
        arm_obj[ERROR_PROPERTY] = error_record(key_mode, keys.frames, keys.group_max_error_m, keys.group_mean_error_m)
    except BaseException:
        for fn in reversed(undo):
            fn()
        _restore_pose_state(arm_obj, modes, props)
        raise
    report_progress(progress, 1.0, "done")
    timings["total_s"] = time.perf_counter() - t_all
    return {
        "action": keys.action_name,
        "keys": keys.keys,
        "keys_per_second": keys.keys_per_second,
        "key_channels": keys.channels,
        "key_error_max_m": keys.max_error_m,
        "key_error_mean_m": keys.mean_error_m,
        "key_error_groups_max_m": dict(keys.group_max_error_m),    # per bone group (.bonegroups)
        "key_error_groups_mean_m": dict(keys.group_mean_error_m),
        "poses": keys.poses,
        "pose_error_m": keys.pose_error_m,
        "retarget_error_mean_m": float(rerr["mean_m"]),
        "retarget_error_max_m": float(rerr["max_m"]),
        "bone_map": bmap.kind,
        "bone_map_stored": map_stored,
        "unmapped": list(bmap.unmapped),
        "frames": keys.frames,
        "frame_start": f_start,
        "scene_fps": fps,
        "seconds": float(dance.motion.duration),
        "markers": n_markers,
        "timings": timings,
    }


SOURCES_PROPERTY = "choreo_sources"


def set_sources(action, dance, f_start: float, fps: float) -> None:
    """Write ``dance.sources`` (a library dance's provenance) on ``action`` as the JSON custom
    property "choreo_sources": per fragment the scene frames and bars it fills and the
    source (name, library id) and seconds of the move there."""
    import json

    rows = [{"frames": [round(f_start + (p["song_start_s"] - dance.audio_start) * fps, 2),
                        round(f_start + (p["song_end_s"] - dance.audio_start) * fps, 2)],
             "bars": p.get("bars", []), "source": p["source"], "source_id": p.get("source_id", ""),
             "source_seconds": [p["source_start_s"], p["source_end_s"]],
             "mirrored": bool(p.get("mirrored", False))} for p in dance.sources]
    action[SOURCES_PROPERTY] = json.dumps(rows)


def _restore_property(obj, key: str, value) -> None:
    if value is None:
        if key in obj:
            del obj[key]
    else:
        obj[key] = value


def _restore_pose_state(arm_obj, modes: dict, props: dict) -> None:
    """Put rotation modes/values and numeric bone properties back as recorded."""
    for pb in arm_obj.pose.bones:
        if pb.name in modes:
            mode, q, e, aa = modes[pb.name]
            pb.rotation_mode = mode
            pb.rotation_quaternion, pb.rotation_euler, pb.rotation_axis_angle = q, e, aa
        for k, v in props.get(pb.name, {}).items():
            if k in pb.keys() and pb[k] != v:
                pb[k] = v

