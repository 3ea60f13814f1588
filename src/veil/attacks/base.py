"""Attack base class, chains and random chains."""
from __future__ import annotations

import torch
from torch import nn

Strength = float | tuple[float, float]


def straight_through(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Forward value ``y``, gradient of the identity with respect to ``x``."""
    return x + (y - x).detach()


class Attack(nn.Module):
    """x [B,3,H,W] in [0,1] -> attacked x of the same shape, clipped to [0,1].

    ``strength`` is a number or a (lo, hi) range, drawn uniformly once per call from torch's
    global generator (so seeded training runs repeat).
    """

    name = "attack"
    unit = ""

    def __init__(self, strength: Strength = 0.0):
        super().__init__()
        if isinstance(strength, (tuple, list)):
            lo, hi = float(strength[0]), float(strength[1])
            if lo > hi:
                raise ValueError(f"{self.name}: range {lo}-{hi} is reversed")
            self.strength: Strength = (lo, hi)
        else:
            self.strength = float(strength)

    def reach(self) -> int | None:
        """Rows of context an output row depends on (0: each pixel alone; None: the whole image), so that a large
        image can be attacked in stripes with this much overlap and give the same pixels as attacked whole."""
        return None

    # stripes start on multiples of this many rows (JPEG's 16-row MCUs)
    align = 1

    def draw(self) -> float:
        if isinstance(self.strength, tuple):
            lo, hi = self.strength
            return lo + (hi - lo) * float(torch.rand(()))
        return self.strength

    def apply(self, x: torch.Tensor, s: float) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.apply(x, self.draw()).clamp(0, 1)

    def extra_repr(self) -> str:
        s = self.strength
        return f"{s[0]:g}-{s[1]:g}" if isinstance(s, tuple) else f"{s:g}"

    def spec(self) -> str:
        return f"{self.name}:{self.extra_repr()}"


class Identity(Attack):
    name = "none"

    def apply(self, x, s):
        return x

    def reach(self):
        return 0

    def spec(self) -> str:
        return "none"


class Chain(Attack):
    """Apply attacks in order."""

    name = "chain"

    def __init__(self, *attacks: Attack):
        super().__init__(0.0)
        self.attacks = nn.ModuleList(attacks)

    def forward(self, x):
        for a in self.attacks:
            x = a(x)
        return x

    def reach(self):
        r = [a.reach() for a in self.attacks]
        return None if None in r else sum(r)

    @property
    def align(self):
        import math
        return math.lcm(1, *[a.align for a in self.attacks])

    def spec(self) -> str:
        return "+".join(a.spec() for a in self.attacks)

    def extra_repr(self) -> str:
        return ""


class RandomAttacks(Attack):
    """Training augmentation: each call applies a random chain of 0..``max_chain`` attacks drawn from
    ``choices`` (no attack with probability ``p_none``)."""

    name = "random"

    def __init__(self, choices: list[Attack], p_none: float = 0.2, max_chain: int = 2):
        super().__init__(0.0)
        if not choices:
            raise ValueError("RandomAttacks needs at least one attack")
        self.choices = nn.ModuleList(choices)
        self.p_none, self.max_chain = float(p_none), int(max_chain)
        self.last: str = "none"

    def forward(self, x):
        if float(torch.rand(())) < self.p_none:
            self.last = "none"
            return x
        n = 1 + int(torch.randint(self.max_chain, ()))
        idx = torch.randperm(len(self.choices))[:n].tolist()
        self.last = "+".join(self.choices[i].spec() for i in idx)
        for i in idx:
            x = self.choices[i](x)
        return x

    def spec(self) -> str:
        return f"random({', '.join(a.spec() for a in self.choices)})"

    def extra_repr(self) -> str:
        return f"p_none={self.p_none}, max_chain={self.max_chain}"
