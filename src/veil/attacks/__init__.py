"""Distortions a stego image meets on its way to the reader, as ``nn.Module``s.

The same modules serve training (differentiable, or straight-through where the real operation is not)
and evaluation (the real operation: Pillow's libjpeg for JPEG). Each takes and returns float [0,1]
RGB NCHW. A strength is fixed (``JPEG(75)``) or a range sampled per call (``JPEG((50, 95))``).

Text specs (recipes, ``veil eval qr --attacks``): ``jpeg:75``, ``jpeg:50-95``, ``djpeg:50-95`` (the
differentiable approximation), ``blur:1``, ``resize:0.5``, ``resize:0.5:bicubic``, ``noise:2``
(std on 0-255), ``crop:0.9`` (centre 90% resized back), ``rotate:2`` (degrees), ``brightness:0.9-1.1``,
``contrast:0.9-1.1``, ``saturation:0.8-1.2``, ``quantize``,
and chains joined by ``+`` (``blur:1+jpeg:75``).
"""
from .base import Attack, Chain, Identity, RandomAttacks, straight_through
from .geometry import CropResize, Rotate
from .jpeg import JPEG, DiffJPEG
from .pixel import Brightness, Contrast, GaussianBlur, GaussianNoise, Quantize8bit, Resize, Saturation
from .spec import ATTACKS, STANDARD_MATRIX, parse_attack

__all__ = ["Attack", "Chain", "Identity", "RandomAttacks", "straight_through", "JPEG", "DiffJPEG", "Brightness",
           "Contrast", "GaussianBlur", "GaussianNoise", "Quantize8bit", "Resize", "Saturation", "ATTACKS",
           "STANDARD_MATRIX", "parse_attack", "CropResize", "Rotate"]
