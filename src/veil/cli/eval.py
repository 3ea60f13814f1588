"""``veil eval qr`` and ``veil bench qr``: defined in veil.eval; this module wires the CLI."""
from __future__ import annotations


def add_parser(sub) -> None:
    from ..eval import qr as qr_eval

    p = sub.add_parser("eval", help="evaluate models on photos they never trained on")
    esub = p.add_subparsers(dest="eval_command", metavar="WHAT")
    esub.required = True
    qr_eval.add_parser(esub)
    from ..eval import image as image_eval

    image_eval.add_parser(esub)
    from ..eval import steganalysis

    steganalysis.add_parser(esub)
    from ..eval import hide as hide_eval

    hide_eval.add_parser(esub)
    from ..eval import disguise as disguise_eval

    disguise_eval.add_parser(esub)
    b = sub.add_parser("bench", help="latency and memory benchmarks")
    bsub = b.add_subparsers(dest="bench_command", metavar="WHAT")
    bsub.required = True
    from . import bench

    bench.add_parser(bsub)
