"""Training configuration. Config flows one way: dataclass defaults -> recipe file (TOML) -> CLI flags.
The resolved config is saved with every checkpoint and in the exported card.
"""
from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError


@dataclass
class RunConfig:
    """What every training run has, and what the engine reads (veil.train.loop: seed, threads, optimiser, learning
    rate schedule, steps, logging and checkpoint cadence; veil.train.engine: arch, tag, model). Each family's
    config adds its own fields and its own defaults; a recipe sets any of them."""
    arch: str = ""
    tag: str = "default"
    model: dict[str, Any] = field(default_factory=dict)   # builder kwargs
    batch: int = 16
    steps: int = 2000
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    decay_from: float = 0.7        # linear lr decay to 10% from this share of the steps (1.0: constant)
    seed: int = 0
    threads: int = 0               # 0 = torch default
    log_every: int = 25
    ckpt_every: int = 100
    device: str = "auto"           # auto | cpu | cuda (veil.train.accel: auto = the GPU when torch sees one)
    amp: str = "auto"              # auto | none | bf16 | fp16 autocast (auto: bf16 on a GPU, none on the CPU)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class PhotoRunConfig(RunConfig):
    """What the families that crop training photos (qr, spread, image) add: where the photos are read."""
    data: str | None = None        # photos: a folder tree or a list file; None = synthetic images only
    val_share: float = 0.0         # hold out this share of the photos, whole files (listed in the run's val_files.txt)
    workers: int = 0               # decode and crop photos in this many processes (0: in the training process)


@dataclass
class QRTrainConfig(PhotoRunConfig):
    arch: str = "qr_densenet"
    tag: str = "default"
    model: dict[str, Any] = field(default_factory=dict)   # builder kwargs
    init_from: str | None = None   # start from released weights (a model name or a .safetensors path)
    init_only: list[str] = field(default_factory=list)  # load only these parameter prefixes, e.g. ["encoder."]
    data: str | None = None        # folder of training photos; None = synthetic covers only
    crop: int = 256                # training cover size (> processing size: train through the resize)
    crop_sizes: list[int] = field(default_factory=list)  # if set, each batch draws its cover size from here
    synthetic_prob: float = 0.2
    batch: int = 16
    steps: int = 2000
    optimizer: str = "rmsprop"     # seed 000: RMSprop, lr 1e-3
    lr: float = 1e-3
    weight_decay: float = 0.0
    decay_from: float = 0.7        # linear lr decay to 10% over the last 30% of steps
    attacks: list[str] = field(default_factory=list)  # attack specs (veil.attacks), e.g. ["jpeg:50-95", "blur:0-1.5"]
    attack_prob: float = 0.8       # share of batches attacked (by a random chain of 1..attack_max_chain of them)
    attack_max_chain: int = 2
    loss: str = "densenet"         # densenet (seed eq. 2) | baseline (seed eq. 1)
    beta: float = 0.75
    cover_rmse: float = 0.0        # densenet loss: cover term L1 + cover_rmse * RMSE (0 = the seed's L1)
    cover_weight: float = 1.0      # initial w_c
    adaptive: bool = True          # balance w_c by the running module error rate
    err_low: float = 0.002
    err_high: float = 0.004
    adapt_rate: float = 0.01
    max_cover_weight: float = 1e6
    min_cover_weight: float = 1e-3  # floor of w_c: a fine-tune to a new scale keeps a quiet residual while it adapts
    qr_pool: int = 2000            # random QR codes generated up front and re-drawn
    seed: int = 0
    threads: int = 0               # 0 = torch default
    log_every: int = 25
    ckpt_every: int = 100
    calibrate: bool = True
    calib_samples: int = 256
    calib_target: float = 0.995
    calib_attacks: list[str] = field(default_factory=list)  # calibrate success after these attacks (cycled)
    calib_sizes: list[int] = field(default_factory=list)    # calibration cover sizes (default: 256 and 768 px)
    small_cover_model: str | None = None  # card entry: the model hide/reveal use for covers under min_cover_side


@dataclass
class SpreadTrainConfig(PhotoRunConfig):
    """The spread-message model (``veil train spread``)."""
    arch: str = "spread"
    tag: str = "default"
    model: dict[str, Any] = field(default_factory=dict)   # builder kwargs (n_bits, grid, widths, ...)
    init_from: str | None = None
    init_only: list[str] = field(default_factory=list)
    data: str | None = None        # folder of training photos; None = synthetic covers only
    crop: int = 256
    crop_sizes: list[int] = field(default_factory=list)
    synthetic_prob: float = 0.15
    batch: int = 12
    steps: int = 2000
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    decay_from: float = 0.7
    attacks: list[str] = field(default_factory=list)  # training attacks (veil.attacks specs)
    attack_k: int = 2              # each batch is attacked by k of them; every image keeps its worst loss
    attack_start_err: float = 0.05  # curriculum: no attacks until the running bit error falls under this
    cover_weight: float = 0.05     # initial weight of the cover term
    adaptive: bool = True          # balance it by the running bit error (raised under err_low, lowered over err_high)
    err_low: float = 0.01
    err_high: float = 0.02
    adapt_rate: float = 0.01
    min_cover_weight: float = 1e-3
    max_cover_weight: float = 1e4
    cover_tau: float = 0.02        # flatness weighting of the cover MSE (losses.message); 0 = plain MSE
    ssim_weight: float = 2.0
    bit_weight: float = 0.25
    seed: int = 0
    threads: int = 0
    log_every: int = 25
    ckpt_every: int = 100
    calibrate: bool = True
    calib_samples: int = 96        # texts per attack
    calib_target: float = 0.97
    calib_attacks: list[str] = field(default_factory=list)
    calib_sizes: list[int] = field(default_factory=list)


@dataclass
class ImageTrainConfig(PhotoRunConfig):
    """Image-into-image hiding (stegnet, pixinpix)."""
    arch: str = "stegnet"
    tag: str = "default"
    model: dict[str, Any] = field(default_factory=dict)   # builder kwargs (secret_channels, widths, ...)
    init_from: str | None = None
    data: str | None = None        # folder of training photos (covers, and secrets unless secrets = "digits")
    secrets: str = "photos"        # photos | digits (the seed-002 MNIST-into-CIFAR case) | mixed
    digits: str | None = None      # digits .npy (veil data prepare); default: <data>/../digits/train.npy
    digits_prob: float = 0.3       # share of digit secrets when secrets = "mixed"
    grey_prob: float = 0.1         # share of colour secrets turned grey (so grey secrets work)
    crop: int = 64
    crop_sizes: list[int] = field(default_factory=list)
    synthetic_prob: float = 0.1
    batch: int = 32
    steps: int = 2000
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    decay_from: float = 0.6
    loss: str = "stegnet"          # stegnet (seed 003 eq. 7) | l2 (seed 002)
    cover_weight: float = 1.0
    secret_weight: float = 1.0
    cast_weight: float = 0.0       # colour-cast term (8x-downsampled CIE76 difference / 100)
    cover_psnr: float = 0.0        # > 0: steer cover_weight (from its initial value) to hold this training PSNR
    adapt_rate: float = 0.01       # ... multiplying or dividing it by (1 + adapt_rate) each step
    attacks: list[str] = field(default_factory=list)
    attack_prob: float = 0.5
    attack_max_chain: int = 1
    seed: int = 0
    threads: int = 0
    log_every: int = 25
    ckpt_every: int = 100
    half_weights: bool = False     # ship float16 weights (models of millions of parameters)


@dataclass
class SteganalyserConfig(RunConfig):
    """A learned steganalyser (xunet) against one veil model (``veil steganalyser train``)."""
    target: str = "stegnet"        # the veil model whose stego images it learns to catch
    arch: str = "xunet"
    tag: str = ""                  # default: the target's name ("qr_densenet.robust" -> "qr_densenet_robust")
    model: dict[str, Any] = field(default_factory=dict)
    data: str | None = None        # training photos (default: the corpus's train split)
    val: str | None = None         # held-out photos for the reported AUC (default: the corpus's val split)
    pairs: int = 600               # clean/stego pairs made from the training photos (random payloads, 8-bit)
    pair_size: int = 256           # they are made at this size (the size the AUC is measured at) ...
    crop: int = 128                # ... and each step trains on a random crop of them (same place in both)
    batch: int = 16                # pairs per step (the clean and the stego image of a pair in one batch)
    steps: int = 2000
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    decay_from: float = 0.5
    eval_crop: int = 256           # held-out AUC on these crops, as `veil eval steganalysis --crop 256`
    eval_per_image: int = 8
    seed: int = 0
    threads: int = 0
    log_every: int = 50
    ckpt_every: int = 250


@dataclass
class QRNetConfig(RunConfig):
    """The neural QR reader (``veil qrnet train``; seed 001)."""
    arch: str = "qrnet"
    tag: str = "default"
    model: dict[str, Any] = field(default_factory=lambda: {"variant": "robust"})   # builder kwargs
    data: str = "fresh"            # fresh: new codes every step | fixed: the seed's set of train_codes codes
    train_codes: int = 30000       # fixed: the seed's training set (segno, distinct train-split strings) ...
    val_codes: int = 10000         # ... and its validation set (distinct eval-split strings), both regenerated
    val_every: int = 0             # fixed: validation accuracy into the log every N steps (0: at the end only)
    segno_check: int = 1000        # fixed: codes of the set compared with segno's own (the rest is vectorised)
    batch: int = 128
    steps: int = 2000
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    decay_from: float = 1.0        # 1.0: constant learning rate (Keras' Adam as the seed ran it)
    augment: bool = True           # fresh: render and degrade each code (module size, quiet zone, rotation, ...)
    ramp: float = 0.0              # fresh: blur, noise and flip maxima grow linearly from 0 over this share of steps
    # Pixels per module, uniform. Larger codes are shrunk by the preparation anyway (and a big blur on them
    # costs time), so 5 covers them.
    module_px: list[float] = field(default_factory=lambda: [1.0, 5.0])
    quiet_max: float = 4.0         # quiet zone per side, modules, uniform 0..max (all zero in 30% of codes)
    level_prob: float = 0.5        # share with dark/light levels moved off 0/1 (dark up to 0.35, light from 0.65)
    blur_prob: float = 0.5
    blur_max: float = 2.2          # Gaussian blur sigma in module widths, uniform 0..max
    noise_prob: float = 0.6
    noise_max: float = 0.55        # Gaussian noise std on [0, 1], uniform 0..max
    reveal_prob: float = 0.15      # share rendered like `veil qr reveal --qr-out`: 128 px, 2-module border ...
    flip_max: float = 0.04         # ... with up to this share of the non-function modules flipped
    orient_weight: float = 1.0     # loss weights of the quarter-turn head, the data-bit head and the module grid
    bit_weight: float = 0.5
    module_weight: float = 1.0
    decoder_extra: int = 1024      # cheap noisy module grids the decoder also trains on each step (0: none) ...
    decoder_pool: int = 200000     # ... drawn from this many training codes made at the start ...
    decoder_steps: int = 1         # ... in this many decoder updates per step (the first with the rest of the loss)
    grid_noise: float = 1.5        # their logit noise std, uniform 0..max per code
    seed: int = 0
    threads: int = 1
    log_every: int = 50
    ckpt_every: int = 250


def recipe_path(recipe: str | Path) -> Path:
    """A recipe file: a path to a TOML file, or the name of a recipe shipped in the package (``veil/recipes``;
    ``qr_densenet.quiet`` or ``qr_densenet.quiet.toml``)."""
    from importlib import resources

    p = Path(recipe)
    if p.is_file():
        return p
    name = p.name.removesuffix(".toml")
    shipped = Path(str(resources.files("veil") / "recipes")) / f"{name}.toml"
    if p.parent == Path(".") and shipped.is_file():
        return shipped
    known = ", ".join(sorted(f.stem for f in shipped.parent.glob("*.toml")))
    raise InputError(f"no such recipe: {recipe} (a TOML file, or a shipped recipe: {known})")


def load_config(recipe: str | Path | None = None, overrides: dict[str, Any] | None = None,
                cls: type = QRTrainConfig):
    """Config flows one way: ``cls``'s dataclass defaults, then the recipe (a file or a shipped recipe's name, see
    :func:`recipe_path`), then ``overrides`` (the command line's flags; None = not given)."""
    values: dict[str, Any] = {}
    if recipe is not None:
        p = recipe_path(recipe)
        try:
            values.update(tomllib.loads(p.read_text()))
        except tomllib.TOMLDecodeError as e:
            raise InputError(f"bad recipe {p}: {e}") from None
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise InputError(f"unknown config keys: {', '.join(sorted(unknown))}")
    cfg = cls(**values)
    from ..attacks import parse_attack

    for spec in [*getattr(cfg, "attacks", []), *getattr(cfg, "calib_attacks", [])]:
        try:
            parse_attack(spec)
        except ValueError as e:
            raise InputError(f"bad attack in recipe: {e}") from None
    return cfg
