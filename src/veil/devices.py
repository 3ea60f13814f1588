"""Which device the networks run on: ``auto`` (a CUDA GPU when torch sees one, else the CPU), ``cpu`` or ``cuda``.

Training puts the whole run there (veil.train.accel). Inference (:func:`place`, used by veil.registry.load_model
after :func:`use`) moves only the networks, the model's parameterised sub-modules: a hook moves their inputs to the
device and their outputs back to the CPU, so everything around them (files, resizing, payload codes, the residual
added at full size) stays on the CPU, as it is without a GPU.
"""
from __future__ import annotations

import os

import torch

from .errors import InputError

DEVICES = ("auto", "cpu", "cuda")
_inference = ["cpu"]      # the device veil.registry.load_model places released models on (:func:`use`)


def pick_device(name: str | None = "auto") -> torch.device:
    """``auto`` | ``cpu`` | ``cuda`` (or ``cuda:N``) -> the torch device; in a torchrun job, ``auto`` and ``cuda``
    take the GPU of LOCAL_RANK. An unknown name, or ``cuda`` without a GPU, is an InputError."""
    name = (name or "auto").lower()
    if name not in DEVICES and not name.startswith("cuda:"):
        raise InputError(f"device {name!r}: auto, cpu or cuda")
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise InputError(f"device {name}: torch sees no CUDA GPU here (use --device cpu or auto)")
    if name.startswith("cuda:"):
        return torch.device(name)
    return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")) % torch.cuda.device_count())


def describe(device: torch.device) -> str:
    """The device in words, for cards and logs: ``cpu`` or ``cuda (NVIDIA ...)``."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return device.type


def use(name: str | None) -> torch.device:
    """Make ``name`` (see :func:`pick_device`) the device released models are loaded onto; returns it."""
    device = pick_device(name)
    _inference[0] = str(device)
    return device


def inference_device() -> torch.device:
    return torch.device(_inference[0])


def _move(x, device):
    if isinstance(x, torch.Tensor):
        return x.to(device)
    if isinstance(x, (list, tuple)):
        return type(x)(_move(t, device) for t in x)
    if isinstance(x, dict):
        return {k: _move(v, device) for k, v in x.items()}
    return x


def place(model: torch.nn.Module, device: torch.device | None = None) -> torch.nn.Module:
    """Put ``model``'s networks (its direct sub-modules that hold parameters) on ``device`` (default: the one
    :func:`use` chose) for inference, their inputs moved there and their outputs back to the CPU. On the CPU, the
    model as it is."""
    device = device or inference_device()
    if device.type == "cpu":
        return model
    for child in model.children():
        if next(child.parameters(), None) is None:
            continue
        child.to(device)
        child.register_forward_pre_hook(lambda m, args, kwargs: (_move(args, device), _move(kwargs, device)),
                                        with_kwargs=True)
        child.register_forward_hook(lambda m, args, out: _move(out, "cpu"))
    return model
