"""Pixel-domain attacks: 8-bit rounding, blur, resizing, noise, colour changes. All differentiable
(8-bit rounding straight-through), so training and evaluation run the same code."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..imaging import quantize_8bit, resize
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


def gaussian_kernel(sigma: float, dtype=torch.float32) -> torch.Tensor:
    r = max(1, math.ceil(3 * sigma))
    t = torch.arange(-r, r + 1, dtype=dtype)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    return k / k.sum()


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of NCHW ``x`` (reflect padding); sigma <= 0.05 is a no-op."""
    if sigma <= 0.05:
        return x
    k = gaussian_kernel(sigma).to(x)
    r = (k.numel() - 1) // 2
    c = x.shape[1]
    pad_h, pad_w = min(r, x.shape[-2] - 1), min(r, x.shape[-1] - 1)
    y = F.pad(x, (pad_w, pad_w, pad_h, pad_h), mode="reflect")
    # if the image is smaller than the kernel, trim the kernel to the padding we could make
    kw, kh = k[r - pad_w:r + pad_w + 1], k[r - pad_h:r + pad_h + 1]
    y = F.conv2d(y, (kw / kw.sum()).view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(y, (kh / kh.sum()).view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


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


def luma(x):
    """RGB [B,3,H,W] -> luma [B,1,H,W] (ITU-R 601 weights, as PIL's "L")."""
    return (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])


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
