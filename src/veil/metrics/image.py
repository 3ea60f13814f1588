"""Image quality metrics.

All take tensors [B,C,H,W] (or [C,H,W]) in [0,1] and return one float per batch (the mean over images).
"""
from __future__ import annotations

import math

import torch


def _4d(x: torch.Tensor) -> torch.Tensor:
    return x.unsqueeze(0) if x.ndim == 3 else x


def mae(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean absolute difference, in [0, 1] units: mean |a - b|."""
    return float((a.double() - b.double()).abs().mean())


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """Peak signal-to-noise ratio in dB, peak 1: 10 log10(1 / MSE), averaged over images.

    Identical images give ``inf``.
    """
    a, b = _4d(a).double(), _4d(b).double()
    mse = ((a - b) ** 2).flatten(1).mean(1)
    vals = [math.inf if m == 0 else 10 * math.log10(1.0 / float(m)) for m in mse]
    return sum(vals) / len(vals)


def _gauss(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def ssim(a: torch.Tensor, b: torch.Tensor) -> float:
    """Structural similarity (Wang et al. 2004): 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03,
    per channel, on the valid region, averaged over channels and images. Range [-1, 1], 1 = identical.
    """
    # float32 filtering of centred images (agrees with float64 to about 1e-5); the separable window is
    # applied as sums of shifted slices, several times faster than depthwise conv2d on a CPU
    a, b = _4d(a).float() - 0.5, _4d(b).float() - 0.5
    if min(a.shape[-2:]) < 11:
        raise ValueError("ssim needs images of at least 11x11")
    g = _gauss().tolist()

    def filt(x):  # 11x11 Gaussian window, valid region
        h, w = x.shape[-2:]
        y = sum(g[i] * x[..., i:h - 10 + i, :] for i in range(11))
        return sum(g[i] * y[..., i:w - 10 + i] for i in range(11))

    mu_a, mu_b = filt(a), filt(b)
    saa = filt(a * a) - mu_a**2
    sbb = filt(b * b) - mu_b**2
    sab = filt(a * b) - mu_a * mu_b
    mu_a, mu_b = mu_a + 0.5, mu_b + 0.5  # back to [0, 1] means (variances do not move with the shift)
    c1, c2 = 0.01**2, 0.03**2
    m = ((2 * mu_a * mu_b + c1) * (2 * sab + c2)) / ((mu_a**2 + mu_b**2 + c1) * (saa + sbb + c2))
    return float(m.double().mean())


def srgb_to_lab(x: torch.Tensor) -> torch.Tensor:
    """sRGB [B,3,H,W] in [0,1] -> CIELAB (D65 white) [B,3,H,W]: L in [0, 100]."""
    x = _4d(x).double()
    lin = torch.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)
    m = torch.tensor([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                      [0.0193339, 0.1191920, 0.9503041]], dtype=torch.float64)
    xyz = torch.einsum("ij,bjhw->bihw", m, lin) / torch.tensor([0.95047, 1.0, 1.08883],
                                                                dtype=torch.float64).view(1, 3, 1, 1)
    d = 6 / 29
    f = torch.where(xyz > d ** 3, xyz.clamp_min(1e-12) ** (1 / 3), xyz / (3 * d * d) + 4 / 29)
    return torch.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], 1)


def color_cast(a: torch.Tensor, b: torch.Tensor, factor: int = 8) -> float:
    """How much ``b`` recolours ``a``: the mean CIE76 colour difference (Euclidean distance in CIELAB) between the
    two images box-downsampled by ``factor``, so that pixel noise averages out and a shift of colour stays. A
    difference of about 2.3 is where people start to see one."""
    import torch.nn.functional as F

    a, b = _4d(a).double(), _4d(b).double()
    if a.shape[1] == 1:
        a, b = a.expand(-1, 3, -1, -1), b.expand(-1, 3, -1, -1)
    k = max(1, min(factor, *a.shape[-2:]))
    la, lb = srgb_to_lab(F.avg_pool2d(a, k)), srgb_to_lab(F.avg_pool2d(b, k))
    return float((la - lb).pow(2).sum(1).sqrt().mean())
