"""A few seeded training steps through the real entry point (`veil train qr`)."""
import json

from safetensors.torch import load_file

from veil.cli.main import main
from veil.weights import sha256_file


def _train(out, steps, extra=()):
    return main(["train", "qr", "--arch", "qr_densenet", "--data", "synthetic", "--steps", str(steps), "--batch", "2",
                 "--crop", "128", "--qr-pool", "8", "--calib-samples", "8", "--out", str(out), "--no-progress",
                 *extra])


def test_training_runs_exports_and_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(out, 3) == 0
    card = json.loads((out / "qr_densenet.default.json").read_text())
    w = out / card["weights"]["file"]
    assert card["weights"]["sha256"] == sha256_file(w)
    assert card["training"]["steps"] == 3
    assert card["training"]["calibration"]["samples"] == 8
    state = load_file(str(w))
    assert "strength" in state and any(k.startswith("encoder.") for k in state)
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert log[-1]["step"] == 3 and all(abs(r["loss"]) < 1e3 for r in log)

    # A second run into the same folder is refused without --resume ...
    assert _train(out, 5) == 2
    assert "--resume" in capsys.readouterr().err
    # ... and continues from step 3 with it.
    assert _train(out, 5, ["--resume"]) == 0
    card = json.loads((out / "qr_densenet.default.json").read_text())
    assert card["training"]["steps"] == 5


def test_fine_tune_from_exported_weights(tmp_path):
    first = tmp_path / "first"
    assert _train(first, 2, ["--no-calibrate"]) == 0
    w = first / "qr_densenet.default.safetensors"
    second = tmp_path / "second"
    assert _train(second, 1, ["--no-calibrate", "--init-from", str(w)]) == 0
    assert json.loads((second / "config.json").read_text())["init_from"] == str(w)


def test_training_is_seeded(tmp_path):
    logs = []
    for i in range(2):
        out = tmp_path / f"run{i}"
        assert _train(out, 2, ["--no-calibrate"]) == 0
        logs.append([json.loads(line)["loss"] for line in (out / "log.jsonl").read_text().splitlines()])
    assert logs[0] == logs[1]


def test_bad_recipe_is_one_line_error(tmp_path, capsys):
    bad = tmp_path / "r.toml"
    bad.write_text("stepz = 3\n")
    assert main(["train", "qr", "--config", str(bad), "--data", "synthetic", "--out", str(tmp_path / "o")]) == 2
    assert "unknown config keys: stepz" in capsys.readouterr().err
