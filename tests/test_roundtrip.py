"""Real round trips through the shipped weights: hide -> 8-bit PNG file -> reveal."""
import numpy as np
import pytest
from PIL import Image

import veil
from veil.imaging import pil_to_tensor
from veil.metrics import psnr
from veil.registry import DEFAULTS, list_cards

from .conftest import photo_like

MODELS = [c["name"] for c in list_cards() if c.get("task") == "qr"]   # every released QR weight


def test_default_model_round_trip_through_png(sample, tmp_path):
    text = "meet me at the old bridge, 6pm"
    stego = veil.hide_qr(sample, text)
    assert stego.size == sample.size and stego.mode == "RGB"
    p = tmp_path / "stego.png"
    stego.save(p)
    loaded = Image.open(p)
    assert veil.reveal_qr(loaded) == text
    # the default (qr_densenet.robust) measures 32.4 dB on this photo; the floor catches a regression
    assert psnr(pil_to_tensor(loaded), pil_to_tensor(sample)) > 31


@pytest.mark.parametrize("model", MODELS)
def test_every_shipped_model_round_trips(model, sample, tmp_path):
    text = "veil 0123"
    stego = veil.hide_qr(sample, text, model=model)
    p = tmp_path / "s.png"
    stego.save(p)
    assert veil.reveal_qr(Image.open(p), model=model) == text


@pytest.mark.parametrize("model", [m for m in MODELS if m != DEFAULTS["qr"]])
def test_reveal_without_a_model_finds_the_one_that_hid(model, sample, tmp_path):
    """A stego written with --model reads back without naming it: reveal tries every released QR model."""
    text = "no model named"
    stego = veil.hide_qr(sample, text, model=model)
    p = tmp_path / "s.png"
    stego.save(p)
    assert veil.reveal_qr(Image.open(p)) == text


def test_robust_model_survives_a_jpeg_resave(sample, tmp_path):
    """qr_densenet.robust: the text comes back from a real libjpeg re-save (Pillow, quality 75 and 50, 4:2:0)."""
    text = "jpeg me 42"
    stego = veil.hide_qr(sample, text, model="qr_densenet.robust")
    for q in (75, 50):
        p = tmp_path / f"q{q}.jpg"
        stego.save(p, quality=q)
        assert veil.reveal_qr(Image.open(p), model="qr_densenet.robust") == text, q


@pytest.mark.parametrize("w,h", [(64, 64), (100, 300), (127, 90), (128, 128), (333, 128), (200, 777), (1920, 1080),
                                 (4096, 1024)])
def test_any_cover_size(w, h, tmp_path):
    cover = photo_like(w, h, seed=w + h)
    text = f"size {w}x{h}"
    stego = veil.hide_qr(cover, text)
    assert stego.size == (w, h)
    p = tmp_path / "s.png"
    stego.save(p)
    assert veil.reveal_qr(Image.open(p)) == text


def test_longest_text_at_ecc_m(sample, tmp_path):
    text = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"  # 50 characters: version 4
    stego = veil.hide_qr(sample, text)
    p = tmp_path / "s.png"
    stego.save(p)
    assert veil.reveal_qr(Image.open(p)) == text


def test_rgba_cover_keeps_alpha_and_grey_cover_works(sample, tmp_path):
    rgba = sample.convert("RGBA")
    a = np.asarray(rgba).copy()
    a[:40, :40, 3] = 0
    rgba = Image.fromarray(a, "RGBA")
    stego = veil.hide_qr(rgba, "alpha kept")
    assert stego.mode == "RGBA"
    assert np.array_equal(np.asarray(stego)[..., 3], a[..., 3])
    p = tmp_path / "a.png"
    stego.save(p)
    assert veil.reveal_qr(Image.open(p)) == "alpha kept"
    grey = sample.convert("L")
    stego = veil.hide_qr(grey, "grey cover")
    assert stego.mode == "RGB" and veil.reveal_qr(stego) == "grey cover"


def test_clean_image_reveals_nothing(sample):
    with pytest.raises(veil.RevealError):
        veil.reveal_qr(sample)


def test_api_rejects_bad_input(sample):
    with pytest.raises(veil.InputError):
        veil.hide_qr(sample, "")
    with pytest.raises(veil.CapacityError, match="62 bytes"):
        veil.hide_qr(sample, "x" * 100)
    with pytest.raises(veil.InputError, match="at least 64 px"):
        veil.hide_qr(sample.resize((40, 40)), "hi")
    # a model without a small-cover model keeps its own floor
    with pytest.raises(veil.InputError, match="at least 128 px"):
        veil.hide_qr(sample.resize((100, 300)), "hi", model="qr_densenet.paper")
    # under 128 px the default hands over to qr_densenet.small (QR versions 1-2): the message says so
    with pytest.raises(veil.CapacityError, match="26 bytes.*qr_densenet.small"):
        veil.hide_qr(sample.resize((100, 100)), "x" * 40)
    with pytest.raises(veil.InputError, match="PIL image"):
        veil.hide_qr("not an image", "hi")
    with pytest.raises(veil.InputError, match="unknown model"):
        veil.hide_qr(sample, "hi", model="nope")


def test_small_covers_go_to_the_small_cover_model():
    from veil.qr import qr_model_for

    assert qr_model_for(512).card["name"] == "qr_densenet.quiet"      # the default
    assert qr_model_for(127).card["name"] == "qr_densenet.small"
    assert qr_model_for(127, "qr_densenet").card["name"] == "qr_densenet.small"
    assert qr_model_for(127, "qr_densenet.paper").card["name"] == "qr_densenet.paper"


def test_reveal_tries_the_other_model_after_a_resize_across_the_boundary(tmp_path):
    from veil.api import reveal_qr_image
    from veil.qr import qr_candidates

    assert [m.card["name"] for m in qr_candidates(120)][:2] == ["qr_densenet.small", "qr_densenet.quiet"]
    assert [m.card["name"] for m in qr_candidates(300)][:2] == ["qr_densenet.quiet", "qr_densenet.small"]
    # a named model is tried with its pair only; with none named, every other released QR model follows
    assert [m.card["name"] for m in qr_candidates(300, "qr_densenet")] == ["qr_densenet.quiet", "qr_densenet.small"]
    assert len(list(qr_candidates(300))) == len(MODELS)
    cover = photo_like(160, 160, seed=0)
    stego = veil.hide_qr(cover, "crossed", model="qr_densenet.robust")   # hidden by a >= 128 px model ...
    p = tmp_path / "s.png"
    stego.resize((120, 120), Image.BICUBIC).save(p)   # ... then shrunk under 128 px: the small model reads first
    assert reveal_qr_image(Image.open(p), "qr_densenet.small")[0] is None    # and fails on this one,
    assert veil.reveal_qr(Image.open(p)) == "crossed"                        # so the others are tried next
