"""A sound strip's frames under the names each supported Blender has.

Blender 5.2 renamed a strip's timing (``frame_final_start`` → ``left_handle``,
``frame_final_end`` → ``right_handle``, ``frame_duration`` →
``content_duration``; ``frame_start`` reads as ``content_start``) and warns that
the old names go in 6.0; 4.5 and 5.0 have only the old ones.
"""

from __future__ import annotations


def _pick(strip, new: str, old: str) -> str:
    return new if hasattr(strip, new) else old


def content_start(strip) -> float:
    """Scene frame where the strip's sound file starts (before trims)."""
    return float(getattr(strip, _pick(strip, "content_start", "frame_start")))


def left_handle(strip) -> float:
    """Scene frame of the first audible frame (the left handle)."""
    return float(getattr(strip, _pick(strip, "left_handle", "frame_final_start")))


def right_handle(strip) -> float:
    """Scene frame just after the last audible frame (the right handle)."""
    return float(getattr(strip, _pick(strip, "right_handle", "frame_final_end")))


def set_left_handle(strip, frame: int) -> None:
    setattr(strip, _pick(strip, "left_handle", "frame_final_start"), int(frame))


def set_right_handle(strip, frame: int) -> None:
    setattr(strip, _pick(strip, "right_handle", "frame_final_end"), int(frame))


def content_frames(strip) -> int:
    """Frames of the whole sound file at the scene's rate (untrimmed)."""
    return int(getattr(strip, _pick(strip, "content_duration", "frame_duration")))


def pack_sound(sound) -> None:
    """Keep the sound's file inside the .blend (``sound.pack()``), so the .blend
    plays where the song file is not; already packed sounds are left as they are.
    Used by ``choreo generate --pack-audio`` and the panel's Pack Audio."""
    if sound.packed_file is not None:
        return
    try:
        sound.pack()
    except RuntimeError as exc:  # Blender's message does not name the file
        import bpy

        from ..core.errors import ChoreoInputError

        path = bpy.path.abspath(sound.filepath)
        raise ChoreoInputError(path, f"Pack Audio: could not pack the sound ({' '.join(str(exc).split())})") from None
