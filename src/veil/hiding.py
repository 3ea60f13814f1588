"""Hide a message spread over the whole image, and read it back (the service behind ``veil hide`` /
``veil reveal``; tensors in the float [0,1] RGB NCHW convention).

The payload codec (veil.payloads.message: framing, CRC, BCH, keyed whitening) turns the message into
the model's n bits; the model (veil.models.spread) carries them. Reading tries the image as it is, then, only
when that finds nothing, a few inverse zooms and rotations (a crop resized back or a slight rotation moves the
chip grid the decoder reads); the codec's CRC and BCH checks decide, so every extra try costs time, never a
wrong answer beyond the codec's false-positive rate per try.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .ops import affine
from .payloads.message import Decoded, decode_message, encode_message

# Inverse geometries tried when the plain read fails: (scale, degrees). A centre crop of fraction c resized back
# is undone by scale 1/c; a rotation by -degrees.
GEOMETRY_SEARCH = ((1 / 0.9, 0.0), (1 / 0.95, 0.0), (1 / 0.85, 0.0), (1 / 0.8, 0.0), (1.0, 1.0), (1.0, -1.0),
                   (1.0, 2.0), (1.0, -2.0), (1.0, 3.0), (1.0, -3.0), (1.0, 0.5), (1.0, -0.5))


@dataclass(frozen=True)
class Reading:
    """What one reveal found: the decoded payload (or None), the geometry it was read under, and the bit
    probabilities of the plain read ([n]; the raw bits before error correction)."""
    decoded: Decoded | None
    probs: np.ndarray
    scale: float = 1.0
    degrees: float = 0.0
    tries: int = 1


def message_bits(message: str | bytes, model, ecc: str = "M", passphrase: str | None = None) -> torch.Tensor:
    """The model's n payload bits for ``message``: [1, n] in {0, 1}."""
    return torch.from_numpy(encode_message(message, model.n_bits, ecc, passphrase).astype(np.int64))[None]


def hide_tensor(cover: torch.Tensor, bits: torch.Tensor, model, strength: float = 1.0) -> torch.Tensor:
    """cover [B,3,H,W], bits [B,n] -> stego [B,3,H,W] float in [0,1] (round to 8 bits when saving); ``strength``
    multiplies the model's calibrated gain."""
    return model.embed(cover, bits, strength=strength)


def read_probs(stego: torch.Tensor, model) -> np.ndarray:
    """stego [B,3,H,W] -> P(bit = 1), [B, n] float64."""
    return model.extract(stego).double().numpy()


def reveal_tensor(stego: torch.Tensor, model, passphrase: str | None = None, search: bool = True) -> Reading:
    """Read the message in one image ``stego`` [1,3,H,W]; with ``search``, undo a few crops and rotations when
    the plain read finds nothing."""
    # The decoder works at the processing size: shrink once, read, and undo any geometry there.
    small = model.processing_view(stego)
    probs = read_probs(small, model)[0]
    got = decode_message(probs, passphrase)
    if got is not None or not search:
        return Reading(got, probs)
    for tries, (scale, degrees) in enumerate(GEOMETRY_SEARCH, start=2):
        got = decode_message(read_probs(affine(small, scale, degrees), model)[0], passphrase)
        if got is not None:
            return Reading(got, probs, scale, degrees, tries)
    return Reading(None, probs, tries=1 + len(GEOMETRY_SEARCH))
