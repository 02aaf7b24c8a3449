"""The pose perceptual loss of Ren et al. §4 (eq. 1).

L_P = Σ_l λ_l · mean |Φ_l(P) − Φ_l(G(M))|, where Φ_l is the l-th block of a
frozen, pre-trained ST-GCN (:mod:`choreo.core.models.stgcn`, weights made by
:mod:`.pretrain_stgcn`). The paper's λ = [20, 5, 1, 1, 1, 1, 1, 1] (§6.2) is cut
to the number of blocks. The L1 is a mean over elements so the loss does not
scale with batch size or clip length.
"""

from __future__ import annotations

import os

import torch
from torch import nn

from ..errors import ChoreoInputError
from ..models.stgcn import STGCN, STGCNConfig
from ..models.weights import load_weights, shipped_path

PAPER_LAYER_WEIGHTS = (20.0, 5.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)


def load_stgcn(path: str | os.PathLike | None = None) -> STGCN:
    """The ST-GCN in ``path`` (default: the shipped ``stgcn`` weights), frozen:
    eval mode, ``requires_grad`` False on every parameter."""
    path = shipped_path("stgcn") if path is None else path
    tensors, meta = load_weights(path)
    if meta.get("kind") != "stgcn":
        raise ChoreoInputError(path, f"holds {meta.get('kind')!r} weights, not an ST-GCN")
    try:
        model = STGCN(STGCNConfig.from_dict(meta["config"]))
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in tensors.items()})
    except (KeyError, ValueError, TypeError, RuntimeError) as exc:
        raise ChoreoInputError(path, f"ST-GCN weights do not match their config ({str(exc)[:200]})") from None
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


class PosePerceptualLoss(nn.Module):
    """Eq. 1 on a frozen ST-GCN; call with (B, T, 24, 3) local joints
    (:func:`representation.local_joints_3d`), real first.

    The ST-GCN stays in eval mode even when a parent module calls ``.train()``
    (its batch-norm statistics are part of the pre-trained network).
    """

    def __init__(self, stgcn: STGCN, layer_weights=None):
        super().__init__()
        n = len(stgcn.blocks)
        if layer_weights is None:
            layer_weights = PAPER_LAYER_WEIGHTS[:n] + (1.0,) * max(0, n - len(PAPER_LAYER_WEIGHTS))
        if len(layer_weights) != n:
            raise ValueError(f"need {n} layer weights (one per ST-GCN block), got {len(layer_weights)}")
        self.stgcn = stgcn.eval()
        for p in self.stgcn.parameters():
            p.requires_grad_(False)
        self.layer_weights = tuple(float(w) for w in layer_weights)

    def train(self, mode: bool = True):
        super().train(mode)
        self.stgcn.eval()
        return self

    def forward(self, real_joints: torch.Tensor, fake_joints: torch.Tensor) -> torch.Tensor:
        if real_joints.shape != fake_joints.shape:
            raise ValueError(f"real {tuple(real_joints.shape)} and fake {tuple(fake_joints.shape)} differ in shape")
        with torch.no_grad():
            real = self.stgcn.features(real_joints)
        fake = self.stgcn.features(fake_joints)
        loss = fake_joints.new_zeros(())
        for w, r, f in zip(self.layer_weights, real, fake):
            if w:
                loss = loss + w * (r - f).abs().mean()
        return loss


# The spec's spelling.
PoseperceptualLoss = PosePerceptualLoss
