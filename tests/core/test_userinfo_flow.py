"""``userinfo_flow``: the UserInfo call with the §5.3.2 sub check decided in the core.

OpenID Connect Core §5.3.2: "The sub Claim in the UserInfo Response MUST be
verified to exactly match the sub Claim in the ID Token; if they do not match,
the UserInfo Response values MUST NOT be used." Scripted answers, JSON and
signed, Bearer and DPoP tokens.
"""

from __future__ import annotations

import json

import attrs
import jwt
import pytest
from test_jose_id_token import CLIENT, EC_KEY, JWKS, T0, mint, validate
from test_jose_id_token import SERVER as ID_SERVER

import oauth2_core as oc

SERVER = attrs.evolve(ID_SERVER, userinfo_endpoint="https://op.example.com/userinfo")
SUB = "248289761001"


def with_id_token(token_type: str = "Bearer", **changes: object) -> oc.Token:
    id_token = mint(**changes)
    return oc.Token(
        "at", token_type=token_type, id_token=id_token, id_token_claims=validate(id_token)
    )


def json_answer(data: object) -> oc.HttpResponse:
    return oc.HttpResponse(200, {"content-type": "application/json"}, json.dumps(data), T0)


def json_sub(sub: str) -> oc.HttpResponse:
    return json_answer({"sub": sub, "email": "alice@example.com"})


def signed_answer(sub: str | None) -> oc.HttpResponse:
    payload = {"iss": SERVER.issuer, "aud": "app"} | ({"sub": sub} if sub is not None else {})
    body = jwt.encode(payload, EC_KEY, algorithm="ES256", headers={"kid": "ec-1"})
    return oc.HttpResponse(200, {"content-type": "application/jwt"}, body.encode(), T0)


def run(token: oc.Token, answer: oc.HttpResponse, **kw: object) -> oc.UserInfo:
    flow = oc.userinfo_flow(
        SERVER, CLIENT, token, now=T0, jwks_cache=oc.JwksCache(JWKS, fetched_at=T0), **kw
    )
    request = next(flow).request
    assert request.url == SERVER.userinfo_endpoint
    try:
        flow.send(answer)
    except StopIteration as stop:
        result: oc.UserInfo = stop.value
        return result
    raise AssertionError("the flow sent a second request")


@pytest.mark.parametrize("answer", [json_sub, signed_answer], ids=["json", "signed"])
def test_the_same_sub_is_accepted(answer: object) -> None:
    assert run(with_id_token(), answer(SUB)).sub == SUB  # type: ignore[operator]


@pytest.mark.parametrize("answer", [json_sub, signed_answer], ids=["json", "signed"])
def test_another_users_claims_are_refused(answer: object) -> None:
    with pytest.raises(oc.MalformedResponseError) as info:
        run(with_id_token(), answer("someone-else"))  # type: ignore[operator]
    assert info.value.field == "sub"
    assert isinstance(info.value, oc.ResponseError)


def test_an_answer_without_sub_is_refused() -> None:
    with pytest.raises(oc.MalformedResponseError) as info:
        run(with_id_token(), json_answer({"email": "a@x"}))
    assert info.value.field == "sub"
    with pytest.raises(oc.IdTokenError) as signed:
        run(with_id_token(), signed_answer(None))
    assert signed.value.check == "sub"


def test_a_dpop_token_is_sent_with_a_proof_and_checked_the_same() -> None:
    key = oc.generate_dpop_key()
    token = with_id_token("DPoP")
    flow = oc.userinfo_flow(SERVER, CLIENT, token, now=T0, dpop_key=key)
    request = next(flow).request
    assert request.headers["authorization"] == "DPoP at"
    assert "dpop" in request.headers
    with pytest.raises(oc.MalformedResponseError) as info:
        flow.send(json_answer({"sub": "someone-else"}))
    assert info.value.field == "sub"
    with pytest.raises(oc.UsageError, match="dpop_key"):
        next(oc.userinfo_flow(SERVER, CLIENT, token, now=T0))


def test_a_token_restored_from_storage_is_compared_by_its_id_token() -> None:
    restored = oc.Token.from_dict(with_id_token().to_dict())
    assert restored.id_token_claims is None
    with pytest.raises(oc.MalformedResponseError):
        run(restored, json_answer({"sub": "someone-else"}))
    assert run(restored, json_answer({"sub": SUB})).sub == SUB


def test_a_token_without_id_token_has_nothing_to_compare() -> None:
    assert run(oc.Token("at"), json_answer({"sub": "whoever"})).sub == "whoever"
