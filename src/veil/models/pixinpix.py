"""PixInPix (seed 002): U-Net encoder and U-Net decoder hiding an image (colour or grey) in an RGB cover.

Encoder input: cover and secret concatenated (3 + s channels). Five down steps of two 3x3 convs + ReLU,
doubling the channels up to 256, each followed by 2x2 max-pooling; five up steps of a 2x2 transposed
convolution halving the channels, concatenation with the down step's features, and two 3x3 convs +
ReLU; a 1x1 conv to the 3-channel stego image. The decoder has the same shape, takes the stego image
and outputs the secret.
Sides must be multiples of 32 (five poolings); ``embed``/``extract`` pad other sizes.
"""
from __future__ import annotations

import torch
from torch import nn

from .builders import register_model
from .image_base import ConcatEmbedder, ImageStegoModel

DEVIATIONS = [
    "Adam instead of SGD at lr 0.01, and the stego image is cover + U-Net output (the network learns the "
    "change), so a short CPU run starts from the identity.",
    "The two L2 losses are weighted 1 (cover) : secret_weight (recipe); the paper's weights are not given.",
]


def _double_conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(inplace=True))


class UNet(nn.Module):
    """[B, cin, H, W] -> [B, cout, H, W], H and W multiples of 2 ** len(widths)."""

    def __init__(self, cin: int, cout: int, widths=(16, 32, 64, 128, 256)):
        super().__init__()
        self.down = nn.ModuleList()
        prev = cin
        for w in widths:
            self.down.append(_double_conv(prev, w))
            prev = w
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ModuleList()
        self.upconv = nn.ModuleList()
        for i in reversed(range(len(widths))):
            skip = widths[i]
            out = widths[i - 1] if i > 0 else widths[0]
            self.up.append(nn.ConvTranspose2d(prev, prev // 2, 2, stride=2))   # U-Net: halve, then concat
            self.upconv.append(_double_conv(prev // 2 + skip, out))
            prev = out
        self.head = nn.Conv2d(prev, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = self.pool(x)
        for up, conv, skip in zip(self.up, self.upconv, reversed(skips)):
            x = conv(torch.cat([up(x), skip], 1))
        return self.head(x)


class PixInPix(ImageStegoModel):
    # Five poolings see far: tiles of 512 px get 64 px of context, an approximation at tile seams
    # (covers up to 512 px are one tile and exact).
    halo = 64


@register_model
def pixinpix(secret_channels: int = 3, widths: tuple[int, ...] = (16, 32, 64, 128, 256),
             residual: bool = True, highpass: int = 0) -> PixInPix:
    """PixInPix (seed 002): ``secret_channels`` 3 (colour) or 1 (grey, the MNIST-into-CIFAR case);
    ``highpass``: radius of the low frequencies removed from the change (0: none; see ConcatEmbedder)."""
    widths = tuple(widths)
    net = UNet(3 + secret_channels, 3, widths)
    model = PixInPix(ConcatEmbedder(net, net.head, residual, highpass), UNet(3, secret_channels, widths),
                     secret_channels)
    model.size_multiple = 2 ** len(widths)
    return model
