"""The training loop every family shares: learning-rate schedule, optimiser, exact resume from
``out/last.pt`` (model, optimiser, run state and every RNG), JSON-lines log, progress bar.

A family supplies ``step_fn(state) -> (terms, record)``: one optimisation step on a fresh batch (its batch moved by
``opt.to``, its loss handed to ``opt.update``: veil.train.accel.Updater; the loop runs it under ``opt.autocast()``),
returning its loss terms (checked for finiteness) and, on log
steps, what to log. ``state`` is a dict saved with the checkpoint (``step`` and ``wall`` are the loop's;
a family may keep its own keys there, e.g. the QR cover-weight controller).
"""
from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import torch

from ..files import write_atomic, write_json
from .accel import Updater


def lr_at(cfg, step: int) -> float:
    """Constant ``cfg.lr`` until ``cfg.decay_from`` of the run, then linear decay to 10%."""
    start = int(cfg.decay_from * cfg.steps)
    if step < start:
        return cfg.lr
    frac = (step - start) / max(1, cfg.steps - start)
    return cfg.lr * (1 - 0.9 * frac)


def make_optimizer(cfg, params):
    if cfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    raise ValueError(f"unknown optimizer {cfg.optimizer}")


def init_weights(model, source: str, only: list[str] | None = None, log=print) -> None:
    """Load released weights (model name) or a .safetensors file into ``model``, QR strength reset to 1.

    All tensors must match (strict), unless ``only`` lists name prefixes (e.g. ``["encoder."]``): then
    exactly the tensors under those prefixes are loaded, and they must all be present with equal shapes.
    """
    from safetensors.torch import load_file

    from ..registry import load_model

    sd = load_file(source) if source.endswith(".safetensors") else load_model(source, task=None).state_dict()
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
    if hasattr(model, "strength"):   # QR models: the calibrated gain starts again at 1
        model.calibrated_gain.fill_(1.0)


def start_model(cfg, out: Path, resume: bool, log=print):
    """The model a run trains: torch threads and seed from ``cfg``, ``cfg.arch`` built with ``cfg.model``, and
    ``cfg.init_from`` loaded unless the run resumes from ``out/last.pt``."""
    from ..registry import create_model

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    model = create_model(cfg.arch, **cfg.model)
    init_from = getattr(cfg, "init_from", None)       # families that fine-tune have it
    if init_from and not (resume and (out / "last.pt").is_file()):
        init_weights(model, init_from, getattr(cfg, "init_only", None), log)
        log(f"initialised from {init_from}")
    return model


def run_loop(cfg, out: Path, model, opt: Updater, state: dict, rngs: dict, step_fn: Callable[[dict], tuple[dict, dict]],
             resume: bool = False, progress: bool = True, log=print, dist=None) -> dict:
    """Run ``step_fn`` until ``cfg.steps``; ``rngs`` maps names to objects with getstate/setstate (data
    samplers' ``random.Random``), restored on resume together with torch's RNG. ``dist``
    (veil.train.distributed.Dist): in a torchrun job, rank 0 alone writes, and the log holds the mean over ranks."""
    from tqdm import tqdm

    from .distributed import Dist

    dist = dist or Dist()
    if dist.main:
        out.mkdir(parents=True, exist_ok=True)
    ckpt = out / "last.pt"
    if resume and ckpt.is_file():
        saved = torch.load(ckpt, map_location="cpu", weights_only=False)
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        state.clear()
        state.update(saved["state"])
        saved_rngs = saved.get("rngs") or {k: saved[k] for k in rngs}   # checkpoints before 0.2 kept them on top
        for name, rng in rngs.items():
            rng.setstate(saved_rngs[name])
        torch.set_rng_state(saved["torch_rng"])
        opt.load_scaler_state(saved.get("scaler"))
        if saved.get("cuda_rng") is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state(saved["cuda_rng"])
        log(f"resumed from step {state['step']}" + (f" ({saved['state'].get('processes', 1)} processes before, "
                                                    f"{dist.world} now)" if dist.world > 1 else ""))
    state["processes"] = dist.world
    if dist.main:
        write_json(out / "config.json", cfg.to_dict())

    def save():
        saved = {"model": model.state_dict(), "optimizer": opt.state_dict(), "state": state, "config": cfg.to_dict(),
                 "rngs": {k: r.getstate() for k, r in rngs.items()}, "torch_rng": torch.get_rng_state(),
                 "scaler": opt.scaler_state(),
                 "cuda_rng": torch.cuda.get_rng_state() if torch.cuda.is_available() else None}
        write_atomic(ckpt, lambda tmp: torch.save(saved, tmp), force=True)

    model.train()
    bar = tqdm(total=cfg.steps, initial=state["step"], disable=not progress, desc=f"train {cfg.arch}", unit="step")
    t_last = time.time()
    with open(out / "log.jsonl", "a") if dist.main else open(os.devnull, "w") as logf:
        while state["step"] < cfg.steps:
            step = state["step"]
            for g in opt.param_groups:
                g["lr"] = lr_at(cfg, step)
            state["log_now"] = (step + 1) % cfg.log_every == 0 or step + 1 == cfg.steps
            with opt.autocast():
                terms, record = step_fn(state)
            state["step"] = step + 1
            now = time.time()
            state["wall"] += now - t_last
            t_last = now
            if not all(math.isfinite(float(v.detach())) for v in terms.values()):
                raise FloatingPointError(f"non-finite loss at step {step}: {terms}")
            if state.pop("log_now"):
                rec = {"step": state["step"], **dist.mean(record), "wall_s": round(state["wall"], 1)}
                logf.write(json.dumps(rec) + "\n")
                logf.flush()
                bar.set_postfix({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in record.items()
                                 if k in ("psnr", "err_ema", "cover_weight", "secret_psnr")})
            if dist.main and (state["step"] % cfg.ckpt_every == 0 or state["step"] == cfg.steps):
                save()
            bar.update(1)
    bar.close()
    model.eval()
    return state
