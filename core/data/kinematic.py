"""Kinematic beats and motion energy of a dance.

A dancer marks a musical beat by a *stop*: a hit, a landing, the end of an
arm sweep. In joint positions that is a local minimum of body speed, so the
kinematic beats used here (as in DanceIt, Bailando and FACT) are the local
minima of the mean joint speed. Choices, each a parameter:

- speed = mean over the 24 joints of the global joint speed (m/s). Global
  velocity = root-relative velocity + root velocity, so both the limbs and the
  travel of the body count; a turn counts too, as it moves the limbs.
- smoothed with a Gaussian of ``sigma_s`` = 50 ms, the time constant of the
  Bailando / FACT beat scores, so mocap jitter does not split a stop in two.
- a minimum only counts when it is at least ``min_separation_s`` = 0.25 s
  (240 BPM) from a deeper one and its prominence (how far the speed rises on
  both sides before a deeper dip) is at least ``min_prominence`` × the
  median speed of the clip: a relative threshold, so slow adagio and fast
  allegro takes are treated alike, and micro-wiggles during a held pose do
  not count.
"""

from __future__ import annotations

import numpy as np
from ..motion import Motion
from ..signal import find_peaks, gaussian_filter1d


def joint_speed(motion: Motion, sigma_s: float = 0.05) -> np.ndarray:
    """Mean joint speed per frame, in m/s, shape (T,).

    Parameters
    ----------
    motion : Motion
    sigma_s : float
        Standard deviation in seconds of the Gaussian smoothing (0 = none).

    Returns
    -------
    speed : np.ndarray (T,) float64
        Central differences, so a speed minimum is not shifted by half a frame.
    """
    if motion.num_frames < 2:
        return np.zeros(motion.num_frames)
    j = motion.joints.astype(np.float64)
    v = np.linalg.norm(np.gradient(j, axis=0), axis=-1).mean(axis=1) * motion.fps
    if sigma_s > 0:
        v = gaussian_filter1d(v, sigma_s * motion.fps, mode="nearest")
    return v


def motion_energy(motion: Motion, sigma_s: float = 0.05) -> np.ndarray:
    """Kinetic-energy proxy per frame: mean over joints of squared speed (m²/s²), shape (T,).

    Unlike :func:`joint_speed` it weighs fast movements quadratically, so a
    jump dominates a sway; its mean over a clip measures how energetic it is.
    """
    if motion.num_frames < 2:
        return np.zeros(motion.num_frames)
    j = motion.joints.astype(np.float64)
    e = ((np.linalg.norm(np.gradient(j, axis=0), axis=-1) * motion.fps) ** 2).mean(axis=1)
    if sigma_s > 0:
        e = gaussian_filter1d(e, sigma_s * motion.fps, mode="nearest")
    return e


def kinematic_beats(motion: Motion, sigma_s: float = 0.05, min_separation_s: float = 0.25,
                    min_prominence: float = 0.15, peaks: bool = False) -> np.ndarray:
    """Times (s) of the kinematic beats of ``motion``: prominent minima of joint speed
    (``peaks``: maxima instead, DanceIt's pose beats of eq. 14 — the largest movement).

    Parameters
    ----------
    motion : Motion
    sigma_s : float
        Gaussian smoothing of the speed, seconds.
    min_separation_s : float
        Minimum time between two beats; of two closer minima the deeper wins.
    min_prominence : float
        Minimum prominence of a minimum, as a fraction of the clip's median speed.

    Returns
    -------
    times : np.ndarray (K,) float64, increasing, in seconds from frame 0.
    """
    speed = joint_speed(motion, sigma_s)
    if len(speed) < 3:
        return np.zeros(0)
    scale = max(float(np.median(speed)), 1e-6)
    idx, _ = find_peaks(speed if peaks else -speed, distance=max(1, int(round(min_separation_s * motion.fps))),
                        prominence=min_prominence * scale)
    return idx / motion.fps


def kinematic_tempo(beats: np.ndarray) -> float:
    """Natural tempo (beats per minute) of a dance from its kinematic beat times:
    60 / median inter-beat interval; nan with fewer than two beats."""
    beats = np.asarray(beats, dtype=np.float64)
    if len(beats) < 2:
        return float("nan")
    return float(60.0 / np.median(np.diff(beats)))

# The beat-alignment scores (Bailando BAS, hit rate, ...) live in choreo.core.metrics.beats.
