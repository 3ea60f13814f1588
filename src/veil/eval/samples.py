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
    from ..data.covers import check_images, list_images
    from ..imaging import load_image, split_alpha

    for folder in folders:
        for f in list_images(check_images(folder)):
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


def qr_stego_samples(model, folders: list[str], rng, crops: int, native: int, small: int = 0, max_len: int = 32,
                     strength: float = 1.0, verify: list[str] | None = None):
    """The samples every QR evaluation reads: for each cover of :func:`covers`, a random text of up to ``max_len``
    characters (within the capacity of the model that serves the cover's size) hidden through the public API and a
    real PNG file. Yields (file, size kind, cover, the serving model, text, its QR code, the stego as read back from
    the file, the strength report)."""
    import tempfile

    from ..payloads.qr import encode_text, random_text
    from ..qr import qr_model_for

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stego.png"
        for f, size, cover in covers(folders, rng, crops, native, small):
            m = qr_model_for(min(cover.size), model)   # small covers: the model's small-cover model
            text = random_text(rng, min(max_len, m.spec.capacity("M")))
            code = encode_text(text, "M", m.spec)
            x, report = stego_through_png(model, cover, text, path, strength, verify)
            yield f, size, cover, m, text, code, x, report
