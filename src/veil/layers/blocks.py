"""Convolution blocks shared by the model families.

FC-DenseNet pieces follow Jegou et al., "The One Hundred Layers Tiramisu" (CVPRW 2017), sec. 3.
"""
from __future__ import annotations

import torch
from torch import nn


class ConvBNAct(nn.Sequential):
    """3x3 (or k x k) convolution -> batch norm -> activation. Shapes: [B, cin, H, W] -> [B, cout, H, W]."""

    def __init__(self, cin: int, cout: int, k: int = 3, dilation: int = 1, bn: bool = True, act: bool = True):
        layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, padding=dilation * (k // 2), dilation=dilation, bias=not bn)]
        if bn:
            layers.append(nn.BatchNorm2d(cout))
        if act:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class DenseLayer(nn.Sequential):
    """Tiramisu layer: BN -> ReLU -> 3x3 conv (``growth`` maps) -> dropout."""

    def __init__(self, cin: int, growth: int, dropout: float):
        super().__init__(nn.BatchNorm2d(cin), nn.ReLU(inplace=True),
                         nn.Conv2d(cin, growth, 3, padding=1, bias=False), nn.Dropout2d(dropout))


class DenseBlock(nn.Module):
    """Dense block: each layer sees the concatenation of the block input and all earlier outputs.

    ``forward`` returns the input concatenated with the new maps ([B, cin + n*growth, H, W]), or
    only the new maps ([B, n*growth, H, W]) when ``new_only`` (the Tiramisu up path, to keep the
    upsampled tensors small).
    """

    def __init__(self, cin: int, n_layers: int, growth: int, dropout: float = 0.2, new_only: bool = False):
        super().__init__()
        self.layers = nn.ModuleList(DenseLayer(cin + i * growth, growth, dropout) for i in range(n_layers))
        self.new_only = new_only
        self.cout = n_layers * growth if new_only else cin + n_layers * growth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [x]
        for layer in self.layers:
            feats.append(layer(torch.cat(feats, 1)))
        return torch.cat(feats[1:] if self.new_only else feats, 1)


class TransitionDown(nn.Sequential):
    """BN -> ReLU -> 1x1 conv with stride 2 (the seed's variant; the Tiramisu paper max-pools)."""

    def __init__(self, c: int, dropout: float = 0.2):
        super().__init__(nn.BatchNorm2d(c), nn.ReLU(inplace=True), nn.Conv2d(c, c, 1, stride=2, bias=False),
                         nn.Dropout2d(dropout))


class TransitionUp(nn.ConvTranspose2d):
    """3x3 transposed convolution with stride 2: [B, c, H, W] -> [B, c, 2H, 2W]."""

    def __init__(self, c: int):
        super().__init__(c, c, 3, stride=2, padding=1, output_padding=1)
