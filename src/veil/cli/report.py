"""``veil report``: the command line of veil.eval.report (its parser, and the run that prints)."""
from __future__ import annotations

from pathlib import Path

from ..eval.report import build
from . import options


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="one self-contained HTML page from the files in results/")
    p.add_argument("--out", default="report.html", help="HTML file to write (default report.html)")
    p.add_argument("--results", default="results", help="folder of result files (default results/)")
    p.add_argument("--no-live", action="store_true", help="skip the live QR example (no model is run)")
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    p.set_defaults(func=run)


def run(args) -> int:
    options.check_plotting()
    from ..errors import InputError
    from ..files import check_output_path, write_atomic

    res = Path(args.results)
    if not res.is_dir():
        raise InputError(f"no such folder: {res}")
    out = check_output_path(args.out, args.force)
    page = build(res, live=not args.no_live)
    write_atomic(out, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"), force=args.force)
    print(f"wrote {out} ({len(page) / 1e6:.1f} MB)")
    return 0
