"""Synthetic sharp-edge covers: rendered text, shapes, hard edges and gradients.

The Invisible-QR seed's earlier model failed on covers with sharp edges (seed 000, Fig. 7). The
photo corpus is mostly smooth, so training mixes in these cheap covers.
"""
from __future__ import annotations

import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

_WORDS = ("veil", "QR", "invoice", "STOP", "2026", "hello", "Lorem ipsum", "#42", "menu", "EXIT", "café")


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return tuple(rng.randint(0, 255) for _ in range(3))


def _background(rng: random.Random, w: int, h: int) -> Image.Image:
    kind = rng.random()
    if kind < 0.4:
        return Image.new("RGB", (w, h), _colour(rng))
    a, b = np.array(_colour(rng), np.float32), np.array(_colour(rng), np.float32)
    if kind < 0.8:
        t = np.linspace(0, 1, w if rng.random() < 0.5 else h, dtype=np.float32)
        t = t[None, :, None] if len(t) == w else t[:, None, None]
        g = a + (b - a) * t
        g = np.broadcast_to(g, (h, w, 3))
    else:  # checkerboard / stripes
        cell = rng.randint(4, max(5, min(w, h) // 4))
        yy, xx = np.mgrid[0:h, 0:w]
        m = ((yy // cell + xx // cell) % 2 if rng.random() < 0.5 else (xx // cell) % 2)[..., None]
        g = np.where(m > 0, a, b)
    return Image.fromarray(np.clip(g, 0, 255).astype(np.uint8), "RGB")


def synthetic_cover(rng: random.Random, w: int, h: int | None = None) -> np.ndarray:
    """A random sharp-edged image, uint8 [h, w, 3]."""
    h = h or w
    img = _background(rng, w, h)
    d = ImageDraw.Draw(img)
    for _ in range(rng.randint(3, 25)):
        kind = rng.random()
        x0, y0 = rng.randint(-w // 4, w), rng.randint(-h // 4, h)
        x1, y1 = x0 + rng.randint(4, w), y0 + rng.randint(4, h)
        col = _colour(rng)
        if kind < 0.25:
            d.rectangle([x0, y0, x1, y1], fill=col)
        elif kind < 0.45:
            d.ellipse([x0, y0, x1, y1], fill=col if rng.random() < 0.7 else None, outline=_colour(rng),
                      width=rng.randint(1, 6))
        elif kind < 0.6:
            d.line([x0, y0, x1, y1], fill=col, width=rng.randint(1, 8))
        elif kind < 0.7:
            pts = [(rng.randint(0, w), rng.randint(0, h)) for _ in range(rng.randint(3, 6))]
            d.polygon(pts, fill=col)
        else:
            size = rng.randint(8, max(9, h // 4))
            try:
                font = ImageFont.load_default(size=size)
            except TypeError:  # Pillow < 10.1
                font = ImageFont.load_default()
            d.text((x0, y0), rng.choice(_WORDS), fill=col, font=font)
    if rng.random() < 0.3:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    a = np.asarray(img, dtype=np.int16)
    if rng.random() < 0.5:  # a little sensor-like noise
        a = a + np.asarray(np.random.default_rng(rng.randint(0, 2**31)).normal(0, rng.uniform(0.5, 4), a.shape),
                           dtype=np.int16)
    return np.clip(a, 0, 255).astype(np.uint8)
