"""Pre-train the ST-GCN of the pose perceptual loss on the CMU takes at hand.

Ren et al. pre-train ST-GCN on Let's Dance, which is not available here. We
use what is: the CMU takes of subjects 1–7 (about 7 minutes of motion, 2.5 of
it ballet-like dance) with three tasks sharing one trunk:

* ``dance``: dance vs non-dance (descriptions.csv, "dance - …");
* ``action``: walk / dance / dribble / other, grouped from the descriptions
  (:func:`action_class`);
* ``order``: natural / time-reversed / segment-shuffled clip — a
  self-supervised task that needs motion dynamics (velocity, continuity),
  which is what the perceptual loss should be sensitive to.

Clips are ``clip_frames`` frames at 30 fps cut at random from the training
takes (class-balanced on ``action``), mirrored left/right with p = 0.5, turned
by a small random yaw and scaled by a random body size. (A random *global*
heading is a no-op here: the input is already in each frame's heading frame.)
Whole takes are held out, stratified by ``action``; the corpus's validation
dance takes are always among them, so the perceptual loss never saw the
generator's validation motion.
"""

from __future__ import annotations

import csv
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import skeleton as sk
from ..errors import ChoreoInputError
from ..progress import ProgressFn, report
from ..models.representation import encode_3d, local_joints_3d
from ..models.stgcn import STGCN, STGCNConfig
from ..models.weights import WEIGHTS_DIR, module_tensors, register_weights, save_weights

_SHARED = Path(os.environ.get("CHOREO_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
DEFAULT_MOCAP = _SHARED / "mocap" / "cmu"
TRAIN_KEYS = ("mocap_dir", "subjects", "clip_frames", "steps", "batch", "lr", "weight_decay", "seed",
              "heldout_fraction", "heldout_always", "eval_stride", "yaw_jitter_deg", "scale_jitter", "noise_m",
              "order_segments", "threads", "name", "register_as", "description", "device")
DEFAULTS = {
    "mocap_dir": None,               # None: ../shared/data/mocap/cmu beside the repository
    "subjects": [1, 2, 3, 5, 6, 7],
    "clip_frames": 60,
    "steps": 300,
    "batch": 24,
    "lr": 3e-3,
    "weight_decay": 1e-4,
    "seed": 0,
    "heldout_fraction": 0.25,
    "heldout_always": ["005_05", "005_08", "005_12"],   # core.data.corpus.DEFAULT_VAL_TAKES
    "eval_stride": 30,
    "yaw_jitter_deg": 20.0,
    "scale_jitter": 0.1,
    "noise_m": 0.005,                # per-clip Gaussian joint jitter, sigma uniform in [0, noise_m] metres
    "order_segments": 3,
    "threads": 2,
    "device": "cpu",                 # accepted for the CLI's sake; pre-training runs on the CPU (deterministic)
    "name": "stgcn",                 # file name when out_path is a folder
    "register_as": None,             # registry name when the file is written into weights/
    "description": "ST-GCN for the pose perceptual loss (pre-trained on CMU subjects 1-7)",
}


def action_class(description: str) -> str:
    """Group a CMU description into walk / dance / dribble / other."""
    d = description.strip().lower()
    if d.startswith("dance"):
        return "dance"
    if "dribble" in d:
        return "dribble"
    if "walk" in d:
        return "walk"
    return "other"   # playground climbing/jumps, run/jog, punch, swordplay, bend over, wash self


@dataclass
class TakeClips:
    name: str
    joints: np.ndarray   # (T, 24, 3) local joints, float32
    action: int
    dance: int


def load_takes(mocap_dir, subjects, action_names, progress: ProgressFn | None = None) -> list[TakeClips]:
    """Every take of ``subjects`` listed in descriptions.csv, as local joints at 30 fps."""
    from ..formats import load_motion

    root = Path(mocap_dir)
    csv_path = root / "descriptions.csv"
    if not csv_path.is_file():
        raise ChoreoInputError(root, "no descriptions.csv (needed for the ST-GCN's labels)")
    with open(csv_path, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if int(r["Subject"]) in set(subjects)]
    if not rows:
        raise ChoreoInputError(csv_path, f"lists no take of subjects {subjects}")
    takes = []
    for i, r in enumerate(rows):
        m = load_motion(root / r["file"]).resample(sk.FPS)
        joints = local_joints_3d(encode_3d(m)).astype(np.float32)
        act = action_class(r["Motion Description"])
        takes.append(TakeClips(Path(r["file"]).stem, joints, action_names.index(act), int(act == "dance")))
        report(progress, (i + 1) / len(rows), Path(r["file"]).stem)
    return takes


def split_takes(takes: list[TakeClips], n_actions: int, fraction: float, always, seed: int):
    """(train, heldout) by whole take, stratified by action class."""
    rng = np.random.default_rng(seed)
    held = {t.name for t in takes if t.name in set(always)}
    for a in range(n_actions):
        names = sorted(t.name for t in takes if t.action == a)
        want = max(1, int(round(fraction * len(names)))) if len(names) >= 2 else 0
        pool = [n for n in names if n not in held]
        need = want - sum(n in held for n in names)
        if need > 0:
            held.update(rng.choice(pool, size=min(need, len(pool) - 1), replace=False).tolist())
    return [t for t in takes if t.name not in held], [t for t in takes if t.name in held]


# -- clips and augmentation -------------------------------------------------------

def mirror(clip: np.ndarray) -> np.ndarray:
    """Left/right mirror of (…, 24, 3) local joints (x is lateral in the heading frame)."""
    out = clip[..., list(sk.MIRROR), :].copy()
    out[..., 0] *= -1.0
    return out


def yaw(clip: np.ndarray, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    out = clip.copy()
    out[..., 0] = c * clip[..., 0] - s * clip[..., 1]
    out[..., 1] = s * clip[..., 0] + c * clip[..., 1]
    return out


def reorder(clip: np.ndarray, kind: int, perm=None) -> np.ndarray:
    """kind 0: as is; 1: time-reversed; 2: its equal segments in order ``perm``."""
    if kind == 1:
        return clip[::-1].copy()
    if kind == 2:
        segs = np.array_split(clip, len(perm))
        return np.concatenate([segs[i] for i in perm])
    return clip


def _shuffle_perm(rng, n: int) -> list[int]:
    while True:
        p = rng.permutation(n).tolist()
        if p != list(range(n)):
            return p


def sample_batch(takes, rng, n_actions, cfg) -> tuple[np.ndarray, dict]:
    """A batch of augmented clips, class-balanced on ``action``."""
    L, B = cfg["clip_frames"], cfg["batch"]
    by_action = [[t for t in takes if t.action == a] for a in range(n_actions)]
    present = [a for a in range(n_actions) if by_action[a]]
    clips, labels = [], {"dance": [], "action": [], "order": []}
    for _ in range(B):
        pool = by_action[present[rng.integers(len(present))]]
        w = np.array([len(t.joints) - L + 1 for t in pool], float)
        take = pool[rng.choice(len(pool), p=w / w.sum())]
        s = rng.integers(len(take.joints) - L + 1)
        clip = take.joints[s:s + L]
        if rng.random() < 0.5:
            clip = mirror(clip)
        clip = yaw(clip, np.deg2rad(cfg["yaw_jitter_deg"]) * rng.uniform(-1, 1))
        clip = clip * (1.0 + cfg["scale_jitter"] * rng.uniform(-1, 1))
        if cfg["noise_m"] > 0:  # capture/estimation jitter the features should shrug off
            clip = clip + rng.normal(0.0, cfg["noise_m"] * rng.random(), clip.shape)
        kind = int(rng.integers(3))
        clip = reorder(clip, kind, _shuffle_perm(rng, cfg["order_segments"]) if kind == 2 else None)
        clips.append(clip)
        labels["dance"].append(take.dance)
        labels["action"].append(take.action)
        labels["order"].append(kind)
    return np.stack(clips).astype(np.float32), {k: np.array(v) for k, v in labels.items()}


def eval_clips(takes, cfg, seed: int) -> tuple[np.ndarray, dict]:
    """Deterministic held-out clips: windows every ``eval_stride`` frames of each
    take, each in all three orders (``dance``/``action`` are scored on natural ones)."""
    L, rng = cfg["clip_frames"], np.random.default_rng(seed + 1)
    clips, labels = [], {"dance": [], "action": [], "order": []}
    for t in takes:
        starts = list(range(0, len(t.joints) - L + 1, cfg["eval_stride"]))
        for s in starts:
            for kind in range(3):
                perm = _shuffle_perm(rng, cfg["order_segments"]) if kind == 2 else None
                clips.append(reorder(t.joints[s:s + L], kind, perm))
                labels["dance"].append(t.dance if kind == 0 else -1)
                labels["action"].append(t.action if kind == 0 else -1)
                labels["order"].append(kind)
    if not clips:
        raise ChoreoInputError("stgcn config", f"no held-out take is {L} frames long")
    return np.stack(clips).astype(np.float32), {k: np.array(v) for k, v in labels.items()}


def input_stats(takes, velocity: bool, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean (per channel and joint) and std (per channel) of the network input over
    the training takes, both as (C, 24)."""
    parts = []
    for t in takes:
        x = t.joints.transpose(2, 0, 1)  # (3, T, V)
        if velocity:
            x = np.concatenate([x, np.diff(x, axis=1, prepend=x[:, :1]) * fps])
        parts.append(x)
    x = np.concatenate(parts, axis=1).astype(np.float64)
    # Mirror-symmetric statistics: the training data is mirrored half the time.
    xm = x[:, :, list(sk.MIRROR)].copy()
    xm[[0] + ([3] if velocity else [])] *= -1
    x = np.concatenate([x, xm], axis=1)
    mean = x.mean(axis=1)
    # One scale per channel, pooled over joints: a per-joint scale would blow up
    # joints that barely move in the local frame (the pelvis's x, y are always 0).
    std = np.sqrt(((x - mean[:, None]) ** 2).mean(axis=(1, 2)))
    return mean, np.repeat(np.maximum(std, 1e-3)[:, None], x.shape[2], axis=1)


# -- training -----------------------------------------------------------------------

def _resolve_config(config: dict) -> tuple[dict, STGCNConfig]:
    config = {k: v for k, v in config.items() if k != "task"}
    try:
        model_cfg = STGCNConfig.from_dict(dict(config.pop("model", {})))
    except (ValueError, TypeError) as exc:
        raise ChoreoInputError("stgcn config", f"bad 'model' settings: {exc}") from None
    unknown = set(config) - set(TRAIN_KEYS)
    if unknown:
        raise ChoreoInputError("stgcn config", f"unknown settings: {', '.join(sorted(unknown))}")
    cfg = {**DEFAULTS, **config}
    if cfg["mocap_dir"] is None:
        cfg["mocap_dir"] = str(DEFAULT_MOCAP)
    if model_cfg.tasks.get("action") is None:
        raise ChoreoInputError("stgcn config", "model.tasks needs an 'action' task")
    return cfg, model_cfg


def _out_file(out_path, name: str) -> Path:
    p = Path(out_path)
    if p.is_dir() or p.suffix == "":
        return p / f"{name}.safetensors"
    return p


def evaluate(model: STGCN, clips: np.ndarray, labels: dict, batch: int = 256) -> dict:
    """Held-out accuracy per task and the best constant predictor's accuracy."""
    model.eval()
    preds = {k: [] for k in labels}
    with torch.no_grad():
        for i in range(0, len(clips), batch):
            out = model(torch.from_numpy(clips[i:i + batch]))
            for k in preds:
                preds[k].append(out[k].argmax(-1).numpy())
    res = {}
    for k, y in labels.items():
        p = np.concatenate(preds[k])
        keep = y >= 0
        counts = np.bincount(y[keep])
        res[k] = {"accuracy": float((p[keep] == y[keep]).mean()),
                  "baseline": float(counts.max() / keep.sum()),
                  "clips": int(keep.sum())}
    return res


def train_stgcn(config: dict, out_path, progress: ProgressFn | None = None) -> dict:
    """Pre-train the perceptual-loss ST-GCN and write it as safetensors.

    Parameters
    ----------
    config : dict
        Training settings (:data:`DEFAULTS`; ``"task": "stgcn"`` is ignored) and
        ``"model"``: :class:`STGCNConfig` fields.
    out_path : str or Path
        The ``.safetensors`` file, or a folder to write ``<name>.safetensors`` in.
        With ``register_as`` set and the file in ``weights/``, the registry entry
        is updated too.
    progress : optional :data:`ProgressFn`.

    Returns
    -------
    dict : ``{"path", "sha256", "training": {...}}`` (the training block is also
    stored in the file's meta).
    """
    t0, c0 = time.time(), time.process_time()
    cfg, model_cfg = _resolve_config(config)
    out_file = _out_file(out_path, cfg["name"])
    action_names = list(model_cfg.tasks["action"])
    torch.manual_seed(cfg["seed"])
    rng = np.random.default_rng(cfg["seed"])
    threads = torch.get_num_threads()
    torch.set_num_threads(int(cfg["threads"]))
    try:
        report(progress, 0.0, "loading takes")
        takes = load_takes(cfg["mocap_dir"], cfg["subjects"], action_names,
                           progress=lambda f, s: report(progress, 0.1 * f, s))
        L = cfg["clip_frames"]
        short = sorted(t.name for t in takes if len(t.joints) < L)
        takes = [t for t in takes if len(t.joints) >= L]
        train, held = split_takes(takes, len(action_names), cfg["heldout_fraction"], cfg["heldout_always"], cfg["seed"])
        if not train or not held:
            raise ChoreoInputError(cfg["mocap_dir"], "too few takes to hold some out")
        model = STGCN(model_cfg)
        model.set_input_stats(*input_stats(train, model_cfg.velocity, model_cfg.fps))
        opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
        steps = int(cfg["steps"])
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg["lr"], total_steps=max(steps, 1), pct_start=0.1)
        ce = nn.CrossEntropyLoss()
        model.train()
        losses = []
        for step in range(steps):
            x, y = sample_batch(train, rng, len(action_names), cfg)
            out = model(torch.from_numpy(x))
            loss = sum(ce(out[k], torch.from_numpy(y[k])) for k in out)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
            if step % 10 == 0 or step == steps - 1:
                report(progress, 0.1 + 0.85 * (step + 1) / steps, f"step {step + 1}/{steps} loss {np.mean(losses[-10:]):.3f}")
        clips, labels = eval_clips(held, cfg, cfg["seed"])
        heldout = evaluate(model, clips, labels)
    finally:
        torch.set_num_threads(threads)
    model.eval()
    training = {
        **{k: cfg[k] for k in TRAIN_KEYS if k not in ("mocap_dir", "register_as", "description", "device")},
        "tasks": {k: list(v) for k, v in model_cfg.tasks.items()},
        "heldout": heldout,
        "train_takes": sorted(t.name for t in train),
        "heldout_takes": sorted(t.name for t in held),
        "skipped_short_takes": short,
        "final_loss": float(np.mean(losses[-20:])) if losses else None,
        "seconds": round(time.time() - t0, 1),
        "cpu_seconds": round(time.process_time() - c0, 1),  # all threads; wall time depends on CPU sharing
        "torch": torch.__version__,
    }
    meta = {"kind": "stgcn", "config": model_cfg.to_dict(), "training": training}
    sha = save_weights(out_file, module_tensors(model), meta)
    result = {"path": str(out_file), "sha256": sha, "training": training}
    if cfg["register_as"] and out_file.resolve().parent == WEIGHTS_DIR.resolve():
        result["registry"] = register_weights(cfg["register_as"], out_file, cfg["description"])
    report(progress, 1.0, "done")
    return result
