"""``veil bench hide|qr|image|analyze``: hide and reveal latency (median of several runs, in memory) and peak memory
at 256x256, 512x512, 1024x1024 and 1920x1080 (image hiding: 256x256 and 1024x1024), each size in a fresh process
(veil.eval.bench measures); the detectors' latency on a 1 MP PNG file."""
from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from ..files import write_bytes_atomic, write_json

SIZES = [(256, 256), (512, 512), (1024, 1024), (1920, 1080)]


def add_parser(bsub) -> None:
    p = bsub.add_parser("qr", help="hide/reveal latency and peak memory")
    p.add_argument("--model", default=None)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--sizes", default=",".join(f"{w}x{h}" for w, h in SIZES), help="comma-separated WxH list")
    p.add_argument("--out", default="results/bench_qr.json")
    p.set_defaults(func=run, task="qr")
    i = bsub.add_parser("image", help="image-hiding hide/reveal latency and peak memory")
    i.add_argument("--model", default="stegnet")
    i.add_argument("--repeats", type=int, default=5)
    i.add_argument("--sizes", default="256x256,1024x1024", help="comma-separated WxH list")
    i.add_argument("--out", default=None, help="default results/bench_image_<model>.json")
    i.set_defaults(func=run, task="image")
    m = bsub.add_parser("hide", help="veil hide / reveal latency beside a PNG save of the same image")
    m.add_argument("--model", default=None)
    m.add_argument("--repeats", type=int, default=5)
    m.add_argument("--sizes", default="256x256,1024x1024,1920x1080", help="comma-separated WxH list")
    m.add_argument("--out", default="results/bench_hide.json")
    m.set_defaults(func=run, task="message")
    a = bsub.add_parser("analyze", help="steganalysis latency: the four classical detectors on a 1 MP image")
    a.add_argument("--repeats", type=int, default=7)
    a.add_argument("--size", default="1024x1024", help="WxH (default 1024x1024, about one megapixel)")
    a.add_argument("--out", default="results/bench_analyze.json")
    a.set_defaults(func=run_analyze)


def run_analyze(args) -> int:
    """Median seconds of `veil analyze`'s work on one PNG file: read + decode, and each detector."""
    import io
    from importlib import resources

    from PIL import Image

    from ..api import analyze_image, image_samples
    from .. import detectors
    from ..imaging import load_image
    from .image import parse_size

    w, h = parse_size(args.size)
    photo = Image.open(str(resources.files("veil") / "assets" / "astronaut.png")).convert("RGB")
    buf = io.BytesIO()
    photo.resize((w, h), Image.BICUBIC).save(buf, format="PNG")
    path = Path("/tmp") / f"veil_bench_{w}x{h}.png"
    write_bytes_atomic(path, buf.getvalue(), force=True)
    times: dict[str, list[float]] = {k: [] for k in ("total", *detectors.DETECTORS)}
    for i in range(args.repeats + 1):
        t0 = time.perf_counter()
        analyze_image(load_image(path))
        t1 = time.perf_counter()
        a = image_samples(load_image(path))
        per = {}
        for k in detectors.DETECTORS:
            t = time.perf_counter()
            getattr(detectors, k)(a)
            per[k] = time.perf_counter() - t
        if i:  # the first run warms up
            times["total"].append(t1 - t0)
            for k, v in per.items():
                times[k].append(v)
    path.unlink()
    res = {"what": "veil analyze on one PNG file: read, decode and all four detectors (total); each detector "
                   "alone on decoded samples; median", "size": f"{w}x{h}", "megapixels": w * h / 1e6,
           "median_s": {k: statistics.median(v) for k, v in times.items()}, "repeats": args.repeats,
           "machine": {"cpu": platform.machine(), "python": platform.python_version()}}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_json(Path(args.out), res)
    print(f"analyze {w}x{h}: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in res["median_s"].items())
          + f" -> {args.out}")
    return 0


def run(args) -> int:
    from ..registry import get_card

    from ..errors import InputError

    # codec has no weights and no card: a stand-in with its name
    card = {"name": "codec"} if args.task == "image" and args.model == "codec" else get_card(args.model, args.task)
    try:
        sizes = [tuple(int(v) for v in s.lower().split("x")) for s in args.sizes.split(",")]
        assert all(len(s) == 2 and min(s) >= 64 for s in sizes)
    except (ValueError, AssertionError):
        raise InputError(f"bad --sizes '{args.sizes}': use e.g. 256x256,1920x1080 (at least 64 px)") from None
    rows = []
    for w, h in sizes:
        fn = {"qr": "measure", "image": "measure_image", "message": "measure_hide"}[args.task]
        code = (f"import json,sys; from veil.eval.bench import {fn}; "
                f"print(json.dumps({fn}({card['name']!r}, {w}, {h}, {args.repeats})))")
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stderr, file=sys.stderr)
            return 1
        row = json.loads(r.stdout.strip().splitlines()[-1])
        rows.append(row)
        png = f"   PNG save {row['png_save_s'] * 1000:7.1f} ms" if "png_save_s" in row else ""
        print(f"{row['size']:>10}: hide {row['hide_s'] * 1000:7.1f} ms   reveal {row['reveal_s'] * 1000:7.1f} ms"
              f"{png}   "
              f"peak RSS {row['peak_rss_mb']:6.0f} MB")
    what = {"qr": "in-memory PIL -> PIL hide (calibrated gain) and PIL -> text reveal, median",
            "image": "in-memory PIL cover + PIL secret -> PIL stego hide, PIL -> PIL reveal, median",
            "message": "in-memory PIL -> PIL hide and PIL -> message reveal, median; png_save_s: the same stego "
                       "saved as PNG to memory (Pillow defaults), median"}[args.task]
    res = {"model": card["name"], "what": what,
           "machine": {"cpu": platform.processor() or platform.machine(), "python": platform.python_version()},
           "results": rows}
    out = Path(args.out or f"results/bench_image_{card['name']}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json(out, res)
    print(f"-> {out}")
    return 0
