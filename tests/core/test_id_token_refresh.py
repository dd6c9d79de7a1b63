"""ID tokens that come back with a refresh (OpenID Connect Core §12.2), scripted.

The original ID token is validated as after a code exchange; the refresh answer
then carries a second, really signed one that differs in one claim.
"""

from __future__ import annotations

import datetime as dt
import json

import attrs
import jwt
import pytest
from test_jose_id_token import (
    CLIENT,
    JWKS,
    NONCE,
    NOW,
    OTHER_RSA,
    RSA_KEY,
    SERVER,
    T0,
    jwks_response,
    mint,
    validate,
)

import oauth2_core as oc

SUB = "248289761001"


def original() -> oc.Token:
    """A token after a code exchange: its ID token validated, claims attached."""
    id_token = mint(auth_time=NOW - 600, iat=NOW - 300)
    return oc.Token(
        "at-1",
        refresh_token="rt-1",
        id_token=id_token,
        expires_at=T0,
        id_token_claims=validate(id_token),
    )


def refresh_answer(id_token: str | None, **members: object) -> oc.HttpResponse:
    body: dict[str, object] = {"access_token": "at-2", "token_type": "Bearer", "expires_in": 60}
    if id_token is not None:
        body["id_token"] = id_token
    body.update(members)
    return oc.HttpResponse(200, {"content-type": "application/json"}, json.dumps(body), T0)


def refresh(previous: oc.Token, *answers: oc.HttpResponse, cache: object = None) -> oc.Token:
    """Drive ``oc.refresh_flow`` with scripted answers (the JWK set fetched when asked)."""
    flow = oc.refresh_flow(
        SERVER,
        CLIENT,
        previous,
        now=T0,
        jwks_cache=cache if cache is not None else oc.JwksCache(JWKS, fetched_at=T0),
    )
    pending = list(answers)
    next(flow)
    try:
        while True:
            flow.send(pending.pop(0))
    except StopIteration as stop:
        result: oc.Token = stop.value
        return result


def rejected(id_token: str) -> str:
    previous = original()
    saved = previous.to_dict()
    with pytest.raises(oc.IdTokenError) as info:
        refresh(previous, refresh_answer(id_token))
    assert isinstance(info.value, oc.ResponseError)
    assert id_token not in str(info.value)
    # Nothing replaced the previous token: it is whole, claims included.
    assert previous.to_dict() == saved and previous.id_token_claims is not None
    return info.value.check


# --- accepted -----------------------------------------------------------------------------


def test_a_refreshed_id_token_is_validated_and_its_claims_attached() -> None:
    new = refresh(original(), refresh_answer(mint(auth_time=NOW - 600, nonce=None)))
    assert new.access_token == "at-2"
    assert new.id_token_claims is not None
    assert new.id_token_claims["sub"] == SUB
    assert isinstance(new.id_token_claims, oc.IdTokenClaims)
    assert new.id_token_claims.iat == T0 - dt.timedelta(seconds=10)


def test_a_nonce_equal_to_the_originals_is_accepted() -> None:
    """§12.2 (errata 2): SHOULD NOT be present; if present, MUST be the original's."""
    new = refresh(original(), refresh_answer(mint(auth_time=NOW - 600)))
    assert new.id_token_claims is not None and new.id_token_claims["nonce"] == NONCE


def test_no_id_token_in_the_answer_keeps_the_previous_one_and_its_claims() -> None:
    previous = original()
    new = refresh(previous, refresh_answer(None))
    assert new.access_token == "at-2"
    assert new.id_token == previous.id_token
    assert new.id_token_claims is previous.id_token_claims
    assert new.refresh_token == "rt-1"


def test_process_refresh_response_keeps_the_previous_id_token() -> None:
    """The pure step, as USAGE.md calls it: a core-only user keeps the claims too."""
    previous = original()
    new = oc.process_refresh_response(refresh_answer(None), previous=previous)
    assert new.id_token == previous.id_token
    assert new.id_token_claims == previous.id_token_claims
    fresh = oc.process_refresh_response(refresh_answer(mint()), previous=previous)
    assert fresh.id_token != previous.id_token
    assert fresh.id_token_claims is None  # new and not yet validated: never the old claims


def test_the_jwk_set_is_fetched_when_not_cached() -> None:
    flow = oc.refresh_flow(SERVER, CLIENT, original(), now=T0)
    assert next(flow).request.url == SERVER.token_endpoint
    send = flow.send(refresh_answer(mint(auth_time=NOW - 600)))
    assert send.request.url == SERVER.jwks_uri
    with pytest.raises(StopIteration) as done:
        flow.send(jwks_response(JWKS["keys"]))
    new = done.value.value
    assert new.id_token_claims["sub"] == SUB


def test_a_token_restored_from_storage_is_compared_by_its_id_token() -> None:
    """to_dict drops the derived claims; the stored ID token still fixes sub and iss."""
    restored = oc.Token.from_dict(original().to_dict())
    assert restored.id_token_claims is None
    with pytest.raises(oc.IdTokenError) as info:
        refresh(restored, refresh_answer(mint(sub="someone-else")))
    assert info.value.check == "sub"
    assert refresh(restored, refresh_answer(mint(auth_time=NOW - 600))).id_token_claims


def test_without_a_previous_id_token_the_first_checks_still_run() -> None:
    plain = oc.Token("at-1", refresh_token="rt-1")
    assert refresh(plain, refresh_answer(mint())).id_token_claims is not None
    with pytest.raises(oc.IdTokenError) as info:
        refresh(plain, refresh_answer(mint(key=OTHER_RSA)))
    assert info.value.check == "signature"


def test_validation_can_be_turned_off_explicitly() -> None:
    flow = oc.refresh_flow(SERVER, CLIENT, original(), now=T0, validate_id_token=False)
    next(flow)
    with pytest.raises(StopIteration) as done:
        flow.send(refresh_answer(mint(sub="someone-else")))
    assert done.value.value.id_token_claims is None


# --- rejected: §3.1.3.7 and §12.2 -------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "check"),
    [
        ({"sub": "someone-else"}, "sub"),
        ({"iss": "https://evil.example"}, "iss"),
        ({"aud": ["app", "api"], "azp": "app"}, "aud"),
        ({"azp": "app"}, "azp"),  # the original had no azp: MUST NOT appear
        ({"auth_time": NOW - 5}, "auth_time"),  # MUST stay the original authentication's
        ({"nonce": "another-nonce"}, "nonce"),
        ({"iat": NOW - 3600}, "iat"),  # older than the original
        ({"exp": NOW - 3600}, "exp"),
        ({"nbf": NOW + 3600}, "nbf"),
        ({"aud": "other"}, "aud"),
    ],
)
def test_a_refreshed_id_token_that_differs_is_rejected(
    changes: dict[str, object], check: str
) -> None:
    changes = {"auth_time": NOW - 600, **changes}
    assert rejected(mint(**changes)) == check


def test_a_refreshed_id_token_with_a_bad_signature_is_rejected() -> None:
    assert rejected(mint(key=OTHER_RSA, auth_time=NOW - 600)) == "signature"
    good = mint(auth_time=NOW - 600)
    head, _, signature = good.split(".")
    other_sub = jwt.utils.base64url_encode(
        json.dumps({**jwt.decode(good, options={"verify_signature": False}), "sub": "x"}).encode()
    ).decode()
    assert rejected(f"{head}.{other_sub}.{signature}") == "signature"


def test_a_refreshed_id_token_with_a_critical_extension_is_rejected() -> None:
    token = jwt.encode(
        {**jwt.decode(mint(auth_time=NOW - 600), options={"verify_signature": False})},
        RSA_KEY,
        algorithm="RS256",
        headers={"kid": "rsa-1", "crit": ["ext"], "ext": 1},
    )
    assert rejected(token) == "crit"


def test_the_pure_check_matches_the_flow() -> None:
    previous = original()
    claims = oc.validate_refreshed_id_token(
        mint(auth_time=NOW - 600),
        previous=previous,
        server=SERVER,
        client=CLIENT,
        jwks=JWKS,
        now=T0,
    )
    assert claims.sub == SUB
    with pytest.raises(oc.IdTokenError) as info:
        oc.validate_refreshed_id_token(
            mint(sub="x"), previous=previous, server=SERVER, client=CLIENT, jwks=JWKS, now=T0
        )
    assert info.value.check == "sub"


def test_dpop_refresh_keeps_the_previous_id_token() -> None:
    """``dpop_token_flow(previous=...)`` goes through process_refresh_response too."""
    key = oc.generate_dpop_key()
    previous = attrs.evolve(original(), token_type="DPoP")
    request = oc.refresh_token_grant_request(SERVER, CLIENT, previous)
    flow = oc.dpop_token_flow(request, key, now=T0, previous=previous)
    next(flow)
    with pytest.raises(StopIteration) as done:
        flow.send(refresh_answer(None, token_type="DPoP"))
    token, _ = done.value.value
    assert token.id_token == previous.id_token
    assert token.id_token_claims is previous.id_token_claims


def test_an_unchanged_id_token_is_not_validated_again() -> None:
    """No new ID token (omitted, or resent verbatim): the previous one and its claims stay,
    even when it has expired since; a refresh that brought nothing new cannot fail on it."""
    stale_id_token = mint(exp=NOW - 3600, iat=NOW - 7200)
    restored = oc.Token("at-1", refresh_token="rt-1", id_token=stale_id_token)
    for answer in (refresh_answer(None), refresh_answer(stale_id_token)):
        new = refresh(restored, answer)
        assert new.id_token == stale_id_token and new.id_token_claims is None
    previous = original()
    again = refresh(previous, refresh_answer(previous.id_token))
    assert again.id_token_claims is previous.id_token_claims
