"""Classical LSB detectors at known embedding rates, ROC/AUC on hand-computed cases, `veil analyze`."""
import json

import numpy as np
import pytest
from PIL import Image

from veil.cli.main import main
from veil.eval import detectors as D
from veil.metrics.detection import auc_from_curve, auc_rank, roc_sweep, summarise_scores, tpr_at_fpr


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
    # a missing file: one line on stderr, the other image still analysed, exit 2
    assert main(["analyze", "--json", str(tmp_path / "nope.png"), str(sample_path)]) == 2
    out, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1 and json.loads(out)["verdict"] == "clean"
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
