"""Export a trained model: weights as safetensors plus its card (the model's passport)."""
from __future__ import annotations

import json
from pathlib import Path

from ..payloads.qr import BYTE_CAPACITY
from .engine import export


def write_card(model, cfg, state: dict, calibration: dict | None, out: Path, command: str) -> dict:
    """The card of a hiding model (QR, spread message, image): its payload, the covers it serves, its data."""
    task = "qr" if hasattr(model, "spec") else "message" if hasattr(model, "n_bits") else "image"
    head: dict = {}
    training: dict = {}
    if task == "qr":
        head = {
            "processing_size": model.processing_size,
            # Smallest cover side the training saw (covers below the processing size are upscaled for the
            # encoder and the residual shrunk back); `hide` refuses smaller covers for this model.
            "min_cover_side": min([model.processing_size, *(cfg.crop_sizes or [cfg.crop])]),
            "payload": {"type": "qr", "versions": [1, model.spec.max_version], "border_modules": model.spec.border,
                        "ecc_default": "M",
                        "capacity_bytes": {e: BYTE_CAPACITY[e][model.spec.max_version - 1] for e in "LMQH"}},
        }
        if getattr(cfg, "small_cover_model", None):
            head["small_cover_model"] = cfg.small_cover_model
        data = ("shared/DATA.md photo corpus, training split (veil data prepare), "
                f"+ {cfg.synthetic_prob:.0%} synthetic sharp-edge covers; random QR codes (segno)")
        training = {"final_cover_weight": state["cover_weight"], "final_module_error_ema": state["err_ema"],
                    "calibration": calibration}
    elif task == "message":
        from ..payloads.message import ECC_LEVELS, capacity

        head = {
            "processing_size": model.processing_size,
            "min_cover_side": 64,
            "payload": {"type": "message", "n_bits": model.n_bits, "chip_grid": model.grid, "ecc_default": "M",
                        "capacity_bytes": {e: capacity(model.n_bits, e) for e in ECC_LEVELS}},
        }
        data = ("shared/DATA.md photo corpus, training split (veil data prepare), "
                f"{cfg.crop_sizes or cfg.crop} px random-scale crops + {cfg.synthetic_prob:.0%} synthetic sharp-edge "
                "covers; random payload bits")
        training = {"final_cover_weight": state["cover_weight"], "final_bit_error_ema": state["err_ema"],
                    "calibration": calibration}
    else:
        head = {"payload": {"type": "image", "secret_channels": model.secret_channels,
                            "size_multiple": model.size_multiple}}
        secrets = ("handwritten digits (opencv digits.png, training columns)" if cfg.secrets == "digits" else
                   f"crops of other training photos ({cfg.grey_prob:.0%} turned grey)")
        data = (f"covers: shared/DATA.md photo corpus, training split, {cfg.crop_sizes or cfg.crop} px random-scale "
                f"crops + {cfg.synthetic_prob:.0%} synthetic; secrets: {secrets}")
    # Image models with millions of parameters (pixinpix) ship float16 weights: half the bytes, and the
    # released file is what every measurement of the card used.
    return export(model, cfg, out, state, command, task=task, payload=head.get("payload"), data=data, head=head,
                  training=training, half=getattr(cfg, "half_weights", False))


def release(out: Path, name: str, dest: str | Path | None = None) -> Path:
    """Copy an exported weight and card from the run folder ``out`` into ``dest`` (default: the user's model
    folder, where veil.load_model finds them; a checkout's ``src/veil`` puts them in the package to ship). Returns
    the card's new path.

    The card's metrics start empty: new weights are measured anew with `veil eval ... --card`.
    """
    from ..files import write_bytes_atomic
    from ..registry import save_card

    card = json.loads((out / f"{name}.json").read_text())
    path = save_card(card, dest)
    weights_dir = path.parent.parent / "weights" if path.parent.name == "cards" else path.parent
    weights_dir.mkdir(parents=True, exist_ok=True)
    if card.get("weights"):
        write_bytes_atomic(weights_dir / card["weights"]["file"], (out / card["weights"]["file"]).read_bytes(),
                           force=True)
    return path
