"""Small grey secrets for the PixInPix experiment (seed 002, MNIST into CIFAR): handwritten digits.

Source (shared/DATA.md): opencv's ``examples/data/digits.png``, 5,000 digits at 20x20 on one sheet,
50 rows x 100 columns, digit d on rows 5d..5d+4. Each digit is centred in a 28x28 box as MNIST is
and cached as uint8 arrays: ``digits/train.npy`` (sheet columns 0-89) and ``digits/val.npy`` (90-99).
"""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from PIL import Image

from ..files import write_atomic

from ..imaging import resize

SHEET = Path("/usr/share/doc/opencv-doc/examples/data/digits.png")
VAL_COLUMNS = range(90, 100)


def load_sheet(path: Path = SHEET) -> tuple[np.ndarray, np.ndarray]:
    """-> (train [4500, 28, 28] uint8, val [500, 28, 28] uint8)."""
    a = np.asarray(Image.open(path).convert("L"))
    if a.shape != (1000, 2000):
        raise RuntimeError(f"{path}: expected the 2000x1000 opencv digits sheet, got {a.shape[::-1]}")
    cells = a.reshape(50, 20, 100, 20).transpose(0, 2, 1, 3)          # [row, col, 20, 20]
    boxed = np.zeros((50, 100, 28, 28), np.uint8)
    boxed[:, :, 4:24, 4:24] = cells
    val_mask = np.isin(np.arange(100), list(VAL_COLUMNS))
    return boxed[:, ~val_mask].reshape(-1, 28, 28), boxed[:, val_mask].reshape(-1, 28, 28)


def prepare_digits(out: Path, log=print) -> bool:
    """Cache the digits under ``out/digits``; False (and a log line) when the sheet is not installed."""
    if not SHEET.is_file():
        log(f"no digits sheet at {SHEET}: the PixInPix digits experiment needs opencv-doc (make data)")
        return False
    train, val = load_sheet()
    (out / "digits").mkdir(parents=True, exist_ok=True)
    for name, a in (("train", train), ("val", val)):
        write_atomic(out / "digits" / f"{name}.npy", lambda tmp, a=a: np.save(tmp, a), force=True)
    log(f"{len(train)} training digits, {len(val)} validation digits -> {out / 'digits'}")
    return True


def load_digits(path: str | Path) -> np.ndarray:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no digits at {p}: run `make data`")
    return np.load(p)


def digits_tensor(digits: np.ndarray, size: int):
    """uint8 [N, 28, 28] -> float [N, 1, size, size] in [0, 1]."""
    import torch

    t = torch.from_numpy(np.ascontiguousarray(digits)).float().div_(255.0)[:, None]
    return resize(t, size).clamp_(0, 1)


class DigitSampler:
    """Random digits as 1-channel secrets, shifted by up to ``shift`` pixels (28 px box)."""

    def __init__(self, path: str | Path, seed: int = 0, shift: int = 2):
        self.digits = load_digits(path)
        self.rng = random.Random(seed)
        self.shift = shift

    def sample(self, n: int, size: int):
        from .covers import take_shard

        return take_shard(lambda total: self._draw(total, size), n)

    def _draw(self, n: int, size: int):
        batch = np.empty((n, 28, 28), np.uint8)
        for i in range(n):
            d = self.digits[self.rng.randrange(len(self.digits))]
            dy, dx = self.rng.randint(-self.shift, self.shift), self.rng.randint(-self.shift, self.shift)
            batch[i] = np.roll(d, (dy, dx), axis=(0, 1))
        return digits_tensor(batch, size)
