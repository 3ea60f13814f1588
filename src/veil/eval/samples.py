"""The samples the QR and message evaluations share: covers cut from folders of photos (random crops, native
sizes, small covers), a stego written through a real PNG, and how many QR modules a decoder drew right."""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from PIL import Image

NATIVE_MAX = 1920      # native-size covers are shrunk to this longest side


def module_accuracy(prob: np.ndarray, code, spec) -> float:
    from ..payloads.qr import sampling_matrix

    n = spec.modules(code.version)
    A = sampling_matrix(prob.shape[0], n)
    mod = A @ prob @ A.T
    truth_dark = np.pad(code.matrix, spec.border, constant_values=False)
    return float(((mod < 0.5) == truth_dark).mean())


SMALL_RANGE = (64, 127)


def covers(folders: list[str], rng: random.Random, crops: int, native: int, small: int = 0):
    from ..data.covers import list_images
    from ..imaging import load_image, split_alpha

    for folder in folders:
        if not Path(folder).is_dir():
            from ..errors import InputError

            raise InputError(f"no such folder: {folder}")
        for f in list_images(folder):
            img, _ = split_alpha(load_image(f))
            w, h = img.size
            if max(w, h) > NATIVE_MAX:
                s = NATIVE_MAX / max(w, h)
                img = img.resize((round(w * s), round(h * s)), Image.LANCZOS)
                w, h = img.size
            for _ in range(native):
                yield f, "native", img
            for _ in range(crops):
                side = rng.randint(min(256, min(w, h)), min(w, h))
                x, y = rng.randint(0, w - side), rng.randint(0, h - side)
                yield f, "256", img.crop((x, y, x + side, y + side)).resize((256, 256), Image.LANCZOS)
            for _ in range(small):
                out = rng.randint(*SMALL_RANGE)
                side = rng.randint(min(out, min(w, h)), min(w, h))
                x, y = rng.randint(0, w - side), rng.randint(0, h - side)
                yield f, "small", img.crop((x, y, x + side, y + side)).resize((out, out), Image.LANCZOS)


def stego_through_png(model, cover: Image.Image, text: str, path: Path, strength: float = 1.0,
                      verify: list[str] | None = None):
    """Hide ``text`` in ``cover`` through the public API, save a real (lossless) PNG, read it back:
    (the stego image as a user's file holds it, as a tensor; the strength report of the hide)."""
    from ..api import hide_qr_report
    from ..imaging import load_image, pil_to_tensor

    stego, report = hide_qr_report(cover, text, model=model, strength=strength, verify=verify)
    stego.save(path, compress_level=1)
    return pil_to_tensor(load_image(path)), report


