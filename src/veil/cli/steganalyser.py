"""``veil steganalyser train --model MODEL``: train a learned steganalyser (xunet) against a veil model."""
from __future__ import annotations

from pathlib import Path


from .train import add_run_arguments
from . import options


def add_parser(sub) -> None:
    p = sub.add_parser("steganalyser", help="learned steganalysers: train one against a veil model")
    ssub = p.add_subparsers(dest="steganalyser_command", metavar="ACTION")
    ssub.required = True
    t = ssub.add_parser("train", help="train xunet on clean vs stego crops of one veil model")
    t.add_argument("--model", required=True,
                   help="the veil model to catch (e.g. stegnet, qr_densenet.robust; codec or stealth)")
    t.add_argument("--config", default=None, help="recipe file (TOML) with SteganalyserConfig keys")
    t.add_argument("--data", default=None, help="training photos (default: the corpus's train split)")
    t.add_argument("--val", default=None, help="held-out photos for the AUC (default: the corpus's val split)")
    t.add_argument("--steps", type=options.positive_int, default=None)
    t.add_argument("--pairs", type=options.positive_int, default=None, help="clean/stego pairs to make (default 600)")
    t.add_argument("--batch", type=options.positive_int, default=None)
    t.add_argument("--seed", type=options.seed, default=None)
    t.add_argument("--threads", type=options.positive_int, default=None)
    add_run_arguments(t, "run folder (default runs/xunet.<model>)", "copy the weights and card into the package")
    t.set_defaults(func=train_cmd)


def train_cmd(args) -> int:
    from ..data.corpus import default_dir
    from ..errors import InputError
    from ..registry import get_card
    from ..train.config import SteganalyserConfig, load_config
    from ..train.steganalyser import held_out_auc, tag_for, train_steganalyser, write_card
    from .train import command_line, finish_run, run_folder, run_training

    # the weightless image routes have no card: a stand-in with their name
    from ..api import WEIGHTLESS

    target = {"name": args.model, "task": "image"} if args.model in WEIGHTLESS else get_card(args.model, None)
    if target["task"] not in ("qr", "image"):
        raise InputError(f"{target['name']} does not hide anything: pick a qr or image model")
    overrides = {k: getattr(args, k) for k in ("steps", "pairs", "batch", "seed", "threads", "data", "val")}
    cfg = load_config(args.config, overrides | {"target": target["name"]}, cls=SteganalyserConfig)
    cfg.tag = cfg.tag or tag_for(target["name"])
    cfg.data = cfg.data or str(default_dir() / "train")
    cfg.val = cfg.val or str(default_dir() / "val")
    for what, d in (("training", cfg.data), ("held-out", cfg.val)):
        if not Path(d).is_dir():
            raise InputError(f"no {what} photos at {d}: run `make data` (or pass --data/--val)")
    out = run_folder(args.out, cfg, args.resume)
    result = run_training(train_steganalyser, cfg, out, args)
    model, state = result["model"], result["state"]
    metrics = held_out_auc(model, cfg)
    command = command_line(f"veil steganalyser train --model {target['name']}")
    metrics["command"] = f"veil eval steganalysis --clean {cfg.val} --crop {cfg.eval_crop} --per-image " \
                         f"{cfg.eval_per_image} --model {target['name']} --learned {cfg.arch}.{cfg.tag}"
    card = write_card(model, cfg, state, metrics, out, command)
    print(f"{card['name']}: AUC {metrics['auc']:.3f} (rank {metrics['auc_rank']:.3f}), TPR at 5% FPR "
          f"{metrics['tpr_at_5pct_fpr']:.3f} on {metrics['n_clean']} + {metrics['n_stego']} held-out crops "
          f"({state['step']} steps, {state['wall']:.0f} s)")
    finish_run(args, out, card, state)
    return 0
