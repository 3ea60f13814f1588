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
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from .figures import Histograms, plot_examples, plot_histograms, save_figure
from ..files import write_json


def add_parser(esub) -> None:
    p = esub.add_parser("image", help="hide an image in an image: seed 003 metrics, PSNR, SSIM through PNG files")
    p.add_argument("--images", nargs="+", required=True, help="folder(s) of photos never used in training")
    p.add_argument("--model", action="append", default=None, help="model (repeatable); default: stegnet")
    p.add_argument("--size", action="append", type=int, default=None, help="square size (repeatable); default 64")
    p.add_argument("--pairs", type=int, default=None, help="crops per photo (default 24 up to 64 px, else 8)")
    p.add_argument("--digits", default=None, nargs="?", const="default", metavar="NPY",
                   help="run the seed 002 experiment instead: handwritten digits hidden in 32x32 photo crops "
                        "(default: the validation digits of `veil data prepare`)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", default="results")
    p.add_argument("--no-figures", action="store_true")
    p.add_argument("--card", nargs="?", const="", default=None, metavar="DIR",
                   help="write the measured numbers into the model's card, saved in DIR (default: the user's model "
                        "folder, $VEIL_WEIGHTS or ~/.cache/veil/weights; src/veil in a checkout: the shipped card)")
    p.set_defaults(func=run)


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
    from ..metrics import cover_changing_rate, decoded_rate, payload_capacity, psnr, ssim

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
           "secret_psnr": psnr(d, h), "secret_ssim": ssim(d, h)}
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
    from ..registry import get_model

    model = get_model(model_name, "image")
    rows, examples, hist = [], [], Histograms()
    shown = {0, len(pairs) // 3, 2 * len(pairs) // 3}      # three pairs from different photos for the figure
    for k, (cover, secret, cname, sname) in enumerate(pairs):
        row, stego, revealed = measure_pair(model, cover, secret)
        rows.append({"cover": cname, "secret": sname, **row})
        hist.add(cover, stego)
        if k in shown:
            examples.append((cover, stego, secret, revealed))
    # summarise() takes the float columns: the photo names stay out of the means
    res = {"model": model.card["name"], "overall": summarise(rows), "rows": rows}
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

def _line(name: str, what: str, o: dict) -> str:
    return (f"{name} {what}: {o['n']} pairs, cover changing rate {o['cover_changing_rate']:.2%}, "
            f"decoded rate {o['decoded_rate']:.2%} ({o['payload_bpp']:.2f} bpp), cover PSNR {o['cover_psnr']:.2f} dB "
            f"/ SSIM {o['cover_ssim']:.4f}, secret PSNR {o['secret_psnr']:.2f} dB / SSIM {o['secret_ssim']:.4f}")


def run(args) -> int:
    from .figures import pyplot

    pyplot()       # it draws at the end: without matplotlib, say so (exit 2) before the work, not after it
    from ..data.corpus import default_dir
    from ..errors import InputError
    from ..registry import get_card

    models = args.model or ["stegnet"]
    cards = [get_card(m, "image") for m in models]
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for d in args.images:
        if not Path(d).is_dir():
            raise InputError(f"no such folder: {d}")
    if args.digits:
        path = str(default_dir() / "digits" / "val.npy") if args.digits == "default" else args.digits
        if not Path(path).is_file():
            raise InputError(f"no digits at {path}: run `make data`")
        jobs = [("digits32", digit_pairs(args.images, path, args.pairs or 200, args.seed))]
    else:
        jobs = []
        for size in args.size or [64]:
            if size < 16:
                raise InputError(f"--size {size}: at least 16")
            jobs.append((str(size), photo_pairs(args.images, size, args.pairs or (24 if size <= 64 else 8),
                                                args.seed)))
    for card in cards:
        for what, pairs in jobs:
            res, examples, hist = evaluate(card["name"], pairs)
            res.update(size=what, images=args.images, seed=args.seed,
                       command="veil eval image " + " ".join(sys.argv[3:] if sys.argv[0].endswith("veil") else []))
            stem = f"image_{card['name']}_{what}"
            if not args.no_figures:
                save_figure(plot_examples(examples, f"{card['name']} at {what}: cover, stego, secret, revealed "
                                                    "(8-bit PNG)"), out_dir / f"{stem}.jpg")
                hists = {card["name"]: hist}
                if card["arch"] != "lsb3":
                    hists["lsb3.default"] = histograms("lsb3", pairs)
                res["histogram_l1"] = {k: v["l1"] for k, v in hists.items()}
                save_figure(plot_histograms(hists, f"histograms of covers and stego images at {what} px"),
                            out_dir / f"{stem}_hist.png")
            write_json(out_dir / f"{stem}.json", res)
            print(_line(card["name"], f"at {what}", res["overall"]) + f" -> {out_dir / stem}.json")
            if args.card:
                _write_card(card["name"], what, res, args.card)
    return 0


def _write_card(name: str, what: str, res: dict, dest: str) -> None:
    from ..registry import update_card

    o = res["overall"]
    numbers = {k: o[k] for k in ("n", "cover_changing_rate", "decoded_rate", "payload_bpp", "cover_psnr", "cover_ssim",
                                 "secret_psnr", "secret_ssim")} | {"images": res["images"], "command": res["command"]}
    update_card(name, lambda c: c.setdefault("metrics", {}).__setitem__(f"image_{what}", numbers), dest or None)
