"""numpy forward pass of :class:`choreo.core.models.generator.DanceGenerator`.

Runs the trained generator from the tensors of a weights file without torch
(the Blender add-on has numpy only). Same parameter names and equations as
torch: ``Conv1d`` as strided im2col + one matmul, LeakyReLU 0.2, a
bidirectional multi-layer GRU with torch's gate order (r, z, n) and
``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, and the MLP. Everything is
float32.

Speed: the audio encoder is per frame, so :meth:`GeneratorRuntime.encode`
runs once over a song's frames (in chunks, so a long song's 0.1 s pieces are
never all in memory) and windows reuse the codes; the GRU's sequential loop
runs once over the window length for all windows at once, both directions in
one batched matmul per step.
"""

from __future__ import annotations

import numpy as np

from ....models.config import GeneratorConfig, check_settings, is_count
from .. import check_tensors

LEAK = 0.2
#: Frames of audio pieces encoded at once (bounds the im2col buffers to ~30 MB).
ENCODE_CHUNK = 1024


def expected_shapes(cfg: GeneratorConfig) -> dict[str, tuple[int, ...]]:
    """Tensor name → shape of a :class:`DanceGenerator` built from ``cfg``
    (torch's ``state_dict`` names)."""
    shapes: dict[str, tuple[int, ...]] = {}
    chans = (1,) + tuple(cfg.enc_channels)
    for i, k in enumerate(cfg.enc_kernels):
        shapes[f"encoder.convs.{i}.weight"] = (chans[i + 1], chans[i], k)
        shapes[f"encoder.convs.{i}.bias"] = (chans[i + 1],)
    shapes["encoder.proj.weight"] = (cfg.enc_dim, chans[-1] * cfg.encoder_lengths()[-1])
    shapes["encoder.proj.bias"] = (cfg.enc_dim,)
    H = cfg.hidden
    for layer in range(cfg.gru_layers):
        n_in = cfg.enc_dim + cfg.cond_dim if layer == 0 else 2 * H
        for sfx in ("", "_reverse"):
            shapes[f"gru.weight_ih_l{layer}{sfx}"] = (3 * H, n_in)
            shapes[f"gru.weight_hh_l{layer}{sfx}"] = (3 * H, H)
            shapes[f"gru.bias_ih_l{layer}{sfx}"] = (3 * H,)
            shapes[f"gru.bias_hh_l{layer}{sfx}"] = (3 * H,)
    dims = (2 * H, cfg.mlp_hidden, cfg.mlp_hidden, cfg.pose_dim)
    for i, idx in enumerate((0, 2, 4)):
        shapes[f"mlp.{idx}.weight"] = (dims[i + 1], dims[i])
        shapes[f"mlp.{idx}.bias"] = (dims[i + 1],)
    shapes["norm_mean"] = (cfg.pose_dim,)
    shapes["norm_std"] = (cfg.pose_dim,)
    shapes["energy_stats"] = (2,)
    return shapes


def _leaky(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, x * np.float32(LEAK), out=x)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # tanh form: no overflow warnings for large |x|
    return np.float32(0.5) * (np.tanh(np.float32(0.5) * x) + np.float32(1.0))


class GeneratorRuntime:
    """The generator's forward pass in numpy.

    Parameters
    ----------
    tensors : dict of str to np.ndarray
        ``state_dict``-named tensors (from :func:`choreo.core.models.weights.load_weights`).
    cfg : GeneratorConfig
    name : str
        Shown in error messages (the weights file).

    Raises
    ------
    ChoreoInputError
        If a tensor is missing, has the wrong shape or holds NaN/inf.
    """

    def __init__(self, tensors: dict[str, np.ndarray], cfg: GeneratorConfig, name: str = "weights"):
        self.cfg = cfg
        self.name = str(name)
        check_tensors(tensors, expected_shapes(cfg), name)
        t = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}
        # Convs as (C_in * k, C_out) matrices acting on channels-last im2col rows.
        self.convs = []
        for i, (k, s) in enumerate(zip(cfg.enc_kernels, cfg.enc_strides)):
            w = t[f"encoder.convs.{i}.weight"]  # (out, in, k)
            mat = np.ascontiguousarray(w.transpose(1, 2, 0).reshape(-1, w.shape[0]))  # rows: (in, k)
            self.convs.append((mat, t[f"encoder.convs.{i}.bias"], k, s))
        # torch flattens (N, C, L) channel-major; our activations are (N, L, C).
        pw = t["encoder.proj.weight"]
        c_last, l_last = cfg.enc_channels[-1], cfg.encoder_lengths()[-1]
        self.proj_w = np.ascontiguousarray(pw.reshape(-1, c_last, l_last).transpose(2, 1, 0).reshape(-1, pw.shape[0]))
        self.proj_b = t["encoder.proj.bias"]
        self.gru = []
        for layer in range(cfg.gru_layers):
            names = [(f"l{layer}{sfx}") for sfx in ("", "_reverse")]
            w_ih = np.concatenate([t[f"gru.weight_ih_{n}"].T for n in names], axis=1)  # (I, 6H)
            b_ih = np.concatenate([t[f"gru.bias_ih_{n}"] for n in names])
            w_hh = np.stack([t[f"gru.weight_hh_{n}"].T for n in names])  # (2, H, 3H)
            b_hh = np.stack([t[f"gru.bias_hh_{n}"] for n in names])[:, None, :]  # (2, 1, 3H)
            self.gru.append((np.ascontiguousarray(w_ih), b_ih, np.ascontiguousarray(w_hh), b_hh))
        self.mlp = [(np.ascontiguousarray(t[f"mlp.{i}.weight"].T), t[f"mlp.{i}.bias"]) for i in (0, 2, 4)]
        self.norm_mean = t["norm_mean"]
        self.norm_std = t["norm_std"]
        self.energy_stats = t["energy_stats"]
        self.meta: dict = {}

    # -- audio encoder ---------------------------------------------------------
    def encode(self, pieces: np.ndarray) -> np.ndarray:
        """(N, piece_samples) audio pieces → (N, enc_dim) float32 codes, in chunks."""
        pieces = np.asarray(pieces, dtype=np.float32)
        out = np.empty((len(pieces), self.cfg.enc_dim), np.float32)
        for a in range(0, len(pieces), ENCODE_CHUNK):
            out[a:a + ENCODE_CHUNK] = self._encode_chunk(pieces[a:a + ENCODE_CHUNK])
        return out

    def _encode_chunk(self, pieces: np.ndarray) -> np.ndarray:
        x = pieces[:, :, None]  # (N, L, C=1)
        for mat, bias, k, s in self.convs:
            win = np.lib.stride_tricks.sliding_window_view(x, k, axis=1)[:, ::s]  # (N, L', C, k)
            n, l_out = win.shape[:2]
            y = win.reshape(n * l_out, -1) @ mat  # im2col copy + one matmul
            y += bias
            x = _leaky(y).reshape(n, l_out, -1)
        y = x.reshape(len(x), -1) @ self.proj_w
        y += self.proj_b
        return _leaky(y)

    # -- sequence model ----------------------------------------------------------
    def gru_forward(self, x: np.ndarray) -> np.ndarray:
        """(B, T, I) → (B, T, 2H): the bidirectional multi-layer GRU from zero state."""
        H = self.cfg.hidden
        x = np.asarray(x, dtype=np.float32)
        B, T, _ = x.shape
        for w_ih, b_ih, w_hh, b_hh in self.gru:
            gi = x.reshape(B * T, -1) @ w_ih
            gi += b_ih
            gi = gi.reshape(B, T, 2, 3 * H)
            out = np.empty((B, T, 2, H), np.float32)
            h = np.zeros((2, B, H), np.float32)
            for step in range(T):
                tf, tb = step, T - 1 - step
                g_in = np.stack([gi[:, tf, 0], gi[:, tb, 1]])  # (2, B, 3H)
                gh = np.matmul(h, w_hh)
                gh += b_hh
                rz = _sigmoid(g_in[..., :2 * H] + gh[..., :2 * H])
                r, z = rz[..., :H], rz[..., H:]
                n = np.tanh(g_in[..., 2 * H:] + r * gh[..., 2 * H:])
                h = n + z * (h - n)  # (1 - z) * n + z * h
                out[:, tf, 0] = h[0]
                out[:, tb, 1] = h[1]
            x = out.reshape(B, T, 2 * H)
        return x

    def mlp_forward(self, h: np.ndarray) -> np.ndarray:
        """(…, 2H) GRU states → (…, pose_dim) normalised pose features."""
        lead = h.shape[:-1]
        y = h.reshape(-1, h.shape[-1])
        for i, (w, b) in enumerate(self.mlp):
            y = y @ w
            y += b
            if i < len(self.mlp) - 1:
                y = _leaky(y)
        return y.reshape(*lead, -1)

    def sequence(self, code: np.ndarray, cond: np.ndarray) -> np.ndarray:
        """(B, T, enc_dim) codes + (B, T, cond_dim) conditioning → (B, T, pose_dim), normalised."""
        x = np.concatenate([np.asarray(code, np.float32), np.asarray(cond, np.float32)], axis=-1)
        return self.mlp_forward(self.gru_forward(x))

    def forward(self, pieces: np.ndarray, cond: np.ndarray) -> np.ndarray:
        """Same as ``DanceGenerator.forward``: (B, T, P) pieces, (B, T, cond_dim) → (B, T, pose_dim)."""
        B, T, P = pieces.shape
        code = self.encode(np.asarray(pieces, np.float32).reshape(B * T, P)).reshape(B, T, -1)
        return self.sequence(code, cond)

    def denormalize(self, x: np.ndarray) -> np.ndarray:
        return x * self.norm_std + self.norm_mean


#: Sane bounds of a generator config's numbers (inclusive); anything outside is a broken file.
CONFIG_RANGES = {"fps": (1.0, 1000.0), "sample_rate": (1000, 384000), "piece_seconds": (1e-3, 10.0),
                 "noise_period": (1e-3, 3600.0)}


def check_config(cfg: GeneratorConfig) -> None:
    """Raise ValueError unless every number of ``cfg`` is usable: finite, in
    :data:`CONFIG_RANGES`, layer sizes positive integers (noise_dim may be 0), one
    kernel and stride per encoder channel; the encoder must fit the audio piece."""
    check_settings(cfg, CONFIG_RANGES, {"enc_dim": 1, "hidden": 1, "gru_layers": 1, "mlp_hidden": 1, "noise_dim": 0})
    layers = (cfg.enc_channels, cfg.enc_kernels, cfg.enc_strides)
    if not all(isinstance(t, tuple) and t and all(is_count(x) for x in t) for t in layers) \
            or len({len(t) for t in layers}) != 1:
        raise ValueError(f"enc_channels, enc_kernels and enc_strides must be equally long lists of positive "
                         f"integers, got {list(cfg.enc_channels)}, {list(cfg.enc_kernels)}, {list(cfg.enc_strides)}")
    cfg.encoder_lengths()
