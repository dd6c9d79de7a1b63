"""Signed requests and responses at the mock server: JAR, JARM and RFC 9701.

* request objects (RFC 9101 §4-§6): ``request=<JWT>`` at the authorization or
  PAR endpoint, verified with the client's registered ``jwks``: ``iss`` the
  client, ``aud`` the issuer, ``exp`` in the future, ``client_id`` matching;
  its claims replace the query (§6.3: only what is inside the object counts);
* JWT-secured authorization responses (JARM): ``response_mode`` ``jwt``,
  ``query.jwt``, ``fragment.jwt`` or ``form_post.jwt``: the response
  parameters signed with the server's key, ``aud`` the client, in ``response``;
* signed introspection answers (RFC 9701 §5) when the client asks for
  ``application/token-introspection+jwt``.

All need PyJWT with ``cryptography``; without it the server refuses signed
requests and answers plainly, as a server without the features would.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from oauth2_transports.testing._mock_model import Answer, MockClient, error_answer, json_answer
from oauth2_transports.testing._mock_state import MockState

__all__ = [
    "JARM_MODES",
    "REQUEST_OBJECT_ALGS",
    "jarm_answer",
    "signed_introspection",
    "unpack_request_object",
    "wants_signed_introspection",
]

#: What request objects may be signed with (asymmetric only).
REQUEST_OBJECT_ALGS = ("ES256", "ES384", "RS256", "PS256", "EdDSA")
JARM_MODES = frozenset({"jwt", "query.jwt", "fragment.jwt", "form_post.jwt"})
INTROSPECTION_JWT = "application/token-introspection+jwt"
_RESPONSE_LIFETIME = 120


def _public_key(client: MockClient, kid: object, alg: str) -> Any:
    import jwt

    keys = [k for k in (client.jwks or {}).get("keys", []) if isinstance(k, Mapping)]  # type: ignore[attr-defined]
    if kid is not None:
        keys = [k for k in keys if k.get("kid") == kid]
    if len(keys) != 1:
        raise ValueError("no single registered key fits the request object")
    return jwt.PyJWK(dict(keys[0]), algorithm=alg).key


def unpack_request_object(
    state: MockState, client: MockClient, params: Mapping[str, str]
) -> dict[str, str] | str:
    """The parameters inside ``params["request"]`` (RFC 9101 §6), or why it is refused."""
    if client.jwks is None:
        return "the client registered no jwks for request objects"
    try:
        import jwt
    except ImportError:
        return "request objects need PyJWT at the mock server"
    try:
        token = params["request"]
        header = jwt.get_unverified_header(token)
        alg = header.get("alg")
        if alg not in REQUEST_OBJECT_ALGS:
            return "request objects must be signed with the client's key"
        claims: dict[str, Any] = jwt.decode(
            token,
            _public_key(client, header.get("kid"), alg),
            algorithms=[alg],
            audience=state.issuer,
            issuer=client.client_id,
            options={"require": ["exp"]},
        )
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
        return f"invalid request object: {type(exc).__name__}"
    if claims.get("client_id") != client.client_id:
        # RFC 9101 §5: the client_id inside MUST match the one outside.
        return "the request object's client_id does not match"
    unpacked: dict[str, str] = {}
    for name, value in claims.items():
        if name in ("iss", "aud", "exp", "iat", "nbf", "jti", "request", "request_uri"):
            continue
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            value = value[0]  # a repeated parameter (resource): the mock keeps one
        unpacked[name] = value if isinstance(value, str) else json.dumps(value)
    return unpacked


def jarm_answer(
    state: MockState, target: str, mode: str, client_id: str, pairs: list[tuple[str, str]]
) -> Answer:
    """The authorization response as a signed JWT in ``response`` (JARM §2.3)."""
    now = int(state.now())
    claims: dict[str, object] = {
        **dict(pairs),
        "iss": state.issuer,
        "aud": client_id,
        "exp": now + _RESPONSE_LIFETIME,
    }
    signed = state.signer.sign(claims)
    if signed is None:
        return error_answer(500, "server_error", "JARM needs PyJWT at the mock server")
    error = dict(pairs).get("error")
    if mode == "form_post.jwt":
        form = (
            "<!doctype html><html><body onload='document.forms[0].submit()'>"
            f"<form method='post' action='{html.escape(target, quote=True)}'>"
            f"<input type='hidden' name='response' value='{html.escape(signed, quote=True)}'>"
            "</form></body></html>"
        )
        return Answer(
            status=200,
            headers=(("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")),
            body=form.encode("utf-8"),
            error=error,
        )
    if mode == "fragment.jwt":
        location = f"{target}#{urlencode({'response': signed})}"
    else:
        separator = "&" if "?" in target else "?"
        location = f"{target}{separator}{urlencode({'response': signed})}"
    return Answer(
        status=302, headers=(("Location", location), ("Cache-Control", "no-store")), error=error
    )


def wants_signed_introspection(accept: str) -> bool:
    """Whether the ``Accept`` header asks for RFC 9701's media type."""
    return INTROSPECTION_JWT in accept.lower()


def signed_introspection(state: MockState, client_id: str, data: dict[str, object]) -> Answer:
    """RFC 9701 §5: the introspection answer as a JWT under ``token_introspection``."""
    claims: dict[str, object] = {
        "iss": state.issuer,
        "aud": client_id,
        "iat": int(state.now()),
        "token_introspection": data,
    }
    signed = state.signer.sign(claims, typ="token-introspection+jwt")
    if signed is None:
        return json_answer(200, data)
    return Answer(
        status=200,
        headers=(("Content-Type", INTROSPECTION_JWT), ("Cache-Control", "no-store")),
        body=signed.encode("ascii"),
    )
