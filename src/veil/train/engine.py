"""The one training engine: :func:`fit` runs any family (its model from :func:`veil.train.loop.start_model`: seed,
threads, architecture, initial weights; its steps through :func:`veil.train.loop.run_loop`: checkpoint, bit-exact
resume, log, progress), and :func:`export` writes the weights and the card every family writes the same way, with
what only it knows added. A family module gives ``setup``: its samplers, its state and its step."""
from __future__ import annotations

import importlib
import os
import platform
from pathlib import Path

from ..files import write_json
from ..weights import save_weights


def fit(cfg, out: Path, setup, resume: bool = False, progress: bool = True, log=print) -> dict:
    """Train (or resume from ``out/last.pt``) the model ``cfg`` describes. ``setup(cfg, model, opt, out, log)``
    returns the family's (state, rngs, step, extras): the state the loop checkpoints (with ``step`` and ``wall``), the
    samplers' random generators it restores on resume, the function of one step (``step(state) -> (loss terms, log
    record)``) and anything the caller gets back beside the model and the final state."""
    from ..data.covers import sharded
    from ..devices import describe, pick_device
    from .accel import Updater, pick_amp
    from .distributed import start
    from .loop import make_optimizer, run_loop, start_model

    device = pick_device(cfg.device)     # cpu, or the GPU (of this process's LOCAL_RANK in a torchrun job)
    amp = pick_amp(cfg.amp, device)
    dist = start(device)                 # torchrun: this process's rank (veil.train.distributed); else one process
    if not dist.main:
        log = _quiet
    model = start_model(cfg, out, resume, log).to(device)
    net = dist.wrap(model)
    opt = Updater(make_optimizer(cfg, model.parameters()), device, amp)
    if device.type != "cpu" or amp != "none":
        log(f"training on {describe(device)}" + (f" in {amp} autocast" if amp != "none" else ""))
    held_out = _write_val_list(cfg, out) if dist.main else 0
    with sharded(dist.rank, dist.world):
        state, rngs, step, extras = setup(cfg, net, opt, out, log)
        state = run_loop(cfg, out, model, opt, state, rngs, step, resume=resume, progress=progress and dist.main,
                         log=log, dist=dist)
    dist.finish()
    model.cpu()                          # the same weights file and card from any device
    state["device"], state["amp"] = describe(device), amp
    if held_out:
        state["val_files"] = held_out
    return {"model": model, "state": state, "main": dist.main, **extras}


def _write_val_list(cfg, out: Path) -> int:
    """A family with photos and a ``val_share``: list its validation split in ``out/val_files.txt`` (for ``veil eval
    ... --images``); the number of photos held out."""
    from ..data.covers import write_val_list

    if not getattr(cfg, "data", None) or getattr(cfg, "val_share", 0) <= 0:
        return 0
    out.mkdir(parents=True, exist_ok=True)
    return write_val_list(cfg.data, cfg.val_share, out / "val_files.txt")


def _quiet(*args, **kwargs) -> None:
    """The log of ranks other than 0."""


def machine() -> str:
    """What trained it: the CPU count and the device (the card records it beside the wall time)."""
    import torch

    device = f"GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "no GPU"
    return f"{os.cpu_count()}-core {platform.machine()} CPU, {device}"


def export(model, cfg, out: Path, state: dict, command: str, *, task: str, payload: dict | None, data: str,
           deviations: list[str] | None = None, head: dict | None = None, training: dict | None = None,
           metrics: dict | None = None, half: bool = False) -> dict:
    """Write ``out/<arch>.<tag>.safetensors`` (float16 with ``half``) and its card ``out/<arch>.<tag>.json``;
    return the card. Every card has the same core: name, arch, tag, task, the summary line of the family's module,
    the builder's kwargs, the parameter count, ``payload``, the weights' file, sha256, size and dtype, the training
    command, config, steps, wall time, ``data`` and machine, the deviations from the paper (the module's
    ``DEVIATIONS`` unless given) and ``metrics``. ``head`` adds family keys after the core's first ones,
    ``training`` adds to the training section."""
    name = f"{cfg.arch}.{cfg.tag}"
    wfile = out / f"{name}.safetensors"
    digest = save_weights(model, wfile, half=half)
    from ..models.builders import BUILDERS

    mod = importlib.import_module(BUILDERS[cfg.arch].__module__)         # the family's module: summary, deviations
    card = {"name": name, "arch": cfg.arch, "tag": cfg.tag, "task": task, **(head or {}),
            "summary": (mod.__doc__ or "").strip().splitlines()[0],
            "kwargs": cfg.model, "parameters": sum(p.numel() for p in model.parameters())}
    card.setdefault("payload", payload)
    card.update({
        "weights": {"file": wfile.name, "sha256": digest, "bytes": wfile.stat().st_size,
                    "dtype": "float16" if half else "float32"},
        "training": {"command": command, "config": cfg.to_dict(), "steps": state["step"],
                     "wall_time_s": round(state["wall"], 1), "data": data, "machine": machine(),
                     "device": state.get("device", "cpu"), "amp": state.get("amp", "none"),
                     **({"processes": state["processes"]} if state.get("processes", 1) > 1 else {}),
                     **({"val_files": state["val_files"]} if state.get("val_files") else {}),
                     **(training or {})},
        "deviations": list(deviations if deviations is not None else getattr(mod, "DEVIATIONS", [])),
        "metrics": metrics or {},
    })
    write_json(out / f"{name}.json", card)
    return card
