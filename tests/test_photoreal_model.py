"""The photoreal renderer (issue 16): numpy runtime = torch model, training learns a synthetic
person, is deterministic and resumable, and its weights carry and check their meta; SSIM/PSNR."""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pytest
import torch

from choreo.core.errors import ChoreoInputError
from choreo.core.models.photoreal import Photoreal, PhotorealConfig, face_size, limb_width
from choreo.core.models.weights import load_weights, module_tensors, save_weights
from choreo.core.training import photoreal as T
from choreo.core.video import renderer as RN
from choreo.core.video.quality import psnr, ssim

REPO = Path(__file__).resolve().parents[1]
TINY_MODEL = {"ngf": 8, "n_down": 2, "n_blocks": 2, "ndf": 8, "d_layers": 2, "n_scales": 2,
              "face_ngf": 8, "face_n_blocks": 1, "face_ndf": 8}


@pytest.fixture(autouse=True)
def _threads():
    # Nets this small are overhead-bound: a second thread only waits on the first (and on a
    # shared machine it can make a step 20x slower). The trainer sets its config's threads.
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


# -- quality ---------------------------------------------------------------------------------------

def test_ssim_and_psnr_known_values():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    assert ssim(a, a) == pytest.approx(1.0, abs=1e-12) and psnr(a, a) == float("inf")
    # Constant images: only the luminance term is left, (2xy + C1) / (x² + y² + C1).
    x, y, c1 = 100.0, 140.0, (0.01 * 255) ** 2
    flat = lambda v: np.full((20, 20), v, np.uint8)  # noqa: E731
    assert ssim(flat(x), flat(y)) == pytest.approx((2 * x * y + c1) / (x * x + y * y + c1), rel=1e-12)
    assert psnr(flat(100), flat(110)) == pytest.approx(10 * np.log10(255 ** 2 / 100))
    # Colour: the mean of the channels' SSIM; noise lowers it, symmetrically.
    b = np.clip(a.astype(int) + rng.integers(-30, 31, a.shape), 0, 255).astype(np.uint8)
    per = np.mean([ssim(a[..., c], b[..., c]) for c in range(3)])
    assert ssim(a, b) == pytest.approx(per, rel=1e-12) and ssim(a, b) == pytest.approx(ssim(b, a), rel=1e-12)
    assert 0 < ssim(a, b) < 0.99
    with pytest.raises(ValueError, match="data_range"):
        ssim(a.astype(np.float32), b.astype(np.float32))
    # The differentiable twin the trainer optimises is the same number.
    fa, fb = (torch.from_numpy(v.astype(np.float32) / 255).permute(2, 0, 1)[None] for v in (a, b))
    assert float(T.ssim_torch(fa, fb)) == pytest.approx(ssim(a, b), abs=1e-5)
    assert float(T.ssim_loss(fa * 2 - 1, fb * 2 - 1, scales=1)) == pytest.approx(1 - ssim(a, b), abs=1e-5)


def test_ssim_matches_skimage():
    metrics = pytest.importorskip("skimage.metrics")
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (37, 45, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-50, 51, a.shape), 0, 255).astype(np.uint8)
    ref = metrics.structural_similarity(a, b, channel_axis=-1, gaussian_weights=True, sigma=1.5,
                                        use_sample_covariance=False, data_range=255)
    assert ssim(a, b) == pytest.approx(ref, abs=1e-10)


# -- numpy runtime = torch -------------------------------------------------------------------------

def _random_weights(tmp_path, size: int, model: dict, **meta) -> tuple[Photoreal, str]:
    """An untrained Photoreal with a non-zero face stage, written as renderer weights."""
    torch.manual_seed(3)
    cfg = PhotorealConfig.from_dict(model)
    net = Photoreal(cfg).eval()
    with torch.no_grad():  # the face stage starts at zero; give it something to reproduce
        net.face.out.weight.normal_(0, 0.05)
        net.face.out.bias.normal_(0, 0.1)
    path = tmp_path / "random.safetensors"
    full = {"kind": RN.KIND, "version": RN.VERSION, "config": {"model": cfg.to_dict()}, "size": size,
            "face_patch": face_size(cfg, size), "limb_width": limb_width(cfg, size), **meta}
    save_weights(path, module_tensors(net), full)
    return net, str(path)


def _hwc(x: torch.Tensor) -> np.ndarray:
    return x[0].permute(1, 2, 0).numpy()


def test_numpy_runtime_equals_torch(tmp_path, monkeypatch):
    size = 48
    net, path = _random_weights(tmp_path, size, {"ngf": 8, "n_down": 2, "n_blocks": 2, "face_n_down": 1,
                                                 "face_n_blocks": 1})
    monkeypatch.setattr(RN, "_BAND_FLOATS", 20_000)  # several im2col bands per conv
    ren = RN.Renderer(path)
    assert ren.size == size and ren.meta["kind"] == RN.KIND
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, 6, size, size, generator=g) * 2 - 1
    with torch.no_grad():
        body = net.generator(x)
        P = ren.face_patch
        xf = torch.rand(1, 6, P, P, generator=g) * 2 - 1
        res = net.face(xf)
    assert float(body.abs().max()) < 0.999 and float(res.abs().max()) > 0.05  # not saturated, not zero
    np.testing.assert_allclose(ren._body(_hwc(x).copy()), _hwc(body), atol=1e-4, rtol=0)
    np.testing.assert_allclose(ren._face(_hwc(xf).copy()), _hwc(res), atol=1e-4, rtol=0)
    assert np.abs(ren._body(_hwc(x).copy()) - _hwc(body)).max() < 2e-5

    # A rollout through the renderer (numpy and torch backends) = the trainer's torch rollout.
    clip = T.synthetic_clip(6, size, seed=2)
    clip.keypoints[3, 0] = np.nan            # a frame whose face is placed by its eyes and ears
    clip.keypoints[4, [0, 14, 15, 16, 17]] = np.nan  # a frame without a face: no residual
    want = T.rollout(net, T.ClipData(clip.frames, clip.keypoints, np.ones(6, bool), slice(5, 6)), range(6))
    got = np.stack(list(RN.Renderer(path).render_keypoints(clip.keypoints)))
    got_torch = np.stack(list(RN.Renderer(path, backend="torch", device="cpu").render_keypoints(clip.keypoints)))
    assert got.shape == (6, size, size, 3) and got.dtype == np.uint8
    assert np.abs(got.astype(int) - want).max() <= 1 and np.abs(got_torch.astype(int) - want).max() <= 1
    # The face residual changed the frames that have a face, only inside the patch.
    plain = RN.Renderer(path)
    prev = None
    for i in range(3):
        prev = plain.frame(_pose(plain, clip.keypoints[i]), prev, RN.face_centre(clip.keypoints[i]))
    bare = plain.frame(_pose(plain, clip.keypoints[3]), prev, None)
    faced = plain.frame(_pose(plain, clip.keypoints[3]), prev, RN.face_centre(clip.keypoints[3]))
    y0, x0 = RN.face_box(RN.face_centre(clip.keypoints[3]), size, P)
    diff = np.abs(faced - bare).max(axis=2)
    assert diff[y0:y0 + P, x0:x0 + P].max() > 0.01
    diff[y0:y0 + P, x0:x0 + P] = 0
    assert diff.max() == 0


def _pose(ren, kp):
    from choreo.core.video.poses import pose_image

    return pose_image(kp, ren.size, ren.size, ren.limb_width)


def test_face_centre_and_box():
    kp = np.full((18, 2), np.nan)
    assert RN.face_centre(kp) is None
    kp[14], kp[17] = (10, 20), (14, 22)
    np.testing.assert_allclose(RN.face_centre(kp), [12, 21])
    kp[0] = (30, 5)
    np.testing.assert_allclose(RN.face_centre(kp), [30, 5])
    assert RN.face_box((30, 5), 64, 12) == (0, 24)        # clamped at the top
    assert RN.face_box((63, 63), 64, 12) == (52, 52)      # and at the bottom right
    assert RN.face_box((32.2, 40.7), 64, 12) == (35, 26)


# -- training --------------------------------------------------------------------------------------

def _tiny_cfg(**kw) -> dict:
    return {"resolution": 32, "model": dict(TINY_MODEL, n_scales=1), "steps": 6, "lr": 1e-3, "threads": 1,
            "log_every": 2, "checkpoint_every": 2, "preview_every": 3, "preview_frames": 2, **kw}


@pytest.fixture(scope="module")
def clip32():
    return T.synthetic_clip(40, 32, seed=1)


def _tensors(path):
    return load_weights(path)[0]


def test_same_seed_same_weights_and_resume_is_exact(tmp_path, clip32):
    cfg = _tiny_cfg()
    a = T.train_renderer(clip32, cfg, tmp_path / "a.safetensors", tmp_path / "a", device="cpu")
    b = T.train_renderer(clip32, cfg, tmp_path / "b.safetensors", tmp_path / "b", device="cpu")
    ta, tb = _tensors(a["weights"]), _tensors(b["weights"])
    assert set(ta) == set(tb) and any(k.startswith("face.") for k in ta)
    for k in ta:
        np.testing.assert_array_equal(ta[k], tb[k], err_msg=k)

    # Interrupted after step 5 (last checkpoint: step 4), then resumed.
    def stop_at_5(fraction, label):
        if label.startswith("step 5/"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        T.train_renderer(clip32, cfg, tmp_path / "c.safetensors", tmp_path / "c", device="cpu", progress=stop_at_5)
    assert not (tmp_path / "c.safetensors").exists()
    with pytest.raises(ChoreoInputError, match="different config.*lr"):
        T.train_renderer(clip32, {**cfg, "lr": 5e-4}, tmp_path / "c.safetensors", tmp_path / "c", device="cpu",
                         resume=True)
    logs = []
    c = T.train_renderer(clip32, cfg, tmp_path / "c.safetensors", tmp_path / "c", device="cpu", resume="auto",
                         log=logs.append)
    assert logs and "resumed from step 4" in logs[0] and c["steps"] == 6
    tc = _tensors(c["weights"])
    for k in ta:
        np.testing.assert_array_equal(ta[k], tc[k], err_msg=k)
    assert a["held_out"] == c["held_out"]
    # A different seed trains different weights (the equalities above are not vacuous).
    d = T.train_renderer(clip32, {**cfg, "seed": 1}, tmp_path / "d.safetensors", tmp_path / "d", device="cpu",
                         resume="auto")  # nothing to resume: a fresh run
    assert not np.array_equal(_tensors(d["weights"])["generator.inp.weight"], ta["generator.inp.weight"])


def test_weights_meta_and_refusals(tmp_path, clip32):
    stats = {"close": 30.0, "far": 20.0}
    r = T.train_renderer(clip32, _tiny_cfg(steps=2), tmp_path / "w.safetensors", tmp_path / "work",
                         device="cpu", extra_meta={"stats": stats})
    _, meta = load_weights(r["weights"])
    assert meta["kind"] == "choreo-photoreal" and meta["version"] == 1 and meta["size"] == 32
    assert meta["steps"] == 2 and meta["stats"] == stats and meta["config"]["model"]["ngf"] == 8
    assert meta["face_patch"] == face_size(PhotorealConfig.from_dict(meta["config"]["model"]), 32)
    assert meta["held_out"]["frames"] == 4 and 0 < meta["held_out"]["ssim"] < 1
    ren = RN.Renderer(r["weights"])
    assert ren.size == 32 and ren.meta["stats"] == stats
    # Previews: rows of pose | generated | real.
    from PIL import Image

    strip = np.asarray(Image.open(r["preview"]))
    assert strip.shape == (32, 3 * 32, 3) and r["preview"].endswith("step_0000002.png")
    # Another kind or version of weights is refused with one message.
    tensors, _ = load_weights(r["weights"])
    for bad in ({**meta, "kind": "generator"}, {**meta, "version": 2}):
        save_weights(tmp_path / "bad.safetensors", tensors, bad)
        with pytest.raises(ChoreoInputError, match="not photoreal renderer weights.*expected 'choreo-photoreal' "
                                                   "version 1"):
            RN.Renderer(tmp_path / "bad.safetensors")
    with pytest.raises(ValueError, match="extra_meta may not set kind"):
        T.train_renderer(clip32, _tiny_cfg(steps=1), tmp_path / "x.safetensors", tmp_path / "x",
                         device="cpu", extra_meta={"kind": "mine"})


def test_config_validation_and_target_adapter(tmp_path, clip32):
    with pytest.raises(ChoreoInputError, match="unknown key 'stpes'"):
        T.validate_config({"stpes": 3})
    with pytest.raises(ChoreoInputError, match="multiple of 4"):
        T.validate_config({"resolution": 34, "model": TINY_MODEL})
    with pytest.raises(ChoreoInputError, match="unknown model key"):
        T.validate_config({"model": {"ngff": 3}})
    with pytest.raises(ChoreoInputError, match="w_l1"):
        T.validate_config({"w_l1": -1})
    # The shipped configurations, by name; a file that is not JSON is named.
    assert T.load_config("cpu")["resolution"] == 256 and T.load_config("gpu")["model"]["n_blocks"] == 9
    assert T.load_config(REPO / "configs" / "photoreal_tiny.json") == T.load_config("tiny")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(ChoreoInputError, match="bad.json.*not valid JSON"):
        T.load_config(bad)
    target = types.SimpleNamespace(load_frames=lambda: clip32.frames, keypoints=clip32.keypoints,
                                   follows_previous=clip32.follows_previous, held_out=clip32.held_out, size=32)
    data = T.from_target(target)
    assert data.size == 32 and data.held_out == clip32.held_out
    # Frames at another size are resized with their keypoints.
    half = T.from_target(target, resolution=16)
    assert half.frames.shape == (40, 16, 16, 3) and half.frames.dtype == np.uint8
    np.testing.assert_allclose(half.keypoints, clip32.keypoints / 2)
    # The trainer resizes to the config's resolution; null keeps the data's own.
    r = T.train_renderer(half, _tiny_cfg(steps=1, resolution=32), tmp_path / "up.safetensors", tmp_path / "up",
                         device="cpu")
    assert load_weights(r["weights"])[1]["size"] == 32
    r = T.train_renderer(data, _tiny_cfg(steps=1, resolution=None), tmp_path / "own.safetensors", tmp_path / "own",
                         device="cpu")
    assert load_weights(r["weights"])[1]["size"] == 32


def test_tiny_training_learns_the_synthetic_person(tmp_path):
    clip = T.synthetic_clip(120, 64, seed=0)
    cfg = T.load_config("tiny")
    torch.manual_seed(0)
    untrained = T.evaluate(Photoreal(PhotorealConfig.from_dict(cfg["model"])), clip)
    r = T.train_renderer(clip, cfg, tmp_path / "w.safetensors", tmp_path / "work", device="cpu")
    held = r["held_out"]
    assert held["frames"] == 12 and r["steps"] == 300
    assert held["ssim"] > 0.65 and held["ssim"] > untrained["ssim"] + 0.4, (held, untrained)
    assert held["l1"] < 0.5 * untrained["l1"], (held, untrained)
    # The numpy renderer reproduces the trainer's held-out rollout from the weights file.
    idx = np.arange(120)[clip.held_out]
    frames = list(RN.Renderer(r["weights"]).render_keypoints(clip.keypoints[idx]))
    assert np.mean([ssim(f, g) for f, g in zip(frames, clip.frames[idx])]) == pytest.approx(held["ssim"], abs=2e-3)
