"""Classical LSB detectors at known embedding rates, ROC/AUC on hand-computed cases, `veil analyze`."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from veil import detectors as D
from veil.cli.main import main
from veil.metrics.detection import auc_from_curve, auc_rank, roc_sweep, summarise_scores, tpr_at_fpr
from veil.registry import create_model

TINY = {"xunet": {"width": 1}}   # the released width: it is small already


@pytest.fixture(scope="module")
def photo(sample):
    return np.asarray(sample)  # the bundled 512x512 photo


# Stated tolerances: random-position LSB replacement at rate r is estimated within 0.05 for r <= 0.5 by
# the three structural detectors, and above 0.9 at r = 1. Chi-square sees sequential embedding only;
# it overestimates a partial run (the cumulative histogram stays "equalised" for a while after the run
# ends), so it gets an interval: clean < 0.1, r = 0.1 -> [0.1, 0.35], r = 0.5 -> [0.5, 0.8], r = 1 -> > 0.95.
@pytest.mark.parametrize("rate", [0.0, 0.1, 0.5])
@pytest.mark.parametrize("name", ["primary_sets", "sample_pairs", "rs"])
def test_structural_detectors_estimate_the_rate(photo, name, rate):
    est = getattr(D, name)(D.lsb_embed(photo, rate, np.random.default_rng(7)))
    assert abs(est - rate) <= 0.05, (name, rate, est)


@pytest.mark.parametrize("name", ["primary_sets", "sample_pairs", "rs"])
def test_structural_detectors_at_full_embedding(photo, name):
    for seed in range(3):
        assert getattr(D, name)(D.lsb_embed(photo, 1.0, np.random.default_rng(seed))) > 0.9


@pytest.mark.parametrize("rate,lo,hi", [(0.0, 0.0, 0.1), (0.1, 0.1, 0.35), (0.5, 0.5, 0.8), (1.0, 0.95, 1.0)])
def test_chi_square_estimates_sequential_embedding(photo, rate, lo, hi):
    est = D.chi_square(D.lsb_embed(photo, rate, np.random.default_rng(3), sequential=True))
    assert lo <= est <= hi, (rate, est)


def test_chi_square_null_distribution_is_half_chi2(photo):
    # Under full embedding each n_2k is Binomial(n_2k + n_2k+1, 1/2), so Westfeld's statistic S is chi2_k / 2:
    # the p-value P(chi2_k > 2 S) of the whole image is uniform, while the paper's P(chi2_k-1 > S) is ~1.
    crop = photo[:96, :96]
    p_exact, p_printed = [], []
    for seed in range(100):
        stat, k = D._chi_square_blocks(D.lsb_embed(crop, 1.0, np.random.default_rng(seed)), D.CHI_BLOCK)
        p_exact.append(float(D._chi2_sf(2 * stat[-1:], k[-1:])[0]))
        p_printed.append(float(D._chi2_sf(stat[-1:], k[-1:] - 1)[0]))
    p_exact = np.array(p_exact)
    assert 0.4 < p_exact.mean() < 0.6, p_exact.mean()
    assert (p_exact < 0.05).mean() <= 0.12 and (p_exact > 0.95).mean() <= 0.12
    assert min(p_printed) > 0.99


@pytest.mark.parametrize("published", [False, True])
def test_chi_square_full_random_embedding_and_clean(photo, published):
    assert D.chi_square(photo, published=published) < 0.1
    for seed in range(3):
        assert D.chi_square(D.lsb_embed(photo, 1.0, np.random.default_rng(seed)), published=published) > 0.9


def test_analyze_array_keys_range_and_grey(photo):
    out = D.analyze_array(photo)
    assert list(out) == list(D.DETECTORS) + ["fused"]
    assert all(0.0 <= v <= 1.0 for v in out.values())
    assert out["fused"] == pytest.approx(np.mean([out[k] for k in D.DETECTORS]))
    grey = D.analyze_array(D.lsb_embed(photo[:, :, 1], 1.0, np.random.default_rng(0)))
    assert grey["fused"] > 0.9
    flat = D.analyze_array(np.full((64, 64, 3), 128, np.uint8))  # degenerate input: no NaN, in range
    assert all(0.0 <= v <= 1.0 for v in flat.values())


def test_lsb_embed_changes_only_lsbs_at_the_rate(photo):
    s = D.lsb_embed(photo, 0.5, np.random.default_rng(1))
    diff = s.astype(int) - photo
    assert set(np.unique(diff)) <= {-1, 0, 1}
    assert abs((diff != 0).mean() - 0.25) < 0.01  # half of the 50% carrying samples change


def test_roc_and_auc_on_a_hand_computed_case():
    clean, stego = [0.1, 0.3], [0.2, 0.4]
    roc = roc_sweep(clean, stego)
    at = {t: (f, p) for t, f, p in zip(roc["thresholds"], roc["fpr"], roc["tpr"])}
    assert at[0.0] == (1.0, 1.0) and at[0.1] == (0.5, 1.0) and at[0.2] == (0.5, 0.5)
    assert at[0.3] == (0.0, 0.5) and at[0.4] == (0.0, 0.0)
    assert len(roc["thresholds"]) == 101
    # points (0,0) (0,.5) (.5,.5) (.5,1) (1,1): area .5*.5 + .5*1
    assert auc_from_curve(roc["fpr"], roc["tpr"]) == pytest.approx(0.75)
    assert auc_rank(clean, stego) == pytest.approx(0.75)  # 3 of 4 pairs ordered right
    assert tpr_at_fpr(roc["fpr"], roc["tpr"], 0.05) == 0.5


def test_auc_extremes_and_ties():
    perfect = summarise_scores([0.0, 0.05, 0.1], [0.5, 0.9])
    assert perfect["auc"] == 1.0 and perfect["auc_rank"] == 1.0 and perfect["tpr_at_5pct_fpr"] == 1.0
    assert summarise_scores([0.5, 0.9], [0.0, 0.05])["auc"] == 0.0
    tied = summarise_scores([0.3, 0.3], [0.3, 0.3])
    assert tied["auc"] == 0.5 and tied["auc_rank"] == 0.5
    with pytest.raises(ValueError):
        roc_sweep([], [0.1])


def test_analyze_cli_table_json_and_bad_input(sample_path, photo, tmp_path, capsys):
    stego = tmp_path / "lsb.png"
    Image.fromarray(D.lsb_embed(photo, 1.0, np.random.default_rng(0))).save(stego)
    assert main(["analyze", str(sample_path), str(stego)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[0] == "file" and out[1].endswith("clean") and out[2].endswith("stego")
    assert main(["analyze", "--json", str(stego)]) == 0
    row = json.loads(capsys.readouterr().out)
    assert set(row) == {"file", "primary_sets", "chi_square", "sample_pairs", "rs", "fused", "verdict"}
    assert row["verdict"] == "stego" and row["fused"] > 0.9
    # a missing file: its own JSON line with the error (one line on stderr without --json), the other image still
    # analysed, exit 2
    assert main(["analyze", "--json", str(tmp_path / "nope.png"), str(sample_path)]) == 2
    bad, good = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert set(bad) == {"file", "error"} and "no such file" in bad["error"] and good["verdict"] == "clean"
    assert main(["analyze", str(tmp_path / "nope.png"), str(sample_path)]) == 2
    out, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1 and out.splitlines()[-1].endswith("clean")
    assert main(["analyze", "--threshold", "1.5", str(sample_path)]) == 2
    assert "threshold" in capsys.readouterr().err


def _folder(path, sample, n=3, size=96):
    path.mkdir()
    a = np.asarray(sample)
    for i in range(n):
        Image.fromarray(a[i * 100:i * 100 + size, i * 120:i * 120 + size]).save(path / f"c{i}.png")
    return path


def test_eval_steganalysis_lsb_rate_writes_json_and_roc(sample, tmp_path, capsys):
    clean = _folder(tmp_path / "clean", sample)
    out = tmp_path / "res"
    assert main(["eval", "steganalysis", "--clean", str(clean), "--lsb-rate", "1", "--crop", "64", "--per-image",
                 "2", "--out-dir", str(out)]) == 0
    res = json.loads((out / "steganalysis_lsb_rate1.json").read_text())
    assert res["n_clean"] == res["n_stego"] == 6
    more = _folder(tmp_path / "more", sample, n=2)        # several clean folders make one larger set
    assert main(["eval", "steganalysis", "--clean", str(clean), str(more), "--lsb-rate", "1", "--crop", "64",
                 "--per-image", "2", "--out-dir", str(out), "--name", "two"]) == 0
    assert json.loads((out / "steganalysis_two.json").read_text())["n_clean"] == 10
    assert set(res["detectors"]) == {"primary_sets", "chi_square", "sample_pairs", "rs", "fused"}
    assert res["detectors"]["fused"]["auc"] == 1.0  # full LSB replacement is caught on every crop
    assert len(res["detectors"]["fused"]["roc"]["fpr"]) == 101
    assert (out / "steganalysis_lsb_rate1.png").stat().st_size > 0


def test_eval_steganalysis_model_and_stego_folder(sample, tmp_path, capsys):
    clean = _folder(tmp_path / "clean", sample)
    out = tmp_path / "res"
    keep = tmp_path / "stego"
    assert main(["eval", "steganalysis", "--clean", str(clean), "--model", "lsb1", "--save-stego", str(keep),
                 "--out-dir", str(out)]) == 0
    assert len(list(keep.glob("*.png"))) == 3
    assert main(["eval", "steganalysis", "--clean", str(clean), "--stego", str(keep), "--name", "mine",
                 "--out-dir", str(out)]) == 0
    a = json.loads((out / "steganalysis_lsb1.default.json").read_text())
    b = json.loads((out / "steganalysis_mine.json").read_text())
    assert a["detectors"]["fused"]["auc_rank"] == pytest.approx(b["detectors"]["fused"]["auc_rank"])
    assert main(["eval", "steganalysis", "--clean", str(tmp_path / "none"), "--lsb-rate", "1"]) == 2
    assert main(["eval", "steganalysis", "--clean", str(clean), "--lsb-rate", "0"]) == 2


@pytest.mark.parametrize("arch", sorted(TINY))
def test_steganalyser_contract(arch):
    torch.manual_seed(0)
    m = create_model(arch, **TINY[arch])
    m.train()
    x = torch.rand(4, 3, 48, 40)
    out = m(x)
    assert out["logits"].shape == (4,) and torch.isfinite(out["logits"]).all()
    torch.nn.functional.binary_cross_entropy_with_logits(out["logits"], torch.tensor([0.0, 1, 0, 1])).backward()
    for name, prm in m.named_parameters():
        assert prm.grad is not None and torch.isfinite(prm.grad).all(), name
    for hw in [(16, 16), (97, 150)]:          # any size, probabilities, deterministic, train mode kept
        p = m.score(torch.rand(1, 3, *hw))
        assert p.shape == (1,) and 0 <= float(p) <= 1
    y = torch.rand(2, 3, 64, 64)
    assert torch.equal(m.score(y), m.score(y)) and m.training


def _train_tiny(sample, tmp_path, target: str, recipe: str) -> Path:
    """``veil steganalyser train --model target`` on 3 generated photos with a tiny recipe; the run folder."""
    photos = _folder(tmp_path / "photos", sample, n=3, size=128)
    (tmp_path / "tiny.toml").write_text(recipe)
    out = tmp_path / "run"
    assert main(["steganalyser", "train", "--model", target, "--config", str(tmp_path / "tiny.toml"), "--data",
                 str(photos), "--val", str(photos), "--out", str(out), "--no-progress"]) == 0
    return out


def test_steganalyser_train_through_the_cli(sample, tmp_path, capsys):
    out = _train_tiny(sample, tmp_path, "lsb1", "pairs = 8\npair_size = 64\ncrop = 32\nbatch = 4\nsteps = 6\n"
                      "log_every = 2\nckpt_every = 3\neval_crop = 64\neval_per_image = 2\n")
    card = json.loads((out / "xunet.lsb1.json").read_text())
    assert card["task"] == "steganalysis" and card["target"] == "lsb1.default"
    m = card["metrics"]["steganalysis"]
    assert m["n_clean"] == m["n_stego"] == 6
    pairs = m["auc"] * 36                # an AUC over 6 x 6 (clean, stego) pairs: pairs ranked right, ties a half
    assert 0 <= pairs <= 36 and abs(pairs * 2 - round(pairs * 2)) < 1e-9
    assert (out / "xunet.lsb1.safetensors").is_file() and card["training"]["steps"] == 6
    capsys.readouterr()
    argv = ["steganalyser", "train", "--model", "lsb1", "--config", str(tmp_path / "tiny.toml"), "--data",
            str(tmp_path / "photos"), "--val", str(tmp_path / "photos"), "--out", str(out)]
    assert main(argv) == 2                                   # a run is there: no silent clobbering
    assert "--resume" in capsys.readouterr().err
    assert main(["steganalyser", "train", "--model", "nothing"]) == 2


def test_report_is_self_contained(sample, tmp_path, capsys):
    clean = _folder(tmp_path / "clean", sample)
    res = tmp_path / "results"
    assert main(["eval", "steganalysis", "--clean", str(clean), "--lsb-rate", "1", "--out-dir", str(res)]) == 0
    page = tmp_path / "r.html"
    assert main(["report", "--results", str(res), "--out", str(page)]) == 0
    text = page.read_text()
    assert "<h2>Steganalysis</h2>" in text and "<h2>Live example</h2>" in text
    assert text.count("data:image/png;base64,") >= 3          # live example, ROC, histograms
    assert 'src="http' not in text
    assert main(["report", "--results", str(res), "--out", str(page)]) == 2   # not overwritten
    assert main(["report", "--results", str(tmp_path / "none"), "--out", str(tmp_path / "x.html")]) == 2


def test_eval_steganalysis_with_a_shipped_learned_steganalyser(sample, tmp_path, capsys):
    clean = _folder(tmp_path / "clean", sample, n=2)
    out = tmp_path / "res"
    assert main(["eval", "steganalysis", "--clean", str(clean), "--lsb-rate", "1", "--learned", "xunet.qr_densenet",
                 "--out-dir", str(out)]) == 0
    res = json.loads((out / "steganalysis_lsb_rate1.json").read_text())
    d = res["detectors"]["xunet.qr_densenet"]
    clean_s = [r["xunet.qr_densenet"] for r in res["scores"]["clean"]]
    stego_s = [r["xunet.qr_densenet"] for r in res["scores"]["stego"]]
    assert all(0 <= s <= 1 for s in clean_s + stego_s)            # probabilities
    mann_whitney = sum((s > c) + 0.5 * (s == c) for s in stego_s for c in clean_s) / (len(stego_s) * len(clean_s))
    assert d["auc"] == pytest.approx(mann_whitney)                # the AUC of the scores it wrote
    assert main(["eval", "steganalysis", "--clean", str(clean), "--lsb-rate", "1", "--learned", "stegnet",
                 "--out-dir", str(out)]) == 2           # not a steganalyser: one line, exit 2
    assert "not a steganalysis model" in capsys.readouterr().err


@pytest.mark.parametrize("rows", [1, 2, 3, 7, 64])
def test_counting_in_stripes_gives_the_whole_image_numbers(photo, rows):
    # Pairs and 2x2 groups that straddle two stripes, non-overlapping groups on odd stripe starts, chi-square
    # blocks that run across stripes: every estimate equals the one from the image counted in one piece.
    rng = np.random.default_rng(rows)
    for a in (D.lsb_embed(photo[:37, :41], 0.2, rng), rng.integers(0, 256, (9, 13), dtype=np.uint8),
              D.lsb_embed(photo[:66, :70], 0.5, rng, sequential=True)):
        whole = D.analyze_counts(D.count(a, rows=10_000))
        assert D.analyze_counts(D.count(a, rows=rows)) == whole
    assert 0.1 < whole["chi_square"] and whole["fused"] > 0.2     # the sequential 50% case is seen at all


def test_a_learned_steganalyser_names_the_target_weights_it_was_trained_against(monkeypatch):
    import veil.registry as R
    from veil.eval.steganalysis import target_note

    real = R.get_card
    shipped = real("stegnet.default", None)["weights"]["sha256"]

    def card_with(sha):
        def get_card(name, task="qr"):
            c = dict(real(name, task))
            if c["name"] == "xunet.stegnet":
                c["target_sha256"] = sha
            return c
        return get_card

    monkeypatch.setattr(R, "get_card", card_with(shipped))
    assert target_note("xunet.stegnet") is None
    monkeypatch.setattr(R, "get_card", card_with("0" * 64))
    assert "other stegnet.default weights" in target_note("xunet.stegnet")
    monkeypatch.setattr(R, "get_card", card_with(None))
    assert "does not record" in target_note("xunet.stegnet")


def test_a_steganalyser_trains_against_stealth_text(sample, tmp_path, capsys):
    # the weightless routes have no card: the steganalyser's card names them, with no target weights to record
    out = _train_tiny(sample, tmp_path, "stealth", "pairs = 6\npair_size = 96\ncrop = 32\nbatch = 3\nsteps = 3\n"
                      "log_every = 1\nckpt_every = 3\neval_crop = 96\neval_per_image = 1\n")
    card = json.loads((out / "xunet.stealth.json").read_text())
    assert card["target"] == "stealth" and card["target_sha256"] is None
    assert card["metrics"]["steganalysis"]["n_clean"] == 3 and "--model stealth" in card["metrics"]["steganalysis"][
        "command"]
    capsys.readouterr()
