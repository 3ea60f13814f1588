"""``veil eval WHAT`` and ``veil bench WHAT``: the evaluation and benchmark command groups (veil.eval measures)."""
from __future__ import annotations


def add_parser(sub) -> None:
    from . import bench, eval_disguise, eval_hide, eval_image, eval_qr, eval_steganalysis

    p = sub.add_parser("eval", help="evaluate models on photos they never trained on")
    esub = p.add_subparsers(dest="eval_command", metavar="WHAT")
    esub.required = True
    for mod in (eval_qr, eval_image, eval_steganalysis, eval_hide, eval_disguise):
        mod.add_parser(esub)
    b = sub.add_parser("bench", help="latency and memory benchmarks")
    bsub = b.add_subparsers(dest="bench_command", metavar="WHAT")
    bsub.required = True
    bench.add_parser(bsub)
