"""Data-parallel training on PyTorch's own engine: ``torchrun --standalone --nproc_per_node=N -m veil train ...``.

torchrun sets RANK and WORLD_SIZE; :func:`start` then joins the process group (gloo on CPU, NCCL on GPU) and
:meth:`Dist.wrap` puts the model in DistributedDataParallel, which averages the gradients over the processes after
every backward pass. Without torchrun (no WORLD_SIZE, or 1), nothing changes: one process, the model as it is.

- **Data:** every process draws the same global batch of ``batch x N`` samples from the same seeded samplers and
  trains on its own slice of it (veil.data.covers.sharded), so N processes at batch b see exactly the samples of
  one process at batch N b, and the samplers' state is the same everywhere. The cost: each process crops the
  whole global batch (cheap beside the networks' passes at a few processes).
- **Writing:** rank 0 alone writes the log, the checkpoints, the card and the release; the others only compute.
- **Resume** with any number of processes: the checkpoint holds the unwrapped model, the optimiser and the
  samplers' state, which are the same on every rank.
- **Logging:** the numbers logged at a log step are the mean over the processes.
- **Controllers** (a cover weight steered by the running error or PSNR) read the mean over the processes
  (:func:`global_mean`), so every process keeps the same state.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0

    def wrap(self, model):
        """``model`` in DistributedDataParallel (attributes still reach the model), or as it is in one process."""
        if self.world == 1:
            return model
        return _DDP(model, self.device)

    def mean(self, record: dict) -> dict:
        """The numeric values of ``record`` averaged over the processes (a collective: every rank calls it)."""
        if self.world == 1:
            return record
        keys = [k for k, v in record.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
        t = torch.tensor([float(record[k]) for k in keys], dtype=torch.float64, device=self.device)
        torch.distributed.all_reduce(t)
        return {**record, **{k: v / self.world for k, v in zip(keys, t.tolist())}}

    def finish(self) -> None:
        if self.world > 1 and torch.distributed.is_initialized():
            torch.distributed.barrier()
            torch.distributed.destroy_process_group()


class _DDP(torch.nn.parallel.DistributedDataParallel):
    """DDP whose attribute lookups fall through to the wrapped model (``model.secret_channels``, ``model.decode``)."""

    def __init__(self, model, device: torch.device):
        super().__init__(model, device_ids=[device] if device.type == "cuda" else None, find_unused_parameters=False)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.module, name)


def global_mean(value: float) -> float:
    """``value`` averaged over the processes of a torchrun job (itself in one process): what a family's controller
    (a cover weight steered by the running error or PSNR) reads, so that every process keeps the same state."""
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return value
    device = "cuda" if torch.distributed.get_backend() == "nccl" else "cpu"     # NCCL reduces GPU tensors only
    t = torch.tensor([float(value)], dtype=torch.float64, device=device)
    torch.distributed.all_reduce(t)
    return float(t) / torch.distributed.get_world_size()


def start(device: torch.device = torch.device("cpu")) -> Dist:
    """This process's place in a torchrun job (joining its process group: NCCL when it trains on a GPU, gloo on the
    CPU), or one process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist(device=device)
    rank = int(os.environ["RANK"])
    if not torch.distributed.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Dist(rank, world, device)
