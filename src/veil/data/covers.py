"""Random cover crops for training: random-scale square crops of whole photos, flips and 90-degree
rotations, mixed with synthetic sharp-edge covers. Returns float NCHW batches in [0, 1].
"""
from __future__ import annotations

import contextlib

import random
from pathlib import Path

import numpy as np
from PIL import Image

from ..imaging import uint8_to_tensor
from .synthetic import synthetic_cover

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


def list_images(folder: str | Path) -> list[Path]:
    """The image files in ``folder`` and every folder below it (any photo tree: class folders, shards), by path."""
    return sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTS)


def random_photo_crop(a: np.ndarray, size: int, rng: random.Random) -> np.ndarray:
    """A square crop of uint8 HxWx3 ``a`` whose side is drawn log-uniformly between ``size`` and the
    photo's short side, resized to ``size`` x ``size`` (a photo smaller than ``size`` is taken whole)."""
    h, w = a.shape[:2]
    lo = min(size, min(h, w))
    side = int(round(np.exp(rng.uniform(np.log(lo), np.log(min(h, w))))))
    y, x = rng.randint(0, h - side), rng.randint(0, w - side)
    patch = Image.fromarray(a[y:y + side, x:x + side])
    if side != size:
        patch = patch.resize((size, size), Image.BILINEAR, reducing_gap=2.0)
    return np.asarray(patch)


_shard = (0, 1)   # (this process's rank, processes): each draws the whole batch and keeps its slice


@contextlib.contextmanager
def sharded(rank: int, world: int):
    """Within the block, samplers draw ``world`` times the batch asked for, the same on every process (the same
    seed), and return this ``rank``'s slice: N processes at batch b train on exactly one process's batch of N b."""
    global _shard
    before, _shard = _shard, (int(rank), int(world))
    try:
        yield
    finally:
        _shard = before


def take_shard(make, n: int):
    """``make(total)`` -> a batch of ``total``; this process's ``n`` of ``n * world`` (all of it in one process)."""
    rank, world = _shard
    if world == 1:
        return make(n)
    return make(n * world)[rank * n:(rank + 1) * n]


class CoverSampler:
    """Draws ``crop`` x ``crop`` covers.

    folder: a folder of photos, or None for synthetic covers only (tests, smoke runs).
    synthetic_prob: share of synthetic sharp-edge covers in each batch.
    sizes: optional list of crop sizes; each batch then takes one of them at random (covers smaller
    and larger than the processing size train both directions of the resize).
    """

    def __init__(self, folder: str | Path | None, crop: int = 256, synthetic_prob: float = 0.2, seed: int = 0,
                 sizes: list[int] | None = None):
        self.sizes = [int(s) for s in sizes] if sizes else [int(crop)]
        self.crop = self.sizes[0]
        self.synthetic_prob = synthetic_prob if folder is not None else 1.0
        self.rng = random.Random(seed)
        self.photos: list[np.ndarray] = []
        if folder is not None:
            files = list_images(folder)
            if not files:
                raise FileNotFoundError(f"no images in {folder}: run `make data` first")
            for f in files:
                img = Image.open(f).convert("RGB")
                if min(img.size) >= min(self.sizes):
                    self.photos.append(np.asarray(img))

    def _photo_crop(self) -> np.ndarray:
        return random_photo_crop(self.photos[self.rng.randrange(len(self.photos))], self.crop, self.rng)

    def sample(self, n: int, size: int | None = None):
        """``n`` covers [n, 3, crop, crop]; ``size`` forces the crop size of this batch (in a sharded run, this
        process's slice of a batch of ``n`` x processes: :func:`sharded`)."""
        if size is not None:
            self.crop = int(size)
        elif len(self.sizes) > 1:
            self.crop = self.sizes[self.rng.randrange(len(self.sizes))]
        return take_shard(self._draw, n)

    def _draw(self, n: int):
        out = np.empty((n, self.crop, self.crop, 3), np.uint8)
        for i in range(n):
            if not self.photos or self.rng.random() < self.synthetic_prob:
                a = synthetic_cover(self.rng, self.crop)
            else:
                a = self._photo_crop()
            if self.rng.random() < 0.5:
                a = a[:, ::-1]
            a = np.rot90(a, self.rng.randrange(4))
            out[i] = a
        return uint8_to_tensor(out)
