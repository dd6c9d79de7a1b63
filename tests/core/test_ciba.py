"""CIBA poll mode (OpenID Connect CIBA Core 1.0): step pairs, the poll flow, properties."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

import oauth2_core as oc
from oauth2_core.testing import RECEIVED_AT, drive, json_response

T0 = RECEIVED_AT
SERVER = oc.ServerMetadata(
    issuer="https://server.example.com",
    token_endpoint="https://server.example.com/token",
    backchannel_authentication_endpoint="https://server.example.com/bc-authorize",
)
CLIENT = oc.Client("s6BhdRkqt3", "7Fjfp0ZBr1KtDRbnfVdmIw")
# CIBA Core 1.0 §7.4 example acknowledgement.
AUTH_REQ_ID = "1c266114-a1be-4252-8ad1-04986c5b9ac1"
ACK = {"auth_req_id": AUTH_REQ_ID, "expires_in": 120, "interval": 2}


def seconds(n: float) -> dt.timedelta:
    return dt.timedelta(seconds=n)


def error(code: str, *, at: dt.datetime = T0, status: int = 400) -> oc.HttpResponse:
    return json_response(status, {"error": code}, received_at=at)


def token_response(at: dt.datetime = T0) -> oc.HttpResponse:
    data = {"access_token": "at-1", "token_type": "Bearer", "id_token": "x.y.z"}
    return json_response(200, data, received_at=at)


def authentication(
    expires_in: float = 120, interval: float | None = 2
) -> oc.BackchannelAuthentication:
    data: dict[str, object] = {**ACK, "expires_in": expires_in}
    if interval is None:
        del data["interval"]
    else:
        data["interval"] = interval
    return oc.process_backchannel_authentication_response(json_response(200, data))


# --- authentication request / acknowledgement (§7.1, §7.3) ---------------------------


def test_backchannel_authentication_request_ciba_7_1_example() -> None:
    request = oc.backchannel_authentication_request(
        SERVER, CLIENT, scope="openid email", login_hint="alice", binding_message="W4SCT"
    )
    assert request.method == "POST"
    assert request.url == "https://server.example.com/bc-authorize"
    assert request.headers["authorization"].startswith("Basic ")
    assert parse_qsl(request.body.decode()) == [
        ("scope", "openid email"),
        ("login_hint", "alice"),
        ("binding_message", "W4SCT"),
    ]


def test_backchannel_request_optional_members_and_extras() -> None:
    request = oc.backchannel_authentication_request(
        SERVER,
        CLIENT,
        scope=["openid"],
        id_token_hint="eyJ.a.b",
        user_code="1234",
        requested_expiry=300,
        acr_values="urn:acr:strong",
    )
    assert parse_qsl(request.body.decode()) == [
        ("scope", "openid"),
        ("id_token_hint", "eyJ.a.b"),
        ("user_code", "1234"),
        ("requested_expiry", "300"),
        ("acr_values", "urn:acr:strong"),
    ]


@pytest.mark.parametrize(
    "hints",
    [{}, {"login_hint": "a", "id_token_hint": "b"}, {"login_hint": ""}, {"login_hint_token": 3}],
)
def test_exactly_one_hint(hints: dict[str, object]) -> None:
    """§7.1: "one and only one of the hints MUST be provided"."""
    with pytest.raises(oc.UsageError, match="exactly one"):
        oc.backchannel_authentication_request(SERVER, CLIENT, scope="openid", **hints)  # type: ignore[arg-type]


@pytest.mark.parametrize("scope", [None, "", "email", ["profile"]])
def test_openid_scope_is_required(scope: object) -> None:
    with pytest.raises(oc.UsageError, match="openid"):
        oc.backchannel_authentication_request(SERVER, CLIENT, scope=scope, login_hint="a")


@pytest.mark.parametrize("expiry", [0, -1, True, "60", 1.5])
def test_requested_expiry_must_be_a_positive_int(expiry: object) -> None:
    with pytest.raises(oc.UsageError, match="requested_expiry"):
        oc.backchannel_authentication_request(
            SERVER,
            CLIENT,
            scope="openid",
            login_hint="a",
            requested_expiry=expiry,  # type: ignore[arg-type]
        )


def test_backchannel_endpoint_needs_https_and_to_exist() -> None:
    with pytest.raises(oc.UsageError, match="backchannel_authentication_endpoint"):
        oc.backchannel_authentication_request(
            oc.ServerMetadata("https://as"), CLIENT, scope="openid", login_hint="a"
        )
    insecure = oc.ServerMetadata("http://as", backchannel_authentication_endpoint="http://as/bc")
    with pytest.raises(oc.InsecureHttpError):
        oc.backchannel_authentication_request(insecure, CLIENT, scope="openid", login_hint="a")


def test_backchannel_endpoint_is_a_metadata_field() -> None:
    doc = {
        "issuer": "https://as",
        "backchannel_authentication_endpoint": "https://as/bc",
        "backchannel_token_delivery_modes_supported": ["poll", "ping"],
        "backchannel_user_code_parameter_supported": True,
    }
    server = oc.ServerMetadata.from_dict(doc)
    assert server.backchannel_authentication_endpoint == "https://as/bc"
    assert server.backchannel_token_delivery_modes_supported == ("poll", "ping")
    assert server.backchannel_user_code_parameter_supported is True
    assert server.to_dict() == doc
    with pytest.raises(oc.MalformedResponseError) as info:
        oc.ServerMetadata.from_dict({**doc, "backchannel_authentication_endpoint": 1})
    assert info.value.field == "backchannel_authentication_endpoint"


def test_process_acknowledgement_ciba_7_4_example() -> None:
    auth = oc.process_backchannel_authentication_response(json_response(200, ACK))
    assert auth.auth_req_id == AUTH_REQ_ID
    assert auth.expires_at == T0 + seconds(120)
    assert auth.interval == 2.0
    assert auth.issued_at == T0


def test_interval_defaults_to_five_seconds() -> None:
    """§7.3: "If no value is provided, clients MUST use 5 as the default value"."""
    assert authentication(interval=None).interval == 5.0


@pytest.mark.parametrize("member", ["auth_req_id", "expires_in"])
def test_acknowledgement_required_members(member: str) -> None:
    data = {k: v for k, v in ACK.items() if k != member}
    with pytest.raises(oc.MalformedResponseError) as info:
        oc.process_backchannel_authentication_response(json_response(200, data))
    assert info.value.field == member


@pytest.mark.parametrize("code", ["unknown_user_id", "expired_login_hint_token", "access_denied"])
def test_acknowledgement_errors_ciba_13(code: str) -> None:
    with pytest.raises(oc.EndpointError) as info:
        oc.process_backchannel_authentication_response(error(code))
    assert info.value.error == code


def test_auth_req_id_never_in_repr_and_round_trips() -> None:
    auth = oc.process_backchannel_authentication_response(json_response(200, {**ACK, "x": 1}))
    for text in (repr(auth), str(auth)):
        assert AUTH_REQ_ID not in text
        assert "<redacted>" in text
    assert oc.BackchannelAuthentication.from_dict(json.loads(json.dumps(auth.to_dict()))) == auth


@pytest.mark.parametrize(
    "saved",
    [
        {},
        {"auth_req_id": "x"},
        {"auth_req_id": "", "expires_at": "2030-01-01T00:00:00+00:00"},
        {"auth_req_id": "x", "expires_at": "2030-01-01T00:00:00"},
        {"auth_req_id": "x", "expires_at": "2030-01-01T00:00:00+00:00", "interval": "5"},
        {"auth_req_id": "x", "expires_at": "2030-01-01T00:00:00+00:00", "extra": ["x"]},
    ],
)
def test_from_dict_refuses_what_is_not_saved(saved: dict[str, object]) -> None:
    with pytest.raises(oc.UsageError):
        oc.BackchannelAuthentication.from_dict(saved)


# --- polling (§10.1, §11) --------------------------------------------------------------


def test_ciba_grant_request_ciba_10_1() -> None:
    request = oc.ciba_grant_request(SERVER, CLIENT, authentication())
    assert request.url == "https://server.example.com/token"
    assert parse_qsl(request.body.decode()) == [
        ("grant_type", "urn:openid:params:grant-type:ciba"),
        ("auth_req_id", AUTH_REQ_ID),
    ]
    with pytest.raises(oc.UsageError):
        oc.ciba_grant_request(SERVER, CLIENT, AUTH_REQ_ID)  # type: ignore[arg-type]


def test_poll_outcomes_ciba_11() -> None:
    assert oc.process_backchannel_poll_response(error("authorization_pending")) == oc.Pending()
    assert oc.process_backchannel_poll_response(error("slow_down")) == oc.SlowDown()
    assert oc.process_backchannel_poll_response(token_response()).access_token == "at-1"
    with pytest.raises(oc.AccessDeniedError):
        oc.process_backchannel_poll_response(error("access_denied", status=403))
    with pytest.raises(oc.BackchannelExpiredError) as info:
        oc.process_backchannel_poll_response(error("expired_token"))
    assert isinstance(info.value, oc.DeviceCodeExpiredError)  # one except serves both grants
    with pytest.raises(oc.EndpointError) as other:
        oc.process_backchannel_poll_response(error("transaction_failed"))
    assert other.value.error == "transaction_failed"


def test_flow_waits_the_interval_then_returns_the_token() -> None:
    auth = authentication(interval=None)
    t1 = T0 + seconds(5)
    driven = drive(
        oc.backchannel_poll_flow(SERVER, CLIENT, auth),
        [error("authorization_pending", at=t1), token_response(t1 + seconds(5))],
    )
    assert driven.result.access_token == "at-1"
    assert driven.waits == (5.0, 5.0)
    for request in driven.requests:
        assert ("auth_req_id", AUTH_REQ_ID) in parse_qsl(request.body.decode())


def test_flow_slow_down_adds_five_seconds_for_good() -> None:
    auth = authentication(interval=2)
    t = [T0 + seconds(n) for n in (2, 9, 16)]
    driven = drive(
        oc.backchannel_poll_flow(SERVER, CLIENT, auth),
        [
            error("slow_down", at=t[0]),
            error("authorization_pending", at=t[1]),
            token_response(t[2]),
        ],
    )
    assert driven.waits == (2.0, 7.0, 7.0)


def test_flow_stops_before_the_expiry() -> None:
    auth = authentication(expires_in=10, interval=4)
    flow = oc.backchannel_poll_flow(SERVER, CLIENT, auth)
    assert next(flow) == oc.Wait(4.0)
    assert isinstance(flow.send(T0 + seconds(4)), oc.Send)
    assert flow.send(error("authorization_pending", at=T0 + seconds(4))) == oc.Wait(4.0)
    assert isinstance(flow.send(T0 + seconds(8)), oc.Send)
    with pytest.raises(oc.BackchannelExpiredError) as info:
        flow.send(error("authorization_pending", at=T0 + seconds(8)))  # 8 + 4 >= 10: no wait
    assert info.value.status == 400


@pytest.mark.parametrize(
    ("code", "exc_type"),
    [
        ("access_denied", oc.AccessDeniedError),
        ("expired_token", oc.BackchannelExpiredError),
        ("transaction_failed", oc.EndpointError),
    ],
)
def test_flow_ends_on_errors(code: str, exc_type: type[oc.EndpointError]) -> None:
    with pytest.raises(exc_type):
        drive(oc.backchannel_poll_flow(SERVER, CLIENT, authentication()), [error(code)])


def test_flow_honours_retry_after_on_503() -> None:
    auth = authentication(interval=2)
    busy = oc.HttpResponse(503, {"retry-after": "9"}, b"", T0 + seconds(2))
    driven = drive(
        oc.backchannel_poll_flow(SERVER, CLIENT, auth), [busy, token_response(T0 + seconds(11))]
    )
    assert driven.waits == (2.0, 9.0)


def test_flow_with_dpop_proves_every_poll_and_retries_the_nonce_once() -> None:
    pytest.importorskip("jwt")
    key = oc.generate_dpop_key()
    auth = authentication(interval=2)
    nonce = json_response(
        400, {"error": "use_dpop_nonce"}, headers={"dpop-nonce": "n-1"}, received_at=T0 + seconds(2)
    )
    driven = drive(
        oc.backchannel_poll_flow(SERVER, CLIENT, auth, dpop_key=key),
        [nonce, token_response(T0 + seconds(2))],
    )
    assert driven.waits == (2.0,)  # the nonce retry is sent at once: no second wait
    assert all("dpop" in r.headers for r in driven.requests)


# --- properties ------------------------------------------------------------------------

OUTCOMES = st.sampled_from(
    ["authorization_pending", "slow_down", "token", "access_denied", "retry"]
)


@given(
    expires_in=st.integers(min_value=-10, max_value=400),
    interval=st.integers(min_value=0, max_value=60),
    script=st.lists(
        st.tuples(OUTCOMES, st.floats(min_value=0, max_value=30), st.integers(0, 120)),
        max_size=40,
    ),
)
def test_property_ciba_polling(
    expires_in: int, interval: int, script: list[tuple[str, float, int]]
) -> None:
    """CIBA polling: the delay grows by exactly 5 s per slow_down and never shrinks below the
    interval; nothing is sent at or after expiry; the flow ends with a Token, access_denied,
    or expiry."""
    auth = authentication(expires_in=expires_in, interval=interval)
    flow = oc.backchannel_poll_flow(SERVER, CLIENT, auth)
    expected_interval = auth.interval
    expected_delay = expected_interval
    last = T0
    answers = iter(script)
    outcome: object = None
    try:
        step = next(flow)
        while True:
            assert step == oc.Wait(expected_delay)
            assert expected_delay >= expected_interval
            assert last + seconds(expected_delay) < auth.expires_at
            assert isinstance(flow.send(last + seconds(expected_delay)), oc.Send)
            kind, lag, retry_after = next(answers, ("token", 0.0, 0))
            last = last + seconds(expected_delay + lag)
            if kind == "token":
                response = token_response(last)
            elif kind == "retry":
                response = oc.HttpResponse(503, {"retry-after": str(retry_after)}, b"", last)
            else:
                response = error(kind, at=last)
            if kind == "slow_down":
                expected_interval += 5
            expected_delay = (
                max(expected_interval, float(retry_after)) if kind == "retry" else expected_interval
            )
            step = flow.send(response)
    except StopIteration as stop:
        outcome = stop.value
    except oc.EndpointError as exc:
        outcome = exc
    if isinstance(outcome, oc.BackchannelExpiredError):
        return
    if isinstance(outcome, oc.EndpointError):
        assert outcome.error == "access_denied"
    else:
        assert isinstance(outcome, oc.Token)


received_ats = st.datetimes(
    timezones=st.builds(
        dt.timezone,
        st.timedeltas(min_value=-dt.timedelta(hours=23), max_value=dt.timedelta(hours=23)),
    )
)
bodies = st.one_of(
    st.binary(max_size=200),
    st.builds(
        lambda d: json.dumps(d).encode(),
        st.dictionaries(
            st.sampled_from([*ACK, "error", "access_token", "token_type"]),
            st.one_of(st.none(), st.integers(), st.text(max_size=10), st.floats()),
        ),
    ),
)


@given(
    received_at=received_ats,
    status=st.integers(min_value=100, max_value=599),
    body=bodies,
    ctype=st.sampled_from(
        ["application/json", "text/html", "", "application/x-www-form-urlencoded"]
    ),
)
def test_property_processors_are_total(
    received_at: dt.datetime, status: int, body: bytes, ctype: str
) -> None:
    """Every CIBA processor is total: any bytes and status give a value or an OAuth2Error."""
    response = oc.HttpResponse(status, {"content-type": ctype} if ctype else {}, body, received_at)
    for process in (
        oc.process_backchannel_authentication_response,
        oc.process_backchannel_poll_response,
    ):
        with contextlib.suppress(oc.OAuth2Error):
            process(response)
