"""The public API (re-exported by ``veil``): hide a text as an invisible QR code, reveal it.

PIL images at the outer edge; tensors in the float [0,1] RGB NCHW convention inside.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from .errors import CapacityError, InputError, RevealError
from .imaging import MIN_SIDE, array_to_pil, check_size, decode, pil_to_tensor, split_alpha, tensor_to_pil
from .payloads.qr import encode_text
from .qr import qr_candidates, min_cover_side, qr_model_for, qr_tensor, reveal_qr_tensor
from .registry import get_model


# ----------------------------------------------------------------------------- PIL level

def _check_image(image, what: str, min_side: int = MIN_SIDE) -> Image.Image:
    """``image`` decoded (its pixel count checked from the header first; a damaged file is InputError), upright by
    its EXIF orientation as in the CLI, and of a size veil serves."""
    if not isinstance(image, Image.Image):
        raise InputError(f"{what} must be a PIL image, got {type(image).__name__}")
    image = decode(image, what)
    check_size(image, min_side=min_side, what=what)
    return image


def _like_cover(stego: Image.Image, cover: Image.Image) -> Image.Image:
    """The stego carries the cover's colour profile, so colour-managed viewers show both alike."""
    if cover.info.get("icc_profile"):
        stego.info["icc_profile"] = cover.info["icc_profile"]
    return stego


def hide_qr_report(image: Image.Image, text: str, model: str | None = None, ecc: str = "M",
                   strength: float | None = None, verify: list[str] | None = None, check: bool = True):
    """:func:`hide_qr`, and how the strength was chosen: (stego image, :class:`veil.strength.StrengthReport`)."""
    image = _check_image(image, "cover")
    asked = get_model(model, "qr")
    strength, attacks = check_hiding_options(strength, verify, asked)
    m = qr_model_for(min(image.size), asked)
    check_size(image, min_side=min_cover_side(m), what="cover")
    try:
        code = encode_text(text, ecc, m.spec)
    except CapacityError as e:
        if m is not asked:
            raise CapacityError(f"{e} (covers under {min_cover_side(asked)} px use "
                                f"{m.card['name']}: a larger cover carries more)") from None
        raise
    rgb, alpha = split_alpha(image)

    def reads(x):
        return reveal_qr_tensor(x, m)[0][0] == code.text

    out, report = _hide_pixels(rgb, alpha, m, qr_tensor([code], m), reads, strength, attacks, check, "text")
    return _like_cover(out, image), report


def _hide_pixels(rgb: Image.Image, alpha, m, payload, reads, strength: float, attacks: list[str], check: bool,
                 what: str = "message"):
    """(stego PIL image, :class:`veil.strength.StrengthReport`): ``payload`` embedded in the RGB cover by ``m``
    (a model with ``embed``, ``embed_array`` and ``small_view``) at ``strength``, or at the quietest strength after
    which ``reads`` still gets it back through each of ``attacks``; the 8-bit result is read back before it is returned
    (:func:`veil.strength.check_reads_back`).

    Fixed gains, and large covers (over ``STRIPED_ATTACK_ABOVE`` pixels) whose attacks can run in stripes, work on
    the file's uint8 pixels in stripes; other attacks are checked on the whole float image."""
    from .attacks import Chain, Quantize8bit, parse_attack
    from .imaging import quantize_8bit
    from .strength import StrengthReport, check_reads_back, choose_strength

    a = np.asarray(rgb)
    chains = [Chain(parse_attack(x), Quantize8bit()) for x in attacks]
    if attacks and not (a.shape[0] * a.shape[1] > STRIPED_ATTACK_ABOVE and all(map(_array_attack, chains))):
        cover = pil_to_tensor(rgb)
        stego, report = choose_strength(lambda g: quantize_8bit(m.embed(cover, payload, strength=g)), reads, attacks)
        check_reads_back(stego, reads, report, check, what)
        return tensor_to_pil(stego, alpha), report
    if attacks:
        def apply(stego, attack):
            return m.small_view(_array_attack(Chain(attack, Quantize8bit()))(stego))

        stego, report = choose_strength(lambda g: m.embed_array(a, payload, strength=g), reads, attacks, apply=apply)
    else:
        stego, report = m.embed_array(a, payload, strength=strength), StrengthReport(strength, "fixed")
    check_reads_back(m.small_view(stego), reads, report, check, what)
    return array_to_pil(stego, alpha), report


def check_hiding_options(strength, verify, model=None) -> tuple[float, list[str]]:
    """(strength, attacks to verify) from a hide's ``strength`` and ``verify``, or InputError; one or the other.
    Neither given (``strength`` None): the model's own default, which is the attacks its card lists under
    ``verify_default`` (the model picks each image's quietest surviving strength), else the calibrated gain."""
    if strength is None and verify is None:
        verify = (getattr(model, "card", None) or {}).get("verify_default")
    chosen, attacks = _check_strength(1.0 if strength is None else strength), _check_verify(verify)
    if attacks and strength is not None:
        raise InputError("give either a fixed strength or attacks to verify, not both")
    return chosen, attacks


def _check_strength(strength) -> float:
    """A multiple of the calibrated gain, (0, 10]."""
    try:
        value = float(strength)
    except (TypeError, ValueError):
        raise InputError(f"strength must be a number (a multiple of the calibrated gain), got {strength!r}") \
            from None
    if isinstance(strength, bool) or not 0 < value <= 10:
        raise InputError(f"strength must be in (0, 10] (1 = the calibrated gain), got {strength!r}")
    return value


def _check_verify(verify) -> list[str]:
    """Attack specs to verify (a list, or one comma-separated string), each parsed once to fail early."""
    from .attacks import parse_attack

    if verify is None:
        return []
    if not isinstance(verify, (str, list, tuple)) or not all(isinstance(a, str) for a in verify):
        raise InputError(f"verify must be attack specs (a list of str, or one comma-separated str), got {verify!r}")
    items = verify.split(",") if isinstance(verify, str) else list(verify)
    items = [str(a).strip() for a in items if str(a).strip()]
    for a in items:
        try:
            parse_attack(a)
        except ValueError as e:
            raise InputError(f"bad attack to verify: {e}") from None
    return items


def hide_qr(image: Image.Image, text: str, model: str | None = None, ecc: str = "M", strength: float | None = None,
            verify: list[str] | None = None, check: bool = True) -> Image.Image:
    """Hide ``text`` in ``image`` as an invisible QR code; returns an 8-bit RGB (RGBA if the cover had
    alpha) image of the cover's size. Save it losslessly (PNG).

    ``strength`` multiplies the model's calibrated residual strength (1 = as shipped, 2 = twice as loud).
    ``verify`` (attack specs, e.g. ["jpeg:50", "blur:1"]) instead picks, for this image, the quietest
    strength after which the text still reads back through each of those attacks (veil.strength). Neither
    given: the model's default (qr_densenet.robust verifies against the attacks its card lists, every other
    model uses its calibrated gain).

    The stego, rounded to 8 bits as it will be saved, is read back before it is returned: when the text does
    not come back (a strength far too low), InputError, unless ``check`` is False.
    The EXIF orientation of ``image`` is applied first (the stego is upright), and its colour profile is kept in
    the stego's ``info`` (saved with it)."""
    return hide_qr_report(image, text, model, ecc, strength, verify, check)[0]


def reveal_qr_image(image: Image.Image, model: str | None = None) -> tuple[str | None, Image.Image]:
    """Like :func:`reveal_qr` but returns (text or None, recovered QR code as a greyscale image)."""
    image = _check_image(image, "stego image")
    rgb, _ = split_alpha(image)
    a = np.asarray(rgb)
    views: dict[int, object] = {}          # one shrink per processing size
    found = []
    for m in qr_candidates(min(image.size), model):
        if m.processing_size not in views:
            views[m.processing_size] = m.small_view(a)
        found.append(reveal_qr_tensor(views[m.processing_size], m)[0])
        if found[-1][0] is not None:
            break
    text, qr = found[-1] if found[-1][0] is not None else found[0]
    return text, Image.fromarray(np.clip(np.round(qr * 255), 0, 255).astype(np.uint8), "L")


def reveal_qr(image: Image.Image, model: str | None = None) -> str:
    """Read the text hidden in ``image``; raises :class:`veil.RevealError` when none can be read. With no
    ``model``, the default is tried first, then every other released QR model."""
    text, _ = reveal_qr_image(image, model)
    if text is None:
        raise RevealError("no hidden QR code could be read from this image")
    return text


def attack_image(image: Image.Image, attacks: list[str], seed: int = 0) -> Image.Image:
    """Apply attacks (specs such as ``"jpeg:75"``, ``"blur:1"``, ``"resize:0.5"``, ``"noise:2"``, in order)
    to an image as a user's pipeline would: real JPEG codec, result rounded to 8 bits. Alpha is kept."""
    import torch

    from .attacks import Chain, Quantize8bit, parse_attack

    image = _check_image(image, "image")
    try:
        chain = Chain(*[parse_attack(a) for a in attacks], Quantize8bit())
    except ValueError as e:
        raise InputError(str(e)) from None
    rgb, alpha = split_alpha(image)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        with torch.no_grad():
            run = _array_attack(chain) if rgb.width * rgb.height > STRIPED_ATTACK_ABOVE else None
            if run is not None:
                return _like_cover(array_to_pil(run(np.asarray(rgb)), alpha), image)
            out = chain(pil_to_tensor(rgb))
    return _like_cover(tensor_to_pil(out, alpha), image)


def _array_attack(chain):
    """A function that applies ``chain`` (ending in 8-bit rounding) to uint8 HxWx3 pixels without a float copy of
    the whole image (in stripes when every step is local, or a plain resize), or None when it cannot."""
    if chain.reach() is not None:
        return lambda a: attack_in_stripes(chain, a)
    if len(chain.attacks) == 2 and _plain_resize(chain.attacks[0]):
        return lambda a: resize_array(a, chain.attacks[0].strength)
    return None


def _plain_resize(attack) -> bool:
    from .attacks.pixel import Resize

    return isinstance(attack, Resize) and attack.mode == "bilinear" and not isinstance(attack.strength, tuple)


def resize_array(a: np.ndarray, scale: float) -> np.ndarray:
    """The ``resize:SCALE`` attack (bilinear) on uint8 HxWx3, rounded to 8 bits, in stripes."""
    from .imaging import add_residual_array, shrink_array

    h, w = a.shape[:2]
    small = shrink_array(a, (max(1, round(h * scale)), max(1, round(w * scale))))
    return add_residual_array(np.zeros_like(a), small)


STRIPED_ATTACK_ABOVE = 4_000_000     # pixels: larger images are attacked in stripes when every step is local


def attack_in_stripes(chain, a: np.ndarray, rows: int = 512) -> np.ndarray:
    """``chain`` (ending in 8-bit rounding) over uint8 HxWx3 ``a`` in stripes of ``rows`` rows, each read with
    ``chain.reach()`` rows of context on both sides (starts aligned to ``chain.align``): the same pixels as the
    whole image attacked at once, except that noise is drawn per stripe."""
    from .imaging import tensor_to_uint8, uint8_to_tensor

    step = chain.align
    rows = max(step, rows // step * step)
    halo = -(-chain.reach() // step) * step
    out = np.empty_like(a)
    for y0 in range(0, a.shape[0], rows):
        y1 = min(a.shape[0], y0 + rows)
        lo, hi = max(0, y0 - halo), min(a.shape[0], y1 + halo)
        band = tensor_to_uint8(chain(uint8_to_tensor(a[lo:hi])))
        out[y0:y1] = band[y0 - lo:y1 - lo]
    return out


# ----------------------------------------------------------------------------- a message spread over the image

def _check_message(message) -> str | bytes:
    if isinstance(message, (bytearray, memoryview)):
        message = bytes(message)
    if not isinstance(message, (str, bytes)):
        raise InputError(f"the message must be str (a text) or bytes, got {type(message).__name__}")
    return message


def _check_passphrase(passphrase) -> str | None:
    if passphrase is not None and (not isinstance(passphrase, str) or not passphrase):
        raise InputError("the passphrase must be a non-empty str (or None)")
    return passphrase


def hide_report(image: Image.Image, message, *, passphrase: str | None = None, model=None, ecc: str = "M",
                strength: float | None = None, verify: list[str] | None = None, check: bool = True,
                stealth: bool = False):
    """:func:`hide`, and how the strength was chosen: (stego image, :class:`veil.strength.StrengthReport`)."""
    from .hiding import message_bits, reveal_tensor
    from .strength import StrengthReport

    image = _check_image(image, "cover")
    message, passphrase = _check_message(message), _check_passphrase(passphrase)
    if stealth:
        from .stealth import hide_array, reveal_array

        if model is not None or strength is not None or verify is not None:
            raise InputError("stealth hiding takes no model, strength or verify: it changes as few samples as it can")
        rgb, alpha = split_alpha(image)
        a = hide_array(np.asarray(rgb), message, passphrase)
        got = reveal_array(a, passphrase)            # the written pixels give it back (they always should)
        if got is None or got.message != message:
            raise InputError("the message does not read back from the stego image, so nothing was written")
        return _like_cover(array_to_pil(a, alpha), image), StrengthReport(1.0, "stealth", reads_back=True)
    m = get_model(model, "message")
    strength, attacks = check_hiding_options(strength, verify, m)
    bits = message_bits(message, m, ecc, passphrase)     # capacity and text errors before any pixel work
    rgb, alpha = split_alpha(image)

    def reads(x):
        got = reveal_tensor(x, m, passphrase).decoded
        return got is not None and got.message == message

    out, report = _hide_pixels(rgb, alpha, m, bits, reads, strength, attacks, check)
    return _like_cover(out, image), report


def hide(image: Image.Image, message, *, passphrase: str | None = None, model=None, ecc: str = "M",
         strength: float | None = None, verify: list[str] | None = None, check: bool = True,
         stealth: bool = False) -> Image.Image:
    """Hide ``message`` (str: a text, UTF-8; bytes: raw bytes such as an ID) spread over the whole of ``image``;
    returns an 8-bit RGB (RGBA if the cover had alpha) image of the cover's size. Save it as PNG: the message
    survives a later JPEG re-save, resizing or blur, but the first save should be lossless.

    ``passphrase`` keys the payload: without it the message neither reads nor verifies. ``ecc`` "M" (default)
    or "L" (more capacity, less margin). ``strength``, ``verify``, ``check``, orientation and colour profile as in
    :func:`hide_qr`.

    ``stealth=True`` hides it instead so that nobody can tell a message is there (veil.stealth: a few +-1 changes
    where the cover is busiest, keyed and encrypted by ``passphrase``): no model, strength or verify, and a lossless
    channel only, since one JPEG re-save destroys it. :func:`reveal` finds either kind."""
    return hide_report(image, message, passphrase=passphrase, model=model, ecc=ecc, strength=strength,
                       verify=verify, check=check, stealth=stealth)[0]


def reveal_report(image: Image.Image, *, passphrase: str | None = None, model=None, stealth: bool | None = None):
    """:func:`reveal` without raising: a :class:`veil.hiding.Reading` (``decoded`` None when no message).
    ``stealth``: True reads only a stealth message, False only the spread one, None (default) the spread one and,
    when none is found and no model was named, a stealth one."""
    from .hiding import Reading, reveal_tensor

    image = _check_image(image, "stego image")
    passphrase = _check_passphrase(passphrase)
    rgb, _ = split_alpha(image)
    a = np.asarray(rgb)
    if not stealth:
        m = get_model(model, "message")
        reading = reveal_tensor(m.small_view(a), m, passphrase)
        if reading.decoded is not None or stealth is False or model is not None:
            return reading
    from .stealth import reveal_array

    return Reading(reveal_array(a, passphrase), np.zeros(0))


def reveal(image: Image.Image, *, passphrase: str | None = None, model=None, stealth: bool | None = None
           ) -> str | bytes:
    """The message :func:`hide` put in ``image``: str if a text was hidden, bytes if bytes were (either route; see
    :func:`reveal_report` for ``stealth``). Raises :class:`veil.RevealError` when no message is found (none there, a
    wrong passphrase, or too much damage)."""
    got = reveal_report(image, passphrase=passphrase, model=model, stealth=stealth).decoded
    if got is None:
        raise RevealError("no hidden message found in this image")
    return got.message


# ----------------------------------------------------------------------------- image into image

MIN_IMAGE_SIDE = 16     # smallest cover side the image-hiding models accept


def fit_box(src: tuple[int, int], dst: tuple[int, int]) -> tuple[int, int, int, int]:
    """Where an image of size ``src`` (w, h) sits when fitted into ``dst`` keeping its aspect ratio,
    centred: (x, y, w, h)."""
    sw, sh = src
    dw, dh = dst
    s = min(dw / sw, dh / sh)
    w, h = max(1, min(dw, round(sw * s))), max(1, min(dh, round(sh * s)))
    return (dw - w) // 2, (dh - h) // 2, w, h


def fit_secret(secret: Image.Image, size: tuple[int, int], grey: bool) -> Image.Image:
    """The secret fitted into ``size`` (w, h): aspect ratio kept, centred, padded with black."""
    x, y, w, h = fit_box(secret.size, size)
    mode = "L" if grey else "RGB"
    rgb, _ = split_alpha(secret)            # any mode (16-bit, palette, CMYK, alpha) -> 8-bit RGB
    canvas = Image.new(mode, size, 0)
    canvas.paste(rgb.convert(mode).resize((w, h), Image.LANCZOS, reducing_gap=3.0), (x, y))
    return canvas


def _equal_channels(a: np.ndarray) -> bool:
    """True when the first three channels of HxWxC ``a`` are identical everywhere."""
    return bool((a[..., 0] == a[..., 1]).all() and (a[..., 1] == a[..., 2]).all())


def _is_grey(image: Image.Image) -> bool:
    if image.mode in ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        return True
    if image.mode == "P":
        image = image.convert("RGB")
    if image.mode not in ("RGB", "RGBA"):
        return False
    return _equal_channels(np.asarray(image))


CODEC = "codec"       # the image route with no network: compress, then embed (veil.codec)
WEIGHTLESS = (CODEC, "stealth")    # hiding routes with no weights and no card (stealth: veil.hide(stealth=True))
IMAGE_DEFAULT = CODEC  # what hide_image and reveal_image use when no model is named: the cover keeps its look


def hide_image_report(cover: Image.Image, secret: Image.Image, model: str | None = None, progress: bool = False,
                      passphrase: str | None = None) -> tuple[Image.Image, dict]:
    """:func:`hide_image`, and what was done: for ``codec``, the codec, its bytes, the secret's stored size, its PSNR
    after compression and the bits per sample used; {} for the other models."""
    model = model or IMAGE_DEFAULT
    cover = _check_image(cover, "cover", MIN_IMAGE_SIDE)
    secret = _check_image(secret, "secret", 1)
    passphrase = _check_passphrase(passphrase)
    rgb, alpha = split_alpha(cover)
    if model == CODEC:
        from . import codec

        grey = _is_grey(secret)
        s, _ = split_alpha(secret)
        a, info = codec.hide(np.asarray(rgb), s.convert("L" if grey else "RGB"), passphrase)
        return _like_cover(array_to_pil(a, alpha), cover), info
    if passphrase is not None:
        raise InputError("a passphrase keys only the codec model (--model codec)")
    m = get_model(model, "image")
    fitted = fit_secret(secret, rgb.size, grey=m.secret_channels == 1 or _is_grey(secret))
    s = np.asarray(fitted.convert("RGB"))
    if m.secret_channels == 1:
        s = s[..., :1]
    del fitted
    return _like_cover(array_to_pil(m.embed_array(np.asarray(rgb), s, progress=progress), alpha), cover), {}


def hide_image(cover: Image.Image, secret: Image.Image, model: str | None = None, progress: bool = False,
               passphrase: str | None = None) -> Image.Image:
    """Hide the image ``secret`` in ``cover``; returns an 8-bit RGB (RGBA if the cover had alpha) stego image of the
    cover's size. Save it losslessly (PNG).

    ``model``: ``"codec"`` (the default, None) compresses the secret with a real codec at the highest quality the
    cover carries (downscaled when even the lowest does not fit) and embeds its bytes by content-adaptive +-1 changes
    (veil.codec), keyed by ``passphrase`` (which also encrypts them) when given; a JPEG re-save destroys it. A neural
    model (stegnet, pixinpix and their ``.quiet`` versions) or lsbK fits the secret to the cover (aspect ratio kept,
    black padding; a grey secret is hidden as grey). ``progress``: a progress bar on stderr for large images."""
    return hide_image_report(cover, secret, model, progress, passphrase)[0]


def reveal_image(stego: Image.Image, model: str | None = None, size: tuple[int, int] | None = None,
                 grey: bool | None = None, progress: bool = False, passphrase: str | None = None) -> Image.Image:
    """The secret hidden in ``stego`` by :func:`hide_image`, at the stego's size, or at ``size`` (w, h): the
    secret's own size, which undoes the fitting (padding cropped away).

    ``grey``: True returns a greyscale image (the mean of the revealed channels). None returns grey only when
    that is certain: a 1-channel model, or three exactly equal 8-bit channels (lsbK with a grey secret). A
    neural 3-channel model reveals a grey secret as three nearly, not exactly, equal channels, and how near
    overlaps with colour secrets (pixinpix on 27 validation pairs at 64 px: mean channel spread up to 0.069
    for grey secrets, from 0.020 for colour ones), so it cannot be told from the pixels:
    pass True.

    ``"codec"`` (the default, None): the secret :func:`hide_image` compressed and embedded, at its original size
    (``size`` resizes it), read with the ``passphrase`` it was hidden with; RevealError when there is none."""
    named, model = model is not None, model or IMAGE_DEFAULT
    stego = _check_image(stego, "stego image", MIN_IMAGE_SIDE)
    passphrase = _check_passphrase(passphrase)
    if size is not None:
        w, h = int(size[0]), int(size[1])
        if w < 1 or h < 1 or max(w, h) > 8192:
            raise InputError(f"size {w}x{h}: each side must be 1..8192")
    rgb, _ = split_alpha(stego)
    if model == CODEC:
        from . import codec

        try:
            img = codec.reveal(np.asarray(rgb), passphrase)
        except RevealError as e:
            if named:
                raise
            raise RevealError(f"{e}; an image hidden by a network or lsbK is revealed with its model's name") from None
        return img.resize((w, h), Image.LANCZOS) if size is not None else img
    if passphrase is not None:
        raise InputError("a passphrase keys only the codec model (--model codec)")
    m = get_model(model, "image")
    a = m.extract_array(np.asarray(rgb), grey=bool(grey) and m.secret_channels > 1, progress=progress)
    if a.shape[2] == 1:
        img = Image.fromarray(a[..., 0], "L")
    else:
        img = Image.fromarray(a, "RGB")
        if grey is None and _equal_channels(a):
            img = img.convert("L")
    if size is not None:
        x, y, bw, bh = fit_box((w, h), img.size)
        img = img.crop((x, y, x + bw, y + bh)).resize((w, h), Image.LANCZOS)
    return img


# ----------------------------------------------------------------------------- steganalysis

def image_samples(image: Image.Image) -> np.ndarray:
    """The 8-bit samples the detectors read: [H,W] for grey images, [H,W,3] otherwise (alpha dropped)."""
    if image.mode in ("1", "L", "LA"):
        return np.asarray(image.convert("L"))
    if image.mode not in ("RGB", "RGBA", "P", "L"):
        raise InputError(f"steganalysis reads 8-bit images; this one is {image.mode}")
    return np.asarray(image.convert("RGB"))


def analyze_image(image: Image.Image) -> dict[str, float]:
    """The four classical LSB detectors' estimated embedding rates (primary_sets, chi_square, sample_pairs,
    rs, each in [0, 1]) and their mean ``fused``; ``veil analyze`` calls an image stego above 0.2."""
    from .detectors import analyze_array

    image = _check_image(image, "image", 2)
    return analyze_array(image_samples(image))


# ----------------------------------------------------------------------------- image disguise (seed 004)

class DisguiseMismatch(RevealError):
    """The disguise image is not the one the key was trained on (its decoded pixels hash differently)."""


def disguise_train(disguise: Image.Image, secret: Image.Image, cfg=None, passphrase: str | None = None,
                   progress: bool = False) -> tuple[bytes, dict]:
    """Train a generator that turns ``disguise`` into ``secret`` (PIL images, squashed to ``cfg.size``
    square; grey unless ``cfg.color``). Returns the key file's bytes (encrypted when ``passphrase`` is given)
    and what training measured: seconds, and SSIM / PSNR of the 8-bit secret the key gives back."""
    from .metrics import psnr, ssim
    from .models.disguise import generator_meta, generator_to_bytes, prepare
    from .payloads.keyfile import pack_key, pixel_digest, unpack_key
    from .disguise import train_disguise

    d = pil_to_tensor(split_alpha(disguise)[0])
    gen, info = train_disguise(d, pil_to_tensor(split_alpha(secret)[0]), cfg, progress=progress)
    meta = generator_meta(gen) | {"disguise_sha256": pixel_digest(disguise),
                                  "disguise_hash": "sha256 of the decoded 8-bit RGB pixels and the size"}
    key = pack_key(meta, generator_to_bytes(gen), passphrase)
    # measured as the receiver gets it: through the stored (float16) weights, both images 8-bit
    out = pil_to_tensor(disguise_reveal(disguise, unpack_key(key, passphrase)).convert("RGB"))[:, :gen.channels]
    target = prepare(pil_to_tensor(split_alpha(secret)[0]), gen.size, gen.color).mul(255).round().div(255)
    info.update(ssim=ssim(out, target), psnr=psnr(out, target), key_bytes=len(key))
    return key, info


def disguise_reveal(disguise: Image.Image, key, passphrase: str | None = None, check: bool = True) -> Image.Image:
    """Feed ``disguise`` (PIL) to the generator in ``key`` (key file bytes or a loaded
    :class:`veil.payloads.keyfile.Key`); returns the secret (PIL, "L" or "RGB", the key's size square).
    Raises :class:`DisguiseMismatch` when ``check`` and the image is not the key's disguise image."""
    from .models.disguise import generator_from_bytes
    from .payloads.keyfile import Key, pixel_digest, unpack_key

    if not isinstance(key, Key):
        key = unpack_key(bytes(key), passphrase)
    if check and pixel_digest(disguise) != key.meta.get("disguise_sha256"):
        raise DisguiseMismatch("the image is not the disguise image this key was trained on (pixel hash differs)")
    try:
        gen = generator_from_bytes(key.meta, key.weights)
    except ValueError as e:
        raise InputError(f"not a veil key file, or a damaged one ({e})") from None
    return tensor_to_pil(gen.generate(pil_to_tensor(split_alpha(disguise)[0])))
# ----------------------------------------------------------------------------- neural QR reader (seed 001)

def read_qr_digits(images, model: str | None = None) -> list[str | None]:
    """The six digits of each version-1 QR code image (PIL images, any size, quiet zone or not, any quarter
    turn) read by a qrnet model (default ``qrnet.default``; ``"qrnet.paper"`` is the seed's reproduction), in one
    batch: e.g. ``["012345", None, ...]``. An entry is None when the image holds no six-digit code (a photo,
    noise, a flat or tiny image, a QR code of other content, or a code too damaged to read right): the code of
    the digits read disagrees with the model's module grid (the model card's ``presence`` threshold). A single
    image is accepted too (the answer is still a list)."""
    if isinstance(images, Image.Image):
        images = [images]
    tensors = []
    for i, img in enumerate(images):
        if not isinstance(img, Image.Image):
            raise InputError(f"image {i} must be a PIL image, got {type(img).__name__}")
        rgb, _ = split_alpha(img)
        tensors.append(pil_to_tensor(rgb))
    return get_model(model, "qrnet").read(tensors)
