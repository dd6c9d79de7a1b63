"""The authorization request: where to send the user's browser (RFC 6749 §4.1.1, RFC 7636 §4.3).

:func:`authorization_url` builds the URL (or, with ``request_object=True``, a
signed request object, RFC 9101); :func:`authorization_params` the parameters
PAR pushes. The pending authorization it answers for lives in
:mod:`oauth2_core.pending`; the redirect back is checked by
:mod:`oauth2_core.callback` (``parse_callback``). Both are importable from
here too, as they were before the split.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from oauth2_core._params import Params, add_params, encode_query, scope_string

# Re-exported (``X as X``): these lived here before the module was cut by concern.
from oauth2_core.callback import AuthorizationCode as AuthorizationCode
from oauth2_core.callback import callback_params as callback_params
from oauth2_core.callback import code_from_params as code_from_params
from oauth2_core.callback import is_signed_callback as is_signed_callback
from oauth2_core.callback import parse_callback as parse_callback
from oauth2_core.client import Client
from oauth2_core.errors import UsageError
from oauth2_core.jar import request_object_params
from oauth2_core.jarm import JARM_RESPONSE_MODES
from oauth2_core.metadata import ServerMetadata
from oauth2_core.pending import PendingAuthorization as PendingAuthorization
from oauth2_core.pending import new_pending_authorization as new_pending_authorization
from oauth2_core.pkce import code_challenge
from oauth2_core.redaction import SECRET_PARAMETERS

__all__ = [
    "CREDENTIAL_PARAMS",
    "authorization_params",
    "authorization_url",
]

_AUTH_PARAMS = frozenset(
    {
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "nonce",
        "request_uri",
        "request",
    }
)

#: Back-channel credentials (client authentication, grants, PKCE verifier: the
#: secret parameters the library masks, plus ``client_assertion_type``) are never
#: parameters of an authorization request: the browser, its history, the server's
#: logs and a request object (RFC 9101 §10.2: not encrypted, so readable by the
#: user agent) all see them. The hints are data the authorization request may carry.
CREDENTIAL_PARAMS = (SECRET_PARAMETERS - {"id_token_hint", "login_hint_token"}) | {
    "client_assertion_type"
}


def _refuse_credentials(client: Client, params: Mapping[str, object]) -> None:
    """The one check that no credential travels in an authorization request."""
    secret = client.client_secret
    for name, value in params.items():
        if name in CREDENTIAL_PARAMS:
            raise UsageError(
                f"parameter {name!r} is a credential: it never goes into an authorization "
                "request (URL, request object or PAR parameters; client authentication "
                "adds what the PAR endpoint needs)"
            )
        values = value if isinstance(value, (list, tuple)) else (value,)
        if secret and any(item == secret for item in values):
            raise UsageError(
                f"parameter {name!r} holds the client secret: it never goes into an "
                "authorization request"
            )


def _append_query(endpoint: str | None, params: Params, *, client: Client) -> str:
    # The https rule of every endpoint: state, PKCE challenge and scope would cross the
    # network in the clear on plain http (RFC 9700 §2.6); no fragment (RFC 6749 §3.1).
    endpoint = client.check_url(endpoint, what="authorization_endpoint")
    parts = urlsplit(endpoint)
    query = encode_query(params)
    if parts.query:
        query = f"{parts.query}&{query}"
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def authorization_url(
    server: ServerMetadata,
    client: Client,
    pending: PendingAuthorization,
    *,
    scope: object = None,
    request_uri: str | None = None,
    request_object: bool = False,
    now: _dt.datetime | None = None,
    **params: object,
) -> str:
    """Where to send the user's browser (RFC 6749 §4.1.1, RFC 7636 §4.3).

    Args:
        server: The server metadata (``authorization_endpoint``).
        client: The client.
        pending: From :func:`new_pending_authorization`.
        scope: A string or iterable of strings; defaults to ``pending.scope``.
        request_uri: A PAR ``request_uri`` (RFC 9126 §4); then only
            ``client_id`` and ``request_uri`` are sent.
        request_object: Sign every parameter into a request object with the
            client's ``signing_key`` (RFC 9101, :mod:`oauth2_core.jar`); then
            only ``client_id`` and ``request`` are sent.
        now: The signing time of the request object (aware); required with
            ``request_object=True``, unused otherwise.
        **params: Extra parameters (``prompt``, ``resource``, ``login_hint``, ...);
            a list repeats the parameter; ``authorization_details`` is sent as JSON.

    Returns:
        The URL. The endpoint's own query is kept. Next: :func:`parse_callback`.

    Raises:
        UsageError: no authorization endpoint, a keyword the library sets
            itself, or ``request_object=True`` without a key or ``now``.
    """
    if server.authorization_endpoint is None:
        raise UsageError("the server metadata has no authorization_endpoint")
    query: Params = [("client_id", client.client_id)]
    if request_uri is not None:
        if not isinstance(request_uri, str) or not request_uri:
            raise UsageError("request_uri must be a non-empty string")
        query.append(("request_uri", request_uri))
        _refuse_credentials(client, params)
        add_params(query, params, reserved=_AUTH_PARAMS)
        if request_object:
            raise UsageError("request_uri and request_object=True exclude each other")
    else:
        query = authorization_params(client, pending, scope=scope, **params)
        if request_object:
            query = request_object_params(server, client, query, now=now)
    return _append_query(server.authorization_endpoint, query, client=client)


def authorization_params(
    client: Client, pending: PendingAuthorization, *, scope: object = None, **params: object
) -> Params:
    """The parameters of an authorization request, for the URL, a request object or PAR.

    Raises:
        UsageError: a parameter the library sets, a credential (:data:`CREDENTIAL_PARAMS`
            or the client secret's value under any name), a bad value.
    """
    _refuse_credentials(client, params)
    scope_value = scope_string(scope) if scope is not None else pending.scope
    query: Params = [("response_type", "code"), ("client_id", client.client_id)]
    if pending.redirect_uri:
        client.check_url(pending.redirect_uri, what="redirect_uri", redirect=True)
        query.append(("redirect_uri", pending.redirect_uri))
    if scope_value:
        query.append(("scope", scope_value))
    query.append(("state", pending.state))
    if pending.code_verifier is not None:
        query.append(
            ("code_challenge", code_challenge(pending.code_verifier, pending.code_challenge_method))
        )
        query.append(("code_challenge_method", pending.code_challenge_method))
    if scope_value and "openid" in scope_value.split():
        query.append(("nonce", pending.nonce))
    if client.authorization_signed_response_alg is not None:
        # JARM §3: this client's responses are signed; ask for it (§2.3.4 "jwt").
        mode = params.get("response_mode", "jwt")
        if mode not in JARM_RESPONSE_MODES:
            raise UsageError(
                "response_mode must be a JARM mode (jwt, query.jwt, fragment.jwt, "
                "form_post.jwt) for a client with authorization_signed_response_alg"
            )
        params = {**params, "response_mode": mode}
    add_params(query, params, reserved=_AUTH_PARAMS)
    return query
