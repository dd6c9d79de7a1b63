"""The httpx integration (DESIGN.md §3): ``HttpxTransport`` and ``AsyncHttpxTransport``.

Both send an ``oauth2_core.HttpRequest`` verbatim through an ``httpx.Client``
(``httpx.AsyncClient``) and return every status as an ``HttpResponse``: no
redirects followed, no retries, the body capped while it streams, the client's
``auth`` and cookies kept out, library errors turned into ``TransportError``.
The code is shared with ``oauth2_transports.httpx2`` (``_httpx_common``).

The auth hook ``OAuth2Auth`` (in ``_httpx_auth``) is importable from here.
"""

from __future__ import annotations

from types import TracebackType

import httpx

from oauth2_transports._clock import Clock, utc_now
from oauth2_transports._httpx_auth import OAuth2Auth  # re-exported: the hook's public home
from oauth2_transports._httpx_common import AsyncAdapter, SyncAdapter, library
from oauth2_transports._settings import DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT

__all__ = ["AsyncHttpxTransport", "HttpxTransport", "OAuth2Auth"]

_HTTPX = library("httpx", httpx)


class HttpxTransport(SyncAdapter):
    """A :class:`~oauth2_transports.Transport` over an ``httpx.Client``.

    Safe to share between threads: an ``httpx.Client`` may be shared and the
    transport keeps no per-request state.

    Args:
        client: The client to send with; its transport (TLS, proxies, pool
            limits), default headers and params apply, its ``auth``, cookies
            and redirect setting do not. Default: a new client that ignores
            the environment, closed by :meth:`close`. Its connection pools
            get a network backend that lets the deadline cut their sockets.
        timeout: Seconds allowed for each of connect, read, write and pool
            (default ``DEFAULT_TIMEOUT``, 30 s).
        deadline: Seconds allowed for the whole exchange: connect, send,
            status line, headers and body. Default: ``timeout``.
        max_body_bytes: The largest decoded body accepted.
        clock: Stamps ``HttpResponse.received_at``; must return an aware datetime.

    Raises:
        UsageError: ``timeout``, ``deadline`` or ``max_body_bytes`` is out of range.
    """

    LIBRARY = _HTTPX

    def __init__(
        self,
        client: httpx.Client | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        deadline: float | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(
            client, timeout=timeout, deadline=deadline, max_body_bytes=max_body_bytes, clock=clock
        )

    def __enter__(self) -> HttpxTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncHttpxTransport(AsyncAdapter):
    """An :class:`~oauth2_transports.AsyncTransport` over an ``httpx.AsyncClient``.

    Same arguments and guarantees as :class:`HttpxTransport`; close it with
    :meth:`aclose` or ``async with``.
    """

    LIBRARY = _HTTPX

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        deadline: float | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(
            client, timeout=timeout, deadline=deadline, max_body_bytes=max_body_bytes, clock=clock
        )

    async def __aenter__(self) -> AsyncHttpxTransport:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
