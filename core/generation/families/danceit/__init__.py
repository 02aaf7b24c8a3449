"""DanceIt (Guo et al., seed 003): a dance assembled from a motion library — the shipped
moves or the user's own — matched to the music by a learned audio–pose metric
(MatchNet, :mod:`.matchnet`), put on the song's beats by temporal alignment and joined
by spatial alignment (:mod:`.assemble`, :mod:`.spatial`). Numpy only at generation; the
MatchNet's trainer is :mod:`choreo.core.training.danceit`.

Options (:class:`DanceItOptions`, set with :meth:`DanceItGenerator.with_options`; the CLI's
``--library``/``--fragment-seconds``, the panel's library field): which library, the
fragment length, the no-repeat window, top-k, and the ablation switches.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .... import skeleton as sk
from ....errors import ChoreoInputError
from ....motion import Motion
from ....progress import ProgressFn, report, scaled
from ...energy import EnergyCurve, log_energy
from ...song import Song, recent, song_features
from .. import SMPL24, Family
from .assemble import Clip, choose, fragment_table, overlaps, place, plan_clips, warp_fragment

#: How much louder music (one standard deviation of the song's level) raises the
#: energy of the moves retrieved for it (log m²/s² per z).
LEVEL_GAIN = 0.3
SPATIAL = ("tsd", "linear", "none")
#: Added to the energy term's weight per unit of |log energy asked| (energy 2: +0.7).
ENERGY_ASK_WEIGHT = 1.0


@dataclass(frozen=True)
class DanceItOptions:
    """What a choreographer (or an ablation) sets on a DanceIt generator."""

    #: Library folder; None = the default library (:func:`~choreo.core.library.default_library_path`,
    #: or the shipped moves until it is made).
    library: str | None = None
    #: Clip / fragment length (s), rounded to the song's nearest phrase unit (1, 2, 4, 8 beats).
    fragment_seconds: float = 2.0
    #: A fragment never shares source frames with one used this many seconds before.
    no_repeat_seconds: float = 30.0
    #: The seed picks among this many best matches.
    top_k: int = 4
    #: Join repair: "tsd" (DanceIt's Algorithm 1), "linear" (blend), "none".
    spatial: str = "tsd"
    #: Warp each fragment's kinematic beats onto the song's beats.
    temporal: bool = True
    #: What lands on the beats: "peaks" (the largest movements, DanceIt's eq. 14) or
    #: "stops" (speed minima, Bailando's and the corpus's kinematic beats).
    beat_on: str = "stops"
    #: Every move is also available mirrored (left and right swapped).
    mirror: bool = True
    #: Retrieval cost per unit of |log energy - target| (0 = music match only).
    energy_weight: float = 0.1
    #: Retrieval cost per metre of mean joint distance between a fragment's first pose and
    #: the previous fragment's last (0 = the paper's independent retrieval).
    transition_weight: float = 2.0

    def checked(self) -> "DanceItOptions":
        where = "DanceIt options"
        if not (isinstance(self.fragment_seconds, (int, float)) and 0.5 <= self.fragment_seconds <= 8):
            raise ChoreoInputError(where, f"fragment length {self.fragment_seconds!r} s must be within 0.5–8 s")
        if not (0 <= self.no_repeat_seconds <= 3600 and self.top_k >= 1 and self.energy_weight >= 0
                and self.transition_weight >= 0):
            raise ChoreoInputError(where, "no-repeat window, energy and transition weights must be >= 0, top-k >= 1")
        if self.beat_on not in ("peaks", "stops"):
            raise ChoreoInputError(where, f"beat_on {self.beat_on!r} is not peaks or stops")
        if self.spatial not in SPATIAL:
            raise ChoreoInputError(where, f"spatial alignment {self.spatial!r} is not one of {', '.join(SPATIAL)}")
        return self


OPTION_NAMES = tuple(f.name for f in dataclasses.fields(DanceItOptions))


@dataclass
class Assembled:
    """A whole song's DanceIt dance: ``motion`` (song frames), ``windows`` (each clip's
    song frames) and ``provenance`` (one dict per clip: which source and moment fills it)."""

    motion: Motion
    windows: list[tuple[int, int]]
    provenance: list[dict] = field(default_factory=list)


class DanceItGenerator:
    """DanceIt's weights (a MatchNet) loaded, with its options; see the family protocol."""

    family = "danceit"
    output = SMPL24

    def __init__(self, runtime, cfg, name, meta: dict, sha256: str, options: DanceItOptions | None = None):
        self.runtime, self.cfg, self.name, self.meta, self.sha256 = runtime, cfg, name, meta, sha256
        self.options = (options or DanceItOptions()).checked()

    @property
    def sample_rate(self) -> int:
        return int(getattr(self.cfg, "sample_rate", 22050))

    @property
    def fps(self) -> float:
        return float(self.cfg.fps)

    def with_options(self, **changes) -> "DanceItGenerator":
        """The same weights with ``changes`` to :class:`DanceItOptions` (unknown names refused)."""
        bad = sorted(set(changes) - set(OPTION_NAMES))
        if bad:
            raise ChoreoInputError("DanceIt options", f"unknown option(s) {', '.join(bad)} "
                                                      f"(known: {', '.join(OPTION_NAMES)})")
        if changes.get("library") is not None:
            changes["library"] = os.fspath(changes["library"])
        return DanceItGenerator(self.runtime, self.cfg, self.name, self.meta, self.sha256,
                                dataclasses.replace(self.options, **changes))

    # -- the family protocol -----------------------------------------------------
    def generate(self, song: Song, *, seed: int, energy: float | EnergyCurve, frames: tuple[int, int],
                 progress: ProgressFn | None = None) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Features of ``song``'s frames ``frames`` from the whole song's assembled dance
        (so a part is the whole's there); windows = the clips reaching into them."""
        from ....models.representation import encode_3d

        done = self.assemble(song, seed=seed, energy=energy, progress=progress)
        lo, hi = frames
        feats = encode_3d(done.motion)[lo:hi]
        return feats, [(a, b) for a, b in done.windows if b > lo and a < hi]

    def provenance(self, song: Song, *, seed: int, energy: float | EnergyCurve) -> list[dict]:
        """Which fragment of which source fills which part of the song (file seconds, bars)."""
        return self.assemble(song, seed=seed, energy=energy).provenance

    # -- assembling --------------------------------------------------------------
    def _library(self, progress: ProgressFn | None):
        """``(library, loaded sources, fragment tables)``: the sources with what retrieval needs
        of each, and a table per fragment length once embedded, kept while the library and the
        weights are unchanged (another seed or energy re-embeds nothing)."""
        from ....data.kinematic import kinematic_beats, motion_energy
        from ....library import MotionLibrary, Source
        from .matchnet import pose_input

        lib = MotionLibrary.for_reading(self.options.library)
        live = lib.sources()
        if not live:
            raise ChoreoInputError(lib.path, "the motion library is empty: add moves with `choreo library add`")
        key = (str(lib.path.resolve()), tuple((r.id, r.sha256) for r in live))

        def entry(s, mirrored=False):
            anchors = {"stops": s.starts[1:] / sk.FPS, "peaks": kinematic_beats(s.motion, peaks=True)}
            return s, pose_input(s.motion), motion_energy(s.motion), anchors, mirrored

        def load():
            out = []
            for i, r in enumerate(live):
                report(progress, i / len(live), f"library: {r.name}")
                s = lib.load(r)
                out.append(entry(s))
                if self.options.mirror:  # the same move, left and right swapped (embedded when first used)
                    out.append(entry(Source(r, s.motion.mirrored(), s.starts), mirrored=True))
            return lib, out, {}
        return recent("danceit library", (key, self.options.mirror, self.sha256), load)

    def embed_fragments(self, local: np.ndarray, starts: np.ndarray, frames: int) -> np.ndarray:
        """(K, D) pose embeddings of the ``frames``-long fragments of heading-frame joints
        ``local`` (T, 24, 3) from each of ``starts``; one that runs past the end sees its
        last pose held (what the library stores: one row per start)."""
        idx = np.minimum(np.asarray(starts)[:, None] + np.arange(frames)[None], len(local) - 1)
        out = [self.runtime.embed_pose(local[idx[i:i + 256]]) for i in range(0, len(idx), 256)]
        return np.concatenate(out) if out else np.zeros((0, 1))

    def library_embedder(self):
        """What :meth:`~choreo.core.library.MotionLibrary.add_motion` stores with a source:
        (weights sha256, frames of the default fragment length, embedder of joints)."""
        from .matchnet import pose_input

        frames = int(round(self.options.fragment_seconds * self.fps))
        return self.sha256, frames, lambda joints, starts, n: self.embed_fragments(
            pose_input(Motion(joints, self.fps)), starts, n)

    def _table(self, loaded, frames: int):
        sources = [s for s, *_ in loaded]
        local = [p for _, p, *_ in loaded]

        def embed(i, starts, n):
            s = sources[i]
            key = s.embedding_key
            # Stored for this MatchNet at a length within 15 %: the clip's beats round the
            # length, and the warp stretches moves by up to 25 % anyway.
            if (s.embedding is not None and key is not None and key[0] == self.sha256
                    and abs(n - key[1]) <= 0.15 * key[1] and len(s.embedding) == len(s.starts)):
                return s.embedding[np.searchsorted(s.starts, starts)]
            return self.embed_fragments(local[i], starts, n)

        return fragment_table(sources, local, [e for _, _, e, *_ in loaded], frames, embed)

    def assemble(self, song: Song, *, seed: int, energy: float | EnergyCurve,
                 progress: ProgressFn | None = None) -> Assembled:
        """The whole song's dance (module notes; kept for the same song, seed and options)."""
        lib, loaded, tables = self._library(scaled(progress, 0.0, 0.2))
        key = (song.key, float(song.fps), song.song_beats.tobytes(), song.song_downbeats.tobytes(), int(seed),
               repr(energy), self.options, self.sha256, str(lib.path), tuple(s.record.id for s, *_ in loaded),
               song.audio_start)
        return recent("danceit dance", key, lambda: self._assemble(song, lib, loaded, tables, seed, energy,
                                                                  scaled(progress, 0.2, 1.0)))

    def _assemble(self, song: Song, lib, loaded, tables: dict, seed: int, energy, progress) -> Assembled:
        from .matchnet import audio_input

        opt, fps = self.options, self.fps
        music = audio_input(song_features(song, scaled(progress, 0.0, 0.4)), self.cfg)
        clips = plan_clips(song.n_frames, fps, song.song_beats, song.song_downbeats, opt.fragment_seconds,
                           song.meter)
        level = song.level
        rng = np.random.default_rng(seed)
        used: list[tuple[float, int, int, int]] = []
        pieces, prov, previous, prev_last = [], [], None, None
        for c, clip in enumerate(clips):
            report(progress, 0.4 + 0.5 * c / len(clips), f"clip {c + 1}/{len(clips)}")
            table = tables.get(clip.frames)
            if table is None:
                table = tables[clip.frames] = self._table(loaded, clip.frames)
            if not len(table.start):
                raise ChoreoInputError(lib.path, f"no move in the library is {clip.frames / fps:.1f} s long; "
                                                 "add longer sources or choose a shorter fragment length")
            audio = self.runtime.embed_audio(music[clip.start:clip.stop][None])[0]
            mid = (clip.start + clip.stop) // 2
            asked = float(log_energy(energy, song.audio_start + mid / fps))
            target = (float(np.median(table.log_energy)) + asked
                      + LEVEL_GAIN * float(level[min(mid, len(level) - 1)]))
            t0 = clip.start / fps
            recent_use = [(s, a, b) for t, s, a, b in used if t > t0 - opt.no_repeat_seconds]
            # Energy 1 lets the music lead (a light preference); asking for more or less energy
            # makes it count as much as the music match, so the control has teeth.
            weight = opt.energy_weight + ENERGY_ASK_WEIGHT * abs(asked)
            kw = dict(rng=rng, top_k=opt.top_k, log_target=target, energy_weight=weight,
                      previous_last=prev_last, transition_weight=opt.transition_weight)
            pick = choose(table, audio, banned=overlaps(table, recent_use), **kw)
            if pick is None:  # a library too small for the window: the least recent repeat is allowed
                pick = choose(table, audio, banned=np.zeros(len(table.start), bool), **kw)
            src, local, _, anchors, mirrored = loaded[pick.source]
            joints, (s0, s1), matched = warp_fragment(src.motion, pick.start, clip, anchors[opt.beat_on], fps,
                                                      temporal=opt.temporal)
            joints = place(joints, previous)
            pieces.append(joints)
            previous = joints
            last = min(int(round(s1 * fps)), src.motion.num_frames - 1)
            prev_last = local[last]
            used.append((t0, pick.source, int(s0 * fps), int(np.ceil(s1 * fps)) + 1))
            prov.append(self._record(song, clip, src.record, s0, s1, pick, matched, mirrored))
        joints = np.concatenate(pieces)
        joins = [clip.start for clip in clips[1:]]
        report(progress, 0.92, "joining fragments")
        joints = self._join(joints, joins)
        report(progress, 1.0, f"{len(clips)} fragments")
        return Assembled(Motion(joints.astype(np.float32), fps), [(c.start, c.stop) for c in clips], prov)

    def _join(self, joints: np.ndarray, joins: list[int]) -> np.ndarray:
        from . import spatial

        if self.options.spatial == "none" or not joins:
            return joints
        if self.options.spatial == "linear":
            return spatial.linear_align(joints, joins, fps=self.fps)
        return spatial.spatial_align(joints, joins, fps=self.fps)

    def _record(self, song: Song, clip: Clip, rec, s0: float, s1: float, pick, matched: int,
                mirrored: bool) -> dict:
        fps = self.fps
        t0, t1 = song.audio_start + clip.start / fps, song.audio_start + clip.stop / fps
        down = song.song_downbeats + song.audio_start

        def bar(t):  # 1 = the first downbeat's bar, 0 = before it
            return int(np.searchsorted(down, t + 0.5 / fps, side="right"))

        return {"song_start_s": round(t0, 3), "song_end_s": round(t1, 3),
                "bars": [bar(t0), bar(t1 - 1.0 / fps)] if len(down) else [],
                "source": rec.name, "source_id": rec.id, "source_start_s": round(s0, 3),
                "source_end_s": round(s1, 3), "mirrored": bool(mirrored), "match_distance": round(pick.distance, 4),
                "beats_matched": matched}


def load(path: Path, tensors: dict, meta: dict) -> DanceItGenerator:
    """A DanceIt generator of a MatchNet weights file (default options)."""
    from ....models.matchnet_config import MatchNetConfig
    from ....models.weights import sha256_file
    from .. import read_config
    from .matchnet import MatchNetRuntime, check_config

    cfg = read_config(path, meta, MatchNetConfig, check_config)
    gen = DanceItGenerator(MatchNetRuntime(tensors, cfg, name=str(path)), cfg, path, meta, sha256_file(path))
    return gen


def _trainer():
    from ....training import danceit

    return danceit


def _variants() -> tuple[tuple[str, dict], ...]:
    """The bench's DanceIt runs, all on the shipped moves (a user's library never changes
    its figures): the default, the ablations of the paper's two alignments and of the
    fragment length (the paper's 1–4 s comparison), and the paper's plain retrieval."""
    from ....library import SHIPPED_LIBRARY

    lib = {"library": str(SHIPPED_LIBRARY)}
    return (("", lib), ("_no_spatial", {**lib, "spatial": "none"}), ("_linear_join", {**lib, "spatial": "linear"}),
            ("_no_temporal", {**lib, "temporal": False}), ("_peaks", {**lib, "beat_on": "peaks"}),
            ("_paper_retrieval", {**lib, "transition_weight": 0.0, "energy_weight": 0.0}),
            *((f"_{n}s", {**lib, "fragment_seconds": float(n)}) for n in (1, 2, 3, 4)))


FAMILY = Family(
    name="danceit",
    description="Guo et al.'s DanceIt: real moves from a motion library (the shipped one or your own), "
                "retrieved to match the music, put on its beats and joined; says which move fills which bars",
    outputs=(SMPL24,), load=load, trainer=_trainer, title="DanceIt (motion library)", shipped="danceit",
    variants=_variants)
