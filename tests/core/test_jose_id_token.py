"""OpenID Connect ID token validation (OIDC Core §3.1.3.7) and the JWK set (RFC 7517).

Tokens are minted with PyJWT (or by hand, for the forgeries PyJWT refuses to
make); every negative case names the check that must fail.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import given
from hypothesis import strategies as st
from jwt.warnings import InsecureKeyLengthWarning

import oauth2_core as oc
from oauth2_core.jose import encode_compact, load_signing_key, sign_jwt
from oauth2_core.testing import drive

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)
NOW = int(T0.timestamp())
ISSUER = "https://op.example.com"
SERVER = oc.ServerMetadata(
    ISSUER,
    token_endpoint="https://op.example.com/token",
    jwks_uri="https://op.example.com/jwks",
)
CLIENT = oc.Client("app", "a-client-secret-of-more-than-32-bytes!!", redirect_uri="https://a/cb")
NONCE = "n-0S6_WzA2Mj"
ACCESS_TOKEN = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
ED_KEY = ed25519.Ed25519PrivateKey.generate()
OTHER_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE = {"rsa-1": (RSA_KEY, "RS256"), "ec-1": (EC_KEY, "ES256"), "ed-1": (ED_KEY, "EdDSA")}


def public_jwk(key: object, exporter: str, kid: str, **extra: str) -> dict[str, str]:
    data = jwt.get_algorithm_by_name(exporter).to_jwk(key.public_key(), as_dict=True)  # type: ignore[attr-defined]
    return {**{k: v for k, v in data.items() if isinstance(v, str)}, "kid": kid, **extra}


JWKS = {
    "keys": [
        public_jwk(RSA_KEY, "RS256", "rsa-1", use="sig"),
        public_jwk(EC_KEY, "ES256", "ec-1", alg="ES256"),
        public_jwk(ED_KEY, "EdDSA", "ed-1"),
        {"kty": "RSA", "kid": "enc-1", "use": "enc", "n": "AQAB", "e": "AQAB"},
    ]
}


def claims(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "iss": ISSUER,
        "sub": "248289761001",
        "aud": "app",
        "exp": NOW + 300,
        "iat": NOW - 10,
        "nonce": NONCE,
        "email": "alice@example.com",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def mint(
    kid: str = "rsa-1", *, key: object = None, alg: str | None = None, **changes: object
) -> str:
    default_key, default_alg = PRIVATE.get(kid, (RSA_KEY, "RS256"))
    headers = {"kid": kid} if kid else {}
    return jwt.encode(
        claims(**changes), key or default_key, algorithm=alg or default_alg, headers=headers
    )


def at_hash(token: str, digest: object = hashlib.sha256) -> str:
    full = digest(token.encode()).digest()  # type: ignore[operator]
    return base64.urlsafe_b64encode(full[: len(full) // 2]).rstrip(b"=").decode()


def validate(id_token: str, **overrides: object) -> oc.IdTokenClaims:
    arguments: dict[str, object] = {
        "server": SERVER,
        "client": CLIENT,
        "jwks": JWKS,
        "nonce": NONCE,
        "now": T0,
    }
    arguments.update(overrides)
    return oc.validate_id_token(id_token, **arguments)  # type: ignore[arg-type]


def rejected(id_token: str, **overrides: object) -> str:
    with pytest.raises(oc.IdTokenError) as info:
        validate(id_token, **overrides)
    assert isinstance(info.value, oc.ResponseError)
    assert id_token not in str(info.value)
    return info.value.check


def hs256(header: Mapping[str, object], body: Mapping[str, object], key: bytes) -> str:
    return encode_compact(header, body, lambda data: hmac.new(key, data, hashlib.sha256).digest())


# --- valid tokens ------------------------------------------------------------------------------


@pytest.mark.parametrize("kid", ["rsa-1", "ec-1", "ed-1"])
def test_a_valid_token_gives_its_claims(kid: str) -> None:
    result = validate(mint(kid))
    assert result.iss == ISSUER
    assert result.sub == "248289761001"
    assert result.aud == ("app",)
    assert result.nonce == NONCE
    assert result.exp == T0 + dt.timedelta(seconds=300)
    assert result.iat == T0 - dt.timedelta(seconds=10)
    assert result.azp is None
    assert result["email"] == "alice@example.com"
    assert dict(result) == claims()
    assert result.claims == claims()
    assert "alice@example.com" not in repr(result)
    assert "email" in repr(result)


def test_several_audiences_with_azp() -> None:
    result = validate(mint(aud=["app", "api"], azp="app"))
    assert result.aud == ("app", "api")
    assert result.azp == "app"


def test_leeway_allows_small_skew() -> None:
    validate(mint(exp=NOW - 30, iat=NOW + 30))
    assert rejected(mint(exp=NOW - 30), leeway=0) == "exp"


def test_a_single_key_without_kid_is_selected_by_alg() -> None:
    token = jwt.encode(claims(), EC_KEY, algorithm="ES256")
    assert validate(token).sub == "248289761001"


def test_at_hash_is_checked_when_present_and_the_access_token_given() -> None:
    validate(mint(at_hash=at_hash(ACCESS_TOKEN)), access_token=ACCESS_TOKEN)
    validate(mint(), access_token=ACCESS_TOKEN)  # optional in the code flow
    validate(mint("ed-1", at_hash=at_hash(ACCESS_TOKEN, hashlib.sha512)), access_token=ACCESS_TOKEN)
    assert rejected(mint(at_hash=at_hash("other")), access_token=ACCESS_TOKEN) == "at_hash"
    assert rejected(mint(at_hash=42), access_token=ACCESS_TOKEN) == "at_hash"


def test_at_hash_oidc_example() -> None:
    """OIDC Core §A.3: this access token's at_hash is 77QmUPtjPfzWtF2AnpK9RQ (RS256)."""
    assert at_hash(ACCESS_TOKEN) == "77QmUPtjPfzWtF2AnpK9RQ"
    validate(mint(at_hash="77QmUPtjPfzWtF2AnpK9RQ"), access_token=ACCESS_TOKEN)


def test_hs256_with_the_client_secret_when_the_server_advertises_it() -> None:
    server = oc.ServerMetadata(ISSUER, id_token_signing_alg_values_supported=["RS256", "HS256"])
    secret = CLIENT.client_secret or ""
    token = jwt.encode(claims(), secret.encode(), algorithm="HS256")
    assert validate(token, server=server, jwks=None).sub == "248289761001"
    public = oc.Client("app", redirect_uri="https://a/cb")
    assert rejected(token, server=server, client=public) == "alg"
    assert rejected(token) == "alg"  # not advertised


def test_max_age_checks_auth_time() -> None:
    validate(mint(auth_time=NOW - 100), max_age=120)
    assert rejected(mint(auth_time=NOW - 1000), max_age=120) == "auth_time"
    assert rejected(mint(), max_age=120) == "auth_time"


# --- negative cases --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "check"),
    [
        ({"iss": "https://evil.example.com"}, "iss"),
        ({"iss": ISSUER + "/"}, "iss"),
        ({"iss": None}, "iss"),
        ({"aud": "other"}, "aud"),
        ({"aud": ["other", "api"]}, "aud"),
        ({"aud": None}, "aud"),
        ({"aud": [1]}, "aud"),
        ({"aud": ["app", "api"]}, "azp"),
        ({"azp": "other"}, "azp"),
        ({"nonce": "other"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"nonce": 7}, "nonce"),
        ({"exp": NOW - 61}, "exp"),
        ({"exp": None}, "exp"),
        ({"exp": "tomorrow"}, "exp"),
        ({"exp": True}, "exp"),
        ({"exp": 1e300}, "exp"),
        ({"iat": NOW + 61}, "iat"),
        ({"iat": None}, "iat"),
        ({"sub": None}, "sub"),
        ({"sub": ""}, "sub"),
    ],
)
def test_claim_checks(changes: dict[str, object], check: str) -> None:
    assert rejected(mint(**changes)) == check


def test_bad_signature() -> None:
    token = mint()
    head, _, signature = token.split(".")
    tampered = (
        base64.urlsafe_b64encode(json.dumps(claims(sub="admin")).encode()).rstrip(b"=").decode()
    )
    assert rejected(f"{head}.{tampered}.{signature}") == "signature"
    assert rejected(mint(key=OTHER_RSA)) == "signature"  # right kid, wrong key


def test_alg_none_is_refused() -> None:
    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    for alg in ("none", "None", "NONE"):
        token = f"{part({'alg': alg, 'kid': 'rsa-1'})}.{part(claims())}."
        assert rejected(token) == "alg"


def test_hs256_signed_with_the_public_key_is_refused() -> None:
    """The alg confusion attack: HMAC keyed with the server's public key PEM."""
    pem = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}
    for key in (pem, json.dumps(JWKS["keys"][0]).encode()):
        forged = hs256(header, claims(), key)
        assert rejected(forged) == "alg"
        advertised = oc.ServerMetadata(ISSUER, id_token_signing_alg_values_supported=["HS256"])
        assert rejected(forged, server=advertised) == "signature"


def test_alg_must_fit_the_key_and_the_server() -> None:
    # An ES256 token whose kid names the RSA key: no key fits.
    assert rejected(mint("rsa-1", key=EC_KEY, alg="ES256")) == "kid"
    rs_only = oc.ServerMetadata(ISSUER, id_token_signing_alg_values_supported=["RS256"])
    assert rejected(mint("ec-1"), server=rs_only) == "alg"
    assert rejected(mint("ec-1"), algorithms=["RS256"]) == "alg"
    validate(mint("ec-1"), algorithms=["ES256"])


def test_a_key_for_encryption_is_not_used_for_signatures() -> None:
    assert rejected(mint("enc-1", key=RSA_KEY, alg="RS256")) == "kid"


def test_unknown_kid_and_ambiguous_keys() -> None:
    assert rejected(mint("rsa-2", key=RSA_KEY, alg="RS256")) == "kid"
    two = {"keys": [public_jwk(RSA_KEY, "RS256", "a"), public_jwk(OTHER_RSA, "RS256", "b")]}
    no_kid = jwt.encode(claims(), RSA_KEY, algorithm="RS256")
    assert rejected(no_kid, jwks=two) == "kid"
    assert rejected(mint(), jwks=None) == "kid"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a.b",
        "a.b.c.d.e",
        "not-a-jwt",
        "e30.e30.",
        "!!.e30.e30",
        "eyJhbGciOiJSUzI1NiJ9.bm9w.c2ln",
    ],
)
def test_malformed_tokens(token: str) -> None:
    if not token:
        with pytest.raises(oc.UsageError):
            validate(token)
        return
    assert rejected(token) in {"format", "signature", "kid"}


def test_arguments_are_checked() -> None:
    token = mint()
    with pytest.raises(oc.UsageError, match="timezone-aware"):
        validate(token, now=dt.datetime(2026, 1, 1))
    with pytest.raises(oc.UsageError, match="leeway"):
        validate(token, leeway=3600)
    with pytest.raises(oc.UsageError, match="max_age"):
        validate(token, max_age=-1)


@given(token=st.text(max_size=300))
def test_validation_never_crashes(token: str) -> None:
    """Any string ends in claims, an IdTokenError or (for an empty one) a UsageError."""
    with contextlib.suppress(oc.IdTokenError, oc.UsageError):
        validate(token)


@given(
    payload=st.dictionaries(
        st.sampled_from(sorted(claims())),
        st.from_type(type(None)) | st.integers() | st.text() | st.lists(st.text(), max_size=3),
    )
)
def test_any_signed_payload_ends_in_claims_or_an_id_token_error(payload: dict[str, object]) -> None:
    """Whatever the server signs, validation answers with claims or a named check."""
    # PyJWT refuses to encode odd claims; the core's own signer does not judge them.
    token = sign_jwt(load_signing_key(EC_KEY), payload, {"kid": "ec-1"})
    checks: list[str] = []
    try:
        validate(token)
    except oc.IdTokenError as exc:
        checks.append(exc.check)
    assert set(checks) <= {"iss", "aud", "azp", "exp", "iat", "nonce", "sub"}


# --- JWK set and the refetch flow ------------------------------------------------------------


def jwks_response(keys: object, when: dt.datetime = T0, status: int = 200) -> oc.HttpResponse:
    body = json.dumps({"keys": keys}).encode()
    return oc.HttpResponse(status, {"content-type": "application/jwk-set+json"}, body, when)


def test_jwks_request_and_response() -> None:
    request = oc.jwks_request(SERVER)
    assert (request.method, request.url) == ("GET", "https://op.example.com/jwks")
    keys = [*JWKS["keys"], "junk", {"no": "kty"}]
    assert oc.process_jwks_response(jwks_response(keys)) == JWKS
    with pytest.raises(oc.UsageError, match="jwks_uri"):
        oc.jwks_request(oc.ServerMetadata(ISSUER))
    with pytest.raises(oc.UsageError, match="plain http"):
        oc.jwks_request(oc.ServerMetadata(ISSUER, jwks_uri="http://op.example.com/jwks"))


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (
            oc.HttpResponse(200, {"content-type": "text/html"}, b"<html>", T0),
            oc.MalformedResponseError,
        ),
        (jwks_response("x"), oc.MalformedResponseError),
        (jwks_response([], status=503), oc.EndpointError),
    ],
)
def test_bad_jwk_sets(response: oc.HttpResponse, error: type[Exception]) -> None:
    with pytest.raises(error):
        oc.process_jwks_response(response)


@given(body=st.binary(max_size=300), status=st.integers(min_value=100, max_value=599))
def test_jwks_processing_never_crashes(body: bytes, status: int) -> None:
    """Any bytes end in a JWK set or an OAuth2Error."""
    try:
        result = oc.process_jwks_response(oc.HttpResponse(status, {}, body, T0))
    except oc.OAuth2Error:
        return
    assert isinstance(result["keys"], list)


def run_flow(
    flow: oc.Flow[oc.IdTokenClaims], *answers: oc.HttpResponse
) -> tuple[oc.IdTokenClaims, list[oc.HttpRequest]]:
    driven = drive(flow, answers)
    return driven.result, driven.requests


def test_flow_fetches_the_set_when_nothing_is_cached() -> None:
    cache = oc.JwksCache()
    flow = oc.validate_id_token_flow(
        mint(), server=SERVER, client=CLIENT, nonce=NONCE, now=T0, jwks_cache=cache
    )
    result, sent = run_flow(flow, jwks_response(JWKS["keys"]))
    assert result.sub == "248289761001"
    assert [r.url for r in sent] == ["https://op.example.com/jwks"]
    assert cache.jwks == JWKS
    assert cache.fetched_at == T0
    # Cached now: the next token is validated without sending anything.
    again, sent = run_flow(
        oc.validate_id_token_flow(
            mint("ec-1"), server=SERVER, client=CLIENT, nonce=NONCE, now=T0, jwks_cache=cache
        )
    )
    assert again.sub == "248289761001"
    assert sent == []


def test_unknown_kid_refetches_once_after_rotation() -> None:
    cache = oc.JwksCache({"keys": [JWKS["keys"][1]]})
    rotated = [public_jwk(OTHER_RSA, "RS256", "rsa-2")]
    token = mint("rsa-2", key=OTHER_RSA, alg="RS256")
    flow = oc.validate_id_token_flow(
        token, server=SERVER, client=CLIENT, nonce=NONCE, now=T0, jwks_cache=cache
    )
    result, sent = run_flow(flow, jwks_response(rotated, T0 + dt.timedelta(seconds=1)))
    assert result.sub == "248289761001"
    assert len(sent) == 1
    assert cache.lookup(alg="RS256", kid="rsa-2") == rotated[0]


@pytest.mark.parametrize(
    ("age", "interval", "refetches"),
    [(10, 30, False), (29.9, 30, False), (30, 30, True), (3600, 30, True), (0, 0, True)],
)
def test_unknown_kid_refetches_only_when_the_set_is_old_enough(
    age: float, interval: float, refetches: bool
) -> None:
    """Made-up key ids cannot make us fetch the JWK set more than once per interval."""
    cache = oc.JwksCache(
        JWKS, fetched_at=T0 - dt.timedelta(seconds=age), min_refetch_interval=interval
    )
    flow = oc.validate_id_token_flow(
        mint("rsa-9", key=OTHER_RSA, alg="RS256"),
        server=SERVER,
        client=CLIENT,
        nonce=NONCE,
        now=T0,
        jwks_cache=cache,
    )
    if refetches:
        assert next(flow).request.url == "https://op.example.com/jwks"
    else:
        with pytest.raises(oc.IdTokenError) as info:
            next(flow)
        assert info.value.check == "kid"


@pytest.mark.parametrize("interval", [-1, float("nan"), float("inf"), True, "30"])
def test_refetch_interval_must_be_a_finite_non_negative_number(interval: object) -> None:
    with pytest.raises(oc.UsageError, match="min_refetch_interval"):
        oc.JwksCache(min_refetch_interval=interval)  # type: ignore[arg-type]


def test_a_kid_still_unknown_after_the_refetch_is_an_error_without_a_loop() -> None:
    cache = oc.JwksCache(JWKS)
    flow = oc.validate_id_token_flow(
        mint("rsa-9", key=OTHER_RSA, alg="RS256"),
        server=SERVER,
        client=CLIENT,
        nonce=NONCE,
        now=T0,
        jwks_cache=cache,
    )
    assert next(flow).request.url == "https://op.example.com/jwks"
    with pytest.raises(oc.IdTokenError) as info:
        flow.send(jwks_response(JWKS["keys"]))
    assert info.value.check == "kid"


def test_other_failures_do_not_refetch() -> None:
    flow = oc.validate_id_token_flow(
        mint(iss="https://evil"),
        server=SERVER,
        client=CLIENT,
        nonce=NONCE,
        now=T0,
        jwks_cache=oc.JwksCache(JWKS),
    )
    with pytest.raises(oc.IdTokenError) as info:
        next(flow)
    assert info.value.check == "iss"


def test_hmac_tokens_never_fetch_the_set() -> None:
    server = oc.ServerMetadata(
        ISSUER,
        jwks_uri="https://op.example.com/jwks",
        id_token_signing_alg_values_supported=["HS256"],
    )
    token = jwt.encode(claims(), (CLIENT.client_secret or "").encode(), algorithm="HS256")
    result, sent = run_flow(
        oc.validate_id_token_flow(token, server=server, client=CLIENT, nonce=NONCE, now=T0)
    )
    assert sent == []
    assert result.sub == "248289761001"


def test_id_token_flow_uses_pending_nonce_and_at_hash() -> None:
    pending = oc.new_pending_authorization(CLIENT, nonce=NONCE)
    token = oc.Token(ACCESS_TOKEN, id_token=mint(at_hash=at_hash(ACCESS_TOKEN)))
    flow = oc.id_token_flow(token, server=SERVER, client=CLIENT, pending=pending, now=T0)
    result, _ = run_flow(flow, jwks_response(JWKS["keys"]))
    assert result.nonce == NONCE
    bad = oc.Token("other-access-token", id_token=token.id_token)
    flow = oc.id_token_flow(
        bad, server=SERVER, client=CLIENT, pending=pending, now=T0, jwks_cache=oc.JwksCache(JWKS)
    )
    with pytest.raises(oc.IdTokenError) as info:
        next(flow)
    assert info.value.check == "at_hash"
    with pytest.raises(oc.MalformedResponseError) as missing:
        next(
            oc.id_token_flow(oc.Token("at"), server=SERVER, client=CLIENT, pending=pending, now=T0)
        )
    assert missing.value.field == "id_token"


def test_cache_repr_and_update_checks() -> None:
    cache = oc.JwksCache(JWKS, fetched_at=T0)
    assert repr(cache) == f"JwksCache(keys=4, fetched_at={T0.isoformat()!r})"
    with pytest.raises(oc.UsageError):
        cache.update({"nope": []}, fetched_at=T0)


def test_lone_surrogates_are_a_mismatch_not_a_crash() -> None:
    token = sign_jwt(load_signing_key(EC_KEY), claims(nonce="\ud800"), {"kid": "ec-1"})
    assert rejected(token) == "nonce"
    token = sign_jwt(load_signing_key(EC_KEY), claims(at_hash="\udfff"), {"kid": "ec-1"})
    assert rejected(token, access_token=ACCESS_TOKEN) == "at_hash"


def test_at_hash_follows_the_alg_hash() -> None:
    """ES384 hashes with SHA-384: the left 24 bytes."""
    key = ec.generate_private_key(ec.SECP384R1())
    jwks = {"keys": [public_jwk(key, "ES384", "ec384")]}
    token = jwt.encode(
        claims(at_hash=at_hash(ACCESS_TOKEN, hashlib.sha384)),
        key,
        algorithm="ES384",
        headers={"kid": "ec384"},
    )
    validate(token, jwks=jwks, access_token=ACCESS_TOKEN)
    wrong = jwt.encode(
        claims(at_hash=at_hash(ACCESS_TOKEN)), key, algorithm="ES384", headers={"kid": "ec384"}
    )
    assert rejected(wrong, jwks=jwks, access_token=ACCESS_TOKEN) == "at_hash"


def test_rsa_keys_under_2048_bits_are_refused() -> None:
    """RFC 7518 §3.3: RSA keys of 2048 bits or more MUST be used."""
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    jwks = {"keys": [public_jwk(small, "RS256", "small")]}
    with pytest.warns(InsecureKeyLengthWarning):  # PyJWT minting the test token warns too
        token = jwt.encode(claims(), small, algorithm="RS256", headers={"kid": "small"})
    assert rejected(token, jwks=jwks) == "signature"
    client = oc.Client("app", auth_method="private_key_jwt", signing_key=small)
    with pytest.raises(oc.UsageError, match="2048"):
        oc.client_credentials_grant_request(SERVER, client, now=T0)


def test_claims_are_a_hashable_read_only_value() -> None:
    first, second = validate(mint()), validate(mint())
    assert first == second
    assert hash(first) == hash(second)
    with pytest.raises(TypeError):
        first.claims["sub"] = "admin"  # type: ignore[index]
