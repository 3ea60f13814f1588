"""Message <-> the ``n_bits`` raw bits of a "spread" model: framing, BCH, keyed whitening and order.

A spread model carries exactly ``n_bits`` bits (a multiple of 8, 128..1024; typically 256) and reads back, per
bit, the probability that it is 1. This codec knows nothing of the network: it turns a text or a byte string
into those bits and back, and says "no message" rather than guess.

Codeword (``n_bits`` bits in this order; one binary BCH code, systematic, shortened to the frame, correcting
``t`` bit errors)::

    byte 0          header   bits 7-5 version (1) | bit 4 kind (0 text, 1 bytes) | bit 3 full
                             | bits 2-1 ECC level (0 L, 1 M, 2 H) | bit 0 reserved (0)
    bytes 1..C      message, then (unless full) 0x80 and zero bytes up to C  (C = capacity)
    bytes C+1..C+3  CRC-24/OpenPGP of bytes 0..C, big-endian
    next r bits     BCH parity of the C + 4 bytes before: the first r bits of what bchlib (the Linux kernel's
                    BCH library, swap_bits off) returns, over GF(2^m) with its primitive polynomial (0x11d
                    for m 8, 0x211 for 9, 0x409 for 10; m per size and level, below), so that the
                    8 (C + 4) + r bits fit in 2^m - 1
    last s bits     spare: zero (whitened like every bit), ignored by the reader

Every byte goes most significant bit first. The length is not stored: a message shorter than C ends with the
marker byte 0x80 followed by zeros (the padding of ISO/IEC 7816-4), and the ``full`` bit says that it fills
all C bytes, so it costs no byte at all. That byte pays for a 24-bit CRC where a length byte would leave room
for 16 bits. Padding sits under the CRC and the parity, and the reader insists on it being exactly 0x80 and
zeros, so nothing unchecked leaks out.

A binary code because the keyed permutation below scatters the channel's errors into independent bits, and a
code over bytes (Reed-Solomon) pays a whole symbol for each. scripts/ecc_compare.py measures it on a Gaussian
channel: at ECC M (16 bytes in 256 bits, t 12 over GF(2^8)) this codec reads 100% of messages at 3% raw bit
errors, 97.5% at 4% and 88.2% at 5%, Reed-Solomon with erasures in the same 32 bytes 57.6%, 27.2% and 9.3%;
at ECC L (22 bytes, t 5 over GF(2^9)), 96.5% against 33.7% at 2%.

The field is the smallest whose codeword, ``2^m - 1`` bits, holds all but one of the ``n_bits``: GF(2^8) up
to 256 bits, GF(2^9) up to 512, GF(2^10) above; shorter symbols cost fewer parity bits per corrected error
(at 256 bits and ECC M, t 12 in 92 bits over GF(2^8) where GF(2^9) gave t 10 in 90: hard decisions read 76%
of messages at 4% raw bit errors instead of 58%). Not GF(2^7) at 128 bits: its t 3 at L would cost only 21
parity bits and put the false-positive bound below at 4.8e-6. ECC levels give a share of ``n_bits`` to parity:
``t`` is the largest whose ``r`` parity bits (the degree of the generator polynomial: ``m * t``, or less where
cyclotomic cosets coincide) fit in it; the frame takes the whole bytes left; then ``t`` grows while the
codeword still fits, so at most ``m`` bits stay spare:

    ====  =====  ============================  ============================  ============================
    ECC   share  n_bits 128                    n_bits 256                    n_bits 512
    ====  =====  ============================  ============================  ============================
    L     3/16   m 8 t 3  r 24  s 0  9 bytes   m 9 t 5  r 45  s 3 22 bytes   m 9 t 10 r 90  s 6 48 bytes
    M     3/8    m 8 t 6  r 48  s 0  6 bytes   m 8 t 12 r 92  s 4 16 bytes   m 9 t 22 r 189 s 3 36 bytes  (default)
    H     1/2    m 8 t 8  r 64  s 0  4 bytes   m 8 t 18 r 124 s 4 12 bytes   m 9 t 30 r 252 s 4 28 bytes
    ====  =====  ============================  ============================  ============================

(1024 bits, GF(2^10): L t 19, 100 bytes; M t 41, 77 bytes; H t 57, 60 bytes.) No size and level carries fewer
bytes, or corrects fewer bits, than when every size up to 512 bits used GF(2^9), thanks to two exceptions
(:func:`_layouts`). Where GF(2^8) would carry fewer bytes, the level keeps GF(2^9): L at 256 bits (GF(2^8)
would give t 6 and 21 bytes), M at 184 and 208, H at 136, 152, 160, 232 and 248. Where the false-positive
bound would reach 1e-6 (L at 152 to 168 bits: t 3 in 24 parity bits, up to 1.4e-6), the level gives one
message byte back to parity: t 4 over GF(2^8), with the capacity GF(2^9) gave. The codes of one field nest
(narrow-sense BCH: the generator of a smaller ``t`` divides that of a larger one), so where a lower level's
codeword over the same field is at least as long, a message is also a codeword there: at 256 bits an H
codeword is an M codeword (both 252 bits over GF(2^8)). The level in the header tells them apart, and the
reader insists on it.

On the image the codeword's bits are XORed with a keystream and scattered by a permutation, both drawn from
SHAKE-256 of a 32-byte key: codeword bit ``j`` goes to channel position ``perm[j]``. The key is scrypt (n 2^14,
r 8, p 1, salt ``b"veil-spread-v1"``) of the passphrase, or without one a fixed public key, so that an all-zero
or repetitive message still looks like noise and the bits a clean photo gives back look like random ones to
the decoder. Without the right key nothing reads, and nothing verifies either: the wrong key turns the bits
into noise.

Decoding does not know the level. For each level (M, L, H) it first decodes the hard decisions (up to ``t``
wrong bits); then, for each level again, Chase-II: it flips each of the ``2^9 - 1`` nonzero patterns of the
``CHASE_BITS = 9`` least reliable bits of that level's codeword (smallest ``|p - 0.5|``, ties in codeword
order), one flip per step in Gray-code order, and decodes every word, so a message comes back when at most
``t`` of its wrong bits lie outside those 9. Each result must be a codeword within ``t`` bits of the word
decoded, and carry the CRC, the version, the level it was decoded at, a zero reserved bit, valid padding and,
for text, strict UTF-8; the first that does is returned. A photo that holds nothing costs all ``3 * 2^9``
decodes: 10.7 ms at 256 bits on one core (15.0 ms at most in 300 tries), about 2.8 ms at 128, 35 ms at 512 and
140 ms at 1024.

False positives (:func:`false_positive_bound`). Take a photo that holds nothing: after the key's whitening
its hard decisions are uniform bits, and their reliabilities are independent of them, so every attempt (the
hard decisions with a flip pattern chosen by the reliabilities) is a uniform word. A bounded-distance decoder
of a linear code of length ``N`` with ``r`` parity bits and distance at least ``2t + 1`` accepts exactly the
words in the disjoint balls of radius ``t`` around its ``2^(N - r)`` codewords: a chance of ``V / 2^r``,
``V = sum_{i <= t} C(N, i)``. bchlib alone is not quite that: it sometimes reports ``t`` errors found in a
word farther away, and its "correction" is then no codeword (on random words at t 5, more often than a true
decode), so the reader re-encodes every result and counts the bits it changed. The codeword it lands on is
then uniform (the code is linear), so the CRC matches with chance ``2^-24``. The union over all ``3 * 2^9``
attempts gives, per image (L + M + H): n_bits 128 ``512 * (2.1e-2 + 2.0e-5 + 8e-8) = 10.7`` BCH decodes,
``* 2^-24 = 6.4e-7``; 256 ``512 * (2.4e-4 + 2.2e-8 + 7e-11) = 0.123``, ``7.3e-9``; 512
``512 * 2.3e-7 = 1.2e-4``, ``7.0e-12``; 1024 ``6.1e-21``. Level L's short code carries nearly all of it. The
largest over every size from 128 to 1024 bits is 9.1e-7, at 144 (L: t 3 in 24 bits over GF(2^8)). All are
below 1e-6 (``FALSE_POSITIVE_LIMIT``) from the CRC alone; a 16-bit CRC would give 1.9e-6 at 256 bits and
1.6e-4 at 128, hence 24. The header and padding checks divide this by about 128 more (version 1/8, level 1/4,
reserved bit 1/2, padding ~1/2). scripts/spread_false_positives.py checks this on 6,000 random 256-bit images:
0.129 BCH decodes per image (0.123 predicted; 0.102 distinct codewords, as flip patterns of one image can land
on the same one), 12 of those codewords past the header checks (4.8 expected: a small count, of codewords that
come in neighbourly groups) and none past the CRC.

A real message damaged beyond repair can be decoded into another codeword near it: 0.13 times per image for
16-byte messages at ECC M with 7% raw bit errors in that script (which still reads 40% of them), 13 of those
codewords past the header checks in 2,000 images. The CRC stands alone there: a wrong message comes out about
once in ``1 / (0.13 * 2^-24)``, 130 million, such images. The sent word itself decoding at a nested level
never happened there (an M codeword at 256 bits is no L codeword, L being over GF(2^9), nor an H one); where it
does, as an H message read at M, it never passes the header checks: its level field is the wrong one.
"""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from math import comb
from types import MappingProxyType

import bchlib
import numpy as np

from ..errors import CapacityError, InputError

FORMAT_VERSION = 1
SALT = b"veil-spread-v1"
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
MIN_BITS, MAX_BITS = 128, 1024          # one BCH codeword over GF(2^10) holds at most 1023 bits
MAX_T = 64                              # bchlib's limit on the errors one code corrects
HEADER_BYTES = 1
CRC_BYTES = 3
PAD_MARK = 0x80
CHASE_BITS = 9                          # Chase decoding flips every subset of this many least reliable bits
FALSE_POSITIVE_LIMIT = 1e-6             # per image, from the CRC alone: every size's codes keep below it
_KIND_CODE = {"text": 0, "bytes": 1}
_DEFAULT_KEY = hashlib.sha256(SALT + b" public default key").digest()


@dataclass(frozen=True)
class EccLevel:
    """One error-correction level: ``code`` is its value in the header, ``share`` the part of the ``n_bits``
    that its BCH parity may take (the spare bits of the last byte go to more parity when they can)."""

    code: int
    share: float


ECC_LEVELS: dict[str, EccLevel] = {"L": EccLevel(0, 3 / 16), "M": EccLevel(1, 3 / 8), "H": EccLevel(2, 1 / 2)}
DEFAULT_ECC = "M"
_DECODE_ORDER = ("M", "L", "H")       # the default first: most images hold it, and any order finds the same


@dataclass(frozen=True)
class Decoded:
    """A message read back from a spread model's bit probabilities."""

    message: str | bytes       # str if it was hidden as a str (UTF-8), bytes if hidden as bytes
    kind: str                  # "text" | "bytes"
    ecc: str                   # the level it was hidden at
    bit_errors_corrected: int  # raw bits whose hard decision differed from the corrected codeword
    confidence: float          # 1 - bit_errors_corrected / t of the level, clipped to [0, 1]: the share of the
                               # code's correction budget left, 0 = at (or, thanks to soft decoding, past) the edge


# ----------------------------------------------------------------------------- sizes

@dataclass(frozen=True)
class _Layout:
    """The BCH code of one level at one size: ``frame_bytes`` (header, message, CRC) then ``ecc_bits`` of
    parity then ``spare`` bits, ``n_bits`` in all."""

    m: int
    t: int
    frame_bytes: int
    ecc_bits: int
    spare: int

    @property
    def capacity(self) -> int:
        return self.frame_bytes - HEADER_BYTES - CRC_BYTES

    @property
    def codeword_bits(self) -> int:
        return 8 * self.frame_bytes + self.ecc_bits


def _level(ecc: str) -> str:
    e = str(ecc).upper()
    if e not in ECC_LEVELS:
        raise InputError(f"unknown ECC level '{ecc}': use one of {', '.join(ECC_LEVELS)}")
    return e


def _n_bytes(n_bits: int) -> int:
    if isinstance(n_bits, bool) or not isinstance(n_bits, (int, np.integer)):
        raise InputError(f"n_bits must be an integer, not {type(n_bits).__name__}")
    if n_bits % 8 or not MIN_BITS <= n_bits <= MAX_BITS:
        raise InputError(f"a spread message needs a multiple of 8 bits between {MIN_BITS} and {MAX_BITS}, "
                         f"not {n_bits}")
    return int(n_bits) // 8


@lru_cache(maxsize=None)
def _ecc_bits(m: int, t: int) -> int:
    """Parity bits of the t-error-correcting BCH code over GF(2^m): the degree of its generator polynomial,
    m * t or a little less (more than any codeword holds where bchlib has no such code)."""
    try:
        return bchlib.BCH(t, m=m).ecc_bits
    except RuntimeError:
        return 2**m


def _fit(n_bits: int, m: int, share: float, frame_bytes: int | None = None) -> _Layout:
    """The code over GF(2^m) for ``n_bits``: unless ``frame_bytes`` is given, ``t`` is the largest whose parity
    fits in ``share`` bits and the frame takes the whole bytes left in the codeword (at most ``2^m - 1`` bits);
    then ``t`` grows while the codeword still fits, so fewer than one parity symbol's bits stay spare."""
    room = min(n_bits, 2**m - 1)
    if frame_bytes is None:
        t = 1
        while t < MAX_T and _ecc_bits(m, t + 1) <= share:
            t += 1
        frame_bytes = (room - _ecc_bits(m, t)) // 8
    t = 1
    while t < MAX_T and 8 * frame_bytes + _ecc_bits(m, t + 1) <= room:
        t += 1
    return _Layout(m, t, frame_bytes, _ecc_bits(m, t), n_bits - 8 * frame_bytes - _ecc_bits(m, t))


def _attempt_hits(lay: _Layout) -> float:
    """Chance that one attempt on a uniform word lands within ``t`` bits of a codeword: ``V / 2^r``."""
    return sum(comb(lay.codeword_bits, i) for i in range(lay.t + 1)) / 2**lay.ecc_bits


def _bound(layouts: Mapping[str, _Layout]) -> float:
    return sum(map(_attempt_hits, layouts.values())) * 2**CHASE_BITS * 2.0**-(8 * CRC_BYTES)


@lru_cache(maxsize=None)
def _layouts(n_bits: int) -> Mapping[str, _Layout]:
    """The code of every level at ``n_bits``: over the smallest field whose codeword, ``2^m - 1`` bits, holds
    all but the last bit (GF(2^8) up to 256 bits, GF(2^9) up to 512, GF(2^10) above; GF(2^7) at 128 bits would
    break the false-positive bound), ``t`` filling the level's share as :func:`_fit` says. Two exceptions keep
    what the format gave when it used GF(2^9) from 128 bits: where GF(2^8) gives fewer bytes, the level keeps
    GF(2^9); and while the bound (:func:`false_positive_bound`) is not below ``FALSE_POSITIVE_LIMIT``, the level
    that adds most to it gives a message byte back to parity (a larger ``t``), down to the GF(2^9) capacity,
    below which it keeps GF(2^9)."""
    m = max(8, (n_bits - 1).bit_length())
    wide = {name: _fit(n_bits, max(9, m), level.share * n_bits) for name, level in ECC_LEVELS.items()}
    out = {}
    for name, level in ECC_LEVELS.items():
        lay = _fit(n_bits, m, level.share * n_bits)
        out[name] = lay if lay.capacity >= wide[name].capacity else wide[name]
    while _bound(out) >= FALSE_POSITIVE_LIMIT:
        narrow = [name for name in out if out[name].m < wide[name].m]
        if not narrow:
            break
        name = max(narrow, key=lambda e: _attempt_hits(out[e]))
        lay = _fit(n_bits, m, 0, out[name].frame_bytes - 1)
        out[name] = lay if lay.capacity >= wide[name].capacity else wide[name]
    return MappingProxyType(out)


def _layout(n_bits: int, level: str) -> _Layout:
    return _layouts(n_bits)[level]


_BCH = threading.local()                # bchlib.BCH keeps the last decode's state: one object per thread


def _bch(m: int, t: int) -> bchlib.BCH:
    codes = getattr(_BCH, "codes", None)
    if codes is None:
        codes = _BCH.codes = {}
    if (m, t) not in codes:
        codes[m, t] = bchlib.BCH(t, m=m)
    return codes[m, t]


def _capacity(n_bytes: int, level: str) -> int:
    return _layout(8 * n_bytes, level).capacity


def capacity(n_bits: int, ecc: str = DEFAULT_ECC) -> int:
    """Bytes of message (UTF-8 for text) that ``n_bits`` carry at level ``ecc``."""
    return _capacity(_n_bytes(n_bits), _level(ecc))


# ----------------------------------------------------------------------------- keys

@lru_cache(maxsize=16)
def _passphrase_key(passphrase: str) -> bytes:
    """scrypt with a fixed salt: the same passphrase must give the same bits on any machine, and there is
    nowhere in 256 bits to store a random salt. ~50 ms, once per passphrase."""
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=SALT, length=32, **SCRYPT).derive(passphrase.encode("utf-8"))


def _key(passphrase: str | None) -> bytes:
    if passphrase is None:
        return _DEFAULT_KEY
    if not isinstance(passphrase, str):
        raise InputError(f"the passphrase must be text, not {type(passphrase).__name__}")
    if not passphrase:
        raise InputError("empty passphrase")
    try:
        return _passphrase_key(passphrase)
    except UnicodeEncodeError:
        raise InputError("the passphrase is not valid Unicode text") from None


@lru_cache(maxsize=64)
def _scramble(key: bytes, n_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """(keystream bits [n_bits] uint8, permutation [n_bits]) for ``key``.

    SHAKE-256 rather than a NumPy generator: the format must not change with a NumPy release. The
    permutation sorts 64-bit random labels (stable, so even a tie has one answer)."""
    n = n_bits // 8
    xof = hashlib.shake_256(SALT + b"\0" + key + n_bits.to_bytes(2, "big")).digest(n + 8 * n_bits)
    whiten = np.unpackbits(np.frombuffer(xof[:n], np.uint8))
    perm = np.argsort(np.frombuffer(xof[n:], ">u8"), kind="stable")
    whiten.flags.writeable = False
    perm.flags.writeable = False
    return whiten, perm


# ----------------------------------------------------------------------------- CRC-24 and BCH

def _crc24_table() -> list[int]:
    table = []
    for b in range(256):
        c = b << 16
        for _ in range(8):
            c = (c << 1) ^ 0x864CFB if c & 0x800000 else c << 1
        table.append(c & 0xFFFFFF)
    return table


_CRC24 = _crc24_table()


def crc24(data: bytes) -> int:
    """CRC-24/OpenPGP (RFC 4880 section 6.1): polynomial 0x864CFB, initial value 0xB704CE."""
    c = 0xB704CE
    for b in data:
        c = ((c << 8) & 0xFFFFFF) ^ _CRC24[(c >> 16) ^ b]
    return c


def _bch_encode(frame: bytes, lay: _Layout) -> np.ndarray:
    """The ``n_bits`` codeword bits (uint8) in codeword order: frame, parity, spare zeros."""
    ecc = _bch(lay.m, lay.t).encode(bytearray(frame))
    bits = np.zeros(8 * lay.frame_bytes + lay.ecc_bits + lay.spare, np.uint8)
    bits[:8 * lay.frame_bytes] = np.unpackbits(np.frombuffer(frame, np.uint8))
    bits[8 * lay.frame_bytes:lay.codeword_bits] = np.unpackbits(np.frombuffer(bytes(ecc), np.uint8))[:lay.ecc_bits]
    return bits


# ----------------------------------------------------------------------------- encode

def _payload(message: str | bytes) -> tuple[bytes, str]:
    if isinstance(message, str):
        try:
            data = message.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError("the text to hide is not valid Unicode (lone surrogates)") from None
        kind = "text"
    elif isinstance(message, (bytes, bytearray)):
        data, kind = bytes(message), "bytes"
    else:
        raise InputError(f"the message must be str or bytes, not {type(message).__name__}")
    if not data:
        raise InputError("the message to hide is empty")
    return data, kind


def encode_message(message: str | bytes, n_bits: int, ecc: str = DEFAULT_ECC,
                   passphrase: str | None = None) -> np.ndarray:
    """The ``n_bits`` bits (uint8 0/1, shape [n_bits]) that carry ``message`` at level ``ecc``.

    A str is hidden as UTF-8 and comes back as a str; bytes come back as bytes. With a passphrase only
    :func:`decode_message` given the same passphrase can read it, or even tell that it is there.
    """
    n = _n_bytes(n_bits)
    level = _level(ecc)
    data, kind = _payload(message)
    cap = _capacity(n, level)
    if len(data) > cap:
        size = f"{len(data)} bytes"
        if kind == "text":
            size += f" of UTF-8 ({len(message)} characters)"
        lowest = "" if level == "L" else f" ({_capacity(n, 'L')} at ECC L)"
        raise CapacityError(f"message is {size}; this model ({n_bits} bits) carries at most {cap} bytes at "
                            f"ECC {level}{lowest}")
    key = _key(passphrase)
    full = len(data) == cap
    header = (FORMAT_VERSION << 5) | (_KIND_CODE[kind] << 4) | (full << 3) | (ECC_LEVELS[level].code << 1)
    body = bytes([header]) + data + (b"" if full else bytes([PAD_MARK]) + bytes(cap - len(data) - 1))
    frame = body + crc24(body).to_bytes(CRC_BYTES, "big")
    whiten, perm = _scramble(key, 8 * n)
    out = np.empty(8 * n, np.uint8)
    out[perm] = _bch_encode(frame, _layout(8 * n, level)) ^ whiten
    return out


# ----------------------------------------------------------------------------- decode

def _parse(codeword: bytes, level: str, cap: int) -> tuple[str | bytes, str] | None:
    """(message, kind) if ``codeword`` (the frame bytes) is a valid frame at ``level``, else None."""
    body = codeword[:HEADER_BYTES + cap]
    if crc24(body) != int.from_bytes(codeword[HEADER_BYTES + cap:HEADER_BYTES + cap + CRC_BYTES], "big"):
        return None
    h = body[0]
    # Another version may lay out its bytes differently: not read rather than misread.
    if h >> 5 != FORMAT_VERSION or (h >> 1) & 3 != ECC_LEVELS[level].code or h & 1:
        return None
    data = body[HEADER_BYTES:]
    if not (h >> 3) & 1:
        data = data.rstrip(b"\0")
        if len(data) < 2 or data[-1] != PAD_MARK:
            return None
        data = data[:-1]
    if (h >> 4) & 1:
        return bytes(data), "bytes"
    try:
        return data.decode("utf-8", errors="strict"), "text"
    except UnicodeDecodeError:
        return None


class _Reader:
    """One level's attempts on one image: the hard decisions, then Chase patterns over its weakest bits."""

    def __init__(self, hard: np.ndarray, reliability: np.ndarray, name: str, n_bits: int):
        self.name, self.lay = name, _layout(n_bits, name)
        self.bch = _bch(self.lay.m, self.lay.t)
        k = 8 * self.lay.frame_bytes
        self.data = bytearray(np.packbits(hard[:k]).tobytes())
        self.ecc = bytearray(self.bch.ecc_bytes)
        self.ecc[:(self.lay.ecc_bits + 7) // 8] = np.packbits(hard[k:self.lay.codeword_bits]).tobytes()
        self.received = bytes(self.data + self.ecc)
        self.reliability = reliability[:self.lay.codeword_bits]

    def correct(self) -> tuple[bytes, bytes] | None:
        """(frame bytes, parity bytes) of the codeword within ``t`` bits of the current word, or None."""
        if self.bch.decode(self.data, self.ecc) < 0:
            return None
        data, ecc = bytearray(self.data), bytearray(self.ecc)
        self.bch.correct(data, ecc)
        # bchlib sometimes reports t errors found in a word farther than t from every codeword, and its
        # "correction" is then no codeword (on random words over GF(2^9): 3 times as often as a true decode at
        # t 5, some 10^5 times as often at t 10). Only a codeword within t bits of the word is a decode.
        if bytes(self.bch.encode(data)) != ecc:
            return None
        changed = int.from_bytes(data + ecc, "big") ^ int.from_bytes(self.data + self.ecc, "big")
        if changed.bit_count() > self.lay.t:
            return None
        return bytes(data), bytes(ecc)

    def attempt(self) -> Decoded | None:
        """Decode the current word (the hard decisions with the flips made so far) to a valid frame."""
        codeword = self.correct()
        if codeword is None:
            return None
        parsed = _parse(codeword[0], self.name, self.lay.capacity)
        if parsed is None:
            return None
        errors = (int.from_bytes(b"".join(codeword), "big") ^ int.from_bytes(self.received, "big")).bit_count()
        return Decoded(message=parsed[0], kind=parsed[1], ecc=self.name, bit_errors_corrected=errors,
                       confidence=min(1.0, max(0.0, 1.0 - errors / self.lay.t)))

    def flips(self, bits: int):
        """Step through every nonzero pattern of flips over the ``bits`` least reliable codeword bits (ties:
        the first in codeword order), in Gray-code order: one flip per step, yielding after each. Put the
        word back as received with :meth:`reset`."""
        weakest = np.argsort(self.reliability, kind="stable")[:bits].tolist()
        k = 8 * self.lay.frame_bytes
        where = [(self.data, j >> 3, 0x80 >> (j & 7)) if j < k else (self.ecc, (j - k) >> 3, 0x80 >> ((j - k) & 7))
                 for j in weakest]
        for i in range(1, 2 ** len(where)):
            buf, byte, mask = where[(i & -i).bit_length() - 1]
            buf[byte] ^= mask
            yield

    def reset(self) -> None:
        self.data[:] = self.received[:len(self.data)]
        self.ecc[:] = self.received[len(self.data):]

    def chase(self, bits: int) -> Decoded | None:
        """Chase-II: the first flip pattern (:meth:`flips`) whose word decodes to a valid frame."""
        found = None
        for _ in self.flips(bits):
            found = self.attempt()
            if found is not None:
                break
        self.reset()
        return found


def _decode(probs: np.ndarray, key: bytes, soft: bool = True, chase_bits: int = CHASE_BITS) -> Decoded | None:
    """:func:`decode_message` with the key already derived; ``soft=False`` keeps to the hard decisions (for
    measuring what Chase decoding adds)."""
    p = np.asarray(probs, dtype=np.float64).ravel()
    n_bits = 8 * _n_bytes(p.size)
    p = np.clip(np.nan_to_num(p, nan=0.5), 0.0, 1.0)
    whiten, perm = _scramble(key, n_bits)
    q = p[perm]                                   # codeword order
    hard = (q > 0.5).astype(np.uint8) ^ whiten     # decided before unwhitening: p == 0.5 must not give zeros
    readers = [_Reader(hard, np.abs(q - 0.5), name, n_bits) for name in _DECODE_ORDER]
    for reader in readers:
        found = reader.attempt()
        if found is not None:
            return found
    if soft:
        for reader in readers:
            found = reader.chase(chase_bits)
            if found is not None:
                return found
    return None


def decode_message(probs: np.ndarray, passphrase: str | None = None) -> Decoded | None:
    """The message in a spread model's output ``probs`` (float [n_bits], P(bit == 1)), or None.

    None means no message was found: nothing hidden, too much damage, or another passphrase. What comes
    back has passed a 24-bit CRC and every format check, so a wrong message is a one-in-many-millions event
    (module docstring), not a best guess.
    """
    return _decode(probs, _key(passphrase))


def false_positive_bound(n_bits: int) -> float:
    """Upper bound on the chance that :func:`decode_message` finds a message in bits that hold none.

    Counts the CRC only (see the module docstring); the header and padding checks lower it further.
    """
    return _bound(_layouts(8 * _n_bytes(n_bits)))
