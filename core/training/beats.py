"""Train the beat and downbeat activation network (:mod:`choreo.core.audio.activation`).

``choreo train --config configs/beats.json --out weights`` trains it on
labelled tracks (an audio file beside a JSON with ``beats`` and
``downbeats`` in seconds: the beat set's format and the shared music's) and,
written into weights/, registers it as the shipped "beats".

Data: every ``sets`` entry is a folder and the splits of it to use (the JSON's
``split``; a folder without splits is used whole). The input features are
:func:`~choreo.core.audio.activation.beat_input` of the track, and of the
track played faster and slower (``varispeed``: resampled, so tempo and pitch
move together), cached under ``cache``. Targets: 1 on the frame of each beat
(downbeat), 0.5 on its neighbours. Loss: binary cross-entropy of both outputs
on random crops. ``validate`` names tracks only scored, with the full
tracker, at the end (the beat set's dev split; never its test split).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np

from ..audio import activation as A
from ..errors import ChoreoInputError
from ..progress import ProgressFn, report, scaled

DEFAULTS = {
    "task": "beats",
    "sets": [{"path": "out/beattrain", "splits": ["train"]}],
    "validate": [{"path": "out/beatset", "splits": ["dev"]}],
    "cache": "out/beatfeat",
    "seed": 0,
    "steps": 3000,
    "batch": 8,
    "crop_frames": 1024,
    "lr": 0.002,
    "weight_decay": 0.0001,
    "channels": 32,
    "blocks": 10,
    "dropout": 0.1,
    "varispeed": [0.8, 0.9, 1.0, 1.1, 1.2],
    "threads": 2,
}


def _tracks(entry: dict) -> list[tuple[Path, Path]]:
    """(audio, labels) pairs of one ``sets`` entry."""
    root = Path(entry["path"])
    if not root.is_dir():
        raise ChoreoInputError(root, "labelled track folder not found (for the beat set: make beatset / make beattrain)")
    splits = entry.get("splits")
    out = []
    for js in sorted(root.glob("*.json")):
        if js.name == "manifest.json":
            continue
        audio = next((js.with_suffix(e) for e in (".ogg", ".wav", ".flac") if js.with_suffix(e).is_file()), None)
        if audio is None:
            continue
        if splits is not None and json.loads(js.read_text()).get("split") not in splits:
            continue
        out.append((audio, js))
    if not out:
        raise ChoreoInputError(root, f"no labelled tracks (splits {splits})")
    return out


def _features(audio: Path, rates, cache: Path) -> list[np.ndarray]:
    """beat_input of ``audio`` played ``rate`` times slower, per rate (cached by content)."""
    from ..audio.io import load_audio
    from ..audio.resample import resample

    st = audio.stat()
    out, y = [], None
    for rate in rates:
        key = hashlib.sha256(f"{audio.resolve()}:{st.st_size}:{st.st_mtime_ns}:{rate}:"
                             f"{A.N_INPUTS}:{A.N_MELS}:{A.FMIN}:{A.HOP}".encode()).hexdigest()[:20]
        path = cache / f"{audio.stem}_{key}.npy"
        if path.is_file():
            out.append(np.load(path))
            continue
        if y is None:
            y, _ = load_audio(audio, sr=A.SR)
        # resampled to rate * SR and read at SR: rate times slower, pitch down
        x = A.beat_input(y if rate == 1.0 else resample(y, A.SR, int(round(A.SR * rate))), A.SR)
        cache.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, x)
        os.replace(tmp, path)
        out.append(x)
    return out


def _targets(labels: Path, n: int, rate: float) -> np.ndarray:
    """(n, 2) float32: beat and downbeat targets, widened to the neighbouring frames."""
    d = json.loads(labels.read_text())
    y = np.zeros((n, 2), np.float32)
    for j, key in enumerate(("beats", "downbeats")):
        f = np.round(np.asarray(d[key], np.float64) * rate * A.FPS).astype(int)
        for off, v in ((-1, 0.5), (1, 0.5), (0, 1.0)):
            g = f + off
            g = g[(g >= 0) & (g < n)]
            y[g, j] = np.maximum(y[g, j], v)
    return y


def model(cfg: dict, mean: np.ndarray, std: np.ndarray):
    """The torch twin of :class:`~choreo.core.audio.activation.BeatActivation`."""
    import torch
    from torch import nn

    class BeatTCN(nn.Module):
        def __init__(self):
            super().__init__()
            c = cfg["channels"]
            self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
            self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32))
            self.inp = nn.Conv1d(A.N_INPUTS, c, 3, padding=1)
            self.blocks = nn.ModuleList(nn.Conv1d(c, c, 3, padding=2 ** i, dilation=2 ** i)
                                        for i in range(cfg["blocks"]))
            self.out = nn.Conv1d(c, 2, 1)
            self.drop = nn.Dropout(cfg["dropout"])

        def forward(self, x):  # (B, T, F) -> (B, T, 2) logits
            h = ((x - self.mean) / self.std).transpose(1, 2)
            h = self.drop(nn.functional.elu(self.inp(h)))
            for blk in self.blocks:
                h = h + self.drop(nn.functional.elu(blk(h)))
            return self.out(h).transpose(1, 2)

    return BeatTCN()


def load_examples(entries: list[dict], rates, cache: Path, progress: ProgressFn | None = None):
    """[(features, targets, name)] of every track of ``entries`` at every rate."""
    pairs = [p for e in entries for p in _tracks(e)]
    out = []
    for i, (audio, js) in enumerate(pairs):
        for r, x in zip(rates, _features(audio, rates, cache)):
            out.append((x, _targets(js, len(x), r), audio.stem))
        report(progress, (i + 1) / len(pairs), "features")
    return out


def train_beats(config: dict, out_path: str | os.PathLike, progress: ProgressFn | None = None) -> dict:
    """Train, write the weights to ``out_path`` (safetensors) and return a report."""
    import torch

    from ..models.weights import module_tensors, save_weights

    cfg = {**DEFAULTS, **config}
    unknown = set(cfg) - set(DEFAULTS)
    if unknown:
        raise ChoreoInputError("config", f"unknown keys for the beats task: {', '.join(sorted(unknown))}")
    torch.manual_seed(cfg["seed"])
    torch.set_num_threads(int(cfg["threads"]))
    rng = np.random.default_rng(cfg["seed"])
    t0 = time.perf_counter()
    data = load_examples(cfg["sets"], cfg["varispeed"], Path(cfg["cache"]), scaled(progress, 0.0, 0.3))
    n = sum(len(x) for x, _, _ in data)  # standardisation, without a copy of the data
    mean = sum(x.sum(axis=0, dtype=np.float64) for x, _, _ in data) / n
    var = sum(((x - mean) ** 2).sum(axis=0) for x, _, _ in data) / n
    mean, std = mean.astype(np.float32), (np.sqrt(var) + 1e-3).astype(np.float32)
    net = model(cfg, mean, std)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg["lr"], total_steps=cfg["steps"], pct_start=0.1)
    lossf = torch.nn.BCEWithLogitsLoss(reduction="none")
    L = int(cfg["crop_frames"])
    lengths = np.array([len(x) for x, _, _ in data])
    p_pick = lengths / lengths.sum()
    losses = []
    net.train()
    for step in range(cfg["steps"]):
        xb = np.zeros((cfg["batch"], L, A.N_INPUTS), np.float32)
        yb = np.zeros((cfg["batch"], L, 2), np.float32)
        mb = np.zeros((cfg["batch"], L, 1), np.float32)
        for j, k in enumerate(rng.choice(len(data), cfg["batch"], p=p_pick)):
            x, y, _ = data[k]
            s = int(rng.integers(0, max(1, len(x) - L) + 1))
            n = min(L, len(x) - s)
            xb[j, :n], yb[j, :n], mb[j, :n] = x[s:s + n], y[s:s + n], 1.0
        z = net(torch.from_numpy(xb))
        loss = (lossf(z, torch.from_numpy(yb)) * torch.from_numpy(mb)).sum() / (2 * mb.sum())
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        report(progress, 0.3 + 0.65 * (step + 1) / cfg["steps"], f"loss {np.mean(losses[-50:]):.4f}")
    net.eval()
    seconds = time.perf_counter() - t0
    meta = {"kind": "beats", "config": {k: cfg[k] for k in ("channels", "blocks", "dropout")},
            "features": {"sr": A.SR, "hop": A.HOP, "n_fft": A.N_FFT, "n_mels": A.N_MELS, "fmin": A.FMIN},
            "training": {"sets": cfg["sets"], "varispeed": cfg["varispeed"], "steps": cfg["steps"],
                         "batch": cfg["batch"], "crop_frames": L, "lr": cfg["lr"], "seed": cfg["seed"],
                         "tracks": len(data) // len(cfg["varispeed"]), "seconds": round(seconds, 1),
                         "final_loss": round(float(np.mean(losses[-100:])), 5)}}
    sha = save_weights(out_path, module_tensors(net), meta)
    scores = validate(out_path, cfg["validate"], scaled(progress, 0.95, 1.0)) if cfg["validate"] else {}
    report(progress, 1.0, "done")
    return {"weights": str(out_path), "sha256": sha, "training": meta["training"], "validation": scores}


def validate(weights, entries: list[dict], progress: ProgressFn | None = None) -> dict:
    """Mean strict beat F, downbeat F (+-70 ms) and meter right of the full tracker
    with ``weights`` on the tracks of ``entries``."""
    from ..audio.beats import f_measure, track_beats
    from ..audio.io import load_audio

    pairs = [p for e in entries for p in _tracks(e)]
    f, fd, right = [], [], 0
    for i, (audio, js) in enumerate(pairs):
        d = json.loads(js.read_text())
        bm = track_beats(*load_audio(audio, sr=A.SR), weights=weights)
        f.append(f_measure(d["beats"], bm.beats))
        fd.append(f_measure(d["downbeats"], bm.downbeats))
        right += int(bm.meter == d.get("beats_per_bar", d.get("meter", [0])[0]))
        report(progress, (i + 1) / len(pairs), "validation")
    return {"tracks": len(pairs), "f": round(float(np.mean(f)), 4), "f_down": round(float(np.mean(fd)), 4),
            "meter_right": right}

