"""``veil`` / ``python -m veil``: the command-line entry point.

Every command returns an exit code: 0 success, 1 nothing could be revealed, 2 bad input, 3 an internal error
(a bug: please report it). Errors are one line on stderr, never a traceback, so a crash never reads as "nothing
found".
"""
from __future__ import annotations

import argparse
import sys

from ..errors import VeilError
from . import (analyze, attack, data, demo, disguise, eval as eval_cmd, hide, image, models, qr, qrnet, report,
               steganalyser, train)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="veil", description="Hide information in images with neural networks.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for mod in (hide, qr, image, attack, analyze, models, demo, eval_cmd, report, train, steganalyser, data, disguise,
                qrnet):
        mod.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse already printed its one-line usage error
        return int(e.code or 0)
    try:
        return int(args.func(args) or 0)
    except VeilError as e:
        print(f"veil: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("veil: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except MemoryError:
        print("veil: error: out of memory (try a smaller image)", file=sys.stderr)
        return 2
    except OSError as e:         # a file or folder the user named: missing permission, name too long, disk full
        print(f"veil: error: {e}", file=sys.stderr)
        return 2
    except Exception as e:       # anything else is veil's fault
        print(f"veil: internal error, please report: {type(e).__name__}: {e}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
