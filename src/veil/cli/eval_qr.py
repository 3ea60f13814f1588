"""``veil eval qr``: the command line of veil.eval.qr (its parser, and the run that prints)."""
from __future__ import annotations

import sys
from pathlib import Path

from ..eval.qr import card_metrics, evaluate, result_suffix
from ..files import write_json
from . import options


def add_parser(esub) -> None:
    p = esub.add_parser("qr", help="exact-text recovery, PSNR, SSIM on unseen photos through PNG files")
    p.add_argument("--images", nargs="+", required=True, help="folder(s) of photos never used in training")
    p.add_argument("--model", action="append", default=None, help="model name (repeatable); default: the default")
    p.add_argument("--crops", type=int, default=None, help="random 256x256 crops per photo (24; 8 with --attacks)")
    p.add_argument("--native", type=int, default=None,
                   help="texts hidden at the photo's native size, per photo (2; 1 with --attacks)")
    p.add_argument("--small", type=int, default=4, help="random crops of 64-127 px per photo (reported apart)")
    p.add_argument("--max-len", type=int, default=32, help="longest random text")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="result file (default results/qr_eval_<model>.json)")
    options.add_card_argument(p)
    p.add_argument("--strength", type=float, default=1.0,
                   help="as in `veil qr hide`: multiple of the calibrated gain (default 1; another value adds "
                        "_strength<X> to the result file names)")
    p.add_argument("--verify", default=None, metavar="LIST",
                   help="as in `veil qr hide`: hide each text at the quietest strength that survives these attacks "
                        "(adds _verified to the result file names)")
    p.add_argument("--attacks", nargs="+", default=None, metavar="LIST",
                   help="robustness matrix instead: 'all', families (jpeg, blur, resize, resize_bicubic, noise, "
                        "blur+jpeg) or specs (jpeg:60); writes results/robust_qr_<model>.json and .png")
    p.set_defaults(func=run)


def run_attacks(args, verify: list[str]) -> int:
    options.check_plotting()
    from ..errors import InputError
    from ..eval.robust import evaluate_attacks, parse_matrix, plot, summary_lines
    from ..registry import get_card

    try:
        matrix = parse_matrix(args.attacks)
    except ValueError as e:
        raise InputError(str(e)) from None
    crops = 8 if args.crops is None else args.crops
    native = 1 if args.native is None else args.native
    results = []
    for name in args.model or [None]:
        card = get_card(name)
        res = evaluate_attacks(name, args.images, matrix, crops, native, args.max_len, args.seed,
                               strength=args.strength, verify=verify, log=lambda m: print(m, file=sys.stderr))
        if args.out and len(args.model or [None]) == 1:
            out = Path(args.out)
        else:
            out = (Path(args.out).parent if args.out else Path("results")) / \
                f"robust_qr_{card['name']}{result_suffix(args.strength, verify)}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        write_json(out, res)
        results.append(res)
        print("\n".join(summary_lines(res)) + f"\n  -> {out}")
    fig = Path(args.out).with_suffix(".png") if args.out else \
        Path(f"results/robust_qr_{results[0]['model']}{result_suffix(args.strength, verify)}.png")
    plot(results, fig)
    print(f"plot -> {fig}")
    return 0


def run(args) -> int:
    from ..api import check_hiding_options
    from ..errors import InputError
    from ..registry import get_card, resolve_name

    _, verify = check_hiding_options(args.strength, args.verify)   # bad values fail before any work
    if args.card and (verify or args.strength != 1.0):
        raise InputError("--card records the shipped setting only: drop --strength / --verify")
    if args.attacks:
        return run_attacks(args, verify)
    models = args.model or [None]
    for name in models:
        card = get_card(name)
        res = evaluate(name, args.images, 24 if args.crops is None else args.crops,
                       2 if args.native is None else args.native, args.max_len, args.seed, args.small,
                       strength=args.strength, verify=verify, log=lambda m: print(m, file=sys.stderr))
        out = Path(args.out or f"results/qr_eval_{card['name']}{result_suffix(args.strength, verify)}.json")
        out.parent.mkdir(parents=True, exist_ok=True)
        write_json(out, res)
        o = res["overall"]
        print(f"{card['name']}: {o['n']} samples, exact text {o['success']:.2%} "
              f"(256: {res['by_size']['256'].get('success', float('nan')):.2%}, "
              f"native: {res['by_size']['native'].get('success', float('nan')):.2%}, "
              f"small 64-127 px: {res['by_size']['small'].get('success', float('nan')):.2%}; "
              f"flat {res['by_category']['flat'].get('success', float('nan')):.2%}, "
              f"sharp {res['by_category']['sharp'].get('success', float('nan')):.2%}), "
              f"PSNR {o['psnr_mean']:.2f} dB (min {o['psnr_min']:.2f}), SSIM {o['ssim_mean']:.4f}, "
              f"MAE {o['mae_mean'] * 255:.3f}/255, mean strength {o['strength_mean']:.2f} x calibrated -> {out}")
        if args.card:
            from ..registry import update_card

            cmd = f"veil eval qr --images {' '.join(args.images)} --model {card['name']} --card"
            metrics = card_metrics(res, cmd)
            update_card(resolve_name(card["name"]), lambda c: c.__setitem__("metrics", metrics), args.card or None)
    return 0
