"""``retry_flow`` / ``RetryPolicy``, driven by hand with scripted responses and thrown errors.

No transport and no sleeping: the test plays the driver, sends responses with
``gen.send`` and network failures with ``gen.throw``, answers each ``Wait`` with
the time after it (as ``oauth2_transports.run`` does with its clock), and reads
the time waited before each ``Send``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
from base64 import urlsafe_b64decode
from collections.abc import Callable
from urllib.parse import parse_qs

import pytest
from hypothesis import given
from hypothesis import strategies as st

import oauth2_core as oc
from oauth2_core.flows import token_flow
from oauth2_transports import TransportError

NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
SERVER = oc.ServerMetadata(issuer="https://as.example", token_endpoint="https://as.example/token")
CLIENT = oc.Client("app", "s3cr3t")

TOKEN_BODY = json.dumps({"access_token": "at-1", "token_type": "Bearer", "expires_in": 60})


def response(
    status: int,
    body: str = TOKEN_BODY,
    *,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> oc.HttpResponse:
    return oc.HttpResponse(
        status=status,
        headers={"content-type": content_type, **(headers or {})},
        body=body.encode(),
        received_at=NOW,
    )


def ok() -> oc.HttpResponse:
    return response(200)


def error(status: int, code: str, description: str = "", **headers: str) -> oc.HttpResponse:
    body = {"error": code, **({"error_description": description} if description else {})}
    return response(status, json.dumps(body), headers=headers)


def make_cc(calls: list[int] | None = None) -> Callable[[], oc.Flow[oc.Token]]:
    def make() -> oc.Flow[oc.Token]:
        if calls is not None:
            calls.append(len(calls) + 1)
        return token_flow(oc.client_credentials_grant_request(SERVER, CLIENT, scope="read"))

    return make


Outcome = oc.HttpResponse | BaseException


#: The time the scripted driver answers a flow's Wait with: NOW plus every wait so far.
_clocks: dict[int, dt.datetime] = {}


def until_send(flow: oc.TimedFlow[oc.Token], step: oc.Send | oc.Wait) -> oc.Send:
    """Answer ``Wait`` steps as the driver does, with the time after the wait.

    Returns the next ``Send``, its ``delay`` raised by the time waited before it.
    """
    waited = 0.0
    while isinstance(step, oc.Wait):
        waited += step.seconds
        now = _clocks.get(id(flow), NOW) + dt.timedelta(seconds=step.seconds)
        _clocks[id(flow)] = now
        step = flow.send(now)
    return oc.Send(step.request, delay=step.delay + waited)


def first(flow: oc.TimedFlow[oc.Token]) -> oc.Send:
    _clocks.pop(id(flow), None)
    return until_send(flow, next(flow))


def answer(flow: oc.TimedFlow[oc.Token], outcome: Outcome) -> oc.Send:
    """Feed one outcome to the flow as the driver does: send a response, throw an error."""
    if isinstance(outcome, BaseException):
        return until_send(flow, flow.throw(outcome))
    return until_send(flow, flow.send(outcome))


def drive(flow: oc.TimedFlow[oc.Token], outcomes: list[Outcome]) -> tuple[oc.Token, list[oc.Send]]:
    """Play the driver: answer each Send with the next outcome (a response or a thrown error).

    Returns the result and every Send yielded; an exception from the flow propagates.
    """
    sends: list[oc.Send] = []
    script = iter(outcomes)
    try:
        step = first(flow)
        while True:
            sends.append(step)
            outcome = next(script)
            step = answer(flow, outcome)
    except StopIteration as stop:
        return stop.value, sends


def drive_failing(
    flow: oc.TimedFlow[oc.Token], outcomes: list[Outcome]
) -> tuple[BaseException, list[oc.Send]]:
    sends: list[oc.Send] = []
    script = iter(outcomes)
    try:
        step = first(flow)
        while True:
            sends.append(step)
            outcome = next(script)
            step = answer(flow, outcome)
    except StopIteration:
        pytest.fail("the flow succeeded")
    except BaseException as exc:
        return exc, sends


def delays(sends: list[oc.Send]) -> list[float]:
    return [s.delay for s in sends]


# -- delays ---------------------------------------------------------------------------------


def test_success_on_the_first_attempt_sends_once_without_delay() -> None:
    token, sends = drive(oc.retry_flow(make_cc(), oc.RetryPolicy()), [response(200)])
    assert token.access_token == "at-1"
    assert delays(sends) == [0.0]


def test_503_then_200_waits_initial_delay_then_succeeds() -> None:
    token, sends = drive(
        oc.retry_flow(make_cc(), oc.RetryPolicy()),
        [error(503, "temporarily_unavailable"), response(200)],
    )
    assert token.access_token == "at-1"
    assert delays(sends) == [0.0, 0.5]


def test_backoff_grows_by_multiplier_and_is_capped_at_max_delay() -> None:
    policy = oc.RetryPolicy(attempts=5, initial_delay=1.0, multiplier=3.0, max_delay=5.0)
    outcomes: list[Outcome] = [response(500, "<html>oops</html>", content_type="text/html")] * 4
    _, sends = drive(oc.retry_flow(make_cc(), policy), [*outcomes, response(200)])
    assert delays(sends) == [0.0, 1.0, 3.0, 5.0, 5.0]


def test_retry_after_seconds_replaces_the_backoff() -> None:
    token, sends = drive(
        oc.retry_flow(make_cc(), oc.RetryPolicy()),
        [response(429, "slow down", content_type="text/plain", headers={"retry-after": "2"}), ok()],
    )
    assert token.access_token == "at-1"
    assert delays(sends) == [0.0, 2.0]


def test_retry_after_http_date_is_measured_from_received_at() -> None:
    when = email.utils.format_datetime(NOW + dt.timedelta(seconds=7), usegmt=True)
    _, sends = drive(
        oc.retry_flow(make_cc(), oc.RetryPolicy()),
        [error(503, "temporarily_unavailable", **{"retry-after": when}), response(200)],
    )
    assert delays(sends) == [0.0, 7.0]


def test_retry_after_is_capped_at_max_retry_after() -> None:
    _, sends = drive(
        oc.retry_flow(make_cc(), oc.RetryPolicy(max_retry_after=10.0)),
        [error(503, "temporarily_unavailable", **{"retry-after": "3600"}), response(200)],
    )
    assert delays(sends) == [0.0, 10.0]


def test_retry_after_is_ignored_when_not_honoured() -> None:
    _, sends = drive(
        oc.retry_flow(make_cc(), oc.RetryPolicy(honour_retry_after=False)),
        [error(503, "temporarily_unavailable", **{"retry-after": "20"}), response(200)],
    )
    assert delays(sends) == [0.0, 0.5]


def test_jitter_uses_the_injected_random_source() -> None:
    draws = iter([0.25, 0.0])
    policy = oc.RetryPolicy(initial_delay=2.0, jitter=0.5)
    _, sends = drive(
        oc.retry_flow(make_cc(), policy, random=lambda: next(draws)),
        [error(500, "server_error"), error(500, "server_error"), response(200)],
    )
    # 2.0 * (1 - 0.5 + 0.5 * 0.25) = 1.25; then 4.0 * (1 - 0.5 + 0) = 2.0
    assert delays(sends) == [0.0, 1.25, 2.0]


def test_full_jitter_may_wait_nothing() -> None:
    _, sends = drive(
        oc.retry_flow(make_cc(), oc.RetryPolicy(jitter=1.0), random=lambda: 0.0),
        [error(503, "temporarily_unavailable"), response(200)],
    )
    assert delays(sends) == [0.0, 0.0]


def test_the_inner_flows_own_delay_is_kept_and_the_backoff_added() -> None:
    def make() -> oc.Flow[oc.Token]:
        request = oc.client_credentials_grant_request(SERVER, CLIENT)
        resp = yield oc.Send(request, delay=1.5)
        return oc.process_token_response(resp)

    _, sends = drive(oc.retry_flow(make, oc.RetryPolicy()), [error(503, "x"), response(200)])
    assert delays(sends) == [1.5, 2.0]


# -- bounds and what propagates ---------------------------------------------------------


def test_attempts_bound_the_sends_and_the_last_error_propagates_unchanged() -> None:
    outcomes: list[Outcome] = [error(503, "temporarily_unavailable", f"try {n}") for n in (1, 2, 3)]
    exc, sends = drive_failing(oc.retry_flow(make_cc(), oc.RetryPolicy(attempts=3)), outcomes)
    assert len(sends) == 3
    assert isinstance(exc, oc.EndpointError)
    assert exc.status == 503
    assert exc.error_description == "try 3"


def test_one_attempt_never_retries() -> None:
    exc, sends = drive_failing(
        oc.retry_flow(make_cc(), oc.RetryPolicy(attempts=1)), [error(503, "server_error")]
    )
    assert isinstance(exc, oc.EndpointError)
    assert len(sends) == 1


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "invalid_grant"),
        (400, "invalid_request"),
        (401, "invalid_client"),
        (403, "access_denied"),
        (400, "invalid_scope"),
        # invalid_grant wins over the status: the grant is gone, whatever the 5xx says.
        (503, "invalid_grant"),
    ],
)
def test_non_retryable_endpoint_errors_propagate_after_one_attempt(status: int, code: str) -> None:
    exc, sends = drive_failing(oc.retry_flow(make_cc(), oc.RetryPolicy()), [error(status, code)])
    assert isinstance(exc, oc.EndpointError)
    assert exc.error == code
    assert len(sends) == 1


def test_a_plain_404_is_not_retried() -> None:
    exc, sends = drive_failing(
        oc.retry_flow(make_cc(), oc.RetryPolicy()),
        [response(404, "not here", content_type="text/plain")],
    )
    assert isinstance(exc, oc.EndpointError)
    assert exc.status == 404
    assert len(sends) == 1


def test_a_malformed_200_is_not_retried() -> None:
    exc, sends = drive_failing(
        oc.retry_flow(make_cc(), oc.RetryPolicy()),
        [response(200, "<html>login</html>", content_type="text/html")],
    )
    assert isinstance(exc, oc.MalformedResponseError)
    assert len(sends) == 1


def test_transport_errors_are_retried() -> None:
    refused = TransportError("connection failed: POST https://as.example/token")
    token, sends = drive(
        oc.retry_flow(make_cc(), oc.RetryPolicy()), [refused, refused, response(200)]
    )
    assert token.access_token == "at-1"
    assert delays(sends) == [0.0, 0.5, 1.0]


def test_the_last_transport_error_propagates_as_thrown() -> None:
    errors = [TransportError(f"timed out {n}") for n in range(3)]
    exc, sends = drive_failing(oc.retry_flow(make_cc(), oc.RetryPolicy()), list(errors))
    assert exc is errors[-1]
    assert len(sends) == 3


def test_any_other_oauth2_error_counts_as_a_network_failure() -> None:
    class ProxyRefused(oc.OAuth2Error):
        """An integrator's transport error, not oauth2_transports.TransportError."""

    token, _ = drive(
        oc.retry_flow(make_cc(), oc.RetryPolicy()), [ProxyRefused("proxy"), response(200)]
    )
    assert token.access_token == "at-1"


@pytest.mark.parametrize(
    "thrown",
    [
        oc.UsageError("bad argument"),
        oc.CallbackValidationError("state"),
        oc.ResponseError("odd", status=200),
        RuntimeError("not ours"),
        KeyboardInterrupt(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_usage_callback_response_and_foreign_errors_are_not_retried(thrown: BaseException) -> None:
    exc, sends = drive_failing(oc.retry_flow(make_cc(), oc.RetryPolicy()), [thrown])
    assert exc is thrown
    assert len(sends) == 1


# -- a fresh flow per attempt -----------------------------------------------------------------


def test_each_attempt_builds_a_fresh_flow() -> None:
    calls: list[int] = []
    drive(
        oc.retry_flow(make_cc(calls), oc.RetryPolicy()),
        [TransportError("reset"), error(502, "server_error"), response(200)],
    )
    assert calls == [1, 2, 3]


def test_each_attempt_signs_a_fresh_client_assertion() -> None:
    jwt_client = oc.Client("app", "k" * 32, auth_method="client_secret_jwt")

    def make() -> oc.Flow[oc.Token]:
        return token_flow(oc.client_credentials_grant_request(SERVER, jwt_client, now=NOW))

    _, sends = drive(
        oc.retry_flow(make, oc.RetryPolicy()), [error(503, "x"), error(503, "x"), response(200)]
    )
    assertions = [parse_qs(s.request.body.decode())["client_assertion"][0] for s in sends]
    assert len(set(assertions)) == 3


def test_wait_aware_attempts_are_built_after_their_wait() -> None:
    """wait_aware=True (deprecated): each attempt is built once its wait is over, so
    the wait still ahead of it, make_flow's argument, is always 0."""
    waits: list[float] = []

    def make(delay: float) -> oc.Flow[oc.Token]:
        waits.append(delay)
        return make_cc()()

    policy = oc.RetryPolicy(attempts=3, initial_delay=4, multiplier=2)
    _, sends = drive(
        oc.retry_flow(make, policy, wait_aware=True),
        [error(503, "x"), error(503, "x", **{"retry-after": "30"}), response(200)],
    )
    assert waits == [0, 0, 0]
    assert delays(sends) == [0, 4, 30]


def test_retry_dated_flow_dates_each_attempt_with_the_time_the_wait_answers() -> None:
    """retry_dated_flow: the first attempt at ``now``, each later one at the time the
    driver answers the backoff's Wait, so an assertion is dated when it is sent."""
    jwt_client = oc.Client("app", "k" * 32, auth_method="client_secret_jwt")
    dated: list[dt.datetime] = []

    def make(when: dt.datetime) -> oc.Flow[oc.Token]:
        dated.append(when)
        return token_flow(oc.client_credentials_grant_request(SERVER, jwt_client, now=when))

    policy = oc.RetryPolicy(attempts=3, initial_delay=4, multiplier=2)
    _, sends = drive(
        oc.retry_dated_flow(make, policy, now=NOW),
        [error(503, "x"), error(503, "x", **{"retry-after": "30"}), response(200)],
    )
    assert delays(sends) == [0, 4, 30]
    assert dated == [NOW, NOW + dt.timedelta(seconds=4), NOW + dt.timedelta(seconds=34)]
    assertions = [parse_qs(s.request.body.decode())["client_assertion"][0] for s in sends]
    iats = [json.loads(urlsafe_b64decode(a.split(".")[1] + "=="))["iat"] for a in assertions]
    start = int(NOW.timestamp())
    assert iats == [start, start + 4, start + 34]


def test_the_backoff_is_a_wait_step_never_a_send_delay() -> None:
    """Between attempts the flow yields Wait(delay); the next request carries no delay."""
    flow = oc.retry_flow(make_cc(), oc.RetryPolicy(initial_delay=2.0))
    assert isinstance(next(flow), oc.Send)
    step = flow.send(error(503, "x"))
    assert step == oc.Wait(2.0)
    again = flow.send(NOW + dt.timedelta(seconds=2))
    assert isinstance(again, oc.Send) and again.delay == 0.0
    flow.close()


def test_a_wait_answered_with_something_else_than_an_aware_time_is_a_usage_error() -> None:
    flow = oc.retry_flow(make_cc(), oc.RetryPolicy())
    next(flow)
    flow.send(error(503, "x"))
    with pytest.raises(oc.UsageError, match="Wait"):
        flow.send(dt.datetime(2024, 1, 1))  # type: ignore[arg-type]  # naive


def test_closing_the_retry_flow_closes_the_attempt_in_progress() -> None:
    closed: list[bool] = []

    def make() -> oc.Flow[oc.Token]:
        try:
            resp = yield oc.Send(oc.client_credentials_grant_request(SERVER, CLIENT))
            return oc.process_token_response(resp)
        finally:
            closed.append(True)

    flow = oc.retry_flow(make, oc.RetryPolicy())
    next(flow)
    assert isinstance(flow.throw(TransportError("reset")), oc.Wait)  # the first attempt ended
    assert closed == [True]
    flow.send(NOW)  # the second attempt starts after its wait
    assert closed == [True]
    flow.close()
    assert closed == [True, True]


def test_a_flow_that_returns_without_sending_is_returned() -> None:
    def make() -> oc.Flow[str]:
        return "cached"
        yield  # pragma: no cover - makes this a generator

    flow = oc.retry_flow(make, oc.RetryPolicy())
    with pytest.raises(StopIteration) as stop:
        next(flow)
    assert stop.value.value == "cached"


# -- the policy value -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"attempts": 0},
        {"attempts": True},
        {"attempts": 2.0},
        {"initial_delay": -1},
        {"max_delay": float("inf")},
        {"multiplier": 0.5},
        {"multiplier": float("nan")},
        {"jitter": 1.5},
        {"jitter": -0.1},
        {"honour_retry_after": 1},
        {"max_retry_after": float("nan")},
    ],
    ids=repr,
)
def test_policy_rejects_out_of_range_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(oc.UsageError):
        oc.RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_policy_defaults() -> None:
    policy = oc.RetryPolicy()
    assert (policy.attempts, policy.initial_delay, policy.max_delay, policy.multiplier) == (
        3,
        0.5,
        30.0,
        2.0,
    )
    assert (policy.jitter, policy.honour_retry_after, policy.max_retry_after) == (0.0, True, 60.0)


def test_retry_flow_rejects_bad_arguments() -> None:
    with pytest.raises(oc.UsageError):
        oc.retry_flow(make_cc()(), oc.RetryPolicy())  # type: ignore[arg-type]
    with pytest.raises(oc.UsageError):
        oc.retry_flow(make_cc(), {"attempts": 3})  # type: ignore[arg-type]


def test_huge_multiplier_saturates_instead_of_overflowing() -> None:
    policy = oc.RetryPolicy(attempts=50, initial_delay=1.0, multiplier=1e300, max_delay=9.0)
    assert policy.delay(40) == 9.0


# -- the property ------------------------------------------------------------------------------

_failures = st.one_of(
    st.sampled_from([500, 502, 503, 504, 429]).map(lambda s: error(s, "temporarily_unavailable")),
    st.integers(min_value=0, max_value=10**6).map(
        lambda n: error(503, "temporarily_unavailable", **{"retry-after": str(n)})
    ),
    st.just(TransportError("reset")),
)
_finals = st.one_of(
    st.just(response(200)),
    st.sampled_from([400, 401, 403]).map(lambda s: error(s, "invalid_grant")),
)
_policies = st.builds(
    oc.RetryPolicy,
    attempts=st.integers(min_value=1, max_value=6),
    initial_delay=st.floats(min_value=0, max_value=100),
    max_delay=st.floats(min_value=0, max_value=100),
    multiplier=st.floats(min_value=1, max_value=1e6),
    jitter=st.floats(min_value=0, max_value=1),
    honour_retry_after=st.booleans(),
    max_retry_after=st.floats(min_value=0, max_value=1000),
)


@given(
    policy=_policies,
    failures=st.lists(_failures, max_size=8),
    final=_finals,
    draws=st.lists(st.floats(min_value=0, max_value=1, exclude_max=True), min_size=8, max_size=8),
)
def test_attempts_and_delays_stay_within_the_policy(
    policy: oc.RetryPolicy, failures: list[Outcome], final: Outcome, draws: list[float]
) -> None:
    """Whatever the server does, attempts <= policy.attempts and every delay is in
    [0, max(max_delay, max_retry_after)]; the flow either returns or raises an OAuth2Error."""
    source = iter(draws)
    flow = oc.retry_flow(make_cc(), policy, random=lambda: next(source))
    sends: list[oc.Send] = []
    script = iter([*failures, final])
    try:
        step = first(flow)
        while True:
            sends.append(step)
            outcome = next(script)
            step = answer(flow, outcome)
    except StopIteration:
        pass
    except oc.OAuth2Error:
        pass
    assert 1 <= len(sends) <= policy.attempts
    bound = max(policy.max_delay, policy.max_retry_after)
    assert all(0.0 <= s.delay <= bound for s in sends)
    assert sends[0].delay == 0.0


def test_delay_of_a_huge_retry_number_is_the_cap_at_once() -> None:
    assert oc.RetryPolicy(max_delay=7.0).delay(10**12) == 7.0
    assert oc.RetryPolicy(multiplier=1.0).delay(10**12) == 0.5
