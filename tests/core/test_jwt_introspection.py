"""Signed introspection answers (RFC 9701): verified, and never downgraded to plain JSON."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any
from urllib.parse import parse_qsl

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

import oauth2_core as oc
from oauth2_core import testing as scripted
from oauth2_core.testing import json_response

ISSUER = "https://as.example.com/"
SERVER = oc.ServerMetadata(
    ISSUER,
    introspection_endpoint="https://as.example.com/introspect",
    jwks_uri="https://as.example.com/jwks",
)
# RFC 9701 §5's example: the resource server is the client, named by its URL.
CLIENT = oc.Client("https://rs.example.com/resource", "rs-secret")
IAT = 1514797892
NOW = dt.datetime.fromtimestamp(IAT + 5, dt.timezone.utc)
KEY = ec.generate_private_key(ec.SECP256R1())
OTHER = ec.generate_private_key(ec.SECP256R1())
MEDIA = "application/token-introspection+jwt"


def jwk(key: ec.EllipticCurvePrivateKey, kid: str) -> dict[str, str]:
    data = jwt.get_algorithm_by_name("ES256").to_jwk(key.public_key(), as_dict=True)
    return {**data, "kid": kid, "alg": "ES256"}


JWKS = {"keys": [jwk(KEY, "k1")]}
# RFC 9701 §5 example (the response's claims).
EXAMPLE: dict[str, Any] = {
    "iss": ISSUER,
    "aud": "https://rs.example.com/resource",
    "iat": IAT,
    "token_introspection": {
        "active": True,
        "iss": ISSUER,
        "aud": "https://rs.example.com/resource",
        "iat": 1514797822,
        "exp": 1514797942,
        "client_id": "paiB2goo0a",
        "scope": "read",
        "sub": "Z5O3upPC88QrAjx00dis",
        "birthdate": "1982-02-01",
        "given_name": "John",
        "family_name": "Doe",
        "jti": "t1FoCCaZd4Xv4ORJUWVUeTZfsKhW30CQCrWDDjwXy6w",
    },
}


def signed(
    claims: dict[str, Any],
    *,
    key: Any = KEY,
    kid: str = "k1",
    typ: str | None = "token-introspection+jwt",
) -> str:
    headers: dict[str, Any] = {"kid": kid}
    if typ is not None:
        headers["typ"] = typ
    return jwt.encode(claims, key, algorithm="ES256", headers=headers)


def answer(body: str | bytes, content_type: str = MEDIA, status: int = 200) -> oc.HttpResponse:
    raw = body.encode() if isinstance(body, str) else body
    return oc.HttpResponse(status, {"content-type": content_type}, raw, NOW)


def process(response: oc.HttpResponse, **kwargs: Any) -> oc.Introspection:
    options: dict[str, Any] = {"server": SERVER, "client": CLIENT, "jwks": JWKS}
    options.update(kwargs)
    return oc.process_jwt_introspection_response(response, **options)


def test_request_asks_for_a_signed_answer() -> None:
    request = oc.jwt_introspection_request(
        SERVER, CLIENT, "mF_9.B5f-4.1JqM", token_type_hint="access_token"
    )
    assert request.headers["accept"] == MEDIA
    assert request.url == "https://as.example.com/introspect"
    assert parse_qsl(request.body.decode()) == [
        ("token", "mF_9.B5f-4.1JqM"),
        ("token_type_hint", "access_token"),
    ]
    assert request.headers["authorization"].startswith("Basic ")


def test_rfc_9701_section_5_example() -> None:
    info = process(answer(signed(EXAMPLE)))
    assert info.active is True
    assert info.scope == ("read",)
    assert info.client_id == "paiB2goo0a"
    assert info.sub == "Z5O3upPC88QrAjx00dis"
    assert info.exp == dt.datetime.fromtimestamp(1514797942, dt.timezone.utc)
    assert info.extra["given_name"] == "John"


def test_inactive_token() -> None:
    info = process(answer(signed({**EXAMPLE, "token_introspection": {"active": False}})))
    assert info.active is False and info.scope is None


@pytest.mark.parametrize("content_type", ["application/json", "application/jwt", ""])
def test_a_plain_answer_is_refused_no_silent_downgrade(content_type: str) -> None:
    body = (
        '{"active": true, "scope": "read"}'
        if content_type != "application/jwt"
        else signed(EXAMPLE)
    )
    with pytest.raises(oc.MalformedResponseError, match="RFC 9701"):
        process(answer(body, content_type))


def test_an_error_status_is_the_endpoint_error() -> None:
    with pytest.raises(oc.EndpointError) as caught:
        process(answer('{"error": "invalid_client"}', "application/json", status=401))
    assert caught.value.error == "invalid_client"


@pytest.mark.parametrize(
    ("token", "check"),
    [
        (signed(EXAMPLE, typ=None), "typ"),
        (signed(EXAMPLE, typ="JWT"), "typ"),
        (signed({**EXAMPLE, "iss": "https://evil.example/"}), "iss"),
        (signed({**EXAMPLE, "aud": "someone-else"}), "aud"),
        (signed({k: v for k, v in EXAMPLE.items() if k != "iat"}), "iat"),
        (signed({**EXAMPLE, "iat": IAT + 3600}), "iat"),
        (signed({**EXAMPLE, "exp": IAT - 100}), "exp"),
        (signed({k: v for k, v in EXAMPLE.items() if k != "token_introspection"}),
         "token_introspection"),
        (signed({**EXAMPLE, "token_introspection": "active"}), "token_introspection"),
        (signed(EXAMPLE, key=OTHER), "signature"),
        (signed(EXAMPLE, kid="unknown"), "kid"),
        (jwt.encode(EXAMPLE, None, algorithm="none", headers={"typ": "token-introspection+jwt"}),
         "alg"),
    ],
)  # fmt: skip
def test_every_check_of_rfc_9701_section_5(token: str, check: str) -> None:
    with pytest.raises(oc.IdTokenError) as caught:
        process(answer(token))
    assert caught.value.check == check


def test_full_media_type_as_typ_is_accepted() -> None:
    assert process(answer(signed(EXAMPLE, typ=MEDIA))).active


def test_alg_outside_the_advertised_list_is_refused() -> None:
    server = oc.ServerMetadata(
        ISSUER, introspection_signing_alg_values_supported=["PS256"], jwks_uri=SERVER.jwks_uri
    )
    with pytest.raises(oc.IdTokenError) as caught:
        process(answer(signed(EXAMPLE)), server=server)
    assert caught.value.check == "alg"


def test_inner_members_are_checked_like_plain_introspection() -> None:
    bad = {**EXAMPLE, "token_introspection": {"active": "yes"}}
    with pytest.raises(oc.MalformedResponseError) as caught:
        process(answer(signed(bad)))
    assert caught.value.field == "active"


# --- the flow -------------------------------------------------------------------------------


def drive(flow: Any, answers: list[oc.HttpResponse]) -> tuple[Any, list[oc.HttpRequest]]:
    sent: list[oc.HttpRequest] = []
    try:
        step = next(flow)
        while True:
            sent.append(step.request)
            step = flow.send(answers.pop(0))
    except StopIteration as done:
        return done.value, sent


def test_flow_fetches_the_key_set_when_needed() -> None:
    cache = oc.JwksCache()
    request = oc.jwt_introspection_request(SERVER, CLIENT, "tok")
    flow = oc.jwt_introspection_flow(request, server=SERVER, client=CLIENT, jwks_cache=cache)
    info, sent = drive(flow, [answer(signed(EXAMPLE)), json_response(200, JWKS, received_at=NOW)])
    assert info.active
    assert [r.url for r in sent] == [SERVER.introspection_endpoint, SERVER.jwks_uri]
    # The next answer is verified with the cached keys: one request only.
    flow = oc.jwt_introspection_flow(request, server=SERVER, client=CLIENT, jwks_cache=cache)
    assert len(drive(flow, [answer(signed(EXAMPLE))])[1]) == 1


def test_flow_refetches_once_on_unknown_kid_and_not_within_the_interval() -> None:
    """After key rotation: one fetch of the set; then a made-up kid inside the interval: none."""
    request = oc.jwt_introspection_request(SERVER, CLIENT, "tok")
    cache = oc.JwksCache(
        {"keys": [jwk(OTHER, "old")]},
        fetched_at=NOW - dt.timedelta(seconds=60),
        min_refetch_interval=30,
    )

    def flow() -> Any:
        return oc.jwt_introspection_flow(request, server=SERVER, client=CLIENT, jwks_cache=cache)

    driven = scripted.drive(
        flow(), [answer(signed(EXAMPLE)), json_response(200, JWKS, received_at=NOW)]
    )
    assert driven.result.active
    assert [r.url for r in driven.requests] == [SERVER.introspection_endpoint, SERVER.jwks_uri]
    with pytest.raises(oc.IdTokenError) as info:
        # Only the introspection answer is scripted: a JWK set fetch would fail drive().
        scripted.drive(flow(), [answer(signed(EXAMPLE, kid="made-up"))])
    assert info.value.check == "kid"


def test_flow_refetches_at_most_once_for_a_kid_still_unknown() -> None:
    request = oc.jwt_introspection_request(SERVER, CLIENT, "tok")
    cache = oc.JwksCache(JWKS, min_refetch_interval=0)
    flow: Any = oc.jwt_introspection_flow(request, server=SERVER, client=CLIENT, jwks_cache=cache)
    with pytest.raises(oc.IdTokenError) as info:
        scripted.drive(
            flow,
            [answer(signed(EXAMPLE, kid="made-up")), json_response(200, JWKS, received_at=NOW)],
        )
    assert info.value.check == "kid"


def test_flow_refuses_a_plain_answer_without_fetching_keys() -> None:
    request = oc.jwt_introspection_request(SERVER, CLIENT, "tok")
    flow = oc.jwt_introspection_flow(request, server=SERVER, client=CLIENT)
    with pytest.raises(oc.MalformedResponseError):
        drive(flow, [answer('{"active": true}', "application/json")])


# --- properties -----------------------------------------------------------------------------


@given(scope=st.text(alphabet="abcdefgh :", max_size=30), sub=st.text(min_size=1, max_size=30))
def test_signed_answers_round_trip(scope: str, sub: str) -> None:
    """Round trip: what the server signs into token_introspection is what comes out."""
    inner = {"active": True, "scope": scope, "sub": sub}
    info = process(answer(signed({**EXAMPLE, "token_introspection": inner})))
    assert info.sub == sub
    assert info.scope == tuple(scope.split())


@given(
    body=st.binary(max_size=400),
    status=st.sampled_from([200, 201, 400, 401, 500]),
    content_type=st.sampled_from([MEDIA, "application/json", "application/jwt", ""]),
)
def test_any_bytes_end_in_a_value_or_an_oauth2_error(
    body: bytes, status: int, content_type: str
) -> None:
    """Totality: any answer ends in an Introspection or an OAuth2Error."""
    with contextlib.suppress(oc.OAuth2Error):
        process(answer(body, content_type, status))
