"""process_introspection_response and process_revocation_response beyond the RFC examples."""

from __future__ import annotations

import datetime as dt
import json

import pytest

import oauth2_core as oc

UTC = dt.timezone.utc
T0 = dt.datetime(2030, 1, 1, tzinfo=UTC)


def _json(body: object, status: int = 200) -> oc.HttpResponse:
    return oc.HttpResponse(
        status, {"content-type": "application/json"}, json.dumps(body).encode(), T0
    )


def test_audience_array_and_times() -> None:
    info = oc.process_introspection_response(
        _json(
            {
                "active": True,
                "aud": ["a", "b"],
                "nbf": 0,
                "exp": 1.5,
                "jti": "j",
                "token_type": "Bearer",
            }
        )
    )
    assert info.aud == ("a", "b")
    assert info.nbf == dt.datetime(1970, 1, 1, tzinfo=UTC)
    assert info.exp == dt.datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=UTC)
    assert (info.jti, info.token_type) == ("j", "Bearer")


@pytest.mark.parametrize(
    ("members", "field"),
    [
        ({}, "active"),
        ({"active": "true"}, "active"),
        ({"active": 1}, "active"),
        ({"active": True, "scope": ["a"]}, "scope"),
        ({"active": True, "aud": [1]}, "aud"),
        ({"active": True, "aud": 5}, "aud"),
        ({"active": True, "exp": "1419356238"}, "exp"),  # NumericDate is a number
        ({"active": True, "exp": True}, "exp"),
        ({"active": True, "iat": 1e300}, "iat"),
        ({"active": True, "username": 5}, "username"),
        ({"active": True, "client_id": {}}, "client_id"),
    ],
)
def test_bad_member_names_the_field(members: dict[str, object], field: str) -> None:
    with pytest.raises(oc.MalformedResponseError) as info:
        oc.process_introspection_response(_json(members))
    assert info.value.field == field


def test_introspection_errors() -> None:
    # RFC 7662 §2.3: 401 for a client that failed to authenticate.
    with pytest.raises(oc.EndpointError) as info:
        oc.process_introspection_response(_json({"error": "invalid_client"}, status=401))
    assert (info.value.error, info.value.status) == ("invalid_client", 401)
    with pytest.raises(oc.MalformedResponseError, match="text/html"):
        oc.process_introspection_response(
            oc.HttpResponse(200, {"content-type": "text/html"}, b"<p>hi</p>", T0)
        )


def test_revocation_accepts_any_200_without_an_error_object() -> None:
    # RFC 7009 §2.2: "The content of the response body is ignored by the client".
    for body, ctype in ((b"", ""), (b"{}", "application/json"), (b"<html/>", "text/html")):
        assert (
            oc.process_revocation_response(oc.HttpResponse(200, {"content-type": ctype}, body, T0))
            is None
        )


def test_revocation_error_object_at_200_is_an_error() -> None:
    with pytest.raises(oc.EndpointError):
        oc.process_revocation_response(_json({"error": "unsupported_token_type"}, status=200))


def test_revocation_non_200_is_an_error() -> None:
    for status in (301, 400, 401, 500):
        with pytest.raises(oc.EndpointError):
            oc.process_revocation_response(oc.HttpResponse(status, {}, b"", T0))
