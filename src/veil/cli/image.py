"""``veil image hide`` and ``veil image reveal``: an image hidden in an image."""
from __future__ import annotations

import re
import sys

from .options import add_metadata_argument, add_passphrase_arguments, passphrase_of


def add_parser(sub) -> None:
    p = sub.add_parser("image", help="hide or reveal an image inside an image")
    isub = p.add_subparsers(dest="image_command", metavar="ACTION")
    isub.required = True

    h = isub.add_parser("hide", help="hide SECRET in COVER")
    h.add_argument("cover", help="cover image (any size from 16 px)")
    h.add_argument("secret", help="image to hide (fitted to the cover's size, aspect ratio kept)")
    h.add_argument("-o", "--output", required=True, help="stego image to write (.png)")
    h.add_argument("--model", default="codec",
                   help="codec (default: compress, then embed; the cover keeps its look, lossless channels only), "
                        "or a network: stegnet.quiet, pixinpix.quiet, stegnet, pixinpix (any arch.tag), or lsb1..lsb4")
    add_passphrase_arguments(h, "codec: key the embedding order with this passphrase and encrypt the secret")
    h.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    add_metadata_argument(h)
    h.set_defaults(func=hide)

    r = isub.add_parser("reveal", help="recover the hidden image from a stego image")
    r.add_argument("stego", nargs="+", help="stego image; several files or folders (searched recursively) make a "
                                            "batch, written under --out-dir")
    r.add_argument("-o", "--output", default=None, help="revealed image to write (one stego image)")
    r.add_argument("--out-dir", default=None, help="a batch: write each revealed image here as NAME.png (a folder's "
                                                   "images keep their paths below it)")
    r.add_argument("--json", action="store_true",
                   help='a batch: one JSON line per image, {"file", "output", "size"} or {"file", "error"}')
    r.add_argument("--model", default="codec", help="the model that hid it (default: codec)")
    add_passphrase_arguments(r, "codec: the passphrase it was hidden with")
    r.add_argument("--size", default=None, metavar="WxH",
                   help="the secret's own size: crops the fitting's padding and resizes (default: the stego's size)")
    r.add_argument("--grey", action="store_true",
                   help="the hidden image was grey: write a greyscale image (needed for neural models; lsbK and "
                        "1-channel models tell by themselves)")
    r.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    r.set_defaults(func=reveal)


def parse_size(text: str) -> tuple[int, int]:
    from ..errors import InputError

    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m or min(int(m.group(1)), int(m.group(2))) < 1:
        raise InputError(f"--size {text!r}: expected WxH, e.g. 640x480")
    return int(m.group(1)), int(m.group(2))


def hide(args) -> int:
    from ..api import hide_image_report
    from ..errors import InputError
    from ..files import check_output_path
    from ..imaging import load_image, metadata, save_image

    out = check_output_path(args.output, args.force, (args.cover, args.secret))
    if out.suffix.lower() in (".jpg", ".jpeg"):
        raise InputError("refusing to write the stego image as JPEG: lossy compression destroys the hidden image; "
                         "use .png")
    cover, secret = load_image(args.cover), load_image(args.secret)
    stego, info = hide_image_report(cover, secret, model=args.model, progress=True, passphrase=passphrase_of(args))
    save_image(stego, out, force=args.force, meta=metadata(cover, keep_exif=args.keep_metadata))
    done = f"hid a {secret.width}x{secret.height} image in {out} ({stego.width}x{stego.height})"
    if info:
        w, h = info["stored_size"]
        done += (f": {info['codec']} {info['bytes']:,} bytes ({w}x{h}), secret PSNR {info['secret_psnr']:.1f} dB, "
                 f"{info['bits_per_sample']:.2f} bits per sample")
    print(done, file=sys.stderr)
    return 0


def _reveal_batch(args, size, passphrase) -> int:
    from pathlib import Path

    from ..api import reveal_image
    from ..errors import InputError, RevealError
    from ..files import check_output_path
    from ..imaging import save_image
    from . import batch

    if args.out_dir is None or args.output is not None:
        raise InputError("a batch (several files or a folder) takes --out-dir DIR, not -o")
    root = Path(args.out_dir)
    if not root.is_dir():
        raise InputError(f"--out-dir {root}: no such folder")
    taken: set[Path] = set()

    def work(f, img, rel):
        out = (root / (rel if rel is not None else Path(Path(f).name))).with_suffix(".png")
        if out.resolve() in taken:
            raise InputError(f"another input of this batch writes {out}")
        taken.add(out.resolve())
        check_output_path(out, args.force, (f,))
        try:
            got = reveal_image(img, model=args.model, size=size, grey=True if args.grey else None,
                               passphrase=passphrase)
        except RevealError as e:          # codec: nothing hidden here (exit 1 if no input failed)
            return {"found": False, "output": None, "reason": str(e)}
        save_image(got, out, force=args.force)
        return {"output": str(out), "size": [got.width, got.height]}

    items = batch.expand(args.stego)
    for _, rel in items:                 # a folder's images keep their paths below --out-dir
        if rel is not None:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
    return batch.run_items(items, work, args.json, lambda d: f"{d['file']}\t{d['output'] or 'nothing found'}",
                           what="revealed")


def reveal(args) -> int:
    from ..api import reveal_image
    from ..errors import InputError
    from ..files import check_output_path
    from ..imaging import load_image, save_image
    from . import batch

    size = parse_size(args.size) if args.size else None
    passphrase = passphrase_of(args)
    if batch.is_batch(args.stego):
        return _reveal_batch(args, size, passphrase)
    if args.output is None or args.out_dir is not None or args.json:
        raise InputError("one stego image takes -o OUTPUT (--out-dir and --json are for a batch)")
    out = check_output_path(args.output, args.force, (args.stego[0],))
    img = reveal_image(load_image(args.stego[0]), model=args.model, size=size, grey=True if args.grey else None,
                       progress=True, passphrase=passphrase)
    save_image(img, out, force=args.force)
    print(f"revealed a {img.width}x{img.height} image -> {out}", file=sys.stderr)
    return 0
