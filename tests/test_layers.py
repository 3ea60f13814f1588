"""The package's shape: no import cycles, and imports go down the layer order of docs/architecture.md
(scripts/import_graph.py prints the graph). Lazy imports inside functions count: they are dependencies too."""
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import import_graph  # noqa: E402


def test_every_module_has_a_layer():
    g = import_graph.graph()
    assert len(g) > 50
    assert [m for m in g if import_graph.layer(m) is None] == []


def test_no_import_cycles():
    assert import_graph.cycles(import_graph.graph()) == []


def test_imports_only_go_down():
    assert import_graph.upward(import_graph.graph()) == []


def test_the_checks_can_fail():
    g = {"veil.api": {"veil.cli.main"}, "veil.cli.main": {"veil.api"}}
    assert import_graph.cycles(g) == [["veil.api", "veil.cli.main"]]
    assert import_graph.upward(g) == [("veil.api", "veil.cli.main")]


def test_import_veil_and_help_do_not_import_torch():
    code = ("import sys, veil; from veil.cli.main import build_parser; build_parser().format_help(); "
            "print('torch' in sys.modules, 'veil.api' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
    p = subprocess.run([sys.executable, "-X", "importtime", "-m", "veil", "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and "usage: veil" in p.stdout
    assert not any(line.rstrip().endswith("| torch") for line in p.stderr.splitlines())
