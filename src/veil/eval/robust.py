"""``veil eval qr --attacks LIST``: the robustness matrix, attack x strength.

Each sample is hidden through the public API and saved as a real PNG (as in ``veil eval qr``); the
file's pixels then go through every attack of the matrix (real JPEG codec, result rounded to 8 bits)
and are revealed. Per cell: exact-text recovery, module accuracy of the recovered code, the stego's
PSNR against the cover, and the attacked image's PSNR against the stego (how hard the attack hit).
"""
from __future__ import annotations

import random
import statistics
import time
from pathlib import Path

from ..attacks import STANDARD_MATRIX, Chain, Quantize8bit, parse_attack


def parse_matrix(items: list[str]) -> dict[str, list[str]]:
    """['all'] | family names of STANDARD_MATRIX | explicit specs ('jpeg:60') -> {family: [spec, ...]}."""
    out: dict[str, list[str]] = {}
    for item in items:
        for part in item.split(","):
            part = part.strip()
            if not part:
                continue
            if part == "all":
                out.update(STANDARD_MATRIX)
            elif part in STANDARD_MATRIX:
                out[part] = STANDARD_MATRIX[part]
            else:
                parse_attack(part)  # raises ValueError with a clear message
                fam = part.split(":")[0] if "+" not in part else "chain"
                out.setdefault(fam, []).append(part)
    if not out:
        raise ValueError("no attacks given")
    return out


def attack_cells(matrix: dict[str, list[str]]) -> dict:
    """{spec: the attack chain ending in 8-bit rounding}, "none" (rounding alone) first."""
    cells = {"none": Chain(Quantize8bit())}
    for specs in matrix.values():
        for spec in specs:
            cells[spec] = Chain(parse_attack(spec), Quantize8bit())
    return cells


def _cell(rows: list[dict]) -> dict:
    if not rows:
        return {"n": 0}
    return {"n": len(rows), "success": sum(r["ok"] for r in rows) / len(rows),
            "module_accuracy": statistics.fmean(r["module_acc"] for r in rows),
            "psnr_stego": statistics.fmean(r["psnr"] for r in rows),
            "psnr_attacked_vs_stego": None if rows[0]["psnr_attack"] is None else
            statistics.fmean(r["psnr_attack"] for r in rows)}


def evaluate_attacks(model_name, folders: list[str], matrix: dict[str, list[str]], crops: int = 8, native: int = 1,
                     max_len: int = 32, seed: int = 0, strength: float = 1.0, verify: list[str] | None = None,
                     log=print) -> dict:
    import torch

    from ..registry import get_model
    from ..imaging import pil_to_tensor
    from ..metrics import psnr
    from ..payloads.qr import read_from_probabilities
    from .samples import module_accuracy, qr_stego_samples

    model = get_model(model_name)
    cells = attack_cells(matrix)
    rng = random.Random(seed)
    rows: dict[str, list[dict]] = {k: [] for k in cells}
    t0 = time.time()
    n = 0
    strengths: list[float] = []
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        for f, size, cover, m, text, code, x, report in qr_stego_samples(model, folders, rng, crops, native,
                                                                          max_len=max_len, strength=strength,
                                                                          verify=verify):
            strengths.append(report.strength)
            p_stego = psnr(x, pil_to_tensor(cover))
            with torch.no_grad():
                for spec, attack in cells.items():
                    y = attack(x)
                    prob = m.extract(y)[0, 0].numpy()
                    got, _ = read_from_probabilities(prob, m.spec)
                    rows[spec].append({"size": size, "folder": str(f.parent), "ok": got == text,
                                       "module_acc": module_accuracy(prob, code, m.spec),
                                       "psnr": p_stego, "psnr_attack": psnr(y, x) if spec != "none" else None})
            n += 1
            if n % 20 == 0:
                log(f"{n} samples x {len(cells)} cells, {time.time() - t0:.0f} s")
    table = {}
    for spec, rs in rows.items():
        c = _cell(rs)
        c["by_size"] = {s: _cell([r for r in rs if r["size"] == s]) for s in ("256", "native")}
        c["by_folder"] = {str(d): _cell([r for r in rs if r["folder"] == str(Path(d))]) for d in folders}
        table[spec] = c
    return {
        "model": model.card["name"], "weights_sha256": model.card["weights"]["sha256"],
        "images": [str(f) for f in folders],
        "protocol": {"crops_per_photo": crops, "native_per_photo": native, "max_text_len": max_len, "ecc": "M",
                     "file": "stego saved as PNG and read back, then attacked; JPEG = Pillow/libjpeg 4:2:0; "
                             "every attacked image rounded to 8 bits", "seed": seed,
                     "strength": strength, "verify": list(verify or [])},
        "strength_mean": statistics.fmean(strengths) if strengths else None,
        "matrix": matrix, "cells": table, "samples": n, "wall_s": round(time.time() - t0, 1),
    }


def _strength(spec: str) -> float:
    return float(spec.split(":")[1])


def plot(results: list[dict], path: Path) -> None:
    """Success vs strength, one line per attack family, one panel per model."""
    from .figures import pyplot, save_figure

    plt = pyplot()

    fig, axes = plt.subplots(1, len(results), figsize=(5.2 * len(results), 4.2), squeeze=False, sharey=True)
    for ax, res in zip(axes[0], results):
        for fam, specs in res["matrix"].items():
            ys = [100 * res["cells"][s]["success"] for s in specs]
            xs = list(range(1, len(specs) + 1))
            if any("+" in sp for sp in specs):
                label = " / ".join(specs)
            else:
                label = f"{fam} ({'/'.join(f'{_strength(sp):g}' for sp in specs)})"
            ax.plot(xs, ys, marker="o", label=label)
        clean = 100 * res["cells"]["none"]["success"]
        ax.axhline(clean, color="grey", lw=0.8, ls="--", label=f"no attack ({clean:.0f}%)")
        pr = res["protocol"]
        st = "verified" if pr.get("verify") else f"strength {pr.get('strength', 1):g}"
        ax.set_title(f"{res['model']}, {st} ({res['samples']} samples, "
                     f"{res['cells']['none']['psnr_stego']:.1f} dB)", fontsize=9)
        ax.set_xlabel("strength step (mildest first)")
        ax.set_xticks(range(1, 1 + max(len(v) for v in res["matrix"].values())))
        ax.set_ylim(-3, 103)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower left")
    axes[0][0].set_ylabel("exact text recovered (%)")
    fig.tight_layout()
    save_figure(fig, path, dpi=110)


def summary_lines(res: dict) -> list[str]:
    verify = res["protocol"].get("verify")
    lines = [f"{res['model']}: {res['samples']} samples, stego PSNR {res['cells']['none']['psnr_stego']:.2f} dB, "
             f"no attack {res['cells']['none']['success']:.1%}, mean strength {res.get('strength_mean') or 1:.2f} "
             f"x calibrated" + (f" (verified against {', '.join(verify)})" if verify else "")]
    for fam, specs in res["matrix"].items():
        cells = ", ".join(f"{s} {res['cells'][s]['success']:.0%}" for s in specs)
        lines.append(f"  {fam}: {cells}")
    return lines
