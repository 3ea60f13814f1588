"""Stealth text: a message hidden for users who care more that nobody can tell a message is there than about
re-compression. The message goes into a sealed frame (veil.payloads.sealed: CRC-32, and AES-256-GCM under the
passphrase when one is given) embedded by the codec route's engine (veil.codec.embed_bytes): syndrome-trellis
coded +-1 changes at HILL costs, in an order keyed by the passphrase. A 16-character text changes about 45 samples
of a 256 px photo, all in its texture. Lossless channel only: a JPEG re-save destroys it, and it then reads
as "no message", never as another one.
"""
from __future__ import annotations

import numpy as np

from .codec import embed_bytes, extract_bytes
from .errors import RevealError
from .payloads import sealed
from .payloads.message import Decoded

KINDS = {"text": 2, "bytes": 3}


def hide_array(a: np.ndarray, message: str | bytes, passphrase: str | None = None) -> np.ndarray:
    """uint8 HxWx3 cover -> uint8 stego carrying ``message`` (str: UTF-8 text; bytes: as given)."""
    kind = "text" if isinstance(message, str) else "bytes"
    body = message.encode("utf-8") if kind == "text" else bytes(message)
    return embed_bytes(a, sealed.pack(body, KINDS[kind], passphrase=passphrase), passphrase)


def reveal_array(a: np.ndarray, passphrase: str | None = None) -> Decoded | None:
    """The message :func:`hide_array` put in ``a`` (uint8 HxWx3), or None: none there, another passphrase, or a
    damaged one."""
    try:
        body, kind, _, _ = sealed.unpack(extract_bytes(a, passphrase), passphrase)
    except (RevealError, sealed.FrameError):
        return None
    if kind == KINDS["text"]:
        try:
            return Decoded(body.decode("utf-8"), "text", "stealth", 0, 1.0)
        except UnicodeDecodeError:
            return None
    if kind == KINDS["bytes"]:
        return Decoded(body, "bytes", "stealth", 0, 1.0)
    return None
