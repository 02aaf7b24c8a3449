"""The generator's representation, inputs and weights files (torch side kept small)."""

import json

import numpy as np
import pytest

from choreo.core.errors import ChoreoInputError
from choreo.core.models import conditioning, representation as rep, weights as W
from choreo.core.models.config import GeneratorConfig
from choreo.core.motion import Motion


def _walk(T=90, fps=30.0):
    """A stick figure walking forward while turning: root motion and heading change."""
    from choreo.core.skeleton_maps import smpl_rest_joints

    rest = smpl_rest_joints().astype(np.float64)
    t = np.arange(T) / fps
    yaw = 0.8 * t  # turning left
    out = np.empty((T, 24, 3))
    for k in range(T):
        c, s = np.cos(yaw[k]), np.sin(yaw[k])
        R = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
        body = rest.copy()
        body[20:24, 2] += 0.2 * np.sin(2 * np.pi * t[k])  # hands bob
        out[k] = body @ R.T + np.array([0.3 * t[k], -0.5 * t[k], 0.02 * np.sin(6 * t[k])])
    return Motion(out, fps)


def test_3d_round_trip_is_exact():
    m = _walk()
    f = rep.encode_3d(m)
    assert f.shape == (m.num_frames, rep.DIM_3D)
    back = rep.decode_3d(f, m.fps, start_xy=m.joints[0, 0, :2], start_heading=rep.headings(m.joints)[0])
    assert np.abs(back.joints - m.joints).max() < 1e-4


def test_3d_features_do_not_depend_on_where_the_dancer_stands():
    m = _walk()
    c, s = np.cos(1.1), np.sin(1.1)
    moved = Motion(m.joints @ np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]).T + [5.0, -2.0, 0.0], m.fps)
    assert np.abs(rep.encode_3d(moved) - rep.encode_3d(m)).max() < 1e-4


def test_heading_rate_and_velocity_are_physical():
    m = _walk()
    f = rep.encode_3d(m)
    assert np.allclose(f[:-1, 3], 0.8, atol=1e-3)  # rad/s
    speed = np.hypot(f[:-1, 1], f[:-1, 2])
    assert np.allclose(speed, np.hypot(0.3, 0.5), atol=1e-3)


def test_local_joints_numpy_and_torch_agree():
    torch = pytest.importorskip("torch")
    f = rep.encode_3d(_walk())
    a = rep.local_joints_3d(f)
    b = rep.local_joints_3d(torch.from_numpy(f)).numpy()
    assert a.shape == (len(f), 24, 3) and np.array_equal(a, b)
    assert np.all(a[:, 0, :2] == 0) and np.array_equal(a[:, 0, 2], f[:, 0])


def test_2d_mode_is_front_view_openpose18():
    f = rep.encode_2d(_walk())
    assert f.shape == (90, rep.DIM_2D)
    kp = rep.decode_2d(f)
    assert kp.shape == (90, 18, 2)
    assert kp[0, 0, 1] > kp[0, 8, 1]  # nose above the right hip (z up)


def test_noise_is_seeded_and_continuous_across_windows():
    cfg = GeneratorConfig()
    a = conditioning.smooth_noise(7, 400, cfg)
    assert np.array_equal(a[120:300], conditioning.smooth_noise(7, 180, cfg, offset_frames=120))
    assert not np.array_equal(a, conditioning.smooth_noise(8, 400, cfg))
    assert np.abs(np.diff(a, axis=0)).max() < 0.5  # no jumps at knots
    # knots on the beat: a fractional period and offset, always exactly n frames (a float
    # arange once gave n + 1), and a later window still sees the same noise
    b = conditioning.smooth_noise(7, 2025, cfg, offset_frames=1234.5678, period_frames=56.25)
    assert b.shape == (2025, cfg.noise_dim)
    for n in range(1, 400, 37):
        assert len(conditioning.smooth_noise(7, n, cfg, offset_frames=17.3 * n, period_frames=45.7)) == n
    c = conditioning.smooth_noise(7, 1000, cfg, offset_frames=1234.5678 + 500, period_frames=56.25)
    assert np.allclose(b[500:1500], c, atol=1e-6)


def test_loudness_normalisation_and_silence():
    y = 0.01 * np.sin(np.linspace(0, 2000, 16000)).astype(np.float32)
    z = conditioning.normalize_loudness(y, 16000)
    assert abs(np.sqrt(np.mean(z**2)) - conditioning.TARGET_RMS) < 0.02
    assert not np.any(conditioning.normalize_loudness(np.zeros(16000, np.float32), 16000))
    cfg = GeneratorConfig()
    assert conditioning.model_pieces(y, 16000, cfg).shape == (30, cfg.piece_samples)


def test_config_round_trip_and_unknown_keys():
    cfg = GeneratorConfig(hidden=64, output=rep.OPENPOSE18)
    assert GeneratorConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    # weights and configs from before outputs had names say "mode"
    assert GeneratorConfig.from_dict({"hidden": 64, "mode": "2d"}) == cfg
    assert GeneratorConfig.from_dict({"mode": "3d"}).output == rep.SMPL24
    for bad in ({"mode": "4d"}, {"mode": "2d", "output": rep.SMPL24}):
        with pytest.raises(ValueError, match="mode must be"):
            GeneratorConfig.from_dict(bad)
    with pytest.raises(ValueError, match="unknown"):
        GeneratorConfig.from_dict({"hiden": 3})


def test_weights_round_trip_and_bad_files(tmp_path):
    t = {"a": np.arange(6, dtype=np.float32).reshape(2, 3)}
    sha = W.save_weights(tmp_path / "w.safetensors", t, {"kind": "test"})
    got, meta = W.load_weights(tmp_path / "w.safetensors")
    assert np.array_equal(got["a"], t["a"]) and meta == {"kind": "test"}
    with pytest.raises(ChoreoInputError, match="expected " + sha[::-1]):
        W.load_weights(tmp_path / "w.safetensors", expected=sha[::-1])
    with pytest.raises(ChoreoInputError, match="not found"):
        W.load_weights(tmp_path / "none.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"\x80\x04pickle data, not safetensors")
    with pytest.raises(ChoreoInputError, match="not a safetensors"):
        W.load_weights(tmp_path / "junk.safetensors")
    data = (tmp_path / "w.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) - 8])
    with pytest.raises(ChoreoInputError, match="cut.safetensors"):
        W.load_weights(tmp_path / "cut.safetensors")


def test_generator_forward_shapes():
    torch = pytest.importorskip("torch")
    from choreo.core.models.generator import DanceGenerator

    cfg = GeneratorConfig(hidden=16, enc_dim=16, mlp_hidden=32)
    g = DanceGenerator(cfg)
    out = g(torch.zeros(2, 12, cfg.piece_samples), torch.zeros(2, 12, cfg.cond_dim))
    assert out.shape == (2, 12, rep.DIM_3D)


def test_style_posterior_knots_interpolate_like_seeded_noise():
    torch = pytest.importorskip("torch")
    from choreo.core.models.style import StyleEncoder, interpolate_knots

    cfg = GeneratorConfig(noise_dim=3)
    period = int(cfg.noise_period * cfg.fps)
    knots = np.random.default_rng(0).standard_normal((1, 5, 3)).astype(np.float32)
    frames = interpolate_knots(torch.from_numpy(knots), 150, period)[0].numpy()
    assert np.allclose(frames[::period], knots[0, :3], atol=1e-6)
    assert np.allclose(frames[period // 2], 0.5 * (knots[0, 0] + knots[0, 1]), atol=1e-6)
    enc = StyleEncoder(cfg)
    noise, kl = enc.sample_noise(torch.zeros(2, 100, cfg.pose_dim))
    assert noise.shape == (2, 100, 3) and kl.item() >= 0
