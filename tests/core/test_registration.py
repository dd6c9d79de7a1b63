"""Dynamic client registration (RFC 7591) and management (RFC 7592): step pairs and the value."""

from __future__ import annotations

import contextlib
import datetime as dt
import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import oauth2_core as oc
from oauth2_core.testing import strategies as ost

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 1, 1, tzinfo=UTC)
SERVER = oc.ServerMetadata(
    "https://server.example.com",
    authorization_endpoint="https://server.example.com/authorize",
    token_endpoint="https://server.example.com/token",
    registration_endpoint="https://server.example.com/register",
)
# RFC 7591 §3.1, the example request's metadata.
RFC_7591_REQUEST = {
    "redirect_uris": [
        "https://client.example.org/callback",
        "https://client.example.org/callback2",
    ],
    "client_name": "My Example Client",
    "client_name#ja-Jpan-JP": "\u30af\u30e9\u30a4\u30a2\u30f3\u30c8\u540d",
    "token_endpoint_auth_method": "client_secret_basic",
    "logo_uri": "https://client.example.org/logo.png",
    "jwks_uri": "https://client.example.org/my_public_keys.jwks",
    "example_extension_parameter": "example_value",
}
# RFC 7591 §3.2.1, the example client information response.
RFC_7591_RESPONSE = {
    "client_id": "s6BhdRkqt3",
    "client_secret": "cf136dc3c1fc93f31185e5885805d",
    "client_id_issued_at": 2893256800,
    "client_secret_expires_at": 2893276800,
    "redirect_uris": [
        "https://client.example.org/callback",
        "https://client.example.org/callback2",
    ],
    "grant_types": ["authorization_code", "refresh_token"],
    "client_name": "My Example Client",
    "client_name#ja-Jpan-JP": "\u30af\u30e9\u30a4\u30a2\u30f3\u30c8\u540d",
    "token_endpoint_auth_method": "client_secret_basic",
    "logo_uri": "https://client.example.org/logo.png",
    "jwks_uri": "https://client.example.org/my_public_keys.jwks",
    "example_extension_parameter": "example_value",
}
MANAGED = {
    "client_id": "c1",
    "client_secret": "s3cr3t-value",
    "client_secret_expires_at": 0,
    "registration_access_token": "reg-token-value",
    "registration_client_uri": "https://server.example.com/register/c1",
    "redirect_uris": ["https://app.example/cb"],
    "token_endpoint_auth_method": "client_secret_post",
}


def json_response(data: object, status: int = 201) -> oc.HttpResponse:
    return oc.HttpResponse(
        status, {"content-type": "application/json"}, json.dumps(data).encode(), T0
    )


# --- RFC 7591 §3.1 -------------------------------------------------------------------------


def test_rfc_7591_3_1_example_request() -> None:
    req = oc.registration_request(SERVER, RFC_7591_REQUEST)
    assert req.method == "POST"
    assert req.url == "https://server.example.com/register"
    assert req.headers["content-type"] == "application/json"
    assert req.headers["accept"] == "application/json"
    assert "authorization" not in req.headers
    assert json.loads(req.body) == RFC_7591_REQUEST


def test_usage_md_registration_request() -> None:
    redirect = "http://127.0.0.1:8765/callback"
    req = oc.registration_request(
        SERVER,
        {"client_name": "acme", "redirect_uris": [redirect], "token_endpoint_auth_method": "none"},
    )
    assert json.loads(req.body)["token_endpoint_auth_method"] == "none"


def test_initial_access_token_is_a_bearer_header() -> None:
    req = oc.registration_request(SERVER, {"client_name": "a"}, initial_access_token="iat-123")
    assert req.headers["authorization"] == "Bearer iat-123"
    assert "iat-123" not in repr(req)


@pytest.mark.parametrize("token", ["", "a b", "x\r\ny", 5])
def test_bad_initial_access_token(token: object) -> None:
    with pytest.raises(oc.UsageError):
        oc.registration_request(SERVER, {}, initial_access_token=token)  # type: ignore[arg-type]


def test_no_registration_endpoint() -> None:
    with pytest.raises(oc.UsageError, match="registration_endpoint"):
        oc.registration_request(oc.ServerMetadata("https://as.example"), {})


def test_registration_endpoint_https_rule() -> None:
    server = oc.ServerMetadata("https://as.example", registration_endpoint="http://as.example/reg")
    with pytest.raises(oc.UsageError, match="plain http"):
        oc.registration_request(server, {})
    assert oc.registration_request(server, {}, allow_insecure_http=True).url.startswith("http:")
    loopback = oc.ServerMetadata("http://127.0.0.1:9", registration_endpoint="http://127.0.0.1:9/r")
    assert oc.registration_request(loopback, {}).url == "http://127.0.0.1:9/r"


@pytest.mark.parametrize("metadata", [[("a", 1)], {"a": float("nan")}, {"a": object()}, {1: "x"}])
def test_metadata_that_is_not_a_json_object(metadata: object) -> None:
    with pytest.raises(oc.UsageError, match="metadata"):
        oc.registration_request(SERVER, metadata)  # type: ignore[arg-type]


# --- RFC 7591 §3.2 -------------------------------------------------------------------------


def test_rfc_7591_3_2_1_example_response() -> None:
    reg = oc.process_registration_response(json_response(RFC_7591_RESPONSE))
    assert reg.client_id == "s6BhdRkqt3"
    assert reg.client_secret == "cf136dc3c1fc93f31185e5885805d"
    assert reg.client_id_issued_at == dt.datetime.fromtimestamp(2893256800, UTC)
    assert reg.client_secret_expires_at == dt.datetime.fromtimestamp(2893276800, UTC)
    assert reg.registration_access_token is None
    assert reg.metadata["grant_types"] == ["authorization_code", "refresh_token"]
    assert reg.metadata["example_extension_parameter"] == "example_value"
    assert "client_secret" not in reg.metadata
    assert reg.to_dict() == RFC_7591_RESPONSE
    assert oc.ClientRegistration.from_dict(reg.to_dict()) == reg
    client = reg.client(redirect_uri="https://client.example.org/callback")
    assert client.client_id == "s6BhdRkqt3"
    assert client.auth_method == "client_secret_basic"
    assert client.redirect_uri == "https://client.example.org/callback"


def test_secret_and_registration_token_never_in_repr() -> None:
    reg = oc.process_registration_response(json_response(MANAGED))
    for text in (repr(reg), str(reg)):
        assert "s3cr3t-value" not in text
        assert "reg-token-value" not in text
        assert "c1" in text


def test_public_client_registration() -> None:
    """MCP clients register with ``token_endpoint_auth_method: none`` (PKCE only)."""
    reg = oc.process_registration_response(
        json_response(
            {
                "client_id": "pub",
                "redirect_uris": ["http://127.0.0.1:8765/cb"],
                "token_endpoint_auth_method": "none",
            }
        )
    )
    assert reg.client_secret is None
    assert reg.client_secret_expires_at is None
    client = reg.client()
    assert client.auth_method == "none"
    assert client.client_secret is None
    assert client.redirect_uri == "http://127.0.0.1:8765/cb"  # the only one registered


def test_auth_method_defaults_per_rfc_7591_2() -> None:
    """§2: omitted means client_secret_basic; without a secret that reads as none."""
    with_secret = oc.ClientRegistration.from_dict({"client_id": "a", "client_secret": "s"})
    assert with_secret.auth_method == "client_secret_basic"
    assert oc.ClientRegistration.from_dict({"client_id": "a"}).auth_method == "none"


def test_secret_expiry() -> None:
    reg = oc.ClientRegistration.from_dict(
        {"client_id": "a", "client_secret": "s", "client_secret_expires_at": "1767225600"}
    )
    assert reg.client_secret_expires_at == dt.datetime(2026, 1, 1, tzinfo=UTC)
    assert reg.secret_expired(T0)
    assert not reg.secret_expired(T0 - dt.timedelta(seconds=1))
    never = oc.ClientRegistration.from_dict(
        {"client_id": "a", "client_secret": "s", "client_secret_expires_at": 0}
    )
    assert never.client_secret_expires_at is None
    assert not never.secret_expired(dt.datetime.max.replace(tzinfo=UTC))
    assert never.to_dict()["client_secret_expires_at"] == 0


def test_replaced_metadata_is_data() -> None:
    """§3.2.1: the server may replace requested values; the answer is what counts."""
    reg = oc.process_registration_response(
        json_response({"client_id": "a", "scope": "read", "grant_types": ["authorization_code"]})
    )
    assert reg.metadata == {"scope": "read", "grant_types": ["authorization_code"]}


def test_200_is_accepted_like_201() -> None:
    assert oc.process_registration_response(json_response({"client_id": "a"}, 200)).client_id


@pytest.mark.parametrize("error", ["invalid_redirect_uri", "invalid_client_metadata"])
def test_rfc_7591_3_2_2_error_response(error: str) -> None:
    response = json_response(
        {"error": error, "error_description": "The redirection URI is not allowed"}, 400
    )
    with pytest.raises(oc.EndpointError) as info:
        oc.process_registration_response(response)
    assert info.value.error == error
    assert info.value.status == 400
    assert "registration endpoint" in str(info.value)


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({}, "client_id"),
        ({"client_id": 5}, "client_id"),
        ({"client_id": "a", "client_secret": 5}, "client_secret"),
        ({"client_id": "a", "client_secret": ""}, "client_secret"),
        ({"client_id": "a", "client_secret_expires_at": "soon"}, "client_secret_expires_at"),
        ({"client_id": "a", "client_secret_expires_at": True}, "client_secret_expires_at"),
        ({"client_id": "a", "client_id_issued_at": -1}, "client_id_issued_at"),
        ({"client_id": "a", "registration_client_uri": []}, "registration_client_uri"),
    ],
)
def test_malformed_members_are_named(document: dict[str, object], field: str) -> None:
    with pytest.raises(oc.MalformedResponseError) as info:
        oc.process_registration_response(json_response(document))
    assert info.value.field == field
    assert info.value.status == 201


def test_huge_timestamps_are_clamped() -> None:
    reg = oc.ClientRegistration.from_dict({"client_id": "a", "client_secret_expires_at": 1e300})
    assert reg.client_secret_expires_at == dt.datetime.max.replace(microsecond=0, tzinfo=UTC)
    assert oc.ClientRegistration.from_dict(reg.to_dict()) == reg


# --- RFC 7592 ------------------------------------------------------------------------------


def managed() -> oc.ClientRegistration:
    return oc.process_registration_response(json_response(MANAGED))


def test_rfc_7592_read_request() -> None:
    req = oc.registration_read_request(managed())
    assert (req.method, req.url) == ("GET", "https://server.example.com/register/c1")
    assert req.headers["authorization"] == "Bearer reg-token-value"
    assert req.body == b""


def test_rfc_7592_update_request_carries_id_and_secret() -> None:
    reg = managed()
    req = oc.registration_update_request(reg, {**reg.metadata, "client_name": "renamed"})
    assert req.method == "PUT"
    assert req.headers["content-type"] == "application/json"
    body = json.loads(req.body)
    assert body["client_id"] == "c1"
    assert body["client_secret"] == "s3cr3t-value"  # §2.2: must match the issued one
    assert body["client_name"] == "renamed"
    assert "registration_access_token" not in body


@pytest.mark.parametrize(
    "member",
    [
        "registration_access_token",
        "registration_client_uri",
        "client_secret_expires_at",
        "client_id_issued_at",
    ],
)
def test_rfc_7592_update_refuses_forbidden_members(member: str) -> None:
    with pytest.raises(oc.UsageError, match="7592"):
        oc.registration_update_request(managed(), {member: "x"})


def test_rfc_7592_update_refuses_another_client_id() -> None:
    with pytest.raises(oc.UsageError, match="client_id"):
        oc.registration_update_request(managed(), {"client_id": "someone-else"})


def test_rfc_7592_delete() -> None:
    req = oc.registration_delete_request(managed())
    assert (req.method, req.headers["authorization"]) == ("DELETE", "Bearer reg-token-value")
    assert oc.process_registration_delete_response(oc.HttpResponse(204, {}, b"", T0)) is None
    with pytest.raises(oc.EndpointError) as info:
        oc.process_registration_delete_response(json_response({"error": "invalid_token"}, 401))
    assert info.value.error == "invalid_token"


def test_rfc_7592_read_keeps_token_when_omitted_and_takes_a_new_one() -> None:
    previous = managed()
    answer = {k: v for k, v in MANAGED.items() if not k.startswith("registration_")}
    kept = oc.process_registration_response(json_response(answer, 200), previous=previous)
    assert kept.registration_access_token == "reg-token-value"
    assert kept.registration_client_uri == "https://server.example.com/register/c1"
    rotated = oc.process_registration_response(
        json_response({**answer, "registration_access_token": "new-token"}, 200),
        previous=previous,
    )
    assert rotated.registration_access_token == "new-token"


def test_rfc_7592_answer_for_another_client_is_refused() -> None:
    with pytest.raises(oc.MalformedResponseError) as info:
        oc.process_registration_response(
            json_response({"client_id": "other"}, 200), previous=managed()
        )
    assert info.value.field == "client_id"


def test_management_without_the_endpoint_is_a_usage_error() -> None:
    reg = oc.ClientRegistration.from_dict({"client_id": "a"})
    for build in (oc.registration_read_request, oc.registration_delete_request):
        with pytest.raises(oc.UsageError, match="7592"):
            build(reg)
    with pytest.raises(oc.UsageError, match="7592"):
        oc.registration_update_request(reg, {})


def test_management_https_rule() -> None:
    reg = oc.ClientRegistration.from_dict(
        {**MANAGED, "registration_client_uri": "http://server.example.com/register/c1"}
    )
    with pytest.raises(oc.UsageError, match="plain http"):
        oc.registration_read_request(reg)


def test_secrets_of_management_requests_are_redacted_from_echoes() -> None:
    reg = managed()
    req = oc.registration_update_request(reg, {})
    assert {"reg-token-value", "s3cr3t-value"} <= oc.request_secrets(req)


# --- totality ------------------------------------------------------------------------------


@given(response=ost.http_responses())
@example(response=json_response({"client_id": "a", "client_id_issued_at": 1e400}))
@example(response=json_response({"client_id": "a", "client_secret_expires_at": "9" * 5000}))
@example(response=json_response({"client_id": "a", "client_secret_expires_at": float("inf")}))
@example(response=json_response({"client_id": ["a"]}))
def test_registration_processors_are_total(response: oc.HttpResponse) -> None:
    """Any response ends in a value or an OAuth2Error, for every registration processor."""
    with contextlib.suppress(oc.OAuth2Error):
        assert isinstance(oc.process_registration_response(response), oc.ClientRegistration)
    with contextlib.suppress(oc.OAuth2Error):
        oc.process_registration_response(response, previous=managed())
    with contextlib.suppress(oc.OAuth2Error):
        oc.process_registration_delete_response(response)


_VALUES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.lists(st.text(max_size=8), max_size=3)
)


@given(
    document=st.dictionaries(
        st.sampled_from(
            [
                "client_id",
                "client_secret",
                "client_id_issued_at",
                "client_secret_expires_at",
                "registration_access_token",
                "registration_client_uri",
                "redirect_uris",
                "token_endpoint_auth_method",
                "x",
            ]
        ),
        _VALUES,
    )
)
@example(document={"client_id": "a", "client_id_issued_at": 0.5})
@example(document={"client_id": "a", "client_id_issued_at": 1.5e300})
def test_registration_round_trips_or_is_refused(document: dict[str, object]) -> None:
    """Any document is a ClientRegistration that round-trips through to_dict, or refused."""
    try:
        reg = oc.ClientRegistration.from_dict(document)
    except oc.MalformedResponseError:
        return
    assert oc.ClientRegistration.from_dict(json.loads(json.dumps(reg.to_dict()))) == reg
    with contextlib.suppress(oc.UsageError):
        assert reg.client().client_id == reg.client_id
