"""The beat activation network: numpy inference = the torch twin, deterministic, trainable here, shipped."""

from __future__ import annotations

import json

import numpy as np
import pytest

from choreo.core.audio import activation as A
from choreo.core.audio.beats import f_measure, track_beats
from choreo.core.audio.medley import drum_song
from choreo.core.models import weights as W

SR = 22050


def _song(bpm=120.0, meter=4, seconds=12.0, seed=0):
    beats = np.arange(0, seconds, 60.0 / bpm)
    return drum_song(beats, meter, seconds, SR, seed), beats


def test_shipped_network_is_registered_and_loads():
    entry = W.registry()["beats"]
    assert entry["file"] == "beats.safetensors" and "beats" in W.installed_models()
    net = A.BeatActivation.load()
    assert net.meta["kind"] == "beats" and net.meta["features"]["n_mels"] == A.N_MELS
    assert net.t["mean"].shape == (A.N_INPUTS,)


def test_input_features_shape_units_and_rate():
    y, _ = _song(seconds=5.0)
    x = A.beat_input(y, SR)
    assert x.dtype == np.float32 and x.shape[1] == A.N_INPUTS
    assert abs(len(x) - len(y) / A.HOP) <= 2
    L, flux = x[:, :A.N_MELS], x[:, A.N_MELS:]
    assert L.max() == pytest.approx(0.0, abs=1e-6) and L.min() >= -1.0 and flux.min() >= 0.0
    # another sample rate is resampled first: same frame count, nearly the same features
    from choreo.core.audio.resample import resample

    x44 = A.beat_input(resample(y, SR, 44100), 44100)
    assert abs(len(x44) - len(x)) <= 1
    n = min(len(x), len(x44))
    assert np.abs(x44[:n, :A.N_MELS] - x[:n, :A.N_MELS]).mean() < 0.02


def test_numpy_inference_matches_torch_and_is_deterministic():
    torch = pytest.importorskip("torch")
    from choreo.core.training.beats import model

    net = A.BeatActivation.load()
    y, _ = _song(seconds=8.0, seed=3)
    x = A.beat_input(y, SR)
    z = net.forward(x)
    twin = model(net.meta["config"], net.t["mean"], net.t["std"])
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in net.t.items()})
    twin.eval()
    with torch.no_grad():
        zt = twin(torch.from_numpy(x)[None])[0].numpy()
    assert np.abs(z - zt).max() < 1e-3
    a1, a2 = net(y, SR), net(y, SR)
    assert a1.tobytes() == a2.tobytes()
    b1, b2 = track_beats(y, SR), track_beats(y, SR)
    assert b1.beats.tobytes() == b2.beats.tobytes() and b1.downbeats.tobytes() == b2.downbeats.tobytes()


def test_a_tiny_training_run_writes_weights_the_tracker_reads(tmp_path):
    pytest.importorskip("torch")
    from choreo.core.training.beats import train_beats

    folder = tmp_path / "set"
    folder.mkdir()
    import soundfile as sf

    for k, (bpm, meter) in enumerate([(100, 4), (132, 3)]):
        y, beats = _song(bpm, meter, 10.0, seed=k)
        sf.write(folder / f"t{k}.wav", y, SR)
        (folder / f"t{k}.json").write_text(json.dumps({"beats": beats.tolist(),
                                                        "downbeats": beats[::meter].tolist(), "split": "train"}))
    cfg = {"sets": [{"path": str(folder), "splits": ["train"]}], "validate": [{"path": str(folder)}],
           "cache": str(tmp_path / "cache"), "steps": 30, "batch": 2, "crop_frames": 256, "channels": 8,
           "blocks": 4, "varispeed": [1.0, 1.1], "threads": 1}
    out = tmp_path / "beats.safetensors"
    r = train_beats(cfg, out)
    assert r["training"]["tracks"] == 2 and r["validation"]["tracks"] == 2
    tensors, meta = W.load_weights(out)
    assert meta["config"]["blocks"] == 4 and tensors["inp.weight"].shape == (8, A.N_INPUTS, 3)
    y, beats = _song(100, 4, 10.0, seed=0)
    bm = track_beats(y, SR, weights=out)
    assert len(bm.beats) > 0 and 0.0 <= f_measure(beats, bm.beats) <= 1.0
    # same seed, same data: the same weights
    train_beats(cfg, tmp_path / "again.safetensors")
    again, _ = W.load_weights(tmp_path / "again.safetensors")
    assert all(np.array_equal(tensors[k], again[k]) for k in tensors)


def test_the_no_dev_config_is_the_shipped_one_without_the_dev_split():
    """configs/beats_nodev.json (docs/beats.md, "Judging a change on dev") must train what
    configs/beats.json trains, less the beat set's dev split, which it validates on instead."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "configs"
    shipped = json.loads((root / "beats.json").read_text())
    nodev = json.loads((root / "beats_nodev.json").read_text())
    dev = {"path": "out/beatset", "splits": ["dev"]}
    assert dev in shipped["sets"] and dev not in nodev["sets"] and nodev["validate"] == [dev]
    assert nodev["sets"] == [s for s in shipped["sets"] if s != dev]
    rest = lambda c: {k: v for k, v in c.items() if k not in ("sets", "validate")}  # noqa: E731
    assert rest(nodev) == rest(shipped)
