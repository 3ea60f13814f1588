"""Weights are data: a state_dict in ``.safetensors``, found with importlib.resources, sha256-checked,
loaded with ``strict=True``. Never pickles, never downloads.
"""
from __future__ import annotations

import hashlib
import os
from importlib import resources
from pathlib import Path

from .errors import VeilError


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


USER_DIR_ENV = "VEIL_WEIGHTS"


def user_dir() -> Path:
    """The user's model folder, read before the package's: ``$VEIL_WEIGHTS``, else ``~/.cache/veil/weights``. A
    card and its weights file sit side by side in it (``veil train ... --release`` writes there by default)."""
    return Path(os.environ.get(USER_DIR_ENV) or Path.home() / ".cache" / "veil" / "weights")


def package_dirs() -> tuple[Path, Path]:
    """(cards, weights) folders of the models shipped in the package."""
    root = Path(str(resources.files("veil")))
    return root / "cards", root / "weights"


def weights_path(card: dict) -> Path:
    """The card's weights file: in the user's model folder if it is there, else in the package (its sha256 is
    checked when loading, so a stale file of the same name is refused, not used)."""
    name = card["weights"]["file"]
    user = user_dir() / name
    return user if user.is_file() else package_dirs()[1] / name


def load_weights(model, card: dict) -> None:
    from safetensors.torch import load_file

    if card.get("weights") is None:            # a model without parameters (lsbK)
        if model.state_dict():
            raise VeilError(f"{card['name']} has parameters but its card names no weights")
        return
    path = weights_path(card)
    if not path.is_file():
        raise VeilError(f"weights for {card['name']} are missing: {path}")
    digest = sha256_file(path)
    if digest != card["weights"]["sha256"]:
        raise VeilError(f"weights for {card['name']} are corrupt: sha256 {digest[:12]}... does not match its card")
    try:
        model.load_state_dict(load_file(str(path)), strict=True)
    except RuntimeError as e:                   # a missing, extra or differently shaped tensor
        first = str(e).strip().splitlines()[0]
        raise VeilError(f"weights for {card['name']} do not fit its architecture: {first}") from None


def save_weights(model, path, half: bool = False) -> str:
    """Save ``model.state_dict()`` as safetensors (floating tensors as float16 if ``half``: loading casts
    them back to the model's float32); return its sha256."""
    from safetensors.torch import save_file

    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    save_file(state, str(path))
    return sha256_file(path)
