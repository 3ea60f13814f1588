"""Random cover crops for training: random-scale square crops of whole photos, flips and 90-degree
rotations, mixed with synthetic sharp-edge covers. Returns float NCHW batches in [0, 1].

Photos come from a folder tree or a list file (:func:`list_images`), less a validation split of whole files
(:func:`split_images`). A large set is read lazily, and with ``workers`` the photos are decoded, cropped and resized in
that many processes, while every random draw stays in the sampler (the same crops for any number of workers).
"""
from __future__ import annotations

import contextlib
import hashlib
import random
from pathlib import Path

import numpy as np
from PIL import Image

from ..imaging import uint8_to_tensor
from .synthetic import synthetic_cover

LAZY_ABOVE = 2000   # photos: a larger folder is read lazily (CoverSampler)
IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


def list_images(source: str | Path) -> list[Path]:
    """The image files in the folder ``source`` and every folder below it (any photo tree: class folders, shards), by
    path; or the images a text file ``source`` lists, one path per line (relative to the list's folder; blank lines
    and ``#`` comments skipped), as a run's ``val_files.txt`` does."""
    src = Path(source)
    if src.is_file():
        lines = (line.strip() for line in src.read_text(encoding="utf-8").splitlines())
        return [src.parent / line for line in lines if line and not line.startswith("#")]
    return sorted(p for p in src.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTS)


def check_images(source: str | Path) -> Path:
    """``source`` if it is a folder or a list file (:func:`list_images`); else one InputError line."""
    from ..errors import InputError

    src = Path(source)
    if not (src.is_dir() or src.is_file()):
        raise InputError(f"no such folder or list file: {source}")
    return src


def held_out(path: Path, share: float) -> bool:
    """Whether a photo falls in a validation split of ``share``: decided by a hash of its file name and parent folder,
    so a file keeps its side on any machine, wherever the tree sits, and as the set grows."""
    key = "/".join(Path(path).parts[-2:]).encode()
    return share > 0 and int.from_bytes(hashlib.sha256(key).digest()[:8], "big") < share * 2 ** 64


def split_images(source: str | Path, val_share: float = 0.0) -> tuple[list[Path], list[Path]]:
    """The photos of ``source`` (:func:`list_images`) as (training, validation): whole files, ``val_share`` of them
    held out (:func:`held_out`)."""
    train: list[Path] = []
    val: list[Path] = []
    for f in list_images(source):
        (val if held_out(f, val_share) else train).append(f)
    return train, val


def write_val_list(source: str | Path, val_share: float, dest: Path) -> int:
    """Write the validation split of ``source`` as a list file (absolute paths) that every ``--images`` and ``--data``
    accepts; the number of photos in it."""
    from ..files import write_text

    _, val = split_images(source, val_share)
    write_text(dest, "".join(f"{p.resolve()}\n" for p in val))
    return len(val)


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


def _decode_crop(job: tuple[str, int, int, int, int]) -> np.ndarray:
    """(path, y, x, side, size) -> that square of the photo, resized to size x size, uint8 (a worker's task)."""
    path, y, x, side, size = job
    with Image.open(path) as img:
        return _resized(img.convert("RGB").crop((x, y, x + side, y + side)), side, size)


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


def shard() -> tuple[int, int]:
    """(this process's rank, processes) within :func:`sharded`; (0, 1) outside it."""
    return _shard


def take_shard(make, n: int):
    """``make(total)`` -> a batch of ``total`` (a tensor or list, or a tuple of them, each ``total`` long); this
    process's ``n`` of ``n * world`` (all of it in one process)."""
    rank, world = _shard
    if world == 1:
        return make(n)
    batch = make(n * world)
    if isinstance(batch, tuple):
        return tuple(part[rank * n:(rank + 1) * n] for part in batch)
    return batch[rank * n:(rank + 1) * n]


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
    workers: decode, crop and resize the photos of each batch in this many processes (reading lazily); the sampler
    still makes every random draw, so the batches are those of ``workers = 0``.
    val_share: hold out this share of the photos, whole files (:func:`split_images`).
    """

    def __init__(self, folder: str | Path | None, crop: int = 256, synthetic_prob: float = 0.2, seed: int = 0,
                 sizes: list[int] | None = None, lazy: bool | None = None, workers: int = 0, val_share: float = 0.0):
        self.sizes = [int(s) for s in sizes] if sizes else [int(crop)]
        self.crop = self.sizes[0]
        self.synthetic_prob = synthetic_prob if folder is not None else 1.0
        self.rng = random.Random(seed)
        self.photos: list = []          # uint8 arrays, or paths when lazy
        self.lazy = False
        self.workers, self._pool = int(workers), None
        if folder is not None:
            files, _ = split_images(folder, val_share)
            if not files:
                raise FileNotFoundError(f"no images in {folder}: run `make data` first")
            self.lazy = (len(files) > LAZY_ABOVE or self.workers > 0) if lazy is None else bool(lazy)
            if self.lazy:
                self.photos = files
            for f in files if not self.lazy else ():
                img = Image.open(f).convert("RGB")
                if min(img.size) >= min(self.sizes):
                    self.photos.append(np.asarray(img))

    def _photo_crop(self, mine: bool = True) -> np.ndarray | tuple | None:
        """A crop (in memory), or the (path, y, x, side, size) of one to decode (lazy), or None (lazy, not ``mine``:
        another process's sample, the same draws and no decoding)."""
        photo = self.photos[self.rng.randrange(len(self.photos))]
        if not self.lazy:
            return random_photo_crop(photo, self.crop, self.rng)
        with Image.open(photo) as img:  # the header: the size the crop is drawn in
            y, x, side = crop_box(img.height, img.width, self.crop, self.rng)
        return (str(photo), y, x, side, self.crop) if mine else None

    def _decode(self, jobs: list[tuple]) -> list[np.ndarray]:
        if self.workers <= 0 or len(jobs) < 2:
            return [_decode_crop(j) for j in jobs]
        if self._pool is None:          # spawned, not forked: the parent's torch threads stay out of the workers
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        return list(self._pool.map(_decode_crop, jobs, chunksize=max(1, len(jobs) // (4 * self.workers))))

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
        todo = []                       # (slot, flip, turns) of the crops still to decode, and what to decode
        for i in range(total):
            if not self.photos or self.rng.random() < self.synthetic_prob:
                a = synthetic_cover(self.rng, self.crop)
            else:
                a = self._photo_crop(i in mine)
            flip, turns = self.rng.random() < 0.5, self.rng.randrange(4)
            if i in mine:
                if isinstance(a, tuple):
                    todo.append(((i - mine.start, flip, turns), a))
                else:
                    out[i - mine.start] = np.rot90(a[:, ::-1] if flip else a, turns)
        for ((k, flip, turns), _), a in zip(todo, self._decode([job for _, job in todo])):
            out[k] = np.rot90(a[:, ::-1] if flip else a, turns)
        return out
