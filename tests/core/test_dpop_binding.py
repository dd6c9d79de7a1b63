"""Tokens that must be DPoP-bound (RFC 9449 §5; FAPI 2.0 Security Profile §5.3.2.1), scripted.

RFC 9449 §5 lets a server ignore a proof and answer ``token_type: Bearer``. Under
``profile="fapi2"`` (``dpop_binding_required``) or ``require_dpop_binding=True`` the core
flows refuse such an answer with :class:`oauth2_core.TokenBindingError`, naming the type,
before the ID token is checked or anyone sees the token; without it, Bearer stays accepted.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Generator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import oauth2_core as oc

T0 = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
KEY = oc.generate_dpop_key("ES256")
SERVER = oc.ServerMetadata(
    "https://as.example",
    authorization_endpoint="https://as.example/authorize",
    token_endpoint="https://as.example/token",
)
CLIENT = oc.Client("app", "secret", redirect_uri="https://a/cb")
PREVIOUS = oc.Token("at-0", token_type="DPoP", refresh_token="rt-0")


def answer(token_type: str | None, status: int = 200) -> oc.HttpResponse:
    data: dict[str, object] = {"access_token": "at-1", "expires_in": 60, "refresh_token": "rt-1"}
    if token_type is not None:
        data["token_type"] = token_type
    return oc.HttpResponse(
        status, {"content-type": "application/json"}, json.dumps(data).encode(), T0
    )


def run(flow: Generator[Any, Any, Any], response: oc.HttpResponse) -> Any:
    """Answer every request of ``flow`` with ``response`` (every wait with ``T0``); its value."""
    step = next(flow)
    while True:
        try:
            if isinstance(step, oc.Wait):  # the polls' waits: the driver's time
                step = flow.send(T0)
                continue
            assert isinstance(step, oc.Send)
            assert "dpop" in step.request.headers  # every request carries a proof
            step = flow.send(response)
        except StopIteration as done:
            return done.value


def exchange(require: bool) -> Generator[Any, Any, Any]:
    pending = oc.new_pending_authorization(
        CLIENT, state="st-1", redirect_uri="https://a/cb", scope="read"
    )
    return oc.exchange_code_flow(
        SERVER,
        CLIENT,
        pending,
        "https://a/cb?code=c-1&state=st-1",
        now=T0,
        dpop_key=KEY,
        require_dpop_binding=require,
    )


def refresh(require: bool) -> Generator[Any, Any, Any]:
    return oc.refresh_flow(
        SERVER, CLIENT, PREVIOUS, now=T0, dpop_key=KEY, require_dpop_binding=require
    )


def grant(require: bool) -> Generator[Any, Any, Any]:
    return oc.token_grant_flow(
        lambda now: oc.client_credentials_grant_request(SERVER, CLIENT, now=now),
        now=T0,
        dpop_key=KEY,
        require_dpop_binding=require,
    )


DEVICE = oc.DeviceAuthorization(
    "dc-1",
    "WDJB-MJHT",
    "https://as.example/activate",
    expires_at=T0 + dt.timedelta(minutes=10),
    interval=5,
    issued_at=T0 - dt.timedelta(seconds=5),
)
CIBA = oc.BackchannelAuthentication(
    "rid-1",
    expires_at=T0 + dt.timedelta(minutes=10),
    interval=5,
    issued_at=T0 - dt.timedelta(seconds=5),
)


def device_poll(require: bool) -> Generator[Any, Any, Any]:
    """RFC 8628 §3.4 polling: the same loop as CIBA (``oauth2_core.polling.poll_flow``)."""
    return oc.device_poll_flow(SERVER, CLIENT, DEVICE, dpop_key=KEY, require_dpop_binding=require)


def ciba_poll(require: bool) -> Generator[Any, Any, Any]:
    return oc.backchannel_poll_flow(
        SERVER, CLIENT, CIBA, dpop_key=KEY, require_dpop_binding=require
    )


def ciba_token(require: bool) -> Generator[Any, Any, Any]:
    """What ``OAuth2Client.poll_backchannel`` runs (the ID token check after the poll)."""
    return oc.backchannel_token_flow(
        SERVER, CLIENT, CIBA, dpop_key=KEY, require_dpop_binding=require
    )


FLOWS = {
    "code exchange": exchange,
    "refresh": refresh,
    "token grant": grant,
    "device poll": device_poll,
    "ciba poll": ciba_poll,
    "ciba token": ciba_token,
}


@pytest.mark.parametrize("name", FLOWS)
def test_a_bearer_answer_is_refused_when_binding_is_required(name: str) -> None:
    with pytest.raises(oc.TokenBindingError) as caught:
        run(FLOWS[name](True), answer("Bearer"))
    assert isinstance(caught.value, oc.ResponseError)
    assert caught.value.token_type == "Bearer" and "'Bearer'" in str(caught.value)
    assert caught.value.status == 200
    assert "at-1" not in str(caught.value) and "rt-1" not in str(caught.value)


@pytest.mark.parametrize("name", FLOWS)
def test_a_dpop_answer_passes_in_any_spelling(name: str) -> None:
    for spelling in ("DPoP", "dpop", "DPOP"):
        assert run(FLOWS[name](True), answer(spelling)).access_token == "at-1"


@pytest.mark.parametrize("name", FLOWS)
def test_without_the_requirement_a_bearer_answer_stays_accepted(name: str) -> None:
    """RFC 9449 §5: "the authorization server MAY [...] issue a Bearer token"."""
    assert run(FLOWS[name](False), answer("Bearer")).token_type == "Bearer"


def test_a_missing_or_unknown_token_type_is_refused_too() -> None:
    for token_type in ("mac", "N_A", "\x1b[31mBearer"):
        with pytest.raises(oc.TokenBindingError) as caught:
            run(grant(True), answer(token_type))
        assert "\x1b" not in str(caught.value)


def test_the_refusal_comes_before_the_id_token_is_looked_at() -> None:
    """A bad ID token would be an IdTokenError; the unbound token is refused first."""
    pending = oc.new_pending_authorization(
        CLIENT, state="st-1", redirect_uri="https://a/cb", scope="openid"
    )
    flow = oc.exchange_code_flow(
        SERVER,
        CLIENT,
        pending,
        "https://a/cb?code=c-1&state=st-1",
        now=T0,
        dpop_key=KEY,
        require_dpop_binding=True,
        validate_id_token=False,
    )
    data = {"access_token": "at-1", "token_type": "Bearer", "id_token": "not.a.jwt"}
    response = oc.HttpResponse(
        200, {"content-type": "application/json"}, json.dumps(data).encode(), T0
    )
    with pytest.raises(oc.TokenBindingError):
        run(flow, response)


def test_requiring_binding_without_a_key_is_a_usage_error() -> None:
    with pytest.raises(oc.UsageError, match="dpop_key"):
        next(oc.refresh_flow(SERVER, CLIENT, PREVIOUS, now=T0, require_dpop_binding=True))
    with pytest.raises(oc.UsageError, match="dpop_key"):
        oc.dpop_binding_required(profile=None, dpop_key=None, require_dpop_binding=True)


@pytest.mark.parametrize(
    "poll",
    [
        lambda: oc.device_poll_flow(SERVER, CLIENT, DEVICE, require_dpop_binding=True),
        lambda: oc.backchannel_token_flow(SERVER, CLIENT, CIBA, require_dpop_binding=True),
    ],
    ids=["device", "ciba"],
)
def test_requiring_binding_on_a_poll_without_a_key_fails_before_any_wait(
    poll: Any,
) -> None:
    with pytest.raises(oc.UsageError, match="dpop_key"):
        next(poll())


def test_a_pending_poll_is_not_refused_only_the_token_is() -> None:
    """authorization_pending is the user's pace, not a binding question: the poll goes on."""
    flow = device_poll(True)
    step = next(flow)
    assert isinstance(step, oc.Wait)
    step = flow.send(T0)
    assert isinstance(step, oc.Send)
    pending = oc.HttpResponse(
        400,
        {"content-type": "application/json"},
        json.dumps({"error": "authorization_pending"}).encode(),
        T0,
    )
    step = flow.send(pending)
    assert isinstance(step, oc.Wait)
    assert isinstance(flow.send(T0 + dt.timedelta(seconds=5)), oc.Send)
    with pytest.raises(oc.TokenBindingError):
        flow.send(answer("Bearer"))


def test_fapi2_with_a_dpop_key_requires_binding_and_nothing_else_does() -> None:
    required = oc.dpop_binding_required
    assert required(profile="fapi2", dpop_key=KEY) is True
    assert required(profile="fapi2", dpop_key=None) is False  # mTLS binds instead
    assert required(profile=None, dpop_key=KEY) is False  # RFC 9449 §5 allows Bearer
    assert required(profile=None, dpop_key=KEY, require_dpop_binding=True) is True


@given(st.text(max_size=60))
def test_property_check_dpop_binding_passes_dpop_only(token_type: str) -> None:
    """Any token_type: DPoP (any case) passes unchanged, everything else is TokenBindingError."""
    token = oc.Token("at", token_type=token_type or "Bearer")
    if token.token_type.lower() == "dpop":
        assert oc.check_dpop_binding(token) is token
    else:
        with pytest.raises(oc.TokenBindingError) as caught:
            oc.check_dpop_binding(token)
        assert len(caught.value.token_type) <= 40
