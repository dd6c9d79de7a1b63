"""DPoP: demonstrating proof of possession (RFC 9449).

A DPoP key pair binds tokens to the client: every request to the token
endpoint and every use of a DPoP-bound token carries a fresh proof JWT signed
with the private key (§4).

* :func:`generate_dpop_key` makes a key (a private JWK); :func:`dpop_jkt` is
  its thumbprint for the authorization request's ``dpop_jkt`` (§10);
* :func:`dpop_proof` builds a proof (§4.2); :func:`dpop_request` attaches it
  (and ``Authorization: DPoP <token>``, §7.1) to an :class:`HttpRequest`;
* :func:`dpop_send_flow` is the one building block that sends with a proof:
  it retries **once** when the server answers with a nonce challenge (§8, §9;
  recognised in :mod:`oauth2_core.dpop_nonce`, which also keeps nonces per
  origin) and returns the answer with the latest nonce;
* :func:`dpop_token_flow` and :func:`dpop_resource_flow` are that block with a
  token or a resource answer (kept for compatibility).

Flows never read the clock: the first proof is dated with the ``now`` given,
the retry with the ``received_at`` of the answer that asked for it.

Needs the ``oauth2-core[jwt]`` extra (asymmetric signatures).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit, urlunsplit

import attrs

from oauth2_core._http import Flow, HttpRequest, HttpResponse, Send
from oauth2_core._random import new_jti
from oauth2_core.dpop_nonce import (
    DPOP_NONCE_FIELD,
    DPoPNonces,
    dpop_nonce_challenge,
    is_dpop_nonce,
    latest_dpop_nonce,
)
from oauth2_core.errors import UsageError
from oauth2_core.jose import (
    SigningKey,
    b64url_encode,
    encode_compact,
    jwa_algorithm,
    load_signing_key,
    numeric_date,
    require_jwt,
)
from oauth2_core.jwks import PrivateJwk, jwk_thumbprint
from oauth2_core.token import Token, process_refresh_response, process_token_response, token_scheme

__all__ = [
    "dpop_jkt",
    "dpop_nonce_challenge",
    "dpop_proof",
    "dpop_request",
    "dpop_resource_flow",
    "dpop_send_flow",
    "dpop_token_flow",
    "generate_dpop_key",
]

#: Algorithms :func:`generate_dpop_key` can make keys for.
DPOP_ALGS = ("ES256", "ES384", "ES512", "RS256", "PS256", "EdDSA")
_PURPOSE = "the DPoP key"
_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_DEFAULT_PORTS = {"http": 80, "https": 443}

DPoPKey = Mapping[str, str] | str | bytes | SigningKey
"""A private JWK dict (e.g. from :func:`generate_dpop_key`), a PEM, or a loaded key."""


def generate_dpop_key(alg: str = "ES256") -> PrivateJwk:
    """A new DPoP key pair as a private JWK with its ``alg`` (RFC 9449 §4.2).

    Args:
        alg: One of :data:`DPOP_ALGS` (ES256 by default: small and fast).

    Returns:
        A :class:`PrivateJwk` (a dict; ``repr`` hides the private part). Keep
        it for as long as the tokens bound to it; ``json.dumps`` stores it.

    Raises:
        UsageError: an unknown ``alg``, or the ``oauth2-core[jwt]`` extra is missing.
    """
    if alg not in DPOP_ALGS:
        raise UsageError(f"alg must be one of {list(DPOP_ALGS)}")
    require_jwt()
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    key: object
    if alg.startswith("ES"):
        curves: dict[str, ec.EllipticCurve] = {
            "ES256": ec.SECP256R1(),
            "ES384": ec.SECP384R1(),
            "ES512": ec.SECP521R1(),
        }
        key = ec.generate_private_key(curves[alg])
    elif alg == "EdDSA":
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = jwa_algorithm(alg).to_jwk(key, as_dict=True)
    # Only the key's string members: PyJWT adds "key_ops" as a list for RSA.
    result = PrivateJwk({str(k): v for k, v in jwk.items() if isinstance(v, str)})
    result["alg"] = alg
    return result


def dpop_jkt(key: DPoPKey) -> str:
    """The JWK SHA-256 thumbprint of the DPoP public key (RFC 7638, RFC 9449 §10).

    Send it as the ``dpop_jkt`` authorization request parameter to bind the
    authorization code to the key:
    ``oc.authorization_url(server, client, pending, dpop_jkt=oc.dpop_jkt(key))``.
    """
    if isinstance(key, Mapping):
        return jwk_thumbprint(key)
    return jwk_thumbprint(load_signing_key(key, purpose=_PURPOSE).public_jwk())


def target_uri(url: str) -> str:
    """The ``htu`` of a request to ``url``: its target URI without query and fragment.

    RFC 9449 §4.2: "The HTTP target URI [...] without query and fragment
    parts." Scheme and host are lower-cased, a default port and any userinfo
    dropped, and an empty path written ``/`` (RFC 3986 §6.2.3 normalization,
    which §4.3 tells servers to apply), so the server's view matches.

    Raises:
        UsageError: not an absolute http(s) URL.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except (ValueError, TypeError, AttributeError) as exc:
        raise UsageError("the request URL is not a valid absolute URL") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not host:
        raise UsageError("DPoP needs an absolute http or https request URL")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", "", ""))


def _token_value(token: Token | str) -> str:
    value = token.access_token if isinstance(token, Token) else token
    if not isinstance(value, str) or not value or not all("\x21" <= c <= "\x7e" for c in value):
        raise UsageError("the access token is empty or has characters a token cannot have")
    return value


def access_token_hash(access_token: Token | str) -> str:
    """The ``ath`` claim: base64url(SHA-256(ASCII(access token))) (RFC 9449 §4.2)."""
    value = _token_value(access_token)
    return b64url_encode(hashlib.sha256(value.encode("ascii")).digest())


def dpop_proof(
    key: DPoPKey,
    htm: str,
    htu: str,
    *,
    now: _dt.datetime,
    jti: str | None = None,
    nonce: str | None = None,
    access_token: Token | str | None = None,
) -> str:
    """A DPoP proof JWT (RFC 9449 §4.2).

    Header: ``typ`` ``dpop+jwt``, ``alg`` from the key, ``jwk`` = the public
    key only. Claims: ``jti``, ``htm``, ``htu`` (see :func:`target_uri`),
    ``iat``; ``nonce`` when given (§8); ``ath`` when ``access_token`` is given (§7.1).

    Args:
        key: The private key (see :func:`generate_dpop_key`).
        htm: The request method.
        htu: The request URL (query and fragment are dropped).
        now: When the request is sent, an aware datetime.
        jti: A unique ID; a fresh random one by default.
        nonce: The server-provided nonce.
        access_token: The token sent with the request, for resource requests.

    Returns:
        The compact JWT for the ``DPoP`` header field.

    Raises:
        UsageError: a symmetric or unusable key, a bad method, URL or nonce,
            ``now`` naive, or the ``oauth2-core[jwt]`` extra missing.
    """
    signing = load_signing_key(key, purpose=_PURPOSE)
    if not isinstance(htm, str) or not htm or not set(htm) <= _TCHAR:
        raise UsageError("htm must be an HTTP method")
    claims: dict[str, object] = {
        "jti": jti or new_jti(),
        "htm": htm,
        "htu": target_uri(htu),
        "iat": numeric_date(now),
    }
    if nonce is not None:
        if not is_dpop_nonce(nonce):
            raise UsageError("a DPoP nonce is 1 or more visible ASCII characters, no quote")
        claims["nonce"] = nonce
    if access_token is not None:
        claims["ath"] = access_token_hash(access_token)
    header = {"typ": "dpop+jwt", "alg": signing.alg, "jwk": signing.public_jwk()}
    return encode_compact(header, claims, signing.sign)


def dpop_request(
    request: HttpRequest,
    key: DPoPKey,
    *,
    now: _dt.datetime,
    nonce: str | None = None,
    access_token: Token | str | None = None,
    jti: str | None = None,
) -> HttpRequest:
    """The request with a ``DPoP`` proof header (RFC 9449 §4.1, §7.1).

    With ``access_token`` it also sets ``Authorization: DPoP <token>``
    (replacing any ``Authorization``) and the proof's ``ath``. A :class:`Token`
    whose ``token_type`` is not ``DPoP`` is refused: the server did not bind it
    (RFC 9449 §5 lets it answer Bearer), so send it with ``bearer_authorize``.

    Returns:
        A new request; ``request`` is unchanged. Proofs are single-use: build
        a new one for every send.
    """
    if not isinstance(request, HttpRequest):
        raise UsageError("request must be an HttpRequest")
    if isinstance(access_token, Token) and token_scheme(access_token) != "DPoP":
        raise UsageError(
            "the token is not DPoP-bound (token_type is not DPoP); send it with bearer_authorize"
        )
    proof = dpop_proof(
        key, request.method, request.url, now=now, jti=jti, nonce=nonce, access_token=access_token
    )
    replaced = {"dpop", "authorization"} if access_token is not None else {"dpop"}
    fields = [(n, v) for n, v in request.headers.fields() if n not in replaced]
    fields.append(("dpop", proof))
    if access_token is not None:
        fields.append(("authorization", f"DPoP {_token_value(access_token)}"))
    return attrs.evolve(request, headers=fields)


RequestSource = HttpRequest | Callable[[_dt.datetime], HttpRequest]
"""A request, or a function of the send time that builds it (for JWT client auth)."""


def dpop_send_flow(
    request: RequestSource,
    key: DPoPKey,
    *,
    now: _dt.datetime,
    nonce: str | None = None,
    nonces: DPoPNonces | None = None,
    access_token: Token | str | None = None,
) -> Flow[tuple[HttpResponse, str | None]]:
    """Send with a DPoP proof; send again once if the server asks for a nonce.

    The one building block under every DPoP request (RFC 9449 §8 and §9): the
    proof carries the server's last nonce; an answer that is a nonce
    challenge (``use_dpop_nonce`` with a ``DPoP-Nonce``, see
    :func:`~oauth2_core.dpop_nonce.dpop_nonce_challenge`) is answered by
    sending once more with a proof carrying the new nonce, dated with that
    answer's ``received_at``. Never more than once, and not when the server
    refuses the very nonce just sent: that answer is returned to the caller,
    whose processor reports it as an error, never a loop.

    Args:
        request: The request, or a function ``now -> request``: use one with
            ``private_key_jwt`` / ``client_secret_jwt``, so that the resend
            carries a fresh client assertion (a new ``jti``).
        key: The DPoP private key.
        now: When the first request is sent, an aware datetime.
        nonce: The server's last nonce, if known (ignored when ``nonces`` has
            one for the request's origin).
        nonces: The caller's per-origin nonces: read for the request's origin
            and updated with the nonce each answer hands out (§8.2).
        access_token: For a resource request: the DPoP-bound token sent as
            ``Authorization: DPoP`` (its hash goes into the proof's ``ath``).

    Returns:
        The last answer, whatever its status (process it next), and the
        latest nonce of the server (the answer's ``DPoP-Nonce``, else the one
        sent), or ``None``.

    Raises:
        UsageError: a bad key, request or nonce.
    """
    if not isinstance(request, HttpRequest) and not callable(request):
        raise UsageError("request must be an HttpRequest or a function of the send time")
    signing = load_signing_key(key, purpose=_PURPOSE)
    first = request if isinstance(request, HttpRequest) else request(now)
    if nonces is not None:
        nonce = nonces.get(first.url) or nonce
    response = yield Send(
        dpop_request(first, signing, now=now, nonce=nonce, access_token=access_token)
    )
    sent = nonce
    challenge = dpop_nonce_challenge(response)
    if challenge is not None and challenge != sent:
        when = response.received_at
        again = request if isinstance(request, HttpRequest) else request(when)
        sent = challenge
        response = yield Send(
            dpop_request(again, signing, now=when, nonce=challenge, access_token=access_token)
        )
    latest = latest_dpop_nonce(response.headers.get_all(DPOP_NONCE_FIELD)) or sent
    if nonces is not None:
        nonces.set(first.url, latest)
    return response, latest


def dpop_token_flow(
    request: RequestSource,
    key: DPoPKey,
    *,
    now: _dt.datetime,
    nonce: str | None = None,
    previous: Token | None = None,
) -> Flow[tuple[Token, str | None]]:
    """Send a token request with a DPoP proof; retry once with the server's nonce.

    RFC 9449 §5 and §8: :func:`dpop_send_flow`, then ``process_token_response``
    (``process_refresh_response`` with ``previous``). A second nonce
    challenge is an :class:`EndpointError`, never a loop. The token is
    returned as the server sent it: ``token_type`` is normally ``DPoP``, but
    §5 allows ``Bearer`` (the token is then not bound).

    Kept for compatibility: ``oauth2_core.token_grant_flow(build, now=...,
    dpop_key=key, dpop_nonces=nonces)`` does the same and keeps the nonce per
    origin for you.

    Args:
        request: The token request, or a function ``now -> request`` (see
            :func:`dpop_send_flow`).
        key: The DPoP private key.
        now: When the first request is sent, an aware datetime.
        nonce: The authorization server's last nonce, if known.
        previous: For a refresh: the token refreshed (see
            ``process_refresh_response``).

    Returns:
        The token, and the latest authorization server nonce (for the next
        request), or ``None``.

    Raises:
        EndpointError, MalformedResponseError: as ``process_token_response``.
        UsageError: a bad key or request.
    """
    response, latest = yield from dpop_send_flow(request, key, now=now, nonce=nonce)
    if previous is not None:
        token = process_refresh_response(response, previous=previous)
    else:
        token = process_token_response(response)
    return token, latest


def dpop_resource_flow(
    request: HttpRequest,
    key: DPoPKey,
    access_token: Token | str,
    *,
    now: _dt.datetime,
    nonce: str | None = None,
) -> Flow[HttpResponse]:
    """Call a resource server with a DPoP-bound token; retry once with its nonce.

    RFC 9449 §7.1 and §9: the request carries ``Authorization: DPoP <token>``
    and a proof with ``ath`` (:func:`dpop_send_flow` with ``access_token``).

    Args:
        request: The resource request (any ``Authorization`` is replaced).
        key: The DPoP private key the token is bound to.
        access_token: A :class:`Token` of type DPoP, or the token string.
        now: When the first request is sent, an aware datetime.
        nonce: This resource server's last nonce, if known (nonces are per server).

    Returns:
        The final response, whatever its status; its ``DPoP-Nonce`` header is
        the nonce for the next request to this server.
    """
    response, _ = yield from dpop_send_flow(
        request, key, now=now, nonce=nonce, access_token=access_token
    )
    return response
