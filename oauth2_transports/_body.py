"""Reading a response body: content codings decoded here, every layer capped.

RFC 9110 §8.4: ``Content-Encoding`` lists the codings in the order they were
applied, so they are removed last-first. HTTP libraries decode a whole network
read (or a whole stacked coding) at once: 2 KB of ``gzip, gzip`` became 3 GiB
before any cap was checked. So every adapter asks its library for the raw
bytes only and decodes them here, one bounded layer per coding, with the cap
checked on the output of every layer. A coding that cannot be bounded this way
(``br``, ``zstd``, anything unknown) is refused with a :class:`TransportError`,
never handed to the library.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator

from oauth2_core import HttpRequest
from oauth2_transports._failures import transport_error
from oauth2_transports._transport import TransportError

__all__ = [
    "ACCEPT_ENCODING",
    "CHUNK_SIZE",
    "MAX_CODINGS",
    "Inflater",
    "aread_body",
    "aread_capped",
    "body_too_large",
    "content_codings",
    "layer_limit",
    "read_body",
    "read_capped",
]

#: How much body is asked of the HTTP library, or of zlib, at a time.
CHUNK_SIZE = 65_536
#: The content codings :class:`Inflater` decodes, for the clients we create.
ACCEPT_ENCODING = "gzip, deflate"
#: The most codings one response may stack (each costs a pass over the body).
MAX_CODINGS = 3

_DECODABLE = frozenset({"gzip", "x-gzip", "deflate"})


def body_too_large(request: HttpRequest, max_body_bytes: int) -> TransportError:
    """The error for a response body over the cap."""
    return transport_error(f"response body exceeds {max_body_bytes} bytes", request)


def content_codings(value: str | None, request: HttpRequest) -> tuple[str, ...]:
    """The codings of a ``Content-Encoding`` value, in the order they were applied.

    ``identity`` and empty members are dropped (RFC 9110 §8.4.1).

    Raises:
        TransportError: A coding is not one :class:`Inflater` decodes (``br``,
            ``zstd``, unknown), or more than :data:`MAX_CODINGS` are stacked.
    """
    if not value:
        return ()
    codings = tuple(
        c for c in (part.strip().lower() for part in value.split(",")) if c and c != "identity"
    )
    for coding in codings:
        if coding not in _DECODABLE:
            shown = "".join(ch for ch in coding[:24] if ch.isalnum() or ch in "-_.")
            raise transport_error(f"unsupported content coding {shown!r}", request)
    if len(codings) > MAX_CODINGS:
        raise transport_error(f"more than {MAX_CODINGS} stacked content codings", request)
    return codings


def layer_limit(max_body_bytes: int, codings_left: int) -> int:
    """The most output a decoding layer may give, ``codings_left`` codings before the body.

    A body of ``n`` bytes, deflated once more, is at most zlib's
    ``compressBound(n)`` plus a gzip header and trailer; an intermediate layer
    larger than that cannot belong to a body within the cap.
    """
    limit = max_body_bytes
    for _ in range(codings_left):
        limit += (limit >> 12) + (limit >> 14) + (limit >> 25) + 64
    return limit


class Inflater:
    """Decodes one gzip or deflate layer (RFC 9110 §8.4.1) in pieces of at most CHUNK_SIZE.

    Args:
        coding: ``gzip``, ``x-gzip`` or ``deflate`` (zlib-wrapped per RFC 1950,
            or raw as some servers send it).
    """

    def __init__(self, coding: str) -> None:
        self._sniff = coding == "deflate"
        wbits = zlib.MAX_WBITS if self._sniff else 16 + zlib.MAX_WBITS
        self._zlib = zlib.decompressobj(wbits)

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decoded pieces of ``data``, each at most :data:`CHUNK_SIZE` bytes.

        Raises:
            zlib.error: The body is not valid gzip / deflate.
        """
        if self._sniff and data:
            self._sniff = False
            # "deflate" should be zlib-wrapped (RFC 1950), but some servers send raw
            # deflate. A zlib stream starts with CM=8, CINFO<=7.
            if not (data[0] & 0x0F == 8 and data[0] >> 4 <= 7):
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
        while True:
            piece = self._zlib.decompress(data, CHUNK_SIZE)
            if piece:
                yield piece
            tail = self._zlib.unconsumed_tail
            # A full piece may leave output pending in zlib even with no input left.
            if (not tail and len(piece) < CHUNK_SIZE) or (not piece and tail == data):
                return
            data = tail

    def inflate(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Decode a layer given as chunks."""
        for chunk in chunks:
            yield from self.feed(chunk)
        # Everything was fed with max_length and drained: flush holds at most a few bytes.
        yield self._zlib.flush()

    async def ainflate(self, chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        """Decode a layer given as chunks, asynchronously."""
        async for chunk in chunks:
            for piece in self.feed(chunk):
                yield piece
        yield self._zlib.flush()


def _capped(chunks: Iterable[bytes], limit: int, request: HttpRequest) -> Iterator[bytes]:
    seen = 0
    for chunk in chunks:
        seen += len(chunk)
        if seen > limit:
            raise body_too_large(request, limit)
        yield chunk


async def _acapped(
    chunks: AsyncIterable[bytes], limit: int, request: HttpRequest
) -> AsyncIterator[bytes]:
    seen = 0
    async for chunk in chunks:
        seen += len(chunk)
        if seen > limit:
            raise body_too_large(request, limit)
        yield chunk


def read_capped(chunks: Iterable[bytes], request: HttpRequest, max_body_bytes: int) -> bytes:
    """Join body chunks, stopping as soon as they pass ``max_body_bytes``.

    Raises:
        TransportError: The body is larger than the cap. The caller must then
            close the response: unread bytes are left on the connection.
    """
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > max_body_bytes:
            raise body_too_large(request, max_body_bytes)
    return bytes(body)


async def aread_capped(
    chunks: AsyncIterable[bytes], request: HttpRequest, max_body_bytes: int
) -> bytes:
    """The asyncio twin of :func:`read_capped`."""
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > max_body_bytes:
            raise body_too_large(request, max_body_bytes)
    return bytes(body)


def read_body(
    request: HttpRequest, max_body_bytes: int, coding: str | None, raw: Iterable[bytes]
) -> bytes:
    """Read a response body from its raw (undecoded) bytes: decoded here, capped.

    Args:
        request: The request answered (for error messages).
        max_body_bytes: The cap on the decoded body.
        coding: The response's ``Content-Encoding`` (repeated fields joined by ``,``).
        raw: The body as received, before any content decoding.

    Raises:
        TransportError: A coding is refused, or a layer or the body exceeds its cap.
        zlib.error: The body is not valid gzip / deflate.
    """
    codings = content_codings(coding, request)
    chunks = raw
    for depth, name in enumerate(reversed(codings)):  # the last applied is removed first
        limit = layer_limit(max_body_bytes, len(codings) - 1 - depth)
        chunks = _capped(Inflater(name).inflate(chunks), limit, request)
    return read_capped(chunks, request, max_body_bytes)


async def aread_body(
    request: HttpRequest, max_body_bytes: int, coding: str | None, raw: AsyncIterable[bytes]
) -> bytes:
    """The asyncio twin of :func:`read_body`."""
    codings = content_codings(coding, request)
    chunks = raw
    for depth, name in enumerate(reversed(codings)):
        limit = layer_limit(max_body_bytes, len(codings) - 1 - depth)
        chunks = _acapped(Inflater(name).ainflate(chunks), limit, request)
    return await aread_capped(chunks, request, max_body_bytes)
