"""Every file veil writes goes through here: all at once or not at all.

A write fills a temporary file in the target's folder, flushes it to disk and renames it over the target, so a
crash, a full disk, Ctrl-C or SIGTERM (the CLI turns it into an exception) leaves the old file or none, never a
truncated one; two writers at once leave one whole file; and a target reached through a hard link is replaced,
never rewritten in place.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from .errors import InputError


def check_output_path(path: str | os.PathLike, force: bool = False, inputs=()) -> Path:
    """Refuse to overwrite an existing file unless ``force``, and any of the command's ``inputs`` even with it;
    check the folder exists."""
    p = Path(path)
    for i in inputs:
        if Path(i).resolve() == p.resolve():
            raise InputError(f"the output would overwrite the input {i}; choose another path")
    if p.exists() and not force:
        raise InputError(f"output exists: {p} (use --force to overwrite)")
    if p.exists() and p.is_dir():
        raise InputError(f"output is a directory: {p}")
    if not p.parent.exists():
        raise InputError(f"output folder does not exist: {p.parent}")
    return p


def write_atomic(path: str | os.PathLike, write, force: bool = False) -> Path:
    """``write(tmp_path)`` fills a temporary file beside ``path`` (same extension, so writers that go by it pick
    the right format), which is then flushed and renamed over ``path``. On any error or interrupt the temporary
    file is removed and ``path`` is as it was. An existing ``path`` is refused unless ``force``."""
    p = check_output_path(path, force)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".part" + p.suffix)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except OSError as e:
        raise InputError(f"cannot write {p}: {e}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return p


def write_bytes_atomic(path: str | os.PathLike, data: bytes, force: bool = False) -> Path:
    """:func:`write_atomic` of ``data``."""
    return write_atomic(path, lambda tmp: Path(tmp).write_bytes(data), force)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Replace ``path`` (a result, card, log or page veil owns) with ``text`` (UTF-8), atomically."""
    return write_bytes_atomic(path, text.encode("utf-8"), force=True)


def write_json(path: str | os.PathLike, obj, indent: int = 1) -> Path:
    """Replace ``path`` with ``obj`` as JSON (one trailing newline), atomically."""
    return write_text(path, json.dumps(obj, indent=indent) + "\n")
