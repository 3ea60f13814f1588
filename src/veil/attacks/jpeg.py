"""JPEG: the real codec (Pillow / libjpeg, 4:2:0 chroma) with a straight-through gradient, and a
differentiable approximation for training (Shin & Song, "JPEG-resistant adversarial images", 2017:
the same colour transform, 4:2:0 subsampling, 8x8 DCT and IJG quantisation tables, with rounding
replaced by round(x) + (x - round(x))^3)."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..imaging import jpeg_roundtrip, tensor_to_uint8, uint8_to_tensor
from .base import Attack, straight_through

# IJG (libjpeg) base tables, ITU-T T.81 Annex K.
_LUMA = [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
         14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
         49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99]
_CHROMA = [17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
           47, 66, 99, 99, 99, 99, 99, 99] + [99] * 32


def quant_table(base: list[int], quality: float) -> torch.Tensor:
    """libjpeg's quality scaling of a base table (quality 1..100), [8, 8]."""
    q = min(100.0, max(1.0, float(quality)))
    scale = 5000.0 / q if q < 50 else 200.0 - 2.0 * q
    t = np.floor((np.array(base, np.float64) * scale + 50.0) / 100.0)
    return torch.from_numpy(np.clip(t, 1, 255).reshape(8, 8).astype(np.float32))


def _dct_matrix() -> torch.Tensor:
    d = torch.zeros(8, 8)
    for k in range(8):
        for n in range(8):
            d[k, n] = (math.sqrt(1 / 8) if k == 0 else math.sqrt(2 / 8)) * math.cos(math.pi * (2 * n + 1) * k / 16)
    return d


_D = _dct_matrix()


class JPEG(Attack):
    """Real JPEG at ``strength`` = quality (1..100), through Pillow's libjpeg; gradients pass straight through."""

    name = "jpeg"
    unit = "quality"

    align = 16

    def reach(self):
        return 16             # a block's decoded pixels use the neighbouring chroma rows (fancy upsampling)

    def apply(self, x, s):
        q = int(round(s))
        out = [uint8_to_tensor(jpeg_roundtrip(tensor_to_uint8(xi), q)) for xi in x.detach().cpu()]
        return straight_through(x, torch.cat(out).to(x))


class DiffJPEG(Attack):
    """Differentiable JPEG approximation at ``strength`` = quality (training only; evaluation uses JPEG)."""

    name = "djpeg"
    unit = "quality"

    @staticmethod
    def _round(x):
        r = torch.round(x)
        return r + (x - r) ** 3

    def _codec(self, c: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        """c [B,1,H,W] (H, W multiples of 8, level-shifted) -> quantised and reconstructed."""
        b, _, h, w = c.shape
        blocks = c.reshape(b, h // 8, 8, w // 8, 8).permute(0, 1, 3, 2, 4)       # [B, h/8, w/8, 8, 8]
        d = _D.to(c)
        coef = d @ blocks @ d.T
        coef = self._round(coef / table) * table
        blocks = d.T @ coef @ d
        return blocks.permute(0, 1, 3, 2, 4).reshape(b, 1, h, w)

    def apply(self, x, s):
        b, _, h, w = x.shape
        ph, pw = (-h) % 16, (-w) % 16
        v = F.pad(x * 255.0, (0, pw, 0, ph), mode="replicate")
        r, g, bl = v[:, 0:1], v[:, 1:2], v[:, 2:3]
        y = 0.299 * r + 0.587 * g + 0.114 * bl
        cb = -0.168736 * r - 0.331264 * g + 0.5 * bl + 128.0
        cr = 0.5 * r - 0.418688 * g - 0.081312 * bl + 128.0
        ty, tc = quant_table(_LUMA, s).to(x), quant_table(_CHROMA, s).to(x)
        y = self._codec(y - 128.0, ty) + 128.0
        size = y.shape[-2:]
        chroma = []
        for c in (cb, cr):
            c = F.avg_pool2d(c, 2)                                                 # 4:2:0
            c = self._codec(c - 128.0, tc) + 128.0
            chroma.append(F.interpolate(c, size=size, mode="bilinear", align_corners=False))
        cb, cr = chroma
        out = torch.cat([y + 1.402 * (cr - 128.0),
                         y - 0.344136 * (cb - 128.0) - 0.714136 * (cr - 128.0),
                         y + 1.772 * (cb - 128.0)], 1)
        return out[:, :, :h, :w] / 255.0
