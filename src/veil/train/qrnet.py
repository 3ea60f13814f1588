"""Training of the neural QR reader (``veil qrnet train``; seed 001).

``data = "fixed"`` (qrnet.paper, the paper's recipe): ``train_codes`` distinct training-split strings and
``val_codes`` distinct held-out strings, each made into a version-1 ECC-H code (the vectorised generator of
veil.data.qr_digits, bit-identical to segno; ``segno_check`` of them are compared with segno itself),
21x21 at one pixel a module, no quiet zone, 1.0 = light; cached in the run folder so a resumed run reads
them back. Batches are drawn as Keras' fit does: shuffled epochs. Adam, categorical cross-entropy.

``data = "fresh"`` (qrnet.default): every step draws ``batch`` new training-split strings and makes their
codes with the vectorised generator (veil.data.qr_digits, identical to segno), renders each at a random
module size with random quiet zones, turns it by a random quarter turn, moves its levels, blurs it, adds
noise, rounds it to 8 bits (or renders it like `veil qr reveal --qr-out`, with flipped modules), and
prepares it exactly as inference does (:func:`veil.models.qrnet.prepare_robust`). A curriculum (``ramp``)
grows the blur, noise and flip maxima from zero over the first part of the run. Loss: digit cross-entropy
+ ``orient_weight`` x quarter-turn cross-entropy + ``bit_weight`` x data-bit BCE + ``module_weight`` x BCE
of the reader's 21x21 module grid against the modules drawn (dense supervision); plus the decoder alone on
``decoder_extra`` cheap noisy module grids per step (:func:`soft_grids`, drawn from a pool of
``decoder_pool`` training codes made at the start), in ``decoder_steps`` updates per step: the decoding needs
many updates, the images are what costs time.
"""
from __future__ import annotations

import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..data import qr_digits as qd
from ..data.covers import shard, take_shard
from .config import QRNetConfig
from .engine import fit


# ----------------------------------------------------------------------------- the seed's fixed data

def seed_sets(cfg: QRNetConfig, out: Path | None, log=print) -> dict:
    """The seed's fixed sets, made with segno (cached as ``out/codes.npz``): x [N,1,21,21] float (1 = light),
    y [N,6] for "train" and "val", and the generation time."""
    cache = out / "codes.npz" if out is not None else None
    rng = random.Random(f"{cfg.seed}-qrnet-fixed-sets")
    train = qd.unique_strings(rng, cfg.train_codes, "train")
    val = qd.unique_strings(rng, cfg.val_codes, "eval")
    strings = train + val
    t0 = time.time()
    mats = None
    if cache is not None and cache.is_file():
        saved = np.load(cache)
        if list(saved["strings"]) == strings:
            mats = np.unpackbits(saved["mats"], axis=1)[:, :qd.SIZE ** 2].reshape(-1, qd.SIZE, qd.SIZE) > 0
            log(f"read {len(strings)} cached codes from {cache}")
    if mats is None:
        # The vectorised generator (bit-identical to segno, minutes faster); a sample is checked against segno.
        gen = qd.fast_codes()
        mats = np.concatenate([gen.matrices(strings[i:i + 2000]) for i in range(0, len(strings), 2000)])
        check = random.Random(f"{cfg.seed}-qrnet-check").sample(range(len(strings)), min(cfg.segno_check, len(strings)))
        for i in check:
            if not np.array_equal(mats[i], qd.segno_matrix(strings[i])):
                raise qd.GeneratorMismatch(f"the vectorised generator differs from segno on {strings[i]!r}")
        log(f"made {len(train)} training and {len(val)} validation codes in {time.time() - t0:.0f} s "
            f"({len(check)} of them checked equal to segno's)")
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.savez(cache, strings=np.array(strings), mats=np.packbits(mats.reshape(len(mats), -1), axis=1))
    x = torch.from_numpy(1.0 - mats.astype(np.float32))[:, None]
    y = torch.from_numpy(qd.digits_of(strings))
    n = len(train)
    return {"train": (x[:n], y[:n]), "val": (x[n:], y[n:]), "gen_s": time.time() - t0}


# ----------------------------------------------------------------------------- fresh, degraded data

def random_view(m: np.ndarray, rng: np.random.Generator, cfg: QRNetConfig, strength: float = 1.0
                ) -> tuple[np.ndarray, int, np.ndarray]:
    """One degraded, turned image of code ``m`` [21,21] bool, its quarter turn k (torch.rot90's k) and the
    modules drawn (``m`` with any flips); ``strength`` scales the blur, noise and flip maxima (the ramp)."""
    if rng.random() < cfg.reveal_prob:
        from ..payloads.qr import render_matrix

        m = qd.flip_modules(m, rng.uniform(0, cfg.flip_max * strength), rng) if rng.random() < 0.7 else m
        img = render_matrix(m, 128, border=2)
        px = 128 / 25
        blur_p, noise_p = 0.3, 0.3
    else:
        px = rng.uniform(*cfg.module_px)
        quiet = (0.0,) * 4 if rng.random() < 0.3 else tuple(rng.uniform(0, cfg.quiet_max, 4))
        img = qd.render(m, px, quiet, smooth=rng.random() < 0.5)
        px = max(qd.SIZE, round(qd.SIZE * px)) / qd.SIZE
        blur_p, noise_p = cfg.blur_prob, cfg.noise_prob
    k = int(rng.integers(4))
    img = np.rot90(img, k)
    dark, light = 0.0, 1.0
    if rng.random() < cfg.level_prob:
        dark, light = rng.uniform(0, 0.35), rng.uniform(0.65, 1.0)
    sigma = rng.uniform(0, cfg.blur_max * strength) * px if rng.random() < blur_p else 0.0
    noise = rng.uniform(0, cfg.noise_max * strength) if rng.random() < noise_p else 0.0
    return qd.degrade(img, sigma, noise, dark, light), k, m


def fresh_batch(rng: random.Random, cfg: QRNetConfig, input_size: int, strength: float = 1.0, n: int | None = None):
    """(x [B,1,S,S] prepared, digits [B,6], quarter turns [B], data bits [B,20], upright module
    matrices [B,21,21] (1 = dark)) of ``n`` (default ``cfg.batch``) new training codes."""
    from ..models.qrnet import prepare_robust

    strings = qd.random_strings(rng, n or cfg.batch, "train")
    mats = qd.fast_codes().matrices(strings)
    nrng = np.random.default_rng(rng.getrandbits(64))
    xs, ks, drawn = [], [], []
    for m in mats:
        if cfg.augment:
            img, k, m = random_view(m, nrng, cfg, strength)
        else:
            img, k = qd.render(m, 2.0), 0
        xs.append(prepare_robust(img, input_size))
        ks.append(k)
        drawn.append(m)
    return (torch.stack(xs), torch.from_numpy(qd.digits_of(strings)), torch.tensor(ks),
            torch.from_numpy(qd.data_bits(strings)).float(), torch.from_numpy(np.stack(drawn)).float())


def grid_pool(cfg: QRNetConfig, out: Path | None, log=print) -> tuple[np.ndarray, np.ndarray]:
    """``decoder_pool`` distinct training-split codes for the decoder's practice grids: (strings as uint8 digits
    [N,6], modules bool [N,21,21]); cached as ``out/grid_pool.npz`` for resumed runs."""
    cache = out / "grid_pool.npz" if out is not None else None
    if cache is not None and cache.is_file():
        saved = np.load(cache)
        if len(saved["digits"]) == cfg.decoder_pool:
            mats = np.unpackbits(saved["mats"], axis=1)[:, :qd.SIZE ** 2].reshape(-1, qd.SIZE, qd.SIZE) > 0
            return saved["digits"], mats
    t0 = time.time()
    strings = qd.unique_strings(random.Random(f"{cfg.seed}-qrnet-grid-pool"), cfg.decoder_pool, "train")
    gen = qd.fast_codes()
    mats = np.concatenate([gen.matrices(strings[i:i + 2000]) for i in range(0, len(strings), 2000)])
    digits = qd.digits_of(strings).astype(np.uint8)
    log(f"made {len(strings)} codes for the decoder's practice grids in {time.time() - t0:.0f} s")
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, digits=digits, mats=np.packbits(mats.reshape(len(mats), -1), axis=1))
    return digits, mats


def soft_grids(pool: tuple[np.ndarray, np.ndarray], rng: random.Random, n: int, cfg: QRNetConfig):
    """Cheap decoder practice: (module probabilities [n,21,21] as a noisy reader would give them, digits [n,6],
    data bits [n,20]) of ``n`` codes drawn from the pool. Each module's logit is +-U(2, 6) per code (dark
    positive) plus Gaussian noise of a per-code std U(0, ``grid_noise``), which flips a few modules of the
    least sure codes."""
    digits, mats = pool
    g = torch.Generator().manual_seed(rng.getrandbits(62))
    idx = torch.randint(len(digits), (n,), generator=g).numpy()
    dark = torch.from_numpy(mats[idx]).float()
    d = digits[idx].astype(np.int64)
    strings = ["".join(map(str, row)) for row in d]
    conf = 2 + 4 * torch.rand(n, 1, 1, generator=g)
    std = cfg.grid_noise * torch.rand(n, 1, 1, generator=g)
    z = (2 * dark - 1) * conf + std * torch.randn(dark.shape, generator=g)
    return torch.sigmoid(z), torch.from_numpy(d), torch.from_numpy(qd.data_bits(strings)).float()


# ----------------------------------------------------------------------------- training

def accuracy(model, x: torch.Tensor, y: torch.Tensor, batch: int = 1000) -> dict:
    """Per-digit and exact six-digit accuracy of ``model`` on prepared inputs x [N,1,S,S]."""
    was = model.training
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(x[i:i + batch])["logits"].argmax(-1) for i in range(0, len(x), batch)])
    model.train(was)
    ok = pred == y
    return {"per_digit": float(ok.float().mean()), "exact": float(ok.all(1).float().mean()), "n": len(y)}


def setup(cfg, model, opt, out: Path, log=print):
    """The family's part of a run (veil.train.engine.fit): the code sets or pools, state and step."""
    rng = random.Random(f"{cfg.seed}-qrnet-batches")
    sets = None
    if cfg.data == "fixed":
        if model.variant != "paper":
            raise ValueError("data = fixed is the paper's 21x21 set: use it with variant = paper")
        sets = seed_sets(cfg, out, log)
    elif model.variant == "paper":
        raise ValueError("the paper variant reads 21x21 codes: train it with data = fixed")
    t0 = time.time()
    pool = grid_pool(cfg, out, log) if cfg.data == "fresh" and cfg.decoder_extra else None
    pool_s = time.time() - t0
    ema = {"acc": 0.0}

    def fixed_batch(state):
        # Keras-style epochs: a fresh permutation every ceil(N / batch) steps, seeded by the epoch number (the batch
        # of the whole run: in a torchrun job, each process trains on its slice of it, and an epoch's last batch
        # is filled up from the permutation's start, so that no process is left without samples).
        n, world = len(sets["train"][0]), shard()[1]
        per_epoch = -(-n // (cfg.batch * world))
        epoch, i = divmod(state["step"], per_epoch)
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(cfg.seed * 100003 + epoch))
        if world > 1:
            perm = torch.cat([perm, perm])
        idx = take_shard(lambda total: perm[i * total:(i + 1) * total], cfg.batch)
        return sets["train"][0][idx], sets["train"][1][idx]

    def step(state):
        if sets is not None:
            x, y = opt.to(fixed_batch(state))
            out = model(x)
            loss = F.cross_entropy(out["logits"].reshape(-1, 10), y.reshape(-1))
            terms = {"loss": loss}
        else:
            strength = min(1.0, state["step"] / (cfg.ramp * cfg.steps)) if cfg.ramp > 0 else 1.0
            x, y, k, bits, grid = opt.to(take_shard(lambda total: fresh_batch(rng, cfg, model.input_size, strength,
                                                                              total), cfg.batch))
            out = model(x, rotation=k)
            digit = F.cross_entropy(out["logits"].reshape(-1, 10), y.reshape(-1))
            orient = F.cross_entropy(out["orient_logits"], k)
            bit = F.binary_cross_entropy_with_logits(out["bit_logits"], bits)
            module = F.binary_cross_entropy_with_logits(out["module_logits"], grid)
            loss = digit + cfg.orient_weight * orient + cfg.bit_weight * bit + cfg.module_weight * module
            terms = {"loss": loss, "digit": digit, "orient": orient, "bit": bit, "module": module}
            if cfg.decoder_extra:
                p, yd, bd = opt.to(take_shard(lambda total: soft_grids(pool, rng, total, cfg), cfg.decoder_extra))
                dl, bl = model.decoder(p)
                dec = F.cross_entropy(dl.reshape(-1, 10), yd.reshape(-1)) + \
                    cfg.bit_weight * F.binary_cross_entropy_with_logits(bl, bd)
                loss = loss + dec
                terms.update(loss=loss, decoder=dec)
        opt.update(loss)
        for _ in range(cfg.decoder_steps - 1 if pool is not None else 0):
            # More updates of the decoder alone on practice grids: it needs many steps, and they are cheap.
            p, yd, bd = opt.to(take_shard(lambda total: soft_grids(pool, rng, total, cfg), cfg.decoder_extra))
            dl, bl = model.decoder(p)
            dec = F.cross_entropy(dl.reshape(-1, 10), yd.reshape(-1)) + \
                cfg.bit_weight * F.binary_cross_entropy_with_logits(bl, bd)
            opt.update(dec)
        exact = float((out["logits"].argmax(-1) == y).all(1).float().mean())
        ema["acc"] = 0.95 * ema["acc"] + 0.05 * exact if state["step"] else exact
        record = {}
        if state["log_now"]:
            record = {k: round(float(v.detach()), 5) for k, v in terms.items()}
            record["exact_ema"] = round(ema["acc"], 4)
            if "orient_logits" in out:
                record["orient_acc"] = round(float((out["orient_logits"].argmax(1) == k).float().mean()), 4)
                record["module_err"] = round(float(((out["module_logits"] > 0).float() != grid).float().mean()), 4)
        if sets is not None and cfg.val_every and (state["step"] + 1) % cfg.val_every == 0:
            record.update({f"val_{k}": v for k, v in accuracy(model, *sets["val"]).items() if k != "n"})
            log(f"step {state['step'] + 1}: validation {record['val_per_digit']:.4f} per digit, "
                f"{record['val_exact']:.4f} exact")
            state["log_now"] = True
        return terms, record

    return {"step": 0, "wall": 0.0}, {"batches": rng}, step, {"sets": sets, "pool_s": pool_s}


def train_qrnet(cfg: QRNetConfig, out: Path, resume: bool = False, progress: bool = True, log=print) -> dict:
    if cfg.data not in ("fresh", "fixed"):
        raise ValueError(f"data must be fresh or fixed, got {cfg.data!r}")
    result = fit(cfg, out, setup, resume, progress, log)
    sets, pool_s = result.pop("sets"), result.pop("pool_s")
    if sets is not None:
        result["val"] = accuracy(result["model"], *sets["val"])
        result["gen_s"] = sets["gen_s"]
    else:
        result["gen_s"] = pool_s
    return result


def write_card(model, cfg: QRNetConfig, state: dict, out: Path, command: str, extra: dict | None = None) -> dict:
    from ..models import qrnet as mod
    from .engine import export

    if cfg.data == "fixed":
        data = (f"{cfg.train_codes} training and {cfg.val_codes} validation codes made once (version 1, ECC H; "
                f"vectorised generator identical to segno, {cfg.segno_check} checked against segno) from distinct "
                "random 6-digit strings of the training / held-out split (BLAKE2b hash mod 10), 21x21 px, no quiet "
                "zone")
    else:
        data = ("new random 6-digit strings of the training split every step (BLAKE2b hash mod 10 != 0), codes by "
                "the vectorised segno-identical generator, rendered at "
                f"{cfg.module_px[0]:g}-{cfg.module_px[1]:g} px a module with 0-{cfg.quiet_max:g}-module quiet zones, "
                f"turned by a random quarter turn, levels moved ({cfg.level_prob:.0%}), Gaussian blur up to "
                f"{cfg.blur_max:g} modules ({cfg.blur_prob:.0%}), noise std up to {cfg.noise_max:g} "
                f"({cfg.noise_prob:.0%}), 8-bit; {cfg.reveal_prob:.0%} drawn like `veil qr reveal --qr-out` "
                f"(128 px, 2-module border, up to {cfg.flip_max:.0%} of the modules flipped)")
    head = {"input": ({"size": 21, "format": "21x21 grey, one pixel a module, no quiet zone, 1.0 = light; other "
                       "images are cropped to the located code and area-averaged to 21x21"}
                      if model.variant == "paper" else
                      {"size": model.input_size, "format": "any image: grey, cropped to the located code, resized "
                       f"to {model.input_size}x{model.input_size}, levels normalised; any quarter turn"})}
    return export(model, cfg, out, state, command, task="qrnet",
                  payload={"type": "digits", "digits": 6, "qr_version": 1, "ecc": "H", "mode": "numeric"}, data=data,
                  deviations=mod.DEVIATIONS[model.variant], head=head,
                  training={"samples": state["step"] * cfg.batch, "threads": cfg.threads, **(extra or {})})
