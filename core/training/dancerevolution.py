"""Training Dance Revolution (seed 004): the trainer of the ``dancerevolution`` family.

``train_generator(config, out_dir)`` trains :class:`~choreo.core.models.dancerevolution.DanceRevolution`
on the corpus with an L1 loss (normalised pose features; plus, with ``w_speed``,
Choreo's speed term :func:`frame_speed`, without which the decoder running on its
own output settles on a slow, partly frozen dance here), fed by its
*dynamic auto-conditioned* curriculum: each crop alternates blocks of
``condition_frames`` frames whose previous pose is the ground truth and ``p``
frames whose previous pose is the decoder's own output, ``p = f(t)`` growing
with the epoch ``t = step / epoch_steps``:

=============  ===================  ==========================================
``schedule``   p                    the paper's name
=============  ===================  ==========================================
``teacher``    0                    teacher forcing
``const``      ⌊λ⌋                  auto-condition (acLSTM, constant)
``linear``     ⌊λt⌋                 ours, linear (the paper's best)
``square``     ⌊λt²⌋                ours, quadratic
``exp``        ⌊λeᵗ⌋                ours, exponential
=============  ===================  ==========================================

``p`` is capped at the crop. Conditioning is the ``ren`` family's (energy curve
and seeded smooth noise, with the noise trained as a conditional-VAE latent
when ``style_posterior``: :mod:`choreo.core.models.style`). Checkpoints,
resumption and the written files follow :mod:`.trainer`; the validation figure
is the L1 of the decoder running *free* (its own outputs only) over the val
pairs' centre crops, which is what generation does.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..audio.features import music_features
from ..errors import ChoreoInputError
from ..models.dancerevolution import DanceRevolution, DRConfig
from ..models.style import StyleEncoder
from ..progress import ProgressFn, report
from . import checkpoint as ckpt
from .data import PairData
from .trainer import load_corpus, log_entry, resolve_path, run_training, with_defaults, write_generator

FAMILY_NAME = "dancerevolution"
SCHEDULES = ("teacher", "const", "linear", "square", "exp")
DEFAULTS: dict = {
    "task": "generator",
    "family": FAMILY_NAME,
    "variant": "dancerevolution",
    "description": "",
    "model": {},               # DRConfig settings
    "schedule": "linear",
    "lambda": 7.0,             # λ of the schedule
    "condition_frames": 10,    # ground-truth frames per block
    "epoch_steps": 100,        # optimiser steps per curriculum epoch
    "steps": 3000,
    "batch_size": 16,
    "crop_frames": 150,
    "lr": 1e-3,
    "grad_clip": 1.0,
    "style_posterior": True,
    "w_kl": 0.5,
    "w_speed": 0.0,            # weight of the speed-matching term (Choreo's, not the paper's)
    "energy_sigma_s": 1.0,
    "corpus": "out/corpus.npz",
    "music": "../shared/data/music",
    "seed": 0,
    "threads": 1,
    "val_every": 100,
    "val_batch": 32,
    "checkpoint_every": 200,
    "log_every": 10,
}
RESUMABLE_CHANGES = ("steps", "val_every", "checkpoint_every", "log_every", "description", "threads")
_POSITIVE_INTS = ("condition_frames", "epoch_steps", "steps", "batch_size", "crop_frames", "threads", "val_every",
                  "val_batch", "checkpoint_every", "log_every")


def validate_config(config: dict, where: str = "config") -> dict:
    """The full config (defaults filled in), or :class:`ChoreoInputError` naming ``where``."""
    cfg = with_defaults(config, DEFAULTS, where)
    if cfg["task"] != "generator" or cfg["family"] != FAMILY_NAME:
        raise ChoreoInputError(where, f"task/family must be generator/{FAMILY_NAME} here")
    if cfg["schedule"] not in SCHEDULES:
        raise ChoreoInputError(where, f"schedule must be one of {', '.join(SCHEDULES)}, got {cfg['schedule']!r}")
    for k in _POSITIVE_INTS + ("seed",):
        v = cfg[k]
        if not isinstance(v, int) or isinstance(v, bool) or (v < 1 and k != "seed"):
            raise ChoreoInputError(where, f"{k} must be a {'' if k == 'seed' else 'positive '}integer, got {v!r}")
    for k, least in (("lambda", 0.0), ("lr", 1e-12), ("grad_clip", 1e-12), ("w_kl", 0.0), ("w_speed", 0.0),
                     ("energy_sigma_s", 1e-12)):
        v = cfg[k]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < least:
            raise ChoreoInputError(where, f"{k} must be a number ≥ {least:g}, got {v!r}")
    if not isinstance(cfg["style_posterior"], bool):
        raise ChoreoInputError(where, "style_posterior must be true or false")
    if not isinstance(cfg["model"], dict):
        raise ChoreoInputError(where, "model must be an object of settings")
    try:
        DRConfig.from_dict(cfg["model"])
    except (ValueError, TypeError) as exc:
        raise ChoreoInputError(where, str(exc)) from None
    return cfg


def fed_back(schedule: str, lam: float, epoch: float, crop: int) -> int:
    """``p``: frames per block the decoder is fed its own output at ``epoch``."""
    p = {"teacher": 0.0, "const": lam, "linear": lam * epoch, "square": lam * epoch ** 2,
         "exp": lam * math.exp(min(epoch, 50.0))}[schedule]
    return int(min(math.floor(p), crop))


def own_mask(crop: int, condition: int, p: int) -> np.ndarray:
    """(crop,) bool: frames whose previous pose is the decoder's own (blocks of
    ``condition`` ground-truth frames, then ``p`` own ones)."""
    if p == 0:
        return np.zeros(crop, bool)
    return (np.arange(crop) % (condition + p)) >= condition


class MusicPairs(PairData):
    """:class:`PairData` whose samples carry the 438 music features of each frame
    (of the loudness-normalised audio, with the track's labelled beats) instead of
    Ren's audio pieces."""

    def __init__(self, *args, labels_dir: Path, **kw):
        super().__init__(*args, **kw)
        self._music: dict = {}
        self._labels_dir = labels_dir

    def music(self, i: int) -> np.ndarray:
        key = (self.tracks[i], round(self.starts[i], 6))
        if key not in self._music:
            y, sr = self.audio[self.tracks[i]], self.cfg.sample_rate
            s = self.starts[i]
            beats = np.asarray(_labels(self._labels_dir, self.tracks[i]).get("beats", []), np.float64) - s
            self._music[key] = music_features(y[int(round(s * sr)):], sr, self.cfg.fps, beats=beats[beats >= 0]).values
        return self._music[key]

    def sample(self, i: int, start: int, noise_seed: int):
        cond, target = self.conditions(i, start, noise_seed)
        m = self.music(i)[start:start + self.crop]
        if len(m) < self.crop:  # the dance outlasts the track by a frame: repeat its last row
            m = np.concatenate([m, np.repeat(m[-1:], self.crop - len(m), axis=0)])
        return m, cond, target


def _labels(music_dir: Path, track: str) -> dict:
    js = music_dir / f"{track}.json"
    return json.loads(js.read_text()) if js.is_file() else {}


class _Run:
    def __init__(self, cfg: dict, device: torch.device):
        self.cfg, self.device = cfg, device
        self.mcfg = DRConfig.from_dict(cfg["model"])
        self.net = DanceRevolution(self.mcfg).to(device)
        self.modules = {"G": self.net}
        params = list(self.net.parameters())
        self.style = None
        if cfg["style_posterior"] and self.mcfg.noise_dim:
            self.style = StyleEncoder(self.mcfg).to(device)
            self.modules["style"] = self.style
            params += list(self.style.parameters())
        self.params = params
        self.optims = {"G": torch.optim.Adam(params, lr=cfg["lr"])}

    def step(self, batch, p: int) -> dict:
        music, cond, real = (torch.from_numpy(a).to(self.device) for a in (batch.pieces, batch.cond, batch.target))
        logs = {"p": p}
        loss = 0.0
        if self.style is not None:
            noise, kl = self.style.sample_noise(real)
            cond = torch.cat([cond[..., :1], noise], dim=-1)
            loss = self.cfg["w_kl"] * kl
            logs["kl"] = kl.item()
        own = torch.from_numpy(own_mask(real.shape[1], self.cfg["condition_frames"], p))
        fake = self.net(music, cond, real, own)
        l1 = torch.nn.functional.l1_loss(fake, real)
        loss = loss + l1
        if self.cfg["w_speed"]:
            speed = torch.nn.functional.l1_loss(frame_speed(fake), frame_speed(real))
            loss = loss + self.cfg["w_speed"] * speed
            logs["speed"] = speed.item()
        self.optims["G"].zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, self.cfg["grad_clip"])  # those without a gradient skipped
        self.optims["G"].step()
        logs["l1"] = l1.item()
        return logs

    @torch.no_grad()
    def validate(self, val: PairData, batch: int, seed: int) -> float:
        """Mean L1 of the decoder running free on the val pairs' centre crops."""
        total, n = 0.0, 0
        for b in val.fixed_batches(batch, seed):
            music, cond, real = (torch.from_numpy(a) for a in (b.pieces, b.cond, b.target))
            total += torch.abs(self.net(music.to(self.device), cond.to(self.device)).cpu() - real).mean(
                dim=(1, 2)).sum().item()
            n += len(real)
        return total / n


def frame_speed(x: torch.Tensor) -> torch.Tensor:
    """(B, T-1) length of each frame's step in pose-feature space: how fast the pose moves,
    whichever way. Matching it costs a dance that moves somewhere plausible nothing, one
    that stands still (what L1 alone favours when the decoder runs on its own output) much."""
    return (x[:, 1:] - x[:, :-1]).norm(dim=-1)


def checkpoint_dir(out_dir: str | os.PathLike, variant: str) -> Path:
    """Where the run of ``variant`` in ``out_dir`` keeps its checkpoint."""
    return Path(out_dir) / f"{variant}_checkpoint"


def train_generator(config: dict, out_dir: str | os.PathLike, *, resume: bool = False, device: str = "auto",
                    progress: ProgressFn | None = None, max_steps: int | None = None,
                    log: Callable[[str], None] | None = None) -> dict:
    """Train, write ``<out>/<variant>.safetensors`` and ``<out>/<variant>.json``; the
    options are :func:`choreo.core.training.trainer.train_generator`'s."""
    return run_training(validate_config(config), _train, out_dir, resume=resume, device=device, progress=progress,
                        max_steps=max_steps, log=log)


def _train(cfg: dict, dev: torch.device, out_dir: Path, resume: bool, progress, log) -> dict:
    run_dir = checkpoint_dir(out_dir, cfg["variant"])
    torch.manual_seed(cfg["seed"])
    torch.use_deterministic_algorithms(True, warn_only=True)
    rng = np.random.default_rng(cfg["seed"])
    report(progress, 0.0, "loading corpus and music")
    corpus, corpus_path = load_corpus(cfg)
    run = _Run(cfg, dev)
    music = resolve_path(cfg["music"])
    cache: dict = {}
    kw = dict(audio_cache=cache, energy_sigma_s=cfg["energy_sigma_s"], labels_dir=music)
    train = MusicPairs(corpus, music, "train", run.mcfg, cfg["crop_frames"], **kw)
    val = MusicPairs(corpus, music, "val", run.mcfg, cfg["crop_frames"], unmirrored_only=True, **kw)
    for i in range(len(train)):  # features of every pair up front (progress, and statistics)
        train.music(i)
        report(progress, 0.05 * (i + 1) / len(train), "music features")
    stats = train.compute_stats()
    train.set_stats(*stats)
    val.set_stats(*stats)
    allm = np.concatenate([train.music(i) for i in range(len(train))]).astype(np.float64)
    with torch.no_grad():
        run.net.music_mean.copy_(torch.from_numpy(allm.mean(0).astype(np.float32)))
        run.net.music_std.copy_(torch.from_numpy(np.maximum(allm.std(0), 1e-3).astype(np.float32)))
        run.net.norm_mean.copy_(torch.from_numpy(stats[0]))
        run.net.norm_std.copy_(torch.from_numpy(stats[1]))
        run.net.energy_stats.copy_(torch.tensor(stats[2], dtype=torch.float32))
    del allm

    step, seconds, history = 0, 0.0, []
    if resume:
        step, seconds, history = ckpt.resume_run(run_dir, run.modules, run.optims, rng, dev, cfg,
                                                 RESUMABLE_CHANGES, log)
    run.net.train()
    acc: dict = {}
    last_val = history[-1].get("val_l1") if history else None
    t0 = time.perf_counter()
    while step < cfg["steps"]:
        p = fed_back(cfg["schedule"], cfg["lambda"], step / cfg["epoch_steps"], cfg["crop_frames"])
        for k, v in run.step(train.random_batch(rng, cfg["batch_size"]), p).items():
            acc.setdefault(k, []).append(v)
        step += 1
        entry = log_entry(acc, step, cfg)
        if step % cfg["val_every"] == 0 or step == cfg["steps"]:
            run.net.eval()
            last_val = run.validate(val, cfg["val_batch"], cfg["seed"])
            run.net.train()
            entry = {**(entry or {"step": step}), "val_l1": last_val}
        if entry is not None:
            history.append(entry)
        report(progress, 0.05 + 0.95 * step / cfg["steps"],
               f"step {step}/{cfg['steps']} p {p}" + (f" L1 {history[-1].get('l1', float('nan')):.3f}" if history
                                                      else "") + (f" val {last_val:.3f}" if last_val else ""))
        if step % cfg["checkpoint_every"] == 0 or step == cfg["steps"]:
            seconds += time.perf_counter() - t0
            t0 = time.perf_counter()
            ckpt.save_checkpoint(run_dir, step, run.modules, run.optims, rng,
                                 {"config": cfg, "seconds": seconds, "history": history})
    seconds += time.perf_counter() - t0
    run.net.eval()
    if last_val is None:
        last_val = run.validate(val, cfg["val_batch"], cfg["seed"])
    trained = [h for h in history if "l1" in h]
    result = {"variant": cfg["variant"], "steps": step, "seconds": round(seconds, 2),
              "final_train": {k: v for k, v in (trained[-1] if trained else {}).items() if k not in ("step", "val_l1")},
              "seconds_per_step": round(seconds / max(step, 1), 4), "device": str(dev),
              "final_val_l1": last_val, "train_pairs": len(train), "val_pairs": len(val), "history": history}
    meta = {"family": FAMILY_NAME, "config": run.mcfg.to_dict(),
            "training": {**cfg, **{k: result[k] for k in ("steps", "seconds", "final_val_l1", "device")}}}
    write_generator(out_dir, cfg, run.net, meta, result, corpus, corpus_path)
    report(progress, 1.0, "done")
    return result
