"""Training of a learned steganalyser against one veil model (``veil steganalyser train --model MODEL``).

Data: ``pairs`` random-scale crops (``pair_size`` px) of the training photos, each saved clean and with a
random payload hidden by the target model, both as 8-bit images (a PNG round trip). Each step trains on
``batch`` pairs, clean and stego of a pair cropped at the same place and turned the same way (paired
batches: the network sees only what the payload changed), binary cross-entropy. At the end the AUC is
measured on crops of held-out photos, exactly the set ``veil eval steganalysis --crop 256 --model MODEL``
builds, and written into the card.
"""
from __future__ import annotations

import random
import time
from pathlib import Path

import numpy as np
import torch

from .config import SteganalyserConfig
from .engine import fit


def tag_for(target_name: str) -> str:
    """``qr_densenet.robust`` -> ``qr_densenet_robust``; ``stegnet.default`` -> ``stegnet``."""
    return target_name.removesuffix(".default").replace(".", "_")


def make_pairs(cfg: SteganalyserConfig, log=print) -> tuple[np.ndarray, np.ndarray]:
    """(clean, stego) uint8 arrays [N,H,W,3] from the training photos."""
    from PIL import Image

    from ..data.covers import list_images, random_photo_crop
    from ..eval.steganalysis import make_stego

    files = list_images(cfg.data)
    if not files:
        raise FileNotFoundError(f"no training photos in {cfg.data}")
    photos = [np.asarray(Image.open(f).convert("RGB")) for f in files]
    rng = random.Random(f"{cfg.seed}-steganalyser-pairs")
    t0 = time.time()
    clean = [Image.fromarray(random_photo_crop(photos[rng.randrange(len(photos))], cfg.pair_size, rng))
             for _ in range(cfg.pairs)]
    stego = make_stego(cfg.target, clean, cfg.seed)
    log(f"made {len(clean)} clean/stego pairs of {cfg.pair_size} px with {cfg.target} in {time.time() - t0:.0f} s")
    return np.stack([np.asarray(c) for c in clean]), np.stack([np.asarray(s.convert("RGB")) for s in stego])


def _batch(clean: np.ndarray, stego: np.ndarray, cfg: SteganalyserConfig, rng: random.Random):
    """``cfg.batch`` pairs, clean then stego, cropped at the same place (in a torchrun job, this process's pairs of
    the run's whole batch: veil.data.covers.take_shard)."""
    from ..data.covers import take_shard

    def draw(total):
        return [(rng.randrange(len(clean)), rng.randint(0, cfg.pair_size - cfg.crop),
                 rng.randint(0, cfg.pair_size - cfg.crop), rng.randrange(4), rng.random() < 0.5)
                for _ in range(total)]

    xs = []
    for i, y, x, k, flip in take_shard(draw, cfg.batch):
        for a in (clean[i], stego[i]):
            a = np.rot90(a[y:y + cfg.crop, x:x + cfg.crop], k)
            xs.append(a[:, ::-1] if flip else a)
    x = torch.from_numpy(np.ascontiguousarray(np.stack(xs))).permute(0, 3, 1, 2).float() / 255.0
    return x, torch.tensor([0.0, 1.0] * cfg.batch)


def held_out_auc(model, cfg: SteganalyserConfig) -> dict:
    """The learned detector's AUC on ``veil eval steganalysis``'s set of held-out crops."""
    from ..eval.steganalysis import load_set, make_stego
    from ..metrics.detection import summarise_scores
    from ..models.steganalyser import score_images

    clean = [img for _, img in load_set(cfg.val, cfg.eval_crop, cfg.eval_per_image, 0, "clean")]
    stego = make_stego(cfg.target, clean, 0)
    res = summarise_scores(score_images(model, clean), score_images(model, stego))
    res.pop("roc")
    return {**res, "n_clean": len(clean), "n_stego": len(stego), "images": cfg.val, "crop": cfg.eval_crop}


def setup(cfg, model, opt, out: Path, log=print):
    """The family's part of a run (veil.train.engine.fit): clean/stego pairs, state and step."""
    clean, stego = make_pairs(cfg, log)
    rng = random.Random(f"{cfg.seed}-steganalyser-batches")
    bce = torch.nn.BCEWithLogitsLoss()
    acc_ema = [0.5]

    def step(state):
        x, y = opt.to(_batch(clean, stego, cfg, rng))
        logits = model(x)["logits"]
        loss = bce(logits, y)
        opt.update(loss)
        acc_ema[0] = 0.98 * acc_ema[0] + 0.02 * float(((logits > 0).float() == y).float().mean())
        record = {"loss": float(loss.detach()), "acc_ema": round(acc_ema[0], 4)} if state["log_now"] else {}
        return {"loss": loss}, record

    return {"step": 0, "wall": 0.0}, {"batches": rng}, step, {}


def train_steganalyser(cfg: SteganalyserConfig, out: Path, resume: bool = False, progress: bool = True,
                       log=print) -> dict:
    if cfg.crop > cfg.pair_size:
        raise ValueError(f"crop {cfg.crop} is larger than pair_size {cfg.pair_size}")
    return fit(cfg, out, setup, resume, progress, log)


def write_card(model, cfg: SteganalyserConfig, state: dict, metrics: dict, out: Path, command: str) -> dict:
    from ..registry import get_card
    from .engine import export

    from ..api import WEIGHTLESS

    weightless = cfg.target in WEIGHTLESS
    target_weights = {} if weightless else get_card(cfg.target, None).get("weights") or {}
    head = {"target": cfg.target,
            "target_sha256": target_weights.get("sha256")}      # the exact weights it learned to detect (None: lsbK)
    data = (f"{cfg.pairs} random-scale {cfg.pair_size} px crops of the shared/DATA.md training photos, clean and "
            f"with random payloads hidden by {cfg.target} (8-bit)")
    return export(model, cfg, out, state, command, task="steganalysis", payload=None, data=data, head=head,
                  metrics={"steganalysis": metrics})
