"""DanceIt's MatchNet: torch model, numpy runtime, trainer (issue 15)."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from choreo.core import skeleton as sk  # noqa: E402
from choreo.core.errors import ChoreoInputError  # noqa: E402
from choreo.core.generation.families.danceit.matchnet import (MatchNetRuntime, audio_input,  # noqa: E402
                                                              expected_shapes, pose_input)
from choreo.core.models.matchnet import MatchNet, MatchNetConfig, distance, matching_loss  # noqa: E402
from choreo.core.models.weights import load_weights, module_tensors  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")
V = sk.NUM_JOINTS


def _net(cfg=None, seed=0):
    """A MatchNet with non-trivial input statistics and BatchNorm running statistics."""
    torch.manual_seed(seed)
    net = MatchNet(cfg)
    rng = np.random.default_rng(seed)
    c = net.cfg
    net.set_stats(rng.normal(size=c.audio_dim), rng.uniform(0.5, 2, c.audio_dim), rng.normal(size=(6, V)) * 0.1,
                  rng.uniform(0.5, 2, (6, V)))
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net.embed_pose(torch.randn(6, 40, V, 3))
    return net.eval()


@pytest.mark.parametrize("settings", [{}, {"audio_layers": 2, "partition": "uniform", "normalize": False,
                                           "pose_channels": [16, 16, 24], "pose_strides": [1, 1, 2],
                                           "temporal_kernel": 3},
                                      {"audio_features": "mfcc+rhythm+tempo", "time_segments": 5},
                                      {"audio_features": "mfcc+rhythm", "time_segments": 2, "pose_strides": [1, 2, 1]}])
def test_numpy_runtime_matches_torch(settings):
    net = _net(MatchNetConfig.from_dict(settings))
    rt = MatchNetRuntime(module_tensors(net), net.cfg, "test")
    rng = np.random.default_rng(1)
    for T in (30, 45, 61, 120):
        a = rng.normal(size=(3, T, net.cfg.audio_dim)).astype(np.float32)
        p = (rng.normal(size=(3, T, V, 3)) * 0.3).astype(np.float32)
        with torch.no_grad():
            ta, tp = net.embed_audio(torch.from_numpy(a)).numpy(), net.embed_pose(torch.from_numpy(p)).numpy()
        np.testing.assert_allclose(rt.embed_audio(a), ta, atol=1e-4)
        np.testing.assert_allclose(rt.embed_pose(p), tp, atol=1e-4)
        np.testing.assert_allclose(rt.embed_pose(p[0]), tp[0], atol=1e-4)  # one clip, no batch axis
    if net.cfg.normalize:
        np.testing.assert_allclose(np.linalg.norm(rt.embed_pose(p), axis=1), 1.0, atol=1e-5)
    d = rt.distance(rt.embed_pose(p), rt.embed_audio(a))
    np.testing.assert_allclose(d, distance(torch.from_numpy(tp)[:, None], torch.from_numpy(ta)[None]).numpy(),
                               atol=1e-4)


def test_config_round_trip_and_bad_configs():
    cfg = MatchNetConfig(pose_channels=(8, 16), pose_strides=(2, 1), margin=1.2)
    back = MatchNetConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert back == cfg and back.pose_channels == (8, 16)
    assert set(expected_shapes(cfg)) <= set(module_tensors(MatchNet(cfg)))
    for bad in ({"n_mfcc": 0}, {"temporal_kernel": 4}, {"pose_channels": [8], "pose_strides": [1, 2]},
                {"partition": "star"}, {"margin": float("nan")}, {"min_seconds": 5.0}, {"dropout": 1.5},
                {"embeds": 16}, {"normalize": "yes"}, {"audio_features": "chroma"}, {"time_segments": 0}):
        with pytest.raises(ValueError):
            MatchNetConfig.from_dict(bad)
    from choreo.core.training import danceit

    with pytest.raises(ChoreoInputError):
        danceit.validate_config({"model": {"embed": -1}})
    with pytest.raises(ChoreoInputError):
        danceit.validate_config({"stepz": 3})
    with pytest.raises(ChoreoInputError):
        danceit.validate_config({"family": "ren"})
    with pytest.raises(ChoreoInputError):
        danceit.validate_config({"keep": "first"})
    # weights written before audio_features / time_segments existed read as the paper's model
    old = {k: v for k, v in MatchNetConfig().to_dict().items() if k not in ("audio_features", "time_segments")}
    assert MatchNetConfig.from_dict(old) == MatchNetConfig()
    assert MatchNetConfig().audio_dim == 13 and MatchNetConfig(audio_features="mfcc+rhythm+tempo").audio_dim == 23


def test_runtime_refuses_bad_tensors():
    net = _net()
    t = module_tensors(net)
    for broken in ({k: v for k, v in t.items() if k != "pose_fc.weight"},
                   {**t, "audio_fc.weight": np.zeros((3, 3), np.float32)},
                   {**t, "pose_fc.bias": np.full(16, np.nan, np.float32)},
                   {**t, "audio_std": np.zeros(13, np.float32)}):
        with pytest.raises(ChoreoInputError) as e:
            MatchNetRuntime(broken, net.cfg, "broken.safetensors")
        assert "broken.safetensors" in str(e.value)
    rt = MatchNetRuntime(t, net.cfg)
    with pytest.raises(ChoreoInputError):
        rt.embed_pose(np.zeros((2, 30, 17, 3)))
    with pytest.raises(ChoreoInputError):
        rt.embed_audio(np.zeros((2, 30, 20)))


def test_inputs():
    from choreo.core.audio.features import COLUMNS, N_FEATURES
    from choreo.core.models.representation import encode_3d, local_joints_3d
    from choreo.core.motion import Motion

    f = np.random.default_rng(0).normal(size=(50, N_FEATURES)).astype(np.float32)
    a = audio_input(f)
    assert a.shape == (50, 13) and np.array_equal(a, f[:, COLUMNS["mfcc"]][:, :13])
    with pytest.raises(ChoreoInputError):
        audio_input(f[:, :100])
    r = audio_input(f, MatchNetConfig(audio_features="mfcc+rhythm"))
    assert r.shape == (50, 15) and np.array_equal(r[:, :13], a)
    assert np.array_equal(r[:, 13], f[:, COLUMNS["onset"]][:, 0])
    assert np.array_equal(r[:, 14], f[:, COLUMNS["beat"]][:, 0])
    from choreo.core.generation.families.danceit.matchnet import tempo_bands

    t = audio_input(f, MatchNetConfig(audio_features="mfcc+rhythm+tempo"))
    tg = f[:, COLUMNS["tempogram"]]
    bands = tempo_bands(8)
    assert t.shape == (50, 23) and np.array_equal(t[:, :15], r)
    assert all(b > a_ for a_, b in bands) and bands[0][0] == 11 and bands[-1][1] == 86   # 0.25–2 s lags
    np.testing.assert_allclose(t[:, 15 + 3], tg[:, bands[3][0]:bands[3][1]].mean(1), rtol=1e-5)
    m = Motion(_joints(40, 0), sk.FPS)
    np.testing.assert_array_equal(pose_input(m), local_joints_3d(encode_3d(m)))
    np.testing.assert_allclose(pose_input(m.joints), pose_input(m), atol=1e-6)
    assert pose_input(m).shape == (40, V, 3)


# -- a small synthetic corpus ---------------------------------------------------------

def _joints(T: int, seed: int) -> np.ndarray:
    """A standing skeleton swaying with a take-specific rhythm (plausible enough for encode_3d)."""
    rng = np.random.default_rng(seed)
    rest = np.zeros((V, 3))
    for j, p in enumerate(sk.PARENTS):
        if p >= 0:
            rest[j] = rest[p] + rng.normal(0, 0.08, 3) + np.array([0, 0, 0.1 if j < 16 else -0.05])
    rest[sk.JOINT_INDEX["l_hip"]] = [0.1, 0, 0.9]
    rest[sk.JOINT_INDEX["r_hip"]] = [-0.1, 0, 0.9]
    rest[sk.JOINT_INDEX["l_shoulder"]] = [0.18, 0, 1.4]
    rest[sk.JOINT_INDEX["r_shoulder"]] = [-0.18, 0, 1.4]
    rest[0] = [0, 0, 0.95]
    t = np.arange(T)[:, None, None] / sk.FPS
    freq = rng.uniform(0.5, 2.0, (1, V, 3))
    return (rest[None] + 0.05 * np.sin(2 * np.pi * freq * t + rng.uniform(0, 6, (1, V, 3)))).astype(np.float32)


@pytest.fixture(scope="module")
def fake_corpus(tmp_path_factory):
    """Two train takes × three tracks and one val take × two tracks, windows of 4–6 s with mirrors,
    music features random (MFCC columns follow the take's rhythm)."""
    from choreo.core.audio.features import COLUMNS, N_FEATURES
    from choreo.core.data.corpus import FORMAT_VERSION, write_npz

    rng = np.random.default_rng(0)
    takes, tracks = ["t0", "t1", "t2"], ["m0", "m1", "m2", "m3"]
    joints, moff, feats, woff = [], [0], [], [0]
    rows = {k: [] for k in ("pair_motion", "pair_track", "pair_take", "pair_music_start", "pair_split",
                            "pair_mirrored", "pair_window", "pair_warp_min", "pair_warp_max", "pair_warp_mean")}
    wtrack, wstart = [], []
    plan = [(0, 0), (0, 1), (1, 1), (1, 2), (0, 2), (1, 0), (2, 3), (2, 3)]
    for n, (take, track) in enumerate(plan):
        T = int(rng.integers(120, 190))
        j = _joints(T, take * 10 + n)
        joints.append(j)
        moff.append(moff[-1] + T)
        f = rng.normal(size=(T, N_FEATURES)).astype(np.float32)
        f[:, COLUMNS["mfcc"]] += np.sin(np.arange(T)[:, None] / (3 + take))
        feats.append(f.astype(np.float16))
        woff.append(woff[-1] + T)
        wtrack.append(track)
        wstart.append(n * 200)
        for mirrored in (False, True):
            for k, v in (("pair_motion", n), ("pair_track", track), ("pair_take", take),
                         ("pair_music_start", n * 6.0), ("pair_split", "val" if take == 2 else "train"),
                         ("pair_mirrored", mirrored), ("pair_window", n), ("pair_warp_min", 1.0),
                         ("pair_warp_max", 1.0), ("pair_warp_mean", 1.0)):
                rows[k].append(v)
    P = len(rows["pair_motion"])
    arrays = {"format_version": np.array(FORMAT_VERSION), "fps": np.array(sk.FPS),
              "joints": np.concatenate(joints), "motion_offsets": np.array(moff, np.int64),
              "beat_times": np.zeros(0), "beat_offsets": np.zeros(P + 1, np.int64),
              "takes": np.array(takes), "tracks": np.array(tracks),
              "take_split": np.array(["train", "train", "val"]),
              "track_split": np.array(["train", "train", "train", "val"]),
              "build_params": np.array(json.dumps({"seed": 0})),
              "window_features": np.concatenate(feats), "window_offsets": np.array(woff, np.int64),
              "window_track": np.array(wtrack, np.int64), "window_start": np.array(wstart, np.int64),
              "feature_columns": np.array([f"c{i}" for i in range(N_FEATURES)])}
    dtypes = {"pair_split": None, "pair_mirrored": bool, "pair_music_start": np.float64, "pair_warp_min": np.float64,
              "pair_warp_max": np.float64, "pair_warp_mean": np.float64}
    for k, v in rows.items():
        arrays[k] = np.array(v, dtype=dtypes.get(k, np.int64))
    path = tmp_path_factory.mktemp("matchnet_corpus") / "corpus.npz"
    write_npz(path, arrays)
    return path


def test_sampler_delayed_negatives_are_the_same_take_shifted(fake_corpus):
    from choreo.core.data.corpus import Corpus
    from choreo.core.training.danceit import Clips, delayed_start, sample_batch

    corpus = Corpus.load(fake_corpus)
    clips = Clips(corpus, "train", MatchNetConfig())
    rng = np.random.default_rng(0)
    shift = 30
    seen = 0
    for L in (30, 60, 90, 120):
        for _ in range(20):
            b = sample_batch(clips, rng, 8, L, shift)
            rows = b["rows"]
            assert len(np.unique(clips.window[rows])) == len(rows)          # distinct music windows
            assert np.all(clips.lengths[rows] >= L)
            for r, s, d in zip(rows, b["starts"], b["delayed"]):
                assert 0 <= s <= clips.lengths[r] - L
                if d >= 0:  # the same pair's dance (so the same take), shifted ≥ 1 s, inside the pair
                    seen += 1
                    assert abs(d - s) >= shift and 0 <= d <= clips.lengths[r] - L
                    np.testing.assert_array_equal(clips.pose([r], [d], L)[0], clips.local[r][d:d + L])
                else:   # only when no shifted clip fits
                    assert delayed_start(np.random.default_rng(1), int(clips.lengths[r]), L, int(s), shift) == -1
            take = clips.take[rows]
            assert not np.any(b["other"] & (take[:, None] == take[None]))   # other-pair negatives: other takes
            assert not np.any(np.diag(b["other"]))
    assert seen > 50
    assert delayed_start(rng, 100, 80, 10, 30) == -1
    assert {delayed_start(rng, 150, 60, 40, 30) for _ in range(200)} <= set(range(0, 11)) | set(range(70, 91))


def test_loss_separates_positives_from_negatives(fake_corpus):
    from choreo.core.data.corpus import Corpus
    from choreo.core.training.danceit import Clips, _Run, sample_batch, validate_config

    d_pos, d_neg = torch.tensor([0.0, 0.5]), torch.tensor([2.0, 0.4])
    pos, neg = matching_loss(d_pos, d_neg, 1.4)
    assert pos.item() == pytest.approx(0.125) and neg.item() == pytest.approx(0.5 * 1.0 ** 2)

    corpus = Corpus.load(fake_corpus)
    run = _Run(validate_config({"batch_size": 6, "lr": 3e-3}), torch.device("cpu"))
    clips = Clips(corpus, "train", run.mcfg)
    run.net.set_stats(*clips.stats())
    b = sample_batch(clips, np.random.default_rng(0), 6, 45, 30)
    assert np.any(b["delayed"] >= 0)

    def gap():
        run.net.eval()
        with torch.no_grad():
            out = run.losses(clips, b)
        run.net.train()
        return out["d_pos"].item(), 0.5 * (out["d_delayed"].item() + out["d_other"].item())

    p0, n0 = gap()
    run.net.train()
    for _ in range(60):
        run.step(clips, b)
    p1, n1 = gap()
    assert p1 < n1 and (n1 - p1) > (n0 - p0) + 0.2


def test_tiny_training_writes_loadable_weights(fake_corpus, tmp_path):
    from choreo.core.training import danceit

    cfg = {"steps": 3, "batch_size": 4, "corpus": str(fake_corpus), "val_every": 2, "log_every": 1,
           "checkpoint_every": 2, "report_lengths": [1, 4], "crossmodal": False, "variant": "tiny_matchnet",
           "keep": "best"}
    res = danceit.train_generator(cfg, tmp_path, device="cpu")
    assert res["steps"] == 3 and np.isfinite(res["final_val_loss"])
    vals = {h["step"]: h["val_loss"] for h in res["history"] if "val_loss" in h}
    assert set(vals) == {2, 3} and res["kept_step"] == min(vals, key=vals.get)   # keep "best": lowest val loss
    assert res["final_val_loss"] == min(vals.values())
    tensors, meta = load_weights(tmp_path / "tiny_matchnet.safetensors")
    assert meta["kind"] == "generator" and meta["family"] == "danceit" and meta["variant"] == "tiny_matchnet"
    rep = meta["retrieval"]
    e = rep["lengths"]["1s"]
    assert e["clips"] >= 2 and 0 <= e["matchnet"]["recall_at_1"] <= 1 and e["chance"]["recall_at_1"] == 1 / e["clips"]
    assert "accuracy" in e["correlation"]["val"]
    mcfg = MatchNetConfig.from_dict(meta["config"])
    rt = MatchNetRuntime(tensors, mcfg, "tiny")
    assert rt.embed_pose(np.zeros((2, 30, V, 3), np.float32)).shape == (2, 16)
    assert (tmp_path / "tiny_matchnet.json").is_file()
    # resuming with more steps continues from the checkpoint
    res2 = danceit.train_generator({**cfg, "steps": 4}, tmp_path, device="cpu", resume=True)
    assert res2["steps"] == 4
    vals = {h["step"]: h["val_loss"] for h in res2["history"] if "val_loss" in h}
    assert res2["kept_step"] == min(vals, key=vals.get)
    with pytest.raises(ChoreoInputError):
        danceit.train_generator({**cfg, "lr": 0.1, "steps": 5}, tmp_path, device="cpu", resume=True)
