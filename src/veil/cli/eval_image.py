"""``veil eval image``: the command line of veil.eval.image (its parser, and the run that prints)."""
from __future__ import annotations

import sys
from pathlib import Path

from ..data.covers import check_images
from ..eval.figures import plot_examples, plot_histograms, save_figure
from ..eval.image import digit_pairs, evaluate, histograms, photo_pairs, summary_line, write_card_numbers
from ..files import write_json
from . import options


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
    options.add_card_argument(p)
    p.set_defaults(func=run)


def run(args) -> int:
    options.check_plotting()
    from ..data.corpus import default_dir
    from ..errors import InputError
    from ..registry import get_card

    models = args.model or ["stegnet"]
    # codec has no weights and no card: a stand-in with its name (its numbers go to results/ only)
    cards = [{"name": "codec", "arch": "codec"} if m == "codec" else get_card(m, "image") for m in models]
    if args.card is not None and any(c["arch"] == "codec" for c in cards):
        raise InputError("codec has no card to write numbers into: drop --card or the codec model")
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for d in args.images:
        check_images(d)
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
            print(summary_line(card["name"], f"at {what}", res["overall"]) + f" -> {out_dir / stem}.json")
            if args.card:
                write_card_numbers(card["name"], what, res, args.card)
    return 0
