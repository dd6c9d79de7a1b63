"""RFC 9068 JWT access tokens, as a resource server checks them (§4), and RFC 6750 answers.

Every token is really signed (PyJWT, EC P-256 and RSA keys made here), so each
rejection comes from the check under test.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

import oauth2_core as oc
from oauth2_core.testing import json_response

UTC = dt.timezone.utc
NOW = dt.datetime(2030, 1, 1, tzinfo=UTC)
T0 = int(NOW.timestamp())
ISSUER = "https://as.example"
AUDIENCE = "https://rs.example"
EC_KEY = ec.generate_private_key(ec.SECP256R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())


def public(key: Any, kid: str, algorithm: Any) -> dict[str, Any]:
    return {**algorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid}


JWKS = {"keys": [public(EC_KEY, "ec-1", ECAlgorithm), public(RSA_KEY, "rsa-1", RSAAlgorithm)]}
SERVER = oc.ServerMetadata(ISSUER, jwks_uri=ISSUER + "/jwks")


def claims(**changes: Any) -> dict[str, Any]:
    base = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "alice",
        "client_id": "app",
        "jti": "j-1",
        "iat": T0 - 10,
        "exp": T0 + 300,
        "scope": "read write",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def mint(
    payload: dict[str, Any] | None = None,
    *,
    typ: str | None = "at+jwt",
    key: Any = EC_KEY,
    alg: str = "ES256",
    kid: str = "ec-1",
) -> str:
    headers: dict[str, Any] = {"kid": kid}
    if typ is not None:
        headers["typ"] = typ
    return jwt.encode(payload or claims(), key, algorithm=alg, headers=headers)


def validate(token: str, **kwargs: Any) -> oc.AccessTokenClaims:
    options: dict[str, Any] = {"issuer": ISSUER, "audience": AUDIENCE, "jwks": JWKS, "now": NOW}
    options.update(kwargs)
    return oc.validate_jwt_access_token(token, **options)


def check_of(token: str, **kwargs: Any) -> str:
    with pytest.raises(oc.InvalidTokenError) as info:
        validate(token, **kwargs)
    assert info.value.status == 401 and info.value.error == "invalid_token"
    return info.value.check


# --- §4: what a valid token gives --------------------------------------------------------


@pytest.mark.parametrize("typ", ["at+jwt", "application/at+jwt", "AT+JWT"])
def test_a_valid_token_gives_its_claims(typ: str) -> None:
    got = validate(mint(claims(groups=["admin"]), typ=typ), scope="read")
    assert (got.iss, got.sub, got.client_id, got.jti) == (ISSUER, "alice", "app", "j-1")
    assert got.aud == (AUDIENCE,) and got.scope == ("read", "write")
    assert got.exp == NOW + dt.timedelta(seconds=300)
    assert got["groups"] == ["admin"] and dict(got)["sub"] == "alice"
    assert "alice" not in repr(got)  # claims are personal data: names only


def test_rsa_and_an_audience_list() -> None:
    token = mint(claims(aud=["https://other", AUDIENCE]), key=RSA_KEY, alg="RS256", kid="rsa-1")
    assert validate(token).aud == ("https://other", AUDIENCE)
    assert validate(token, audience=["https://x", "https://other"]).sub == "alice"


# --- §4: every check, named -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "check"),
    [
        (mint(typ=None), "typ"),  # §4 item 1: typ MUST be at+jwt
        (mint(typ="JWT"), "typ"),  # an ID token or any other JWT is not an access token
        (mint(claims(iss="https://evil.example")), "iss"),  # §4 item 3
        (mint(claims(aud="https://other")), "aud"),  # §4 item 4
        (mint(claims(aud=[])), "aud"),
        (mint(claims(aud=7)), "aud"),
        (mint(claims(exp=T0 - 61)), "exp"),  # §4 item 6 (leeway 60)
        (mint(claims(exp=None)), "exp"),  # §2.2: exp REQUIRED
        (mint(claims(iat=None)), "iat"),  # §2.2: iat REQUIRED
        (mint(claims(nbf=T0 + 120)), "nbf"),
        (mint(claims(sub=None)), "sub"),  # §2.2: sub, client_id, jti REQUIRED
        (mint(claims(client_id="")), "client_id"),
        (mint(claims(jti=None)), "jti"),
        (mint(claims(scope=["read"])), "scope"),  # §2.2.3: a space-delimited string
        (mint(key=OTHER_KEY), "signature"),  # §4 item 5
        (mint(kid="unknown"), "kid"),
        ("not-a-jwt", "format"),
    ],
)
def test_each_check_is_named(token: str, check: str) -> None:
    assert check_of(token) == check


def test_alg_none_and_hmac_are_refused() -> None:
    """RFC 9068 §4: an unsigned token, or an HMAC over a public key, is no access token."""
    unsigned = jwt.encode(claims(), None, algorithm="none", headers={"typ": "at+jwt"})
    assert check_of(unsigned) == "alg"
    hmac = jwt.encode(claims(), "k" * 32, algorithm="HS256", headers={"typ": "at+jwt"})
    assert check_of(hmac) == "alg"
    assert check_of(mint(), algorithms=["RS256"]) == "alg"


def test_crit_goes_through_the_one_verifier() -> None:
    token = jwt.encode(
        claims(),
        EC_KEY,
        algorithm="ES256",
        headers={"typ": "at+jwt", "kid": "ec-1", "crit": ["x"], "x": 1},
    )
    assert check_of(token) == "crit"


def test_no_jwks_means_kid() -> None:
    assert check_of(mint(), jwks=None) == "kid"


# --- scopes and RFC 6750 answers ----------------------------------------------------------


def test_missing_scope_is_insufficient_scope_403() -> None:
    with pytest.raises(oc.InsufficientScopeError) as info:
        validate(mint(claims(scope="read")), scope=["read", "admin"])
    error = info.value
    assert (error.status, error.error, error.scope) == (
        403,
        "insufficient_scope",
        ("read", "admin"),
    )
    assert error.www_authenticate(realm="api") == (
        'Bearer realm="api", error="insufficient_scope", '
        'error_description="the token lacks a required scope", scope="read admin"'
    )
    with pytest.raises(oc.InsufficientScopeError):
        validate(mint(claims(scope=None)), scope="read")  # no scope claim: no scope at all


def test_invalid_token_answers_401_with_a_challenge() -> None:
    with pytest.raises(oc.InvalidTokenError) as info:
        validate(mint(claims(exp=T0 - 3600)))
    error = info.value
    assert isinstance(error, oc.AccessTokenError) and isinstance(error, oc.OAuth2Error)
    assert error.www_authenticate() == (
        'Bearer error="invalid_token", error_description="the token has expired"'
    )
    assert error.www_authenticate(scheme="DPoP").startswith("DPoP error=")
    # The challenge parses back with our own RFC 7235 reader.
    parsed = oc.parse_www_authenticate(error.www_authenticate(realm="r"))[0]
    assert (parsed.error, parsed.params["realm"]) == ("invalid_token", "r")
    for bad in ('a"b', "a\\b", "caf\u00e9", "\n"):
        with pytest.raises(oc.UsageError):
            error.www_authenticate(realm=bad)
    with pytest.raises(oc.UsageError):
        error.www_authenticate(scheme="Basic")


def test_the_token_never_shows_in_an_error() -> None:
    token = mint(claims(aud="https://other"))
    with pytest.raises(oc.InvalidTokenError) as info:
        validate(token)
    for text in (str(info.value), repr(info.value), info.value.www_authenticate()):
        assert token not in text and token.split(".")[2] not in text


@pytest.mark.parametrize(
    "kwargs",
    [
        {"audience": ""},
        {"audience": []},
        {"issuer": ""},
        {"now": dt.datetime(2030, 1, 1)},
        {"leeway": 301},
    ],
)
def test_usage_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(oc.UsageError):
        validate(mint(), **kwargs)


# --- the flow: fetch the JWK set, refetch once for a new kid, rate-limited -----------------


def test_flow_fetches_the_set_then_uses_the_cache() -> None:
    cache = oc.JwksCache(min_refetch_interval=30)
    flow = oc.jwt_access_token_flow(
        mint(), server=SERVER, audience=AUDIENCE, now=NOW, jwks_cache=cache
    )
    step = next(flow)
    assert step.request.url == ISSUER + "/jwks"
    with pytest.raises(StopIteration) as done:
        flow.send(json_response(200, JWKS, received_at=NOW))
    assert done.value.value.sub == "alice"
    again = oc.jwt_access_token_flow(
        mint(), server=SERVER, audience=AUDIENCE, now=NOW, jwks_cache=cache
    )
    with pytest.raises(StopIteration):
        next(again)  # no request: the key is cached


def test_flow_unknown_kid_refetches_at_most_once_and_not_within_the_interval() -> None:
    cache = oc.JwksCache(JWKS, fetched_at=NOW - dt.timedelta(seconds=60), min_refetch_interval=30)
    token = mint(kid="rotated", key=OTHER_KEY)
    flow = oc.jwt_access_token_flow(
        token, server=SERVER, audience=AUDIENCE, now=NOW, jwks_cache=cache
    )
    next(flow)
    rotated = {"keys": [public(OTHER_KEY, "rotated", ECAlgorithm)]}
    with pytest.raises(StopIteration):
        flow.send(json_response(200, rotated, received_at=NOW))
    bogus = oc.jwt_access_token_flow(
        mint(kid="made-up"), server=SERVER, audience=AUDIENCE, now=NOW, jwks_cache=cache
    )
    with pytest.raises(oc.InvalidTokenError) as info:
        next(bogus)  # the set is fresh: no request for a made-up kid
    assert info.value.check == "kid"


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    changes=st.dictionaries(
        st.sampled_from(["iss", "aud", "sub", "client_id", "jti", "iat", "exp", "scope", "nbf"]),
        st.one_of(
            st.none(),
            st.integers(min_value=-(2**40), max_value=2**40),
            st.text(max_size=8),
            st.lists(st.text(max_size=5), max_size=2),
        ),
        max_size=4,
    ),
    typ=st.sampled_from([None, "at+jwt", "jwt", "application/at+jwt"]),
    need=st.sampled_from([None, "read", "admin"]),
)
def test_property_accepted_only_when_every_rfc_9068_check_holds(
    changes: dict[str, Any], typ: str | None, need: str | None
) -> None:
    """A really signed token is accepted exactly when typ, iss, aud, the required claims, the
    times and the scope all hold; otherwise the error is an AccessTokenError (never another)."""
    payload = claims(**changes)
    try:
        token = mint(payload, typ=typ)
    except (TypeError, ValueError):
        return
    try:
        got = validate(token, scope=need)
    except oc.AccessTokenError as exc:
        refused = exc.status
    else:
        refused = None
    if refused is not None:
        assert refused in (401, 403)
        return
    decoded = json.loads(json.dumps(payload))
    assert typ in ("at+jwt", "application/at+jwt")
    assert decoded["iss"] == ISSUER
    aud = decoded["aud"]
    assert AUDIENCE in ([aud] if isinstance(aud, str) else aud)
    assert all(isinstance(decoded[n], str) and decoded[n] for n in ("sub", "client_id", "jti"))
    assert decoded["exp"] + 60 > T0 and decoded["iat"] <= T0 + 60
    assert need is None or need in got.scope
