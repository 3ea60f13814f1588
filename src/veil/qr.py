"""The QR route's service: which QR model serves an image of a given size, and the tensor steps of hiding a code and
reading it back (float [0,1] NCHW). veil.api wraps them for PIL images; evaluation and calibration call them
directly."""
from __future__ import annotations

import numpy as np

from .payloads.qr import QRCode, read_from_probabilities, render_matrix
from .registry import get_model, list_cards


def min_cover_side(model) -> int:
    """Smallest cover side ``model`` serves: what its training saw (card ``min_cover_side``), else its
    processing size. A model never trained on smaller covers loses the code when the residual is shrunk
    (measured for qr_densenet.paper: 0/20 texts back at 64 and 80 px)."""
    card = getattr(model, "card", None) or {}
    return int(card.get("min_cover_side", model.processing_size))


def _small_cover_model(model):
    """The model ``model``'s card names for covers under its ``min_cover_side`` (loaded), or None."""
    name = (getattr(model, "card", None) or {}).get("small_cover_model")
    return get_model(name, "qr") if name else None


def qr_model_for(side: int, model=None):
    """The model that serves an image whose short side is ``side`` px: ``model`` (None = the default), or,
    when the image is smaller than that model serves and its card names a small-cover model
    (``small_cover_model``: qr_densenet.quiet -> qr_densenet.small), that model."""
    m = get_model(model, "qr")
    small = _small_cover_model(m)
    return small if small is not None and side < min_cover_side(m) else m


def qr_candidates(side: int, model=None):
    """Models to try when revealing, in order, each loaded only when the caller gets to it: the one
    :func:`qr_model_for` picks first, then the other of the pair (an image may have been resized across the
    small-cover boundary after hiding). With no model named, every other released QR model after those (the
    image may have been written with ``--model``); a QR code's error correction and format check make a wrong
    read from the wrong model very unlikely."""
    m = get_model(model, "qr")
    small = _small_cover_model(m)
    first = [m] if small is None else [small, m] if side < min_cover_side(m) else [m, small]
    yield from first
    if model is not None:
        return
    seen = {getattr(x, "card", {}).get("name") for x in first}
    for c in list_cards():
        if c.get("task") == "qr" and c["name"] not in seen:
            yield get_model(c["name"], "qr")


# ----------------------------------------------------------------------------- tensor level

def qr_tensor(codes: list[QRCode], model):
    """Render codes at the model's processing size: [B,1,P,P] in [0,1], 1 = light."""
    import torch

    p, b = model.processing_size, model.spec.border
    return torch.stack([torch.from_numpy(render_matrix(c.matrix, p, b)) for c in codes])[:, None]


def hide_qr_tensor(cover, codes: list[QRCode], model, strength: float = 1.0):
    """cover [B,3,H,W] -> stego [B,3,H,W] float in [0,1] (round to 8 bits when saving); ``strength`` multiplies the
    model's calibrated gain."""
    return model.embed(cover, qr_tensor(codes, model), strength=strength)


def reveal_qr_tensor(stego, model) -> list[tuple[str | None, np.ndarray]]:
    """stego [B,3,H,W] -> per image (text or None, recovered QR image [P,P] in [0,1])."""
    prob = model.extract(stego)[:, 0].numpy()
    return [read_from_probabilities(p, model.spec) for p in prob]
