"""DPoP at the mock server (RFC 9449): proofs checked, tokens and codes bound to keys.

* :func:`read_proof` checks a ``DPoP`` header as §4.3 lists: one header, a
  JWT with ``typ`` ``dpop+jwt``, an asymmetric ``alg``, a public ``jwk`` header
  (no private members) the signature verifies with, ``htm`` and ``htu`` (scheme,
  host and path, no query) of this request, ``iat`` within
  :data:`PROOF_WINDOW` of the server's clock, a ``jti`` not seen before with
  that key, ``ath`` = base64url(SHA-256(token)) at a resource (§7.1), and the
  server's current nonce when one is required (§8, §9). The key's JWK
  SHA-256 thumbprint (RFC 7638) is what tokens are bound to.
* At the token endpoint (:func:`token_proof`, :func:`binding_refusal`,
  :func:`bind_answer`): every grant's answer is bound to the proof's key
  (``token_type`` ``DPoP``, §5), the refresh tokens of public clients too
  (§5: "Refresh tokens issued to public clients MUST be bound"); a code
  whose authorization named ``dpop_jkt`` (§10) and a bound refresh token are
  redeemed only with that key. Errors are 400 ``invalid_dpop_proof``, or
  ``use_dpop_nonce`` with a ``DPoP-Nonce`` header (§8).
* At PAR (:func:`pushed_binding`): a proof binds the code like ``dpop_jkt``
  (§10.1), and must agree with it when both are sent.
* At the protected resource and UserInfo (:func:`resource_access`): a bound
  token needs ``Authorization: DPoP`` and a proof with its key (§7.1); a bound
  token presented as Bearer is refused (§7.2). The caller answers 401 with a
  ``WWW-Authenticate: DPoP`` challenge (§7.1) naming the error.

Nonces (``require_dpop_nonce=True`` on the server, or per client) are one per
server, as this server is one origin: valid :data:`NONCE_LIFETIME` seconds on
the server's clock, or until ``rotate_dpop_nonce()``. Needs PyJWT with
``cryptography``, as every signature the mock checks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs

from oauth2_transports.testing._mock_assertion import is_number
from oauth2_transports.testing._mock_model import (
    PRIVATE_JWK_MEMBERS,
    Answer,
    MockClient,
    RecordedRequest,
    error_answer,
)
from oauth2_transports.testing._mock_state import AccessRecord, MockState, new_secret

__all__ = [
    "DPOP_SIGNING_ALGS",
    "NONCE_LIFETIME",
    "PROOF_WINDOW",
    "Refusal",
    "bind_answer",
    "binding_refusal",
    "current_nonce",
    "dpop_challenge",
    "jwk_thumbprint",
    "nonce_headers",
    "nonce_required",
    "pushed_binding",
    "read_proof",
    "resource_access",
    "rotate_nonce",
    "token_proof",
]

#: The proof algorithms the mock accepts (metadata ``dpop_signing_alg_values_supported``).
DPOP_SIGNING_ALGS = ("ES256", "ES384", "ES512", "PS256", "RS256", "EdDSA")
#: Seconds a proof's ``iat`` may lie before or after the server's clock (RFC 9449 §4.3 item 11).
PROOF_WINDOW = 300.0
#: Seconds a server nonce stays valid (RFC 9449 §8: the server decides).
NONCE_LIFETIME = 300.0

INVALID_PROOF = "invalid_dpop_proof"
USE_NONCE = "use_dpop_nonce"
# RFC 7638 §3.2: the required members of each key type, in the thumbprint's input.
_THUMBPRINT_MEMBERS = {
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
    "OKP": ("crv", "kty", "x"),
}
_DEFAULT_PORTS = {"http": 80, "https": 443}
# PyJWT checks the signature only; every claim is checked here, on the server's clock.
_SIGNATURE_ONLY: Any = {
    "verify_signature": True,
    **{f"verify_{claim}": False for claim in ("exp", "nbf", "iat", "aud", "iss", "sub", "jti")},
}


@attrs.frozen
class Refusal:
    """Why a proof or a presented token is refused: ``error`` and its description.

    ``error`` is ``invalid_dpop_proof``, ``use_dpop_nonce`` (then ``nonce`` is the
    one to use), ``invalid_token``, or ``None`` for a request with no token at all;
    ``scheme`` is the challenge's: ``DPoP``, or ``Bearer`` for plain Bearer refusals.
    """

    error: str | None
    description: str
    scheme: str = "DPoP"
    nonce: str | None = None


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwk_thumbprint(jwk: Mapping[str, object]) -> str | None:
    """The JWK SHA-256 thumbprint (RFC 7638 §3), or ``None`` for an unusable key."""
    members = _THUMBPRINT_MEMBERS.get(str(jwk.get("kty")))
    if members is None or not all(isinstance(jwk.get(m), str) for m in members):
        return None
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def _normal_uri(url: str) -> str | None:
    """Scheme, host, port and path, normalized (RFC 3986 §6.2.3); ``None`` with a query."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not host or parts.query or parts.fragment:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    return f"{scheme}://{netloc}{parts.path or '/'}"


def _request_uris(state: MockState, request: RecordedRequest) -> set[str]:
    """The URIs this request may have been sent to: by the issuer's name or the Host field."""
    issuer = urlsplit(state.issuer)
    uris = {f"{issuer.scheme}://{issuer.netloc}{request.path}"}
    host = request.headers.get("host")
    if host:
        uris.add(f"{issuer.scheme}://{host}{request.path}")
    return {u for u in map(_normal_uri, uris) if u is not None}


def current_nonce(state: MockState) -> str:
    """The server's DPoP nonce, a new one when the last is older than :data:`NONCE_LIFETIME`."""
    if state.dpop_nonce is None or state.now() >= state.dpop_nonce_expires_at:
        rotate_nonce(state)
    assert state.dpop_nonce is not None
    return state.dpop_nonce


def rotate_nonce(state: MockState) -> None:
    """Hand out a new nonce; the old one is refused from now on (RFC 9449 §8.2)."""
    state.dpop_nonce = new_secret("mock_nonce_")
    state.dpop_nonce_expires_at = state.now() + NONCE_LIFETIME


def nonce_required(state: MockState, client: MockClient | None) -> bool:
    """Whether proofs must carry the server's nonce: for the server, or for this client."""
    return state.require_dpop_nonce or (client is not None and client.require_dpop_nonce)


def nonce_headers(state: MockState, client: MockClient | None) -> tuple[tuple[str, str], ...]:
    """``DPoP-Nonce`` for the next proof when nonces are required (RFC 9449 §8.2), else none."""
    return (("DPoP-Nonce", current_nonce(state)),) if nonce_required(state, client) else ()


def _verified_claims(proof: str) -> tuple[dict[str, Any], str] | str:
    """The claims and the key's thumbprint when header and signature pass, else why not."""
    try:
        import jwt
    except ImportError:  # pragma: no cover - the dev install has PyJWT
        return "DPoP proofs need PyJWT on the server"
    try:
        header = jwt.get_unverified_header(proof)
    except jwt.PyJWTError:
        return "the DPoP proof is not a JWT"
    if str(header.get("typ", "")).lower() != "dpop+jwt":
        return "the DPoP proof's typ must be dpop+jwt"  # §4.3 item 4
    alg = header.get("alg")
    if alg not in DPOP_SIGNING_ALGS:
        return f"the DPoP proof must be signed with one of {list(DPOP_SIGNING_ALGS)}"  # item 5
    jwk = header.get("jwk")
    if not isinstance(jwk, dict):
        return "the DPoP proof has no jwk header"  # item 7
    if PRIVATE_JWK_MEMBERS & jwk.keys():
        return "the DPoP proof's jwk holds a private key"  # item 7
    thumbprint = jwk_thumbprint(jwk)
    if thumbprint is None:
        return "the DPoP proof's jwk is not an EC, RSA or OKP public key"
    try:
        key = jwt.PyJWK(jwk, algorithm=alg)
        claims = jwt.decode(proof, key.key, algorithms=[alg], options=_SIGNATURE_ONLY)
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return "the DPoP proof's signature does not verify with its jwk"  # item 6
    if not isinstance(claims, dict):
        return "the DPoP proof has no claims"
    return claims, thumbprint


def _claims_refusal(
    state: MockState,
    request: RecordedRequest,
    claims: dict[str, Any],
    jkt: str,
    access_token: str | None,
    client: MockClient | None,
) -> Refusal | None:
    jti, iat = claims.get("jti"), claims.get("iat")
    if not isinstance(jti, str) or not jti or not is_number(iat):
        return Refusal(INVALID_PROOF, "the DPoP proof needs jti and iat")  # item 8
    if claims.get("htm") != request.method:
        return Refusal(INVALID_PROOF, "the DPoP proof's htm is not this request's method")
    htu = claims.get("htu")
    if not isinstance(htu, str) or _normal_uri(htu) not in _request_uris(state, request):
        return Refusal(INVALID_PROOF, "the DPoP proof's htu is not this request's URI")  # item 10
    now = state.now()
    if abs(now - iat) > PROOF_WINDOW:
        return Refusal(INVALID_PROOF, "the DPoP proof's iat is outside the accepted window")
    if access_token is not None:
        digest = _b64url(hashlib.sha256(access_token.encode("ascii", "replace")).digest())
        ath = claims.get("ath")
        if not isinstance(ath, str) or not hmac.compare_digest(ath, digest):
            return Refusal(INVALID_PROOF, "the DPoP proof's ath does not match the token")  # §7.1
    if nonce_required(state, client):
        expected = current_nonce(state)
        nonce = claims.get("nonce")
        if not isinstance(nonce, str) or not hmac.compare_digest(nonce, expected):
            # §8: "use_dpop_nonce" with the nonce to use in DPoP-Nonce.
            return Refusal(
                USE_NONCE, "the DPoP proof must carry the server's nonce", nonce=expected
            )
    for seen, until in list(state.dpop_jtis.items()):
        if until < now:
            del state.dpop_jtis[seen]
    if (jkt, jti) in state.dpop_jtis:
        return Refusal(INVALID_PROOF, "the DPoP proof was already used (jti)")  # item 12
    state.dpop_jtis[(jkt, jti)] = float(iat) + PROOF_WINDOW
    return None


def read_proof(
    state: MockState,
    request: RecordedRequest,
    *,
    client: MockClient | None,
    access_token: str | None = None,
) -> str | Refusal:
    """Check the request's ``DPoP`` header (RFC 9449 §4.3); its key's thumbprint, or why not.

    Args:
        state: The server's memory (clock, nonce, seen ``jti`` values).
        request: A request with a ``DPoP`` header.
        client: The client, when known: its ``require_dpop_nonce`` counts.
        access_token: At a resource, the token presented (checked against ``ath``).
    """
    proof = request.headers.get("dpop", "").strip()
    if not proof or "," in proof or " " in proof:
        # §4.3 item 1: exactly one DPoP field (repeated fields arrive joined by ", ").
        return Refusal(INVALID_PROOF, "exactly one DPoP header field is required")
    verified = _verified_claims(proof)
    if isinstance(verified, str):
        return Refusal(INVALID_PROOF, verified)
    claims, jkt = verified
    refusal = _claims_refusal(state, request, claims, jkt, access_token, client)
    return jkt if refusal is None else refusal


def _token_error(refusal: Refusal) -> Answer:
    headers = (("DPoP-Nonce", refusal.nonce),) if refusal.nonce else ()
    error = refusal.error or INVALID_PROOF
    return error_answer(400, error, refusal.description, headers=headers)


def token_proof(
    state: MockState, request: RecordedRequest, client: MockClient | None
) -> str | Answer | None:
    """The proof's key thumbprint at the token or PAR endpoint; ``None`` without a proof.

    Returns:
        The thumbprint; ``None`` when the request has no ``DPoP`` header or the
        server ignores DPoP (``MockAuthorizationServer(dpop=False)``); or the 400
        answer (``invalid_dpop_proof``, ``use_dpop_nonce``, RFC 9449 §5, §8).
    """
    if "dpop" not in request.headers or not state.dpop:
        return None
    found = read_proof(state, request, client=client)
    return _token_error(found) if isinstance(found, Refusal) else found


def binding_refusal(
    state: MockState, client: MockClient, form: Mapping[str, str], jkt: str | None
) -> Answer | None:
    """Refuse a token request whose grant is bound to another key, or none (RFC 9449 §5, §10).

    A client registered with ``dpop_bound_access_tokens`` must send a proof
    (§5.2); a code whose authorization named ``dpop_jkt`` (§10) and a refresh
    token bound to a key (§5) are redeemed with that key only.
    """
    if not state.dpop:
        return None
    if jkt is None and client.dpop_bound_access_tokens:
        return error_answer(400, INVALID_PROOF, "this client must send a DPoP proof (§5.2)")
    bound: str | None = None
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        code = state.codes.get(form.get("code", ""))
        bound = code.dpop_jkt if code is not None and code.client_id == client.client_id else None
    elif grant_type == "refresh_token":
        refresh = state.refresh_tokens.get(form.get("refresh_token", ""))
        owned = refresh is not None and refresh.grant.client_id == client.client_id
        bound = refresh.jkt if refresh is not None and owned else None
    if bound is not None and (jkt is None or not hmac.compare_digest(bound, jkt)):
        what = "code" if grant_type == "authorization_code" else "refresh token"
        return error_answer(400, INVALID_PROOF, f"the {what} is bound to another DPoP key")
    return None


def bind_answer(state: MockState, client: MockClient, answer: Answer, jkt: str | None) -> Answer:
    """Bind the tokens of a successful token answer to ``jkt`` (RFC 9449 §5).

    The access token becomes ``token_type`` ``DPoP`` with the key's thumbprint;
    a public client's refresh token is bound too. The ``DPoP-Nonce`` for the
    next proof is added when nonces are required.
    """
    if jkt is None or answer.status != 200:
        return answer
    data = json.loads(answer.body)
    access = state.access_tokens.get(data.get("access_token", ""))
    if access is None:
        return answer
    access.jkt = jkt
    data["token_type"] = "DPoP"
    refresh = state.refresh_tokens.get(data.get("refresh_token", ""))
    if refresh is not None and client.public:
        refresh.jkt = jkt  # §5: a public client's refresh token MUST be bound
    return attrs.evolve(
        answer,
        body=json.dumps(data).encode("utf-8"),
        headers=(*answer.headers, *nonce_headers(state, client)),
    )


def pushed_binding(
    state: MockState, request: RecordedRequest, client: MockClient
) -> tuple[tuple[str, str], ...] | Answer:
    """The ``dpop_jkt`` a pushed request binds its code to (RFC 9449 §10.1), as parameters.

    A proof at the PAR endpoint binds like ``dpop_jkt``; with both, they must
    name the same key, else ``invalid_dpop_proof``.
    """
    found = token_proof(state, request, client)
    if isinstance(found, Answer):
        return found
    named = request.form.get("dpop_jkt")
    if found is None:
        return ()
    if named is not None and not hmac.compare_digest(named, found):
        return error_answer(400, INVALID_PROOF, "dpop_jkt differs from the proof's key")
    return () if named is not None else (("dpop_jkt", found),)


def resource_access(state: MockState, request: RecordedRequest) -> AccessRecord | Refusal:
    """The active token a resource request presents, or why it is refused (RFC 6750, RFC 9449 §7).

    ``Authorization: Bearer`` for unbound tokens; ``Authorization: DPoP`` with a
    proof by the token's key (``ath`` its hash) for bound ones.
    """
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    token = value.strip()
    scheme = scheme.lower()
    if scheme not in ("bearer", "dpop") or not token:
        # RFC 6750 §3.1: no error code when the request had no token at all.
        return Refusal(None, "", scheme="Bearer")
    access = state.access_tokens.get(token)
    if access is None or not access.active(state.now()):
        shown = "DPoP" if scheme == "dpop" else "Bearer"
        return Refusal("invalid_token", "The access token is invalid or expired", scheme=shown)
    if scheme == "bearer":
        if access.jkt is not None:
            # §7.2: a DPoP-bound token is never accepted as a Bearer token.
            return Refusal("invalid_token", "The token is DPoP-bound: present it with a proof")
        return access
    if access.jkt is None:
        return Refusal("invalid_token", "The token is not DPoP-bound: present it as Bearer")
    client = state.clients.get(access.grant.client_id)
    found = read_proof(state, request, client=client, access_token=token)
    if isinstance(found, Refusal):
        return found
    if not hmac.compare_digest(found, access.jkt):
        return Refusal(INVALID_PROOF, "The DPoP proof's key is not the token's")  # §7.1
    return access


def dpop_challenge(refusal: Refusal, params: list[str]) -> tuple[tuple[str, str], ...]:
    """The ``WWW-Authenticate: DPoP`` field (RFC 9449 §7.1) and any ``DPoP-Nonce`` (§9)."""
    fields = [*params, f'algs="{" ".join(DPOP_SIGNING_ALGS)}"']
    if refusal.error is not None:
        fields += [f'error="{refusal.error}"', f'error_description="{refusal.description}"']
    headers: list[tuple[str, str]] = [("WWW-Authenticate", "DPoP " + ", ".join(fields))]
    if refusal.nonce is not None:
        headers.append(("DPoP-Nonce", refusal.nonce))
    return tuple(headers)
