"""A resource server's check of JWT access tokens (RFC 9068 §4), over a transport.

:class:`AccessTokenVerifier` (and :class:`AsyncAccessTokenVerifier`) discover the
issuer once (RFC 8414, then OpenID Connect Discovery), keep its JWK set in a
:class:`~oauth2_core.JwksCache` and run
:func:`oauth2_core.jwt_access_token_flow` for each token: every protocol
decision (which checks, when to fetch the keys again) is the core's. A token whose
key is cached is checked without any request and without waiting on another
thread's fetch; fetches are serialized so a burst of tokens signed with a new key
costs one request.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import threading
from collections.abc import Callable, Iterable

from oauth2_core import (
    AccessTokenClaims,
    JwksCache,
    ServerMetadata,
    UsageError,
    discovery_flow,
    jwt_access_token_flow,
)
from oauth2_core._http import Flow
from oauth2_transports._clock import utc_now
from oauth2_transports._driver import arun, run
from oauth2_transports._transport import AsyncTransport, Transport

__all__ = ["AccessTokenVerifier", "AsyncAccessTokenVerifier"]


class _Settings:
    def __init__(
        self,
        issuer: str,
        audience: str | Iterable[str],
        *,
        server: ServerMetadata | None,
        openid: bool,
        leeway: float,
        algorithms: Iterable[str] | None,
        min_refetch_interval: float,
        allow_insecure_http: bool,
        clock: Callable[[], _dt.datetime] | None,
    ) -> None:
        if not isinstance(issuer, str) or not issuer:
            raise UsageError("issuer must be a non-empty string")
        wrong = not isinstance(server, ServerMetadata) or server.issuer != issuer
        if server is not None and wrong:
            raise UsageError("server must be the ServerMetadata of this issuer")
        self.issuer = issuer
        self.audience = audience if isinstance(audience, str) else tuple(audience)
        self.server = server
        self.openid = openid
        self.leeway = leeway
        self.algorithms = None if algorithms is None else tuple(algorithms)
        self.allow_insecure_http = allow_insecure_http
        self.clock = clock if clock is not None else utc_now
        self.jwks = JwksCache(min_refetch_interval=min_refetch_interval)

    def discovery(self) -> Flow[ServerMetadata]:
        return discovery_flow(
            self.issuer, openid=self.openid, allow_insecure_http=self.allow_insecure_http
        )

    def flow(
        self, server: ServerMetadata, token: str, scope: str | Iterable[str] | None
    ) -> Flow[AccessTokenClaims]:
        return jwt_access_token_flow(
            token,
            server=server,
            audience=self.audience,
            now=self.clock(),
            jwks_cache=self.jwks,
            scope=scope,
            leeway=self.leeway,
            algorithms=self.algorithms,
            allow_insecure_http=self.allow_insecure_http,
        )

    def __repr__(self) -> str:
        return f"issuer={self.issuer!r}, audience={self.audience!r}"


def _without_request(flow: Flow[AccessTokenClaims]) -> AccessTokenClaims | None:
    """The flow's result when it needs no request (the key is cached), else ``None``."""
    try:
        next(flow)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    flow.close()
    return None


class AccessTokenVerifier:
    """Checks JWT access tokens for a resource server (RFC 9068 §4), synchronously.

    Args:
        issuer: The authorization server's issuer identifier.
        audience: This resource server's identifier(s) (the tokens' ``aud``).
        transport: Sends discovery and JWK set requests; default :class:`Urllib3Transport`.
        server: The issuer's metadata, to skip discovery.
        openid: Discover with the OpenID Connect well-known URL only.
        leeway: Clock skew allowed, in seconds (at most 300).
        algorithms: Accepted ``alg`` values; default any asymmetric one.
        min_refetch_interval: Seconds between two JWK set fetches for an unknown ``kid``.
        allow_insecure_http: Plain http to a non-loopback issuer (tests only).
        clock: Returns an aware UTC datetime; default the system clock.

    Example:
        ``claims = AccessTokenVerifier(issuer, audience=rs).verify(token, scope="read")``;
        on :class:`oauth2_core.AccessTokenError` answer ``exc.status`` with
        ``WWW-Authenticate: exc.www_authenticate()``.
    """

    def __init__(
        self,
        issuer: str,
        *,
        audience: str | Iterable[str],
        transport: Transport | None = None,
        server: ServerMetadata | None = None,
        openid: bool = False,
        leeway: float = 60,
        algorithms: Iterable[str] | None = None,
        min_refetch_interval: float = 30.0,
        allow_insecure_http: bool = False,
        clock: Callable[[], _dt.datetime] | None = None,
    ) -> None:
        self._settings = _Settings(
            issuer,
            audience,
            server=server,
            openid=openid,
            leeway=leeway,
            algorithms=algorithms,
            min_refetch_interval=min_refetch_interval,
            allow_insecure_http=allow_insecure_http,
            clock=clock,
        )
        if transport is None:
            from oauth2_transports.urllib3 import Urllib3Transport

            transport = Urllib3Transport()
        self.transport: Transport = transport
        self._lock = threading.Lock()

    @property
    def server(self) -> ServerMetadata:
        """The issuer's metadata, discovered on first use."""
        settings = self._settings
        if settings.server is None:
            with self._lock:
                if settings.server is None:
                    settings.server = run(settings.discovery(), self.transport)
        return settings.server

    def verify(self, token: str, *, scope: str | Iterable[str] | None = None) -> AccessTokenClaims:
        """Check ``token`` (RFC 9068 §4) and that it grants every scope in ``scope``.

        Returns:
            The token's claims.

        Raises:
            oauth2_core.InvalidTokenError: answer 401 (``exc.www_authenticate()``).
            oauth2_core.InsufficientScopeError: answer 403.
            oauth2_core.OAuth2Error: discovery or the JWK set fetch failed.
        """
        server = self.server
        settings = self._settings
        claims = _without_request(settings.flow(server, token, scope))
        if claims is not None:
            return claims
        with self._lock:  # one fetch for a burst of tokens signed with a new key
            return run(settings.flow(server, token, scope), self.transport)

    def close(self) -> None:
        """Close the transport, if it has a ``close()``."""
        close = getattr(self.transport, "close", None)
        if callable(close):
            close()

    def __repr__(self) -> str:
        return f"AccessTokenVerifier({self._settings!r})"


class AsyncAccessTokenVerifier:
    """The asyncio twin of :class:`AccessTokenVerifier`: the same flow, awaited.

    Args:
        issuer, audience, server, openid, leeway, algorithms, min_refetch_interval,
        allow_insecure_http, clock: As for :class:`AccessTokenVerifier`.
        transport: Default :class:`AsyncHttpxTransport`.
    """

    def __init__(
        self,
        issuer: str,
        *,
        audience: str | Iterable[str],
        transport: AsyncTransport | None = None,
        server: ServerMetadata | None = None,
        openid: bool = False,
        leeway: float = 60,
        algorithms: Iterable[str] | None = None,
        min_refetch_interval: float = 30.0,
        allow_insecure_http: bool = False,
        clock: Callable[[], _dt.datetime] | None = None,
    ) -> None:
        self._settings = _Settings(
            issuer,
            audience,
            server=server,
            openid=openid,
            leeway=leeway,
            algorithms=algorithms,
            min_refetch_interval=min_refetch_interval,
            allow_insecure_http=allow_insecure_http,
            clock=clock,
        )
        if transport is None:
            from oauth2_transports.httpx import AsyncHttpxTransport

            transport = AsyncHttpxTransport()
        self.transport: AsyncTransport = transport
        self._lock = asyncio.Lock()

    async def verify(
        self, token: str, *, scope: str | Iterable[str] | None = None
    ) -> AccessTokenClaims:
        """Check ``token`` as :meth:`AccessTokenVerifier.verify` does."""
        settings = self._settings
        if settings.server is None:
            async with self._lock:
                if settings.server is None:
                    settings.server = await arun(settings.discovery(), self.transport)
        server = settings.server
        claims = _without_request(settings.flow(server, token, scope))
        if claims is not None:
            return claims
        async with self._lock:
            return await arun(settings.flow(server, token, scope), self.transport)

    async def aclose(self) -> None:
        """Close the transport: its ``aclose()``, if it has one."""
        aclose = getattr(self.transport, "aclose", None)
        if callable(aclose):
            await aclose()

    def __repr__(self) -> str:
        return f"AsyncAccessTokenVerifier({self._settings!r})"
