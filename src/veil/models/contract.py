"""The one contract every registered model family keeps (``veil.models.builders`` names them, ``veil.registry``
builds and loads them).

- ``task``: what the family does, which fixes its inference methods (no gradients, eval mode, any image size):

  - ``qr``, ``message``, ``image`` (hiding): ``embed(cover, payload, ...)`` -> the stego; ``extract(stego)`` -> the
    payload's estimate; on a file's uint8 pixels, ``embed_array`` and ``extract_array`` (image) or ``small_view``
    (text: what the decoder reads);
  - ``qrnet`` (reading): ``read(images)`` -> six digits or None; ``detect(images)`` -> digits and presence scores;
  - ``steganalysis`` (scoring): ``score(x)`` -> P(stego);
  - ``disguise`` (generating): ``generate(disguise)`` -> the secret image.

- ``forward`` (training) returns a dict of named tensors, whose keys are ``outputs``. Every hiding family's
  includes :data:`HIDING_OUTPUTS`: ``residual`` (what the encoder adds to the cover), ``intended`` (cover +
  residual before clipping to [0, 1]), ``stego`` (clipped and rounded to 8 bits, as a file holds it, with a
  straight-through gradient) and ``received`` (the stego after the training attack, rounded again), then what
  its decoder reads from ``received``.
"""
from __future__ import annotations

import functools

import torch
from torch import nn

HIDING_OUTPUTS = ("residual", "intended", "stego", "received")
TASKS = ("qr", "message", "image", "qrnet", "steganalysis", "disguise")


class VeilModel(nn.Module):
    """Base of every registered family: its ``task`` and the keys of its ``forward``."""

    task: str = ""
    outputs: tuple[str, ...] = ()


def inference(fn):
    """Decorator of the inference methods: no gradients, eval-mode batch norm and dropout, the caller's training
    mode restored afterwards."""
    @functools.wraps(fn)
    def run(self, *args, **kwargs):
        was = self.training
        self.eval()
        try:
            with torch.no_grad():
                return fn(self, *args, **kwargs)
        finally:
            self.train(was)

    return run
