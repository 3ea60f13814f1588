"""The only place where files and PIL images become tensors and back.

Pixel convention at every public boundary: float32 in [0, 1], RGB, NCHW. Any other range is
private to a model. Resizing is done here too, so training and inference resize identically.
"""
from __future__ import annotations

import contextlib
import contextvars
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import InputError
from .files import write_atomic

MIN_SIDE = 64          # smallest cover side veil accepts
MAX_SIDE = 8192        # largest cover side veil accepts (memory guard)
MAX_PIXELS = 100_000_000   # largest image veil decodes, checked from the header (`--max-pixels`, :func:`pixel_limit`)
# PNG compression: zlib level 6 (Pillow's default) up to this many pixels, level 1 above it. Measured on an
# 8000x6000 photo with camera grain: level 6 took 16.6 s (65.6 MB), level 1 3.7 s (76.8 MB).
PNG_FAST_ABOVE = 16_000_000

ORIENTATION = 0x0112   # the EXIF orientation tag

_max_pixels = contextvars.ContextVar("veil_max_pixels", default=MAX_PIXELS)


# ----------------------------------------------------------------------------- limits and orientation

@contextlib.contextmanager
def pixel_limit(n: int):
    """Within the block, images over ``n`` pixels are refused before they are decoded (default :data:`MAX_PIXELS`).
    Pillow's own decompression-bomb limit, a process-wide setting, is left alone."""
    token = _max_pixels.set(int(n))
    try:
        yield
    finally:
        _max_pixels.reset(token)


def check_pixels(size: tuple[int, int], what: str = "image") -> None:
    """InputError when an image of ``size`` (w, h), known from its header, is over the pixel limit."""
    w, h = size
    limit = _max_pixels.get()
    if w * h > limit:
        raise InputError(f"{what} is too large to decode: {w}x{h} = {w * h / 1e6:.1f} Mpx, the limit is "
                         f"{limit / 1e6:g} Mpx (--max-pixels)")


def decode(img: Image.Image, what: str = "image") -> Image.Image:
    """Decode a lazily opened PIL image after checking its pixel count from the header, and turn it upright by its
    EXIF orientation (the image veil works on is always the one a viewer shows). A damaged file is InputError."""
    check_pixels(img.size, what)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img.load()
            turned = img.getexif().get(ORIENTATION, 1) not in (None, 1)
            return ImageOps.exif_transpose(img) if turned else img
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise InputError(f"cannot read {what}: {e}") from None


# ----------------------------------------------------------------------------- files

def sample_path() -> Path:
    """The photo bundled with veil (the demo's cover)."""
    from importlib import resources

    return Path(str(resources.files("veil") / "assets" / "astronaut.png"))


def load_image(path: str | os.PathLike) -> Image.Image:
    """Open an image file fully (so corrupt files fail here, and files over the pixel limit before any decoding)
    and apply its EXIF rotation."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"no such file: {p}")
    if p.is_dir():
        raise InputError(f"is a directory, not an image: {p}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(p)
    except UnidentifiedImageError:
        raise InputError(f"not an image file: {p}") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise InputError(f"cannot read image {p}: {e}") from None
    try:
        img = decode(im, f"image {p}")
        if img is im and getattr(im, "n_frames", 1) > 1:     # a multi-frame file keeps its file open: copy frame 1
            img = im.copy()
    except BaseException:
        im.close()
        raise
    if img is not im:
        im.close()
    return img


def metadata(img: Image.Image, keep_exif: bool = False) -> dict:
    """Save arguments that carry ``img``'s colour profile (always) and its EXIF (``keep_exif``; the orientation tag
    reset, since veil's pixels are already upright) into another file."""
    out = {}
    if img.info.get("icc_profile"):
        out["icc_profile"] = img.info["icc_profile"]
    if keep_exif:
        exif = img.getexif()
        if len(exif):
            exif[ORIENTATION] = 1
            out["exif"] = exif.tobytes()
    return out


def save_image(img: Image.Image, path: str | os.PathLike, force: bool = False, meta: dict | None = None) -> Path:
    """Save losslessly unless the extension asks for JPEG (PNG is the default for stego images), atomically.
    ``meta``: save arguments from :func:`metadata` (colour profile, EXIF); by default the image's own profile."""
    ext = Path(path).suffix.lower()
    meta = metadata(img) if meta is None else meta
    if ext in (".jpg", ".jpeg"):
        return write_atomic(path, lambda tmp: img.convert("RGB").save(tmp, format="JPEG", quality=95, **meta), force)
    formats = {".png": "PNG", ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP"}
    if ext not in formats:
        raise InputError(f"unsupported output format '{ext or Path(path).name}': use .png")
    kwargs = {"lossless": True} if ext == ".webp" else {}
    if ext == ".png":
        kwargs = {"compress_level": 6 if img.width * img.height <= PNG_FAST_ABOVE else 1}
    if ext == ".bmp":
        meta = {}                       # BMP holds neither a profile nor EXIF
    return write_atomic(path, lambda tmp: img.save(tmp, format=formats[ext], **kwargs, **meta), force)


# ----------------------------------------------------------------------------- PIL <-> numpy

def split_alpha(img: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """Return (8-bit RGB image, alpha channel or None) for any PIL mode veil supports.

    Greyscale, palette, RGBA/LA (alpha kept apart), CMYK, 16-bit and float greyscale are
    converted; 16-bit data is scaled down to 8 bits, not clipped.
    """
    mode = img.mode
    alpha = None
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        alpha = img.getchannel("A")
        return img.convert("RGB"), alpha
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        a = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if (mode.startswith("I;16") or a.max() > 255) else 255.0
        a = np.clip(np.round(a / peak * 255.0), 0, 255).astype(np.uint8)
        return Image.fromarray(a, "L").convert("RGB"), None
    if mode == "F":
        a = np.asarray(img, dtype=np.float64)
        peak = 1.0 if a.max() <= 1.0 else 255.0
        a = np.clip(np.round(a / peak * 255.0), 0, 255).astype(np.uint8)
        return Image.fromarray(a, "L").convert("RGB"), None
    if mode == "RGB":
        return img, None
    try:
        return img.convert("RGB"), None
    except (ValueError, OSError) as e:
        raise InputError(f"unsupported image mode {mode}: {e}") from None


def check_size(img: Image.Image, min_side: int = MIN_SIDE, what: str = "image") -> None:
    w, h = img.size
    if min(w, h) < min_side:
        raise InputError(f"{what} is too small: {w}x{h}, need at least {min_side} px on each side")
    if max(w, h) > MAX_SIDE:
        raise InputError(f"{what} is too large: {w}x{h}, at most {MAX_SIDE} px on a side")


def pil_to_tensor(img: Image.Image):
    """RGB PIL image -> float32 tensor [1, 3, H, W] in [0, 1].

    The tensor is stored channels-last (the pixel layout of the file), so neither this nor
    ``tensor_to_uint8`` makes a transposing copy. Its logical shape is NCHW as everywhere.
    """
    import torch

    if img.mode != "RGB":
        img, _ = split_alpha(img)
    a = np.array(img, dtype=np.uint8)
    return torch.from_numpy(a).permute(2, 0, 1).unsqueeze(0).float().div_(255.0)


def uint8_to_tensor(a: np.ndarray):
    """uint8 HxWx3 (or NxHxWx3) array -> float tensor NCHW in [0, 1]."""
    import torch

    a = np.ascontiguousarray(a)
    t = torch.from_numpy(a if a.flags.writeable else a.copy())
    if t.ndim == 3:
        t = t.unsqueeze(0)
    return t.permute(0, 3, 1, 2).float().div_(255.0)


def tensor_to_uint8(t) -> np.ndarray:
    """Float tensor [1,3,H,W] or [3,H,W] in [0,1] -> uint8 HxWx3, rounded to nearest."""
    if t.ndim == 4:
        if t.shape[0] != 1:
            raise ValueError("tensor_to_uint8 takes one image")
        t = t[0]
    import torch

    a = t.detach().mul(255.0).round_().clamp_(0, 255).to(dtype=torch.uint8).permute(1, 2, 0)
    return np.ascontiguousarray(a.cpu().numpy())


def tensor_to_pil(t, alpha: Image.Image | None = None) -> Image.Image:
    """Float tensor in [0,1] -> 8-bit RGB (or RGBA when ``alpha`` is given) PIL image."""
    a = tensor_to_uint8(t)
    img = Image.fromarray(a if a.shape[2] == 3 else a[:, :, 0], "RGB" if a.shape[2] == 3 else "L")
    if alpha is not None:
        img = img.convert("RGBA")
        img.putalpha(alpha)
    return img


def jpeg_bytes(img: Image.Image, quality: int) -> bytes:
    """Encode with Pillow's libjpeg at ``quality`` and its default 4:2:0 chroma subsampling."""
    import io

    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=int(quality))
    return buf.getvalue()


def jpeg_roundtrip(a: np.ndarray, quality: int) -> np.ndarray:
    """uint8 HxWx3 -> the uint8 HxWx3 a real JPEG file at ``quality`` decodes to (Pillow / libjpeg)."""
    import io

    with Image.open(io.BytesIO(jpeg_bytes(Image.fromarray(a, "RGB"), quality))) as im:
        return np.asarray(im.convert("RGB"))


# ----------------------------------------------------------------------------- tensor ops

def quantize_8bit(x, clip: bool = True):
    """Round to the 256 levels of an 8-bit file (clipped to [0, 1] unless ``clip`` is False), with a
    straight-through gradient."""
    q = x.clamp(0, 1) if clip else x
    q = q.mul(255.0).round().div(255.0)
    return x + (q - x).detach()


def resize(x, size: tuple[int, int] | int, mode: str = "bilinear"):
    """Resize NCHW ``x`` to ``size`` = (H, W): antialiased when shrinking; ``mode`` bilinear or bicubic.

    One function for training and inference, so a model sees the same resampling in both.
    """
    import torch.nn.functional as F

    if isinstance(size, int):
        size = (size, size)
    size = (int(size[0]), int(size[1]))
    if tuple(x.shape[-2:]) == size:
        return x
    shrink = size[0] < x.shape[-2] or size[1] < x.shape[-1]
    if mode not in ("bilinear", "bicubic"):
        raise ValueError(f"resize mode {mode!r}: bilinear or bicubic")
    return F.interpolate(x, size=size, mode=mode, align_corners=False, antialias=shrink)


# ----------------------------------------------------------------------------- full-size images, in stripes
# A hiding model works at its processing size; the full-size steps are a shrink and an added, upsampled residual.
# Both run here from and to uint8 in stripes of rows, so an 8000x6000 photo never exists as float32 (576 MB).

STRIPE_SAMPLES = 1 << 22    # samples per stripe: 16 MB as float32


def _stripe_rows(width: int) -> int:
    return max(1, STRIPE_SAMPLES // (3 * width))


def shrink_array(a: np.ndarray, size: tuple[int, int]):
    """uint8 HxWx3 -> float tensor [1,3,h,w]: :func:`resize` of the whole image, computed as its two separable
    passes, the horizontal one stripe by stripe."""
    import torch

    h, w = int(size[0]), int(size[1])
    rows = _stripe_rows(a.shape[1])
    if a.shape[0] <= rows or (a.shape[0], a.shape[1]) == (h, w):
        return resize(uint8_to_tensor(a), (h, w))
    narrow = torch.cat([resize(uint8_to_tensor(a[y:y + rows]), (min(rows, a.shape[0] - y), w))
                        for y in range(0, a.shape[0], rows)], dim=2)
    return resize(narrow, (h, w))


def add_residual_array(a: np.ndarray, r) -> np.ndarray:
    """uint8 HxWx3 cover + residual [1,C,p,q] (C = 1 or 3, any size: bilinear-upsampled as :func:`resize` does)
    -> the stego as the file holds it: clipped to [0, 1] and rounded to 8 bits, uint8 HxWx3, in stripes."""
    import torch

    H, W = a.shape[:2]
    p = r.shape[-2]
    rows = _stripe_rows(W)
    out = np.empty_like(a)
    if H <= p or H <= rows:                       # small, or the residual is shrunk: one piece
        full = resize(r, (H, W))
        return tensor_to_uint8((uint8_to_tensor(a) + full).clamp_(0, 1))
    scale = p / H
    for y0 in range(0, H, rows):
        y1 = min(H, y0 + rows)
        src = ((torch.arange(y0, y1, dtype=torch.float64) + 0.5) * scale - 0.5).clamp_(min=0)
        i0 = src.floor().long().clamp_(max=p - 1)
        i1 = (i0 + 1).clamp_(max=p - 1)
        lo, hi = int(i0[0]), int(i1[-1]) + 1
        wide = resize(r[..., lo:hi, :], (hi - lo, W))[0]          # [C, rows used, W]: the horizontal pass
        l1 = (src - i0).float()[None, :, None]
        band = wide[:, i0 - lo] * (1 - l1) + wide[:, i1 - lo] * l1  # [C, rows, W], the vertical pass
        x = torch.from_numpy(np.array(a[y0:y1])).permute(2, 0, 1).float().div_(255.0).add_(band)
        out[y0:y1] = x.clamp_(0, 1).mul_(255.0).round_().to(torch.uint8).permute(1, 2, 0).numpy()
    return out


def array_to_pil(a: np.ndarray, alpha: Image.Image | None = None) -> Image.Image:
    """uint8 HxWx3 -> RGB (RGBA when ``alpha`` is given) PIL image."""
    img = Image.fromarray(a, "RGB")
    if alpha is not None:
        img = img.convert("RGBA")
        img.putalpha(alpha)
    return img
