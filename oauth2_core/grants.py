"""Token endpoint requests, one builder per grant (RFC 6749 §4.1.3, §4.3.2, §4.4.2, §6).

Every builder returns an :class:`HttpRequest` for ``POST token_endpoint`` with
a form body, ``Accept: application/json`` (GitHub answers form-encoded without
it) and the client's authentication applied by :func:`client.authenticate`.
Extra keyword parameters (``resource=[...]``, ``audience=...``) are added;
a list repeats the parameter. Next: ``process_token_response``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping

from oauth2_core._http import Headers, HttpRequest
from oauth2_core._params import Params, add_params, encode_form, scope_string
from oauth2_core.callback import AuthorizationCode
from oauth2_core.client import Client
from oauth2_core.client_auth import authenticate
from oauth2_core.errors import UsageError
from oauth2_core.metadata import ServerMetadata
from oauth2_core.pending import PendingAuthorization
from oauth2_core.token import Token

__all__ = [
    "authorization_code_grant_request",
    "client_credentials_grant_request",
    "endpoint_for",
    "endpoint_request",
    "password_grant_request",
    "refresh_token_grant_request",
    "token_request",
]

_AUTH_RESERVED = frozenset(
    {"client_id", "client_secret", "client_assertion", "client_assertion_type"}
)


def endpoint_for(server: ServerMetadata, name: str, *, mtls: bool) -> str | None:
    """The URL of the endpoint ``name``, or its mTLS alias (RFC 8705 §5).

    A client doing mutual TLS uses ``mtls_endpoint_aliases[name]`` "in
    preference to the conventional endpoints" when the server has it. The
    certificate is the transport's: ``Urllib3Transport(pool=PoolManager(cert_file=...,
    key_file=...))``, ``RequestsTransport(session)`` with ``session.cert = (cert, key)``,
    ``HttpxTransport(httpx.Client(verify=ctx))`` with ``ctx.load_cert_chain(cert, key)``
    (httpx 0.28 deprecates ``cert=``).

    Args:
        server: The server metadata.
        name: A metadata member, e.g. ``"token_endpoint"``.
        mtls: Whether the client presents a TLS client certificate.

    Returns:
        The URL, or ``None`` when the server has no such endpoint.

    Raises:
        UsageError: ``name`` is not an endpoint member of :class:`ServerMetadata`.
    """
    if not name.endswith("_endpoint") or not hasattr(server, name):
        raise UsageError(f"{name!r} is not an endpoint of the server metadata")
    aliases = server.mtls_endpoint_aliases
    if mtls and aliases and isinstance(aliases.get(name), str) and aliases[name]:
        return aliases[name]
    url: str | None = getattr(server, name)
    return url


def endpoint_request(
    server: ServerMetadata,
    client: Client,
    *,
    endpoint: str,
    params: Params,
    extra: Mapping[str, object] | None = None,
    reserved: frozenset[str] = frozenset(),
    headers: Mapping[str, str] | None = None,
    now: _dt.datetime | None = None,
) -> HttpRequest:
    """A client-authenticated form POST to the metadata endpoint named ``endpoint``.

    The one place that applies the https rule, the mTLS endpoint aliases
    (:func:`endpoint_for`) and client authentication, so token, revocation,
    introspection, device authorization and PAR behave identically.

    ``now`` (an aware datetime: when the request is sent) dates the client
    assertion of ``private_key_jwt`` / ``client_secret_jwt`` (RFC 7523 §3); those
    methods raise :class:`UsageError` without it, the others ignore it.
    """
    mtls = client.use_mtls_endpoint_aliases
    url = client.check_url(endpoint_for(server, endpoint, mtls=mtls), what=endpoint)
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
    authenticate(client, body, fields, audience=audience, now=now)
    # The caller's fields are checked by Headers; ours alone are known-good strings.
    return HttpRequest(
        "POST", url, fields if headers else Headers._trusted(fields.items()), encode_form(body)
    )


def token_request(
    server: ServerMetadata,
    client: Client,
    grant_type: str,
    *,
    now: _dt.datetime | None = None,
    **params: object,
) -> HttpRequest:
    """A token request for any grant type (extension grants, RFC 6749 §4.5).

    Args:
        server: Server metadata with ``token_endpoint``.
        client: The client.
        grant_type: The ``grant_type`` value.
        now: When the request is sent; required for JWT client authentication.
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
        now=now,
    )


def authorization_code_grant_request(
    server: ServerMetadata,
    client: Client,
    code: AuthorizationCode,
    pending: PendingAuthorization,
    *,
    now: _dt.datetime | None = None,
    **params: object,
) -> HttpRequest:
    """Exchange an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.5).

    Sends the ``code_verifier`` and ``redirect_uri`` kept in ``pending``.

    Args:
        server: Server metadata with ``token_endpoint``.
        client: The client.
        code: From :func:`parse_callback`.
        pending: The pending authorization the code answers.
        now: When the request is sent; required for JWT client authentication.
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
    return endpoint_request(
        server, client, endpoint="token_endpoint", params=body, extra=params, now=now
    )


def refresh_token_grant_request(
    server: ServerMetadata,
    client: Client,
    token: Token | str,
    *,
    scope: object = None,
    now: _dt.datetime | None = None,
    **params: object,
) -> HttpRequest:
    """Refresh an access token (RFC 6749 §6).

    Args:
        server: Server metadata with ``token_endpoint``.
        client: The client.
        token: The token whose refresh token to use (or the refresh token itself).
        scope: A narrower scope; omit to keep the granted one.
        now: When the request is sent; required for JWT client authentication.
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
    return endpoint_request(
        server, client, endpoint="token_endpoint", params=body, extra=params, now=now
    )


def client_credentials_grant_request(
    server: ServerMetadata,
    client: Client,
    *,
    scope: object = None,
    now: _dt.datetime | None = None,
    **params: object,
) -> HttpRequest:
    """A client credentials grant (RFC 6749 §4.4.2).

    ``now`` (when the request is sent) is required for JWT client authentication.

    Returns:
        The request. Next: ``process_token_response``.
    """
    body: Params = [("grant_type", "client_credentials")]
    scope_value = scope_string(scope)
    if scope_value:
        body.append(("scope", scope_value))
    return endpoint_request(
        server, client, endpoint="token_endpoint", params=body, extra=params, now=now
    )


def password_grant_request(
    server: ServerMetadata,
    client: Client,
    username: str,
    password: str,
    *,
    scope: object = None,
    now: _dt.datetime | None = None,
    **params: object,
) -> HttpRequest:
    """A resource owner password credentials grant (RFC 6749 §4.3.2).

    ``now`` (when the request is sent) is required for JWT client authentication.

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
    return endpoint_request(
        server, client, endpoint="token_endpoint", params=body, extra=params, now=now
    )
