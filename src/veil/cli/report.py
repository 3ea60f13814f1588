"""``veil report``: defined in veil.eval.report; this module wires the CLI."""
from __future__ import annotations


def add_parser(sub) -> None:
    from ..eval import report

    report.add_parser(sub)
