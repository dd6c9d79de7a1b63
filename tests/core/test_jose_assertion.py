"""JWT client authentication: private_key_jwt and client_secret_jwt (RFC 7523 §2.2, §3; OIDC §9).

Every assertion is decoded with PyJWT and each claim checked. Keys are generated
once per module (RSA generation is slow).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import given
from hypothesis import strategies as st
from poll_steps import first_poll, reply

import oauth2_core as oc
from oauth2_core.jose import b64url_decode, b64url_encode, load_signing_key

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)


ISSUER = "https://as.example.com"
SERVER = oc.ServerMetadata(
    ISSUER,
    token_endpoint="https://as.example.com/token",
    revocation_endpoint="https://as.example.com/revoke",
    introspection_endpoint="https://as.example.com/introspect",
    device_authorization_endpoint="https://as.example.com/device",
    pushed_authorization_request_endpoint="https://as.example.com/par",
)
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SECRET = "a-client-secret-that-is-at-least-32-bytes-long"

EC_KEY = ec.generate_private_key(ec.SECP256R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ED_KEY = ed25519.Ed25519PrivateKey.generate()


def pem(key: object) -> str:
    return key.private_bytes(  # type: ignore[attr-defined,no-any-return]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_pem(key: object) -> str:
    return (
        key.public_key()
        .public_bytes(  # type: ignore[attr-defined,no-any-return]
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        .decode()
    )


def private_jwk(key: object, exporter: str, **extra: str) -> dict[str, str]:
    data = jwt.get_algorithm_by_name(exporter).to_jwk(key, as_dict=True)
    result = {k: v for k, v in data.items() if isinstance(v, str)}
    result.update(extra)
    return result


EC_JWK = private_jwk(EC_KEY, "ES256", kid="ec-1")


def form(request: oc.HttpRequest) -> dict[str, str]:
    return dict(parse_qsl(request.body.decode()))


def decode(assertion: str, key: object, alg: str, audience: str = ISSUER) -> dict[str, object]:
    # Time claims are checked by hand against T0: PyJWT would compare them with the clock.
    claims: dict[str, object] = jwt.decode(
        assertion,
        key,
        algorithms=[alg],
        audience=audience,
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    return claims


def assert_assertion_claims(claims: Mapping[str, object], client_id: str, audience: str) -> None:
    assert claims["iss"] == client_id
    assert claims["sub"] == client_id
    assert claims["aud"] == audience
    assert claims["iat"] == int(T0.timestamp())
    assert claims["exp"] == int(T0.timestamp()) + 60
    assert isinstance(claims["jti"], str)
    assert len(claims["jti"]) >= 16
    assert set(claims) == {"iss", "sub", "aud", "iat", "exp", "jti"}


# --- private_key_jwt ---------------------------------------------------------------------


def test_private_key_jwt_with_a_jwk_is_decoded_and_every_claim_checked() -> None:
    client = oc.Client("app", auth_method="private_key_jwt", signing_key=EC_JWK)
    request = oc.client_credentials_grant_request(SERVER, client, scope="read", now=T0)
    body = form(request)
    assert "authorization" not in request.headers
    assert body["client_id"] == "app"
    assert body["client_assertion_type"] == ASSERTION_TYPE
    assertion = body["client_assertion"]
    header = jwt.get_unverified_header(assertion)
    assert header == {"alg": "ES256", "typ": "JWT", "kid": "ec-1"}
    assert_assertion_claims(decode(assertion, EC_KEY.public_key(), "ES256"), "app", ISSUER)


def test_audience_can_be_the_token_endpoint() -> None:
    client = oc.Client(
        "app",
        auth_method="private_key_jwt",
        signing_key=EC_JWK,
        assertion_audience="token_endpoint",
    )
    request = oc.client_credentials_grant_request(SERVER, client, now=T0)
    audience = "https://as.example.com/token"
    claims = decode(form(request)["client_assertion"], EC_KEY.public_key(), "ES256", audience)
    assert_assertion_claims(claims, "app", audience)


@pytest.mark.parametrize(
    ("key", "alg"),
    [
        (EC_KEY, "ES256"),
        (ec.generate_private_key(ec.SECP384R1()), "ES384"),
        (ec.generate_private_key(ec.SECP521R1()), "ES512"),
        (RSA_KEY, "RS256"),
        (ED_KEY, "EdDSA"),
    ],
    ids=["P-256", "P-384", "P-521", "RSA", "Ed25519"],
)
def test_pem_keys_sign_with_the_alg_their_type_implies(key: object, alg: str) -> None:
    for signing_key in (pem(key), pem(key).encode(), key):
        client = oc.Client("app", auth_method="private_key_jwt", signing_key=signing_key)
        assertion = form(oc.client_credentials_grant_request(SERVER, client, now=T0))[
            "client_assertion"
        ]
        header = jwt.get_unverified_header(assertion)
        assert header["alg"] == alg
        assert "kid" not in header
        public = key.public_key()  # type: ignore[attr-defined]
        assert_assertion_claims(decode(assertion, public, alg), "app", ISSUER)


def test_a_jwk_alg_is_honoured() -> None:
    """An RSA JWK that says PS256 signs with PS256, not the RS256 default."""
    jwk = private_jwk(RSA_KEY, "PS256", alg="PS256", kid="r1")
    client = oc.Client("app", auth_method="private_key_jwt", signing_key=jwk)
    assertion = form(oc.client_credentials_grant_request(SERVER, client, now=T0))[
        "client_assertion"
    ]
    assert jwt.get_unverified_header(assertion) == {"alg": "PS256", "typ": "JWT", "kid": "r1"}
    # Verifies with the public key under PS256 (and only PS256), with every claim in place.
    assert_assertion_claims(decode(assertion, RSA_KEY.public_key(), "PS256"), "app", ISSUER)
    with pytest.raises(jwt.InvalidAlgorithmError):
        decode(assertion, RSA_KEY.public_key(), "RS256")


Builder = Callable[[oc.Client, "dt.datetime | None"], oc.HttpRequest]
BUILDERS: dict[str, Builder] = {
    "token": lambda c, now: oc.client_credentials_grant_request(SERVER, c, now=now),
    "refresh": lambda c, now: oc.refresh_token_grant_request(SERVER, c, "rt", now=now),
    "password": lambda c, now: oc.password_grant_request(SERVER, c, "alice", "pw", now=now),
    "any grant": lambda c, now: oc.token_request(SERVER, c, "urn:x", now=now),
    "revocation": lambda c, now: oc.revocation_request(SERVER, c, "tok", now=now),
    "introspection": lambda c, now: oc.introspection_request(SERVER, c, "tok", now=now),
    "par": lambda c, now: oc.pushed_authorization_request(
        SERVER, c, oc.new_pending_authorization(c), now=now
    ),
    "device": lambda c, now: oc.device_authorization_request(SERVER, c, now=now),
    "jwt bearer": lambda c, now: oc.jwt_bearer_grant_request(SERVER, c, "a.b.c", now=now),
    "token exchange": lambda c, now: oc.token_exchange_grant_request(
        SERVER, c, "t", oc.TOKEN_TYPE_ACCESS_TOKEN, now=now
    ),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_endpoint_authenticates_the_same_way(name: str) -> None:
    """Token, revocation, introspection, PAR, device: one assertion, same claims, new jti."""
    client = oc.Client(
        "app", auth_method="private_key_jwt", signing_key=EC_JWK, redirect_uri="https://a/cb"
    )
    first, second = form(BUILDERS[name](client, T0)), form(BUILDERS[name](client, T0))
    assert first["client_id"] == "app"
    assert first["client_assertion_type"] == ASSERTION_TYPE
    claims = decode(first["client_assertion"], EC_KEY.public_key(), "ES256")
    assert_assertion_claims(claims, "app", ISSUER)
    assert claims["jti"] != decode(second["client_assertion"], EC_KEY.public_key(), "ES256")["jti"]


@pytest.mark.parametrize("name", sorted(BUILDERS))
@pytest.mark.parametrize(
    "client",
    [
        oc.Client(
            "app", auth_method="private_key_jwt", signing_key=EC_JWK, redirect_uri="https://a/cb"
        ),
        oc.Client("app", SECRET, auth_method="client_secret_jwt", redirect_uri="https://a/cb"),
    ],
    ids=["private_key_jwt", "client_secret_jwt"],
)
def test_jwt_methods_need_now(name: str, client: oc.Client) -> None:
    """The core never reads the clock: the caller says when the request is sent."""
    with pytest.raises(oc.UsageError, match="now="):
        BUILDERS[name](client, None)


@pytest.mark.parametrize(
    ("client", "fields", "authorization"),
    [
        (oc.Client("app", "s"), {}, "Basic YXBwOnM="),  # base64("app:s")
        (
            oc.Client("app", "s", auth_method="client_secret_post"),
            {"client_id": "app", "client_secret": "s"},
            None,
        ),
        (oc.Client("app", auth_method="none"), {"client_id": "app"}, None),
        (oc.Client("app", auth_method="tls_client_auth"), {"client_id": "app"}, None),
    ],
    ids=["client_secret_basic", "client_secret_post", "none", "tls_client_auth"],
)
def test_other_methods_do_not_need_now(
    client: oc.Client, fields: dict[str, str], authorization: str | None
) -> None:
    """Nothing is signed, so no ``now``: each method authenticates as RFC 6749 §2.3 says."""
    request = oc.client_credentials_grant_request(SERVER, client)
    assert form(request) == {"grant_type": "client_credentials", **fields}
    assert request.headers.get("authorization") == authorization


def test_a_naive_now_is_refused() -> None:
    client = oc.Client("app", auth_method="private_key_jwt", signing_key=EC_JWK)
    with pytest.raises(oc.UsageError, match="timezone-aware"):
        oc.client_credentials_grant_request(SERVER, client, now=dt.datetime(2026, 1, 1))


def test_flows_pass_now_through() -> None:
    from oauth2_core.flows import refresh_flow

    client = oc.Client("app", auth_method="private_key_jwt", signing_key=EC_JWK)
    token = oc.Token("at", refresh_token="rt")
    step = next(refresh_flow(SERVER, client, token, now=T0))
    claims = decode(form(step.request)["client_assertion"], EC_KEY.public_key(), "ES256")
    assert claims["iat"] == int(T0.timestamp())


def test_device_polls_are_dated_by_the_previous_answer() -> None:
    """Each poll's assertion carries its send time: last received_at plus the interval."""
    client = oc.Client("app", auth_method="private_key_jwt", signing_key=EC_JWK)
    auth = oc.DeviceAuthorization(
        device_code="dc",
        user_code="UC",
        verification_uri="https://as.example.com/activate",
        expires_at=T0 + dt.timedelta(minutes=10),
        interval=5,
        issued_at=T0,
    )
    flow = oc.device_poll_flow(SERVER, client, auth)
    first = first_poll(flow, T0)
    iat = decode(form(first.request)["client_assertion"], EC_KEY.public_key(), "ES256")["iat"]
    assert iat == int(T0.timestamp()) + 5
    pending = oc.HttpResponse(
        400,
        {"content-type": "application/json"},
        b'{"error": "authorization_pending"}',
        T0 + dt.timedelta(seconds=6),
    )
    second = reply(flow, pending)
    iat = decode(form(second.request)["client_assertion"], EC_KEY.public_key(), "ES256")["iat"]
    assert iat == int(T0.timestamp()) + 11
    flow.close()


# --- keys that cannot sign -----------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        {"kty": "oct", "k": b64url_encode(b"k" * 32)},
        {**EC_JWK, "alg": "HS256"},
        "just-a-shared-secret",
        b"bytes-secret",
    ],
    ids=["oct JWK", "HS alg", "secret str", "secret bytes"],
)
def test_symmetric_keys_are_refused_for_private_key_jwt(key: object) -> None:
    client = oc.Client("app", auth_method="private_key_jwt", signing_key=key)
    with pytest.raises(oc.UsageError, match="asymmetric") as info:
        oc.client_credentials_grant_request(SERVER, client, now=T0)
    assert "client_secret_jwt" in str(info.value)


@pytest.mark.parametrize(
    "key",
    [
        {k: v for k, v in EC_JWK.items() if k != "d"},
        public_pem(EC_KEY),
        {**EC_JWK, "crv": "P-384"},
        {**EC_JWK, "d": "not-a-valid-scalar"},
        42,
    ],
    ids=["public JWK", "public PEM", "alg/crv mismatch", "bad d", "int"],
)
def test_unusable_keys_are_a_usage_error_that_never_shows_the_key(key: object) -> None:
    client = oc.Client("app", auth_method="private_key_jwt", signing_key=key)
    with pytest.raises(oc.UsageError) as info:
        oc.client_credentials_grant_request(SERVER, client, now=T0)
    text = f"{info.value} {info.value!r} {info.value.__cause__!r} {info.value.__context__!r}"
    assert EC_JWK["d"] not in text
    assert "not-a-valid-scalar" not in text


def test_private_key_jwt_needs_a_key_or_a_signer() -> None:
    with pytest.raises(oc.UsageError, match="signing_key= or signer="):
        oc.Client("app", auth_method="private_key_jwt")


# --- client_secret_jwt -----------------------------------------------------------------------


def test_client_secret_jwt_is_hs256_over_the_secret() -> None:
    client = oc.Client("app", SECRET, auth_method="client_secret_jwt")
    request = oc.client_credentials_grant_request(SERVER, client, now=T0)
    body = form(request)
    assert "client_secret" not in body
    assert "authorization" not in request.headers
    assert jwt.get_unverified_header(body["client_assertion"]) == {"alg": "HS256", "typ": "JWT"}
    claims = decode(body["client_assertion"], SECRET.encode(), "HS256")
    assert_assertion_claims(claims, "app", ISSUER)


def test_client_secret_jwt_with_a_short_secret_signs_without_warning() -> None:
    """Secrets come from the server, often shorter than 32 bytes; RFC 7518 §3.2 is its problem."""
    import warnings

    client = oc.Client("app", "short", auth_method="client_secret_jwt")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assertion = form(oc.client_credentials_grant_request(SERVER, client, now=T0))[
            "client_assertion"
        ]
    head, payload, signature = assertion.split(".")
    expected = hmac.new(b"short", f"{head}.{payload}".encode(), hashlib.sha256).digest()
    assert b64url_decode(signature) == expected


# --- Signer protocol -------------------------------------------------------------------------


class RecordingSigner:
    """Stands in for a KMS: signs with a key it holds, records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, object], dict[str, object]]] = []

    def sign(self, claims: Mapping[str, object], headers: Mapping[str, object]) -> str:
        self.calls.append((dict(claims), dict(headers)))
        return jwt.encode(
            dict(claims), EC_KEY, algorithm="ES256", headers={**headers, "kid": "kms-1"}
        )


def test_a_signer_signs_the_assertion() -> None:
    signer = RecordingSigner()
    client = oc.Client("app", auth_method="private_key_jwt", signer=signer)
    assertion = form(oc.revocation_request(SERVER, client, "tok", now=T0))["client_assertion"]
    (claims, headers), *_ = signer.calls
    assert headers == {"typ": "JWT"}
    assert_assertion_claims(claims, "app", ISSUER)
    assert jwt.get_unverified_header(assertion)["kid"] == "kms-1"
    assert decode(assertion, EC_KEY.public_key(), "ES256") == claims


def test_a_signer_must_return_a_compact_jws() -> None:
    class Broken:
        def sign(self, claims: Mapping[str, object], headers: Mapping[str, object]) -> str:
            return 42  # type: ignore[return-value]

    client = oc.Client("app", auth_method="private_key_jwt", signer=Broken())
    with pytest.raises(oc.UsageError, match="compact JWS"):
        oc.client_credentials_grant_request(SERVER, client, now=T0)


# --- redaction and properties ------------------------------------------------------------------


def test_keys_never_appear_in_reprs() -> None:
    client = oc.Client("app", auth_method="private_key_jwt", signing_key=EC_JWK)
    loaded = load_signing_key(EC_JWK)
    request = oc.client_credentials_grant_request(SERVER, client, now=T0)
    assertion = form(request)["client_assertion"]
    for text in (repr(client), str(client), repr(loaded), str(loaded), repr(request)):
        assert EC_JWK["d"] not in text
        assert assertion not in text
    assert "<redacted>" in repr(loaded)


@given(
    client_id=st.text(min_size=1, max_size=40),
    jti=st.text(alphabet=st.characters(codec="ascii"), min_size=1, max_size=40),
    seconds=st.integers(min_value=0, max_value=2**32),
)
def test_assertion_claims_round_trip(client_id: str, jti: str, seconds: int) -> None:
    """For any client_id, jti and time, the assertion decodes to exactly the claims built."""
    now = dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    client = oc.Client(client_id, auth_method="private_key_jwt", signing_key=EC_JWK)
    assertion = oc.client_assertion(client, ISSUER, now=now, jti=jti)
    claims = decode(assertion, EC_KEY.public_key(), "ES256")
    assert claims == {
        "iss": client_id,
        "sub": client_id,
        "aud": ISSUER,
        "jti": jti,
        "iat": seconds,
        "exp": seconds + 60,
    }
    payload = json.loads(b64url_decode(assertion.split(".")[1]))
    assert payload == claims
