"""Pixel-domain attacks: 8-bit rounding, blur, resizing, noise, colour changes. All differentiable
(8-bit rounding straight-through), so training and evaluation run the same code."""
from __future__ import annotations

import math

import torch

from ..imaging import quantize_8bit, resize
from ..ops import gaussian_blur, luma
from .base import Attack


class Quantize8bit(Attack):
    """Round to the 256 levels of an 8-bit file (straight-through gradient)."""

    name = "quantize"

    def reach(self):
        return 0

    def apply(self, x, s):
        return quantize_8bit(x)

    def spec(self) -> str:
        return "quantize"


class GaussianBlur(Attack):
    """Separable Gaussian blur, ``strength`` = sigma in pixels (reflect padding); sigma <= 0.05 is a no-op."""

    name = "blur"
    unit = "sigma"

    def reach(self):
        hi = self.strength[1] if isinstance(self.strength, tuple) else self.strength
        return max(1, math.ceil(3 * hi))

    def apply(self, x, s):
        return gaussian_blur(x, s)


class Resize(Attack):
    """Shrink by ``strength`` (a scale in (0, 1]) and enlarge back to the original size, antialiased
    bilinear (default) or bicubic; ``mode="random"`` picks one per call."""

    name = "resize"
    unit = "scale"

    def __init__(self, strength=0.5, mode: str = "bilinear"):
        super().__init__(strength)
        if mode not in ("bilinear", "bicubic", "random"):
            raise ValueError(f"resize mode {mode!r}: bilinear, bicubic or random")
        self.mode = mode

    def apply(self, x, s):
        if not 0 < s <= 1:
            raise ValueError(f"resize scale must be in (0, 1], got {s}")
        h, w = x.shape[-2:]
        small = (max(1, round(h * s)), max(1, round(w * s)))
        mode = self.mode if self.mode != "random" else ("bilinear", "bicubic")[int(torch.randint(2, ()))]
        return resize(resize(x, small, mode), (h, w), mode)

    def spec(self) -> str:
        return f"resize:{self.extra_repr()}" + ("" if self.mode == "bilinear" else f":{self.mode}")


class GaussianNoise(Attack):
    """Additive Gaussian noise, ``strength`` = standard deviation on the 0-255 scale."""

    name = "noise"
    unit = "std/255"

    def reach(self):
        return 0

    def apply(self, x, s):
        return x + torch.randn_like(x) * (s / 255.0)


class Brightness(Attack):
    """Multiply by ``strength`` (1 = unchanged)."""

    name = "brightness"
    unit = "factor"

    def reach(self):
        return 0

    def apply(self, x, s):
        return x * s


class Contrast(Attack):
    """Scale the distance from each image's mean grey level by ``strength`` (1 = unchanged)."""

    name = "contrast"
    unit = "factor"

    def apply(self, x, s):
        m = luma(x).mean(dim=(1, 2, 3), keepdim=True)
        return (x - m) * s + m


class Saturation(Attack):
    """Blend with the grey image: 0 = grey, 1 = unchanged, > 1 = more saturated."""

    name = "saturation"
    unit = "factor"

    def reach(self):
        return 0

    def apply(self, x, s):
        g = luma(x)
        return g + (x - g) * s
