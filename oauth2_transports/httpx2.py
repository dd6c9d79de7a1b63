"""The httpx2 integration: ``Httpx2Transport`` and ``AsyncHttpx2Transport``.

``httpx2`` (PyPI ``httpx2``, Pydantic's continuation of httpx, Python 3.11+)
is the HTTP client the ``mcp`` package 2.x sends with. Its API is httpx's
under another name, so these adapters are the httpx ones (``_httpx_common``)
pointed at it, with every guarantee of DESIGN.md §3: the request sent
verbatim, no redirects followed, no retries, every status returned, the
decoded body capped, one deadline for the whole exchange, the client's
``auth`` and cookies kept out, library errors turned into ``TransportError``.

The auth hook ``OAuth2Auth`` (``OAuth2Auth(manager)`` and
``OAuth2Auth.for_resource(...)``, in ``_httpx2_auth``) is importable from here.

Install with the ``oauth2-core[httpx2]`` extra.
"""

from __future__ import annotations

from types import TracebackType

import httpx2

from oauth2_transports._clock import Clock, utc_now
from oauth2_transports._httpx2_auth import OAuth2Auth  # re-exported: the hook's public home
from oauth2_transports._httpx_common import AsyncAdapter, SyncAdapter, library
from oauth2_transports._settings import DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT

__all__ = ["AsyncHttpx2Transport", "Httpx2Transport", "OAuth2Auth"]

_HTTPX2 = library("httpx2", httpx2)


class Httpx2Transport(SyncAdapter):
    """A :class:`~oauth2_transports.Transport` over an ``httpx2.Client``.

    Safe to share between threads, like the client.

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

    LIBRARY = _HTTPX2

    def __init__(
        self,
        client: httpx2.Client | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        deadline: float | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(
            client, timeout=timeout, deadline=deadline, max_body_bytes=max_body_bytes, clock=clock
        )

    def __enter__(self) -> Httpx2Transport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncHttpx2Transport(AsyncAdapter):
    """An :class:`~oauth2_transports.AsyncTransport` over an ``httpx2.AsyncClient``.

    Same arguments and guarantees as :class:`Httpx2Transport`; close it with
    :meth:`aclose` or ``async with``.
    """

    LIBRARY = _HTTPX2

    def __init__(
        self,
        client: httpx2.AsyncClient | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        deadline: float | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(
            client, timeout=timeout, deadline=deadline, max_body_bytes=max_body_bytes, clock=clock
        )

    async def __aenter__(self) -> AsyncHttpx2Transport:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
