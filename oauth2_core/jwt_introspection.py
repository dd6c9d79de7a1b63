"""JWT responses for token introspection (RFC 9701).

The client asks for ``Accept: application/token-introspection+jwt`` (RFC 9701
§4) and the server answers a signed JWT (§5) whose ``token_introspection``
claim holds the RFC 7662 §2.2 members. :func:`process_jwt_introspection_response`
verifies it through the core's one JWT verifier (``oauth2_core.jws_verify``:
``alg`` never ``none``, ``crit``, the signature against the server's JWK set,
``exp`` / ``nbf`` when present), then RFC 9701 §5's claims: header ``typ``
``token-introspection+jwt``, ``iss`` the server's issuer, ``aud`` this client,
``iat`` present (§5: "iat ... REQUIRED"). Only then is ``token_introspection``
read, with the checks of ``process_introspection_response``.

No silent downgrade: a 2xx answer that is not a signed JWT is refused
(RFC 9701 §8.1: the point is that the answer can be relied on, and a plain
JSON one could have come from anyone between the client and the server).
Encrypted answers (JWE, §4) are not supported.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from typing import Any

from oauth2_core._http import Flow, HttpRequest, HttpResponse, Send
from oauth2_core.client import Client
from oauth2_core.errors import MalformedResponseError, UsageError
from oauth2_core.grants import endpoint_request
from oauth2_core.introspection import (
    Introspection,
    introspection_from_object,
    process_introspection_response,
)
from oauth2_core.jwks import JwksCache, verified_with_keys_flow
from oauth2_core.jws_verify import fail, verify_jwt
from oauth2_core.metadata import ServerMetadata

__all__ = [
    "INTROSPECTION_JWT_MEDIA_TYPE",
    "jwt_introspection_flow",
    "jwt_introspection_request",
    "process_jwt_introspection_response",
]

#: The media type of a signed introspection answer (RFC 9701 §4, §10.2).
INTROSPECTION_JWT_MEDIA_TYPE = "application/token-introspection+jwt"
# RFC 9701 §5 "typ"; RFC 7515 §4.1.9 lets the "application/" prefix be left out.
_TYPES = frozenset({"token-introspection+jwt", INTROSPECTION_JWT_MEDIA_TYPE})


def jwt_introspection_request(
    server: ServerMetadata,
    client: Client,
    token: str,
    *,
    token_type_hint: str | None = None,
    now: _dt.datetime | None = None,
    **params: object,
) -> HttpRequest:
    """Ask about ``token`` for a signed answer (RFC 7662 §2.1, RFC 9701 §4).

    The request of ``introspection_request`` with
    ``Accept: application/token-introspection+jwt``.

    Args:
        server, client: The server (``introspection_endpoint``) and the client.
        token: The token to introspect.
        token_type_hint: ``access_token`` or ``refresh_token``.
        now: When the request is sent; required for JWT client authentication.
        **params: Extra parameters.

    Returns:
        The request. Next: :func:`process_jwt_introspection_response`.

    Raises:
        UsageError: an empty token, no endpoint or plain http.
    """
    if not isinstance(token, str) or not token:
        raise UsageError("token must be a non-empty string")
    body = [("token", token)]
    if token_type_hint is not None:
        body.append(("token_type_hint", token_type_hint))
    return endpoint_request(
        server,
        client,
        endpoint="introspection_endpoint",
        params=body,
        extra=params,
        headers={"accept": INTROSPECTION_JWT_MEDIA_TYPE},
        now=now,
    )


def _compact(response: HttpResponse) -> str:
    if not 200 <= response.status < 300:
        process_introspection_response(response)  # raises the endpoint's error
        raise MalformedResponseError(
            "introspection failed without an error object", status=response.status
        )
    if response.content_type != INTROSPECTION_JWT_MEDIA_TYPE:
        raise MalformedResponseError(
            "asked for a signed introspection answer (RFC 9701) but got "
            f"{response.content_type or 'no media type'!r}; a plain answer is refused",
            field="content-type",
            status=response.status,
        )
    try:
        text = response.body.decode("ascii").strip()
    except UnicodeDecodeError:
        raise MalformedResponseError(
            "the signed introspection answer is not ASCII", status=response.status
        ) from None
    return text


def process_jwt_introspection_response(
    response: HttpResponse,
    *,
    server: ServerMetadata,
    client: Client,
    jwks: Mapping[str, Any] | None,
    leeway: float = 60,
    algorithms: Iterable[str] | None = None,
) -> Introspection:
    """Verify a signed introspection answer and read it (RFC 9701 §5).

    The JWT's time claims are checked at the answer's ``received_at``.

    Args:
        response: The introspection endpoint's answer.
        server: The server: ``iss`` must be its issuer; its
            ``introspection_signing_alg_values_supported`` (when listed) the
            accepted ``alg`` values, else any asymmetric one fitting the key.
        client: The client: ``aud`` must name it.
        jwks: The server's JWK set.
        leeway: Allowed clock skew in seconds (0 to 300).
        algorithms: Allowed ``alg`` values, instead of the server's list.

    Returns:
        What the server says about the token.

    Raises:
        EndpointError: an error status (401 for bad client authentication).
        MalformedResponseError: a 2xx answer that is not a signed JWT (no
            downgrade to plain JSON), or a ``token_introspection`` member of the
            wrong type.
        IdTokenError: a failed JWT check, named by ``.check`` (``format``,
            ``alg``, ``crit``, ``kid``, ``signature``, ``typ``, ``iss``,
            ``aud``, ``iat``, ``exp``, ``token_introspection``); ``"kid"``
            means fetch the JWK set again; an encrypted (JWE) answer fails ``format``.
        UsageError: the ``jwt`` extra missing.
    """
    verified = verify_jwt(
        _compact(response),
        client=client,
        jwks=jwks,
        allowed=(
            tuple(algorithms)
            if algorithms is not None
            else server.introspection_signing_alg_values_supported
        ),
        now=response.received_at,
        leeway=leeway,
        required_times=("iat",),
    )
    typ = verified.header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in _TYPES:
        fail("typ", "the header's typ is not token-introspection+jwt (RFC 9701 §5)")
    claims = verified.claims
    if claims.get("iss") != server.issuer:
        fail("iss", "iss is not the server's issuer (RFC 9701 §5)")
    aud = claims.get("aud")
    audiences = (aud,) if isinstance(aud, str) else aud
    if not isinstance(audiences, list | tuple) or client.client_id not in audiences:
        fail("aud", "the client is not an audience (RFC 9701 §5)")
    inner = claims.get("token_introspection")
    if not isinstance(inner, dict):
        fail("token_introspection", "the token_introspection claim must be a JSON object")
    return introspection_from_object(inner, status=response.status)


def jwt_introspection_flow(
    request: HttpRequest,
    *,
    server: ServerMetadata,
    client: Client,
    jwks_cache: JwksCache | None = None,
    leeway: float = 60,
) -> Flow[Introspection]:
    """Send a signed-introspection request and verify the answer (RFC 9701).

    The server's JWK set is fetched when the cache has none, and once more
    (rate-limited by the cache) when the answer names an unknown ``kid``.

    Args:
        request: From :func:`jwt_introspection_request`.
        server, client: The server and the client.
        jwks_cache: The server's JWK set cache (keep one per server).
        leeway: Allowed clock skew in seconds (0 to 300).

    Returns:
        What the server says about the token.

    Raises:
        As :func:`process_jwt_introspection_response`.
    """
    response = yield Send(request)
    return (
        yield from verified_with_keys_flow(
            lambda keys: process_jwt_introspection_response(
                response,
                server=server,
                client=client,
                jwks=keys,
                leeway=leeway,
            ),
            server=server,
            cache=jwks_cache,
            now=response.received_at,
            allow_insecure_http=client.allow_insecure_http,
        )
    )
