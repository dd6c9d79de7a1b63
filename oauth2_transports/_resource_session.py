"""The resource-first authorization chain as a program of steps, and its persistence.

A *program* is a generator that yields core flows (to be run over a transport)
and :class:`AskUser` steps (to be answered by the caller's ``authorize(url)``),
and returns a :class:`Session`. ``_resource_auth`` drives the same program
synchronously or on an event loop, so sync and async share every line of it.
The programs only chain the core's steps (``resource_discovery_flow``,
``registration_request``, ``authorization_url_flow`` (a pushed request when the
server requires one, RFC 9126 §5), ``parse_callback``, the code grant); the
decisions are ``oauth2_core.resource_auth``'s.

:class:`SessionStore` keeps a session beside its token in any
:class:`~oauth2_transports.TokenStore`: under the reserved key
:data:`SESSION_KEY` of the saved token's ``extra`` (the issuer, the resource,
the RFC 7591 registration with its secret, what was asked), so a restarted
process neither registers again nor loses its refresh token.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any, NamedTuple

import attrs

from oauth2_core import (
    AccessRequest,
    BearerChallenge,
    Client,
    ClientRegistration,
    DPoPNonces,
    OAuth2Error,
    ServerMetadata,
    Token,
    UsageError,
    authorization_url_flow,
    discovery_flow,
    exchange_code_flow,
    first_access_request,
    needs_new_registration,
    new_pending_authorization,
    process_registration_response,
    registration_metadata,
    registration_request,
    resource_discovery_flow,
    supports_client_id_metadata_document,
    wait_flow,
)
from oauth2_core.dpop import DPoPKey
from oauth2_core.flows import step_flow
from oauth2_core.resource_metadata import ResourceMetadata
from oauth2_transports.store import TokenStore

__all__ = [
    "SESSION_KEY",
    "AskUser",
    "ChainSettings",
    "Program",
    "Session",
    "SessionStore",
    "authorization_program",
    "restore_program",
]

#: The key under which a session is saved in its token's ``extra``.
SESSION_KEY = "oauth2_transports.resource_session"


class AskUser(NamedTuple):
    """A step of a program: send the user to ``url``; the answer is the callback URL."""

    url: str


Program = Generator[Any, Any, "Session"]


@attrs.frozen
class ChainSettings:
    """How the chain finds its client and server (the ``for_resource`` arguments).

    ``dpop_key``: the caller's DPoP key (RFC 9449), or ``None``; never shown
    by ``repr``, never stored.
    """

    client: Client | None
    client_metadata: Mapping[str, object] | None
    client_id_metadata_url: str | None
    redirect_uri: str | None
    issuer: str | None
    allow_insecure_http: bool
    dpop_key: DPoPKey | None = attrs.field(default=None, repr=False)


@attrs.frozen(repr=False)
class Session:
    """One authorization's outcome: the resource, its server, the client and the token."""

    resource: str
    server: ServerMetadata
    client: Client
    registration: ClientRegistration | None
    asked: AccessRequest
    token: Token

    def saved(self) -> dict[str, Any]:
        """The JSON-safe record kept beside the token (secrets included)."""
        return {
            "issuer": self.server.issuer,
            "resource": self.resource,
            "client_id": self.client.client_id,
            "registration": None if self.registration is None else self.registration.to_dict(),
            "asked": {
                "scope": list(self.asked.scope or ()) or None,
                "acr_values": list(self.asked.acr_values or ()) or None,
                "max_age": self.asked.max_age,
            },
        }

    def __repr__(self) -> str:
        return f"Session(resource={self.resource!r}, issuer={self.server.issuer!r})"


def _redirect_uri(settings: ChainSettings) -> str | None:
    if settings.redirect_uri is not None:
        return settings.redirect_uri
    uris = (settings.client_metadata or {}).get("redirect_uris")
    if isinstance(uris, (list, tuple)) and uris and isinstance(uris[0], str):
        return uris[0]
    return None


def _register(
    settings: ChainSettings, rm: ResourceMetadata, server: ServerMetadata, scope: Any
) -> Generator[Any, Any, tuple[Client, ClientRegistration]]:
    if settings.client_metadata is None:
        if settings.client_id_metadata_url is not None:
            raise UsageError(
                f"the authorization server {server.issuer!r} does not advertise "
                "client_id_metadata_document_supported, so client_id_metadata_url= "
                "cannot be used; pass client_metadata= too (to register, RFC 7591) "
                "or client= with a pre-registered client"
            )
        raise UsageError("no client: pass client=, client_metadata= or client_id_metadata_url=")
    if not server.registration_endpoint:
        raise UsageError(
            f"the authorization server {server.issuer!r} offers no registration (RFC 7591): "
            "pass client= with a pre-registered client"
        )
    metadata = registration_metadata(settings.client_metadata, rm, server, scope=scope)
    request = registration_request(
        server, metadata, allow_insecure_http=settings.allow_insecure_http
    )
    registration = yield step_flow(request, process_registration_response)
    client = registration.client(
        redirect_uri=_redirect_uri(settings), allow_insecure_http=settings.allow_insecure_http
    )
    return client, registration


def _cimd_client(settings: ChainSettings, server: ServerMetadata) -> Client | None:
    url = settings.client_id_metadata_url
    if url is None or not supports_client_id_metadata_document(server):
        return None
    return Client(
        url,
        auth_method="none",
        redirect_uri=_redirect_uri(settings),
        allow_insecure_http=settings.allow_insecure_http,
    )


def authorization_program(
    settings: ChainSettings,
    url: str,
    challenge: BearerChallenge | None,
    *,
    previous: Session | None,
    ask: AccessRequest | None,
    dpop_nonces: DPoPNonces | None = None,
) -> Program:
    """The chain: discovery, a client, the user's consent, the token (RFC 9728, 7591, 8707).

    With ``settings.dpop_key`` the code is bound to the key (``dpop_jkt``,
    RFC 9449 §10) and the exchange carries a proof (§5), its nonce from and
    into ``dpop_nonces`` (§8).

    Args:
        settings: The ``for_resource`` arguments.
        url: The request URL the resource answered 401 or 403 to.
        challenge: Its Bearer challenge, if any.
        previous: The session whose token was refused, if any: a step-up keeps
            its resource, server and client; a fresh 401 discovers again and
            keeps its client when the issuer is the same.
        ask: What to ask for (a step-up); ``None``: the first request's scope.
        dpop_nonces: The hook's per-origin DPoP nonces.
    """
    if previous is not None and ask is not None:
        rm = ResourceMetadata(previous.resource, authorization_servers=[previous.server.issuer])
        server = previous.server
    else:
        rm, server = yield resource_discovery_flow(
            url,
            challenge=challenge,
            issuer=settings.issuer,
            allow_insecure_http=settings.allow_insecure_http,
        )
    if ask is None:
        ask = previous.asked if previous is not None else first_access_request(challenge, rm)
    registration: ClientRegistration | None = None
    if settings.client is not None:
        client = settings.client
    elif previous is not None and previous.server.issuer == server.issuer:
        client, registration = previous.client, previous.registration
    elif (cimd := _cimd_client(settings, server)) is not None:
        client = cimd
    else:
        client, registration = yield from _register(settings, rm, server, ask.scope)
    registered_again = False
    while True:
        pending = new_pending_authorization(client)
        try:
            # Pushed first (RFC 9126 §2) when the server requires it (§5).
            # scope, acr_values, max_age: strings (never par=, now= or dpop_key=)
            params: dict[str, Any] = {"resource": rm.resource, **ask.params()}
            # The time comes from the driver's clock (a Wait(0) step): a JWT
            # client assertion (private_key_jwt) dates the push and the exchange.
            now = yield wait_flow(0)
            where = yield authorization_url_flow(
                server, client, pending, now=now, dpop_key=settings.dpop_key, **params
            )
            callback = yield AskUser(where)
            now = yield wait_flow(0)
            # The core's exchange: callback checks (a signed JARM response
            # verified first), the code exchange, an ID token validated if any.
            token = yield exchange_code_flow(
                server,
                client,
                pending,
                callback,
                now=now,
                dpop_key=settings.dpop_key,
                dpop_nonces=dpop_nonces,
                resource=rm.resource,
            )
        except OAuth2Error as exc:
            # A server that limits a client to its registered scope refuses a
            # step-up scope as invalid_scope (at the PAR endpoint, in the
            # redirect or at the token endpoint): register once more with it.
            if (
                registration is None
                or registered_again
                or not needs_new_registration(exc, registration.metadata, ask.scope)
            ):
                raise
            registered_again = True
            client, registration = yield from _register(settings, rm, server, ask.scope)
            continue
        return Session(rm.resource, server, client, registration, ask, token)


def restore_program(settings: ChainSettings, token: Token, saved: Mapping[str, Any]) -> Program:
    """A session from a stored token and record: the issuer's metadata fetched again (RFC 8414).

    Raises:
        UsageError: the record does not fit these settings (another client).
    """
    issuer, resource = saved.get("issuer"), saved.get("resource")
    if not isinstance(issuer, str) or not isinstance(resource, str):
        raise UsageError("the stored session names no issuer or resource")
    if settings.issuer is not None and settings.issuer != issuer:
        raise UsageError("the stored session is for another authorization server")
    data = saved.get("registration")
    registration = ClientRegistration.from_dict(data) if isinstance(data, Mapping) else None
    if settings.client is not None:
        if saved.get("client_id") != settings.client.client_id:
            raise UsageError("the stored session is for another client")
        client, registration = settings.client, None
    elif registration is not None:
        client = registration.client(
            redirect_uri=_redirect_uri(settings), allow_insecure_http=settings.allow_insecure_http
        )
    elif (
        settings.client_id_metadata_url is not None
        and saved.get("client_id") == settings.client_id_metadata_url
    ):
        client = Client(
            str(saved["client_id"]),
            auth_method="none",
            redirect_uri=_redirect_uri(settings),
            allow_insecure_http=settings.allow_insecure_http,
        )
    else:
        raise UsageError("the stored session has no client these settings can use")
    asked = saved.get("asked")
    asked = asked if isinstance(asked, Mapping) else {}
    request = AccessRequest(
        scope=asked.get("scope"), acr_values=asked.get("acr_values"), max_age=asked.get("max_age")
    )
    server = yield discovery_flow(issuer, allow_insecure_http=settings.allow_insecure_http)
    return Session(resource, server, client, registration, request, token)


def _with_extra(token: Token, extra: Mapping[str, Any]) -> Token:
    data = token.to_dict()
    data["extra"] = dict(extra)
    return Token.from_dict(data)


class SessionStore:
    """A :class:`TokenStore` that keeps the current session beside each saved token.

    Args:
        inner: The caller's store (``FileTokenStore``, ``RedisTokenStore`` ...).
        current: Returns the session to save with a token (``None``: none yet).
    """

    def __init__(self, inner: TokenStore, current: Any) -> None:
        self.inner = inner
        self.lock = getattr(inner, "lock", None)
        self._current = current
        self.loaded: dict[str, Any] | None = None

    def load(self) -> Token | None:
        """The saved token without the session record (kept in :attr:`loaded`)."""
        token = self.inner.load()
        if token is None or SESSION_KEY not in token.extra:
            return token
        record = token.extra[SESSION_KEY]
        self.loaded = dict(record) if isinstance(record, Mapping) else None
        return _with_extra(token, {k: v for k, v in token.extra.items() if k != SESSION_KEY})

    def save(self, token: Token) -> None:
        """Save ``token`` with the current session's record."""
        session: Session | None = self._current()
        if session is not None:
            token = _with_extra(token, {**token.extra, SESSION_KEY: session.saved()})
        self.inner.save(token)

    def __repr__(self) -> str:
        return f"SessionStore({self.inner!r})"
