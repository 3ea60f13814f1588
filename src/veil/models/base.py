"""The contract every QR-hiding model follows.

A model is an ``encoder`` that maps (cover at the processing size, QR image) to a residual, and a
``decoder`` that maps a stego image at the processing size to per-pixel QR logits. Hiding works at
any cover size: the cover is shrunk to the processing size, the residual is computed there,
upsampled and added at full size (VideoSeal/TrustMark style). Revealing shrinks the stego image.

Two faces:
- ``forward`` (training): returns a dict of named tensors, rounds the stego to 8 bits in the loop
  with a straight-through gradient, and can apply an attack between hiding and revealing.
- ``embed`` / ``extract`` (inference): no gradients, any image size, eval-mode batch norm.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..ops import gaussian_blur
from ..imaging import add_residual_array, quantize_8bit, resize, shrink_array
from ..payloads.qr import QRSpec
from .contract import HIDING_OUTPUTS, VeilModel, inference  # noqa: F401  (inference: re-exported)


# The calibrated gain's key in weight files. A saved scalar buffer is part of the file format, so the files keep the
# key they were released with; in code the buffer is ``calibrated_gain``.
GAIN_FILE_KEY = "strength"


def register_calibrated_gain(model: nn.Module) -> None:
    """Give a hiding model its ``calibrated_gain`` buffer (1 until veil.train.calibrate sets it; every hide multiplies
    it by the hide's ``strength``), stored in state dicts and weight files under :data:`GAIN_FILE_KEY`."""
    model.register_buffer("calibrated_gain", torch.tensor(1.0))

    def to_file(module, state_dict, prefix, local_metadata):
        state_dict[prefix + GAIN_FILE_KEY] = state_dict.pop(prefix + "calibrated_gain")

    def from_file(module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        if prefix + GAIN_FILE_KEY in state_dict:
            state_dict[prefix + "calibrated_gain"] = state_dict.pop(prefix + GAIN_FILE_KEY)

    model.register_state_dict_post_hook(to_file)
    model.register_load_state_dict_pre_hook(from_file)


class FullSizeInference:
    """Inference on a file's pixels (uint8 HxWx3, any size) for a model that hides a residual computed at its
    processing size: the full-size work runs in stripes (veil.imaging), so memory stays near the file's own size."""

    processing_size: int

    @inference
    def embed_array(self, a: np.ndarray, payload: torch.Tensor, strength: float = 1.0) -> np.ndarray:
        """uint8 HxWx3 cover -> uint8 HxWx3 stego, as :meth:`embed` rounded to 8 bits (the same up to rounding ties:
        one level, on a few pixels in 10,000)."""
        p = self.processing_size
        return add_residual_array(a, self.small_residual(shrink_array(a, (p, p)), payload, strength))

    def small_view(self, a: np.ndarray) -> torch.Tensor:
        """uint8 HxWx3 -> the image as the decoder sees it, [1,3,P,P] (``extract`` of it is ``extract`` of the
        whole image)."""
        return shrink_array(a, (self.processing_size, self.processing_size))


class QRStegoModel(FullSizeInference, VeilModel):
    task = "qr"
    outputs = (*HIDING_OUTPUTS, "logits")

    def __init__(self, encoder: nn.Module, decoder: nn.Module, processing_size: int = 128,
                 max_version: int = 4, border: int = 2, max_residual: float = 0.0,
                 residual_blur: float = 0.0, residual_luma: bool = False):
        super().__init__()
        # Soft bound on the residual at the processing size (tanh), 0 = unbounded. Keeps training out of
        # the "loud code" minimum where the QR is painted over the cover and never fades.
        self.max_residual = float(max_residual)
        # Shape of the residual, fixed (no parameters), for models that must survive lossy channels:
        # ``residual_luma`` gives every channel the same change (JPEG keeps luma at full resolution and
        # quantises it finely, while it halves and coarsely quantises chroma); ``residual_blur`` is a Gaussian
        # sigma at the processing size that keeps the residual in the low frequencies JPEG, blur and
        # resizing preserve. 0 / False = the seed's free residual.
        self.residual_blur = float(residual_blur)
        self.residual_luma = bool(residual_luma)
        self.encoder = encoder
        self.decoder = decoder
        self.processing_size = int(processing_size)
        self.spec = QRSpec(max_version=max_version, border=border)
        register_calibrated_gain(self)

    # -- shared pieces -------------------------------------------------------------------------
    def residual(self, cover: torch.Tensor, qr: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
        """cover [B,3,H,W] in [0,1], qr [B,1,P,P] -> residual [B,3,H,W]: the calibrated gain x ``strength``."""
        r = self.small_residual(resize(cover, self.processing_size), qr, strength)
        return resize(r, cover.shape[-2:]).expand_as(cover)

    def small_residual(self, small: torch.Tensor, qr: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
        """The residual at the processing size ([B,1 or 3,P,P]; upsampling it is the full-size residual) for the
        cover shrunk to it, ``small`` [B,3,P,P]."""
        r = self.encoder(small, qr)
        if self.max_residual > 0:
            r = self.max_residual * torch.tanh(r / self.max_residual)
        if self.residual_luma:
            r = r.mean(1, keepdim=True)  # one channel through blur and upsampling, the same change in R, G, B
        if self.residual_blur > 0:
            r = gaussian_blur(r, self.residual_blur)
        return r * (self.calibrated_gain * strength)  # at the processing size (resizing is linear): cheaper

    def logits(self, stego: torch.Tensor) -> torch.Tensor:
        """stego [B,3,H,W] -> QR logits [B,1,P,P] (positive = light module)."""
        return self.decoder(resize(stego, self.processing_size))

    # -- training ------------------------------------------------------------------------------
    def forward(self, cover: torch.Tensor, qr: torch.Tensor, attack: nn.Module | None = None) -> dict:
        residual = self.residual(cover, qr)
        intended = cover + residual
        # What the file holds: clipped to [0, 1] and rounded to 8 bits (straight-through rounding).
        stego_8bit = quantize_8bit(intended.clamp(0, 1))
        # An attacked image is again a file's pixels: rounded to 8 bits (straight-through).
        received = quantize_8bit(attack(stego_8bit)) if attack is not None else stego_8bit
        # The cover loss reads "intended" (rounded, not clipped): a clipped pixel still feels the pull back
        # into range, otherwise training can stay stuck at a loud, saturated residual.
        return {"residual": residual, "intended": quantize_8bit(intended, clip=False), "stego": stego_8bit,
                "received": received, "logits": self.logits(received)}

    # -- inference -----------------------------------------------------------------------------
    @inference
    def embed(self, cover: torch.Tensor, qr: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
        """cover [B,3,H,W], qr [B,1,P,P] -> stego [B,3,H,W] in [0,1] (float; round when saving).
        ``strength`` multiplies the calibrated gain (veil.strength picks it per image)."""
        return (cover + self.residual(cover, qr, strength)).clamp_(0, 1)

    @inference
    def extract(self, stego: torch.Tensor) -> torch.Tensor:
        """stego [B,3,H,W] -> probability that each pixel of the QR image is light, [B,1,P,P]."""
        return torch.sigmoid(self.logits(stego))
