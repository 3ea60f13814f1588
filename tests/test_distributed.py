"""Data-parallel training through torchrun (gloo on this CPU): 2 processes at batch 2 follow the loss curve of 1
process at batch 4 (the same samples: each process trains on its slice of the same global batch), rank 0 alone
writes, and a 2-process checkpoint resumes in 1 process onto the same curve."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
TORCHRUN = Path(sys.executable).with_name("torchrun")


def _recipe(tmp_path) -> Path:
    # pixinpix has no batch norm: its forward on a slice is the forward on the batch, so the curves agree to float
    # rounding (a batch-norm model agrees only roughly: each process normalises by its own slice); a constant
    # learning rate (decay_from = 1), so that a run stopped at step 4 and resumed follows the same schedule
    r = tmp_path / "tiny.toml"
    r.write_text('arch = "pixinpix"\ncrop = 32\nlog_every = 1\nckpt_every = 4\nlr = 0.003\ndecay_from = 1.0\n'
                 'threads = 1\ngrey_prob = 0.3\nsynthetic_prob = 1.0\n[model]\nwidths = [4, 8, 8]\n')
    return r


def _train(tmp_path, out: str, batch: int, steps: int, procs: int = 1, resume: bool = False) -> list[float]:
    args = ["-m", "veil", "train", "image", "--config", str(_recipe(tmp_path)), "--data", "synthetic",
            "--batch", str(batch), "--steps", str(steps), "--out", str(tmp_path / out), "--no-progress"]
    args += ["--resume"] if resume else []
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if procs == 1:
        cmd = [sys.executable, *args]
    else:
        cmd = [str(TORCHRUN), "--standalone", f"--nproc_per_node={procs}", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    return [json.loads(x)["loss"] for x in (tmp_path / out / "log.jsonl").read_text().splitlines()]


@pytest.mark.skipif(not TORCHRUN.exists(), reason="torchrun is not installed beside this Python")
def test_two_processes_follow_one_and_resume_in_one(tmp_path):
    one = _train(tmp_path, "one", batch=4, steps=8)
    two = _train(tmp_path, "two", batch=2, steps=8, procs=2)
    assert len(one) == len(two) == 8
    assert two == pytest.approx(one, rel=1e-4), (one, two)
    assert len(set(one)) == 8                                 # a new batch each step
    card = json.loads((tmp_path / "two" / "pixinpix.default.json").read_text())
    assert card["training"]["processes"] == 2 and card["training"]["steps"] == 8
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in (tmp_path / "one").iterdir())

    _train(tmp_path, "mixed", batch=2, steps=4, procs=2)            # 4 steps on 2 processes ...
    mixed = _train(tmp_path, "mixed", batch=4, steps=8, resume=True)    # ... then 4 more on 1, same global batch
    assert mixed == pytest.approx(one, rel=1e-4), (one, mixed)
    # a checkpoint made here in one process resumes on two processes as well
    _train(tmp_path, "back", batch=4, steps=4)
    back = _train(tmp_path, "back", batch=2, steps=8, procs=2, resume=True)
    assert back == pytest.approx(one, rel=1e-4), (one, back)


def test_qrnet_and_steganalyser_batches_are_slices_of_one_global_batch():
    """The families without photo samplers shard too: in a 2-process job each process's batch is its half of the
    batch one process draws at twice the size, from the same seeded generators."""
    import random

    import numpy as np
    import torch

    from veil.data.covers import sharded, take_shard
    from veil.train.config import QRNetConfig, SteganalyserConfig
    from veil.train.qrnet import fresh_batch, soft_grids
    from veil.train.steganalyser import _batch

    cfg = QRNetConfig(batch=3)
    pool = (np.random.default_rng(0).integers(0, 10, (50, 6)).astype(np.uint8),
            np.random.default_rng(1).random((50, 21, 21)) > 0.5)

    def draws(rank, world, n):
        with sharded(rank, world):
            rng = random.Random(7)
            torch.manual_seed(0)                      # the codes' noise comes from torch's generator
            fresh = take_shard(lambda total: fresh_batch(rng, cfg, 64, 1.0, total), n)
            grids = take_shard(lambda total: soft_grids(pool, rng, total, cfg), n)
            return fresh + grids

    whole = draws(0, 1, 6)
    halves = [draws(r, 2, 3) for r in (0, 1)]
    for i, part in enumerate(whole):
        assert torch.equal(part, torch.cat([halves[0][i], halves[1][i]])), i

    clean = np.random.default_rng(2).integers(0, 256, (5, 32, 32, 3), dtype=np.uint8)
    stego = clean ^ 1

    def pairs(rank, world, n):
        with sharded(rank, world):
            return _batch(clean, stego, SteganalyserConfig(batch=n, pair_size=32, crop=16), random.Random(3))

    x, y = pairs(0, 1, 6)
    parts = [pairs(r, 2, 3) for r in (0, 1)]
    assert torch.equal(x, torch.cat([parts[0][0], parts[1][0]])) and torch.equal(y, torch.cat([parts[0][1],
                                                                                              parts[1][1]]))
    assert not torch.equal(parts[0][0], parts[1][0])
