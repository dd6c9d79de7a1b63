"""Device authorization grant (RFC 8628): step pairs, the polling flow, properties."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st
from poll_steps import first_poll, reply

import oauth2_core as oc
from oauth2_core.device import MIN_INTERVAL
from oauth2_core.testing import RECEIVED_AT, json_response

T0 = RECEIVED_AT  # the scripted answers arrive then


SERVER = oc.ServerMetadata(
    issuer="https://server.example.com",
    token_endpoint="https://server.example.com/token",
    device_authorization_endpoint="https://server.example.com/device_authorization",
)
PUBLIC = oc.Client("1406020730", auth_method="none")
CONFIDENTIAL = oc.Client("app", "s3cr3t")
# RFC 8628 §3.2 example response.
RFC_DEVICE_CODE = "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS"
RFC_RESPONSE = {
    "device_code": RFC_DEVICE_CODE,
    "user_code": "WDJB-MJHT",
    "verification_uri": "https://example.com/device",
    "verification_uri_complete": "https://example.com/device?user_code=WDJB-MJHT",
    "expires_in": 1800,
    "interval": 5,
}


def error(code: str, *, at: dt.datetime = T0, status: int = 400) -> oc.HttpResponse:
    return json_response(status, {"error": code}, received_at=at)


def token_response(at: dt.datetime = T0) -> oc.HttpResponse:
    return json_response(200, {"access_token": "at-1", "token_type": "Bearer"}, received_at=at)


def authorization(expires_in: float = 1800, interval: float = 5) -> oc.DeviceAuthorization:
    data = {**RFC_RESPONSE, "expires_in": expires_in, "interval": interval}
    return oc.process_device_authorization_response(json_response(200, data))


def seconds(n: float) -> dt.timedelta:
    return dt.timedelta(seconds=n)


# --- device authorization request / response (§3.1, §3.2) -------------------------------


def test_device_authorization_request_rfc_8628_3_1_example() -> None:
    request = oc.device_authorization_request(SERVER, PUBLIC, scope="example_scope")
    assert request.method == "POST"
    assert request.url == "https://server.example.com/device_authorization"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert sorted(parse_qsl(request.body.decode())) == sorted(
        [("client_id", "1406020730"), ("scope", "example_scope")]
    )


def test_device_authorization_request_authenticates_like_any_endpoint() -> None:
    request = oc.device_authorization_request(SERVER, CONFIDENTIAL, resource=["urn:a", "urn:b"])
    assert request.headers["authorization"].startswith("Basic ")
    assert parse_qsl(request.body.decode()) == [("resource", "urn:a"), ("resource", "urn:b")]


def test_device_authorization_request_needs_the_endpoint_over_https() -> None:
    with pytest.raises(oc.UsageError, match="device_authorization_endpoint"):
        oc.device_authorization_request(oc.ServerMetadata("https://as"), PUBLIC)
    insecure = oc.ServerMetadata("http://as", device_authorization_endpoint="http://as/device")
    with pytest.raises(oc.UsageError, match="plain http"):
        oc.device_authorization_request(insecure, PUBLIC)


def test_process_device_authorization_rfc_8628_3_2_example() -> None:
    auth = oc.process_device_authorization_response(json_response(200, RFC_RESPONSE))
    assert auth.device_code == RFC_DEVICE_CODE
    assert auth.user_code == "WDJB-MJHT"
    assert auth.verification_uri == "https://example.com/device"
    assert auth.verification_uri_complete == "https://example.com/device?user_code=WDJB-MJHT"
    assert auth.expires_at == T0 + seconds(1800)
    assert auth.interval == 5.0
    assert auth.issued_at == T0
    assert dict(auth.extra) == {}


def test_interval_defaults_to_five_seconds() -> None:
    """RFC 8628 §3.2: "If no value is provided, clients MUST use 5 as the default"."""
    data = {k: v for k, v in RFC_RESPONSE.items() if k != "interval"}
    assert oc.process_device_authorization_response(json_response(200, data)).interval == 5.0


def test_tiny_interval_is_raised_to_the_minimum() -> None:
    assert authorization(interval=0).interval == MIN_INTERVAL


def test_expires_in_is_required() -> None:
    data = {k: v for k, v in RFC_RESPONSE.items() if k != "expires_in"}
    with pytest.raises(oc.MalformedResponseError) as info:
        oc.process_device_authorization_response(json_response(200, data))
    assert info.value.field == "expires_in"


def test_expires_in_as_numeric_string_is_accepted() -> None:
    data = {**RFC_RESPONSE, "expires_in": "600"}
    auth = oc.process_device_authorization_response(json_response(200, data))
    assert auth.expires_at == T0 + seconds(600)


@pytest.mark.parametrize("member", ["device_code", "user_code", "verification_uri"])
def test_required_members(member: str) -> None:
    data = {k: v for k, v in RFC_RESPONSE.items() if k != member}
    with pytest.raises(oc.MalformedResponseError) as info:
        oc.process_device_authorization_response(json_response(200, data))
    assert info.value.field == member


@pytest.mark.parametrize(("member", "value"), [("interval", "soon"), ("expires_in", "NaN")])
def test_bad_numbers_name_the_member(member: str, value: object) -> None:
    data = {**RFC_RESPONSE, member: value}
    with pytest.raises(oc.MalformedResponseError) as info:
        oc.process_device_authorization_response(json_response(200, data))
    assert info.value.field == member


def test_quirk_google_verification_url() -> None:
    """Google's device endpoint answers ``verification_url``, an early draft's name."""
    data = {
        "device_code": "AH-1Ng3",
        "user_code": "GQVQ-JKEC",
        "verification_url": "https://www.google.com/device",
        "expires_in": 1800,
        "interval": 5,
    }
    auth = oc.process_device_authorization_response(json_response(200, data))
    assert auth.verification_uri == "https://www.google.com/device"
    assert "verification_url" not in auth.extra


def test_device_authorization_error_object() -> None:
    with pytest.raises(oc.EndpointError) as info:
        oc.process_device_authorization_response(error("invalid_client", status=401))
    assert info.value.error == "invalid_client"
    assert info.value.status == 401


def test_device_authorization_html_says_what_arrived() -> None:
    response = oc.HttpResponse(200, {"content-type": "text/html"}, b"<html>hi</html>", T0)
    with pytest.raises(oc.MalformedResponseError, match="text/html"):
        oc.process_device_authorization_response(response)


def test_unknown_members_are_kept() -> None:
    auth = oc.process_device_authorization_response(
        json_response(200, {**RFC_RESPONSE, "message": "Go to ..."})
    )
    assert auth.extra["message"] == "Go to ..."


@pytest.mark.parametrize(
    "received_at",
    [
        dt.datetime.max.replace(tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        dt.datetime.min.replace(tzinfo=dt.timezone(dt.timedelta(hours=5))),
    ],
)
def test_received_at_at_the_ends_of_the_calendar(received_at: dt.datetime) -> None:
    """expires_at is clamped to the calendar instead of overflowing; polling then stops."""
    response = oc.HttpResponse(
        200, {"content-type": "application/json"}, json.dumps(RFC_RESPONSE), received_at
    )
    auth = oc.process_device_authorization_response(response)
    assert auth.expires_at.utcoffset() == dt.timedelta(0)
    flow = oc.device_poll_flow(SERVER, PUBLIC, auth)
    try:
        step = next(flow)
    except oc.DeviceCodeExpiredError:
        return
    assert step == oc.Wait(5.0)
    flow.close()


def test_round_trip_and_redaction() -> None:
    auth = oc.process_device_authorization_response(json_response(200, {**RFC_RESPONSE, "x": [1]}))
    assert oc.DeviceAuthorization.from_dict(json.loads(json.dumps(auth.to_dict()))) == auth
    assert RFC_DEVICE_CODE not in repr(auth)
    assert RFC_DEVICE_CODE not in str(auth)
    assert "WDJB-MJHT" in repr(auth)  # the user code is meant to be shown


@pytest.mark.parametrize(
    "saved",
    [
        {},
        {"device_code": "d", "user_code": "u", "verification_uri": "v"},
        {"device_code": "d", "user_code": "u", "verification_uri": "v", "expires_at": "x"},
        {
            "device_code": "d",
            "user_code": "u",
            "verification_uri": "v",
            "expires_at": "2026-01-01T00:00:00",
        },
        {
            "device_code": "d",
            "user_code": "u",
            "verification_uri": "v",
            "expires_at": "2026-01-01T00:00:00+00:00",
            "interval": "5",
        },
    ],
)
def test_from_dict_refuses_what_is_not_a_saved_authorization(saved: dict[str, object]) -> None:
    with pytest.raises(oc.UsageError):
        oc.DeviceAuthorization.from_dict(saved)


@pytest.mark.parametrize("interval", ["5", -1, float("nan"), True, None])
def test_bad_interval_by_hand_is_a_usage_error(interval: object) -> None:
    with pytest.raises(oc.UsageError):
        oc.DeviceAuthorization("d", "u", "https://v", expires_at=T0, interval=interval)  # type: ignore[arg-type]


def test_naive_expires_at_is_a_usage_error() -> None:
    with pytest.raises(oc.UsageError):
        oc.DeviceAuthorization("d", "u", "https://v", expires_at=dt.datetime(2026, 1, 1))


# --- polling (§3.4, §3.5) -----------------------------------------------------------------


def test_device_code_grant_request_rfc_8628_3_4_example() -> None:
    request = oc.device_code_grant_request(SERVER, PUBLIC, authorization())
    assert request.url == "https://server.example.com/token"
    assert request.body == (
        b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"
        b"&device_code=GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS"
        b"&client_id=1406020730"
    )
    assert oc.DEVICE_CODE_GRANT_TYPE == "urn:ietf:params:oauth:grant-type:device_code"
    assert RFC_DEVICE_CODE not in repr(request)


def test_device_code_grant_request_needs_a_device_authorization() -> None:
    with pytest.raises(oc.UsageError):
        oc.device_code_grant_request(SERVER, PUBLIC, RFC_DEVICE_CODE)  # type: ignore[arg-type]
    with pytest.raises(oc.UsageError):
        next(oc.device_poll_flow(SERVER, PUBLIC, RFC_DEVICE_CODE))  # type: ignore[arg-type]


def test_poll_outcomes_rfc_8628_3_5() -> None:
    assert oc.process_device_poll_response(error("authorization_pending")) == oc.Pending()
    assert oc.process_device_poll_response(error("slow_down")) == oc.SlowDown()
    assert oc.SlowDown().increment == 5.0
    token = oc.process_device_poll_response(token_response())
    assert isinstance(token, oc.Token)
    assert token.access_token == "at-1"


def test_pending_is_recognised_at_any_status() -> None:
    """An error object is an error at any status (some servers answer 200)."""
    assert oc.process_device_poll_response(error("authorization_pending", status=200)) == (
        oc.Pending()
    )


def test_access_denied_is_its_own_error() -> None:
    with pytest.raises(oc.AccessDeniedError) as info:
        oc.process_device_poll_response(error("access_denied"))
    assert isinstance(info.value, oc.EndpointError)
    assert info.value.error == "access_denied"
    assert info.value.status == 400


def test_expired_token_is_its_own_error() -> None:
    response = json_response(
        400, {"error": "expired_token", "error_description": "too late", "error_uri": "https://e"}
    )
    with pytest.raises(oc.DeviceCodeExpiredError) as info:
        oc.process_device_poll_response(response)
    assert info.value.error == "expired_token"
    assert info.value.error_description == "too late"
    assert info.value.error_uri == "https://e"
    assert info.value.status == 400
    assert info.value.reauthorize


def test_other_errors_are_endpoint_errors() -> None:
    with pytest.raises(oc.EndpointError) as info:
        oc.process_device_poll_response(error("invalid_client", status=401))
    assert type(info.value) is oc.EndpointError
    assert info.value.error == "invalid_client"


def drive(
    flow: oc.Flow[oc.Token], answers: list[tuple[str, float]]
) -> tuple[list[oc.Send], oc.Token | BaseException]:
    """Run ``flow``, answering each poll; each answer arrives at last time + delay + lag."""
    sends: list[oc.Send] = []
    now = T0
    try:
        step = first_poll(flow, T0)
        for kind, lag in answers:
            sends.append(step)
            now = now + seconds(step.delay + lag)
            response = token_response(now) if kind == "token" else error(kind, at=now)
            step = reply(flow, response)
        raise AssertionError("flow asked for more answers than scripted")
    except StopIteration as stop:
        return sends, stop.value
    except oc.OAuth2Error as exc:
        return sends, exc


def test_flow_waits_the_interval_and_returns_the_token() -> None:
    flow = oc.device_poll_flow(SERVER, PUBLIC, authorization())
    sends, result = drive(
        flow, [("authorization_pending", 0), ("authorization_pending", 0), ("token", 0)]
    )
    assert [s.delay for s in sends] == [5.0, 5.0, 5.0]
    assert all(s.request.url == SERVER.token_endpoint for s in sends)
    assert isinstance(result, oc.Token)


def test_flow_slow_down_adds_five_seconds_for_good() -> None:
    flow = oc.device_poll_flow(SERVER, PUBLIC, authorization())
    answers = [
        ("slow_down", 0),
        ("authorization_pending", 0),
        ("slow_down", 0),
        ("authorization_pending", 0),
        ("token", 0),
    ]
    sends, result = drive(flow, answers)
    assert [s.delay for s in sends] == [5.0, 10.0, 10.0, 15.0, 15.0]
    assert isinstance(result, oc.Token)


def test_flow_stops_before_the_deadline() -> None:
    """No poll is sent at or after expires_at; the flow raises DeviceCodeExpiredError."""
    flow = oc.device_poll_flow(SERVER, PUBLIC, authorization(expires_in=12))
    sends, result = drive(flow, [("authorization_pending", 0), ("authorization_pending", 0)])
    assert [s.delay for s in sends] == [5.0, 5.0]
    assert isinstance(result, oc.DeviceCodeExpiredError)
    assert result.status == 400
    assert result.error == "expired_token"
    assert str(result) == "device code expired before the user approved"


def test_flow_deadline_is_exclusive() -> None:
    """A poll that would land exactly at expires_at is not sent."""
    flow = oc.device_poll_flow(SERVER, PUBLIC, authorization(expires_in=10))
    sends, result = drive(flow, [("authorization_pending", 0)])
    assert len(sends) == 1
    assert isinstance(result, oc.DeviceCodeExpiredError)


def test_flow_gives_up_before_the_first_poll_when_it_cannot_be_in_time() -> None:
    flow = oc.device_poll_flow(SERVER, PUBLIC, authorization(expires_in=3))
    with pytest.raises(oc.DeviceCodeExpiredError) as info:
        first_poll(flow, T0)
    assert info.value.status is None


def test_flow_without_issued_at_polls_once_then_checks() -> None:
    auth = oc.DeviceAuthorization("d", "u", "https://v", expires_at=T0 + seconds(7), interval=5)
    flow = oc.device_poll_flow(SERVER, PUBLIC, auth)
    sends, result = drive(flow, [("authorization_pending", 0)])
    assert len(sends) == 1
    assert isinstance(result, oc.DeviceCodeExpiredError)


@pytest.mark.parametrize(
    ("code", "exc_type"),
    [
        ("access_denied", oc.AccessDeniedError),
        ("expired_token", oc.DeviceCodeExpiredError),
        ("invalid_grant", oc.EndpointError),
    ],
)
def test_flow_ends_on_errors(code: str, exc_type: type[oc.EndpointError]) -> None:
    flow = oc.device_poll_flow(SERVER, PUBLIC, authorization())
    _, result = drive(flow, [("authorization_pending", 0), (code, 0)])
    assert isinstance(result, exc_type)
    assert isinstance(result, oc.EndpointError)
    assert result.error == code


def test_flow_honours_retry_after_on_503() -> None:
    """A 503 with Retry-After delays the next poll; the interval itself is unchanged."""
    flow = oc.device_poll_flow(SERVER, PUBLIC, authorization())
    first = first_poll(flow, T0)
    at = T0 + seconds(first.delay)
    unavailable = oc.HttpResponse(503, {"retry-after": "30"}, b"", at)
    second = reply(flow, unavailable)
    assert second.delay == 30.0
    at += seconds(30)
    third = reply(flow, error("authorization_pending", at=at))
    assert third.delay == 5.0
    with pytest.raises(StopIteration) as stop:
        reply(flow, token_response(at + seconds(5)))
    assert isinstance(stop.value.value, oc.Token)


def test_flow_short_retry_after_still_waits_the_interval() -> None:
    flow = oc.device_poll_flow(SERVER, PUBLIC, authorization())
    first_poll(flow, T0)
    step = reply(flow, oc.HttpResponse(429, {"retry-after": "1"}, b"", T0 + seconds(5)))
    assert step.delay == 5.0


def test_flow_503_without_retry_after_is_an_error() -> None:
    flow = oc.device_poll_flow(SERVER, PUBLIC, authorization())
    first_poll(flow, T0)
    with pytest.raises(oc.EndpointError) as info:
        reply(flow, oc.HttpResponse(503, {}, b"", T0 + seconds(5)))
    assert info.value.status == 503


def test_flow_builds_a_fresh_request_each_poll() -> None:
    flow = oc.device_poll_flow(SERVER, CONFIDENTIAL, authorization(), foo="bar")
    first = first_poll(flow, T0)
    second = reply(flow, error("authorization_pending", at=T0 + seconds(5)))
    assert first.request == second.request
    assert ("foo", "bar") in parse_qsl(first.request.body.decode())


# --- properties ----------------------------------------------------------------------------

OUTCOMES = st.sampled_from(
    ["authorization_pending", "slow_down", "token", "access_denied", "retry", "other"]
)


@given(
    expires_in=st.integers(min_value=-10, max_value=400),
    interval=st.integers(min_value=0, max_value=60),
    script=st.lists(
        st.tuples(OUTCOMES, st.floats(min_value=0, max_value=30), st.integers(0, 120)),
        max_size=40,
    ),
)
def test_property_device_polling(
    expires_in: int, interval: int, script: list[tuple[str, float, int]]
) -> None:
    """Device polling: the delay grows by exactly 5 s per slow_down and never shrinks
    (a Retry-After only lengthens one wait); nothing is sent at or after the deadline;
    the flow ends with a Token, an EndpointError, or expiry."""
    auth = authorization(expires_in=expires_in, interval=interval)
    flow = oc.device_poll_flow(SERVER, PUBLIC, auth)
    expected_interval = auth.interval
    expected_delay = expected_interval
    last = T0
    answers = iter(script)
    outcome: object = None
    try:
        step = first_poll(flow, T0)
        while True:
            assert step.delay == expected_delay
            assert step.delay >= expected_interval
            assert last + seconds(step.delay) < auth.expires_at
            kind, lag, retry_after = next(answers, ("token", 0.0, 0))
            last = last + seconds(step.delay + lag)
            if kind == "token":
                response = token_response(last)
            elif kind == "retry":
                response = oc.HttpResponse(503, {"retry-after": str(retry_after)}, b"", last)
            elif kind == "other":
                response = oc.HttpResponse(502, {"content-type": "text/html"}, b"<p>", last)
            else:
                response = error(kind, at=last)
            if kind == "slow_down":
                expected_interval += 5
            expected_delay = (
                max(expected_interval, float(retry_after)) if kind == "retry" else expected_interval
            )
            step = reply(flow, response)
    except StopIteration as stop:
        outcome = stop.value
    except oc.EndpointError as exc:
        outcome = exc
    if isinstance(outcome, oc.EndpointError) and not isinstance(outcome, oc.DeviceCodeExpiredError):
        assert outcome.error == "access_denied" or outcome.status == 502
    else:
        assert isinstance(outcome, (oc.Token, oc.DeviceCodeExpiredError))


statuses = st.integers(min_value=100, max_value=599)
bodies = st.one_of(
    st.binary(max_size=200),
    st.builds(
        lambda d: json.dumps(d).encode(),
        st.dictionaries(
            st.sampled_from(
                [*RFC_RESPONSE, "error", "access_token", "token_type", "verification_url"]
            ),
            st.one_of(st.none(), st.integers(), st.text(max_size=10), st.floats()),
        ),
    ),
)
ctypes = st.sampled_from(["application/json", "text/html", "", "application/x-www-form-urlencoded"])


# Any instant, in any fixed offset: the ends of the calendar must not overflow.
received_ats = st.datetimes(
    timezones=st.builds(
        dt.timezone,
        st.timedeltas(min_value=-dt.timedelta(hours=23), max_value=dt.timedelta(hours=23)),
    )
)


@given(received_at=received_ats, status=statuses, body=bodies, ctype=ctypes)
def test_property_processors_are_total(
    received_at: dt.datetime, status: int, body: bytes, ctype: str
) -> None:
    """Every processor is total: any bytes and status give a value or an OAuth2Error."""
    response = oc.HttpResponse(status, {"content-type": ctype} if ctype else {}, body, received_at)
    for process in (oc.process_device_authorization_response, oc.process_device_poll_response):
        with contextlib.suppress(oc.OAuth2Error):
            process(response)
