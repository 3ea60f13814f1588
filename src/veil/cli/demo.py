"""``veil demo``: hide a text in the bundled sample photo, reveal it from the saved PNG, print both."""
from __future__ import annotations

import tempfile
import time
from importlib import resources
from pathlib import Path

SAMPLE = "astronaut.png"
TEXT = "veil: hidden in plain sight"


def add_parser(sub) -> None:
    p = sub.add_parser("demo", help="hide and reveal a text in the bundled sample photo")
    p.add_argument("--text", default=TEXT)
    p.add_argument("--model", default=None)
    p.add_argument("-o", "--output", default=None, help="keep the stego image here (default: a temp file)")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=run)


def sample_path() -> Path:
    return Path(str(resources.files("veil") / "assets" / SAMPLE))


def run(args) -> int:
    from ..api import get_model, hide_qr, reveal_qr
    from ..imaging import load_image, pil_to_tensor, save_image
    from ..metrics import psnr, ssim

    cover = load_image(sample_path())
    model = get_model(args.model)
    t0 = time.perf_counter()
    stego = hide_qr(cover, args.text, model=model)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.output) if args.output else Path(tmp) / "stego.png"
        save_image(stego, path, force=args.force)
        loaded = load_image(path)
        t2 = time.perf_counter()
        text = reveal_qr(loaded, model=model)
        t3 = time.perf_counter()
        a, b = pil_to_tensor(cover), pil_to_tensor(loaded)
    print(f"model     : {model.card['name']}")
    print(f"cover     : {SAMPLE} ({cover.width}x{cover.height}, bundled sample)")
    print(f"hidden    : {args.text}")
    print(f"revealed  : {text}")
    print(f"match     : {'yes' if text == args.text else 'NO'}")
    print(f"PSNR      : {psnr(a, b):.2f} dB   SSIM: {ssim(a, b):.4f}   (stego read back from PNG)")
    print(f"time      : hide {1000 * (t1 - t0):.0f} ms, reveal {1000 * (t3 - t2):.0f} ms")
    if args.output:
        print(f"stego     : {args.output}")
    return 0 if text == args.text else 1
