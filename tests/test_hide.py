"""`veil hide` / `veil reveal` and veil.hide / veil.reveal through the shipped spread weights: real round trips
through PNG and JPEG files, passphrases, clean images, and bad input."""
import io
import json

import numpy as np
import pytest
from PIL import Image

import veil
from veil.cli.main import main

from .conftest import photo_like


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def jpeg(img: Image.Image, q: int) -> Image.Image:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=q)
    return Image.open(io.BytesIO(buf.getvalue()))


@pytest.fixture(scope="module")
def stego(sample):
    return veil.hide(sample, "meet me at noon!")


def test_api_round_trip_through_png_and_jpeg75(stego, sample, tmp_path):
    assert stego.size == sample.size and stego.mode == "RGB"
    stego.save(tmp_path / "s.png")
    assert veil.reveal(Image.open(tmp_path / "s.png")) == "meet me at noon!"
    got = veil.reveal(jpeg(Image.open(tmp_path / "s.png"), 75))
    assert got == "meet me at noon!" and isinstance(got, str)


def test_bytes_come_back_as_bytes_and_alpha_is_kept(sample):
    rgba = sample.convert("RGBA")
    rgba.putalpha(200)
    s = veil.hide(rgba, b"\x00\x01ID\xff")
    assert s.mode == "RGBA" and np.asarray(s)[..., 3].min() == 200
    got = veil.reveal(s)
    assert got == b"\x00\x01ID\xff" and isinstance(got, bytes)


def test_passphrase_right_wrong_and_missing(sample):
    s = veil.hide(sample, "only for you", passphrase="correct horse")
    assert veil.reveal(s, passphrase="correct horse") == "only for you"
    for wrong in ("correct hors", None):
        with pytest.raises(veil.RevealError):
            veil.reveal(s, passphrase=wrong)


@pytest.mark.parametrize("seed", range(6))
def test_no_message_in_clean_images(seed, sample):
    img = photo_like(300 + 37 * seed, 260, seed) if seed else sample
    with pytest.raises(veil.RevealError):
        veil.reveal(img)


def test_any_aspect_and_size(sample):
    for size in ((64, 64), (97, 300), (1200, 700)):
        cover = sample.resize(size, Image.BICUBIC)
        s = veil.hide(cover, "size check")
        assert s.size == size
        assert veil.reveal(s) == "size check"


def test_cli_hide_reveal_json_and_jpeg(sample_path, tmp_path, capsys):
    out = tmp_path / "s.png"
    code, _, err = run(capsys, "hide", str(sample_path), "-t", "from the CLI", "-o", str(out))
    assert code == 0 and "hid 12 characters" in err
    jpg = tmp_path / "s.jpg"
    Image.open(out).save(jpg, quality=75)
    code, stdout, _ = run(capsys, "reveal", str(jpg))
    assert code == 0 and stdout == "from the CLI\n"
    code, stdout, _ = run(capsys, "reveal", str(out), "--json")
    doc = json.loads(stdout)
    assert code == 0 and doc["found"] and doc["message"] == "from the CLI" and doc["kind"] == "text"
    assert doc["bit_errors_corrected"] >= 0 and 0 <= doc["confidence"] <= 1


def test_cli_hex_and_passphrase_file(sample_path, tmp_path, capsys):
    out, pw = tmp_path / "s.png", tmp_path / "pw.txt"
    pw.write_text("s3cret\n")
    code, _, _ = run(capsys, "hide", str(sample_path), "--hex", "0123abcdef", "-o", str(out),
                     "--passphrase-file", str(pw))
    assert code == 0
    code, stdout, _ = run(capsys, "reveal", str(out), "--passphrase", "s3cret", "--json")
    doc = json.loads(stdout)
    assert code == 0 and doc["message"] == "0123abcdef" and doc["kind"] == "bytes"
    code, stdout, err = run(capsys, "reveal", str(out), "--passphrase", "wrong")
    assert code == 1 and stdout == "" and len(err.strip().splitlines()) == 1


def test_cli_clean_image_exits_1_with_json(sample_path, capsys):
    code, stdout, err = run(capsys, "reveal", str(sample_path), "--json")
    assert code == 1 and json.loads(stdout) == {"found": False, "message": None, "kind": None,
                                                "bit_errors_corrected": None, "confidence": None}
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("case", ["missing", "corrupt", "empty_text", "too_long", "too_small", "exists", "jpeg_out",
                                  "bad_hex", "same_as_cover", "empty_passphrase", "bad_model"])
def test_bad_input_exits_2_and_writes_nothing(case, sample_path, tmp_path, capsys):
    out = tmp_path / "out.png"
    cover, args = str(sample_path), ["-t", "hello"]
    if case == "missing":
        cover = str(tmp_path / "nope.png")
    elif case == "corrupt":
        (tmp_path / "c.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
        cover = str(tmp_path / "c.png")
    elif case == "empty_text":
        args = ["-t", ""]
    elif case == "too_long":
        args = ["-t", "y" * 40]
    elif case == "too_small":
        Image.new("RGB", (40, 200)).save(tmp_path / "small.png")
        cover = str(tmp_path / "small.png")
    elif case == "exists":
        out.write_bytes(b"precious")
    elif case == "jpeg_out":
        out = tmp_path / "out.jpg"
    elif case == "bad_hex":
        args = ["--hex", "12g4"]
    elif case == "same_as_cover":
        Image.open(sample_path).save(tmp_path / "out.png")
        cover = str(out)
    elif case == "empty_passphrase":
        args += ["--passphrase", ""]
    elif case == "bad_model":
        args += ["--model", "no_such_model"]
    before = out.read_bytes() if out.exists() else None
    code, stdout, err = run(capsys, "hide", cover, *args, "-o", str(out))
    assert code == 2, err
    assert err.startswith("veil: error:") and len(err.strip().splitlines()) == 1
    assert (out.read_bytes() if out.exists() else None) == before
    if case == "too_long":
        assert "at most 16 bytes at ECC M" in err


def test_api_bad_input():
    img = photo_like(128, 128)
    for bad in (None, 42, ["x"]):
        with pytest.raises(veil.InputError):
            veil.hide(img, bad)
    with pytest.raises(veil.InputError):
        veil.hide(img, "")
    with pytest.raises(veil.CapacityError, match="16 bytes"):
        veil.hide(img, "x" * 17)
    assert len(veil.hide(img, "x" * 22, ecc="L").tobytes()) > 0    # ECC L carries more
    with pytest.raises(veil.InputError):
        veil.hide("not an image", "x")


def test_verified_hide_reads_back_after_the_named_attack(sample):
    from veil.api import hide_report

    stego, rep = hide_report(sample, "checked first", verify=["jpeg:40"])
    assert rep.mode == "verified" and rep.attacks == ["jpeg:40"]
    assert veil.reveal(jpeg(stego, 40)) == "checked first"
    quiet, loud = veil.hide(sample, "volume", strength=0.5), veil.hide(sample, "volume", strength=2)
    diff = [np.abs(np.asarray(s, np.int16) - np.asarray(sample, np.int16)).mean() for s in (quiet, loud)]
    assert diff[1] > 2 * diff[0]
