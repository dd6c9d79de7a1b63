"""The httpx integration (DESIGN.md §3): ``HttpxTransport`` and ``AsyncHttpxTransport``.

Both send an ``oauth2_core.HttpRequest`` verbatim through an ``httpx.Client``
(``httpx.AsyncClient``) and return every status as an ``HttpResponse``: no
redirects followed, no retries, the body capped while it streams, the client's
``auth`` and cookies kept out, library errors turned into ``TransportError``.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncGenerator, Generator
from datetime import datetime
from types import TracebackType

import httpx

from oauth2_core import Headers, HttpRequest, HttpResponse, Token, UsageError
from oauth2_core.dpop import DPoPKey
from oauth2_transports._common import (
    ACCEPT_ENCODING,
    CHUNK_SIZE,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_TIMEOUT,
    Clock,
    ErrorKinds,
    aread_body,
    check_settings,
    read_body,
    refusing_cookie_jar,
    stamp,
    utc_now,
    wrap_error,
)
from oauth2_transports._lifecycle import (
    DPoPSigner,
    RetryBudget,
    authorization_header,
    expected_authorization,
    is_dpop,
    next_retry,
)
from oauth2_transports.manager import AsyncTokenManager, TokenManager

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
            the environment, closed by :meth:`close`.
        timeout: Seconds allowed for each of connect, read, write and pool.
        max_body_bytes: The largest decoded body accepted.
        clock: Stamps ``HttpResponse.received_at``; must return an aware datetime.

    Raises:
        UsageError: ``timeout`` or ``max_body_bytes`` is out of range.
    """

    def __init__(
        self,
        client: httpx.Client | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        clock: Clock = utc_now,
    ) -> None:
        check_settings(timeout, max_body_bytes)
        self._owns_client = client is None
        if client is None:
            # Embeddable: no environment variables read, no cookies stored.
            client = httpx.Client(trust_env=False, cookies=refusing_cookie_jar())
            del client.headers["accept"]  # not needed by httpx; the core sets its own
            client.headers["accept-encoding"] = ACCEPT_ENCODING  # what Inflater decodes
        self._client = client
        self._timeout = httpx.Timeout(timeout)
        self._max_body_bytes = max_body_bytes
        self._clock = clock

    def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request`` as it is and return the response, whatever its status.

        Raises:
            TransportError: The exchange failed or the body exceeds the cap.
        """
        try:
            outgoing = _outgoing(self._client, request, self._timeout)
            response = self._client.send(
                outgoing, stream=True, follow_redirects=False, auth=_AS_GIVEN
            )
            try:
                received_at = stamp(self._clock)
                body = read_body(
                    request,
                    self._max_body_bytes,
                    response.headers.get("content-encoding"),
                    raw=response.iter_raw(CHUNK_SIZE),
                    decoded=response.iter_bytes(CHUNK_SIZE),
                )
            finally:
                response.close()
        except _ERRORS as exc:
            raise wrap_error(exc, request, _KINDS) from exc
        return _response(response, body, received_at)

    def close(self) -> None:
        """Close the client if this transport created it (a client passed in stays open)."""
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
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        clock: Clock = utc_now,
    ) -> None:
        check_settings(timeout, max_body_bytes)
        self._owns_client = client is None
        if client is None:
            client = httpx.AsyncClient(trust_env=False, cookies=refusing_cookie_jar())
            del client.headers["accept"]
            client.headers["accept-encoding"] = ACCEPT_ENCODING
        self._client = client
        self._timeout = httpx.Timeout(timeout)
        self._max_body_bytes = max_body_bytes
        self._clock = clock

    async def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request`` as it is and return the response, whatever its status.

        Raises:
            TransportError: The exchange failed or the body exceeds the cap.
        """
        try:
            outgoing = _outgoing(self._client, request, self._timeout)
            response = await self._client.send(
                outgoing, stream=True, follow_redirects=False, auth=_AS_GIVEN
            )
            try:
                received_at = stamp(self._clock)
                body = await aread_body(
                    request,
                    self._max_body_bytes,
                    response.headers.get("content-encoding"),
                    raw=response.aiter_raw(CHUNK_SIZE),
                    decoded=response.aiter_bytes(CHUNK_SIZE),
                )
            finally:
                await response.aclose()
        except _ERRORS as exc:
            raise wrap_error(exc, request, _KINDS) from exc
        return _response(response, body, received_at)

    async def aclose(self) -> None:
        """Close the client if this transport created it (a client passed in stays open)."""
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


def _resendable(request: httpx.Request) -> bool:
    # Bytes can be sent twice; a generator or file stream was consumed.
    return isinstance(request.stream, httpx.ByteStream)


class OAuth2Auth(httpx.Auth):
    """Send requests with the token (RFC 6750 §2.1, RFC 9449 §7.1); refresh and retry once on a 401.

    ``httpx.Client(auth=OAuth2Auth(manager))`` or ``httpx.AsyncClient(auth=...)``.
    Each request asks the manager for a valid token (refreshed ahead of expiry).
    When the resource server still answers 401, unless its ``WWW-Authenticate``
    names an error other than ``invalid_token`` (RFC 6750 §3.1), the token is
    invalidated, a new one obtained and the request sent once more (the 401 is in
    ``response.history``). Only a body held in memory is re-sent, never a
    generator. With a plain :class:`~oauth2_core.Token` nothing is refreshed.

    A DPoP-bound token (``token_type`` DPoP) goes out as ``Authorization: DPoP``
    with a fresh ``DPoP`` proof for that request, dated by the manager's client's
    clock and signed with its ``dpop_key`` (or ``dpop_key`` given here). The last
    ``DPoP-Nonce`` of each origin goes into the next proof to it, and a 401
    ``WWW-Authenticate: DPoP error="use_dpop_nonce"`` is answered by sending the
    request once more with the new nonce (RFC 9449 §9), also with a plain token.

    Args:
        token_or_manager: A :class:`~oauth2_core.Token`, a
            :class:`~oauth2_transports.TokenManager` (sync client; in an async
            client it runs in a worker thread) or an
            :class:`~oauth2_transports.AsyncTokenManager` (async client only).
        dpop_key: The DPoP private key the tokens are bound to; by default the
            manager's client's ``dpop_key``.

    Raises:
        UsageError: a token type that is neither Bearer nor DPoP, a DPoP token
            with no key to sign proofs; an ``AsyncTokenManager`` in a sync client.
    """

    def __init__(
        self,
        token_or_manager: Token | TokenManager | AsyncTokenManager,
        *,
        dpop_key: DPoPKey | None = None,
    ) -> None:
        self._dpop = DPoPSigner(dpop_key)
        if isinstance(token_or_manager, Token):
            # Refuse an unusable token now, not per request.
            if not is_dpop(token_or_manager):
                authorization_header(token_or_manager)
            else:
                self._dpop.signing_key(None)
        elif not isinstance(token_or_manager, (TokenManager, AsyncTokenManager)):
            raise UsageError("OAuth2Auth takes an oauth2_core.Token or a token manager")
        self._source = token_or_manager

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """The flow for ``httpx.Client``."""
        source = self._source
        if isinstance(source, AsyncTokenManager):
            raise UsageError("an AsyncTokenManager needs an httpx.AsyncClient")
        sent = source if isinstance(source, Token) else source.token()
        self._authorize(request, sent)
        response = yield request
        budget = RetryBudget()
        while (step := self._next_step(request, response, sent, budget)) is not None:
            if step == "refresh":
                assert isinstance(source, TokenManager)
                source.invalidate(sent)
                fresh = source.token()
                if fresh.access_token == sent.access_token:
                    return
                sent = fresh
            self._authorize(request, sent)
            response = yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """The flow for ``httpx.AsyncClient``."""
        source = self._source
        sent = await self._token(source)
        self._authorize(request, sent)
        response = yield request
        budget = RetryBudget()
        while (step := self._next_step(request, response, sent, budget)) is not None:
            if step == "refresh":
                if isinstance(source, AsyncTokenManager):
                    await source.invalidate(sent)
                elif isinstance(source, TokenManager):
                    source.invalidate(sent)
                fresh = await self._token(source)
                if fresh.access_token == sent.access_token:
                    return
                sent = fresh
            self._authorize(request, sent)
            response = yield request

    def _authorize(self, request: httpx.Request, token: Token) -> None:
        if not is_dpop(token):
            request.headers.pop("DPoP", None)
            request.headers["Authorization"] = authorization_header(token)
            return
        source = self._source
        client = None if isinstance(source, Token) else source.client
        request.headers.update(
            self._dpop.headers(
                token,
                request.method,
                str(request.url),
                client_key=None if client is None else client.dpop_key,
                clock=utc_now if client is None else client.clock,
            )
        )

    def _next_step(
        self, request: httpx.Request, response: httpx.Response, sent: Token, budget: RetryBudget
    ) -> str | None:
        dpop = is_dpop(sent)
        if dpop:
            self._dpop.remember(str(response.request.url), response.headers.get_list("dpop-nonce"))
        if (
            response.status_code != 401
            # After a redirect to another origin httpx drops our header: not our 401.
            or response.request.headers.get("authorization") != expected_authorization(sent)
            or not _resendable(request)
        ):
            return None
        return next_retry(
            budget,
            dpop=dpop,
            www_authenticate=response.headers.get_list("www-authenticate"),
            nonce_values=response.headers.get_list("dpop-nonce"),
            can_refresh=not isinstance(self._source, Token),
        )

    @staticmethod
    async def _token(source: Token | TokenManager | AsyncTokenManager) -> Token:
        if isinstance(source, Token):
            return source
        if isinstance(source, AsyncTokenManager):
            return await source.token()
        import asyncio  # only this async path needs it; loaded already by the running loop

        # A sync manager may block on a refresh: keep the event loop free.
        return await asyncio.to_thread(source.token)
