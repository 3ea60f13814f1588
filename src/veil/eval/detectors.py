"""The four classical LSB-replacement detectors that StegExpose (Boehm, arXiv:1410.6656) fuses, in NumPy.

Each takes an 8-bit image array ([H,W] or [H,W,C], uint8) and returns an estimated embedding rate
clipped to [0, 1]: the share of samples (pixel channels) whose least significant bit carries message
bits (half of those change on average). The fused score is their mean, as in StegExpose.

- :func:`chi_square`: Westfeld & Pfitzmann, "Attacks on steganographic systems" (IH 1999). The
  pairs-of-values statistic S = sum_k (n_2k - n*_k)^2 / n*_k, n*_k = (n_2k + n_2k+1) / 2, on a histogram
  that grows block by block along the image (StegExpose's 1,024-sample blocks); the share of the scan that
  reads as embedded estimates the share of the image embedded *sequentially* from its start (it does not
  see sparse random-position embedding, by design of the test). Two departures from the paper's printed
  formula, both in how the p-value is computed and read, not in what is tested:

  1. The paper defines p as the probability of S under the hypothesis that the pairs are equalised
     (embedding) and computes it as P(chi2_{k-1} > S). Under that hypothesis, given the pair totals
     m_k = 2 n*_k, each n_2k is Binomial(m_k, 1/2), of variance m_k / 4 = n*_k / 2, so each term is
     chi2_1 / 2 and S ~ chi2_k / 2: the printed p is about 1 under embedding and stays above 1/2 until S
     is about sqrt(k / 2) (8 for k = 128) standard deviations above its mean. On 256 px crops with smooth
     histograms many clean images never get there (mean 0.21 on clean training crops, 16% above 0.5), and
     their noise swamped the fused mean. Here p = P(chi2_k > 2 S), the exact null distribution (it is
     also Pearson's statistic over both members of each pair): uniform under embedding, small on covers.
  2. With a uniform p the mean over blocks no longer estimates the share, so the curve is read as
     Westfeld and Pfitzmann read their plot: a block reads as embedded unless its p rejects embedding at
     level ``CHI_ALPHA`` = 1% (then a fully embedded image reads about 0.99), and the estimate is the
     share of blocks that read as embedded. ``chi_square(a, published=True)`` is the paper's p averaged
     over the blocks (StegExpose's reading), kept for comparison.

  Measured on 264 crops of the training photos, 10% random LSB replacement: fused AUC 0.811 -> 0.918
  (chi-square on clean crops: mean 0.21 -> 0.07); the sequential estimates on the bundled photo at 0, 10,
  50, 100%: 0.02, 0.18, 0.56, 1.00 (printed formula) and 0.01, 0.17, 0.56, 1.00 (here).
- :func:`rs`: Fridrich, Goljan & Du, "Reliable detection of LSB steganography in color and grayscale
  images" (2001). Regular/singular 2x2 groups under the flipping masks M and -M, on the image and on
  its LSB-inverted copy, give a quadratic whose smaller root estimates the rate.
- :func:`sample_pairs`: Dumitrescu, Wu & Wang, "Detection of LSB steganography via sample pair
  analysis" (IH 2002 / IEEE TSP 2003), the X, Y, Z, W sets of adjacent sample pairs.
- :func:`primary_sets`: Dumitrescu, Wu & Memon, "On steganalysis of random LSB embedding in
  continuous-tone images" (ICIP 2002): the finer primary sets C_m, D_n, X_{2m+1}, Y_{2m+1}, one
  quadratic per m, summed over small m where the cover assumption |X| = |Y| holds best.

Pairs are horizontally and vertically adjacent samples of one channel; colour images are analysed
per channel and the channel estimates averaged (StegExpose does the same). Pooling the pair and group
counts of the three channels before solving one quadratic was measured and rejected: on the training
crops it raised the spread of the clean estimates (SPA 0.032 -> 0.037) and lowered the 10% AUCs (primary
sets 0.978 -> 0.958, sample pairs 0.974 -> 0.957, RS 0.986 -> 0.975): the cover bias of one channel (a
saturated or flat colour) weighs more in a ratio of sums than in a mean of ratios. All four detectors of a
1-megapixel RGB image take about 0.2 s here (``veil bench analyze``).
"""
from __future__ import annotations

import math

import numpy as np

DETECTORS = ("primary_sets", "chi_square", "sample_pairs", "rs")
CHI_BLOCK = 1024        # bytes per chi-square block (StegExpose's value)
CHI_ALPHA = 0.01        # chi-square: a block reads as embedded unless its p-value is below this level
PRIMARY_SETS_M = 8      # primary sets: equations m = 0..PRIMARY_SETS_M-1 are summed


def _channels(a: np.ndarray) -> list[np.ndarray]:
    a = np.asarray(a)
    if a.dtype != np.uint8:
        raise ValueError(f"detectors need 8-bit samples, got {a.dtype}")
    if a.ndim == 2:
        return [a]
    if a.ndim == 3:
        return [a[:, :, c] for c in range(min(a.shape[2], 3))]  # alpha is not analysed
    raise ValueError(f"expected an [H,W] or [H,W,C] image, got shape {a.shape}")


def _clip(x: float) -> float:
    return float(min(max(x, 0.0), 1.0)) if math.isfinite(x) else 0.0


def _smaller_root(a: float, b: float, c: float) -> float:
    """The root of a x^2 + b x + c = 0 smallest in magnitude (the real part if the roots are complex)."""
    if abs(a) < 1e-12:
        return -c / b if abs(b) > 1e-12 else 0.0
    disc = b * b - 4 * a * c
    if disc < 0:
        return -b / (2 * a)
    s = math.sqrt(disc)
    r1, r2 = (-b + s) / (2 * a), (-b - s) / (2 * a)
    return r1 if abs(r1) <= abs(r2) else r2


# ----------------------------------------------------------------------------- chi-square

def _chi2_sf(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Upper tail P(X > x) of chi-square with ``k`` degrees of freedom, by the Wilson-Hilferty cube-root
    normal approximation (error below 1e-3 for k >= 30; every block has up to 127)."""
    k = np.maximum(k, 1.0)
    z = (np.cbrt(x / k) - (1 - 2 / (9 * k))) / np.sqrt(2 / (9 * k))
    return 0.5 * np.frompyfunc(math.erfc, 1, 1)(z / math.sqrt(2)).astype(np.float64)


def _chi_square_blocks(a: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Westfeld's statistic sum_k (n_2k - e_k)^2 / e_k, e_k = (n_2k + n_2k+1) / 2, and the number of pairs
    seen, on the cumulative histogram after every ``block`` samples (raster order, R, G, B interleaved)."""
    chans = _channels(a)
    flat = np.stack(chans, -1).reshape(-1) if len(chans) > 1 else chans[0].reshape(-1)
    nb = flat.size // block
    if nb < 1:
        return np.zeros(0), np.zeros(0)
    # hist[v, b]: count of value v in block b, then cumulative over blocks (value-major: a contiguous cumsum)
    codes = flat[:nb * block].reshape(nb, block).astype(np.intp) * nb + np.arange(nb, dtype=np.intp)[:, None]
    hist = np.cumsum(np.bincount(codes.ravel(), minlength=256 * nb).reshape(256, nb), axis=1)
    even, odd = hist[0::2].astype(np.float64), hist[1::2].astype(np.float64)
    e = (even + odd) / 2
    used = e > 0
    stat = np.where(used, (even - e) ** 2 / np.where(used, e, 1), 0).sum(0)
    return stat, used.sum(0).astype(np.float64)


def chi_square(a: np.ndarray, block: int = CHI_BLOCK, alpha: float = CHI_ALPHA, published: bool = False) -> float:
    """Westfeld's chi-square attack: the samples in raster order (R, G, B interleaved), a cumulative
    histogram after every ``block`` samples, the pairs-of-values statistic S and its p-value under the
    hypothesis that the pairs are equalised (embedding); returns the share of blocks whose p-value does not
    reject that hypothesis at level ``alpha`` (about the embedded share of a sequentially embedded image).

    The p-value is P(chi2_k > 2 S) over the k pairs seen (see the module docstring: given the pair totals,
    S is distributed as chi2_k / 2 under the hypothesis). ``published=True`` gives the paper's formula
    P(chi2_k-1 > S) averaged over the blocks instead (StegExpose's reading), for comparison."""
    stat, k = _chi_square_blocks(a, block)
    if stat.size == 0:
        return 0.0
    if published:
        return _clip(float(_chi2_sf(stat, k - 1.0).mean()))
    return _clip(float((_chi2_sf(2 * stat, k) > alpha).mean()))


# ----------------------------------------------------------------------------- RS analysis

def _flip(x: np.ndarray, sign: int) -> np.ndarray:
    """F_1: 0<->1, 2<->3, ...; F_-1: -1<->0, 1<->2, ... (x as int16)."""
    return x ^ 1 if sign > 0 else ((x + 1) ^ 1) - 1


def _rs_counts(x: np.ndarray) -> dict[tuple[int, bool], np.ndarray]:
    """R and S shares of 2x2 groups under masks +M and -M, for overlapping and non-overlapping groups.

    A group (a b / c d) is scored by the discrimination f = |a-b| + |b-d| + |d-c| (a path through its
    four pixels). Two complementary checkerboard masks (flip a, d / flip b, c) are both used.
    Returns {(sign, overlapping): array [R, S]} averaged over the two masks.
    """
    x = x.astype(np.int16)
    h, v = np.abs(x[:, :-1] - x[:, 1:]), np.abs(x[:-1] - x[1:])

    def f(hh, vv, hh2):  # f of the group with top-left corner (i, j), all overlapping positions
        return hh[:-1, :] + vv[:, 1:] + hh2[1:, :]

    base = f(h, v, h)
    out = {}
    for sign in (1, -1):
        fx = _flip(x, sign)
        h_lf, h_rf = np.abs(fx[:, :-1] - x[:, 1:]), np.abs(x[:, :-1] - fx[:, 1:])  # left / right flipped
        v_tf, v_bf = np.abs(fx[:-1] - x[1:]), np.abs(x[:-1] - fx[1:])              # top / bottom flipped
        masked = (f(h_lf, v_bf, h_rf),   # mask flips a and d
                  f(h_rf, v_tf, h_lf))   # mask flips b and c
        for overlapping in (True, False):
            b0 = base if overlapping else base[::2, ::2]
            rs = np.zeros(2)
            for fm in masked:
                fm = fm if overlapping else fm[::2, ::2]
                rs += [np.count_nonzero(fm > b0), np.count_nonzero(fm < b0)]
            out[(sign, overlapping)] = rs / (2 * b0.size)
    return out


def _rs_estimate(c0: dict, c1: dict, overlapping: bool) -> float:
    d0 = c0[(1, overlapping)][0] - c0[(1, overlapping)][1]
    dm0 = c0[(-1, overlapping)][0] - c0[(-1, overlapping)][1]
    d1 = c1[(1, overlapping)][0] - c1[(1, overlapping)][1]
    dm1 = c1[(-1, overlapping)][0] - c1[(-1, overlapping)][1]
    a, b, c = 2 * (d1 + d0), dm0 - dm1 - d1 - 3 * d0, d0 - dm0
    if b * b - 4 * a * c < 0:
        # No real root: the R_M and S_M curves have (nearly) met, which is what a (nearly) fully embedded
        # image looks like (d0 ~ d1 ~ 0 while the -M gap stays). Read the rate from how far the +M gap
        # has closed relative to the -M gap instead (the two gaps are equal on a cover, Fridrich et al.).
        return 1.0 - d0 / dm0 if dm0 > 1e-9 else 1.0
    z = _smaller_root(a, b, c)
    return z / (z - 0.5) if abs(z - 0.5) > 1e-12 else 1.0


def rs(a: np.ndarray) -> float:
    """RS analysis: Fridrich et al.'s quadratic 2(d1+d0) z^2 + (d-0 - d-1 - d1 - 3 d0) z + d0 - d-0 = 0,
    rate p = z / (z - 1/2), for overlapping and non-overlapping 2x2 groups, averaged (as StegExpose)."""
    est = []
    for ch in _channels(a):
        if min(ch.shape) < 3:
            continue
        c0, c1 = _rs_counts(ch), _rs_counts(ch ^ 1)
        est += [_rs_estimate(c0, c1, True), _rs_estimate(c0, c1, False)]
    return _clip(float(np.mean(est))) if est else 0.0


# ----------------------------------------------------------------------------- sample pairs

def _pair_counts(ch: np.ndarray) -> np.ndarray:
    """256x256 counts of ordered pairs (u, v) of horizontally (left, right) and vertically (top, bottom)
    adjacent samples."""
    x = ch.astype(np.uint16)
    h = (x[:, :-1] << 8) | x[:, 1:]
    v = (x[:-1] << 8) | x[1:]
    n = np.bincount(h.ravel(), minlength=65536) + np.bincount(v.ravel(), minlength=65536)
    return n.reshape(256, 256).astype(np.float64)


_U, _V = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")


def _spa(n: np.ndarray) -> float:
    """Dumitrescu-Wu-Wang: 0.5 (|W| + |Z|) p^2 + (2|X| - |P|) p + |Y| - |X| = 0, smaller root."""
    u, v = _U, _V
    x = n[((v % 2 == 0) & (u < v)) | ((v % 2 == 1) & (u > v))].sum()
    y = n[((v % 2 == 0) & (u > v)) | ((v % 2 == 1) & (u < v))].sum()
    z = n[u == v].sum()
    w = n[(u // 2 == v // 2) & (u != v)].sum()
    return _smaller_root(0.5 * (w + z), 2 * x - n.sum(), y - x)


def sample_pairs(a: np.ndarray) -> float:
    """Sample pair analysis, per channel, channel estimates averaged."""
    est = [_spa(_pair_counts(ch)) for ch in _channels(a) if ch.size > 1]
    return _clip(float(np.mean(est))) if est else 0.0


_DIFF = np.abs(_U - _V)
_HALF = np.abs(_U // 2 - _V // 2)


def _primary(n: np.ndarray, m_max: int = PRIMARY_SETS_M) -> float:
    """Sum over m < m_max of the primary-set equations (Dumitrescu et al., with q the rate):
    m = 0:  (2|C_0| - |C_1|) q^2/4 - (2|D_0| - |D_2| + 2|Y_1| - 2|X_1|) q/2 + |Y_1| - |X_1| = 0
    m >= 1: (|C_m| - |C_m+1|) q^2/4 - (|D_2m| - |D_2m+2| + 2|Y_2m+1| - 2|X_2m+1|) q/2 + |Y_2m+1| - |X_2m+1| = 0
    where C_m: |u//2 - v//2| = m, D_n: |u - v| = n, X_2m+1 = D_2m+1 and C_m+1, Y_2m+1 = D_2m+1 and C_m."""
    c = np.bincount(_HALF.ravel(), weights=n.ravel(), minlength=130)
    d = np.bincount(_DIFF.ravel(), weights=n.ravel(), minlength=260)
    odd = _DIFF % 2 == 1
    xs = np.bincount(_DIFF[odd & (_HALF == (_DIFF + 1) // 2)], weights=n[odd & (_HALF == (_DIFF + 1) // 2)],
                     minlength=260)
    ys = np.bincount(_DIFF[odd & (_HALF == _DIFF // 2)], weights=n[odd & (_HALF == _DIFF // 2)], minlength=260)
    qa = qb = qc = 0.0
    for m in range(m_max):
        k = 2 * m + 1
        if m == 0:
            qa += (2 * c[0] - c[1]) / 4
            qb -= (2 * d[0] - d[2] + 2 * ys[1] - 2 * xs[1]) / 2
        else:
            qa += (c[m] - c[m + 1]) / 4
            qb -= (d[2 * m] - d[2 * m + 2] + 2 * ys[k] - 2 * xs[k]) / 2
        qc += ys[k] - xs[k]
    return _smaller_root(qa, qb, qc)


def primary_sets(a: np.ndarray) -> float:
    """Primary sets analysis, per channel, channel estimates averaged."""
    est = [_primary(_pair_counts(ch)) for ch in _channels(a) if ch.size > 1]
    return _clip(float(np.mean(est))) if est else 0.0


# ----------------------------------------------------------------------------- all of them

def analyze_array(a: np.ndarray) -> dict[str, float]:
    """Every detector's estimate and the fused score (their mean), keys as in :data:`DETECTORS` + fused."""
    chans = _channels(a)
    pairs = [_pair_counts(ch) for ch in chans if ch.size > 1]
    out = {
        "primary_sets": _clip(float(np.mean([_primary(n) for n in pairs]))) if pairs else 0.0,
        "chi_square": chi_square(a),
        "sample_pairs": _clip(float(np.mean([_spa(n) for n in pairs]))) if pairs else 0.0,
        "rs": rs(a),
    }
    out["fused"] = float(np.mean([out[k] for k in DETECTORS]))
    return out


def lsb_embed(a: np.ndarray, rate: float, rng: np.random.Generator, sequential: bool = False) -> np.ndarray:
    """LSB replacement of random message bits in a share ``rate`` of the samples (all channels):
    at random positions, or the first samples in raster order if ``sequential``. Half of the chosen
    samples change on average. The reference embedding that the detectors are tested and scored on."""
    out = np.array(a, dtype=np.uint8, copy=True)
    flat = out.reshape(-1)
    k = int(round(rate * flat.size))
    pos = np.arange(k) if sequential else rng.choice(flat.size, size=k, replace=False)
    flat[pos] = (flat[pos] & 0xFE) | rng.integers(0, 2, size=k, dtype=np.uint8)
    return out
