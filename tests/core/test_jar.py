"""JWT-secured authorization requests (RFC 9101): the request object, in URLs and PAR."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given
from hypothesis import strategies as st

import oauth2_core as oc
from oauth2_core.jar import REQUEST_OBJECT_TYPE, request_object

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SERVER = oc.ServerMetadata(
    "https://server.example.com",
    authorization_endpoint="https://server.example.com/authorize",
    pushed_authorization_request_endpoint="https://server.example.com/par",
)
# RFC 9101 §4 example client.
CLIENT = oc.Client("s6BhdRkqt3", redirect_uri="https://client.example.org/cb", signing_key=EC_KEY)
PENDING = oc.new_pending_authorization(CLIENT, state="af0ifjsldkj", nonce="n-0S6_WzA2Mj")


def query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def decoded(token: str, key: Any = EC_KEY, alg: str = "ES256") -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        token, key.public_key(), algorithms=[alg], audience=SERVER.issuer, leeway=10**9
    )
    return claims


def test_url_carries_only_client_id_and_the_signed_request() -> None:
    url = oc.authorization_url(
        SERVER, CLIENT, PENDING, scope="openid", request_object=True, now=T0, prompt="login"
    )
    pairs = query(url)
    assert [name for name, _ in pairs] == ["client_id", "request"]
    assert pairs[0] == ("client_id", "s6BhdRkqt3")
    token = pairs[1][1]
    header = jwt.get_unverified_header(token)
    assert header["typ"] == REQUEST_OBJECT_TYPE == "oauth-authz-req+jwt"
    assert header["alg"] == "ES256"
    claims = decoded(token)
    plain = dict(
        query(oc.authorization_url(SERVER, CLIENT, PENDING, scope="openid", prompt="login"))
    )
    # Every parameter of the plain request is inside, client_id included (RFC 9101 §5).
    assert {k: claims[k] for k in plain} == plain
    assert claims["iss"] == "s6BhdRkqt3"
    assert claims["aud"] == "https://server.example.com"
    stamp = int(T0.timestamp())
    assert claims["iat"] == claims["nbf"] == stamp
    assert 0 < claims["exp"] - stamp <= 3600
    assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16


def test_rfc_9101_section_4_example_claims() -> None:
    """The claims of RFC 9101 §4's example request object, built by our builder."""
    params = [
        ("response_type", "code id_token"),
        ("client_id", "s6BhdRkqt3"),
        ("redirect_uri", "https://client.example.org/cb"),
        ("scope", "openid"),
        ("state", "af0ifjsldkj"),
        ("nonce", "n-0S6_WzA2Mj"),
        ("max_age", "86400"),
    ]
    example = {
        "iss": "s6BhdRkqt3",
        "aud": "https://server.example.com",
        "response_type": "code id_token",
        "client_id": "s6BhdRkqt3",
        "redirect_uri": "https://client.example.org/cb",
        "scope": "openid",
        "state": "af0ifjsldkj",
        "nonce": "n-0S6_WzA2Mj",
        "max_age": 86400,
    }
    claims = decoded(request_object(SERVER, CLIENT, params, now=T0, jti="j1"))
    assert {k: claims[k] for k in example} == example
    assert claims["jti"] == "j1"


def test_each_request_object_has_a_fresh_jti() -> None:
    one, two = (
        decoded(
            dict(query(oc.authorization_url(SERVER, CLIENT, PENDING, request_object=True, now=T0)))[
                "request"
            ]
        )["jti"]
        for _ in range(2)
    )
    assert one != two


def test_json_and_repeated_parameters_become_json_values() -> None:
    rar = [{"type": "payment_initiation", "actions": ["initiate"]}]
    url = oc.authorization_url(
        SERVER,
        CLIENT,
        PENDING,
        request_object=True,
        now=T0,
        resource=["https://a.example", "https://b.example"],
        authorization_details=rar,
    )
    claims = decoded(dict(query(url))["request"])
    assert claims["resource"] == ["https://a.example", "https://b.example"]
    assert claims["authorization_details"] == rar


def test_registered_request_object_signing_alg_wins_when_it_fits_the_key() -> None:
    client = oc.Client("app", signing_key=RSA_KEY, request_object_signing_alg="PS256")
    url = oc.authorization_url(SERVER, client, PENDING, request_object=True, now=T0)
    token = dict(query(url))["request"]
    assert jwt.get_unverified_header(token)["alg"] == "PS256"
    assert decoded(token, RSA_KEY, "PS256")["iss"] == "app"


def test_alg_that_does_not_fit_the_key_is_refused() -> None:
    client = oc.Client("app", signing_key=EC_KEY, request_object_signing_alg="PS256")
    with pytest.raises(oc.UsageError, match="does not fit"):
        oc.authorization_url(SERVER, client, PENDING, request_object=True, now=T0)


def test_alg_the_server_does_not_list_is_refused_before_the_browser_opens() -> None:
    server = oc.ServerMetadata.from_dict(
        {**SERVER.to_dict(), "request_object_signing_alg_values_supported": ["PS256"]}
    )
    assert server.request_object_signing_alg_values_supported == ("PS256",)
    with pytest.raises(oc.UsageError, match="request_object_signing_alg_values_supported"):
        oc.authorization_url(server, CLIENT, PENDING, request_object=True, now=T0)


@pytest.mark.parametrize(
    ("client", "now", "message"),
    [
        (oc.Client("app"), T0, "signing_key"),
        (CLIENT, None, "now="),
        (CLIENT, dt.datetime(2026, 1, 1), "aware"),  # naive: refused
    ],
)
def test_request_object_needs_a_key_and_an_aware_now(
    client: oc.Client, now: dt.datetime | None, message: str
) -> None:
    with pytest.raises(oc.UsageError, match=message):
        oc.authorization_url(SERVER, client, PENDING, request_object=True, now=now)


def test_request_and_request_uri_are_never_extra_parameters() -> None:
    with pytest.raises(oc.UsageError):
        oc.authorization_url(SERVER, CLIENT, PENDING, request="x")
    with pytest.raises(oc.UsageError, match="exclude"):
        oc.authorization_url(
            SERVER, CLIENT, PENDING, request_uri="urn:x", request_object=True, now=T0
        )


def test_external_kms_key_signs_the_request_object() -> None:
    public = jwt.get_algorithm_by_name("ES256").to_jwk(EC_KEY.public_key(), as_dict=True)
    signed_inputs: list[bytes] = []

    def sign(data: bytes) -> bytes:
        signed_inputs.append(data)
        algorithm = jwt.get_algorithm_by_name("ES256")
        return bytes(algorithm.sign(data, EC_KEY))

    key = oc.external_signing_key(public_jwk={**public, "kid": "kms-1"}, sign=sign)
    client = oc.Client("app", signing_key=key)
    token = dict(query(oc.authorization_url(SERVER, client, PENDING, request_object=True, now=T0)))[
        "request"
    ]
    assert jwt.get_unverified_header(token)["kid"] == "kms-1"
    assert decoded(token)["iss"] == "app" and len(signed_inputs) == 1


def test_par_pushes_the_request_object_rfc_9126_section_3() -> None:
    client = oc.Client("app", "secret", signing_key=EC_KEY, redirect_uri="https://app.example/cb")
    pending = oc.new_pending_authorization(client)
    request = oc.pushed_authorization_request(
        SERVER, client, pending, scope="openid", request_object=True, now=T0
    )
    pairs = parse_qsl(request.body.decode())
    assert [name for name, _ in pairs] == ["client_id", "request"]
    assert request.headers["authorization"].startswith("Basic ")
    claims = decoded(pairs[1][1])
    assert claims["state"] == pending.state and claims["scope"] == "openid"
    assert claims["redirect_uri"] == "https://app.example/cb"


def test_par_with_a_request_object_needs_now() -> None:
    with pytest.raises(oc.UsageError, match="now="):
        oc.pushed_authorization_request(SERVER, CLIENT, PENDING, request_object=True)


def test_repr_of_the_client_still_hides_the_key() -> None:
    client = oc.Client("app", signing_key=EC_KEY, request_object_signing_alg="ES256")
    assert "EllipticCurve" not in repr(client)


_NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12).filter(
    lambda n: n not in ("request", "request_uri", "claims", "authorization_details", "max_age")
)


@given(params=st.dictionaries(_NAMES, st.text(max_size=40), max_size=8))
def test_request_object_round_trips_every_parameter(params: dict[str, str]) -> None:
    """Round trip: whatever string parameters go in come back out of the signed JWT."""
    pairs = list(params.items())
    claims = decoded(request_object(SERVER, CLIENT, pairs, now=T0))
    registered = {"iss", "aud", "iat", "nbf", "exp", "jti", "client_id"}
    assert {k: v for k, v in claims.items() if k not in registered} == {
        k: v for k, v in params.items() if k not in registered
    }
    assert claims["client_id"] == CLIENT.client_id


def test_request_object_claims_are_json() -> None:
    token = request_object(SERVER, CLIENT, [("claims", json.dumps({"userinfo": {}}))], now=T0)
    assert decoded(token)["claims"] == {"userinfo": {}}
    with pytest.raises(oc.UsageError, match="JSON"):
        request_object(SERVER, CLIENT, [("claims", "{not json")], now=T0)
