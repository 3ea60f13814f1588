"""Many inputs in one call (``veil reveal``, ``veil qr reveal``, ``veil image reveal``, ``veil analyze``, and
``veil hide`` / ``veil qr hide`` with a manifest of covers and texts): files as given and folders searched
recursively for images, decoded ahead of the model in a thread, one result per input
(JSON Lines with ``--json``: ``{"file": ..., <result>}`` or ``{"file": ..., "error": "one line"}``), a progress bar
and a summary on stderr. One bad file is reported on its line and the batch goes on. Exit code: 2 if any input
failed, else 1 if any had nothing hidden, else 0.

One file (not a folder) keeps the command's single-file behaviour."""
from __future__ import annotations

import contextvars
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif", ".avif")
AHEAD = 2     # images decoded ahead of the one the model works on (memory: AHEAD + 1 images at a time)


def is_batch(paths: list[str]) -> bool:
    return len(paths) != 1 or Path(paths[0]).is_dir()


def expand(paths: list[str]) -> list[tuple[str, Path | None]]:
    """[(file, its path relative to the folder it was found in, or None when given as a file)], folders expanded
    recursively to their image files in sorted order. InputError when that finds nothing."""
    out: list[tuple[str, Path | None]] = []
    for p in paths:
        q = Path(p)
        if q.is_dir():
            found = sorted(f for f in q.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
            out += [(str(f), f.relative_to(q)) for f in found]
        else:
            out.append((p, None))
    if not out:
        from ..errors import InputError

        raise InputError(f"no image files in {', '.join(paths)}")
    return out


def _dump(doc: dict) -> str:
    utf8 = (sys.stdout.encoding or "").lower().replace("-", "") == "utf8"
    return json.dumps(doc, ensure_ascii=not utf8)        # \u escapes are exact in any terminal encoding


def run(paths: list[str], work, as_json: bool, line=None, what: str = "found") -> int:
    """Apply ``work(file, image, rel) -> dict`` to every image of ``paths`` (``rel``: its path below the folder it
    was found in, or None). The dict is the result; ``"found": False`` in it counts as nothing hidden.
    ``line(doc) -> str`` prints a result without ``--json`` (errors go to stderr)."""
    return run_items(expand(paths), work, as_json, line, what)


def read_manifest(path: str) -> list[dict]:
    """The rows of a manifest (``-``: stdin): JSON Lines of objects, or CSV with a header row; each row has ``file``
    and ``text`` (or ``hex``), and may have ``output``. A malformed manifest is InputError (nothing is done)."""
    import csv
    import io

    from ..errors import InputError

    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read the manifest {path}: {e}") from None
    lines = [x for x in text.splitlines() if x.strip()]
    if not lines:
        raise InputError(f"the manifest {path} is empty")
    if lines[0].lstrip().startswith("{"):
        rows = []
        for i, x in enumerate(lines, 1):
            try:
                row = json.loads(x)
            except json.JSONDecodeError as e:
                raise InputError(f"manifest line {i}: not JSON ({e.msg})") from None
            if not isinstance(row, dict):
                raise InputError(f"manifest line {i}: not a JSON object")
            rows.append(row)
    else:
        rows = list(csv.DictReader(io.StringIO(text)))
    for i, row in enumerate(rows, 1):
        if not isinstance(row.get("file"), str) or not row["file"]:
            raise InputError(f"manifest row {i}: no \"file\"")
        if ("text" in row) == ("hex" in row) or not isinstance(row.get("text", row.get("hex")), str):
            raise InputError(f"manifest row {i}: give \"text\" or \"hex\" (one of them)")
    return rows


def run_items(items: list[tuple[str, object]], work, as_json: bool, line=None, what: str = "found") -> int:
    """:func:`run` on (file, context) pairs: ``work(file, image, context)``."""
    from tqdm.auto import tqdm

    from ..errors import VeilError
    from ..imaging import load_image

    def load(f):
        try:
            return load_image(f), None
        except VeilError as e:
            return None, str(e)

    counts = {"done": 0, "none": 0, "failed": 0}
    with ThreadPoolExecutor(1) as pool, tqdm(total=len(items), unit="file", leave=False,
                                             disable=len(items) < 2) as bar:
        ahead = [pool.submit(contextvars.copy_context().run, load, f) for f, _ in items[:AHEAD + 1]]
        for i, (f, rel) in enumerate(items):
            img, err = ahead[i].result()
            ahead[i] = None
            if i + AHEAD + 1 < len(items):
                ahead.append(pool.submit(contextvars.copy_context().run, load, items[i + AHEAD + 1][0]))
            doc = {"file": f}
            if err is None:
                try:
                    doc.update(work(f, img, rel))
                except VeilError as e:
                    err = str(e)
            del img
            if err is not None:
                doc = {"file": f, "error": err}
                counts["failed"] += 1
            elif doc.get("found", True) is False:
                counts["none"] += 1
            else:
                counts["done"] += 1
            if as_json:
                print(_dump(doc), flush=True)
            elif err is not None:
                bar.clear()
                print(f"veil: error: {f}: {err}", file=sys.stderr, flush=True)
            else:
                print(line(doc) if line else _dump(doc), flush=True)
            bar.update()
    nothing = f", {counts['none']} with nothing {what}" if counts["none"] else ""
    print(f"veil: {len(items)} file{'s' if len(items) != 1 else ''}: {counts['done']} {what}{nothing}, "
          f"{counts['failed']} failed",
          file=sys.stderr)
    return 2 if counts["failed"] else 1 if counts["none"] else 0
