"""Train the embeddings of the cross-modal metric (:mod:`choreo.core.metrics.crossmodal`).

Ren et al. (seed 002, §6.3.2) embed music with a pre-trained CRNN and train a
pose metric (triplet + MMD) on K-means clusters of the music embeddings. We
have no pre-trained music network and only ~250 training pairs, so both
embeddings are trained jointly on the corpus train split, contrastively
(InfoNCE, temperature τ, both directions):

- music ↔ dance: the music of a random crop of a pair and the dance of the
  same crop are positives, the other pairs of the batch negatives, so a
  music window's nearest neighbour in music space tends to be music whose
  dance is close in dance space;
- dance ↔ dance: two independent random crops of the same pair are
  positives (the pose metric: same dance close, different dances far);
- both also see ``negatives`` non-dances per batch that are never positives:
  time-shuffled crops and frames of random dances (real poses, no
  continuity) and single poses held still, so implausible motion lands far
  from every music's dance.

Batches hold distinct music windows (a pair and its mirror share one, so
they are never each other's negatives); each item is the pair or its mirror
at random. Crops are pooled with cumulative sums, so a step costs a few
matrix products. CPU, one thread, well under a minute for the default config.

``choreo train --config configs/crossmodal.json --out weights`` trains it and,
written into weights/, registers it as the shipped "crossmodal".
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from ..errors import ChoreoInputError
from ..metrics import crossmodal as X
from ..progress import ProgressFn, report

DEFAULTS = {
    "task": "crossmodal",
    "corpus": "out/corpus.npz",
    "seed": 0,
    "steps": 1500,
    "batch": 48,
    "lr": 0.001,
    "weight_decay": 0.0001,
    "hidden": 128,
    "embed_dim": 32,
    "dropout": 0.1,
    "temperature": 0.1,
    "crop_seconds": [2.0, 4.0],
    "music_weight": 1.0,
    "dance_weight": 1.0,
    "threads": 1,
    "music_inputs": "all",
    "negatives": 16,
}


def _encoder(in_dim: int, hidden: int, out: int, dropout: float, mean: np.ndarray, std: np.ndarray):
    import torch
    from torch import nn

    class Encoder(nn.Module):
        """Standardise → Linear → LeakyReLU(0.2) → Dropout → Linear → L2 normalise
        (:func:`choreo.core.metrics.crossmodal.mlp_forward` is the numpy twin)."""

        def __init__(self):
            super().__init__()
            self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
            self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32))
            self.layers = nn.ModuleList([nn.Linear(in_dim, hidden), nn.Linear(hidden, out)])
            self.drop = nn.Dropout(dropout)

        def forward(self, x):
            h = (x - self.mean) / self.std
            h = self.drop(nn.functional.leaky_relu(self.layers[0](h), X._LEAK))
            return nn.functional.normalize(self.layers[1](h), dim=-1)

    return Encoder()


class _Data:
    """Per-frame dance and music columns of every pair of a split, concatenated,
    with cumulative sums for O(1) pooling of any crop."""

    def __init__(self, corpus, split: str):
        a = corpus.arrays
        self.idx = corpus.indices(split)
        self.fps = corpus.fps
        self.window = a["pair_window"][self.idx]
        dance, music, lengths, env, joints = [], [], [], [], []
        wo = a["window_offsets"]
        for i in self.idx:
            p = corpus.pair(int(i))
            dance.append(X.dance_frame_features(p.motion))
            env.append(X.speed_envelope(p.motion))
            joints.append(p.motion.joints)
            w = int(a["pair_window"][i])
            music.append(X.music_frame_compact(a["window_features"][wo[w]:wo[w + 1]]))
            lengths.append(p.motion.num_frames)
        self.lengths = np.array(lengths)
        self.offsets = np.concatenate([[0], np.cumsum(lengths)])
        self.env = np.concatenate(env)
        self.joints = np.concatenate(joints)
        d, m = np.concatenate(dance).astype(np.float64), np.concatenate(music).astype(np.float64)
        self.cum = {k: (np.vstack([np.zeros((1, v.shape[1])), np.cumsum(v, 0)]),
                        np.vstack([np.zeros((1, v.shape[1])), np.cumsum(v * v, 0)])) for k, v in
                    (("dance", d), ("music", m))}

    def pooled(self, kind: str, pair: np.ndarray, start: np.ndarray, length: np.ndarray):
        """(mean, std) over frames ``start … start+length`` of pairs ``pair`` (row indices)."""
        c1, c2 = self.cum[kind]
        a = self.offsets[pair] + start
        b = a + length
        n = length[:, None].astype(np.float64)
        mean = (c1[b] - c1[a]) / n
        var = np.maximum((c2[b] - c2[a]) / n - mean ** 2, 0.0)
        return mean, np.sqrt(var)

    def descriptors(self, pair, start, length):
        dm, ds = self.pooled("dance", pair, start, length)
        mm, ms = self.pooled("music", pair, start, length)
        a = self.offsets[pair] + start
        rh = np.stack([X.rhythm(self.env[i:i + n]) for i, n in zip(a, length)])
        return np.concatenate([dm, ds, rh], 1).astype(np.float32), X.music_pool(mm, ms, self.fps)


def _negatives(data: _Data, rng, n: int, lo_s: float, hi_s: float) -> np.ndarray:
    """Descriptors of ``n`` non-dances that no music may retrieve: crops of training
    dances with their frames shuffled in time (real poses, no motion continuity)
    frames drawn from random training dances, and single real poses held still."""
    from ..motion import Motion

    out = []
    for j in range(n):
        r = int(rng.integers(len(data.idx)))
        T = int(data.lengths[r])
        L = min(T, int(rng.integers(int(lo_s * data.fps), int(hi_s * data.fps) + 1)))
        a = data.offsets[r] + int(rng.integers(T - L + 1))
        joints = data.joints[a:a + L]
        if j % 3 == 0:    # this crop's frames in random order
            joints = joints[rng.permutation(L)]
        elif j % 3 == 1:  # frames of random training dances, pelvis over the origin
            joints = data.joints[rng.integers(len(data.joints), size=L)].copy()
            joints[:, :, :2] -= joints[:, :1, :2]
        else:             # one pose held still
            joints = np.repeat(joints[:1], L, axis=0)
        out.append(X.dance_descriptor(Motion(joints, data.fps)))
    return np.stack(out).astype(np.float32)


def _whole(data: _Data):
    rows = np.arange(len(data.idx))
    return data.descriptors(rows, np.zeros_like(rows), data.lengths)


def train_crossmodal(config: dict, out_path: str | os.PathLike, progress: ProgressFn | None = None) -> dict:
    """Train the cross-modal embeddings on ``config["corpus"]``'s train split,
    evaluate on its val split, write the weights to ``out_path``; returns the report
    (``training`` and ``heldout`` of the weights' meta)."""
    import torch

    from ..data.corpus import Corpus, sha256
    from ..models.weights import module_tensors, save_weights

    cfg = {**DEFAULTS, **config}
    unknown = sorted(set(config) - set(DEFAULTS))
    if unknown:
        raise ChoreoInputError("config", f"unknown cross-modal config keys: {', '.join(unknown)}")
    corpus = Corpus.load(cfg["corpus"])
    if "window_features" not in corpus.arrays:
        raise ChoreoInputError(cfg["corpus"], "corpus has no music features; rebuild it without --no-features")
    t0 = time.perf_counter()
    torch.manual_seed(cfg["seed"])
    torch.set_num_threads(int(cfg["threads"]))
    rng = np.random.default_rng(cfg["seed"])
    report(progress, 0.0, "descriptors")
    train = _Data(corpus, "train")
    if len(np.unique(train.window)) < 4:
        raise ChoreoInputError(cfg["corpus"], "too few training music windows for the cross-modal metric (< 4)")
    d_all, m_all = _whole(train)
    mask = X.music_mask(cfg["music_inputs"], m_all.shape[1])
    m_all = m_all * mask
    dance_enc = _encoder(d_all.shape[1], cfg["hidden"], cfg["embed_dim"], cfg["dropout"], d_all.mean(0),
                         d_all.std(0) + 1e-3)
    music_enc = _encoder(m_all.shape[1], cfg["hidden"], cfg["embed_dim"], cfg["dropout"], m_all.mean(0),
                         m_all.std(0) + 1e-3)
    params = list(dance_enc.parameters()) + list(music_enc.parameters())
    opt = torch.optim.AdamW(params, lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    windows = np.unique(train.window)
    by_window = {w: np.flatnonzero(train.window == w) for w in windows}
    lo_s, hi_s = cfg["crop_seconds"]
    tau = float(cfg["temperature"])
    B = min(int(cfg["batch"]), len(windows))
    target = torch.arange(B)
    ce = torch.nn.functional.cross_entropy
    history = []
    for step in range(int(cfg["steps"])):
        ws = rng.choice(windows, B, replace=False)
        rows = np.array([rng.choice(by_window[w]) for w in ws])
        T = train.lengths[rows]
        L = np.minimum(T, rng.integers(int(lo_s * train.fps), int(hi_s * train.fps) + 1, B))
        s1 = (rng.random(B) * (T - L + 1)).astype(int)
        s2 = (rng.random(B) * (T - L + 1)).astype(int)
        d1, m1 = train.descriptors(rows, s1, L)
        d2, _ = train.descriptors(rows, s2, L)
        e_d1, e_d2 = dance_enc(torch.from_numpy(d1)), dance_enc(torch.from_numpy(d2))
        e_m = music_enc(torch.from_numpy(m1 * mask))
        if cfg["negatives"]:
            e_neg = dance_enc(torch.from_numpy(_negatives(train, rng, int(cfg["negatives"]), lo_s, hi_s)))
            e_d1n, e_d2n = torch.cat([e_d1, e_neg]), torch.cat([e_d2, e_neg])
        else:
            e_d1n, e_d2n = e_d1, e_d2
        lm = e_m @ e_d1n.T / tau
        ld = e_d1 @ e_d2n.T / tau
        loss_md = 0.5 * (ce(lm, target) + ce(lm[:, :B].T, target))
        loss_dd = 0.5 * (ce(ld, target) + ce(ld[:, :B].T, target))
        loss = cfg["music_weight"] * loss_md + cfg["dance_weight"] * loss_dd
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == cfg["steps"] - 1:
            history.append({"step": step, "music_dance": loss_md.item(), "dance_dance": loss_dd.item()})
            report(progress, 0.05 + 0.85 * step / cfg["steps"], f"step {step} loss {loss.item():.3f}")
    dance_enc.eval()
    music_enc.eval()
    tensors = {f"dance.{k}": v for k, v in module_tensors(dance_enc).items()}
    tensors.update({f"music.{k}": v for k, v in module_tensors(music_enc).items()})
    seconds = time.perf_counter() - t0
    report(progress, 0.9, "held-out evaluation")
    metric = X.CrossModalMetric(tensors, {"kind": "crossmodal", "config": cfg}, "trained")
    heldout = heldout_report(metric, corpus, rng_seed=cfg["seed"])
    with torch.no_grad():  # the numpy forward must match torch's
        ref = dance_enc(torch.from_numpy(d_all[:8])).numpy()
    heldout["numpy_vs_torch_max_abs"] = float(np.abs(X.mlp_forward(tensors, "dance", d_all[:8]) - ref).max())
    a = corpus.arrays
    meta = {
        "kind": "crossmodal", "model": "ren_crossmodal",
        "config": cfg,
        "descriptors": {"dance": int(d_all.shape[1]), "music": int(m_all.shape[1])},
        "corpus": {"sha256": sha256(corpus.path), "format_version": int(a["format_version"]),
                   "pairs": {s: int(len(corpus.indices(s))) for s in ("train", "val")}, "path": str(cfg["corpus"])},
        "training": {"steps": int(cfg["steps"]), "seconds": round(seconds, 2), "final": history[-1],
                     "history": history, "train_windows": int(len(windows))},
        "heldout": heldout,
    }
    save_weights(out_path, tensors, meta)
    report(progress, 1.0, "written")
    return {"training": meta["training"], "heldout": heldout, "path": str(out_path)}


def heldout_report(metric: "X.CrossModalMetric", corpus, rng_seed: int = 0) -> dict:
    """Retrieval accuracies on the val split's unmirrored pairs (whole windows), each with its chance level.

    - ``dance_same_take_top1``: the first half of a val dance retrieves, among
      the second halves of the other val pairs, one cut from the same take
      (pose metric: same dance near; pairs are overlapping cuts of 3 takes,
      so "same pair" is ill-posed);
    - ``music_to_dance_top1/top5``: a val music window retrieves its own dance
      among all val dances (the joint space);
    - ``metric_retrieval``: the metric's own mechanism — the training dance
      retrieved through the nearest training music is closer to the true val
      dance than the median training window's dance is (chance 0.5).
    """
    a = corpus.arrays
    val = [int(i) for i in corpus.indices("val") if not a["pair_mirrored"][i]]
    if len(val) < 2:
        return {"windows": len(val), "note": "no held-out pairs"}
    metric.fit_corpus(corpus, "train")
    wo = a["window_offsets"]
    feats, dances, halves = [], [], ([], [])
    for i in val:
        p = corpus.pair(i)
        w = int(a["pair_window"][i])
        feats.append(a["window_features"][wo[w]:wo[w + 1]].astype(np.float32))
        dances.append(metric.embed_dance(p.motion))
        h = p.motion.num_frames // 2
        halves[0].append(metric.embed_dance(p.motion.frames(0, h)))
        halves[1].append(metric.embed_dance(p.motion.frames(h, p.motion.num_frames)))
    N = len(val)
    M = np.stack([metric.embed_music(f, corpus.fps) for f in feats])
    D = np.stack(dances)
    sim = M @ D.T
    rank = (sim > np.diag(sim)[:, None]).sum(1)  # 0 = own dance is the nearest
    hs = np.stack(halves[0]) @ np.stack(halves[1]).T
    np.fill_diagonal(hs, -np.inf)  # other pairs only: the nearest should be the same take
    take = np.array([a["pair_take"][i] for i in val])
    same_take = take[:, None] == take[None]
    same = float(np.mean(same_take[np.arange(N), np.argmax(hs, 1)]))
    same_chance = float(np.mean((same_take.sum(1) - 1) / (N - 1)))
    # the metric's mechanism: retrieved training dance vs the median training window
    wins = 0
    for f, d in zip(feats, D):
        k = metric.retrieve(f, corpus.fps)
        dist = np.array([np.min(np.sum((dd - d) ** 2, 1)) for dd in metric._dance_dict])
        wins += dist[k] < np.median(dist)
    return {
        "windows": N, "split": "val", "dictionary_windows": metric.dictionary_size,
        "dance_same_take_top1": same, "dance_same_take_chance": same_chance,
        "music_to_dance_top1": float(np.mean(rank == 0)), "music_to_dance_top5": float(np.mean(rank < 5)),
        "music_to_dance_top1_chance": 1.0 / N, "music_to_dance_top5_chance": min(1.0, 5.0 / N),
        "music_to_dance_median_rank": float(np.median(rank) + 1), "median_rank_chance": (N + 1) / 2,
        "metric_retrieval": wins / N, "metric_retrieval_chance": 0.5,
    }


def register_shipped(out: Path, report: dict) -> dict:
    """Register ``out`` (a file in weights/) as the shipped cross-modal metric."""
    from ..models.weights import register_weights

    h = report["heldout"]
    about = ("cross-modal metric embeddings (Ren et al. §6.3.2): music and pose-metric MLPs, contrastive on "
             "the corpus train split; ")
    if "dance_same_take_top1" in h:
        about += (f"val same-take {h['dance_same_take_top1']:.2f} (chance {h['dance_same_take_chance']:.2f}), "
                  f"music→dance median rank {h['music_to_dance_median_rank']:.0f} "
                  f"(chance {h['median_rank_chance']:.0f})")
    else:  # a corpus without a val split: nothing held out to quote
        about += h.get("note", "no held-out evaluation")
    return register_weights(X.NAME, out, about)
