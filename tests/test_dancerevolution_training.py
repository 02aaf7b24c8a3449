"""Dance Revolution training: the curriculum, the decoder's two paths, the trainer, resumption, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from choreo.cli import main as cli_main
from choreo.core.errors import ChoreoInputError
from choreo.core.models.dancerevolution import DanceRevolution, DRConfig
from choreo.core.models.weights import load_weights
from choreo.core.training import dancerevolution as T
from choreo.core.training.checkpoint import checkpoint_step

SMALL = {"d_model": 16, "layers": 1, "heads": 2, "ff": 16, "window": 4, "dec_hidden": 16, "dec_layers": 1,
         "noise_dim": 2}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, tiny_corpus, music_dir):
    return {"dir": tmp_path_factory.mktemp("dr"), "corpus": tiny_corpus, "music": music_dir}


def tiny_config(tiny, **over) -> dict:
    cfg = {"model": SMALL, "steps": 4, "batch_size": 2, "crop_frames": 24, "epoch_steps": 1, "lambda": 4.0,
           "corpus": str(tiny["corpus"]), "music": str(tiny["music"]), "val_every": 2, "val_batch": 4,
           "checkpoint_every": 100, "log_every": 1, "seed": 3}
    cfg.update(over)
    return cfg


def test_the_schedules_grow_as_the_paper_writes_them():
    assert [T.fed_back("teacher", 5, t, 100) for t in (0, 3, 9)] == [0, 0, 0]
    assert [T.fed_back("const", 5, t, 100) for t in (0, 3, 9)] == [5, 5, 5]
    assert [T.fed_back("linear", 5, t, 100) for t in (0, 3, 9)] == [0, 15, 45]
    assert [T.fed_back("square", 0.5, t, 100) for t in (0, 3, 9)] == [0, 4, 40]
    assert [T.fed_back("exp", 0.01, t, 100) for t in (0, 3, 9)] == [0, 0, 81]
    assert T.fed_back("linear", 5, 1000, 100) == 100  # never more than the crop
    np.testing.assert_array_equal(T.own_mask(9, 2, 3), [0, 0, 1, 1, 1, 0, 0, 1, 1])
    assert not T.own_mask(9, 2, 0).any()


def test_teacher_forcing_in_one_pass_equals_the_step_by_step_decoder():
    torch.manual_seed(0)
    net = DanceRevolution(DRConfig.from_dict(SMALL)).eval()
    music, cond = torch.randn(2, 20, 438), torch.randn(2, 20, 3)
    target = torch.randn(2, 20, net.cfg.pose_dim)
    with torch.no_grad():
        code = net.encode(music, cond)
        fast = net.decode(code, target)
        own = torch.zeros(20, dtype=torch.bool)
        own[0] = True  # forces the loop; frame 0's previous pose is zeros either way
        slow = net.decode(code, target, own)
        free = net.decode(code)
        fed = net.decode(code, target, torch.ones(20, dtype=torch.bool))
    assert torch.allclose(fast, slow, atol=1e-5)
    assert torch.allclose(free, fed, atol=1e-6)  # all own outputs: the target is never read
    assert not torch.allclose(free, fast, atol=1e-3)


def test_config_errors_are_one_clear_line(tmp_path):
    for bad, what in (({"schedule": "cubic"}, "schedule"), ({"lambda": -1}, "lambda"), ({"steps": 0}, "steps"),
                      ({"model": {"attention": "sparse"}}, "attention"), ({"oops": 1}, "oops"),
                      ({"model": {"d_model": 10, "heads": 4}}, "multiple")):
        with pytest.raises(ChoreoInputError, match=what):
            T.validate_config(bad, "cfg.json")


def test_training_learns_resumes_exactly_and_writes_the_family(tiny):
    cfg = tiny_config(tiny)
    straight = T.train_generator(cfg, tiny["dir"] / "a", device="cpu")
    half = T.train_generator(cfg, tiny["dir"] / "b", device="cpu", max_steps=2)
    assert checkpoint_step(tiny["dir"] / "b" / "dancerevolution_checkpoint") == 2 and half["steps"] == 2
    with pytest.raises(ChoreoInputError, match="different config.*schedule"):
        T.train_generator({**cfg, "schedule": "exp"}, tiny["dir"] / "b", device="cpu", resume=True)
    resumed = T.train_generator(cfg, tiny["dir"] / "b", device="cpu", resume=True)
    ta, meta = load_weights(straight["weights"])
    tb, _ = load_weights(resumed["weights"])
    for k in ta:
        np.testing.assert_array_equal(ta[k], tb[k], err_msg=k)
    assert [h["p"] for h in straight["history"] if "p" in h] == [0, 4, 8, 12]  # λt frames fed back
    assert meta["family"] == "dancerevolution" and meta["config"]["d_model"] == 16
    assert {"music_mean", "music_std", "norm_mean", "norm_std", "energy_stats", "layers.0.rel"} <= set(ta)
    assert not any(k.startswith("style") for k in ta)  # the posterior is for training only
    assert float(ta["music_std"].min()) > 0 and np.isfinite(straight["final_val_l1"])
    report = json.loads((tiny["dir"] / "a" / "dancerevolution.json").read_text())
    assert report["weights_sha256"] == straight["weights_sha256"]


def test_a_few_steps_reduce_the_training_error(tiny):
    cfg = tiny_config(tiny, steps=30, val_every=30, log_every=5, lr=3e-3, schedule="const", lambda_=None)
    cfg.pop("lambda_")
    r = T.train_generator(cfg, tiny["dir"] / "learn", device="cpu")
    l1 = [h["l1"] for h in r["history"] if "l1" in h]
    assert np.mean(l1[-2:]) < 0.95 * np.mean(l1[:2]) and np.isfinite(r["final_val_l1"])


def test_choreo_train_dispatches_on_the_family(tiny, tmp_path, capsys):
    path = tmp_path / "dr.json"
    path.write_text(json.dumps({"task": "generator", "family": "dancerevolution", **tiny_config(tiny, steps=2)}))
    assert cli_main(["train", "--config", str(path), "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "dancerevolution.safetensors").is_file()
    assert "final val L1" in capsys.readouterr().out
