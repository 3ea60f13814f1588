"""The CLI as a user runs it: outputs, exit codes, one-line errors, nothing overwritten."""
import subprocess
import sys

import pytest
from PIL import Image

from veil.cli.main import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_hide_then_reveal(sample_path, tmp_path, capsys):
    stego = tmp_path / "stego.png"
    qr = tmp_path / "qr.png"
    code, out, err = run(capsys, "qr", "hide", str(sample_path), "-t", "hello from the CLI", "-o", str(stego))
    assert code == 0 and stego.is_file()
    code, out, err = run(capsys, "qr", "reveal", str(stego), "--qr-out", str(qr))
    assert code == 0 and out == "hello from the CLI\n"
    assert Image.open(qr).size[0] > 0


def test_reveal_of_a_clean_photo_exits_1_with_one_line(sample_path, capsys):
    code, out, err = run(capsys, "qr", "reveal", str(sample_path))
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("case", ["missing", "corrupt", "text_file", "empty_text", "too_long", "too_small", "exists",
                                  "jpeg_out", "bad_model", "zero_strength", "bad_verify", "strength_and_verify"])
def test_bad_input_exits_2_and_writes_nothing(case, sample_path, tmp_path, capsys):
    out = tmp_path / "out.png"
    cover = str(sample_path)
    text = "hello"
    if case == "missing":
        cover = str(tmp_path / "nope.png")
    elif case == "corrupt":
        (tmp_path / "c.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
        cover = str(tmp_path / "c.png")
    elif case == "text_file":
        (tmp_path / "t.jpg").write_text("not an image")
        cover = str(tmp_path / "t.jpg")
    elif case == "empty_text":
        text = ""
    elif case == "too_long":
        text = "y" * 200
    elif case == "too_small":
        Image.new("RGB", (32, 32)).save(tmp_path / "small.png")
        cover = str(tmp_path / "small.png")
    elif case == "exists":
        out.write_bytes(b"precious")
    elif case == "jpeg_out":
        out = tmp_path / "out.jpg"
    extra = {"bad_model": ["--model", "no_such_model"], "zero_strength": ["--strength", "0"],
             "bad_verify": ["--verify", "jpeg:50,sharpen:2"],
             "strength_and_verify": ["--strength", "2", "--verify", "jpeg:50"]}.get(case, [])
    code, stdout, err = run(capsys, "qr", "hide", cover, "-t", text, "-o", str(out), *extra)
    assert code == 2
    assert err.startswith("veil: error:") and len(err.strip().splitlines()) == 1
    if case == "exists":
        assert out.read_bytes() == b"precious"
    else:
        assert not out.exists()
    if case == "too_long":
        assert "62 bytes" in err


def test_force_overwrites(sample_path, tmp_path, capsys):
    out = tmp_path / "out.png"
    out.write_bytes(b"old")
    code, _, _ = run(capsys, "qr", "hide", str(sample_path), "-t", "x", "-o", str(out), "--force")
    assert code == 0 and out.read_bytes()[:4] == b"\x89PNG"


def test_models_lists_released_weights(capsys):
    code, out, _ = run(capsys, "models")
    assert code == 0
    assert "qr_densenet.quiet *" in out and "spread.default *" in out
    assert "qr_baseline.default" in out and "PSNR" in out


def test_usage_error_is_exit_2(capsys):
    code, _, err = run(capsys, "qr", "hide", "--bogus")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("veil: error: unrecognized arguments: --bogus") and "--help" in err
    code, _, err = run(capsys, "qr", "hide")      # nothing to hide: one line naming what is missing
    assert code == 2 and err.count("\n") == 1 and "COVER" in err and "-o OUTPUT" in err


@pytest.mark.slow
def test_python_dash_m_and_console_script(sample_path, tmp_path):
    stego = tmp_path / "s.png"
    r = subprocess.run([sys.executable, "-m", "veil", "qr", "hide", str(sample_path), "-t", "via -m", "-o", str(stego)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "veil", "qr", "reveal", str(stego)], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout == "via -m\n"
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("route", ["qr", "spread"])
def test_non_ascii_texts_come_back_exactly_through_the_shipped_weights(route, sample_path, tmp_path, capsys):
    for i, text in enumerate(["25°C ±2 ©2024", "¡Hola! ÄÖÜ", "5 µg a\x1bb", "日本 😀"]):   # <= 16 bytes
        out = tmp_path / f"s{i}.png"
        hide = ["qr", "hide"] if route == "qr" else ["hide"]
        reveal = ["qr", "reveal"] if route == "qr" else ["reveal"]
        code, _, err = run(capsys, *hide, str(sample_path), "-t", text, "-o", str(out))
        assert code == 0, err
        code, stdout, _ = run(capsys, *reveal, str(out))
        assert code == 0 and stdout == text + "\n"


def test_an_unexpected_exception_is_one_line_and_exit_3_never_1(monkeypatch, sample_path, capsys):
    import veil.api

    def broken(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(veil.api, "reveal_report", broken)
    code, stdout, err = run(capsys, "reveal", str(sample_path))
    assert code == 3 and stdout == ""
    assert err.strip() == "veil: internal error, please report: RuntimeError: boom"


def test_a_file_name_over_255_bytes_is_bad_input(tmp_path, capsys):
    code, stdout, err = run(capsys, "reveal", str(tmp_path / ("a" * 300 + ".png")))
    assert code == 2 and stdout == "" and err.startswith("veil: error:") and len(err.strip().splitlines()) == 1
