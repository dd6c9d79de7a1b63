"""Signed UserInfo answers (OpenID Connect Core §5.3.2), driven by hand."""

from __future__ import annotations

import datetime as dt
import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

import oauth2_core as oc
from oauth2_core.signed_userinfo import userinfo_response_flow, validate_signed_userinfo

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
SERVER = oc.ServerMetadata("https://op.example", jwks_uri="https://op.example/jwks")
CLIENT = oc.Client("app", "secret")
KEY = ec.generate_private_key(ec.SECP256R1())
OTHER = ec.generate_private_key(ec.SECP256R1())


def jwk(key: ec.EllipticCurvePrivateKey, kid: str) -> dict[str, str]:
    data = jwt.get_algorithm_by_name("ES256").to_jwk(key.public_key(), as_dict=True)
    return {**data, "kid": kid, "alg": "ES256"}


JWKS = {"keys": [jwk(KEY, "k1")]}


def signed(
    claims: dict[str, object], key: ec.EllipticCurvePrivateKey = KEY, kid: str = "k1"
) -> str:
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid})


def answer(body: str) -> oc.HttpResponse:
    return oc.HttpResponse(200, {"content-type": "application/jwt"}, body.encode(), T0)


def test_valid_signed_userinfo() -> None:
    info = validate_signed_userinfo(
        signed({"sub": "alice", "iss": SERVER.issuer, "aud": "app", "email": "a@x"}),
        server=SERVER,
        client=CLIENT,
        jwks=JWKS,
        now=T0,
    )
    assert info.sub == "alice"
    assert info.claims["email"] == "a@x"


@pytest.mark.parametrize(
    ("claims", "check"),
    [
        ({"sub": "alice", "iss": "https://evil.example"}, "iss"),
        ({"sub": "alice", "aud": "someone-else"}, "aud"),
        ({"iss": SERVER.issuer}, "sub"),
    ],
)
def test_claim_checks(claims: dict[str, object], check: str) -> None:
    with pytest.raises(oc.IdTokenError) as caught:
        validate_signed_userinfo(signed(claims), server=SERVER, client=CLIENT, jwks=JWKS, now=T0)
    assert caught.value.check == check


def test_wrong_key_is_a_bad_signature() -> None:
    with pytest.raises(oc.IdTokenError) as caught:
        validate_signed_userinfo(
            signed({"sub": "alice"}, key=OTHER), server=SERVER, client=CLIENT, jwks=JWKS, now=T0
        )
    assert caught.value.check == "signature"


def test_encrypted_answers_are_refused_plainly() -> None:
    with pytest.raises(oc.UsageError):
        validate_signed_userinfo("a.b.c.d.e", server=SERVER, client=CLIENT, jwks=JWKS, now=T0)


def test_flow_fetches_the_key_set_once_and_refetches_on_unknown_kid() -> None:
    cache = oc.JwksCache({"keys": [jwk(OTHER, "old")]}, fetched_at=T0 - dt.timedelta(minutes=5))
    flow = userinfo_response_flow(
        answer(signed({"sub": "alice"})), server=SERVER, client=CLIENT, jwks_cache=cache
    )
    send = next(flow)
    assert send.request.url == SERVER.jwks_uri
    jwks = oc.HttpResponse(200, {"content-type": "application/json"}, json.dumps(JWKS), T0)
    with pytest.raises(StopIteration) as done:
        flow.send(jwks)
    assert done.value.value.sub == "alice"
    assert cache.jwks == JWKS


def test_flow_gives_up_after_one_refetch() -> None:
    flow = userinfo_response_flow(
        answer(signed({"sub": "alice"}, kid="nowhere")), server=SERVER, client=CLIENT
    )
    next(flow)
    jwks = oc.HttpResponse(200, {"content-type": "application/json"}, json.dumps(JWKS), T0)
    with pytest.raises(oc.IdTokenError) as caught:
        flow.send(jwks)
    assert caught.value.check == "kid"


def test_json_answers_need_no_request() -> None:
    response = oc.HttpResponse(200, {"content-type": "application/json"}, b'{"sub":"bob"}', T0)
    flow = userinfo_response_flow(response, server=SERVER, client=CLIENT)
    with pytest.raises(StopIteration) as done:
        next(flow)
    assert done.value.value.sub == "bob"


def test_flow_does_not_refetch_a_key_set_younger_than_the_interval() -> None:
    """A burst of answers naming unknown keys costs the server one fetch per interval."""
    cache = oc.JwksCache(JWKS, fetched_at=T0 - dt.timedelta(seconds=10))
    flow = userinfo_response_flow(
        answer(signed({"sub": "alice"}, kid="nowhere")),
        server=SERVER,
        client=CLIENT,
        jwks_cache=cache,
    )
    with pytest.raises(oc.IdTokenError) as caught:
        next(flow)  # nothing sent
    assert caught.value.check == "kid"
