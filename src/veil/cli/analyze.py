"""``veil analyze IMAGE...``: four classical LSB detectors and their mean (veil.detectors), one row per image.

Exit code 0 when every image was analysed, 2 when any could not be read (the others are still analysed).
"""
from __future__ import annotations

import json
import sys

from . import options


def add_parser(sub) -> None:
    p = sub.add_parser("analyze", help="steganalysis: estimate how much of each image's LSBs carry hidden data")
    p.add_argument("images", nargs="+", metavar="IMAGE",
                   help="image files or folders (searched recursively; 8-bit, PNG for meaningful results)")
    p.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    p.add_argument("--threshold", type=options.weight, default=0.2,
                   help="fused score above which an image is called stego (default 0.2, StegExpose's)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..api import analyze_image
    from ..errors import InputError, VeilError
    from ..detectors import DETECTORS
    from ..imaging import load_image
    from .batch import expand

    if not 0.0 <= args.threshold <= 1.0:
        raise InputError(f"--threshold {args.threshold}: must be between 0 and 1")
    files = [f for f, _ in expand(args.images)]
    cols = list(DETECTORS) + ["fused"]
    if not args.json:
        width = max(len(f) for f in files)
        print(f"{'file':<{width}}  " + "  ".join(f"{c:>12}" for c in cols) + "  verdict")
    failed = 0
    for f in files:
        try:
            scores = analyze_image(load_image(f))
        except VeilError as e:
            if args.json:
                print(json.dumps({"file": f, "error": str(e)}), flush=True)
            else:
                print(f"veil: error: {e}", file=sys.stderr)
            failed += 1
            continue
        verdict = "stego" if scores["fused"] > args.threshold else "clean"
        if args.json:
            print(json.dumps({"file": f, **{c: round(scores[c], 6) for c in cols}, "verdict": verdict}), flush=True)
        else:
            print(f"{f:<{width}}  " + "  ".join(f"{scores[c]:>12.4f}" for c in cols) + f"  {verdict}", flush=True)
    return 2 if failed else 0
