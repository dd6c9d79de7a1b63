"""HTTP library exceptions as :class:`TransportError` values that leak nothing.

An adapter wraps every error of its library (DESIGN §3) with :func:`wrap_error`
and raises the result ``from`` the original. Messages name the failure, the
method and the URL without its query (which can carry codes and tokens); the
library's own message is never copied.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator

from oauth2_core import HttpRequest
from oauth2_core._http import safe_url
from oauth2_transports._transport import TransportError

__all__ = ["ErrorKinds", "timed_out", "transport_error", "wrap_error"]

ErrorKinds = tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], str], ...]
"""``(exception types, failure kind)`` pairs, the first match wins."""


def transport_error(kind: str, request: HttpRequest) -> TransportError:
    """A :class:`TransportError` naming the failure and the URL, nothing else.

    Headers and body are left out: they carry credentials. The URL is shown
    without credentials, query or fragment (``?…`` marks a query left out).
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
