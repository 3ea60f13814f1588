"""What an installed veil needs and says: optional features name their extra (exit 2, one line, before any work)."""
import subprocess
import sys

import pytest

_WITHOUT_MATPLOTLIB = """
import sys
sys.modules["matplotlib"] = None          # as if the [eval] extra were not installed
from veil.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("argv", [["report", "--out", "{tmp}/r.html"],
                                  ["eval", "qr", "--images", "{tmp}", "--attacks", "jpeg", "--out", "{tmp}/q.json"],
                                  ["eval", "steganalysis", "--clean", "{tmp}", "--lsb-rate", "0.1"]])
def test_plotting_commands_without_matplotlib_name_the_extra(tmp_path, argv):
    cmd = [a.format(tmp=tmp_path) for a in argv]
    p = subprocess.run([sys.executable, "-c", _WITHOUT_MATPLOTLIB, *cmd], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, p.stderr
    assert p.stderr.strip().splitlines() == [
        "veil: error: this needs matplotlib, which is not installed: pip install 'veil[eval]'"]
    assert list(tmp_path.iterdir()) == []


def test_recipes_ship_in_the_package_and_load_by_name(tmp_path, monkeypatch):
    from veil.errors import InputError
    from veil.train.config import ImageTrainConfig, load_config, recipe_path

    monkeypatch.chdir(tmp_path)                       # not the checkout: the recipe comes from the package
    assert recipe_path("stegnet.default").parent.name == "recipes"
    assert load_config("stegnet.default", cls=ImageTrainConfig).arch == "stegnet"
    assert load_config("stegnet.default.toml", {"steps": 7}, cls=ImageTrainConfig).steps == 7
    own = tmp_path / "stegnet.default.toml"           # a file of that name in the working folder wins
    own.write_text('arch = "stegnet"\ntag = "mine"\n')
    assert load_config("stegnet.default.toml", cls=ImageTrainConfig).tag == "mine"
    with pytest.raises(InputError, match="shipped recipe: .*qr_densenet.quiet"):
        recipe_path("no_such_recipe")
