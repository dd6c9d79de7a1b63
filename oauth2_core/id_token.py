"""OpenID Connect ID token validation (OpenID Connect Core 1.0 §2, §3.1.3.7).

:func:`validate_id_token` checks, in this order, through the core's one JWT
verifier (:func:`oauth2_core.jws_verify.verify_jwt`): the JWS header (``alg``
never ``none``; an unknown or malformed ``crit`` and ``b64`` refused, RFC 7515
§4.1.11), its ``alg`` (only algorithms that fit the key type, so a token
"signed" with HS256 over the public key is refused; HMAC with the client secret
only when the server advertises it, §10.1), the signature against the server's
JWK set, ``exp``, ``nbf`` and ``iat`` (one bounded leeway, RFC 7519 §4.1.4-6);
then ``iss``, ``aud``, ``azp``, ``nonce``, ``auth_time`` (with ``max_age``),
``at_hash`` and ``sub``.
A failure is an :class:`IdTokenError` whose ``check`` names the check.

:func:`validate_id_token_flow` fetches the JWK set when it is not cached, and
once more when the token names a ``kid`` the cached set lacks (the server
rotated its keys); :func:`id_token_flow` does it for a token response.

Asymmetric signatures need the ``oauth2-core[jwt]`` extra.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import types
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from oauth2_core._http import Flow
from oauth2_core._params import scope_string
from oauth2_core.client import Client
from oauth2_core.errors import MalformedResponseError, UsageError
from oauth2_core.jose import EXTRA_HINT, b64url_encode, require_jwt
from oauth2_core.jwks import HMAC_ALGS, JwksCache, verified_with_keys_flow
from oauth2_core.jws_verify import MAX_LEEWAY as MAX_LEEWAY
from oauth2_core.jws_verify import fail, numeric_date_claim, verify_jwt
from oauth2_core.metadata import ServerMetadata
from oauth2_core.pending import PendingAuthorization
from oauth2_core.token import Token

__all__ = [
    "IdTokenClaims",
    "check_id_token_support",
    "id_token_flow",
    "validate_id_token",
    "validate_id_token_flow",
]

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
#: The hash of each JWS alg (RFC 7518 §3.1), for at_hash; EdDSA depends on the curve.
_HASHES = {
    **{f"{family}256": hashlib.sha256 for family in ("HS", "RS", "PS", "ES")},
    **{f"{family}384": hashlib.sha384 for family in ("HS", "RS", "PS", "ES")},
    **{f"{family}512": hashlib.sha512 for family in ("HS", "RS", "PS", "ES")},
    "ES256K": hashlib.sha256,
}


def _to_claims(value: object) -> Mapping[str, Any]:
    return types.MappingProxyType(dict(value))  # type: ignore[call-overload]


@attrs.frozen(repr=False)
class IdTokenClaims(Mapping[str, Any]):
    """The claims of a validated ID token (OpenID Connect Core §2).

    It is a read-only mapping of every claim (``claims["email"]``) with the
    standard ones as attributes. Only :func:`validate_id_token` should make one.

    Attributes:
        iss: The issuer. sub: The subject (the user's stable identifier at the issuer).
        aud: The audiences. exp, iat: Expiry and issue time (aware UTC).
        nonce: The nonce, or ``None``. azp: The authorized party, or ``None``.
        auth_time: When the user authenticated, or ``None``.
        claims: Every claim.
    """

    iss: str
    sub: str
    aud: tuple[str, ...]
    exp: _dt.datetime
    iat: _dt.datetime
    nonce: str | None = None
    azp: str | None = None
    auth_time: _dt.datetime | None = None
    claims: Mapping[str, Any] = attrs.field(factory=dict, converter=_to_claims, hash=False)

    def __getitem__(self, name: str) -> Any:
        return self.claims[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.claims)

    def __len__(self) -> int:
        return len(self.claims)

    def __repr__(self) -> str:
        # Claims are personal data (email, address): names only.
        return (
            f"IdTokenClaims(iss={self.iss!r}, sub={self.sub!r}, aud={self.aud!r}, "
            f"claim_names={sorted(self.claims)!r})"
        )

    __str__ = __repr__


def token_hash(value: str, alg: str, crv: str | None = None) -> str:
    """``at_hash`` / ``c_hash``: the left half of the hash of ``value`` (OIDC Core §3.1.3.6).

    The hash is the one of the JWS ``alg`` (SHA-256 for ``*256``, ...); for
    ``EdDSA`` it is SHA-512 with Ed25519 and SHAKE256 (114 octets) with Ed448.

    Raises:
        UsageError: an ``alg`` without a defined hash.
    """
    data = value.encode("utf-8", "surrogatepass")
    if alg == "EdDSA":
        full = (
            hashlib.shake_256(data).digest(114) if crv == "Ed448" else hashlib.sha512(data).digest()
        )
    else:
        digest = _HASHES.get(alg)
        if digest is None:
            raise UsageError("no token hash is defined for this alg")
        full = digest(data).digest()
    return b64url_encode(full[: len(full) // 2])


def _same(received: str, expected: str) -> bool:
    # Constant time; "surrogatepass" because JSON may carry lone surrogates ("\ud800").
    return hmac.compare_digest(
        received.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def _datetime(seconds: float) -> _dt.datetime:
    # Epoch plus an offset: fromtimestamp() fails for negative values on some platforms.
    return _EPOCH + _dt.timedelta(seconds=seconds)


def _check_arguments(id_token: object, max_age: object, nonce: object) -> None:
    if not isinstance(id_token, str) or not id_token:
        raise UsageError("id_token must be the ID token string")
    if max_age is not None and (
        isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0
    ):
        raise UsageError("max_age must be a non-negative int or None")
    if nonce is not None and not isinstance(nonce, str):
        raise UsageError("nonce must be a string or None")


def check_id_token_support(server: ServerMetadata, client: Client, *, scope: object) -> None:
    """Refuse, before anything is sent, an OpenID request whose ID token could not be validated.

    With ``openid`` in ``scope`` the server answers with an ID token that the
    client MUST validate (OpenID Connect Core §3.1.3.7). An asymmetric
    signature needs PyJWT with ``cryptography`` (the ``oauth2-core[jwt]``
    extra); only HMAC with this client's secret (§10.1) needs nothing more. Call
    this before the browser opens or a request leaves, so that a missing extra
    does not cost the user a login and the server a single-use code.

    Args:
        server: The server; ``id_token_signing_alg_values_supported`` tells
            whether it signs with HMAC only.
        client: The client (its secret is the HMAC key).
        scope: The scope about to be requested (a string or iterable of strings).

    Raises:
        UsageError: ``openid`` is in scope and the extra is missing; the message
            is the ``pip install`` line.

    Next: :func:`oauth2_core.authorization_url`.
    """
    value = scope_string(scope)
    if not value or "openid" not in value.split():
        return
    algs = server.id_token_signing_alg_values_supported
    if algs and client.client_secret and all(alg in HMAC_ALGS for alg in algs):
        return  # HMAC with the client secret: the standard library suffices
    try:
        require_jwt()
    except UsageError:
        raise UsageError(
            "the scope has openid, and validating the ID token (OpenID Connect Core "
            f"§3.1.3.7) needs PyJWT: {EXTRA_HINT}"
        ) from None


def validate_id_token(
    id_token: str,
    *,
    server: ServerMetadata,
    client: Client,
    jwks: Mapping[str, Any] | None,
    nonce: str | None,
    now: _dt.datetime,
    leeway: float = 60,
    max_age: int | None = None,
    access_token: str | None = None,
    algorithms: Iterable[str] | None = None,
) -> IdTokenClaims:
    """Validate an ID token from the token endpoint (OpenID Connect Core §3.1.3.7).

    Args:
        id_token: The compact JWT (``Token.id_token``).
        server: The server; ``issuer`` must equal the token's ``iss``.
        client: The client; its ``client_id`` must be an audience.
        jwks: The server's JWK set (:func:`process_jwks_response`), or ``None``.
        nonce: The nonce sent (``pending.nonce``); ``None`` skips the check
            (a refresh, §12.2).
        now: The current time (aware); ``exp`` must be after it, ``iat`` not after it.
        leeway: Allowed clock skew in seconds, 0 to :data:`MAX_LEEWAY`.
        max_age: The ``max_age`` sent, to check ``auth_time`` (§3.1.2.1).
        access_token: The access token issued with it, to check ``at_hash``
            when present (§3.1.3.8).
        algorithms: Allowed ``alg`` values; default the server's
            ``id_token_signing_alg_values_supported``, or any asymmetric one
            that fits the key when it does not say.

    Returns:
        The claims.

    Raises:
        IdTokenError: a failed check, named by ``.check``; ``"kid"`` means no
            key fits: fetch the JWK set again once (see :func:`validate_id_token_flow`).
        UsageError: a bad argument, or the ``oauth2-core[jwt]`` extra missing.
    """
    _check_arguments(id_token, max_age, nonce)
    if algorithms is not None:
        allowed: tuple[str, ...] | None = tuple(algorithms)
    else:
        allowed = server.id_token_signing_alg_values_supported
    # Header (alg, crit, b64), signature, exp / nbf / iat: the one JWT verifier.
    verified = verify_jwt(
        id_token, client=client, jwks=jwks, allowed=allowed, now=now, leeway=leeway
    )
    claims = verified.claims
    if claims.get("iss") != server.issuer:
        fail("iss", "iss is not the server's issuer")
    aud = claims.get("aud")
    audiences = (aud,) if isinstance(aud, str) else aud
    if not isinstance(audiences, list | tuple) or not all(isinstance(a, str) for a in audiences):
        fail("aud", "aud must be a string or an array of strings")
    if client.client_id not in audiences:
        fail("aud", "the client is not an audience")
    azp = claims.get("azp")
    if azp is not None and azp != client.client_id:
        fail("azp", "azp is not the client")
    if azp is None and len(audiences) > 1:
        fail("azp", "several audiences and no azp")
    current = now.timestamp()
    exp, iat = numeric_date_claim(claims, "exp"), numeric_date_claim(claims, "iat")
    got_nonce = claims.get("nonce")
    if got_nonce is not None and not isinstance(got_nonce, str):
        fail("nonce", "nonce must be a string")
    if nonce is not None and (got_nonce is None or not _same(got_nonce, nonce)):
        fail("nonce", "nonce is not the one sent")
    auth_time = None
    if max_age is not None or claims.get("auth_time") is not None:
        auth_time = numeric_date_claim(claims, "auth_time")
    if max_age is not None and auth_time is not None and current > auth_time + max_age + leeway:
        fail("auth_time", "the user authenticated longer ago than max_age")
    at_hash = claims.get("at_hash")
    if access_token is not None and at_hash is not None:
        expected = token_hash(access_token, str(verified.header["alg"]), verified.crv)
        if not isinstance(at_hash, str) or not _same(at_hash, expected):
            fail("at_hash", "at_hash does not match the access token")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        fail("sub", "sub must be a non-empty string")
    azp_value = azp if isinstance(azp, str) else None
    return IdTokenClaims(
        iss=server.issuer,
        sub=sub,
        aud=tuple(audiences),
        exp=_datetime(exp),
        iat=_datetime(iat),
        nonce=got_nonce,
        azp=azp_value,
        auth_time=None if auth_time is None else _datetime(auth_time),
        claims=claims,
    )


def validate_id_token_flow(
    id_token: str,
    *,
    server: ServerMetadata,
    client: Client,
    nonce: str | None,
    now: _dt.datetime,
    jwks_cache: JwksCache | None = None,
    leeway: float = 60,
    max_age: int | None = None,
    access_token: str | None = None,
    algorithms: Iterable[str] | None = None,
) -> Flow[IdTokenClaims]:
    """Validate an ID token, fetching the server's JWK set when needed.

    Sends nothing when the cached set has the key (or the token is
    HMAC-signed); fetches ``jwks_uri`` when nothing is cached, and fetches it
    **once** more when the token names a key the cached set lacks, unless the
    set is younger than ``jwks_cache.min_refetch_interval`` at ``now``. The
    cache is updated in place.

    Args:
        id_token, server, client, nonce, now, leeway, max_age, access_token,
        algorithms: As :func:`validate_id_token`.
        jwks_cache: Keep one per server between calls; ``None`` fetches every time.

    Returns:
        The claims.

    Raises:
        IdTokenError: as :func:`validate_id_token`.
        EndpointError, MalformedResponseError: the JWK set could not be fetched.
    """
    algs = tuple(algorithms) if algorithms is not None else None
    return (
        yield from verified_with_keys_flow(
            lambda keys: validate_id_token(
                id_token,
                server=server,
                client=client,
                jwks=keys,
                nonce=nonce,
                now=now,
                leeway=leeway,
                max_age=max_age,
                access_token=access_token,
                algorithms=algs,
            ),
            server=server,
            cache=jwks_cache,
            now=now,
            allow_insecure_http=client.allow_insecure_http,
        )
    )


def id_token_flow(
    token: Token,
    *,
    server: ServerMetadata,
    client: Client,
    pending: PendingAuthorization,
    now: _dt.datetime,
    jwks_cache: JwksCache | None = None,
    leeway: float = 60,
    max_age: int | None = None,
) -> Flow[IdTokenClaims]:
    """Validate the ID token of an authorization code exchange (OIDC Core §3.1.3.3).

    Uses ``pending.nonce`` and the token's access token (``at_hash``).

    Raises:
        MalformedResponseError: the token response has no ``id_token`` although
            ``openid`` was requested (field ``"id_token"``).
        IdTokenError: as :func:`validate_id_token`.
    """
    if token.id_token is None:
        raise MalformedResponseError(
            "the token response has no id_token although the scope has openid",
            field="id_token",
        )
    return (
        yield from validate_id_token_flow(
            token.id_token,
            server=server,
            client=client,
            nonce=pending.nonce,
            now=now,
            jwks_cache=jwks_cache,
            leeway=leeway,
            max_age=max_age,
            access_token=token.access_token,
        )
    )
