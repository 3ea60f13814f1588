"""The public API (re-exported by ``veil``): hide a text as an invisible QR code, reveal it.

PIL images at the outer edge; tensors in the float [0,1] RGB NCHW convention inside.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image

from .errors import InputError, RevealError
from .imaging import check_size, pil_to_tensor, split_alpha, tensor_to_pil
from .payloads.qr import QRCode, encode_text, read_from_probabilities, render_matrix


@lru_cache(maxsize=8)
def _cached_model(name: str | None, task: str):
    from .registry import load_model

    return load_model(name, task)


def get_model(model=None, task: str = "qr"):
    """A loaded model: pass a name (``arch`` or ``arch.tag``), None for the default, or a model object."""
    if model is None or isinstance(model, str):
        return _cached_model(model, task)
    return model


def min_cover_side(model) -> int:
    """Smallest cover side ``model`` serves: what its training saw (card ``min_cover_side``), else its
    processing size. A model never trained on smaller covers loses the code when the residual is shrunk
    (measured for qr_densenet.paper: 0/20 texts back at 64 and 80 px)."""
    card = getattr(model, "card", None) or {}
    return int(card.get("min_cover_side", model.processing_size))


# ----------------------------------------------------------------------------- tensor level

def qr_tensor(codes: list[QRCode], model):
    """Render codes at the model's processing size: [B,1,P,P] in [0,1], 1 = light."""
    import torch

    p, b = model.processing_size, model.spec.border
    return torch.stack([torch.from_numpy(render_matrix(c.matrix, p, b)) for c in codes])[:, None]


def hide_qr_tensor(cover, codes: list[QRCode], model):
    """cover [B,3,H,W] -> stego [B,3,H,W] float in [0,1] (round to 8 bits when saving)."""
    return model.embed(cover, qr_tensor(codes, model))


def reveal_qr_tensor(stego, model) -> list[tuple[str | None, np.ndarray]]:
    """stego [B,3,H,W] -> per image (text or None, recovered QR image [P,P] in [0,1])."""
    prob = model.extract(stego)[:, 0].numpy()
    return [read_from_probabilities(p, model.spec) for p in prob]


# ----------------------------------------------------------------------------- PIL level

def _check_image(image, what: str) -> Image.Image:
    if not isinstance(image, Image.Image):
        raise InputError(f"{what} must be a PIL image, got {type(image).__name__}")
    check_size(image, what=what)
    return image


def hide_qr(image: Image.Image, text: str, model: str | None = None, ecc: str = "M") -> Image.Image:
    """Hide ``text`` in ``image`` as an invisible QR code; returns an 8-bit RGB (RGBA if the cover had
    alpha) image of the cover's size. Save it losslessly (PNG)."""
    image = _check_image(image, "cover")
    m = get_model(model, "qr")
    check_size(image, min_side=min_cover_side(m), what="cover")
    code = encode_text(text, ecc, m.spec)
    rgb, alpha = split_alpha(image)
    stego = hide_qr_tensor(pil_to_tensor(rgb), [code], m)
    return tensor_to_pil(stego, alpha)


def reveal_qr_image(image: Image.Image, model: str | None = None) -> tuple[str | None, Image.Image]:
    """Like :func:`reveal_qr` but returns (text or None, recovered QR code as a greyscale image)."""
    image = _check_image(image, "stego image")
    m = get_model(model, "qr")
    rgb, _ = split_alpha(image)
    text, qr = reveal_qr_tensor(pil_to_tensor(rgb), m)[0]
    return text, Image.fromarray(np.clip(np.round(qr * 255), 0, 255).astype(np.uint8), "L")


def reveal_qr(image: Image.Image, model: str | None = None) -> str:
    """Read the text hidden in ``image``; raises :class:`veil.RevealError` when none can be read."""
    text, _ = reveal_qr_image(image, model)
    if text is None:
        raise RevealError("no hidden QR code could be read from this image")
    return text


def attack_image(image: Image.Image, attacks: list[str], seed: int = 0) -> Image.Image:
    """Apply attacks (specs such as ``"jpeg:75"``, ``"blur:1"``, ``"resize:0.5"``, ``"noise:2"``, in order)
    to an image as a user's pipeline would: real JPEG codec, result rounded to 8 bits. Alpha is kept."""
    import torch

    from .attacks import Chain, Quantize8bit, parse_attack

    image = _check_image(image, "image")
    try:
        chain = Chain(*[parse_attack(a) for a in attacks], Quantize8bit())
    except ValueError as e:
        raise InputError(str(e)) from None
    rgb, alpha = split_alpha(image)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        with torch.no_grad():
            out = chain(pil_to_tensor(rgb))
    return tensor_to_pil(out, alpha)
