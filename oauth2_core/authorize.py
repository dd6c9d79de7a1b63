"""The browser leg of the authorization code grant (RFC 6749 §4.1.1 to §4.1.2).

:func:`new_pending_authorization` creates the per-attempt secrets (``state``,
PKCE verifier, OpenID ``nonce``); :func:`authorization_url` builds where to
send the user; :func:`parse_callback` checks the redirect and yields an
:class:`AuthorizationCode`. Next: ``authorization_code_grant_request``.

Checks on the redirect, in this order: duplicate parameters (RFC 6749 §3.1),
``state`` (constant-time, §10.12), ``iss`` (RFC 9207 §2.4), then ``error``.
A state or issuer mismatch is a :class:`CallbackValidationError` even on an
error redirect: it may be a forgery or a mix-up attack.
"""

from __future__ import annotations

import datetime as _dt
import hmac
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import attrs

from oauth2_core._params import Params, add_params, encode_query, scope_string
from oauth2_core._random import new_nonce, new_state
from oauth2_core.client import Client
from oauth2_core.errors import AuthorizationError, CallbackValidationError, UsageError
from oauth2_core.jar import request_object_params
from oauth2_core.jarm import JARM_RESPONSE_MODES, signed_response_params
from oauth2_core.metadata import ServerMetadata
from oauth2_core.pkce import check_code_verifier, code_challenge, generate_code_verifier
from oauth2_core.redaction import SECRET_PARAMETERS

__all__ = [
    "AuthorizationCode",
    "PendingAuthorization",
    "authorization_url",
    "new_pending_authorization",
    "parse_callback",
]

_URL_START = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
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


@attrs.frozen(repr=False)
class PendingAuthorization:
    """What a client must remember between the redirect out and the redirect back.

    Keep it in the user's session (:meth:`to_dict` is JSON-safe); it holds
    secrets (the PKCE verifier), so keep it server-side or encrypted.

    Attributes:
        state: The ``state`` value sent (RFC 6749 §10.12).
        code_verifier: The PKCE verifier (RFC 7636), or ``None`` when PKCE was
            turned off with ``pkce=False``.
        nonce: The OpenID Connect nonce; sent only when ``openid`` is in scope.
        redirect_uri: The redirect URI used, or ``None`` for the client's default.
        code_challenge_method: ``"S256"`` or ``"plain"``.
        scope: The scope to request, when fixed at creation.
        client_id: The client that started it (a signed response's ``aud``
            is checked against it, JARM §2.4), or ``None`` for one saved
            before it was recorded.
    """

    state: str
    code_verifier: str | None
    nonce: str
    redirect_uri: str | None = None
    code_challenge_method: str = "S256"
    scope: str | None = None
    client_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict for :meth:`from_dict` (contains the secrets)."""
        return {
            "state": self.state,
            "code_verifier": self.code_verifier,
            "nonce": self.nonce,
            "redirect_uri": self.redirect_uri,
            "code_challenge_method": self.code_challenge_method,
            "scope": self.scope,
            "client_id": self.client_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PendingAuthorization:
        """Rebuild from :meth:`to_dict` output.

        Raises:
            UsageError: the mapping is not a saved pending authorization.
        """
        if not isinstance(data, Mapping):
            raise UsageError("PendingAuthorization.from_dict needs a mapping")
        for name in ("state", "nonce"):
            if not isinstance(data.get(name), str) or not data[name]:
                raise UsageError(f"saved authorization has no string {name!r}")
        for name in ("code_verifier", "redirect_uri", "scope", "client_id"):
            if data.get(name) is not None and not isinstance(data.get(name), str):
                raise UsageError(f"saved authorization has an invalid {name!r}")
        method = data.get("code_challenge_method", "S256")
        if method not in ("S256", "plain"):
            raise UsageError("saved authorization has an invalid 'code_challenge_method'")
        return cls(
            state=data["state"],
            code_verifier=data.get("code_verifier"),
            nonce=data["nonce"],
            redirect_uri=data.get("redirect_uri"),
            code_challenge_method=method,
            scope=data.get("scope"),
            client_id=data.get("client_id"),
        )

    def __repr__(self) -> str:
        return (
            f"PendingAuthorization(state=<redacted>, code_verifier=<redacted>, nonce=<redacted>, "
            f"redirect_uri={self.redirect_uri!r}, scope={self.scope!r})"
        )

    __str__ = __repr__


@attrs.frozen(repr=False)
class AuthorizationCode:
    """An authorization code from a redirect that passed every check.

    Only :func:`parse_callback` makes one; exchange it with
    ``authorization_code_grant_request``.

    Attributes:
        code: The code (never shown by ``repr``).
        state: The state that matched.
        iss: The issuer the server named (RFC 9207), or ``None``.
        params: Every other parameter of the redirect (``session_state``, ...).
    """

    code: str
    state: str
    iss: str | None = None
    params: Mapping[str, str] = attrs.field(factory=dict, hash=False)

    def __repr__(self) -> str:
        return f"AuthorizationCode(code=<redacted>, iss={self.iss!r})"

    __str__ = __repr__


def new_pending_authorization(
    client: Client,
    *,
    state: str | None = None,
    code_verifier: str | None = None,
    nonce: str | None = None,
    redirect_uri: str | None = None,
    scope: object = None,
    pkce: bool = True,
    code_challenge_method: str = "S256",
) -> PendingAuthorization:
    """Start an authorization: fresh ``state``, PKCE verifier and ``nonce``.

    Args:
        client: The client (its ``redirect_uri`` is the default).
        state: Use this state instead of a random one (tests, or your own scheme).
        code_verifier: Use this PKCE verifier (RFC 7636 §4.1) instead of a random one.
        nonce: Use this nonce instead of a random one.
        redirect_uri: The redirect URI for this attempt.
        scope: The scope to request; may also be given to :func:`authorization_url`.
        pkce: ``False`` turns PKCE off, for servers that reject it. Do not,
            unless you must (RFC 9700 §2.1.1).
        code_challenge_method: ``"S256"`` (default) or ``"plain"``.

    Returns:
        The pending authorization. Next: :func:`authorization_url`.
    """
    if code_challenge_method not in ("S256", "plain"):
        raise UsageError("code_challenge_method must be 'S256' or 'plain'")
    for name, value in (("state", state), ("nonce", nonce), ("redirect_uri", redirect_uri)):
        if value is not None and (not isinstance(value, str) or not value):
            raise UsageError(f"{name} must be a non-empty string")
    verifier: str | None = None
    if pkce:
        verifier = (
            check_code_verifier(code_verifier)
            if code_verifier is not None
            else generate_code_verifier()
        )
    elif code_verifier is not None:
        raise UsageError("code_verifier given with pkce=False")
    redirect = redirect_uri if redirect_uri is not None else client.redirect_uri
    if redirect:
        client.check_url(redirect, what="redirect_uri", redirect=True)
    return PendingAuthorization(
        state=state if state is not None else new_state(),
        code_verifier=verifier,
        nonce=nonce if nonce is not None else new_nonce(),
        redirect_uri=redirect,
        code_challenge_method=code_challenge_method,
        scope=scope_string(scope),
        client_id=client.client_id,
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


def _callback_pairs(callback: object) -> list[tuple[str, str]]:
    if isinstance(callback, (bytes, bytearray)):
        try:
            callback = bytes(callback).decode("utf-8")
        except UnicodeDecodeError:
            # from None: the decode error's repr holds the bytes, code and state included.
            raise CallbackValidationError("callback is not valid UTF-8") from None
    if isinstance(callback, str):
        text = callback.strip()
        # A URL: any scheme (RFC 8252 §7.1 private-use "com.example.app:/cb?..."),
        # or a path; otherwise a bare query string or fragment.
        if _URL_START.match(text) or text.startswith("/"):
            try:
                parts = urlsplit(text)
            except ValueError as exc:
                raise CallbackValidationError("callback URL cannot be parsed") from exc
            # Response mode "query" (default) or "fragment".
            text = parts.query or parts.fragment
        elif text[:1] in ("?", "#"):
            text = text[1:]
        try:
            return parse_qsl(text, keep_blank_values=True, max_num_fields=100)
        except ValueError as exc:
            raise CallbackValidationError("callback has too many or malformed parameters") from exc
    if isinstance(callback, Mapping):
        pairs: list[tuple[str, str]] = []
        for key, value in callback.items():
            if not isinstance(key, str):
                raise UsageError("callback parameter names must be strings")
            values = value if isinstance(value, (list, tuple)) else [value]
            for item in values:
                if not isinstance(item, str):
                    raise UsageError("callback parameter values must be strings")
                pairs.append((key, item))
        return pairs
    raise UsageError("callback must be a URL, a query string or a mapping of parameters")


def is_signed_callback(callback_url_or_params: object) -> bool:
    """Whether a callback carries a JARM ``response`` parameter (a signed response).

    Raises:
        CallbackValidationError, UsageError: as :func:`parse_callback` for
            what cannot be read as a callback.
    """
    return any(name == "response" for name, _ in _callback_pairs(callback_url_or_params))


def parse_callback(
    callback_url_or_params: object,
    *,
    server: ServerMetadata,
    pending: PendingAuthorization,
    jwks: Mapping[str, Any] | None = None,
    now: _dt.datetime | None = None,
    client: Client | None = None,
    leeway: float = 60,
) -> AuthorizationCode:
    """Check the authorization redirect and extract the code (RFC 6749 §4.1.2).

    Args:
        callback_url_or_params: The full redirect URL, its query string or
            fragment, or a mapping of parameters (a ``form_post`` body).
        server: The server metadata (``issuer``,
            ``authorization_response_iss_parameter_supported``).
        pending: The pending authorization this redirect answers.
        jwks: The server's JWK set. Given, the callback must be a signed
            response (JARM, ``response_mode=jwt`` and its variants): its
            signature, ``iss``, ``aud`` and ``exp`` are verified
            (:mod:`oauth2_core.jarm`) before the checks below run on its claims,
            and nothing outside the JWT is read.
        now: The current time (aware), for a signed response's ``exp``.
        client: The client, for a signed response's ``aud`` (default
            ``pending.client_id``) and HMAC key.
        leeway: Allowed clock skew in seconds for a signed response (0 to 300).

    Returns:
        The checked code. Next: ``authorization_code_grant_request``.

    Raises:
        CallbackValidationError: duplicated parameters, state mismatch or
            missing, issuer mismatch or missing where required (RFC 9207), no
            code; a signed response that fails a check or is missing where
            ``jwks`` is given.
        AuthorizationError: the server redirected with ``error``.
        UsageError: the argument is not a URL, string or mapping.
    """
    params = callback_params(callback_url_or_params)
    signed = client is not None and client.authorization_signed_response_alg is not None
    if jwks is not None or signed or "response" in params:
        # JARM §2.4: verify the JWT before anything is read from the response.
        params = signed_response_params(
            params,
            server=server,
            client=client,
            client_id=pending.client_id,
            jwks=jwks,
            now=now,
            leeway=leeway,
        )
    return code_from_params(params, server=server, pending=pending)


def callback_params(callback_url_or_params: object) -> dict[str, str]:
    """A redirect's parameters, each at most once (RFC 6749 §3.1); for the JARM flow too.

    Raises:
        CallbackValidationError, UsageError: as :func:`parse_callback`.
    """
    params: dict[str, str] = {}
    for key, value in _callback_pairs(callback_url_or_params):
        if key in params:
            # RFC 6749 §3.1: parameters MUST NOT be included more than once.
            raise CallbackValidationError(f"callback parameter {key!r} appears more than once")
        params[key] = value
    return params


def code_from_params(
    params: Mapping[str, str], *, server: ServerMetadata, pending: PendingAuthorization
) -> AuthorizationCode:
    """:func:`parse_callback`'s ``state``, ``iss``, ``error``, ``code`` checks (RFC 6749 §4.1.2).

    Raises:
        CallbackValidationError, AuthorizationError: as :func:`parse_callback`.
    """
    state = params.get("state")
    if state is None:
        raise CallbackValidationError("callback has no 'state'; it does not answer this request")
    # surrogatepass: a str callback may hold lone surrogates; they must mismatch, not crash.
    if not hmac.compare_digest(
        state.encode("utf-8", "surrogatepass"), pending.state.encode("utf-8", "surrogatepass")
    ):
        raise CallbackValidationError("callback 'state' does not match the pending authorization")
    iss = params.get("iss")
    if iss is None:
        if server.authorization_response_iss_parameter_supported:
            raise CallbackValidationError(
                "callback has no 'iss' but the server says it sends one (RFC 9207)"
            )
    elif iss != server.issuer:
        raise CallbackValidationError(
            "callback 'iss' is not this server's issuer (possible mix-up attack, RFC 9207)"
        )
    error = params.get("error")
    if error is not None:
        raise AuthorizationError(error, params.get("error_description"), params.get("error_uri"))
    code = params.get("code")
    if not code:
        raise CallbackValidationError("callback has neither 'code' nor 'error'")
    rest = {k: v for k, v in params.items() if k not in ("code", "state", "iss")}
    return AuthorizationCode(code=code, state=state, iss=iss, params=rest)
