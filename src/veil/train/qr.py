"""Training loop of the QR-hiding models (``veil train qr``).

Each step: draw covers (random-scale photo crops + synthetic sharp covers) and random QR codes of
every version the model carries, hide, round to 8 bits (straight-through), reveal, and update
encoder and decoder together. The cover weight ``w_c`` is balanced by the running module error:
raised while errors stay under ``err_low``, lowered above ``err_high`` (shared/notes/qr-calibration.md).
Checkpoints (``last.pt``) hold model, optimiser, controller and RNG state, so runs resume exactly.
"""
from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path

import numpy as np
import torch

from ..data.covers import CoverSampler
from ..losses import module_error, qr_hiding_loss
from ..metrics import psnr
from ..payloads.qr import random_code, render_matrix
from ..registry import create_model
from .config import QRTrainConfig


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
        idx = [self.rng.randrange(len(self.images)) for _ in range(b)]
        return torch.stack([self.images[i] for i in idx])[:, None], [self.targets[i] for i in idx]


def _lr_at(cfg: QRTrainConfig, step: int) -> float:
    start = int(cfg.decay_from * cfg.steps)
    if step < start:
        return cfg.lr
    frac = (step - start) / max(1, cfg.steps - start)
    return cfg.lr * (1 - 0.9 * frac)


def _init_weights(model, source: str, only: list[str] | None = None, log=print) -> None:
    """Load released weights (model name) or a .safetensors file into ``model``, strength reset to 1.

    All tensors must match (strict), unless ``only`` lists name prefixes (e.g. ``["encoder."]``): then
    exactly the tensors under those prefixes are loaded, and they must all be present with equal shapes.
    """
    from safetensors.torch import load_file

    from ..registry import load_model

    sd = load_file(source) if source.endswith(".safetensors") else load_model(source).state_dict()
    if not only:
        model.load_state_dict(sd, strict=True)
    else:
        own = model.state_dict()
        keys = [k for k in own if any(k.startswith(p) for p in only)]
        bad = [k for k in keys if k not in sd or sd[k].shape != own[k].shape]
        if not keys or bad:
            raise ValueError(f"init_from {source}: cannot load {bad or only}")
        model.load_state_dict({k: sd[k] for k in keys}, strict=False)
        log(f"loaded {len(keys)} tensors under {', '.join(only)} from {source}")
    model.strength.fill_(1.0)


def make_optimizer(cfg: QRTrainConfig, params):
    if cfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    raise ValueError(f"unknown optimizer {cfg.optimizer}")


def train_qr(cfg: QRTrainConfig, out: Path, resume: bool = False, progress: bool = True, log=print) -> dict:
    """Train (or resume) a QR-hiding model; returns the final state dict summary. Writes ``out/last.pt``
    and ``out/log.jsonl``."""
    from tqdm import tqdm

    out.mkdir(parents=True, exist_ok=True)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    model = create_model(cfg.arch, **cfg.model)
    if cfg.init_from and not (resume and (out / "last.pt").is_file()):
        _init_weights(model, cfg.init_from, cfg.init_only, log)
        log(f"initialised from {cfg.init_from}")
    opt = make_optimizer(cfg, model.parameters())
    state = {"step": 0, "cover_weight": cfg.cover_weight, "err_ema": None, "wall": 0.0}
    covers = CoverSampler(cfg.data, cfg.crop, cfg.synthetic_prob, seed=cfg.seed, sizes=cfg.crop_sizes)
    pool = QRPool(cfg.qr_pool, model.processing_size, model.spec, cfg.seed)
    attack = None
    if cfg.attacks:
        from ..attacks import RandomAttacks, parse_attack

        attack = RandomAttacks([parse_attack(a) for a in cfg.attacks], p_none=1 - cfg.attack_prob,
                               max_chain=cfg.attack_max_chain)
    ckpt = out / "last.pt"
    if resume and ckpt.is_file():
        saved = torch.load(ckpt, map_location="cpu", weights_only=False)
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        state = saved["state"]
        covers.rng.setstate(saved["cover_rng"])
        pool.rng.setstate(saved["pool_rng"])
        torch.set_rng_state(saved["torch_rng"])
        log(f"resumed from step {state['step']}")
    (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=1))
    model.train()
    logf = open(out / "log.jsonl", "a")
    bar = tqdm(total=cfg.steps, initial=state["step"], disable=not progress, desc=f"train {cfg.arch}", unit="step")
    t_last = time.time()

    def save():
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "state": state,
                    "config": cfg.to_dict(), "cover_rng": covers.rng.getstate(), "pool_rng": pool.rng.getstate(),
                    "torch_rng": torch.get_rng_state()}, ckpt)

    while state["step"] < cfg.steps:
        step = state["step"]
        for g in opt.param_groups:
            g["lr"] = _lr_at(cfg, step)
        cover = covers.sample(cfg.batch)
        qr, targets = pool.sample(cfg.batch)
        o = model(cover, qr, attack)
        terms = qr_hiding_loss(o, cover, qr, cfg.loss, state["cover_weight"], cfg.beta)
        opt.zero_grad(set_to_none=True)
        terms["loss"].backward()
        opt.step()
        err = float(module_error(o["logits"], targets))
        # The running error starts at the first batch's error (not a fixed guess), so a fine-tune from
        # released weights keeps its cover weight instead of lowering it while the average settles.
        state["err_ema"] = err if state["err_ema"] is None else 0.95 * state["err_ema"] + 0.05 * err
        if cfg.adaptive:
            if state["err_ema"] < cfg.err_low:
                state["cover_weight"] = min(cfg.max_cover_weight, state["cover_weight"] * (1 + cfg.adapt_rate))
            elif state["err_ema"] > cfg.err_high:
                state["cover_weight"] = max(1e-3, state["cover_weight"] / (1 + cfg.adapt_rate))
        state["step"] = step + 1
        now = time.time()
        state["wall"] += now - t_last
        t_last = now
        if not all(math.isfinite(float(v.detach())) for v in terms.values()):
            raise FloatingPointError(f"non-finite loss at step {step}: {terms}")
        if state["step"] % cfg.log_every == 0 or state["step"] == cfg.steps:
            rec = {"step": state["step"], "loss": float(terms["loss"].detach()), "cover": float(terms["cover"]),
                   "qr": float(terms["qr"]), "module_err": err, "err_ema": state["err_ema"],
                   "cover_weight": state["cover_weight"], "psnr": psnr(o["stego"].detach(), cover),
                   "attack": attack.last if attack is not None else "none", "crop": covers.crop,
                   "wall_s": round(state["wall"], 1)}
            logf.write(json.dumps(rec) + "\n")
            logf.flush()
            bar.set_postfix(psnr=f"{rec['psnr']:.1f}", err=f"{state['err_ema']:.4f}", wc=f"{state['cover_weight']:.3g}")
        if state["step"] % cfg.ckpt_every == 0 or state["step"] == cfg.steps:
            save()
        bar.update(1)
    bar.close()
    logf.close()
    model.eval()
    return {"model": model, "state": state, "covers": covers}
