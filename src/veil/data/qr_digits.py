"""Six-digit QR codes for the neural QR reader (seed 001): version 1, ECC H, numeric mode, 21x21 modules.

Generator: segno is the reference (``segno.make(s, version=1, error="h", micro=False, boost_error=False)``,
:func:`segno_matrix`), about 5 ms a code on this CPU, 85% of it in its choice of the data mask. Training on
fresh codes needs hundreds of thousands, so :class:`FastDigitCodes` produces the *same* matrices in
vectorised NumPy, built from segno itself:

- The codeword bits of a 6-digit numeric code are an affine GF(2) function of its 20 data bits (two
  10-bit groups of three digits; mode, count, terminator and pad codewords are constant, Reed-Solomon is
  linear over GF(2)). The unmasked matrix and each of the eight final matrices (mask ``k`` applied, its
  format information written) are therefore ``base ^ (M @ bits mod 2)``: ``base`` and the 20 columns of
  ``M`` are read off 21 segno codes per mask (the all-zero string and one string per data bit).
- The mask is chosen as segno chooses it: its penalty score (ISO/IEC 18004 N1-N4, segno's scanning of the
  1:1:3:1:1 pattern included) of every masked matrix before format information, lowest score, first wins.

The construction checks itself against segno on random strings and refuses to run if a single module
differs (:class:`GeneratorMismatch`); ``veil qrnet eval`` scores on codes made by segno directly.

Split (no code is both trained on and evaluated on): a string is an *eval* string when the BLAKE2b-64
hash of its ASCII digits is 0 mod 10 (100,327 of the 10^6 strings), a *train* string otherwise.
"""
from __future__ import annotations

import hashlib
import random

import numpy as np

SIZE = 21                      # modules across a version-1 code (no quiet zone)
N_DIGITS = 6
EVAL_MOD = 10                  # one string in EVAL_MOD (by hash) is held out for evaluation


class GeneratorMismatch(RuntimeError):
    """The vectorised generator disagrees with segno (a segno version it was not built for)."""


def is_eval_string(s: str) -> bool:
    """True for the held-out strings: BLAKE2b-64 of the ASCII digits, big-endian, is 0 mod 10."""
    h = hashlib.blake2b(s.encode("ascii"), digest_size=8).digest()
    return int.from_bytes(h, "big") % EVAL_MOD == 0


def random_strings(rng: random.Random, n: int, split: str) -> list[str]:
    """``n`` uniformly random 6-digit strings (leading zeros allowed) of ``split`` ("train" or "eval"),
    drawn with replacement."""
    if split not in ("train", "eval"):
        raise ValueError(f"split must be train or eval, got {split!r}")
    want = split == "eval"
    out: list[str] = []
    while len(out) < n:
        s = f"{rng.randrange(10 ** N_DIGITS):06d}"
        if is_eval_string(s) == want:
            out.append(s)
    return out


def unique_strings(rng: random.Random, n: int, split: str, exclude: set[str] = frozenset()) -> list[str]:
    """``n`` distinct strings of ``split``, none in ``exclude`` (the seed's 30,000 + 10,000 sets)."""
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        for s in random_strings(rng, n - len(out), split):
            if s not in seen and s not in exclude:
                seen.add(s)
                out.append(s)
    return out


def digits_of(strings: list[str]) -> np.ndarray:
    """['012345', ...] -> int64 [N, 6]."""
    return np.array([[ord(c) - 48 for c in s] for s in strings], dtype=np.int64).reshape(-1, N_DIGITS)


def segno_matrix(s: str) -> np.ndarray:
    """The reference: segno's version-1 ECC-H code of ``s``, bool [21, 21], True = dark, no quiet zone."""
    import segno

    qr = segno.make(s, version=1, error="h", micro=False, boost_error=False)
    m = np.array(qr.matrix, dtype=np.uint8) > 0
    if m.shape != (SIZE, SIZE):
        raise GeneratorMismatch(f"segno made a {m.shape} code for {s!r}, expected 21x21")
    return m


def data_bits(strings: list[str]) -> np.ndarray:
    """The 20 varying data bits (two 10-bit groups of three digits, most significant first): uint8 [N, 20]."""
    d = digits_of(strings)
    groups = np.stack([d[:, 0] * 100 + d[:, 1] * 10 + d[:, 2], d[:, 3] * 100 + d[:, 4] * 10 + d[:, 5]], 1)
    shifts = np.arange(9, -1, -1)
    return ((groups[:, :, None] >> shifts) & 1).reshape(-1, 20).astype(np.uint8)


def _basis_strings() -> list[str]:
    """The all-zero string, then for each data bit a string with only that bit set (group values 2^k <= 512)."""
    out = ["000000"]
    for g in range(2):
        for k in range(9, -1, -1):
            v = f"{1 << k:03d}"
            out.append(v + "000" if g == 0 else "000" + v)
    return out


def _segno_raw_and_final(s: str, mask: int | None) -> tuple[np.ndarray, np.ndarray, int]:
    """segno's matrix of ``s`` just before masking (values as segno holds them) and the final matrix."""
    import segno
    from segno import encoder

    captured = {}
    original = encoder.find_and_apply_best_mask

    def spy(matrix, width, height, proposed_mask=None):
        captured["raw"] = np.array([list(r) for r in matrix], dtype=np.int16)
        return original(matrix, width, height, proposed_mask)

    encoder.find_and_apply_best_mask = spy
    try:
        qr = segno.make(s, version=1, error="h", micro=False, boost_error=False, mask=mask)
    finally:
        encoder.find_and_apply_best_mask = original
    if "raw" not in captured:
        raise GeneratorMismatch("segno's encoder no longer masks through find_and_apply_best_mask")
    return captured["raw"], np.array(qr.matrix, dtype=np.int16), int(qr.mask)


def _mask_patterns() -> np.ndarray:
    """The eight data masks of ISO/IEC 18004 table 10 on the 21x21 grid: int16 [8, 21, 21] of 0/1."""
    i, j = np.mgrid[0:SIZE, 0:SIZE]
    pats = [(i + j) % 2 == 0, i % 2 == 0, j % 3 == 0, (i + j) % 3 == 0, (i // 2 + j // 3) % 2 == 0,
            (i * j) % 2 + (i * j) % 3 == 0, ((i * j) % 2 + (i * j) % 3) % 2 == 0,
            ((i + j) % 2 + (i * j) % 3) % 2 == 0]
    return np.stack(pats).astype(np.int16)


def _encoding_region() -> np.ndarray:
    """Where segno applies the mask: everything but finders (with separators), alignment and the dark module,
    as segno's own function matrix marks it. bool [21, 21]."""
    from segno import encoder

    fm = encoder.make_matrix(SIZE, SIZE)
    encoder.add_finder_patterns(fm, SIZE, SIZE)
    encoder.add_alignment_patterns(fm, SIZE, SIZE)
    fm[-8][8] = 0x1
    return np.array([list(r) for r in fm]) > 0x1


def penalty_scores(m: np.ndarray) -> np.ndarray:
    """segno's mask penalty (N1 + N2 + N3 + N4 of ISO/IEC 18004 7.8.3.1, computed as segno computes it) of
    each matrix in ``m`` (int [..., 21, 21]); returns int64 [...]."""
    m = np.asarray(m, dtype=np.int16)
    lead = m.shape[:-2]
    x = m.reshape(-1, SIZE, SIZE)
    b = x.shape[0]
    # Every row and every column as a sequence, position first (contiguous slices): [21, B * 42].
    seqs = np.ascontiguousarray(np.concatenate([x.transpose(2, 0, 1), x.transpose(1, 0, 2)], 2).reshape(SIZE, -1))
    # N1: a run of L >= 5 equal modules in a row or column scores L - 2.
    n1 = np.zeros(seqs.shape[1], np.int32)
    run = np.ones(seqs.shape[1], np.int32)
    for j in range(1, SIZE):
        same = seqs[j] == seqs[j - 1]
        n1 += np.where(~same & (run >= 5), run - 2, 0)
        run = np.where(same, run + 1, 1)
    n1 += np.where(run >= 5, run - 2, 0)
    # N2: every 2x2 block of one colour scores 3.
    blk = (x[:, 1:, 1:] == x[:, 1:, :-1]) & (x[:, 1:, :-1] == x[:, :-1, 1:]) & (x[:, :-1, 1:] == x[:, :-1, :-1])
    n2 = 3 * blk.sum((1, 2))
    # N3: 1011101 with a light (all-zero) stretch of up to 4 modules before or after, or at either end, scores
    # 40; the scan resumes 7 after a counted match and 4 after an uncounted one (segno's find loop).
    n_pos = SIZE - 6
    one, zero = seqs == 1, seqs == 0          # the pattern's bytes are 0x0 and 0x1: other values never match
    pattern = (1, 0, 1, 1, 1, 0, 1)
    match = np.ones((n_pos, seqs.shape[1]), bool)
    for i, v in enumerate(pattern):
        match &= (one if v else zero)[i:i + n_pos]
    nz = np.concatenate([np.zeros((1, seqs.shape[1]), np.int32), np.cumsum(~zero, 0, dtype=np.int32)], 0)
    pos = np.arange(n_pos)
    before_light = nz[pos] == nz[np.maximum(pos - 4, 0)]
    after_light = nz[np.minimum(pos + 11, SIZE)] == nz[np.minimum(pos + 7, SIZE)]
    counts = before_light | after_light
    counts[[0, n_pos - 1]] = True
    n3 = np.zeros(seqs.shape[1], np.int32)
    nxt = np.zeros(seqs.shape[1], np.int32)
    for p in range(n_pos):
        active = match[p] & (p >= nxt)
        counted = active & counts[p]
        n3 += 40 * counted
        nxt = np.where(active, np.where(counted, p + 7, p + 4), nxt)
    # N4: 10 per full 5% that the dark share (segno sums the cell values) is away from 50%.
    percent = x.sum((1, 2)).astype(np.float64) / (SIZE * SIZE)
    n4 = 10 * np.floor(np.abs(percent * 100 - 50) / 5).astype(np.int64)
    per_seq = (n1 + n3).reshape(b, 2 * SIZE).sum(1)
    return (per_seq + n2 + n4).reshape(lead)


class FastDigitCodes:
    """Vectorised segno for 6-digit strings: ``matrices(strings)`` -> bool [N, 21, 21] (True = dark), the same
    modules as :func:`segno_matrix`, about a thousand times faster. Checked against segno on construction."""

    def __init__(self, check: int = 64, seed: int = 0):
        basis = _basis_strings()
        raws, finals = [], []
        for s in basis:
            raw, _, _ = _segno_raw_and_final(s, None)
            raws.append(raw)
            finals.append(np.stack([_segno_raw_and_final(s, k)[1] for k in range(8)]))
        raws, finals = np.stack(raws), np.stack(finals)             # [21, 21, 21], [21, 8, 21, 21]
        if not (np.isin(raws, (0, 1)).all() and np.isin(finals, (0, 1)).all()):
            raise GeneratorMismatch("segno's matrices hold values other than 0/1")
        self.raw0 = raws[0]
        self.raw_cols = (raws[1:] ^ raws[0]).reshape(20, -1).T.astype(np.uint8)          # [441, 20]
        self.final0 = finals[0]                                                           # [8, 21, 21]
        self.final_cols = (finals[1:] ^ finals[0]).reshape(20, 8, -1).transpose(1, 2, 0).astype(np.uint8)
        self.masks = _mask_patterns() * _encoding_region()
        if check:
            rng = random.Random(f"{seed}-qr-digits-check")
            strings = [f"{rng.randrange(10 ** N_DIGITS):06d}" for _ in range(check)]
            self.verify(strings)

    def _affine(self, base: np.ndarray, cols: np.ndarray, bits: np.ndarray) -> np.ndarray:
        """base [..., 441] ^ (cols [..., 441, 20] @ bits [N, 20]) mod 2."""
        return base ^ ((bits.astype(np.int32) @ cols.T.astype(np.int32)) & 1)

    def masks_chosen(self, strings: list[str]) -> np.ndarray:
        """The data mask (0-7) segno picks for each string: int64 [N]."""
        bits = data_bits(strings)
        raw = self._affine(self.raw0.reshape(-1), self.raw_cols, bits).reshape(-1, 1, SIZE, SIZE)
        scores = penalty_scores(raw.astype(np.int16) ^ self.masks[None])                  # [N, 8]
        return scores.argmin(1)

    def matrices(self, strings: list[str]) -> np.ndarray:
        """bool [N, 21, 21], True = dark module, no quiet zone."""
        if not strings:
            return np.zeros((0, SIZE, SIZE), bool)
        bits = data_bits(strings)
        k = self.masks_chosen(strings)
        out = np.empty((len(strings), SIZE * SIZE), np.int32)
        for mask in np.unique(k):
            sel = k == mask
            cols = self.final_cols[mask]
            out[sel] = self._affine(self.final0[mask].reshape(-1), cols, bits[sel])
        return out.reshape(-1, SIZE, SIZE) > 0

    def matrices_all_masks(self, strings: list[str]) -> np.ndarray:
        """The code of each string under each of the eight data masks (format information written for that
        mask), whichever segno would choose: bool [N, 8, 21, 21], True = dark. Other generators may pick
        another mask than segno does for the same string (the standard leaves the choice to the encoder)."""
        if not strings:
            return np.zeros((0, 8, SIZE, SIZE), bool)
        bits = data_bits(strings).astype(np.int32)
        out = np.stack([self._affine(self.final0[k].reshape(-1), self.final_cols[k], bits) for k in range(8)], 1)
        return out.reshape(-1, 8, SIZE, SIZE) > 0

    def verify(self, strings: list[str]) -> None:
        """Raise :class:`GeneratorMismatch` unless every matrix equals segno's."""
        fast = self.matrices(strings)
        for s, m in zip(strings, fast):
            if not np.array_equal(m, segno_matrix(s)):
                raise GeneratorMismatch(f"the vectorised generator differs from segno on {s!r}")


_FAST: FastDigitCodes | None = None


def fast_codes() -> FastDigitCodes:
    """One shared, self-checked :class:`FastDigitCodes`."""
    global _FAST
    if _FAST is None:
        _FAST = FastDigitCodes()
    return _FAST


# ----------------------------------------------------------------------------- rendering and degradation

def render(m: np.ndarray, module_px: float, quiet=(0.0, 0.0, 0.0, 0.0), smooth: bool = False) -> np.ndarray:
    """Bool matrix [21,21] (True = dark) -> float32 image in [0,1] (1 = light): ``module_px`` pixels a module
    (a fractional size spreads the remainder as :func:`veil.payloads.qr.render_matrix` does; ``smooth``
    renders twice as large and averages 2x2 blocks, so module edges fall between pixels as grey), light quiet
    zones of (top, bottom, left, right) modules."""
    code_px = max(SIZE, int(round(SIZE * module_px)))
    light = np.where(np.asarray(m, bool), 0.0, 1.0).astype(np.float32)
    if smooth:
        idx = (np.arange(2 * code_px) * SIZE) // (2 * code_px)
        img = light[idx][:, idx].reshape(code_px, 2, code_px, 2).mean((1, 3))
    else:
        idx = (np.arange(code_px) * SIZE) // code_px
        img = light[idx][:, idx]
    px = code_px / SIZE
    t, b, left, r = (int(round(q * px)) for q in quiet)
    return np.pad(img, ((t, b), (left, r)), constant_values=1.0)


def degrade(img: np.ndarray, blur_sigma_px: float = 0.0, noise_std: float = 0.0, dark: float = 0.0,
            light: float = 1.0) -> np.ndarray:
    """What a camera, a scanner or a stego decoder does to a code image: levels moved to (dark, light),
    Gaussian blur (sigma in pixels), Gaussian noise (std on [0,1]), then clipped and rounded to 8 bits.
    Blur and noise are veil.attacks' modules (torch's global generator draws the noise)."""
    import torch

    from ..attacks.pixel import GaussianBlur, GaussianNoise
    from ..imaging import quantize_8bit

    x = torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32))[None, None]
    x = dark + (light - dark) * x
    if blur_sigma_px > 0.05:
        x = GaussianBlur(blur_sigma_px)(x)
    if noise_std > 0:
        x = GaussianNoise(noise_std * 255.0)(x)
    return quantize_8bit(x.clamp(0, 1))[0, 0].numpy()


def flip_modules(m: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Flip a share ``rate`` of the modules outside the function patterns (finders, separators, timing, dark
    module), which `veil qr reveal` redraws correctly: the errors its --qr-out image keeps."""
    from ..payloads.qr import function_patterns

    fixed, _ = function_patterns(1)
    flips = (rng.random(m.shape) < rate) & ~fixed
    return m ^ flips
