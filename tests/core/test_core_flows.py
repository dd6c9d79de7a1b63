"""The core flows that hold the protocol decisions (issue 13), driven by hand.

``exchange_code_flow`` (ID token validated), ``authorization_url_flow`` (PAR when
asked or required, ``dpop_jkt``), ``token_grant_flow`` (DPoP, nonce per origin,
retries dated by their ``Wait``), ``dpop_send_flow`` (the one nonce retry) and
``DPoPNonces``. No transport: the test plays the driver with scripted
``HttpResponse`` values and answers ``Wait`` with a time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Generator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_jose_id_token import CLIENT, JWKS, NONCE, SERVER, T0, mint

import oauth2_core as oc

KEY = oc.generate_dpop_key("ES256")
TOKEN = {"access_token": "at-1", "token_type": "DPoP", "expires_in": 60}
NONCE_ERROR = {"error": "use_dpop_nonce", "error_description": "nonce required"}
T1 = T0 + dt.timedelta(seconds=1)


def answer(status: int, data: object, at: dt.datetime = T1, **headers: str) -> oc.HttpResponse:
    fields = {"content-type": "application/json", **headers}
    return oc.HttpResponse(status, fields, json.dumps(data).encode(), at)


def proof(send: oc.Send | oc.Wait) -> dict[str, Any]:
    """The claims of the request's DPoP proof, verified with the key in its header."""
    assert isinstance(send, oc.Send)
    value = send.request.headers["dpop"]
    header = jwt.get_unverified_header(value)
    public = jwt.PyJWK(header["jwk"], algorithm=header["alg"])
    claims: dict[str, Any] = jwt.decode(
        value, public, algorithms=[header["alg"]], options={"verify_iat": False}
    )
    return claims


def finish(flow: Generator[Any, Any, Any], value: object) -> Any:
    with pytest.raises(StopIteration) as done:
        flow.send(value)
    return done.value.value


# --- exchange_code_flow ------------------------------------------------------------------------


def pending_and_callback(scope: str = "openid") -> tuple[oc.PendingAuthorization, str]:
    pending = oc.new_pending_authorization(
        CLIENT, state="st-1", nonce=NONCE, redirect_uri="https://a/cb", scope=scope
    )
    return pending, "https://a/cb?code=c-1&state=st-1"


def test_exchange_code_flow_validates_the_id_token_before_returning() -> None:
    """OIDC Core §3.1.3.7 in the one core call: the claims are on the token."""
    pending, callback = pending_and_callback()
    cache = oc.JwksCache(JWKS, fetched_at=T0)
    flow = oc.exchange_code_flow(SERVER, CLIENT, pending, callback, now=T0, jwks_cache=cache)
    step = next(flow)
    assert isinstance(step, oc.Send) and step.request.url == SERVER.token_endpoint
    body = {"access_token": "at-1", "token_type": "Bearer", "id_token": mint()}
    token = finish(flow, answer(200, body, at=T0))
    assert token.id_token_claims is not None
    assert token.id_token_claims.sub == "248289761001"


def test_exchange_code_flow_refuses_a_bad_id_token() -> None:
    pending, callback = pending_and_callback()
    cache = oc.JwksCache(JWKS, fetched_at=T0)
    flow = oc.exchange_code_flow(SERVER, CLIENT, pending, callback, now=T0, jwks_cache=cache)
    next(flow)
    with pytest.raises(oc.IdTokenError):
        flow.send(answer(200, {"access_token": "a", "id_token": mint(nonce="other")}, at=T0))


def test_exchange_code_flow_requires_an_id_token_when_openid_was_asked() -> None:
    pending, callback = pending_and_callback()
    flow = oc.exchange_code_flow(SERVER, CLIENT, pending, callback, now=T0)
    next(flow)
    with pytest.raises(oc.MalformedResponseError) as info:
        flow.send(answer(200, {"access_token": "a", "token_type": "Bearer"}, at=T0))
    assert info.value.field == "id_token"


def test_exchange_code_flow_opt_out_and_plain_oauth() -> None:
    pending, callback = pending_and_callback()
    flow = oc.exchange_code_flow(SERVER, CLIENT, pending, callback, now=T0, validate_id_token=False)
    next(flow)
    token = finish(flow, answer(200, {"access_token": "a", "id_token": "not.a.jwt"}, at=T0))
    assert token.id_token_claims is None
    pending, callback = pending_and_callback(scope="read")
    flow = oc.exchange_code_flow(SERVER, CLIENT, pending, callback, now=T0)
    next(flow)
    assert finish(flow, answer(200, {"access_token": "a"}, at=T0)).access_token == "a"


def test_exchange_code_flow_checks_the_callback_before_sending() -> None:
    pending, _ = pending_and_callback()
    with pytest.raises(oc.CallbackValidationError):
        next(oc.exchange_code_flow(SERVER, CLIENT, pending, "https://a/cb?code=c&state=x", now=T0))


def test_exchange_code_flow_with_dpop_answers_the_nonce_challenge_once() -> None:
    pending, callback = pending_and_callback(scope="read")
    nonces = oc.DPoPNonces()
    flow = oc.exchange_code_flow(
        SERVER, CLIENT, pending, callback, now=T0, dpop_key=KEY, dpop_nonces=nonces
    )
    first = next(flow)
    assert "nonce" not in proof(first)
    second = flow.send(answer(400, NONCE_ERROR, **{"dpop-nonce": "n1"}))
    assert proof(second)["nonce"] == "n1"
    assert proof(second)["iat"] == int(T1.timestamp())  # dated by the challenge's received_at
    token = finish(flow, answer(200, TOKEN, **{"dpop-nonce": "n2"}))
    assert token.token_type == "DPoP"
    assert nonces.get(SERVER.token_endpoint) == "n2"


# --- authorization_url_flow --------------------------------------------------------------------

PAR_SERVER = oc.ServerMetadata(
    "https://as.example",
    authorization_endpoint="https://as.example/authorize",
    token_endpoint="https://as.example/token",
    pushed_authorization_request_endpoint="https://as.example/par",
)


def test_authorization_url_flow_without_par_sends_nothing() -> None:
    pending = oc.new_pending_authorization(CLIENT, redirect_uri="https://a/cb")
    url = finish_first(oc.authorization_url_flow(PAR_SERVER, CLIENT, pending, scope="read"))
    assert url.startswith("https://as.example/authorize?")
    assert "request_uri" not in url


def finish_first(flow: oc.Flow[str]) -> str:
    with pytest.raises(StopIteration) as done:
        next(flow)
    result: str = done.value.value
    return result


@pytest.mark.parametrize("required", [True, False])
def test_authorization_url_flow_pushes_when_required_or_asked(required: bool) -> None:
    """RFC 9126 §5: a server that requires PAR gets it without asking; par=True asks."""
    server = PAR_SERVER.updated({"require_pushed_authorization_requests": True})
    pending = oc.new_pending_authorization(CLIENT, redirect_uri="https://a/cb")
    flow = (
        oc.authorization_url_flow(server, CLIENT, pending, scope="read")
        if required
        else oc.authorization_url_flow(PAR_SERVER, CLIENT, pending, scope="read", par=True)
    )
    step = next(flow)
    assert step.request.url == "https://as.example/par"
    url = finish(flow, answer(201, {"request_uri": "urn:r:1", "expires_in": 60}))
    query = parse_qs(urlsplit(url).query)
    assert query == {"client_id": ["app"], "request_uri": ["urn:r:1"]}


def test_authorization_url_flow_par_false_overrides_the_server() -> None:
    server = PAR_SERVER.updated({"require_pushed_authorization_requests": True})
    pending = oc.new_pending_authorization(CLIENT, redirect_uri="https://a/cb")
    url = finish_first(oc.authorization_url_flow(server, CLIENT, pending, par=False))
    assert "request_uri" not in url


def test_authorization_url_flow_binds_the_code_to_the_dpop_key() -> None:
    """RFC 9449 §10: dpop_jkt is the key's thumbprint, unless given."""
    pending = oc.new_pending_authorization(CLIENT, redirect_uri="https://a/cb")
    url = finish_first(oc.authorization_url_flow(PAR_SERVER, CLIENT, pending, dpop_key=KEY))
    assert parse_qs(urlsplit(url).query)["dpop_jkt"] == [oc.dpop_jkt(KEY)]
    url = finish_first(
        oc.authorization_url_flow(PAR_SERVER, CLIENT, pending, dpop_key=KEY, dpop_jkt="mine")
    )
    assert parse_qs(urlsplit(url).query)["dpop_jkt"] == ["mine"]


# --- token_grant_flow --------------------------------------------------------------------------


def build(now: dt.datetime) -> oc.HttpRequest:
    return oc.client_credentials_grant_request(SERVER, CLIENT, now=now)


def test_token_grant_flow_retries_after_a_wait_and_dates_the_proof_by_it() -> None:
    """The backoff is a Wait; the next attempt's proof carries the time it answers."""
    flow = oc.token_grant_flow(
        build, now=T0, dpop_key=KEY, retry=oc.RetryPolicy(initial_delay=3.0, jitter=0)
    )
    assert proof(next(flow))["iat"] == int(T0.timestamp())
    wait = flow.send(answer(503, {"error": "temporarily_unavailable"}))
    assert wait == oc.Wait(3.0)
    later = T0 + dt.timedelta(seconds=40)
    step = flow.send(later)
    assert isinstance(step, oc.Send) and step.delay == 0.0
    assert proof(step)["iat"] == int(later.timestamp())
    assert finish(flow, answer(200, TOKEN, at=later)).access_token == "at-1"


def test_token_grant_flow_without_dpop_sends_the_plain_request() -> None:
    flow = oc.token_grant_flow(build, now=T0)
    step = next(flow)
    assert isinstance(step, oc.Send) and "dpop" not in step.request.headers
    assert finish(flow, answer(200, {"access_token": "a"})).token_type == "Bearer"


def test_token_grant_flow_keeps_the_previous_refresh_token() -> None:
    previous = oc.Token("old", refresh_token="rt-1")
    flow = oc.token_grant_flow(
        lambda now: oc.refresh_token_grant_request(SERVER, CLIENT, previous, now=now),
        now=T0,
        previous=previous,
    )
    next(flow)
    assert finish(flow, answer(200, {"access_token": "new"})).refresh_token == "rt-1"


def test_token_grant_flow_needs_an_aware_now() -> None:
    with pytest.raises(oc.UsageError):
        next(oc.token_grant_flow(build, now=dt.datetime(2026, 1, 1)))


# --- dpop_send_flow and DPoPNonces -------------------------------------------------------------


def test_dpop_send_flow_does_not_resend_the_nonce_just_refused() -> None:
    """A challenge naming the nonce the proof already carried is returned, not looped on."""
    flow = oc.dpop_send_flow(build(T0), KEY, now=T0, nonce="n1")
    assert proof(next(flow))["nonce"] == "n1"
    refused = answer(400, NONCE_ERROR, **{"dpop-nonce": "n1"})
    response, nonce = finish(flow, refused)
    assert response is refused and nonce == "n1"


def test_dpop_send_flow_retries_once_then_returns_the_answer() -> None:
    flow = oc.dpop_send_flow(build, KEY, now=T0)
    next(flow)
    flow.send(answer(400, NONCE_ERROR, **{"dpop-nonce": "n1"}))
    second = answer(400, NONCE_ERROR, **{"dpop-nonce": "n2"})
    response, nonce = finish(flow, second)
    assert response is second and nonce == "n2"


def test_dpop_send_flow_resource_request_carries_the_token_and_its_hash() -> None:
    token = oc.Token("at-1", token_type="DPoP")
    request = oc.HttpRequest("GET", "https://rs.example/api?x=1")
    nonces = oc.DPoPNonces()
    nonces.set("https://rs.example/", "rs-1")
    nonces.set("https://as.example/", "as-1")
    flow = oc.dpop_send_flow(request, KEY, now=T0, nonces=nonces, access_token=token)
    step = next(flow)
    assert isinstance(step, oc.Send)
    assert step.request.headers["authorization"] == "DPoP at-1"
    claims = proof(step)
    assert claims["nonce"] == "rs-1"  # the resource server's, never the AS's
    assert claims["htu"] == "https://rs.example/api" and "ath" in claims
    challenge = oc.HttpResponse(
        401,
        {"www-authenticate": 'DPoP error="use_dpop_nonce"', "dpop-nonce": "rs-2"},
        b"",
        T1,
    )
    assert proof(flow.send(challenge))["nonce"] == "rs-2"
    finish(flow, oc.HttpResponse(200, {}, b"{}", T1))
    assert nonces.get("https://rs.example:443/other") == "rs-2"
    assert nonces.get("https://as.example") == "as-1"


def test_nonces_are_per_origin_with_default_ports() -> None:
    nonces = oc.DPoPNonces()
    assert nonces.remember("https://as.example/token", ["old", "n1"]) == "n1"
    assert nonces.get("https://AS.example:443/x?y") == "n1"
    assert nonces.get("http://as.example/") is None  # another scheme, another origin
    assert nonces.get("https://as.example:8443/") is None
    assert nonces.remember("https://as.example/", ['bad"nonce']) is None
    assert nonces.get("https://as.example/") == "n1"  # an invalid value changes nothing
    assert nonces.get("not a url") is None
    assert "n1" not in repr(nonces) and "as.example" in repr(nonces)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["https://a.example", "https://a.example:443", "https://b.example"]),
            st.text(min_size=0, max_size=8),
        ),
        max_size=12,
    )
)
def test_property_nonces_keep_the_last_valid_value_of_each_origin(
    answers: list[tuple[str, str]],
) -> None:
    """Whatever the answers, each origin holds the last valid nonce it handed out."""
    nonces = oc.DPoPNonces()
    expected: dict[str, str] = {}
    for url, value in answers:
        nonces.remember(url + "/path", [value])
        origin = url.replace(":443", "")
        kept = value.strip()
        if kept and all("\x21" <= c <= "\x7e" and c not in '"\\' for c in kept):
            expected[origin] = kept
    for origin in ("https://a.example", "https://b.example"):
        assert nonces.get(origin + "/") == expected.get(origin)


# --- Wait ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [-1, float("nan"), float("inf"), True, "1"])
def test_wait_refuses_a_bad_duration(seconds: object) -> None:
    with pytest.raises(oc.UsageError):
        oc.Wait(seconds)  # type: ignore[arg-type]


def test_wait_flow_returns_the_drivers_answer() -> None:
    flow = oc.wait_flow(2.5)
    assert next(flow) == oc.Wait(2.5)
    assert finish(flow, T1) == T1
