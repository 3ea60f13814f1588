"""A frame for bytes carried in an image: magic, version, a kind byte (what the bytes are), flags, a 16-bit pair of
numbers the kind gives meaning to (the codec route: the secret's original width and height), the body's length and
its CRC-32; the body optionally sealed with AES-256-GCM under a key derived from a passphrase (Argon2id, or scrypt
where OpenSSL lacks it; veil.payloads.keyfile), the frame header as associated data. A wrong passphrase, a damaged
body or bytes that are no frame at all are each a :class:`FrameError`; nothing partial is ever returned.
"""
from __future__ import annotations

import base64
import os
import struct
import zlib

MAGIC = b"VF"
VERSION = 1
HEADER = struct.Struct("<2sBBBHHII")     # magic, version, kind, flags, a, b, body length, CRC-32 of the body
SEALED = 1                              # flags: the body is encrypted
SCRYPT_KDF = 2                          # flags: its key came from scrypt (else Argon2id)
SALT, NONCE, TAG = 16, 12, 16
SEAL_OVERHEAD = SALT + NONCE + TAG      # bytes sealing adds to a body


class FrameError(ValueError):
    """Not a frame, a damaged one, or a wrong passphrase."""


def pack(body: bytes, kind: int, a: int = 0, b: int = 0, passphrase: str | None = None) -> bytes:
    """``body`` framed (and sealed when ``passphrase`` is given)."""
    from .keyfile import default_kdf, derive_key

    flags = 0
    if passphrase is not None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        kdf = default_kdf()
        flags = SEALED | (SCRYPT_KDF if kdf["name"] == "scrypt" else 0)
        salt, nonce = os.urandom(SALT), os.urandom(NONCE)
        kdf["salt"] = base64.b64encode(salt).decode()
        head = HEADER.pack(MAGIC, VERSION, kind, flags, a, b, len(body) + SEAL_OVERHEAD, 0)
        body = salt + nonce + AESGCM(derive_key(passphrase, kdf)).encrypt(nonce, body, head[:-4])
    head = HEADER.pack(MAGIC, VERSION, kind, flags, a, b, len(body), zlib.crc32(body))
    return head + body


def header(data: bytes) -> tuple[int, int, int, int, int]:
    """(kind, flags, a, b, total frame length) of the frame at the start of ``data``; FrameError if it is none."""
    if len(data) < HEADER.size:
        raise FrameError("too short for a frame")
    magic, version, kind, flags, a, b, n, _ = HEADER.unpack_from(data)
    if magic != MAGIC or version != VERSION or flags & ~(SEALED | SCRYPT_KDF):
        raise FrameError("no frame")
    return kind, flags, a, b, HEADER.size + n


def unpack(data: bytes, passphrase: str | None = None) -> tuple[bytes, int, int, int]:
    """(body, kind, a, b) of a frame: its CRC checked, opened with ``passphrase`` when it is sealed."""
    from .keyfile import ARGON2, SCRYPT, derive_key

    kind, flags, a, b, total = header(data)
    if len(data) < total:
        raise FrameError("the frame is cut short")
    body = data[HEADER.size:total]
    if zlib.crc32(body) != HEADER.unpack_from(data)[-1]:
        raise FrameError("the frame is damaged (CRC)")
    if not flags & SEALED:
        return body, kind, a, b
    if passphrase is None:
        raise FrameError("the payload is sealed: a passphrase is needed")
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    kdf = dict(SCRYPT if flags & SCRYPT_KDF else ARGON2, salt=base64.b64encode(body[:SALT]).decode())
    head = HEADER.pack(MAGIC, VERSION, kind, flags, a, b, len(body), 0)[:-4]
    try:
        plain = AESGCM(derive_key(passphrase, kdf)).decrypt(body[SALT:SALT + NONCE], body[SALT + NONCE:], head)
    except InvalidTag:
        raise FrameError("wrong passphrase, or a damaged payload") from None
    return plain, kind, a, b
