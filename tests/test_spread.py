"""The spread-message family: the model contract at tiny size, the spreading layer, a few seeded training steps
through the real entry point (`veil train spread`)."""
import json

import pytest
import torch

from veil.cli.main import main
from veil.registry import create_model

TINY = {"spread": dict(n_bits=128, processing_size=64, grid=16, widths=(8, 8, 8, 8), dec_width=8,
                       dec_dilations=(1, 2))}


@pytest.fixture
def model():
    torch.manual_seed(0)
    return create_model("spread", **TINY["spread"])


def test_forward_shapes_gradients_no_nan(model):
    model.train()
    cover = torch.rand(2, 3, 96, 80)
    bits = torch.randint(0, 2, (2, model.n_bits))
    out = model(cover, bits)
    assert out["stego"].shape == cover.shape and out["residual"].shape == cover.shape
    assert out["chip_logits"].shape == (2, 1, model.grid, model.grid)
    assert out["logits"].shape == (2, model.n_bits)
    for k, v in out.items():
        assert torch.isfinite(v).all(), k
    s = out["stego"].detach() * 255
    assert torch.allclose(s, s.round(), atol=1e-3)
    (out["logits"].mean() + out["residual"].abs().mean()).backward()
    for name, prm in model.named_parameters():
        assert prm.grad is not None and torch.isfinite(prm.grad).all(), name
        assert float(prm.grad.abs().sum()) > 0, f"no gradient reaches {name}"


@pytest.mark.parametrize("hw", [(64, 64), (97, 150), (300, 123)])
def test_embed_extract_any_size(model, hw):
    cover = torch.rand(1, 3, *hw)
    bits = torch.randint(0, 2, (1, model.n_bits))
    stego = model.embed(cover, bits)
    assert stego.shape == cover.shape and 0 <= float(stego.min()) and float(stego.max()) <= 1
    p = model.extract(stego)
    assert p.shape == (1, model.n_bits) and 0 <= float(p.min()) and float(p.max()) <= 1


def test_inference_is_deterministic_and_keeps_train_mode(model):
    model.train()
    cover, bits = torch.rand(1, 3, 80, 80), torch.randint(0, 2, (1, model.n_bits))
    assert torch.equal(model.embed(cover, bits), model.embed(cover, bits))
    assert model.training


def test_every_bit_has_equal_scattered_chips(model):
    counts = torch.bincount(model.chip_bit, minlength=model.n_bits)
    assert int(counts.min()) == int(counts.max()) == model.grid ** 2 // model.n_bits
    # the chips of bit 0 are not all in one row: the interleaver scatters them
    rows = {int(i) // model.grid for i in torch.nonzero(model.chip_bit == 0)}
    assert len(rows) > 1


def test_despread_inverts_spread(model):
    bits = torch.randint(0, 2, (3, model.n_bits))
    chips = model.spread(bits)
    assert set(chips.unique().tolist()) == {-1.0, 1.0}
    logits = model.despread(chips)      # every chip agrees with its bit: the sum has the bit's sign
    assert torch.equal((logits > 0).long(), bits)
    assert torch.equal(model.chip_targets(bits), (chips > 0).float())


def test_layout_needs_a_whole_number_of_chips():
    with pytest.raises(ValueError, match="multiple"):
        create_model("spread", n_bits=100, processing_size=64, grid=16, widths=(8, 8, 8, 8), dec_width=8)


def _train(out, steps, extra=()):
    return main(["train", "spread", "--data", "synthetic", "--steps", str(steps), "--batch", "2", "--crop", "96",
                 "--calib-samples", "4", "--threads", "1", "--out", str(out), "--no-progress", *extra])


@pytest.fixture
def recipe(tmp_path):
    """The shipped recipe's attacks and loss, on the tiny network."""
    r = tmp_path / "tiny.toml"
    r.write_text('attacks = ["jpeg:50-90", "blur:0.5-1", "crop:0.95-1+rotate:-1-1"]\nattack_start_err = 0.9\n'
                 'calib_attacks = ["jpeg:75"]\n[model]\n' +
                 "".join(f"{k} = {list(v) if isinstance(v, tuple) else v}\n" for k, v in TINY["spread"].items()))
    return r


def test_training_runs_exports_resumes_and_is_seeded(tmp_path, recipe, capsys):
    out = tmp_path / "run"
    assert _train(out, 3, ["--config", str(recipe)]) == 0
    card = json.loads((out / "spread.default.json").read_text())
    assert card["task"] == "message" and card["payload"]["n_bits"] == 128
    assert card["training"]["steps"] == 3 and card["training"]["calibration"]["samples"] == 4
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert log[-1]["step"] == 3 and all(abs(r["loss"]) < 1e3 for r in log)
    assert any(r["attack"] != "none" for r in log)   # the curriculum switched the attacks on
    assert _train(out, 5, ["--config", str(recipe)]) == 2
    assert "--resume" in capsys.readouterr().err
    assert _train(out, 5, ["--config", str(recipe), "--resume", "--no-calibrate"]) == 0
    assert json.loads((out / "spread.default.json").read_text())["training"]["steps"] == 5
    again = tmp_path / "again"
    assert _train(again, 5, ["--config", str(recipe), "--no-calibrate"]) == 0
    losses = [[json.loads(x)["loss"] for x in (d / "log.jsonl").read_text().splitlines()] for d in (out, again)]
    assert losses[0][-1] == losses[1][-1]       # resumed and uninterrupted runs end at the same loss
