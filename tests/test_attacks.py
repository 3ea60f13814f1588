"""Attack modules: contracts, gradients, the real codec, spec parsing; `veil attack` on real files."""
import io

import numpy as np
import pytest
import torch
from PIL import Image

from veil.attacks import (JPEG, STANDARD_MATRIX, Brightness, Chain, Contrast, DiffJPEG, GaussianBlur, GaussianNoise,
                          Quantize8bit, RandomAttacks, Resize, Saturation, parse_attack)
from veil.cli.main import main
from veil.imaging import pil_to_tensor
from veil.metrics import psnr

from .conftest import photo_like

ALL = [Quantize8bit(), JPEG(75), DiffJPEG(75), GaussianBlur(1.0), Resize(0.5), Resize(0.5, "bicubic"),
       GaussianNoise(4), Brightness(1.1), Contrast(0.9), Saturation(1.2)]


@pytest.fixture
def x():
    return pil_to_tensor(photo_like(100, 70, seed=3)).contiguous()


@pytest.mark.parametrize("attack", ALL, ids=lambda a: a.spec())
def test_shape_range_and_gradient(attack, x):
    x = x.clone().requires_grad_(True)
    y = attack(x)
    assert y.shape == x.shape and float(y.detach().min()) >= 0 and float(y.detach().max()) <= 1
    y.sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0 and torch.isfinite(x.grad).all()


@pytest.mark.parametrize("attack", [GaussianBlur(0.0), Resize(1.0), GaussianNoise(0.0), Brightness(1.0),
                                    Contrast(1.0), Saturation(1.0)], ids=lambda a: a.spec())
def test_neutral_strength_is_identity(attack, x):
    assert torch.allclose(attack(x), x, atol=1e-6)


def test_attacks_change_the_image(x):
    for a in ALL[1:]:
        assert psnr(a(x), x) < 60, a.spec()


def test_real_jpeg_is_pillows_codec(x):
    a = (x[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="JPEG", quality=50)
    want = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    got = (JPEG(50)(x)[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    assert np.array_equal(got, want)


def test_diff_jpeg_approximates_the_codec(sample):
    x = pil_to_tensor(sample.resize((200, 136))).contiguous()
    for q in (90, 50):
        real, approx = JPEG(q)(x), DiffJPEG(q)(x)
        assert psnr(approx, real) > 38        # measured 41-45 dB on photos
        assert psnr(approx, real) > psnr(x, real)


def test_blur_smaller_image_than_kernel():
    y = GaussianBlur(3.0)(torch.rand(1, 3, 5, 7))
    assert y.shape == (1, 3, 5, 7)


def test_ranges_are_sampled_within_bounds_and_seeded(x):
    a = GaussianNoise((1.0, 3.0))
    torch.manual_seed(0)
    draws = [a.draw() for _ in range(50)]
    assert all(1.0 <= d <= 3.0 for d in draws) and len(set(draws)) > 40
    torch.manual_seed(0)
    assert [a.draw() for _ in range(50)] == draws


def test_random_chain_records_what_it_did(x):
    torch.manual_seed(1)
    r = RandomAttacks([GaussianBlur(1.0), JPEG(60)], p_none=0.0, max_chain=2)
    seen = set()
    for _ in range(20):
        r(x)
        seen.add(r.last)
    assert seen <= {"blur:1", "jpeg:60", "blur:1+jpeg:60", "jpeg:60+blur:1"} and len(seen) >= 3


def test_parse_specs():
    assert isinstance(parse_attack("jpeg:75"), JPEG)
    assert parse_attack("jpeg:50-95").strength == (50.0, 95.0)
    r = parse_attack("resize:0.5:bicubic")
    assert isinstance(r, Resize) and r.mode == "bicubic" and r.spec() == "resize:0.5:bicubic"
    c = parse_attack("blur:1+jpeg:75")
    assert isinstance(c, Chain) and c.spec() == "blur:1+jpeg:75"
    for specs in STANDARD_MATRIX.values():
        for s in specs:
            assert parse_attack(s).spec() == s


@pytest.mark.parametrize("bad,msg", [("jpg:75", "unknown attack"), ("jpeg:0", "out of range"),
                                     ("jpeg", "needs a strength"),
                                     ("blur:abc", "bad attack strength"), ("resize:0.5:nearest", "mode"),
                                     ("noise:2:x", "unexpected option"), ("", "empty")])
def test_bad_specs(bad, msg):
    with pytest.raises(ValueError, match=msg):
        parse_attack(bad)


# ----------------------------------------------------------------------------- veil attack

def test_cli_applies_attacks_in_order(tmp_path, capsys):
    src = tmp_path / "in.png"
    photo_like(120, 90, seed=5).save(src)
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert main(["attack", str(src), "-o", str(a), "--blur", "1", "--jpeg", "60"]) == 0
    assert main(["attack", str(src), "-o", str(b), "--jpeg", "60", "--blur", "1"]) == 0
    assert "blur:1 then jpeg:60" in capsys.readouterr().err
    ia, ib = np.asarray(Image.open(a)), np.asarray(Image.open(b))
    assert ia.shape == ib.shape == (90, 120, 3) and not np.array_equal(ia, ib)


def test_cli_jpeg_output_is_the_codecs_bytes(tmp_path):
    src = tmp_path / "in.png"
    img = photo_like(64, 64, seed=6)
    img.save(src)
    out = tmp_path / "o.jpg"
    assert main(["attack", str(src), "-o", str(out), "--jpeg", "70"]) == 0
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=70)
    assert out.read_bytes() == buf.getvalue()


@pytest.mark.parametrize("args", [[], ["--jpeg", "0"], ["--resize", "2"], ["--blur", "x"]])
def test_cli_bad_input_exit_2_writes_nothing(tmp_path, args, capsys):
    src = tmp_path / "in.png"
    photo_like(64, 64).save(src)
    out = tmp_path / "o.png"
    assert main(["attack", str(src), "-o", str(out), *args]) == 2
    assert not out.exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("veil: error:")


def test_cli_refuses_jpeg_file_without_final_jpeg_and_keeps_existing_output(tmp_path):
    src = tmp_path / "in.png"
    photo_like(64, 64).save(src)
    assert main(["attack", str(src), "-o", str(tmp_path / "o.jpg"), "--blur", "1"]) == 2
    existing = tmp_path / "keep.png"
    existing.write_bytes(b"mine")
    assert main(["attack", str(src), "-o", str(existing), "--blur", "1"]) == 2
    assert existing.read_bytes() == b"mine"
    assert main(["attack", str(src), "-o", str(existing), "--blur", "1", "--force"]) == 0


def test_api_attack_image(sample):
    import veil

    small = sample.resize((128, 128))
    out = veil.attack_image(small, ["blur:1", "jpeg:75"])
    assert out.size == small.size and out.mode == "RGB"
    assert not np.array_equal(np.asarray(out), np.asarray(small))
    assert np.array_equal(np.asarray(veil.attack_image(small, ["noise:2"], seed=1)),
                          np.asarray(veil.attack_image(small, ["noise:2"], seed=1)))
    with pytest.raises(veil.InputError, match="unknown attack"):
        veil.attack_image(small, ["gzip:9"])
