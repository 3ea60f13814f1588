"""``veil eval steganalysis``: the command line of veil.eval.steganalysis (its parser, and the run that prints)."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from ..eval.steganalysis import evaluate, load_set, lsb_stego, make_stego, stego_label, target_note
from ..files import write_atomic, write_json
from . import options


def add_parser(esub) -> None:
    p = esub.add_parser("steganalysis", help="ROC/AUC of steganalysis detectors on clean vs stego images")
    p.add_argument("--clean", required=True, nargs="+", metavar="DIR",
                   help="folders of clean images (never used to tune the detectors)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--stego", help="folder of stego images")
    src.add_argument("--model", help="make the stego set with this veil model (random payloads, PNG); also codec, "
                                     "stealth (16 characters) and stealth:R (R bits per sample)")
    src.add_argument("--lsb-rate", type=float, help="make it by LSB replacement of random bits at this rate")
    p.add_argument("--name", default=None, help="label of the result files (default: from the stego source)")
    p.add_argument("--crop", type=int, default=None, help="use S x S random-scale crops instead of whole images")
    p.add_argument("--per-image", type=int, default=8, help="crops per image with --crop (default 8)")
    p.add_argument("--learned", action="append", default=None, metavar="NAME",
                   help="also score with this trained CNN steganalyser (repeatable; e.g. xunet.stegnet)")
    p.add_argument("--save-stego", default=None, metavar="DIR", help="keep the generated stego PNGs here")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", default="results")
    p.set_defaults(func=run)


def run(args) -> int:
    options.check_plotting()
    from ..errors import InputError
    from ..eval.figures import Histograms, plot_histograms, plot_roc, save_figure

    if args.crop is not None and args.crop < 16:
        raise InputError(f"--crop {args.crop}: at least 16")
    if args.per_image < 1:
        raise InputError("--per-image: at least 1")
    if args.lsb_rate is not None and not 0 < args.lsb_rate <= 1:
        raise InputError(f"--lsb-rate {args.lsb_rate}: must be in (0, 1]")
    label = stego_label(args)
    clean = [x for folder in args.clean for x in load_set(folder, args.crop, args.per_image, args.seed, "clean")]
    if args.stego:
        stego = [img for _, img in load_set(args.stego, args.crop, args.per_image, args.seed, "stego")]
        source = {"stego_dir": args.stego}
    elif args.model:
        stego = make_stego(args.model, [img for _, img in clean], args.seed)
        source = {"model": label}
    else:
        stego = lsb_stego([img for _, img in clean], args.lsb_rate, args.seed)
        source = {"lsb_rate": args.lsb_rate}
    if args.save_stego:
        d = Path(args.save_stego)
        d.mkdir(parents=True, exist_ok=True)
        for (name, _), img in zip(clean, stego):
            dst = d / (re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).stem) + ".png")
            write_atomic(dst, lambda tmp, img=img: img.save(tmp), force=True)
    for name in args.learned or []:
        note = target_note(name)
        if note:
            print(f"veil: warning: {note}", file=sys.stderr)
    res = evaluate([img for _, img in clean], stego, args.learned)
    hist = Histograms()
    for _, c in clean:
        hist.add(cover=c)
    for s in stego:
        hist.add(stego=s)
    res = {"label": label, "clean": args.clean, **source, "crop": args.crop,
           "per_image": args.per_image if args.crop else None, "seed": args.seed,
           "n_clean": len(clean), "n_stego": len(stego), "names": [n for n, _ in clean], **res,
           "histograms": hist.result(),
           "command": "veil eval steganalysis " + " ".join(sys.argv[3:] if sys.argv[0].endswith("veil") else [])}
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / f"steganalysis_{label}.json", res)
    curves = {k: {**v["roc"], "auc": v["auc"]} for k, v in res["detectors"].items()}
    save_figure(plot_roc(curves, f"{label}: {len(clean)} clean vs {len(stego)} stego"),
                out_dir / f"steganalysis_{label}.png", dpi=100)
    save_figure(plot_histograms({label: res["histograms"]}, "pooled histograms", ("clean", "stego")),
                out_dir / f"steganalysis_{label}_hist.png")
    for k, v in res["detectors"].items():
        print(f"{label} {k:>14}: AUC {v['auc']:.3f} (rank {v['auc_rank']:.3f}), TPR at 5% FPR "
              f"{v['tpr_at_5pct_fpr']:.3f}")
    print(f"-> {out_dir / f'steganalysis_{label}.json'}")
    return 0
