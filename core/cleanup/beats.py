"""On the beat: the dance's accents moved onto the music's beats (DanceIt's temporal alignment).

The generator hears the music but places its accents (the pauses of its
movement, where the joints are slowest) only near the beats. As DanceIt
does at generation (seed 003, §IV-C) and as the corpus does for its pairs
(:mod:`choreo.core.data.align`), the dance is time-warped so that its
kinematic beats land on music beats — locally: each music beat takes the
nearest kinematic beat within :data:`REACH` of a beat interval, every piece
between anchors plays at 0.8–1.25× its speed, and the dance's first and last
frames stay where they are, so it stays in sync with the song over any length.
The warp is piecewise linear through the anchors
(:func:`~choreo.core.data.align.time_map`), sampled at the dance's own frames.
"""

from __future__ import annotations

import numpy as np

from ..data.align import Alignment, sample_motion, time_map
from ..data.kinematic import kinematic_beats
from ..motion import Motion

#: How far (fraction of the local beat interval) a kinematic beat may move onto a music beat.
REACH = 0.5
MIN_RATIO, MAX_RATIO = 0.8, 1.25


def beat_anchors(kin: np.ndarray, beats: np.ndarray, duration: float) -> tuple[np.ndarray, np.ndarray]:
    """(music times, dance times) of the anchors: the ends, and each music beat with
    the nearest free kinematic beat within reach, kept where every piece's speed
    ratio stays within bounds (a greedy pass in time order)."""
    beats = np.asarray(beats, np.float64)
    beats = beats[(beats > 1e-6) & (beats < duration - 1e-6)]
    kin = np.asarray(kin, np.float64)
    out, src = [0.0], [0.0]
    if len(beats) and len(kin):
        ibi = np.gradient(beats) if len(beats) > 1 else np.full(1, duration)
        near = np.clip(np.searchsorted(kin, beats), 1, len(kin)) - 1
        pick = np.where(np.abs(kin[np.minimum(near + 1, len(kin) - 1)] - beats) < np.abs(kin[near] - beats),
                        np.minimum(near + 1, len(kin) - 1), near)
        for b, k, w in zip(beats, kin[pick], ibi):
            if abs(k - b) > REACH * w or k <= src[-1]:
                continue
            ratio = (k - src[-1]) / (b - out[-1])
            if MIN_RATIO <= ratio <= MAX_RATIO:
                out.append(b)
                src.append(k)
        # the last piece must reach the end within bounds too: drop anchors until it does
        while len(out) > 1 and not MIN_RATIO <= (duration - src[-1]) / max(duration - out[-1], 1e-9) <= MAX_RATIO:
            out.pop()
            src.pop()
    out.append(duration)
    src.append(duration)
    return np.array(out), np.array(src)


def align_to_beats(motion: Motion, beats: np.ndarray | None) -> Motion:
    """``motion`` time-warped so its kinematic beats fall on ``beats`` (s from its
    first frame); unchanged without beats. Same length, same first and last frame."""
    if beats is None or len(beats) == 0 or motion.num_frames < 4:
        return motion
    duration = (motion.num_frames - 1) / motion.fps
    out, src = beat_anchors(kinematic_beats(motion), beats, duration)
    if len(out) <= 2:
        return motion
    al = Alignment(out, src, matched=len(out) - 2, score=0.0)
    times = time_map(al, motion.fps)
    times = np.concatenate([times, [duration]])[: motion.num_frames]
    # in blocks (a long song's float64 copies stay small); blending neighbouring frames
    # shortens bones a little where they turn fast: restore them
    lengths = np.median(motion.bone_lengths(), axis=0)
    joints = np.empty_like(motion.joints)
    for a in range(0, len(times), 4096):
        part = sample_motion(motion, times[a:a + 4096], motion.fps)
        joints[a:a + 4096] = part.with_bone_lengths(lengths).joints
    return Motion(joints, motion.fps, motion.joint_names)
