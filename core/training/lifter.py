"""Train the 2D→3D lifter (:mod:`choreo.core.lift.network`) on mocap filmed by random cameras.

``choreo train --config configs/lifter.json --out weights`` trains it and, written into
weights/, registers it as the shipped "lifter". Data: every BVH under ``mocap`` (CMU subjects
1–7 in ``../shared/data``), read at its own rate and resampled per window at a random speed
(0.8–1.2×) to 30 fps, mirrored half the time, then filmed by a random camera in a random
keypoint layout with detector noise (:func:`choreo.core.lift.views.example`). The held-out
takes (``val_takes``; by default the corpus's, :data:`~choreo.core.data.corpus.DEFAULT_VAL_TAKES`)
are never trained on; :func:`evaluate` scores them, whole, through cameras of their own seed.
Loss: MPJPE of the pelvis-relative joints, plus the error of their frame-to-frame motion
(smooth, still feet) and of the up direction.
"""

from __future__ import annotations

import os
import time

import numpy as np

from .. import skeleton as sk
from ..errors import ChoreoInputError
from ..lift import network as N
from ..lift import views
from ..lift.views import at_30fps, heldout_views, load_takes, split_takes
from ..progress import ProgressFn, report, scaled
from .trainer import is_number, with_defaults

DEFAULTS = {
    "task": "lifter",
    "mocap": "../shared/data/mocap/cmu",
    "val_takes": None,
    "seed": 0,
    "steps": 4000,
    "batch": 96,
    "window": 27,
    "lr": 0.001,
    "weight_decay": 0.0001,
    "channels": 384,
    "dilations": [3, 9],
    "dropout": 0.0,
    "noise": 0.01,
    "miss": 0.02,
    "speed": [0.8, 1.2],
    "velocity_weight": 1.0,
    "up_weight": 0.1,
    "eval_views": 3,
    "threads": 2,
    "description": "",
}
def check_config(config, where: str = "config") -> dict:
    cfg = with_defaults(config, DEFAULTS, where)
    for key in ("steps", "batch", "window", "channels", "eval_views", "threads"):
        if not (isinstance(cfg[key], int) and not isinstance(cfg[key], bool) and cfg[key] >= 1):
            raise ChoreoInputError(where, f"{key} must be a positive integer, got {cfg[key]!r}")
    for key in ("lr", "weight_decay", "dropout", "noise", "miss", "velocity_weight", "up_weight"):
        if not (is_number(cfg[key]) and cfg[key] >= 0):
            raise ChoreoInputError(where, f"{key} must be a non-negative number, got {cfg[key]!r}")
    if not (isinstance(cfg["dilations"], list) and cfg["dilations"]
            and all(isinstance(d, int) and d >= 1 for d in cfg["dilations"])):
        raise ChoreoInputError(where, f"dilations must be a list of positive integers, got {cfg['dilations']!r}")
    sp = cfg["speed"]
    if not (isinstance(sp, list) and len(sp) == 2 and all(is_number(v) and v > 0 for v in sp) and sp[0] <= sp[1]):
        raise ChoreoInputError(where, f"speed must be [slowest, fastest], got {sp!r}")
    return cfg


def _window(rng: np.random.Generator, joints: np.ndarray, fps: float, cfg: dict) -> np.ndarray:
    speed = rng.uniform(*cfg["speed"])
    step = speed * fps / N.FPS
    n = min(cfg["window"], int((len(joints) - 1) / step) + 1)
    start = rng.uniform(0, max(0.0, len(joints) - 1 - (n - 1) * step))
    j = at_30fps(joints, fps, start, speed, n)
    if rng.random() < 0.5:
        j = j[:, list(sk.MIRROR)] * np.array([-1.0, 1.0, 1.0])
    return j


def model(cfg: dict):
    """The torch twin of :class:`~choreo.core.lift.network.Lifter`."""
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, c, d):
            super().__init__()
            self.conv = nn.Conv1d(c, c, 3, padding=d, dilation=d)
            self.mix = nn.Conv1d(c, c, 1)

    class LifterTCN(nn.Module):
        def __init__(self):
            super().__init__()
            c = cfg["channels"]
            self.inp = nn.Conv1d(N.N_INPUTS, c, 3, padding=1)
            self.blocks = nn.ModuleList(Block(c, d) for d in cfg["dilations"])
            self.out = nn.Conv1d(c, N.N_OUTPUTS, 1)
            self.drop = nn.Dropout(cfg["dropout"])

        def forward(self, x):  # (B, T, N_INPUTS) -> (B, T, N_OUTPUTS)
            h = torch.relu(self.inp(x.transpose(1, 2)))
            for b in self.blocks:
                h = h + self.drop(b.mix(self.drop(torch.relu(b.conv(h)))))
            return self.out(torch.relu(h)).transpose(1, 2)

    return LifterTCN()


def _batch(rng: np.random.Generator, takes: list, cfg: dict):
    L = cfg["window"]
    B = cfg["batch"]
    x = np.zeros((B, L, N.N_INPUTS), np.float32)
    rel = np.zeros((B, L, sk.NUM_JOINTS, 3), np.float32)
    up = np.zeros((B, L, 3), np.float32)
    mask = np.zeros((B, L), np.float32)
    weights = np.array([len(j) / fps for j, fps in takes])
    for b, k in enumerate(rng.choice(len(takes), B, p=weights / weights.sum())):
        j = _window(rng, *takes[k], cfg)
        ex = views.example(rng, j, noise=cfg["noise"], miss=cfg["miss"])
        n = len(j)
        x[b, :n], rel[b, :n], up[b, :n], mask[b, :n] = ex["x"], ex["rel"], ex["up"], 1.0
    return x, rel, up, mask


def _loss(net, x, rel, up, mask, cfg):
    import torch

    y = net(torch.from_numpy(x))
    B, T = mask.shape
    p = y[..., :sk.NUM_JOINTS * 3].reshape(B, T, sk.NUM_JOINTS, 3)
    p = p - p[:, :, :1]
    rel, up, m = torch.from_numpy(rel), torch.from_numpy(up), torch.from_numpy(mask)
    n = m.sum()
    pos = (torch.linalg.vector_norm(p - rel, dim=-1).mean(-1) * m).sum() / n
    mv = m[:, 1:] * m[:, :-1]
    vel = (torch.linalg.vector_norm((p[:, 1:] - p[:, :-1]) - (rel[:, 1:] - rel[:, :-1]), dim=-1).mean(-1)
           * mv).sum() / mv.sum().clamp(min=1)
    u = y[..., sk.NUM_JOINTS * 3:]
    cos = (u * up).sum(-1) / torch.linalg.vector_norm(u, dim=-1).clamp(min=1e-6)
    upl = ((1 - cos) * m).sum() / n
    return pos + cfg["velocity_weight"] * vel + cfg["up_weight"] * upl, pos


def train_lifter(config: dict, out_path: str | os.PathLike, progress: ProgressFn | None = None) -> dict:
    """Train, write the weights to ``out_path`` (safetensors) and return a report with the
    held-out scores of :func:`evaluate`."""
    import torch

    from ..models.weights import module_tensors, save_weights

    cfg = check_config(config)
    torch.manual_seed(cfg["seed"])
    torch.set_num_threads(int(cfg["threads"]))
    rng = np.random.default_rng(cfg["seed"])
    t0 = time.perf_counter()
    allt = load_takes(cfg["mocap"], scaled(progress, 0.0, 0.05))
    train_names, val_names = split_takes(allt, cfg["val_takes"])
    takes = [allt[n] for n in train_names]
    net = model(cfg)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg["lr"], total_steps=cfg["steps"], pct_start=0.1)
    losses = []
    net.train()
    for step in range(cfg["steps"]):
        loss, pos = _loss(net, *_batch(rng, takes, cfg), cfg)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(pos.item())
        report(progress, 0.05 + 0.85 * (step + 1) / cfg["steps"], f"MPJPE {1000 * np.mean(losses[-50:]):.0f} mm")
    net.eval()
    seconds = time.perf_counter() - t0
    meta = {"kind": "lifter", "config": {k: cfg[k] for k in ("channels", "dilations", "dropout")},
            "layouts": list(N.LAYOUTS), "fps": N.FPS,
            "training": {"mocap": str(cfg["mocap"]), "takes": len(train_names), "val_takes": val_names,
                         "minutes": round(sum(len(j) / f for j, f in takes) / 60, 2),
                         "steps": cfg["steps"], "batch": cfg["batch"], "window": cfg["window"], "lr": cfg["lr"],
                         "noise": cfg["noise"], "miss": cfg["miss"], "seed": cfg["seed"],
                         "seconds": round(seconds, 1),
                         "final_mpjpe_mm": round(1000 * float(np.mean(losses[-100:])), 1)}}
    sha = save_weights(out_path, module_tensors(net), meta)
    from ..lift.network import Lifter
    from ..models.weights import load_weights

    # checked against the sha just written (a retrain into weights/ is registered only after this)
    scores = evaluate(Lifter(*load_weights(out_path, expected=sha)), {n: allt[n] for n in val_names},
                      cfg["eval_views"], scaled(progress, 0.9, 1.0))
    report(progress, 1.0, "done")
    return {"weights": str(out_path), "sha256": sha, "training": meta["training"], "heldout": scores}


def evaluate(lifter, takes: dict[str, tuple[np.ndarray, float]], n_views: int = 3,
             progress: ProgressFn | None = None) -> dict:
    """Held-out MPJPE and PA-MPJPE (mm) per layout, from clean and from noisy 2D
    (:func:`heldout_views`), and the up direction's error (degrees)."""
    from ..metrics.pose3d import mpjpe, pa_mpjpe

    out = {}
    for noisy in (False, True):
        acc: dict[str, list] = {}
        for name, layout, ex in heldout_views(takes, n_views, noisy):
            rel, up = lifter(ex["points"], ex["seen"], layout)
            ang = np.degrees(np.arccos(np.clip((up * ex["up"]).sum(-1), -1, 1))).mean()
            acc.setdefault(layout, []).append((mpjpe(rel, ex["rel"]), pa_mpjpe(rel, ex["rel"]), ang, len(rel)))
        key = "noisy" if noisy else "clean"
        out[key] = {}
        for layout, rows in acc.items():
            r = np.array(rows)
            w = r[:, 3] / r[:, 3].sum()
            out[key][layout] = {"mpjpe_mm": round(1000 * float(w @ r[:, 0]), 1),
                                "pa_mpjpe_mm": round(1000 * float(w @ r[:, 1]), 1),
                                "up_error_deg": round(float(w @ r[:, 2]), 2)}
        report(progress, 0.5 + 0.5 * noisy, "held-out scores")
    return out
