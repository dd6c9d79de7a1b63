"""Token endpoint requests, one builder per grant (RFC 6749 §4.1.3, §4.3.2, §4.4.2, §6).

Every builder returns an :class:`HttpRequest` for ``POST token_endpoint`` with
a form body, ``Accept: application/json`` (GitHub answers form-encoded without
it) and the client's authentication applied by :func:`client.authenticate`.
Extra keyword parameters (``resource=[...]``, ``audience=...``) are added;
a list repeats the parameter. Next: ``process_token_response``.
"""

from __future__ import annotations

from collections.abc import Mapping

from oauth2_core._http import HttpRequest
from oauth2_core._params import Params, add_params, encode_form, scope_string
from oauth2_core.authorize import AuthorizationCode, PendingAuthorization
from oauth2_core.client import Client, authenticate, check_endpoint
from oauth2_core.errors import UsageError
from oauth2_core.metadata import ServerMetadata
from oauth2_core.token import Token

__all__ = [
    "authorization_code_grant_request",
    "client_credentials_grant_request",
    "endpoint_request",
    "password_grant_request",
    "refresh_token_grant_request",
    "token_request",
]

_AUTH_RESERVED = frozenset(
    {"client_id", "client_secret", "client_assertion", "client_assertion_type"}
)


def endpoint_request(
    server: ServerMetadata,
    client: Client,
    *,
    endpoint: str,
    params: Params,
    extra: Mapping[str, object] | None = None,
    reserved: frozenset[str] = frozenset(),
    headers: Mapping[str, str] | None = None,
) -> HttpRequest:
    """A client-authenticated form POST to the metadata endpoint named ``endpoint``.

    The one place that applies the https rule and client authentication, so
    token, revocation, introspection, device authorization and PAR behave
    identically.
    """
    url = check_endpoint(
        getattr(server, endpoint, None),
        what=endpoint,
        allow_insecure_http=client.allow_insecure_http,
    )
    body = list(params)
    if extra:
        add_params(body, extra, reserved=reserved | _AUTH_RESERVED | {name for name, _ in params})
    fields = {
        "content-type": "application/x-www-form-urlencoded",
        "accept": "application/json",
    }
    if headers:
        fields.update({k.lower(): v for k, v in headers.items()})
    audience = server.issuer if client.assertion_audience == "issuer" else url
    authenticate(client, body, fields, audience=audience)
    return HttpRequest("POST", url, fields, encode_form(body))


def token_request(
    server: ServerMetadata, client: Client, grant_type: str, **params: object
) -> HttpRequest:
    """A token request for any grant type (extension grants, RFC 6749 §4.5).

    Args:
        server: Server metadata with ``token_endpoint``.
        client: The client.
        grant_type: The ``grant_type`` value.
        **params: The grant's parameters; a list repeats the parameter.

    Returns:
        The request. Next: ``process_token_response``.
    """
    if not isinstance(grant_type, str) or not grant_type:
        raise UsageError("grant_type must be a non-empty string")
    return endpoint_request(
        server,
        client,
        endpoint="token_endpoint",
        params=[("grant_type", grant_type)],
        extra=params,
    )


def authorization_code_grant_request(
    server: ServerMetadata,
    client: Client,
    code: AuthorizationCode,
    pending: PendingAuthorization,
    **params: object,
) -> HttpRequest:
    """Exchange an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.5).

    Sends the ``code_verifier`` and ``redirect_uri`` kept in ``pending``.

    Args:
        server: Server metadata with ``token_endpoint``.
        client: The client.
        code: From :func:`parse_callback`.
        pending: The pending authorization the code answers.
        **params: Extra parameters (``resource`` ...).

    Returns:
        The request. Next: ``process_token_response``.
    """
    if not isinstance(code, AuthorizationCode):
        raise UsageError("code must be the AuthorizationCode returned by parse_callback")
    if not isinstance(pending, PendingAuthorization):
        raise UsageError("pending must be a PendingAuthorization")
    body: Params = [("grant_type", "authorization_code"), ("code", code.code)]
    if pending.redirect_uri:
        body.append(("redirect_uri", pending.redirect_uri))
    if pending.code_verifier is not None:
        body.append(("code_verifier", pending.code_verifier))
    return endpoint_request(server, client, endpoint="token_endpoint", params=body, extra=params)


def refresh_token_grant_request(
    server: ServerMetadata,
    client: Client,
    token: Token | str,
    *,
    scope: object = None,
    **params: object,
) -> HttpRequest:
    """Refresh an access token (RFC 6749 §6).

    Args:
        server: Server metadata with ``token_endpoint``.
        client: The client.
        token: The token whose refresh token to use (or the refresh token itself).
        scope: A narrower scope; omit to keep the granted one.
        **params: Extra parameters.

    Returns:
        The request. Next: ``process_refresh_response(response, previous=token)``.

    Raises:
        UsageError: the token has no refresh token.
    """
    refresh = token.refresh_token if isinstance(token, Token) else token
    if not isinstance(refresh, str) or not refresh:
        raise UsageError("the token has no refresh_token; authorize again")
    body: Params = [("grant_type", "refresh_token"), ("refresh_token", refresh)]
    scope_value = scope_string(scope)
    if scope_value:
        body.append(("scope", scope_value))
    return endpoint_request(server, client, endpoint="token_endpoint", params=body, extra=params)


def client_credentials_grant_request(
    server: ServerMetadata, client: Client, *, scope: object = None, **params: object
) -> HttpRequest:
    """A client credentials grant (RFC 6749 §4.4.2).

    Returns:
        The request. Next: ``process_token_response``.
    """
    body: Params = [("grant_type", "client_credentials")]
    scope_value = scope_string(scope)
    if scope_value:
        body.append(("scope", scope_value))
    return endpoint_request(server, client, endpoint="token_endpoint", params=body, extra=params)


def password_grant_request(
    server: ServerMetadata,
    client: Client,
    username: str,
    password: str,
    *,
    scope: object = None,
    **params: object,
) -> HttpRequest:
    """A resource owner password credentials grant (RFC 6749 §4.3.2).

    RFC 9700 §2.4 says this grant MUST NOT be used; it is here for legacy
    servers that offer nothing else.

    Returns:
        The request. Next: ``process_token_response``.
    """
    if not isinstance(username, str) or not isinstance(password, str):
        raise UsageError("username and password must be strings")
    body: Params = [
        ("grant_type", "password"),
        ("username", username),
        ("password", password),
    ]
    scope_value = scope_string(scope)
    if scope_value:
        body.append(("scope", scope_value))
    return endpoint_request(server, client, endpoint="token_endpoint", params=body, extra=params)
