"""Geometric attacks: a centre crop resized back to the full size, and a small rotation. Both resample with
``grid_sample`` (bilinear); what falls outside the image takes the nearest edge pixel (border padding)."""
from __future__ import annotations



from ..ops import affine
from .base import Attack


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
