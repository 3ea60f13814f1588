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

LAZY_ABOVE = 2000   # photos: a larger folder is read lazily (CoverSampler)
IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


def list_images(folder: str | Path) -> list[Path]:
    """The image files in ``folder`` and every folder below it (any photo tree: class folders, shards), by path."""
    return sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTS)


def crop_box(h: int, w: int, size: int, rng: random.Random) -> tuple[int, int, int]:
    """(y, x, side) of a square crop of an h x w photo, its side drawn log-uniformly between ``size`` and the
    short side (the whole short side when that is smaller)."""
    lo = min(size, min(h, w))
    side = int(round(np.exp(rng.uniform(np.log(lo), np.log(min(h, w))))))
    return rng.randint(0, h - side), rng.randint(0, w - side), side


def _resized(patch: Image.Image, side: int, size: int) -> np.ndarray:
    if side != size:
        patch = patch.resize((size, size), Image.BILINEAR, reducing_gap=2.0)
    return np.asarray(patch)


def random_photo_crop(a: np.ndarray, size: int, rng: random.Random) -> np.ndarray:
    """A square crop of uint8 HxWx3 ``a`` whose side is drawn log-uniformly between ``size`` and the
    photo's short side, resized to ``size`` x ``size`` (a photo smaller than ``size`` is taken whole)."""
    y, x, side = crop_box(a.shape[0], a.shape[1], size, rng)
    return _resized(Image.fromarray(a[y:y + side, x:x + side]), side, size)


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

    folder: a folder (tree) of photos, or None for synthetic covers only (tests, smoke runs).
    synthetic_prob: share of synthetic sharp-edge covers in each batch.
    sizes: optional list of crop sizes; each batch then takes one of them at random (covers smaller
    and larger than the processing size train both directions of the resize).
    lazy: keep only the file list, and read a photo when a crop is drawn from it (None: when the folder has more
    than :data:`LAZY_ABOVE` photos, as a real data set does). Memory stays flat at any data set size; a photo
    smaller than the crop is taken whole and resized up (the in-memory sampler skips such photos). In a sharded
    run a process reads only the headers of the photos in other processes' slices.
    """

    def __init__(self, folder: str | Path | None, crop: int = 256, synthetic_prob: float = 0.2, seed: int = 0,
                 sizes: list[int] | None = None, lazy: bool | None = None):
        self.sizes = [int(s) for s in sizes] if sizes else [int(crop)]
        self.crop = self.sizes[0]
        self.synthetic_prob = synthetic_prob if folder is not None else 1.0
        self.rng = random.Random(seed)
        self.photos: list = []          # uint8 arrays, or paths when lazy
        self.lazy = False
        if folder is not None:
            files = list_images(folder)
            if not files:
                raise FileNotFoundError(f"no images in {folder}: run `make data` first")
            self.lazy = len(files) > LAZY_ABOVE if lazy is None else bool(lazy)
            if self.lazy:
                self.photos = files
            for f in files if not self.lazy else ():
                img = Image.open(f).convert("RGB")
                if min(img.size) >= min(self.sizes):
                    self.photos.append(np.asarray(img))

    def _photo_crop(self, mine: bool = True) -> np.ndarray | None:
        photo = self.photos[self.rng.randrange(len(self.photos))]
        if not self.lazy:
            return random_photo_crop(photo, self.crop, self.rng)
        with Image.open(photo) as img:  # the header: the size the crop is drawn in
            y, x, side = crop_box(img.height, img.width, self.crop, self.rng)
            if not mine:                # another process's sample: the same draws, no decoding
                return None
            return _resized(img.convert("RGB").crop((x, y, x + side, y + side)), side, self.crop)

    def sample(self, n: int, size: int | None = None):
        """``n`` covers [n, 3, crop, crop]; ``size`` forces the crop size of this batch (in a sharded run, this
        process's slice of a batch of ``n`` x processes: :func:`sharded`)."""
        if size is not None:
            self.crop = int(size)
        elif len(self.sizes) > 1:
            self.crop = self.sizes[self.rng.randrange(len(self.sizes))]
        rank, world = _shard
        return uint8_to_tensor(self._draw(n * world, range(rank * n, (rank + 1) * n)))

    def _draw(self, total: int, mine: range | None = None) -> np.ndarray:
        mine = mine if mine is not None else range(total)
        out = np.empty((len(mine), self.crop, self.crop, 3), np.uint8)
        for i in range(total):
            if not self.photos or self.rng.random() < self.synthetic_prob:
                a = synthetic_cover(self.rng, self.crop)
            else:
                a = self._photo_crop(i in mine)
            flip, turns = self.rng.random() < 0.5, self.rng.randrange(4)
            if i in mine:
                out[i - mine.start] = np.rot90(a[:, ::-1] if flip else a, turns)
        return out
