"""JSON Web Keys and the server's JWK set (RFC 7517, RFC 7638, RFC 8414 ``jwks_uri``).

* which ``alg`` fits which key (RFC 7518 §3.1, RFC 8037 §3.1): only asymmetric
  algorithms ever fit a JWK, so an ``HS256`` token can never be "verified"
  with a public key (alg confusion);
* the public part of a JWK and its RFC 7638 thumbprint;
* :class:`PrivateJwk`, a dict whose ``repr`` hides the private members;
* the JWK set as a step pair, :func:`jwks_request` and
  :func:`process_jwks_response`, key selection (:func:`matching_keys`) and a
  small :class:`JwksCache` that says when to fetch the set again (an unknown
  ``kid`` after the server rotated its keys);
* :func:`verified_with_keys_flow`, the one "verify with the cached set, fetch
  it once more on an unknown ``kid``" loop of every verifier flow (ID tokens,
  signed UserInfo, JARM, RFC 9701, RFC 9068).

Nothing here needs PyJWT: these are plain dicts.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from oauth2_core._http import Flow, HttpRequest, HttpResponse, Send
from oauth2_core._parse import parse_body, raise_for_error, require_object
from oauth2_core.endpoints import check_endpoint
from oauth2_core.errors import IdTokenError, MalformedResponseError, UsageError
from oauth2_core.metadata import ServerMetadata

# The other names here (alg tables, jwk_fits_alg, matching_keys, ...) serve the
# JOSE, DPoP and ID token modules; they are not part of the package's API.
__all__ = [
    "JwksCache",
    "PrivateJwk",
    "jwks_fetch_flow",
    "jwks_request",
    "process_jwks_response",
    "verified_with_keys_flow",
]

T = TypeVar("T")

HMAC_ALGS: Mapping[str, Callable[[], Any]] = {
    "HS256": hashlib.sha256,
    "HS384": hashlib.sha384,
    "HS512": hashlib.sha512,
}
#: Asymmetric ``alg`` -> (``kty``, ``crv`` or ``None``), RFC 7518 §3.1 and RFC 8037 §3.1.
ASYMMETRIC_ALGS: Mapping[str, tuple[str, str | None]] = {
    "RS256": ("RSA", None),
    "RS384": ("RSA", None),
    "RS512": ("RSA", None),
    "PS256": ("RSA", None),
    "PS384": ("RSA", None),
    "PS512": ("RSA", None),
    "ES256": ("EC", "P-256"),
    "ES384": ("EC", "P-384"),
    "ES512": ("EC", "P-521"),
    "ES256K": ("EC", "secp256k1"),
    "EdDSA": ("OKP", None),
}
EDDSA_CURVES = frozenset({"Ed25519", "Ed448"})
#: The members a public JWK needs (RFC 7638 §3.2 lists the same ones for thumbprints).
PUBLIC_MEMBERS: Mapping[str, tuple[str, ...]] = {
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
    "OKP": ("crv", "kty", "x"),
}
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


class PrivateJwk(dict[str, str]):
    """A private JWK (RFC 7517 §4) as a plain dict whose ``repr`` hides the private part.

    ``json.dumps`` sees every member (store it as you would a password);
    ``repr`` and ``str`` show the private members as ``<redacted>``.
    """

    def __repr__(self) -> str:
        shown = {k: ("<redacted>" if k in PRIVATE_MEMBERS else v) for k, v in self.items()}
        return f"PrivateJwk({shown!r})"

    __str__ = __repr__


def default_alg(jwk: Mapping[str, object]) -> str | None:
    """The ``alg`` a JWK implies when it names none (RSA: RS256, EC: by curve, OKP: EdDSA)."""
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "RSA":
        return "RS256"
    if kty == "EC":
        for alg, (_, curve) in ASYMMETRIC_ALGS.items():
            if curve == crv:
                return alg
        return None
    if kty == "OKP" and crv in EDDSA_CURVES:
        return "EdDSA"
    return None


def jwk_fits_alg(jwk: Mapping[str, object], alg: str) -> bool:
    """Whether ``alg`` can be used with the JWK's key type and curve (RFC 7518 §3.1).

    Only asymmetric algorithms fit: accepting ``HS256`` with an RSA key would
    let anyone "sign" with the public key (alg confusion).
    """
    spec = ASYMMETRIC_ALGS.get(alg)
    if spec is None:
        return False
    kty, crv = spec
    if jwk.get("kty") != kty:
        return False
    if kty == "EC":
        return jwk.get("crv") == crv
    if kty == "OKP":
        return jwk.get("crv") in EDDSA_CURVES
    return True


def public_jwk(jwk: Mapping[str, object]) -> dict[str, str]:
    """Only the public members of a JWK: ``kty`` and its key parameters.

    Raises:
        UsageError: an unsupported key type, or a missing public member.
    """
    members = PUBLIC_MEMBERS.get(str(jwk.get("kty")))
    if members is None:
        raise UsageError("the JWK must have kty EC, RSA or OKP")
    result = {name: jwk.get(name) for name in members}
    if not all(isinstance(value, str) and value for value in result.values()):
        raise UsageError("the JWK lacks a public key member")
    return {name: str(value) for name, value in result.items()}


def jwk_thumbprint(jwk: Mapping[str, object]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a JWK's public part, base64url-encoded."""
    text = json.dumps(public_jwk(jwk), separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def matching_keys(jwks: Mapping[str, Any], *, alg: str, kid: str | None) -> list[dict[str, Any]]:
    """The keys of a JWK set that may verify a JWS with this ``alg`` and ``kid``.

    A key qualifies when its ``kty`` / ``crv`` fit ``alg``, its own ``alg`` (if
    any) is ``alg``, its ``use`` (if any) is ``sig``, its ``key_ops`` (if any)
    include ``verify``, and — when the JWS names a ``kid`` — its ``kid`` is that one.

    Returns:
        The candidates, in set order. OpenID Connect Core §10.1: with several
        keys the token MUST carry a ``kid``; use the result only when it has
        exactly one element.
    """
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys, list):
        return []
    found: list[dict[str, Any]] = []
    for jwk in keys:
        if not isinstance(jwk, Mapping) or not jwk_fits_alg(jwk, alg):
            continue
        if jwk.get("alg") not in (None, alg) or jwk.get("use") not in (None, "sig"):
            continue
        ops = jwk.get("key_ops")
        if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
            continue
        if kid is not None and jwk.get("kid") != kid:
            continue
        found.append(dict(jwk))
    return found


def jwks_request(server: ServerMetadata, *, allow_insecure_http: bool = False) -> HttpRequest:
    """Fetch the server's JWK set from ``jwks_uri`` (RFC 8414 §2, OIDC Discovery §3).

    The keys decide which ID tokens are genuine, so the https rule applies.

    Returns:
        A GET request. Next: :func:`process_jwks_response`.

    Raises:
        UsageError: no ``jwks_uri``, or plain http on a non-loopback host.
    """
    url = check_endpoint(server.jwks_uri, what="jwks_uri", allow_insecure_http=allow_insecure_http)
    return HttpRequest("GET", url, {"accept": "application/jwk-set+json, application/json"})


def process_jwks_response(response: HttpResponse) -> dict[str, Any]:
    """Read a JWK set (RFC 7517 §5).

    Keys that are not objects or have no string ``kty`` are left out: §5 says
    to ignore keys one does not understand.

    Returns:
        ``{"keys": [...]}``.

    Raises:
        EndpointError: an error status or error object.
        MalformedResponseError: not a JSON object, or ``keys`` is not an array.
    """
    data = parse_body(response)
    raise_for_error(response, data, endpoint="jwks")
    data = require_object(response, data, endpoint="jwks")
    keys = data.get("keys")
    if not isinstance(keys, list):
        raise MalformedResponseError(
            "JWK set member 'keys' must be an array", field="keys", status=response.status
        )
    kept = [dict(k) for k in keys if isinstance(k, dict) and isinstance(k.get("kty"), str)]
    return {"keys": kept}


class JwksCache:
    """The server's JWK set, kept between ID token validations.

    One per authorization server; the only mutable value of the core, and
    only by :meth:`update` and :meth:`record_failed_fetch` (reference swaps,
    safe across threads). Hand it to
    ``validate_id_token_flow``, which fetches the set when it is missing and
    once more when a token names a ``kid`` the set lacks (key rotation).

    A token naming an unknown ``kid`` triggers a refetch only when the set is
    older than ``min_refetch_interval`` seconds, so a stream of tokens with
    made-up key ids cannot turn into a stream of requests to the server; within
    the interval such a token fails its ``kid`` check at once. A fetch that
    failed (an error answer, a body that is not a JWK set, a transport error)
    counts too (:meth:`record_failed_fetch`, called by :func:`jwks_fetch_flow`):
    an endpoint that is down is not asked again for every such token.

    Args:
        jwks: A JWK set already known, or ``None``.
        fetched_at: When it was received.
        min_refetch_interval: Seconds between two refetches for an unknown
            ``kid`` (default 30; 0 refetches every time). A set never fetched,
            or without ``fetched_at``, is always fetched.
    """

    __slots__ = ("_failed_at", "_fetched_at", "_jwks", "min_refetch_interval")

    def __init__(
        self,
        jwks: Mapping[str, Any] | None = None,
        *,
        fetched_at: _dt.datetime | None = None,
        min_refetch_interval: float = 30.0,
    ) -> None:
        if (
            isinstance(min_refetch_interval, bool)
            or not isinstance(min_refetch_interval, (int, float))
            or not 0 <= min_refetch_interval < float("inf")
        ):
            raise UsageError("min_refetch_interval must be a finite number of seconds >= 0")
        self.min_refetch_interval = float(min_refetch_interval)
        self._jwks: dict[str, Any] | None = None
        self._fetched_at: _dt.datetime | None = None
        self._failed_at: _dt.datetime | None = None
        if jwks is not None:
            self.update(jwks, fetched_at=fetched_at)

    def may_refetch(self, now: _dt.datetime) -> bool:
        """Whether an unknown ``kid`` at ``now`` justifies fetching the set again.

        No when the set was fetched, or a fetch failed, less than
        ``min_refetch_interval`` seconds before ``now``.
        """
        fetched = self._fetched_at if self._jwks is not None else None
        stamps = [t for t in (fetched, self._failed_at) if t is not None]
        if not stamps:
            return True
        age = (now - max(stamps)).total_seconds()
        # A set "from the future" (clock skew between stamps) counts as fresh.
        return age >= self.min_refetch_interval or age < -self.min_refetch_interval

    @property
    def jwks(self) -> dict[str, Any] | None:
        """The JWK set, or ``None`` before the first fetch."""
        return self._jwks

    @property
    def fetched_at(self) -> _dt.datetime | None:
        """When the set was received (the response's ``received_at``)."""
        return self._fetched_at

    def lookup(self, *, alg: str, kid: str | None) -> dict[str, Any] | None:
        """The one key for ``alg`` / ``kid``, or ``None``: then fetch the set (again)."""
        if self._jwks is None:
            return None
        found = matching_keys(self._jwks, alg=alg, kid=kid)
        return found[0] if len(found) == 1 else None

    def record_failed_fetch(self, at: _dt.datetime) -> None:
        """Note a fetch of the set that went out and failed: it counts against the interval.

        Raises:
            UsageError: ``at`` is not an aware datetime.
        """
        if not isinstance(at, _dt.datetime) or at.utcoffset() is None:
            raise UsageError("at must be a timezone-aware datetime (UTC)")
        self._failed_at = at

    def update(self, jwks: Mapping[str, Any], *, fetched_at: _dt.datetime | None) -> None:
        """Replace the set (from :func:`process_jwks_response`)."""
        if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
            raise UsageError('jwks must be a JWK set: {"keys": [...]}')
        self._jwks = {"keys": list(jwks["keys"])}
        self._fetched_at = fetched_at

    def __repr__(self) -> str:
        count = None if self._jwks is None else len(self._jwks["keys"])
        when = self._fetched_at.isoformat() if self._fetched_at else None
        return f"JwksCache(keys={count!r}, fetched_at={when!r})"


def jwks_fetch_flow(
    server: ServerMetadata,
    cache: JwksCache,
    *,
    now: _dt.datetime,
    allow_insecure_http: bool = False,
) -> Flow[None]:
    """Fetch the server's JWK set into ``cache``: one request (RFC 8414 ``jwks_uri``).

    The one place the verifier flows (ID tokens, signed UserInfo, JARM, RFC 9701,
    RFC 9068) fetch keys, after :meth:`JwksCache.may_refetch` said yes. A fetch
    that went out and failed is recorded in the cache, so the refetch interval
    bounds attempts, not only successes; a flow closed before its request was
    answered (never sent) records nothing.

    Args:
        server: The metadata with ``jwks_uri``.
        cache: The cache to fill.
        now: The time of the fetch, for a transport error (no answer to stamp it).
        allow_insecure_http: Plain http to a non-loopback ``jwks_uri``.

    Raises:
        EndpointError, MalformedResponseError: as :func:`process_jwks_response`.
        UsageError: as :func:`jwks_request`.
    """
    request = jwks_request(server, allow_insecure_http=allow_insecure_http)
    try:
        response = yield Send(request)
    except Exception:  # a transport error thrown in by the driver; not GeneratorExit
        cache.record_failed_fetch(now)
        raise
    try:
        jwks = process_jwks_response(response)
    except Exception:
        cache.record_failed_fetch(response.received_at)
        raise
    cache.update(jwks, fetched_at=response.received_at)


def verified_with_keys_flow(
    verify: Callable[[Mapping[str, object] | None], T],
    *,
    server: ServerMetadata,
    cache: JwksCache | None,
    now: _dt.datetime,
    allow_insecure_http: bool = False,
) -> Flow[T]:
    """Run ``verify`` with the server's JWK set, fetching the set when no key fits.

    ``verify`` gets the cached set (``None`` before any fetch) and raises
    :class:`IdTokenError` ``check="kid"`` when no key fits the JWS. Then, if
    :meth:`JwksCache.may_refetch` allows it at ``now``, the set is fetched
    (:func:`jwks_fetch_flow`, which records a failed fetch) and ``verify`` runs
    once more (OpenID Connect Core §10.1.1, key rotation). Any other error, a
    second ``"kid"``, or one within the interval is raised as it is; map it to
    the caller's own error after this flow. Closed before its request is
    answered, the flow records nothing (a probe for a cached key may close it).

    Args:
        verify: The sans-IO check, given the JWK set.
        server: The metadata with ``jwks_uri``.
        cache: The server's JWK set cache, updated in place (keep one per
            server); ``None`` fetches the set for this call alone.
        now: The current time (aware), for the refetch interval.
        allow_insecure_http: Plain http to a non-loopback ``jwks_uri``.

    Returns:
        What ``verify`` returns.

    Raises:
        IdTokenError: as ``verify``; ``"kid"`` when no key fits after the one refetch.
        EndpointError, MalformedResponseError, UsageError: as :func:`jwks_fetch_flow`.
    """
    cache = cache if cache is not None else JwksCache()
    fetched = False
    while True:
        try:
            return verify(cache.jwks)
        except IdTokenError as exc:
            if exc.check != "kid" or fetched or not cache.may_refetch(now):
                raise
        yield from jwks_fetch_flow(server, cache, now=now, allow_insecure_http=allow_insecure_http)
        fetched = True
