"""The ``KEY.veil`` file of image disguise (seed 004): generator weights and their metadata, optionally
encrypted with a passphrase. Torch-free: the weights travel as opaque safetensors bytes.

Layout (all integers little-endian)::

    b"VEILKEY\\0"  version (u8) = 1  flags (u8: bit 0 = encrypted)  header length (u32)  header (JSON)  body

    inner = meta length (u32) + meta (JSON) + safetensors bytes
    plain:     header = {"sha256": hex of inner}                     body = inner
    encrypted: header = {"kdf": {...salt...}, "cipher": "AES-256-GCM", "nonce": ...}
               body   = AES-256-GCM(inner), the 16 bytes before the header and the header as associated data

Encryption: the passphrase goes through Argon2id (RFC 9106's second recommended setting: 64 MiB, 3 passes,
4 lanes; about 0.5 s here) or scrypt (n 2^17, r 8, p 1) where the OpenSSL under ``cryptography`` lacks
Argon2; the derived 256-bit key seals the inner block with AES-GCM under a random 16-byte salt and 12-byte
nonce. The metadata (sizes, the disguise image's hash) is inside the sealed block, so an encrypted key shows
nothing but its own length. GCM's tag authenticates everything: a wrong passphrase and a modified byte are
the same error, since they cannot be told apart.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

MAGIC = b"VEILKEY\0"
VERSION = 1
_PRE = struct.Struct("<8sBBI")            # magic, version, flags, header length
_ENCRYPTED = 1
ARGON2 = {"name": "argon2id", "memory_cost": 65536, "iterations": 3, "lanes": 4}
SCRYPT = {"name": "scrypt", "n": 2**17, "r": 8, "p": 1}
_CORRUPT = "not a veil key file, or a damaged one"


@dataclass
class Key:
    meta: dict
    weights: bytes           # safetensors bytes of the generator's state_dict
    encrypted: bool = False


# ----------------------------------------------------------------------------- passphrases

def read_passphrase(path: str | os.PathLike) -> str:
    """The passphrase in a text file: the whole file less one trailing newline; empty is an error."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"no such passphrase file: {p}")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read passphrase file {p}: {e}") from None
    text = text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith("\n") else text
    if not text:
        raise InputError(f"the passphrase file {p} is empty")
    return text


def derive_key(passphrase: str, kdf: dict) -> bytes:
    """A 256-bit key from ``passphrase`` by ``kdf`` (its name, parameters and base64 salt), parameters bounded so
    that a forged header cannot exhaust memory."""
    salt = base64.b64decode(kdf["salt"])
    if kdf["name"] == "argon2id":
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

        if not (8 <= kdf["memory_cost"] <= 2**20 and 1 <= kdf["iterations"] <= 64 and 1 <= kdf["lanes"] <= 64):
            raise ValueError("argon2id parameters out of range")     # a forged header must not exhaust memory
        f = Argon2id(salt=salt, length=32, iterations=kdf["iterations"], lanes=kdf["lanes"],
                     memory_cost=kdf["memory_cost"])
    elif kdf["name"] == "scrypt":
        from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

        if not (2 <= kdf["n"] <= 2**20 and 1 <= kdf["r"] <= 8 and 1 <= kdf["p"] <= 16):   # 128 n r bytes: 1 GiB
            raise ValueError("scrypt parameters out of range")
        f = Scrypt(salt=salt, length=32, n=kdf["n"], r=kdf["r"], p=kdf["p"])
    else:
        raise ValueError(f"unknown key derivation {kdf['name']!r}")
    return f.derive(passphrase.encode("utf-8"))


def default_kdf() -> dict:
    """Argon2id when this OpenSSL has it, else scrypt."""
    from cryptography.exceptions import UnsupportedAlgorithm

    try:
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

        Argon2id(salt=b"\0" * 16, length=32, iterations=1, lanes=1, memory_cost=8).derive(b"probe")
        return dict(ARGON2)
    except (ImportError, UnsupportedAlgorithm):
        return dict(SCRYPT)


# ----------------------------------------------------------------------------- write

def pack_key(meta: dict, weights: bytes, passphrase: str | None = None) -> bytes:
    """The bytes of a key file holding ``meta`` (JSON-able) and ``weights``; sealed when a passphrase is given."""
    m = json.dumps(meta, sort_keys=True).encode()
    inner = struct.pack("<I", len(m)) + m + weights
    if passphrase is None:
        h = json.dumps({"sha256": hashlib.sha256(inner).hexdigest()}).encode()
        return _PRE.pack(MAGIC, VERSION, 0, len(h)) + h + inner
    if not passphrase:
        raise InputError("empty passphrase")
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    kdf = default_kdf() | {"salt": base64.b64encode(os.urandom(16)).decode()}
    nonce = os.urandom(12)
    h = json.dumps({"kdf": kdf, "cipher": "AES-256-GCM", "nonce": base64.b64encode(nonce).decode()},
                   sort_keys=True).encode()
    pre = _PRE.pack(MAGIC, VERSION, _ENCRYPTED, len(h)) + h
    return pre + AESGCM(derive_key(passphrase, kdf)).encrypt(nonce, inner, pre)


# ----------------------------------------------------------------------------- read

def is_encrypted(data: bytes) -> bool:
    return len(data) >= _PRE.size and data[:8] == MAGIC and bool(data[9] & _ENCRYPTED)


def unpack_key(data: bytes, passphrase: str | None = None) -> Key:
    """Parse (and decrypt) key file bytes. Every failure is an :class:`InputError` with one clear line."""
    if len(data) < _PRE.size or data[:8] != MAGIC:
        raise InputError(_CORRUPT)
    _, version, flags, hlen = _PRE.unpack_from(data)
    if version != VERSION:
        raise InputError(f"key file version {version} is not supported (this veil reads version {VERSION})")
    try:
        h = data[_PRE.size:_PRE.size + hlen]
        header = json.loads(h)
        body = data[_PRE.size + hlen:]
        if len(h) != hlen or not isinstance(header, dict):
            raise ValueError
    except ValueError:
        raise InputError(_CORRUPT + " (header)") from None
    encrypted = bool(flags & _ENCRYPTED)
    if encrypted:
        if passphrase is None:
            raise InputError("the key file is encrypted: give its passphrase (--passphrase-file)")
        from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            key = derive_key(passphrase, header["kdf"])
            inner = AESGCM(key).decrypt(base64.b64decode(header["nonce"]), body, data[:_PRE.size + hlen])
        except InvalidTag:
            raise InputError("wrong passphrase or corrupted key file") from None
        except UnsupportedAlgorithm as e:
            raise InputError(f"this key needs a key derivation the installed cryptography lacks: {e}") from None
        except (KeyError, TypeError, ValueError):
            raise InputError(_CORRUPT + " (encryption header)") from None
    else:
        if header.get("sha256") != hashlib.sha256(body).hexdigest():
            raise InputError(_CORRUPT + " (checksum mismatch: truncated or modified)")
        inner = body
    try:
        (mlen,) = struct.unpack_from("<I", inner)
        meta = json.loads(inner[4:4 + mlen])
        if not isinstance(meta, dict):
            raise ValueError
    except (struct.error, ValueError):
        raise InputError(_CORRUPT + " (metadata)") from None
    return Key(meta, bytes(inner[4 + mlen:]), encrypted)


def read_key(path: str | os.PathLike, passphrase: str | None = None) -> Key:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"no such key file: {p}")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read key file {p}: {e}") from None
    return unpack_key(data, passphrase)


# ----------------------------------------------------------------------------- the disguise image's identity

def pixel_digest(img) -> str:
    """sha256 of a PIL image's decoded 8-bit RGB pixels and its size (alpha ignored, as everywhere in veil).

    The decoded pixels, not the file's bytes: a PNG re-encoded with other compression settings, or a grey image
    saved as RGB, still matches; any changed pixel (a JPEG re-save, a resize, an edit) does not.
    """
    import numpy as np

    from ..imaging import split_alpha

    rgb, _ = split_alpha(img)
    a = np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
    h = hashlib.sha256(b"veil-disguise-pixels-v1\0")
    h.update(struct.pack("<II", a.shape[1], a.shape[0]))
    h.update(a.tobytes())
    return h.hexdigest()
