"""How often does `veil qr reveal` / `veil.reveal_qr` with no model named return a text that is not the one hidden?

With no model named, reveal tries the default pair and then every other released QR model (the image may have
been written with --model). Each case here is read by every one of those models, so a wrong text from any model
the fallback could reach is counted, as is what reveal_qr itself returns:
  - stego images written by each released QR model through the public API (6-digit and short texts, validation
    photos), then cropped, rotated, JPEG'd hard, blurred or shrunk;
  - photos with nothing hidden (validation, synthetic, training photos as crops) and noise.
Writes results/qr_wrong_text.json.

    python scripts/qr_wrong_text.py [--quick]
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ATTACKS = ["none", "crop:0.9", "crop:0.8", "rotate:2", "rotate:5", "jpeg:30", "jpeg:15", "blur:2", "resize:0.3",
           "crop:0.9+jpeg:50"]


def main(argv: list[str] | None = None) -> int:
    import veil
    from veil.api import get_model
    from veil.data import corpus
    from veil.files import write_json
    from veil.imaging import pil_to_tensor
    from veil.payloads.qr import read_qr
    from veil.registry import list_cards

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--quick", action="store_true", help="a few cases, to try the script")
    ap.add_argument("--out", default="results/qr_wrong_text.json")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    rng = random.Random(7)
    names = [c["name"] for c in list_cards() if c.get("task") == "qr"]
    models = {n: get_model(n, "qr") for n in names}
    d = corpus.default_dir()
    val = sorted((d / "val").glob("*.png")) + sorted((d / "val_sharp").glob("*.png"))
    train = sorted((d / "train").glob("*.png"))
    if args.quick:
        val, train = val[:2], train[:3]

    def photo(path: Path, side: int) -> Image.Image:
        im = Image.open(path).convert("RGB")
        s = side / max(im.size)
        return im.resize((max(64, round(im.width * s)), max(64, round(im.height * s))), Image.LANCZOS)

    def read_all(img: Image.Image) -> dict:
        x = pil_to_tensor(img)
        out = {}
        for n, m in models.items():
            prob = m.extract(x)[0, 0].numpy()
            r = read_qr(prob, m.spec)
            out[n] = (r.text, r.path, round(r.agree, 3))
        try:
            out["reveal_qr"] = (veil.reveal_qr(img), None, None)
        except veil.RevealError:
            out["reveal_qr"] = (None, None, None)
        return out

    cases = []
    t0 = time.time()
    hiders = [n for n in names if n != "qr_baseline.default"] + ["qr_baseline.default"]
    for i, path in enumerate(val):
        cover = photo(path, rng.choice([256, 384, 512]))
        for hider in hiders:
            text = rng.choice([f"{rng.randrange(10**6):06d}", "".join(rng.choice("abcdefgh0123") for _ in range(8))])
            try:
                stego = veil.hide_qr(cover, text, model=hider)
            except veil.VeilError as e:
                print(f"skip {path.name} {hider}: {e}", file=sys.stderr)
                continue
            for attack in ATTACKS if not args.quick else ATTACKS[:3]:
                img = stego if attack == "none" else veil.attack_image(stego, [attack], seed=i)
                cases.append({"kind": "stego", "cover": path.name, "hider": hider, "attack": attack, "text": text,
                              "reads": read_all(img)})
        print(f"{i + 1}/{len(val)} covers, {len(cases)} cases, {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    for path in train + val:
        for side in (256, 512) if not args.quick else (256,):
            im = photo(path, side * 2)
            x0, y0 = rng.randrange(0, im.width - side + 1), rng.randrange(0, im.height - side + 1)
            crop = im.crop((x0, y0, x0 + side, y0 + side)) if min(im.size) >= side else im
            cases.append({"kind": "clean", "cover": path.name, "text": None, "reads": read_all(crop)})
    nrng = np.random.default_rng(3)
    for k in range(40 if not args.quick else 2):
        a = nrng.integers(0, 256, (256, 256, 3), dtype=np.uint8) if k % 2 else \
            np.repeat(nrng.integers(0, 256, (16, 16, 1), dtype=np.uint8), 3, 2)
        img = Image.fromarray(a).resize((256, 256), Image.NEAREST)
        cases.append({"kind": "clean", "cover": f"noise_{k}", "text": None, "reads": read_all(img)})

    wrong = Counter()
    right = Counter()
    right_agree: dict[str, list[float]] = {}
    wrong_examples = []
    for c in cases:
        for n, (text, path, agree) in c["reads"].items():
            if text is None:
                continue
            if text == c["text"]:
                right[n] += 1
                if path is not None:
                    right_agree.setdefault(path, []).append(agree)
            else:
                wrong[n] += 1
                wrong_examples.append({"model": n, "path": path, "agree": agree, "got": text,
                                       **{k: c[k] for k in ("kind", "cover", "text") if k in c},
                                       **({"hider": c["hider"], "attack": c["attack"]} if c["kind"] == "stego"
                                          else {})})
    n_stego = sum(c["kind"] == "stego" for c in cases)
    doc = {"cases": len(cases), "stego_cases": n_stego, "clean_cases": len(cases) - n_stego,
           "models": names, "attacks": ATTACKS,
           "reads_per_model": len(cases),
           "wrong_texts": {n: wrong[n] for n in [*names, "reveal_qr"]},
           "right_texts": {n: right[n] for n in [*names, "reveal_qr"]},
           "reveal_qr_found_on_stego": sum(c["reads"]["reveal_qr"][0] == c["text"] for c in cases
                                           if c["kind"] == "stego") / max(1, n_stego),
           "right_reads_function_pattern_agreement": {
               p: {"n": len(v), "min": min(v), "p01": float(np.quantile(v, 0.01)), "median": float(np.median(v))}
               for p, v in right_agree.items()},
           "wrong_examples": wrong_examples[:50], "seconds": round(time.time() - t0, 1)}
    print(f"{len(cases)} cases ({n_stego} stego, {len(cases) - n_stego} clean): wrong texts "
          f"{dict(doc['wrong_texts'])}; reveal_qr right on {doc['reveal_qr_found_on_stego']:.1%} of stego")
    if not args.quick:
        write_json(args.out, doc)
        print(f"-> {args.out}")
    else:
        for w in wrong_examples[:20]:
            print(w)
    return 0


if __name__ == "__main__":
    sys.exit(main())
