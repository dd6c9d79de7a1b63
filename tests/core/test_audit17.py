"""An outside-auditor pass over the issue 17 features (JAR, JARM, RFC 9701, RFC 9068, CIBA, logout).

The tests marked *audit* reproduced a break on the code before the fix; the others
prove that a probe an attacker would run is refused. Every token is really signed
with a key of the JWK set (unless the probe is about the signature), so a refusal
comes from the check under test.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

import oauth2_core as oc
from oauth2_core.jws_verify import verify_jwt
from oauth2_core.testing import drive, json_response

UTC = dt.timezone.utc
T0 = 1_900_000_000
NOW = dt.datetime.fromtimestamp(T0, UTC)
ISSUER = "https://as.example"
AUDIENCE = "https://rs.example"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
ATTACKER = ec.generate_private_key(ec.SECP256R1())
RSA_JWK = {**RSAAlgorithm.to_jwk(RSA_KEY.public_key(), as_dict=True), "kid": "r1", "use": "sig"}
# An encryption key of the server: never a verification key (RFC 7517 §4.2).
EC_ENC_JWK = {**ECAlgorithm.to_jwk(EC_KEY.public_key(), as_dict=True), "kid": "e1", "use": "enc"}
JWKS = {"keys": [RSA_JWK, EC_ENC_JWK]}
SERVER = oc.ServerMetadata(
    ISSUER,
    authorization_endpoint=ISSUER + "/authorize",
    pushed_authorization_request_endpoint=ISSUER + "/par",
    introspection_endpoint=ISSUER + "/introspect",
    token_endpoint=ISSUER + "/token",
    jwks_uri=ISSUER + "/jwks",
    end_session_endpoint=ISSUER + "/logout",
)
SECRET = "client-secret-0123456789-abcdefghij"
CLIENT = oc.Client("app", SECRET, redirect_uri="https://app.example/cb")
PENDING = oc.new_pending_authorization(CLIENT, state="st-1")
MEDIA = "application/token-introspection+jwt"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def rs256(claims: dict[str, Any], **header: Any) -> str:
    return jwt.encode(claims, RSA_KEY, algorithm="RS256", headers={"kid": "r1", **header})


def jarm_claims(**changes: Any) -> dict[str, Any]:
    return {"iss": ISSUER, "aud": "app", "exp": T0 + 60, "code": "c-1", "state": "st-1", **changes}


def at_claims(**changes: Any) -> dict[str, Any]:
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "client_id": "app", "jti": "j"}
    return {**base, "iat": T0 - 5, "exp": T0 + 60, "scope": "read write", **changes}


def intro_claims(**changes: Any) -> dict[str, Any]:
    return {
        "iss": ISSUER,
        "aud": "app",
        "iat": T0,
        "token_introspection": {"active": True},
        **changes,
    }


# Each feature's verifier, as a function that returns the failed check ("accepted" if none).
def jarm_check(token: str) -> str:
    try:
        oc.parse_callback({"response": token}, server=SERVER, pending=PENDING, jwks=JWKS, now=NOW)
    except oc.CallbackValidationError as exc:
        cause = exc.__cause__
        return cause.check if isinstance(cause, oc.IdTokenError) else "state"
    return "accepted"


def at_check(token: str) -> str:
    try:
        oc.validate_jwt_access_token(token, issuer=ISSUER, audience=AUDIENCE, jwks=JWKS, now=NOW)
    except oc.InvalidTokenError as exc:
        return exc.check
    return "accepted"


def intro_check(token: str) -> str:
    response = oc.HttpResponse(200, {"content-type": MEDIA}, token.encode(), NOW)
    try:
        oc.process_jwt_introspection_response(response, server=SERVER, client=CLIENT, jwks=JWKS)
    except oc.IdTokenError as exc:
        return exc.check
    return "accepted"


VERIFIERS: dict[str, Callable[[str], str]] = {
    "jarm": jarm_check,
    "rfc9068": at_check,
    "rfc9701": intro_check,
}
VALID = {
    "jarm": rs256(jarm_claims()),
    "rfc9068": rs256(at_claims(), typ="at+jwt"),
    "rfc9701": rs256(intro_claims(), typ="token-introspection+jwt"),
}
CLAIMS: dict[str, dict[str, Any]] = {
    "jarm": jarm_claims(),
    "rfc9068": at_claims(),
    "rfc9701": intro_claims(),
}
TYP = {"jarm": None, "rfc9068": "at+jwt", "rfc9701": "token-introspection+jwt"}


def forge(feature: str, header: dict[str, Any], signature: bytes = b"") -> str:
    """A token with the feature's valid claims, this header and this signature."""
    typ = TYP[feature]
    full = {**({"typ": typ} if typ else {}), **header}
    head = b64(json.dumps(full).encode())
    return f"{head}.{b64(json.dumps(CLAIMS[feature]).encode())}.{b64(signature)}"


def hs256(feature: str, key: bytes, **header: Any) -> str:
    typ = TYP[feature]
    head = b64(json.dumps({"alg": "HS256", **({"typ": typ} if typ else {}), **header}).encode())
    signing_input = f"{head}.{b64(json.dumps(CLAIMS[feature]).encode())}"
    return f"{signing_input}.{b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())}"


FEATURES = sorted(VERIFIERS)


@pytest.mark.parametrize("feature", FEATURES)
def test_the_valid_token_of_each_feature_is_accepted(feature: str) -> None:
    assert VERIFIERS[feature](VALID[feature]) == "accepted"


# --- JWT verification: one verifier under every feature ------------------------------------


@pytest.mark.parametrize("alg", ["none", "NONE", "None", "nOnE"])
@pytest.mark.parametrize("feature", FEATURES)
def test_alg_none_in_any_case_is_refused(feature: str, alg: str) -> None:
    assert VERIFIERS[feature](forge(feature, {"alg": alg})) == "alg"


PUBLIC_PEM = RSA_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


@pytest.mark.parametrize(
    "key", [PUBLIC_PEM, json.dumps(RSA_JWK).encode(), SECRET.encode()], ids=["pem", "jwk", "secret"]
)
@pytest.mark.parametrize("feature", FEATURES)
def test_hmac_with_a_public_key_or_an_unadvertised_client_secret_is_refused(
    feature: str, key: bytes
) -> None:
    """Alg confusion: HS256 keyed with the server's public key; HMAC the server never advertised."""
    assert VERIFIERS[feature](hs256(feature, key, kid="r1")) == "alg"


@pytest.mark.parametrize("feature", FEATURES)
def test_a_kid_naming_an_encryption_key_or_a_key_of_another_alg_is_refused(feature: str) -> None:
    typ = TYP[feature]
    headers = {"kid": "e1", **({"typ": typ} if typ else {})}
    enc = jwt.encode(CLAIMS[feature], EC_KEY, algorithm="ES256", headers=headers)
    assert VERIFIERS[feature](enc) == "kid"  # the key is use=enc
    pinned = {"keys": [{**RSA_JWK, "alg": "RS256"}]}
    ps256 = jwt.encode(
        CLAIMS[feature], RSA_KEY, algorithm="PS256", headers={**headers, "kid": "r1"}
    )
    with pytest.raises(oc.IdTokenError) as info:
        verify_jwt(ps256, client=CLIENT, jwks=pinned, allowed=None, now=NOW, leeway=0)
    assert info.value.check == "kid"  # the key says RS256, the header PS256


ATTACKER_JWK = ECAlgorithm.to_jwk(ATTACKER.public_key(), as_dict=True)


@pytest.mark.parametrize(
    "header",
    [
        {"jwk": ATTACKER_JWK},
        {"jku": "https://attacker.example/jwks", "kid": "a1"},
        {"x5u": "https://attacker.example/cert.pem"},
        {"jwk": ATTACKER_JWK, "kid": "r1"},  # a kid of the set, the attacker's embedded key
    ],
)
@pytest.mark.parametrize("feature", FEATURES)
def test_keys_named_in_the_header_are_never_trusted(feature: str, header: dict[str, Any]) -> None:
    typ = TYP[feature]
    token = jwt.encode(
        CLAIMS[feature],
        ATTACKER,
        algorithm="ES256",
        headers={**header, **({"typ": typ} if typ else {})},
    )
    assert VERIFIERS[feature](token) in ("kid", "signature")


@pytest.mark.parametrize("feature", FEATURES)
def test_crit_b64_and_duplicate_members_are_refused(feature: str) -> None:
    check = VERIFIERS[feature]
    typ = {"typ": TYP[feature]} if TYP[feature] else {}
    assert check(rs256(CLAIMS[feature], crit=["x"], x=1, **typ)) == "crit"
    assert check(rs256(CLAIMS[feature], b64=False, **typ)) in ("b64", "crit")
    head = json.dumps({"alg": "none", **typ}).encode()[:-1] + b',"alg":"RS256","kid":"r1"}'
    assert check(f"{b64(head)}.{b64(json.dumps(CLAIMS[feature]).encode())}.") == "format"
    payload = json.dumps(CLAIMS[feature]).encode()[:-1] + b',"iss":"https://attacker.example"}'
    duplicated = jwt.api_jws.encode(
        payload, RSA_KEY, algorithm="RS256", headers={"kid": "r1", **typ}
    )
    assert check(duplicated) == "format"


@pytest.mark.parametrize("feature", FEATURES)
def test_an_encrypted_or_nested_five_part_token_is_the_servers_fault(feature: str) -> None:
    """*audit*: a JWE-shaped ``response`` / answer was a UsageError (blamed the caller).

    An attacker controls the callback and a server the answer: a CallbackError
    (JARM) or an IdTokenError (RFC 9701), like any other token that fails.
    """
    check = VERIFIERS[feature]
    assert check("eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d") == "format"


def test_an_encrypted_jarm_response_is_a_callback_validation_error() -> None:
    """*audit*: the app that answers CallbackError with "login failed" must get one."""
    with pytest.raises(oc.CallbackValidationError, match="format") as info:
        oc.parse_callback(
            "https://app.example/cb?response=eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d",
            server=SERVER,
            pending=PENDING,
            jwks=JWKS,
            now=NOW,
        )
    assert "JWE" in str(info.value.__cause__)


@pytest.mark.parametrize(
    ("name", "value", "check"),
    [
        ("exp", 10**30, "exp"),
        ("exp", "1900000060", "exp"),
        ("exp", True, "exp"),
        ("exp", 1e308, "exp"),
        ("exp", None, "exp"),  # missing where required
        ("nbf", T0 + 3600, "nbf"),
        ("iat", T0 + 3600, "iat"),
    ],
)
def test_time_claims_of_a_jarm_response_and_an_access_token(
    name: str, value: object, check: str
) -> None:
    jarm = {k: v for k, v in jarm_claims(**{name: value}).items() if v is not None}
    at = {k: v for k, v in at_claims(**{name: value}).items() if v is not None}
    assert jarm_check(rs256(jarm)) == check
    assert at_check(rs256(at, typ="at+jwt")) == check


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_a_non_standard_json_number_is_refused(constant: bytes) -> None:
    payload = json.dumps(at_claims(exp=0)).encode().replace(b'"exp": 0', b'"exp": ' + constant)
    token = jwt.api_jws.encode(
        payload, RSA_KEY, algorithm="RS256", headers={"kid": "r1", "typ": "at+jwt"}
    )
    assert at_check(token) == "format"


@pytest.mark.parametrize("leeway", [-1, 301, float("nan"), True])
def test_leeway_is_bounded(leeway: object) -> None:
    with pytest.raises(oc.UsageError):
        oc.validate_jwt_access_token(
            VALID["rfc9068"],
            issuer=ISSUER,
            audience=AUDIENCE,
            jwks=JWKS,
            now=NOW,
            leeway=leeway,  # type: ignore[arg-type]
        )


# --- token substitution across features ----------------------------------------------------

ID_TOKEN = rs256(
    {"iss": ISSUER, "aud": "app", "sub": "alice", "iat": T0, "exp": T0 + 60, "nonce": "n"}
)


def test_an_id_token_is_not_an_access_token_an_introspection_answer_or_a_jarm_response() -> None:
    assert at_check(ID_TOKEN) == "typ"
    id_for_rs = rs256(
        {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "a",
            "client_id": "app",
            "jti": "j",
            "iat": T0,
            "exp": T0 + 60,
        },
        typ="JWT",
    )
    assert at_check(id_for_rs) == "typ"
    assert intro_check(ID_TOKEN) == "typ"
    # Signed by the server for this client, but it answers no authorization request.
    assert jarm_check(ID_TOKEN) == "state"


def test_each_features_token_is_refused_by_the_others() -> None:
    for feature, token in VALID.items():
        for other, check in VERIFIERS.items():
            if other != feature:
                assert check(token) != "accepted", (feature, other)


def test_a_jarm_response_for_another_client_or_from_another_issuer_is_refused() -> None:
    assert jarm_check(rs256(jarm_claims(aud="other-app"))) == "aud"
    assert jarm_check(rs256(jarm_claims(aud=["other-app"]))) == "aud"
    assert jarm_check(rs256(jarm_claims(iss="https://attacker.example"))) == "iss"
    assert at_check(rs256(at_claims(aud="https://other-rs.example"), typ="at+jwt")) == "aud"
    assert intro_check(rs256(intro_claims(aud="other-app"), typ=MEDIA)) == "aud"


def test_an_error_inside_a_forged_jarm_response_is_never_an_authorization_error() -> None:
    forged = jwt.encode(
        jarm_claims(error="access_denied", code=None),
        ATTACKER,
        algorithm="ES256",
        headers={"kid": "r1"},
    )
    for token in (forged, forge("jarm", {"alg": "none"})):
        with pytest.raises(oc.CallbackValidationError) as info:
            oc.parse_callback(
                {"response": token}, server=SERVER, pending=PENDING, jwks=JWKS, now=NOW
            )
        assert not isinstance(info.value, oc.AuthorizationError)


def test_parameters_next_to_a_jarm_response_are_never_read() -> None:
    token = rs256(jarm_claims(code="signed-code"))
    callback = {"response": token, "code": "attacker-code", "error": "access_denied", "iss": "x"}
    code = oc.parse_callback(callback, server=SERVER, pending=PENDING, jwks=JWKS, now=NOW)
    assert code.code == "signed-code" and code.iss == ISSUER


@pytest.mark.parametrize(
    "body",
    [
        b"response=" + b"a" * 100_000,
        b"response=%ff%fe",
        b"\xff\xfe response",
        b"response=a.b.c&response=d.e.f",
        b"&" * 10_000,
        b"response",
        b"response=" + b".".join([b"eyJhbGciOiJSUzI1NiJ9"] * 3),
    ],
)
def test_a_hostile_form_post_jwt_body_ends_in_a_callback_error(body: bytes) -> None:
    with pytest.raises(oc.CallbackError):
        oc.parse_callback(body, server=SERVER, pending=PENDING, jwks=JWKS, now=NOW)


# --- JAR: no credential in a request object, nothing nested --------------------------------

SIGNING_JWK = {**ECAlgorithm.to_jwk(EC_KEY, as_dict=True), "kid": "c1"}
JAR_CLIENT = oc.Client(
    "app",
    SECRET,
    redirect_uri="https://app.example/cb",
    signing_key=SIGNING_JWK,
    auth_method="client_secret_post",
)
CREDENTIALS = [
    "client_secret",
    "client_assertion",
    "client_assertion_type",
    "code_verifier",
    "password",
    "refresh_token",
    "access_token",
    "device_code",
    "auth_req_id",
]


@pytest.mark.parametrize("name", CREDENTIALS)
@pytest.mark.parametrize("how", ["url", "request_object", "par", "par_request_object"])
def test_no_credential_is_ever_an_authorization_request_parameter(name: str, how: str) -> None:
    """*audit*: ``client_secret=`` (or a PKCE verifier, a password ...) went into the URL and
    into the signed request object; only PAR refused the client authentication names."""
    pending = oc.new_pending_authorization(JAR_CLIENT)
    extra: dict[str, Any] = {"now": NOW, "request_object": how.endswith("object"), name: "x-cred"}
    build: Callable[..., object] = (
        oc.pushed_authorization_request if how.startswith("par") else oc.authorization_url
    )
    with pytest.raises(oc.UsageError, match=name):
        build(SERVER, JAR_CLIENT, pending, **extra)


def test_the_client_secret_under_another_name_is_refused_too() -> None:
    """*audit*: the secret's value, under any parameter name, never goes to the front channel."""
    pending = oc.new_pending_authorization(JAR_CLIENT)
    with pytest.raises(oc.UsageError, match="client secret"):
        oc.authorization_url(
            SERVER, JAR_CLIENT, pending, request_object=True, now=NOW, secret=SECRET
        )
    with pytest.raises(oc.UsageError, match="client secret"):
        oc.authorization_url(SERVER, JAR_CLIENT, pending, login_hint=[SECRET])


def request_object_claims(url: str) -> tuple[dict[str, list[str]], dict[str, Any]]:
    query = parse_qs(urlsplit(url).query)
    return query, jwt.decode(query["request"][0], options={"verify_signature": False})


def test_a_request_object_holds_the_urls_client_id_and_lives_at_most_an_hour() -> None:
    pending = oc.new_pending_authorization(JAR_CLIENT)
    url = oc.authorization_url(
        SERVER,
        JAR_CLIENT,
        pending,
        request_object=True,
        now=NOW,
        iss="evil",
        aud="evil",
        exp=T0 + 10**6,
        client_id_hint="x",
    )
    query, claims = request_object_claims(url)
    assert sorted(query) == ["client_id", "request"]
    assert claims["client_id"] == query["client_id"][0] == claims["iss"] == "app"
    assert claims["aud"] == ISSUER
    assert 0 < claims["exp"] - claims["nbf"] <= 3600  # FAPI 2.0 §5.3.2.1: at most 60 minutes
    assert SECRET not in json.dumps(claims)
    for nested in ("request", "request_uri"):
        with pytest.raises(oc.UsageError):
            oc.authorization_url(
                SERVER, JAR_CLIENT, pending, request_object=True, now=NOW, **{nested: "x"}
            )


@pytest.mark.parametrize(
    ("auth_method", "expected"),
    [
        ("client_secret_post", ["client_id", "client_secret", "request"]),
        ("client_secret_basic", ["client_id", "request"]),
        ("private_key_jwt", ["client_assertion", "client_assertion_type", "client_id", "request"]),
    ],
)
def test_par_with_a_request_object_sends_client_id_request_and_client_auth_only(
    auth_method: str, expected: list[str]
) -> None:
    client = oc.Client(
        "app",
        None if auth_method == "private_key_jwt" else SECRET,
        redirect_uri="https://app.example/cb",
        signing_key=SIGNING_JWK,
        auth_method=auth_method,
    )
    request = oc.pushed_authorization_request(
        SERVER,
        client,
        oc.new_pending_authorization(client),
        now=NOW,
        request_object=True,
        prompt="login",
    )
    names = sorted(name for name, _ in parse_qsl(request.body.decode()))
    assert names == expected
    assert ("authorization" in request.headers) == (auth_method == "client_secret_basic")


# --- RP-initiated logout ------------------------------------------------------------------

HINT = "eyJhbGciOiJSUzI1NiJ9.ID-TOKEN-HINT-SECRET.sig"


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://as.example/logout",
        "http://127.0.0.1.nip.io/logout",
        "http://0x7f.0.0.1/logout",
        "javascript:alert(1)",
        "//as.example/logout",
    ],
)
def test_end_session_url_refuses_what_the_https_rule_refuses(endpoint: str) -> None:
    server = oc.ServerMetadata(ISSUER, end_session_endpoint=endpoint)
    with pytest.raises(oc.UsageError) as info:
        oc.end_session_url(server, CLIENT, id_token_hint=HINT)
    assert "ID-TOKEN-HINT" not in str(info.value) and "ID-TOKEN-HINT" not in repr(info.value)


def test_end_session_url_allows_loopback_http() -> None:
    server = oc.ServerMetadata(ISSUER, end_session_endpoint="http://127.0.0.1:8080/logout")
    assert oc.end_session_url(server, CLIENT).startswith("http://127.0.0.1:8080/logout?")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"post_logout_redirect_uri": 5},
        {"post_logout_redirect_uri": b"https://app.example/bye"},
        {"post_logout_redirect_uri": "http://attacker.example/"},
        {"post_logout_redirect_uri": "https://app.example/bye#x"},
        {"post_logout_redirect_uri": "https://app.example/bye", "state": 5},
        {"state": "s"},
        {"client_id": "other"},
        {"foo": object()},
    ],
)
def test_end_session_url_argument_errors_never_show_the_hint(kwargs: dict[str, Any]) -> None:
    with pytest.raises(oc.UsageError) as info:
        oc.end_session_url(SERVER, CLIENT, id_token_hint=HINT, **kwargs)
    assert "ID-TOKEN-HINT" not in str(info.value) and "ID-TOKEN-HINT" not in repr(info.value)


# --- CIBA ---------------------------------------------------------------------------------


def test_an_expired_backchannel_authentication_is_never_polled() -> None:
    """*audit*: one built by hand or saved without ``issued_at`` was polled once after expiry.

    The flow knows the time (``now=``, which the high-level clients always pass),
    so it must not send an ``auth_req_id`` past its ``expires_at``.
    """
    auth = oc.BackchannelAuthentication("auth-req-1", expires_at=NOW - dt.timedelta(seconds=1))
    flow = oc.backchannel_poll_flow(SERVER, CLIENT, auth, now=NOW)
    with pytest.raises(oc.BackchannelExpiredError):
        next(flow)
    soon = oc.BackchannelAuthentication("auth-req-1", expires_at=NOW + dt.timedelta(seconds=3))
    with pytest.raises(oc.BackchannelExpiredError):  # the first poll would be at NOW + 5 s
        next(oc.backchannel_poll_flow(SERVER, CLIENT, soon, now=NOW))
    later = oc.BackchannelAuthentication("auth-req-1", expires_at=NOW + dt.timedelta(seconds=60))
    assert next(oc.backchannel_poll_flow(SERVER, CLIENT, later, now=NOW)) == oc.Wait(5.0)


def test_an_expired_device_authorization_is_never_polled() -> None:
    """The device grant had the same gap: the shared poll loop checks both alike."""
    auth = oc.DeviceAuthorization("dc-1", "U", "https://v", expires_at=NOW - dt.timedelta(1))
    with pytest.raises(oc.DeviceCodeExpiredError):
        next(oc.device_poll_flow(SERVER, CLIENT, auth, now=NOW))
    soon = oc.DeviceAuthorization("dc-1", "U", "https://v", expires_at=NOW + dt.timedelta(0, 3))
    with pytest.raises(oc.DeviceCodeExpiredError):  # the first poll would be at NOW + 5 s
        next(oc.device_poll_flow(SERVER, CLIENT, soon, now=NOW))


def test_auth_req_id_never_shows_in_a_repr_or_a_poll_error() -> None:
    auth = oc.BackchannelAuthentication("AUTH-REQ-SECRET-1", expires_at=NOW + dt.timedelta(60))
    assert "AUTH-REQ-SECRET" not in repr(auth) and "AUTH-REQ-SECRET" not in str(auth)
    flow = oc.backchannel_poll_flow(SERVER, CLIENT, auth, now=NOW)
    assert next(flow) == oc.Wait(5.0)
    send = flow.send(NOW + dt.timedelta(seconds=5))
    assert isinstance(send, oc.Send)
    request = send.request
    echo = json_response(
        400, {"error": "invalid_grant", "error_description": "bad AUTH-REQ-SECRET-1"}
    )
    with pytest.raises(oc.EndpointError) as info:
        flow.send(echo)
    masked = oc.redact_error(info.value, request)
    assert "AUTH-REQ-SECRET" not in str(masked) and "AUTH-REQ-SECRET" not in repr(masked)


# --- RFC 9068: scopes, the JWK set refetch bound -------------------------------------------


@pytest.mark.parametrize("required", ["read write", ["read", "write"], ("write",), "read"])
def test_required_scopes_as_a_space_separated_string_or_a_list(required: object) -> None:
    """*audit*: ``scope="read write"`` was one scope named "read write", never granted.

    RFC 6749 §3.3: a scope string is space-delimited.
    """
    claims = oc.validate_jwt_access_token(
        VALID["rfc9068"],
        issuer=ISSUER,
        audience=AUDIENCE,
        jwks=JWKS,
        now=NOW,
        scope=required,  # type: ignore[arg-type]
    )
    assert claims.scope == ("read", "write")
    with pytest.raises(oc.InsufficientScopeError) as info:
        oc.validate_jwt_access_token(
            VALID["rfc9068"],
            issuer=ISSUER,
            audience=AUDIENCE,
            jwks=JWKS,
            now=NOW,
            scope="read admin",
        )
    assert info.value.status == 403 and 'scope="read admin"' in info.value.www_authenticate()


def test_a_token_scope_that_is_not_a_string_is_invalid() -> None:
    token = rs256(at_claims(scope=["read", "write"]), typ="at+jwt")
    assert at_check(token) == "scope"


def unknown_kid_token() -> str:
    return jwt.encode(
        at_claims(), ATTACKER, algorithm="ES256", headers={"kid": "made-up", "typ": "at+jwt"}
    )


def test_a_failed_jwk_set_fetch_counts_against_the_refetch_interval() -> None:
    """*audit*: a JWK set endpoint that fails was fetched again for every token with a new kid.

    An attacker's made-up key ids then cost one request to the issuer each: the
    bound of :class:`JwksCache` must hold whether the last fetch worked or not.
    """
    cache = oc.JwksCache(min_refetch_interval=30)
    flow = oc.jwt_access_token_flow(
        unknown_kid_token(), server=SERVER, audience=AUDIENCE, now=NOW, jwks_cache=cache
    )
    next(flow)
    with pytest.raises(oc.EndpointError):
        flow.send(json_response(500, {"error": "server_error"}, received_at=NOW))
    for seconds in (0, 1, 29):
        later = NOW + dt.timedelta(seconds=seconds)
        again = oc.jwt_access_token_flow(
            unknown_kid_token(), server=SERVER, audience=AUDIENCE, now=later, jwks_cache=cache
        )
        with pytest.raises(oc.InvalidTokenError) as info:
            next(again)  # no request: refused at once
        assert info.value.check == "kid"
    after = oc.jwt_access_token_flow(
        VALID["rfc9068"],
        server=SERVER,
        audience=AUDIENCE,
        now=NOW + dt.timedelta(seconds=31),
        jwks_cache=cache,
    )
    driven = drive(after, [json_response(200, JWKS)])
    assert driven.result.sub == "alice" and len(driven.requests) == 1


def test_a_transport_failure_counts_against_the_refetch_interval_too() -> None:
    cache = oc.JwksCache(min_refetch_interval=30)
    flow = oc.jwt_access_token_flow(
        unknown_kid_token(), server=SERVER, audience=AUDIENCE, now=NOW, jwks_cache=cache
    )
    next(flow)
    with pytest.raises(oc.OAuth2Error):
        flow.throw(oc.OAuth2Error("connection refused"))
    again = oc.jwt_access_token_flow(
        unknown_kid_token(), server=SERVER, audience=AUDIENCE, now=NOW, jwks_cache=cache
    )
    with pytest.raises(oc.InvalidTokenError):
        next(again)


def test_a_fetch_that_was_never_sent_does_not_count() -> None:
    """A flow closed before its request was answered (a probe for a cached key) costs nothing."""
    cache = oc.JwksCache(min_refetch_interval=30)
    flow = oc.jwt_access_token_flow(
        VALID["rfc9068"], server=SERVER, audience=AUDIENCE, now=NOW, jwks_cache=cache
    )
    next(flow)
    flow.close()
    driven = drive(
        oc.jwt_access_token_flow(
            VALID["rfc9068"], server=SERVER, audience=AUDIENCE, now=NOW, jwks_cache=cache
        ),
        [json_response(200, JWKS)],
    )
    assert driven.result.sub == "alice"
