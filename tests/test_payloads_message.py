import hashlib
import subprocess
import sys
import time
from statistics import NormalDist

import bchlib
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from veil.errors import CapacityError, InputError
from veil.payloads import message as msg
from veil.payloads.message import (
    DEFAULT_ECC,
    ECC_LEVELS,
    Decoded,
    capacity,
    decode_message,
    encode_message,
    false_positive_bound,
)

PROPERTY = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
T_256 = {"L": 5, "M": 12, "H": 18}                     # bit errors each level corrects at 256 bits


def soft(bits: np.ndarray, sure: float = 0.98) -> np.ndarray:
    """Probabilities a network might give for ``bits``: every bit right, with confidence ``sure``."""
    return np.where(bits == 1, sure, 1.0 - sure)


def damage(probs: np.ndarray, where, wrong: float, n_bits: int = 256, passphrase: str | None = None) -> np.ndarray:
    """Put the codeword bits ``where`` (codeword order) on the wrong side of 0.5, at ``wrong``: 1.0 is
    confidently wrong (surer than any right bit), 0.55 barely wrong (the least reliable bits)."""
    p = probs.copy()
    _, perm = msg._scramble(msg._key(passphrase), n_bits)
    i = perm[np.asarray(where, int)]
    p[i] = np.where(p[i] > 0.5, 1.0 - wrong, wrong)
    return p


def frame_bits(header: int, data: bytes, n_bits: int, ecc: str, passphrase: str | None = None) -> np.ndarray:
    """Bits of a hand-made frame (CRC and parity correct), for frames the encoder never makes."""
    body = bytes([header]) + data
    assert len(body) == 1 + capacity(n_bits, ecc)
    frame = body + msg.crc24(body).to_bytes(3, "big")
    whiten, perm = msg._scramble(msg._key(passphrase), n_bits)
    out = np.empty(n_bits, np.uint8)
    out[perm] = msg._bch_encode(frame, msg._layout(n_bits, ecc)) ^ whiten
    return out


# ----------------------------------------------------------------------------- sizes and format

def test_capacities_pin_the_format():
    assert DEFAULT_ECC == "M" and set(ECC_LEVELS) == {"L", "M", "H"}
    table = {n: {e: capacity(n, e) for e in "LMH"} for n in (128, 256, 512)}
    assert table == {128: {"L": 9, "M": 6, "H": 4}, 256: {"L": 22, "M": 16, "H": 12},
                     512: {"L": 48, "M": 36, "H": 28}}
    assert capacity(256) == 16 and capacity(256, "m") == 16
    t = {n: {e: msg._layout(n, e).t for e in "LMH"} for n in (128, 256, 512, 1024)}
    assert t == {128: {"L": 3, "M": 6, "H": 8}, 256: T_256, 512: {"L": 10, "M": 22, "H": 30},
                 1024: {"L": 19, "M": 41, "H": 57}}
    m = {n: {e: msg._layout(n, e).m for e in "LMH"} for n in (128, 256, 512, 1024)}
    # 256 bits at L: GF(2^8) would give 21 bytes (t 6), GF(2^9) gives 22 (t 5)
    assert m == {128: {"L": 8, "M": 8, "H": 8}, 256: {"L": 9, "M": 8, "H": 8}, 512: {"L": 9, "M": 9, "H": 9},
                 1024: {"L": 10, "M": 10, "H": 10}}


def gf9_layout(n_bits: int, level: str) -> tuple[int, int]:
    """(capacity, t) the format gave when it used GF(2^9) up to 512 bits and GF(2^10) above, whatever the
    level's share: no size may lose capacity to the smaller fields."""
    m = 9 if n_bits <= 512 else 10
    room, share = min(n_bits, 2**m - 1), ECC_LEVELS[level].share * n_bits
    t = 1
    while bchlib.BCH(t + 1, m=m).ecc_bits <= share:
        t += 1
    frame = (room - bchlib.BCH(t, m=m).ecc_bits) // 8
    while 8 * frame + bchlib.BCH(t + 1, m=m).ecc_bits <= room:
        t += 1
    return frame - 4, t


def test_every_size_gets_a_code_that_fits():
    for n_bits in range(msg.MIN_BITS, msg.MAX_BITS + 1, 8):
        caps = []
        smallest = max(8, (n_bits - 1).bit_length())        # the smallest field whose 2^m - 1 >= n_bits - 1
        for e in "LMH":
            lay = msg._layout(n_bits, e)
            assert lay.m in {smallest, max(9, smallest)}
            old_cap, old_t = gf9_layout(n_bits, e)
            assert lay.capacity >= old_cap and lay.t >= old_t
            assert lay.codeword_bits <= min(n_bits, 2**lay.m - 1)
            assert lay.ecc_bits <= ECC_LEVELS[e].share * n_bits + lay.m    # the share, plus spare bits used
            assert 0 <= lay.spare <= lay.m and lay.codeword_bits + lay.spare == n_bits
            assert 1 <= lay.t <= msg.MAX_T and lay.ecc_bits == bchlib.BCH(lay.t, m=lay.m).ecc_bits
            caps.append(lay.capacity)
        assert caps[0] > caps[1] > caps[2] >= 4
        assert false_positive_bound(n_bits) < msg.FALSE_POSITIVE_LIMIT == 1e-6


GOLDEN_VEIL_256 = "5db04793f927da65"      # sha256 of encode_message("veil", 256), packed


def test_encoding_is_stable_and_laid_out_as_documented():
    # A changed keystream, permutation, CRC, code or layout would strand every image already made.
    bits = encode_message("veil", 256)
    assert bits.dtype == np.uint8 and bits.shape == (256,) and set(np.unique(bits)) <= {0, 1}
    assert hashlib.sha256(np.packbits(bits).tobytes()).hexdigest()[:16] == GOLDEN_VEIL_256
    whiten, perm = msg._scramble(msg._key(None), 256)
    cw = bits[perm] ^ whiten                             # codeword order
    frame = np.packbits(cw[:160]).tobytes()
    assert frame[0] == 0b001_0_0_01_0                    # version 1, text, not full, level M, reserved 0
    assert frame[1:17] == b"veil\x80" + bytes(11)
    assert int.from_bytes(frame[17:20], "big") == msg.crc24(frame[:17])
    parity = bytes(bchlib.BCH(12, m=8).encode(bytearray(frame)))          # t 12 over GF(2^8): 92 bits
    assert np.array_equal(cw[160:252], np.unpackbits(np.frombuffer(parity, np.uint8))[:92])
    assert not cw[252:].any()                            # 4 spare bits, zero under the whitening


def test_torch_free():
    code = "import sys, veil.payloads.message; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_crc24_check_value():
    assert msg.crc24(b"123456789") == 0x21CF02          # CRC-24/OpenPGP catalogue check value


@pytest.mark.parametrize("n_bits", [128, 256, 512, 1024])
def test_false_positive_bound_below_one_in_a_million(n_bits):
    assert false_positive_bound(n_bits) < 1e-6


def test_false_positive_bound_as_documented():
    assert false_positive_bound(256) == pytest.approx(7.35e-9, rel=0.01)
    assert false_positive_bound(128) == pytest.approx(6.37e-7, rel=0.01)
    assert max(map(false_positive_bound, range(128, 1025, 8))) == pytest.approx(9.07e-7, rel=0.01)   # 144 bits


def test_whitening_hides_repetitive_messages():
    bits = encode_message(b"\0" * capacity(256), 256)
    assert 0.4 < bits.mean() < 0.6
    assert (encode_message(b"\0" * 16, 256) != encode_message(b"\0" * 16, 256, passphrase="k")).mean() > 0.3



def test_nested_codes_are_told_apart_by_the_level_in_the_header():
    # at 256 bits H and M are both 252 bits over GF(2^8): an H codeword is an M codeword (narrow-sense BCH
    # codes over one field nest)
    bits = encode_message("nested", 256, "H")
    whiten, perm = msg._scramble(msg._key(None), 256)
    reader = msg._Reader(bits[perm] ^ whiten, np.ones(256), "M", 256)
    frame, _ = reader.correct()
    assert frame == reader.received[:reader.lay.frame_bytes]         # decodes at M, no bit changed
    assert msg._parse(frame, "M", reader.lay.capacity) is None         # but the header says H (and the CRC)
    assert decode_message(soft(bits)).ecc == "H"


def test_bchlib_false_successes_are_not_decodes():
    # bchlib can report t errors found in a word beyond t of every codeword; its "correction" is no codeword
    rng = np.random.default_rng(7)
    found = {"false": 0, "true": 0}
    for _ in range(20000):
        reader = msg._Reader(rng.integers(0, 2, 256, np.uint8), rng.random(256), "L", 256)
        if reader.bch.decode(reader.data, reader.ecc) < 0:
            continue
        data, ecc = bytearray(reader.data), bytearray(reader.ecc)
        reader.bch.correct(data, ecc)
        is_codeword = bytes(reader.bch.encode(data)) == ecc
        found["true" if is_codeword else "false"] += 1
        assert (reader.correct() is not None) == is_codeword
    assert found["false"] > found["true"] > 0         # 12 and 6 with this seed

# ----------------------------------------------------------------------------- round trips

@pytest.mark.parametrize("ecc", ["L", "M", "H"])
@pytest.mark.parametrize("passphrase", [None, "correct horse"])
@pytest.mark.parametrize("message", ["hé ✓世", b"\x00\xff\x80\x00"])
def test_round_trip(ecc, passphrase, message):
    bits = encode_message(message, 256, ecc, passphrase)
    d = decode_message(soft(bits), passphrase)
    assert d == Decoded(message=message, kind="text" if isinstance(message, str) else "bytes", ecc=ecc,
                        bit_errors_corrected=0, confidence=1.0)
    assert type(d.message) is type(message)


@pytest.mark.parametrize("ecc", ["L", "M", "H"])
def test_round_trip_at_capacity_and_awkward_padding(ecc):
    cap = capacity(256, ecc)
    for m in [b"\x80" * cap, b"\x80" * (cap - 1), b"x\x80\x00", b"\x00" * cap, b"\x00", "z" * cap, "€" * (cap // 3)]:
        assert decode_message(encode_message(m, 256, ecc).astype(np.float32)).message == m


def test_round_trip_other_sizes():
    for n_bits in (128, 512, 1024, 136, 1016):
        text = "ü" * (capacity(n_bits, "L") // 2)
        d = decode_message(soft(encode_message(text, n_bits, "L", "pw")), "pw")
        assert d.message == text and d.ecc == "L"


def test_probabilities_in_any_layout():
    bits = encode_message(b"abc", 256)
    p = soft(bits).astype(np.float32).reshape(1, 256)
    p[0, :3] = np.nan                                   # unknown bits count as undecided
    assert decode_message(p).message == b"abc"


def test_spare_bits_are_ignored():
    bits = encode_message("spare", 256)                 # level M: 252 codeword bits, 4 spare
    d = decode_message(damage(soft(bits), range(252, 256), 1.0))
    assert d.message == "spare" and d.bit_errors_corrected == 0 and d.confidence == 1.0


@PROPERTY
@given(st.text(min_size=1, max_size=22), st.sampled_from(["L", "M", "H"]))
def test_property_text_round_trip(text, ecc):
    cap = capacity(256, ecc)
    while len(text.encode("utf-8")) > cap:
        text = text[:-1]
    assume(text)
    d = decode_message(encode_message(text, 256, ecc))
    assert d.message == text and d.kind == "text" and d.ecc == ecc


@PROPERTY
@given(st.binary(min_size=1, max_size=22), st.sampled_from(["L", "M", "H"]))
def test_property_bytes_round_trip(data, ecc):
    data = data[:capacity(256, ecc)]
    d = decode_message(soft(encode_message(data, 256, ecc), 0.7))
    assert d.message == data and d.kind == "bytes"


@PROPERTY
@given(st.binary(min_size=1, max_size=16), st.data())
def test_property_any_t_errors_are_corrected(data, draw):
    bits = encode_message(data, 256)
    where = draw.draw(st.lists(st.integers(0, msg._layout(256, "M").codeword_bits - 1), max_size=T_256["M"],
                               unique=True))
    d = decode_message(damage(soft(bits), where, 1.0))
    assert d.message == data and d.bit_errors_corrected == len(where)


# ----------------------------------------------------------------------------- damage

@pytest.mark.parametrize("ecc", ["L", "M", "H"])
def test_errors_up_to_t_decode(ecc):
    rng = np.random.default_rng(1)
    lay = msg._layout(256, ecc)
    bits = encode_message("at the limit", 256, ecc)
    for k in range(lay.t + 1):
        for _ in range(3):
            where = rng.choice(lay.codeword_bits, k, replace=False)
            # confidently wrong, surer than the right bits: soft information cannot help, the code must
            d = decode_message(damage(soft(bits), where, 1.0))
            assert d is not None and d.message == "at the limit" and d.ecc == ecc
            assert d.bit_errors_corrected == k
            assert d.confidence == pytest.approx(1 - k / lay.t)


@pytest.mark.parametrize("ecc", ["L", "M", "H"])
def test_past_t_never_a_wrong_message(ecc):
    rng = np.random.default_rng(2)
    lay = msg._layout(256, ecc)
    data = b"past the limit"[:lay.capacity]
    bits = encode_message(data, 256, ecc)
    none = 0
    for trial in range(30):
        k = lay.t + 1 + trial % 3
        d = decode_message(damage(soft(bits), rng.choice(lay.codeword_bits, k, replace=False), 1.0))
        assert d is None or d.message == data
        none += d is None
    assert none == 30           # the wrong bits are the surest: Chase flips only right ones


@pytest.mark.parametrize("ecc", ["L", "M", "H"])
@pytest.mark.parametrize("weak_wrong", [msg.CHASE_BITS, 4, 1])
def test_chase_corrects_past_t_when_the_extra_errors_are_unreliable(ecc, weak_wrong):
    rng = np.random.default_rng(3)
    lay = msg._layout(256, ecc)
    bits = encode_message("soft", 256, ecc)
    where = rng.choice(lay.codeword_bits, lay.t + msg.CHASE_BITS, replace=False)
    sure, weak = where[:lay.t], where[lay.t:]
    p = damage(soft(bits, 0.9), sure, 1.0)
    p = damage(p, weak[:weak_wrong], 0.55)              # wrong, but among the least sure bits
    p = damage(p, weak[weak_wrong:], 0.45)              # right, and as unsure
    assert msg._decode(p, msg._key(None), soft=False) is None
    d = decode_message(p)
    assert d.message == "soft" and d.ecc == ecc
    assert d.bit_errors_corrected == lay.t + weak_wrong and d.confidence == 0.0


def test_chase_needs_every_flip_it_can_make():
    # one more unreliable wrong bit than Chase flips, and t sure ones: beyond reach, so nothing comes back
    lay = msg._layout(256, "M")
    bits = encode_message("soft", 256)
    where = np.random.default_rng(6).choice(lay.codeword_bits, lay.t + msg.CHASE_BITS + 1, replace=False)
    p = damage(damage(soft(bits, 0.9), where[:lay.t], 1.0), where[lay.t:], 0.55)
    assert decode_message(p) is None
    assert msg._decode(p, msg._key(None), chase_bits=msg.CHASE_BITS + 1).message == "soft"


def test_bit_noise_with_soft_values_reads_more_than_hard_decisions():
    # 4% raw bit errors, honest confidences (Gaussian LLRs); scripts/ecc_compare.py measures ~97% vs ~76% at M
    rng = np.random.default_rng(4)
    mu = 2 * NormalDist().inv_cdf(0.04) ** 2
    key = msg._key(None)
    ok = {True: 0, False: 0}
    for _ in range(60):
        data = rng.bytes(16)
        bits = encode_message(data, 256)
        p = 1 / (1 + np.exp(-((2 * bits - 1.0) * mu + rng.normal(0, np.sqrt(2 * mu), 256))))
        for soft_ in ok:
            d = msg._decode(p, key, soft=soft_)
            assert d is None or d.message == data
            ok[soft_] += d is not None
    assert ok[True] >= 50 and ok[True] >= ok[False] + 10


# ----------------------------------------------------------------------------- keys

def test_passphrases():
    bits = encode_message("secret", 256, passphrase="right")
    assert decode_message(soft(bits), "right").message == "secret"
    assert decode_message(soft(bits), "wrong") is None
    assert decode_message(soft(bits)) is None
    assert decode_message(soft(encode_message("public", 256)), "right") is None
    with pytest.raises(InputError):
        encode_message("x", 256, passphrase="")


# ----------------------------------------------------------------------------- nothing hidden

@pytest.mark.slow
def test_random_and_constant_inputs_hold_nothing():
    rng = np.random.default_rng(5)
    key = msg._key(None)
    assert not any(msg._decode(rng.random(256), key, soft=False) for _ in range(5000))
    trials = 300                               # every level, every Chase pattern: ~10 ms each
    t = time.perf_counter()
    hits = sum(decode_message(rng.random(256)) is not None for _ in range(trials))
    per_image = (time.perf_counter() - t) / trials
    assert hits == 0
    assert per_image < 0.04
    for p in [np.zeros(256), np.ones(256), np.full(256, 0.5), np.full(256, 0.3), np.full(256, 0.7),
              np.tile([0.0, 1.0], 128), np.tile([0.2, 0.2, 0.9, 0.2], 64), rng.random(256) * 0.2,
              0.8 + rng.random(256) * 0.2, (rng.random(256) < 0.9).astype(float), np.linspace(0, 1, 256)]:
        assert decode_message(p) is None
        assert decode_message(p, "pw") is None
    for n_bits, n in ((128, 300), (512, 20), (1024, 3)):
        assert all(decode_message(rng.random(n_bits)) is None for _ in range(n))


def test_frames_the_encoder_never_makes_are_not_read():
    cap = capacity(256, "M")
    text_header = (1 << 5) | (0 << 4) | (1 << 3) | (1 << 1)              # version 1, text, full, level M
    assert decode_message(frame_bits(text_header, b"a" * cap, 256, "M")).message == "a" * cap
    assert decode_message(frame_bits(text_header, b"\xff" * cap, 256, "M")) is None           # not UTF-8
    assert decode_message(frame_bits(text_header | 1, b"a" * cap, 256, "M")) is None           # reserved bit
    assert decode_message(frame_bits((2 << 5) | (1 << 3) | 2, b"a" * cap, 256, "M")) is None   # version 2
    assert decode_message(frame_bits((1 << 5) | (1 << 3) | 4, b"a" * cap, 256, "M")) is None   # says level H
    padded = (1 << 5) | (1 << 4) | (1 << 1)                              # bytes, not full
    assert decode_message(frame_bits(padded, b"ab\x80" + bytes(cap - 3), 256, "M")).message == b"ab"
    assert decode_message(frame_bits(padded, b"ab\x80" + bytes(cap - 4) + b"x", 256, "M")) is None
    assert decode_message(frame_bits(padded, b"ab" + bytes(cap - 2), 256, "M")) is None       # no marker
    assert decode_message(frame_bits(padded, b"\x80" + bytes(cap - 1), 256, "M")) is None     # empty message


# ----------------------------------------------------------------------------- errors

def test_capacity_error_names_the_capacity():
    with pytest.raises(CapacityError, match=r"message is 40 bytes; .* at most 16 bytes at ECC M \(22 at ECC L\)"):
        encode_message(b"x" * 40, 256)
    with pytest.raises(CapacityError, match=r"17 bytes of UTF-8 \(9 characters\).* at most 16 bytes at ECC M"):
        encode_message("ü" * 8 + "x", 256, "M")
    with pytest.raises(CapacityError, match=r"at most 22 bytes at ECC L$"):
        encode_message(b"x" * 23, 256, "L")


@pytest.mark.parametrize("bad", [
    dict(message=""), dict(message=b""), dict(message=123), dict(message=["a"]), dict(message="\ud800"),
    dict(ecc="Q"), dict(ecc=None), dict(n_bits=100), dict(n_bits=120), dict(n_bits=1032), dict(n_bits=2048),
    dict(n_bits=256.0), dict(passphrase=b"pw"),
])
def test_input_errors(bad):
    args = dict(message="hi", n_bits=256, ecc="M", passphrase=None) | bad
    with pytest.raises(InputError):
        encode_message(**args)


def test_decode_rejects_sizes_the_format_cannot_serve():
    with pytest.raises(InputError):
        decode_message(np.full(100, 0.5))
    with pytest.raises(InputError):
        capacity(64)
