import random

import numpy as np
import pytest
import segno
from hypothesis import example, given, settings
from hypothesis import strategies as st

from veil.errors import CapacityError, InputError
from veil.payloads.qr import (BYTE_CAPACITY, QRSpec, clean_code_image, decode_qr_image, encode_text, function_patterns,
                              pixel_to_module, random_code, read_from_probabilities, render_matrix,
                              sampling_matrix)


@pytest.mark.parametrize("ecc", ["L", "M", "Q", "H"])
def test_round_trip_every_version_and_level(ecc):
    spec = QRSpec(max_version=4)
    for v in range(1, 5):
        n = BYTE_CAPACITY[ecc][v - 1]
        text = ("veil-" * 40)[:n]
        code = encode_text(text, ecc, spec)
        assert code.version == v
        img = render_matrix(code.matrix, 128, spec.border)
        assert img.shape == (128, 128) and set(np.unique(img)) <= {0.0, 1.0}
        got, _ = read_from_probabilities(img, spec)
        assert got == text


def test_capacity_error_names_the_capacity():
    spec = QRSpec(max_version=4)
    with pytest.raises(CapacityError, match="62 bytes at ECC M"):
        encode_text("x" * 63, "M", spec)
    assert encode_text("x" * 62, "M", spec).version == 4


def test_empty_text_and_bad_level():
    with pytest.raises(InputError):
        encode_text("", "M")
    with pytest.raises(InputError):
        encode_text("hi", "X")


def test_unicode_text_round_trip():
    text = "héllo wörld ✓ 你好"
    code = encode_text(text, "M")
    got, _ = read_from_probabilities(render_matrix(code.matrix, 128), QRSpec())
    assert got == text


def test_function_patterns_match_real_codes():
    rng = random.Random(0)
    for _ in range(40):
        code = random_code(rng)
        mask, dark = function_patterns(code.version)
        assert (code.matrix[mask] == dark[mask]).all()


def test_sampling_matrix_averages_module_centres():
    A = sampling_matrix(128, 37)
    assert A.shape == (37, 128)
    np.testing.assert_allclose(A.sum(1), 1.0, rtol=1e-6)
    assert (A > 0).sum(1).min() >= 1


def test_grid_reader_repairs_noisy_output():
    """Per-pixel noise that defeats a plain threshold is averaged away on the module grid."""
    rng = np.random.default_rng(0)
    code = encode_text("the grid reader repairs noise", "M")
    img = render_matrix(code.matrix, 128)
    noisy = np.clip(img + rng.normal(0, 0.45, img.shape), 0, 1).astype(np.float32)
    raw = decode_qr_image(np.pad((noisy >= 0.5).astype(np.uint8) * 255, 16, constant_values=255))
    got, _ = read_from_probabilities(noisy, QRSpec())
    assert got == code.text
    assert raw != code.text  # the plain threshold fails on the same image: the grid is doing the work


def _weak_module(img: np.ndarray, n: int, border: int, r: int, c: int, value: float) -> None:
    """Set module (r, c) of the code (no quiet zone) to ``value`` in a rendered ``img`` of ``n`` modules."""
    idx = pixel_to_module(img.shape[0], n)
    img[np.ix_(idx == r + border, idx == c + border)] = value


def test_chase_decoding_recovers_weak_module_errors():
    """Modules pushed just past the threshold (the network unsure) beyond what the error correction takes: the
    plain read fails, flipping the least confident modules reads the text."""
    rng = np.random.default_rng(2)
    spec = QRSpec()
    code = encode_text("chase decoding", "L", spec)
    n = spec.modules(code.version)
    mask, _ = function_patterns(code.version)
    free = np.argwhere(~mask)
    img = render_matrix(code.matrix, 128, spec.border)
    for k, (r, c) in enumerate(free[rng.permutation(len(free))]):
        _weak_module(img, n, spec.border, r, c, 0.55 if code.matrix[r, c] else 0.45)   # wrong side, barely
        if read_from_probabilities(img, spec, chase=(0, 0))[0] is None:
            break
    assert k < 10
    got, rec = read_from_probabilities(img, spec)
    assert got == code.text
    assert read_from_probabilities(img, spec, chase=(0, 0))[0] is None


def test_chase_finds_nothing_in_unsure_noise():
    """Perfect function patterns around unsure random data: the search runs and must not invent a text."""
    rng = np.random.default_rng(3)
    spec = QRSpec()
    for version in (1, 2):
        mask, fixed = function_patterns(version)
        img = render_matrix(fixed, 128, spec.border)
        n = spec.modules(version)
        for r, c in np.argwhere(~mask):
            _weak_module(img, n, spec.border, r, c, float(rng.uniform(0.4, 0.6)))
        assert read_from_probabilities(img, spec)[0] is None


def test_reader_returns_none_on_garbage():
    rng = np.random.default_rng(1)
    got, img = read_from_probabilities(rng.random((128, 128)).astype(np.float32), QRSpec())
    assert got is None and img.shape == (128, 128)


def test_segno_agrees_on_version_choice():
    assert encode_text("A" * 10, "M").version == segno.make_qr("A" * 10, error="m").version


SPEC4 = QRSpec(max_version=4, border=2)


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=40))
@example("ೂ0")          # UTF-8 e0 b3 82 30: valid Shift_JIS pairs, which segno alone would write in kanji mode
@example("ೂ0 ± ÄÖÜ ✓")
def test_any_unicode_text_round_trips_byte_exact_through_the_real_reader(text):
    """Texts with accents, symbols, control characters, CJK or emoji come back exactly as written (UTF-8 behind
    an ECI marker), or are refused as too long; never a different text."""
    try:
        code = encode_text(text, "M", SPEC4)
    except CapacityError:
        assert len(text.encode("utf-8")) > BYTE_CAPACITY["M"][3] - 2     # the ECI marker costs 12 bits
        return
    assert decode_qr_image(clean_code_image(code.matrix)) == text


@pytest.mark.parametrize("text", ["25°C ±2 © 2024", "90°", "¡Hola!", "5 µg", "ÄÖÜ", "àé", "a\x00b\x1bc", "日本語",
                                  "😀 ok"])
def test_everyday_non_ascii_texts_come_back_exactly(text):
    assert decode_qr_image(clean_code_image(encode_text(text, "M", SPEC4).matrix)) == text


def test_wrong_type_and_capacity_messages_say_what_is_wrong():
    with pytest.raises(InputError, match="must be str, got bytes"):
        encode_text(b"abc", "M", SPEC4)
    with pytest.raises(CapacityError) as e:
        encode_text("x" * 200, "L", SPEC4)
    assert str(e.value).count("ECC L") == 1


def test_a_grid_whose_function_patterns_the_network_did_not_draw_reads_as_nothing():
    """A wrong model's output can hold data modules that zxing decodes once the finders are forced in (measured:
    '3', '3614', '8514' from attacked stego images and clean photos). With the patterns drawn wrong, no text."""
    from veil.payloads.qr import read_qr, render_matrix

    spec = QRSpec(max_version=1, border=2)
    code = encode_text("3", "L", spec)
    mask, _ = function_patterns(code.version)
    good = render_matrix(code.matrix, 84, spec.border)
    assert read_qr(good, spec).text == "3" and read_qr(good, spec).agree == 1.0
    scrambled = render_matrix(code.matrix ^ mask, 84, spec.border)     # data intact, every pattern module flipped
    r = read_qr(scrambled, spec)
    assert r.text is None and r.agree < 0.75
