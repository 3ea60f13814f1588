"""``veil eval image``: image-into-image hiding measured the way seeds 002 and 003 do, on photos the model
never saw, through real 8-bit PNG files and the public API.

Pairs: for each size S, ``--pairs`` random-scale square crops of every photo, resized to S x S; the cover
comes from photo i and the secret from photo i + 1 (in sorted order). Each stego image is written as a PNG
and read back before it is revealed; the revealed image is 8-bit too. Per pair: seed 003's decoded rate,
payload capacity (bpp) and cover changing rate; PSNR and SSIM of stego vs cover and of revealed vs secret.

``--digits``: the seed 002 experiment: handwritten digits (grey, 32x32) hidden in 32x32 photo crops.

Writes ``results/image_<model>_<size>.json`` (``..._digits32.json``), a figure (``.jpg``) like seed 003's
Figs. 1 and 3 (cover, stego, secret, revealed, residuals x5 and x10, seed 003 eq. 4) and a histogram figure of
cover and stego for the model against lsb3 (its Fig. 9).
"""
from __future__ import annotations

import io
import random
import statistics

import numpy as np
from PIL import Image

from .figures import Histograms


# ----------------------------------------------------------------------------- data

def photo_pairs(folders: list[str], size: int, per_photo: int, seed: int):
    """[(cover, secret, cover_name, secret_name)] of PIL RGB images size x size."""
    from ..data.covers import list_images, random_photo_crop

    files = [f for d in folders for f in list_images(d)]
    if len(files) < 2:
        raise ValueError(f"need at least two photos in {folders}")
    photos = [np.asarray(Image.open(f).convert("RGB")) for f in files]
    rng = random.Random(f"{seed}-{size}")
    pairs = []
    for i in range(len(photos)):
        j = (i + 1) % len(photos)
        for _ in range(per_photo):
            c = random_photo_crop(photos[i], size, rng)
            s = random_photo_crop(photos[j], size, rng)
            pairs.append((Image.fromarray(c), Image.fromarray(s), files[i].stem, files[j].stem))
    return pairs


def digit_pairs(folders: list[str], digits_path: str, n: int, seed: int):
    """[(32x32 photo crop, 32x32 grey digit, cover name, digit index)]."""
    from ..data.covers import list_images, random_photo_crop
    from ..data.digits import digits_tensor, load_digits
    from ..imaging import tensor_to_uint8

    files = [f for d in folders for f in list_images(d)]
    photos = [np.asarray(Image.open(f).convert("RGB")) for f in files]
    digits = load_digits(digits_path)
    rng = random.Random(f"{seed}-digits")
    pairs = []
    for k in range(n):
        i = k % len(photos)
        d = rng.randrange(len(digits))
        grey = tensor_to_uint8(digits_tensor(digits[d:d + 1], 32)[0])[:, :, 0]
        pairs.append((Image.fromarray(random_photo_crop(photos[i], 32, rng)), Image.fromarray(grey, "L"),
                      files[i].stem, str(d)))
    return pairs


# ----------------------------------------------------------------------------- measuring

def through_png(img: Image.Image) -> Image.Image:
    """What a PNG file of ``img`` reads back as."""
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    buf.seek(0)
    with Image.open(buf) as im:
        im.load()
        return im.copy()


def measure_pair(model, cover: Image.Image, secret: Image.Image) -> tuple[dict, Image.Image, Image.Image]:
    """Hide, save as PNG, read back, reveal; the pair's metrics, the stego image and the revealed image."""
    from ..api import hide_image, reveal_image
    from ..imaging import pil_to_tensor
    from ..metrics import color_cast, cover_changing_rate, decoded_rate, payload_capacity, psnr, ssim

    grey = secret.mode == "L"
    stego = through_png(hide_image(cover, secret, model=model))
    revealed = reveal_image(stego, model=model, grey=grey)
    c, e = pil_to_tensor(cover), pil_to_tensor(stego)
    h, d = pil_to_tensor(secret.convert("RGB")), pil_to_tensor(revealed.convert("RGB"))
    if grey:
        h, d = h[:, :1], d[:, :1]
    rate = decoded_rate(h, d)
    row = {"decoded_rate": rate, "payload_bpp": payload_capacity(rate, channels=h.shape[1]),
           "cover_changing_rate": cover_changing_rate(c, e), "cover_psnr": psnr(e, c), "cover_ssim": ssim(e, c),
           "color_cast_de": color_cast(c, e), "secret_psnr": psnr(d, h), "secret_ssim": ssim(d, h)}
    return row, stego, revealed


def summarise(rows: list[dict]) -> dict:
    out = {"n": len(rows)}
    for k in rows[0]:
        if isinstance(rows[0][k], float):
            vals = [r[k] for r in rows if np.isfinite(r[k])]
            out[k] = statistics.fmean(vals) if vals else float("inf")
            out[k + "_min"] = min(vals) if vals else float("inf")
    return out


def evaluate(model_name: str, pairs) -> tuple[dict, list, dict]:
    """Measure every pair; returns the results, up to three example pairs for the figure, and the pooled
    histograms of the covers and of the stego files read back."""
    from ..api import CODEC
    from ..registry import get_model

    model = CODEC if model_name == CODEC else get_model(model_name, "image")
    rows, examples, hist = [], [], Histograms()
    shown = {0, len(pairs) // 3, 2 * len(pairs) // 3}      # three pairs from different photos for the figure
    for k, (cover, secret, cname, sname) in enumerate(pairs):
        row, stego, revealed = measure_pair(model, cover, secret)
        rows.append({"cover": cname, "secret": sname, **row})
        hist.add(cover, stego)
        if k in shown:
            examples.append((cover, stego, secret, revealed))
    # summarise() takes the float columns: the photo names stay out of the means
    res = {"model": model_name if model == CODEC else model.card["name"], "overall": summarise(rows), "rows": rows}
    return res, examples[:3], hist.result()


def histograms(model_name: str, pairs) -> dict:
    """:class:`Histograms` of ``pairs`` hidden by ``model_name`` (the lsb3 comparison of a figure)."""
    from ..api import get_model, hide_image

    model = get_model(model_name, "image")
    hist = Histograms()
    for cover, secret, _, _ in pairs:
        hist.add(cover, through_png(hide_image(cover, secret, model=model)))
    return hist.result()


# ----------------------------------------------------------------------------- command

def summary_line(name: str, what: str, o: dict) -> str:
    return (f"{name} {what}: {o['n']} pairs, cover changing rate {o['cover_changing_rate']:.2%}, "
            f"decoded rate {o['decoded_rate']:.2%} ({o['payload_bpp']:.2f} bpp), cover PSNR {o['cover_psnr']:.2f} dB "
            f"/ SSIM {o['cover_ssim']:.4f}, colour cast {o['color_cast_de']:.2f} dE, "
            f"secret PSNR {o['secret_psnr']:.2f} dB / SSIM {o['secret_ssim']:.4f}")


def write_card_numbers(name: str, what: str, res: dict, dest: str) -> None:
    from ..registry import update_card

    o = res["overall"]
    numbers = {k: o[k] for k in ("n", "cover_changing_rate", "decoded_rate", "payload_bpp", "cover_psnr", "cover_ssim",
                                 "color_cast_de", "secret_psnr", "secret_ssim") if k in o}
    numbers |= {"images": res["images"], "command": res["command"]}
    update_card(name, lambda c: c.setdefault("metrics", {}).__setitem__(f"image_{what}", numbers), dest or None)
