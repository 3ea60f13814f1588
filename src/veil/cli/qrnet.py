"""``veil qrnet read|train|eval|calibrate``: the neural QR reader (seed 001) that reads the six digits of a
version-1 code, or answers that an image holds none."""
from __future__ import annotations

import sys
from pathlib import Path

from . import options
from .train import add_run_arguments


def add_parser(sub) -> None:
    p = sub.add_parser("qrnet", help="neural QR reader: read the 6 digits of a version-1 QR code with a CNN")
    qsub = p.add_subparsers(dest="qrnet_command", metavar="ACTION")
    qsub.required = True

    r = qsub.add_parser("read", help="print each file's six digits (path, a tab, the digits); exit 1 if a file "
                                     "holds no six-digit code or cannot be read, 2 if no file can be read")
    r.add_argument("files", nargs="+", metavar="FILE", help="images of version-1 QR codes holding 6 digits")
    r.add_argument("--model", default=None, help="qrnet (default, any size/rotation/quality) or qrnet.paper")
    r.add_argument("--threads", type=options.positive_int, default=None, help="torch threads (default: torch's)")
    r.add_argument("--json", action="store_true",
                   help='one JSON object per file and line: {"file", "digits" (null: no code), "score"} '
                        '(the presence score; "error" for a file that cannot be read)')
    r.set_defaults(func=read_cmd)

    t = qsub.add_parser("train", help="train qrnet (or the seed's reproduction) from its recipe")
    t.add_argument("--model", default="qrnet", help="qrnet (recipe qrnet.default) or qrnet.paper")
    t.add_argument("--config", default=None,
                   help="recipe: a TOML file with QRNetConfig keys, or a shipped recipe's name (default: the model's)")
    t.add_argument("--steps", type=options.positive_int, default=None)
    t.add_argument("--batch", type=options.positive_int, default=None)
    t.add_argument("--lr", type=options.positive_float, default=None)
    t.add_argument("--seed", type=options.seed, default=None)
    t.add_argument("--threads", type=options.positive_int, default=None, help="torch threads (recipes use 1)")
    t.add_argument("--width", type=options.positive_int, default=None,
                   help="override the model's width (tiny test runs)")
    t.add_argument("--hidden", type=options.positive_int, default=None,
                   help="override the robust reader's hidden units")
    t.add_argument("--train-codes", type=options.positive_int, default=None, dest="train_codes",
                   help="the seed's training set size")
    t.add_argument("--val-codes", type=options.positive_int, default=None, dest="val_codes",
                   help="the seed's validation set size")
    t.add_argument("--decoder-pool", type=options.positive_int, default=None, dest="decoder_pool",
                   help="codes made for the robust decoder's practice grids")
    add_run_arguments(t, "run folder (default runs/<model>)", "copy the weights and card into the package")
    t.set_defaults(func=train_cmd)

    e = qsub.add_parser("eval", help="accuracy on fresh codes, robustness against noise and blur vs zxing-cpp")
    e.add_argument("--model", action="append", default=None,
                   help="model(s) to evaluate (repeatable; default qrnet and qrnet.paper)")
    e.add_argument("--n", type=options.positive_int, default=10000, help="fresh clean codes (default 10000)")
    e.add_argument("--sweep-n", type=options.positive_int, default=1000, dest="sweep_n",
                   help="codes per noise / blur level")
    e.add_argument("--reveal-n", type=options.count, default=300, dest="reveal_n",
                   help="stego images whose `veil qr reveal --qr-out` image is read (0: skip)")
    e.add_argument("--bench-n", type=options.count, default=1000, dest="bench_n",
                   help="PNG files timed through `veil qrnet read` (0: skip)")
    e.add_argument("--no-code-n", type=options.count, default=2000, dest="no_code_n",
                   help="crops of held-out photos (and a share of it in noise, flat, tiny, synthetic and other-QR "
                        "images) that must get 'no code' (0: skip)")
    e.add_argument("--seed", type=options.seed, default=1, help="draws the fresh codes (the recipes train with seed 0)")
    e.add_argument("--threads", type=options.positive_int, default=1, help="torch threads (default 1)")
    e.add_argument("--out", default="results/qrnet.json", help="results JSON (the plot goes beside it)")
    e.add_argument("--no-plot", action="store_true")
    options.add_card_argument(e)
    e.set_defaults(func=eval_cmd)

    c = qsub.add_parser("calibrate", help="set the presence threshold under which `read` answers 'no code'")
    c.add_argument("--model", default="qrnet", help="qrnet (default) or qrnet.paper (which uses qrnet's presence)")
    c.add_argument("--n", type=options.positive_int, default=10000,
                   help="training-split codes, and crops of training photos (default 10000)")
    c.add_argument("--seed", type=options.seed, default=0, help="draws the calibration images")
    c.add_argument("--threads", type=options.positive_int, default=1, help="torch threads (default 1)")
    options.add_card_argument(c)
    c.set_defaults(func=calibrate_cmd)


def read_cmd(args) -> int:
    """Each file's six digits on stdout (``FILE<TAB>DIGITS``, or one JSON object a line with ``--json``), in the
    order given. A file whose presence score is under the model's threshold (no six-digit code in it) gets one
    line on stderr and nothing on stdout; so does a file that cannot be read. Exit 0: every file read; 1: some
    file held no code or could not be read; 2: no file could be read."""
    import json
    import math

    import numpy as np
    import torch

    from ..errors import InputError
    from ..imaging import load_image, pil_to_tensor
    from ..registry import get_model

    if args.threads:
        torch.set_num_threads(args.threads)
    model = get_model(args.model, "qrnet")
    names, images, errors = [], [], {}
    for f in args.files:
        try:
            img = load_image(f)
            if img.mode == "L":          # grey codes stay one channel (no RGB copy)
                images.append(torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0)[None])
            else:
                images.append(pil_to_tensor(img))
            names.append(f)
        except InputError as e:
            errors[f] = str(e)
    digits, scores = model.detect(images) if images else ([], torch.zeros(0))
    threshold = model.presence_threshold
    found = {n: (d if threshold is None or s >= threshold else None, s)
             for n, d, s in zip(names, digits, scores.tolist())}
    out, missing = [], 0
    for f in args.files:             # in the order given (a file named twice is read twice)
        if f in errors:
            print(f"veil: error: {errors[f]}", file=sys.stderr)
            if args.json:
                out.append(json.dumps({"file": f, "digits": None, "score": None, "error": errors[f]}))
            continue
        d, s = found[f]
        if d is None:
            missing += 1
            print(f"veil: {f}: no six-digit QR code found", file=sys.stderr)
        if args.json:
            out.append(json.dumps({"file": f, "digits": d, "score": None if math.isnan(s) else round(s, 4)}))
        elif d is not None:
            out.append(f"{f}\t{d}")
    sys.stdout.write("".join(line + "\n" for line in out))
    if errors and not names:
        return 2
    return 1 if errors or missing else 0


def _recipe(model: str) -> str:
    """The shipped recipe of a qrnet model name (veil/recipes/<arch.tag>.toml)."""
    from ..registry import resolve_name

    return resolve_name(model, "qrnet")


def train_cmd(args) -> int:
    from ..errors import InputError
    from ..registry import resolve_name
    from ..train.config import QRNetConfig, load_config
    from ..train.qrnet import train_qrnet, write_card
    from .train import command_line, finish_run, run_folder, run_training

    name = resolve_name(args.model, "qrnet")
    if name not in ("qrnet.default", "qrnet.paper") and args.config is None:
        raise InputError(f"unknown qrnet model '{args.model}': qrnet or qrnet.paper (or pass --config)")
    overrides = {k: getattr(args, k) for k in ("steps", "batch", "lr", "seed", "threads", "train_codes", "val_codes",
                                               "decoder_pool")}
    cfg = load_config(args.config or _recipe(name), overrides, cls=QRNetConfig)
    for key in ("width", "hidden"):
        if getattr(args, key) is not None:
            cfg.model = {**cfg.model, key: getattr(args, key)}
    out = run_folder(args.out, cfg, args.resume)
    result = run_training(train_qrnet, cfg, out, args)
    model, state = result["model"], result["state"]
    extra = {"codes_generation_s": round(result["gen_s"], 1),
             "wall_time_with_generation_s": round(state["wall"] + result["gen_s"], 1)}
    if "val" in result:
        extra["validation"] = result["val"]
    command = command_line(f"veil qrnet train --model {name}")
    card = write_card(model, cfg, state, out, command, extra)
    msg = f"{card['name']}: {state['step']} steps in {state['wall']:.0f} s"
    if "val" in result:
        msg += (f"; validation on {result['val']['n']} held-out codes: {result['val']['per_digit']:.4f} per digit, "
                f"{result['val']['exact']:.4f} all six")
    print(msg)
    finish_run(args, out, card, state)
    return 0


def eval_cmd(args) -> int:
    import torch

    from ..errors import InputError
    from ..eval.qrnet import evaluate

    if not args.no_plot:
        options.check_plotting()
    torch.set_num_threads(max(1, args.threads))
    for k in ("n", "sweep_n"):
        if getattr(args, k) < 1:
            raise InputError(f"--{k.replace('_', '-')} must be at least 1")
    models = args.model or ["qrnet", "qrnet.paper"]
    evaluate(models, n=args.n, sweep_n=args.sweep_n, reveal_n=args.reveal_n, bench_n=args.bench_n,
             no_code_n=args.no_code_n, seed=args.seed, out=Path(args.out), plot=not args.no_plot, card=args.card,
             log=lambda m: print(m, file=sys.stderr), bench_read=bench_read)
    return 0


def calibrate_cmd(args) -> int:
    import torch

    from ..errors import InputError
    from ..eval.qrnet import calibrate_presence

    torch.set_num_threads(max(1, args.threads))
    if args.n < 10:
        raise InputError("--n must be at least 10")
    calibrate_presence(args.model, n=args.n, seed=args.seed, card=args.card, log=lambda m: print(m, file=sys.stderr))
    return 0


def bench_read(model_name: str, mats, strings: list[str]) -> dict:
    """Time ``veil qrnet read`` on PNG files of ``mats`` (4 px a module, 4-module quiet zone, 8-bit grey) in one
    call, in this process: file reading, decoding and printing included, model loading excluded."""
    import argparse
    import contextlib
    import io
    import tempfile
    import time

    import numpy as np
    import torch
    from PIL import Image

    from ..data import qr_digits as qd
    from ..eval.qrnet import SWEEP_PX, SWEEP_QUIET, _acc
    from ..registry import get_model

    parser = argparse.ArgumentParser(prog="veil")
    add_parser(parser.add_subparsers())

    get_model(model_name, "qrnet")               # loaded (and cached) before the clock starts
    with tempfile.TemporaryDirectory() as d:
        files = []
        for i, m in enumerate(mats):
            f = Path(d) / f"code_{i:05d}.png"
            Image.fromarray((qd.render(m, SWEEP_PX, (SWEEP_QUIET,) * 4) * 255).astype(np.uint8), "L").save(f)
            files.append(str(f))
        buf = io.StringIO()
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(buf):
            args = parser.parse_args(["qrnet", "read", "--model", model_name, *files])
            rc = args.func(args)
        dt = time.perf_counter() - t0
    answered = dict(line.split("\t", 1) for line in buf.getvalue().splitlines())
    got = [answered.get(f) for f in files]
    return {"model": model_name, "files": len(files), "seconds": round(dt, 3), "codes_per_s": round(len(files) / dt, 1),
            "exit_code": rc, "exact": _acc(got, strings)["exact"], "torch_threads": torch.get_num_threads(),
            "image": "116x116 8-bit grey PNG (4 px a module, 4-module quiet zone)"}
