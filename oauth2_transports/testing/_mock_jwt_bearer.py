"""The mock token endpoint's JWT bearer grant (RFC 7523 §2.1, §3).

A client trades a JWT that another party signed for an access token. The mock
trusts the issuers it was given (``MockAuthorizationServer(trusted_issuers=
{iss: public_jwk})``) and checks what `RFC 7523 §3
<https://www.rfc-editor.org/rfc/rfc7523#section-3>`_ asks of an authorization
server: the signature with that issuer's key, ``iss``, ``sub``, an ``aud``
naming this server (its issuer or its token endpoint URL), ``exp`` (and
``nbf`` when present) against the server's clock, and a ``jti``, when present,
used once. Every failure is ``invalid_grant`` (§3.1); a missing ``assertion``
is ``invalid_request``. The tokens carry no refresh token: the client makes a
new assertion instead.

Verifying needs PyJWT with ``cryptography``, as the ID token signer does;
without them the server can trust no issuer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oauth2_transports.testing._mock_assertion import is_number, remember_jti
from oauth2_transports.testing._mock_authorize import scope_of
from oauth2_transports.testing._mock_model import (
    Answer,
    MockClient,
    RecordedRequest,
    error_answer,
    json_answer,
)
from oauth2_transports.testing._mock_state import Grant, MockState

__all__ = ["JWT_BEARER_GRANT", "jwt_bearer_grant", "trusted_keys"]

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"

# Members that only a private or symmetric JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4.1;
# RFC 8037 §2): the server is given public keys only.
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


# PyJWT checks only the signature; _claims_problem checks the claims with the server's clock.
_SIGNATURE_ONLY: Any = {
    "verify_signature": True,
    **{f"verify_{claim}": False for claim in ("exp", "nbf", "iat", "aud", "iss", "sub", "jti")},
}


def trusted_keys(issuers: Mapping[str, Mapping[str, object]]) -> dict[str, dict[str, object]]:
    """Check the trusted issuers' public keys once, when the server is made.

    Args:
        issuers: ``{issuer: public JWK}``; the JWK's ``alg``, when absent, follows
            from its key type (``ES256`` for P-256, ``RS256`` for RSA, ``EdDSA``).

    Returns:
        A copy, ``{issuer: JWK}``.

    Raises:
        ValueError: a key is not a public asymmetric JWK PyJWT can use.
        ImportError: PyJWT with ``cryptography`` is not installed.
    """
    if not issuers:
        return {}
    import jwt

    checked: dict[str, dict[str, object]] = {}
    for issuer, jwk in issuers.items():
        key = dict(jwk)
        if not issuer or _PRIVATE_MEMBERS & key.keys():
            raise ValueError(f"trusted issuer {issuer!r}: give a public key (EC, RSA or OKP JWK)")
        try:
            jwt.PyJWK(key)
        except jwt.PyJWTError as exc:
            raise ValueError(f"trusted issuer {issuer!r}: unusable JWK ({exc})") from exc
        checked[issuer] = key
    return checked


def jwt_bearer_grant(state: MockState, client: MockClient, req: RecordedRequest) -> Answer:
    """The JWT bearer authorization grant (RFC 7523 §2.1) at the token endpoint."""
    assertion = req.form.get("assertion")
    if not assertion:
        return error_answer(400, "invalid_request", "assertion is missing")
    claims = _verified_claims(state, assertion)
    if isinstance(claims, str):
        # RFC 7523 §3.1: "The value of the "error" parameter MUST be the "invalid_grant"".
        return error_answer(400, "invalid_grant", claims)
    scope = scope_of(state, req.form.get("scope"))
    if isinstance(scope, Answer):
        return scope
    grant = Grant(client.client_id, str(claims["sub"]), scope)
    answer = state.issue_tokens(grant, scope=scope, refresh=False)
    remember_jti(state, claims)
    return json_answer(200, answer)


def _verified_claims(state: MockState, assertion: str) -> dict[str, Any] | str:
    """The assertion's claims when every RFC 7523 §3 check passes, else what failed."""
    if not state.trusted_issuers:
        return "the server trusts no assertion issuer"
    import jwt

    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        return "the assertion is not a JWT"
    issuer = unverified.get("iss")
    jwk = state.trusted_issuers.get(issuer) if isinstance(issuer, str) else None
    if jwk is None:
        return "the assertion's iss is not a trusted issuer"  # §3 item 1
    key = jwt.PyJWK(jwk)
    algorithm = str(jwk.get("alg") or key.algorithm_name)
    if header.get("alg") != algorithm:
        # §3 item 9: "The JWT MUST be digitally signed"; only the issuer's algorithm.
        return f"the assertion must be signed with {algorithm}"
    try:
        claims: dict[str, Any] = jwt.decode(
            assertion,
            key.key,
            algorithms=[algorithm],
            options=_SIGNATURE_ONLY,  # the claims are checked below, on the server's clock
        )
    except jwt.InvalidSignatureError:
        return "the assertion's signature does not verify with the issuer's key"
    except jwt.PyJWTError:
        return "the assertion is not a valid JWT"
    return _claims_problem(state, claims) or claims


def _claims_problem(state: MockState, claims: dict[str, Any]) -> str | None:
    now = state.now()
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        return "the assertion has no sub"  # §3 item 2
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    ours = {state.issuer, state.issuer + "/token"}
    if not isinstance(audiences, list) or not ours & {a for a in audiences if isinstance(a, str)}:
        # §3 item 3: aud identifies this server (its issuer or its token endpoint URL).
        return "the assertion's aud does not name this server"
    expires = claims.get("exp")
    if not is_number(expires):
        return "the assertion has no exp"  # §3 item 4
    if now >= expires:
        return "the assertion expired"
    not_before = claims.get("nbf")
    if not_before is not None and (not is_number(not_before) or now < not_before):
        return "the assertion is not valid yet (nbf)"  # §3 item 5
    jti = claims.get("jti")
    if jti is not None:
        if not isinstance(jti, str):
            return "the assertion's jti is not a string"
        if (claims["iss"], jti) in state.assertion_ids:
            # §3 item 7: the server "MAY ensure that JWTs are not replayed".
            return "the assertion was already used (jti)"
    return None
