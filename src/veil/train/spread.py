"""Training loop of the spread-message model (``veil train spread``).

Each step: draw covers (random-scale photo crops + synthetic sharp covers) and random payload bits, hide,
round to 8 bits (straight-through), and read back. Following the watermarking anchors:
- a curriculum: no attacks until the running bit error falls under ``attack_start_err``, then every batch
  goes through ``attack_k`` attacks drawn from the recipe and each image keeps its worst message loss;
- the cover weight rises over the run as the bits allow: a controller raises it while the running bit
  error (after the attacks) stays under ``err_low`` and lowers it above ``err_high`` (the balance that made
  the QR models learn here, shared/notes/qr-calibration.md);
- a cover term that tracks what people see (losses.message: flatness-weighted MSE plus luma SSIM).
Checkpoints hold model, optimiser, controller and RNG state, so runs resume exactly.
"""
from __future__ import annotations

from pathlib import Path

import torch

from ..data.covers import CoverSampler, take_shard
from ..imaging import quantize_8bit
from ..losses import bit_error, cover_loss, message_loss
from ..metrics import psnr
from .config import SpreadTrainConfig
from .distributed import global_mean
from .engine import fit


def setup(cfg, model, opt, out: Path, log=print):
    """The family's part of a run (veil.train.engine.fit): samplers, state and step."""
    from ..attacks import parse_attack

    state = {"step": 0, "cover_weight": cfg.cover_weight, "err_ema": None, "attacks_on": not cfg.attacks,
             "wall": 0.0}
    covers = CoverSampler(cfg.data, cfg.crop, cfg.synthetic_prob, seed=cfg.seed, sizes=cfg.crop_sizes,
                          workers=cfg.workers, val_share=cfg.val_share)
    attacks = [parse_attack(a) for a in cfg.attacks]

    def step_fn(state: dict) -> tuple[dict, dict]:
        cover = opt.to(covers.sample(cfg.batch))
        bits = opt.to(take_shard(lambda total: torch.randint(0, 2, (total, model.n_bits)), cfg.batch))
        o = model(cover, bits)
        targets = model.chip_targets(bits)
        names = ["none"]
        if state["attacks_on"] and attacks:
            idx = torch.randperm(len(attacks))[:cfg.attack_k].tolist()
            names = [attacks[i].spec() for i in idx]
            per = []
            for i in idx:
                d = model.decode(quantize_8bit(attacks[i](o["stego"])))
                per.append((message_loss(d["chip_logits"], d["logits"], targets, bits, cfg.bit_weight), d["logits"]))
            losses = torch.stack([p[0] for p in per])               # [k, B]
            worst = losses.argmax(0)                                 # each image's worst attack
            msg = losses.gather(0, worst[None])[0].mean()
            logits = torch.stack([p[1] for p in per])[worst, torch.arange(cfg.batch)]
        else:
            msg = message_loss(o["chip_logits"], o["logits"], targets, bits, cfg.bit_weight).mean()
            logits = o["logits"]
        c = cover_loss(o["intended"], cover, cfg.cover_tau, cfg.ssim_weight)
        # A loud start: the cover term joins once the bits read (before that it only pulls the residual, and
        # with it the decoder's signal, to zero).
        loss = (state["cover_weight"] * c["cover"] if state["attacks_on"] or not attacks else 0) + msg
        opt.update(loss)
        err = global_mean(bit_error(logits, bits))
        state["err_ema"] = err if state["err_ema"] is None else 0.95 * state["err_ema"] + 0.05 * err
        if not state["attacks_on"] and state["err_ema"] < cfg.attack_start_err:
            state["attacks_on"] = True
            log(f"step {state['step']}: bit error {state['err_ema']:.3f}, attacks on")
        if cfg.adaptive and state["attacks_on"]:
            if state["err_ema"] < cfg.err_low:
                state["cover_weight"] = min(cfg.max_cover_weight, state["cover_weight"] * (1 + cfg.adapt_rate))
            elif state["err_ema"] > cfg.err_high:
                state["cover_weight"] = max(cfg.min_cover_weight, state["cover_weight"] / (1 + cfg.adapt_rate))
        terms = {"loss": loss.detach(), "cover": c["cover"].detach(), "message": msg.detach()}
        record = {}
        if state["log_now"]:
            record = {"loss": float(loss.detach()), "cover": float(c["cover"].detach()),
                      "message": float(msg.detach()), "bit_err": err,
                      "err_ema": state["err_ema"], "cover_weight": state["cover_weight"],
                      "psnr": psnr(o["stego"].detach(), cover), "ssim": float(c["ssim"]),
                      "attack": "|".join(names), "crop": covers.crop}
        return terms, record

    return state, {"cover_rng": covers.rng}, step_fn, {"covers": covers}


def train_spread(cfg: SpreadTrainConfig, out: Path, resume: bool = False, progress: bool = True, log=print) -> dict:
    """Train (or resume) a spread-message model: {"model", "state", "covers"}. Writes ``out/last.pt`` and
    ``out/log.jsonl``."""
    return fit(cfg, out, setup, resume, progress, log)
