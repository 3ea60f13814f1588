"""Batch against one call per file (make bench-batch): `veil qr reveal DIR` over N 1024x1024 stego PNGs in one
process, against N separate `veil qr reveal FILE` processes, measured in one run on the same files; each text read
back is checked against the one hidden. Writes results/bench_batch.json.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageOps


def covers(n: int, size: int):
    """n distinct size x size covers: crops, flips and turns of the held-out photos (the bundled one without them)."""
    from veil.imaging import sample_path

    folder = Path(os.environ.get("VEIL_DATA", Path.home() / ".cache/veil/covers")) / "val"
    photos = sorted(folder.glob("*")) if folder.is_dir() else []
    photos = [Image.open(p).convert("RGB") for p in photos] or [Image.open(sample_path()).convert("RGB")]
    i = 0
    while True:
        for img in photos:
            if i == n:
                return
            k = i // len(photos)
            side = min(img.size)
            crop = int(side * (0.6 + 0.4 * ((k * 37) % 11) / 10))
            x = (k * 53) % max(1, img.width - crop + 1)
            y = (k * 29) % max(1, img.height - crop + 1)
            c = img.crop((x, y, x + crop, y + crop)).resize((size, size), Image.LANCZOS).rotate(90 * (k % 4))
            yield i, ImageOps.mirror(c) if k % 8 >= 4 else c
            i += 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--out", default="results/bench_batch.json")
    args = p.parse_args(argv)

    import veil
    from veil.files import write_json

    veil_cmd = [sys.executable, "-m", "veil"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        texts = {}
        t = time.perf_counter()
        for i, cover in covers(args.n, args.size):
            texts[f"{i:04d}.png"] = text = f"batch item {i:04d}"
            veil.hide_qr(cover, text).save(root / f"{i:04d}.png")
        made = time.perf_counter() - t
        print(f"made {args.n} stego images in {made:.0f} s", file=sys.stderr)

        t = time.perf_counter()
        run = subprocess.run(veil_cmd + ["qr", "reveal", str(root), "--json"], capture_output=True, text=True)
        batch_s = time.perf_counter() - t
        docs = [json.loads(x) for x in run.stdout.splitlines()]
        batch_right = sum(1 for d in docs if d.get("text") == texts.get(Path(d["file"]).name))

        t = time.perf_counter()
        single_right = 0
        for name, text in texts.items():
            r = subprocess.run(veil_cmd + ["qr", "reveal", str(root / name)], capture_output=True, text=True)
            single_right += r.stdout == text + "\n"
        single_s = time.perf_counter() - t

    res = {"what": f"veil qr reveal over {args.n} {args.size}x{args.size} stego PNGs: one process for the folder "
                   "against one process per file, same files, same run",
           "n": args.n, "batch_s": round(batch_s, 2), "batch_per_image_s": round(batch_s / args.n, 4),
           "batch_exit_code": run.returncode, "batch_right": batch_right,
           "separate_s": round(single_s, 2), "separate_per_image_s": round(single_s / args.n, 4),
           "separate_right": single_right, "speedup": round(single_s / batch_s, 2),
           "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
           "command": "python scripts/bench_batch.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    write_json(Path(args.out), res)
    print(f"batch {res['batch_per_image_s'] * 1000:.0f} ms/image ({batch_right}/{args.n} right), separate calls "
          f"{res['separate_per_image_s'] * 1000:.0f} ms/image ({single_right}/{args.n} right): {res['speedup']}x")
    print(f"-> {args.out}")
    return 0 if batch_right == single_right == args.n else 1


if __name__ == "__main__":
    sys.exit(main())
