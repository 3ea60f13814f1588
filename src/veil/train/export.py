"""Export a trained model: weights as safetensors plus its card (the model's passport)."""
from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path

from ..payloads.qr import BYTE_CAPACITY
from ..weights import save_weights


def package_dir() -> Path:
    return Path(__file__).resolve().parents[1]


def write_card(model, cfg, state: dict, calibration: dict | None, out: Path, command: str) -> dict:
    name = f"{cfg.arch}.{cfg.tag}"
    wfile = out / f"{name}.safetensors"
    digest = save_weights(model, wfile)
    mod = importlib.import_module(f"veil.models.{cfg.arch}")
    card = {
        "name": name,
        "arch": cfg.arch,
        "tag": cfg.tag,
        "task": "qr",
        "summary": (mod.__doc__ or "").strip().splitlines()[0],
        "kwargs": cfg.model,
        "processing_size": model.processing_size,
        # Smallest cover side the training saw (covers below the processing size are upscaled for the
        # encoder and the residual shrunk back); `hide` refuses smaller covers for this model.
        "min_cover_side": min([model.processing_size, *(cfg.crop_sizes or [cfg.crop])]),
        "parameters": sum(p.numel() for p in model.parameters()),
        "payload": {"type": "qr", "versions": [1, model.spec.max_version], "border_modules": model.spec.border,
                    "ecc_default": "M",
                    "capacity_bytes": {e: BYTE_CAPACITY[e][model.spec.max_version - 1] for e in "LMQH"}},
        "weights": {"file": wfile.name, "sha256": digest, "bytes": wfile.stat().st_size},
        "training": {"command": command, "config": cfg.to_dict(), "steps": state["step"],
                     "wall_time_s": round(state["wall"], 1), "final_cover_weight": state["cover_weight"],
                     "final_module_error_ema": state["err_ema"],
                     "data": "shared/DATA.md photo corpus, training split (veil data prepare), "
                             f"+ {cfg.synthetic_prob:.0%} synthetic sharp-edge covers; random QR codes (segno)",
                     "machine": "2-core CPU, no GPU",
                     "calibration": calibration},
        "deviations": list(getattr(mod, "DEVIATIONS", [])),
        "metrics": {},
    }
    (out / f"{name}.json").write_text(json.dumps(card, indent=1) + "\n")
    return card


def release(out: Path, name: str) -> None:
    """Copy an exported weight and card into the package (veil/weights, veil/cards).

    The card's metrics start empty: new weights are measured anew with `veil eval qr --card`.
    """
    pkg = package_dir()
    card = json.loads((out / f"{name}.json").read_text())
    dst_card = pkg / "cards" / f"{name}.json"
    shutil.copy2(out / card["weights"]["file"], pkg / "weights" / card["weights"]["file"])
    dst_card.write_text(json.dumps(card, indent=1) + "\n")
