"""spread: a message spread over the whole image (veil's default way to hide a text or an ID).

Shape (after the watermarking anchors InvisMark, TrustMark and MBRS, see docs/hide.md):
- The n payload bits (already error-corrected and keyed by :mod:`veil.payloads.message`) go through a fixed
  linear spreading layer to a small spatial map: a G x G grid of chips, each chip one bit times a
  pseudo-random sign, every bit on n/(G*G) cells scattered over the whole image (a fixed interleaver).
- A U-Net encoder sees the cover at the processing size and the chip map (fed in at two depths) and makes a
  residual there; the residual is upsampled and added at full size, so any cover size and aspect works.
- The decoder is a strided conv stack down to the chip grid (per-chip logits), followed by the transpose of
  the spreading layer: each bit's logit is the signed sum of its chips' logits, so every region of the
  image votes on every bit and local damage lands on many bits a little rather than on a few bits fully.

Tensor shapes: cover [B,3,H,W] float [0,1]; bits [B,n] in {0,1}; chip map [B,1,G,G] in {-1,+1};
residual [B,3,H,W]; chip logits [B,1,G,G]; bit logits [B,n].
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..imaging import quantize_8bit, resize
from ..layers import ConvBNAct
from .builders import register_model
from .base import FullSizeInference, register_calibrated_gain
from .contract import HIDING_OUTPUTS, VeilModel, inference

DEVIATIONS = [
    "Decoder: a strided conv stack to the chip grid followed by the fixed despreading layer (the transpose of the "
    "message's spreading layer), not global average pooling: with global pooling a 128-bit model stayed at chance "
    "for 700 steps on this CPU (shared/notes/spread-calibration.md), while aligned chips train as fast as the QR "
    "models.",
    "Processing size 128 px; encoder and decoder run on a 2x2 space-to-depth view.",
    "Crops and rotations are not trained for (they move the chip grid); reveal searches a few inverse "
    "zooms and rotations when the plain read fails (veil.spread).",
]


def chip_layout(n_bits: int, grid: int, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed interleaver: for each of the grid x grid cells (row-major) the bit it carries and its sign.
    Every bit gets the same number of cells (grid^2 must be a multiple of n_bits), scattered at random."""
    cells = grid * grid
    if cells % n_bits:
        raise ValueError(f"grid {grid}x{grid} = {cells} cells is not a multiple of {n_bits} bits")
    g = torch.Generator().manual_seed(seed)
    bit = torch.arange(cells) % n_bits
    bit = bit[torch.randperm(cells, generator=g)]
    sign = torch.randint(0, 2, (cells,), generator=g).float() * 2 - 1
    return bit, sign


class Down(nn.Sequential):
    """Stride-2 conv then a 3x3 conv, both conv-BN-ReLU: [B,cin,H,W] -> [B,cout,H/2,W/2]."""

    def __init__(self, cin: int, cout: int):
        super().__init__(nn.Conv2d(cin, cout, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True), ConvBNAct(cout, cout))


class Up(nn.Module):
    """Bilinear x2, concatenate the skip (and extra maps), two conv-BN-ReLU."""

    def __init__(self, cin: int, cskip: int, cout: int):
        super().__init__()
        self.body = nn.Sequential(ConvBNAct(cin + cskip, cout), ConvBNAct(cout, cout))

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.body(torch.cat([x, skip], 1))


class SpreadEncoder(nn.Module):
    """(cover [B,3,P,P], chip map [B,1,G,G]) -> residual [B,3,P,P].

    A U-Net on the 2x2 space-to-depth view (P/2): widths ``widths`` at P/2, P/4, P/8, P/16. The chip map is
    embedded by a small conv and joined at P/4 and (upsampled) at P/2, so the residual is shaped by both the
    cover and the message at two scales.
    """

    def __init__(self, widths=(32, 64, 96, 128), msg_ch: int = 16, s2d: int = 2):
        super().__init__()
        w0, w1, w2, w3 = widths
        self.s2d = s2d
        self.msg = nn.Sequential(nn.Conv2d(1, msg_ch, 3, padding=1), nn.ReLU(inplace=True))
        self.stem = nn.Sequential(ConvBNAct(3 * s2d * s2d, w0), ConvBNAct(w0, w0))
        self.d1, self.d2, self.d3 = Down(w0, w1), Down(w1 + msg_ch, w2), Down(w2, w3)
        self.u2, self.u1 = Up(w3, w2, w2), Up(w2, w1 + msg_ch, w1)
        self.u0 = Up(w1, w0 + msg_ch, w0)
        self.head = nn.Conv2d(w0, 3 * s2d * s2d, 1)
        nn.init.zeros_(self.head.bias)
        self.head.weight.data.mul_(0.1)
        # A direct path: the chip map itself (bilinear at P), in every channel, times a learned scale. It gives
        # the decoder an aligned signal from step 0, so training starts at once; the U-Net learns to shape,
        # mask and cancel it where the cover needs (the scale may shrink to zero).
        self.direct = nn.Parameter(torch.tensor(0.03))

    def forward(self, cover: torch.Tensor, chips: torch.Tensor) -> torch.Tensor:
        x0 = self.stem(F.pixel_unshuffle(cover - 0.5, self.s2d))          # P/2
        x1 = self.d1(x0)                                                   # P/4
        m1 = self.msg(F.interpolate(chips, size=x1.shape[-2:], mode="nearest"))
        x1 = torch.cat([x1, m1], 1)
        x2 = self.d2(x1)                                                   # P/8
        x3 = self.d3(x2)                                                   # P/16
        m0 = F.interpolate(m1, size=x0.shape[-2:], mode="nearest")
        y = self.u0(self.u1(self.u2(x3, x2), x1), torch.cat([x0, m0], 1))
        direct = F.interpolate(chips, size=cover.shape[-2:], mode="bilinear", align_corners=False)
        return F.pixel_shuffle(self.head(y), self.s2d) + self.direct * direct


class SpreadDecoder(nn.Module):
    """stego [B,3,P,P] -> chip logits [B,1,G,G]: strided convs from P/2 down to the chip grid, then dilated
    3x3 convs for context."""

    def __init__(self, grid: int, processing_size: int, width: int = 64, dilations=(1, 2, 4, 1), s2d: int = 2):
        super().__init__()
        self.s2d = s2d
        layers: list[nn.Module] = [ConvBNAct(3 * s2d * s2d, width)]
        size = processing_size // s2d
        while size > grid:
            layers.append(Down(width, width))
            size //= 2
        if size != grid:
            raise ValueError(f"processing size {processing_size} does not reach a {grid} grid by halving")
        layers += [ConvBNAct(width, width, dilation=d) for d in dilations]
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv2d(width, 1, 1)

    def forward(self, stego: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(F.pixel_unshuffle(stego - 0.5, self.s2d)))


class SpreadModel(FullSizeInference, VeilModel):
    task = "message"
    outputs = (*HIDING_OUTPUTS, "chip_logits", "logits")

    """The spread-message family: bits -> chip map -> residual; stego -> chip logits -> bit logits."""

    def __init__(self, n_bits: int = 256, processing_size: int = 128, grid: int = 32, widths=(32, 64, 96, 128),
                 dec_width: int = 64, dec_dilations=(1, 2, 4, 1), max_residual: float = 0.1, layout_seed: int = 1):
        super().__init__()
        self.n_bits, self.processing_size, self.grid = int(n_bits), int(processing_size), int(grid)
        self.max_residual = float(max_residual)
        bit, sign = chip_layout(self.n_bits, self.grid, layout_seed)
        self.register_buffer("chip_bit", bit, persistent=False)
        self.register_buffer("chip_sign", sign, persistent=False)
        self.encoder = SpreadEncoder(tuple(widths))
        self.decoder = SpreadDecoder(self.grid, self.processing_size, dec_width, tuple(dec_dilations))
        register_calibrated_gain(self)

    # -- the fixed spreading layer and its transpose ---------------------------------------------
    def spread(self, bits: torch.Tensor) -> torch.Tensor:
        """bits [B,n] in {0,1} -> chip map [B,1,G,G] in {-1,+1}."""
        m = bits.float() * 2 - 1
        return (m[:, self.chip_bit] * self.chip_sign).view(-1, 1, self.grid, self.grid)

    def despread(self, chip_logits: torch.Tensor) -> torch.Tensor:
        """chip logits [B,1,G,G] -> bit logits [B,n]: the signed sum of each bit's chips."""
        c = chip_logits.flatten(1) * self.chip_sign
        out = c.new_zeros(c.shape[0], self.n_bits)
        return out.index_add_(1, self.chip_bit, c)

    def chip_targets(self, bits: torch.Tensor) -> torch.Tensor:
        """What each chip logit should say (1 = positive chip), [B,1,G,G]."""
        return (self.spread(bits) > 0).float()

    # -- shared pieces -------------------------------------------------------------------------
    def residual(self, cover: torch.Tensor, bits: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
        """cover [B,3,H,W], bits [B,n] -> residual [B,3,H,W] at full size (the calibrated gain x ``strength``)."""
        return resize(self.small_residual(resize(cover, self.processing_size), bits, strength), cover.shape[-2:])

    def small_residual(self, small: torch.Tensor, bits: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
        """The residual at the processing size for the cover shrunk to it, ``small`` [B,3,P,P]."""
        r = self.encoder(small, self.spread(bits))
        if self.max_residual > 0:
            r = self.max_residual * torch.tanh(r / self.max_residual)
        return r * (self.calibrated_gain * strength)

    def processing_view(self, stego: torch.Tensor) -> torch.Tensor:
        """The stego image as the decoder sees it, [B,3,P,P] (reading it again at P is the identity)."""
        return resize(stego, self.processing_size)

    def chip_logits(self, stego: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.processing_view(stego))

    # -- training ------------------------------------------------------------------------------
    def forward(self, cover: torch.Tensor, bits: torch.Tensor, attack: nn.Module | None = None) -> dict:
        residual = self.residual(cover, bits)
        intended = cover + residual
        stego = quantize_8bit(intended.clamp(0, 1))
        received = quantize_8bit(attack(stego)) if attack is not None else stego
        chips = self.chip_logits(received)
        return {"residual": residual, "intended": quantize_8bit(intended, clip=False), "stego": stego,
                "received": received, "chip_logits": chips, "logits": self.despread(chips)}

    def decode(self, received: torch.Tensor) -> dict:
        """The decoder half of ``forward`` for an image attacked outside it: chip and bit logits."""
        chips = self.chip_logits(received)
        return {"chip_logits": chips, "logits": self.despread(chips)}

    # -- inference -----------------------------------------------------------------------------
    @inference
    def embed(self, cover: torch.Tensor, bits: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
        """cover [B,3,H,W], bits [B,n] -> stego [B,3,H,W] in [0,1] (float; round when saving)."""
        return (cover + self.residual(cover, bits, strength)).clamp_(0, 1)

    @inference
    def extract(self, stego: torch.Tensor) -> torch.Tensor:
        """stego [B,3,H,W] -> probability that each payload bit is 1, [B,n]."""
        return torch.sigmoid(self.despread(self.chip_logits(stego)))


@register_model
def spread(n_bits: int = 256, processing_size: int = 128, grid: int = 32, widths=(32, 64, 96, 128),
           dec_width: int = 64, dec_dilations=(1, 2, 4, 1), max_residual: float = 0.1,
           layout_seed: int = 1) -> SpreadModel:
    return SpreadModel(n_bits, processing_size, grid, widths, dec_width, dec_dilations, max_residual, layout_seed)
