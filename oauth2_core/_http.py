"""The IO boundary: request descriptions, responses and flow steps.

The core never performs IO. It describes what to send as an :class:`HttpRequest`
and interprets what came back as an :class:`HttpResponse`; a transport in
``oauth2_transports`` (or one an integrator writes) does the sending.
Multi-step protocols are generators of :class:`Send` values (see :data:`Flow`).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Generator, Iterable, Iterator, Mapping
from typing import TypeVar, Union, overload
from urllib.parse import urlsplit

import attrs

from oauth2_core.errors import UsageError

__all__ = [
    "Flow",
    "Headers",
    "HttpRequest",
    "HttpResponse",
    "Send",
    "TimedFlow",
    "Wait",
    "wait_flow",
]

T = TypeVar("T")

HeadersInput = Union[Mapping[str, str], Iterable[tuple[str, str]], "Headers"]


class Headers(Mapping[str, str]):
    """An immutable, case-insensitive view of HTTP header fields.

    Names are stored lower-cased. A field that arrived several times is kept as
    several entries: ``headers["www-authenticate"]`` joins them with ``", "``
    (RFC 9110 §5.3) and :meth:`get_all` returns them one by one.
    """

    __slots__ = ("_fields",)

    _fields: tuple[tuple[str, str], ...]

    def __init__(self, fields: HeadersInput = ()) -> None:
        if isinstance(fields, Headers):
            items: Iterable[tuple[str, str]] = fields._fields
        elif isinstance(fields, (dict, Mapping)):  # dict first: skips the slow ABC check
            items = fields.items()
        else:
            items = fields
        collected: list[tuple[str, str]] = []
        for item in items:
            name, value = item
            if not isinstance(name, str) or not isinstance(value, str):
                raise UsageError("header names and values must be str")
            collected.append((name.lower(), value))
        object.__setattr__(self, "_fields", tuple(collected))

    @classmethod
    def _trusted(cls, fields: Iterable[tuple[str, str]]) -> Headers:
        """Headers from pairs known to be lower-case ``str`` names and ``str`` values
        (built by the library, or by an HTTP library): no per-field checks."""
        headers = cls.__new__(cls)
        object.__setattr__(headers, "_fields", tuple(fields))
        return headers

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Headers is immutable")

    def _joined(self, name: str) -> str | None:
        key = name.lower()
        values: list[str] = []
        for n, v in self._fields:  # a plain loop: cheaper than a comprehension here
            if n == key:
                values.append(v)
        return ", ".join(values) if values else None

    def __getitem__(self, name: str) -> str:
        value = self._joined(name)
        if value is None:
            raise KeyError(name)
        return value

    @overload
    def get(self, name: str, /) -> str | None: ...
    @overload
    def get(self, name: str, /, default: str | T) -> str | T: ...
    def get(self, name: str, /, default: object = None) -> object:
        """The field's value (repeated fields joined with ``", "``), or ``default``."""
        # Mapping.get would go through a raised and caught KeyError for every absent
        # field; processors look up absent fields (retry-after) on every response.
        value = self._joined(name)
        return default if value is None else value

    def get_all(self, name: str) -> list[str]:
        """Every value of the field ``name``, in the order received."""
        key = name.lower()
        return [v for n, v in self._fields if n == key]

    def fields(self) -> tuple[tuple[str, str], ...]:
        """The raw ``(name, value)`` pairs, repeated fields included."""
        return self._fields

    def __iter__(self) -> Iterator[str]:
        seen: dict[str, None] = {}
        for n, _ in self._fields:
            seen.setdefault(n)
        return iter(seen)

    def __len__(self) -> int:
        return len({n for n, _ in self._fields})

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._fields == other._fields
        if isinstance(other, Mapping):
            return dict(self.items()) == {str(k).lower(): v for k, v in other.items()}
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._fields)

    def __repr__(self) -> str:
        # Values may carry credentials (Authorization, DPoP, Cookie): names only.
        return f"Headers(names={sorted(set(self))!r})"


def _to_headers(value: HeadersInput) -> Headers:
    return value if isinstance(value, Headers) else Headers(value)


def _to_body(value: bytes | bytearray | memoryview | str | None) -> bytes:
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise UsageError("body must be bytes")


def safe_url(url: str) -> str:
    """The URL without its query and fragment, for reprs and messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    tail = "?…" if parts.query else ""
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}{tail}"


@attrs.frozen(repr=False)
class HttpRequest:
    """An HTTP request for a transport to send verbatim.

    Args:
        method: The HTTP method, upper case.
        url: The absolute target URL.
        headers: Header fields; names are lower-cased.
        body: The exact bytes to send (empty for none).
    """

    method: str
    url: str
    headers: Headers = attrs.field(factory=Headers, converter=_to_headers)
    body: bytes = attrs.field(default=b"", converter=_to_body)

    def __repr__(self) -> str:
        return (
            f"HttpRequest(method={self.method!r}, url={safe_url(self.url)!r}, "
            f"headers={sorted(set(self.headers))!r}, body=<{len(self.body)} bytes>)"
        )


def _check_received_at(_inst: object, _attr: object, value: _dt.datetime) -> None:
    if not isinstance(value, _dt.datetime) or value.utcoffset() is None:
        raise UsageError("received_at must be a timezone-aware datetime (UTC)")


def _to_status(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError("status must be an int")
    return value


@attrs.frozen(repr=False)
class HttpResponse:
    """An HTTP response as received by a transport.

    Args:
        status: The status code.
        headers: Header fields (repeated fields are kept, see :class:`Headers`).
        body: The body bytes, already decoded from any content coding.
        received_at: When the response arrived, a timezone-aware UTC datetime
            stamped by the transport. It is how time enters the core:
            ``Token.expires_at = received_at + expires_in``.
    """

    status: int = attrs.field(converter=_to_status)
    headers: Headers = attrs.field(converter=_to_headers)
    body: bytes = attrs.field(converter=_to_body)
    received_at: _dt.datetime = attrs.field(validator=_check_received_at)

    @property
    def content_type(self) -> str:
        """The media type, lower-cased, without parameters ("" when absent)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def __repr__(self) -> str:
        return (
            f"HttpResponse(status={self.status}, content_type={self.content_type!r}, "
            f"body=<{len(self.body)} bytes>)"
        )


@attrs.frozen
class Send:
    """One step of a flow: send ``request`` (after waiting ``delay`` seconds).

    The driver answers with the :class:`HttpResponse`. ``delay`` is kept for
    flows written before :class:`Wait`; a request is built before its delay,
    so one carrying a time-bound credential (a client assertion, a DPoP proof)
    is dated too early: yield ``Wait(seconds)`` first and date the request with
    the time it answers instead. The core's own flows never set ``delay``.
    """

    request: HttpRequest
    delay: float = 0.0


def _check_seconds(_inst: object, _attr: object, value: object) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise UsageError("Wait.seconds must be a finite, non-negative number")


@attrs.frozen
class Wait:
    """One step of a flow: wait ``seconds``, then learn the time.

    The driver (``oauth2_transports.run`` / ``arun``, or one of your own)
    sleeps ``seconds`` and answers with its clock's reading, an aware UTC
    ``datetime``. This is how a flow that waits (a retry's backoff, a device
    poll's interval) dates the request it sends next: time still enters the
    core only as a value. ``Wait(0)`` asks for the time without waiting.
    """

    seconds: float = attrs.field(default=0.0, validator=_check_seconds)


Flow = Generator[Send, HttpResponse, T]
"""A multi-step protocol: yields :class:`Send`, receives :class:`HttpResponse`, returns ``T``."""

TimedFlow = Generator[Send | Wait, HttpResponse | _dt.datetime, T]
"""A flow that may also wait: yields :class:`Send` (answered with the
:class:`HttpResponse`) or :class:`Wait` (answered with the time, an aware UTC
``datetime``), returns ``T``. Every :data:`Flow` can run where one is expected
(``yield from`` a ``Flow`` inside a ``TimedFlow``); the drivers run both."""


def wait_flow(seconds: float = 0.0) -> Generator[Wait, _dt.datetime, _dt.datetime]:
    """Wait ``seconds`` and return the time the driver answers (a :class:`Wait` step).

    Use it with ``yield from`` inside a :data:`TimedFlow`:
    ``now = yield from wait_flow(interval)``.

    Raises:
        UsageError: a negative or non-finite ``seconds``, or a driver that
            answered something other than an aware ``datetime``.
    """
    now = yield Wait(seconds)
    if not isinstance(now, _dt.datetime) or now.utcoffset() is None:
        raise UsageError("a driver answers Wait with the time, an aware UTC datetime")
    return now
