"""``veil train qr``: train, calibrate and export a QR-hiding model from a recipe."""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

from . import options


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train models from a recipe")
    tsub = p.add_subparsers(dest="train_command", metavar="FAMILY")
    tsub.required = True
    q = tsub.add_parser("qr", help="train a QR-hiding model (qr_densenet, qr_baseline)")
    q.add_argument("--config", default=None,
                   help="recipe: a TOML file, or a shipped recipe's name (e.g. qr_densenet.quiet)")
    q.add_argument("--arch", default=None, help="architecture (overrides the recipe)")
    q.add_argument("--tag", default=None)
    add_data_arguments(q, "covers")
    q.add_argument("--init-from", default=None, dest="init_from",
                   help="start from released weights: a model name or a .safetensors file (fine-tuning)")
    q.add_argument("--steps", type=options.positive_int, default=None)
    q.add_argument("--batch", type=options.positive_int, default=None)
    q.add_argument("--crop", type=options.positive_int, default=None)
    q.add_argument("--seed", type=options.seed, default=None)
    q.add_argument("--qr-pool", type=options.positive_int, default=None, dest="qr_pool")
    q.add_argument("--calib-samples", type=options.positive_int, default=None, dest="calib_samples")
    q.add_argument("--no-calibrate", action="store_true", help="skip the residual-strength calibration")
    add_run_arguments(q)
    q.set_defaults(func=train_qr_cmd)

    i = tsub.add_parser("image", help="train an image-hiding model (stegnet, pixinpix)")
    i.add_argument("--config", default=None,
                   help="recipe: a TOML file, or a shipped recipe's name (e.g. stegnet.default)")
    i.add_argument("--arch", default=None, help="architecture (overrides the recipe)")
    i.add_argument("--tag", default=None)
    add_data_arguments(i, "images")
    i.add_argument("--init-from", default=None, dest="init_from", help="start from released weights")
    i.add_argument("--steps", type=options.positive_int, default=None)
    i.add_argument("--batch", type=options.positive_int, default=None)
    i.add_argument("--crop", type=options.positive_int, default=None)
    i.add_argument("--seed", type=options.seed, default=None)
    add_run_arguments(i)
    i.set_defaults(func=train_image_cmd)
    add_spread_parser(tsub)


def add_data_arguments(p, what: str) -> None:
    """The training photos' flags of the families that crop photos (qr, image, spread)."""
    p.add_argument("--data", default=None,
                   help=f"training photos: a folder tree (JPEG/PNG/WebP, read recursively) or a list file; "
                        f"'synthetic' for synthetic {what} only (default: the recipe's, the packaged corpus)")
    p.add_argument("--val-share", type=options.share, default=None, dest="val_share",
                   help="hold out this share of the photos, whole files, listed in OUT/val_files.txt (default 0)")
    p.add_argument("--workers", type=options.count, default=None,
                   help="decode and crop the photos in this many processes (default 0: in the training process)")


def add_spread_parser(tsub) -> None:
    s = tsub.add_parser("spread", help="train the spread-message model (veil hide / reveal)")
    s.add_argument("--config", default=None,
                   help="recipe: a TOML file, or a shipped recipe's name (e.g. spread.default)")
    s.add_argument("--tag", default=None)
    add_data_arguments(s, "covers")
    s.add_argument("--init-from", default=None, dest="init_from", help="start from released weights")
    s.add_argument("--steps", type=options.positive_int, default=None)
    s.add_argument("--batch", type=options.positive_int, default=None)
    s.add_argument("--crop", type=options.positive_int, default=None)
    s.add_argument("--seed", type=options.seed, default=None)
    s.add_argument("--threads", type=options.positive_int, default=None)
    s.add_argument("--calib-samples", type=options.positive_int, default=None, dest="calib_samples")
    s.add_argument("--no-calibrate", action="store_true", help="skip the residual-strength calibration")
    add_run_arguments(s)
    s.set_defaults(func=train_spread_cmd)


def train_spread_cmd(args) -> int:
    from ..train.calibrate import calibrate_spread
    from ..train.config import SpreadTrainConfig, load_config
    from ..train.export import write_card
    from ..train.spread import train_spread

    overrides = {k: getattr(args, k) for k in ("tag", "steps", "batch", "crop", "seed", "threads", "calib_samples",
                                                "init_from", "val_share", "workers")}
    if args.no_calibrate:
        overrides["calibrate"] = False
    cfg = load_config(args.config, overrides, cls=SpreadTrainConfig)
    out = _resolve_run(args, cfg)
    result = run_training(train_spread, cfg, out, args)
    model, state = result["model"], result["state"]
    calibration = None
    if cfg.calibrate:
        calibration = calibrate_spread(model, cfg.data, cfg.calib_samples, cfg.calib_target, attacks=cfg.calib_attacks,
                                       sizes=cfg.calib_sizes or None, log=log, val_share=cfg.val_share)
    finish_run(args, out, write_card(model, cfg, state, calibration, out, _command(args, "spread", cfg)), state)
    return 0


def _resolve_run(args, cfg) -> Path:
    """Training photos and run folder of a command line; refuses to clobber a run without --resume."""
    from ..data.corpus import default_dir
    from ..errors import InputError

    if args.data == "synthetic":
        cfg.data = None
    elif args.data is not None:
        cfg.data = args.data
    elif cfg.data == "default":
        cfg.data = str(default_dir() / "train")
    if cfg.data is not None and not Path(cfg.data).is_dir():
        raise InputError(f"no training photos at {cfg.data}: run `make data` (or pass --data DIR)")
    return run_folder(args.out, cfg, args.resume)


def log(message: str) -> None:
    """Training's progress lines go to stderr."""
    print(message, file=sys.stderr)


def run_training(train, cfg, out: Path, args) -> dict:
    """``train(cfg, out, resume, progress, log)`` with the command line's flags (every family's trainer has that
    signature); a missing file or a bad value in the recipe is one line and exit 2."""
    from ..errors import InputError

    for key in ("device", "amp"):          # the run flags every family shares override the recipe
        if getattr(args, key, None) is not None:
            setattr(cfg, key, getattr(args, key))
    try:
        result = train(cfg, out, resume=args.resume, progress=not args.no_progress, log=log)
    except (FileNotFoundError, ValueError) as e:
        raise InputError(str(e)) from None
    if not result.get("main", True):     # a torchrun job: rank 0 alone calibrates, exports and releases
        raise SystemExit(0)
    return result


def finish_run(args, out: Path, card: dict, state: dict) -> None:
    """The end of every training command: what was exported where, and ``--release``."""
    log(f"exported {card['name']} -> {out} ({state['step']} steps, {state['wall']:.0f} s)")
    release_run(args, out, card["name"])


def release_run(args, out: Path, name: str) -> None:
    """``--release [DIR]``: copy the exported weights and card of ``name`` from the run folder ``out``."""
    from ..train.export import release

    if args.release is not None:
        path = release(out, name, args.release or None)
        print(f"released {name} -> {path.parent}", file=sys.stderr)


def add_run_arguments(p, out_help: str = "run folder (checkpoints, log, exported weights and card)",
                      release_help: str = "copy the exported weights and card into DIR (default: the user's model "
                                          "folder, $VEIL_WEIGHTS or ~/.cache/veil/weights, where veil finds them; "
                                          "src/veil in a checkout: the package)") -> None:
    """The run-folder flags every training command shares (see :func:`run_folder`)."""
    p.add_argument("--out", default=None, help=out_help)
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    p.add_argument("--release", nargs="?", const="", default=None, metavar="DIR", help=release_help)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--device", default=None, choices=("auto", "cpu", "cuda"),
                   help="where to train (default auto: the GPU when torch sees one, else the CPU)")
    p.add_argument("--amp", default=None, choices=("auto", "none", "bf16", "fp16"),
                   help="mixed precision (default auto: bf16 on a GPU, none on the CPU)")


def run_folder(out: str | None, cfg, resume: bool) -> Path:
    """The run folder (default runs/<arch>.<tag>); refuses to clobber a run there without --resume."""
    from ..errors import InputError

    path = Path(out or f"runs/{cfg.arch}.{cfg.tag}")
    if (path / "last.pt").exists() and not resume:
        raise InputError(f"{path} holds a run already: pass --resume to continue it or --out for a new one")
    return path


def command_line(fallback: str) -> str:
    """The command as the user typed it (for cards), or ``fallback`` when veil was not run as ``veil``."""
    if sys.argv[0].endswith("veil"):
        return "veil " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    return fallback


def _command(args, family: str, cfg) -> str:
    return command_line(f"veil train {family} " + (f"--config {args.config}" if args.config else f"--arch {cfg.arch}"))


def train_image_cmd(args) -> int:
    from ..train.config import ImageTrainConfig, load_config
    from ..train.export import write_card
    from ..train.image import train_image

    overrides = {k: getattr(args, k) for k in ("arch", "tag", "steps", "batch", "crop", "seed", "init_from",
                                                "val_share", "workers")}
    cfg = load_config(args.config, overrides, cls=ImageTrainConfig)
    out = _resolve_run(args, cfg)
    result = run_training(train_image, cfg, out, args)      # no photos / digits, a bad secrets kind: exit 2
    model, state = result["model"], result["state"]
    finish_run(args, out, write_card(model, cfg, state, None, out, _command(args, "image", cfg)), state)
    return 0


def train_qr_cmd(args) -> int:
    from ..train.calibrate import calibrate_strength
    from ..train.config import load_config
    from ..train.export import write_card
    from ..train.qr import train_qr

    overrides = {k: getattr(args, k) for k in ("arch", "tag", "steps", "batch", "crop", "seed", "qr_pool",
                                                "calib_samples", "init_from", "val_share", "workers")}
    if args.no_calibrate:
        overrides["calibrate"] = False
    cfg = load_config(args.config, overrides)
    out = _resolve_run(args, cfg)
    result = run_training(train_qr, cfg, out, args)
    model, state = result["model"], result["state"]
    calibration = None
    if cfg.calibrate:
        calibration = calibrate_strength(model, cfg.data, cfg.calib_samples, cfg.calib_target,
                                         attacks=cfg.calib_attacks, sizes=cfg.calib_sizes or None, log=log,
                                         val_share=cfg.val_share)
    finish_run(args, out, write_card(model, cfg, state, calibration, out, _command(args, "qr", cfg)), state)
    return 0
