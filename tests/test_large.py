"""Large images are processed from uint8 in stripes: the same pixels (to a rounding tie) as the whole-image float
path the models were trained and measured with. Peak memory and time on 8000x6000 are measured by
scripts/bench_large.py (results/bench_large.json), not here."""
import numpy as np
import pytest
import torch
from PIL import Image

import veil
from veil.api import attack_in_stripes, resize_array
from veil.attacks import Chain, Quantize8bit, parse_attack
from veil.imaging import add_residual_array, resize, shrink_array, tensor_to_uint8, uint8_to_tensor


@pytest.fixture(scope="module")
def tall(sample) -> np.ndarray:
    return np.asarray(sample.resize((700, 1301)))


def test_shrink_in_stripes_is_the_whole_image_resize(tall, monkeypatch):
    import veil.imaging
    monkeypatch.setattr(veil.imaging, "STRIPE_SAMPLES", 3 * 700 * 100)      # 100-row stripes
    for size in [(128, 128), (256, 96)]:
        assert torch.allclose(shrink_array(tall, size), resize(uint8_to_tensor(tall), size), atol=1e-6)


@pytest.mark.parametrize("channels", [1, 3])
def test_adding_an_upsampled_residual_in_stripes_matches_to_a_rounding_tie(tall, channels, monkeypatch):
    import veil.imaging
    monkeypatch.setattr(veil.imaging, "STRIPE_SAMPLES", 3 * 700 * 100)
    r = torch.randn(1, channels, 128, 128, generator=torch.Generator().manual_seed(0)) * 0.05
    ref = tensor_to_uint8((uint8_to_tensor(tall) + resize(r, tall.shape[:2])).clamp(0, 1))
    got = add_residual_array(tall, r)
    diff = np.abs(ref.astype(int) - got)
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3


@pytest.mark.parametrize("spec", ["blur:1", "jpeg:75", "blur:2+jpeg:50", "jpeg:30+blur:1.5", "saturation:0.5"])
def test_local_attacks_in_stripes_give_the_same_pixels(tall, spec):
    chain = Chain(parse_attack(spec), Quantize8bit())
    ref = tensor_to_uint8(chain(uint8_to_tensor(tall)))
    assert np.array_equal(attack_in_stripes(chain, tall, rows=128), ref)


def test_global_attacks_are_not_striped_and_resize_matches_to_a_tie(tall):
    assert Chain(parse_attack("contrast:1.2")).reach() is None and Chain(parse_attack("crop:0.9")).reach() is None
    ref = tensor_to_uint8(Chain(parse_attack("resize:0.5"), Quantize8bit())(uint8_to_tensor(tall)))
    diff = np.abs(ref.astype(int) - resize_array(tall, 0.5))
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3


@pytest.mark.parametrize("route", ["qr", "spread"])
def test_hiding_through_the_uint8_path_matches_the_float_embed(sample, route):
    from veil.api import get_model, qr_tensor
    from veil.hiding import message_bits
    from veil.payloads.qr import encode_text

    m = get_model(None, "qr" if route == "qr" else "message")
    payload = qr_tensor([encode_text("x", "M", m.spec)], m) if route == "qr" else message_bits("x", m)
    a = np.asarray(sample.resize((300, 200)))
    ref = tensor_to_uint8(m.embed(uint8_to_tensor(a), payload))
    diff = np.abs(ref.astype(int) - m.embed_array(a, payload))
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3
    stego = Image.fromarray(m.embed_array(a, payload))
    assert (veil.reveal_qr(stego) if route == "qr" else veil.reveal(stego)) == "x"
