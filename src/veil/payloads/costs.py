"""Content-adaptive embedding costs: what changing a sample by one level costs in detectability. HILL (Li, Wang,
Huang & Li, "A new cost function for spatial image steganography", ICIP 2014): the KB high-pass residual, its
magnitude averaged over 3x3, inverted, and averaged over 15x15, so that busy texture is cheap and flat areas (and
their surroundings) are dear. Per channel, symmetric padding at the borders. Pure NumPy.
"""
from __future__ import annotations

import numpy as np

EPS = np.finfo(np.float32).eps


def _box(a: np.ndarray, k: int) -> np.ndarray:
    """Mean over k x k windows of 2-D ``a`` (symmetric padding), through summed-area tables."""
    r = k // 2
    p = np.pad(a, r, mode="symmetric").astype(np.float64)
    s = np.pad(p.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    h, w = a.shape
    return ((s[k:k + h, k:k + w] - s[:h, k:k + w] - s[k:k + h, :w] + s[:h, :w]) / (k * k)).astype(np.float32)


def hill(channel: np.ndarray) -> np.ndarray:
    """HILL cost of a +-1 change at every sample of a 2-D 8-bit channel (float32, same shape)."""
    x = np.pad(np.asarray(channel, np.float32), 1, mode="symmetric")
    h, w = channel.shape
    # KB = [[-1, 2, -1], [2, -4, 2], [-1, 2, -1]] (symmetric, so correlation = convolution)
    r = (-(x[:h, :w] + x[:h, 2:] + x[2:, :w] + x[2:, 2:]) + 2 * (x[:h, 1:w + 1] + x[1:h + 1, :w] + x[1:h + 1, 2:]
         + x[2:, 1:w + 1]) - 4 * x[1:h + 1, 1:w + 1])
    xi = np.maximum(_box(np.abs(r / 4), 3), EPS)
    return _box(1 / xi, 15)


def hill_costs(image: np.ndarray) -> np.ndarray:
    """HILL costs of an 8-bit image, [H,W] or [H,W,C] (each channel on its own)."""
    a = np.asarray(image)
    if a.ndim == 2:
        return hill(a)
    return np.stack([hill(a[..., c]) for c in range(a.shape[2])], -1)
