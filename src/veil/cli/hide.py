"""``veil hide`` and ``veil reveal``: a message (a text, or raw bytes such as an ID) spread over the whole photo."""
from __future__ import annotations

import json
import sys

from .options import (add_manifest_arguments, add_passphrase_arguments, add_strength_arguments, hide_batch_or_single,
                      passphrase_of, write_stego)


def add_parser(sub) -> None:
    h = sub.add_parser("hide", help="hide a text or bytes in a photo (survives JPEG re-saves, resizing, blur)")
    h.add_argument("cover", nargs="?", help="cover image (any size from 64 px, any common format)")
    what = h.add_mutually_exclusive_group()
    what.add_argument("-t", "--text", help="text to hide (UTF-8)")
    what.add_argument("--hex", help="raw bytes to hide, as hex digits (e.g. an ID: 0123abcd...)")
    h.add_argument("-o", "--output", default=None, help="stego image to write (.png)")
    add_manifest_arguments(h)
    add_passphrase_arguments(h, "key the message with this passphrase: without it, it neither reads nor verifies")
    h.add_argument("--model", default=None, help="model name (see `veil models`); default: the shipped default")
    h.add_argument("--ecc", default="M", type=str.upper, choices=["M", "L"],
                   help="error correction: M (default) or L (more capacity, less margin)")
    add_strength_arguments(h, "multiple of the model's calibrated gain (default 1)", "message")
    h.add_argument("--stealth", action="store_true",
                   help="hide it so that nobody can tell a message is there (a few +-1 changes in the cover's texture; "
                        "lossless channel only: a JPEG re-save destroys it)")
    h.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    h.set_defaults(func=hide)

    r = sub.add_parser("reveal", help="read the message `veil hide` put in an image")
    r.add_argument("stego", nargs="+", help="stego image (PNG, or after a JPEG re-save, resize, ...); several files or "
                                            "folders (searched recursively) make a batch, one result line per image")
    add_passphrase_arguments(r, "the passphrase the message was hidden with")
    r.add_argument("--model", default=None, help="model name; default: the shipped default")
    r.add_argument("--stealth", action="store_true", default=None,
                   help="read only a --stealth message (by default both kinds are looked for)")
    r.add_argument("--json", action="store_true",
                   help='print {"found", "message", "kind", "bit_errors_corrected", "confidence"} as JSON (a batch: '
                        'one JSON line per image, {"file", "found", "text" or "hex", ...} or {"file", "error"})')
    r.set_defaults(func=reveal)


def _message(text: str | None, hex_digits: str | None) -> str | bytes:
    from ..errors import InputError

    if text is not None:
        return text
    if hex_digits is None:
        raise InputError("give the message: -t TEXT or --hex HEX")
    digits = hex_digits.strip().removeprefix("0x").replace(" ", "").replace(":", "")
    try:
        return bytes.fromhex(digits)
    except ValueError:
        raise InputError(f"--hex takes hex digits (an even number of 0-9a-f), got {hex_digits!r}") from None


def hide(args) -> int:
    from functools import partial

    from ..api import hide_report

    passphrase = passphrase_of(args)
    report = partial(hide_report, passphrase=passphrase, stealth=args.stealth)
    if args.manifest is not None and (args.text is not None or args.hex is not None):
        from ..errors import InputError

        raise InputError("--manifest takes its texts from the manifest: no -t or --hex")
    return hide_batch_or_single(args, lambda row: _message(row.get("text"), row.get("hex")), report,
                                lambda: write_stego(args, _message(args.text, args.hex), report, "message"))


def reveal(args) -> int:
    from ..api import reveal_report
    from ..imaging import load_image
    from . import batch

    passphrase = passphrase_of(args)
    if batch.is_batch(args.stego):
        def work(f, img, rel):
            got = reveal_report(img, passphrase=passphrase, model=args.model, stealth=args.stealth).decoded
            if got is None:
                return {"found": False}
            key = "text" if got.kind == "text" else "hex"
            return {"found": True, key: got.message if got.kind == "text" else got.message.hex(),
                    "confidence": round(got.confidence, 4)}

        return batch.run(args.stego, work, args.json, lambda d: f"{d['file']}\t" + (
            d.get("text", d.get("hex", "")) if d["found"] else "(no message)"))
    reading = reveal_report(load_image(args.stego[0]), passphrase=passphrase, model=args.model,
                            stealth=args.stealth)
    got = reading.decoded
    if args.json:
        doc = {"found": got is not None, "message": None, "kind": None, "bit_errors_corrected": None,
               "confidence": None}
        if got is not None:
            doc.update(message=got.message if got.kind == "text" else got.message.hex(), kind=got.kind,
                       bit_errors_corrected=got.bit_errors_corrected, confidence=round(got.confidence, 4))
            if (reading.scale, reading.degrees) != (1.0, 0.0):
                doc["geometry"] = {"scale": round(reading.scale, 4), "degrees": reading.degrees}
        utf8 = (sys.stdout.encoding or "").lower().replace("-", "") == "utf8"
        print(json.dumps(doc, ensure_ascii=not utf8))     # \u escapes are exact in any terminal encoding
    elif got is not None:
        sys.stdout.write((got.message if got.kind == "text" else got.message.hex()) + "\n")
    if got is None:
        print("veil: no hidden message found in this image", file=sys.stderr)
        return 1
    return 0
