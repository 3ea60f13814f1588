"""The neural QR reader (seed 001): the generator against segno, the model contract, `veil qrnet read` with the
shipped weights on generated codes, bad input, a tiny training run and a small evaluation through the CLI."""
import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import veil
from veil.cli.main import main
from veil.data import qr_digits as qd
from veil.errors import InputError
from veil.registry import create_model
from veil.weights import sha256_file

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

# Tiny configurations for the registry's contract tests (test_models_contract.py); the seed variant below.
TINY = {"qrnet": dict(variant="robust", width=4, hidden=16, input_size=42, orient_width=2)}
SEED_TINY = dict(variant="seed", width=4)


def _codes(n, seed=0):
    strings = qd.unique_strings(random.Random(f"test-{seed}"), n, "eval")
    return strings, qd.fast_codes().matrices(strings)


def test_fast_generator_is_segno_and_split_is_disjoint():
    rng = random.Random(5)
    strings = [f"{rng.randrange(10 ** 6):06d}" for _ in range(150)] + ["000000", "999999", "000001", "100000"]
    fast = qd.fast_codes().matrices(strings)
    for s, m in zip(strings, fast):
        assert np.array_equal(m, qd.segno_matrix(s)), s
    ev, tr = qd.random_strings(rng, 200, "eval"), qd.random_strings(rng, 200, "train")
    assert all(qd.is_eval_string(s) for s in ev) and not any(qd.is_eval_string(s) for s in tr)
    assert 0.08 < np.mean([qd.is_eval_string(f"{i:06d}") for i in range(0, 10 ** 6, 97)]) < 0.12


@pytest.mark.parametrize("kwargs", [TINY["qrnet"], SEED_TINY], ids=["robust", "seed"])
def test_contract_shapes_gradients_any_size(kwargs):
    torch.manual_seed(0)
    m = create_model("qrnet", **kwargs)
    m.train()
    s = m.input_size
    x = torch.randn(4, 1, s, s)
    out = m(x, rotation=torch.tensor([0, 1, 2, 3])) if kwargs["variant"] == "robust" else m(x)
    assert out["logits"].shape == (4, 6, 10)
    loss = sum(v.float().mean() for v in out.values())
    loss.backward()
    for name, prm in m.named_parameters():
        assert prm.grad is not None and torch.isfinite(prm.grad).all(), name
    for v in out.values():
        assert torch.isfinite(v).all()
    # inference: any size, grey or colour, a batch tensor or a list
    imgs = [torch.rand(3, 21, 21), torch.rand(1, 37, 50), torch.rand(1, 3, 200, 180), torch.rand(1, 9, 9)]
    digits = m.read(imgs)
    assert len(digits) == 4 and all(len(d) == 6 and d.isdigit() for d in digits)
    p = m.predict(torch.rand(2, 3, 64, 64))
    assert p.shape == (2, 6, 10) and torch.allclose(p.sum(-1), torch.ones(2, 6), atol=1e-5)
    assert m.training                                   # inference restored the training mode


def test_fast_inference_equals_forward():
    torch.manual_seed(1)
    m = create_model("qrnet", **TINY["qrnet"])
    m.train()
    for _ in range(2):                                  # non-trivial batch-norm statistics
        m(torch.randn(16, 1, 42, 42), rotation=torch.randint(4, (16,)))
    m.eval()
    x = torch.randn(40, 1, 42, 42)
    with torch.no_grad():
        assert torch.allclose(m(x)["logits"], m._fast_logits(x, m._folded()), atol=1e-4)


def test_read_cli_round_trip_with_shipped_weights(tmp_path, capsys):
    """Fresh held-out codes at several module sizes, with and without quiet zone, turned, grey and colour."""
    strings, mats = _codes(20)
    files = []
    for i, (s, m) in enumerate(zip(strings, mats)):
        px = [1, 2, 3, 4, 5.12, 7][i % 6]
        quiet = (0,) * 4 if i % 3 == 0 else (4, 4, 4, 4) if i % 3 == 1 else (1, 3, 2, 0)
        img = np.rot90(qd.render(m, px, quiet), i % 4)
        pil = Image.fromarray((img * 255).round().astype(np.uint8), "L")
        f = tmp_path / f"code_{i:02d}.png"
        (pil.convert("RGB") if i % 2 else pil).save(f)
        files.append(str(f))
    assert main(["qrnet", "read", *files]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"{f}\t{s}" for f, s in zip(files, strings)]


def test_read_cli_bad_files_among_good_ones(tmp_path, capsys):
    strings, mats = _codes(2, seed=1)
    good = []
    for i, m in enumerate(mats):
        f = tmp_path / f"ok{i}.png"
        Image.fromarray((qd.render(m, 4, (4,) * 4) * 255).astype(np.uint8), "L").save(f)
        good.append(str(f))
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    missing = str(tmp_path / "missing.png")
    assert main(["qrnet", "read", good[0], missing, str(text), good[1]]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [f"{good[0]}\t{strings[0]}", f"{good[1]}\t{strings[1]}"]
    errs = err.splitlines()
    assert len(errs) == 2 and all(e.startswith("veil: error: ") for e in errs)
    assert "missing.png" in errs[0] and "notes.png" in errs[1] and "Traceback" not in err
    assert main(["qrnet", "read", "--model", "qr_densenet", good[0]]) == 2      # not a qrnet model
    assert main(["qrnet", "read", "--model", "qrnet.nothing", good[0]]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 2 and "Traceback" not in err


def test_seed_model_reads_the_seed_format():
    strings, mats = _codes(50, seed=2)
    m = veil.load_model("qrnet.seed", task="qrnet")
    got = m.read([torch.from_numpy(1.0 - mm.astype(np.float32))[None] for mm in mats])
    per_digit = np.mean([a == b for g, s in zip(got, strings) for a, b in zip(g, s)])
    assert per_digit > 0.4          # the reproduction: 0.59 per digit on 10,000 codes (card), chance is 0.1


def test_api_read_qr_digits():
    strings, mats = _codes(3, seed=3)
    imgs = [Image.fromarray((qd.render(m, 3, (2,) * 4) * 255).astype(np.uint8), "L") for m in mats]
    assert veil.read_qr_digits(imgs) == strings
    with pytest.raises(InputError):
        veil.read_qr_digits(["not an image"])


def test_tiny_training_runs_through_the_cli(tmp_path, capsys):
    out = tmp_path / "robust"
    args = ["qrnet", "train", "--config", str(CONFIGS / "qrnet.default.toml"), "--steps", "3", "--batch", "8",
            "--width", "4", "--hidden", "16", "--decoder-pool", "64", "--threads", "1", "--out", str(out),
            "--no-progress"]
    assert main(args) == 0
    card = json.loads((out / "qrnet.default.json").read_text())
    assert card["task"] == "qrnet" and card["training"]["steps"] == 3 and card["kwargs"]["width"] == 4
    assert card["weights"]["sha256"] == sha256_file(out / card["weights"]["file"])
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert log[-1]["step"] == 3 and np.isfinite(log[-1]["loss"])
    assert main(args) == 2                                            # refuses to clobber without --resume
    assert main([*args[:5], "5", *args[6:], "--resume"]) == 0         # resumes to 5 steps
    assert json.loads((out / "qrnet.default.json").read_text())["training"]["steps"] == 5

    seed_out = tmp_path / "seed"
    assert main(["qrnet", "train", "--config", str(CONFIGS / "qrnet.seed.toml"), "--steps", "2", "--batch", "8",
                 "--width", "4", "--train-codes", "40", "--val-codes", "20", "--out", str(seed_out),
                 "--no-progress"]) == 0
    card = json.loads((seed_out / "qrnet.seed.json").read_text())
    assert card["training"]["validation"]["n"] == 20 and card["kwargs"] == {"variant": "seed", "width": 4}
    assert "validation on 20 held-out codes" in capsys.readouterr().out


def test_eval_small(tmp_path):
    out = tmp_path / "qrnet.json"
    assert main(["qrnet", "eval", "--n", "40", "--sweep-n", "12", "--reveal-n", "6", "--bench-n", "20",
                 "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert set(res["models"]) == {"qrnet.default", "qrnet.seed"}
    for kind in ("noise", "blur"):
        sw = res["sweep"][kind]
        assert set(sw["exact"]) == {"qrnet.default", "qrnet.seed", "zxing-cpp"}
        assert all(len(v) == len(sw["levels"]) for v in sw["exact"].values())
    assert res["clean_any"]["qrnet.default"]["n"] == 40 and res["throughput"][0]["files"] == 20
    assert res["models"]["qrnet.default"]["clean_seed_format"]["exact"] >= 0.95
    assert (tmp_path / "qrnet_robustness.png").stat().st_size > 1000
    assert main(["qrnet", "eval", "--n", "0", "--out", str(out)]) == 2
