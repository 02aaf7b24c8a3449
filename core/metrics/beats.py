"""Beat-alignment metrics of a dance against its music beats.

Motion beats are where the body's speed has a local minimum (a stop, a hit);
every score compares them, or DanceIt's largest-motion frames, with the music
beat times. All inputs are in seconds on the motion's own time base (frame k is
at k / fps); music beats outside the clip are ignored. Time constants of the
reference code (written for 60 fps) are kept in seconds, not frames, so a
30 fps or 24 fps dance is scored on the same scale.

Variants (always name the one a table uses):

- :func:`bas_bailando` — Bailando ``utils/beat_align_score.py``: mean over
  MUSIC beats of exp(-d²/2σ²) to the nearest motion beat; motion beats are
  every local minimum (order 1) of the mean joint speed smoothed by a Gaussian
  of 5 frames at 60 fps (83 ms).
- :func:`bas_fact` — FACT, google-research/mint ``tools/calculate_beat_scores.py``:
  mean over MOTION beats of exp(-d²/2σ²) to the nearest music beat; motion
  beats are the minima of the unsmoothed SUM of joint speeds that are the
  lowest within ±10 frames at 60 fps (167 ms); the first 120 frames at 60 fps
  (2 s, FACT's seed motion) are skipped.
- :func:`beat_coverage`, :func:`beat_hit_rate_dr` — Dance Revolution (Huang et
  al. 2021): motion beats / music beats, and aligned motion beats / motion beats.
- :func:`s_ba` — DanceIt (Guo et al. 2021) eq. 17: fraction of music beats on
  which the largest-motion frame of the beat's window falls.

σ = 3 frames at 60 fps = 50 ms in both BAS variants. Speeds from frame
differences are placed at the midpoint between the two frames (the reference
labels them with one of the two frame indices, a half-frame bias that would
grow from 8 ms at 60 fps to 17 ms at 30 fps).
"""

from __future__ import annotations

import numpy as np
from ..data.kinematic import kinematic_beats
from ..motion import Motion
from ..signal import argrelmin, gaussian_filter1d

SIGMA_S = 3.0 / 60.0            # BAS Gaussian, both variants
BAILANDO_SMOOTH_S = 5.0 / 60.0  # Gaussian smoothing of the speed before Bailando's minima
FACT_ORDER_S = 10.0 / 60.0      # FACT: a minimum must be the lowest within ±this
FACT_SKIP_S = 120.0 / 60.0      # FACT skips its 120-frame seed motion
HIT_TOLERANCE_S = 0.07          # ±70 ms, mir_eval's window; ~1 frame at Dance Revolution's 15 fps
DANCEIT_TOLERANCE_S = 1.0 / 24.0  # one frame of DanceIt's 24 fps video


def _step_speed(motion: Motion, reduce: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-step joint displacement (metres per frame step) reduced over joints
    ('mean' or 'sum'), and the step times (midpoints between frames), both (T-1,)."""
    j = motion.joints.astype(np.float64)
    if len(j) < 2:
        return np.zeros(0), np.zeros(0)
    d = np.linalg.norm(np.diff(j, axis=0), axis=-1)
    v = d.mean(axis=1) if reduce == "mean" else d.sum(axis=1)
    return v, (np.arange(len(v)) + 0.5) / motion.fps


def _in_clip(music_beats, motion: Motion, start: float = 0.0) -> np.ndarray:
    b = np.asarray(music_beats, dtype=np.float64).ravel()
    return b[(b >= start) & (b <= (motion.num_frames - 1) / motion.fps + 1e-9)]


def _distance_to_nearest(music_beats: np.ndarray, motion_beats: np.ndarray) -> np.ndarray:
    """Seconds from each of ``music_beats`` to the nearest of ``motion_beats``
    (inf where ``motion_beats`` is empty)."""
    music_beats = np.asarray(music_beats, dtype=np.float64).ravel()
    motion_beats = np.asarray(motion_beats, dtype=np.float64).ravel()
    if motion_beats.size == 0:
        return np.full(music_beats.shape, np.inf)
    return np.abs(music_beats[:, None] - motion_beats[None, :]).min(axis=1)


# -- motion beats --------------------------------------------------------------

def bailando_motion_beats(motion: Motion) -> np.ndarray:
    """Motion beats as in Bailando: every local minimum (``argrelextrema``, order 1)
    of the mean joint speed smoothed with a Gaussian of 5 frames at 60 fps (83 ms,
    kept in seconds at any fps; ``reflect`` edges like ``scipy.ndimage.gaussian_filter``).

    Returns
    -------
    times : np.ndarray (K,) seconds from frame 0.
    """
    v, t = _step_speed(motion, "mean")
    if len(v) < 3:
        return np.zeros(0)
    v = gaussian_filter1d(v, BAILANDO_SMOOTH_S * motion.fps, mode="reflect")
    return t[argrelmin(v)]


motion_beats_bailando = bailando_motion_beats


def motion_beats_fact(motion: Motion) -> np.ndarray:
    """Motion beats as in FACT: minima of the unsmoothed sum over joints of the
    per-frame displacement that are the lowest within ±10 frames at 60 fps
    (``argrelextrema(..., np.less, order)``, order = round(fps / 6), at least 1).
    Seconds from frame 0."""
    v, t = _step_speed(motion, "sum")
    if len(v) < 3:
        return np.zeros(0)
    order = max(1, int(round(FACT_ORDER_S * motion.fps)))
    return t[argrelmin(v, order=order)]


# -- scores on beat times --------------------------------------------------------

def beat_align_score(motion_beats: np.ndarray, music_beats: np.ndarray, sigma_s: float = SIGMA_S) -> float:
    """Bailando Beat Align Score of beat times: mean over MUSIC beats of
    exp(-d² / 2σ²), d = distance to the nearest motion beat; σ = 50 ms.
    nan without music beats; 0 without motion beats."""
    d = _distance_to_nearest(music_beats, motion_beats)
    return float(np.mean(np.exp(-d ** 2 / (2 * sigma_s ** 2)))) if d.size else float("nan")


def beat_hit_rate(motion_beats: np.ndarray, music_beats: np.ndarray, tolerance_s: float = HIT_TOLERANCE_S) -> float:
    """Fraction of MUSIC beats with a motion beat within ±``tolerance_s`` (70 ms).
    nan without music beats."""
    d = _distance_to_nearest(music_beats, motion_beats)
    return float(np.mean(d <= tolerance_s + 1e-9)) if d.size else float("nan")


# -- scores of a motion ------------------------------------------------------------

def bas_bailando(motion: Motion, music_beats, sigma_s: float = SIGMA_S) -> float:
    """Bailando BAS (↑) of ``motion`` against the music beats inside it: mean over
    music beats of exp(-d²/2σ²) to the nearest :func:`bailando_motion_beats`.

    Parameters
    ----------
    motion : Motion
    music_beats : array-like, seconds on the motion's time base
    sigma_s : float
        50 ms (3 frames at 60 fps).

    Returns
    -------
    score : float in [0, 1]; nan when no music beat falls inside the clip.
    """
    return beat_align_score(bailando_motion_beats(motion), _in_clip(music_beats, motion), sigma_s)


def bas_fact(motion: Motion, music_beats, sigma_s: float = SIGMA_S, skip_s: float = FACT_SKIP_S) -> float:
    """FACT BAS (↑): mean over MOTION beats (:func:`motion_beats_fact`) after
    ``skip_s`` (2 s) of exp(-d²/2σ²) to the nearest music beat after ``skip_s``.
    0 without motion beats (as FACT); nan with motion beats but no music beat."""
    mb = motion_beats_fact(motion)
    mb = mb[mb >= skip_s]
    if mb.size == 0:
        return 0.0
    b = _in_clip(music_beats, motion, skip_s)
    if b.size == 0:
        return float("nan")
    d = _distance_to_nearest(mb, b)
    return float(np.mean(np.exp(-d ** 2 / (2 * sigma_s ** 2))))


def beat_coverage(motion: Motion, music_beats) -> float:
    """Dance Revolution Beat Coverage (↑ towards the real dances' ≈0.56): number of
    motion beats / number of music beats inside the clip. Motion beats are
    :func:`choreo.core.data.kinematic.kinematic_beats` (prominent speed minima at
    least 0.25 s apart). nan without music beats."""
    b = _in_clip(music_beats, motion)
    return float(len(kinematic_beats(motion)) / len(b)) if b.size else float("nan")


def beat_hit_rate_dr(motion: Motion, music_beats, tolerance_s: float = HIT_TOLERANCE_S) -> float:
    """Dance Revolution Beat Hit Rate (↑): fraction of MOTION beats (as in
    :func:`beat_coverage`) within ±``tolerance_s`` (70 ms) of a music beat.
    0 without motion beats; nan without music beats."""
    b = _in_clip(music_beats, motion)
    if b.size == 0:
        return float("nan")
    kb = kinematic_beats(motion)
    if kb.size == 0:
        return 0.0
    return float(np.mean(_distance_to_nearest(kb, b) <= tolerance_s + 1e-9))


def s_ba(motion: Motion, music_beats, tolerance_s: float = DANCEIT_TOLERANCE_S) -> float:
    """DanceIt beat alignment rate S_BA (↑), eq. 17 with eq. 14's pose beats.

    Each music beat b owns a window of one beat interval (DanceIt's ω_c = the
    interval of adjacent beats) centred on it; the pose beat is the step of
    largest mean joint displacement in that window (eq. 14); the beat counts as
    matched when the pose beat is within ``tolerance_s`` (one 24 fps frame) of b.
    Note the convention: DanceIt marks beats by the largest movement, not by a
    stop. nan without music beats in the clip.
    """
    b = _in_clip(music_beats, motion)
    if b.size == 0:
        return float("nan")
    v, t = _step_speed(motion, "mean")
    if v.size == 0:
        return 0.0
    allb = np.sort(np.asarray(music_beats, dtype=np.float64).ravel())
    ibi = float(np.median(np.diff(allb))) if allb.size > 1 else 0.5
    hits = 0
    for beat in b:
        sel = np.flatnonzero(np.abs(t - beat) <= ibi / 2)
        if sel.size and np.ptp(v[sel]) > 0:  # a still window has no pose beat
            hits += abs(t[sel[np.argmax(v[sel])]] - beat) <= tolerance_s + 1e-9
    return float(hits / b.size)
