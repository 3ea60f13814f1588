"""StegNet (seed 003): image-into-image hiding with separable-convolution residual (SCR) blocks.

Embedder: cover and secret concatenated (3 + s channels) -> 3x3 lifting conv to 32 channels -> six SCR
blocks (32, 32, 64, 64, 128, 128) -> 3x3 reducing conv to 3 channels. The decoder has the same shape and
takes the stego image. No strides, no pooling (seed sec. 4.3): the model runs at any image size.
Batch norm runs in eval mode at inference (the public code left it in training mode).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .builders import register_model
from .image_base import ConcatEmbedder, ImageStegoModel

WIDTHS = (32, 32, 64, 64, 128, 128)

DEVIATIONS = [
    "The embedder's reducing layer predicts the change to the cover (stego = cover + output) instead of the "
    "stego image itself: the same network and loss, but it starts at the identity, which a 2-core CPU "
    "budget needs (the paper trained on a GPU for days).",
    "Adam at a higher learning rate than the paper's 1e-5 (see the recipe), on the shared/DATA.md photo corpus "
    "instead of 80% of ImageNet, with random-scale crops, flips and rotations.",
]


class SCR(nn.Module):
    """Separable Convolution with Residual: BN -> ELU -> 3x3 depthwise -> 1x1 pointwise, plus the input,
    zero-padded in channels when ``cout > cin``. [B, cin, H, W] -> [B, cout, H, W]."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        if cout < cin:
            raise ValueError("SCR widths only grow")
        self.bn = nn.BatchNorm2d(cin)
        self.depthwise = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1)
        self.extra = cout - cin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pointwise(self.depthwise(F.elu(self.bn(x))))
        skip = F.pad(x, (0, 0, 0, 0, 0, self.extra)) if self.extra else x
        return y + skip


class SCRStack(nn.Sequential):
    """Lifting conv -> SCR blocks -> reducing conv: [B, cin, H, W] -> [B, cout, H, W]."""

    def __init__(self, cin: int, cout: int, widths=WIDTHS):
        layers: list[nn.Module] = [nn.Conv2d(cin, widths[0], 3, padding=1)]
        prev = widths[0]
        for w in widths:
            layers.append(SCR(prev, w))
            prev = w
        layers += [nn.BatchNorm2d(prev), nn.ELU(), nn.Conv2d(prev, cout, 3, padding=1)]
        super().__init__(*layers)


class StegNet(ImageStegoModel):
    size_multiple = 1
    halo = 10   # receptive field: eight 3x3 layers -> 8 px radius; tiling is exact
    tile = 128  # small tiles stay in cache: 1024x1024 hide 4.4 s at 256 px tiles, 2.8-3.7 s at 128


@register_model
def stegnet(secret_channels: int = 3, widths: tuple[int, ...] = WIDTHS, residual: bool = True,
            highpass: int = 0) -> StegNet:
    """StegNet (seed 003). ``widths`` of the six SCR blocks; ``residual``: embedder outputs cover + change;
    ``highpass``: radius of the low frequencies removed from the change (0: none; see ConcatEmbedder)."""
    widths = tuple(widths)
    net = SCRStack(3 + secret_channels, 3, widths)
    enc = ConcatEmbedder(net, net[-1], residual, highpass)
    dec = SCRStack(3, secret_channels, widths)
    model = StegNet(enc, dec, secret_channels)
    model.halo = StegNet.halo + 2 * int(highpass)   # the low-pass reaches 2 radius further: tiling stays exact
    return model
