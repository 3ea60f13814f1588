"""Text <-> QR code: generation (segno), rendering at a model's processing size, reading (zxing-cpp).

Convention of the rendered QR image: float32 in [0, 1], 1.0 = light module, 0.0 = dark module,
a square of ``size`` x ``size`` pixels holding the code *and* its quiet zone of ``border`` modules.
Module ``i`` covers pixels ``floor(i*size/n) .. floor((i+1)*size/n)-1`` where ``n`` is the number of
modules including the quiet zone, so any version fits any size without rounding the code away.

Because the code sits at a known place and size, the reader does not have to find it: it
averages the network's output on the module grid, forces the fixed function patterns (finders,
timing, alignment, dark module) and hands a clean, re-rendered code to zxing-cpp.
"""
from __future__ import annotations

import random
import string
from dataclasses import dataclass

import numpy as np

from ..errors import CapacityError, InputError

ECC_LEVELS = ("L", "M", "Q", "H")
# Byte-mode capacity (characters of 8 bits) per version 1..10 and ECC level (ISO/IEC 18004 table 7).
BYTE_CAPACITY = {
    "L": [17, 32, 53, 78, 106, 134, 154, 192, 230, 271],
    "M": [14, 26, 42, 62, 84, 106, 122, 152, 180, 213],
    "Q": [11, 20, 32, 46, 60, 74, 86, 108, 130, 151],
    "H": [7, 14, 24, 34, 44, 58, 64, 84, 98, 119],
}
# Centres of alignment patterns per version (ISO/IEC 18004 annex E), versions 1..10.
ALIGNMENT_CENTRES = {1: [], 2: [6, 18], 3: [6, 22], 4: [6, 26], 5: [6, 30], 6: [6, 34],
                     7: [6, 22, 38], 8: [6, 24, 42], 9: [6, 26, 46], 10: [6, 28, 50]}


@dataclass(frozen=True)
class QRSpec:
    """What a model carries: QR versions ``1..max_version`` drawn with ``border`` quiet modules."""

    max_version: int = 4
    border: int = 2

    def capacity(self, ecc: str = "M") -> int:
        """Bytes of text that fit (byte mode) at this ECC level."""
        return BYTE_CAPACITY[_ecc(ecc)][self.max_version - 1]

    def modules(self, version: int) -> int:
        """Modules across, quiet zone included."""
        return 17 + 4 * version + 2 * self.border


@dataclass
class QRCode:
    text: str
    version: int
    ecc: str
    matrix: np.ndarray  # bool [m, m], True = dark, no quiet zone


def _ecc(ecc: str) -> str:
    e = str(ecc).upper()
    if e not in ECC_LEVELS:
        raise InputError(f"unknown ECC level '{ecc}': use one of L, M, Q, H")
    return e


def encode_text(text: str, ecc: str = "M", spec: QRSpec = QRSpec()) -> QRCode:
    """Make the smallest QR code (version <= spec.max_version) holding ``text`` at level ``ecc``.

    segno raises the ECC level for free when the chosen version has room left. An ASCII text keeps segno's
    compact modes (numeric, alphanumeric, byte); any other text is written as UTF-8 in byte mode behind an ECI
    marker, so that a reader decodes it as it was written (without the marker, QR readers guess Latin-1 or
    Shift_JIS and return another text).
    """
    import segno

    ecc = _ecc(ecc)
    if not isinstance(text, str):
        raise InputError(f"the text to hide must be str, got {type(text).__name__} (veil.hide takes bytes)")
    if text == "":
        raise InputError("the text to hide is empty")
    try:
        # UTF-8 bytes in byte mode: left to choose, segno takes any bytes that happen to pair up as Shift_JIS
        # (e0 b3 82 30, "ೂ0") for kanji mode, and the reader then returns other characters
        utf8 = {} if text.isascii() else {"encoding": "utf-8", "eci": True, "mode": "byte"}
        qr = segno.make_qr(text, error=ecc.lower(), boost_error=True, **utf8)
    except segno.DataOverflowError:
        qr = None
    except ValueError as e:
        raise InputError(f"cannot encode text as a QR code: {e}") from None
    if qr is None or qr.version > spec.max_version:
        n = len(text.encode("utf-8"))
        raise CapacityError(
            f"text too long: {len(text)} characters ({n} bytes); this model carries QR versions 1-"
            f"{spec.max_version}, at most {spec.capacity(ecc)} bytes at ECC {ecc}"
            + ("" if ecc == "L" else f" ({spec.capacity('L')} at ECC L)"))
    m = np.array(qr.matrix, dtype=np.uint8) > 0
    return QRCode(text=text, version=int(qr.version), ecc=str(qr.error).upper(), matrix=m)


def pixel_to_module(size: int, n: int) -> np.ndarray:
    """Index of the module (0..n-1) that each of ``size`` pixels falls into."""
    return (np.arange(size) * n) // size


def render_matrix(matrix: np.ndarray, size: int, border: int = 2) -> np.ndarray:
    """Bool module matrix (True = dark) -> float32 [size, size] image, 1 = light, quiet zone added."""
    m = np.pad(np.asarray(matrix, dtype=bool), border, constant_values=False)
    idx = pixel_to_module(size, m.shape[0])
    return np.where(m[np.ix_(idx, idx)], 0.0, 1.0).astype(np.float32)


def sampling_matrix(size: int, n: int, inner: float = 0.6) -> np.ndarray:
    """Averaging weights A [n, size]: ``A @ img @ A.T`` is the mean over each module's centre.

    Only pixels whose centre lies in the middle ``inner`` fraction of a module count, so blur
    across module edges does not leak into the estimate.
    """
    centres = (np.arange(size) + 0.5) * n / size          # pixel centre in module units
    mod = np.floor(centres).astype(int)
    frac = centres - mod
    keep = np.abs(frac - 0.5) <= inner / 2 + 1e-9
    A = np.zeros((n, size), dtype=np.float32)
    A[mod[keep], np.arange(size)[keep]] = 1.0
    empty = A.sum(1) == 0                                   # tiny modules: fall back to all pixels
    if empty.any():
        A[mod, np.arange(size)] = np.where(empty[mod], 1.0, A[mod, np.arange(size)])
    return A / A.sum(1, keepdims=True)


def function_patterns(version: int) -> tuple[np.ndarray, np.ndarray]:
    """(mask, dark) of the modules fixed by the standard for ``version`` (no quiet zone).

    Covers finder patterns with separators, timing patterns, alignment patterns and the dark module.
    """
    m = 17 + 4 * version
    mask = np.zeros((m, m), bool)
    dark = np.zeros((m, m), bool)
    finder = np.ones((7, 7), bool)
    finder[1:6, 1:6] = False
    finder[2:5, 2:5] = True
    for r, c in ((0, 0), (0, m - 7), (m - 7, 0)):
        r0, r1 = max(r - 1, 0), min(r + 8, m)
        c0, c1 = max(c - 1, 0), min(c + 8, m)
        mask[r0:r1, c0:c1] = True                             # separator is light
        dark[r:r + 7, c:c + 7] = finder
    t = np.arange(8, m - 8)
    mask[6, t] = True
    dark[6, t] = t % 2 == 0
    mask[t, 6] = True
    dark[t, 6] = t % 2 == 0
    centres = ALIGNMENT_CENTRES[version]
    align = np.ones((5, 5), bool)
    align[1:4, 1:4] = False
    align[2, 2] = True
    for r in centres:
        for c in centres:
            if (r < 9 and c < 9) or (r < 9 and c > m - 10) or (r > m - 10 and c < 9):
                continue
            mask[r - 2:r + 3, c - 2:c + 3] = True
            dark[r - 2:r + 3, c - 2:c + 3] = align
    mask[4 * version + 9, 8] = True
    dark[4 * version + 9, 8] = True
    return mask, dark


def decode_qr_image(img: np.ndarray) -> str | None:
    """Read a QR code from a greyscale uint8 or [0,1] float image with zxing-cpp; None if none. The text is the
    code's raw bytes decoded as strict UTF-8 (what :func:`encode_text` writes; ASCII is UTF-8): a code whose bytes
    are not UTF-8 gives None, never a guessed text."""
    import zxingcpp

    a = np.asarray(img)
    if a.dtype != np.uint8:
        a = np.clip(np.round(a * 255.0), 0, 255).astype(np.uint8)
    try:
        res = zxingcpp.read_barcodes(np.ascontiguousarray(a), formats=zxingcpp.BarcodeFormat.QRCode)
    except Exception:  # zxing raises on degenerate input; treat as unreadable
        return None
    for r in res:
        if r.valid if hasattr(r, "valid") else True:
            try:
                return bytes(r.bytes).decode("utf-8")
            except UnicodeDecodeError:
                continue
    return None


def clean_code_image(modules_dark: np.ndarray, scale: int = 4, quiet: int = 4) -> np.ndarray:
    """Render a module matrix (no quiet zone) as a crisp uint8 code for the reader."""
    m = np.pad(modules_dark, quiet, constant_values=False)
    return np.where(np.kron(m, np.ones((scale, scale), bool)), 0, 255).astype(np.uint8)


# Chase decoding (soft decisions): when the plain read fails, flip up to CHASE_FLIPS of the CHASE_CANDIDATES least
# confident free modules (data and format information) of the best-fitting version and read again. Only when that
# version's function patterns agree with the network's output at least CHASE_MIN_AGREE, so a photo with nothing
# hidden is not searched.
CHASE_CANDIDATES = 10
CHASE_FLIPS = 3
CHASE_MIN_AGREE = 0.8
# A grid read counts only when the network drew at least this share of that version's function-pattern modules
# right: zxing, handed a grid with the patterns forced, can decode a short text out of a network's noise.
# Measured by scripts/qr_wrong_text.py (results/qr_wrong_text.json): right reads had 0.837 and more, the wrong
# texts every released model found on attacked stego images and clean photos 0.571 and less.
GRID_MIN_AGREE = 0.75


def _chase(inner: np.ndarray, mask: np.ndarray, dark: np.ndarray, candidates: int,
           flips: int) -> tuple[str | None, np.ndarray | None]:
    """Read ``dark`` (the thresholded modules, function patterns forced) again with every set of up to ``flips``
    of the ``candidates`` least confident free modules (outside ``mask``; confidence from ``inner``) flipped."""
    from itertools import combinations

    dark = dark.ravel()
    confidence = np.abs(inner - 0.5).ravel()
    confidence[mask.ravel()] = np.inf
    weakest = np.argsort(confidence, kind="stable")[:candidates]
    for r in range(1, flips + 1):
        for idx in combinations(weakest.tolist(), r):
            trial = dark.copy()
            trial[list(idx)] ^= True
            text = decode_qr_image(clean_code_image(trial.reshape(inner.shape)))
            if text is not None:
                return text, trial.reshape(inner.shape)
    return None, None


@dataclass(frozen=True)
class QRRead:
    """One read of a network's QR output: the text (or None), the best-guess code image [size, size] in [0, 1], how
    the text was found (``"grid"``: the module grid as sampled; ``"chase"``: after flipping weak modules; ``"raw"``:
    zxing's own search of the thresholded image; None: not found) and ``agree``, the fraction of the best-fitting
    version's function-pattern modules (finders, timing, alignment) the network drew right: near 1 for a real code,
    near 0.5 for an image with none."""
    text: str | None
    image: np.ndarray
    path: str | None
    agree: float


def read_qr(prob_light: np.ndarray, spec: QRSpec = QRSpec(),
            chase: tuple[int, int] = (CHASE_CANDIDATES, CHASE_FLIPS)) -> QRRead:
    """Recover text from a network's per-pixel probability that each pixel is a light module.

    Tries every version the model carries: sample the grid, force the function patterns,
    re-render a clean code and let zxing-cpp apply the error correction. If none reads, Chase
    decoding on the best-fitting version (``chase`` = (candidates, flips); (0, 0) turns it off), then
    the thresholded image as it is."""
    p = np.asarray(prob_light, dtype=np.float32)
    size = p.shape[0]
    best = None
    best_agree = -1.0
    for v in range(1, spec.max_version + 1):
        n = spec.modules(v)
        A = sampling_matrix(size, n)
        mod = A @ p @ A.T
        inner = mod[spec.border:n - spec.border, spec.border:n - spec.border]
        dark = inner < 0.5
        mask, fixed = function_patterns(v)
        agree = float((dark[mask] == fixed[mask]).mean())   # how well this version's grid fits
        dark = np.where(mask, fixed, dark)
        text = decode_qr_image(clean_code_image(dark)) if agree >= GRID_MIN_AGREE else None
        if text is not None:
            return QRRead(text, render_matrix(dark, size, spec.border), "grid", agree)
        if agree > best_agree:
            best_agree, best = agree, (inner, mask, dark)
    if best is not None and best_agree >= CHASE_MIN_AGREE and min(chase) > 0:
        text, dark = _chase(*best, *chase)
        if text is not None:
            return QRRead(text, render_matrix(dark, size, spec.border), "chase", best_agree)
    raw = (p >= 0.5).astype(np.uint8) * 255
    text = decode_qr_image(np.pad(raw, size // 8, constant_values=255))
    image = render_matrix(best[2], size, spec.border) if best is not None else raw / 255.0
    return QRRead(text, image, "raw" if text is not None else None, best_agree)


def read_from_probabilities(prob_light: np.ndarray, spec: QRSpec = QRSpec(),
                            chase: tuple[int, int] = (CHASE_CANDIDATES, CHASE_FLIPS)) -> tuple[str | None, np.ndarray]:
    """:func:`read_qr` as (text or None, best-guess QR image in [0, 1])."""
    r = read_qr(prob_light, spec, chase)
    return r.text, r.image


def random_text(rng: random.Random, max_len: int, min_len: int = 1) -> str:
    """A random text for training and evaluation: printable ASCII, digits-only or upper-case."""
    n = rng.randint(min_len, max_len)
    kind = rng.random()
    if kind < 0.15:
        alphabet = string.digits
    elif kind < 0.3:
        alphabet = string.ascii_uppercase + string.digits + " $%*+-./:"
    else:
        alphabet = string.ascii_letters + string.digits + string.punctuation + " "
    return "".join(rng.choice(alphabet) for _ in range(n))


def random_code(rng: random.Random, spec: QRSpec = QRSpec(), ecc_weights=(0.15, 0.55, 0.15, 0.15)) -> QRCode:
    """A random QR code of any version the spec carries (text length uniform up to capacity)."""
    ecc = rng.choices(ECC_LEVELS, weights=ecc_weights)[0]
    while True:
        try:
            return encode_text(random_text(rng, spec.capacity(ecc)), ecc, spec)
        except CapacityError:  # alphanumeric/numeric texts always fit; byte texts at the edge may not
            continue
