"""Peak memory and wall time of every image command on one large photo (default 8000x6000), each run as a user
runs it: a fresh `veil` process, the file on disk. Writes results/bench_large.json.

    python scripts/bench_large.py [--size 8000x6000] [--only NAME ...]
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image

LIMIT_MB, LIMIT_S = 1536, 10.0


def photo(path: Path, w: int, h: int) -> None:
    """The packaged photo enlarged to w x h with fine grain added (a camera file's texture), saved as PNG."""
    src = Image.open(str(resources.files("veil") / "assets" / "astronaut.png")).convert("RGB")
    img = np.asarray(src.resize((w, h), Image.BICUBIC), dtype=np.int16)
    img = img + np.random.default_rng(0).integers(-3, 4, img.shape, dtype=np.int16)
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path, compress_level=1)


def commands(d: Path) -> dict[str, list[str]]:
    c, s, q = str(d / "cover.png"), str(d / "stego.png"), str(d / "qr_stego.png")
    small = str(d / "secret.png")
    return {
        "attack_blur1": ["attack", c, "-o", str(d / "a1.png"), "--blur", "1", "--force"],
        "attack_jpeg75": ["attack", c, "-o", str(d / "a2.jpg"), "--jpeg", "75", "--force"],
        "attack_resize0.5": ["attack", c, "-o", str(d / "a3.png"), "--resize", "0.5", "--force"],
        "hide": ["hide", c, "-t", "large photo", "-o", s, "--force"],
        "reveal": ["reveal", s],
        "hide_verify": ["hide", c, "-t", "large photo", "-o", s, "--verify", "jpeg:75,blur:1", "--force"],
        "qr_hide": ["qr", "hide", c, "-t", "large", "-o", q, "--force"],
        "qr_reveal": ["qr", "reveal", q],
        "qr_hide_verify": ["qr", "hide", c, "-t", "large", "-o", q, "--verify", "blur:1,resize:0.5", "--force"],
        "analyze": ["analyze", c],
        "image_hide_lsb3": ["image", "hide", c, small, "-o", str(d / "i1.png"), "--model", "lsb3", "--force"],
        "image_reveal_lsb3": ["image", "reveal", str(d / "i1.png"), "-o", str(d / "r1.png"), "--model", "lsb3",
                              "--force"],
        "image_hide_pixinpix": ["image", "hide", c, small, "-o", str(d / "i2.png"), "--model", "pixinpix", "--force"],
        "image_reveal_pixinpix": ["image", "reveal", str(d / "i2.png"), "-o", str(d / "r2.png"), "--model",
                                  "pixinpix", "--force"],
        "image_hide_stegnet": ["image", "hide", c, small, "-o", str(d / "i3.png"), "--force"],
        "image_reveal_stegnet": ["image", "reveal", str(d / "i3.png"), "-o", str(d / "r3.png"), "--force"],
    }


def measure(argv: list[str]) -> dict:
    # stderr goes to a file, not a pipe: a progress bar over thousands of tiles would fill a pipe nobody reads
    # until the end, and block the command
    with tempfile.TemporaryFile() as err_file:
        t = time.perf_counter()
        p = subprocess.Popen([sys.executable, "-m", "veil", *argv], stdout=subprocess.DEVNULL, stderr=err_file)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        err_file.seek(0)
        err = err_file.read().decode(errors="replace").replace("\r", "\n").strip().splitlines()
    code = os.waitstatus_to_exitcode(status)
    return {"exit": code, "seconds": round(wall, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "stderr_last": err[-1].strip() if err else ""}


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from veil.files import write_json

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="8000x6000")
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--out", default="results/bench_large.json")
    args = ap.parse_args(argv)
    w, h = (int(v) for v in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        photo(d / "cover.png", w, h)
        Image.open(str(resources.files("veil") / "assets" / "astronaut.png")).resize((640, 480)).save(d / "secret.png")
        rows = {}
        for name, cmd in commands(d).items():
            if args.only and name not in args.only:
                continue
            rows[name] = r = measure(cmd)
            r["within_target"] = r["exit"] == 0 and r["peak_rss_mb"] <= LIMIT_MB and r["seconds"] <= LIMIT_S
            print(f"{name:24s} exit {r['exit']}  {r['seconds']:7.2f} s  {r['peak_rss_mb']:8.1f} MB  {r['stderr_last']}",
                  flush=True)
            if not args.only:        # after every command, so a long run that is stopped keeps what it measured
                write_json(args.out, {"size": f"{w}x{h}", "targets": {"peak_rss_mb": LIMIT_MB, "seconds": LIMIT_S},
                                      "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                                      "complete": len(rows) == len(commands(d)), "commands": rows})
    if not args.only:
        print(f"-> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
