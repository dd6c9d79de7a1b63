"""The httpx2 auth hooks: ``oauth2_transports.httpx2.OAuth2Auth`` and its ``for_resource``.

``httpx2`` (the HTTP client of the ``mcp`` package 2.x) has httpx's API under
another name, but its ``Auth`` is another class, so the hooks subclass it here.
``OAuth2Auth(token_or_manager)`` sends a Bearer token (RFC 6750 §2.1) and, with
a token manager, refreshes and resends once on a 401 ``invalid_token`` (§3.1);
DPoP-bound tokens are for the httpx and requests hooks.
``OAuth2Auth.for_resource(...)`` is the resource-first chain of ``_resource_hooks``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Mapping
from typing import TYPE_CHECKING, Any

import httpx2

from oauth2_core import Token, UsageError
from oauth2_transports._hooks import should_retry_401
from oauth2_transports._resource_auth import ResourceAuthorizer
from oauth2_transports._resource_hooks import async_flow, authorizer, bearer, sync_flow
from oauth2_transports._resource_session import Session
from oauth2_transports.manager import AsyncTokenManager, TokenManager

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from oauth2_transports._resource_hooks import ResourceOptions

__all__ = ["OAuth2Auth", "ResourceAuth"]


def _resendable(request: httpx2.Request) -> bool:
    return isinstance(request.stream, httpx2.ByteStream)


class ResourceAuth(httpx2.Auth):
    """The httpx2 auth of ``OAuth2Auth.for_resource(...)`` (RFC 9728, 7591, 8707, 9470).

    One object serves ``httpx2.Client`` and ``httpx2.AsyncClient``.

    Args:
        authorizer: The shared chain and token state.
    """

    def __init__(self, authorizer: ResourceAuthorizer) -> None:
        self.authorizer = authorizer

    @property
    def session(self) -> Session | None:
        """The current authorization (resource, server, client, registration), or ``None``."""
        return self.authorizer.session

    def sync_auth_flow(
        self, request: httpx2.Request
    ) -> Generator[httpx2.Request, httpx2.Response, None]:
        """The flow for ``httpx2.Client``."""
        return (yield from sync_flow(self.authorizer, request, _resendable(request)))

    async def async_auth_flow(
        self, request: httpx2.Request
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        """The flow for ``httpx2.AsyncClient``."""
        flow = async_flow(self.authorizer, request, _resendable(request))
        response = None
        try:
            while True:
                try:
                    outgoing = await flow.asend(response)
                except StopAsyncIteration:
                    return
                response = yield outgoing
        finally:
            await flow.aclose()


class OAuth2Auth(httpx2.Auth):
    """Send requests with a Bearer token (RFC 6750 §2.1); refresh and resend once on a 401.

    ``httpx2.AsyncClient(auth=OAuth2Auth(manager))``: each request asks the
    manager for a valid token; a 401 whose ``WWW-Authenticate`` names no error
    other than ``invalid_token`` (RFC 6750 §3.1) invalidates it, gets a new one
    and resends once (a body held in memory only). With a plain
    :class:`~oauth2_core.Token` nothing is refreshed.

    Args:
        token_or_manager: A ``Token``, a ``TokenManager`` (run in a worker
            thread by async clients) or an ``AsyncTokenManager`` (async only).
        allow_insecure_http: Send the token over plain http to non-loopback
            hosts too (RFC 6750 §5.3 forbids it by default).

    Raises:
        UsageError: anything else, or a DPoP-bound token.
    """

    def __init__(
        self,
        token_or_manager: Token | TokenManager | AsyncTokenManager,
        *,
        allow_insecure_http: bool = False,
    ) -> None:
        if not isinstance(token_or_manager, (Token, TokenManager, AsyncTokenManager)):
            raise UsageError("OAuth2Auth takes an oauth2_core.Token or a token manager")
        if isinstance(token_or_manager, Token):
            bearer("https://x", token_or_manager, allow_insecure_http=True)  # usable?
        self._source = token_or_manager
        self._insecure = allow_insecure_http

    @classmethod
    def for_resource(cls, **options: Unpack[ResourceOptions]) -> ResourceAuth:
        """Resource-first authorization (RFC 9728, 7591, 8707, 9470) for httpx2, sync and async.

        See ``oauth2_transports._resource_hooks.FOR_RESOURCE_DOC`` (the docs'
        "Authorize an MCP client") for the keywords and what happens on a 401.
        """
        return for_resource(options)

    def _set(self, request: httpx2.Request, token: Token) -> None:
        request.headers["Authorization"] = bearer(
            str(request.url), token, allow_insecure_http=self._insecure
        )

    def _retry(self, request: httpx2.Request, response: httpx2.Response) -> bool:
        return (
            response.status_code == 401
            and not isinstance(self._source, Token)
            and _resendable(request)
            and should_retry_401(response.headers.get_list("www-authenticate"))
        )

    def sync_auth_flow(
        self, request: httpx2.Request
    ) -> Generator[httpx2.Request, httpx2.Response, None]:
        """The flow for ``httpx2.Client``."""
        source = self._source
        if isinstance(source, AsyncTokenManager):
            raise UsageError("an AsyncTokenManager needs an httpx2.AsyncClient")
        sent = source if isinstance(source, Token) else source.token()
        self._set(request, sent)
        response = yield request
        if self._retry(request, response) and isinstance(source, TokenManager):
            source.invalidate(sent)
            fresh = source.token()
            if fresh.access_token != sent.access_token:
                self._set(request, fresh)
                yield request

    async def async_auth_flow(
        self, request: httpx2.Request
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        """The flow for ``httpx2.AsyncClient``."""
        import asyncio

        source = self._source
        sent = await self._token()
        self._set(request, sent)
        response = yield request
        if self._retry(request, response):
            if isinstance(source, AsyncTokenManager):
                await source.invalidate(sent)
            elif isinstance(source, TokenManager):
                await asyncio.to_thread(source.invalidate, sent)
            fresh = await self._token()
            if fresh.access_token != sent.access_token:
                self._set(request, fresh)
                yield request

    async def _token(self) -> Token:
        import asyncio

        source = self._source
        if isinstance(source, Token):
            return source
        if isinstance(source, AsyncTokenManager):
            return await source.token()
        return await asyncio.to_thread(source.token)


def for_resource(options: Mapping[str, Any]) -> ResourceAuth:
    """``OAuth2Auth.for_resource(**options)`` for httpx2: transports made on first use."""
    from oauth2_transports.httpx2 import AsyncHttpx2Transport, Httpx2Transport

    return ResourceAuth(authorizer(options, Httpx2Transport, AsyncHttpx2Transport))
