"""Flows: protocol steps chained into generators that a driver runs.

Each flow yields :class:`Send` and returns a value; it holds no protocol logic
of its own, only the order of the step pairs. ``oauth2_transports.run`` and
``arun`` drive the same flow over a sync or an async transport, so both share
every line of protocol code (the pattern of httpx's auth flows).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import TypeVar

from oauth2_core._http import Flow, HttpRequest, HttpResponse, Send
from oauth2_core.authorize import PendingAuthorization, parse_callback
from oauth2_core.client import Client
from oauth2_core.grants import authorization_code_grant_request, refresh_token_grant_request
from oauth2_core.id_token_refresh import refreshed_id_token_flow
from oauth2_core.introspection import Introspection, process_introspection_response
from oauth2_core.jwks import JwksCache
from oauth2_core.metadata import ServerMetadata
from oauth2_core.revocation import process_revocation_response
from oauth2_core.token import Token, process_refresh_response, process_token_response

__all__ = [
    "code_exchange_flow",
    "introspection_flow",
    "refresh_flow",
    "revocation_flow",
    "step_flow",
    "token_flow",
]

T = TypeVar("T")


def step_flow(request: HttpRequest, process: Callable[[HttpResponse], T]) -> Flow[T]:
    """One request, one processor: the smallest flow."""
    response = yield Send(request)
    return process(response)


def token_flow(request: HttpRequest) -> Flow[Token]:
    """Send a token request and process the answer (RFC 6749 §5)."""
    return (yield from step_flow(request, process_token_response))


def refresh_flow(
    server: ServerMetadata,
    client: Client,
    token: Token,
    *,
    now: _dt.datetime | None = None,
    jwks_cache: JwksCache | None = None,
    validate_id_token: bool = True,
    **params: object,
) -> Flow[Token]:
    """Refresh ``token``, keeping what the server omits (RFC 6749 §6, OIDC Core §12.2).

    The refresh token, scope and ID token (with its claims) of ``token`` stay
    when the answer has none. A new ID token is validated like the first one
    and against it (``refreshed_id_token_flow``: signature, ``iss``, ``sub``,
    ``aud``, ``exp``, ``iat``, ...), at the answer's ``received_at``; the JWK
    set is fetched only when needed.

    Args:
        server, client, token: The server, the client and the token to refresh.
        now: When the request is sent; required for JWT client authentication.
        jwks_cache: The server's JWK set cache (keep one per server).
        validate_id_token: ``False`` leaves a new ID token unvalidated
            (``id_token_claims`` ``None``); an explicit opt-out.
        params: Extra request parameters (``scope``, ``resource``).

    Raises:
        EndpointError, MalformedResponseError: as ``process_refresh_response``.
        IdTokenError: the new ID token failed a check; the old token stays yours.
    """
    request = refresh_token_grant_request(server, client, token, now=now, **params)
    response = yield Send(request)
    refreshed = process_refresh_response(response, previous=token)
    if not validate_id_token:
        return refreshed
    return (
        yield from refreshed_id_token_flow(
            refreshed,
            previous=token,
            server=server,
            client=client,
            now=response.received_at,
            jwks_cache=jwks_cache,
        )
    )


def code_exchange_flow(
    server: ServerMetadata,
    client: Client,
    pending: PendingAuthorization,
    callback: object,
    *,
    now: _dt.datetime | None = None,
    **params: object,
) -> Flow[Token]:
    """Check the redirect, then exchange the code (RFC 6749 §4.1.2 and §4.1.3).

    ``now`` (when the request is sent) is required for JWT client authentication.
    """
    code = parse_callback(callback, server=server, pending=pending)
    request = authorization_code_grant_request(server, client, code, pending, now=now, **params)
    return (yield from token_flow(request))


def revocation_flow(request: HttpRequest) -> Flow[None]:
    """Send a revocation request (RFC 7009)."""
    return (yield from step_flow(request, process_revocation_response))


def introspection_flow(request: HttpRequest) -> Flow[Introspection]:
    """Send an introspection request (RFC 7662)."""
    return (yield from step_flow(request, process_introspection_response))
