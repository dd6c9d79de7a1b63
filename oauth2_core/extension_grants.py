"""Extension grants: JWT bearer assertions (RFC 7523 §2.1) and token exchange (RFC 8693).

Both are token endpoint requests (RFC 6749 §4.5) built like every other grant:
form body, client authentication as configured, extra keyword parameters added
(a list repeats the parameter). Next: ``process_token_response``; a token
exchange answer's ``Token.issued_token_type`` says what was issued, and its
``token_type`` may be ``N_A`` (RFC 8693 §2.2.1).
"""

from __future__ import annotations

import datetime as _dt

from oauth2_core._http import HttpRequest
from oauth2_core._params import Params, add_params, scope_string
from oauth2_core.client import Client
from oauth2_core.errors import UsageError
from oauth2_core.grants import endpoint_request
from oauth2_core.metadata import ServerMetadata

__all__ = [
    "JWT_BEARER_GRANT_TYPE",
    "TOKEN_EXCHANGE_GRANT_TYPE",
    "TOKEN_TYPE_ACCESS_TOKEN",
    "TOKEN_TYPE_ID_TOKEN",
    "TOKEN_TYPE_JWT",
    "TOKEN_TYPE_REFRESH_TOKEN",
    "TOKEN_TYPE_SAML1",
    "TOKEN_TYPE_SAML2",
    "jwt_bearer_grant_request",
    "token_exchange_grant_request",
]

#: The ``grant_type`` of the JWT bearer grant (RFC 7523 §2.1).
JWT_BEARER_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: The ``grant_type`` of token exchange (RFC 8693 §2.1).
TOKEN_EXCHANGE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
# RFC 8693 §3: token type identifiers.
#: Token type identifier for an OAuth access token (RFC 8693 §3).
TOKEN_TYPE_ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"
#: Token type identifier for an OAuth refresh token (RFC 8693 §3).
TOKEN_TYPE_REFRESH_TOKEN = "urn:ietf:params:oauth:token-type:refresh_token"
#: Token type identifier for an OpenID Connect ID token (RFC 8693 §3).
TOKEN_TYPE_ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
#: Token type identifier for a SAML 1.1 assertion (RFC 8693 §3).
TOKEN_TYPE_SAML1 = "urn:ietf:params:oauth:token-type:saml1"
#: Token type identifier for a SAML 2.0 assertion (RFC 8693 §3).
TOKEN_TYPE_SAML2 = "urn:ietf:params:oauth:token-type:saml2"
#: Token type identifier for a JWT (RFC 8693 §3).
TOKEN_TYPE_JWT = "urn:ietf:params:oauth:token-type:jwt"


def _required(name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise UsageError(f"{name} must be a non-empty string")
    return value


def jwt_bearer_grant_request(
    server: ServerMetadata,
    client: Client,
    assertion: str,
    *,
    scope: object = None,
    now: _dt.datetime | None = None,
    **params: object,
) -> HttpRequest:
    """Exchange a JWT assertion for an access token (RFC 7523 §2.1).

    Client authentication is applied as configured; RFC 7523 §3.1 makes it
    optional for this grant (use ``auth_method="none"`` to send only ``client_id``).

    Args:
        server: Server metadata with ``token_endpoint``.
        client: The client.
        assertion: The signed JWT (compact serialization), made by the caller.
        scope: A string or an iterable of strings.
        now: When the request is sent; required for JWT client authentication.
        **params: Extra parameters (``resource`` ...).

    Returns:
        The request. Next: ``process_token_response``.

    Raises:
        UsageError: an empty assertion, no token endpoint, plain http.
    """
    body: Params = [
        ("grant_type", JWT_BEARER_GRANT_TYPE),
        ("assertion", _required("assertion", assertion)),
    ]
    scope_value = scope_string(scope)
    if scope_value:
        body.append(("scope", scope_value))
    return endpoint_request(
        server, client, endpoint="token_endpoint", params=body, extra=params, now=now
    )


def token_exchange_grant_request(
    server: ServerMetadata,
    client: Client,
    subject_token: str,
    subject_token_type: str,
    *,
    actor_token: str | None = None,
    actor_token_type: str | None = None,
    requested_token_type: str | None = None,
    audience: object = None,
    resource: object = None,
    scope: object = None,
    now: _dt.datetime | None = None,
    **params: object,
) -> HttpRequest:
    """A token exchange request (RFC 8693 §2.1).

    Args:
        server: Server metadata with ``token_endpoint``.
        client: The client.
        subject_token: The token representing the party on whose behalf the
            request is made.
        subject_token_type: Its type (``TOKEN_TYPE_ACCESS_TOKEN`` ...).
        actor_token: The acting party's token, for delegation.
        actor_token_type: Its type; required exactly when ``actor_token`` is given.
        requested_token_type: The type of token wanted.
        audience: Logical name(s) of the target service; a list repeats the parameter.
        resource: URI(s) of the target service (RFC 8707); a list repeats it.
        scope: A string or an iterable of strings.
        now: When the request is sent; required for JWT client authentication.
        **params: Extra parameters.

    Returns:
        The request. Next: ``process_token_response`` (see
        ``Token.issued_token_type``).

    Raises:
        UsageError: a missing subject token or type, ``actor_token`` without
            ``actor_token_type`` or the reverse, no token endpoint, plain http.
    """
    body: Params = [("grant_type", TOKEN_EXCHANGE_GRANT_TYPE)]
    add_params(body, {"resource": resource, "audience": audience}, reserved=())
    scope_value = scope_string(scope)
    if scope_value:
        body.append(("scope", scope_value))
    if requested_token_type is not None:
        body.append(
            ("requested_token_type", _required("requested_token_type", requested_token_type))
        )
    body.append(("subject_token", _required("subject_token", subject_token)))
    body.append(("subject_token_type", _required("subject_token_type", subject_token_type)))
    if (actor_token is None) != (actor_token_type is None):
        # RFC 8693 §2.1: actor_token_type "is REQUIRED when the actor_token parameter
        # is present in the request but MUST NOT be included otherwise".
        raise UsageError("actor_token and actor_token_type must be given together")
    if actor_token is not None:
        body.append(("actor_token", _required("actor_token", actor_token)))
        body.append(("actor_token_type", _required("actor_token_type", actor_token_type)))
    return endpoint_request(
        server, client, endpoint="token_endpoint", params=body, extra=params, now=now
    )
