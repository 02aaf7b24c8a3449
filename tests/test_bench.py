"""`choreo bench`: baselines, generators, cross-modal metric, long-term FID, outputs."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from choreo.cli import main
from choreo.core.data.corpus import BuildParams, build_corpus
from choreo.core.generation.families.ren.random_init import save_random_weights
from choreo.core.metrics import baselines as BL
from choreo.core.metrics.crossmodal import CrossModalMetric
from choreo.core.metrics.suite import METRICS
from choreo.core.models.weights import load_weights, shipped_path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, mocap_dir, music_dir):
    out = tmp_path_factory.mktemp("bench")
    params = BuildParams(seed=3, takes=["005_02", "005_04", "005_09", "005_10"], val_takes=["005_10"], val_tracks=["mma07_rhumba"])
    corpus = build_corpus(mocap_dir, music_dir, out / "corpus.npz", params, tracks=["mma07_rhumba", "mma13_boneym", "mma02_hiphop", "mma08_samba"])
    weights = out / "random.safetensors"
    save_random_weights(weights, seed=1)
    return out, corpus, weights, music_dir


def test_shipped_crossmodal_weights_beat_chance_on_heldout():
    tensors, meta = load_weights(shipped_path("crossmodal"))
    h = meta["heldout"]
    assert meta["kind"] == "crossmodal" and h["split"] == "val" and h["windows"] >= 20
    assert h["dance_same_take_top1"] > h["dance_same_take_chance"] + 0.2
    assert h["music_to_dance_median_rank"] < h["median_rank_chance"]
    assert h["numpy_vs_torch_max_abs"] < 1e-4


def test_baselines_are_deterministic_and_shaped(tiny):
    _, corpus, _, _ = tiny
    wins = BL.eval_windows(corpus, "val", limit=3)
    train = BL.training_motions(corpus)
    for name in BL.BASELINES:
        a, b = (BL.baseline_motions(name, wins, train, seed=5) for _ in range(2))
        for m1, m2, w in zip(a, b, wins):
            assert m1.num_frames == w.frames
            np.testing.assert_array_equal(m1.joints, m2.joints)
    frozen = BL.frozen_pose(wins)[0].joints
    assert np.ptp(frozen, axis=0).max() == 0
    c = BL.rand_frame(wins, train, seed=6)[0].joints
    assert np.abs(c[:, 0, :2]).max() < 1e-6  # pelvis kept over the origin
    assert not np.array_equal(c, BL.rand_frame(wins, train, seed=7)[0].joints)


def test_bench_quick_json_table_and_plots(tiny, tmp_path):
    out, corpus, weights, music_dir = tiny
    js = tmp_path / "bench.json"
    rc = main(["bench", "--quick", "--json", str(js), "--out", str(tmp_path / "b"), "--corpus", str(corpus.path),
               "--music", str(music_dir), "--methods", "GT", "rand_frame", "rand_seq", "frozen", str(weights)])
    assert rc == 0
    res = json.loads(js.read_text())
    p = res["protocol"]
    assert p["split"] == "val" and p["windows"] >= 2 and p["fps"] == 30 and "BAS" in p["variants"]
    rows = {r["method"]: r for r in res["rows"]}
    assert list(rows) == ["GT", "Rand Frame", "Rand Seq", "Frozen", "random"]
    for r in rows.values():
        assert set(METRICS) | {"crossmodal"} <= set(r["metrics"])
        assert r["metrics"]["crossmodal"] is not None
    g = rows["GT"]["metrics"]
    assert g["BAS_bailando"] > rows["Frozen"]["metrics"]["BAS_bailando"]
    assert g["FID_k"] < rows["Frozen"]["metrics"]["FID_k"]
    assert g["crossmodal"] < rows["Rand Frame"]["metrics"]["crossmodal"]
    res_g = rows["random"]["resources"]
    assert res_g["speed_x_realtime"] > 1 and res_g["peak_rss_mb"] > 50
    curve = res["longterm"]["fid_k"]["random"]
    assert len(curve) == 2 and all(np.isfinite(curve))
    lt = {r["method"]: r for r in res["longterm"]["rows"]}
    assert list(lt) == ["GT level (real 4-s stretches)", "random"]
    assert lt["random"]["windows"] == 2 * 2  # one medley (one val track) × 2 seeds × 2 windows of 4 s
    assert 0 <= lt["random"]["frozen_windows"] <= lt["random"]["windows"]
    assert lt["random"]["multimodality_k"] > 0  # two seeds, two dances
    table = (tmp_path / "b" / "table.md").read_text()
    assert "FID_k ↓" in table and "BAS_bailando ↑" in table and "| Rand Frame |" in table
    assert "frozen 4-s windows ↓" in table and "| random |" in table
    for png in ("longterm.png", "metrics.png", "music.png"):
        assert (tmp_path / "b" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the body table: GT, the reference set and the generator, with the rig figures (bpy here)
    body = {r["method"]: r["metrics"] for r in res["body"]["rows"]}
    assert list(body) == ["GT", "Reference (train)", "random"]
    assert "float_frac ↓" in table and "same_seed_speed_r ↓" in table and "rig_below_floor_frac ↓" in table
    gen = body["random"]
    for key in ("touch_frac", "float_frac", "slide_cm_s", "net_turns_per_min", "same_song_speed_r",
                "rig_below_floor_frac", "rig_joint_err_cm"):
        assert gen[key] is not None and np.isfinite(gen[key]), (key, gen[key])
    assert "same_seed_speed_r" in gen  # one held-out song here: no second song to compare (null)
    assert 0 <= gen["float_frac"] <= 1 and gen["rig_below_floor_frac"] <= 0.01 and body["GT"]["rig_joint_err_cm"] > 0


def test_crossmodal_metric_scores_and_refuses_bad_input(tiny):
    _, corpus, _, _ = tiny
    metric = CrossModalMetric.load().fit_corpus(corpus, "train")
    w = BL.eval_windows(corpus, "val", limit=1)[0]
    s = metric.score(w.motion, w.features)
    assert 0.0 <= s <= 4.0
    with pytest.raises(Exception, match="438"):
        metric.score(w.motion, w.features[:, :10])
    assert main(["bench", "--corpus", str(corpus.path), "--methods", "nonsense"]) == 2


def test_bench_without_a_corpus_says_how_to_build_one(tmp_path, capsys):
    missing = tmp_path / "corpus.npz"
    assert main(["bench", "--corpus", str(missing)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"choreo: error: {missing}: corpus not found"), err
    assert "`make corpus`" in err[0] and f"choreo dataset build --mocap DIR --music DIR --out {missing}" in err[0]


def test_sigterm_stops_bench_and_keeps_the_old_results(tiny, tmp_path):
    """SIGTERM mid-benchmark (was: killed, exit -15): 143, one line, the earlier results (folder and --json) untouched."""
    import signal
    import sys

    sys.path.insert(0, os.path.dirname(__file__))
    from test_cli_main import _interrupt_mid_work, _leftovers, _start

    _, corpus, weights, music_dir = tiny
    out = tmp_path / "b"
    out.mkdir()
    for name in ("table.md", "bench.json"):
        (out / name).write_text("earlier " + name)
    (tmp_path / "res.json").write_text("earlier json")
    proc = _start(["bench", "--quick", "--json", "res.json", "--out", "b", "--corpus", str(corpus.path),
                   "--music", str(music_dir), "--methods", "GT", "frozen", str(weights)], tmp_path, tmp_path / "cache")
    code, err, seconds = _interrupt_mid_work(proc, "bench:", signal.SIGTERM)
    assert code == 143 and err.strip().splitlines()[-1] == "choreo: interrupted", err
    assert "Traceback" not in err and seconds < 15
    assert [(out / n).read_text() for n in ("table.md", "bench.json")] == ["earlier table.md", "earlier bench.json"]
    assert (tmp_path / "res.json").read_text() == "earlier json" and sorted(os.listdir(out)) == ["bench.json", "table.md"]
    assert _leftovers(tmp_path) == []


def test_medleys_play_the_tracks_in_turn_and_multimodality_sees_the_seeds(music_dir):
    from choreo.core.audio.io import load_audio
    from choreo.core.metrics import longterm as LT
    from choreo.core.motion import Motion

    a, b = music_dir / "mma07_rhumba.ogg", music_dir / "mma13_boneym.ogg"
    jobs = LT.medley_jobs([a, b], 70.0, [0, 1])
    assert [(LT.job_song(j), j["seed"]) for j in jobs] == [
        ("mma07_rhumba+mma13_boneym", 0), ("mma07_rhumba+mma13_boneym", 1),
        ("mma13_boneym+mma07_rhumba", 0), ("mma13_boneym+mma07_rhumba", 1)]
    y, sr = LT.job_audio(jobs[2], 8000)
    ya, yb = load_audio(b, sr=8000)[0], load_audio(a, sr=8000)[0]
    assert len(y) == 70 * 8000 and len(yb) < len(y)  # the second track fills the medley to 70 s
    np.testing.assert_array_equal(y[: len(ya)], ya)
    np.testing.assert_array_equal(y[len(ya):], yb[: len(y) - len(ya)])

    rng = np.random.default_rng(0)
    walk = lambda k: Motion(np.cumsum(rng.normal(0, 0.01 * k, (240, 24, 3)), axis=0).astype(np.float32), 30.0)  # noqa: E731
    from choreo.core.metrics.kinetic import kinetic_features

    ref = np.stack([kinetic_features(walk(1)) for _ in range(8)])
    same = walk(1)
    assert LT.multimodality({"song": {0: same, 1: same}}, ref) == 0.0  # the seed changes nothing
    apart = LT.multimodality({"song": {0: walk(1), 1: walk(3)}}, ref)
    assert apart > 0 and np.isnan(LT.multimodality({"song": {0: same}}, ref))
