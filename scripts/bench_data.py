"""Crops per second of the training photo sampler on camera-sized photos (make bench-data): the same draws with the
photos decoded in the training process (workers 0) and in 1 and 2 worker processes, in one run. The photos are the
training corpus upscaled to 3000 px on the long side and saved as JPEG quality 90, as a camera's are. Writes
results/bench_data.json."""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def make_photos(src: str, folder: Path, n: int, side: int) -> int:
    from PIL import Image

    from veil.data.covers import list_images

    files = list_images(src)[:n]
    for i, f in enumerate(files):
        with Image.open(f) as img:
            img = img.convert("RGB")
            s = side / max(img.size)
            img.resize((round(img.width * s), round(img.height * s)), Image.BICUBIC).save(folder / f"{i}.jpg",
                                                                                         quality=90)
    return len(files)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--photos", type=int, default=24)
    p.add_argument("--side", type=int, default=3000)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--crop", type=int, default=256)
    p.add_argument("--batches", type=int, default=6)
    p.add_argument("--data", default=str(Path(os.environ.get("VEIL_DATA", Path.home() / ".cache/veil/covers"))
                                         / "train"))
    p.add_argument("--out", default="results/bench_data.json")
    args = p.parse_args(argv)
    import torch

    from veil.data.covers import CoverSampler
    from veil.files import write_json

    torch.set_num_threads(1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        n = make_photos(args.data, Path(tmp), args.photos, args.side)
        first = None
        for workers in (0, 1, 2):
            s = CoverSampler(tmp, args.crop, 0.0, seed=1, lazy=True, workers=workers)
            s.sample(2)                                 # the pool's start-up, outside the timing
            t0 = time.perf_counter()
            batches = [s.sample(args.batch) for _ in range(args.batches)]
            wall = time.perf_counter() - t0
            same = first is None or all(torch.equal(a, b) for a, b in zip(first, batches))
            first = first or batches
            if s._pool is not None:
                s._pool.shutdown()
            rows.append({"workers": workers, "crops_per_s": round(args.batches * args.batch / wall, 1),
                         "ms_per_batch": round(1000 * wall / args.batches), "same_batches_as_workers_0": same})
            print(f"workers {workers}: {rows[-1]['crops_per_s']} crops/s, {rows[-1]['ms_per_batch']} ms per batch "
                  f"of {args.batch}, same batches: {same}")
    res = {"photos": n, "long_side": args.side, "crop": args.crop, "batch": args.batch, "batches": args.batches,
           "cpus": os.cpu_count(), "rows": rows,
           "speedup_2_workers": round(rows[2]["crops_per_s"] / rows[0]["crops_per_s"], 2)}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, res)
    print(f"2 workers: {res['speedup_2_workers']}x the crops per second of workers 0 -> {args.out}")
    return 0 if all(r["same_batches_as_workers_0"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
