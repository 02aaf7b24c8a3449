"""The generator's objective (Ren et al. eq. 1, 4–7) as torch functions.

Eq. 4 is written with the original minimax log loss; ``gan`` picks the
formulation actually optimised ("lsgan" by default, "nonsat" = the paper's log
loss with the usual non-saturating generator term, "hinge"). The gradient
penalty of eq. 4 (one-centred, on random interpolates of real and generated
poses, Gulrajani et al. 2017) applies to D_global only, as in the paper.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

GAN_LOSSES = ("lsgan", "nonsat", "hinge")


def d_loss(real: torch.Tensor, fake: torch.Tensor, gan: str = "lsgan") -> torch.Tensor:
    """Discriminator loss on raw logits for real and generated inputs (any shape)."""
    if gan == "lsgan":
        return 0.5 * (((real - 1) ** 2).mean() + (fake ** 2).mean())
    if gan == "nonsat":  # -log D(real) - log(1 - D(fake))
        return F.softplus(-real).mean() + F.softplus(fake).mean()
    if gan == "hinge":
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
    raise ValueError(f"gan must be one of {GAN_LOSSES}, got {gan!r}")


def g_loss(fake: torch.Tensor, gan: str = "lsgan") -> torch.Tensor:
    """Generator's adversarial loss on the discriminator's logits for its output."""
    if gan == "lsgan":
        return 0.5 * ((fake - 1) ** 2).mean()
    if gan == "nonsat":  # -log D(fake)
        return F.softplus(-fake).mean()
    if gan == "hinge":
        return -fake.mean()
    raise ValueError(f"gan must be one of {GAN_LOSSES}, got {gan!r}")


def gradient_penalty(d_global, real: torch.Tensor, fake: torch.Tensor, music: torch.Tensor,
                     generator: torch.Generator | None = None, center: float = 1.0) -> torch.Tensor:
    """w_GP term of eq. 4: E[(‖∇_x̂ D_global(x̂, m)‖₂ - center)²] with x̂ = αp + (1-α)x.

    ``music`` is D_global's music feature of the batch (the same for real and
    fake; detached, so only the pose path is penalised). ``generator`` draws α.
    """
    alpha = torch.rand((real.shape[0], 1, 1), generator=generator, device="cpu").to(real.device)
    x = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    score, _ = d_global(x, music=music.detach())
    (grad,) = torch.autograd.grad(score.sum(), x, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - center) ** 2).mean()


def feature_matching(real_acts: list[torch.Tensor], fake_acts: list[torch.Tensor]) -> torch.Tensor:
    """Eq. 6: Σ_i ‖D^i(p, m) - D^i(G(m), m)‖₁ over the discriminator's layers (mean
    absolute difference per layer, without pix2pixHD's 1/N_i normalisation weights,
    as the paper says); real activations are targets (detached)."""
    return sum(F.l1_loss(f, r.detach()) for r, f in zip(real_acts, fake_acts))


def l1(target: torch.Tensor, pred: torch.Tensor) -> torch.Tensor:
    """Eq. 5 as a mean absolute error over frames and feature columns (normalised features)."""
    return F.l1_loss(pred, target)
