"""Hide-time strength: a fixed multiple of the calibrated gain, or the quietest one verified against attacks."""
import pytest
import torch
from PIL import Image

import veil
from veil.api import hide_qr_report
from veil.qr import get_model, qr_tensor
from veil.imaging import pil_to_tensor
from veil.metrics import psnr
from veil.payloads.qr import encode_text
from veil.strength import DEFAULT_LADDER


def test_gain_scales_the_residual_linearly(sample):
    m = get_model("qr_densenet")
    c = pil_to_tensor(sample.resize((128, 128)))
    q = qr_tensor([encode_text("gain", "M", m.spec)], m)
    r1 = m.residual(c, q)
    r2 = m.residual(c, q, strength=2.0)
    assert torch.allclose(r2, 2 * r1, atol=1e-6)
    assert float(m.calibrated_gain) > 0 and r1.abs().max() > 0


def test_stronger_is_louder(sample):
    quiet = veil.hide_qr(sample, "volume", strength=0.5)
    loud = veil.hide_qr(sample, "volume", strength=2)
    c = pil_to_tensor(sample)
    assert psnr(pil_to_tensor(quiet), c) > psnr(pil_to_tensor(loud), c) + 6   # 12 dB apart before 8-bit rounding


def test_verified_hide_survives_the_named_attack_and_is_quieter_than_needed(sample, tmp_path):
    """With verify=["jpeg:50"], the written file gives the text back after a real Pillow JPEG q50 re-save, and the
    strength chosen is a rung of the ladder."""
    text = "verified 77"
    stego, rep = hide_qr_report(sample, text, model="qr_densenet.robust", verify=["jpeg:50"])
    assert rep.mode == "verified" and rep.strength in DEFAULT_LADDER and rep.tried >= 2
    p = tmp_path / "s.png"
    stego.save(p)
    Image.open(p).convert("RGB").save(tmp_path / "q50.jpg", quality=50)
    assert veil.reveal_qr(Image.open(tmp_path / "q50.jpg"), model="qr_densenet.robust") == text
    # the description names what was checked
    assert "jpeg:50" in rep.describe()


def test_an_attack_nothing_survives_is_reported_not_hidden(sample):
    stego, rep = hide_qr_report(sample, "too much", model="qr_densenet", verify=["resize:0.05"])
    assert rep.mode == "unverified" and rep.failed == ["resize:0.05"] and rep.strength == max(DEFAULT_LADDER)
    assert stego.size == sample.size


@pytest.mark.parametrize("kw", [{"strength": 0}, {"strength": -1}, {"strength": "loud"}, {"strength": 11},
                                {"verify": ["jpeg:500"]}, {"verify": "nope:1"}, {"strength": 2, "verify": ["jpeg:50"]}])
def test_bad_strength_or_verify_is_an_input_error(sample, kw):
    with pytest.raises(veil.InputError):
        veil.hide_qr(sample, "x", **kw)


def test_cli_prints_the_strength_and_warns_when_unverified(sample_path, tmp_path, capsys):
    from veil.cli.main import main

    out = tmp_path / "s.png"
    assert main(["qr", "hide", str(sample_path), "-t", "hi", "-o", str(out), "--verify", "resize:0.05"]) == 0
    err = capsys.readouterr().err
    assert "did NOT read back after resize:0.05" in err and "warning" in err


def test_robust_model_verifies_by_default_and_a_fixed_strength_turns_it_off():
    """qr_densenet.robust with no strength named picks each image's strength against its card's attacks; a
    strength given is used as is."""
    from .conftest import photo_like

    cover = photo_like(200, 160, seed=4)
    card = get_model("qr_densenet.robust").card
    _, rep = hide_qr_report(cover, "by default", model="qr_densenet.robust")
    assert rep.mode in ("verified", "unverified") and rep.attacks == card["verify_default"]
    _, rep = hide_qr_report(cover, "fixed", model="qr_densenet.robust", strength=1)
    assert rep.mode == "fixed" and rep.strength == 1.0
    _, rep = hide_qr_report(cover, "quiet", model="qr_densenet")       # the default QR model has no default verify
    assert rep.mode == "fixed"
