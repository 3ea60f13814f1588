"""Four classical LSB-replacement detectors, in NumPy, after their papers (StegExpose, Boehm arXiv:1410.6656,
combines detectors of the same names; its Primary Sets and Chi-square differ from these, see docs/steganalysis.md).

Each takes an 8-bit image array ([H,W] or [H,W,C], uint8) and returns an estimated embedding rate
clipped to [0, 1]: the share of samples (pixel channels) whose least significant bit carries message
bits (half of those change on average). The fused score is their mean.

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


# ----------------------------------------------------------------------------- counts, stripe by stripe

STRIPE_ROWS = 256       # rows counted at a time: memory stays near the image's own size at any size


class Counts:
    """Every count the four detectors read, for one image, accumulated over its rows in order (:meth:`add` a
    stripe of rows at a time): the same numbers as counting the whole image at once, because a pair or a 2x2 group
    that straddles two stripes is counted with the previous stripe's last row, and the chi-square's blocks of
    samples run on across stripes.

    - ``pairs[c]``: 65,536 counts of (u, v) pairs of horizontally and vertically adjacent samples of channel c;
    - ``rs[c, inverted, sign, overlapping]``: the R and S counts of 2x2 groups under the masks +M (sign 0) and -M
      (sign 1), both checkerboard masks added, of the channel (inverted 0) and of its LSB-inverted copy (1), for
      overlapping (0) and non-overlapping (1) groups; ``groups[c, overlapping]``: how many groups were scored;
    - ``chi_stat``, ``chi_pairs``: Westfeld's statistic and the pairs seen after every ``block`` samples
      (raster order, R, G, B interleaved) of the cumulative histogram.
    """

    def __init__(self, channels: int, block: int = CHI_BLOCK):
        self.channels, self.block = channels, block
        self.pairs = np.zeros((channels, 65536), np.int64)
        self.rs = np.zeros((channels, 2, 2, 2, 2), np.int64)
        self.groups = np.zeros((channels, 2), np.int64)
        self.height = self.width = 0
        self._prev: np.ndarray | None = None        # the last row added, [1, W, C]
        self._hist = np.zeros(256, np.int64)         # cumulative histogram of the complete blocks so far
        self._left = np.zeros(0, np.uint8)           # samples after the last complete block
        self._stat: list[np.ndarray] = []
        self._seen: list[np.ndarray] = []

    def add(self, rows: np.ndarray) -> None:
        """Count the next ``rows`` ([h, W, C] uint8, C = ``channels``) of the image."""
        if rows.shape[0] == 0:
            return
        ext = rows if self._prev is None else np.concatenate([self._prev, rows])
        first = self.height - (ext.shape[0] - rows.shape[0])     # image row of ext's first row
        for c in range(self.channels):
            self._count_pairs(c, rows[..., c], ext[..., c])
            if ext.shape[0] >= 2 and ext.shape[1] >= 2:
                x = ext[..., c]
                for inv in (0, 1):
                    self._count_groups(c, inv, x ^ 1 if inv else x, first % 2)
        self._feed_blocks(rows.reshape(-1))
        self.height += rows.shape[0]
        self.width = rows.shape[1]
        self._prev = rows[-1:].copy()

    def _count_pairs(self, c: int, rows: np.ndarray, ext: np.ndarray) -> None:
        x, e = rows.astype(np.uint16), ext.astype(np.uint16)
        n = self.pairs[c]
        n += np.bincount(((x[:, :-1] << 8) | x[:, 1:]).ravel(), minlength=65536)
        n += np.bincount(((e[:-1] << 8) | e[1:]).ravel(), minlength=65536)

    def _count_groups(self, c: int, inv: int, x: np.ndarray, parity: int) -> None:
        """R and S counts of the 2x2 groups whose top-left sample is in any row of ``x`` but its last. A group
        (a b / c d) is scored by the discrimination f = |a-b| + |b-d| + |d-c| (a path through its four pixels); the
        two complementary checkerboard masks (flip a, d / flip b, c) are both used. ``parity``: the image row of
        x's first row, mod 2 (non-overlapping groups start on even rows and columns)."""
        x = x.astype(np.int16)
        h, v = np.abs(x[:, :-1] - x[:, 1:]), np.abs(x[:-1] - x[1:])

        def f(hh, vv, hh2):  # f of the group with top-left corner (i, j), all overlapping positions
            return hh[:-1, :] + vv[:, 1:] + hh2[1:, :]

        base = f(h, v, h)
        sparse = base[parity::2, ::2]
        self.groups[c] += (base.size, sparse.size) if inv == 0 else (0, 0)
        for si, sign in enumerate((1, -1)):
            fx = _flip(x, sign)
            h_lf, h_rf = np.abs(fx[:, :-1] - x[:, 1:]), np.abs(x[:, :-1] - fx[:, 1:])  # left / right flipped
            v_tf, v_bf = np.abs(fx[:-1] - x[1:]), np.abs(x[:-1] - fx[1:])              # top / bottom flipped
            for fm in (f(h_lf, v_bf, h_rf), f(h_rf, v_tf, h_lf)):   # mask flips a and d / b and c
                self.rs[c, inv, si, 0] += (np.count_nonzero(fm > base), np.count_nonzero(fm < base))
                fs = fm[parity::2, ::2]
                self.rs[c, inv, si, 1] += (np.count_nonzero(fs > sparse), np.count_nonzero(fs < sparse))

    def _feed_blocks(self, flat: np.ndarray) -> None:
        data = np.concatenate([self._left, flat]) if self._left.size else flat
        nb = data.size // self.block
        if nb:
            # hist[v, b]: count of value v in block b, cumulative over blocks (value-major: a contiguous cumsum)
            codes = data[:nb * self.block].reshape(nb, self.block).astype(np.intp) * nb + np.arange(nb)[:, None]
            hist = np.cumsum(np.bincount(codes.ravel(), minlength=256 * nb).reshape(256, nb), axis=1)
            hist += self._hist[:, None]
            self._hist = hist[:, -1].copy()
            even, odd = hist[0::2].astype(np.float64), hist[1::2].astype(np.float64)
            e = (even + odd) / 2
            used = e > 0
            self._stat.append(np.where(used, (even - e) ** 2 / np.where(used, e, 1), 0).sum(0))
            self._seen.append(used.sum(0).astype(np.float64))
        self._left = data[nb * self.block:].copy()

    @property
    def chi_stat(self) -> np.ndarray:
        return np.concatenate(self._stat) if self._stat else np.zeros(0)

    @property
    def chi_pairs(self) -> np.ndarray:
        return np.concatenate(self._seen) if self._seen else np.zeros(0)


def count(a: np.ndarray, block: int = CHI_BLOCK, rows: int = STRIPE_ROWS) -> Counts:
    """The :class:`Counts` of a whole 8-bit image ([H,W] or [H,W,C]; alpha is not analysed), ``rows`` at a time."""
    chans = _channels(a)
    counts = Counts(len(chans), block)
    a = np.asarray(a)
    a = a[:, :, None] if a.ndim == 2 else a[:, :, :3]
    for y in range(0, a.shape[0], rows):
        counts.add(np.ascontiguousarray(a[y:y + rows]))
    return counts


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
    c = count(a, block)
    return c.chi_stat, c.chi_pairs


def _chi_estimate(stat: np.ndarray, k: np.ndarray, alpha: float = CHI_ALPHA, published: bool = False) -> float:
    if stat.size == 0:
        return 0.0
    if published:
        return _clip(float(_chi2_sf(stat, k - 1.0).mean()))
    return _clip(float((_chi2_sf(2 * stat, k) > alpha).mean()))


def chi_square(a: np.ndarray, block: int = CHI_BLOCK, alpha: float = CHI_ALPHA, published: bool = False) -> float:
    """Westfeld's chi-square attack: the samples in raster order (R, G, B interleaved), a cumulative
    histogram after every ``block`` samples, the pairs-of-values statistic S and its p-value under the
    hypothesis that the pairs are equalised (embedding); returns the share of blocks whose p-value does not
    reject that hypothesis at level ``alpha`` (about the embedded share of a sequentially embedded image).

    The p-value is P(chi2_k > 2 S) over the k pairs seen (see the module docstring: given the pair totals,
    S is distributed as chi2_k / 2 under the hypothesis). ``published=True`` gives the paper's formula
    P(chi2_k-1 > S) averaged over the blocks instead (StegExpose's reading), for comparison."""
    return _chi_estimate(*_chi_square_blocks(a, block), alpha, published)


# ----------------------------------------------------------------------------- RS analysis

def _flip(x: np.ndarray, sign: int) -> np.ndarray:
    """F_1: 0<->1, 2<->3, ...; F_-1: -1<->0, 1<->2, ... (x as int16)."""
    return x ^ 1 if sign > 0 else ((x + 1) ^ 1) - 1


def _rs_estimate(rs: np.ndarray, groups: np.ndarray, overlapping: bool) -> float:
    """One channel's rate from its R and S shares (``rs``, ``groups`` of :class:`Counts`)."""
    o = 0 if overlapping else 1
    share = rs[:, :, o] / (2 * groups[o])             # [inverted, sign, (R, S)]
    d0, dm0 = share[0, 0, 0] - share[0, 0, 1], share[0, 1, 0] - share[0, 1, 1]
    d1, dm1 = share[1, 0, 0] - share[1, 0, 1], share[1, 1, 0] - share[1, 1, 1]
    a, b, c = 2 * (d1 + d0), dm0 - dm1 - d1 - 3 * d0, d0 - dm0
    if b * b - 4 * a * c < 0:
        # No real root: the R_M and S_M curves have (nearly) met, which is what a (nearly) fully embedded
        # image looks like (d0 ~ d1 ~ 0 while the -M gap stays). Read the rate from how far the +M gap
        # has closed relative to the -M gap instead (the two gaps are equal on a cover, Fridrich et al.).
        return 1.0 - d0 / dm0 if dm0 > 1e-9 else 1.0
    z = _smaller_root(a, b, c)
    return z / (z - 0.5) if abs(z - 0.5) > 1e-12 else 1.0


def _rs(c: Counts) -> float:
    if min(c.height, c.width) < 3:
        return 0.0
    est = [_rs_estimate(c.rs[ch], c.groups[ch], o) for ch in range(c.channels) for o in (True, False)]
    return _clip(float(np.mean(est)))


def rs(a: np.ndarray) -> float:
    """RS analysis: Fridrich et al.'s quadratic 2(d1+d0) z^2 + (d-0 - d-1 - d1 - 3 d0) z + d0 - d-0 = 0,
    rate p = z / (z - 1/2), for overlapping and non-overlapping 2x2 groups, averaged (as StegExpose)."""
    return _rs(count(a))


# ----------------------------------------------------------------------------- sample pairs

_U, _V = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")


def _spa(n: np.ndarray) -> float:
    """Dumitrescu-Wu-Wang: 0.5 (|W| + |Z|) p^2 + (2|X| - |P|) p + |Y| - |X| = 0, smaller root."""
    u, v = _U, _V
    x = n[((v % 2 == 0) & (u < v)) | ((v % 2 == 1) & (u > v))].sum()
    y = n[((v % 2 == 0) & (u > v)) | ((v % 2 == 1) & (u < v))].sum()
    z = n[u == v].sum()
    w = n[(u // 2 == v // 2) & (u != v)].sum()
    return _smaller_root(0.5 * (w + z), 2 * x - n.sum(), y - x)


def _per_channel(c: Counts, estimate) -> float:
    """``estimate`` of each channel's 256x256 pair counts, averaged (0 for an image of one sample)."""
    if c.height * c.width < 2:
        return 0.0
    return _clip(float(np.mean([estimate(n.reshape(256, 256).astype(np.float64)) for n in c.pairs])))


def sample_pairs(a: np.ndarray) -> float:
    """Sample pair analysis, per channel, channel estimates averaged."""
    return _per_channel(count(a), _spa)


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
    return _per_channel(count(a), _primary)


# ----------------------------------------------------------------------------- all of them

def analyze_array(a: np.ndarray) -> dict[str, float]:
    """Every detector's estimate and the fused score (their mean), keys as in :data:`DETECTORS` + fused. The
    image is read in stripes of :data:`STRIPE_ROWS` rows."""
    return analyze_counts(count(a))


def analyze_counts(c: Counts) -> dict[str, float]:
    """:func:`analyze_array` from an image's :class:`Counts`."""
    out = {
        "primary_sets": _per_channel(c, _primary),
        "chi_square": _chi_estimate(c.chi_stat, c.chi_pairs),
        "sample_pairs": _per_channel(c, _spa),
        "rs": _rs(c),
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
