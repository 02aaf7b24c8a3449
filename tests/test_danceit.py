"""DanceIt as a generator family (issue 15): retrieval from a library, temporal and
spatial alignment, provenance, options, determinism by seed. The MatchNet here has
random weights (its training is tested in test_matchnet.py): what is tested is the
assembly around it, which any MatchNet goes through."""

from __future__ import annotations

import numpy as np
import pytest

from choreo.core import skeleton as sk
from choreo.core.errors import ChoreoInputError
from choreo.core.formats import load_motion
from choreo.core.generation.families.danceit import DanceItGenerator
from choreo.core.generation.families.danceit.assemble import beats_per_clip, plan_clips
from choreo.core.generation.families.danceit.matchnet import MatchNetRuntime, expected_shapes
from choreo.core.generation.pipeline import generate_dance
from choreo.core.generation.windows import seam_report
from choreo.core.library import MotionLibrary
from choreo.core.metrics.beats import s_ba
from choreo.core.models.matchnet_config import MatchNetConfig
from choreo.core.motion import Motion

SONG = "mma09_bvfunk"


def random_generator() -> DanceItGenerator:
    cfg = MatchNetConfig()
    rng = np.random.default_rng(0)
    t = {k: (np.abs(rng.normal(size=s)) + 0.5 if k.endswith(("_std", "running_var")) else 0.1 * rng.normal(size=s))
         .astype(np.float32) for k, s in expected_shapes(cfg).items()}
    return DanceItGenerator(MatchNetRuntime(t, cfg, "random"), cfg, "random", {}, "random-sha")


@pytest.fixture(scope="module")
def library(tmp_path_factory, mocap_dir):
    lib = MotionLibrary.create(tmp_path_factory.mktemp("danceit") / "lib")
    takes = sorted((mocap_dir / "005").glob("005_*.bvh"))[:10]
    lib.add_files(takes, embed=random_generator().library_embedder())
    return lib


@pytest.fixture(scope="module")
def gen(library):
    return random_generator().with_options(library=library.path)


@pytest.fixture(scope="module")
def song(music_dir):
    return music_dir / f"{SONG}.ogg", music_dir / f"{SONG}.json"


def test_clips_follow_phrases_of_the_grid():
    beats = np.arange(0.3, 30, 0.5)                    # 120 BPM, first beat at 0.3 s
    clips = plan_clips(900, 30.0, beats, beats[::4], 2.0)
    assert beats_per_clip(2.0, 0.5) == 4 and beats_per_clip(2.0, 0.5, meter=3) == 3
    assert clips[0].start == 0 and clips[-1].stop == 900
    assert all(a.stop == b.start for a, b in zip(clips, clips[1:]))
    assert [c.start for c in clips[1:4]] == [9 + 60, 9 + 120, 9 + 180]  # intro merged, then 4 beats each
    assert np.allclose(clips[2].beats, [0.0, 0.5, 1.0, 1.5])


def test_clips_cover_a_long_intro_and_a_gap_in_phrase_units():
    beats = np.concatenate([np.arange(10.0, 20.0, 0.5), np.arange(30.0, 40.0, 0.5)])  # 10-s intro, 10-s gap
    clips = plan_clips(1200, 30.0, beats, beats[::4], 2.0)
    assert clips[0].start == 0 and clips[-1].stop == 1200
    assert max(c.frames for c in clips) <= 1.5 * 60 + 1   # no clip longer than 1.5 phrase units
    assert {c.start for c in clips} >= {60 * k for k in range(1, 5)}  # the intro cut on the grid, extended back


def test_seed_reproduces_and_varies_the_dance(gen, song):
    audio, grid = song
    a = generate_dance(audio, weights=gen, seed=3, beat_grid=grid, end=30)
    b = generate_dance(audio, weights=gen, seed=3, beat_grid=grid, end=30)
    c = generate_dance(audio, weights=gen, seed=4, beat_grid=grid, end=30)
    assert np.array_equal(a.motion.joints, b.motion.joints) and a.sources == b.sources
    assert [p["source_id"] for p in a.sources] != [p["source_id"] for p in c.sources]


def test_provenance_covers_the_song_without_repeats(gen, song):
    audio, grid = song
    d = generate_dance(audio, weights=gen, seed=0, beat_grid=grid)
    src = d.sources
    assert src[0]["song_start_s"] == 0 and abs(src[-1]["song_end_s"] - d.duration) < 0.05
    assert all(abs(p["song_end_s"] - q["song_start_s"]) < 1e-6 for p, q in zip(src, src[1:]))
    assert all(p["bars"][0] <= p["bars"][1] for p in src) and src[-1]["bars"][1] > 10
    window = gen.options.no_repeat_seconds
    for i, p in enumerate(src):
        for q in src[:i]:
            same = (q["source_id"], q["mirrored"]) == (p["source_id"], p["mirrored"])  # a mirror is another move
            if same and p["song_start_s"] - q["song_start_s"] < window - 0.01:
                assert p["source_end_s"] <= q["source_start_s"] or p["source_start_s"] >= q["source_end_s"]


def test_a_part_is_the_whole_songs_dance_there(gen, song):
    audio, grid = song
    whole = generate_dance(audio, weights=gen, seed=2, beat_grid=grid)
    part = generate_dance(audio, weights=gen, seed=2, beat_grid=grid, start=10.0, end=20.0)
    inside = [p for p in whole.sources if p["song_end_s"] > 10.0 and p["song_start_s"] < 20.0]
    assert list(part.sources) == inside  # the same moves from the same sources at the same song times
    from choreo.core.models.representation import encode_3d

    k = int(round(10.0 * 30))
    local = lambda m: encode_3d(m)[:, 4:].reshape(-1, 23, 3)  # noqa: E731  (heading frame)
    err = np.linalg.norm(local(whole.motion)[k:k + 300] - local(part.motion), axis=-1)
    assert np.median(err) < 0.02  # the shared clean-up sees the part's edges (as for every family)


def assembled(gen, song, seconds=60.0, energy=1.0, **options):
    """The family's own dance (before the shared clean-up) of the song's first ``seconds``."""
    from choreo.core.audio.grid import read_beat_grid
    from choreo.core.audio.io import load_audio
    from choreo.core.generation.song import Song

    audio, grid = song
    y, sr = load_audio(audio, sr=gen.sample_rate)
    y = y[:int(seconds * sr)]
    g = read_beat_grid(grid)
    keep = lambda t: t[t < seconds]  # noqa: E731
    from choreo.core.audio.beats import BeatMap

    s = Song(samples=y, sr=sr, fps=30.0, part=(0, int(seconds * 30)), beats=keep(g.beats),
             downbeats=keep(g.downbeats), tempo=g.tempo, meter=g.meter,
             grid=BeatMap(g.tempo, keep(g.beats), keep(g.downbeats), g.meter))
    done = gen.with_options(**options).assemble(s, seed=1, energy=energy)
    return done, keep(g.beats)


def test_alignments_lower_join_jumps_and_raise_beat_alignment(gen, song):
    from choreo.core.metrics.beats import bas_bailando
    from choreo.core.generation.windows import velocity_jumps

    def join_jump(done):  # p95 velocity change within 5 frames of a join, over the p95 elsewhere
        v = velocity_jumps(done.motion)
        zone = np.zeros(len(v), bool)
        for a, _ in done.windows[1:]:
            zone[max(0, a - 6):a + 5] = True
        return np.percentile(v[zone], 95) / np.percentile(v[~zone], 95)

    full, beats = assembled(gen, song)
    raw, _ = assembled(gen, song, spatial="none")
    linear, _ = assembled(gen, song, spatial="linear")
    assert join_jump(full) < 0.8 * join_jump(raw) and join_jump(linear) < 0.8 * join_jump(raw)
    unwarped, _ = assembled(gen, song, temporal=False)
    assert bas_bailando(full.motion, beats) > 1.1 * bas_bailando(unwarped.motion, beats)
    peaks, _ = assembled(gen, song, beat_on="peaks")  # the paper's convention, scored by the paper's S_BA
    assert s_ba(peaks.motion, beats) > 1.1 * s_ba(unwarped.motion, beats)


def test_options_and_libraries_are_checked(gen, tmp_path, song):
    with pytest.raises(ChoreoInputError, match="unknown option"):
        gen.with_options(colour="red")
    with pytest.raises(ChoreoInputError, match="fragment length"):
        gen.with_options(fragment_seconds=20)
    empty = MotionLibrary.create(tmp_path / "empty")
    with pytest.raises(ChoreoInputError, match="library is empty"):
        generate_dance(song[0], weights=gen.with_options(library=empty.path), beat_grid=song[1], end=8)
    from choreo.core.generation.pipeline import load_generator

    with pytest.raises(ChoreoInputError, match="takes no options"):
        load_generator("default", {"library": str(tmp_path)})


def test_the_energy_control_picks_calmer_or_bigger_moves(gen, song):
    from choreo.core.data.kinematic import motion_energy

    level = [float(np.mean(motion_energy(assembled(gen, song, energy=e)[0].motion))) for e in (0.33, 1.0, 3.0)]
    assert level[0] < 0.7 * level[1] and level[2] > 1.1 * level[1], level
