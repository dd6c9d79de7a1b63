"""The high-level clients: one method per grant and endpoint.

:class:`OAuth2Client` (sync) and :class:`AsyncOAuth2Client` (asyncio) hold no
protocol logic: each method picks a public core flow (``oauth2_core``) in
:class:`ClientFlows` and hands it to :func:`run` or :func:`arun` with the
client's clock, which answers the flow's ``Wait`` steps. Every request, discovery
included, goes through the transport given.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from oauth2_core import (
    Client,
    Flow,
    Introspection,
    PendingAuthorization,
    ServerMetadata,
    TimedFlow,
    Token,
)
from oauth2_core.ciba import BackchannelAuthentication
from oauth2_core.device import DeviceAuthorization
from oauth2_core.discovery import discovery_flow
from oauth2_core.flows import step_flow
from oauth2_core.par import PushedAuthorization
from oauth2_core.registration import (
    ClientRegistration,
    process_registration_response,
    registration_request,
)
from oauth2_core.userinfo import UserInfo
from oauth2_transports._client_flows import ClientFlows
from oauth2_transports._driver import arun, run
from oauth2_transports._transport import AsyncTransport, Transport

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self needs Python 3.11

__all__ = ["AsyncOAuth2Client", "OAuth2Client"]

T = TypeVar("T")


def _registration_flow(
    server: ServerMetadata,
    metadata: Mapping[str, object],
    initial_access_token: str | None,
    allow_insecure_http: bool,
) -> Flow[ClientRegistration]:
    request = registration_request(
        server,
        metadata,
        initial_access_token=initial_access_token,
        allow_insecure_http=allow_insecure_http,
    )
    return step_flow(request, process_registration_response)


def _default_transport() -> Transport:
    from oauth2_transports.urllib3 import Urllib3Transport

    return Urllib3Transport()


def _default_async_transport() -> AsyncTransport:
    from oauth2_transports.httpx import AsyncHttpxTransport

    return AsyncHttpxTransport()


class OAuth2Client(ClientFlows):
    """A synchronous OAuth 2.0 client over any :class:`Transport`.

    ``registration`` is the RFC 7591 registration when :meth:`register` built
    the client, else ``None``.

    Args:
        server: The authorization server's metadata (or use :meth:`discover`).
        client: The client registration and authentication.
        transport: Sends the requests; default :class:`Urllib3Transport`.
        **options: ``clock`` (returns an aware UTC datetime; dates JWT client
            assertions, DPoP proofs and ID token checks), ``dpop_key`` (a private
            JWK from ``oauth2_core.generate_dpop_key``: every token request carries
            a DPoP proof, RFC 9449, with the nonce retry), ``retry``
            (an ``oauth2_core.RetryPolicy`` for client credentials and refresh only,
            never for code exchange) and ``validate_id_token`` (default ``True``:
            ``exchange_code`` validates the ID token, OIDC Core §3.1.3.7, and sets
            ``token.id_token_claims``; ``refresh`` validates a new one against it,
            §12.2, or keeps it when the server sends none) and ``profile``
            (``"fapi2"``: the FAPI 2.0 Security Profile — PAR always, PKCE S256,
            ``iss`` required, and a ``UsageError`` before any request for a
            client or server that cannot meet it; with a ``dpop_key``, a token
            answer that is not ``DPoP``-bound is an ``oauth2_core.TokenBindingError``
            before anyone uses it; see ``oauth2_core.fapi``) and
            ``require_dpop_binding`` (``True``: that refusal without the profile;
            RFC 9449 §5 otherwise lets a server answer ``Bearer``) and
            ``dpop_nonces`` (an ``oauth2_core.DPoPNonces`` to read and keep the
            servers' DPoP nonces in, RFC 9449 §8.2, e.g. one shared with an
            auth hook; default: the client's own).
    """

    def __init__(
        self,
        server: ServerMetadata,
        client: Client,
        transport: Transport | None = None,
        **options: Any,
    ) -> None:
        super().__init__(server, client, **options)
        self.registration: ClientRegistration | None = None
        self.transport: Transport = transport if transport is not None else _default_transport()

    def _run(self, flow: Flow[T] | TimedFlow[T]) -> T:
        return run(flow, self.transport, clock=self.clock)

    def close(self) -> None:
        """Close the transport (its connection pool), if it has a ``close()``.

        Also done by leaving a ``with OAuth2Client(...) as c:`` block. A
        transport you share between clients is closed too: close the last one only.
        """
        close = getattr(self.transport, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @classmethod
    def discover(
        cls,
        issuer: str,
        client: Client,
        transport: Transport | None = None,
        *,
        openid: bool = False,
        merge: bool = False,
        overrides: Mapping[str, object] | None = None,
        **options: Any,
    ) -> OAuth2Client:
        """Fetch the server's metadata (RFC 8414, then OIDC Discovery) and build a client.

        The document's ``issuer`` must equal ``issuer`` exactly (RFC 8414 §3.3).

        Args:
            issuer: The issuer identifier.
            client: The client registration.
            transport: As for the constructor.
            openid: Only the OpenID Connect document.
            merge: Fetch both documents and fill the gaps of one from the other
                (same issuer required), for servers that split their metadata.
            overrides: Members to set on the result, for endpoints neither
                document lists (``{"device_authorization_endpoint": ...}``).
            **options: As for the constructor.
        """
        transport = transport if transport is not None else _default_transport()
        flow = discovery_flow(
            issuer, openid=openid, allow_insecure_http=client.allow_insecure_http, merge=merge
        )
        server = run(flow, transport)
        if overrides:
            server = server.updated(overrides)
        return cls(server, client, transport, **options)

    @classmethod
    def register(
        cls,
        server: ServerMetadata,
        metadata: Mapping[str, object],
        transport: Transport | None = None,
        *,
        redirect_uri: str | None = None,
        initial_access_token: str | None = None,
        allow_insecure_http: bool = False,
        **options: Any,
    ) -> OAuth2Client:
        """Register a client (RFC 7591 §3) and build a client that uses it.

        Args:
            server: The server's metadata, with ``registration_endpoint``.
            metadata: Client metadata (RFC 7591 §2): ``redirect_uris``,
                ``client_name``, ``token_endpoint_auth_method`` ...
            transport: As for the constructor.
            redirect_uri: The redirect URI of the new ``Client``; default the
                registered one, when exactly one was registered.
            initial_access_token: For a closed registration endpoint (RFC 7591 §3).
            allow_insecure_http: Allow plain http to non-loopback endpoints.
            **options: As for the constructor.

        Returns:
            The client: ``.client`` is the new ``oauth2_core.Client``,
            ``.registration`` the ``ClientRegistration`` (store it: it holds
            the client secret and the RFC 7592 registration access token).

        Raises:
            EndpointError: the server refused (``invalid_redirect_uri``,
                ``invalid_client_metadata`` ..., RFC 7591 §3.2.2).
            UsageError: no ``registration_endpoint``, or plain http.
        """
        transport = transport if transport is not None else _default_transport()
        flow = _registration_flow(server, metadata, initial_access_token, allow_insecure_http)
        registration = run(flow, transport)
        client = registration.client(
            redirect_uri=redirect_uri, allow_insecure_http=allow_insecure_http
        )
        new = cls(server, client, transport, **options)
        new.registration = registration
        return new

    def authorization_url(
        self,
        pending: PendingAuthorization,
        *,
        scope: object = None,
        par: bool | None = None,
        **params: object,
    ) -> str:
        """Where to send the user. Pushes the request first (RFC 9126) when ``par=True``
        or the server requires it; ``request_object=True`` signs the parameters into a
        request object with the client's ``signing_key`` (RFC 9101), pushed with PAR."""
        return self._run(self._authorization_url(pending, scope, par, params))

    def exchange_code(
        self, pending: PendingAuthorization, callback: object, **params: object
    ) -> Token:
        """Check the redirect (state, iss, error) and exchange its code for a token."""
        return self._run(self._exchange_code(pending, callback, params))

    def client_credentials(self, *, scope: object = None, **params: object) -> Token:
        """Client credentials grant (RFC 6749 §4.4); extra keywords are sent as parameters."""
        return self._run(self._client_credentials(scope, params))

    def password(
        self, username: str, password: str, *, scope: object = None, **params: object
    ) -> Token:
        """Resource owner password grant (RFC 6749 §4.3; legacy, see RFC 9700 §2.4)."""
        return self._run(self._password(username, password, scope, params))

    def grant(self, grant_type: str, **params: object) -> Token:
        """Any other grant type (JWT bearer, token exchange, ...)."""
        return self._run(self._grant(grant_type, params))

    def jwt_bearer(self, assertion: str, *, scope: object = None, **params: object) -> Token:
        """JWT bearer grant (RFC 7523 §2.1) with an assertion you supply."""
        return self._run(self._jwt_bearer(assertion, scope, params))

    def token_exchange(
        self, subject_token: str, subject_token_type: str, **params: object
    ) -> Token:
        """Token exchange (RFC 8693): ``actor_token``, ``audience``, ``resource``,
        ``requested_token_type``, ``scope`` as keywords; see ``token.issued_token_type``."""
        return self._run(self._token_exchange(subject_token, subject_token_type, params))

    def refresh(self, token: Token, **params: object) -> Token:
        """Refresh ``token``; keeps its refresh and ID token when the server sends none.

        A new ID token is validated and compared with the previous one (OIDC Core
        §12.2); a failure raises ``IdTokenError`` and ``token`` stays usable.
        """
        return self._run(self._refresh(token, params))

    def revoke(self, token: str, *, token_type_hint: str | None = None, **params: object) -> None:
        """Revoke a token (RFC 7009)."""
        self._run(self._revoke(token, token_type_hint, params))

    def introspect(
        self,
        token: str,
        *,
        token_type_hint: str | None = None,
        jwt: bool = False,
        **params: object,
    ) -> Introspection:
        """Ask about a token (RFC 7662); ``jwt=True`` asks for a signed answer (RFC 9701),
        verified against the server's keys, and refuses a plain one."""
        return self._run(self._introspect(token, token_type_hint, jwt, params))

    def device_authorization(
        self, *, scope: object = None, **params: object
    ) -> DeviceAuthorization:
        """Start a device authorization (RFC 8628 §3.1)."""
        return self._run(self._device_authorization(scope, params))

    def poll_device(
        self,
        auth: DeviceAuthorization,
        *,
        sleep: Callable[[float], object] | None = None,
        **params: object,
    ) -> Token:
        """Poll until the user approves (RFC 8628 §3.4); honours interval and slow_down."""
        flow = self._poll_device(auth, params)
        if sleep is None:
            return self._run(flow)
        return run(flow, self.transport, sleep=sleep, clock=self.clock)

    def backchannel_authentication(
        self, *, scope: object = "openid", **params: object
    ) -> BackchannelAuthentication:
        """Start a CIBA authentication, poll mode (OpenID Connect CIBA Core 1.0 §7.1).

        Keywords: exactly one of ``login_hint``, ``login_hint_token``,
        ``id_token_hint``; ``binding_message``, ``user_code``,
        ``requested_expiry`` and any extra parameter. Next: :meth:`poll_backchannel`.
        """
        return self._run(self._backchannel_authentication(scope, params))

    def poll_backchannel(
        self,
        auth: BackchannelAuthentication,
        *,
        sleep: Callable[[float], object] | None = None,
        **params: object,
    ) -> Token:
        """Poll until the user decides (CIBA Core 1.0 §10.1, §11), as :meth:`poll_device` does.

        Honours ``interval`` (5 s when absent) and ``slow_down``; raises
        ``AccessDeniedError`` on a refusal, ``BackchannelExpiredError`` on expiry.
        """
        flow = self._poll_backchannel(auth, params)
        if sleep is None:
            return self._run(flow)
        return run(flow, self.transport, sleep=sleep)

    def pushed_authorization(
        self, pending: PendingAuthorization, *, scope: object = None, **params: object
    ) -> PushedAuthorization:
        """Push the authorization request (RFC 9126) and return its ``request_uri``."""
        return self._run(self._push(pending, scope, params))

    def userinfo(self, token: Token) -> UserInfo:
        """Fetch the OpenID Connect UserInfo claims (OIDC Core §5.3).

        Raises ``MalformedResponseError`` (field ``sub``) when the answer's ``sub``
        is not the token's ID token's (§5.3.2), for JSON and signed answers alike.
        """
        return self._run(self._userinfo(token))


class AsyncOAuth2Client(ClientFlows):
    """The asyncio twin of :class:`OAuth2Client`: the same flows, awaited.

    Args:
        server: The authorization server's metadata (or use :meth:`discover`).
        client: The client registration and authentication.
        transport: Sends the requests; default :class:`AsyncHttpxTransport`.
        **options: As for :class:`OAuth2Client`.
    """

    def __init__(
        self,
        server: ServerMetadata,
        client: Client,
        transport: AsyncTransport | None = None,
        **options: Any,
    ) -> None:
        super().__init__(server, client, **options)
        self.registration: ClientRegistration | None = None
        self.transport: AsyncTransport = (
            transport if transport is not None else _default_async_transport()
        )

    async def _run(self, flow: Flow[T] | TimedFlow[T]) -> T:
        return await arun(flow, self.transport, clock=self.clock)

    async def aclose(self) -> None:
        """Close the transport: its ``aclose()`` (awaited) or ``close()``, if it has one.

        Also done by leaving an ``async with AsyncOAuth2Client(...) as c:`` block.
        """
        aclose = getattr(self.transport, "aclose", None)
        if callable(aclose):
            await aclose()
            return
        close = getattr(self.transport, "close", None)
        if callable(close):
            result = close()
            if inspect.isawaitable(result):
                await result

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @classmethod
    async def discover(
        cls,
        issuer: str,
        client: Client,
        transport: AsyncTransport | None = None,
        *,
        openid: bool = False,
        merge: bool = False,
        overrides: Mapping[str, object] | None = None,
        **options: Any,
    ) -> AsyncOAuth2Client:
        """Fetch the server's metadata (RFC 8414, then OIDC Discovery) and build a client.

        Arguments as for :meth:`OAuth2Client.discover`.
        """
        transport = transport if transport is not None else _default_async_transport()
        flow = discovery_flow(
            issuer, openid=openid, allow_insecure_http=client.allow_insecure_http, merge=merge
        )
        server = await arun(flow, transport)
        if overrides:
            server = server.updated(overrides)
        return cls(server, client, transport, **options)

    @classmethod
    async def register(
        cls,
        server: ServerMetadata,
        metadata: Mapping[str, object],
        transport: AsyncTransport | None = None,
        *,
        redirect_uri: str | None = None,
        initial_access_token: str | None = None,
        allow_insecure_http: bool = False,
        **options: Any,
    ) -> AsyncOAuth2Client:
        """Register a client (RFC 7591 §3); as :meth:`OAuth2Client.register`."""
        transport = transport if transport is not None else _default_async_transport()
        flow = _registration_flow(server, metadata, initial_access_token, allow_insecure_http)
        registration = await arun(flow, transport)
        client = registration.client(
            redirect_uri=redirect_uri, allow_insecure_http=allow_insecure_http
        )
        new = cls(server, client, transport, **options)
        new.registration = registration
        return new

    async def authorization_url(
        self,
        pending: PendingAuthorization,
        *,
        scope: object = None,
        par: bool | None = None,
        **params: object,
    ) -> str:
        """Where to send the user; pushes first when ``par=True`` or required."""
        return await self._run(self._authorization_url(pending, scope, par, params))

    async def exchange_code(
        self, pending: PendingAuthorization, callback: object, **params: object
    ) -> Token:
        """Check the redirect (state, iss, error) and exchange its code for a token."""
        return await self._run(self._exchange_code(pending, callback, params))

    async def client_credentials(self, *, scope: object = None, **params: object) -> Token:
        """Client credentials grant (RFC 6749 §4.4)."""
        return await self._run(self._client_credentials(scope, params))

    async def password(
        self, username: str, password: str, *, scope: object = None, **params: object
    ) -> Token:
        """Resource owner password grant (legacy)."""
        return await self._run(self._password(username, password, scope, params))

    async def grant(self, grant_type: str, **params: object) -> Token:
        """Any other grant type."""
        return await self._run(self._grant(grant_type, params))

    async def jwt_bearer(self, assertion: str, *, scope: object = None, **params: object) -> Token:
        """JWT bearer grant (RFC 7523 §2.1) with an assertion you supply."""
        return await self._run(self._jwt_bearer(assertion, scope, params))

    async def token_exchange(
        self, subject_token: str, subject_token_type: str, **params: object
    ) -> Token:
        """Token exchange (RFC 8693)."""
        return await self._run(self._token_exchange(subject_token, subject_token_type, params))

    async def refresh(self, token: Token, **params: object) -> Token:
        """Refresh ``token``; keeps its refresh and ID token when the server sends none.

        A new ID token is validated and compared with the previous one (OIDC Core
        §12.2); a failure raises ``IdTokenError`` and ``token`` stays usable.
        """
        return await self._run(self._refresh(token, params))

    async def revoke(
        self, token: str, *, token_type_hint: str | None = None, **params: object
    ) -> None:
        """Revoke a token (RFC 7009)."""
        await self._run(self._revoke(token, token_type_hint, params))

    async def introspect(
        self,
        token: str,
        *,
        token_type_hint: str | None = None,
        jwt: bool = False,
        **params: object,
    ) -> Introspection:
        """Ask about a token (RFC 7662); ``jwt=True`` asks for a signed answer (RFC 9701),
        verified against the server's keys, and refuses a plain one."""
        return await self._run(self._introspect(token, token_type_hint, jwt, params))

    async def device_authorization(
        self, *, scope: object = None, **params: object
    ) -> DeviceAuthorization:
        """Start a device authorization (RFC 8628 §3.1)."""
        return await self._run(self._device_authorization(scope, params))

    async def poll_device(self, auth: DeviceAuthorization, **params: object) -> Token:
        """Poll until the user approves; honours interval and slow_down."""
        return await self._run(self._poll_device(auth, params))

    async def backchannel_authentication(
        self, *, scope: object = "openid", **params: object
    ) -> BackchannelAuthentication:
        """Start a CIBA authentication, poll mode (OpenID Connect CIBA Core 1.0 §7.1)."""
        return await self._run(self._backchannel_authentication(scope, params))

    async def poll_backchannel(self, auth: BackchannelAuthentication, **params: object) -> Token:
        """Poll until the user decides (CIBA Core 1.0 §10.1, §11); as :meth:`poll_device`."""
        return await self._run(self._poll_backchannel(auth, params))

    async def pushed_authorization(
        self, pending: PendingAuthorization, *, scope: object = None, **params: object
    ) -> PushedAuthorization:
        """Push the authorization request (RFC 9126)."""
        return await self._run(self._push(pending, scope, params))

    async def userinfo(self, token: Token) -> UserInfo:
        """Fetch the OpenID Connect UserInfo claims."""
        return await self._run(self._userinfo(token))
