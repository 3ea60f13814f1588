"""The neural QR reader (seed 001): the generator against segno, the model contract, `veil qrnet read` with the
shipped weights on generated codes, on images without a code ("no code", exit 1), bad input, --json, a tiny
training run, a small calibration and a small evaluation through the CLI."""
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

CONFIGS = Path(__file__).resolve().parents[1] / "src" / "veil" / "recipes"

# Tiny configurations for the registry's contract tests (test_models_contract.py); the paper variant below.
TINY = {"qrnet": dict(variant="robust", width=4, hidden=16, input_size=42, orient_width=2)}
PAPER_TINY = dict(variant="paper", width=4)


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


@pytest.mark.parametrize("kwargs", [TINY["qrnet"], PAPER_TINY], ids=["robust", "paper"])
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
    # inference: any size, grey or colour, a batch tensor or a list; a model without a card has no presence
    # threshold, so every image gets digits
    imgs = [torch.rand(3, 21, 21), torch.rand(1, 37, 50), torch.rand(1, 3, 200, 180), torch.rand(1, 9, 9)]
    assert m.presence_threshold is None
    digits = m.read(imgs)
    assert len(digits) == 4 and all(len(d) == 6 and d.isdigit() for d in digits)
    found, score = m.detect(imgs)
    assert found == digits and score.shape == (4,)
    if kwargs["variant"] == "robust":
        assert ((score >= 0) & (score <= 1)).all()
    else:                                               # no module grid and no presence model named
        assert torch.isnan(score).all()
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
    assert main(["qrnet", "read", missing, str(text)]) == 2                     # no file could be read
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 4 and "Traceback" not in err


def test_all_masks_and_presence_score():
    """The eight masked codes of a string are segno's with that mask forced; the presence score is the share of
    the 238 checked modules that agree, best of the eight masks."""
    import segno

    from veil.models.qrnet import _checked_modules, presence_scores

    strings = ["000000", "480213", "999999"]
    allm = qd.fast_codes().matrices_all_masks(strings)
    for s_, codes in zip(strings, allm):
        for k in range(8):
            ref = np.array(segno.make(s_, version=1, error="h", micro=False, boost_error=False, mask=k).matrix) > 0
            assert np.array_equal(codes[k], ref), (s_, k)
    keep = _checked_modules().numpy().reshape(21, 21)
    assert keep.sum() == 238
    grids = torch.from_numpy(allm[:, 5].astype(np.float32))          # any mask agrees fully
    flipped = grids[1].clone().flatten()
    flipped[np.flatnonzero(keep)[:10]] = 1 - flipped[np.flatnonzero(keep)[:10]]
    flipped[0] = 1 - flipped[0]                                      # a finder module: not checked
    got = presence_scores(strings + ["480213"], torch.cat([grids, flipped.view(1, 21, 21)]))
    assert torch.allclose(got, torch.tensor([1.0, 1.0, 1.0, 1 - 10 / 238]))
    other = presence_scores(["123456"], grids[1:2])[0]               # another string's code: far from it
    assert other < 0.75


def _noise_png(path, size=120, seed=0):
    Image.fromarray((np.random.default_rng(seed).random((size, size)) * 255).astype(np.uint8), "L").save(path)
    return str(path)


ASTRONAUT = str(Path(veil.__file__).parent / "assets" / "astronaut.png")


@pytest.mark.parametrize("kind", ["noise", "photo", "one_pixel", "flat"])
def test_read_cli_no_code(tmp_path, capsys, kind):
    """An image without a code: exit 1, one line on stderr, nothing on stdout (the shipped weights' threshold)."""
    if kind == "noise":
        f = _noise_png(tmp_path / "noise.png")
    elif kind == "photo":
        f = ASTRONAUT
    else:
        f = str(tmp_path / f"{kind}.png")
        Image.new("RGB", (1, 1) if kind == "one_pixel" else (64, 48), (200, 30, 30)).save(f)
    assert main(["qrnet", "read", f]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [f"veil: {f}: no six-digit QR code found"]


def test_read_cli_codes_among_non_codes_and_json(tmp_path, capsys):
    strings, mats = _codes(2, seed=4)
    codes = []
    for i, m in enumerate(mats):
        f = tmp_path / f"code{i}.png"
        Image.fromarray((qd.render(m, 3 + i, (2,) * 4) * 255).astype(np.uint8), "L").save(f)
        codes.append(str(f))
    noise, missing = _noise_png(tmp_path / "noise.png"), str(tmp_path / "missing.png")
    assert main(["qrnet", "read", *codes]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{f}\t{s}" for f, s in zip(codes, strings)]
    assert main(["qrnet", "read", codes[0], noise, ASTRONAUT, codes[1]]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [f"{codes[0]}\t{strings[0]}", f"{codes[1]}\t{strings[1]}"]
    assert err.splitlines() == [f"veil: {noise}: no six-digit QR code found",
                                f"veil: {ASTRONAUT}: no six-digit QR code found"]

    assert main(["qrnet", "read", "--json", codes[0], noise, missing]) == 1
    out, err = capsys.readouterr()
    docs = [json.loads(line) for line in out.splitlines()]
    assert [d["file"] for d in docs] == [codes[0], noise, missing]
    assert docs[0]["digits"] == strings[0] and docs[0]["score"] > 0.95 and set(docs[0]) == {"file", "digits", "score"}
    assert docs[1]["digits"] is None and 0 <= docs[1]["score"] < 0.75 and set(docs[1]) == {"file", "digits", "score"}
    assert docs[2]["digits"] is None and docs[2]["score"] is None and "missing.png" in docs[2]["error"]
    assert len(err.splitlines()) == 2
    assert main(["qrnet", "read", "--json", codes[1]]) == 0
    assert json.loads(capsys.readouterr().out)["digits"] == strings[1]


def test_seed_model_says_no_code_through_the_default_presence(tmp_path, capsys):
    """qrnet.paper has no module grid: qrnet.default's presence decides, the digits are the seed network's."""
    strings, mats = _codes(1, seed=5)
    code = tmp_path / "code.png"
    Image.fromarray((qd.render(mats[0], 4, (4,) * 4) * 255).astype(np.uint8), "L").save(code)
    m = veil.load_model("qrnet.paper", task="qrnet")
    assert m.presence_threshold == veil.load_model("qrnet", task="qrnet").presence_threshold
    assert main(["qrnet", "read", "--model", "qrnet.paper", "--json", str(code), _noise_png(tmp_path / "n.png")]) == 1
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(docs[0]["digits"]) == 6 and docs[0]["score"] > 0.95
    assert docs[1]["digits"] is None and docs[1]["score"] < 0.75


def test_seed_model_reads_the_seed_format():
    strings, mats = _codes(50, seed=2)
    m = veil.load_model("qrnet.paper", task="qrnet")
    got = m.read([torch.from_numpy(1.0 - mm.astype(np.float32))[None] for mm in mats])
    per_digit = np.mean([a == b for g, s in zip(got, strings) for a, b in zip(g, s)])
    assert per_digit > 0.4          # the reproduction: 0.59 per digit on 10,000 codes (card), chance is 0.1


def test_api_read_qr_digits():
    strings, mats = _codes(3, seed=3)
    imgs = [Image.fromarray((qd.render(m, 3, (2,) * 4) * 255).astype(np.uint8), "L") for m in mats]
    assert veil.read_qr_digits(imgs) == strings
    photo = Image.open(ASTRONAUT)
    assert veil.read_qr_digits([imgs[0], photo, Image.new("L", (1, 1))]) == [strings[0], None, None]
    assert veil.read_qr_digits(photo) == [None]
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
    assert main(["qrnet", "train", "--config", str(CONFIGS / "qrnet.paper.toml"), "--steps", "2", "--batch", "8",
                 "--width", "4", "--train-codes", "40", "--val-codes", "20", "--out", str(seed_out),
                 "--no-progress"]) == 0
    card = json.loads((seed_out / "qrnet.paper.json").read_text())
    assert card["training"]["validation"]["n"] == 20 and card["kwargs"] == {"variant": "paper", "width": 4}
    assert "validation on 20 held-out codes" in capsys.readouterr().out


def _small_corpus(root):
    """A cover corpus of two small photos a split (crops of the bundled astronaut), where VEIL_DATA points."""
    photo = Image.open(ASTRONAUT).convert("RGB")
    for split, boxes in (("train", [(0, 0, 96, 80), (200, 100, 300, 228)]), ("val", [(300, 300, 420, 400),
                                                                                     (50, 250, 130, 330)])):
        (root / split).mkdir(parents=True)
        for i, box in enumerate(boxes):
            photo.crop(box).save(root / split / f"photo{i}.png")


def test_calibrate_small(tmp_path, monkeypatch, capsys):
    _small_corpus(tmp_path / "covers")
    monkeypatch.setenv("VEIL_DATA", str(tmp_path / "covers"))
    card = (Path(veil.__file__).parent / "cards" / "qrnet.default.json").read_text()
    assert main(["qrnet", "calibrate", "--n", "40"]) == 0
    err = capsys.readouterr().err
    assert "qrnet.default: threshold 0." in err and "/238 modules" in err
    assert (Path(veil.__file__).parent / "cards" / "qrnet.default.json").read_text() == card    # no --card
    from veil.eval.qrnet import calibrate_presence

    p = calibrate_presence("qrnet", n=40, log=lambda m: None)
    assert 0.5 < p["threshold"] < 1 and p["calibration"]["codes"]["n"] == 40
    assert p["calibration"]["non_codes"]["photo"]["n"] == 2 and p["calibration"]["non_codes"]["photo_crop"]["n"] == 40
    assert calibrate_presence("qrnet.paper", log=lambda m: None)["model"] == "qrnet.default"


def test_eval_small(tmp_path, monkeypatch):
    _small_corpus(tmp_path / "covers")
    monkeypatch.setenv("VEIL_DATA", str(tmp_path / "covers"))
    out = tmp_path / "qrnet.json"
    assert main(["qrnet", "eval", "--n", "40", "--sweep-n", "12", "--reveal-n", "6", "--bench-n", "20",
                 "--no-code-n", "20", "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    nc = res["no_code"]["models"]["qrnet.default"]
    assert res["no_code"]["photos"] == {"held_out": 2, "calibration": 2}
    assert nc["by_kind"]["photo"]["n"] == 2 and nc["by_kind"]["photo_crop"]["n"] == 20
    assert nc["by_kind"]["tiny"]["n"] == 2 and nc["by_kind"]["other_qr"]["n"] == 5
    assert nc["held_out"]["n"] == 2 + 20 + 5 + 5 + 2 + 2 and nc["held_out"]["rejected"] >= 0.9
    assert res["targets"]["no_code_rejected"]["n"] == nc["held_out"]["n"]
    assert res["models"]["qrnet.default"]["clean_seed_format"]["accepted_wrong"] == 0
    assert set(res["models"]) == {"qrnet.default", "qrnet.paper"}
    for kind in ("noise", "blur"):
        sw = res["sweep"][kind]
        assert set(sw["exact"]) == {"qrnet.default", "qrnet.paper", "zxing-cpp"}
        assert all(len(v) == len(sw["levels"]) for v in sw["exact"].values())
    assert res["clean_any"]["qrnet.default"]["n"] == 40 and res["throughput"][0]["files"] == 20
    assert res["models"]["qrnet.default"]["clean_seed_format"]["exact"] >= 0.95
    assert (tmp_path / "qrnet_robustness.png").stat().st_size > 1000
    assert main(["qrnet", "eval", "--n", "0", "--out", str(out)]) == 2
