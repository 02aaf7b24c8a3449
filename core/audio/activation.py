"""Beat and downbeat activations: a small dilated convolution network on a log-mel spectrogram.

The network (a TCN in the manner of Böck & Davies 2019/2020) reads, every
23.2 ms frame (hop 512 at 22.05 kHz), a log-mel spectrogram and a chroma-gram
with their positive fluxes (one pass over one spectrogram), and answers for each frame the probability that a beat, and that a
downbeat, falls there. It is trained by ``choreo train --config
configs/beats.json`` (:mod:`choreo.core.training.beats`, torch) on the beat
set's train split (MMA groove files disjoint from the dev and test splits,
see ``docs/beatset.md``) and runs here on numpy alone, so the add-on and the
training see the very same features. The shipped weights are
``weights/beats.safetensors``.

Architecture (``forward``): per-feature standardisation; a 3-tap convolution
to ``channels``; residual blocks ``h += elu(conv3_d(h))`` with dilations
``1, 2, 4, ...`` (receptive field about 47 s at 10 blocks); a 1x1 convolution to
two logits (beat, downbeat).
"""

from __future__ import annotations

import functools
import os

import numpy as np

from ..models.tcn import conv1, conv3, elu
from . import spectral
from .beats import positive_flux

#: The network's sample rate, hop and frame rate (frames per second).
SR, HOP = 22050, 512
FPS = SR / HOP
N_FFT = 2048
N_MELS, FMIN = 80, 30.0
#: dB range kept below the loudest bin; the log-mel is scaled to [-1, 0].
TOP_DB = 80.0
#: Features per frame: the scaled log-mel and its positive flux (onsets), the
#: chroma (A440 tuning; each frame max-normalised) and its positive flux (chord changes).
N_INPUTS = 2 * N_MELS + 24
#: The chroma's columns in the input.
CHROMA = slice(2 * N_MELS, 2 * N_MELS + 12)
NAME = "beats"


def beat_input(y: np.ndarray, sr: int) -> np.ndarray:
    """Network input of mono audio ``y``: shape (frames, N_INPUTS), float32, one
    frame per ``HOP`` samples at ``SR`` (audio at another rate is resampled)."""
    y = np.asarray(y, dtype=np.float32).ravel()
    if sr != SR:
        from .resample import resample

        y = resample(y, sr, SR).astype(np.float32)
    S, C = spectral.mel_and_chroma(y, SR, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS, fmin=FMIN, fmax=SR / 2,
                                   tuning=0.0)
    ref = max(float(S.max()), 1e-10)  # silence stays finite
    L = spectral.power_to_db(S, ref=ref, top_db=TOP_DB) / TOP_DB
    # onsets, and new pitch classes
    return np.ascontiguousarray(np.concatenate([L, positive_flux(L), C, positive_flux(C)]).T, dtype=np.float32)


class BeatActivation:
    """The trained network (tensors named as the torch twin's ``state_dict``)."""

    def __init__(self, tensors: dict[str, np.ndarray], meta: dict):
        self.t = {k: np.asarray(v, np.float32) for k, v in tensors.items()}
        self.meta = meta
        self.n_blocks = int(meta["config"]["blocks"])

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> "BeatActivation":
        if path is None:
            return _shipped()
        from ..models.weights import load_weights

        return cls(*load_weights(path))

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Logits (T, 2) (beat, downbeat) of network input ``x`` (T, N_INPUTS)."""
        t = self.t
        h = (np.asarray(x, np.float32) - t["mean"]) / t["std"]
        h = elu(conv3(h, t["inp.weight"], t["inp.bias"], 1))
        for i in range(self.n_blocks):
            h = h + elu(conv3(h, t[f"blocks.{i}.weight"], t[f"blocks.{i}.bias"], 2 ** i))
        return conv1(h, t["out.weight"], t["out.bias"])

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """(T, 2) probabilities of a beat and of a downbeat in each frame of input ``x``."""
        z = self.forward(x)
        return (1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))).astype(np.float32)

    def __call__(self, y: np.ndarray, sr: int) -> np.ndarray:
        """:meth:`probabilities` of mono audio ``y``."""
        return self.probabilities(beat_input(y, sr))


@functools.lru_cache(maxsize=1)
def _shipped() -> BeatActivation:
    from ..models.weights import load_weights, shipped_path

    return BeatActivation(*load_weights(shipped_path(NAME)))
