"""xunet: a learned steganalyser after Xu, Wu & Shi, "Structural design of convolutional neural networks
for steganalysis" (IEEE SPL 2016), sized for a 2-core CPU and for colour images.

Blocks: a fixed KV high-pass filter per colour channel (the residual domain where stego noise shows), then
five groups: conv 5x5 + ABS + BN + tanh, conv 5x5 + BN + tanh, then three 1x1 convs + BN + ReLU, each
group followed by average pooling (the last one global), and a linear layer to one logit (stego vs clean).
Fully convolutional up to the global pooling, so it scores images of any size from 16 px.

Training ``forward`` takes x [B,3,H,W] in [0,1] and returns {"logits": [B]}; inference :meth:`XuNet.score`
returns P(stego) [B] under no_grad in eval mode. Each released weight is trained against one veil model
(``xunet.<model>``; ``veil steganalyser train``).
"""
from __future__ import annotations

import torch
from torch import nn

from .builders import register_model
from .contract import VeilModel, inference

DEVIATIONS = [
    "Colour input: the KV filter is applied to R, G and B separately (Xu et al. work on grey images).",
    "Channel widths are a `width` multiple of the paper's 8-16-32-64-128 (default 1: the paper's).",
]

# Ker-Vovk 5x5 high-pass kernel (the SRM "KV" filter) that Xu et al. put in front of the network.
KV = torch.tensor([[-1, 2, -2, 2, -1],
                   [2, -6, 8, -6, 2],
                   [-2, 8, -12, 8, -2],
                   [2, -6, 8, -6, 2],
                   [-1, 2, -2, 2, -1]], dtype=torch.float32) / 12.0


class XuNet(VeilModel):
    task = "steganalysis"
    outputs = ("logits",)

    def __init__(self, width: int = 1):
        super().__init__()
        w = [8 * width, 16 * width, 32 * width, 64 * width, 128 * width]
        self.register_buffer("hpf", KV.expand(3, 1, 5, 5).clone(), persistent=False)
        self.conv1 = nn.Conv2d(3, w[0], 5, padding=2, bias=False)
        self.bn1 = nn.BatchNorm2d(w[0])
        self.conv2 = nn.Conv2d(w[0], w[1], 5, padding=2, bias=False)
        self.bn2 = nn.BatchNorm2d(w[1])
        self.tail = nn.ModuleList(
            nn.Sequential(nn.Conv2d(a, b, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU(inplace=True))
            for a, b in zip(w[1:-1], w[2:]))
        self.pool = nn.AvgPool2d(5, stride=2, padding=2)
        self.fc = nn.Linear(w[-1], 1)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """x [B,3,H,W] in [0,1] -> {"logits": [B]} (positive: stego)."""
        r = nn.functional.conv2d(x * 255.0, self.hpf, padding=2, groups=3)
        h = self.pool(torch.tanh(self.bn1(self.conv1(r).abs())))
        h = self.pool(torch.tanh(self.bn2(self.conv2(h))))
        for i, block in enumerate(self.tail):
            h = block(h)
            h = h.mean((2, 3)) if i == len(self.tail) - 1 else self.pool(h)
        return {"logits": self.fc(h)[:, 0]}

    @inference
    def score(self, x: torch.Tensor) -> torch.Tensor:
        """x [B,3,H,W] in [0,1] (8-bit values) -> P(stego) [B]."""
        return torch.sigmoid(self.forward(x)["logits"])


def score_images(model: XuNet, images) -> list[float]:
    """P(stego) of each PIL image (any sizes: scored one by one; grey images as three equal channels)."""
    from ..imaging import pil_to_tensor

    return [float(model.score(pil_to_tensor(img.convert("RGB")))[0]) for img in images]


@register_model
def xunet(width: int = 1) -> XuNet:
    return XuNet(width=width)
