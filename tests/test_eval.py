"""`veil eval qr`, `veil eval hide`, `veil bench qr` and `veil demo` through the real entry point, at small size."""
import json

from PIL import Image

from veil.cli.main import main

from .conftest import photo_like


def test_eval_qr_writes_results(tmp_path, capsys):
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    for i in range(2):
        photo_like(400, 300, seed=i).save(imgs / f"p{i}.png")
    out = tmp_path / "r.json"
    code = main(["eval", "qr", "--images", str(imgs), "--crops", "2", "--native", "1", "--out", str(out)])
    assert code == 0
    res = json.loads(out.read_text())
    assert res["overall"]["n"] == 6
    assert res["by_size"]["256"]["n"] == 4 and res["by_size"]["native"]["n"] == 2
    for key in ("success", "psnr_mean", "ssim_mean", "mae_mean", "module_accuracy"):
        assert key in res["overall"]
    assert 0 <= res["overall"]["success"] <= 1
    assert res["by_category"]["flat"]["n"] + res["by_category"]["sharp"]["n"] == 6
    assert "exact text" in capsys.readouterr().out


def test_eval_missing_folder_is_exit_2(tmp_path, capsys):
    assert main(["eval", "qr", "--images", str(tmp_path / "none"), "--out", str(tmp_path / "r.json")]) == 2


def test_bench_writes_json(tmp_path):
    out = tmp_path / "b.json"
    assert main(["bench", "qr", "--sizes", "256x256", "--repeats", "3", "--out", str(out)]) == 0
    row = json.loads(out.read_text())["results"][0]
    assert row["size"] == "256x256" and row["revealed_ok"] == 3 and row["repeats"] == 3
    # the reported latencies are the medians of the runs it kept (the warm-up left out), the peak covers the load
    assert len(row["hide_all_s"]) == len(row["reveal_all_s"]) == 3
    assert row["hide_s"] == sorted(row["hide_all_s"])[1] and row["reveal_s"] == sorted(row["reveal_all_s"])[1]
    assert row["peak_rss_mb"] >= row["rss_after_load_mb"]


def test_demo_reveals_the_text_after_jpeg50_and_prints_psnr(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "hidden    : meet me at noon!" in out and "JPEG quality 50" in out
    assert "revealed  : meet me at noon!" in out and "PSNR" in out and "match     : yes" in out


def test_robustness_matrix_writes_json_and_plot(tmp_path, capsys):
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    photo_like(300, 260, seed=9).save(imgs / "p.png")
    out = tmp_path / "robust.json"
    assert main(["eval", "qr", "--images", str(imgs), "--attacks", "jpeg", "blur:1+jpeg:75", "--crops", "1",
                 "--native", "1", "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert set(res["cells"]) == {"none", "jpeg:90", "jpeg:75", "jpeg:50", "jpeg:30", "blur:1+jpeg:75"}
    assert res["samples"] == 2
    for cell in res["cells"].values():
        assert cell["n"] == 2 and 0 <= cell["success"] <= 1 and 0 <= cell["module_accuracy"] <= 1
    assert res["cells"]["none"]["success"] == 1.0          # the clean file still reads
    # a harsher JPEG never reads more modules than no attack at all
    assert res["cells"]["jpeg:30"]["module_accuracy"] <= res["cells"]["none"]["module_accuracy"]
    png = out.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "jpeg:75" in capsys.readouterr().out


def test_robustness_bad_attack_is_exit_2(tmp_path, capsys):
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    photo_like(300, 260).save(imgs / "p.png")
    assert main(["eval", "qr", "--images", str(imgs), "--attacks", "gzip:9", "--out", str(tmp_path / "r.json")]) == 2
    assert "unknown attack" in capsys.readouterr().err


def test_eval_hide_writes_the_matrix_false_positives_plot_and_figure(tmp_path, sample_path, capsys):
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    Image.open(sample_path).convert("RGB").resize((300, 260)).save(imgs / "p.png")
    out = tmp_path / "hide.json"
    assert main(["eval", "hide", "--images", str(imgs), "--attacks", "jpeg:75", "crop:0.9", "--crops", "1",
                 "--native", "1", "--clean", "5", "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert set(res["cells"]) == {"none", "jpeg:75", "crop:0.9"} and res["samples"] == 2
    assert res["cells"]["none"]["success"] == 1.0 and 0 <= res["cells"]["none"]["bit_error"] < 0.05
    assert res["cells"]["crop:0.9"]["bit_error"] > res["cells"]["none"]["bit_error"]   # the grid moved
    assert res["false_positives"]["n"] == 5 and res["false_positives"]["messages_found"] == 0
    assert out.with_suffix(".png").is_file() and (tmp_path / "hide_figure.png").is_file()
