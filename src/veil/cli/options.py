"""Flags and checks that several commands share (the hiding commands, the evaluations)."""
from __future__ import annotations

import argparse
import math
from pathlib import Path

LOSSLESS = (".png", ".bmp", ".tif", ".tiff", ".webp")


def add_strength_arguments(p, strength_help: str, payload: str) -> None:
    """--strength and --verify (one or the other: veil.api.check_hiding_options)."""
    p.add_argument("--strength", default=None, help=strength_help)
    p.add_argument("--verify", default=None, metavar="LIST",
                   help="comma-separated attacks the stego must survive, e.g. jpeg:50,blur:1,resize:0.5: picks the "
                        f"quietest strength after which the {payload} reads back through each (checked before writing)")
    p.add_argument("--no-check", action="store_true", dest="no_check",
                   help=f"write the stego even when the {payload} does not read back from it (a warning instead of "
                        "an error)")
    add_metadata_argument(p)


def add_metadata_argument(p) -> None:
    p.add_argument("--keep-metadata", action="store_true", dest="keep_metadata",
                   help="copy the cover's EXIF into the output (its colour profile is always kept)")


def report_strength(report, payload: str) -> None:
    """The warnings a hide prints about what it wrote."""
    import sys

    if report.reads_back is False:
        print(f"veil: warning: the {payload} does not read back from the written image (--no-check)",
              file=sys.stderr)
    if report.mode == "unverified":
        print(f"veil: warning: the {payload} may not survive those attacks on this image", file=sys.stderr)


def describe_message(message: str | bytes) -> str:
    """'1 character', '12 characters', '4 bytes'."""
    n = len(message)
    unit = "byte" if isinstance(message, bytes) else "character"
    return f"{n} {unit}{'s' if n != 1 else ''}"


def stego_output(output: str, cover: str, force: bool) -> Path:
    """The stego file's path, checked before any work: not existing (unless ``force``), a lossless format, and
    not the cover itself."""
    from ..errors import InputError
    from ..files import check_output_path

    out = check_output_path(output, force, (cover,))
    if out.suffix.lower() not in LOSSLESS:
        raise InputError(f"write the stego image losslessly (.png), not '{out.suffix or out.name}': lossy compression "
                         "at the first save costs the payload its margin")
    return out


# ----------------------------------------------------------------------------- argument types

SEED_MAX = 2**63 - 1


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def _float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"{text} is not a finite number")
    return v


def _checked(parse, ok, failure: str):
    """An argparse type: ``parse`` the text, then refuse a value for which ``ok`` is false (``failure`` says why)."""
    def check(text: str):
        v = parse(text)
        if not ok(v):
            raise argparse.ArgumentTypeError(f"{text} {failure}")
        return v
    return check


seed = _checked(_int, lambda v: 0 <= v <= SEED_MAX, "is not in [0, 2**63 - 1]")          # random seeds
positive_int = _checked(_int, lambda v: v >= 1, "is not a positive whole number")   # threads, steps, batch, sizes
count = _checked(_int, lambda v: v >= 0, "is negative")                             # counts where 0 = skip
positive_float = _checked(_float, lambda v: v > 0, "is not above 0")                # learning rates
weight = _checked(_float, lambda v: v >= 0, "is negative")                          # loss weights, thresholds
share = _checked(_float, lambda v: 0 <= v < 1, "is not in [0, 1)")                 # held-out shares


def add_card_argument(p) -> None:
    """``--card [DIR]``: an evaluation writes its numbers into the model's card (veil.registry.update_card)."""
    p.add_argument("--card", nargs="?", const="", default=None, metavar="DIR",
                   help="write the measured numbers into the model's card, saved in DIR (default: the user's model "
                        "folder, $VEIL_WEIGHTS or ~/.cache/veil/weights; src/veil in a checkout: the shipped card)")


def check_plotting() -> None:
    """A command that draws at the end checks for matplotlib first: without it, one line and exit 2 before the
    work, not after it."""
    from ..eval.figures import pyplot

    pyplot()


def write_stego(args, payload, hide_report, what: str) -> int:
    """The body of ``veil hide`` and ``veil qr hide``: hide ``payload`` in ``args.cover`` with ``hide_report`` (an API
    function returning the stego and its strength report), write it to ``args.output`` with the cover's metadata,
    and say what was done."""
    import sys

    from ..imaging import load_image, metadata, save_image

    out = stego_output(args.output, args.cover, args.force)
    cover = load_image(args.cover)
    stego, report = hide_report(cover, payload, model=args.model, ecc=args.ecc, strength=args.strength,
                                verify=args.verify, check=not args.no_check)
    save_image(stego, out, force=args.force, meta=metadata(cover, keep_exif=args.keep_metadata))
    print(f"hid {describe_message(payload)} in {out} ({stego.width}x{stego.height}); {report.describe()}",
          file=sys.stderr)
    report_strength(report, what)
    return 0


def add_manifest_arguments(p) -> None:
    """``--manifest FILE|- --out-dir DIR [--json]``: many covers and texts in one call (veil.cli.batch)."""
    p.add_argument("--manifest", default=None, metavar="FILE",
                   help="many covers at once: a CSV (header file,text[,output]; or hex for bytes) or JSON Lines file "
                        "of rows, '-' for stdin; written under --out-dir (default name: the cover's, as .png)")
    p.add_argument("--out-dir", default=None, help="with --manifest: the folder the stego images are written to")
    p.add_argument("--json", action="store_true",
                   help='with --manifest: one JSON line per row, {"file", "output"} or {"file", "error"}')


def hide_batch_or_single(args, payload_of, hide_report, single) -> int:
    """``veil hide`` / ``veil qr hide``: with ``--manifest``, every row's payload (``payload_of(row)``) hidden in its
    cover and written under ``--out-dir`` (one result line per row, errors on their line; veil.cli.batch);
    otherwise ``single()``, the one-cover command, which then needs its cover, text and ``-o``."""
    from pathlib import Path

    from ..errors import InputError
    from ..imaging import metadata, save_image
    from . import batch

    if args.manifest is None:
        if args.cover is None or args.output is None or args.out_dir is not None or args.json:
            raise InputError("give COVER, the text and -o OUTPUT (or --manifest FILE --out-dir DIR for many)")
        return single()
    if args.cover is not None or args.output is not None:
        raise InputError("--manifest takes its covers and texts from the manifest: no COVER, -t or -o")
    if args.out_dir is None or not Path(args.out_dir).is_dir():
        raise InputError(f"--manifest needs --out-dir, an existing folder (got {args.out_dir})")
    rows = batch.read_manifest(args.manifest)
    root = Path(args.out_dir)
    outs = [root / (row.get("output") or Path(row["file"]).with_suffix(".png").name) for row in rows]
    taken: dict[Path, int] = {}

    def work(f, cover, i):
        out = outs[i]
        if taken.setdefault(out.resolve(), i) != i:
            raise InputError(f"row {taken[out.resolve()] + 1} of the manifest writes {out} too")
        out = stego_output(str(out), f, args.force)
        stego, report = hide_report(cover, payload_of(rows[i]), model=args.model, ecc=args.ecc,
                                    strength=args.strength, verify=args.verify, check=not args.no_check)
        save_image(stego, out, force=args.force, meta=metadata(cover, keep_exif=args.keep_metadata))
        return {"output": str(out), "strength": round(report.strength, 4)}

    return batch.run_items([(row["file"], i) for i, row in enumerate(rows)], work, args.json,
                           lambda d: f"{d['file']}\t{d['output']}", what="written")


def add_passphrase_arguments(p, help_text: str) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--passphrase", default=None, help=help_text)
    g.add_argument("--passphrase-file", default=None, help="read the passphrase from this text file")


def passphrase_of(args) -> str | None:
    from ..errors import InputError
    from ..payloads.keyfile import read_passphrase

    if args.passphrase_file:
        return read_passphrase(args.passphrase_file)
    if args.passphrase is not None and not args.passphrase:
        raise InputError("the passphrase is empty")
    return args.passphrase
