"""``veil disguise train`` and ``veil disguise reveal``: seed 004's image disguise (an ordinary image plus a
generator key give the secret image back)."""
from __future__ import annotations

import sys

from . import options


def add_parser(sub) -> None:
    from ..disguise import DisguiseConfig

    d = DisguiseConfig()
    p = sub.add_parser("disguise", help="turn an ordinary image into a secret one with a trained generator (key)")
    dsub = p.add_subparsers(dest="disguise_command", metavar="ACTION")
    dsub.required = True

    t = dsub.add_parser("train", help="train a key that turns DISGUISE into SECRET")
    t.add_argument("--disguise", required=True, help="the ordinary image that will be sent (keep it as PNG)")
    t.add_argument("--secret", required=True, help="the image the key gives back")
    t.add_argument("-o", "--output", required=True, help="key file to write (KEY.veil)")
    t.add_argument("--size", type=options.positive_int, default=None,
                   help=f"square side the secret comes back at (default {d.size})")
    t.add_argument("--color", action="store_true", default=None,
                   help="colour (3 channels; the key is 3 times larger); default grey")
    t.add_argument("--steps", type=options.positive_int, default=None, help=f"training steps (default {d.steps})")
    t.add_argument("--hidden", type=options.positive_int, default=None,
                   help=f"hidden units (default {d.hidden}, the paper's)")
    t.add_argument("--lr", type=options.positive_float, default=None, help=f"Adam learning rate (default {d.lr})")
    t.add_argument("--rec-weight", type=options.weight, default=None,
                   help=f"weight of the L1 reconstruction term next to the WGAN loss (default {d.rec_weight:g}; "
                        "0 = pure WGAN)")
    t.add_argument("--adv-weight", type=options.weight, default=None,
                   help=f"weight of the WGAN generator loss (default {d.adv_weight:g})")
    t.add_argument("--seed", type=options.seed, default=None, help=f"default {d.seed}")
    t.add_argument("--config", default=None,
                   help="recipe: a TOML file of DisguiseConfig keys (flags given here override it)")
    t.add_argument("--passphrase-file", default=None, help="encrypt the key with the passphrase in this text file")
    t.add_argument("--threads", type=options.positive_int, default=2, help="CPU threads (default 2)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--force", action="store_true", help="overwrite the key file if it exists")
    t.set_defaults(func=train)

    r = dsub.add_parser("reveal", help="give DISGUISE to the key's generator: the secret image")
    r.add_argument("disguise", help="the disguise image the key was trained on")
    r.add_argument("key", help="key file (KEY.veil)")
    r.add_argument("-o", "--output", required=True, help="image to write (.png)")
    r.add_argument("--no-check", action="store_true",
                   help="reveal even when the image is not the one the key was trained on")
    r.add_argument("--passphrase-file", default=None, help="the key's passphrase, when it is encrypted")
    r.add_argument("--threads", type=options.positive_int, default=2, help="CPU threads (default 2)")
    r.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    r.set_defaults(func=reveal)


def _threads(n: int) -> None:
    import torch

    from ..errors import InputError

    if n < 1:
        raise InputError(f"--threads {n}: at least 1")
    torch.set_num_threads(n)


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


def train(args) -> int:
    from ..api import disguise_train
    from ..files import check_output_path
    from ..imaging import load_image
    from ..payloads.keyfile import read_passphrase
    from ..disguise import DisguiseConfig

    out = check_output_path(args.output, args.force, (args.disguise, args.secret))
    from ..train.config import load_config

    overrides = {k: getattr(args, k) for k in ("size", "color", "steps", "hidden", "lr", "rec_weight", "adv_weight",
                                               "seed")}
    cfg = load_config(args.config, overrides, cls=DisguiseConfig)     # defaults -> recipe -> flags
    cfg.check()                   # before the images and the passphrase: a bad flag is the first thing said
    _threads(args.threads)
    passphrase = read_passphrase(args.passphrase_file) if args.passphrase_file else None
    disguise, secret = load_image(args.disguise), load_image(args.secret)
    key, info = disguise_train(disguise, secret, cfg, passphrase=passphrase, progress=not args.quiet)
    from ..files import write_bytes_atomic

    write_bytes_atomic(out, key, force=args.force)
    raw = cfg.size * cfg.size * (3 if cfg.color else 1)
    print(f"trained {cfg.steps} steps in {info['seconds']:.0f} s: the disguise image gives the secret back at "
          f"SSIM {info['ssim']:.3f} / PSNR {info['psnr']:.1f} dB; key {_mb(len(key))} "
          f"({len(key) / raw:.0f}x the {_mb(raw)} of 8-bit pixels it gives back){', encrypted' if passphrase else ''}"
          f" -> {out}", file=sys.stderr)
    return 0


def reveal(args) -> int:
    from ..api import DisguiseMismatch, disguise_reveal
    from ..files import check_output_path
    from ..imaging import load_image, save_image
    from ..payloads.keyfile import read_key, read_passphrase

    out = check_output_path(args.output, args.force, (args.disguise, args.key))
    _threads(args.threads)
    passphrase = read_passphrase(args.passphrase_file) if args.passphrase_file else None
    key = read_key(args.key, passphrase)
    img = load_image(args.disguise)
    try:
        secret = disguise_reveal(img, key, check=not args.no_check)
    except DisguiseMismatch as e:
        print(f"veil: warning: {e}; nothing written (--no-check reveals anyway)", file=sys.stderr)
        return 1
    save_image(secret, out, force=args.force)
    print(f"revealed a {secret.width}x{secret.height} {'colour' if secret.mode == 'RGB' else 'grey'} image -> {out}",
          file=sys.stderr)
    return 0
