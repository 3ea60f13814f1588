"""The hiding metrics of seed 003 (StegNet, eqs. 1-3), on float [0,1] tensors of any shape.

Compute them on what a user has: the stego image after it was saved as an 8-bit PNG and read back, and
the secret revealed from that file.
"""
from __future__ import annotations

import torch


def decoded_rate(hidden: torch.Tensor, decoded: torch.Tensor) -> float:
    """Eq. 1: 1 - mean |H - D| over pixels and channels (1 = the secret came back exactly)."""
    return 1.0 - float((hidden.double() - decoded.double()).abs().mean())


def payload_capacity(rate: float, channels: int = 3, bits: int = 8) -> float:
    """Eq. 2: decoded rate x 8 bits x 3 channels, in bits per cover pixel (24 bpp for an RGB secret)."""
    return float(rate) * bits * channels


def cover_changing_rate(cover: torch.Tensor, embedded: torch.Tensor) -> float:
    """Eq. 3: mean |C - E| over pixels and channels (0.0076 = the paper's 0.76%)."""
    return float((cover.double() - embedded.double()).abs().mean())
