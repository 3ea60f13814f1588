"""``veil demo``: hide a text spread over the bundled sample photo, save it as PNG, re-save that as JPEG at
quality 50 (as a photo's travels would), reveal the text from the JPEG, print both and the stego's fidelity."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

TEXT = "meet me at noon!"
JPEG_QUALITY = 50


def add_parser(sub) -> None:
    p = sub.add_parser("demo", help="hide a text in the bundled sample photo, JPEG it, reveal it")
    p.add_argument("--text", default=TEXT)
    p.add_argument("--model", default=None)
    p.add_argument("-o", "--output", default=None, help="keep the stego image here (default: a temp file)")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=run)



def run(args) -> int:
    from ..api import get_model, hide, reveal_report
    from ..files import write_bytes_atomic
    from ..imaging import jpeg_bytes, load_image, pil_to_tensor, sample_path, save_image
    from ..metrics import psnr, ssim

    cover = load_image(sample_path())
    model = get_model(args.model, "message")
    t0 = time.perf_counter()
    stego = hide(cover, args.text, model=model)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.output) if args.output else Path(tmp) / "stego.png"
        save_image(stego, path, force=args.force)
        loaded = load_image(path)
        resaved = Path(tmp) / "resaved.jpg"
        write_bytes_atomic(resaved, jpeg_bytes(loaded, JPEG_QUALITY), force=args.force)
        t2 = time.perf_counter()
        got = reveal_report(load_image(resaved), model=model).decoded
        t3 = time.perf_counter()
        a, b = pil_to_tensor(cover), pil_to_tensor(loaded)
    text = got.message if got is not None else None
    print(f"model     : {model.card['name']}")
    print(f"cover     : {sample_path().name} ({cover.width}x{cover.height}, bundled sample)")
    print(f"hidden    : {args.text}")
    print(f"stego     : PNG, PSNR {psnr(a, b):.2f} dB, SSIM {ssim(a, b):.4f} against the cover")
    print(f"re-saved  : JPEG quality {JPEG_QUALITY}")
    print(f"revealed  : {text if text is not None else '(nothing found)'}")
    print(f"match     : {'yes' if text == args.text else 'NO'}"
          + (f" ({got.bit_errors_corrected} bit errors corrected, confidence {got.confidence:.2f})" if got else ""))
    print(f"time      : hide {1000 * (t1 - t0):.0f} ms, reveal {1000 * (t3 - t2):.0f} ms")
    if args.output:
        print(f"stego     : {args.output}")
    return 0 if text == args.text else 1
