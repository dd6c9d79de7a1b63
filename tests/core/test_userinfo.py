"""The UserInfo endpoint (OpenID Connect Core §5.3)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import oauth2_core as oc
from oauth2_core.testing import RECEIVED_AT, json_response

T0 = RECEIVED_AT  # the scripted answers arrive then
SERVER = oc.ServerMetadata(
    issuer="https://server.example.com", userinfo_endpoint="https://server.example.com/userinfo"
)
TOKEN = oc.Token("SlAV32hkKG", token_type="Bearer")
# OpenID Connect Core §5.3.2 example response.
CLAIMS = {
    "sub": "248289761001",
    "name": "Jane Doe",
    "given_name": "Jane",
    "family_name": "Doe",
    "preferred_username": "j.doe",
    "email": "janedoe@example.com",
    "picture": "http://example.com/janedoe/me.jpg",
}


# --- request -------------------------------------------------------------------------------


def test_userinfo_request_oidc_core_5_3_1_example() -> None:
    request = oc.userinfo_request(SERVER, TOKEN)
    assert request.method == "GET"
    assert request.url == "https://server.example.com/userinfo"
    assert request.headers["authorization"] == "Bearer SlAV32hkKG"
    assert request.headers["accept"] == "application/json"
    assert request.body == b""
    assert oc.userinfo_request(SERVER, "SlAV32hkKG") == request


def test_userinfo_request_https_rule() -> None:
    insecure = oc.ServerMetadata("http://as", userinfo_endpoint="http://as/userinfo")
    with pytest.raises(oc.UsageError, match="plain http"):
        oc.userinfo_request(insecure, TOKEN)
    assert (
        oc.userinfo_request(insecure, TOKEN, allow_insecure_http=True).url == "http://as/userinfo"
    )
    loopback = oc.ServerMetadata("http://127.0.0.1", userinfo_endpoint="http://127.0.0.1:9/ui")
    assert oc.userinfo_request(loopback, TOKEN).url == "http://127.0.0.1:9/ui"


def test_userinfo_request_needs_the_endpoint_and_a_bearer_token() -> None:
    with pytest.raises(oc.UsageError, match="userinfo_endpoint"):
        oc.userinfo_request(oc.ServerMetadata("https://as"), TOKEN)
    with pytest.raises(oc.UsageError, match="DPoP"):
        oc.userinfo_request(SERVER, oc.Token("x", token_type="DPoP"))


# --- response ------------------------------------------------------------------------------


def test_process_oidc_core_5_3_2_example() -> None:
    info = oc.process_userinfo_response(json_response(200, CLAIMS))
    assert info.sub == "248289761001"
    assert dict(info.claims) == CLAIMS
    assert info == oc.UserInfo(sub="248289761001", claims=CLAIMS)


def test_repr_shows_no_personal_data() -> None:
    info = oc.process_userinfo_response(json_response(200, CLAIMS))
    assert "janedoe@example.com" not in repr(info)
    assert "Jane" not in str(info)
    assert "email" in repr(info)


def test_expected_sub_must_match() -> None:
    """OIDC Core §5.3.2: the sub in the UserInfo response MUST match the ID token's."""
    response = json_response(200, CLAIMS)
    assert oc.process_userinfo_response(response, expected_sub="248289761001").sub
    with pytest.raises(oc.MalformedResponseError) as info:
        oc.process_userinfo_response(response, expected_sub="someone-else")
    assert info.value.field == "sub"


@pytest.mark.parametrize("data", [{"name": "x"}, {"sub": 248289761001}, {"sub": ""}])
def test_sub_is_required(data: dict[str, object]) -> None:
    with pytest.raises(oc.MalformedResponseError) as info:
        oc.process_userinfo_response(json_response(200, data))
    assert info.value.field == "sub"


def test_error_from_the_bearer_challenge() -> None:
    response = oc.HttpResponse(
        401,
        {
            "www-authenticate": 'Bearer realm="example", error="invalid_token", '
            'error_description="The access token expired"'
        },
        b"",
        T0,
    )
    with pytest.raises(oc.EndpointError) as info:
        oc.process_userinfo_response(response)
    assert info.value.error == "invalid_token"
    assert info.value.error_description == "The access token expired"
    assert info.value.status == 401
    assert "invalid_token" in str(info.value)


def test_quirk_oidc_core_5_3_3_example_without_scheme() -> None:
    """OIDC Core §5.3.3's example WWW-Authenticate has no "Bearer"; its error still counts."""
    response = oc.HttpResponse(
        401,
        {"www-authenticate": 'error="invalid_token", error_description="The Access Token expired"'},
        b"",
        T0,
    )
    with pytest.raises(oc.EndpointError) as info:
        oc.process_userinfo_response(response)
    assert info.value.error == "invalid_token"


def test_insufficient_scope_403() -> None:
    response = oc.HttpResponse(
        403, {"www-authenticate": 'Bearer error="insufficient_scope", scope="profile"'}, b"", T0
    )
    with pytest.raises(oc.EndpointError) as info:
        oc.process_userinfo_response(response)
    assert info.value.error == "insufficient_scope"
    assert info.value.status == 403


def test_challenge_without_error_falls_back_to_the_body() -> None:
    response = json_response(
        401, {"error": "invalid_token"}, headers={"www-authenticate": 'Bearer realm="x"'}
    )
    with pytest.raises(oc.EndpointError) as info:
        oc.process_userinfo_response(response)
    assert info.value.error == "invalid_token"


def test_html_error_page() -> None:
    response = oc.HttpResponse(502, {"content-type": "text/html"}, b"<h1>Bad gateway</h1>", T0)
    with pytest.raises(oc.EndpointError) as info:
        oc.process_userinfo_response(response)
    assert info.value.error is None
    assert info.value.status == 502
    assert info.value.retryable


def test_signed_userinfo_is_left_to_the_signed_flow() -> None:
    response = oc.HttpResponse(200, {"content-type": "application/jwt"}, b"eyJ.eyJ.sig", T0)
    with pytest.raises(oc.UsageError, match="userinfo_response_flow"):
        oc.process_userinfo_response(response)


# --- properties ----------------------------------------------------------------------------


@given(
    status=st.integers(100, 599),
    body=st.one_of(
        st.binary(max_size=200),
        st.builds(
            lambda d: json.dumps(d).encode(),
            st.dictionaries(
                st.sampled_from(["sub", "email", "error", "error_description"]),
                st.one_of(st.none(), st.integers(), st.text(max_size=8), st.lists(st.integers())),
            ),
        ),
    ),
    ctype=st.sampled_from(["application/json", "application/jwt", "text/html", ""]),
    challenge=st.one_of(st.none(), st.text(max_size=60)),
)
def test_property_process_userinfo_response_is_total(
    status: int, body: bytes, ctype: str, challenge: str | None
) -> None:
    """Any bytes, status and WWW-Authenticate give UserInfo or an OAuth2Error."""
    headers = {"content-type": ctype} if ctype else {}
    if challenge is not None:
        headers["www-authenticate"] = challenge
    response = oc.HttpResponse(status, headers, body, T0)
    try:
        info = oc.process_userinfo_response(response)
    except oc.OAuth2Error:
        return
    assert info.sub
    assert 200 <= status < 300
