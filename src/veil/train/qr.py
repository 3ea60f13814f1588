"""Training loop of the QR-hiding models (``veil train qr``).

Each step: draw covers (random-scale photo crops + synthetic sharp covers) and random QR codes of
every version the model carries, hide, round to 8 bits (straight-through), reveal, and update
encoder and decoder together. The cover weight ``w_c`` is balanced by the running module error:
raised while errors stay under ``err_low``, lowered above ``err_high`` (shared/notes/qr-calibration.md).
Checkpoints (``last.pt``) hold model, optimiser, controller and RNG state, so runs resume exactly.
"""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from ..data.covers import CoverSampler, take_shard
from ..losses import module_error, qr_hiding_loss
from ..metrics import psnr
from ..payloads.qr import random_code, render_matrix
from .config import QRTrainConfig
from .distributed import global_mean
from .engine import fit


class QRPool:
    """Random QR codes rendered at the processing size, with their module targets."""

    def __init__(self, n: int, size: int, spec, seed: int):
        rng = random.Random(seed)
        self.images, self.targets = [], []
        for _ in range(n):
            code = random_code(rng, spec)
            self.images.append(torch.from_numpy(render_matrix(code.matrix, size, spec.border)))
            m = np.pad(code.matrix, spec.border, constant_values=False)
            self.targets.append(torch.from_numpy((~m).astype(np.float32)))
        self.rng = random.Random(seed + 1)

    def sample(self, b: int):
        """``b`` codes and their targets (in a sharded run, this process's slice of the run's whole batch)."""
        idx = take_shard(lambda total: [self.rng.randrange(len(self.images)) for _ in range(total)], b)
        return torch.stack([self.images[i] for i in idx])[:, None], [self.targets[i] for i in idx]


def setup(cfg, model, opt, out: Path, log=print):
    """The family's part of a run (veil.train.engine.fit): samplers, state and step."""
    state = {"step": 0, "cover_weight": cfg.cover_weight, "err_ema": None, "wall": 0.0}
    covers = CoverSampler(cfg.data, cfg.crop, cfg.synthetic_prob, seed=cfg.seed, sizes=cfg.crop_sizes,
                          workers=cfg.workers, val_share=cfg.val_share)
    pool = QRPool(cfg.qr_pool, model.processing_size, model.spec, cfg.seed)
    attack = None
    if cfg.attacks:
        from ..attacks import RandomAttacks, parse_attack

        attack = RandomAttacks([parse_attack(a) for a in cfg.attacks], p_none=1 - cfg.attack_prob,
                               max_chain=cfg.attack_max_chain)

    def step_fn(state: dict) -> tuple[dict, dict]:
        cover = opt.to(covers.sample(cfg.batch))
        qr, targets = opt.to(pool.sample(cfg.batch))
        o = model(cover, qr, attack)
        terms = qr_hiding_loss(o, cover, qr, cfg.loss, state["cover_weight"], cfg.beta, cfg.cover_rmse)
        opt.update(terms["loss"])
        err = global_mean(float(module_error(o["logits"], targets)))
        # The running error starts at the first batch's error (not a fixed guess), so a fine-tune from
        # released weights keeps its cover weight instead of lowering it while the average settles.
        state["err_ema"] = err if state["err_ema"] is None else 0.95 * state["err_ema"] + 0.05 * err
        if cfg.adaptive:
            if state["err_ema"] < cfg.err_low:
                state["cover_weight"] = min(cfg.max_cover_weight, state["cover_weight"] * (1 + cfg.adapt_rate))
            elif state["err_ema"] > cfg.err_high:
                state["cover_weight"] = max(cfg.min_cover_weight, state["cover_weight"] / (1 + cfg.adapt_rate))
        record = {}
        if state["log_now"]:
            record = {"loss": float(terms["loss"].detach()), "cover": float(terms["cover"]),
                      "qr": float(terms["qr"]), "module_err": err, "err_ema": state["err_ema"],
                      "cover_weight": state["cover_weight"], "psnr": psnr(o["stego"].detach(), cover),
                      "attack": attack.last if attack is not None else "none", "crop": covers.crop}
        return terms, record

    return state, {"cover_rng": covers.rng, "pool_rng": pool.rng}, step_fn, {"covers": covers}


def train_qr(cfg: QRTrainConfig, out: Path, resume: bool = False, progress: bool = True, log=print) -> dict:
    """Train (or resume) a QR-hiding model: {"model", "state", "covers"}. Writes ``out/last.pt`` and
    ``out/log.jsonl``."""
    return fit(cfg, out, setup, resume, progress, log)
