"""A few seeded training steps through the real entry point (`veil train qr`)."""
import json

import pytest
import torch
from safetensors.torch import load_file

from veil.cli.main import main
from veil.weights import sha256_file


def _train(out, steps, extra=()):
    return main(["train", "qr", "--arch", "qr_densenet", "--data", "synthetic", "--steps", str(steps), "--batch", "2",
                 "--crop", "128", "--qr-pool", "8", "--calib-samples", "8", "--out", str(out), "--no-progress",
                 *extra])


@pytest.mark.slow
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


def test_recipe_with_cover_sizes_and_partial_init(tmp_path):
    """A TOML recipe: covers drawn from several sizes (the card records the smallest), and a fine-tune that
    loads only the encoder of an earlier run."""
    first = tmp_path / "first"
    assert _train(first, 1, ["--no-calibrate", "--seed", "1"]) == 0      # another seed: another initialisation
    donor = load_file(str(first / "qr_densenet.default.safetensors"))
    recipe = tmp_path / "r.toml"
    recipe.write_text(f'arch = "qr_densenet"\ntag = "small"\ncrop_sizes = [64, 128]\nsynthetic_prob = 1.0\n'
                      f'init_from = "{first / "qr_densenet.default.safetensors"}"\ninit_only = ["encoder."]\n'
                      f'cover_rmse = 1.0\nsmall_cover_model = "qr_densenet.tiny"\n[model]\ndropout = 0.0\n')
    out = tmp_path / "second"
    assert main(["train", "qr", "--config", str(recipe), "--data", "synthetic", "--steps", "2", "--batch", "2",
                 "--qr-pool", "4", "--no-calibrate", "--out", str(out), "--no-progress"]) == 0
    card = json.loads((out / "qr_densenet.small.json").read_text())
    assert card["min_cover_side"] == 64
    assert card["training"]["config"]["crop_sizes"] == [64, 128]
    assert card["small_cover_model"] == "qr_densenet.tiny"     # what hide/reveal hand small covers to
    # the run starts from the donor's encoder only: its decoder is new (and both moved by 2 steps)
    got = load_file(str(out / "qr_densenet.small.safetensors"))
    assert set(got) == set(donor)

    def corr(prefix):   # correlation with the donor's weights over the trained parameters under prefix
        keys = [k for k in donor if k.startswith(prefix) and donor[k].ndim > 1]      # conv kernels
        a = torch.cat([got[k].flatten() for k in keys])
        b = torch.cat([donor[k].flatten() for k in keys])
        return float(torch.corrcoef(torch.stack([a, b]))[0, 1])
    assert corr("encoder.") > 0.9 and abs(corr("decoder.")) < 0.3   # the encoder came from the donor, not the decoder


def test_partial_init_loads_exactly_the_prefix(tmp_path):
    import torch

    from veil.registry import create_model
    from veil.train.loop import init_weights

    a = create_model("qr_densenet", processing_size=64)
    b = create_model("qr_densenet", processing_size=64)
    with torch.no_grad():
        for p in a.parameters():
            p.add_(1.0)
    path = str(tmp_path / "a.safetensors")
    from safetensors.torch import save_file
    save_file({k: v.contiguous() for k, v in a.state_dict().items()}, path)
    init_weights(b, path, ["encoder."], log=lambda m: None)
    sa, sb = a.state_dict(), b.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa if k.startswith("encoder."))
    assert not all(torch.equal(sa[k], sb[k]) for k in sa if k.startswith("decoder.") and sa[k].is_floating_point())


@pytest.mark.slow
def test_training_with_attacks(tmp_path):
    recipe = tmp_path / "r.toml"
    recipe.write_text('arch = "qr_densenet"\ntag = "robust"\ncrop = 128\nsynthetic_prob = 1.0\n'
                      'attacks = ["jpeg:50-95", "djpeg:50-95", "blur:0-1.5", "resize:0.5-1:random", "noise:0-4"]\n'
                      'attack_prob = 1.0\ncalib_attacks = ["jpeg:50", "blur:1"]\n[model]\nprocessing_size = 64\n')
    out = tmp_path / "run"
    assert main(["train", "qr", "--config", str(recipe), "--data", "synthetic", "--steps", "3", "--batch", "2",
                 "--qr-pool", "4", "--calib-samples", "4", "--out", str(out), "--no-progress"]) == 0
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert log[-1]["attack"] != "none"
    card = json.loads((out / "qr_densenet.robust.json").read_text())
    assert card["training"]["config"]["attacks"][0] == "jpeg:50-95"
    assert card["training"]["calibration"]["attacks"] == ["jpeg:50", "blur:1"]


def test_recipe_with_a_bad_attack_is_refused(tmp_path, capsys):
    recipe = tmp_path / "r.toml"
    recipe.write_text('attacks = ["jpeg:500"]\n')
    assert main(["train", "qr", "--config", str(recipe), "--data", "synthetic", "--out", str(tmp_path / "o")]) == 2
    assert "bad attack in recipe" in capsys.readouterr().err


def test_cover_rmse_adds_the_rmse_of_the_change():
    import torch

    from veil.losses import qr_hiding_loss

    cover = torch.full((1, 3, 4, 4), 0.5)
    stego = cover.clone()
    stego[0, 0, 0, 0] += 0.16                      # one changed sample of 48: L1 = 0.01/3, RMSE = 0.16/sqrt(48)
    out = {"intended": stego, "logits": torch.zeros(1, 1, 4, 4)}
    qr = torch.ones(1, 1, 4, 4)
    l1 = qr_hiding_loss(out, cover, qr, cover_weight=1.0)["cover"]
    both = qr_hiding_loss(out, cover, qr, cover_weight=1.0, cover_rmse=2.0)["cover"]
    assert abs(float(l1) - 0.16 / 48) < 1e-6
    assert abs(float(both - l1) - 2.0 * 0.16 / 48 ** 0.5) < 1e-6


def test_a_resumed_run_ends_with_the_weights_of_an_unbroken_one(tmp_path):
    # 4 steps in one run, and 2 steps + a resume to 4: the same weights to the bit (the checkpoint carries the
    # optimiser, the controller and every random state)
    assert _train(tmp_path / "whole", 4, ["--no-calibrate"]) == 0
    assert _train(tmp_path / "split", 2, ["--no-calibrate"]) == 0
    assert _train(tmp_path / "split", 4, ["--no-calibrate", "--resume"]) == 0
    a = load_file(str(tmp_path / "whole" / "qr_densenet.default.safetensors"))
    b = load_file(str(tmp_path / "split" / "qr_densenet.default.safetensors"))
    assert set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a)
    assert json.loads((tmp_path / "split" / "qr_densenet.default.json").read_text())["training"]["steps"] == 4
