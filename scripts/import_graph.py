"""The import graph of ``src/veil``: every ``import`` (module level and inside functions, since a lazy import is still
a dependency), its cycles, and the imports that go up the layer order of docs/architecture.md.

    python scripts/import_graph.py [--json]

Prints the cycles (strongly connected groups of modules), the upward imports and the line count per package.
"""
from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# Lower numbers sit lower: a module may import only from its own layer or below.
LAYERS = {
    "veil.errors": 0, "veil.files": 0, "veil.imaging": 0, "veil.ops": 0, "veil.payloads": 0, "veil.detectors": 1,
    "veil.layers": 1, "veil.attacks": 1, "veil.metrics": 1, "veil.weights": 1, "veil.devices": 1,
    "veil.models": 2, "veil.losses": 2, "veil.data": 2,
    "veil.hiding": 3, "veil.qr": 3, "veil.disguise": 3, "veil.strength": 3, "veil.registry": 3,
    "veil.api": 4, "veil": 4,
    "veil.train": 5, "veil.eval": 5, "veil.serve": 5,
    "veil.cli": 6, "veil.__main__": 6,
}


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer(mod: str) -> int | None:
    best = None
    for prefix, n in LAYERS.items():
        if (mod == prefix or mod.startswith(prefix + ".")) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, n)
    return best[1] if best else None


def imports(path: Path, mod: str, known: set[str]) -> set[str]:
    """The veil modules ``path`` imports (``from . import x`` resolved to x when x is a module)."""
    tree = ast.parse(path.read_text(), str(path))
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [f"{target}.{a.name}" if f"{target}.{a.name}" in known else target for a in node.names]
        else:
            continue
        for n in names:
            while n and n not in known:
                n = n.rpartition(".")[0]
            if n and n.startswith("veil") and n != mod:
                out.add(n)
    return out


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in (SRC / "veil").rglob("*.py")}
    known = set(files)
    return {m: imports(p, m, known) for m, p in sorted(files.items())}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10_000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in g:
        if v not in index:
            visit(v)
    return out


def upward(g: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(importer, imported) pairs where the imported module sits in a higher layer. The package ``veil`` itself
    (its __init__ re-exports the API lazily) is exempt as an importer."""
    out = []
    for m, deps in g.items():
        lm = layer(m)
        for d in sorted(deps):
            ld = layer(d)
            if m != "veil" and lm is not None and ld is not None and ld > lm:
                out.append((m, d))
    return out


def lines_per_package() -> dict[str, int]:
    out: dict[str, int] = {}
    for p in (SRC / "veil").rglob("*.py"):
        parts = p.relative_to(SRC / "veil").parts
        key = parts[0] if len(parts) > 1 else "(top)"
        out[key] = out.get(key, 0) + len(p.read_text().splitlines())
    return dict(sorted(out.items()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    g = graph()
    cyc, up, loc = cycles(g), upward(g), lines_per_package()
    if args.json:
        print(json.dumps({"modules": len(g), "cycles": cyc, "upward": up, "lines": loc}, indent=1))
        return 0
    print(f"{len(g)} modules, {sum(map(len, g.values()))} imports")
    print(f"{len(cyc)} cycles:")
    for c in cyc:
        print("  " + " <-> ".join(c))
    print(f"{len(up)} upward imports:")
    for a, b in up:
        print(f"  {a} -> {b}")
    print("lines per package: " + ", ".join(f"{k} {v}" for k, v in loc.items()) + f"; total {sum(loc.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
