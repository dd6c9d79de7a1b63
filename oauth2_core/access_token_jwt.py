"""JWT access tokens, checked by a resource server (RFC 9068 §4).

:func:`validate_jwt_access_token` is the sans-IO check (the caller gives the
issuer's JWK set and the time); :func:`jwt_access_token_flow` fetches the JWK set
when it is missing, and once more for an unknown ``kid`` within the
:class:`~oauth2_core.JwksCache`'s rate limit, as ID token validation does.

The signature, header (``alg`` never ``none``, ``crit``, ``b64``) and time claims
go through :func:`oauth2_core.jws_verify.verify_jwt`, the core's one verifier.
This module adds RFC 9068's own checks, in §4's order: ``typ`` is ``at+jwt``,
``iss`` is the issuer, ``aud`` holds the resource server, the required claims
(§2.2) are there, then the scopes the request needs. Every failure is an
:class:`~oauth2_core.errors.AccessTokenError` that says what to answer:
:class:`~oauth2_core.errors.InvalidTokenError` (401) or
:class:`~oauth2_core.errors.InsufficientScopeError` (403), RFC 6750 §3.1.
"""

from __future__ import annotations

import datetime as _dt
import types
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from oauth2_core._http import Flow
from oauth2_core._params import scope_string
from oauth2_core.client import Client
from oauth2_core.errors import IdTokenError, InsufficientScopeError, InvalidTokenError, UsageError
from oauth2_core.jwks import JwksCache, verified_with_keys_flow
from oauth2_core.jws_verify import verify_jwt
from oauth2_core.metadata import ServerMetadata

__all__ = ["AccessTokenClaims", "jwt_access_token_flow", "validate_jwt_access_token"]

#: RFC 9068 §4: "the resource server MUST verify that the typ header value is
#: "at+jwt" or "application/at+jwt" and reject tokens carrying any other value".
_TYPES = frozenset({"at+jwt", "application/at+jwt"})
#: RFC 9068 §2.2: claims an access token MUST carry (time claims are checked by verify_jwt).
_REQUIRED = ("sub", "client_id", "jti")


def _to_claims(value: object) -> Mapping[str, Any]:
    return types.MappingProxyType(dict(value))  # type: ignore[call-overload]


@attrs.frozen(repr=False)
class AccessTokenClaims(Mapping[str, Any]):
    """The claims of a validated JWT access token (RFC 9068 §2.2), a read-only mapping.

    Attributes:
        iss, sub, client_id, jti: As in the token.
        aud: Its audiences. scope: Its scopes (empty when it has none).
        exp, iat: Expiry and issue time (aware UTC).
        claims: Every claim (``claims["auth_time"]``, ``["groups"]`` ...).
    """

    iss: str
    sub: str
    client_id: str
    jti: str
    aud: tuple[str, ...]
    scope: tuple[str, ...]
    exp: _dt.datetime
    iat: _dt.datetime
    claims: Mapping[str, Any] = attrs.field(factory=dict, converter=_to_claims, hash=False)

    def __getitem__(self, name: str) -> Any:
        return self.claims[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.claims)

    def __len__(self) -> int:
        return len(self.claims)

    def __repr__(self) -> str:
        # Claims are personal data: names only.
        return (
            f"AccessTokenClaims(iss={self.iss!r}, client_id={self.client_id!r}, "
            f"scope={self.scope!r}, claim_names={sorted(self.claims)!r})"
        )

    __str__ = __repr__


def _names(value: object, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if what == "scope":
        # RFC 6749 §3.3 / RFC 6750 §3: a scope string is space-delimited, so
        # "read write" needs both, as ("read", "write") does.
        text = scope_string(value)
        return tuple(text.split()) if text else ()
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, Iterable) and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise UsageError(f"{what} must be a string or an iterable of strings")


def _scope(value: object) -> tuple[str, ...]:
    # RFC 9068 §2.2.3: "scope" as RFC 8693 §4.2, a space-delimited string.
    if value is None:
        return ()
    if not isinstance(value, str):
        raise InvalidTokenError("the scope claim is not a string", check="scope")
    return tuple(value.split())


def validate_jwt_access_token(
    token: str,
    *,
    issuer: str,
    audience: str | Iterable[str],
    jwks: Mapping[str, Any] | None,
    now: _dt.datetime,
    scope: str | Iterable[str] | None = None,
    leeway: float = 60,
    algorithms: Iterable[str] | None = None,
) -> AccessTokenClaims:
    """Validate a JWT access token as a resource server (RFC 9068 §4).

    Args:
        token: The access token from the ``Authorization`` header.
        issuer: The authorization server's issuer identifier (exact match, §4 item 3).
        audience: This resource server's identifier(s); the token's ``aud`` must
            hold one of them (§4 item 4).
        jwks: The issuer's JWK set (from its ``jwks_uri``).
        now: The current time, aware (the core reads no clock).
        scope: Scopes this request needs, a space-delimited string or an
            iterable; every one must be in the token's ``scope`` (else
            :class:`InsufficientScopeError`).
        leeway: Allowed clock skew in seconds, for ``exp``, ``nbf`` and ``iat``.
        algorithms: The ``alg`` values accepted; default any asymmetric one that
            fits the key (never HMAC, never ``none``; RFC 9068 §4).

    Returns:
        The claims.

    Raises:
        InvalidTokenError: any check but the scope failed (answer 401); ``check``
            names it, ``"kid"`` meaning no key of the set fits (fetch it again).
        InsufficientScopeError: a required scope is missing (answer 403).
        UsageError: ``now``, ``leeway``, ``audience`` or ``scope`` invalid.
    """
    audiences, required_scope = _arguments(token, issuer, audience, scope)
    try:
        return _checked(
            token,
            issuer=issuer,
            audiences=audiences,
            required_scope=required_scope,
            jwks=jwks,
            now=now,
            leeway=leeway,
            algorithms=None if algorithms is None else tuple(algorithms),
        )
    except IdTokenError as exc:
        raise _invalid(exc) from None


def _arguments(
    token: object, issuer: object, audience: object, scope: object
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if not isinstance(token, str):
        raise UsageError("the access token must be a string")
    if not isinstance(issuer, str) or not issuer:
        raise UsageError("issuer must be a non-empty string")
    audiences = _names(audience, "audience")
    if not audiences:
        raise UsageError("audience must name this resource server (RFC 9068 §4)")
    return audiences, _names(scope, "scope")


def _checked(
    token: str,
    *,
    issuer: str,
    audiences: tuple[str, ...],
    required_scope: tuple[str, ...],
    jwks: Mapping[str, Any] | None,
    now: _dt.datetime,
    leeway: float,
    algorithms: tuple[str, ...] | None,
) -> AccessTokenClaims:
    # The checks of validate_jwt_access_token; the verifier's IdTokenError passes
    # through unmapped, so that jwt_access_token_flow can refetch on "kid".
    verified = verify_jwt(
        token,
        # verify_jwt uses the client only for HMAC, which allowed=None never accepts.
        client=Client("resource-server"),
        jwks=jwks,
        allowed=algorithms,
        now=now,
        leeway=leeway,
    )
    typ = verified.header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in _TYPES:
        raise InvalidTokenError("not a JWT access token (typ must be at+jwt)", check="typ")
    claims = verified.claims
    if claims.get("iss") != issuer:
        raise InvalidTokenError("issued by another server", check="iss")
    aud = claims.get("aud")
    token_audiences = (aud,) if isinstance(aud, str) else aud
    if not isinstance(token_audiences, (list, tuple)) or not any(
        a in audiences for a in token_audiences if isinstance(a, str)
    ):
        raise InvalidTokenError("not meant for this resource server", check="aud")
    for name in _REQUIRED:
        if not isinstance(claims.get(name), str) or not claims[name]:
            raise InvalidTokenError(f"the {name} claim is missing", check=name)
    granted = _scope(claims.get("scope"))
    missing = [s for s in required_scope if s not in granted]
    if missing:
        raise InsufficientScopeError("the token lacks a required scope", scope=required_scope)
    epoch = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    return AccessTokenClaims(
        iss=issuer,
        sub=claims["sub"],
        client_id=claims["client_id"],
        jti=claims["jti"],
        aud=tuple(a for a in token_audiences if isinstance(a, str)),
        scope=granted,
        exp=epoch + _dt.timedelta(seconds=float(claims["exp"])),
        iat=epoch + _dt.timedelta(seconds=float(claims["iat"])),
        claims=claims,
    )


# Fixed texts (RFC 6750 §3: error_description is for developers, printable ASCII).
_DESCRIPTIONS = {
    "format": "not a signed JWT",
    "alg": "the signing algorithm is not accepted",
    "crit": "a critical header extension is not supported",
    "b64": "unencoded payloads are not supported",
    "kid": "no key of the issuer fits the token",
    "signature": "the signature does not verify",
    "exp": "the token has expired",
    "nbf": "the token is not valid yet",
    "iat": "the token was issued in the future",
}


def _invalid(exc: IdTokenError) -> InvalidTokenError:
    return InvalidTokenError(_DESCRIPTIONS.get(exc.check, "invalid"), check=exc.check)


def jwt_access_token_flow(
    token: str,
    *,
    server: ServerMetadata,
    audience: str | Iterable[str],
    now: _dt.datetime,
    jwks_cache: JwksCache | None = None,
    scope: str | Iterable[str] | None = None,
    leeway: float = 60,
    algorithms: Iterable[str] | None = None,
    allow_insecure_http: bool = False,
) -> Flow[AccessTokenClaims]:
    """Validate a JWT access token, fetching the issuer's JWK set when needed (RFC 9068 §4).

    Sends nothing when the cached set has the key; fetches ``jwks_uri`` when
    nothing is cached, and **once** more when the token names a key the set
    lacks, unless the set is younger than ``jwks_cache.min_refetch_interval``
    (a stream of made-up ``kid`` values cannot become a stream of requests).

    Args:
        token, audience, now, scope, leeway, algorithms: As
            :func:`validate_jwt_access_token`.
        server: The issuer's metadata (its ``issuer`` and ``jwks_uri``).
        jwks_cache: Keep one per issuer between calls; ``None`` fetches every time.
        allow_insecure_http: Fetch the JWK set over plain http from a non-loopback host.

    Returns:
        The claims.

    Raises:
        InvalidTokenError, InsufficientScopeError: as :func:`validate_jwt_access_token`.
        EndpointError, MalformedResponseError: the JWK set could not be fetched.
    """
    audiences, required_scope = _arguments(token, server.issuer, audience, scope)
    algs = tuple(algorithms) if algorithms is not None else None
    try:
        return (
            yield from verified_with_keys_flow(
                lambda keys: _checked(
                    token,
                    issuer=server.issuer,
                    audiences=audiences,
                    required_scope=required_scope,
                    jwks=keys,
                    now=now,
                    leeway=leeway,
                    algorithms=algs,
                ),
                server=server,
                cache=jwks_cache,
                now=now,
                allow_insecure_http=allow_insecure_http,
            )
        )
    except IdTokenError as exc:
        raise _invalid(exc) from None
