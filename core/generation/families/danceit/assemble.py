"""DanceIt's generation phase (seed 003, §IV-A eq. 2 and §IV-C): the song cut into clips,
a library fragment retrieved for each, put on the clip's beats and joined.

1. **Clips** (:func:`plan_clips`): the song is cut on its beat grid (extended at its period
   over an intro and an outro) into clips of the phrase unit (1, 2, 4, 8 beats; 3, 6 in triple
   time) closest to the fragment length, phased on the first downbeat, so each clip starts on
   a beat and the provenance can name bars.
2. **Retrieval** (:func:`choose`): each clip's music embedding (MatchNet) against every
   library fragment's pose embedding (eq. 2, Euclidean). Beyond the paper, two more
   terms choose among good matches: the fragment's motion energy against the target
   (the energy control and the song's level), and — unless ``transition_weight`` is 0,
   the paper's plain retrieval — how far the fragment's first pose is from the previous
   fragment's last one. A fragment overlapping one used in the last ``no_repeat_seconds``
   is never chosen; the seed picks uniformly among the ``top_k`` best.
3. **Temporal alignment**: the fragment (starting at a kinematic beat) is time-warped so
   its later kinematic beats land on the clip's beats (:mod:`choreo.core.data.align`,
   warp ratios 0.8–1.25, DanceIt's eq. 14–16 done by the corpus's DP warp).
4. **Placement**: each fragment is turned and moved so it starts where and facing as the
   previous one ended (travel continues with the previous step); sources are already on
   one scale and floor (:mod:`choreo.core.library.sources`).
5. **Spatial alignment** at the joins (:mod:`.spatial`, Algorithm 1), done by the caller.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .... import skeleton as sk
from ....data.align import identity_alignment, match_beats, sample_motion
from ....motion import Motion

#: The temporal alignment's fastest warp (source s per music s, :func:`~choreo.core.data.align.match_beats`).
MAX_WARP = 1.25
#: A clip shorter than this share of the fragment length is merged into its neighbour.
MIN_CLIP_SHARE = 0.5


@dataclass(frozen=True)
class Clip:
    """Song frames ``start … stop - 1``; ``beats`` (s from the clip's start) inside it."""

    start: int
    stop: int
    beats: np.ndarray

    @property
    def frames(self) -> int:
        return self.stop - self.start


def beats_per_clip(fragment_seconds: float, period: float, meter: int = 4) -> int:
    """Beats per clip: the phrase unit nearest ``fragment_seconds`` (on a log scale) among
    1, 2, 4, 8, 16 beats (3, 6, 12 in a meter of three): moves of a bar, half or two bars."""
    units = (3, 6, 12) if meter % 3 == 0 and meter % 2 else (1, 2, 4, 8, 16)
    return min(units, key=lambda n: abs(math.log(n * period / fragment_seconds)))


def plan_clips(n_frames: int, fps: float, beats: np.ndarray, downbeats: np.ndarray,
               fragment_seconds: float, meter: int = 4) -> list[Clip]:
    """Clips covering song frames ``0 … n_frames - 1`` (see the module notes).

    ``beats``/``downbeats`` are seconds from the song's start; a clip is
    :func:`beats_per_clip` beats. Without a beat grid (fewer than two beats) the
    clips are ``fragment_seconds`` long.
    """
    end = n_frames / fps
    beats = np.asarray(beats, np.float64)
    beats = beats[(beats >= 0) & (beats < end)]
    if len(beats) >= 2:
        period = float(np.median(np.diff(beats)))
        per = beats_per_clip(fragment_seconds, period, meter)
        # The grid over the whole song: before the first tracked beat and after the last, its period.
        before = beats[0] - period * np.arange(int(beats[0] / period), 0, -1)
        after = beats[-1] + period * np.arange(1, int((end - beats[-1]) / period) + 1)
        grid = np.concatenate([before, beats, after])
        down = np.asarray(downbeats, np.float64)
        down = down[(down >= 0) & (down < end)]
        i0 = int(np.argmin(np.abs(grid - down[0]))) if len(down) else len(before)
        anchors = list(grid[i0 % per::per])  # phased on the first downbeat, back to the song's start
        longest = 1.5 * per * period
    else:
        step = max(fragment_seconds, 1.0 / fps)
        anchors = list(np.arange(0.0, end, step))
        grid = np.zeros(0)
        longest = 1.5 * step
    cuts = sorted({0, *(int(round(a * fps)) for a in anchors), n_frames})
    cuts = [c for c in cuts if 0 <= c <= n_frames]
    min_frames = MIN_CLIP_SHARE * fragment_seconds * fps
    # Merge short clips (a pickup before the first anchor, the tail) into a neighbour ...
    merged = [cuts[0]]
    for c in cuts[1:-1]:
        if c - merged[-1] >= min_frames:
            merged.append(c)
    if len(merged) > 1 and n_frames - merged[-1] < min_frames:
        merged.pop()
    merged.append(n_frames)
    # ... and split any still too long (a gap in the grid) into equal pieces.
    split = [merged[0]]
    for a, b in zip(merged[:-1], merged[1:]):
        k = max(1, int(np.ceil((b - a) / (longest * fps))))
        split += [int(round(a + (b - a) * i / k)) for i in range(1, k + 1)]
    merged = split
    out = []
    for a, b in zip(merged[:-1], merged[1:]):
        t0 = a / fps
        inside = grid[(grid >= t0 - 0.5 / fps) & (grid < b / fps)] - t0
        out.append(Clip(a, b, np.maximum(inside, 0.0)))
    return out


@dataclass
class Fragments:
    """Every library fragment of one length, as the retrieval sees them.

    ``source`` indexes the loaded sources, ``start`` is its first source frame;
    ``embedding`` (N, D) its pose embedding, ``log_energy`` its mean motion energy
    (log m²/s²), ``first`` (N, 24, 3) its first pose in the heading frame.
    """

    frames: int
    source: np.ndarray
    start: np.ndarray
    embedding: np.ndarray
    log_energy: np.ndarray
    first: np.ndarray


def fragment_table(sources, local_poses, energies, frames: int, embed) -> Fragments:
    """The :class:`Fragments` of length ``frames`` of ``sources`` (library :class:`Source`\\ s):
    those whose ``frames`` fit in their source. ``local_poses``/``energies`` per source:
    heading-frame joints (T, 24, 3) and per-frame motion energy (T,); ``embed(source_index,
    starts, frames)`` gives the pose embeddings."""
    src, st, emb, le, first = [], [], [], [], []
    for i, s in enumerate(sources):
        starts = s.starts[s.starts + frames <= s.motion.num_frames]
        if not len(starts):
            continue
        src.append(np.full(len(starts), i))
        st.append(starts)
        emb.append(embed(i, starts, frames))
        csum = np.concatenate([[0.0], np.cumsum(energies[i])])
        le.append(np.log(np.maximum((csum[starts + frames] - csum[starts]) / frames, 1e-6)))
        first.append(local_poses[i][starts])
    if not src:
        return Fragments(frames, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 1)), np.zeros(0),
                         np.zeros((0, sk.NUM_JOINTS, 3)))
    return Fragments(frames, np.concatenate(src), np.concatenate(st), np.concatenate(emb), np.concatenate(le),
                     np.concatenate(first))


@dataclass(frozen=True)
class Choice:
    """The fragment chosen for a clip: row ``index`` of its :class:`Fragments`."""

    index: int
    source: int
    start: int
    distance: float
    cost: float


def choose(table: Fragments, audio: np.ndarray, *, rng: np.random.Generator, top_k: int, log_target: float,
           energy_weight: float, previous_last: np.ndarray | None, transition_weight: float,
           banned: np.ndarray) -> Choice | None:
    """One clip's retrieval (module notes, step 2): ``audio`` (D,) the clip's music
    embedding, ``banned`` (N,) fragments that would repeat; None when every fragment is."""
    if not len(table.start):
        return None
    dist = np.linalg.norm(table.embedding - audio[None], axis=1)
    cost = dist + energy_weight * np.abs(table.log_energy - log_target)
    if previous_last is not None and transition_weight:
        cost = cost + transition_weight * np.linalg.norm(table.first - previous_last[None], axis=-1).mean(axis=1)
    cost = np.where(banned, np.inf, cost)
    finite = np.flatnonzero(np.isfinite(cost))
    if not len(finite):
        return None
    best = finite[np.argsort(cost[finite], kind="stable")[:max(1, int(top_k))]]
    i = int(best[rng.integers(len(best))])
    return Choice(i, int(table.source[i]), int(table.start[i]), float(dist[i]), float(cost[i]))


def overlaps(table: Fragments, used: list[tuple[int, int, int]]) -> np.ndarray:
    """(N,) which fragments could share source frames with any of ``used`` = [(source, s0, s1)]
    (a fragment's reach: its frames played up to the warp's fastest, 1.25×)."""
    reach = int(np.ceil(table.frames * MAX_WARP))
    out = np.zeros(len(table.start), bool)
    for src, s0, s1 in used:
        out |= (table.source == src) & (table.start < s1) & (table.start + reach > s0)
    return out


def warp_fragment(motion: Motion, start: int, clip: Clip, kin_beats: np.ndarray, fps: float,
                  temporal: bool = True) -> tuple[np.ndarray, tuple[float, float], int]:
    """``(joints (clip.frames, 24, 3), (source start s, source end s), beats matched)``:
    the source from frame ``start`` played over the clip, its kinematic beats
    (``kin_beats``, s) moved onto the clip's beats when ``temporal``."""
    src_start, duration = start / fps, clip.frames / fps
    src_end = (motion.num_frames - 1) / fps
    al = None
    if temporal and len(clip.beats):
        al = match_beats(kin_beats, clip.beats, src_start, duration, src_end)
    if al is None:
        al = identity_alignment(src_start, duration)
    times = np.interp(np.arange(clip.frames) / fps, al.out_knots, al.src_knots)
    joints = sample_motion(motion, times, fps).joints.astype(np.float64)
    return joints, (float(times[0]), float(times[-1])), int(al.matched - 1)


def place(joints: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    """``joints`` (n, 24, 3) turned about z and moved on the floor so frame 0 continues
    ``previous`` (its last frames): same heading as its last frame, the pelvis one step
    (its last step) further on. Heights are kept."""
    from ....models.representation import headings

    if previous is None:
        return joints
    h_prev = headings(previous[-2:])[-1]
    a = h_prev - headings(joints[:2])[0]
    c, s = math.cos(a), math.sin(a)
    rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    pivot = joints[0, 0] * np.array([1.0, 1.0, 0.0])
    out = (joints - pivot) @ rot.T
    step = previous[-1, 0, :2] - previous[-2, 0, :2] if len(previous) > 1 else np.zeros(2)
    out[..., :2] += previous[-1, 0, :2] + step
    return out
