"""LSB-K (K = 1..4): the classic baseline of seed 003 (its Figs. 1, 3 and 9), in the same contract as the
neural models. The stego image keeps the cover's 8 - K high bits and carries the secret's K high bits in
its K low bits; revealing shifts them back up and adds half a step (the middle of the lost range).

No parameters, no training: its cards carry no weights file. The arithmetic is on 8-bit levels, written once
(:func:`hide_levels`, :func:`reveal_levels`) for both float tensors of levels and a file's uint8 arrays, which the
inference path works on directly in stripes.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .builders import register_model
from .base import inference
from .image_base import ImageStegoModel

ROWS = 512      # rows per stripe on a file's pixels


def hide_levels(cover, secret, bits: int):
    """Cover and secret 8-bit levels (uint8 arrays, or float tensors of whole levels) -> the stego's levels."""
    step = 2 ** bits
    return cover // step * step + secret // 2 ** (8 - bits)


def reveal_levels(stego, bits: int):
    """Stego levels -> the secret's levels: the K low bits shifted up, plus half of the lost step."""
    return stego % 2 ** bits * 2 ** (8 - bits) + 2 ** (7 - bits)


def _levels(x: torch.Tensor) -> torch.Tensor:
    return x.clamp(0, 1).mul(255).round()


class LSBEmbed(nn.Module):
    def __init__(self, bits: int):
        super().__init__()
        self.bits = bits

    def forward(self, cover: torch.Tensor, secret: torch.Tensor) -> torch.Tensor:
        if secret.shape[1] == 1:
            secret = secret.expand(-1, 3, -1, -1)
        return hide_levels(_levels(cover), _levels(secret), self.bits) / 255.0


class LSBExtract(nn.Module):
    def __init__(self, bits: int, secret_channels: int):
        super().__init__()
        self.bits = bits
        self.secret_channels = secret_channels

    def forward(self, stego: torch.Tensor) -> torch.Tensor:
        out = reveal_levels(_levels(stego), self.bits) / 255.0
        return out.mean(1, keepdim=True) if self.secret_channels == 1 else out


def _mean_levels(a: np.ndarray) -> np.ndarray:
    """HxWx3 uint8 -> HxWx1, the channels' mean rounded (a third is never a half: no ties)."""
    return ((a.sum(2, dtype=np.uint16, keepdims=True) + 1) // 3).astype(np.uint8)


class LSB(ImageStegoModel):
    """Pixel by pixel, so inference on a file's pixels needs no tiles and no floats: uint8 stripes."""

    @inference
    def embed_array(self, cover: np.ndarray, secret: np.ndarray, progress: bool = False) -> np.ndarray:
        if secret.shape[:2] != cover.shape[:2]:
            raise ValueError(f"secret {secret.shape[:2]} and cover {cover.shape[:2]} differ in size")
        out = np.empty_like(cover)
        for y in range(0, cover.shape[0], ROWS):
            out[y:y + ROWS] = hide_levels(cover[y:y + ROWS], secret[y:y + ROWS], self.encoder.bits)
        return out

    @inference
    def extract_array(self, stego: np.ndarray, grey: bool = False, progress: bool = False) -> np.ndarray:
        grey = grey or self.secret_channels == 1
        out = np.empty(stego.shape[:2] + (1 if grey else 3,), np.uint8)
        for y in range(0, stego.shape[0], ROWS):
            levels = reveal_levels(stego[y:y + ROWS], self.decoder.bits)
            out[y:y + ROWS] = _mean_levels(levels) if grey else levels
        return out


def _builder(bits: int):
    def build(secret_channels: int = 3) -> LSB:
        return LSB(LSBEmbed(bits), LSBExtract(bits, secret_channels), secret_channels)

    build.__name__ = f"lsb{bits}"
    build.__doc__ = f"LSB-{bits}: the secret's {bits} high bits in the cover's {bits} low bits (no weights)."
    return build


for _k in (1, 2, 3, 4):
    register_model(_builder(_k))
