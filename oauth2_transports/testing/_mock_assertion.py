"""JWT assertions the mock server accepts: ``private_key_jwt`` client authentication.

RFC 7523 §2.2 / OpenID Connect Core §9: a client registered with a public JWK
set (``MockClient(jwks=...)``) authenticates with ``client_assertion_type``
``urn:ietf:params:oauth:client-assertion-type:jwt-bearer`` and a
``client_assertion`` JWT it signed (ES256, PS256, RS256 or EdDSA) whose ``iss``
and ``sub`` are its ``client_id``, whose ``aud`` names this server (its issuer
or its token endpoint URL), with an ``exp`` still ahead on the server's clock
and a ``jti`` never seen before (RFC 7523 §3 items 1 to 7). Anything else is
401 ``invalid_client`` (RFC 6749 §5.2).

The ``jti`` record and the number check are shared with the JWT bearer grant
(:mod:`._mock_jwt_bearer`, RFC 7523 §2.1). Verifying needs PyJWT with
``cryptography``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypeGuard

from oauth2_transports.testing._mock_model import Answer, MockClient, error_answer
from oauth2_transports.testing._mock_state import MockState

__all__ = [
    "CLIENT_ASSERTION_ALGS",
    "CLIENT_ASSERTION_TYPE",
    "client_from_assertion",
    "is_number",
    "remember_jti",
]

#: RFC 7523 §2.2: the ``client_assertion_type`` of a JWT client assertion.
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: The signature algorithms the mock accepts from clients (FAPI 2.0 needs PS256, ES256, EdDSA).
CLIENT_ASSERTION_ALGS = ("ES256", "PS256", "RS256", "EdDSA")

# PyJWT checks only the signature; the claims are checked with the server's clock.
_SIGNATURE_ONLY: Any = {
    "verify_signature": True,
    **{f"verify_{claim}": False for claim in ("exp", "nbf", "iat", "aud", "iss", "sub", "jti")},
}


def _invalid_client(description: str) -> Answer:
    # RFC 6749 §5.2: 401 invalid_client for a failed client authentication.
    return error_answer(401, "invalid_client", description)


def client_from_assertion(state: MockState, form: Mapping[str, str]) -> MockClient | Answer:
    """The client a ``private_key_jwt`` request authenticated as, or a 401 (RFC 7523 §2.2, §3).

    Args:
        state: The server's memory (clients, clock, seen ``jti`` values).
        form: The request's form parameters (``client_assertion`` present).

    Returns:
        The registered client, its ``jti`` now spent; or the ``invalid_client`` answer.
    """
    if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
        return _invalid_client(f"client_assertion_type must be {CLIENT_ASSERTION_TYPE}")
    try:
        import jwt
    except ImportError:  # pragma: no cover - the dev install has PyJWT
        return _invalid_client("private_key_jwt needs PyJWT on the server")
    assertion = form["client_assertion"]
    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        return _invalid_client("client_assertion is not a JWT")
    client_id = unverified.get("sub")
    client = state.clients.get(client_id) if isinstance(client_id, str) else None
    if client is None or client.auth_method != "private_key_jwt" or client.jwks is None:
        return _invalid_client("unknown client or wrong authentication method")
    if form.get("client_id", client_id) != client_id:
        return error_answer(400, "invalid_request", "client_id differs from the assertion")
    claims = _verified(assertion, header, client.jwks)
    if isinstance(claims, str):
        return _invalid_client(claims)
    problem = _claims_problem(state, client.client_id, claims)
    if problem is not None:
        return _invalid_client(problem)
    remember_jti(state, claims)
    return client


def _verified(assertion: str, header: Mapping[str, Any], jwks: Mapping[str, object]) -> Any:
    """The claims when the signature verifies with one of the client's keys, else why not."""
    import jwt

    alg = header.get("alg")
    if alg not in CLIENT_ASSERTION_ALGS:
        return f"client_assertion must be signed with one of {list(CLIENT_ASSERTION_ALGS)}"
    kid = header.get("kid")
    keys = jwks.get("keys")
    assert isinstance(keys, tuple)  # checked when the client was registered
    for jwk in keys:
        if kid is not None and jwk.get("kid") not in (None, kid):
            continue
        if jwk.get("alg") not in (None, alg):
            continue
        try:
            key = jwt.PyJWK(jwk, algorithm=alg)
            return jwt.decode(assertion, key.key, algorithms=[alg], options=_SIGNATURE_ONLY)
        except jwt.PyJWTError:
            continue
    return "client_assertion signature does not verify with the client's registered keys"


def _claims_problem(state: MockState, client_id: str, claims: dict[str, Any]) -> str | None:
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        return "client_assertion iss and sub must both be the client_id"  # RFC 7523 §3 items 1-2
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    ours = {state.issuer, state.issuer + "/token"}
    if not isinstance(audiences, list) or not ours & {a for a in audiences if isinstance(a, str)}:
        return "client_assertion aud does not name this server"  # §3 item 3
    expires = claims.get("exp")
    if not is_number(expires):
        return "client_assertion has no exp"  # §3 item 4
    if state.now() >= expires:
        return "client_assertion expired"
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        return "client_assertion has no jti"  # OpenID Connect Core §9: jti REQUIRED
    if (client_id, jti) in state.assertion_ids:
        return "client_assertion was already used (jti)"  # §3 item 7
    return None


def remember_jti(state: MockState, claims: dict[str, Any]) -> None:
    """Keep a used ``jti`` until its assertion expires (RFC 7523 §3 item 7)."""
    now = state.now()
    for seen, expires in list(state.assertion_ids.items()):
        if expires <= now:
            del state.assertion_ids[seen]
    if isinstance(claims.get("jti"), str):
        state.assertion_ids[(claims["iss"], claims["jti"])] = float(claims["exp"])


def is_number(value: object) -> TypeGuard[float]:
    """A finite int or float (not a bool): a NumericDate (RFC 7519 §2)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
