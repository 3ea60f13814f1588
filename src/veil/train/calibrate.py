"""Post-training calibration of the residual strength (shared/notes/qr-calibration.md).

A model trained with a balanced loss sits at the edge of failure. Scaling its residual by a gain
``s`` trades ``20 log10(s)`` dB of PSNR for margin (and a gain under 1 gives PSNR back where the
model has margin to spare). We pick the smallest gain on a grid whose
success rate, measured like a user would see it (8-bit rounding, the real reader), reaches the
target on *training* crops, never on validation photos.
"""
from __future__ import annotations

import random

import torch

from ..api import hide_qr_tensor, reveal_qr_tensor
from ..data.covers import CoverSampler
from ..imaging import quantize_8bit
from ..payloads.qr import random_code

GRID = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0, 1.1, 1.2, 1.35, 1.5, 1.7, 2.0, 2.4, 3.0)


def success_rate(model, covers: torch.Tensor, codes, attack=None) -> float:
    stego = hide_qr_tensor(covers, codes, model)
    stego = quantize_8bit(stego)                     # what a PNG file holds
    if attack is not None:                           # then what the reader gets after the attack, 8-bit again
        with torch.no_grad():
            stego = quantize_8bit(attack(stego))
    got = reveal_qr_tensor(stego, model)
    return sum(t == c.text for (t, _), c in zip(got, codes)) / len(codes)


def calibrate_strength(model, data: str | None, n: int = 256, target: float = 0.995, seed: int = 7,
                       grid=GRID, attacks: list[str] | None = None, sizes: list[int] | None = None,
                       log=print) -> dict:
    """Smallest gain whose success reaches ``target``. With ``attacks`` (specs), the batches cycle
    through them and success is measured after the attack (a robust model's operating point). Covers are
    256 px crops and every fourth batch 768 px, or, with ``sizes``, drawn from those sizes per batch."""
    from ..attacks import parse_attack

    rng = random.Random(seed)
    chain = [parse_attack(a) for a in attacks] if attacks else [None]
    small = CoverSampler(data, 256, 0.2, seed=seed, sizes=sizes)
    large = CoverSampler(data, 768, 0.2, seed=seed + 1) if not sizes else small
    batches = []
    for i in range(0, n, 32):
        b = min(32, n - i)
        s = small if (i // 32) % 4 else large
        batches.append((s.sample(b), [random_code(rng, model.spec) for _ in range(b)]))
    base = float(model.strength)
    results = {}
    chosen = None
    for g in grid:
        model.strength.fill_(base * g)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            ok = sum(success_rate(model, c, k, chain[i % len(chain)]) * len(k)
                     for i, (c, k) in enumerate(batches)) / n
        results[g] = ok
        log(f"calibration: gain {g:.2f} -> {ok:.2%} of {n} training crops")
        if ok >= target:
            chosen = g
            break
    if chosen is None:
        chosen = max(results, key=results.get)
    model.strength.fill_(base * chosen)
    return {"gain": chosen, "strength": float(model.strength), "success_by_gain": results, "samples": n,
            "target": target, "attacks": list(attacks or [])}
