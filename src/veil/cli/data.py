"""``veil data prepare``: cache the cover photo corpus of shared/DATA.md outside the repository."""
from __future__ import annotations

import sys


def add_parser(sub) -> None:
    p = sub.add_parser("data", help="prepare training and validation data")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION")
    dsub.required = True
    q = dsub.add_parser("prepare", help="collect the photo corpus into a cache folder (train/val split)")
    q.add_argument("--out", default=None, help="cache folder (default: $VEIL_DATA or ~/.cache/veil/covers)")
    q.set_defaults(func=prepare_cmd)


def prepare_cmd(args) -> int:
    from ..data.corpus import prepare
    from ..errors import InputError

    try:
        prepare(args.out, log=lambda m: print(m, file=sys.stderr))
    except RuntimeError as e:
        raise InputError(str(e)) from None
    return 0
