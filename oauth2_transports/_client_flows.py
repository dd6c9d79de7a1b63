"""The flows behind the high-level clients' methods (one per grant and endpoint).

:class:`ClientFlows` maps each client method to one public ``oauth2_core`` flow,
given the client's settings as values; :class:`~oauth2_transports.OAuth2Client` and
:class:`~oauth2_transports.AsyncOAuth2Client` differ only in how they drive it
(``run`` or ``await arun``), so the async client is not a copy of the sync one.
No protocol decision is made here: a core-only integrator gets the same result
from the same flow.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from typing import Any

from oauth2_core import (
    Client,
    DPoPNonces,
    Flow,
    HttpRequest,
    Introspection,
    JwksCache,
    PendingAuthorization,
    RetryPolicy,
    ServerMetadata,
    TimedFlow,
    Token,
    UsageError,
    authorization_url_flow,
    backchannel_token_flow,
    check_id_token_support,
    client_credentials_grant_request,
    exchange_code_flow,
    introspection_request,
    jwt_bearer_grant_request,
    jwt_introspection_flow,
    jwt_introspection_request,
    password_grant_request,
    refresh_flow,
    revocation_request,
    token_exchange_grant_request,
    token_grant_flow,
    token_request,
    userinfo_flow,
)
from oauth2_core.ciba import (
    BackchannelAuthentication,
    backchannel_authentication_request,
    process_backchannel_authentication_response,
)
from oauth2_core.device import (
    DeviceAuthorization,
    device_authorization_request,
    device_poll_flow,
    process_device_authorization_response,
)
from oauth2_core.fapi import check_fapi2_authorization, dpop_binding_required, fapi2_server
from oauth2_core.flows import introspection_flow, revocation_flow, step_flow
from oauth2_core.jose import require_jwt
from oauth2_core.logout import end_session_url
from oauth2_core.par import (
    PushedAuthorization,
    process_pushed_authorization_response,
    pushed_authorization_request,
)
from oauth2_core.userinfo import UserInfo
from oauth2_transports._clock import utc_now

__all__ = ["ClientFlows"]


class ClientFlows:
    """The flows behind every client method, shared by the sync and async clients.

    Each method picks one ``oauth2_core`` flow and gives it the client's
    settings: the time (read from the client's clock, passed as a value), the
    DPoP key and the per-origin DPoP nonces, the JWK set cache, the retry
    policy and the ID token opt-out. Every protocol decision (DPoP and its
    nonce retry, ID token validation, PAR, the dating of retried requests) is
    the core flow's; the two clients differ only in how they drive it
    (``run`` or ``await arun``).
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
        profile: str | None = None,
        require_dpop_binding: bool = False,
        dpop_nonces: DPoPNonces | None = None,
    ) -> None:
        if not isinstance(server, ServerMetadata):
            raise UsageError("server must be an oauth2_core.ServerMetadata")
        if not isinstance(client, Client):
            raise UsageError("client must be an oauth2_core.Client")
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise UsageError("retry must be an oauth2_core.RetryPolicy")
        if dpop_key is not None:
            require_jwt()  # every request will carry a proof: name the missing extra now
        if profile not in (None, "fapi2"):
            raise UsageError("profile must be None or 'fapi2'")
        if profile == "fapi2":
            # FAPI 2.0: refuse what the profile forbids before any request; PAR and iss on.
            server = fapi2_server(server, client, dpop_key=dpop_key)
        self.profile = profile
        # RFC 9449 §5 lets a server answer Bearer; FAPI 2.0 and the opt-in refuse it.
        self.require_dpop_binding = dpop_binding_required(
            profile=profile, dpop_key=dpop_key, require_dpop_binding=require_dpop_binding
        )
        self.server = server
        self.client = client
        self.clock: Callable[[], _dt.datetime] = clock if clock is not None else utc_now
        self.dpop_key = dpop_key
        self.retry = retry
        self.validate_id_token = validate_id_token
        self._jwks = JwksCache()
        if dpop_nonces is not None and not isinstance(dpop_nonces, DPoPNonces):
            raise UsageError("dpop_nonces must be an oauth2_core.DPoPNonces")
        # Per origin (RFC 9449 §8.2): a map shared with an auth hook loses nothing.
        self._dpop_nonces = dpop_nonces if dpop_nonces is not None else DPoPNonces()

    def _token(
        self, build: Callable[[_dt.datetime], HttpRequest], *, retry: bool = False
    ) -> TimedFlow[Token]:
        return token_grant_flow(
            build,
            now=self.clock(),
            dpop_key=self.dpop_key,
            dpop_nonces=self._dpop_nonces,
            retry=self.retry if retry else None,
            require_dpop_binding=self.require_dpop_binding,
        )

    # -- one per client method ----------------------------------------------------

    def _client_credentials(self, scope: object, params: dict[str, Any]) -> TimedFlow[Token]:
        def build(now: _dt.datetime) -> HttpRequest:
            return client_credentials_grant_request(
                self.server, self.client, scope=scope, now=now, **params
            )

        # Retried by the opt-in policy: a client credentials request can be sent twice.
        return self._token(build, retry=True)

    def _password(
        self, username: str, password: str, scope: object, params: dict[str, Any]
    ) -> TimedFlow[Token]:
        def build(now: _dt.datetime) -> HttpRequest:
            return password_grant_request(
                self.server, self.client, username, password, scope=scope, now=now, **params
            )

        return self._token(build)

    def _grant(self, grant_type: str, params: dict[str, Any]) -> TimedFlow[Token]:
        def build(now: _dt.datetime) -> HttpRequest:
            return token_request(self.server, self.client, grant_type, now=now, **params)

        return self._token(build)

    def _jwt_bearer(
        self, assertion: str, scope: object, params: dict[str, Any]
    ) -> TimedFlow[Token]:
        def build(now: _dt.datetime) -> HttpRequest:
            return jwt_bearer_grant_request(
                self.server, self.client, assertion, scope=scope, now=now, **params
            )

        return self._token(build)

    def _token_exchange(
        self, subject_token: str, subject_token_type: str, params: dict[str, Any]
    ) -> TimedFlow[Token]:
        def build(now: _dt.datetime) -> HttpRequest:
            return token_exchange_grant_request(
                self.server, self.client, subject_token, subject_token_type, now=now, **params
            )

        return self._token(build)

    def _exchange_code(
        self, pending: PendingAuthorization, callback: object, params: dict[str, Any]
    ) -> Flow[Token]:
        return exchange_code_flow(
            self.server,
            self.client,
            pending,
            callback,
            now=self.clock(),
            validate_id_token=self.validate_id_token,
            jwks_cache=self._jwks,
            dpop_key=self.dpop_key,
            dpop_nonces=self._dpop_nonces,
            require_dpop_binding=self.require_dpop_binding,
            **params,
        )

    def _refresh(self, token: Token, params: dict[str, Any]) -> TimedFlow[Token]:
        if not isinstance(token, Token):
            raise UsageError("refresh() needs the Token to refresh")
        return refresh_flow(
            self.server,
            self.client,
            token,
            now=self.clock(),
            jwks_cache=self._jwks,
            validate_id_token=self.validate_id_token,
            dpop_key=self.dpop_key,
            dpop_nonces=self._dpop_nonces,
            retry=self.retry,
            require_dpop_binding=self.require_dpop_binding,
            **params,
        )

    def _revoke(self, token: str, hint: str | None, params: dict[str, Any]) -> Flow[None]:
        return revocation_flow(
            revocation_request(
                self.server, self.client, token, token_type_hint=hint, now=self.clock(), **params
            )
        )

    def _introspect(
        self, token: str, hint: str | None, jwt: bool, params: dict[str, Any]
    ) -> Flow[Introspection]:
        if jwt:
            request = jwt_introspection_request(
                self.server, self.client, token, token_type_hint=hint, now=self.clock(), **params
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

    def _poll_device(self, auth: DeviceAuthorization, params: dict[str, Any]) -> TimedFlow[Token]:
        return device_poll_flow(
            self.server,
            self.client,
            auth,
            dpop_key=self.dpop_key,
            dpop_nonces=self._dpop_nonces,
            require_dpop_binding=self.require_dpop_binding,
            **params,
        )

    def _backchannel_authentication(
        self, scope: object, params: dict[str, Any]
    ) -> Flow[BackchannelAuthentication]:
        request = backchannel_authentication_request(
            self.server, self.client, scope=scope, now=self.clock(), **params
        )
        return step_flow(request, process_backchannel_authentication_response)

    def _poll_backchannel(
        self, auth: BackchannelAuthentication, params: dict[str, Any]
    ) -> TimedFlow[Token]:
        return backchannel_token_flow(
            self.server,
            self.client,
            auth,
            validate_id_token=self.validate_id_token,
            jwks_cache=self._jwks,
            dpop_key=self.dpop_key,
            dpop_nonces=self._dpop_nonces,
            require_dpop_binding=self.require_dpop_binding,
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
    ) -> Flow[str]:
        if self.profile == "fapi2":
            check_fapi2_authorization(pending, par=par)
        if self.validate_id_token:
            # Before the browser opens: a missing extra must not cost a login and a code.
            check_id_token_support(
                self.server, self.client, scope=scope if scope is not None else pending.scope
            )
        return authorization_url_flow(
            self.server,
            self.client,
            pending,
            scope=scope,
            par=par,
            now=self.clock(),
            dpop_key=self.dpop_key,
            **params,
        )

    def _userinfo(self, token: Token) -> Flow[UserInfo]:
        return userinfo_flow(
            self.server,
            self.client,
            token,
            now=self.clock(),
            jwks_cache=self._jwks,
            dpop_key=self.dpop_key,
            dpop_nonces=self._dpop_nonces,
        )

    def end_session_url(
        self,
        token: Token | str | None = None,
        *,
        post_logout_redirect_uri: str | None = None,
        state: str | None = None,
        **params: object,
    ) -> str:
        """Where to send the browser to log out (OpenID Connect RP-Initiated Logout 1.0 §2).

        ``token`` (a :class:`~oauth2_core.Token` or its ID token) is the
        ``id_token_hint``. No request is sent: the sync and async clients alike
        return the URL. See :func:`oauth2_core.end_session_url`.
        """
        return end_session_url(
            self.server,
            self.client,
            id_token_hint=token,
            post_logout_redirect_uri=post_logout_redirect_uri,
            state=state,
            **params,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(issuer={self.server.issuer!r}, client={self.client!r})"
