"""What the transport adapters share: the clock, the body cap and error messages.

Keeping these here keeps each adapter (DESIGN.md §3) a thin, boring mapping
from one HTTP library onto ``send(HttpRequest) -> HttpResponse``.
"""

from __future__ import annotations

import datetime as _dt
import ssl
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from oauth2_core import Headers, HttpRequest, UsageError
from oauth2_transports._transport import TransportError

if TYPE_CHECKING:
    # http.cookiejar pulls in urllib.request and email (~13 ms); only the httpx
    # adapter needs a jar, so refusing_cookie_jar imports it when called.
    from http.cookiejar import CookieJar

__all__ = [
    "ACCEPT_ENCODING",
    "CHUNK_SIZE",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_TIMEOUT",
    "Clock",
    "ErrorKinds",
    "Inflater",
    "aread_body",
    "aread_capped",
    "body_too_large",
    "check_settings",
    "joined_headers",
    "read_body",
    "read_capped",
    "refusing_cookie_jar",
    "safe_url",
    "stamp",
    "transport_error",
    "utc_now",
    "wrap_error",
]

Clock = Callable[[], _dt.datetime]
"""Returns the current time as a timezone-aware datetime."""

#: Seconds allowed to connect, and between two reads of the response.
DEFAULT_TIMEOUT = 30.0
#: The body cap: golang.org/x/oauth2 reads at most 1 MiB of a token response.
DEFAULT_MAX_BODY_BYTES = 1_048_576
#: How much body is asked of the HTTP library, or of zlib, at a time.
CHUNK_SIZE = 65_536
#: The content codings :class:`Inflater` decodes, for the clients we create.
ACCEPT_ENCODING = "gzip, deflate"

ErrorKinds = tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], str], ...]
"""``(exception types, failure kind)`` pairs, the first match wins."""


def utc_now() -> _dt.datetime:
    """The current time as an aware UTC datetime: the adapters' default clock."""
    return _dt.datetime.now(_dt.timezone.utc)


def stamp(clock: Clock) -> _dt.datetime:
    """Read ``clock`` for ``HttpResponse.received_at``, as an aware UTC datetime.

    Raises:
        UsageError: The clock returned something other than an aware datetime.
    """
    now = clock()
    if not isinstance(now, _dt.datetime) or now.utcoffset() is None:
        raise UsageError("the transport clock must return a timezone-aware datetime")
    return now.astimezone(_dt.timezone.utc)


def check_settings(timeout: float, max_body_bytes: int) -> None:
    """Reject settings no transport can honour.

    Raises:
        UsageError: ``timeout`` is not positive or ``max_body_bytes`` is negative.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise UsageError("timeout must be a positive number of seconds")
    if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int):
        raise UsageError("max_body_bytes must be an int")
    if max_body_bytes < 0:
        raise UsageError("max_body_bytes must not be negative")


def safe_url(url: str) -> str:
    """``scheme://host/path`` of ``url``: no credentials, query or fragment.

    Queries can carry codes and tokens, so messages show the URL this way only.
    """
    try:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
    except ValueError:
        return "<unparseable url>"
    return f"{parts.scheme}://{host}{parts.path}"


def transport_error(kind: str, request: HttpRequest) -> TransportError:
    """A :class:`TransportError` naming the failure and the URL, nothing else.

    Headers and body are left out: they carry credentials.
    """
    return TransportError(f"{kind}: {request.method} {safe_url(request.url)}")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.append(current.__cause__ or current.__context__)
        # requests wraps urllib3's exceptions as an argument, not (only) as a cause.
        todo.extend(arg for arg in current.args if isinstance(arg, BaseException))


def wrap_error(exc: BaseException, request: HttpRequest, kinds: ErrorKinds) -> TransportError:
    """Turn an HTTP library's exception into a :class:`TransportError`.

    The library's message is not copied: it may contain the query string.
    Raise the result ``from exc`` so the original stays available as ``__cause__``.
    """
    kind = next((name for types, name in kinds if isinstance(exc, types)), "request failed")
    if kind != "timed out" and any(isinstance(e, ssl.SSLError) for e in _chain(exc)):
        kind = "TLS failure"
    return transport_error(f"{kind} ({type(exc).__name__})", request)


def body_too_large(request: HttpRequest, max_body_bytes: int) -> TransportError:
    """The error for a response body over the cap."""
    return transport_error(f"response body exceeds {max_body_bytes} bytes", request)


def read_capped(chunks: Iterable[bytes], request: HttpRequest, max_body_bytes: int) -> bytes:
    """Join decoded body chunks, stopping as soon as they pass ``max_body_bytes``.

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
    request: HttpRequest,
    max_body_bytes: int,
    coding: str | None,
    raw: Iterable[bytes],
    decoded: Iterable[bytes],
) -> bytes:
    """Read a response body, decoded and capped, from one of two lazy iterators.

    Args:
        request: The request answered (for error messages).
        max_body_bytes: The cap on the decoded body.
        coding: The response's ``Content-Encoding``.
        raw: The body as received. Used, and inflated here in bounded pieces,
            for no coding, gzip and deflate.
        decoded: The body as the HTTP library decodes it. Used for other
            codings (``br``, ``zstd``, stacked codings).

    Raises:
        TransportError: The body exceeds the cap.
        zlib.error: The body is not valid gzip / deflate.
    """
    chunks = Inflater(coding).inflate(raw) if Inflater.handles(coding) else decoded
    return read_capped(chunks, request, max_body_bytes)


async def aread_body(
    request: HttpRequest,
    max_body_bytes: int,
    coding: str | None,
    raw: AsyncIterable[bytes],
    decoded: AsyncIterable[bytes],
) -> bytes:
    """The asyncio twin of :func:`read_body`."""
    chunks = Inflater(coding).ainflate(raw) if Inflater.handles(coding) else decoded
    return await aread_capped(chunks, request, max_body_bytes)


def joined_headers(headers: Headers) -> dict[str, str]:
    """One value per name, repeated fields joined with ``", "`` (RFC 9110 §5.3).

    For libraries that only take a mapping (requests).
    """
    return {name: headers[name] for name in headers}


def refusing_cookie_jar() -> CookieJar:
    """A cookie jar that stores nothing.

    OAuth requests must go out exactly as the core built them; a cookie set by
    one response must not ride along on the next request.
    """
    from http.cookiejar import CookieJar, DefaultCookiePolicy

    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


class Inflater:
    """Decodes a gzip or deflate body (RFC 9110 §8.4.1) in pieces of at most CHUNK_SIZE.

    HTTP libraries may inflate a whole network read at once: 64 KiB of
    gzip can become 64 MiB before a cap is checked. Fed through this, the cap
    stops a decompression bomb after at most one piece too many.

    Args:
        coding: The ``Content-Encoding`` value; see :meth:`handles`.
    """

    def __init__(self, coding: str | None) -> None:
        coding = (coding or "").strip().lower()
        self._sniff = coding == "deflate"
        self._zlib = None
        if coding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS)

    @staticmethod
    def handles(coding: str | None) -> bool:
        """Whether ``coding`` is one this class decodes (none, gzip or deflate).

        Others (``br``, ``zstd``, stacked codings) are left to the HTTP library.
        """
        return (coding or "").strip().lower() in ("", "identity", "gzip", "x-gzip", "deflate")

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decoded pieces of ``data``, each at most :data:`CHUNK_SIZE` bytes.

        Raises:
            zlib.error: The body is not valid gzip / deflate.
        """
        if self._zlib is None:
            yield data
            return
        if self._sniff and data:
            self._sniff = False
            # "deflate" should be zlib-wrapped (RFC 1950), but some servers send raw
            # deflate. A zlib stream starts with CM=8, CINFO<=7.
            if not (data[0] & 0x0F == 8 and data[0] >> 4 <= 7):
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
        while data:
            piece = self._zlib.decompress(data, CHUNK_SIZE)
            yield piece
            if not piece and self._zlib.unconsumed_tail == data:
                break  # no progress: nothing more will come of this input
            data = self._zlib.unconsumed_tail

    def flush(self) -> bytes:
        """What zlib still holds once the body has been fed."""
        return b"" if self._zlib is None else self._zlib.flush()

    def inflate(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Decode a body given as raw chunks."""
        for chunk in chunks:
            yield from self.feed(chunk)
        yield self.flush()

    async def ainflate(self, chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        """Decode a body given as raw chunks, asynchronously."""
        async for chunk in chunks:
            for piece in self.feed(chunk):
                yield piece
        yield self.flush()
