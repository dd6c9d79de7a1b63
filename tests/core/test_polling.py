"""The one poll loop (``oauth2_core.polling``): the device grant and CIBA wait alike.

RFC 8628 §3.4/§3.5 and CIBA Core 1.0 §7.3/§10.1/§11 poll the token endpoint by the
same rules; both flows run ``poll_flow``. Every test runs the same script against
both grants through ``oauth2_core.testing.drive`` (which answers each ``Wait`` and
records its seconds) and checks the waits, the requests and the outcome.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

import oauth2_core as oc
from oauth2_core.testing import RECEIVED_AT, Driven, drive, json_response

T0 = RECEIVED_AT
SERVER = oc.ServerMetadata(
    issuer="https://as.example.com",
    token_endpoint="https://as.example.com/token",
    device_authorization_endpoint="https://as.example.com/device",
    backchannel_authentication_endpoint="https://as.example.com/bc-authorize",
)
CLIENT = oc.Client("app", "s3cr3t")
TOKEN = {"access_token": "at-1", "token_type": "Bearer", "expires_in": 60}

Start = Callable[..., oc.TimedFlow[oc.Token]]


def device(
    *, interval: float | None = None, expires_in: float = 600, **kwargs: object
) -> oc.TimedFlow[oc.Token]:
    auth = oc.DeviceAuthorization(
        "dc-1",
        "WDJB-MJHT",
        "https://as.example.com/activate",
        expires_at=T0 + dt.timedelta(seconds=expires_in),
        interval=5 if interval is None else interval,
        issued_at=T0,
    )
    return oc.device_poll_flow(SERVER, kwargs.pop("client", CLIENT), auth, **kwargs)  # type: ignore[arg-type]


def ciba(
    *, interval: float | None = None, expires_in: float = 600, **kwargs: object
) -> oc.TimedFlow[oc.Token]:
    auth = oc.BackchannelAuthentication(
        "rid-1",
        expires_at=T0 + dt.timedelta(seconds=expires_in),
        interval=5 if interval is None else interval,
        issued_at=T0,
    )
    return oc.backchannel_poll_flow(SERVER, kwargs.pop("client", CLIENT), auth, **kwargs)  # type: ignore[arg-type]


GRANTS = pytest.mark.parametrize("start", [device, ciba], ids=["device", "ciba"])


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def error(code: str, seconds: float, *, status: int = 400, **headers: str) -> oc.HttpResponse:
    return json_response(status, {"error": code}, headers=headers, received_at=at(seconds))


def token(seconds: float) -> oc.HttpResponse:
    return json_response(200, TOKEN, received_at=at(seconds))


@GRANTS
def test_waits_the_interval_before_every_poll(start: Start) -> None:
    driven = drive(start(), [error("authorization_pending", 5), token(10)])
    assert driven.waits == (5.0, 5.0)
    assert [s.delay for s in driven.sends] == [0.0, 0.0]  # the Wait steps wait, not Send
    assert driven.result.access_token == "at-1"


@GRANTS
def test_slow_down_adds_five_seconds_for_good(start: Start) -> None:
    script = [error("slow_down", 5), error("authorization_pending", 15), error("slow_down", 25)]
    driven = drive(start(), [*script, error("authorization_pending", 40), token(55)])
    assert driven.waits == (5.0, 10.0, 10.0, 15.0, 15.0)


@GRANTS
def test_retry_after_lengthens_one_wait_only(start: Start) -> None:
    busy = oc.HttpResponse(503, {"retry-after": "30"}, b"", at(5))
    driven = drive(start(), [busy, error("authorization_pending", 35), token(40)])
    assert driven.waits == (5.0, 30.0, 5.0)


@GRANTS
def test_no_poll_at_or_after_expiry_and_no_wait_for_nothing(start: Start) -> None:
    flow = start(expires_in=9)
    assert next(flow) == oc.Wait(5.0)
    assert isinstance(flow.send(at(5)), oc.Send)
    with pytest.raises(oc.DeviceCodeExpiredError) as info:
        flow.send(error("authorization_pending", 5))  # 5 + 5 >= 9: raised before any Wait
    assert info.value.error == "expired_token"
    assert info.value.status == 400  # the last answer's


@GRANTS
def test_the_driver_clock_past_expiry_stops_the_poll(start: Start) -> None:
    """A driver that slept longer than asked: the poll is not sent after expiry."""
    flow = start(expires_in=8)
    assert next(flow) == oc.Wait(5.0)
    with pytest.raises(oc.DeviceCodeExpiredError):
        flow.send(at(9))


@GRANTS
@pytest.mark.parametrize(
    ("code", "exc_type"),
    [("access_denied", oc.AccessDeniedError), ("invalid_grant", oc.EndpointError)],
)
def test_a_decision_ends_the_polling(
    start: Start, code: str, exc_type: type[oc.EndpointError]
) -> None:
    with pytest.raises(exc_type) as info:
        drive(start(), [error(code, 5)])
    assert info.value.error == code


def test_expired_token_is_the_grants_own_error() -> None:
    with pytest.raises(oc.DeviceCodeExpiredError) as dev:
        drive(device(), [error("expired_token", 5)])
    assert not isinstance(dev.value, oc.BackchannelExpiredError)
    with pytest.raises(oc.BackchannelExpiredError):
        drive(ciba(), [error("expired_token", 5)])


def _form(driven: Driven[oc.Token], index: int) -> dict[str, str]:
    return dict(parse_qsl(driven.requests[index].body.decode()))


@GRANTS
def test_dpop_nonce_retry_is_sent_at_once_and_the_nonce_is_kept(start: Start) -> None:
    jwt = pytest.importorskip("jwt")
    key = oc.generate_dpop_key()
    nonces = oc.DPoPNonces()
    challenge = error("use_dpop_nonce", 5, **{"dpop-nonce": "n-1"})
    driven = drive(
        start(dpop_key=key, dpop_nonces=nonces),
        [challenge, error("authorization_pending", 5), token(10)],
    )
    assert driven.waits == (5.0, 5.0)  # the retry waits nothing; the next poll the interval
    claims = [
        jwt.decode(r.headers["dpop"], options={"verify_signature": False}) for r in driven.requests
    ]
    assert [c.get("nonce") for c in claims] == [None, "n-1", "n-1"]
    assert len({c["jti"] for c in claims}) == 3
    assert [c["iat"] for c in claims] == [int(at(s).timestamp()) for s in (5, 5, 10)]
    assert nonces.get(SERVER.token_endpoint or "") == "n-1"


@GRANTS
def test_a_second_nonce_challenge_in_a_row_is_an_error_not_a_loop(start: Start) -> None:
    pytest.importorskip("jwt")
    first = error("use_dpop_nonce", 5, **{"dpop-nonce": "n-1"})
    second = error("use_dpop_nonce", 5, **{"dpop-nonce": "n-2"})
    with pytest.raises(oc.EndpointError) as info:
        drive(start(dpop_key=oc.generate_dpop_key()), [first, second])
    assert info.value.error == "use_dpop_nonce"


@GRANTS
def test_a_known_nonce_goes_into_the_first_poll(start: Start) -> None:
    jwt = pytest.importorskip("jwt")
    driven = drive(start(dpop_key=oc.generate_dpop_key(), dpop_nonce="n-0"), [token(5)])
    proof = driven.requests[0].headers["dpop"]
    assert jwt.decode(proof, options={"verify_signature": False})["nonce"] == "n-0"


@GRANTS
def test_each_poll_is_dated_by_its_wait(start: Start) -> None:
    """A client_secret_jwt assertion carries the time the Wait answered, and a new jti."""
    jwt = pytest.importorskip("jwt")
    client = oc.Client("app", "a-secret-long-enough-for-hs256!!", auth_method="client_secret_jwt")
    driven = drive(start(client=client), [error("slow_down", 6), token(17)])
    assertions = [
        jwt.decode(_form(driven, i)["client_assertion"], options={"verify_signature": False})
        for i in range(2)
    ]
    assert [a["iat"] for a in assertions] == [int(at(5).timestamp()), int(at(16).timestamp())]
    assert assertions[0]["jti"] != assertions[1]["jti"]


# --- the same waits, always ----------------------------------------------------------------

KINDS = st.sampled_from(["authorization_pending", "slow_down", "retry", "token", "access_denied"])


@given(
    interval=st.integers(min_value=0, max_value=30),
    expires_in=st.integers(min_value=-5, max_value=300),
    script=st.lists(
        st.tuples(KINDS, st.integers(min_value=0, max_value=20), st.integers(0, 60)), max_size=25
    ),
)
def test_property_device_and_ciba_wait_alike(
    interval: int, expires_in: int, script: list[tuple[str, int, int]]
) -> None:
    """For any script of answers, the two grants wait the same seconds, send the same
    number of polls and end the same way (a Token, access_denied, or expiry)."""

    def run(start: Start) -> tuple[tuple[float, ...], int, str]:
        flow = start(interval=interval, expires_in=expires_in)
        waits: list[float] = []
        sends = 0
        clock = T0
        answers = iter(script)
        try:
            step = next(flow)
            while True:
                if isinstance(step, oc.Wait):
                    waits.append(step.seconds)
                    clock += dt.timedelta(seconds=step.seconds)
                    step = flow.send(clock)
                    continue
                sends += 1
                kind, lag, retry_after = next(answers, ("token", 0, 0))
                clock += dt.timedelta(seconds=lag)
                if kind == "token":
                    response = json_response(200, TOKEN, received_at=clock)
                elif kind == "retry":
                    response = oc.HttpResponse(503, {"retry-after": str(retry_after)}, b"", clock)
                else:
                    response = json_response(400, {"error": kind}, received_at=clock)
                step = flow.send(response)
        except StopIteration:
            return tuple(waits), sends, "token"
        except oc.DeviceCodeExpiredError:
            return tuple(waits), sends, "expired"
        except oc.EndpointError as exc:
            return tuple(waits), sends, str(exc.error)

    assert run(device) == run(ciba)
