"""The contract every image-into-image hiding model follows.

A model is an ``encoder`` that maps (cover, secret) -> stego image and a ``decoder`` that maps a stego
image -> the revealed secret, all at the same size, float [0,1] NCHW. The secret has
``secret_channels`` channels (3 = colour, 1 = grey).

Two faces:
- ``forward`` (training): returns a dict of named tensors; the stego image is clipped and rounded to
  8 bits in the loop (straight-through gradient), as a saved file would be, before it is revealed.
- ``embed`` / ``extract`` (inference): no gradients, eval-mode batch norm, any image size (tiles of
  ``tile`` px with ``halo`` px of context, padded by reflection to a multiple of ``size_multiple``);
  ``embed_array`` / ``extract_array`` do the same on a file's uint8 pixels, tile by tile.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..imaging import quantize_8bit
from .contract import HIDING_OUTPUTS, VeilModel, inference


def pad_to_multiple(x: torch.Tensor, m: int) -> torch.Tensor:
    """Reflect-pad NCHW ``x`` on the bottom and right so both sides are multiples of ``m``."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % m, (-w) % m
    if not ph and not pw:
        return x
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode)


def _tiles(h: int, w: int, tile: int, halo: int, progress: str | None):
    """(y0, y1, x0, x1, ya, yb, xa, xb) of each ``tile`` x ``tile`` output block and of its block plus ``halo``
    pixels of context, in raster order, with a progress bar on stderr (``progress``: its label) above 4 tiles."""
    from tqdm.auto import tqdm

    n = -(-h // tile) * -(-w // tile)
    with tqdm(total=n, desc=progress, unit="tile", disable=progress is None or n <= 4, leave=False) as bar:
        for y0 in range(0, h, tile):
            for x0 in range(0, w, tile):
                y1, x1 = min(h, y0 + tile), min(w, x0 + tile)
                yield y0, y1, x0, x1, max(0, y0 - halo), min(h, y1 + halo), max(0, x0 - halo), min(w, x1 + halo)
                bar.update()


def tiled(fn, inputs: list[torch.Tensor], tile: int, halo: int, multiple: int, progress: str | None = None
          ) -> torch.Tensor:
    """Apply ``fn`` to NCHW ``inputs`` (same H, W) tile by tile: each ``tile`` x ``tile`` output block is
    computed from its block plus ``halo`` pixels of context on every side (padded to ``multiple``), so
    memory stays bounded at any image size. Exact when ``halo`` covers the network's receptive field.
    ``progress``: a label for a progress bar on stderr, shown when there are more than 4 tiles."""
    h, w = inputs[0].shape[-2:]
    out = None
    for y0, y1, x0, x1, ya, yb, xa, xb in _tiles(h, w, tile, halo, progress):
        crops = [pad_to_multiple(t[..., ya:yb, xa:xb], multiple).contiguous(memory_format=torch.channels_last)
                 for t in inputs]
        y = fn(*crops)[..., y0 - ya:y1 - ya, x0 - xa:x1 - xa]
        if out is None:
            out = y.new_empty((y.shape[0], y.shape[1], h, w))
        out[..., y0:y1, x0:x1] = y
    return out


def tiled_array(fn, inputs: list[np.ndarray], tile: int, halo: int, multiple: int, progress: str | None = None
                ) -> np.ndarray:
    """:func:`tiled` on a file's pixels: uint8 HxWxC ``inputs`` in, uint8 HxWxC out, each tile converted to float
    [0,1] NCHW for ``fn``, and its output clipped and rounded to 8 bits, so that no float copy of the whole image
    is ever made. The same pixels as :func:`tiled` on the whole image rounded after."""
    from ..imaging import tensor_to_uint8, uint8_to_tensor

    h, w = inputs[0].shape[:2]
    out = None
    for y0, y1, x0, x1, ya, yb, xa, xb in _tiles(h, w, tile, halo, progress):
        crops = [pad_to_multiple(uint8_to_tensor(a[ya:yb, xa:xb]), multiple).contiguous(
            memory_format=torch.channels_last) for a in inputs]
        y = tensor_to_uint8(fn(*crops)[..., y0 - ya:y1 - ya, x0 - xa:x1 - xa])
        if out is None:
            out = np.empty((h, w, y.shape[2]), np.uint8)
        out[y0:y1, x0:x1] = y
    return out


def lowpass(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Two passes of a (2 ``radius`` + 1)-wide box filter per channel (close to a Gaussian of sigma ~ 0.8
    ``radius``), reflect-padded so the mean over the image is kept; reaches 2 ``radius`` px."""
    for _ in range(2):
        mode = "reflect" if min(x.shape[-2:]) > radius else "replicate"
        x = F.avg_pool2d(F.pad(x, (radius,) * 4, mode=mode), 2 * radius + 1, stride=1)
    return x


class ConcatEmbedder(nn.Module):
    """(cover, secret) -> ``net``(cover ++ secret), plus the cover when ``residual`` (the network then
    learns the change, and its last layer ``head`` starts at zero: stego = cover at step 0).

    ``highpass`` > 0 (residual only) removes the change's low frequencies, :func:`lowpass` of that radius,
    before adding it: the stego image keeps the cover's local mean colour by construction, so the hidden
    image cannot show as a colour cast, only as fine texture."""

    def __init__(self, net: nn.Module, head: nn.Conv2d, residual: bool, highpass: int = 0):
        super().__init__()
        self.net = net
        self.residual = residual
        if highpass and not residual:
            raise ValueError("highpass needs a residual embedder")
        self.highpass = int(highpass)
        if residual:
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)

    def forward(self, cover: torch.Tensor, secret: torch.Tensor) -> torch.Tensor:
        out = self.net(torch.cat([cover, secret], 1))
        if self.highpass:
            out = out - lowpass(out, self.highpass)
        return cover + out if self.residual else out


class ImageStegoModel(VeilModel):
    """Base class: subclasses set ``encoder`` (cover, secret -> stego) and ``decoder`` (stego -> secret)."""

    task = "image"
    outputs = (*HIDING_OUTPUTS, "revealed")
    size_multiple = 1        # side lengths the networks need (pooling U-Nets: 2 ** depth)
    secret_channels = 3
    tile = 512               # inference works on tiles of this side ...
    halo = 16                # ... with this much context around each (>= the receptive field's radius)

    def __init__(self, encoder: nn.Module, decoder: nn.Module, secret_channels: int = 3):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.secret_channels = int(secret_channels)
        # channels-last convolutions are ~2x faster on CPU here (measured: stegnet 1024x1024 hide 8.9 s -> 4.4 s)
        self.to(memory_format=torch.channels_last)

    # -- training ------------------------------------------------------------------------------
    def forward(self, cover: torch.Tensor, secret: torch.Tensor, attack: nn.Module | None = None) -> dict:
        stego = self.encoder(cover, secret)
        stego_8bit = quantize_8bit(stego)         # clipped to [0, 1], rounded; straight-through
        received = quantize_8bit(attack(stego_8bit)) if attack is not None else stego_8bit
        return {"residual": stego - cover, "intended": stego, "stego": stego_8bit, "received": received,
                "revealed": self.decoder(received)}

    # -- inference -----------------------------------------------------------------------------
    @inference
    def embed(self, cover: torch.Tensor, secret: torch.Tensor, progress: bool = False) -> torch.Tensor:
        """cover [B,3,H,W], secret [B,secret_channels,H,W] -> stego [B,3,H,W] in [0,1] (round when saving).
        ``progress``: a progress bar on stderr for images of more than 4 tiles."""
        if secret.shape[-2:] != cover.shape[-2:]:
            raise ValueError(f"secret {tuple(secret.shape[-2:])} and cover {tuple(cover.shape[-2:])} differ in size")
        return tiled(self.encoder, [cover, secret], self.tile, self.halo, self.size_multiple,
                     "hiding" if progress else None).clamp_(0, 1)

    @inference
    def extract(self, stego: torch.Tensor, progress: bool = False) -> torch.Tensor:
        """stego [B,3,H,W] -> revealed secret [B,secret_channels,H,W] in [0,1]."""
        return tiled(self.decoder, [stego], self.tile, self.halo, self.size_multiple,
                     "revealing" if progress else None).clamp_(0, 1)

    @inference
    def embed_array(self, cover: np.ndarray, secret: np.ndarray, progress: bool = False) -> np.ndarray:
        """:meth:`embed` on a file's pixels: cover uint8 HxWx3, secret uint8 HxWx``secret_channels`` -> the stego,
        uint8 HxWx3 (the same pixels as :meth:`embed` rounded, with no float copy of the whole image)."""
        if secret.shape[:2] != cover.shape[:2]:
            raise ValueError(f"secret {secret.shape[:2]} and cover {cover.shape[:2]} differ in size")
        return tiled_array(self.encoder, [cover, secret], self.tile, self.halo, self.size_multiple,
                           "hiding" if progress else None)

    @inference
    def extract_array(self, stego: np.ndarray, grey: bool = False, progress: bool = False) -> np.ndarray:
        """:meth:`extract` on a file's pixels: uint8 HxWx3 -> the revealed secret, uint8 HxWxC (C =
        ``secret_channels``, or 1 with ``grey``: the mean of the revealed channels before rounding)."""
        def reveal(x):
            out = self.decoder(x).clamp(0, 1)
            return out.mean(1, keepdim=True) if grey else out

        return tiled_array(reveal, [stego], self.tile, self.halo, self.size_multiple,
                           "revealing" if progress else None)
