"""``veil eval disguise``: the command line of veil.eval.disguise (its parser, and the run that prints)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ..eval.disguise import evaluate, figure
from ..files import write_json
from . import options


def add_parser(esub) -> None:
    from ..disguise import DisguiseConfig

    d = DisguiseConfig()
    p = esub.add_parser("disguise", help="seed 004: every disguise image through every generator (SSIM/PSNR matrix)")
    p.add_argument("--size", type=int, default=d.size, help=f"square side (default {d.size}, the paper's)")
    p.add_argument("--steps", type=int, default=d.steps, help=f"training steps per pair (default {d.steps})")
    p.add_argument("--rec-weight", type=float, default=d.rec_weight, help=f"default {d.rec_weight:g}")
    p.add_argument("--adv-weight", type=float, default=d.adv_weight, help=f"default {d.adv_weight:g}")
    p.add_argument("--activation", default=d.activation, choices=("sin", "tanh"),
                   help="the generator's hidden units (default sin; tanh for the comparison in docs/disguise.md)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--threads", type=int, default=2, help="CPU threads (default 2); recorded with the timings")
    p.add_argument("--name", default="disguise", help="results/<name>.json and .png (default disguise)")
    p.add_argument("--out-dir", default="results")
    p.add_argument("--no-figures", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    options.check_plotting()
    import torch

    from ..disguise import DisguiseConfig
    from ..errors import InputError

    if args.threads < 1:
        raise InputError(f"--threads {args.threads}: at least 1")
    if not args.name or "/" in args.name or args.name.startswith("."):
        raise InputError(f"--name {args.name!r}: a plain file name")
    torch.set_num_threads(args.threads)
    cfg = DisguiseConfig(size=args.size, steps=args.steps, rec_weight=args.rec_weight, adv_weight=args.adv_weight,
                         activation=args.activation, seed=args.seed)
    cfg.check()
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    res, images, shown = evaluate(cfg, log=lambda m: print(m, file=sys.stderr))
    # the timings depend on what else ran: the threads and the machine's load are kept with them
    end = os.getloadavg()[0] if load is not None else None
    res.update(torch_threads=args.threads, load_average_1min={"start": load, "end": end},
               command=f"veil eval disguise --size {cfg.size} --steps {cfg.steps} --rec-weight {cfg.rec_weight:g} "
                       f"--adv-weight {cfg.adv_weight:g} --activation {cfg.activation} --seed {cfg.seed} "
                       f"--threads {args.threads} --name {args.name}")
    write_json(out_dir / f"{args.name}.json", res)
    if not args.no_figures:
        figure(res, images, shown, out_dir / f"{args.name}.png")
    s = res["summary"]
    print(f"matched SSIM {', '.join(f'{v:.3f}' for v in s['matched_ssim'])} (min {s['matched_ssim_min']:.3f}); "
          f"mismatched SSIM max {s['mismatched_ssim_max']:.3f}, |corr| max {s['mismatched_abs_corr_max']:.2f}; "
          f"key alone |corr| min {s['key_alone_abs_corr_min']:.2f}; "
          f"training {min(s['train_seconds']):.0f}-{s['train_seconds_max']:.0f} s a pair on {args.threads} thread(s) "
          f"-> {out_dir / args.name}.json")
    return 0
