"""Training DanceIt's MatchNet (seed 003, §IV-B): the trainer of the ``danceit`` family.

``train_generator(config, out_dir)`` trains :class:`~choreo.core.models.matchnet.MatchNet`
on the corpus's train split with eq. 10 (:func:`~choreo.core.models.matchnet.matching_loss`),
Adam at the paper's lr 1e-3. Each step draws one clip length from
``min_seconds``–``max_seconds`` (one model for every fragment length: both encoders pool
over time), ``batch_size`` pairs of distinct music windows (a pair and its mirror share
one), and from each a clip at a random start:

- positive: the clip's MFCCs and its own dance (the corpus warped the dance onto
  the music's beats, so they correspond frame by frame);
- delayed negative (the paper's Fig. 7): the same audio with the same pair's dance
  shifted by at least ``min_shift_seconds`` either way (only where the pair is long
  enough: a 4-s clip of a 4.5-s pair has none);
- other-pair negatives (ours, weight ``w_other``): the audio with the dance of every
  other pair of the batch from a different take (same-take pairs may be cut from
  overlapping parts of the take, so they are left out rather than called unrelated).

The report written into the weights' metadata (``retrieval``, :func:`retrieval_report`)
ranks the held-out (val) pairs' dance clips for each of their music clips, with
MatchNet and with Choreo's cross-modal metric, against chance; and gives the paper's
correlation accuracy (distance below ``threshold`` = corresponding) on positives vs
delayed negatives. Checkpoints and resumption follow :mod:`.dancerevolution`.
``keep`` "best" writes the weights of the validation with the lowest val loss
(early stopping; kept beside the checkpoint as ``best.pt``, so resumption keeps it)
instead of the last step's.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..data.corpus import Corpus
from ..errors import ChoreoInputError
from ..models.matchnet import MatchNet, MatchNetConfig, distance, matching_loss
from ..models.weights import module_tensors
from ..progress import ProgressFn, report
from . import checkpoint as ckpt
from .trainer import load_corpus, log_entry, run_training, with_defaults, write_generator

FAMILY_NAME = "danceit"
DEFAULTS: dict = {
    "task": "generator",
    "family": FAMILY_NAME,
    "variant": "danceit",
    "description": "",
    "model": {},                 # MatchNetConfig settings
    "steps": 1500,
    "batch_size": 32,
    "lr": 1e-3,                  # the paper's
    "w_delayed": 1.0,            # weight of the delayed negatives' term
    "w_other": 1.0,              # weight of the other-pair negatives' term
    "min_shift_seconds": 1.0,    # a delayed negative is shifted at least this much
    "corpus": "out/corpus.npz",
    "seed": 0,
    "threads": 1,
    "val_every": 250,
    "checkpoint_every": 500,
    "log_every": 25,
    "report_lengths": [1, 2, 3, 4],   # seconds: the held-out retrieval report's clip lengths
    "crossmodal": True,          # also rank with the cross-modal metric in the report
    "keep": "last",              # "best": ship the weights of the lowest val loss (early stopping)
}
RESUMABLE_CHANGES = ("steps", "val_every", "checkpoint_every", "log_every", "description", "threads",
                     "report_lengths", "crossmodal")
_POSITIVE_INTS = ("steps", "batch_size", "threads", "val_every", "checkpoint_every", "log_every")


def validate_config(config: dict, where: str = "config") -> dict:
    """The full config (defaults filled in), or :class:`ChoreoInputError` naming ``where``."""
    cfg = with_defaults(config, DEFAULTS, where)
    if cfg["task"] != "generator" or cfg["family"] != FAMILY_NAME:
        raise ChoreoInputError(where, f"task/family must be generator/{FAMILY_NAME} here")
    for k in _POSITIVE_INTS + ("seed",):
        v = cfg[k]
        if not isinstance(v, int) or isinstance(v, bool) or (v < 1 and k != "seed"):
            raise ChoreoInputError(where, f"{k} must be a {'' if k == 'seed' else 'positive '}integer, got {v!r}")
    if cfg["batch_size"] < 2:
        raise ChoreoInputError(where, "batch_size must be at least 2 (other-pair negatives)")
    for k, least in (("lr", 1e-12), ("w_delayed", 0.0), ("w_other", 0.0), ("min_shift_seconds", 1e-3)):
        v = cfg[k]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < least:
            raise ChoreoInputError(where, f"{k} must be a number ≥ {least:g}, got {v!r}")
    lengths = cfg["report_lengths"]
    if (not isinstance(lengths, list) or not lengths
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= 60 for v in lengths)):
        raise ChoreoInputError(where, "report_lengths must be a list of clip lengths in seconds (0–60)")
    if cfg["keep"] not in ("last", "best"):
        raise ChoreoInputError(where, f"keep must be \"last\" or \"best\", got {cfg['keep']!r}")
    if not isinstance(cfg["crossmodal"], bool):
        raise ChoreoInputError(where, "crossmodal must be true or false")
    if not isinstance(cfg["model"], dict):
        raise ChoreoInputError(where, "model must be an object of settings")
    try:
        MatchNetConfig.from_dict(cfg["model"])
    except (ValueError, TypeError) as exc:
        raise ChoreoInputError(where, str(exc)) from None
    return cfg


def checkpoint_dir(out_dir: str | os.PathLike, variant: str) -> Path:
    """Where the run of ``variant`` in ``out_dir`` keeps its checkpoint."""
    return Path(out_dir) / f"{variant}_checkpoint"


# -- data ----------------------------------------------------------------------

class Clips:
    """A split's pairs as MatchNet inputs: per pair its MFCCs (T, n_mfcc) and local
    joints (T, 24, 3), with its music window, take and source start (seconds)."""

    def __init__(self, corpus: Corpus, split: str, cfg: MatchNetConfig, unmirrored_only: bool = False):
        from ..generation.families.danceit.matchnet import audio_input, pose_input

        a = corpus.arrays
        if "window_features" not in a:
            raise ChoreoInputError(corpus.path, "corpus has no music features (built with --no-features); "
                                                "rebuild it with features to train MatchNet")
        idx = [int(i) for i in corpus.indices(split) if not (unmirrored_only and a["pair_mirrored"][i])]
        self.index = np.array(idx, np.int64)
        self.mfcc, self.local, self.motions, self.features = [], [], [], []
        for i in idx:
            p = corpus.pair(i)
            self.features.append(p.features)
            self.mfcc.append(audio_input(p.features, cfg))
            self.local.append(pose_input(p.motion))
            self.motions.append(p.motion)
        self.lengths = np.array([min(len(m), len(j)) for m, j in zip(self.mfcc, self.local)], np.int64)
        self.window = a["pair_window"][self.index] if idx else np.zeros(0, np.int64)
        self.take = a["pair_take"][self.index] if idx else np.zeros(0, np.int64)
        self.fps = corpus.fps

    def __len__(self) -> int:
        return len(self.index)

    def stats(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """MFCC mean and std (n_mfcc,), joint-and-velocity mean and std (6, 24), over all frames."""
        m = np.concatenate(self.mfcc).astype(np.float64)
        pose = []
        for j in self.local:
            vel = np.diff(j, axis=0, prepend=j[:1]) * self.fps
            pose.append(np.concatenate([j, vel], axis=-1))
        p = np.concatenate(pose).astype(np.float64)          # (frames, 24, 6)
        return (m.mean(0), np.maximum(m.std(0), 1e-3), p.mean(0).T, np.maximum(p.std(0).T, 1e-3))

    def audio(self, rows, starts, L: int) -> np.ndarray:
        return np.stack([self.mfcc[r][s:s + L] for r, s in zip(rows, starts)])

    def pose(self, rows, starts, L: int) -> np.ndarray:
        return np.stack([self.local[r][s:s + L] for r, s in zip(rows, starts)])


def delayed_start(rng: np.random.Generator, T: int, L: int, start: int, shift: int) -> int:
    """A start of an ``L``-frame clip in ``T`` frames at least ``shift`` frames from
    ``start`` (either way), uniformly; -1 when the pair is too short for one."""
    valid = np.concatenate([np.arange(0, start - shift + 1), np.arange(start + shift, T - L + 1)])
    return int(rng.choice(valid)) if len(valid) else -1


def sample_batch(clips: Clips, rng: np.random.Generator, batch: int, L: int, shift: int) -> dict:
    """Rows (distinct music windows), clip ``starts``, ``delayed`` starts (-1: none) and the
    (B, B) ``other`` mask (audio i, dance j: a negative) of one step with ``L``-frame clips."""
    ok = clips.lengths >= L
    windows = np.unique(clips.window[ok])
    if len(windows) < 2:
        raise ChoreoInputError("corpus", f"fewer than two music windows of {L} frames or more to train on")
    ws = rng.choice(windows, min(batch, len(windows)), replace=False)
    rows = np.array([rng.choice(np.flatnonzero(ok & (clips.window == w))) for w in ws])
    starts = np.array([rng.integers(0, clips.lengths[r] - L + 1) for r in rows])
    delayed = np.array([delayed_start(rng, int(clips.lengths[r]), L, int(s), shift) for r, s in zip(rows, starts)])
    other = clips.take[rows][:, None] != clips.take[rows][None, :]
    return {"rows": rows, "starts": starts, "delayed": delayed, "other": other, "L": L}


# -- training ------------------------------------------------------------------

class _Run:
    def __init__(self, cfg: dict, device: torch.device):
        self.cfg, self.device = cfg, device
        self.mcfg = MatchNetConfig.from_dict(cfg["model"])
        self.net = MatchNet(self.mcfg).to(device)
        self.modules = {"matchnet": self.net}
        self.optims = {"matchnet": torch.optim.Adam(self.net.parameters(), lr=cfg["lr"])}

    def losses(self, clips: Clips, b: dict) -> dict:
        L, rows = b["L"], b["rows"]
        t = lambda x: torch.from_numpy(x).to(self.device)  # noqa: E731
        a = self.net.embed_audio(t(clips.audio(rows, b["starts"], L)))
        has = b["delayed"] >= 0
        poses = clips.pose(np.concatenate([rows, rows[has]]), np.concatenate([b["starts"], b["delayed"][has]]), L)
        p = self.net.embed_pose(t(poses))
        B = len(rows)
        d_pos = distance(p[:B], a)
        d_del = distance(p[B:], a[torch.from_numpy(np.flatnonzero(has)).to(self.device)])
        d_all = distance(p[:B][None, :, :], a[:, None, :])           # (audio i, dance j)
        d_oth = d_all[torch.from_numpy(b["other"]).to(self.device)]
        pos, neg_del = matching_loss(d_pos, d_del, self.mcfg.margin)
        _, neg_oth = matching_loss(d_pos[:0], d_oth, self.mcfg.margin)
        loss = pos + self.cfg["w_delayed"] * neg_del + self.cfg["w_other"] * neg_oth
        return {"loss": loss, "pos": pos, "neg_delayed": neg_del, "neg_other": neg_oth,
                "d_pos": d_pos.mean(), "d_delayed": d_del.mean() if len(d_del) else d_pos.new_zeros(()),
                "d_other": d_oth.mean() if len(d_oth) else d_pos.new_zeros(())}

    def step(self, clips: Clips, b: dict) -> dict:
        out = self.losses(clips, b)
        self.optims["matchnet"].zero_grad(set_to_none=True)
        out["loss"].backward()
        self.optims["matchnet"].step()
        return {k: float(v.item()) for k, v in out.items()}

    @torch.no_grad()
    def validate(self, batches: list[tuple[Clips, dict]]) -> float:
        return float(np.mean([self.losses(c, b)["loss"].item() for c, b in batches]))


def _lengths(cfg: MatchNetConfig) -> tuple[int, int]:
    return cfg.min_frames, cfg.max_frames


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
    rng = np.random.default_rng(cfg["seed"])
    report(progress, 0.0, "loading corpus")
    corpus, corpus_path = load_corpus(cfg)
    run = _Run(cfg, dev)
    train = Clips(corpus, "train", run.mcfg)
    val = Clips(corpus, "val", run.mcfg, unmirrored_only=True)
    if len(train) < 2:
        raise ChoreoInputError(corpus_path, "corpus has fewer than two training pairs")
    lo, hi = _lengths(run.mcfg)
    hi = min(hi, int(train.lengths.max()))
    lo = min(lo, hi)
    run.net.set_stats(*train.stats())
    shift = max(1, int(round(cfg["min_shift_seconds"] * train.fps)))
    vrng = np.random.default_rng(cfg["seed"] + 1)  # fixed val batches: comparable losses
    val_batches = []
    if len(val) and len(np.unique(val.window)) >= 2:
        for L in np.linspace(lo, min(hi, int(val.lengths.max())), 4).astype(int):
            if len(np.unique(val.window[val.lengths >= L])) >= 2:
                val_batches.append((val, sample_batch(val, vrng, cfg["batch_size"], int(L), shift)))

    step, seconds, history = 0, 0.0, []
    if resume:
        step, seconds, history = ckpt.resume_run(run_dir, run.modules, run.optims, rng, dev, cfg,
                                                 RESUMABLE_CHANGES, log)
    best_path = run_dir / "best.pt"
    best = None  # (val loss, step, state) of keep "best"
    if resume and cfg["keep"] == "best" and best_path.is_file():
        best = torch.load(best_path, map_location=dev, weights_only=True)
        best = (best["val_loss"], best["step"], best["state"])
    run.net.train()
    acc: dict = {}
    last_val = next((h["val_loss"] for h in reversed(history) if "val_loss" in h), None)
    t0 = time.perf_counter()
    while step < cfg["steps"]:
        L = int(rng.integers(lo, hi + 1))
        for k, v in run.step(train, sample_batch(train, rng, cfg["batch_size"], L, shift)).items():
            acc.setdefault(k, []).append(v)
        step += 1
        entry = log_entry(acc, step, cfg)
        if val_batches and (step % cfg["val_every"] == 0 or step == cfg["steps"]):
            run.net.eval()
            last_val = run.validate(val_batches)
            run.net.train()
            entry = {**(entry or {"step": step}), "val_loss": last_val}
            if cfg["keep"] == "best" and (best is None or last_val < best[0]):
                best = (last_val, step, {k: v.detach().clone() for k, v in run.net.state_dict().items()})
                run_dir.mkdir(parents=True, exist_ok=True)
                torch.save({"val_loss": best[0], "step": step, "state": best[2]}, best_path)
        if entry is not None:
            history.append(entry)
        report(progress, 0.9 * step / cfg["steps"],
               f"step {step}/{cfg['steps']}" + (f" loss {history[-1].get('loss', float('nan')):.3f}" if history
                                                 else "") + (f" val {last_val:.3f}" if last_val is not None else ""))
        if step % cfg["checkpoint_every"] == 0 or step == cfg["steps"]:
            seconds += time.perf_counter() - t0
            t0 = time.perf_counter()
            ckpt.save_checkpoint(run_dir, step, run.modules, run.optims, rng,
                                 {"config": cfg, "seconds": seconds, "history": history})
    seconds += time.perf_counter() - t0
    run.net.eval()
    if last_val is None and val_batches:
        last_val = run.validate(val_batches)
    kept_step, kept_val = step, last_val
    if best is not None and best[1] != step:
        run.net.load_state_dict(best[2])
        kept_step, kept_val = best[1], best[0]
        log(f"keeping the weights of step {kept_step} (lowest val loss {kept_val:.4f})")
    report(progress, 0.9, "held-out retrieval report")
    from ..generation.families.danceit.matchnet import MatchNetRuntime

    runtime = MatchNetRuntime(module_tensors(run.net), run.mcfg, "trained")
    retrieval = retrieval_report(runtime, corpus, cfg["report_lengths"], crossmodal=cfg["crossmodal"],
                                 shift_seconds=cfg["min_shift_seconds"], seed=cfg["seed"], val=val, train=train)
    trained = [h for h in history if "loss" in h]
    result = {"variant": cfg["variant"], "steps": step, "seconds": round(seconds, 2),
              "final_train": {k: v for k, v in (trained[-1] if trained else {}).items()
                              if k not in ("step", "val_loss")},
              "seconds_per_step": round(seconds / max(step, 1), 4), "device": str(dev),
              # the CLI prints "final val L1": here it is eq. 10's loss on fixed val batches
              "final_val_name": "matching loss (eq. 10)", "final_val_loss": kept_val, "kept_step": kept_step,
              "train_pairs": len(train), "val_pairs": len(val), "history": history, "retrieval": retrieval}
    meta = {"family": FAMILY_NAME, "model": "matchnet", "config": run.mcfg.to_dict(), "retrieval": retrieval,
            "training": {**cfg, **{k: result[k] for k in ("steps", "kept_step", "seconds", "final_val_loss",
                                                          "device")}}}
    write_generator(out_dir, cfg, run.net, meta, result, corpus, corpus_path)
    log(format_report(retrieval))
    report(progress, 1.0, "done")
    return result


# -- held-out report --------------------------------------------------------------

def _ranks(dist: np.ndarray) -> np.ndarray:
    """0-based rank of each row's own column (the diagonal) among its row, lower = nearer; ties count against."""
    return (dist < np.diag(dist)[:, None]).sum(1) + ((dist == np.diag(dist)[:, None]).sum(1) - 1)


def _retrieval(dist: np.ndarray, take: np.ndarray) -> dict:
    N = len(dist)
    r = _ranks(dist)
    same = take[:, None] == take[None]
    return {"recall_at_1": float(np.mean(r == 0)), "recall_at_5": float(np.mean(r < 5)),
            "median_rank": float(np.median(r) + 1),
            "top1_same_take": float(np.mean(same[np.arange(N), np.argmin(dist, 1)]))}


def retrieval_report(runtime, corpus: Corpus, lengths=(1, 2, 3, 4), *, crossmodal: bool = True,
                     shift_seconds: float = 1.0, seed: int = 0, val: Clips | None = None,
                     train: Clips | None = None, max_train_pairs: int = 100) -> dict:
    """Held-out retrieval and correlation accuracy of a MatchNet ``runtime`` on ``corpus``'s val split.

    For each clip length (seconds) the val pairs (unmirrored) are cut into consecutive
    clips; each music clip ranks every val dance clip of that length by distance, its
    own being the answer: recall@1/@5, median rank, and how often the top dance is
    from the right take, each with its chance level. ``crossmodal``: the same ranking
    by Choreo's cross-modal metric (:mod:`choreo.core.metrics.crossmodal`, train-split
    dictionary) two ways: its joint music↔dance space (cosine) and its score
    (the dance's distance to the dances of the 10 nearest training music windows).
    ``correlation``: the paper's accuracy with ``threshold`` (distance below it =
    corresponding) on positives and delayed negatives (shifted ≥ ``shift_seconds``),
    on val and on up to ``max_train_pairs`` train pairs.
    """
    cfg = runtime.cfg
    val = val if val is not None else Clips(corpus, "val", cfg, unmirrored_only=True)
    out: dict = {"split": "val", "pairs": len(val), "lengths": {}}
    if len(val) < 2:
        out["note"] = "fewer than two held-out pairs: nothing to rank"
        return out
    metric = None
    if crossmodal:
        from ..metrics import crossmodal as X

        try:
            metric = X.CrossModalMetric.load().fit_corpus(corpus, "train")
            out["crossmodal_min_frames"] = X.MIN_FRAMES
        except ChoreoInputError as exc:
            out["crossmodal_note"] = f"cross-modal metric unavailable ({exc})"
    rng = np.random.default_rng(seed)
    shift = max(1, int(round(shift_seconds * val.fps)))
    for sec in lengths:
        L = int(round(float(sec) * val.fps))
        rows, starts = [], []
        for r, T in enumerate(val.lengths):
            for s in range(0, int(T) - L + 1, L):
                rows.append(r)
                starts.append(s)
        key = f"{float(sec):g}s"
        N = len(rows)
        if N < 2:
            out["lengths"][key] = {"clips": N, "note": "fewer than two clips of this length"}
            continue
        rows, starts = np.array(rows), np.array(starts)
        A = runtime.embed_audio(val.audio(rows, starts, L))
        P = runtime.embed_pose(val.pose(rows, starts, L))
        take = val.take[rows]
        same = take[:, None] == take[None]
        entry = {"clips": N, "frames": L,
                 "chance": {"recall_at_1": 1.0 / N, "recall_at_5": min(1.0, 5.0 / N), "median_rank": (N + 1) / 2,
                            "top1_same_take": float(same.mean())},
                 "matchnet": _retrieval(runtime.distance(A, P), take)}
        if metric is not None:
            if L < X.MIN_FRAMES:
                entry["crossmodal_note"] = f"clips of {L} frames are shorter than the metric's {X.MIN_FRAMES}"
            else:
                from ..motion import Motion

                feats = [val.features[r][s:s + L] for r, s in zip(rows, starts)]
                M = np.stack([metric.embed_music(f, val.fps) for f in feats])
                D = np.stack([metric.embed_dance(Motion(val.motions[r].joints[s:s + L], val.fps))
                              for r, s in zip(rows, starts)])
                entry["crossmodal_joint"] = _retrieval(-(M @ D.T), take)
                score = np.empty((N, N))
                for i, f in enumerate(feats):  # the metric's score of every candidate for music i
                    score[i] = metric.score_embeddings(D, f, val.fps)
                entry["crossmodal_score"] = _retrieval(score, take)
        entry["correlation"] = {"val": _correlation(runtime, val, L, shift, rng)}
        if train is not None and len(train):
            entry["correlation"]["train"] = _correlation(runtime, train, L, shift, rng, max_train_pairs)
        out["lengths"][key] = entry
    return out


def _correlation(runtime, clips: Clips, L: int, shift: int, rng, limit: int | None = None) -> dict:
    """The paper's correlation accuracy on one positive and one delayed negative per pair."""
    thr = runtime.cfg.threshold
    rows = [r for r in range(len(clips)) if clips.lengths[r] - L >= shift]
    if limit is not None and len(rows) > limit:
        rows = sorted(rng.choice(rows, limit, replace=False).tolist())
    if not rows:
        return {"pairs": 0, "note": f"no pair is long enough for a {L}-frame clip and a {shift}-frame shift"}
    starts = []
    for r in rows:  # a start that leaves room for a shifted clip on one side or the other
        last = int(clips.lengths[r]) - L
        ok = np.flatnonzero((np.arange(last + 1) >= shift) | (np.arange(last + 1) + shift <= last))
        starts.append(int(rng.choice(ok)))
    delayed = [delayed_start(rng, int(clips.lengths[r]), L, s, shift) for r, s in zip(rows, starts)]
    A = runtime.embed_audio(clips.audio(rows, starts, L))
    d_pos = np.linalg.norm(runtime.embed_pose(clips.pose(rows, starts, L)) - A, axis=1)
    d_neg = np.linalg.norm(runtime.embed_pose(clips.pose(rows, delayed, L)) - A, axis=1)
    return {"pairs": len(rows), "accuracy": float((np.sum(d_pos < thr) + np.sum(d_neg >= thr)) / (2 * len(rows))),
            "positive_accuracy": float(np.mean(d_pos < thr)), "negative_accuracy": float(np.mean(d_neg >= thr)),
            "positive_nearer": float(np.mean(d_pos < d_neg)), "mean_distance_positive": float(d_pos.mean()),
            "mean_distance_negative": float(d_neg.mean()), "chance": 0.5}


def format_report(rep: dict) -> str:
    """The retrieval report as a small table (what training prints)."""
    lines = [f"held-out retrieval ({rep.get('pairs', 0)} val pairs, unmirrored): recall@1 / recall@5 / median rank"]
    for key, e in rep.get("lengths", {}).items():
        if "matchnet" not in e:
            lines.append(f"  {key}: {e.get('note', '')}")
            continue
        row = lambda r: f"{r['recall_at_1']:.3f} / {r['recall_at_5']:.3f} / {r['median_rank']:.0f}"  # noqa: E731
        lines.append(f"  {key} ({e['clips']} clips): matchnet {row(e['matchnet'])}; "
                     + (f"crossmodal joint {row(e['crossmodal_joint'])}, score {row(e['crossmodal_score'])}; "
                        if "crossmodal_score" in e else "")
                     + f"chance {row(e['chance'])}")
        c = e["correlation"]["val"]
        if "accuracy" in c:
            lines.append(f"      corr. acc. val {c['accuracy']:.3f} (pos {c['positive_accuracy']:.2f}, "
                         f"delayed {c['negative_accuracy']:.2f}, pos nearer {c['positive_nearer']:.2f})"
                         + (f", train {e['correlation']['train']['accuracy']:.3f}"
                            if "accuracy" in e["correlation"].get("train", {}) else ""))
    return "\n".join(lines)


def register_shipped(out: Path, result: dict) -> dict:
    """Register ``out`` (a file in weights/) as the shipped ``danceit`` weights."""
    from ..models.weights import register_weights

    rep = result["retrieval"]
    figs = []
    for key, e in rep.get("lengths", {}).items():
        if "matchnet" in e:
            figs.append(f"{key} R@1 {e['matchnet']['recall_at_1']:.2f}/R@5 {e['matchnet']['recall_at_5']:.2f} "
                        f"(chance {e['chance']['recall_at_1']:.2f}/{e['chance']['recall_at_5']:.2f})")
    about = (f"DanceIt's MatchNet (Guo et al., issue 15): Bi-LSTM over 13 MFCC and a 3-block ST-GCN over local "
             f"joints into one 16-d space, eq. 10 with delayed and other-pair negatives, one model for 1-4 s "
             f"fragments (configs/danceit.json); {result['steps']} steps, {result['seconds']:.0f} s on CPU; "
             f"held-out music->dance retrieval among the val clips: " + "; ".join(figs))
    return register_weights(FAMILY_NAME, out, about)
