"""The authorization redirect back: checked, then read (RFC 6749 §4.1.2, RFC 9207, JARM).

:func:`parse_callback` checks the redirect and yields an :class:`AuthorizationCode`.
Next: ``authorization_code_grant_request``.

Checks on the redirect, in this order: duplicate parameters (RFC 6749 §3.1),
``state`` (constant-time, §10.12), ``iss`` (RFC 9207 §2.4), then ``error``.
A state or issuer mismatch is a :class:`CallbackValidationError` even on an
error redirect: it may be a forgery or a mix-up attack. A signed response
(JARM, a ``response`` parameter) is verified first and only its claims are read.
"""

from __future__ import annotations

import datetime as _dt
import hmac
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs

from oauth2_core.client import Client
from oauth2_core.errors import AuthorizationError, CallbackValidationError, UsageError
from oauth2_core.jarm import signed_response_params
from oauth2_core.metadata import ServerMetadata
from oauth2_core.pending import PendingAuthorization

__all__ = [
    "AuthorizationCode",
    "callback_params",
    "code_from_params",
    "is_signed_callback",
    "parse_callback",
]

_URL_START = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


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
