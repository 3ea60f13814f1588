"""Per-image strength: embed, attack, read, and keep the quietest strength that survives (embed-and-verify).

A calibrated gain (veil.train.calibrate) is one number for all images, set by the hardest ones: most covers
carry the code with room to spare. The encoder knows the text, so when the user names the attacks the stego
must survive (``veil qr hide --verify jpeg:50,blur:1``), it can check before writing, with the real codec and
the real reader, which of a ladder of strengths (multiples of the calibrated gain) still gives the text back after
each of them, and keep the smallest such strength plus ``margin`` rungs (an attack in the wild differs from the one
checked: other noise, another resampler or JPEG encoder). Measured in
results/robust_qr_qr_densenet.robust_verified.json: the named attacks pass by construction, at about the
calibrated loudness on average (easy covers get quieter, hard ones louder).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

# Multiples of the calibrated gain tried, quietest first.
DEFAULT_LADDER = (0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.15, 1.3, 1.5, 1.75, 2.0)
VERIFY_SEED = 0          # the noise attacks draw from a fixed seed, so a hide is reproducible


@dataclass
class StrengthReport:
    """How the strength of one hide was chosen: ``strength`` multiplies the model's calibrated gain."""
    strength: float
    mode: str                       # "fixed" | "verified" | "unverified" (the loudest kept: none passed) | "stealth"
    attacks: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # attacks the written image did not survive (unverified)
    tried: int = 0                  # strengths embedded and checked
    reads_back: bool | None = None  # the written 8-bit image, unattacked, gives the payload back (None: not checked)

    def describe(self) -> str:
        if self.mode == "fixed":
            return f"strength {self.strength:g} x calibrated"
        if self.mode == "stealth":
            return "stealth: a few +-1 changes where the cover is busiest (keep it lossless: PNG, no re-save)"
        if self.mode == "verified":
            return (f"strength {self.strength:g} x calibrated: the quietest of {self.tried} checked that reads back "
                    f"after {', '.join(self.attacks)}, plus margin")
        return (f"strength {self.strength:g} x calibrated (the loudest tried); the text did NOT read back after "
                f"{', '.join(self.failed)}")


def check_reads_back(stego: torch.Tensor, reads, report: StrengthReport, check: bool = True,
                     payload: str = "message") -> None:
    """Read ``stego`` (the written 8-bit pixels, or the model's processing-size view of them) back with ``reads``
    and note it in ``report``; with ``check``, a stego that does not give its payload back is an InputError
    (nothing is written): a strength too low hides nothing."""
    from .errors import InputError

    with torch.no_grad():
        report.reads_back = bool(reads(stego))
    if check and not report.reads_back:
        raise InputError(f"the {payload} does not read back from the stego image at strength {report.strength:g} x "
                         "calibrated, so nothing was written: raise the strength (--no-check / check=False writes "
                         "it anyway)")


def _attacked_tensor(stego: torch.Tensor, attack) -> torch.Tensor:
    from .imaging import quantize_8bit

    return quantize_8bit(attack(stego))


def _failures(embed, reads, strength: float, attacks: list, specs: list[str], stop_early: bool = True,
              apply=_attacked_tensor):
    """Embed at ``strength`` and return (stego, specs of the attacks after which ``reads`` is False)."""
    stego = embed(strength)
    failed = []
    with torch.random.fork_rng(), torch.no_grad():
        torch.manual_seed(VERIFY_SEED)
        for spec, attack in zip(specs, attacks):
            if not reads(apply(stego, attack)):
                failed.append(spec)
                if stop_early:
                    break
    return stego, failed


def choose_strength(embed, reads, attacks: list[str], ladder=DEFAULT_LADDER, margin: int = 1,
                apply=_attacked_tensor) -> tuple[torch.Tensor, StrengthReport]:
    """(stego, report) for one image: ``embed(strength)`` makes the stego at a strength, rounded to 8 bits as it will be
    written (a tensor [1,3,H,W], or whatever ``apply`` takes), ``apply(stego, attack)`` attacks it as a file
    would be (by default: the attack module on the tensor, rounded to 8 bits), and ``reads(image)`` says whether
    the payload comes back exactly from the attacked image. Picks the smallest rung of ``ladder`` (binary
    search, success is close to monotone in the strength) after which the payload reads back through every attack,
    moved up ``margin`` rungs and checked again (stepping further up if that rung fails)."""
    from .attacks import parse_attack

    ladder = sorted(float(g) for g in ladder)
    parsed = [parse_attack(a) for a in attacks]
    last = len(ladder) - 1
    checked: dict[int, list[str]] = {}
    latest: list = [None, None]          # the last rung embedded and its stego: one full-size image held at a time

    def failures(i: int) -> list[str]:
        """The attacks rung ``i`` fails, each rung embedded and attacked once; on the top rung every attack is
        run, so an unverified report lists them all."""
        if i not in checked:
            latest[1] = None
            latest[1], checked[i] = _failures(embed, reads, ladder[i], parsed, attacks, i < last, apply)
            latest[0] = i
        return checked[i]

    def result(i: int, mode: str):
        stego = latest[1] if latest[0] == i else embed(ladder[i])     # embedding is deterministic
        return stego, StrengthReport(ladder[i], mode, list(attacks), checked[i], len(checked))

    lo, hi = 0, last                     # find the first passing rung in [lo, hi]; last+1 = none passes
    first = last + 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if not failures(mid):
            first, hi = mid, mid - 1
        else:
            lo = mid + 1
    i = min(first + margin, last)
    while True:
        if not failures(i):
            return result(i, "verified")
        if i == last:
            return result(i, "unverified")
        i += 1
