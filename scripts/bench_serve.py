"""Bounded load test of `veil serve` (make bench-serve): starts the service on a free loopback port, and sends only
to 127.0.0.1, a fixed number of requests under an overall time limit.

- hide then reveal of a 1024x1024 photo at 1, 4 and 16 concurrent clients: requests/s, p50/p95/p99 latency, the
  status counts, errors other than 503, and whether each revealed text is the one its request hid;
- the in-process reveal time of the same stego image in this process (the service's p50 is compared with it);
- a 30000x30000 PNG bomb: the time to refusal and the service's memory above idle.

Writes results/bench_serve.json and prints a table.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image



def bomb_png(side: int = 30000) -> bytes:
    """A side x side bilevel PNG of zeros: a few hundred kB (30000: 109 kB) that would decode to side^2 pixels."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    z = zlib.compressobj(9)
    row = b"\0" * (1 + side // 8)
    idat = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> dict:
    """Resident and peak resident memory of the process (MB), from /proc."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def pct(xs: list[float], q: float) -> float | None:
    return float(np.percentile(xs, q)) if xs else None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--per-client", type=int, default=4, help="hide+reveal pairs per concurrent client")
    p.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--time-limit", type=float, default=600.0, help="seconds for the whole run; stops sending after")
    p.add_argument("--out", default="results/bench_serve.json")
    args = p.parse_args(argv)

    import httpx

    import veil
    from veil.imaging import sample_path

    cover = Image.open(sample_path()).convert("RGB").resize((args.size, args.size), Image.LANCZOS)
    buf = io.BytesIO()
    cover.save(buf, "PNG")
    cover_png = buf.getvalue()

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "veil", "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = time.time()
    try:
        with httpx.Client(base_url=url, timeout=300) as c:
            while True:
                try:
                    if c.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    if server.poll() is not None or time.time() - start > 120:
                        raise SystemExit("veil serve did not start")
                    time.sleep(0.3)
            # one warm-up pair (first-request allocations), not counted
            warm = c.post("/api/hide", files={"image": ("c.png", cover_png, "image/png")}, data={"text": "warm up"})
            warm.raise_for_status()
            c.post("/api/reveal", files={"image": ("s.png", warm.content, "image/png")}).raise_for_status()

            idle = rss_mb(server.pid)
            bomb = bomb_png()
            t = time.perf_counter()
            r = c.post("/api/analyze", files={"image": ("bomb.png", bomb, "image/png")})
            bomb_s = time.perf_counter() - t
            after = rss_mb(server.pid)
            bomb_res = {"bytes": len(bomb), "status": r.status_code, "detail": r.json().get("detail"),
                        "seconds": round(bomb_s, 4), "rss_idle_mb": round(idle["VmRSS"], 1),
                        "rss_after_mb": round(after["VmRSS"], 1),
                        "peak_rss_growth_mb": round(after["VmHWM"] - idle["VmHWM"], 1)}

        # in-process: the same PNG bytes -> text, as a Python user with the file does (decoding included), and the
        # reveal alone on the decoded image
        def reveal_png():
            return veil.reveal(Image.open(io.BytesIO(warm.content)))

        stego_img = Image.open(io.BytesIO(warm.content))
        stego_img.load()
        in_process = {}
        for name, fn in (("png", reveal_png), ("decoded", lambda: veil.reveal(stego_img))):
            times = []
            for _ in range(5):
                t = time.perf_counter()
                assert fn() == "warm up"
                times.append(time.perf_counter() - t)
            in_process[name] = statistics.median(times)

        runs = []
        deadline = start + args.time_limit
        for n in args.clients:
            texts = [f"c{n} r{i:03d}" for i in range(n * args.per_client)]

            def pair(text, client):
                if time.time() > deadline:
                    return {"text": text, "skipped": True}
                t0 = time.perf_counter()
                h = client.post("/api/hide", files={"image": ("c.png", cover_png, "image/png")}, data={"text": text})
                t1 = time.perf_counter()
                out = {"text": text, "hide_status": h.status_code, "hide_s": t1 - t0}
                if h.status_code == 200:
                    v = client.post("/api/reveal", files={"image": ("s.png", h.content, "image/png")})
                    out.update(reveal_status=v.status_code, reveal_s=time.perf_counter() - t1,
                               got=v.json().get("message") if v.status_code == 200 else None)
                return out

            with httpx.Client(base_url=url, timeout=300, limits=httpx.Limits(max_connections=n)) as client:
                t = time.perf_counter()
                with ThreadPoolExecutor(n) as pool:
                    results = list(pool.map(lambda s: pair(s, client), texts))
                wall = time.perf_counter() - t
            done = [r for r in results if not r.get("skipped")]
            statuses = [r["hide_status"] for r in done] + [r["reveal_status"] for r in done if "reveal_status" in r]
            hide_ok = [r["hide_s"] for r in done if r["hide_status"] == 200]
            reveal_ok = [r["reveal_s"] for r in done if r.get("reveal_status") == 200]
            runs.append({
                "clients": n, "pairs": len(texts), "sent": len(done), "skipped_for_time": len(texts) - len(done),
                "wall_s": round(wall, 2), "requests_per_s": round(len(statuses) / wall, 3) if wall else None,
                "status_counts": {str(s): statuses.count(s) for s in sorted(set(statuses))},
                "errors_not_503": sum(1 for s in statuses if s != 200 and s != 503),
                "mixed_or_lost": sum(1 for r in done if r.get("reveal_status") == 200 and r["got"] != r["text"]),
                "hide_s": {"p50": pct(hide_ok, 50), "p95": pct(hide_ok, 95), "p99": pct(hide_ok, 99)},
                "reveal_s": {"p50": pct(reveal_ok, 50), "p95": pct(reveal_ok, 95), "p99": pct(reveal_ok, 99)},
            })
    finally:
        server.terminate()
        server.wait(timeout=30)

    res = {"what": f"veil serve on 127.0.0.1 (defaults: --concurrency 2 --queue 16), {args.size}x{args.size} PNG "
                   "photo; each client sends hide then reveal of its own text, one pair after another",
           "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
           "in_process_reveal_png_s": in_process["png"], "in_process_reveal_decoded_s": in_process["decoded"],
           "bomb": bomb_res, "runs": runs,
           "reveal_p50_over_in_process_png": [round(r["reveal_s"]["p50"] / in_process["png"], 2)
                                              if r["reveal_s"]["p50"] else None for r in runs],
           "command": "python scripts/bench_serve.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from veil.files import write_json

    write_json(out, res)
    print(f"in-process reveal of the PNG {in_process['png'] * 1000:.0f} ms (decoded image "
          f"{in_process['decoded'] * 1000:.0f} ms); bomb: {bomb_res['status']} in "
          f"{bomb_res['seconds'] * 1000:.0f} ms, peak RSS +{bomb_res['peak_rss_growth_mb']} MB")
    print(f"{'clients':>7} {'req/s':>7} {'hide p50/p95/p99 s':>22} {'reveal p50/p95/p99 s':>24} {'statuses':>22} "
          f"{'err!503':>7} {'mixed':>5}")

    def fmt(d):
        return "/".join(f"{d[k]:.2f}" if d[k] is not None else "-" for k in ("p50", "p95", "p99"))

    for r in runs:
        h, v = r["hide_s"], r["reveal_s"]
        print(f"{r['clients']:>7} {r['requests_per_s'] or 0:>7.2f} {fmt(h):>22} {fmt(v):>24} "
              f"{json.dumps(r['status_counts']):>22} {r['errors_not_503']:>7} {r['mixed_or_lost']:>5}")
    print(f"-> {out}")
    bad = any(r["errors_not_503"] or r["mixed_or_lost"] for r in runs) or bomb_res["status"] != 413
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
