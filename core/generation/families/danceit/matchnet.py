"""numpy forward pass of DanceIt's MatchNet (:class:`choreo.core.models.matchnet.MatchNet`).

Embeds batches of audio clips (Bi-LSTM over MFCC) and pose fragments (ST-GCN over
local joints) without torch, fast enough to embed a whole motion library at load:

- ST-GCN, channels last (N, T, 24, C): each block's graph step aggregates the
  joints first (one matmul with the (24, K·24) adjacency × edge importance), then
  one matmul mixes the K·C_in channels (cheaper than the 1×1 conv first while
  C_in ≤ C_out); the temporal conv is a sum over its kernel taps of strided
  time slices times a (C, C) matrix. Every BatchNorm (inference: running
  statistics) is folded into the weights before it, at load.
- Bi-LSTM: the input projection of every frame of every clip in one matmul, then
  one (N, H) × (H, 4H) matmul per frame and direction for all clips at once.

Clips of one call share a length; group fragments by length to embed them.
"""

from __future__ import annotations

import os

import numpy as np

from .... import skeleton as sk
from ....errors import ChoreoInputError
from ....models.matchnet_config import MatchNetConfig, check_config_values

BN_EPS = 1e-5
#: Clips per ST-GCN pass: bounds the activations' memory (~50 MB at 4 s) and keeps them in cache longer.
POSE_BATCH = 64
V = sk.NUM_JOINTS


def expected_shapes(cfg: MatchNetConfig) -> dict[str, tuple[int, ...]]:
    """Tensor name → shape of a :class:`MatchNet` built from ``cfg`` (its ``state_dict``,
    without BatchNorm's ``num_batches_tracked`` counters, which inference never reads)."""
    H, M, E = cfg.audio_hidden, cfg.audio_dim, cfg.embed
    K = 3 if cfg.partition == "spatial" else 1
    shapes: dict[str, tuple[int, ...]] = {"audio_mean": (M,), "audio_std": (M,), "pose_mean": (6, 1, V),
                                          "pose_std": (6, 1, V)}
    for layer in range(cfg.audio_layers):
        for sfx in ("", "_reverse"):
            shapes.update({f"lstm.weight_ih_l{layer}{sfx}": (4 * H, M if layer == 0 else 2 * H),
                           f"lstm.weight_hh_l{layer}{sfx}": (4 * H, H),
                           f"lstm.bias_ih_l{layer}{sfx}": (4 * H,), f"lstm.bias_hh_l{layer}{sfx}": (4 * H,)})
    S = cfg.time_segments
    shapes.update({"audio_fc.weight": (E, 2 * H * S), "audio_fc.bias": (E,)})
    c = 6
    kt = cfg.temporal_kernel
    for i, (co, s) in enumerate(zip(cfg.pose_channels, cfg.pose_strides)):
        p = f"pose_blocks.{i}."
        shapes.update({p + "A": (K, V, V), p + "importance": (K, V, V), p + "gcn.weight": (co * K, c, 1, 1),
                       p + "gcn.bias": (co * K,), p + "tcn.weight": (co, co, kt, 1), p + "tcn.bias": (co,)})
        for bn in ("bn1", "bn2") + (("res.1",) if i > 0 and (c != co or s != 1) else ()):
            shapes.update({f"{p}{bn}.{k}": (co,) for k in ("weight", "bias", "running_mean", "running_var")})
        if i > 0 and (c != co or s != 1):
            shapes.update({p + "res.0.weight": (co, c, 1, 1), p + "res.0.bias": (co,)})
        c = co
    shapes.update({"pose_fc.weight": (E, c * S), "pose_fc.bias": (E,)})
    return shapes


def check_config(cfg: MatchNetConfig) -> None:
    """Raise ValueError unless ``cfg``'s settings are usable."""
    check_config_values(cfg)


def check_matchnet_tensors(tensors: dict, cfg: MatchNetConfig, name: str | os.PathLike) -> None:
    """:class:`ChoreoInputError` naming ``name`` unless ``tensors`` hold every tensor of
    :func:`expected_shapes` with its shape, finite, with positive stds and variances."""
    want = expected_shapes(cfg)
    missing = [k for k in want if k not in tensors]
    if missing:
        shown = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
        raise ChoreoInputError(name, f"not MatchNet weights: missing tensor(s) {shown}")
    wrong = [f"{k} {tuple(np.shape(tensors[k]))} (expected {want[k]})" for k in want
             if tuple(np.shape(tensors[k])) != want[k]]
    if wrong:
        raise ChoreoInputError(name, f"MatchNet weights do not match their config: {'; '.join(wrong[:3])}")
    bad = [k for k in want if not np.all(np.isfinite(tensors[k]))]
    if bad:
        raise ChoreoInputError(name, f"MatchNet weights hold NaN or infinite values ({', '.join(bad[:3])})")
    if any(np.any(np.asarray(tensors[k]) <= 0) for k in want if k.endswith(("_std", "running_var"))):
        raise ChoreoInputError(name, "MatchNet weights' normalisation statistics are not positive")


def tempo_bands(n_bands: int) -> list[tuple[int, int]]:
    """(first, end) tempogram columns of ``n_bands`` log-spaced bands of beat periods 0.25–2 s
    (the tempogram's lag k is k·hop/sr seconds, :mod:`choreo.core.audio.features`)."""
    from ....audio.features import TEMPOGRAM_BINS, TEMPOGRAM_HOP
    from ....audio.io import DEFAULT_SR

    lag = TEMPOGRAM_HOP / DEFAULT_SR
    edges = np.geomspace(0.25, 2.0, n_bands + 1) / lag
    k = np.clip(np.round(edges).astype(int), 1, TEMPOGRAM_BINS)
    return [(int(a), int(max(b, a + 1))) for a, b in zip(k[:-1], k[1:])]


def audio_input(music_features: np.ndarray, cfg: MatchNetConfig | None = None) -> np.ndarray:
    """(T, audio_dim) float32 of (T, 438) music features (:mod:`choreo.core.audio.features`):
    the first ``n_mfcc`` MFCCs; with ``audio_features`` "mfcc+rhythm" also the onset-strength
    and beat columns; with "mfcc+rhythm+tempo" also the tempogram's mean over each of
    :data:`~choreo.core.models.matchnet_config.TEMPO_BANDS` bands (:func:`tempo_bands`)."""
    from ....audio.features import COLUMNS, N_FEATURES
    from ....models.matchnet_config import TEMPO_BANDS

    cfg = cfg or MatchNetConfig()
    n = cfg.n_mfcc
    f = np.asarray(music_features)
    cols = np.arange(N_FEATURES)[COLUMNS["mfcc"]]
    if f.ndim != 2 or f.shape[1] != N_FEATURES:
        raise ChoreoInputError("music features", f"expected (frames, {N_FEATURES}) music features, got {f.shape}")
    if n > len(cols):
        raise ChoreoInputError("music features", f"{n} MFCCs asked, the features have {len(cols)}")
    parts = [f[:, cols[:n]]]
    if "rhythm" in cfg.audio_features:
        parts += [f[:, COLUMNS["onset"]], f[:, COLUMNS["beat"]]]
    if "tempo" in cfg.audio_features:
        tg = f[:, COLUMNS["tempogram"]].astype(np.float32)
        parts.append(np.stack([tg[:, a:b].mean(1) for a, b in tempo_bands(TEMPO_BANDS)], axis=1))
    return np.ascontiguousarray(np.concatenate(parts, axis=1), dtype=np.float32)


def pose_input(motion) -> np.ndarray:
    """(T, 24, 3) float32 local joints (pelvis-floor-relative, heading frame) of a
    :class:`~choreo.core.motion.Motion` or its (T, 24, 3) world joints at 30 fps."""
    from ....models.representation import encode_3d, local_joints_3d
    from ....motion import Motion

    if not isinstance(motion, Motion):
        j = np.asarray(motion, np.float32)
        if j.ndim != 3 or j.shape[1:] != (V, 3):
            raise ChoreoInputError("pose", f"expected (frames, {V}, 3) joints, got {j.shape}")
        motion = Motion(j, sk.FPS)
    elif abs(motion.fps - sk.FPS) > 1e-6:
        motion = motion.resample(sk.FPS)
    return local_joints_3d(encode_3d(motion)).astype(np.float32)


def _fold_bn(t: dict, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    """(scale, shift) of an inference BatchNorm."""
    scale = t[prefix + ".weight"] / np.sqrt(t[prefix + ".running_var"] + BN_EPS)
    return scale, t[prefix + ".bias"] - t[prefix + ".running_mean"] * scale


class _Block:
    """One ST-GCN block with its BatchNorms folded in (channels last)."""

    def __init__(self, t: dict, p: str, c_in: int, c_out: int, stride: int, kt: int, first: bool):
        A = t[p + "A"] * t[p + "importance"]                      # (K, V, W)
        K = len(A)
        self.M = np.ascontiguousarray(A.transpose(1, 0, 2).reshape(V, K * V))   # x (…, V) @ M → (…, K, W)
        wg = t[p + "gcn.weight"][:, :, 0, 0].reshape(K, c_out, c_in)            # (K, Cout, Cin)
        s1, b1 = _fold_bn(t, p + "bn1")
        self.Wg = np.ascontiguousarray(wg.transpose(0, 2, 1).reshape(K * c_in, c_out) * s1)
        bias = np.einsum("ko,kw->wo", t[p + "gcn.bias"].reshape(K, c_out), A.sum(1))  # bias spread over the graph
        self.bg = (bias * s1 + b1).astype(np.float32)                            # (W, Cout)
        s2, b2 = _fold_bn(t, p + "bn2")
        wt = t[p + "tcn.weight"][:, :, :, 0]                                      # (Cout, Cin, kt)
        self.Wt = np.ascontiguousarray((wt * s2[:, None, None]).transpose(2, 1, 0))  # (kt, Cin, Cout)
        self.bt = (t[p + "tcn.bias"] * s2 + b2).astype(np.float32)
        self.K, self.c_in, self.c_out, self.stride, self.kt = K, c_in, c_out, stride, kt
        self.res = None if first else "identity"
        if not first and (c_in != c_out or stride != 1):
            sr, br = _fold_bn(t, p + "res.1")
            self.Wr = np.ascontiguousarray((t[p + "res.0.weight"][:, :, 0, 0] * sr[:, None]).T)
            self.br = (t[p + "res.0.bias"] * sr + br).astype(np.float32)
            self.res = "conv"

    def __call__(self, x: np.ndarray) -> np.ndarray:  # (N, T, V, C)
        N, T, _, C = x.shape
        z = np.swapaxes(x, 2, 3) @ self.M                                # (N, T, C, K·W)
        z = z.reshape(N, T, C, self.K, V).transpose(0, 1, 4, 3, 2).reshape(N, T, V, self.K * C)
        y = z @ self.Wg
        y += self.bg
        np.maximum(y, 0.0, out=y)
        pad, s = (self.kt - 1) // 2, self.stride
        To = (T + 2 * pad - self.kt) // s + 1
        yp = np.zeros((N, T + 2 * pad, V, self.c_out), np.float32)
        yp[:, pad:pad + T] = y
        out = np.empty((N, To, V, self.c_out), np.float32)
        out[:] = self.bt
        for j in range(self.kt):
            out += yp[:, j:j + s * (To - 1) + 1:s] @ self.Wt[j]
        if self.res == "identity":
            out += x
        elif self.res == "conv":
            out += x[:, ::s][:, :To] @ self.Wr
            out += self.br
        return np.maximum(out, 0.0, out=out)


def segment_mean(h: np.ndarray, segments: int) -> np.ndarray:
    """(N, T, C) → (N, segments·C): the mean over each of ``segments`` parts of the T frames,
    part i frames floor(i·T/S) … ceil((i+1)·T/S) (torch's adaptive average pooling), segment-major."""
    N, T, C = h.shape
    if segments == 1:
        return h.mean(axis=1)
    parts = [h[:, (i * T) // segments:-((-(i + 1) * T) // segments)].mean(axis=1) for i in range(segments)]
    return np.concatenate(parts, axis=1)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * np.tanh(0.5 * x) + 0.5


class MatchNetRuntime:
    """MatchNet's two encoders from a weights file's tensors, numpy only.

    ``MatchNetRuntime(tensors, cfg, name)``: ``name`` (the file) is what a
    :class:`ChoreoInputError` about bad tensors names. :meth:`embed_audio` and
    :meth:`embed_pose` take batches of clips of one length; :meth:`distance` compares.
    """

    def __init__(self, tensors: dict[str, np.ndarray], cfg: MatchNetConfig, name: str | os.PathLike = "matchnet"):
        try:
            check_config(cfg)
        except ValueError as exc:
            raise ChoreoInputError(name, f"MatchNet config is unusable ({exc})") from None
        check_matchnet_tensors(tensors, cfg, name)
        t = {k: np.asarray(v, np.float32) for k, v in tensors.items() if k in expected_shapes(cfg)}
        self.cfg, self.name = cfg, str(name)
        self.audio_mean, self.audio_std = t["audio_mean"], t["audio_std"]
        H = cfg.audio_hidden
        self.lstm = []
        for layer in range(cfg.audio_layers):
            dirs = []
            for sfx in ("", "_reverse"):
                p = f"lstm.{{}}_l{layer}{sfx}"
                dirs.append((np.ascontiguousarray(t[p.format("weight_ih")].T),
                             np.ascontiguousarray(t[p.format("weight_hh")].T),
                             t[p.format("bias_ih")] + t[p.format("bias_hh")]))
            self.lstm.append(dirs)
        self.H = H
        self.audio_fc = (np.ascontiguousarray(t["audio_fc.weight"].T), t["audio_fc.bias"])
        self.pose_mean = t["pose_mean"].reshape(6, V).T.copy()          # (V, 6) channels last
        self.pose_std = t["pose_std"].reshape(6, V).T.copy()
        self.blocks, c = [], 6
        for i, (co, s) in enumerate(zip(cfg.pose_channels, cfg.pose_strides)):
            self.blocks.append(_Block(t, f"pose_blocks.{i}.", c, co, s, cfg.temporal_kernel, i == 0))
            c = co
        self.pose_fc = (np.ascontiguousarray(t["pose_fc.weight"].T), t["pose_fc.bias"])

    def _out(self, z: np.ndarray) -> np.ndarray:
        if self.cfg.normalize:
            z = z / np.maximum(np.linalg.norm(z, axis=-1, keepdims=True), 1e-8)
        return z.astype(np.float32)

    # -- audio ------------------------------------------------------------------
    def _direction(self, x: np.ndarray, w_ih, w_hh, b, reverse: bool) -> np.ndarray:
        N, T, _ = x.shape
        H = self.H
        gx = x @ w_ih + b                                      # (N, T, 4H): every frame at once
        h = np.zeros((N, H), np.float32)
        c = np.zeros((N, H), np.float32)
        out = np.empty((N, T, H), np.float32)
        for i in (range(T - 1, -1, -1) if reverse else range(T)):
            g = gx[:, i] + h @ w_hh
            ig, fg, og = _sigmoid(g[:, :H]), _sigmoid(g[:, H:2 * H]), _sigmoid(g[:, 3 * H:])
            c = fg * c + ig * np.tanh(g[:, 2 * H:3 * H])
            h = og * np.tanh(c)
            out[:, i] = h
        return out

    def embed_audio(self, mfcc: np.ndarray) -> np.ndarray:
        """(N, embed) float32 of (N, T, audio_dim) or one (T, audio_dim) clip's :func:`audio_input`."""
        x = np.asarray(mfcc, np.float32)
        one = x.ndim == 2
        x = x[None] if one else x
        if x.ndim != 3 or x.shape[-1] != self.cfg.audio_dim or x.shape[1] < 1:
            raise ChoreoInputError("audio", f"expected (clips, frames, {self.cfg.audio_dim}) audio inputs "
                                            f"({self.cfg.audio_features}), got {x.shape}")
        h = (x - self.audio_mean) / self.audio_std
        for dirs in self.lstm:
            h = np.concatenate([self._direction(h, *d, reverse=r) for d, r in zip(dirs, (False, True))], axis=-1)
        z = self._out(segment_mean(h, self.cfg.time_segments) @ self.audio_fc[0] + self.audio_fc[1])
        return z[0] if one else z

    # -- pose -------------------------------------------------------------------
    def embed_pose(self, local: np.ndarray) -> np.ndarray:
        """(N, embed) float32 of (N, T, 24, 3) or one (T, 24, 3) fragment's local joints."""
        x = np.asarray(local, np.float32)
        one = x.ndim == 3
        x = x[None] if one else x
        if x.ndim != 4 or x.shape[2:] != (V, 3) or x.shape[1] < 1:
            raise ChoreoInputError("pose", f"expected (fragments, frames, {V}, 3) joints, got {x.shape}")
        out = np.empty((len(x), self.cfg.embed), np.float32)
        for a in range(0, len(x), POSE_BATCH):
            out[a:a + POSE_BATCH] = self._pose(x[a:a + POSE_BATCH])
        return out[0] if one else out

    def _pose(self, x: np.ndarray) -> np.ndarray:
        vel = np.diff(x, axis=1, prepend=x[:, :1]) * np.float32(self.cfg.fps)
        h = (np.concatenate([x, vel], axis=-1) - self.pose_mean) / self.pose_std
        for block in self.blocks:
            h = block(h)
        return self._out(segment_mean(h.mean(axis=2), self.cfg.time_segments) @ self.pose_fc[0] + self.pose_fc[1])

    @staticmethod
    def distance(pose: np.ndarray, audio: np.ndarray) -> np.ndarray:
        """Euclidean distances, (P, A) between every pose and audio embedding (or broadcast)."""
        p, a = np.asarray(pose, np.float64), np.asarray(audio, np.float64)
        if p.ndim == 2 and a.ndim == 2:
            d2 = (p * p).sum(1)[:, None] + (a * a).sum(1)[None] - 2.0 * p @ a.T
            return np.sqrt(np.maximum(d2, 0.0))
        return np.sqrt(((p - a) ** 2).sum(-1))
