"""``veil eval hide``: the spread-message route on photos it never trained on, as a user would meet it.

Each sample: a random 16-character text (ECC M) is hidden through the public API, the stego image is saved to a
real PNG file and read back; its PSNR and SSIM against the cover are measured, then the file's pixels go through
every attack of the matrix (real JPEG codec, every attacked image rounded to 8 bits) and are revealed, the
geometry search included. Per cell: exact-text recovery and the raw bit error before error correction. Sizes per
photo: random 256 px crops and the photo at its native size (long side capped at 1920 px).

Also measured: "no message" on clean crops (the false-positive run), and, with ``--peers`` (the optional extra
``veil[peers]``: invisible-watermark, onnxruntime), RivaGAN and DWT-DCT-SVD with 32 bits on the same images and
through the same attacks, in the same run. The result file keeps the layout of ``veil eval qr --attacks``
(``matrix`` / ``cells``), so one plot function draws both.
"""
from __future__ import annotations

import random
import statistics
import time
from pathlib import Path

import numpy as np
from PIL import Image



TEXT_LEN = 16


def _cell(rows: list[dict]) -> dict:
    if not rows:
        return {"n": 0}
    return {"n": len(rows), "success": sum(r["ok"] for r in rows) / len(rows),
            "bit_error": statistics.fmean(r["ber"] for r in rows),
            "psnr_stego": statistics.fmean(r["psnr"] for r in rows),
            "ssim_stego": statistics.fmean(r["ssim"] for r in rows)}


def _table(rows: dict[str, list[dict]]) -> dict:
    return {spec: {**_cell(rs), "by_size": {s: _cell([r for r in rs if r["size"] == s]) for s in ("256", "native")}}
            for spec, rs in rows.items()}


class Veil:
    """veil's spread route as a method under test: hide through the public API, PNG file, reveal."""

    def __init__(self, model_name: str | None, strength: float, tmp: Path):
        from ..registry import get_model

        self.model = get_model(model_name, "message")
        self.name = self.model.card["name"]
        self.strength, self.path = strength, tmp / "stego.png"

    def hide(self, cover: Image.Image, text: str):
        """-> (stego as the PNG file holds it, [1,3,H,W]; payload bits sent)."""
        from ..api import hide
        from ..hiding import message_bits
        from ..imaging import load_image, pil_to_tensor

        hide(cover, text, model=self.model, strength=self.strength).save(self.path, compress_level=1)
        return pil_to_tensor(load_image(self.path)), message_bits(text, self.model)[0].numpy()

    def reveal(self, x, text: str, sent: np.ndarray) -> tuple[bool, float]:
        """(exact text back, raw bit error before correction)."""
        from ..hiding import reveal_tensor

        reading = reveal_tensor(x, self.model)
        got = reading.decoded
        return got is not None and got.message == text, float(((reading.probs > 0.5) != sent).mean())


class Peer:
    """invisible-watermark's methods (``rivaGan``, ``dwtDctSvd``) with a 32-bit payload, as their README runs
    them (BGR uint8 in and out); the stego goes through a PNG file as veil's does."""

    BITS = 32

    def __init__(self, method: str, tmp: Path):
        try:
            from imwatermark import WatermarkDecoder, WatermarkEncoder
        except ImportError:
            from ..errors import InputError

            raise InputError("--peers needs the optional extra: pip install 'veil[peers]'") from None
        self.method, self.path = method, tmp / f"{method}.png"
        self.name = {"rivaGan": "RivaGAN (invisible-watermark)",
                     "dwtDctSvd": "DWT-DCT-SVD (invisible-watermark)"}[method]
        self._enc, self._dec = WatermarkEncoder, WatermarkDecoder
        if method == "rivaGan":
            WatermarkEncoder.loadModel()
            WatermarkDecoder.loadModel()

    def hide(self, cover: Image.Image, text: str):
        from ..imaging import load_image, pil_to_tensor

        bits = np.frombuffer(text.encode()[:4].ljust(4, b"\0"), np.uint8)
        sent = np.unpackbits(bits)
        enc = self._enc()
        enc.set_watermark("bits", sent.tolist())
        bgr = np.ascontiguousarray(np.asarray(cover.convert("RGB"))[:, :, ::-1])
        out = enc.encode(bgr, self.method)
        Image.fromarray(np.clip(out, 0, 255).astype(np.uint8)[:, :, ::-1]).save(self.path, compress_level=1)
        return pil_to_tensor(load_image(self.path)), sent

    def reveal(self, x, text: str, sent: np.ndarray) -> tuple[bool, float]:
        from ..imaging import tensor_to_uint8

        bgr = np.ascontiguousarray(tensor_to_uint8(x)[:, :, ::-1])
        try:
            got = np.asarray(self._dec("bits", self.BITS).decode(bgr, self.method), dtype=np.uint8)
        except Exception:   # the peers raise on images they cannot read (too small, flat): nothing read
            return False, 0.5
        ber = float((got != sent).mean())
        return ber == 0, ber


def evaluate(methods: list, folders: list[str], matrix: dict[str, list[str]], crops: int, native: int, seed: int,
             log=print) -> list[dict]:
    """Every method on the same covers, texts and attacks (each attack seeded per sample, the same for all)."""
    import torch

    from ..imaging import pil_to_tensor
    from ..metrics import psnr, ssim
    from ..payloads.qr import random_text
    from .samples import covers
    from .robust import attack_cells

    cells = attack_cells(matrix)
    rng = random.Random(seed)
    rows = [{k: [] for k in cells} for _ in methods]
    t0, n = time.time(), 0
    for f, size, cover in covers(folders, rng, crops, native):
        text = random_text(rng, TEXT_LEN, TEXT_LEN)
        c = pil_to_tensor(cover)
        for m, table in zip(methods, rows):
            x, sent = m.hide(cover, text)
            p, s = psnr(x, c), ssim(x, c)
            for k, (spec, attack) in enumerate(cells.items()):
                with torch.random.fork_rng(), torch.no_grad():
                    torch.manual_seed(seed * 100003 + n * 101 + k)
                    y = attack(x)
                ok, ber = m.reveal(y, text, sent)
                table[spec].append({"size": size, "file": Path(f).name, "ok": ok, "ber": ber, "psnr": p, "ssim": s})
        n += 1
        if n % 10 == 0:
            log(f"{n} samples x {len(cells)} cells x {len(methods)} methods, {time.time() - t0:.0f} s")
    out = []
    for m, table in zip(methods, rows):
        out.append({"model": m.name, "matrix": matrix, "cells": _table(table), "samples": n,
                    "protocol": {"crops_per_photo": crops, "native_per_photo": native, "text_len": TEXT_LEN,
                                 "payload": "16-character text, ECC M" if isinstance(m, Veil) else
                                 f"{Peer.BITS} bits (the text's first 4 bytes), exact = all bits right",
                                 "strength": getattr(m, "strength", 1.0), "seed": seed,
                                 "file": "stego saved as PNG and read back, then attacked; JPEG = Pillow/libjpeg "
                                         "4:2:0; every attacked image rounded to 8 bits"}})
    return out


def false_positives(model, folders: list[str], n: int, seed: int, log=print) -> dict:
    """Reveal on ``n`` clean crops (no message; each side 64-768 px, half of those over 128 px then halved): how
    many give a message. The geometry search runs as in any reveal."""
    from ..data.covers import list_images
    from ..hiding import reveal_tensor
    from ..imaging import load_image, pil_to_tensor, split_alpha

    rng = random.Random(seed + 1)
    photos = [split_alpha(load_image(f))[0] for d in folders for f in list_images(d)]
    found, t0 = [], time.time()
    for i in range(n):
        img = photos[rng.randrange(len(photos))]
        w, h = img.size
        cw, ch = rng.randint(min(64, w), min(w, 768)), rng.randint(min(64, h), min(h, 768))
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        crop = img.crop((x, y, x + cw, y + ch))
        if rng.random() < 0.5 and min(cw, ch) > 128:
            crop = crop.resize((max(64, cw // 2), max(64, ch // 2)), Image.LANCZOS)
        got = reveal_tensor(pil_to_tensor(crop), model).decoded
        if got is not None:
            found.append({"crop": [x, y, cw, ch], "message": repr(got.message)})
        if (i + 1) % 500 == 0:
            log(f"false-positive run: {i + 1} clean crops, {len(found)} messages, {time.time() - t0:.0f} s")
    return {"n": n, "messages_found": len(found), "no_message_rate": 1 - len(found) / max(1, n),
            "found": found[:20], "seconds_per_reveal": (time.time() - t0) / max(1, n)}


def flat_patch_figure(model_name: str | None, folders: list[str], path: Path, seed: int = 0) -> Path:
    """cover | stego | residual x10 on a native-size held-out photo, and the same three at 100% on its flattest
    256 px area (pixels shown 1:1, where a pattern would show first)."""
    from ..api import hide
    from ..data.covers import list_images
    from .figures import pyplot, magnified, save_figure
    from ..imaging import load_image, split_alpha
    from ..payloads.qr import random_text

    files = [f for d in folders for f in list_images(d)]
    cover = split_alpha(load_image(files[seed % len(files)]))[0]
    if max(cover.size) > 1920:
        s = 1920 / max(cover.size)
        cover = cover.resize((round(cover.width * s), round(cover.height * s)), Image.LANCZOS)
    stego = hide(cover, random_text(random.Random(seed), TEXT_LEN, TEXT_LEN), model=model_name)
    g = np.asarray(cover.convert("L"), np.float32)
    best, box = None, (0, 0, 256, 256)
    for y in range(0, max(1, g.shape[0] - 256), 64):
        for x in range(0, max(1, g.shape[1] - 256), 64):
            v = float(np.abs(np.diff(g[y:y + 256, x:x + 256], axis=1)).mean())
            if best is None or v < best:
                best, box = v, (x, y, x + 256, y + 256)
    plt = pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(12, 8.4))
    rows = [(cover, stego, "whole photo"), (cover.crop(box), stego.crop(box), "flattest 256 px area at 100%")]
    for r, (a, b, label) in enumerate(rows):
        for c, (im, t) in enumerate([(np.asarray(a), f"cover ({label})"), (np.asarray(b), "stego"),
                                      (magnified(a, b, 10), "|cover - stego| x10")]):
            axes[r][c].imshow(im, interpolation="nearest")
            axes[r][c].set_title(t, fontsize=9)
            axes[r][c].set_xticks([])
            axes[r][c].set_yticks([])
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
    return path


def summary_lines(res: dict) -> list[str]:
    none = res["cells"]["none"]
    lines = [f"{res['model']}: {res['samples']} samples, PSNR {none['psnr_stego']:.2f} dB, SSIM "
             f"{none['ssim_stego']:.4f}, no attack {none['success']:.1%}"]
    for fam, specs in res["matrix"].items():
        lines.append(f"  {fam}: " + ", ".join(f"{s} {res['cells'][s]['success']:.0%}" for s in specs))
    return lines


def card_metrics(doc: dict, command: str) -> dict:
    cells = doc["cells"]
    return {"psnr": cells["none"]["psnr_stego"], "ssim": cells["none"]["ssim_stego"],
            "success": cells["none"]["success"],
            "success_by_attack": {k: round(v["success"], 4) for k, v in cells.items()},
            "psnr_256": cells["none"]["by_size"]["256"].get("psnr_stego"),
            "psnr_native": cells["none"]["by_size"]["native"].get("psnr_stego"),
            "no_message_on_clean": (doc.get("false_positives") or {}).get("no_message_rate"),
            "samples": doc["samples"], "images": doc["images"], "command": command}
