"""Which tokens can be presented: Bearer (RFC 6750) and DPoP (RFC 9449) only (RFC 6749 §7.1).

Parsing stays tolerant (a Token keeps the type the server sent); every place in the
core that builds an ``Authorization`` field from a Token refuses any other type with
:class:`oauth2_core.UnsupportedTokenTypeError` instead of sending it as Bearer.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import oauth2_core as oc

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
SERVER = oc.ServerMetadata(
    issuer="https://as.example",
    token_endpoint="https://as.example/token",
    userinfo_endpoint="https://as.example/userinfo",
)


def answer(token_type: str) -> oc.Token:
    body = {"access_token": "secret-at", "token_type": token_type, "expires_in": 60}
    return oc.process_token_response(
        oc.HttpResponse(200, {"content-type": "application/json"}, json.dumps(body).encode(), NOW)
    )


@pytest.mark.parametrize("sent", ["mac", "MAC", "N_A", "n_a", "Basic", "Bearer2", "bearer "])
def test_an_unknown_type_is_kept_but_never_presented(sent: str) -> None:
    token = answer(sent)
    assert token.token_type.lower() == sent.lower()  # tolerant parsing
    with pytest.raises(oc.UnsupportedTokenTypeError) as info:
        oc.token_scheme(token)
    assert info.value.token_type.lower() == sent.lower()
    assert isinstance(info.value, oc.UsageError) and isinstance(info.value, oc.OAuth2Error)
    assert "secret-at" not in str(info.value)
    request = oc.HttpRequest("GET", "https://rs.example/api")
    for method in ("header", "body", "query"):
        with pytest.raises(oc.UnsupportedTokenTypeError):
            oc.bearer_authorize(
                oc.HttpRequest("POST", "https://rs.example/api"), token, method=method
            )  # type: ignore[arg-type]
    with pytest.raises(oc.UnsupportedTokenTypeError):
        oc.bearer_authorize(request, token)
    with pytest.raises(oc.UnsupportedTokenTypeError):
        oc.userinfo_request(SERVER, token)


def test_rfc_8693_n_a_is_not_an_access_token() -> None:
    with pytest.raises(oc.UnsupportedTokenTypeError, match="not an access token"):
        oc.token_scheme(answer("N_A"))


@pytest.mark.parametrize(
    ("sent", "scheme"),
    [
        ("Bearer", "Bearer"),
        ("bearer", "Bearer"),
        ("BEARER", "Bearer"),
        ("DPoP", "DPoP"),
        ("dpop", "DPoP"),
    ],
)
def test_known_types_in_any_case(sent: str, scheme: str) -> None:
    assert oc.token_scheme(answer(sent)) == scheme
    # A Token built by hand is normalised the same way (RFC 6749 §5.1: case-insensitive).
    assert oc.Token("x", token_type=sent).token_type == scheme
    assert oc.Token("x", token_type=sent) == oc.Token("x", token_type=scheme)


def test_a_dpop_token_needs_a_proof_not_a_bearer_header() -> None:
    with pytest.raises(oc.UsageError, match="DPoP proof") as info:
        oc.bearer_authorize(oc.HttpRequest("GET", "https://rs.example/"), answer("dpop"))
    assert not isinstance(info.value, oc.UnsupportedTokenTypeError)


def test_token_type_must_be_a_string() -> None:
    with pytest.raises(oc.UsageError):
        oc.Token("x", token_type=3)  # type: ignore[arg-type]
    with pytest.raises(oc.UsageError):
        oc.token_scheme("not a token")  # type: ignore[arg-type]


def test_the_error_does_not_echo_control_characters() -> None:
    with pytest.raises(oc.UnsupportedTokenTypeError) as info:
        oc.token_scheme(oc.Token("x", token_type="mac\r\nX-Evil: 1" + "y" * 100))
    assert "\r" not in str(info.value) and "\n" not in str(info.value)
    assert len(info.value.token_type) <= 43


@given(st.text(max_size=20))
def test_property_nothing_but_bearer_is_ever_sent_as_bearer(token_type: str) -> None:
    """For any token_type, bearer_authorize sends a Bearer header only for a Bearer token."""
    token = oc.Token("at", token_type=token_type)
    try:
        request = oc.bearer_authorize(oc.HttpRequest("GET", "https://rs.example/"), token)
    except oc.UsageError:
        assert token_type.lower() != "bearer"
    else:
        assert token_type.lower() == "bearer"
        assert request.headers["authorization"] == "Bearer at"


def test_dpop_request_refuses_an_unknown_token_type() -> None:
    """The DPoP builder asks token_scheme too: a "mac" token is never sent as DPoP."""
    pytest.importorskip("jwt")
    key = oc.generate_dpop_key()
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    request = oc.HttpRequest("GET", "https://rs.example/")
    with pytest.raises(oc.UnsupportedTokenTypeError):
        oc.dpop_request(request, key, now=now, access_token=oc.Token("x", token_type="mac"))
    lower = oc.dpop_request(request, key, now=now, access_token=oc.Token("x", token_type="dpop"))
    assert lower.headers["authorization"] == "DPoP x"
