"""qr_baseline: the authors' earlier model (seed 000, sec. II, Figs. 2-5), kept for comparison.

Encoder: two convolution branches (cover, QR image) of 3x3 conv + ReLU, concatenated, then a
stack of 3x3 conv + ReLU that outputs the stego image *directly* (not a residual). Decoder: a stack
of 3x3 conv + ReLU (16, 16, 8, 8, 3, 3 maps) and a final conv to the QR image. Trained with L2
losses plus weight decay (seed eq. 1). No batch norm anywhere, as in the original.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .builders import register_model
from .base import QRStegoModel

DEVIATIONS = [
    "Processing size 128 px instead of 100 px; the predicted stego minus the cover is used as a residual "
    "that is upsampled and added at full size, so any cover size works.",
    "Optimiser Adam (the seed does not name one for this model), weight decay 1e-5 for the lambda term.",
    "The stego image is rounded to 8 bits inside the training loop (straight-through gradient); the "
    "seed's model was trained on float outputs and failed after an 8-bit save (its Fig. 8).",
    "Residual gain calibrated after training, as for every veil QR model.",
    "The weight of the cover term is balanced by the running module error (starting at 0.01), as for "
    "qr_densenet, instead of a fixed 1:1 loss: so that the comparison isolates the architecture.",
]


def _stack(cin: int, widths: Sequence[int]) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for w in widths:
        layers += [nn.Conv2d(cin, w, 3, padding=1), nn.ReLU(inplace=True)]
        cin = w
    return layers


class BaselineEncoder(nn.Module):
    """(cover [B,3,P,P], qr [B,1,P,P]) -> residual [B,3,P,P] = predicted stego - cover."""

    def __init__(self, branch: Sequence[int] = (16, 16), merged: Sequence[int] = (16, 16, 8, 8)):
        super().__init__()
        self.cover_branch = nn.Sequential(*_stack(3, branch))
        self.qr_branch = nn.Sequential(*_stack(1, branch))
        self.merged = nn.Sequential(*_stack(2 * branch[-1], merged), nn.Conv2d(merged[-1], 3, 3, padding=1))

    def forward(self, cover: torch.Tensor, qr: torch.Tensor) -> torch.Tensor:
        f = torch.cat([self.cover_branch(cover), self.qr_branch(qr)], 1)
        return self.merged(f) - cover  # the network predicts the stego image itself


class BaselineDecoder(nn.Module):
    """stego [B,3,P,P] -> QR logits [B,1,P,P]."""

    def __init__(self, widths: Sequence[int] = (16, 16, 8, 8, 3, 3)):
        super().__init__()
        self.body = nn.Sequential(*_stack(3, widths), nn.Conv2d(widths[-1], 1, 3, padding=1))

    def forward(self, stego: torch.Tensor) -> torch.Tensor:
        return self.body(stego)


@register_model
def qr_baseline(processing_size: int = 128, max_version: int = 4, border: int = 2, max_residual: float = 0.0,
                branch: Sequence[int] = (16, 16), merged: Sequence[int] = (16, 16, 8, 8),
                dec_widths: Sequence[int] = (16, 16, 8, 8, 3, 3)) -> QRStegoModel:
    return QRStegoModel(BaselineEncoder(tuple(branch), tuple(merged)), BaselineDecoder(tuple(dec_widths)),
                        processing_size, max_version, border, max_residual)
