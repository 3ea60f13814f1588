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

from ..qr import hide_qr_tensor, reveal_qr_tensor
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
                       log=print, val_share: float = 0.0) -> dict:
    """Smallest gain whose success reaches ``target``. With ``attacks`` (specs), the batches cycle
    through them and success is measured after the attack (a robust model's operating point). Covers are
    256 px crops and every fourth batch 768 px, or, with ``sizes``, drawn from those sizes per batch; the photos of
    ``data`` less its validation split of ``val_share``."""
    from ..attacks import parse_attack

    rng = random.Random(seed)
    chain = [parse_attack(a) for a in attacks] if attacks else [None]
    small = CoverSampler(data, 256, 0.2, seed=seed, sizes=sizes, val_share=val_share)
    large = CoverSampler(data, 768, 0.2, seed=seed + 1, val_share=val_share) if not sizes else small
    batches = []
    for i in range(0, n, 32):
        b = min(32, n - i)
        s = small if (i // 32) % 4 else large
        batches.append((s.sample(b), [random_code(rng, model.spec) for _ in range(b)]))
    base = float(model.calibrated_gain)

    def success(g: float) -> float:
        model.calibrated_gain.fill_(base * g)
        return sum(success_rate(model, c, k, chain[i % len(chain)]) * len(k) for i, (c, k) in enumerate(batches)) / n

    return _calibrate(model, base, grid, success, target, n, seed, attacks, log)


def _calibrate(model, base: float, grid, success, target: float, n: int, seed: int, attacks, log) -> dict:
    """Walk ``grid`` up to the first gain whose ``success(gain)`` (seeded alike for every gain) reaches ``target``
    (else the best one), set the model's calibrated gain to ``base`` x that factor, and report."""
    results, chosen = {}, None
    for g in grid:
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            ok = success(g)
        results[g] = ok
        log(f"calibration: gain {g:.2f} -> {ok:.2%} of {n} training crops")
        if ok >= target:
            chosen = g
            break
    if chosen is None:
        chosen = max(results, key=results.get)
    model.calibrated_gain.fill_(base * chosen)
    return {"strength": chosen, "calibrated_gain": float(model.calibrated_gain), "success_by_strength": results,
            "samples": n,
            "target": target, "attacks": list(attacks or [])}


def spread_success(model, covers: torch.Tensor, texts: list[str], strength: float = 1.0, attack=None) -> float:
    """Share of ``texts`` read back exactly from 8-bit stego images of ``covers`` (after ``attack``)."""
    from ..hiding import hide_tensor, message_bits, reveal_tensor

    bits = torch.cat([message_bits(t, model) for t in texts])
    stego = quantize_8bit(hide_tensor(covers, bits, model, strength=strength))
    if attack is not None:
        with torch.no_grad():
            stego = quantize_8bit(attack(stego))
    ok = 0
    for i, t in enumerate(texts):
        got = reveal_tensor(stego[i:i + 1], model, search=False).decoded
        ok += got is not None and got.message == t
    return ok / len(texts)


def calibrate_spread(model, data: str | None, n: int = 96, target: float = 0.97, seed: int = 7, grid=GRID,
                     attacks: list[str] | None = None, sizes: list[int] | None = None, log=print,
                     val_share: float = 0.0) -> dict:
    """The spread model's gain: the smallest on ``grid`` at which ``target`` of ``n`` random 16-character texts
    read back exactly after each one of the ``attacks`` (the weakest attack decides), on training crops of
    ``sizes`` px (the photos of ``data`` less its validation split of ``val_share``). Success grows with the gain,
    so the grid is bisected."""
    from ..attacks import parse_attack
    from ..payloads.message import capacity
    from ..payloads.qr import random_text

    rng = random.Random(seed)
    chars = min(16, capacity(model.n_bits))          # 16 characters, or what a small (test) model carries
    chain = [parse_attack(a) for a in attacks] if attacks else [None]
    covers = CoverSampler(data, 256, 0.15, seed=seed, sizes=sizes, val_share=val_share)
    batches = [(covers.sample(min(16, n - i)), [random_text(rng, chars, chars) for _ in range(min(16, n - i))])
               for i in range(0, n, 16)]
    base, results = float(model.calibrated_gain), {}

    def success(g: float) -> float:
        """The weakest attack's success at gain ``g`` (seeded alike for every gain)."""
        per = {}
        for spec, attack in zip(attacks or ["none"], chain):
            with torch.random.fork_rng():
                torch.manual_seed(seed)
                per[spec] = sum(spread_success(model, c, t, g, attack) * len(t) for c, t in batches) / n
        results[g] = per
        log(f"calibration: gain {g:.2f} -> " + ", ".join(f"{k} {v:.1%}" for k, v in per.items()))
        return min(per.values())

    lo, hi = 0, len(grid) - 1                  # the first rung that passes, in [lo, hi]; hi if none does
    while lo < hi:
        mid = (lo + hi) // 2
        if success(grid[mid]) >= target:
            hi = mid
        else:
            lo = mid + 1
    chosen = grid[lo]
    model.calibrated_gain.fill_(base * chosen)
    return {"strength": chosen, "calibrated_gain": float(model.calibrated_gain), "success_by_strength": results,
            "samples": n,
            "target": target, "rule": "every attack's success reaches the target", "attacks": list(attacks or [])}
