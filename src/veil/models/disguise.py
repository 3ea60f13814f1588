"""Image disguise (seed 004: Duan, Song, Zhang & Liu, *Image Disguise based on Generative Model*).

No secret travels: the sender trains a generator that turns one ordinary "disguise" image into the secret
image and sends the disguise image and the generator's weights; the receiver feeds the one to the other.

Generator (paper Fig. 4), fully connected: C*S*S inputs -> 64 hidden -> C*S*S outputs, 65,536 -> 64 -> 65,536
at the paper's 256x256 grey. Critic (Fig. 5): C*S*S -> 64 -> 1, trained with the Wasserstein loss
(``veil.disguise``). Tensors at the boundary: [B, C, S, S] in [0, 1], C = 1 (grey) or 3 (colour).

The paper gives the layer sizes and nothing else; what it leaves open is decided here, and why (the
numbers are from runs on held-out photos, docs/disguise.md):

- Input: the disguise image standardised (zero mean, unit variance per image). Raw pixels are all positive,
  so any two photos point the same way (cosine 0.8-0.9) and a generator cannot tell them apart.
- First layer: a random projection, kept fixed by training (``DisguiseConfig.lr_in`` = 0). Trained on one
  image with Adam, it learns one direction, the disguise image's, and the hidden code of any other photo
  becomes a function of that photo's correlation with it: in a prototype with a trained first layer (tanh,
  PyTorch's default init), photos correlating positively with the disguise image gave the secret back
  (SSIM 0.995) and negatively its negative (SSIM -0.22, pixel correlation -1).
- Hidden units: ``sin`` with a random phase (random Fourier features, pre-activation standard deviation
  ``bandwidth`` = 3 rad): the kernel exp(-bandwidth^2 (1 - rho)) is 0.002 for photos whose standardised
  pixels correlate by rho = 0.3, so different photos get unrelated hidden codes. ``tanh`` on the same fixed
  projection measured as well on held-out pairs (its kernel grows with rho; the noise below covers it).
- Output: sigmoid, no bias: a bias does not depend on the input, so it would hand part of the secret to every
  image. The output layer starts with logits of standard deviation 3 (``out_scale``), so an image the
  generator was not trained on gives high-contrast noise; with PyTorch's default init (0.4) the prototype's
  mismatched outputs were faint copies or negatives of the secret (pixel correlation up to 0.52) that SSIM
  (<= 0.1) does not see.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .builders import register_model
from .contract import VeilModel, inference

ACTIVATIONS = ("sin", "tanh")


def prepare(x: torch.Tensor, size: int, color: bool) -> torch.Tensor:
    """Any [B, 3, H, W] image in [0, 1] -> the [B, C, size, size] the generator works at (squashed, not cropped;
    grey is ITU-R 601 luma, as PIL's "L")."""
    from ..ops import luma
    from ..imaging import resize

    x = resize(x, (size, size))
    return x if color else luma(x)


class DisguiseGenerator(VeilModel):
    """Disguise image [B, C, S, S] -> secret image [B, C, S, S], both in [0, 1]."""

    task = "disguise"
    outputs = ("generated",)

    def __init__(self, size: int = 256, color: bool = False, hidden: int = 64, activation: str = "sin",
                 bandwidth: float = 3.0, out_scale: float = 3.0):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation {activation!r}: one of {ACTIVATIONS}")
        self.size, self.color, self.activation = size, color, activation
        n = (3 if color else 1) * size * size
        self.fc1 = nn.Linear(n, hidden)
        self.fc2 = nn.Linear(hidden, n, bias=False)
        with torch.no_grad():
            # standardised input has |x|^2 = n, so std bandwidth/sqrt(n) gives pre-activations of std `bandwidth`
            self.fc1.weight.normal_(0.0, bandwidth / math.sqrt(n))
            if activation == "sin":
                self.fc1.bias.uniform_(-math.pi, math.pi)
            else:
                self.fc1.bias.zero_()
            # E[sin^2] = 1/2 (tanh of std 3 is about as large): output logits start with std `out_scale`
            self.fc2.weight.normal_(0.0, out_scale / math.sqrt(hidden / 2))

    @property
    def channels(self) -> int:
        return 3 if self.color else 1

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Training: the prepared disguise [B, C, S, S] -> {"generated": the secret's estimate [B, C, S, S]}."""
        return {"generated": self.net(x)}

    def net(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        z = x.reshape(b, -1)
        z = (z - z.mean(1, keepdim=True)) / z.std(1, keepdim=True).clamp_min(1e-6)
        pre = self.fc1(z)
        h = torch.sin(pre) if self.activation == "sin" else torch.tanh(pre)
        return torch.sigmoid(self.fc2(h)).reshape(b, self.channels, self.size, self.size)

    @inference
    def generate(self, disguise: torch.Tensor) -> torch.Tensor:
        """Inference: any-size disguise image [B, 3, H, W] in [0, 1] -> the secret [B, C, S, S]."""
        return self.net(prepare(disguise, self.size, self.color))


class DisguiseCritic(nn.Module):
    """WGAN critic (paper Fig. 5): image [B, C, S, S] in [0, 1] -> score [B] (no sigmoid: a Wasserstein critic)."""

    def __init__(self, size: int = 256, color: bool = False, hidden: int = 64):
        super().__init__()
        n = (3 if color else 1) * size * size
        self.net = nn.Sequential(nn.Linear(n, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.reshape(x.shape[0], -1) - 0.5)[:, 0]


@register_model
def disguise(size: int = 256, color: bool = False, hidden: int = 64, activation: str = "sin") -> DisguiseGenerator:
    """Seed 004's generator: a disguise image -> the secret image. Trained per image pair (``veil disguise
    train``): its weights are the key, so it has no released weights."""
    return DisguiseGenerator(size, color, hidden, activation)


# ----------------------------------------------------------------------------- key file <-> generator

def generator_meta(gen: DisguiseGenerator) -> dict:
    return {"arch": "disguise", "size": gen.size, "color": gen.color, "hidden": gen.fc1.out_features,
            "activation": gen.activation, "weights_dtype": "float16"}


def generator_to_bytes(gen: DisguiseGenerator) -> bytes:
    """safetensors bytes of the state_dict in float16: half the size of float32, and the 8-bit output moves by
    at most one level (on about 5% of the pixels of an untrained generator; tested)."""
    from safetensors.torch import save

    return save({k: v.detach().to(torch.float16).contiguous() for k, v in gen.state_dict().items()})


def generator_from_bytes(meta: dict, weights: bytes) -> DisguiseGenerator:
    """Rebuild the generator a key file describes; strict loading. Raises ValueError on anything inconsistent."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    try:
        size, hidden, color, act = int(meta["size"]), int(meta["hidden"]), meta["color"], meta["activation"]
    except (KeyError, TypeError, ValueError):
        raise ValueError("incomplete metadata") from None
    if meta.get("arch") != "disguise" or not (8 <= size <= 1024 and 1 <= hidden <= 4096) \
            or not isinstance(color, bool) or act not in ACTIVATIONS:
        raise ValueError("metadata out of range")
    try:
        state = load(weights)
    except (SafetensorError, ValueError) as e:
        raise ValueError(f"weights: {e}") from None
    gen = DisguiseGenerator(size, color, hidden, act)
    try:
        gen.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    except RuntimeError:
        raise ValueError("weights do not match the metadata") from None
    return gen.eval()
