"""Losses of the image-into-image hiding models.

``stegnet`` (seed 003 eq. 7): 1/4 (L_CE + L_HD + Var(|E - C|) + Var(|D - H|)), L1 terms, the variances
taken over each image's height, width and channels and averaged over the batch. ``cover_weight`` and
``secret_weight`` scale the cover pair (L_CE, its variance) and the secret pair; 1 and 1 is the paper.

``l2`` (seed 002): cover_weight * MSE(E, C) + secret_weight * MSE(D, H), "linearly weighted L2 losses".

``cast_weight`` adds, for either kind, the colour cast: the mean CIE76 colour difference between cover and
stego box-downsampled 8x (what ``veil eval image`` reports as the colour cast), divided by 100.

The cover terms read the stego image before clipping and rounding (``stego_raw``) so clipped pixels keep a
gradient; the secret terms read what the decoder revealed from the 8-bit image.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..metrics.image import srgb_to_lab


def color_cast_loss(stego: torch.Tensor, cover: torch.Tensor, factor: int = 8) -> torch.Tensor:
    """Differentiable colour cast: mean CIE76 difference of the 8x box-downsampled images, / 100."""
    k = max(1, min(factor, *cover.shape[-2:]))
    la = srgb_to_lab(F.avg_pool2d(stego.clamp(0, 1), k))
    lb = srgb_to_lab(F.avg_pool2d(cover, k))
    return ((la - lb).pow(2).sum(1) + 1e-8).sqrt().mean().float() / 100


def _abs_var(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    d = (a - b).abs().flatten(1)
    return d.mean(), d.var(dim=1).mean()


def image_hiding_loss(out: dict, cover: torch.Tensor, secret: torch.Tensor, kind: str = "stegnet",
                      cover_weight: float = 1.0, secret_weight: float = 1.0, cast_weight: float = 0.0) -> dict:
    stego, revealed = out["intended"], out["revealed"]
    if kind == "stegnet":
        l_ce, v_ce = _abs_var(stego, cover)
        l_hd, v_hd = _abs_var(revealed, secret)
        loss = 0.25 * (cover_weight * (l_ce + v_ce) + secret_weight * (l_hd + v_hd))
        terms = {"cover": l_ce.detach(), "secret": l_hd.detach(), "cover_var": v_ce.detach(),
                 "secret_var": v_hd.detach()}
    elif kind == "l2":
        l_c = ((stego - cover) ** 2).mean()
        l_s = ((revealed - secret) ** 2).mean()
        loss = cover_weight * l_c + secret_weight * l_s
        terms = {"cover": l_c.detach(), "secret": l_s.detach()}
    else:
        raise ValueError(f"unknown image loss {kind!r}: stegnet or l2")
    if cast_weight:
        cast = color_cast_loss(stego, cover)
        loss = loss + cast_weight * cast
        terms["cast"] = cast.detach()
    return {"loss": loss, **terms}
