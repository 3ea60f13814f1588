"""``veil eval steganalysis``: can a detector tell stego images from clean ones? (seed 003, sec. 5.2)

    veil eval steganalysis --clean DIR --stego DIR [--name LABEL]
    veil eval steganalysis --clean DIR --model MODEL          # veil hides random payloads itself
    veil eval steganalysis --clean DIR --lsb-rate 0.1         # reference: LSB replacement of random bits

The clean images are the files in ``--clean`` (whole), or with ``--crop S`` ``--per-image K`` random-scale
S x S crops of them (the crop policy of ``veil eval image``). With ``--model`` every clean image gets a
random payload (a random text for QR models; the next clean image for image models, so the secret is a real
photo) and the stego image goes through an 8-bit PNG. Scored: the four classical detectors and their fused
mean (:mod:`veil.detectors`), and with ``--learned NAME`` a trained CNN steganalyser too. For each:
the ROC by threshold sweep 0..1 step 0.01, its AUC, the rank AUC and the TPR at 5% FPR.

Writes ``results/steganalysis_<label>.json`` (scores per image, curves, pooled clean/stego histograms) and
``results/steganalysis_<label>.png`` (ROC curves with the chance line).
"""
from __future__ import annotations

import random
import re
import time
from pathlib import Path

import numpy as np
from PIL import Image



# ----------------------------------------------------------------------------- image sets

def load_set(folder: str, crop: int | None, per_image: int, seed: int, what: str) -> list[tuple[str, Image.Image]]:
    """[(name, 8-bit PIL image)] of the images in ``folder``, whole or as crops."""
    from ..data.covers import check_images, list_images, random_photo_crop
    from ..errors import InputError
    from ..imaging import load_image

    files = list_images(check_images(folder))
    if not files:
        raise InputError(f"no images in {folder}")
    rng = random.Random(f"{seed}-{what}-{crop}")
    out = []
    for f in files:
        img = load_image(f)
        img = img.convert("L") if img.mode in ("1", "L", "LA") else img.convert("RGB")
        if crop is None:
            out.append((f.name, img))
            continue
        a = np.asarray(img.convert("RGB"))
        for k in range(per_image):
            out.append((f"{f.stem}#{k}", Image.fromarray(random_photo_crop(a, crop, rng))))
    return out


def make_stego(model_name: str, clean: list[Image.Image], seed: int) -> list[Image.Image]:
    """Each clean image with a random payload hidden by ``model_name``, read back from an 8-bit PNG. Besides the
    released models: ``codec`` (the next clean image hidden by veil.codec), ``stealth`` (a random 16-character text
    by ``veil.hide(..., stealth=True)``) and ``stealth:R`` (random bytes at R bits per sample)."""
    from ..api import CODEC, get_model, hide, hide_image, hide_qr
    from ..payloads.qr import random_text
    from .image import through_png

    rng = random.Random(f"{seed}-payloads")
    if model_name == CODEC or model_name.startswith("stealth"):
        out = []
        for i, img in enumerate(clean):
            img = img.convert("RGB")
            if model_name == CODEC:
                stego = hide_image(img, clean[(i + 1) % len(clean)].convert("RGB"), model=CODEC)
            elif model_name == "stealth":
                stego = hide(img, random_text(rng, 16), stealth=True)
            else:
                rate = float(model_name.split(":", 1)[1])
                n = int(rate * img.width * img.height * 3 / 8) - 18       # the frame's header is 18 bytes
                stego = hide(img, rng.randbytes(max(1, n)), stealth=True)
            out.append(through_png(stego))
        return out
    from ..registry import get_card

    card = get_card(model_name, None)
    model = get_model(card["name"], card["task"])
    out = []
    for i, img in enumerate(clean):
        img = img.convert("RGB")
        if card["task"] == "qr":
            stego = hide_qr(img, random_text(rng, 32), model=model)
        else:
            stego = hide_image(img, clean[(i + 1) % len(clean)].convert("RGB"), model=model)
        out.append(through_png(stego))
    return out


def lsb_stego(clean: list[Image.Image], rate: float, seed: int) -> list[Image.Image]:
    """LSB replacement of random bits at ``rate`` (random positions) in every image."""
    from ..detectors import lsb_embed

    g = np.random.default_rng(seed)
    return [Image.fromarray(lsb_embed(np.asarray(img), rate, g)) for img in clean]


# ----------------------------------------------------------------------------- scoring

def classical_scores(images: list[Image.Image]) -> list[dict]:
    from ..api import image_samples
    from ..detectors import analyze_array

    return [analyze_array(image_samples(img)) for img in images]


def target_note(name: str) -> str | None:
    """Why steganalyser ``name``'s numbers may not hold for its target as shipped: its card records no hash of the
    weights it learned to detect, or a hash that differs from the target's released weights. None when they match."""
    from ..registry import get_card

    card = get_card(name, "steganalysis")
    trained_on = card.get("target_sha256")
    from ..api import WEIGHTLESS

    if card["target"] in WEIGHTLESS:                    # no weights: nothing to match
        return None
    shipped = (get_card(card["target"], None).get("weights") or {}).get("sha256")
    if trained_on is None and shipped is not None:
        return f"{card['name']}: its card does not record which {card['target']} weights it was trained against"
    if trained_on != shipped:
        return f"{card['name']} was trained against other {card['target']} weights than the released ones"
    return None


def learned_scores(name: str, images: list[Image.Image]) -> list[float]:
    """P(stego) of each image by a trained steganalyser (``arch.tag``)."""
    from ..models.steganalyser import score_images
    from ..registry import load_model

    return score_images(load_model(name, "steganalysis"), images)


def evaluate(clean: list[Image.Image], stego: list[Image.Image], learned: list[str] | None = None) -> dict:
    """Scores of both sets and, per detector, :func:`veil.metrics.detection.summarise_scores`."""
    from ..metrics.detection import summarise_scores
    from ..detectors import DETECTORS

    t0 = time.perf_counter()
    sc, ss = classical_scores(clean), classical_scores(stego)
    seconds = (time.perf_counter() - t0) / (len(clean) + len(stego))
    keys = list(DETECTORS) + ["fused"]
    for name in learned or []:
        for rows, imgs in ((sc, clean), (ss, stego)):
            for r, p in zip(rows, learned_scores(name, imgs)):
                r[name] = p
        keys.append(name)
    detectors = {k: summarise_scores([r[k] for r in sc], [r[k] for r in ss]) for k in keys}
    return {"detectors": detectors, "scores": {"clean": sc, "stego": ss},
            "classical_seconds_per_image": seconds}


def stego_label(args) -> str:
    from ..api import WEIGHTLESS

    if args.name:
        label = args.name
    elif args.model in WEIGHTLESS or (args.model or "").startswith("stealth:"):
        label = args.model.replace(":", "")
    elif args.model:
        from ..registry import get_card

        label = get_card(args.model, None)["name"]
    elif args.lsb_rate is not None:
        label = f"lsb_rate{args.lsb_rate:g}"
    else:
        label = Path(args.stego).resolve().name
    return re.sub(r"[^A-Za-z0-9._-]+", "_", label)
