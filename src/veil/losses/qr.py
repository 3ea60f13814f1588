"""Losses of the QR-hiding models.

The cover term compares the cover with the intended stego image (rounded, not yet clipped to
[0, 1]), so that clipped pixels keep a gradient.

``densenet`` (seed 000 eq. 2): L = w_c * |C - S|_1 + beta * L_qr, beta = 0.75, with L_qr the binary
cross-entropy of the decoder's logits against the QR image (the seed uses L1 on the image; BCE
gives usable gradients on saturated modules: a documented deviation). ``w_c`` starts where the
recipe says (0.01 for the released weights; the seed's 1 left the decoder unable to learn) and is
balanced during training by the module error rate (veil.train.qr). With ``cover_rmse`` > 0 the cover
term is L1 + cover_rmse * RMSE (a deviation used by qr_densenet.quiet, see its card).
``baseline`` (seed 000 eq. 1): L = |C - S|_2^2 + |Q - Q'|_2^2; the weight decay term of eq. 1 is
the optimiser's ``weight_decay``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..payloads.qr import sampling_matrix

_SAMPLERS: dict[tuple[int, int], torch.Tensor] = {}


def _sampler(size: int, n: int) -> torch.Tensor:
    key = (size, n)
    if key not in _SAMPLERS:
        _SAMPLERS[key] = torch.from_numpy(sampling_matrix(size, n))
    return _SAMPLERS[key]


def module_logits(logits: torch.Tensor, n_modules: list[int]) -> list[torch.Tensor]:
    """Average logits [B,1,P,P] over each module's centre: a list of [n_i, n_i] tensors."""
    out = []
    for i, n in enumerate(n_modules):
        A = _sampler(logits.shape[-1], n).to(logits)
        out.append(A @ logits[i, 0] @ A.T)
    return out


def module_error(logits: torch.Tensor, targets: list[torch.Tensor]) -> torch.Tensor:
    """Fraction of modules (quiet zone included) read wrong; targets are [n_i, n_i] in {0, 1}, 1 = light."""
    mods = module_logits(logits.detach(), [t.shape[0] for t in targets])
    wrong = sum(((m > 0).float() != t).float().sum() for m, t in zip(mods, targets))
    total = sum(t.numel() for t in targets)
    return wrong / total


def qr_hiding_loss(out: dict, cover: torch.Tensor, qr: torch.Tensor, kind: str = "densenet",
                   cover_weight: float = 1.0, beta: float = 0.75, cover_rmse: float = 0.0) -> dict:
    stego, logits = out["intended"], out["logits"]
    if kind == "densenet":
        cover_term = (stego - cover).abs().mean()
        if cover_rmse:
            # + RMSE: L1 alone pulls every changed pixel back equally hard, so it tolerates a few large
            # steps; PSNR is an MSE measure, and the RMSE term pulls hardest on the largest changes.
            cover_term = cover_term + cover_rmse * (stego - cover).pow(2).mean().add(1e-12).sqrt()
        qr_term = F.binary_cross_entropy_with_logits(logits, qr)
    elif kind == "baseline":
        cover_term = F.mse_loss(stego, cover)
        qr_term = F.mse_loss(torch.sigmoid(logits), qr)
    else:
        raise ValueError(f"unknown loss kind {kind}")
    loss = cover_weight * cover_term + beta * qr_term
    return {"loss": loss, "cover": cover_term.detach(), "qr": qr_term.detach()}
