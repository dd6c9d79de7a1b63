"""The IO boundary values: Headers, HttpRequest, HttpResponse, Send (DESIGN §1)."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

import oauth2_core as oc

UTC = dt.timezone.utc
T0 = dt.datetime(2030, 1, 1, tzinfo=UTC)


def test_headers_are_case_insensitive_and_lower_cased() -> None:
    headers = oc.Headers({"Content-Type": "application/json", "X-A": "1"})
    assert headers["content-type"] == headers["CONTENT-TYPE"] == "application/json"
    assert list(headers) == ["content-type", "x-a"]
    assert headers.fields() == (("content-type", "application/json"), ("x-a", "1"))
    assert "Content-Type" not in dict(headers)
    assert headers.get("missing") is None
    with pytest.raises(KeyError):
        headers["missing"]


def test_repeated_header_fields_are_kept() -> None:
    # RFC 9110 §5.3: repeated fields combine with ", ".
    headers = oc.Headers([("WWW-Authenticate", 'Bearer error="a"'), ("www-authenticate", "DPoP")])
    assert headers["www-authenticate"] == 'Bearer error="a", DPoP'
    assert headers.get_all("WWW-AUTHENTICATE") == ['Bearer error="a"', "DPoP"]
    assert len(headers) == 1


def test_headers_equality_and_hash() -> None:
    assert oc.Headers({"A": "1"}) == oc.Headers({"a": "1"})
    assert oc.Headers({"A": "1"}) == {"a": "1"}
    assert oc.Headers({"a": "1"}) == {"A": "1"}
    assert oc.Headers({"a": "1"}) != oc.Headers({"a": "2"})
    assert hash(oc.Headers({"A": "1"})) == hash(oc.Headers({"a": "1"}))
    assert oc.Headers(oc.Headers({"a": "1"})) == oc.Headers({"a": "1"})


def test_headers_are_immutable() -> None:
    headers = oc.Headers({"a": "1"})
    with pytest.raises(AttributeError):
        headers.x = 1  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        headers["a"] = "2"  # type: ignore[index]


@pytest.mark.parametrize("fields", [{"a": 1}, {1: "a"}, [("a", b"b")]])
def test_headers_refuse_non_str(fields: object) -> None:
    with pytest.raises(oc.UsageError):
        oc.Headers(fields)  # type: ignore[arg-type]


def test_http_request_converts_headers_and_body() -> None:
    request = oc.HttpRequest("POST", "https://as.example/token", {"Accept": "x"}, "a=ü")
    assert isinstance(request.headers, oc.Headers)
    assert request.headers["accept"] == "x"
    assert request.body == "a=ü".encode()
    assert oc.HttpRequest("GET", "https://x").body == b""
    assert oc.HttpRequest("GET", "https://x", body=bytearray(b"ab")).body == b"ab"
    assert oc.HttpRequest("GET", "https://x", body=memoryview(b"ab")).body == b"ab"
    with pytest.raises(oc.UsageError):
        oc.HttpRequest("GET", "https://x", body=5)  # type: ignore[arg-type]


def test_http_request_is_frozen_and_comparable() -> None:
    request = oc.HttpRequest("GET", "https://x", {"a": "1"}, b"")
    assert request == oc.HttpRequest("GET", "https://x", {"A": "1"}, b"")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        request.url = "https://y"  # type: ignore[misc]


def test_http_request_repr_hides_query_userinfo_and_body() -> None:
    request = oc.HttpRequest("GET", "https://u:p@x.example/a?q=1#f", {"Authorization": "B"}, b"xyz")
    text = repr(request)
    assert "https://x.example/a?…" in text
    assert "u:p" not in text and "q=1" not in text and "xyz" not in text
    assert "authorization" in text and "<3 bytes>" in text


def test_http_response_content_type_and_repr() -> None:
    response = oc.HttpResponse(
        200, {"Content-Type": "Application/JSON; charset=utf-8"}, b'{"a": 1}', T0
    )
    assert response.content_type == "application/json"
    assert repr(response) == (
        "HttpResponse(status=200, content_type='application/json', body=<8 bytes>)"
    )
    assert oc.HttpResponse(204, {}, b"", T0).content_type == ""


@pytest.mark.parametrize("status", [True, "200", 200.0, None])
def test_http_response_status_must_be_int(status: object) -> None:
    with pytest.raises(oc.UsageError):
        oc.HttpResponse(status, {}, b"", T0)  # type: ignore[arg-type]


@pytest.mark.parametrize("when", [dt.datetime(2030, 1, 1), "2030-01-01T00:00:00Z", None, 0])
def test_http_response_received_at_must_be_aware(when: object) -> None:
    # DESIGN §1: received_at is an aware UTC datetime stamped by the transport.
    with pytest.raises(oc.UsageError):
        oc.HttpResponse(200, {}, b"", when)  # type: ignore[arg-type]


def test_send_carries_a_delay() -> None:
    request = oc.HttpRequest("GET", "https://x")
    assert oc.Send(request).delay == 0.0
    assert oc.Send(request, delay=5).delay == 5
    assert "HttpRequest(" in repr(oc.Send(request))
