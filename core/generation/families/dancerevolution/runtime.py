"""numpy forward pass of :class:`choreo.core.models.dancerevolution.DanceRevolution`, streaming.

Runs the trained model from the tensors of a weights file without torch (the
Blender add-on has numpy only), over a song of any length in bounded memory:

- **local attention** (frame ``i`` sees ``i ± window``): the encoder runs chunk by
  chunk (:data:`CHUNK` frames). A chunk's outputs after ``layers`` layers depend on
  the inputs ``layers × window`` frames either side, so each chunk reads that much
  more and every layer computes ``window`` fewer frames at each inner edge; the
  chunk's own frames then equal the whole-sequence computation (to float32
  rounding). Inside a layer, :data:`BLOCK` queries at a time attend in one matmul
  to their ``BLOCK + 2 window`` keys, the band and the relative-position bias
  being one constant (heads, BLOCK, BLOCK + 2 window) matrix with -inf off the band.
- **global attention**: layer by layer over the whole song, queries in chunks
  (their score rows at most :data:`SCORE_BYTES`); the bias rows are views of one
  (heads, 2T - 1) line, so no (T, T) array is ever made.
- **decoder**: the LSTM steps frame by frame, fed its own previous output (zeros
  at frame 0). The encoder's share of the first layer's gates is one matmul per
  chunk; a step is one small matmul per layer and the output Linear. Gates are
  reordered (i, f, o, g) and the sigmoid ones pre-scaled by ½ (exact in binary
  floating point), so one ``tanh`` over all four gives them all:
  ``sigmoid(z) = ½ tanh(z / 2) + ½``.

Memory is the song's music features and outputs (O(T)) plus one chunk's
activations, whatever the song's length. Everything is float32.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from ....models.config import N_MUSIC, DRConfig, check_settings
from ....progress import ProgressFn, report
from .. import check_tensors

#: Frames the local encoder computes at once (and the decoder's input projection).
CHUNK = 1024
#: Queries of one local-attention matmul: their keys are BLOCK + 2 window frames.
BLOCK = 64
#: Global attention: bytes of one query chunk's scores.
SCORE_BYTES = 1 << 24
LN_EPS = 1e-5


def expected_shapes(cfg: DRConfig) -> dict[str, tuple[int, ...]]:
    """Tensor name → shape of a :class:`DanceRevolution` built from ``cfg`` (its ``state_dict``)."""
    d, D, Hd, M = cfg.d_model, cfg.pose_dim, cfg.dec_hidden, cfg.music_dim
    shapes: dict[str, tuple[int, ...]] = {
        "music_mean": (M,), "music_std": (M,), "norm_mean": (D,), "norm_std": (D,), "energy_stats": (2,),
        "inp.weight": (d, M + cfg.cond_dim), "inp.bias": (d,)}
    for i in range(cfg.layers):
        p = f"layers.{i}."
        shapes.update({p + "norm1.weight": (d,), p + "norm1.bias": (d,), p + "norm2.weight": (d,),
                       p + "norm2.bias": (d,), p + "qkv.weight": (3 * d, d), p + "qkv.bias": (3 * d,),
                       p + "proj.weight": (d, d), p + "proj.bias": (d,), p + "rel": (cfg.heads, 2 * cfg.window + 1),
                       p + "ff1.weight": (cfg.ff, d), p + "ff1.bias": (cfg.ff,), p + "ff2.weight": (d, cfg.ff),
                       p + "ff2.bias": (d,)})
    shapes.update({"norm.weight": (d,), "norm.bias": (d,)})
    for i in range(cfg.dec_layers):
        shapes.update({f"decoder.weight_ih_l{i}": (4 * Hd, d + D if i == 0 else Hd),
                       f"decoder.weight_hh_l{i}": (4 * Hd, Hd),
                       f"decoder.bias_ih_l{i}": (4 * Hd,), f"decoder.bias_hh_l{i}": (4 * Hd,)})
    shapes.update({"out.weight": (D, Hd), "out.bias": (D,)})
    return shapes


#: Sane bounds of the config's numbers (inclusive); anything outside is a broken file.
CONFIG_RANGES = {"fps": (1.0, 1000.0), "sample_rate": (1000, 384000), "noise_period": (1e-3, 3600.0)}


def check_config(cfg: DRConfig) -> None:
    """Raise ValueError unless every number of ``cfg`` is usable (see
    :func:`~choreo.core.models.config.check_settings`) and its music is the 438 features."""
    check_settings(cfg, CONFIG_RANGES, {"music_dim": 1, "noise_dim": 0, "d_model": 1, "layers": 1, "heads": 1,
                                        "ff": 1, "window": 0, "dec_hidden": 1, "dec_layers": 1})
    if cfg.music_dim != N_MUSIC:
        raise ValueError(f"music_dim must be {N_MUSIC} (the music features), got {cfg.music_dim}")


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    xc = x - x.mean(-1, keepdims=True)
    var = np.mean(xc * xc, -1, keepdims=True)
    xc /= np.sqrt(var + np.float32(LN_EPS))
    xc *= w
    xc += b
    return xc


def _gates(w: np.ndarray, b_ih: np.ndarray | None, b_hh: np.ndarray | None, Hd: int):
    """torch's (4Hd, …) gate rows (i, f, g, o) as (…, 4Hd) columns (i, f, o, g), the
    sigmoid gates' halved (see the module docstring)."""
    order = np.r_[0:2 * Hd, 3 * Hd:4 * Hd, 2 * Hd:3 * Hd]
    scale = np.ones(4 * Hd, np.float32)
    scale[:3 * Hd] = 0.5
    mat = np.ascontiguousarray(w[order].T * scale)
    return mat if b_ih is None else (mat, (b_ih + b_hh)[order] * scale)


class DRRuntime:
    """Dance Revolution's forward pass in numpy, from the ``state_dict``-named ``tensors`` of
    a weights file (:func:`~choreo.core.models.weights.load_weights`) made with ``cfg``;
    one missing, misshapen or not finite is a :class:`ChoreoInputError` naming ``name``."""

    def __init__(self, tensors: dict[str, np.ndarray], cfg: DRConfig, name: str = "weights"):
        check_tensors(tensors, expected_shapes(cfg), name)
        self.cfg, self.name, self.meta = cfg, str(name), {}
        t = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}
        d, H, w = cfg.d_model, cfg.heads, cfg.window
        self.music_mean, self.music_std = t["music_mean"], t["music_std"]
        self.norm_mean, self.norm_std, self.energy_stats = t["norm_mean"], t["norm_std"], t["energy_stats"]
        self.inp_w = np.ascontiguousarray(t["inp.weight"].T)  # (M + cond, d)
        self.inp_b = t["inp.bias"]
        # 1/sqrt(head size) folded into the query columns
        qscale = np.ones(3 * d, np.float32)
        qscale[:d] = 1.0 / np.sqrt(d // H)
        a = np.arange(BLOCK)[:, None]
        off = np.arange(BLOCK + 2 * w)[None, :] - a  # key b of block query a: offset b - w - a, index b - a
        inside = (off >= 0) & (off <= 2 * w)
        self.layers = []
        for i in range(cfg.layers):
            p = f"layers.{i}."
            rel = t[p + "rel"]
            band = np.where(inside[None], rel[:, np.clip(off, 0, 2 * w)], -np.inf).astype(np.float32)
            self.layers.append(dict(
                n1=(t[p + "norm1.weight"], t[p + "norm1.bias"]), n2=(t[p + "norm2.weight"], t[p + "norm2.bias"]),
                qkv=(np.ascontiguousarray(t[p + "qkv.weight"].T * qscale), t[p + "qkv.bias"] * qscale),
                proj=(np.ascontiguousarray(t[p + "proj.weight"].T), t[p + "proj.bias"]),
                ff1=(np.ascontiguousarray(t[p + "ff1.weight"].T), t[p + "ff1.bias"]),
                ff2=(np.ascontiguousarray(t[p + "ff2.weight"].T), t[p + "ff2.bias"]), rel=rel, band=band))
        self.norm = (t["norm.weight"], t["norm.bias"])
        Hd = cfg.dec_hidden
        w_ih0 = t["decoder.weight_ih_l0"]  # (4Hd, d + D): the code's columns, then the previous pose's
        self.dec_code, self.dec_bias0 = _gates(w_ih0[:, :d], t["decoder.bias_ih_l0"], t["decoder.bias_hh_l0"], Hd)
        # per layer: [its input; its own state] stacked, so a step is one matmul of [input, h]
        self.dec = [np.concatenate([_gates(w_ih0[:, d:], None, None, Hd),
                                    _gates(t["decoder.weight_hh_l0"], None, None, Hd)])]
        self.dec_bias = [None]
        for i in range(1, cfg.dec_layers):
            mat, bias = _gates(t[f"decoder.weight_ih_l{i}"], t[f"decoder.bias_ih_l{i}"], t[f"decoder.bias_hh_l{i}"],
                               Hd)
            self.dec.append(np.concatenate([mat, _gates(t[f"decoder.weight_hh_l{i}"], None, None, Hd)]))
            self.dec_bias.append(bias)
        self.out_w, self.out_b = np.ascontiguousarray(t["out.weight"].T), t["out.bias"]

    # -- encoder -----------------------------------------------------------------
    def _inputs(self, music: np.ndarray, cond: np.ndarray) -> np.ndarray:
        """(n, d_model) first activations of raw music features and conditioning rows."""
        x = np.concatenate([(np.asarray(music, np.float32) - self.music_mean) / self.music_std,
                            np.asarray(cond, np.float32)], axis=1)
        y = x @ self.inp_w
        y += self.inp_b
        return y

    def _qkv(self, L: dict, x: np.ndarray):
        """Heads' (H, n, dh) queries (pre-scaled), keys and values of activations ``x``."""
        H = self.cfg.heads
        n, d = x.shape
        y = _layer_norm(x, *L["n1"]) @ L["qkv"][0]
        y += L["qkv"][1]
        y = y.reshape(n, 3, H, d // H).transpose(1, 2, 0, 3)
        return y[0], np.ascontiguousarray(y[1]), np.ascontiguousarray(y[2])

    def _finish(self, L: dict, x: np.ndarray, att: np.ndarray) -> np.ndarray:
        """Residual of the attention heads ``att`` (n, d) onto ``x``, then the feed-forward's."""
        y = att @ L["proj"][0]
        y += L["proj"][1]
        x = x + y
        h = _layer_norm(x, *L["n2"]) @ L["ff1"][0]
        h += L["ff1"][1]
        np.maximum(h, 0, out=h)
        y = h @ L["ff2"][0]
        y += L["ff2"][1]
        x += y
        return x

    def _local_layer(self, L: dict, x: np.ndarray, x0: int, q0: int, q1: int) -> np.ndarray:
        """One local layer: outputs of frames ``q0 .. q1 - 1`` from activations ``x`` of frames
        ``x0 .. x0 + len(x) - 1``, which hold every key those frames see (or the sequence ends)."""
        w = self.cfg.window
        x1 = x0 + len(x)
        q, k, v = self._qkv(L, x)
        att = np.empty((q1 - q0, self.cfg.d_model), np.float32)
        for b0 in range(q0, q1, BLOCK):
            b1 = min(q1, b0 + BLOCK)
            k0, k1 = max(x0, b0 - w), min(x1, b1 + w)
            s = q[:, b0 - x0:b1 - x0] @ k[:, k0 - x0:k1 - x0].transpose(0, 2, 1)
            s += L["band"][:, :b1 - b0, k0 - (b0 - w):k1 - (b0 - w)]
            att[b0 - q0:b1 - q0] = self._softmax_heads(s, v[:, k0 - x0:k1 - x0])
        return self._finish(L, x[q0 - x0:q1 - x0], att)

    def _global_layer(self, L: dict, x: np.ndarray) -> np.ndarray:
        """One global layer over the whole sequence ``x``, queries in chunks."""
        T = len(x)
        w = self.cfg.window
        q, k, v = self._qkv(L, x)
        kt = k.transpose(0, 2, 1)
        # line[h, m] = rel[h, clip(m - (T - 1))]: query i's bias row is line[h, T - 1 - i:][:T]
        line = L["rel"][:, np.clip(np.arange(2 * T - 1) - (T - 1), -w, w) + w]
        rows = np.lib.stride_tricks.sliding_window_view(line, T, axis=1)  # (H, T, T) view, no copy
        step = max(1, SCORE_BYTES // (4 * self.cfg.heads * T))
        att = np.empty((T, self.cfg.d_model), np.float32)
        for c0 in range(0, T, step):
            c1 = min(T, c0 + step)
            s = q[:, c0:c1] @ kt
            s += rows[:, T - c1:T - c0][:, ::-1]
            att[c0:c1] = self._softmax_heads(s, v)
        return self._finish(L, x, att)

    @staticmethod
    def _softmax_heads(s: np.ndarray, v: np.ndarray) -> np.ndarray:
        """(n, H * dh): softmax(s) @ v of scores ``s`` (H, n, m) and values (H, m, dh), heads joined."""
        s -= s.max(-1, keepdims=True)
        np.exp(s, out=s)
        a = s @ v
        a /= s.sum(-1, keepdims=True)
        return a.transpose(1, 0, 2).reshape(a.shape[1], -1)

    def encode(self, music: np.ndarray, cond: np.ndarray, stop: int | None = None,
               chunk: int = CHUNK) -> Iterator[tuple[int, np.ndarray]]:
        """``(a, code)`` of consecutive chunks: the encoder's (n, d_model) output of frames
        ``a .. a + n - 1`` of the whole sequence of raw music features (T, 438) and
        conditioning (T, cond_dim), up to frame ``stop`` at least (None: T). The
        chunks are the same for any ``stop``, so their frames are the same bits."""
        T = len(music)
        stop = T if stop is None else min(int(stop), T)
        if self.cfg.attention == "global":
            x = self._inputs(music, cond)
            for L in self.layers:
                x = self._global_layer(L, x)
            x = _layer_norm(x, *self.norm)
            for a in range(0, stop, chunk):
                yield a, x[a:a + chunk]
            return
        reach = self.cfg.window
        n = len(self.layers)
        for a in range(0, stop, chunk):
            b = min(T, a + chunk)
            x0, x1 = max(0, a - n * reach), min(T, b + n * reach)
            x = self._inputs(music[x0:x1], cond[x0:x1])
            for i, L in enumerate(self.layers):
                left = n - 1 - i  # layers still to come: the frames they need either side
                q0, q1 = max(0, a - left * reach), min(T, b + left * reach)
                x, x0 = self._local_layer(L, x, x0, q0, q1), q0
            yield a, _layer_norm(x, *self.norm)

    # -- decoder -------------------------------------------------------------------
    def run(self, music: np.ndarray, cond: np.ndarray, frames: tuple[int, int] | None = None,
            chunk: int = CHUNK, progress: ProgressFn | None = None) -> np.ndarray:
        """Normalised poses (hi - lo, pose_dim) of frames ``frames = (lo, hi)`` (None: all)
        of the sequence: the decoder runs from frame 0, so they are the whole sequence's there."""
        T = len(music)
        lo, hi = (0, T) if frames is None else (int(frames[0]), int(frames[1]))
        D, Hd = self.cfg.pose_dim, self.cfg.dec_hidden
        n = len(self.dec)
        out = np.empty((max(hi - lo, 0), D), np.float32)
        # buf[0] = [previous pose, h_0]; buf[i] = [h_(i-1), h_i]: each layer's matmul input
        buf = [np.zeros(D + Hd, np.float32)] + [np.zeros(2 * Hd, np.float32) for _ in range(1, n)]
        h = [b[-Hd:] for b in buf]
        prev = buf[0][:D]
        c = np.zeros((n, Hd), np.float32)
        g = np.empty(4 * Hd, np.float32)
        tmp = np.empty(Hd, np.float32)
        sig = g[:3 * Hd]
        gi, gf, go, gg = g[:Hd], g[Hd:2 * Hd], g[2 * Hd:3 * Hd], g[3 * Hd:]
        for a, code in self.encode(music, cond, hi, chunk):
            gates0 = code @ self.dec_code
            gates0 += self.dec_bias0
            for t in range(a, min(a + len(code), hi)):
                for i in range(n):
                    if i:
                        buf[i][:Hd] = h[i - 1]
                    np.matmul(buf[i], self.dec[i], out=g)
                    g += gates0[t - a] if i == 0 else self.dec_bias[i]
                    np.tanh(g, out=g)
                    sig *= 0.5
                    sig += 0.5
                    c[i] *= gf
                    np.multiply(gi, gg, out=tmp)
                    c[i] += tmp
                    np.tanh(c[i], out=tmp)
                    np.multiply(go, tmp, out=h[i])
                np.matmul(h[-1], self.out_w, out=prev)
                prev += self.out_b
                if t >= lo:
                    out[t - lo] = prev
            report(progress, min(a + len(code), hi) / max(hi, 1), "decoder")
        return out

    def denormalize(self, x: np.ndarray) -> np.ndarray:
        return x * self.norm_std + self.norm_mean
