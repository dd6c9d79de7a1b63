"""The httpx integration (DESIGN.md §3): ``HttpxTransport`` and ``AsyncHttpxTransport``.

Both send an ``oauth2_core.HttpRequest`` verbatim through an ``httpx.Client``
(``httpx.AsyncClient``) and return every status as an ``HttpResponse``: no
redirects followed, no retries, the body capped while it streams, the client's
``auth`` and cookies kept out, library errors turned into ``TransportError``.

The auth hook ``OAuth2Auth`` (in ``_httpx_auth``) is importable from here.
"""

from __future__ import annotations

import zlib
from datetime import datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType

import anyio
import httpx

from oauth2_core import Headers, HttpRequest, HttpResponse, UsageError
from oauth2_transports._body import ACCEPT_ENCODING, CHUNK_SIZE, aread_body, read_body
from oauth2_transports._clock import Clock, stamp, utc_now
from oauth2_transports._deadline import check_deadline, watch
from oauth2_transports._failures import ErrorKinds, timed_out, wrap_error
from oauth2_transports._httpx_auth import OAuth2Auth  # re-exported: the hook's public home
from oauth2_transports._httpx_deadline import arm_client
from oauth2_transports._settings import DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT, check_settings

__all__ = ["AsyncHttpxTransport", "HttpxTransport", "OAuth2Auth"]

_KINDS: ErrorKinds = (
    (httpx.TimeoutException, "timed out"),
    (httpx.ConnectError, "connection failed"),
    (httpx.ProxyError, "proxy failure"),
    ((httpx.DecodingError, zlib.error), "undecodable body"),
    (httpx.ProtocolError, "protocol error"),
    ((httpx.InvalidURL, httpx.UnsupportedProtocol), "invalid URL"),
    (OSError, "connection failed"),
)
_ERRORS = (httpx.HTTPError, httpx.InvalidURL, OSError, zlib.error)

# The base Auth sends the request unchanged. Passing it keeps out the client's
# ``auth`` and the Basic credentials httpx would derive from a URL's userinfo.
_AS_GIVEN = httpx.Auth()


def _refusing_cookie_jar() -> CookieJar:
    """A cookie jar that stores nothing.

    OAuth requests must go out exactly as the core built them; a cookie set by
    one response must not ride along on the next request. (httpx imports
    ``http.cookiejar`` itself, so importing it here costs nothing.)
    """
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def _outgoing(
    client: httpx.Client | httpx.AsyncClient, request: HttpRequest, timeout: httpx.Timeout
) -> httpx.Request:
    outgoing = client.build_request(
        request.method,
        request.url,
        headers=list(request.headers.fields()),
        content=request.body or None,
        timeout=timeout,
    )
    if "cookie" not in request.headers:
        outgoing.headers.pop("cookie", None)  # from the client's jar
    return outgoing


def _response(response: httpx.Response, body: bytes, received_at: datetime) -> HttpResponse:
    return HttpResponse(
        status=response.status_code,
        headers=Headers(response.headers.multi_items()),
        body=body,
        received_at=received_at,
    )


class HttpxTransport:
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

    def __init__(
        self,
        client: httpx.Client | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        deadline: float | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        clock: Clock = utc_now,
    ) -> None:
        check_settings(timeout, max_body_bytes)
        self._deadline = check_deadline(deadline, timeout)
        self._owns_client = client is None
        if client is None:
            # Embeddable: no environment variables read, no cookies stored.
            client = httpx.Client(trust_env=False, cookies=_refusing_cookie_jar())
            del client.headers["accept"]  # not needed by httpx; the core sets its own
            client.headers["accept-encoding"] = ACCEPT_ENCODING  # what Inflater decodes
        arm_client(client)
        self._client = client
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, self._deadline))
        self._max_body_bytes = max_body_bytes
        self._clock = clock
        self._closed = False

    @property
    def deadline(self) -> float:
        """Seconds one :meth:`send` may take in all, connect to last body byte."""
        return self._deadline

    def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request`` as it is and return the response, whatever its status.

        Raises:
            TransportError: The exchange failed, outlived the deadline, or the
                body exceeds the cap or has a content coding that is refused.
        """
        if self._closed or self._client.is_closed:
            raise UsageError("this transport (or the httpx client it sends with) is closed")
        with watch(self._deadline) as alarm:
            try:
                outgoing = _outgoing(self._client, request, self._timeout)
                response = self._client.send(
                    outgoing, stream=True, follow_redirects=False, auth=_AS_GIVEN
                )
                try:
                    received_at = stamp(self._clock)
                    coding = response.headers.get("content-encoding")
                    body = read_body(
                        request, self._max_body_bytes, coding, response.iter_raw(CHUNK_SIZE)
                    )
                    if alarm.expired:  # a cut socket can look like the end of the body
                        raise timed_out(request, self._deadline) from TimeoutError(
                            "deadline passed"
                        )
                finally:
                    response.close()
            except _ERRORS as exc:
                expired = self._deadline if alarm.expired else None
                raise wrap_error(exc, request, _KINDS, deadline=expired) from exc
        return _response(response, body, received_at)

    def close(self) -> None:
        """Close the client if this transport created it (a client passed in stays open)."""
        self._closed = True
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> HttpxTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncHttpxTransport:
    """An :class:`~oauth2_transports.AsyncTransport` over an ``httpx.AsyncClient``.

    Same arguments and guarantees as :class:`HttpxTransport`; close it with
    :meth:`aclose` or ``async with``.
    """

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        deadline: float | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        clock: Clock = utc_now,
    ) -> None:
        check_settings(timeout, max_body_bytes)
        self._deadline = check_deadline(deadline, timeout)
        self._owns_client = client is None
        if client is None:
            client = httpx.AsyncClient(trust_env=False, cookies=_refusing_cookie_jar())
            del client.headers["accept"]
            client.headers["accept-encoding"] = ACCEPT_ENCODING
        self._client = client
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, self._deadline))
        self._max_body_bytes = max_body_bytes
        self._clock = clock
        self._closed = False

    @property
    def deadline(self) -> float:
        """Seconds one :meth:`send` may take in all, connect to last body byte."""
        return self._deadline

    async def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request`` as it is and return the response, whatever its status.

        Raises:
            TransportError: The exchange failed, outlived the deadline, or the
                body exceeds the cap or has a content coding that is refused.
        """
        if self._closed or self._client.is_closed:
            raise UsageError("this transport (or the httpx client it sends with) is closed")
        try:
            with anyio.move_on_after(self._deadline) as scope:
                outgoing = _outgoing(self._client, request, self._timeout)
                response = await self._client.send(
                    outgoing, stream=True, follow_redirects=False, auth=_AS_GIVEN
                )
                try:
                    received_at = stamp(self._clock)
                    coding = response.headers.get("content-encoding")
                    raw = response.aiter_raw(CHUNK_SIZE)
                    body = await aread_body(request, self._max_body_bytes, coding, raw)
                finally:
                    await response.aclose()
        except _ERRORS as exc:
            raise wrap_error(exc, request, _KINDS) from exc
        if scope.cancelled_caught:  # the whole exchange took too long
            raise timed_out(request, self._deadline) from TimeoutError("deadline passed")
        return _response(response, body, received_at)

    async def aclose(self) -> None:
        """Close the client if this transport created it (a client passed in stays open)."""
        self._closed = True
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> AsyncHttpxTransport:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
