"""Geometric attacks: a centre crop resized back to the full size, and a small rotation. Both resample with
``grid_sample`` (bilinear); what falls outside the image takes the nearest edge pixel (border padding)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .base import Attack


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


class CropResize(Attack):
    """Keep the centre ``strength`` of each side (0.9 = 90%) and resize it back to the full size."""

    name = "crop"
    unit = "fraction"

    def apply(self, x, s):
        if not 0 < s <= 1:
            raise ValueError(f"crop fraction must be in (0, 1], got {s}")
        return x if s == 1 else affine(x, scale=s)


class Rotate(Attack):
    """Rotate about the centre by ``strength`` degrees (counter-clockwise), keeping the size; corners take the
    nearest edge pixel."""

    name = "rotate"
    unit = "degrees"

    def apply(self, x, s):
        return x if s == 0 else affine(x, degrees=s)
