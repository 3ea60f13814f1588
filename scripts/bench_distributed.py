"""Samples per second of data-parallel training on this machine (make bench-distributed): the stegnet recipe's model
and batch for a fixed number of steps in 1 process with 1 thread, then in 2 processes (torchrun, gloo) with 1 thread
each at the same per-process batch, in one run. Writes results/bench_distributed.json."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def run(procs: int, steps: int, batch: int, folder: Path, data: str) -> dict:
    recipe = folder / "r.toml"
    recipe.write_text(f'arch = "stegnet"\ncrop = 64\nbatch = {batch}\nthreads = 1\nlog_every = 5\n'
                      f'ckpt_every = {steps}\nsynthetic_prob = 0.1\n')
    out = folder / f"p{procs}"
    args = ["-m", "veil", "train", "image", "--config", str(recipe), "--data", data, "--steps", str(steps),
            "--out", str(out), "--no-progress"]
    torchrun = str(Path(sys.executable).with_name("torchrun"))
    cmd = [sys.executable, *args] if procs == 1 else [torchrun, "--standalone", f"--nproc_per_node={procs}", *args]
    subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    log = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    # from the first logged step on: start-up and the first steps' allocations left out
    steps_timed, wall = log[-1]["step"] - log[0]["step"], log[-1]["wall_s"] - log[0]["wall_s"]
    return {"processes": procs, "per_process_batch": batch, "steps_timed": steps_timed, "wall_s": wall,
            "samples_per_s": round(steps_timed * batch * procs / wall, 2)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--data", default=str(Path(os.environ.get("VEIL_DATA", Path.home() / ".cache/veil/covers"))
                                         / "train"))
    p.add_argument("--out", default="results/bench_distributed.json")
    args = p.parse_args(argv)
    data = args.data if Path(args.data).is_dir() else "synthetic"
    with tempfile.TemporaryDirectory() as tmp:
        one = run(1, args.steps, args.batch, Path(tmp), data)
        two = run(2, args.steps, args.batch, Path(tmp), data)
    from veil.files import write_json

    res = {"what": "stegnet training steps (64 px crops), 1 thread per process, same per-process batch, one run",
           "data": data, "runs": [one, two], "speedup": round(two["samples_per_s"] / one["samples_per_s"], 2),
           "machine": {"cpus": os.cpu_count()},
           "command": "python scripts/bench_distributed.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    write_json(Path(args.out), res)
    print(f"1 process: {one['samples_per_s']} samples/s; 2 processes: {two['samples_per_s']} samples/s; "
          f"{res['speedup']}x -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
