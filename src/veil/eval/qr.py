"""``veil eval qr``: run QR models over photos they never trained on, as a user would.

Each sample: a random text (1..max-len characters, ECC M) is hidden through the public API, the
stego image is saved to a real PNG file and read back, then revealed. Sizes per photo: random
256x256 crops, the photo at its native size (long side capped at 1920 px), and small crops of 64 to
127 px (below the processing size). "overall" and the flat/sharp split (edge density, see
``edge_density``) cover the 256 px and native samples; small covers are reported on their own (the
default model hands them to its small-cover model, whose capacity caps their texts: 26 bytes at ECC M).
"""
from __future__ import annotations

import random
import statistics
import time
from pathlib import Path

import numpy as np

from .samples import NATIVE_MAX, SMALL_RANGE, module_accuracy, qr_stego_samples

SHARP_EDGE_DENSITY = 0.06   # share of pixels with a grey-level gradient over 0.1: above = sharp-edge cover


def edge_density(rgb: np.ndarray) -> float:
    """Share of pixels whose grey-level gradient magnitude (central differences, [0,1] units) exceeds 0.1."""
    g = rgb.astype(np.float32).mean(2) / 255.0
    gx = np.abs(g[1:-1, 2:] - g[1:-1, :-2]) / 2
    gy = np.abs(g[2:, 1:-1] - g[:-2, 1:-1]) / 2
    return float((np.hypot(gx, gy) > 0.1).mean())


def _summary(rows: list[dict]) -> dict:
    if not rows:
        return {"n": 0}
    ps = [r["psnr"] for r in rows]
    return {
        "n": len(rows),
        "success": sum(r["ok"] for r in rows) / len(rows),
        "module_accuracy": statistics.fmean(r["module_acc"] for r in rows),
        "psnr_mean": statistics.fmean(ps),
        "psnr_min": min(ps),
        "psnr_p5": float(np.percentile(ps, 5)),
        "ssim_mean": statistics.fmean(r["ssim"] for r in rows),
        "mae_mean": statistics.fmean(r["mae"] for r in rows),
        "strength_mean": statistics.fmean(r["strength"] for r in rows),
        "unverified": sum(r["strength_mode"] == "unverified" for r in rows),
    }


def evaluate(model_name: str | None, folders: list[str], crops: int = 24, native: int = 2, max_len: int = 32,
             seed: int = 0, small: int = 0, strength: float = 1.0, verify: list[str] | None = None,
             log=print) -> dict:
    import torch

    from ..qr import get_model, min_cover_side, qr_model_for
    from ..imaging import pil_to_tensor
    from ..metrics import mae, psnr, ssim
    from ..payloads.qr import read_from_probabilities

    model = get_model(model_name)
    if small and min_cover_side(qr_model_for(SMALL_RANGE[0], model)) > SMALL_RANGE[0]:
        log(f"{model.card['name']} serves covers from {min_cover_side(model)} px: no small-cover samples")
        small = 0
    rng = random.Random(seed)
    rows = []
    t0 = time.time()
    for f, size, cover, m, text, code, x, report in qr_stego_samples(model, folders, rng, crops, native, small,
                                                                      max_len, strength, verify):
        prob = m.extract(x)[0, 0].numpy()
        got, _ = read_from_probabilities(prob, m.spec)
        c = pil_to_tensor(cover)
        rgb = np.asarray(cover)
        rows.append({"file": Path(f).name, "folder": str(f.parent), "size": size, "wh": list(cover.size),
                     "len": len(text),
                     "version": code.version, "ok": got == text,
                     "model": m.card["name"], "module_acc": module_accuracy(prob, code, m.spec),
                     "psnr": psnr(x, c), "ssim": ssim(x, c), "mae": mae(x, c), "edge_density": edge_density(rgb),
                     "strength": report.strength, "strength_mode": report.mode})
        if len(rows) % 50 == 0:
            ok = sum(r["ok"] for r in rows) / len(rows)
            log(f"{len(rows)} samples, {ok:.1%} exact, {time.time() - t0:.0f} s")
    for r in rows:
        r["category"] = "sharp" if r["edge_density"] >= SHARP_EDGE_DENSITY else "flat"
    main = [r for r in rows if r["size"] != "small"]
    res = {
        "model": model.card["name"],
        "weights_sha256": model.card["weights"]["sha256"],
        "images": [str(f) for f in folders],
        "protocol": {"crops_per_photo": crops, "native_per_photo": native, "small_per_photo": small,
                     "small_range": list(SMALL_RANGE), "max_text_len": max_len, "ecc": "M",
                     "native_max_side": NATIVE_MAX, "file": "PNG (8-bit), saved and read back", "seed": seed,
                     "sharp_edge_density": SHARP_EDGE_DENSITY, "strength": strength,
                     "verify": list(verify or [])},
        "overall": _summary(main),
        "by_size": {s: _summary([r for r in rows if r["size"] == s]) for s in ("256", "native", "small")},
        "by_category": {c: _summary([r for r in main if r["category"] == c]) for c in ("flat", "sharp")},
        "by_folder": {str(d): _summary([r for r in main if r["folder"] == str(Path(d))]) for d in folders},
        "by_version": {str(v): _summary([r for r in main if r["version"] == v]) for v in range(1, 5)},
        "wall_s": round(time.time() - t0, 1),
        "torch_threads": torch.get_num_threads(),
        "samples": rows,
    }
    return res


def card_metrics(res: dict, command: str) -> dict:
    o, s, n, f, sh = res["overall"], res["by_size"]["256"], res["by_size"]["native"], res["by_category"]["flat"], \
        res["by_category"]["sharp"]
    return {
        "success_256": s.get("success"), "success_native": n.get("success"), "success": o["success"],
        "success_flat": f.get("success"), "success_sharp": sh.get("success"),
        "success_small": res["by_size"].get("small", {}).get("success"),
        "psnr": o["psnr_mean"], "psnr_min": o["psnr_min"], "ssim": o["ssim_mean"], "mae": o["mae_mean"],
        "module_accuracy": o["module_accuracy"], "samples": o["n"], "images": res["images"],
        "strength_mean": o["strength_mean"], "command": command,
    }


def result_suffix(strength: float, verify: list[str]) -> str:
    """Result-file suffix: '' for the calibrated gain, _strength<X> for another, _verified with --verify."""
    return "_verified" if verify else "" if strength == 1.0 else f"_strength{strength:g}"
