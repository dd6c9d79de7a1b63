"""The httpx auth hook: ``oauth2_transports.httpx.OAuth2Auth`` (sync and async).

Attaches the token to each request (RFC 6750 §2.1; ``DPoP`` with a proof for
DPoP-bound tokens, RFC 9449 §7.1) and, with a token manager, refreshes and
resends once after a 401 ``invalid_token`` (RFC 6750 §3.1).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import TYPE_CHECKING

import httpx

from oauth2_core import Token, UsageError
from oauth2_core.dpop import DPoPKey
from oauth2_core.dpop_nonce import DPOP_NONCE_FIELD
from oauth2_core.endpoints import check_resource_url
from oauth2_transports._clock import utc_now
from oauth2_transports._hooks import (
    DPoPSigner,
    RetryBudget,
    authorization_header,
    expected_authorization,
    is_dpop,
    next_retry,
    proof_is_stale,
)
from oauth2_transports.manager import AsyncTokenManager, TokenManager

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from oauth2_transports._httpx_resource_auth import ResourceAuth
    from oauth2_transports._resource_hooks import ResourceOptions

__all__ = ["OAuth2Auth"]


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
    nonce of each origin goes into the next proof to it, and a 401 nonce
    challenge is answered by sending the request once more with the new nonce
    (RFC 9449 §9), also with a plain token.

    Args:
        token_or_manager: A :class:`~oauth2_core.Token`, a
            :class:`~oauth2_transports.TokenManager` (sync client; in an async
            client it runs in a worker thread) or an
            :class:`~oauth2_transports.AsyncTokenManager` (async client only).
        dpop_key: The DPoP private key the tokens are bound to; by default the
            manager's client's ``dpop_key``.
        allow_insecure_http: Explicit opt-out of the https rule for the
            requests this hook authorizes. By default a token goes only to
            https URLs and to loopback hosts over http (RFC 6750 §5.3); any other
            plain-http request raises :class:`~oauth2_core.UsageError` before
            anything is sent.

    Raises:
        UsageError: a token type that is neither Bearer nor DPoP, a DPoP token
            with no key to sign proofs; an ``AsyncTokenManager`` in a sync client;
            when a request is sent: its URL is plain http to a non-loopback host,
            or ambiguous.
    """

    def __init__(
        self,
        token_or_manager: Token | TokenManager | AsyncTokenManager,
        *,
        dpop_key: DPoPKey | None = None,
        allow_insecure_http: bool = False,
    ) -> None:
        self._allow_insecure_http = allow_insecure_http
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
        self._last: tuple[Token | None, str] = (None, "")

    @classmethod
    def for_resource(cls, **options: Unpack[ResourceOptions]) -> ResourceAuth:
        """Resource-first authorization (RFC 9728, 7591, 8707, 9470) for httpx, sync and async.

        See ``oauth2_transports._resource_hooks.FOR_RESOURCE_DOC`` (the docs'
        "Authorize an MCP client") for the keywords and what happens on a 401.
        """
        from oauth2_transports._httpx_resource_auth import for_resource

        return for_resource(options)

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
            # After a same-origin redirect the 401 answered the redirected request:
            # sign and send that one, not the first (its proof is for the first URL).
            request = response.request
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
            request = response.request  # as in sync_auth_flow
            self._authorize(request, sent)
            response = yield request

    def _authorize(self, request: httpx.Request, token: Token) -> None:
        url = str(request.url)
        # https reaches the host httpx parsed, with its certificate checked;
        # anything else goes through the one authority check (RFC 6750 §5.3).
        if not url.startswith("https://"):
            check_resource_url(url, allow_insecure_http=self._allow_insecure_http)
        last, header = self._last
        if token is not last:
            if is_dpop(token):
                self._authorize_dpop(request, token)
                return
            # Built and checked once per token (a frozen Token: same object, same header).
            header = authorization_header(token)
            self._last = (token, header)
        request.headers.pop("DPoP", None)
        request.headers["Authorization"] = header

    def _authorize_dpop(self, request: httpx.Request, token: Token) -> None:
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
            self._dpop.remember(
                str(response.request.url), response.headers.get_list(DPOP_NONCE_FIELD)
            )
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
            nonce_values=response.headers.get_list(DPOP_NONCE_FIELD),
            can_refresh=not isinstance(self._source, Token),
            stale_proof=dpop
            and proof_is_stale(
                response.request.headers.get("dpop"),
                response.request.method,
                str(response.request.url),
            ),
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
