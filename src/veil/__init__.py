"""veil: hide information inside ordinary images with neural networks, get it back, and measure it.

Public API (PIL images in and out; nothing heavy is imported until used)::

    import veil
    stego = veil.hide(cover, "meet me at noon")          # a message spread over the whole photo (PIL -> PIL)
    text = veil.reveal(stego)                            # -> str (bytes if bytes were hidden), or RevealError
    stego = veil.hide_qr(cover, "meet me at noon")     # PIL.Image -> PIL.Image (save as PNG)
    text = veil.reveal_qr(stego)                         # -> str, or raises veil.RevealError
    veil.attack_image(stego, ["jpeg:75", "blur:1"])      # what a re-save or a blur does to it (PIL -> PIL)
    stego = veil.hide_image(cover, secret)               # an image in an image (StegNet; "pixinpix", "lsb3")
    secret = veil.reveal_image(stego)
    veil.analyze_image(stego)                            # classical LSB detectors: rates in [0,1], "fused"
    veil.read_qr_digits([Image.open("code.png")])        # neural QR reader (seed 001): ["012345"] (None: no code)
    veil.list_models()                                   # released model names ("arch.tag")
    model = veil.load_model("qr_densenet")               # torch module with embed/extract
"""
from .errors import CapacityError, InputError, RevealError, VeilError

__version__ = "0.1.0"

__all__ = ["hide", "reveal", "hide_qr", "reveal_qr", "hide_image", "reveal_image", "attack_image", "analyze_image",
           "load_model",
           "list_models", "read_qr_digits", "RevealError", "InputError", "CapacityError", "VeilError", "__version__"]


def hide(image, message, *, passphrase: str | None = None, model: str | None = None, ecc: str = "M",
         strength: float | None = None, verify=None, stealth: bool = False):
    """Hide ``message`` (str or bytes) spread over the whole of ``image`` (PIL); returns the stego image (PIL,
    the cover's size and mode rules as :func:`hide_qr`). It survives JPEG re-saves, resizing and blur.
    ``passphrase`` keys it: without the passphrase it neither reads nor verifies. ``stealth=True`` hides it so that
    nobody can tell a message is there instead (a few +-1 changes in the cover's texture; lossless channel only)."""
    from .api import hide as _hide

    return _hide(image, message, passphrase=passphrase, model=model, ecc=ecc, strength=strength, verify=verify,
                 stealth=stealth)


def reveal(image, *, passphrase: str | None = None, model: str | None = None, stealth: bool | None = None):
    """The message hidden by :func:`hide` in ``image`` (PIL), either kind: str for a text, bytes for bytes; raises
    :class:`RevealError` when no message is found. ``stealth`` True / False reads only that kind."""
    from .api import reveal as _reveal

    return _reveal(image, passphrase=passphrase, model=model, stealth=stealth)


def hide_qr(image, text: str, model: str | None = None, ecc: str = "M", strength: float | None = None, verify=None):
    """Hide ``text`` in ``image`` (PIL) as an invisible QR code; returns the stego image (PIL, cover's size).
    ``strength`` multiplies the calibrated gain; ``verify`` (e.g. ["jpeg:50", "blur:1"]) instead picks the
    quietest strength after which the text still reads back through those attacks. Neither given: the model's
    default (qr_densenet.robust verifies against its card's attacks; the others use the calibrated gain)."""
    from .api import hide_qr as _hide

    return _hide(image, text, model=model, ecc=ecc, strength=strength, verify=verify)


def reveal_qr(image, model: str | None = None) -> str:
    """Return the text hidden in ``image`` (PIL); raises :class:`RevealError` when nothing can be read."""
    from .api import reveal_qr as _reveal

    return _reveal(image, model=model)


def hide_image(cover, secret, model: str | None = None, passphrase: str | None = None):
    """Hide the image ``secret`` (PIL) in ``cover`` (PIL); returns the stego image (PIL, cover's size); save it as PNG.
    ``model="codec"`` (the default, None) compresses it and embeds its bytes where the cover is busiest, keyed and
    encrypted by ``passphrase`` (a lossless channel only: a JPEG re-save destroys it). The neural models (stegnet,
    pixinpix, their ``.quiet`` versions) and lsbK fit the secret to the cover's size keeping its aspect ratio (black
    padding)."""
    from .api import hide_image as _hide

    return _hide(cover, secret, model=model, passphrase=passphrase)


def reveal_image(stego, model: str | None = None, size: tuple[int, int] | None = None, grey: bool | None = None,
                 passphrase: str | None = None):
    """The image hidden in ``stego`` (PIL). ``model="codec"`` (the default, None): the secret at its own size, read
    with the ``passphrase`` it was hidden with (RevealError when there is none). A neural model or lsbK: at the
    stego's size or at ``size`` = (w, h) (padding removed), grey when the hidden image was grey (``grey`` None:
    decided from the revealed channels)."""
    from .api import reveal_image as _reveal

    return _reveal(stego, model=model, size=size, grey=grey, passphrase=passphrase)


def attack_image(image, attacks: list[str], seed: int = 0):
    """Apply attacks given as specs (``"jpeg:75"``, ``"blur:1"``, ``"resize:0.5"``, ``"noise:2"``), in order,
    with the real JPEG codec; returns an 8-bit PIL image of the same size."""
    from .api import attack_image as _attack

    return _attack(image, attacks, seed=seed)


def analyze_image(image) -> dict:
    """Estimated LSB embedding rates of ``image`` (PIL) by four classical LSB detectors (veil.detectors)
    (primary_sets, chi_square, sample_pairs, rs) and their mean, ``fused``; all in [0, 1]."""
    from .api import analyze_image as _analyze

    return _analyze(image)


def load_model(name: str | None = None, task: str | None = None):
    """Load a released model by name (``arch`` or ``arch.tag``, any name :func:`list_models` gives), or the default
    model of ``task`` ("message", "qr", "image", "qrnet") when ``name`` is None."""
    from .registry import load_model as _load

    return _load(name, task)


def list_models() -> list[str]:
    """Names of the released models."""
    from .registry import list_models as _list

    return _list()


def disguise_train(disguise, secret, size: int = 256, color: bool = False, steps: int | None = None,
                   passphrase: str | None = None, progress: bool = False) -> bytes:
    """Seed 004's image disguise: train a generator that turns the ordinary image ``disguise`` (PIL) into
    ``secret`` (PIL); returns the key file's bytes (the generator; encrypted when ``passphrase`` is given).
    Keep the key like the secret itself: its weights carry the secret (docs/disguise.md)."""
    from .api import disguise_train as _train
    from .disguise import DisguiseConfig

    cfg = DisguiseConfig(size=size, color=color)
    if steps is not None:
        cfg.steps = steps
    return _train(disguise, secret, cfg, passphrase=passphrase, progress=progress)[0]


def disguise_reveal(disguise, key: bytes, passphrase: str | None = None, check: bool = True):
    """The secret (PIL, the key's size) that the generator in ``key`` makes of ``disguise`` (PIL). Raises a
    :class:`RevealError` when ``check`` and ``disguise`` is not the image the key was trained on."""
    from .api import disguise_reveal as _reveal

    return _reveal(disguise, key, passphrase=passphrase, check=check)


__all__ += ["disguise_train", "disguise_reveal"]


def read_qr_digits(images, model: str | None = None) -> list[str | None]:
    """The six digits of each version-1 QR code image (PIL; any size, quiet zone or not, any quarter turn), read
    by the neural QR reader (``qrnet``, or ``"qrnet.paper"``, seed 001's network), e.g. ``["012345", None, ...]``:
    None for an image that holds no six-digit code (a photo, noise, another kind of code)."""
    from .api import read_qr_digits as _read

    return _read(images, model=model)
