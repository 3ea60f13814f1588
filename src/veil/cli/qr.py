"""``veil qr hide`` and ``veil qr reveal``."""
from __future__ import annotations

import sys

from .options import add_manifest_arguments, add_strength_arguments, hide_batch_or_single, write_stego


def add_parser(sub) -> None:
    p = sub.add_parser("qr", help="hide or reveal a text as an invisible QR code")
    qsub = p.add_subparsers(dest="qr_command", metavar="ACTION")
    qsub.required = True

    h = qsub.add_parser("hide", help="hide a text in a cover image")
    h.add_argument("cover", nargs="?", help="cover image (any size from 64 px, any common format)")
    h.add_argument("-t", "--text", default=None, help="text to hide")
    h.add_argument("-o", "--output", default=None, help="stego image to write (.png)")
    add_manifest_arguments(h)
    h.add_argument("--model", default=None, help="model name (see `veil models`); default: the shipped default")
    h.add_argument("--ecc", default="M", type=str.upper, choices=["L", "M", "Q", "H"], help="QR error correction level")
    add_strength_arguments(h, "multiple of the model's calibrated residual strength (1.5 = louder, more margin); "
                              "default: the model's own (qr_densenet.robust verifies each image, the others use 1)",
                           "text")
    h.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    h.set_defaults(func=hide)

    r = qsub.add_parser("reveal", help="read the hidden text from a stego image")
    r.add_argument("stego", nargs="+", help="stego image; several files or folders (searched recursively) make a "
                                            "batch, one result line per image")
    r.add_argument("--model", default=None, help="model name; default: the shipped default")
    r.add_argument("--qr-out", default=None, help="also write the recovered QR code image here")
    r.add_argument("--force", action="store_true", help="overwrite --qr-out if it exists")
    r.add_argument("--json", action="store_true",
                   help='a batch: one JSON line per image, {"file", "found", "text"} or {"file", "error"}')
    r.set_defaults(func=reveal)


def hide(args) -> int:
    from ..api import hide_qr_report
    from ..errors import InputError

    def text_of(row):
        if "text" not in row:
            raise InputError("the QR route hides texts: give \"text\", not \"hex\"")
        return row["text"]

    def single():
        if args.text is None:
            raise InputError("give the text: -t TEXT")
        return write_stego(args, args.text, hide_qr_report, "hidden text")

    if args.manifest is not None and args.text is not None:
        raise InputError("--manifest takes its texts from the manifest: no -t")
    return hide_batch_or_single(args, text_of, hide_qr_report, single)


def reveal(args) -> int:
    from ..api import reveal_qr_image
    from ..errors import InputError
    from ..files import check_output_path
    from ..imaging import load_image, save_image
    from . import batch

    if batch.is_batch(args.stego):
        if args.qr_out:
            raise InputError("--qr-out takes one stego image, not a batch")

        def work(f, img, rel):
            text, _ = reveal_qr_image(img, model=args.model)
            return {"found": text is not None, "text": text}

        return batch.run(args.stego, work, args.json,
                         lambda d: f"{d['file']}\t" + (d["text"] if d["found"] else "(no QR code read)"))
    if args.json:
        raise InputError("--json is for a batch (several files or a folder)")
    if args.qr_out:
        check_output_path(args.qr_out, args.force, (args.stego[0],))
    img = load_image(args.stego[0])
    text, qr = reveal_qr_image(img, model=args.model)
    if args.qr_out:
        save_image(qr, args.qr_out, force=args.force)
    if text is None:
        print("veil: no hidden QR code could be read from this image", file=sys.stderr)
        return 1
    sys.stdout.write(text + "\n")
    return 0
