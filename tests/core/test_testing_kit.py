"""``oauth2_core.testing``: scripted answers for flows (issue 13, the testing kit).

``json_response`` builds the answer the tests used to build by hand; ``drive`` plays
the driver without a network or sleeping. The example in docs/testing.md runs here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

import oauth2_core as oc
from oauth2_core.testing import RECEIVED_AT, drive, json_response

SERVER = oc.ServerMetadata("https://as.example", token_endpoint="https://as.example/token")
CLIENT = oc.Client("app", "s3cr3t")
TOKEN = {"access_token": "at-1", "token_type": "Bearer", "expires_in": 60}
DOC = Path(__file__).resolve().parents[2] / "docs" / "testing.md"


def cc_flow() -> oc.Flow[oc.Token]:
    return oc.token_flow(oc.client_credentials_grant_request(SERVER, CLIENT, scope="read"))


def test_json_response_is_a_json_answer_received_at_the_fixed_instant() -> None:
    response = json_response(200, TOKEN)
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    assert json.loads(response.body) == TOKEN
    assert response.received_at == RECEIVED_AT == dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    assert oc.process_token_response(response).expires_at == RECEIVED_AT + dt.timedelta(seconds=60)


def test_json_response_takes_headers_and_a_receipt_time() -> None:
    later = RECEIVED_AT + dt.timedelta(hours=1)
    response = json_response(
        401,
        {"error": "invalid_client"},
        headers={"www-authenticate": "Basic", "content-type": "application/problem+json"},
        received_at=later,
    )
    assert response.headers["www-authenticate"] == "Basic"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.received_at == later


def test_drive_returns_the_result_and_the_requests_seen() -> None:
    driven = drive(cc_flow(), [json_response(200, TOKEN)])
    assert driven.result.access_token == "at-1"
    assert [(r.method, r.url) for r in driven.requests] == [("POST", "https://as.example/token")]
    assert driven.requests[0].body == b"grant_type=client_credentials&scope=read"
    assert [s.delay for s in driven.sends] == [0.0]


def test_drive_throws_an_exception_into_the_flow_like_the_driver() -> None:
    """A thrown transport failure reaches the retry flow, which sends again after a delay."""
    boom = oc.OAuth2Error("connection reset")  # what a driver throws is an OAuth2Error
    driven = drive(oc.retry_flow(cc_flow, oc.RetryPolicy()), [boom, json_response(200, TOKEN)])
    assert driven.result.access_token == "at-1"
    assert len(driven.requests) == 2
    assert driven.waits == (0.5,)  # the policy's initial_delay, waited before the retry


def test_drive_lets_the_flows_error_through() -> None:
    with pytest.raises(oc.EndpointError) as info:
        drive(cc_flow(), [json_response(400, {"error": "invalid_scope"})])
    assert info.value.error == "invalid_scope"


def test_drive_refuses_a_script_that_is_too_short() -> None:
    with pytest.raises(AssertionError, match=r"request #1 \(POST https://as\.example/token\)"):
        drive(cc_flow(), [])


def test_drive_refuses_answers_left_over() -> None:
    with pytest.raises(AssertionError, match="1 scripted answers were left over"):
        drive(cc_flow(), [json_response(200, TOKEN), json_response(200, TOKEN)])


def test_the_documented_example_runs() -> None:
    section = DOC.read_text(encoding="utf-8").split("## Testing a flow without a network", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block is not None
    exec(compile(block.group(1), str(DOC), "exec"), {})


def test_drive_answers_wait_steps_with_a_moving_clock() -> None:
    """A flow that waits (device polling, retries) runs under drive() as under run()."""
    seen: list[dt.datetime] = []

    def flow() -> oc.TimedFlow[str]:
        seen.append((yield oc.Wait(5)))
        response = yield oc.Send(oc.HttpRequest("GET", "https://as.example/x"))
        seen.append((yield oc.Wait(2)))
        return str(response.status)

    answer = json_response(200, {}, received_at=RECEIVED_AT + dt.timedelta(seconds=30))
    driven = drive(flow(), [answer])
    assert driven.result == "200"
    assert seen == [RECEIVED_AT + dt.timedelta(seconds=5), RECEIVED_AT + dt.timedelta(seconds=32)]
