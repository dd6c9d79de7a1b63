"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): end_session_url."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

import oauth2_core as oc

SERVER = oc.ServerMetadata(
    "https://op.example", end_session_endpoint="https://op.example/session/end"
)
CLIENT = oc.Client("app", "secret")
ID_TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln"


def query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query)


def test_end_session_url_rp_initiated_logout_2() -> None:
    url = oc.end_session_url(
        SERVER,
        CLIENT,
        id_token_hint=ID_TOKEN,
        post_logout_redirect_uri="https://app.example/bye",
        state="s",
    )
    assert url.startswith("https://op.example/session/end?")
    assert query(url) == [
        ("client_id", "app"),
        ("id_token_hint", ID_TOKEN),
        ("post_logout_redirect_uri", "https://app.example/bye"),
        ("state", "s"),
    ]


def test_token_gives_its_id_token_and_extras_are_sent() -> None:
    token = oc.Token("at", id_token=ID_TOKEN)
    url = oc.end_session_url(SERVER, CLIENT, id_token_hint=token, ui_locales="fr en")
    assert query(url) == [
        ("client_id", "app"),
        ("id_token_hint", ID_TOKEN),
        ("ui_locales", "fr en"),
    ]
    with pytest.raises(oc.UsageError, match="id_token"):
        oc.end_session_url(SERVER, CLIENT, id_token_hint=oc.Token("at"))


def test_endpoint_with_a_query_of_its_own() -> None:
    server = oc.ServerMetadata(
        "https://op.example", end_session_endpoint="https://op.example/l?p=1"
    )
    assert oc.end_session_url(server, CLIENT) == "https://op.example/l?p=1&client_id=app"


@pytest.mark.parametrize(
    ("server", "kwargs", "match"),
    [
        (oc.ServerMetadata("https://op.example"), {}, "end_session_endpoint"),
        (
            oc.ServerMetadata("http://op.example", end_session_endpoint="http://op.example/end"),
            {},
            "plain http",
        ),
        (SERVER, {"post_logout_redirect_uri": "https://app.example/bye#x"}, "fragment"),
        (SERVER, {"post_logout_redirect_uri": "javascript:alert(1)"}, "scheme"),
        (SERVER, {"post_logout_redirect_uri": "http://app.example/bye"}, "plain http"),
        (SERVER, {"state": "s"}, "post_logout_redirect_uri"),
        (SERVER, {"client_id": "other"}, "client_id"),
        (SERVER, {"id_token_hint": ""}, "id_token_hint"),
    ],
)
def test_refusals(server: oc.ServerMetadata, kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(oc.UsageError, match=match):
        oc.end_session_url(server, CLIENT, **kwargs)  # type: ignore[arg-type]


def test_loopback_redirect_is_fine() -> None:
    url = oc.end_session_url(SERVER, CLIENT, post_logout_redirect_uri="http://127.0.0.1:8080/bye")
    assert ("post_logout_redirect_uri", "http://127.0.0.1:8080/bye") in query(url)


@given(state=st.text(), hint=st.text(min_size=1))
def test_property_values_round_trip_through_the_query(state: str, hint: str) -> None:
    """Whatever the state and hint, the server reads back exactly what was given."""
    try:
        url = oc.end_session_url(
            SERVER,
            CLIENT,
            id_token_hint=hint,
            post_logout_redirect_uri="https://app.example/bye",
            state=state,
        )
    except oc.UsageError:
        return  # lone surrogates cannot be encoded
    got = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    assert got["id_token_hint"] == hint
    assert got["state"] == state
    assert "#" not in url
