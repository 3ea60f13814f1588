"""How a run computes: on its device (``device = auto | cpu | cuda``, ``--device``: veil.devices.pick_device) and in
its precision (``amp = auto | none | bf16 | fp16``, ``--amp``).

- ``amp = auto`` is bf16 on a GPU that has it (fp16 on one that has not) and none on the CPU; ``bf16`` also runs on
  the CPU (torch's CPU autocast).
- The family's step runs its forward pass under autocast (:meth:`Updater.autocast`, entered by the loop) and hands
  its loss to :meth:`Updater.update`, which runs the backward pass outside autocast, through a gradient scaler for
  fp16, and steps the optimiser. Batches reach the device through :meth:`Updater.to`.
- The model trains on the device and comes back to the CPU at the end, so a GPU run writes the same safetensors and
  card as a CPU run (the card's ``training`` records the device, the precision and the wall time).
"""
from __future__ import annotations

import contextlib

import torch

from ..errors import InputError

AMPS = ("auto", "none", "bf16", "fp16")


def pick_amp(amp: str, device: torch.device) -> str:
    """The precision a run trains in on ``device``: none, bf16 or fp16 (``auto``: bf16 or fp16 on a GPU, none on
    the CPU). fp16 on the CPU is refused (its gradient scaling is a GPU recipe)."""
    amp = (amp or "auto").lower()
    if amp not in AMPS:
        raise InputError(f"amp {amp!r}: auto, none, bf16 or fp16")
    if amp == "auto":
        if device.type != "cuda":
            return "none"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if amp == "fp16" and device.type != "cuda":
        raise InputError("amp fp16 needs a CUDA device (bf16 runs on the CPU)")
    return amp


class Updater:
    """The optimiser of a run as its family uses it: :meth:`update` (backward and step), :meth:`autocast`,
    :meth:`to`; ``param_groups`` and the state dicts reach the wrapped optimiser."""

    def __init__(self, opt: torch.optim.Optimizer, device: torch.device, amp: str = "none"):
        self.opt, self.device, self.amp = opt, device, amp
        self.dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(amp)
        self.scaler = torch.amp.GradScaler(device.type) if amp == "fp16" else None

    @property
    def param_groups(self):
        return self.opt.param_groups

    def autocast(self):
        """The context of a step's forward pass: autocast to bf16/fp16, or nothing."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def to(self, x):
        """A batch (a tensor, or a list or tuple of them) on the run's device."""
        if isinstance(x, (list, tuple)):
            return type(x)(self.to(t) for t in x)
        return x.to(self.device, non_blocking=True) if isinstance(x, torch.Tensor) else x

    def update(self, loss: torch.Tensor) -> None:
        """Zero the gradients, back-propagate ``loss`` (outside autocast; scaled for fp16) and step."""
        self.opt.zero_grad(set_to_none=True)
        with torch.autocast(self.device.type, enabled=False) if self.dtype is not None else contextlib.nullcontext():
            if self.scaler is None:
                loss.backward()
                self.opt.step()
            else:
                self.scaler.scale(loss).backward()
                self.scaler.step(self.opt)
                self.scaler.update()

    # Checkpoints keep the optimiser's own state dict (any precision resumes any other) and the scaler's beside it.
    def state_dict(self) -> dict:
        return self.opt.state_dict()

    def load_state_dict(self, sd: dict) -> None:
        self.opt.load_state_dict(sd)

    def scaler_state(self) -> dict | None:
        return self.scaler.state_dict() if self.scaler is not None else None

    def load_scaler_state(self, sd: dict | None) -> None:
        if self.scaler is not None and sd:
            self.scaler.load_state_dict(sd)
