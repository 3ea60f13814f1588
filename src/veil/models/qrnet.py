"""qrnet: read the six digits of a version-1 QR code (ECC H) directly with a CNN, after seed 001,
"[PYTHON] Decrypt the QR code with CNN" (Keras; 7 conv layers, global max-pool, 6 softmax heads of 10).

Two variants of one builder (``qrnet(variant=...)``):

``variant="paper"`` (released as ``qrnet.paper``): the paper's network as its code listing gives it. Input
[B,1,21,21], one pixel per module, no quiet zone, 1.0 = light module (the paper's ``qrcode`` image / 1.0).
Seven 3x3 'same' convolutions, ReLU, each of the first six followed by batch norm (the paper's order:
conv -> ReLU -> BN), widths ``[w]*5 + [2w]*2`` (the paper: w = 256), a 21x21 max-pool (global), and six
1x1 convolutions to 10 classes, one per digit. Output logits [B,6,10] (the paper's softmax is folded into
the cross-entropy).

``variant="robust"`` (released as ``qrnet.default``): our design for exact six-digit reading of codes that
are not pixel-perfect. Any image goes through :func:`prepare_robust`: grey, the code located as the
bounding box of dark content on a smoothed, mid-level-thresholded copy (so quiet zones of any width and any
module size drop out), that box resized (antialiased) to ``input_size`` square and its levels normalised.
Then three networks in one module:

- ``orient``: a small CNN on the 21x21 average of the input -> 4 logits, the quarter turn k that brought the
  code into this position (the finder patterns sit in three corners). Inference turns the input back by
  ``-argmax``; training turns it back by the true k (so the reader always sees upright codes).
- ``reader``: conv-BN-ReLU 3x3 layers (1->c at 42x42, c->2c with stride 2 onto the 21x21 module grid,
  2c->2c) and a 1x1 conv: one logit per module (dark positive), trained against the code's modules.
- ``decoder``: the 21x21 module probabilities flattened (the seed notes that a global pool throws away where
  a module is; a flatten keeps it), two fully connected layers of ``hidden`` units with batch norm, six
  heads of 10 digit classes, and a training-only head for the 20 data bits (the two 10-bit groups of the
  numeric mode), an auxiliary loss that teaches the unmasking. Because it reads module probabilities, it
  also trains on cheap simulated grids (veil.train.qrnet.soft_grids), many more codes than images.

Training ``forward(x, rotation=None)`` takes prepared inputs [B,1,S,S] and returns {"logits": [B,6,10]}
and, robust, "orient_logits" [B,4], "bit_logits" [B,20] and "module_logits" [B,21,21]. Inference
:meth:`QRNet.read` takes images of any size (tensors [C,H,W] or [1,C,H,W] in [0,1], C = 1 or 3) and returns
six-digit strings, or None for an image that holds no six-digit code; :meth:`QRNet.detect` returns the digits
read whatever the image shows and their presence scores; :meth:`QRNet.predict` returns the digit
probabilities [B,6,10].

"No code" (:func:`presence_scores`): six digits fix the whole version-1 ECC-H code but for its data mask, so
the robust variant re-renders the code of the digits it read under each of the eight masks and compares it
with its own upright module grid on the 238 modules outside the function patterns (208 data and
error-correction modules, 30 format-information modules). A code read right agrees on nearly all of them;
a photo, noise, a flat image, a QR code holding something else, or a code read wrong agrees on far fewer
(about half for a photo). Below the threshold of the card's ``presence`` section (calibrated by
``veil qrnet calibrate`` on training-split codes and non-code images, none of the evaluation's), ``read``
answers None. The paper variant has no module grid: its card's ``presence.model`` names the robust model whose
presence score and threshold decide whether there is a code; the digits are still the seed network's.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .builders import register_model
from .contract import VeilModel, inference

PAPER_DEVIATIONS = [
    "Channel widths: the paper's 256-256-256-256-256-512-512 are narrowed by the factor `width`/256 (the card's "
    "kwargs give the width used: 16, i.e. 16-16-16-16-16-32-32 channels, 25 k parameters instead of 5.9 M) to fit a "
    "training budget of about 30 minutes on one thread of a shared 2-core CPU.",
    "Epochs: the recipe trains 20 epochs of the 30,000 codes (4,700 steps of 128) instead of the paper's 30, for "
    "the same budget (the card's training section gives the steps and the wall time).",
    "Softmax heads: the six 1x1 conv heads output logits; softmax + categorical cross-entropy is torch's "
    "cross_entropy (the same loss).",
    "Data: the codes come from segno's standard (version 1, ECC H, boost_error off), made by veil's vectorised "
    "generator that is bit-identical to segno (1,000 of the 40,000 compared with segno at training time), instead "
    "of the paper's qrcode package (the same standard; a data mask may be chosen differently by the two).",
    "Training and validation codes are drawn from disjoint parts of the 10^6 strings (hash split, "
    "veil.data.qr_digits); the paper drew 40,000 distinct strings at random and split them 30,000/10,000.",
]

ROBUST_DEVIATIONS = [
    "Not the paper's network: a located, resized, level-normalised input, a learned quarter-turn "
    "classifier, a conv reader onto the 21x21 module grid supervised by the code's modules, and a decoder of "
    "two fully connected layers over the flattened grid (instead of a global max-pool), with an auxiliary "
    "data-bit head during training.",
    "Trained on codes generated on the fly (infinite fresh data) and degraded on the fly (module size, "
    "quiet zone, rotation, level changes, blur, noise, 8-bit rounding, qr-reveal-like renders with "
    "flipped modules) instead of a fixed 30,000-code set; the decoder also on simulated noisy module grids.",
]

DEVIATIONS = {"paper": PAPER_DEVIATIONS, "robust": ROBUST_DEVIATIONS}


# ----------------------------------------------------------------------------- image preparation

def to_grey(img) -> np.ndarray:
    """Tensor [C,H,W] or [1,C,H,W] in [0,1] (C = 1, 3 or 4) -> float32 [H,W] (ITU-R 601 luma for colour)."""
    t = torch.as_tensor(img)
    if t.ndim == 4:
        if t.shape[0] != 1:
            raise ValueError("to_grey takes one image")
        t = t[0]
    if t.ndim == 2:
        t = t[None]
    if t.ndim != 3 or t.shape[0] not in (1, 3, 4) or min(t.shape[1:]) < 1:
        raise ValueError(f"expected an image tensor [C,H,W] with C = 1 or 3, got {tuple(t.shape)}")
    t = t.float()
    if t.shape[0] >= 3:
        t = 0.299 * t[0] + 0.587 * t[1] + 0.114 * t[2]
    else:
        t = t[0]
    return np.ascontiguousarray(t.numpy(), dtype=np.float32)


def _shrink(t: torch.Tensor, max_side: int) -> tuple[torch.Tensor, float]:
    """[1,1,H,W] -> the same shrunk (antialiased) to at most ``max_side`` px, and the scale factor."""
    h, w = t.shape[-2:]
    s = max(h, w) / max_side
    if s <= 1:
        return t, 1.0
    size = (max(1, round(h / s)), max(1, round(w / s)))
    return F.interpolate(t, size=size, mode="bilinear", antialias=True, align_corners=False), s


def _box_blur(a: np.ndarray, k: int) -> np.ndarray:
    """Mean over k x k windows, edges replicated (separable running sums; the same as avg_pool2d on a
    replicate-padded image, faster on one channel)."""
    if k <= 1:
        return a
    p = np.pad(a, (k // 2, k - 1 - k // 2), mode="edge")
    h, w = a.shape
    rows = sum(p[i:i + h] for i in range(k))
    return sum(rows[:, i:i + w] for i in range(k)) / np.float32(k * k)


def _percentiles(a: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    """Percentiles (0-100) of ``a`` in [0,1] to 1/255, from a 256-bin histogram (linear time)."""
    v = (np.clip(a, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8).ravel()
    c = np.cumsum(np.bincount(v, minlength=256))
    return [float(np.searchsorted(c, q / 100.0 * v.size)) / 255.0 for q in qs]


def locate_code(g: np.ndarray) -> tuple[int, int, int, int, float, float]:
    """Where the code is in grey image ``g`` [H,W]: (top, bottom, left, right) pixel bounds (bottom and right
    exclusive) of the dark content, and the (dark, light) levels.

    The image (shrunk to at most 192 px for the search) is box-smoothed over about 1/40 of its side, split
    at the middle of its 5th and 95th percentiles; the rows and columns where at least 30% as many pixels are
    dark as in the darkest row (column) bound the code. Falls back to the whole image when there is no
    contrast or the box is implausibly small."""
    h, w = g.shape
    t, scale = _shrink(torch.from_numpy(np.ascontiguousarray(g, dtype=np.float32))[None, None], 192)
    k = max(1, round(max(t.shape[-2:]) / 40))
    sm = _box_blur(t[0, 0].numpy(), k)
    lo, hi = _percentiles(sm, (5, 95))
    if hi - lo < 0.04:
        return 0, h, 0, w, lo, hi
    dark = sm < (lo + hi) / 2
    rows, cols = dark.mean(1), dark.mean(0)
    r = np.nonzero(rows >= 0.3 * rows.max())[0]
    c = np.nonzero(cols >= 0.3 * cols.max())[0]
    top, bottom = int(np.floor(r[0] * scale)), int(np.ceil((r[-1] + 1) * scale))
    left, right = int(np.floor(c[0] * scale)), int(np.ceil((c[-1] + 1) * scale))
    if bottom - top < 0.2 * h or right - left < 0.2 * w:
        return 0, h, 0, w, lo, hi
    return top, min(bottom, h), left, min(right, w), lo, hi


def _resize_to(a: np.ndarray, size: int, mode: str = "bilinear") -> torch.Tensor:
    t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))[None, None]
    if t.shape[-2:] == (size, size):
        return t[0]
    if mode == "area":
        if t.shape[-2] < size or t.shape[-1] < size:
            t = F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False)
        return F.adaptive_avg_pool2d(t, size)[0]
    shrink = t.shape[-2] > size or t.shape[-1] > size
    return F.interpolate(t, size=(size, size), mode="bilinear", antialias=shrink, align_corners=False)[0]


def prepare_robust(g: np.ndarray, size: int) -> torch.Tensor:
    """Grey [H,W] in [0,1] -> [1,size,size]: the located code, resized, levels mapped so that the threshold
    is 0 and the dark-to-light step is 1 (dark about -0.5, light about +0.5)."""
    top, bottom, left, right, lo, hi = locate_code(g)
    x = _resize_to(g[top:bottom, left:right], size)
    return (x - (lo + hi) / 2) / max(hi - lo, 0.1)


def prepare_seed(g: np.ndarray) -> torch.Tensor:
    """Grey [H,W] -> [1,21,21] as the paper's network reads it (1 px a module, 1.0 = light): a 21x21 image is
    taken as it is; any other is cropped to the located code and area-averaged to 21x21."""
    if g.shape == (21, 21):
        return torch.from_numpy(np.ascontiguousarray(g, dtype=np.float32))[None]
    top, bottom, left, right, _, _ = locate_code(g)
    return _resize_to(g[top:bottom, left:right], 21, mode="area")


def prepare_robust_many(greys: list[np.ndarray], size: int) -> torch.Tensor:
    """:func:`prepare_robust` of many images -> [N,1,size,size]; crops of one shape are resized in one call
    (the same numbers, faster)."""
    boxes = [locate_code(g) for g in greys]
    out = torch.empty(len(greys), 1, size, size)
    groups: dict[tuple[int, int], list[int]] = {}
    for i, (t, b, left, r, _, _) in enumerate(boxes):
        groups.setdefault((b - t, r - left), []).append(i)
    for (h, w), idx in groups.items():
        crops = np.stack([greys[i][boxes[i][0]:boxes[i][1], boxes[i][2]:boxes[i][3]] for i in idx])
        t = torch.from_numpy(np.ascontiguousarray(crops, dtype=np.float32))[:, None]
        if (h, w) != (size, size):
            t = F.interpolate(t, size=(size, size), mode="bilinear", antialias=h > size or w > size,
                              align_corners=False)
        lo = torch.tensor([boxes[i][4] for i in idx]).view(-1, 1, 1, 1)
        hi = torch.tensor([boxes[i][5] for i in idx]).view(-1, 1, 1, 1)
        out[idx] = (t - (lo + hi) / 2) / torch.clamp(hi - lo, min=0.1)
    return out


# ----------------------------------------------------------------------------- presence ("no code")

def _checked_modules() -> torch.Tensor:
    """bool [441]: the modules outside the function patterns (finders with separators, timing, dark module):
    the 208 data and error-correction modules and the 30 format-information modules of a version-1 code."""
    from ..payloads.qr import function_patterns

    return torch.from_numpy(~function_patterns(1)[0].reshape(-1))


def presence_scores(digits: list[str], grid: torch.Tensor) -> torch.Tensor:
    """How well upright module probabilities ``grid`` [B,21,21] (1 = dark) show the code of ``digits``: the
    share of the 238 modules outside the function patterns on which the grid, thresholded at 0.5, equals the
    version-1 ECC-H code of those digits, best of the eight data masks (the format information names the mask,
    so it is checked with it). Returns [B] in [0,1]: 1 for a grid that is exactly that code, about 0.55 for
    a photo or noise (a random grid agrees on half the modules; the decoder picks the digits it agrees with
    best). The function patterns are left out: every version-1 code has them, whatever it holds."""
    from ..data import qr_digits as qd

    if not digits:
        return torch.zeros(0)
    codes = torch.from_numpy(qd.fast_codes().matrices_all_masks(digits).reshape(len(digits), 8, -1))
    keep = _checked_modules()
    dark = (grid.reshape(len(digits), 1, -1) > 0.5)[..., keep]
    return (dark == codes[..., keep]).float().mean(-1).amax(1)


# ----------------------------------------------------------------------------- blocks

def conv_bn(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class SeedNet(nn.Module):
    """The paper's network: x [B,1,21,21] (1.0 = light) -> logits [B,6,10]."""

    def __init__(self, width: int = 256):
        super().__init__()
        widths = [width] * 5 + [2 * width] * 2
        layers: list[nn.Module] = []
        cin = 1
        for i, c in enumerate(widths):
            layers += [nn.Conv2d(cin, c, 3, padding=1), nn.ReLU(inplace=True)]
            if i < len(widths) - 1:            # the paper: BN after every conv but the last
                layers.append(nn.BatchNorm2d(c))
            cin = c
        self.features = nn.Sequential(*layers)
        self.heads = nn.Conv2d(cin, 60, 1)     # six 1x1 conv heads of 10, as one conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)
        h = F.adaptive_max_pool2d(h, 1)        # MaxPooling2D(pool_size=(21, 21))
        return self.heads(h).view(-1, 6, 10)


class OrientNet(nn.Module):
    """x [B,1,S,S] -> logits [B,4] of the quarter turn (counter-clockwise, torch.rot90's k) the code is in."""

    def __init__(self, width: int = 8):
        super().__init__()
        self.net = nn.Sequential(conv_bn(1, width), conv_bn(width, 2 * width, 2), conv_bn(2 * width, 2 * width, 2))
        self.fc = nn.Linear(2 * width * 36, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.net(F.adaptive_avg_pool2d(x, 21))          # [B, 2w, 6, 6]
        return self.fc(h.flatten(1))


class Decoder(nn.Module):
    """Module probabilities [B,21,21] (1 = dark) -> (digit logits [B,6,10], data-bit logits [B,20]): two fully
    connected layers with batch norm over the flattened grid (where a module is decides what it means)."""

    def __init__(self, hidden: int = 1024):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(441, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
                                nn.Linear(hidden, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True))
        self.digits = nn.Linear(hidden, 60)
        self.bits = nn.Linear(hidden, 20)

    def forward(self, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.fc(2 * p.flatten(1) - 1)
        return self.digits(h).view(-1, 6, 10), self.bits(h)


class ReaderNet(nn.Module):
    """Upright x [B,1,S,S] -> module logits [B,21,21] (positive = dark): conv-BN-ReLU 3x3 at S (1->c), stride 2
    (c->2c), 3x3 (2c->2c), a 1x1 conv to one channel, averaged to the 21x21 module grid if S != 42."""

    def __init__(self, width: int = 12):
        super().__init__()
        self.grid = nn.Sequential(conv_bn(1, width), conv_bn(width, 2 * width, 2), conv_bn(2 * width, 2 * width),
                                  nn.Conv2d(2 * width, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = self.grid(x)
        if g.shape[-2:] != (21, 21):
            g = F.adaptive_avg_pool2d(g, 21)
        return g[:, 0]


def unrotate(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Turn each x[i] [C,S,S] back by k[i] quarter turns (torch.rot90(x[i], -k[i]))."""
    out = x.clone()
    for r in range(1, 4):
        sel = k == r
        if sel.any():
            out[sel] = torch.rot90(x[sel], -r, dims=(-2, -1))
    return out


class QRNet(VeilModel):
    task = "qrnet"

    @property
    def outputs(self) -> tuple[str, ...]:
        return ("logits",) if self.variant == "paper" else ("logits", "orient_logits", "bit_logits", "module_logits")

    def __init__(self, variant: str = "robust", width: int | None = None, input_size: int = 42, hidden: int = 1024,
                 orient_width: int = 8):
        super().__init__()
        if variant not in ("paper", "robust"):
            raise ValueError(f"qrnet variant must be paper or robust, got {variant!r}")
        self.variant = variant
        if variant == "paper":
            self.input_size = 21
            self.net = SeedNet(width or 256)
        else:
            if input_size < 21:
                raise ValueError("qrnet input_size must be at least 21 (a pixel per module)")
            self.input_size = int(input_size)
            self.orient = OrientNet(orient_width)
            self.reader = ReaderNet(width or 12)
            self.decoder = Decoder(hidden)

    # -- training ------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, rotation: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """x [B,1,S,S] prepared (:meth:`prepare`) -> {"logits": [B,6,10], ...}. ``rotation`` [B] (robust,
        training): the true quarter turns, used instead of the predicted ones to turn the input upright."""
        if self.variant == "paper":
            return {"logits": self.net(x)}
        orient_logits = self.orient(x)
        k = rotation if rotation is not None else orient_logits.argmax(1)
        grid = self.reader(unrotate(x, k))
        logits, bits = self.decoder(torch.sigmoid(grid))
        return {"logits": logits, "orient_logits": orient_logits, "bit_logits": bits, "module_logits": grid}

    # -- inference -----------------------------------------------------------------------------
    def prepare(self, images) -> torch.Tensor:
        """Images (a tensor [B,C,H,W] or a list of [C,H,W] / [1,C,H,W] tensors in [0,1], any sizes) ->
        the network's input [B,1,S,S]."""
        if isinstance(images, torch.Tensor) and images.ndim == 4:
            images = list(images)
        grey = [to_grey(im) for im in images]
        if self.variant == "paper":
            xs = [prepare_seed(g) for g in grey]
        else:
            return prepare_robust_many(grey, self.input_size)
        if not xs:
            return torch.zeros(0, 1, self.input_size, self.input_size)
        return torch.stack(xs)

    def _folded(self) -> dict:
        """Eval-mode weights with batch norm folded into the convolutions and linear layers (inference)."""
        def fold(weight, bn):
            s = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            return weight * s.view(-1, *[1] * (weight.ndim - 1)), bn.bias - bn.running_mean * s

        def convs(seq):
            return [(*fold(blk[0].weight, blk[1]), blk[0].stride) for blk in seq if isinstance(blk, nn.Sequential)]

        fc, last = self.decoder.fc, self.reader.grid[-1]
        return {"orient": convs(self.orient.net), "orient_fc": (self.orient.fc.weight, self.orient.fc.bias),
                "grid": convs(self.reader.grid), "grid_out": (last.weight, last.bias),
                "fc1": fold(fc[0].weight, fc[1]), "fc2": fold(fc[3].weight, fc[4]),
                "digits": (self.decoder.digits.weight, self.decoder.digits.bias)}

    def _fast_logits(self, x: torch.Tensor, p: dict) -> torch.Tensor:
        """Robust variant, inference: the same digit logits as ``forward(x)["logits"]`` in eval mode, with the
        folded weights and channels-last activations (a 1-channel 42x42 input is memory-bound on a CPU)."""
        return self._fast_outputs(x, p)[0]

    def _fast_outputs(self, x: torch.Tensor, p: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`_fast_logits` and the upright module probabilities [B,21,21] (1 = dark) it decoded."""
        def run(h, layers):
            h = h.contiguous(memory_format=torch.channels_last)
            for w, b, stride in layers:
                h = F.relu_(F.conv2d(h, w, b, stride=stride, padding=1))
            return h

        k = F.linear(run(F.adaptive_avg_pool2d(x, 21), p["orient"]).contiguous().flatten(1), *p["orient_fc"]).argmax(1)
        g = F.conv2d(run(unrotate(x, k), p["grid"]), *p["grid_out"])
        if g.shape[-2:] != (21, 21):
            g = F.adaptive_avg_pool2d(g, 21)
        grid = torch.sigmoid(g[:, 0]).contiguous()
        h = 2 * grid.flatten(1) - 1
        h = F.relu_(F.linear(F.relu_(F.linear(h, *p["fc1"])), *p["fc2"]))
        return F.linear(h, *p["digits"]).view(-1, 6, 10), grid

    @inference
    def predict(self, images, batch: int = 1024) -> torch.Tensor:
        """Images (as :meth:`prepare`) -> digit probabilities [B,6,10]."""
        return self._predict(self.prepare(images), batch)[0]

    def _predict(self, x: torch.Tensor, batch: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Prepared x -> (digit probabilities [B,6,10], robust: upright module probabilities [B,21,21])."""
        if self.variant == "paper":
            out = [torch.softmax(self.forward(x[i:i + batch])["logits"], -1) for i in range(0, len(x), batch)]
            return (torch.cat(out) if out else torch.zeros(0, 6, 10)), None
        p = self._folded()                # chunks of 128 stay in the CPU's cache
        out = [self._fast_outputs(x[i:i + 128], p) for i in range(0, len(x), 128)]
        if not out:
            return torch.zeros(0, 6, 10), torch.zeros(0, 21, 21)
        return torch.softmax(torch.cat([o[0] for o in out]), -1), torch.cat([o[1] for o in out])

    @property
    def presence(self) -> dict:
        """The card's ``presence`` section ({} for a model without a card, e.g. one just built or trained)."""
        return (getattr(self, "card", None) or {}).get("presence") or {}

    def linked_models(self) -> dict[str, str]:
        """{attribute: model name} that :func:`veil.registry.load_model` loads into this model: the paper variant's
        presence model (its card's ``presence.model``)."""
        name = self.presence.get("model") if self.variant != "robust" else None
        return {"presence_source": name} if name else {}

    def _presence_model(self) -> QRNet | None:
        """The model whose presence score decides: this one (robust), the card's ``presence.model`` (seed)."""
        if self.variant == "robust":
            return self
        source = getattr(self, "presence_source", None)
        if source is None and self.presence.get("model"):
            raise RuntimeError(f"{self.presence['model']}, the presence model, was not loaded: use veil.load_model")
        return source

    @property
    def presence_threshold(self) -> float | None:
        """The presence score below which :meth:`read` answers "no code" (None: no check, every image gives
        digits): the card's ``presence.threshold``, the presence model's for the paper variant."""
        m = self._presence_model()
        t = m.presence.get("threshold") if m is not None else None
        return None if t is None else float(t)

    @inference
    def detect(self, images, batch: int = 1024) -> tuple[list[str], torch.Tensor]:
        """Images (as :meth:`prepare`) -> (the six digits read from each, whatever it shows; presence scores
        [B] in [0,1], :func:`presence_scores` of the robust grid, NaN where no presence model is known)."""
        probs, grid = self._predict(self.prepare(images), batch)
        digits = ["".join(str(int(d)) for d in row) for row in probs.argmax(-1)]
        if grid is not None:
            return digits, presence_scores(digits, grid)
        m = self._presence_model()
        return digits, (m.detect(images, batch)[1] if m is not None else torch.full((len(digits),), float("nan")))

    def read(self, images, batch: int = 1024) -> list[str | None]:
        """Images (as :meth:`prepare`) -> their six digits, e.g. ["012345", None, ...]: None for an image whose
        presence score is under :attr:`presence_threshold` (no six-digit code in it)."""
        digits, score = self.detect(images, batch=batch)
        t = self.presence_threshold
        return [d if t is None or s >= t else None for d, s in zip(digits, score.tolist())]


@register_model
def qrnet(variant: str = "robust", width: int | None = None, input_size: int = 42, hidden: int = 1024,
          orient_width: int = 8) -> QRNet:
    return QRNet(variant=variant, width=width, input_size=input_size, hidden=hidden, orient_width=orient_width)
