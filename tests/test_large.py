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
    from veil.qr import get_model, qr_tensor
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


@pytest.mark.parametrize("name", ["lsb1", "lsb4", "stegnet"])
@pytest.mark.parametrize("secret_channels", [1, 3])
def test_image_hiding_on_uint8_tiles_gives_the_float_path_pixels(name, secret_channels):
    # embed_array / extract_array never hold a float copy of the whole image; their pixels must be those of
    # embed / extract on the whole float image, rounded (tiles: 150 px with the models' own halos).
    from veil.registry import create_model

    m = create_model(name, secret_channels=secret_channels).eval()
    m.tile = 150
    with torch.no_grad():            # away from the zero-initialised residual head, so the stego is not the cover
        for i, p in enumerate(m.parameters()):
            p.add_(0.05 * torch.randn(p.shape, generator=torch.Generator().manual_seed(i)))
    rng = np.random.default_rng(secret_channels)
    cover = rng.integers(0, 256, (333, 401, 3), dtype=np.uint8)
    cover[:, :200] = np.linspace(0, 255, 200, dtype=np.uint8)[None, :, None]      # smooth and busy halves
    secret = rng.integers(0, 256, (333, 401, secret_channels), dtype=np.uint8)
    stego = m.embed_array(cover, secret)
    assert stego.dtype == np.uint8 and stego.shape == cover.shape and (stego != cover).any()
    assert (stego == tensor_to_uint8(m.embed(uint8_to_tensor(cover), uint8_to_tensor(secret)))).all()
    full = m.extract(uint8_to_tensor(stego))
    assert (m.extract_array(stego) == tensor_to_uint8(full)).all()
    assert (m.extract_array(stego, grey=True) == tensor_to_uint8(full.mean(1, keepdim=True))).all()
    if name.startswith("lsb"):     # and the secret's high bits come back
        bits = int(name[3])
        got = m.extract_array(stego, grey=secret_channels == 1)
        assert (got >> (8 - bits) == secret >> (8 - bits)).all()


@pytest.mark.parametrize("route, verify", [("qr", ["blur:1", "resize:0.5"]), ("message", ["jpeg:75", "blur:1"])])
def test_verify_on_a_large_cover_works_on_uint8_pixels(sample, route, verify, monkeypatch):
    # Above STRIPED_ATTACK_ABOVE pixels, --verify embeds, attacks and reads from uint8 pixels in stripes (no
    # float copy of the whole image): it picks the strength the float path picks, and the written file gives the
    # text back after the real attacks.
    import veil.api as api

    cover = sample.resize((640, 480))
    hide = api.hide_qr_report if route == "qr" else api.hide_report
    floats, ref = hide(cover, "large", verify=verify)
    monkeypatch.setattr(api, "STRIPED_ATTACK_ABOVE", 100_000)
    m = api.get_model(None, "qr" if route == "qr" else "message")
    monkeypatch.setattr(type(m), "embed", lambda *a, **k: pytest.fail("float embed on a large cover"))
    stego, rep = hide(cover, "large", verify=verify)
    assert rep.mode == ref.mode == "verified" and rep.strength == ref.strength and rep.attacks == verify
    assert rep.reads_back
    assert np.abs(np.asarray(stego, dtype=int) - np.asarray(floats, dtype=int)).max() <= 1
    reveal = veil.reveal_qr if route == "qr" else veil.reveal
    for spec in verify:
        assert reveal(veil.attack_image(stego, [spec])) == "large"
