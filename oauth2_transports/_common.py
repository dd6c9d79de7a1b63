"""What the transport adapters share: the clock, settings and error messages.

Keeping these here keeps each adapter (DESIGN.md §3) a thin, boring mapping
from one HTTP library onto ``send(HttpRequest) -> HttpResponse``.
"""

from __future__ import annotations

import datetime as _dt
import ssl
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from oauth2_core import Headers, HttpRequest, UsageError
from oauth2_transports._transport import TransportError

if TYPE_CHECKING:
    # http.cookiejar pulls in urllib.request and email (~13 ms); only the httpx
    # adapter needs a jar, so refusing_cookie_jar imports it when called.
    from http.cookiejar import CookieJar

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_TIMEOUT",
    "Clock",
    "ErrorKinds",
    "check_settings",
    "joined_headers",
    "refusing_cookie_jar",
    "safe_url",
    "stamp",
    "timed_out",
    "transport_error",
    "utc_now",
    "wrap_error",
]

Clock = Callable[[], _dt.datetime]
"""Returns the current time as a timezone-aware datetime."""

#: Seconds allowed to connect, and between two reads of the response; also the
#: default overall deadline of one request (connect to last body byte).
DEFAULT_TIMEOUT = 30.0
#: The body cap: golang.org/x/oauth2 reads at most 1 MiB of a token response.
DEFAULT_MAX_BODY_BYTES = 1_048_576

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


def timed_out(request: HttpRequest, deadline: float) -> TransportError:
    """The error for a request that outlived its overall deadline."""
    return TransportError(
        f"timed out: {request.method} {safe_url(request.url)} "
        f"(the {deadline:g} s deadline for the whole exchange passed)"
    )


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


def wrap_error(
    exc: BaseException, request: HttpRequest, kinds: ErrorKinds, *, deadline: float | None = None
) -> TransportError:
    """Turn an HTTP library's exception into a :class:`TransportError`.

    The library's message is not copied: it may contain the query string.
    Raise the result ``from exc`` so the original stays available as ``__cause__``.
    ``deadline`` is given when the request's overall deadline passed: whatever
    broke then (a cut socket) is reported as :func:`timed_out`.
    """
    kind = next((name for types, name in kinds if isinstance(exc, types)), "request failed")
    if deadline is not None and kind != "timed out":
        return timed_out(request, deadline)
    if kind != "timed out" and any(isinstance(e, ssl.SSLError) for e in _chain(exc)):
        kind = "TLS failure"
    return transport_error(f"{kind} ({type(exc).__name__})", request)


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
