"""Text specs for attacks (recipes, CLI) and the standard robustness matrix."""
from __future__ import annotations

from .base import Attack, Chain, Identity
from .geometry import CropResize, Rotate
from .jpeg import JPEG, DiffJPEG
from .pixel import Brightness, Contrast, GaussianBlur, GaussianNoise, Quantize8bit, Resize, Saturation

ATTACKS: dict[str, type[Attack]] = {c.name: c for c in (JPEG, DiffJPEG, GaussianBlur, Resize, GaussianNoise,
                                                          Brightness, Contrast, Saturation, Quantize8bit,
                                                          CropResize, Rotate)}

# The robustness matrix of `veil eval qr --attacks` (issue 3): attack family -> specs, mildest first.
STANDARD_MATRIX: dict[str, list[str]] = {
    "jpeg": ["jpeg:90", "jpeg:75", "jpeg:50", "jpeg:30"],
    "blur": ["blur:0.5", "blur:1", "blur:1.5", "blur:2"],
    "resize": ["resize:0.75", "resize:0.5", "resize:0.35"],
    "resize_bicubic": ["resize:0.75:bicubic", "resize:0.5:bicubic", "resize:0.35:bicubic"],
    "noise": ["noise:1", "noise:2", "noise:4", "noise:8"],
    "blur+jpeg": ["blur:1+jpeg:75"],
    "crop": ["crop:0.9"],
    "rotate": ["rotate:1", "rotate:2"],
}

_LIMITS = {"jpeg": (1, 100), "djpeg": (1, 100), "blur": (0, 20), "resize": (0.01, 1), "noise": (0, 255),
           "brightness": (0, 4), "crop": (0.05, 1), "rotate": (-45, 45), "contrast": (0, 4), "saturation": (0, 4)}


def _number(text: str, spec: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"bad attack strength {text!r} in {spec!r}") from None


def parse_attack(spec: str) -> Attack:
    """'jpeg:75', 'jpeg:50-95', 'resize:0.5:bicubic', 'blur:1+jpeg:75', 'none' -> an Attack."""
    spec = spec.strip()
    if not spec:
        raise ValueError("empty attack spec")
    if "+" in spec:
        return Chain(*[parse_attack(p) for p in spec.split("+")])
    if spec == "none":
        return Identity()
    name, _, rest = spec.partition(":")
    if name not in ATTACKS:
        raise ValueError(f"unknown attack {name!r} in {spec!r}: one of {', '.join(sorted(ATTACKS))}")
    if name == "quantize":
        return Quantize8bit()
    if not rest:
        raise ValueError(f"attack {spec!r} needs a strength, e.g. {name}:{_LIMITS[name][1] / 2:g}")
    parts = rest.split(":")
    value = parts[0]
    if "-" in value[1:]:
        i = value.index("-", 1)
        strength = (_number(value[:i], spec), _number(value[i + 1:], spec))
    else:
        strength = _number(value, spec)
    lo, hi = _LIMITS[name]
    for v in strength if isinstance(strength, tuple) else (strength,):
        if not lo <= v <= hi:
            raise ValueError(f"{name} strength {v:g} out of range [{lo:g}, {hi:g}] in {spec!r}")
    if name == "resize":
        mode = parts[1] if len(parts) > 1 else "bilinear"
        return Resize(strength, mode)
    if len(parts) > 1:
        raise ValueError(f"unexpected option {parts[1]!r} in {spec!r}")
    return ATTACKS[name](strength)
