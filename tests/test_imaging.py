import numpy as np
import pytest
import torch
from PIL import Image

from veil.errors import InputError
from veil.files import check_output_path
from veil.imaging import load_image, pil_to_tensor, quantize_8bit, resize, split_alpha, tensor_to_pil


def test_pil_tensor_round_trip_is_exact(sample):
    t = pil_to_tensor(sample)
    assert t.shape == (1, 3, sample.height, sample.width) and t.dtype == torch.float32
    assert 0 <= float(t.min()) and float(t.max()) <= 1
    assert np.array_equal(np.asarray(tensor_to_pil(t)), np.asarray(sample))


def test_quantize_rounds_and_passes_gradient_straight_through():
    x = torch.rand(2, 3, 8, 8, requires_grad=True)
    q = quantize_8bit(x)
    assert torch.allclose(q * 255, (q * 255).round(), atol=1e-4)
    q.sum().backward()
    assert torch.allclose(x.grad, torch.ones_like(x))


def test_resize_shapes_and_identity():
    x = torch.rand(1, 3, 100, 60)
    assert resize(x, (50, 30)).shape == (1, 3, 50, 30)
    assert resize(x, (100, 60)) is x
    assert resize(x, 128).shape == (1, 3, 128, 128)


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "LA", "CMYK", "I;16", "I", "F"])
def test_modes_become_rgb(mode):
    base = Image.fromarray(np.random.default_rng(0).integers(0, 256, (32, 40, 3), dtype=np.uint8))
    if mode == "I;16":
        img = Image.fromarray(np.asarray(base.convert("L"), np.uint16) * 257)
        assert img.mode == "I;16"
    elif mode == "I":
        img = base.convert("L").convert("I")
    elif mode == "F":
        img = base.convert("L").convert("F")
    else:
        img = base.convert(mode)
    rgb, alpha = split_alpha(img)
    assert rgb.mode == "RGB" and rgb.size == (40, 32)
    assert (alpha is not None) == (mode in ("RGBA", "LA"))
    if mode in ("I;16", "I", "F", "L"):  # grey data keeps its levels, not clipped to white or black
        assert np.abs(np.asarray(rgb)[..., 0].astype(int) - np.asarray(base.convert("L")).astype(int)).max() <= 1


def test_exif_rotation_is_applied(tmp_path):
    img = Image.new("RGB", (80, 40), (10, 20, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW on display
    p = tmp_path / "r.jpg"
    img.save(p, exif=exif)
    assert load_image(p).size == (40, 80)


def test_load_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_image(tmp_path / "missing.png")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    with pytest.raises(InputError):
        load_image(bad)
    txt = tmp_path / "notes.txt"
    txt.write_text("hello")
    with pytest.raises(InputError, match="not an image"):
        load_image(txt)


def test_output_path_is_not_overwritten(tmp_path):
    p = tmp_path / "x.png"
    p.write_bytes(b"keep")
    with pytest.raises(InputError, match="--force"):
        check_output_path(p)
    assert check_output_path(p, force=True) == p
