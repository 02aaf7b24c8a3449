"""Training Ren et al.'s first-stage generator (seed 002, eq. 7) and its Table 2 ablations:
the trainer of the ``ren`` generator family (:mod:`choreo.core.generation.families.ren`).

``train_generator(config, out_dir)`` trains G against the enabled losses —
L1 (eq. 5), D_global with gradient penalty and feature matching (eq. 4, 6),
D_local (eq. 4), the pose perceptual loss (eq. 1) — checkpoints without
pickle (:mod:`.checkpoint`), and writes ``<out>/<variant>.safetensors`` (the
generator, loadable by :func:`choreo.core.models.weights.load_weights`) and
``<out>/<variant>.json`` (the report). Settings and their departures from the
paper's §6.2 are explained in ``docs/training.md``.
"""

from __future__ import annotations

import copy
import json
import math
import os
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..data.corpus import Corpus
from ..errors import ChoreoInputError
from ..fileio import atomic_path, atomic_paths, repo_path
from ..generation.families.ren import FAMILY
from ..generation.families.ren.runtime import check_config
from ..models import representation
from ..models.config import GeneratorConfig
from ..models.discriminators import (DiscriminatorConfig, GlobalContentDiscriminator,
                                     LocalTemporalDiscriminator)
from ..models.generator import DanceGenerator
from ..models.style import StyleEncoder
from ..models.weights import module_tensors, save_weights, sha256_file
from ..progress import ProgressFn, report
from . import checkpoint as ckpt
from . import losses as L
from .data import PairData

REPO = Path(__file__).resolve().parents[2]
VARIANTS = ("full", "l1", "l1_global", "l1_global_local", "choreo", "2d")
LOSS_NAMES = ("l1", "global_d", "local_d", "perceptual")

DEFAULTS: dict = {
    "task": "generator",
    "family": FAMILY.name,  # what `choreo train` dispatches on; configs without it are this family's
    "variant": "full",
    "description": "",
    "losses": {"l1": True, "global_d": True, "local_d": True, "perceptual": True},
    "steps": 1000,
    "batch_size": 16,
    "crop_frames": 120,
    "lr_g": 1e-3,
    "lr_d_local": 1e-3,
    "lr_d_global": 1.5e-3,
    "betas": [0.5, 0.999],
    "w_l1": 10.0,
    "w_adv": 1.0,
    "w_p": 1.0,
    "w_fm": 1.0,
    "w_gp": 1.0,
    "gp_center": 1.0,
    "style_posterior": False,  # Choreo: train the noise as a CVAE latent (core/models/style.py)
    "w_kl": 0.5,
    "energy_sigma_s": None,
    "grad_clip": None,  # None, or the largest gradient norm per optimiser step (a guard against a GAN blow-up)  # None: the crop's energy; seconds: a per-frame energy curve (conditioning.log_energy_curve)
    "gan": "lsgan",
    "perceptual_layers": None,  # None: the paper's λ = [20, 5, 1, …] cut to the ST-GCN's blocks
    "stgcn_weights": None,
    "seed": 0,
    "generator": {},
    "discriminator": {},
    "corpus": "out/corpus.npz",
    "music": "../shared/data/music",
    "val_every": 100,
    "val_batch": 32,
    "checkpoint_every": 200,
    "log_every": 10,
    "threads": 1,  # CPU threads: on a shared 2-core machine 1 is ~10x faster than 2 (no oversubscription)
}
# Keys whose change does not invalidate a checkpoint (how long / how often).
RESUMABLE_CHANGES = ("steps", "val_every", "checkpoint_every", "log_every", "description", "threads")


def is_number(x) -> bool:
    """A finite JSON number (bool is not one)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def with_defaults(config, defaults: dict, where: str) -> dict:
    """A copy of ``defaults`` with ``config`` over it; a config that is not a JSON object or
    has a key ``defaults`` lacks is a :class:`ChoreoInputError` naming ``where`` (every
    trainer's config is checked so, then for its own values)."""
    if not isinstance(config, dict):
        raise ChoreoInputError(where, "config must be a JSON object")
    unknown = sorted(set(config) - set(defaults))
    if unknown:
        raise ChoreoInputError(where, f"unknown key {unknown[0]!r} (known: {', '.join(sorted(defaults))})")
    return {**copy.deepcopy(defaults), **copy.deepcopy(config)}


def validate_config(config: dict, where: str = "config") -> dict:
    """The full config (defaults filled in), or :class:`ChoreoInputError` naming
    ``where`` and the first problem: unknown key, wrong task, bad value."""
    cfg = with_defaults(config, DEFAULTS, where)
    if cfg["task"] != "generator":
        raise ChoreoInputError(where, f"task must be 'generator' here, got {cfg['task']!r}")
    if cfg["family"] != FAMILY.name:
        raise ChoreoInputError(where, f"family must be {FAMILY.name!r} here, got {cfg['family']!r}")
    if cfg["variant"] not in VARIANTS:
        raise ChoreoInputError(where, f"variant must be one of {', '.join(VARIANTS)}, got {cfg['variant']!r}")
    losses = cfg["losses"]
    if not isinstance(losses, dict) or set(losses) - set(LOSS_NAMES):
        raise ChoreoInputError(where, f"losses must be an object with keys among {', '.join(LOSS_NAMES)}")
    cfg["losses"] = {k: bool(losses.get(k, False)) for k in LOSS_NAMES}
    if not any(cfg["losses"].values()):
        raise ChoreoInputError(where, "no loss enabled")
    if cfg["gan"] not in L.GAN_LOSSES:
        raise ChoreoInputError(where, f"gan must be one of {', '.join(L.GAN_LOSSES)}, got {cfg['gan']!r}")
    for k in ("steps", "batch_size", "crop_frames", "val_every", "val_batch", "checkpoint_every", "log_every",
              "threads"):
        if not isinstance(cfg[k], int) or isinstance(cfg[k], bool) or cfg[k] < 1:
            raise ChoreoInputError(where, f"{k} must be a positive integer, got {cfg[k]!r}")
    if cfg["grad_clip"] is not None and not (is_number(cfg["grad_clip"]) and cfg["grad_clip"] > 0):
        raise ChoreoInputError(where, f"grad_clip must be null or a positive number, got {cfg['grad_clip']!r}")
    if cfg["energy_sigma_s"] is not None and not (is_number(cfg["energy_sigma_s"]) and cfg["energy_sigma_s"] > 0):
        raise ChoreoInputError(where, f"energy_sigma_s must be null or a positive number, got {cfg['energy_sigma_s']!r}")
    if not isinstance(cfg["style_posterior"], bool):
        raise ChoreoInputError(where, f"style_posterior must be true or false, got {cfg['style_posterior']!r}")
    # NaN passes every comparison, so each number is checked finite first (JSON allows NaN, Infinity).
    for k in ("lr_g", "lr_d_local", "lr_d_global"):
        if not (is_number(cfg[k]) and cfg[k] > 0):
            raise ChoreoInputError(where, f"{k} must be a positive number, got {cfg[k]!r}")
    for k in ("w_l1", "w_adv", "w_p", "w_fm", "w_gp", "gp_center", "w_kl"):
        if not (is_number(cfg[k]) and cfg[k] >= 0):
            raise ChoreoInputError(where, f"{k} must be a non-negative number, got {cfg[k]!r}")
    b = cfg["betas"]
    if not (isinstance(b, list) and len(b) == 2 and all(is_number(x) and 0 <= x < 1 for x in b)):
        raise ChoreoInputError(where, f"betas must be two numbers in [0, 1), got {b!r}")
    if not isinstance(cfg["seed"], int) or isinstance(cfg["seed"], bool):
        raise ChoreoInputError(where, f"seed must be an integer, got {cfg['seed']!r}")
    for k in ("generator", "discriminator"):
        if not isinstance(cfg[k], dict):
            raise ChoreoInputError(where, f"{k} must be an object of settings, got {cfg[k]!r}")
    for k in ("corpus", "music"):
        if not isinstance(cfg[k], str):
            raise ChoreoInputError(where, f"{k} must be a path string, got {cfg[k]!r}")
    layers = cfg["perceptual_layers"]
    if layers is not None and not (isinstance(layers, list) and all(is_number(x) and x >= 0 for x in layers)):
        raise ChoreoInputError(where, f"perceptual_layers must be null or a list of non-negative numbers, "
                                      f"got {layers!r}")
    try:
        gcfg = GeneratorConfig.from_dict(cfg["generator"])
        check_config(gcfg)
        dcfg = DiscriminatorConfig.from_dict(cfg["discriminator"])
        sizes = {k: v for k, v in dcfg.to_dict().items() if k != "attention"}
        bad = next((k for k, v in sizes.items() if not (isinstance(v, int) and not isinstance(v, bool) and v > 0)),
                   None)
        if bad:
            raise ValueError(f"discriminator {bad} must be a positive integer, got {sizes[bad]!r}")
    except (ValueError, TypeError) as exc:
        raise ChoreoInputError(where, str(exc)) from None
    if cfg["losses"]["perceptual"] and gcfg.output != representation.SMPL24:
        raise ChoreoInputError(where, f"the pose perceptual loss needs generator output {representation.SMPL24!r} "
                                      f"(3D motion)")
    if cfg["losses"]["local_d"] and cfg["crop_frames"] < dcfg.local_window:
        raise ChoreoInputError(where, f"crop_frames ({cfg['crop_frames']}) is shorter than the local window")
    return cfg


def resolve_path(p: str | os.PathLike) -> Path:
    """Config paths are relative to the repository root (where ``out/`` lives): :func:`~choreo.core.fileio.repo_path`."""
    return repo_path(p)


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ChoreoInputError("--device", "CUDA was requested but torch sees no GPU")
    if device not in ("cpu", "cuda"):
        raise ChoreoInputError("--device", f"must be auto, cpu or cuda, got {device!r}")
    return torch.device(device)


def _perceptual_loss(cfg: dict, device: torch.device):
    """H2's pose perceptual loss (eq. 1) on a frozen pre-trained ST-GCN."""
    try:
        from . import perceptual
    except ImportError as exc:
        raise ChoreoInputError("losses.perceptual", f"needs choreo.core.training.perceptual ({exc})") from None
    path = cfg["stgcn_weights"]
    stgcn = perceptual.load_stgcn(None if path is None else resolve_path(path))
    stgcn = stgcn.to(device)
    cls = getattr(perceptual, "PosePerceptualLoss", None) or getattr(perceptual, "PoseperceptualLoss")
    layers = cfg["perceptual_layers"]
    try:
        loss = cls(stgcn, None if layers is None else list(layers))
    except ValueError as exc:
        raise ChoreoInputError("perceptual_layers", str(exc)) from None
    return loss.to(device) if hasattr(loss, "to") else loss


def _set_grad(module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


class _Run:
    """Models, optimisers and one training step; kept together for checkpointing."""

    def __init__(self, cfg: dict, device: torch.device):
        self.cfg, self.device = cfg, device
        self.gcfg = GeneratorConfig.from_dict(cfg["generator"])
        dcfg = DiscriminatorConfig.from_dict(cfg["discriminator"])
        on = cfg["losses"]
        betas = tuple(cfg["betas"])
        self.G = DanceGenerator(self.gcfg).to(device)
        self.modules = {"G": self.G}
        g_params = list(self.G.parameters())
        self.style = None
        if cfg["style_posterior"]:
            self.style = StyleEncoder(self.gcfg).to(device)
            self.modules["style"] = self.style
            g_params += list(self.style.parameters())
        self.optims = {"G": torch.optim.Adam(g_params, lr=cfg["lr_g"], betas=betas)}
        self.Dl = self.Dg = None
        if on["local_d"]:
            self.Dl = LocalTemporalDiscriminator(self.gcfg.pose_dim, dcfg).to(device)
            self.modules["D_local"] = self.Dl
            self.optims["D_local"] = torch.optim.Adam(self.Dl.parameters(), lr=cfg["lr_d_local"], betas=betas)
        if on["global_d"]:
            self.Dg = GlobalContentDiscriminator(self.gcfg, dcfg).to(device)
            self.modules["D_global"] = self.Dg
            self.optims["D_global"] = torch.optim.Adam(self.Dg.parameters(), lr=cfg["lr_d_global"], betas=betas)
        self.perceptual = _perceptual_loss(cfg, device) if on["perceptual"] else None

    def tensors(self, batch):
        d = self.device
        return (torch.from_numpy(batch.pieces).to(d), torch.from_numpy(batch.cond).to(d),
                torch.from_numpy(batch.target).to(d))

    def _clip(self, name: str) -> None:
        """Clip optimiser ``name``'s gradient norm to ``grad_clip`` (when set)."""
        if self.cfg["grad_clip"] is not None:
            params = [p for g in self.optims[name].param_groups for p in g["params"] if p.grad is not None]
            torch.nn.utils.clip_grad_norm_(params, self.cfg["grad_clip"])

    def step(self, batch) -> dict:
        cfg, gan = self.cfg, self.cfg["gan"]
        pieces, cond, real = self.tensors(batch)
        logs = {}
        kl = None
        if self.style is not None:  # the dance's own knots instead of the seed's
            noise, kl = self.style.sample_noise(real)
            cond = torch.cat([cond[..., :1], noise], dim=-1)
            logs["kl"] = kl.item()
        fake = self.G(pieces, cond)
        # -- discriminators (maximise eq. 4) --
        if self.Dl is not None or self.Dg is not None:
            d_total = 0.0
            if self.Dl is not None:
                _set_grad(self.Dl, True)
                loss = L.d_loss(self.Dl(real)[0], self.Dl(fake.detach())[0], gan)
                d_total = d_total + loss
                logs["d_local"] = loss.item()
            if self.Dg is not None:
                _set_grad(self.Dg, True)
                music = self.Dg.music_features(pieces)
                loss = L.d_loss(self.Dg(real, music=music)[0], self.Dg(fake.detach(), music=music)[0], gan)
                gp = L.gradient_penalty(self.Dg, real, fake, music, center=cfg["gp_center"])
                d_total = d_total + loss + cfg["w_gp"] * gp
                logs["d_global"], logs["gp"] = loss.item(), gp.item()
            for n in ("D_local", "D_global"):
                if n in self.optims:
                    self.optims[n].zero_grad(set_to_none=True)
            d_total.backward()
            for n in ("D_local", "D_global"):
                if n in self.optims:
                    self._clip(n)
                    self.optims[n].step()
        # -- generator (minimise eq. 7) --
        g_total = 0.0
        if cfg["losses"]["l1"]:
            l1 = L.l1(real, fake)
            g_total = g_total + cfg["w_l1"] * l1
            logs["l1"] = l1.item()
        else:
            logs["l1"] = L.l1(real, fake).item()
        if self.Dl is not None:
            _set_grad(self.Dl, False)
            adv = L.g_loss(self.Dl(fake)[0], gan)
            g_total = g_total + cfg["w_adv"] * adv
            logs["g_local"] = adv.item()
        if self.Dg is not None:
            _set_grad(self.Dg, False)
            with torch.no_grad():
                music = self.Dg.music_features(pieces)
                _, real_acts = self.Dg(real, music=music)
            score, fake_acts = self.Dg(fake, music=music)
            adv, fm = L.g_loss(score, gan), L.feature_matching(real_acts, fake_acts)
            g_total = g_total + cfg["w_adv"] * adv + cfg["w_fm"] * fm
            logs["g_global"], logs["fm"] = adv.item(), fm.item()
        if self.perceptual is not None:
            pj = self.perceptual(representation.local_joints_3d(self.G.denormalize(real)),
                                 representation.local_joints_3d(self.G.denormalize(fake)))
            g_total = g_total + cfg["w_p"] * pj
            logs["perceptual"] = float(pj.item())
        if kl is not None:
            g_total = g_total + cfg["w_kl"] * kl
        self.optims["G"].zero_grad(set_to_none=True)
        g_total.backward()
        self._clip("G")
        self.optims["G"].step()
        logs["g_total"] = float(g_total.item())
        return logs

    @torch.no_grad()
    def validate(self, val: PairData, batch: int, seed: int) -> float:
        """Mean L1 (normalised features) of G on the val pairs' deterministic centre crops."""
        total, n = 0.0, 0
        for b in val.fixed_batches(batch, seed):
            pieces, cond, real = self.tensors(b)
            total += torch.abs(self.G(pieces, cond) - real).mean(dim=(1, 2)).sum().item()
            n += len(real)
        return total / n


def load_corpus(cfg: dict) -> tuple[Corpus, Path]:
    """The corpus a training config names (``"corpus"``, relative to the repository), and its path."""
    path = resolve_path(cfg["corpus"])
    if not path.is_file():
        raise ChoreoInputError(path, "corpus file not found; build it with "
                                     f"`choreo dataset build --out {cfg['corpus']}`")
    return Corpus.load(path), path


def _write_json(path: Path, obj: dict) -> None:
    with atomic_path(path, suffix=".json") as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2, sort_keys=True)
            f.write("\n")


def train_generator(config: dict, out_dir: str | os.PathLike, *, resume: bool = False, device: str = "auto",
                    progress: ProgressFn | None = None, max_steps: int | None = None,
                    log: Callable[[str], None] | None = None) -> dict:
    """Train the generator described by ``config`` (see ``docs/training.md``).

    Parameters
    ----------
    config : the training config (JSON object); unknown keys are errors.
    out_dir : folder for ``<variant>.safetensors``, ``<variant>.json`` and the
        checkpoint folder ``<variant>_checkpoint/``.
    resume : continue from the checkpoint in ``out_dir`` (same config except
        steps/intervals); the result is identical to an uninterrupted run on CPU.
    device : "auto" (CUDA when present), "cpu" or "cuda".
    progress : optional :data:`ProgressFn`.
    max_steps : overrides ``config["steps"]``.
    log : optional callable given messages for the user ("resumed from step N").

    Returns
    -------
    dict : the report also written to ``<variant>.json``.
    """
    return run_training(validate_config(config), _train, out_dir, resume=resume, device=device, progress=progress,
                        max_steps=max_steps, log=log)


def run_training(cfg: dict, train: Callable, out_dir, *, resume: bool, device: str, progress: ProgressFn | None,
                 max_steps: int | None, log: Callable[[str], None] | None) -> dict:
    """``train(cfg, device, out_dir, resume, progress, log)`` of a validated config, with
    ``max_steps`` overriding its steps and torch on the config's threads (restored after):
    the entry point every family's trainer shares."""
    if max_steps is not None:
        cfg["steps"] = int(max_steps)
    dev = resolve_device(device)
    threads = torch.get_num_threads()
    torch.set_num_threads(cfg["threads"])
    try:
        return train(cfg, dev, Path(out_dir), resume, progress, log or (lambda msg: None))
    finally:
        torch.set_num_threads(threads)


def log_entry(acc: dict[str, list[float]], step: int, cfg: dict) -> dict | None:
    """At a logging step (every ``log_every`` and the last), the history entry of the
    means of ``acc`` since the last one, and ``acc`` emptied; else None."""
    if step % cfg["log_every"] and step != cfg["steps"]:
        return None
    entry = {"step": step, **{k: float(np.mean(v)) for k, v in acc.items()}}
    acc.clear()
    return entry


def write_generator(out_dir: Path, cfg: dict, module, meta: dict, result: dict, corpus: Corpus,
                    corpus_path: Path) -> dict:
    """Write ``<variant>.safetensors`` (``module``'s tensors, ``meta`` plus the corpus's
    record) and ``<variant>.json`` (``result`` plus the same) together, or neither; returns ``result``."""
    corpus_meta = {"sha256": sha256_file(corpus_path), "format_version": int(corpus.arrays["format_version"]),
                   "pairs": len(corpus), "path": str(cfg["corpus"])}
    meta = {"kind": "generator", **meta, "variant": cfg["variant"], "corpus": corpus_meta}
    out_dir.mkdir(parents=True, exist_ok=True)
    weights_path = out_dir / f"{cfg['variant']}.safetensors"
    with atomic_paths([weights_path, out_dir / f"{cfg['variant']}.json"]) as (tmp_weights, tmp_report):
        # The weights and their report replace the old pair together, or neither does.
        sha = save_weights(tmp_weights, module_tensors(module), meta)
        result.update({"weights": str(weights_path), "weights_sha256": sha, "corpus": corpus_meta, "config": cfg})
        _write_json(Path(tmp_report), result)
    return result


def checkpoint_dir(out_dir: str | os.PathLike, variant: str) -> Path:
    """Where the run of ``variant`` in ``out_dir`` keeps its checkpoint."""
    return Path(out_dir) / f"{variant}_checkpoint"


def _comparable(cfg: dict) -> dict:
    """A config as a resume compares it: without what a resume may change; one from before
    families (no ``family``, the generator's ``mode``) reads as the same config today."""
    out = {k: v for k, v in cfg.items() if k not in RESUMABLE_CHANGES}
    out.setdefault("family", FAMILY.name)
    out["generator"] = GeneratorConfig.from_dict(out.get("generator", {})).to_dict()
    return out


def _train(cfg: dict, dev: torch.device, out_dir: Path, resume: bool, progress: ProgressFn | None,
           log: Callable[[str], None]) -> dict:
    run_dir = checkpoint_dir(out_dir, cfg["variant"])
    torch.manual_seed(cfg["seed"])
    torch.use_deterministic_algorithms(True, warn_only=True)
    rng = np.random.default_rng(cfg["seed"])

    report(progress, 0.0, "loading corpus and music")
    corpus, corpus_path = load_corpus(cfg)
    gcfg = GeneratorConfig.from_dict(cfg["generator"])
    cache: dict = {}
    music = resolve_path(cfg["music"])
    train = PairData(corpus, music, "train", gcfg, cfg["crop_frames"], audio_cache=cache,
                     energy_sigma_s=cfg["energy_sigma_s"])
    val = PairData(corpus, music, "val", gcfg, cfg["crop_frames"], unmirrored_only=True, audio_cache=cache,
                   energy_sigma_s=cfg["energy_sigma_s"])
    stats = train.compute_stats()
    train.set_stats(*stats)
    val.set_stats(*stats)

    run = _Run(cfg, dev)
    with torch.no_grad():
        run.G.norm_mean.copy_(torch.from_numpy(stats[0]))
        run.G.norm_std.copy_(torch.from_numpy(stats[1]))
        run.G.energy_stats.copy_(torch.tensor(stats[2], dtype=torch.float32))

    step, seconds, history = 0, 0.0, []
    if resume:
        state = ckpt.load_checkpoint(run_dir, run.modules, run.optims, rng, dev)
        old, new = _comparable(state["config"]), _comparable(cfg)
        changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        if changed:
            raise ChoreoInputError(run_dir, f"checkpoint was made with a different config ({', '.join(changed)})")
        step, seconds, history = state["step"], state["seconds"], state["history"]
        log(f"resumed from step {step} ({run_dir})")

    def save_ckpt():
        ckpt.save_checkpoint(run_dir, step, run.modules, run.optims, rng,
                             {"config": cfg, "seconds": seconds, "history": history})

    run.G.train()
    acc: dict[str, list[float]] = {}
    last_val = history[-1].get("val_l1") if history else None
    t0 = time.perf_counter()
    while step < cfg["steps"]:
        batch = train.random_batch(rng, cfg["batch_size"])
        for k, v in run.step(batch).items():
            acc.setdefault(k, []).append(v)
        step += 1
        entry = log_entry(acc, step, cfg)
        if step % cfg["val_every"] == 0 or step == cfg["steps"]:
            last_val = run.validate(val, cfg["val_batch"], cfg["seed"])
            entry = entry or {"step": step}
            entry["val_l1"] = last_val
        if entry is not None:
            history.append(entry)
        elapsed = seconds + time.perf_counter() - t0
        label = f"step {step}/{cfg['steps']}" + (f" L1 {history[-1].get('l1', float('nan')):.3f}" if history else "") \
            + (f" val {last_val:.3f}" if last_val is not None else "")
        report(progress, step / cfg["steps"], label)
        if step % cfg["checkpoint_every"] == 0 or step == cfg["steps"]:
            seconds = elapsed
            t0 = time.perf_counter()
            save_ckpt()
    seconds += time.perf_counter() - t0
    if not history or "val_l1" not in history[-1]:  # resumed at the end: nothing trained
        last_val = run.validate(val, cfg["val_batch"], cfg["seed"])
        history.append({"step": step, "val_l1": last_val})

    train_entries = [h for h in history if "l1" in h]
    final = train_entries[-1] if train_entries else {}
    result = {
        "variant": cfg["variant"], "steps": step, "seconds": round(seconds, 2),
        "seconds_per_step": round(seconds / max(step, 1), 4), "device": str(dev),
        "final_train": {k: v for k, v in final.items() if k not in ("step", "val_l1")}, "final_val_l1": last_val,
        "train_pairs": len(train), "val_pairs": len(val), "history": history,
    }
    training_meta = {**cfg, **{k: result[k] for k in ("steps", "seconds", "seconds_per_step", "final_train",
                                                      "final_val_l1", "train_pairs", "val_pairs", "device")}}
    meta = {"family": FAMILY.name, "config": gcfg.to_dict(), "training": training_meta}
    write_generator(out_dir, cfg, run.G, meta, result, corpus, corpus_path)
    report(progress, 1.0, "done")
    return result
