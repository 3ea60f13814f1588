"""Training a disguise generator (seed 004) on its one pair: disguise image in, secret image out.

WGAN (paper Sec. 3): the critic f maximises E[f(secret)] - E[f(G(disguise))]; the generator minimises
-E[f(G(disguise))]. The Lipschitz constraint is a gradient penalty (WGAN-GP, Gulrajani et al. 2017) rather
than the original weight clipping; see ``DisguiseConfig`` for why and for the reconstruction term.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:                       # torch is imported when training starts, not with the CLI's parser
    import torch


@dataclass
class DisguiseConfig:
    """Defaults are the recipe behind ``results/disguise.json`` (256x256 grey: the paper's generator and critic).
    Every choice below was measured on held-out photos; the numbers are in docs/disguise.md.

    ``gp_weight``: WGAN-GP, not the original weight clipping. With one real image the critic only has to
    separate two points; clipping a 65,536-input critic to +-0.01 caps its slope at a value that has nothing to
    do with the distance between them, while the penalty holds the slope near 1 at every size.
    ``rec_weight``: an L1 reconstruction term ``rec_weight * mean|G(disguise) - secret|`` in the generator's
    loss, which the issue allows for convergence speed; it does the fitting (pure WGAN: SSIM 0.60 after 1,000
    steps; with it 0.997). The critic's gradient has a norm near 1 over all pixels, the mean L1's
    1/sqrt(pixels) (1/256 at 256x256), hence the large weight (100 gave 0.979).
    ``adv_weight``: the WGAN term; 0 trains with L1 alone, 5 times faster and as good on that measure.
    ``lr_in``: the first layer's learning rate as a fraction of ``lr``; 0 (default) keeps the random projection
    fixed and trains the output layer. Adam moves every weight by about ``lr`` a step, so a unit with 65,536
    inputs moves its pre-activation by about lr x |x|_1, 50 rad at lr 1e-3, and a layer trained on one image
    learns that image's direction, which made other photos give the secret back (models.disguise). At
    lr/256 it still cost fit: SSIM 0.924 against 0.997.
    """

    size: int = 256
    color: bool = False
    hidden: int = 64
    activation: str = "sin"
    steps: int = 1000
    lr: float = 1e-3
    lr_in: float = 0.0
    rec_weight: float = 1000.0
    adv_weight: float = 1.0
    gp_weight: float = 10.0
    critic_steps: int = 1
    seed: int = 0
    threads: int = 0            # 0 = torch's default

    def check(self) -> None:
        from .errors import InputError

        if not 8 <= self.size <= 1024:
            raise InputError(f"--size {self.size}: between 8 and 1024")
        if self.steps < 1 or self.hidden < 1 or self.critic_steps < 1:
            raise InputError("--steps, --hidden and critic steps must be at least 1")
        if self.lr <= 0 or self.lr_in < 0 or self.rec_weight < 0 or self.adv_weight < 0:
            raise InputError("learning rates and loss weights must be positive (lr_in and weights may be 0)")
        if self.rec_weight == 0 and self.adv_weight == 0:
            raise InputError("both loss weights are 0: nothing to train")


def _gradient_penalty(critic, real, fake):
    """(||grad f(x_hat)|| - 1)^2 at a random point between real and fake (Gulrajani et al., eq. 3)."""
    import torch

    a = torch.rand(real.shape[0], 1, 1, 1)
    x = (a * real + (1 - a) * fake).requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()


def train_disguise(disguise: torch.Tensor, secret: torch.Tensor, cfg: DisguiseConfig | None = None,
                   progress: bool = True):
    """Train a :class:`~veil.models.disguise.DisguiseGenerator` on one pair. ``disguise``, ``secret``:
    [1, 3, H, W] in [0, 1], any sizes (both are squashed to ``cfg.size``). Returns the generator (eval mode)
    and a dict of what happened (seconds, final losses, config)."""
    import torch
    from tqdm import tqdm

    from .models.disguise import DisguiseCritic, DisguiseGenerator, prepare

    cfg = cfg or DisguiseConfig()
    cfg.check()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    x = prepare(disguise, cfg.size, cfg.color)
    real = prepare(secret, cfg.size, cfg.color)
    gen = DisguiseGenerator(cfg.size, cfg.color, cfg.hidden, cfg.activation)
    critic = DisguiseCritic(cfg.size, cfg.color, cfg.hidden)
    # fused Adam: one pass over the 8 M weights instead of several (4x faster a step on this CPU)
    groups = [{"params": gen.fc2.parameters()}]
    if cfg.lr_in > 0:
        groups.append({"params": gen.fc1.parameters(), "lr": cfg.lr * cfg.lr_in})
    else:
        gen.fc1.requires_grad_(False)
    opt_g = torch.optim.Adam(groups, lr=cfg.lr, betas=(0.5, 0.9), fused=True)
    opt_d = torch.optim.Adam(critic.parameters(), lr=cfg.lr, betas=(0.5, 0.9), fused=True)
    adv = cfg.adv_weight > 0
    t0 = time.perf_counter()
    log = {}
    bar = tqdm(range(cfg.steps), disable=not progress, desc="train disguise", unit="step")
    for _ in bar:
        if adv:
            for _ in range(cfg.critic_steps):
                fake = gen(x)["generated"].detach()
                w_dist = critic(real).mean() - critic(fake).mean()
                loss_d = -w_dist + cfg.gp_weight * _gradient_penalty(critic, real, fake)
                opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                opt_d.step()
        fake = gen(x)["generated"]
        rec = (fake - real).abs().mean()
        loss_g = cfg.rec_weight * rec
        if adv:
            loss_g = loss_g - cfg.adv_weight * critic(fake).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        log = {"l1": rec.item(), "w_dist": w_dist.item() if adv else math.nan}
        bar.set_postfix(l1=f"{log['l1']:.4f}", refresh=False)
    bar.close()
    gen.eval()
    return gen, {"seconds": time.perf_counter() - t0, "torch_threads": torch.get_num_threads(), **log,
                 "config": asdict(cfg)}
