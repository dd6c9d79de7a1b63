"""The error tree and what errors tell the caller (DESIGN §4, errors.py)."""

from __future__ import annotations

import datetime as dt

import pytest

import oauth2_core as oc
from oauth2_core.errors import parse_retry_after, printable

UTC = dt.timezone.utc
T0 = dt.datetime(2030, 1, 1, tzinfo=UTC)


def test_every_error_is_an_oauth2_error() -> None:
    assert issubclass(oc.UsageError, oc.OAuth2Error)
    assert issubclass(oc.CallbackError, oc.OAuth2Error)
    assert issubclass(oc.AuthorizationError, oc.CallbackError)
    assert issubclass(oc.CallbackValidationError, oc.CallbackError)
    assert issubclass(oc.ResponseError, oc.OAuth2Error)
    assert issubclass(oc.EndpointError, oc.ResponseError)
    assert issubclass(oc.MalformedResponseError, oc.ResponseError)
    assert issubclass(oc.OAuth2Error, Exception)
    assert not issubclass(oc.OAuth2Error, (ValueError, KeyError, TypeError))


@pytest.mark.parametrize(
    ("error", "status", "retryable", "reauthorize"),
    [
        ("server_error", 400, True, False),
        ("temporarily_unavailable", 400, True, False),
        ("slow_down", 400, True, False),
        ("invalid_grant", 400, False, True),
        ("invalid_grant", 503, False, True),  # the grant is gone even if the status says 5xx
        ("login_required", 400, False, True),
        ("consent_required", 400, False, True),
        ("interaction_required", 400, False, True),
        ("invalid_client", 401, False, False),
        ("invalid_request", 400, False, False),
        (None, 500, True, False),
        (None, 502, True, False),
        (None, 429, True, False),
        (None, 404, False, False),
        (None, 200, False, False),
    ],
)
def test_endpoint_error_says_what_to_do_next(
    error: str | None, status: int, retryable: bool, reauthorize: bool
) -> None:
    exc = oc.EndpointError("m", error=error, status=status)
    assert exc.retryable is retryable
    assert exc.reauthorize is reauthorize


def test_authorization_error_message_is_printable() -> None:
    exc = oc.AuthorizationError("access_denied", "line\nbreak\x1b[31m" + "x" * 500)
    text = str(exc)
    assert "\n" not in text and "\x1b" not in text
    assert len(text) < 320
    assert exc.error_description is not None and "\n" in exc.error_description  # data kept


def test_printable_shortens_and_escapes_controls() -> None:
    # Escaped visibly, not dropped (issue 12 item 14): the reader sees what came.
    assert printable("a\x00b\r\nc") == "a\\x00b\\r\\nc"
    assert printable("\x1b]8;;http://evil\x07x\x9b\u202e\u2066") == (
        "\\x1b]8;;http://evil\\x07x\\x9b\\u202e\\u2066"
    )
    assert printable("x" * 300, 10) == "x" * 9 + "…"


def test_response_errors_carry_status_and_field() -> None:
    exc = oc.MalformedResponseError("m", field="expires_in", status=200)
    assert (exc.field, exc.status) == ("expires_in", 200)
    assert oc.ResponseError("m").status is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("0", 0.0),
        (" 120 ", 120.0),
        ("Tue, 01 Jan 2030 00:02:00 GMT", 120.0),
        ("Mon, 31 Dec 2029 23:00:00 GMT", 0.0),  # in the past: no wait
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("9" * 40, None),
        ("٣", None),  # a non-ASCII digit
        (
            "Fri, 31 Dec 9999 23:59:59 GMT",
            (dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC) - T0).total_seconds(),
        ),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    # RFC 9110 §10.2.3: delay-seconds or an HTTP-date.
    assert parse_retry_after(value, T0) == expected


def test_parse_retry_after_near_the_calendar_edges() -> None:
    edge = dt.datetime.min.replace(tzinfo=UTC)
    far = parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", edge)
    assert far == (dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC) - edge).total_seconds()
