"""LSB-K (K = 1..4): the classic baseline of seed 003 (its Figs. 1, 3 and 9), in the same contract as the
neural models. The stego image keeps the cover's 8 - K high bits and carries the secret's K high bits in
its K low bits; revealing shifts them back up and adds half a step (the middle of the lost range).

No parameters, no training: its cards carry no weights file.
"""
from __future__ import annotations

import torch
from torch import nn

from ..registry import register_model
from .image_base import ImageStegoModel


def _levels(x: torch.Tensor) -> torch.Tensor:
    return x.clamp(0, 1).mul(255).round()


class LSBEmbed(nn.Module):
    def __init__(self, bits: int):
        super().__init__()
        self.bits = bits

    def forward(self, cover: torch.Tensor, secret: torch.Tensor) -> torch.Tensor:
        step = 2 ** self.bits
        if secret.shape[1] == 1:
            secret = secret.expand(-1, 3, -1, -1)
        high = torch.div(_levels(cover), step, rounding_mode="floor") * step
        low = torch.div(_levels(secret), 2 ** (8 - self.bits), rounding_mode="floor")
        return (high + low) / 255.0


class LSBExtract(nn.Module):
    def __init__(self, bits: int, secret_channels: int):
        super().__init__()
        self.bits = bits
        self.secret_channels = secret_channels

    def forward(self, stego: torch.Tensor) -> torch.Tensor:
        step = 2 ** self.bits
        low = torch.remainder(_levels(stego), step)
        out = (low * 2 ** (8 - self.bits) + 2 ** (7 - self.bits)) / 255.0
        return out.mean(1, keepdim=True) if self.secret_channels == 1 else out


class LSB(ImageStegoModel):
    pass


def _builder(bits: int):
    def build(secret_channels: int = 3) -> LSB:
        return LSB(LSBEmbed(bits), LSBExtract(bits, secret_channels), secret_channels)

    build.__name__ = f"lsb{bits}"
    build.__doc__ = f"LSB-{bits}: the secret's {bits} high bits in the cover's {bits} low bits (no weights)."
    return build


for _k in (1, 2, 3, 4):
    register_model(_builder(_k))
