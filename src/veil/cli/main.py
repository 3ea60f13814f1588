"""``veil`` / ``python -m veil``: the command-line entry point.

Every command returns an exit code: 0 success, 1 nothing could be revealed, 2 bad input, 3 an internal error
(a bug: please report it). Errors are one line on stderr, never a traceback, so a crash never reads as "nothing
found".
"""
from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import warnings

from ..errors import VeilError
from . import options
from . import (analyze, attack, data, demo, disguise, eval as eval_cmd, hide, image, models, qr, qrnet, report,
               serve, steganalyser, train)


class Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error (the usage itself is one ``--help`` away), exit 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="veil", description="Hide information in images with neural networks.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for mod in (hide, qr, image, attack, analyze, models, demo, eval_cmd, report, train, steganalyser, data, disguise,
                qrnet, serve):
        mod.add_parser(sub)
    from ..imaging import MAX_PIXELS

    for leaf in _leaves(p):
        if "--device" not in leaf._option_string_actions:      # training commands have their own (veil.train.accel)
            leaf.add_argument("--device", default=None, choices=("auto", "cpu", "cuda"),
                              help="where the networks run (default cpu; auto: a CUDA GPU when torch sees one)")
        leaf.add_argument("--max-pixels", type=options.positive_int, default=None, dest="max_pixels",
                          help=f"refuse images over this many pixels, from the file header before decoding "
                               f"(default {MAX_PIXELS:,})")
    return p


def _leaves(parser: argparse.ArgumentParser):
    """Every command's own parser (the ones that run something)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield parser
    for a in subs:
        for child in dict.fromkeys(a.choices.values()):
            yield from _leaves(child)


class Terminated(BaseException):
    """SIGTERM or SIGHUP, raised where the program is, so that a half-written output is removed on the way out."""


@contextlib.contextmanager
def signals_as_exceptions():
    """Within the block, SIGTERM and SIGHUP raise :class:`Terminated` (the main thread only; elsewhere a no-op)."""
    def stop(signum, frame):
        raise Terminated(signum)

    previous = {}
    try:
        for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
            if s is not None:
                previous[s] = signal.signal(s, stop)
    except ValueError:                  # not the main thread: leave signals alone
        pass
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Python's warnings (a deprecated model name, ...) as the CLI's other messages: one line on stderr."""
    print(f"veil: warning: {message}", file=sys.stderr)


def _out_of_memory(e: Exception) -> bool:
    """PyTorch reports a failed allocation as a RuntimeError (CPU: "can't allocate memory"; CUDA's
    OutOfMemoryError is a RuntimeError too), not as MemoryError."""
    text = str(e)
    return isinstance(e, RuntimeError) and ("can't allocate memory" in text or "out of memory" in text.lower())


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse already printed its one-line usage error
        return int(e.code or 0)
    from PIL import Image

    from ..imaging import MAX_PIXELS, pixel_limit

    try:
        if args.device is not None:          # released models load onto this device (veil.devices)
            from ..devices import use

            use(args.device)
        if args.max_pixels:                  # this process's own Pillow bomb limit follows veil's (checked first)
            Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, args.max_pixels)
        with pixel_limit(args.max_pixels or MAX_PIXELS), signals_as_exceptions(), warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            return int(args.func(args) or 0)
    except VeilError as e:
        print(f"veil: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("veil: interrupted", file=sys.stderr)
        return 130
    except Terminated as e:
        print("veil: terminated", file=sys.stderr)
        return 128 + int(e.args[0])
    except BrokenPipeError:
        return 0
    except UnicodeEncodeError:  # a revealed text this terminal's encoding cannot print: never print it altered
        print(f"veil: error: the output cannot be written in this terminal's encoding ({sys.stdout.encoding}); "
              "use --json or set PYTHONIOENCODING=utf-8", file=sys.stderr)
        return 2
    except MemoryError:
        print("veil: error: out of memory (try a smaller image)", file=sys.stderr)
        return 2
    except OSError as e:         # a file or folder the user named: missing permission, name too long, disk full
        print(f"veil: error: {e}", file=sys.stderr)
        return 2
    except Exception as e:       # anything else is veil's fault, except PyTorch's allocation failures
        if _out_of_memory(e):
            print("veil: error: out of memory (try a smaller image)", file=sys.stderr)
            return 2
        print(f"veil: internal error, please report: {type(e).__name__}: {e}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
