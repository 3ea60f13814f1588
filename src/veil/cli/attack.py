"""``veil attack IN -o OUT [--jpeg Q] [--blur SIGMA] [--resize SCALE] [--noise STD] ...``: apply real
distortions to a file, in the order given, to see what a hidden message survives."""
from __future__ import annotations

import argparse
import sys

from . import options


class _Ordered(argparse.Action):
    """Collect every attack flag into one list, in command-line order."""

    def __call__(self, parser, namespace, values, option_string=None):
        steps = list(getattr(namespace, "steps", None) or [])
        steps.append(f"{self.dest}:{values}")
        namespace.steps = steps


def add_parser(sub) -> None:
    p = sub.add_parser("attack", help="apply JPEG, blur, resizing or noise to an image (in the order given)")
    p.add_argument("input", help="image to attack (e.g. a stego image)")
    p.add_argument("-o", "--output", required=True,
                   help="result (.png; .jpg only when the last step is --jpeg: its exact bytes are written)")
    p.add_argument("--jpeg", action=_Ordered, metavar="Q", help="real JPEG (Pillow/libjpeg, 4:2:0) at quality Q")
    p.add_argument("--blur", action=_Ordered, metavar="SIGMA", help="Gaussian blur, sigma in pixels")
    p.add_argument("--resize", action=_Ordered, metavar="SCALE[:bicubic]",
                   help="shrink by SCALE (0-1] and enlarge back (bilinear, or bicubic)")
    p.add_argument("--noise", action=_Ordered, metavar="STD", help="Gaussian noise, std on the 0-255 scale")
    p.add_argument("--brightness", action=_Ordered, metavar="F", help="multiply brightness by F")
    p.add_argument("--contrast", action=_Ordered, metavar="F", help="scale contrast by F")
    p.add_argument("--saturation", action=_Ordered, metavar="F", help="scale saturation by F (0 = grey)")
    p.add_argument("--seed", type=options.seed, default=0, help="seed of the noise")
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    p.set_defaults(func=run, steps=None)


def run(args) -> int:
    from ..api import attack_image
    from ..attacks import parse_attack
    from ..errors import InputError
    from ..files import check_output_path, write_bytes_atomic
    from ..imaging import jpeg_bytes, load_image, save_image

    steps = args.steps or []
    if not steps:
        raise InputError("no attack given: add one or more of --jpeg Q, --blur SIGMA, --resize SCALE, --noise STD")
    out = check_output_path(args.output, args.force, (args.input,))
    img = load_image(args.input)
    as_jpeg = out.suffix.lower() in (".jpg", ".jpeg")
    if as_jpeg:
        last = steps[-1]
        if not last.startswith("jpeg:"):
            raise InputError("writing .jpg would add a JPEG step you did not ask for: end with --jpeg Q, or write .png")
        try:
            q = parse_attack(last).strength    # the same checks as every other attack spec
        except ValueError as e:
            raise InputError(str(e)) from None
        if isinstance(q, tuple):
            raise InputError(f"the last --jpeg of a .jpg output needs one quality, got {last.split(':', 1)[1]}")
        before = attack_image(img, steps[:-1], seed=args.seed) if len(steps) > 1 else img
        write_bytes_atomic(out, jpeg_bytes(before, int(round(q))), force=args.force)
    else:
        save_image(attack_image(img, steps, seed=args.seed), out, force=args.force)
    print(f"applied {' then '.join(steps)} -> {out}", file=sys.stderr)
    return 0
