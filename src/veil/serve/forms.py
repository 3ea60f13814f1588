"""Request bodies for the service, in memory only: a size-limited read of the body as it streams in, and a small
multipart/form-data parser (nothing a client sends is ever written to disk, unlike a spooling form parser)."""
from __future__ import annotations

from dataclasses import dataclass
from email.message import Message


class BodyTooLarge(Exception):
    """The body is over the upload limit (HTTP 413)."""


class BadForm(Exception):
    """The body is not the multipart form the route takes (HTTP 400)."""


@dataclass
class Part:
    name: str
    data: bytes
    filename: str | None = None
    content_type: str | None = None


async def read_limited(chunks, limit: int, declared: str | None = None) -> bytes:
    """The body from the async iterator ``chunks``, refused with BodyTooLarge as soon as it passes ``limit`` bytes
    (before it is read at all when its declared Content-Length already does)."""
    if declared is not None:
        try:
            if int(declared) > limit:
                raise BodyTooLarge(f"the upload is {int(declared) / 1e6:.1f} MB; the limit is {limit / 1e6:g} MB")
        except ValueError:
            raise BadForm("bad Content-Length") from None
    buf = bytearray()
    async for chunk in chunks:
        buf += chunk
        if len(buf) > limit:
            raise BodyTooLarge(f"the upload is over the limit of {limit / 1e6:g} MB")
    return bytes(buf)


def _params(value: str, header: str) -> Message:
    m = Message()
    m[header] = value
    return m


def parse_multipart(body: bytes, content_type: str | None) -> dict[str, Part]:
    """{field name: Part} of a multipart/form-data ``body``. BadForm when it is not one, or a field repeats."""
    ct = _params(content_type or "", "content-type")
    boundary = ct.get_param("boundary", header="content-type")
    if ct.get_content_type() != "multipart/form-data" or not boundary:
        raise BadForm("send the fields as multipart/form-data")
    delim = b"\r\n--" + str(boundary).encode("latin-1")    # a part's data ends at CRLF + the delimiter
    pieces = (b"\r\n" + body).split(delim)
    if len(pieces) < 3 or pieces[0] or not pieces[-1].startswith(b"--"):
        raise BadForm("the multipart body is incomplete")
    out: dict[str, Part] = {}
    for piece in pieces[1:-1]:
        if not piece.startswith(b"\r\n"):
            raise BadForm("the multipart body is malformed")
        head, sep, data = piece[2:].partition(b"\r\n\r\n")
        if not sep:
            raise BadForm("a multipart part has no header")
        headers = {}
        for line in head.decode("latin-1").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disp = _params(headers.get("content-disposition", ""), "content-disposition")
        name = disp.get_param("name", header="content-disposition")
        kind = (disp.get_params(header="content-disposition") or [("", "")])[0][0].lower()
        if kind != "form-data" or not name:
            raise BadForm("a multipart part is not a named form field")
        name = str(name)
        if name in out:
            raise BadForm(f"the field {name!r} is given twice")
        filename = disp.get_param("filename", header="content-disposition")
        out[name] = Part(name, data, str(filename) if filename is not None else None, headers.get("content-type"))
    return out
