"""Losses of the spread-message model (``veil train spread``).

Cover term (what people see, not L1 alone): a perceptually weighted MSE plus a luma SSIM term.
- The MSE is taken per pixel and weighted by how flat the cover is there: ``w = tau / (tau + a)`` with ``a``
  the local standard deviation of the cover's luma (5x5), normalised to mean 1 per image. A change in a flat
  sky costs up to ``1 + a/tau`` times a change of the same size in grass (texture masking, as a JND model
  says), so the encoder moves the residual where the eye misses it. ``tau`` 0 is plain MSE.
- The MSE is in units of (1/255)^2 / 10, so a 40 dB residual costs about 0.65 and the cover weight stays O(1).
- SSIM on luma with a 7x7 box window (cheap; the reported SSIM uses the standard Gaussian window).

Message terms: binary cross-entropy of the chip logits against the spread message (dense, spatially
aligned supervision: what makes training start on a CPU) and of the despread bit logits against the bits.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..ops import luma

MSE_UNIT = 10.0 / 255.0 ** 2


def flatness_weight(cover: torch.Tensor, tau: float) -> torch.Tensor:
    """[B,1,H,W] weights, mean 1 per image: tau / (tau + local std of luma over 5x5)."""
    y = luma(cover)
    m = F.avg_pool2d(y, 5, 1, 2, count_include_pad=False)
    v = F.avg_pool2d(y * y, 5, 1, 2, count_include_pad=False) - m * m
    w = tau / (tau + v.clamp_min(0).sqrt())
    return w / w.mean(dim=(1, 2, 3), keepdim=True)


def ssim_luma(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image SSIM of the lumas of ``a`` and ``b`` with a 7x7 box window, [B]."""
    x, y = luma(a), luma(b)
    mx, my = F.avg_pool2d(x, 7, 1), F.avg_pool2d(y, 7, 1)
    vx = F.avg_pool2d(x * x, 7, 1) - mx * mx
    vy = F.avg_pool2d(y * y, 7, 1) - my * my
    cxy = F.avg_pool2d(x * y, 7, 1) - mx * my
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return s.flatten(1).mean(1)


def cover_loss(intended: torch.Tensor, cover: torch.Tensor, tau: float = 0.0, ssim_weight: float = 0.0) -> dict:
    """Perceptual cover term (see the module docstring): {"cover": weighted MSE + ssim_weight * (1 - SSIM),
    "mse", "ssim"}; ``mse`` is the plain mean squared error in [0,1] units."""
    d2 = (intended - cover).pow(2)
    mse = d2.mean()
    wmse = (d2 * flatness_weight(cover, tau)).mean() if tau > 0 else mse
    term = wmse / MSE_UNIT
    s = ssim_luma(intended, cover).mean()
    if ssim_weight:
        term = term + ssim_weight * (1 - s)
    return {"cover": term, "mse": mse.detach(), "ssim": s.detach()}


def message_loss(chip_logits: torch.Tensor, logits: torch.Tensor, chip_targets: torch.Tensor,
                 bits: torch.Tensor, bit_weight: float = 0.25) -> torch.Tensor:
    """Per-image message loss [B]: chip BCE + ``bit_weight`` x bit BCE (the despread logits)."""
    chip = F.binary_cross_entropy_with_logits(chip_logits, chip_targets, reduction="none").flatten(1).mean(1)
    bit = F.binary_cross_entropy_with_logits(logits, bits.float(), reduction="none").mean(1)
    return chip + bit_weight * bit


def bit_error(logits: torch.Tensor, bits: torch.Tensor) -> float:
    """Share of payload bits read wrong (hard decision on the bit logits), in [0, 1]."""
    return float(((logits.detach() > 0).long() != bits.long()).float().mean())
