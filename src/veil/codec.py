"""The ``codec`` way to hide an image in an image: compress the secret with a real image codec, frame it, and embed
the frame's bits by content-adaptive +-1 changes, coded with syndrome-trellis codes so that few samples change and
those that do sit in busy texture (HILL costs). No network and no weights. A lossless channel only: one JPEG re-save
of the stego destroys the payload.

- **Compression:** AVIF where Pillow has it, else WebP, else JPEG, at the highest quality whose frame fits the
  cover's budget; a secret too large even at the lowest quality is downscaled (the frame keeps its original size,
  and :func:`reveal` gives the secret back at it).
- **Order:** the cover's samples (every channel of every pixel) in a keyed pseudo-random order, from the
  passphrase (or a fixed default). The first :data:`HEADER_SAMPLES` of them carry the payload's bit count, the rest
  the framed bytes (veil.payloads.sealed: CRC-32, optional AES-256-GCM).
- **Embedding:** binary STC (veil.payloads.stc) on the samples' least significant bits, at most
  :data:`MAX_RATE` bits per sample; a changed sample moves +1 or -1 at random (0 only up, 255 only down). The
  trellis is 7 high (6 above :data:`LARGE` samples, for speed).
"""
from __future__ import annotations

import hashlib
import io

import numpy as np
from PIL import Image, features

from .errors import CapacityError, InputError, RevealError
from .payloads import sealed, stc
from .payloads.costs import hill_costs

HEADER_SAMPLES = 4096       # samples carrying the 32-bit payload length
LENGTH_BITS = 32
MAX_RATE = 0.5              # payload bits per sample at most (the cover stays at about 57 dB)
KIND = 1                    # sealed frame kind: a compressed image
CODECS = {1: "AVIF", 2: "WEBP", 3: "JPEG"}

LARGE = 1 << 20             # samples: above, the trellis is 6 high (64 states) instead of 7, about twice as fast


def _code(n: int, m: int) -> dict:
    """The STC parameters for ``m`` payload bits in ``n`` samples (the receiver derives the same from the same)."""
    # Parallel codes of 16 message bits or more each, up to 256 (one per 4,096 samples above 2^20 samples): the
    # trellis walks about n / segments steps (one code over a 256 px photo would walk 196,608, seconds in NumPy), and
    # a 16-character text changes ~45 samples there
    return {"h": 7 if n <= LARGE else 6, "segments": int(np.clip(m // 16, 1, max(256, n // 4096)))}


def _order(n: int, passphrase: str | None) -> np.ndarray:
    key = hashlib.sha256(b"veil-codec-order\0" + (passphrase or "").encode("utf-8")).digest()
    return np.random.default_rng(int.from_bytes(key[:8], "little")).permutation(n)


def codec_available() -> list[int]:
    """The codec ids this Pillow can write and read, best first."""
    have = {1: features.check("avif"), 2: features.check("webp"), 3: True}
    return [c for c in CODECS if have[c]]


def _max_bits(n: int) -> int:
    """Payload bits a cover of ``n`` samples carries: :data:`MAX_RATE` of those after the length field's."""
    return max(0, int((n - HEADER_SAMPLES) * MAX_RATE))


def capacity_bytes(shape: tuple[int, ...]) -> int:
    """Bytes of payload (before its frame's header) a cover of ``shape`` (H, W, C) carries."""
    return max(0, _max_bits(int(np.prod(shape))) // 8 - sealed.HEADER.size)


FAST_AVIF_ABOVE = 512 * 512   # secret pixels: above, AVIF encodes at speed 10 (2.3x faster than 8, ~0.3 dB lower
                              # at equal bytes on 1024 px photos; 0.9 dB lower at 256 px, where 8 is cheap anyway)


def _encode(img: Image.Image, codec: int, quality: int) -> bytes:
    buf = io.BytesIO()
    speed = {"speed": 10 if img.width * img.height > FAST_AVIF_ABOVE else 8} if codec == 1 else {}
    img.save(buf, format=CODECS[codec], quality=quality, **speed)
    return buf.getvalue()


def _best_quality(encode, budget: int) -> bytes | None:
    """The bytes of the highest quality q in 1-100 whose ``encode(q)`` fits ``budget`` (sizes grow with q), or None.
    A secant search on log-size through the last two encodes (a typical slope after the first), each guess kept
    strictly inside the bracket of the highest quality known to fit and the lowest known not to, and every fourth
    guess a bisection while the bracket is wide: about 5 encodes on average against bisection's 7."""
    lo, hi = 0, 101                      # lo fits (0: none known), hi does not (101: none known)
    seen: list[tuple[int, float]] = []
    best = None
    q = 60
    while True:
        data = encode(q)
        seen.append((q, float(np.log(len(data)))))
        if len(data) <= budget:
            lo, best = q, data
        else:
            hi = q
        if hi - lo <= 1:
            return best
        slope = 0.05                     # log-size per quality step: size doubles every ~14 steps
        if len(seen) >= 2 and seen[-1][1] != seen[-2][1]:   # (equal sizes: a plateau of the codec's quantiser)
            (qa, sa), (qb, sb) = seen[-2:]
            slope = max((sb - sa) / (qb - qa), 0.01)
        guess = q + float(np.clip((np.log(max(budget, 1)) - seen[-1][1]) / slope, -30, 15))  # steeper near 100
        if len(seen) % 4 == 0 and hi - lo > 8:
            guess = (lo + hi) / 2
        q = int(np.clip(np.floor(guess), lo + 1, hi - 1))


def compress(secret: Image.Image, budget: int, codec: int | None = None) -> tuple[bytes, int, Image.Image]:
    """(bytes, codec id, the image as decoded from them) of ``secret`` at the highest quality (1-100) whose bytes fit
    ``budget``, downscaled by steps of 0.8 until one does. CapacityError if none fits."""
    codec = codec or codec_available()[0]
    img = secret
    while min(img.size) >= 8:
        best = _best_quality(lambda q: _encode(img, codec, q), budget)
        if best is not None:
            return best, codec, Image.open(io.BytesIO(best)).convert(img.mode)
        img = img.resize((max(1, round(img.width * 0.8)), max(1, round(img.height * 0.8))), Image.LANCZOS)
    raise CapacityError(f"the secret does not fit: this cover carries {budget} bytes; use a larger cover")


def _bits(data: bytes) -> np.ndarray:
    return np.unpackbits(np.frombuffer(data, np.uint8))


def keyed_costs(cover: np.ndarray, passphrase: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(the samples' keyed order, their HILL costs in that order): what embedding needs of the cover alone, so that
    it can be computed while the payload is being made."""
    a = np.asarray(cover, np.uint8)
    order = _order(a.size, passphrase)
    return order, hill_costs(a if a.ndim == 3 else a[..., None]).reshape(-1).astype(np.float64)[order]


def embed_bytes(cover: np.ndarray, payload: bytes, passphrase: str | None = None, prepared=None) -> np.ndarray:
    """uint8 cover (any shape) -> uint8 stego carrying ``payload``, by STC +-1 embedding with HILL costs
    (``prepared``: :func:`keyed_costs` of the same cover and passphrase, when already computed)."""
    a = np.asarray(cover, np.uint8)
    flat = a.reshape(-1)
    n = flat.size
    m = len(payload) * 8
    if m > _max_bits(n):
        raise CapacityError(f"{len(payload)} bytes do not fit: this cover carries {capacity_bytes(a.shape)}")
    order, rho = prepared if prepared is not None else keyed_costs(a, passphrase)
    lsb = flat[order] & 1
    length = np.unpackbits(np.frombuffer(np.uint32(m).tobytes(), np.uint8))
    head, _ = stc.embed(lsb[:HEADER_SAMPLES], rho[:HEADER_SAMPLES], length, segments=1)
    body, _ = stc.embed(lsb[HEADER_SAMPLES:], rho[HEADER_SAMPLES:], _bits(payload), **_code(n, m))
    new = np.concatenate([head, body])
    change = order[new != lsb]
    out = flat.copy()
    v = out[change].astype(np.int16)
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(payload[:64]).digest()[:8], "little"))
    step = np.where(rng.random(change.size) < 0.5, -1, 1)
    step[v == 0], step[v == 255] = 1, -1
    out[change] = (v + step).astype(np.uint8)
    return out.reshape(a.shape)


def extract_bytes(stego: np.ndarray, passphrase: str | None = None) -> bytes:
    """The payload :func:`embed_bytes` put in ``stego``, or RevealError when its length field is impossible."""
    flat = np.asarray(stego, np.uint8).reshape(-1)
    n = flat.size
    if n <= HEADER_SAMPLES:
        raise RevealError("no codec payload: the image is too small")
    lsb = flat[_order(n, passphrase)] & 1
    m = int(np.frombuffer(np.packbits(stc.extract(lsb[:HEADER_SAMPLES], LENGTH_BITS, segments=1)).tobytes(),
                          np.uint32)[0])
    if m == 0 or m % 8 or m > _max_bits(n):
        raise RevealError("no codec payload found (wrong passphrase, or not a codec stego image)")
    return np.packbits(stc.extract(lsb[HEADER_SAMPLES:], m, **_code(n, m))).tobytes()


def hide(cover: np.ndarray, secret: Image.Image, passphrase: str | None = None) -> tuple[np.ndarray, dict]:
    """uint8 HxWx3 cover, PIL secret (RGB or L) -> (uint8 stego, what was done: codec, quality-bytes, the secret's
    size as stored, its PSNR after compression, bits per sample used)."""
    from .metrics import psnr
    from .imaging import pil_to_tensor

    from concurrent.futures import ThreadPoolExecutor

    budget = capacity_bytes(cover.shape)
    overhead = sealed.SEAL_OVERHEAD if passphrase is not None else 0
    with ThreadPoolExecutor(1) as pool:      # the cover's costs while the secret is compressed (both free the GIL)
        prepared = pool.submit(keyed_costs, cover, passphrase)
        data, codec, decoded = compress(secret, budget - overhead)
        prepared = prepared.result()
    frame = sealed.pack(data, KIND, secret.width, secret.height, passphrase)
    stego = embed_bytes(cover, frame, passphrase, prepared)
    back = decoded.resize(secret.size, Image.LANCZOS) if decoded.size != secret.size else decoded
    info = {"codec": CODECS[codec], "bytes": len(data), "stored_size": list(decoded.size),
            "secret_psnr": psnr(pil_to_tensor(back.convert("RGB")), pil_to_tensor(secret.convert("RGB"))),
            "bits_per_sample": len(frame) * 8 / cover.size}
    return stego, info


def reveal(stego: np.ndarray, passphrase: str | None = None) -> Image.Image:
    """The secret :func:`hide` put in ``stego``, at its original size; RevealError when there is none (or the
    passphrase is wrong)."""
    try:
        body, kind, w, h = sealed.unpack(extract_bytes(stego, passphrase), passphrase)
    except sealed.FrameError as e:
        raise RevealError(f"no codec payload found: {e}") from None
    if kind != KIND or not (w and h):
        raise RevealError("no codec payload found")
    try:
        img = Image.open(io.BytesIO(body))
        img.load()
    except Exception:
        raise InputError("the payload is not an image this Pillow can decode") from None
    return img.resize((w, h), Image.LANCZOS) if img.size != (w, h) else img
