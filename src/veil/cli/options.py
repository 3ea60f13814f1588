"""Flags and checks that the hiding commands (`veil hide`, `veil qr hide`) share."""
from __future__ import annotations

from pathlib import Path

LOSSLESS = (".png", ".bmp", ".tif", ".tiff", ".webp")


def add_strength_arguments(p, strength_help: str, payload: str) -> None:
    """--strength and --verify (one or the other: veil.api.check_hiding_options)."""
    p.add_argument("--strength", default=None, help=strength_help)
    p.add_argument("--verify", default=None, metavar="LIST",
                   help="comma-separated attacks the stego must survive, e.g. jpeg:50,blur:1,resize:0.5: picks the "
                        f"quietest strength after which the {payload} reads back through each (checked before writing)")


def describe_message(message: str | bytes) -> str:
    """'1 character', '12 characters', '4 bytes'."""
    n = len(message)
    unit = "byte" if isinstance(message, bytes) else "character"
    return f"{n} {unit}{'s' if n != 1 else ''}"


def stego_output(output: str, cover: str, force: bool) -> Path:
    """The stego file's path, checked before any work: not existing (unless ``force``), a lossless format, and
    not the cover itself."""
    from ..errors import InputError
    from ..imaging import check_output_path

    out = check_output_path(output, force)
    if out.suffix.lower() not in LOSSLESS:
        raise InputError(f"write the stego image losslessly (.png), not '{out.suffix or out.name}': lossy compression "
                         "at the first save costs the payload its margin")
    if Path(cover).resolve() == out.resolve():
        raise InputError("the output would overwrite the cover image; choose another path")
    return out
