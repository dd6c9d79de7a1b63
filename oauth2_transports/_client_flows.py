"""The flows behind the high-level clients' methods (one per grant and endpoint).

:class:`_Flows` is the only place that decides which ``oauth2_core`` flow a client
method runs; :class:`~oauth2_transports.OAuth2Client` and
:class:`~oauth2_transports.AsyncOAuth2Client` differ only in how they drive it
(``run`` or ``await arun``), so the async client is not a copy of the sync one.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, TypeVar

import attrs

from oauth2_core import (
    Client,
    Flow,
    HttpRequest,
    Introspection,
    JwksCache,
    PendingAuthorization,
    RetryPolicy,
    ServerMetadata,
    Token,
    UsageError,
    authorization_code_grant_request,
    authorization_response_flow,
    authorization_url,
    check_id_token_support,
    client_credentials_grant_request,
    dpop_jkt,
    dpop_token_flow,
    id_token_flow,
    introspection_request,
    jwt_bearer_grant_request,
    jwt_introspection_flow,
    jwt_introspection_request,
    parse_callback,
    password_grant_request,
    process_refresh_response,
    refresh_token_grant_request,
    refreshed_id_token_flow,
    retry_flow,
    revocation_request,
    token_exchange_grant_request,
    token_request,
    userinfo_flow,
)
from oauth2_core.authorize import is_signed_callback
from oauth2_core.device import (
    DeviceAuthorization,
    device_authorization_request,
    device_poll_flow,
    process_device_authorization_response,
)
from oauth2_core.flows import introspection_flow, revocation_flow, step_flow, token_flow
from oauth2_core.jose import require_jwt
from oauth2_core.par import (
    PushedAuthorization,
    process_pushed_authorization_response,
    pushed_authorization_request,
)
from oauth2_core.userinfo import UserInfo
from oauth2_transports._clock import utc_now

T = TypeVar("T")


def _wants_openid(pending: PendingAuthorization) -> bool:
    return pending.scope is not None and "openid" in pending.scope.split()


class _Flows:
    """The flows behind every client method, shared by the sync and async clients.

    Only this class decides which core flow a method runs; the two clients
    differ only in how they drive it (``run`` or ``await arun``).
    """

    server: ServerMetadata
    client: Client

    def __init__(
        self,
        server: ServerMetadata,
        client: Client,
        *,
        clock: Callable[[], _dt.datetime] | None = None,
        dpop_key: Mapping[str, Any] | None = None,
        retry: RetryPolicy | None = None,
        validate_id_token: bool = True,
    ) -> None:
        if not isinstance(server, ServerMetadata):
            raise UsageError("server must be an oauth2_core.ServerMetadata")
        if not isinstance(client, Client):
            raise UsageError("client must be an oauth2_core.Client")
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise UsageError("retry must be an oauth2_core.RetryPolicy")
        if dpop_key is not None:
            require_jwt()  # every request will carry a proof: name the missing extra now
        self.server = server
        self.client = client
        self.clock: Callable[[], _dt.datetime] = clock if clock is not None else utc_now
        self.dpop_key = dpop_key
        self.retry = retry
        self.validate_id_token = validate_id_token
        self._jwks = JwksCache()
        self._dpop_nonce: str | None = None

    # -- building blocks ------------------------------------------------------------

    def _token(
        self,
        build: Callable[[_dt.datetime], HttpRequest],
        previous: Token | None = None,
        *,
        delay: float = 0.0,
    ) -> Flow[Token]:
        """One token request: with a DPoP proof when the client has a key (RFC 9449).

        ``delay``: seconds the driver waits before sending (a retry's backoff); the
        request, its client assertion and DPoP proof are dated when it is sent.
        """
        now = self.clock()
        if delay > 0:
            now += _dt.timedelta(seconds=delay)
        if self.dpop_key is not None:
            return self._dpop_token(build, previous, now)
        request = build(now)
        if previous is None:
            return token_flow(request)
        return step_flow(request, partial(process_refresh_response, previous=previous))

    def _dpop_token(
        self,
        build: Callable[[_dt.datetime], HttpRequest],
        previous: Token | None,
        now: _dt.datetime,
    ) -> Flow[Token]:
        assert self.dpop_key is not None
        token, self._dpop_nonce = yield from dpop_token_flow(
            build, self.dpop_key, now=now, nonce=self._dpop_nonce, previous=previous
        )
        return token

    def _retrying(self, make: Callable[[float], Flow[T]]) -> Flow[T]:
        """Apply the opt-in retry policy (refresh and client credentials only).

        ``make(delay)`` builds one attempt that the driver sends after ``delay``
        seconds, so its time-bound credentials are dated at sending time.
        """
        if self.retry is None:
            return make(0.0)
        return retry_flow(make, self.retry, wait_aware=True)

    # -- one per client method ----------------------------------------------------

    def _client_credentials(self, scope: object, params: dict[str, Any]) -> Flow[Token]:
        def build(now: _dt.datetime) -> HttpRequest:
            return client_credentials_grant_request(
                self.server, self.client, scope=scope, now=now, **params
            )

        return self._retrying(lambda delay: self._token(build, delay=delay))

    def _password(
        self, username: str, password: str, scope: object, params: dict[str, Any]
    ) -> Flow[Token]:
        def build(now: _dt.datetime) -> HttpRequest:
            return password_grant_request(
                self.server, self.client, username, password, scope=scope, now=now, **params
            )

        return self._token(build)

    def _grant(self, grant_type: str, params: dict[str, Any]) -> Flow[Token]:
        def build(now: _dt.datetime) -> HttpRequest:
            return token_request(self.server, self.client, grant_type, now=now, **params)

        return self._token(build)

    def _jwt_bearer(self, assertion: str, scope: object, params: dict[str, Any]) -> Flow[Token]:
        def build(now: _dt.datetime) -> HttpRequest:
            return jwt_bearer_grant_request(
                self.server, self.client, assertion, scope=scope, now=now, **params
            )

        return self._token(build)

    def _token_exchange(
        self, subject_token: str, subject_token_type: str, params: dict[str, Any]
    ) -> Flow[Token]:
        def build(now: _dt.datetime) -> HttpRequest:
            return token_exchange_grant_request(
                self.server, self.client, subject_token, subject_token_type, now=now, **params
            )

        return self._token(build)

    def _exchange_code(
        self, pending: PendingAuthorization, callback: object, params: dict[str, Any]
    ) -> Flow[Token]:
        if is_signed_callback(callback):
            return self._exchange_signed_code(pending, callback, params)
        # Checked before anything is sent; never retried: a code is single-use.
        code = parse_callback(callback, server=self.server, pending=pending)
        if self.validate_id_token:
            check_id_token_support(self.server, self.client, scope=pending.scope)

        def build(now: _dt.datetime) -> HttpRequest:
            return authorization_code_grant_request(
                self.server, self.client, code, pending, now=now, **params
            )

        return self._validated(self._token(build), pending)

    def _exchange_signed_code(
        self, pending: PendingAuthorization, callback: object, params: dict[str, Any]
    ) -> Flow[Token]:
        # JARM: the core verifies the response JWT (keys fetched when needed) first.
        if self.validate_id_token:
            check_id_token_support(self.server, self.client, scope=pending.scope)
        code = yield from authorization_response_flow(
            callback,
            server=self.server,
            client=self.client,
            pending=pending,
            now=self.clock(),
            jwks_cache=self._jwks,
            require_signed=True,
        )

        def build(now: _dt.datetime) -> HttpRequest:
            return authorization_code_grant_request(
                self.server, self.client, code, pending, now=now, **params
            )

        return (yield from self._validated(self._token(build), pending))

    def _validated(self, exchange: Flow[Token], pending: PendingAuthorization) -> Flow[Token]:
        token = yield from exchange
        if self.validate_id_token and (token.id_token is not None or _wants_openid(pending)):
            # OIDC Core §3.1.3.7: validate before anyone uses the tokens.
            claims = yield from id_token_flow(
                token,
                server=self.server,
                client=self.client,
                pending=pending,
                now=self.clock(),
                jwks_cache=self._jwks,
            )
            token = attrs.evolve(token, id_token_claims=claims)
        return token

    def _refresh(self, token: Token, params: dict[str, Any]) -> Flow[Token]:
        if not isinstance(token, Token):
            raise UsageError("refresh() needs the Token to refresh")

        def build(now: _dt.datetime) -> HttpRequest:
            return refresh_token_grant_request(self.server, self.client, token, now=now, **params)

        refreshed = self._retrying(lambda delay: self._token(build, token, delay=delay))
        if not self.validate_id_token:
            return refreshed
        return self._validated_refresh(refreshed, token)

    def _validated_refresh(self, refreshed: Flow[Token], previous: Token) -> Flow[Token]:
        new = yield from refreshed
        # OIDC Core §12.2, decided in the core: a new ID token is validated and
        # compared with the previous one; none keeps the previous one and its claims.
        return (
            yield from refreshed_id_token_flow(
                new,
                previous=previous,
                server=self.server,
                client=self.client,
                now=self.clock(),
                jwks_cache=self._jwks,
            )
        )

    def _revoke(self, token: str, hint: str | None, params: dict[str, Any]) -> Flow[None]:
        return revocation_flow(
            revocation_request(
                self.server, self.client, token, token_type_hint=hint, now=self.clock(), **params
            )
        )

    def _introspect(
        self, token: str, hint: str | None, params: dict[str, Any]
    ) -> Flow[Introspection]:
        if params.get("jwt"):
            # RFC 9701: a signed answer, verified by the core; plain JSON is refused.
            request = jwt_introspection_request(
                self.server,
                self.client,
                token,
                token_type_hint=hint,
                now=self.clock(),
                **{k: v for k, v in params.items() if k != "jwt"},
            )
            return jwt_introspection_flow(
                request, server=self.server, client=self.client, jwks_cache=self._jwks
            )
        return introspection_flow(
            introspection_request(
                self.server, self.client, token, token_type_hint=hint, now=self.clock(), **params
            )
        )

    def _device_authorization(
        self, scope: object, params: dict[str, Any]
    ) -> Flow[DeviceAuthorization]:
        request = device_authorization_request(
            self.server, self.client, scope=scope, now=self.clock(), **params
        )
        return step_flow(request, process_device_authorization_response)

    def _poll_device(self, auth: DeviceAuthorization, params: dict[str, Any]) -> Flow[Token]:
        # RFC 9449 §5: every token request carries a proof, the device code grant's too.
        return device_poll_flow(
            self.server,
            self.client,
            auth,
            now=self.clock(),
            dpop_key=self.dpop_key,
            dpop_nonce=self._dpop_nonce if self.dpop_key is not None else None,
            **params,
        )

    def _push(
        self, pending: PendingAuthorization, scope: object, params: dict[str, Any]
    ) -> Flow[PushedAuthorization]:
        request = pushed_authorization_request(
            self.server, self.client, pending, scope=scope, now=self.clock(), **params
        )
        return step_flow(request, process_pushed_authorization_response)

    def _authorization_url(
        self,
        pending: PendingAuthorization,
        scope: object,
        par: bool | None,
        params: dict[str, Any],
    ) -> str | Flow[str]:
        if self.validate_id_token:
            # Before the browser opens: a missing extra must not cost a login and a code.
            check_id_token_support(
                self.server, self.client, scope=scope if scope is not None else pending.scope
            )
        if self.dpop_key is not None and "dpop_jkt" not in params:
            # RFC 9449 §10: bind the authorization code to our DPoP key.
            params = {**params, "dpop_jkt": dpop_jkt(self.dpop_key)}
        push = par if par is not None else self.server.require_pushed_authorization_requests
        if not push:
            # RFC 9101: a request object is signed now (the core reads no clock).
            now = self.clock() if params.get("request_object") else None
            return authorization_url(
                self.server, self.client, pending, scope=scope, now=now, **params
            )
        return self._pushed_authorization_url(pending, scope, params)

    def _pushed_authorization_url(
        self, pending: PendingAuthorization, scope: object, params: dict[str, Any]
    ) -> Flow[str]:
        pushed = yield from self._push(pending, scope, params)
        return authorization_url(self.server, self.client, pending, request_uri=pushed.request_uri)

    def _userinfo(self, token: Token) -> Flow[UserInfo]:
        # Bearer or DPoP, JSON or signed, and sub == the ID token's (OIDC Core
        # §5.3.2): all decided by the core flow.
        return userinfo_flow(
            self.server,
            self.client,
            token,
            now=self.clock(),
            jwks_cache=self._jwks,
            dpop_key=self.dpop_key,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(issuer={self.server.issuer!r}, client={self.client!r})"
