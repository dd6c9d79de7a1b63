"""JWT-secured authorization responses (JARM, OpenID FAPI JARM 1.0).

With ``response_mode=jwt`` (or ``query.jwt``, ``fragment.jwt``,
``form_post.jwt``, JARM §2.3) the server answers the authorization request
with one parameter, ``response``: a JWT whose claims are the response
parameters (``code``, ``state``, or ``error`` and its companions) plus
``iss``, ``aud`` and ``exp`` (§2.1). Every error answer comes signed too (§2.2).

:func:`verify_authorization_response` applies JARM §2.4's processing rules
before anything is read from the claims: the signature against the server's
JWK set ("The client MUST check the signature of the response"), through the
core's one JWT verifier (``oauth2_core.jws_verify``: ``alg`` never ``none``,
``crit``, the key fitting the ``alg``); ``iss`` is the server's issuer (§2.4
item 2: "The client MUST check that the value of iss exactly matches the
issuer identifier of the authorization server"); ``aud`` names this client
(item 3); ``exp`` is present and not past (item 4). Only then does
``parse_callback`` run its usual checks (``state``, ``iss``, ``error``,
``code``) on the claims, so a tampered, unsigned or replayed-late response is
a :class:`~oauth2_core.errors.CallbackValidationError`, and parameters an
attacker adds next to ``response`` are never read. Encrypted responses (JWE)
are not supported.

Sans-IO: ``parse_callback(callback, server=..., pending=..., jwks=..., now=...)``.
With IO: :func:`authorization_response_flow` fetches the JWK set when needed.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping
from typing import Any

from oauth2_core.client import Client
from oauth2_core.errors import CallbackValidationError, IdTokenError, UsageError
from oauth2_core.jws_verify import fail, verify_jwt
from oauth2_core.metadata import ServerMetadata

__all__ = ["JARM_RESPONSE_MODES", "verify_authorization_response"]

#: The response modes of JARM §2.3 (``jwt`` is the default mode's JWT variant).
JARM_RESPONSE_MODES = frozenset({"jwt", "query.jwt", "fragment.jwt", "form_post.jwt"})
# The authorization response's own parameters (RFC 6749 §4.1.2, §4.1.2.1; RFC 9207 iss).
_STRING_PARAMS = frozenset({"code", "state", "iss", "error", "error_description", "error_uri"})


def verify_authorization_response(
    response: str,
    *,
    server: ServerMetadata,
    client: Client,
    jwks: Mapping[str, Any] | None,
    now: _dt.datetime,
    leeway: float = 60,
) -> dict[str, str]:
    """Verify a JARM ``response`` JWT and return the response parameters (JARM §2.4).

    Args:
        response: The ``response`` parameter (a compact JWS).
        server: The server: its ``issuer`` is the expected ``iss``; its
            ``authorization_signing_alg_values_supported`` (when listed) the
            accepted ``alg`` values (any asymmetric one that fits the key
            otherwise, never HMAC).
        client: The client: its ``client_id`` must be an ``aud``; its secret is
            the key of an HMAC-signed response the server advertises; its
            ``authorization_signed_response_alg``, when set, the one accepted
            ``alg`` (JARM §3).
        jwks: The server's JWK set.
        now: The current time (aware).
        leeway: Allowed clock skew in seconds (0 to 300).

    Returns:
        The response parameters (``code``, ``state``, ``iss``, or ``error``,
        ...) as strings; ``aud`` / ``exp`` / ``iat`` / ``nbf`` / ``jti`` left out.

    Raises:
        IdTokenError: a failed check, named by ``.check`` (``format``, ``alg``,
            ``crit``, ``kid``, ``signature``, ``exp``, ``iss``, ``aud``, or a
            ``code`` / ``state`` / ``error*`` claim that is not a string);
            ``"kid"`` means fetch the JWK set again; an encrypted (JWE) response
            fails ``format``. ``parse_callback`` turns it into a
            :class:`CallbackValidationError`.
        UsageError: the ``jwt`` extra missing.
    """
    claims = verify_jwt(
        response,
        client=client,
        jwks=jwks,
        allowed=(
            (client.authorization_signed_response_alg,)
            if client.authorization_signed_response_alg is not None
            else server.authorization_signing_alg_values_supported
        ),
        now=now,
        leeway=leeway,
        required_times=("exp",),  # JARM §2.1: exp is REQUIRED
    ).claims
    if claims.get("iss") != server.issuer:
        fail("iss", "iss is not the server's issuer (JARM §2.4)")
    aud = claims.get("aud")
    audiences = (aud,) if isinstance(aud, str) else aud
    if not isinstance(audiences, list | tuple) or client.client_id not in audiences:
        fail("aud", "the client is not an audience (JARM §2.4)")
    return response_params(claims)


def signed_response_params(
    params: Mapping[str, str],
    *,
    server: ServerMetadata,
    client: Client | None,
    client_id: str | None,
    jwks: Mapping[str, Any] | None,
    now: _dt.datetime | None,
    leeway: float,
) -> dict[str, str]:
    """The parameters inside a callback's JARM ``response``, for ``parse_callback``.

    Only the JWT's claims are returned: anything else in the callback is ignored.

    Raises:
        CallbackValidationError: no ``response``, or a JWT that fails a check
            (the :class:`IdTokenError` is the ``__cause__``).
        UsageError: no ``jwks`` / ``now``, or no client to check ``aud`` against.
    """
    token = signed_response(params)
    if jwks is None or now is None:
        raise UsageError(
            "the callback is a signed authorization response (JARM): pass jwks= (the "
            "server's JWK set) and now= to parse_callback"
        )
    if client is None:
        if client_id is None:
            raise UsageError("a signed authorization response needs client= to check its aud")
        client = Client(client_id)
    try:
        return verify_authorization_response(
            token, server=server, client=client, jwks=jwks, now=now, leeway=leeway
        )
    except IdTokenError as exc:
        raise failed_check(exc) from exc


def signed_response(params: Mapping[str, str]) -> str:
    """The callback's ``response`` JWT (JARM §2.3).

    Raises:
        CallbackValidationError: the callback has none.
    """
    token = params.get("response")
    if token is None:
        raise CallbackValidationError(
            "callback has no signed 'response' (JARM) but one is required"
        )
    return token


def failed_check(exc: IdTokenError) -> CallbackValidationError:
    """The :class:`CallbackValidationError` of a JARM response that failed ``exc.check``.

    Raise it ``from exc``: the :class:`IdTokenError` is the ``__cause__``.
    """
    return CallbackValidationError(
        f"the signed authorization response (JARM) failed its {exc.check!r} check"
    )


def response_params(claims: Mapping[str, Any]) -> dict[str, str]:
    """The response parameters among verified JARM claims, as strings.

    ``aud`` / ``exp`` / ``iat`` / ``nbf`` / ``jti`` describe the JWT, not the
    response. JARM §2.1 carries the authorization response's parameters
    (``code``, ``state``, ``iss``, ``error``, ``error_description``,
    ``error_uri``), which RFC 6749 §4.1.2 defines as strings: another type is
    a failed check named after the claim, never its JSON text (a ``state`` of
    ``123`` must not match a pending ``"123"``). Other non-string values are
    kept as JSON text.

    Raises:
        IdTokenError: a response parameter that is not a string (``.check``
            names it).
    """
    params: dict[str, str] = {}
    for name, value in claims.items():
        if name in ("aud", "exp", "iat", "nbf", "jti"):
            continue
        if isinstance(value, str):
            params[name] = value
        elif name in _STRING_PARAMS:
            fail(name, f"{name} must be a string (JARM §2.1, RFC 6749 §4.1.2)")
        else:
            params[name] = json.dumps(value)
    return params
