"""Foot contacts and foot planting: keep a foot still while it stands on the floor.

Retargeting onto a rig with other proportions (or a generated motion with a
little drift) makes standing feet slide ("skating"). :func:`foot_contacts`
finds the frames where a foot stands (low and slow, with hysteresis so a
contact does not flicker), :func:`plant` holds the foot at its average
position over each contact with short blends in and out, and
:func:`two_bone_ik` re-solves the knee so the leg reaches the planted foot.
bpy-free.
"""

from __future__ import annotations

import numpy as np

from .. import skeleton as sk
from ..motion import Motion

SIDES = ("l", "r")


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index pairs of the True runs of a boolean array."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    edges = np.flatnonzero(m[1:] != m[:-1])
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _speed(x: np.ndarray, fps: float) -> np.ndarray:
    """(T,) speed of a (T, D) trajectory by central differences (m/s per unit)."""
    if len(x) < 2:
        return np.zeros(len(x))
    return np.linalg.norm(np.gradient(x.astype(np.float64), axis=0), axis=-1) * fps


def foot_contacts(motion: Motion, *, height_m: float = 0.05, speed_m_s: float = 0.25,
                  release: float = 1.6, min_frames: int | None = None,
                  floor: float | None = None) -> dict[str, np.ndarray]:
    """Frames where each foot stands on the floor.

    A foot enters a contact when its ankle is within ``height_m`` of the
    ankle's own floor level (5th percentile of its height over the clip, or
    ``floor`` when given) and
    its speed is below ``speed_m_s``; it leaves only when height or speed
    exceed ``release`` times those limits (hysteresis). Contacts shorter than
    ``min_frames`` (default 0.1 s) are dropped.

    Parameters
    ----------
    motion : Motion
        SMPL-24 joints, metres, z up.

    Returns
    -------
    dict
        ``{"l": (T,) bool, "r": (T,) bool}``.
    """
    return {s: contact_frames(motion.joints[:, sk.JOINT_INDEX[f"{s}_ankle"]], motion.fps, height_m=height_m,
                              speed_m_s=speed_m_s, release=release, min_frames=min_frames, floor=floor)
            for s in SIDES}


def contact_frames(position: np.ndarray, fps: float, *, height_m: float = 0.05, speed_m_s: float = 0.25,
                   release: float = 1.6, min_frames: int | None = None, floor: float | None = None) -> np.ndarray:
    """(T,) bool: the frames where one foot joint's track ``position`` (T, 3)
    stands on the floor, by the rule of :func:`foot_contacts`."""
    if min_frames is None:
        min_frames = max(2, int(round(0.1 * fps)))
    a = np.asarray(position, np.float64)
    h = a[:, 2] - (np.percentile(a[:, 2], 5) if floor is None else floor)
    v = _speed(a, fps)
    enter = (h < height_m) & (v < speed_m_s)
    stay = (h < height_m * release) & (v < speed_m_s * release)
    c = np.zeros(len(a), bool)
    on = False
    for t in range(len(a)):          # hysteresis is sequential; T steps of cheap Python
        on = stay[t] if on else enter[t]
        c[t] = on
    for i, j in _runs(c):
        if j - i < min_frames:
            c[i:j] = False
    return c


def contact_weights(contact: np.ndarray, blend_frames: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Planting weight (T,) in [0, 1] and the contact index (T,) each frame
    belongs to (-1: none): 1 inside a contact, easing to 0 over
    ``blend_frames`` frames before and after it (smoothstep)."""
    T = len(contact)
    runs = _runs(contact)
    w = np.zeros(T)
    seg = np.full(T, -1)
    dist = np.full(T, np.inf)
    t = np.arange(T)
    for k, (i, j) in enumerate(runs):
        d = np.where(t < i, i - t, np.where(t >= j, t - (j - 1), 0)).astype(float)
        closer = d < dist
        dist[closer], seg[closer] = d[closer], k
    x = np.clip(1.0 - dist / (blend_frames + 1.0), 0.0, 1.0)
    w = x * x * (3.0 - 2.0 * x)
    seg[w <= 0] = -1
    return w, seg


def plant(positions: np.ndarray, contact: np.ndarray, blend_frames: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Hold ``positions`` (T, D) at their mean over each contact, blending in
    and out over ``blend_frames``; returns (planted (T, D), weight (T,)).

    Between two contacts closer than ``2 * blend_frames + 1`` frames the foot does
    not ease out of one hold and into the next (it would cover the distance
    between the two holds in a frame or two): the correction goes from the first
    hold's to the second's over the whole gap (smoothstep), on top of the motion's
    own path."""
    p = np.asarray(positions, np.float64)
    w, seg = contact_weights(contact, blend_frames)
    runs = _runs(contact)
    out = p.copy()
    anchors = [p[i:j].mean(axis=0) for i, j in runs]
    for k, (i, j) in enumerate(runs):
        sel = seg == k
        out[sel] = p[sel] + w[sel, None] * (anchors[k] - p[sel])
    for k in range(len(runs) - 1):
        last, first = runs[k][1] - 1, runs[k + 1][0]
        if first - last > 2 * blend_frames + 1:
            continue
        t = np.arange(last + 1, first)
        x = (t - last) / float(first - last)
        s = (x * x * (3.0 - 2.0 * x))[:, None]
        out[t] = p[t] + (1 - s) * (anchors[k] - p[last]) + s * (anchors[k + 1] - p[first])
    return out, w


def two_bone_ik(root: np.ndarray, goal: np.ndarray, len1: float, len2: float,
                pole: np.ndarray) -> np.ndarray:
    """Middle joint (T, 3) of a two-bone chain from ``root`` towards ``goal``.

    The middle joint goes to the side of the root→goal line that ``pole``
    (T, 3) points to (only its part perpendicular to the line counts), e.g.
    the knee's forward direction. A goal out of reach straightens the chain
    towards it.
    """
    v = goal - root
    d = np.linalg.norm(v, axis=-1, keepdims=True)
    u = v / np.maximum(d, 1e-9)
    dc = np.clip(d, abs(len1 - len2) + 1e-6, len1 + len2 - 1e-6)
    cos_a = np.clip((len1 ** 2 + dc ** 2 - len2 ** 2) / (2.0 * len1 * dc), -1.0, 1.0)
    sin_a = np.sqrt(1.0 - cos_a ** 2)
    bend = pole - np.sum(pole * u, -1, keepdims=True) * u
    bend /= np.maximum(np.linalg.norm(bend, axis=-1, keepdims=True), 1e-12)
    return root + len1 * (cos_a * u + sin_a * bend)


def skating(positions: np.ndarray, contact: np.ndarray, fps: float, up_axis: int = 2) -> float:
    """Mean horizontal speed (units/s) of ``positions`` (T, 3) over the frames
    of ``contact``; 0 when there are none."""
    p = np.delete(np.asarray(positions, np.float64), up_axis, axis=-1)
    v = _speed(p, fps)
    return float(v[contact].mean()) if np.any(contact) else 0.0
