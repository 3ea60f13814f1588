"""``veil eval hide``: the command line of veil.eval.hide (its parser, and the run that prints)."""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from ..data.covers import check_images
from ..eval.hide import Peer, Veil, card_metrics, evaluate, false_positives, flat_patch_figure, summary_lines
from ..files import write_json
from . import options


def add_parser(esub) -> None:
    p = esub.add_parser("hide", help="the spread-message route: fidelity, attacks, false positives, peers")
    p.add_argument("--images", nargs="+", required=True, help="folder(s) of photos never used in training")
    p.add_argument("--model", default=None, help="model name; default: the default of `veil hide`")
    p.add_argument("--attacks", nargs="+", default=["all"], metavar="LIST",
                   help="'all' (default), families of the standard matrix or specs (jpeg:60)")
    p.add_argument("--crops", type=int, default=8, help="random 256 px crops per photo (default 8)")
    p.add_argument("--native", type=int, default=1, help="texts hidden at the photo's native size, per photo")
    p.add_argument("--clean", type=int, default=2000, help="clean crops revealed for the false-positive run")
    p.add_argument("--strength", type=float, default=1.0, help="multiple of the calibrated gain (a sweep point)")
    p.add_argument("--peers", action="store_true",
                   help="also run invisible-watermark's RivaGAN and DWT-DCT-SVD (pip install 'veil[peers]')")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="result file (default results/hide_<model>.json)")
    options.add_card_argument(p)
    p.set_defaults(func=run)


def run(args) -> int:
    options.check_plotting()
    from ..errors import InputError
    from ..eval.robust import parse_matrix, plot
    from ..registry import get_card

    try:
        matrix = parse_matrix(args.attacks)
    except ValueError as e:
        raise InputError(str(e)) from None
    for d in args.images:
        check_images(d)
    card = get_card(args.model, "message")
    suffix = "" if args.strength == 1.0 else f"_strength{args.strength:g}"
    out = Path(args.out or f"results/hide_{card['name']}{suffix}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    log = lambda m: print(m, file=sys.stderr)  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        methods = [Veil(card["name"], args.strength, Path(tmp))]
        if args.peers:
            methods += [Peer("rivaGan", Path(tmp)), Peer("dwtDctSvd", Path(tmp))]
        t0 = time.time()
        results = evaluate(methods, args.images, matrix, args.crops, args.native, args.seed, log)
        wall = time.time() - t0
        fp = false_positives(methods[0].model, args.images, args.clean, args.seed, log) if args.clean else None
    doc = {**results[0], "weights_sha256": card["weights"]["sha256"], "images": list(args.images),
           "false_positives": fp, "peers": results[1:], "wall_s": round(wall, 1)}
    write_json(out, doc)
    for r in results:
        print("\n".join(summary_lines(r)))
    if fp:
        print(f"clean crops: {fp['messages_found']} messages in {fp['n']} ({fp['no_message_rate']:.2%} no message)")
    print(f"-> {out}")
    plot(results, out.with_suffix(".png"))
    print(f"plot -> {out.with_suffix('.png')}")
    if args.strength == 1.0 and not args.peers:      # the shipped setting's figure, once
        print(f"figure -> {flat_patch_figure(card['name'], args.images, out.with_name(out.stem + '_figure.png'))}")
    if args.card:
        from ..registry import update_card

        metrics = card_metrics(doc, f"veil eval hide --images {' '.join(args.images)} --card")
        update_card(card["name"], lambda c: c.__setitem__("metrics", metrics), args.card or None)
    return 0
