"""The one place where the core verifies a signed JWT (RFC 7515, RFC 7519).

Every JWT the core accepts from a server — ID tokens (OpenID Connect Core
§3.1.3.7), signed UserInfo answers (§5.3.2) and any verifier added later —
goes through :func:`verify_jwt`, which always runs, in this order:

1. the compact serialization (RFC 7515 §7.1), strict base64url, no duplicate
   members; an encrypted JWT (JWE, five parts) is refused the same way, as the
   sender's fault;
2. the protected header (:func:`check_header`): ``alg`` a string and never
   ``none``; ``crit`` (RFC 7515 §4.1.11: "If any of the listed extension Header
   Parameters are not understood and supported by the recipient, then the JWS
   is invalid" — this library understands none, and a ``crit`` that is not a
   non-empty list of extension names is malformed); ``b64`` other than the
   default ``true`` (RFC 7797 unencoded payloads, not supported);
3. the signature: an asymmetric ``alg`` that fits exactly one key of the
   server's JWK set, or HMAC with the client secret only where the server
   advertises it (OpenID Connect Core §10.1), never a public key as an HMAC
   secret;
4. the payload is a JSON object (RFC 7519 §7.2 item 10);
5. the time claims (:func:`check_time_claims`), with one bounded leeway: ``exp``
   (RFC 7519 §4.1.4: "MUST NOT be accepted for processing" on or after it),
   ``nbf`` (§4.1.5: "MUST NOT be accepted for processing" before it), ``iat``
   not in the future; a claim that is not a finite NumericDate is an error.

A verifier cannot skip a step: there is no other path from token text to
claims, and a test keeps every other core module from calling the signature
primitives directly. A failure is an :class:`~oauth2_core.errors.IdTokenError`
(the error of every OpenID Connect JWT check) whose ``check`` names the step.
"""

from __future__ import annotations

import datetime as _dt
import hmac
import math
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

import attrs

from oauth2_core.client import Client
from oauth2_core.errors import IdTokenError, UsageError
from oauth2_core.jose import CompactJws, hmac_key, parse_compact, verify_signature
from oauth2_core.jwks import ASYMMETRIC_ALGS, HMAC_ALGS, matching_keys

__all__ = [
    "MAX_LEEWAY",
    "STANDARD_HEADER_PARAMETERS",
    "UNDERSTOOD_CRITICAL",
    "VerifiedJwt",
    "check_header",
    "check_time_claims",
    "fail",
    "numeric_date_claim",
    "verify_jwt",
]

#: The largest clock skew, in seconds, a verifier accepts as ``leeway``.
MAX_LEEWAY = 300
#: Header Parameters RFC 7515 §4.1 defines for JWS. §4.1.11: producers "MUST NOT
#: include Header Parameter names defined by this specification" in ``crit``.
STANDARD_HEADER_PARAMETERS = frozenset(
    {"alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit"}
)
#: Extension Header Parameters this library understands and supports in ``crit``:
#: none (RFC 7797 ``b64`` is not supported, so it must not be accepted as critical).
UNDERSTOOD_CRITICAL: frozenset[str] = frozenset()
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
# A NumericDate outside about ±1000 years is not a date any server means.
_NUMERIC_DATE_LIMIT = 2**35


def fail(check: str, message: str) -> NoReturn:
    """Raise the :class:`IdTokenError` of a failed check (``check`` names it)."""
    raise IdTokenError(f"ID token rejected ({check}): {message}", check=check)


@attrs.frozen(repr=False)
class VerifiedJwt:
    """A JWT whose header, signature and time claims were checked by :func:`verify_jwt`.

    Attributes:
        header: The protected header.
        claims: The payload (a JSON object).
        crv: The verifying key's ``crv`` (for EdDSA token hashes), or ``None``.
    """

    header: Mapping[str, Any]
    claims: dict[str, Any]
    crv: str | None

    def __repr__(self) -> str:
        # Claims are personal data: names only.
        return f"VerifiedJwt(alg={self.header.get('alg')!r}, claim_names={sorted(self.claims)!r})"


def check_header(header: Mapping[str, Any]) -> str:
    """Check a JWS protected header before any signature work (RFC 7515 §4.1).

    Args:
        header: The decoded protected header.

    Returns:
        The ``alg``.

    Raises:
        IdTokenError: ``check`` ``"format"`` (``alg`` / ``kid`` not strings),
            ``"alg"`` (``none``), ``"crit"`` (RFC 7515 §4.1.11: not a non-empty
            list of distinct extension names present in the header, or one this
            library does not understand) or ``"b64"`` (RFC 7797 unencoded payload).
    """
    alg, kid = header.get("alg"), header.get("kid")
    if not isinstance(alg, str) or (kid is not None and not isinstance(kid, str)):
        fail("format", "the header's alg and kid must be strings")
    if alg.lower() == "none":
        fail("alg", "unsigned JWTs (alg none) are refused")
    if "crit" in header:
        crit = header["crit"]
        if not isinstance(crit, list) or not crit:
            # §4.1.11: "Producers MUST NOT use the empty list "[]" as the crit value."
            fail("crit", "crit must be a non-empty array (RFC 7515 §4.1.11)")
        if not all(isinstance(name, str) for name in crit) or len(set(crit)) != len(crit):
            fail("crit", "crit must list distinct names (RFC 7515 §4.1.11)")
        if any(name in STANDARD_HEADER_PARAMETERS for name in crit):
            fail("crit", "crit must not list standard header parameters (RFC 7515 §4.1.11)")
        if any(name not in header for name in crit):
            fail("crit", "crit lists a parameter the header lacks (RFC 7515 §4.1.11)")
        if any(name not in UNDERSTOOD_CRITICAL for name in crit):
            fail("crit", "crit names an extension this library does not support")
    if "b64" in header and header["b64"] is not True:
        # RFC 7797 §3: b64=false changes what is signed; never read such a payload as JSON.
        fail("b64", "unencoded payloads (RFC 7797 b64) are not supported")
    return alg


def numeric_date_claim(claims: Mapping[str, Any], name: str) -> float:
    """The claim ``name`` as seconds since the epoch (a NumericDate, RFC 7519 §2).

    Raises:
        IdTokenError: ``check`` ``name``: absent, not a number (a boolean or a
            numeric string is not one), not finite, or out of range.
    """
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        fail(name, f"claim {name!r} must be a NumericDate")
    try:
        number = float(value)
    except OverflowError:  # a JSON integer such as 10**400: out of range too
        number = math.inf
    if not math.isfinite(number) or not -_NUMERIC_DATE_LIMIT < number < _NUMERIC_DATE_LIMIT:
        fail(name, f"claim {name!r} is out of range")
    return number


def _check_now(now: object, leeway: object) -> None:
    if not isinstance(now, _dt.datetime) or now.utcoffset() is None:
        raise UsageError("now must be a timezone-aware datetime (UTC)")
    if isinstance(leeway, bool) or not isinstance(leeway, (int, float)):
        raise UsageError("leeway must be a number of seconds")
    if not 0 <= leeway <= MAX_LEEWAY:
        raise UsageError(f"leeway must be between 0 and {MAX_LEEWAY} seconds")


def check_time_claims(
    claims: Mapping[str, Any],
    *,
    now: _dt.datetime,
    leeway: float,
    required: Iterable[str] = ("exp", "iat"),
) -> dict[str, _dt.datetime]:
    """Check ``exp``, ``nbf`` and ``iat`` against ``now`` with one leeway (RFC 7519 §4.1.4-6).

    Every one of the three that is present is checked, whether required or not.

    Args:
        claims: The verified payload.
        now: The current time, an aware datetime (the core reads no clock).
        leeway: Allowed clock skew in seconds, 0 to :data:`MAX_LEEWAY`.
        required: The names that must be present (an ID token needs ``exp`` and
            ``iat``, OIDC Core §2; a signed UserInfo answer none).

    Returns:
        The present time claims as aware UTC datetimes, by name.

    Raises:
        IdTokenError: ``check`` ``"exp"`` (expired, §4.1.4), ``"nbf"`` (not yet
            valid, §4.1.5), ``"iat"`` (issued in the future), or the name of a
            required claim that is missing or not a NumericDate.
        UsageError: ``now`` naive or ``leeway`` out of bounds.
    """
    _check_now(now, leeway)
    current = now.timestamp()
    names = set(required)
    found: dict[str, _dt.datetime] = {}
    for name in ("exp", "nbf", "iat"):
        if name not in names and claims.get(name) is None:
            continue
        seconds = numeric_date_claim(claims, name)
        if name == "exp" and current >= seconds + leeway:
            fail("exp", "the token has expired")
        if name == "nbf" and current + leeway < seconds:
            fail("nbf", "the token is not valid yet (nbf is in the future)")
        if name == "iat" and seconds > current + leeway:
            fail("iat", "the token was issued in the future")
        # Epoch plus an offset: fromtimestamp() fails for negative values on some platforms.
        found[name] = _EPOCH + _dt.timedelta(seconds=seconds)
    return found


def _check_signature(
    jws: CompactJws,
    alg: str,
    *,
    client: Client,
    jwks: Mapping[str, Any] | None,
    allowed: tuple[str, ...] | None,
) -> str | None:
    """Check ``alg`` against the server and the key, then the signature; the key's ``crv``."""
    kid = jws.header.get("kid")
    if allowed is not None and alg not in allowed:
        fail("alg", "the alg is not one the server advertises")
    if alg in HMAC_ALGS:
        # OpenID Connect Core §10.1: the key is the client secret. Never a JWK
        # from the set: HS256 over a public key is the alg confusion attack.
        if allowed is None or not client.client_secret:
            fail("alg", "HMAC needs the server to advertise it and a client secret")
        expected = hmac_key(client.client_secret, alg).sign(jws.signing_input)
        if not hmac.compare_digest(expected, jws.signature):
            fail("signature", "the signature does not verify")
        return None
    if alg not in ASYMMETRIC_ALGS:
        fail("alg", "the alg is not supported")
    found = matching_keys(jwks or {}, alg=alg, kid=kid)
    if len(found) != 1:
        fail(
            "kid",
            "no key of the JWK set fits the token's kid and alg"
            if not found
            else "several keys fit and the token names no kid (OIDC Core §10.1)",
        )
    try:
        valid = verify_signature(jws, alg, found[0])
    except ValueError:
        fail("signature", "the server's key for this token is not usable")
    if not valid:
        fail("signature", "the signature does not verify")
    crv = found[0].get("crv")
    return crv if isinstance(crv, str) else None


def verify_jwt(
    token: str,
    *,
    client: Client,
    jwks: Mapping[str, Any] | None,
    allowed: Iterable[str] | None,
    now: _dt.datetime,
    leeway: float,
    required_times: Iterable[str] = ("exp", "iat"),
) -> VerifiedJwt:
    """Verify a compact JWS signed by the server and read its claims (RFC 7515 §5.2).

    Runs every step listed in the module docstring; nothing else in the core
    turns token text into claims.

    Args:
        token: The compact JWS.
        client: The client (its secret is the HMAC key, OIDC Core §10.1).
        jwks: The server's JWK set, or ``None``.
        allowed: The ``alg`` values the server advertises for this kind of JWT;
            ``None`` allows any asymmetric one that fits the key, never HMAC.
        now: The current time (aware); the core reads no clock.
        leeway: Allowed clock skew in seconds, 0 to :data:`MAX_LEEWAY`.
        required_times: Time claims that must be present (see :func:`check_time_claims`).

    Returns:
        The header, the claims and the key's curve.

    Raises:
        IdTokenError: a failed check, named by ``.check``; ``"kid"`` means no
            key fits: fetch the JWK set again once.
        UsageError: ``now`` or ``leeway`` invalid, or the ``oauth2-core[jwt]``
            extra missing.
    """
    _check_now(now, leeway)
    if isinstance(token, str) and token.count(".") == 4:
        # RFC 7516 §7.1: five parts are a JWE. Whoever sent it (a server, or an
        # attacker writing the callback URL) is at fault, never the caller.
        fail("format", "encrypted JWTs (JWE) are not supported")
    try:
        jws = parse_compact(token)
    except ValueError:
        fail("format", "not a signed JWT (compact JWS)")
    alg = check_header(jws.header)
    crv = _check_signature(
        jws,
        alg,
        client=client,
        jwks=jwks,
        allowed=None if allowed is None else tuple(allowed),
    )
    try:
        claims = jws.claims()
    except ValueError:
        fail("format", "the payload is not a JSON object")
    check_time_claims(claims, now=now, leeway=leeway, required=required_times)
    return VerifiedJwt(header=dict(jws.header), claims=claims, crv=crv)
