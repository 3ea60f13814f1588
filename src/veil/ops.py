"""Tensor operations shared by models, losses, attacks and the readers (float [0,1] NCHW): Gaussian blur, luma and
an affine resampling. They sit beside veil.imaging, below everything that uses them."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


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


def luma(x):
    """RGB [B,3,H,W] -> luma [B,1,H,W] (ITU-R 601 weights, as PIL's "L")."""
    return (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])


def affine(x: torch.Tensor, scale: float = 1.0, degrees: float = 0.0) -> torch.Tensor:
    """Resample NCHW ``x`` so that output pixel u shows input pixel ``R(degrees) u * scale`` (about the centre, in
    pixel units, so rotations stay rigid on any aspect): scale < 1 zooms in, > 1 zooms out."""
    b, _, h, w = x.shape
    a = math.radians(degrees)
    c, s = math.cos(a) * scale, math.sin(a) * scale
    # normalised coordinates: x_n = x / (w/2), y_n = y / (h/2)
    theta = torch.tensor([[c, -s * h / w, 0.0], [s * w / h, c, 0.0]], dtype=x.dtype, device=x.device)
    grid = F.affine_grid(theta.expand(b, 2, 3), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
