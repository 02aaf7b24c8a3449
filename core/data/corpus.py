"""The paired music–dance training corpus: build it from mocap takes and beat-gridded music, load it.

No public paired corpus is reachable, so pairs are made (DanceIt's temporal
alignment, seed 003): every music track is cut into windows of whole bars;
for each window the dance segment (take, start on a kinematic beat) whose
kinematic beats fit the window's beats best within the warp bounds is chosen
and time-warped so its kinematic beats land on the music beats
(:mod:`.align`). Whole takes and whole tracks are held out for validation.
The file format is documented in ``docs/corpus.md``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from .. import skeleton as sk
from ..errors import ChoreoInputError
from ..fileio import atomic_path, check_output, read_json
from ..fileio import sha256_file as sha256
from ..motion import Motion
from ..progress import ProgressFn, report, scaled
from . import align, kinematic
from ..metrics import beats as metric_beats

FORMAT_VERSION = 2
# Music features are stored once per music window as float16: relative error
# <= 2**-11 (4.9e-4) for |x| >= 6.1e-5, absolute error <= 3e-8 below (see docs/corpus.md).
FEATURE_DTYPE = np.float16
AUDIO_EXTS = (".ogg", ".wav", ".flac", ".mp3")
# Held out by default: three takes whose movement appears in no other take
# (the repeated takes 09/10, 14/15 and 18/19/20 stay together in train, so no
# near-copy leaks) and four tracks spread over the tempo range.
DEFAULT_VAL_TAKES = ("005_05", "005_08", "005_12")
DEFAULT_VAL_TRACKS = ("mma03_softrock", "mma09_bvfunk", "mma15_tango", "mma21_polka")
SPLITS = ("train", "val")


@dataclass
class BuildParams:
    """Everything a build depends on besides the input files (stored in the corpus as JSON).

    ``takes`` None = the dance takes listed in the mocap dir's descriptions.csv
    (description starting with "dance"), or every BVH when there is no CSV.
    ``val_takes`` / ``val_tracks`` None = :func:`held_out` chooses them from what
    the folders hold (the CMU defaults on ../shared/data); ``[]`` holds none out.
    ``segment_seconds``: a music window is the whole number of bars closest to
    this length (at least one bar); the CMU dance takes last 3.6–15 s, so
    windows of 8–16 bars would not fit any take.
    """

    seed: int = 0
    takes: list[str] | None = None
    val_takes: list[str] | None = None   # None: :func:`held_out` chooses (stored resolved)
    val_tracks: list[str] | None = None
    segment_seconds: float = 5.0
    min_ratio: float = 0.8
    max_ratio: float = 1.25
    ratio_cost: float = 0.5
    mirror: bool = True
    fps: float = sk.FPS
    features: bool = True
    beat_sigma_s: float = 0.05
    beat_min_separation_s: float = 0.25
    beat_min_prominence: float = 0.15
    # Selection: a (take, start) already used in the same track costs this much
    # score, each earlier use of the take anywhere costs ``take_reuse_cost``;
    # the seed picks among candidates within ``choice_tolerance`` of the best.
    segment_reuse_cost: float = 2.0
    take_reuse_cost: float = 0.2
    choice_tolerance: float = 0.5


# -- inputs ------------------------------------------------------------------

@dataclass
class Take:
    name: str
    path: Path
    motion: Motion
    kin_beats: np.ndarray


@dataclass
class Track:
    name: str
    audio_path: Path
    json_path: Path | None
    beats: np.ndarray
    downbeats: np.ndarray
    meter: int
    duration: float


def _dance_takes_from_csv(mocap_dir: Path) -> list[str] | None:
    csv_path = mocap_dir / "descriptions.csv"
    if not csv_path.is_file():
        return None
    try:
        with open(csv_path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        return [Path(r["file"]).stem for r in rows
                if r.get("Motion Description", "").strip().lower().startswith("dance")]
    except (OSError, KeyError, csv.Error, UnicodeDecodeError) as exc:
        raise ChoreoInputError(csv_path, f"unreadable take list ({exc})") from None


def held_out(names: Sequence[str], default: Sequence[str], fraction: float = 0.15) -> list[str]:
    """The held-out names among ``names`` when none were named: ``default`` when all of it is
    there (Choreo's own data), else about ``fraction`` of them spread evenly through the sorted
    names (at least one; at least one left for training) — deterministic, so a rebuild holds out
    the same ones."""
    names = sorted(names)
    if all(d in names for d in default):
        return list(default)
    if len(names) < 2:
        return []
    n = min(max(1, int(round(fraction * len(names)))), len(names) - 1)
    picks = np.linspace(0, len(names) - 1, n + 2)[1:-1].round().astype(int)
    return [names[i] for i in sorted(set(picks.tolist()))]


def find_takes(mocap_dir: str | os.PathLike, takes: Sequence[str] | None = None) -> list[tuple[str, Path]]:
    """(name, path) of the BVH takes to use, sorted by name.

    A take's name is its file stem (``005_02``). ``takes`` None selects the
    dance takes of descriptions.csv, or every BVH under ``mocap_dir``.
    """
    root = Path(mocap_dir)
    if not root.is_dir():
        raise ChoreoInputError(root, "mocap folder not found")
    files = {p.stem: p for p in sorted(root.rglob("*.bvh"))}
    if not files:
        raise ChoreoInputError(root, "no .bvh files found in the mocap folder")
    if takes is None:
        takes = _dance_takes_from_csv(root)
        if takes is None:
            takes = sorted(files)
        takes = [t for t in takes if t in files]
        if not takes:
            raise ChoreoInputError(root, "descriptions.csv lists no dance take that is present")
    missing = [t for t in takes if t not in files]
    if missing:
        raise ChoreoInputError(root, f"no BVH for take(s) {', '.join(missing)}")
    return [(t, files[t]) for t in sorted(set(takes))]


def load_track(audio_path: str | os.PathLike) -> Track:
    """A dataset track's beat grid: NAME.json beside the audio (the music folder's
    format, :mod:`choreo.core.audio.grid`, with ``duration_s``) or, without one,
    beats tracked from the audio (:func:`choreo.core.audio.beats.track_beats`)."""
    from ..audio.grid import beat_grid_from_dict

    audio_path = Path(audio_path)
    json_path = audio_path.with_suffix(".json")
    if json_path.is_file():
        d = read_json(json_path)
        grid = beat_grid_from_dict(d, json_path)
        duration = d.get("duration_s")
        if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not duration > 0:
            raise ChoreoInputError(json_path, f"beat grid: 'duration_s' must be the track's length in "
                                              f"seconds, not {duration!r}")
        if len(grid.downbeats) < 1:
            raise ChoreoInputError(json_path, "beat grid needs at least one downbeat")
        return Track(audio_path.stem, audio_path, json_path, grid.beats, grid.downbeats, grid.meter,
                     float(duration))
    from ..audio.beats import track_beats
    from ..audio.io import load_audio

    y, sr = load_audio(audio_path)
    bm = track_beats(y, sr)
    if len(bm.beats) < 2:
        raise ChoreoInputError(audio_path, "too few beats found to pair with dance")
    return Track(audio_path.stem, audio_path, None, np.asarray(bm.beats, dtype=np.float64),
                 np.asarray(bm.downbeats, dtype=np.float64), int(bm.meter), len(y) / sr)


def find_tracks(music_dir: str | os.PathLike, tracks: Sequence[str] | None = None) -> list[Path]:
    """Audio files in ``music_dir`` (not recursive), sorted by name; optionally only ``tracks``."""
    root = Path(music_dir)
    if not root.is_dir():
        raise ChoreoInputError(root, "music folder not found")
    files = {p.stem: p for p in sorted(root.iterdir()) if p.suffix.lower() in AUDIO_EXTS and p.is_file()}
    if not files:
        raise ChoreoInputError(root, f"no music tracks ({', '.join(AUDIO_EXTS)}) in the music folder")
    if tracks is not None:
        missing = [t for t in tracks if t not in files]
        if missing:
            raise ChoreoInputError(root, f"no audio for track(s) {', '.join(missing)}")
        files = {t: files[t] for t in tracks}
    return [files[t] for t in sorted(files)]


@dataclass(frozen=True)
class Window:
    """A music window: ``start`` and ``duration`` (s) in the track, beat times relative to start."""

    start: float
    duration: float
    beats: np.ndarray
    downbeat: np.ndarray  # bool per beat


def music_windows(track: Track, segment_seconds: float) -> list[Window]:
    """Consecutive windows of whole bars, from the first downbeat to the end of the last full bar."""
    db = track.downbeats
    period = float(np.median(np.diff(track.beats)))
    bar = float(np.median(np.diff(db))) if len(db) > 1 else period * track.meter
    n_bars = max(1, int(round(segment_seconds / bar)))
    # Bar boundaries: the downbeats, plus the end of the last bar.
    bounds = np.append(db, db[-1] + track.meter * period)
    bounds = bounds[bounds <= track.duration + 1e-6]
    out = []
    is_down = np.isin(np.round(track.beats, 6), np.round(db, 6))
    for i in range(0, len(bounds) - n_bars, n_bars):
        s, e = float(bounds[i]), float(bounds[i + n_bars])
        sel = (track.beats >= s - 1e-6) & (track.beats < e - 1e-6)
        out.append(Window(s, e - s, track.beats[sel] - s, is_down[sel]))
    return out


# -- pairing -------------------------------------------------------------------

@dataclass
class _Pair:
    track: int
    take: int
    window: Window
    alignment: align.Alignment
    split: str


def _candidates(take: Take, window: Window, p: BuildParams) -> list[align.Alignment]:
    out = []
    for start in take.kin_beats:
        a = align.match_beats(take.kin_beats, window.beats, float(start), window.duration,
                              take.motion.duration - 1.0 / take.motion.fps,
                              p.min_ratio, p.max_ratio, p.ratio_cost)
        if a is not None:
            out.append(a)
    return out


def _pair_windows(takes: list[Take], tracks: list[Track], windows: list[list[Window]],
                  split_of_take: list[str], split_of_track: list[str], p: BuildParams,
                  progress: ProgressFn | None) -> list[_Pair]:
    """Choose a dance segment for every music window, deterministically for ``p.seed``."""
    rng = np.random.default_rng(p.seed)
    take_uses = np.zeros(len(takes))
    cache: dict = {}
    pairs = []
    for ti, (track, wins) in enumerate(zip(tracks, windows)):
        report(progress, ti / max(1, len(tracks)), track.name)
        pool = [k for k, s in enumerate(split_of_take) if s == split_of_track[ti]]
        used_here: dict = {}
        for w in wins:
            # Constant-tempo windows repeat the same grid: match once per grid.
            grid = (round(w.duration, 4), tuple(np.round(w.beats, 4)))
            cands = []
            for k in pool:
                key = (k, grid)
                if key not in cache:
                    cache[key] = _candidates(takes[k], w, p)
                for a in cache[key]:
                    seg = (k, round(float(a.src_knots[0]), 4))
                    score = a.score - p.segment_reuse_cost * used_here.get(seg, 0) - p.take_reuse_cost * take_uses[k]
                    cands.append((score, k, a, seg))
            if not cands:
                continue
            best = max(c[0] for c in cands)
            near = [c for c in cands if c[0] >= best - p.choice_tolerance]
            _, k, a, seg = near[int(rng.integers(len(near)))]
            used_here[seg] = used_here.get(seg, 0) + 1
            take_uses[k] += 1
            pairs.append(_Pair(ti, k, w, a, split_of_track[ti]))
    report(progress, 1.0, "paired")
    return pairs


def _eval_beats(motion: Motion, beats: np.ndarray, duration: float) -> tuple[float, float]:
    """(Bailando BAS, ±70 ms hit rate) of ``motion`` against the music beats strictly
    inside it (2 frames from either end, where a speed minimum can be found)."""
    edge = 2.0 / motion.fps
    b = beats[(beats >= edge) & (beats <= min(duration, motion.duration) - edge)]
    bas = metric_beats.beat_align_score(metric_beats.bailando_motion_beats(motion), b)
    hit = metric_beats.beat_hit_rate(kinematic.kinematic_beats(motion), b)
    return bas, hit


def _track_features(track: Track, fps: float) -> tuple[np.ndarray, list[str]] | None:
    """Per-frame music features of a whole track (None when the feature module is absent).

    The exact beat grid is passed, so the beat one-hot column uses it."""
    try:
        from ..audio.features import FEATURE_NAMES, features_for_file
    except ImportError:
        return None
    beats = track.beats if track.json_path is not None else None
    feats = features_for_file(track.audio_path, fps=fps, beats=beats)
    return np.asarray(feats.values, dtype=np.float32), list(FEATURE_NAMES)


def _slice_frames(arr: np.ndarray, start: int, n: int) -> np.ndarray:
    """Rows start..start+n of ``arr``, repeating the last row past its end."""
    idx = np.minimum(np.arange(start, start + n), len(arr) - 1)
    return arr[idx]


# -- file writing ----------------------------------------------------------------

def write_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as an .npz atomically and reproducibly (fixed zip timestamps,
    sorted names): the same arrays always give the same bytes."""
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for name in sorted(arrays):
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.asarray(arrays[name]), allow_pickle=False)
                info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, buf.getvalue())
        os.chmod(tmp, 0o644)


def _offsets(lengths: Sequence[int]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)


def build_corpus(mocap_dir: str | os.PathLike, music_dir: str | os.PathLike, out_path: str | os.PathLike,
                 params: BuildParams | None = None, tracks: Sequence[str] | None = None,
                 progress: ProgressFn | None = None) -> "Corpus":
    """Build the paired corpus and write it to ``out_path`` (atomically).

    Parameters
    ----------
    mocap_dir : folder of BVH takes (searched recursively).
    music_dir : folder of audio tracks, each with an optional NAME.json beat grid.
    out_path : the .npz to write.
    params : :class:`BuildParams` (defaults documented there).
    tracks : track names (file stems) to use; None = all in ``music_dir``.
    progress : optional :data:`ProgressFn`.

    Returns
    -------
    Corpus : the corpus just written.
    """
    from ..formats.bvh import load_bvh_motion

    p = params or BuildParams()
    check_output(out_path)  # an unwritable output fails now, not after the build
    if not (0 < p.min_ratio <= 1.0 <= p.max_ratio):
        raise ChoreoInputError("warp bounds", f"need 0 < min_ratio <= 1 <= max_ratio, got {p.min_ratio}, {p.max_ratio}")
    take_files = find_takes(mocap_dir, p.takes)
    track_files = find_tracks(music_dir, tracks)
    for what, names, pool in (("take", p.val_takes, [n for n, _ in take_files]),
                               ("track", p.val_tracks, [f.stem for f in track_files])):
        bad = [v for v in names or () if v not in pool]
        if bad:
            raise ChoreoInputError(f"--val-{what}s", f"not among the selected {what}s: {', '.join(bad)}")

    # A file that cannot be read is reported and left out; the build goes on with the rest.
    skipped: list[list[str]] = []
    report(progress, 0.0, "loading takes")
    takes = []
    for i, (name, path) in enumerate(take_files):
        try:
            m = load_bvh_motion(path)
        except ChoreoInputError as exc:
            skipped.append([str(path), exc.problem])
            continue
        kb = kinematic.kinematic_beats(m, p.beat_sigma_s, p.beat_min_separation_s, p.beat_min_prominence)
        takes.append(Take(name, Path(path), m, kb))
        report(progress, 0.15 * (i + 1) / len(take_files), name)
    loaded = []
    for f in track_files:
        try:
            loaded.append(load_track(f))
        except ChoreoInputError as exc:
            skipped.append([str(exc.path), exc.problem])
    for what, folder, good in (("take", mocap_dir, takes), ("track", music_dir, loaded)):
        if not good:
            raise ChoreoInputError(folder, f"no readable {what}: " + "; ".join(f"{Path(f).name}: {w}"
                                                                            for f, w in skipped[:3]))
    take_names = [t.name for t in takes]
    track_names = [t.name for t in loaded]
    resolved = {}
    for what, names, pool, default in (("take", p.val_takes, take_names, DEFAULT_VAL_TAKES),
                                       ("track", p.val_tracks, track_names, DEFAULT_VAL_TRACKS)):
        if names is None:
            names = held_out(pool, default)
        lost = [v for v in names if v not in pool]
        if lost:
            raise ChoreoInputError(f"--val-{what}s", f"held-out {what}s could not be read: {', '.join(lost)}")
        resolved[what] = list(names)
    p = replace(p, val_takes=resolved["take"], val_tracks=resolved["track"])
    windows = [music_windows(t, p.segment_seconds) for t in loaded]
    split_of_take = ["val" if t in p.val_takes else "train" for t in take_names]
    split_of_track = ["val" if t in p.val_tracks else "train" for t in track_names]
    pairs = _pair_windows(takes, loaded, windows, split_of_take, split_of_track, p, scaled(progress, 0.15, 0.3))

    feats_by_track: dict[int, tuple[np.ndarray, list[str]] | None] = {}
    want_features = p.features
    cols: list[str] = []
    # A mirrored pair stores no joints: it is its original's motion, mirrored on load
    # (Motion.mirrored is a joint permutation and a sign flip, so exact).
    joints, pair_motion, beats, downbeat = [], [], [], []
    # One feature block per unique music window (track, start frame, frame count):
    # a pair and its mirror (and any pair on the same window) share it.
    window_of: dict[tuple[int, int, int], int] = {}
    win_feats: list[np.ndarray] = []
    pair_window: list[int] = []
    rows: dict[str, list] = {k: [] for k in (
        "pair_track", "pair_take", "pair_music_start", "pair_music_duration", "pair_src_start",
        "pair_split", "pair_mirrored", "pair_warp_min", "pair_warp_max", "pair_warp_mean",
        "pair_matched_beats", "pair_bas_warped", "pair_bas_unwarped", "pair_hit_warped", "pair_hit_unwarped")}
    step = scaled(progress, 0.3, 1.0)
    for n, pr in enumerate(pairs):
        track, take, w, a = loaded[pr.track], takes[pr.take], pr.window, pr.alignment
        report(step, n / max(1, len(pairs)), f"{track.name} × {take.name}")
        warped = align.warp_motion(take.motion, a, p.fps).normalized_facing(0)
        flat = align.identity_alignment(float(a.src_knots[0]), w.duration)
        unwarped = align.sample_motion(take.motion, align.time_map(flat, p.fps), p.fps)
        avail = take.motion.duration - float(a.src_knots[0])
        bas_w, hit_w = _eval_beats(warped, w.beats, w.duration)
        bas_u, hit_u = _eval_beats(unwarped, w.beats, min(w.duration, avail))
        ratios = align.frame_ratios(align.time_map(a, p.fps), p.fps)
        win = -1
        if want_features:
            if pr.track not in feats_by_track:
                feats_by_track[pr.track] = _track_features(track, p.fps)
            tf = feats_by_track[pr.track]
            if tf is None:
                want_features = False
            else:
                cols = tf[1]
                wkey = (pr.track, int(round(w.start * p.fps)), warped.num_frames)
                if wkey not in window_of:
                    window_of[wkey] = len(win_feats)
                    f16 = _slice_frames(tf[0], wkey[1], wkey[2]).astype(FEATURE_DTYPE)
                    if not np.all(np.isfinite(f16)):  # float16 tops out at 65504
                        raise ChoreoInputError(track.audio_path, "music features overflow float16 storage")
                    win_feats.append(f16)
                win = window_of[wkey]
        joints.append(warped.joints)
        for mirrored in (False, True) if p.mirror else (False,):
            pair_motion.append(len(joints) - 1)
            beats.append(w.beats)
            downbeat.append(w.downbeat)
            pair_window.append(win)
            for key, val in (("pair_track", pr.track), ("pair_take", pr.take), ("pair_music_start", w.start),
                             ("pair_music_duration", w.duration), ("pair_src_start", a.src_knots[0]),
                             ("pair_split", pr.split), ("pair_mirrored", mirrored),
                             ("pair_warp_min", ratios.min()), ("pair_warp_max", ratios.max()),
                             ("pair_warp_mean", a.mean_ratio), ("pair_matched_beats", a.matched),
                             ("pair_bas_warped", bas_w), ("pair_bas_unwarped", bas_u),
                             ("pair_hit_warped", hit_w), ("pair_hit_unwarped", hit_u)):
                rows[key].append(val)
    if not pairs:
        raise ChoreoInputError(mocap_dir, "no dance segment fits any music window (takes too short for the warp bounds?)")

    sources = [(f"mocap/{t.path.relative_to(Path(mocap_dir)).as_posix()}", t.path) for t in takes]
    for t in loaded:
        sources.append((f"music/{t.audio_path.name}", t.audio_path))
        if t.json_path is not None:
            sources.append((f"music/{t.json_path.name}", t.json_path))
    params_json = asdict(p)
    params_json["takes"] = take_names
    params_json["tracks"] = track_names
    if skipped:  # (absent when every file was read: the corpus of Choreo's own data is unchanged)
        params_json["skipped"] = skipped
    arrays = {
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "fps": np.array(p.fps, dtype=np.float64),
        "joints": np.concatenate(joints).astype(np.float32),
        "motion_offsets": _offsets([len(j) for j in joints]),
        "pair_motion": np.array(pair_motion, dtype=np.int64),
        "beat_times": np.concatenate(beats).astype(np.float64),
        "beat_is_downbeat": np.concatenate(downbeat).astype(bool),
        "beat_offsets": _offsets([len(b) for b in beats]),
        "takes": np.array(take_names),
        "tracks": np.array(track_names),
        "take_split": np.array(split_of_take),
        "track_split": np.array(split_of_track),
        "take_duration": np.array([t.motion.duration for t in takes], dtype=np.float64),
        "source_files": np.array([s for s, _ in sources]),
        "source_sha256": np.array([sha256(path) for _, path in sources]),
        "build_params": np.array(json.dumps(params_json, sort_keys=True)),
    }
    int_cols = {"pair_track", "pair_take", "pair_matched_beats"}
    for key, vals in rows.items():
        if key == "pair_split":
            arrays[key] = np.array(vals)
        elif key == "pair_mirrored":
            arrays[key] = np.array(vals, dtype=bool)
        else:
            arrays[key] = np.array(vals, dtype=np.int64 if key in int_cols else np.float64)
    if want_features and win_feats:
        keys = sorted(window_of, key=window_of.get)
        arrays["window_features"] = np.concatenate(win_feats)
        arrays["window_offsets"] = _offsets([len(f) for f in win_feats])
        arrays["window_track"] = np.array([k[0] for k in keys], dtype=np.int64)
        arrays["window_start"] = np.array([k[1] for k in keys], dtype=np.int64)
        arrays["pair_window"] = np.array(pair_window, dtype=np.int64)
        arrays["feature_columns"] = np.array(cols)
    write_npz(out_path, arrays)
    report(progress, 1.0, "written")
    return Corpus(arrays, Path(out_path))


# -- reading -------------------------------------------------------------------

REQUIRED = ("format_version", "fps", "joints", "motion_offsets", "pair_motion", "beat_times", "beat_offsets", "takes", "tracks",
            "pair_track", "pair_take", "pair_music_start", "pair_split", "pair_mirrored", "build_params")
FEATURE_ARRAYS = ("window_features", "window_offsets", "window_track", "window_start", "pair_window",
                  "feature_columns")


@dataclass
class CorpusPair:
    """One music–dance pair: ``motion`` (30 fps) starts at ``music_start`` s of ``track``;
    ``beats`` are the music beats in seconds from the pair's start."""

    index: int
    motion: Motion
    beats: np.ndarray
    downbeats: np.ndarray
    track: str
    take: str
    music_start: float
    split: str
    mirrored: bool
    warp: tuple[float, float, float]  # min, max, mean ratio
    features: np.ndarray | None  # (frames, D) float32, row k = music at motion frame k


class Corpus:
    """A built corpus (see ``docs/corpus.md``). ``Corpus.load(path)``; ``.pairs(split)``."""

    def __init__(self, arrays: dict[str, np.ndarray], path: Path | None = None):
        self.arrays = arrays
        self.path = path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Corpus":
        """Load a corpus .npz, checking its format version."""
        path = Path(path)
        if not path.is_file():
            raise ChoreoInputError(path, "corpus file not found")
        if not zipfile.is_zipfile(path):
            raise ChoreoInputError(path, "not a corpus .npz (not a zip archive)")
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise ChoreoInputError(path, f"not a readable corpus .npz ({exc})") from None
        if "format_version" not in arrays:
            raise ChoreoInputError(path, "not a Choreo corpus (no format_version)")
        version = int(arrays["format_version"])
        if version < FORMAT_VERSION:
            raise ChoreoInputError(path, f"corpus format version {version} was built by an older Choreo "
                                         f"(this one reads version {FORMAT_VERSION}); rebuild with "
                                         f"`choreo dataset build …`")
        if version > FORMAT_VERSION:
            raise ChoreoInputError(path, f"corpus format version {version} was built by a newer Choreo "
                                         f"(this one reads version {FORMAT_VERSION}); update Choreo or "
                                         f"rebuild with `choreo dataset build …`")
        missing = [k for k in REQUIRED if k not in arrays]
        if any(k in arrays for k in FEATURE_ARRAYS):
            missing += [k for k in FEATURE_ARRAYS if k not in arrays]
        if missing:
            raise ChoreoInputError(path, f"corpus lacks {', '.join(missing)}")
        return cls(arrays, path)

    def __len__(self) -> int:
        return len(self.arrays["pair_track"])

    @property
    def fps(self) -> float:
        return float(self.arrays["fps"])

    @property
    def params(self) -> dict:
        return json.loads(str(self.arrays["build_params"]))

    @property
    def feature_columns(self) -> list[str]:
        return [str(c) for c in self.arrays.get("feature_columns", [])]

    def indices(self, split: str | None = None) -> np.ndarray:
        if split is not None and split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        s = self.arrays["pair_split"]
        return np.arange(len(s)) if split is None else np.flatnonzero(s == split)

    def pair_frames(self) -> np.ndarray:
        """(P,) int64 number of motion frames of each pair."""
        return np.diff(self.arrays["motion_offsets"])[self.arrays["pair_motion"]]

    def pair(self, i: int) -> CorpusPair:
        a = self.arrays
        o, bo, m = a["motion_offsets"], a["beat_offsets"], int(a["pair_motion"][i])
        beats = a["beat_times"][bo[i]:bo[i + 1]]
        down = a["beat_is_downbeat"][bo[i]:bo[i + 1]] if "beat_is_downbeat" in a else np.zeros(len(beats), bool)
        feats = None
        if "window_features" in a:
            w, wo = int(a["pair_window"][i]), a["window_offsets"]
            feats = a["window_features"][wo[w]:wo[w + 1]].astype(np.float32)
        motion = Motion(a["joints"][o[m]:o[m + 1]], self.fps)
        if a["pair_mirrored"][i]:
            motion = motion.mirrored()
        return CorpusPair(
            index=int(i), motion=motion, beats=beats, downbeats=beats[down],
            track=str(a["tracks"][a["pair_track"][i]]), take=str(a["takes"][a["pair_take"][i]]),
            music_start=float(a["pair_music_start"][i]), split=str(a["pair_split"][i]),
            mirrored=bool(a["pair_mirrored"][i]),
            warp=(float(a["pair_warp_min"][i]), float(a["pair_warp_max"][i]), float(a["pair_warp_mean"][i])),
            features=feats)

    def pairs(self, split: str | None = None) -> Iterator[CorpusPair]:
        """The pairs of ``split`` ("train", "val" or None for all), in file order."""
        for i in self.indices(split):
            yield self.pair(int(i))

    def summary(self) -> dict:
        """Figures of the build report: minutes of dance, pairs, warp ratios, beat alignment."""
        a = self.arrays
        orig = ~a["pair_mirrored"]
        dur = self.pair_frames() / self.fps
        out = {
            "source_minutes": float(a["take_duration"].sum() / 60.0),
            "paired_minutes": float(dur[orig].sum() / 60.0),
            "paired_minutes_with_mirrors": float(dur.sum() / 60.0),
            "takes": {s: [str(t) for t, ts in zip(a["takes"], a["take_split"]) if ts == s] for s in SPLITS},
            "tracks": {s: [str(t) for t, ts in zip(a["tracks"], a["track_split"]) if ts == s] for s in SPLITS},
            "pairs": {s: int(np.sum(a["pair_split"] == s)) for s in SPLITS},
            "unmirrored_pairs": {s: int(np.sum((a["pair_split"] == s) & orig)) for s in SPLITS},
            "features": len(self.feature_columns),
            "feature_windows": int(len(a["window_track"])) if "window_track" in a else 0,
        }
        w = a["pair_warp_mean"][orig]
        q = [0, 5, 25, 50, 75, 95, 100]
        out["warp_mean_percentiles"] = dict(zip(map(str, q), np.percentile(w, q).round(3).tolist())) if len(w) else {}
        out["warp_local_range"] = ([float(a["pair_warp_min"].min()), float(a["pair_warp_max"].max())]
                                   if len(w) else [])
        for key in ("bas", "hit"):
            out[key] = {v: float(np.nanmean(a[f"pair_{key}_{v}"][orig])) if len(w) else float("nan")
                        for v in ("warped", "unwarped")}
        return out
