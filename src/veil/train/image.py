"""Training loop of the image-into-image hiding models (``veil train image``).

Each step: draw covers and secrets (random-scale crops of different training photos, a share of them
synthetic or turned grey; or handwritten digits as 1-channel secrets), hide, clip and round the stego
image to 8 bits (straight-through), reveal, and update embedder and decoder together on the recipe's loss.
"""
from __future__ import annotations

import math
from pathlib import Path

import torch

from ..ops import luma
from ..data.covers import CoverSampler
from ..losses import image_hiding_loss
from ..metrics import psnr
from .config import ImageTrainConfig
from .distributed import global_mean
from .engine import fit


def grey(x: torch.Tensor) -> torch.Tensor:
    """RGB [B,3,H,W] -> its luma replicated to 3 channels."""
    return luma(x).expand(-1, 3, -1, -1).contiguous()


class SecretSampler:
    """Secrets for a batch at the batch's size: photo crops (``grey_prob`` of them grey) and/or handwritten
    digits (``secrets`` = photos | digits | mixed; mixed draws ``digits_prob`` of each batch from the digits).
    Grey secrets go to 3-channel models replicated; colour ones to 1-channel models as luma."""

    def __init__(self, cfg: ImageTrainConfig, channels: int):
        self.channels = channels
        self.grey_prob = cfg.grey_prob
        if cfg.secrets not in ("photos", "digits", "mixed"):
            raise ValueError(f"secrets = {cfg.secrets!r}: photos, digits or mixed")
        self.digits_prob = {"photos": 0.0, "digits": 1.0, "mixed": cfg.digits_prob}[cfg.secrets]
        self.photos = self.digits = None
        if self.digits_prob > 0:
            from ..data.digits import DigitSampler

            path = cfg.digits or (str(Path(cfg.data).parent / "digits" / "train.npy") if cfg.data else None)
            if path is None:
                raise FileNotFoundError("digit secrets need --data or digits = PATH")
            self.digits = DigitSampler(path, seed=cfg.seed + 2)
        if self.digits_prob < 1:
            self.photos = CoverSampler(cfg.data, cfg.crop, cfg.synthetic_prob, seed=cfg.seed + 1,
                                       sizes=cfg.crop_sizes, workers=cfg.workers, val_share=cfg.val_share)
        self.rng = (self.photos or self.digits).rng

    def _to_channels(self, s: torch.Tensor) -> torch.Tensor:
        if s.shape[1] == 3 and self.channels == 1:
            return grey(s)[:, :1]
        if s.shape[1] == 1 and self.channels == 3:
            return s.expand(-1, 3, -1, -1).contiguous()
        return s

    def sample(self, n: int, size: int) -> torch.Tensor:
        """``n`` secrets (in a sharded run, this process's slice of the run's whole batch, grey picks included)."""
        from ..data.covers import sharded, take_shard

        def draw(total):
            with sharded(0, 1):
                return self._draw(total, size)

        return take_shard(draw, n)

    def _draw(self, n: int, size: int) -> torch.Tensor:
        n_digits = sum(self.rng.random() < self.digits_prob for _ in range(n)) if 0 < self.digits_prob < 1 else \
            int(n * self.digits_prob)
        parts = []
        if n - n_digits:
            s = self.photos.sample(n - n_digits, size)
            if self.grey_prob > 0 and s.shape[1] == 3:
                pick = torch.tensor([self.rng.random() < self.grey_prob for _ in range(len(s))])
                if pick.any():
                    s[pick] = grey(s[pick])
            parts.append(self._to_channels(s))
        if n_digits:
            parts.append(self._to_channels(self.digits.sample(n_digits, size)))
        return torch.cat(parts)


def setup(cfg, model, opt, out: Path, log=print):
    """The family's part of a run (veil.train.engine.fit): samplers, state and step."""
    state = {"step": 0, "wall": 0.0, "cover_weight": cfg.cover_weight, "psnr_ema": None}
    covers = CoverSampler(cfg.data, cfg.crop, cfg.synthetic_prob, seed=cfg.seed, sizes=cfg.crop_sizes,
                          workers=cfg.workers, val_share=cfg.val_share)
    secrets = SecretSampler(cfg, model.secret_channels)
    attack = None
    if cfg.attacks:
        from ..attacks import RandomAttacks, parse_attack

        attack = RandomAttacks([parse_attack(a) for a in cfg.attacks], p_none=1 - cfg.attack_prob,
                               max_chain=cfg.attack_max_chain)

    def step_fn(state: dict) -> tuple[dict, dict]:
        cover = opt.to(covers.sample(cfg.batch)).contiguous(memory_format=torch.channels_last)
        secret = opt.to(secrets.sample(cfg.batch, covers.crop)).contiguous(memory_format=torch.channels_last)
        o = model(cover, secret, attack)
        w_c = state.get("cover_weight", cfg.cover_weight)
        terms = image_hiding_loss(o, cover, secret, cfg.loss, w_c, cfg.secret_weight, cfg.cast_weight)
        opt.update(terms["loss"])
        cover_psnr = global_mean(psnr(o["stego"].detach(), cover))
        if cfg.cover_psnr > 0 and math.isfinite(cover_psnr):   # steer the cover weight to hold the target PSNR
            ema = state.get("psnr_ema")
            state["psnr_ema"] = ema = cover_psnr if ema is None else 0.95 * ema + 0.05 * cover_psnr
            step = 1 + cfg.adapt_rate
            state["cover_weight"] = min(1e4, w_c * step) if ema < cfg.cover_psnr else max(1e-3, w_c / step)
        record = {}
        if state["log_now"]:
            record = {k: float(v.detach()) for k, v in terms.items()}
            record.update(psnr=cover_psnr, secret_psnr=psnr(o["revealed"].detach().clamp(0, 1), secret),
                          crop=covers.crop, cover_weight=w_c)
        return terms, record

    return state, {"cover_rng": covers.rng, "secret_rng": secrets.rng}, step_fn, {}


def train_image(cfg: ImageTrainConfig, out: Path, resume: bool = False, progress: bool = True, log=print) -> dict:
    """Train (or resume) an image-hiding model (channels-last, the model's own choice: ~1.6x faster steps):
    {"model", "state"}. Writes ``out/last.pt`` and ``out/log.jsonl``."""
    return fit(cfg, out, setup, resume, progress, log)
