"""One named test per wire quirk seen from real providers (DESIGN §6, §7)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

import oauth2_core as oc

UTC = dt.timezone.utc
T0 = dt.datetime(2030, 1, 1, tzinfo=UTC)
MAX_EXPIRES_IN = 2**31 - 1


def _response(
    body: bytes | str | dict[str, object],
    *,
    status: int = 200,
    ctype: str = "application/json",
    headers: dict[str, str] | None = None,
) -> oc.HttpResponse:
    if isinstance(body, dict):
        body = json.dumps(body)
    fields = {"content-type": ctype} if ctype else {}
    fields.update(headers or {})
    return oc.HttpResponse(status, fields, body, T0)


def test_github_form_encoded_token_response() -> None:
    # GitHub answers form-encoded unless the request says Accept: application/json.
    token = oc.process_token_response(
        _response(
            "access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&scope=repo%2Cgist"
            "&token_type=bearer",
            ctype="application/x-www-form-urlencoded",
        )
    )
    assert token.access_token == "gho_16C7e42F292c6912E7710c838347Ae178B4a"
    assert token.token_type == "Bearer"
    # GitHub separates scopes with commas; that is its data, kept verbatim.
    assert token.scope == ("repo,gist",)
    assert token.expires_at is None


def test_github_requests_ask_for_json() -> None:
    # GitHub: sending Accept: application/json avoids the form-encoded answer.
    server = oc.ServerMetadata("https://github.com", token_endpoint="https://github.com/token")
    request = oc.client_credentials_grant_request(server, oc.Client("id", "secret"))
    assert request.headers["accept"] == "application/json"


def test_facebook_legacy_expires_in_text_plain() -> None:
    # Old Facebook Graph versions: `access_token=...&expires=5183999` as text/plain.
    token = oc.process_token_response(
        _response("access_token=EAAB1234&expires=5183999", ctype="text/plain; charset=UTF-8")
    )
    assert token.access_token == "EAAB1234"
    assert token.token_type == "Bearer"
    assert token.expires_at == T0 + dt.timedelta(seconds=5183999)


def test_paypal_string_expires_in() -> None:
    # PayPal sends expires_in as a JSON string.
    token = oc.process_token_response(
        _response({"access_token": "A21AA", "token_type": "Bearer", "expires_in": "32398"})
    )
    assert token.expires_at == T0 + dt.timedelta(seconds=32398)


def test_slack_error_object_with_http_200() -> None:
    # Slack answers HTTP 200 with {"ok": false, "error": "invalid_code"}.
    with pytest.raises(oc.EndpointError) as info:
        oc.process_token_response(_response({"ok": False, "error": "invalid_code"}))
    assert info.value.error == "invalid_code"
    assert info.value.status == 200


def test_lower_case_bearer_token_type_is_canonical() -> None:
    # Many servers (GitHub, Google legacy) send "bearer"; RFC 6749 §5.1 says case-insensitive.
    for sent in ("bearer", "BEARER", "Bearer", "bEaReR"):
        token = oc.process_token_response(_response({"access_token": "a", "token_type": sent}))
        assert token.token_type == "Bearer"


def test_granted_scope_differs_from_requested_scope_is_data() -> None:
    # RFC 6749 §3.3: the server may grant less (Google, Azure AD trim scopes).
    token = oc.process_token_response(
        _response({"access_token": "a", "token_type": "Bearer", "scope": "read"})
    )
    assert token.scope == ("read",)


def test_html_500_page_is_reported_as_html_not_missing_token() -> None:
    # Reverse proxies (nginx, Cloudflare) answer an HTML page when the server is down.
    html = b"<html><head><title>500 Internal Server Error</title></head></html>"
    with pytest.raises(oc.ResponseError) as info:
        oc.process_token_response(_response(html, status=500, ctype="text/html"))
    message = str(info.value)
    assert "text/html" in message
    assert "missing" not in message.lower() and "access token" not in message.lower()
    assert info.value.status == 500


def test_html_200_page_is_reported_as_html_not_missing_token() -> None:
    # Captive portals and misconfigured gateways answer 200 with HTML.
    with pytest.raises(oc.MalformedResponseError) as info:
        oc.process_token_response(_response(b"<html>login</html>", ctype="text/html"))
    assert "text/html" in str(info.value)
    assert "access_token" not in str(info.value)


def test_empty_200_body() -> None:
    # Some gateways answer 200 with nothing at all.
    with pytest.raises(oc.MalformedResponseError) as info:
        oc.process_token_response(_response(b""))
    assert "empty" in str(info.value)
    assert "access_token" not in str(info.value)


def test_json_error_at_400_with_retry_after() -> None:
    # Rate limiters (e.g. Okta) attach Retry-After to a JSON error object.
    response = _response(
        {"error": "slow_down", "error_description": "too many requests"},
        status=400,
        headers={"retry-after": "17"},
    )
    with pytest.raises(oc.EndpointError) as info:
        oc.process_token_response(response)
    assert info.value.error == "slow_down"
    assert info.value.error_description == "too many requests"
    assert info.value.retry_after == 17.0
    assert info.value.retryable is True


def test_503_with_retry_after_is_retryable() -> None:
    # RFC 9110 §10.2.3: Retry-After as seconds or as an HTTP-date.
    with pytest.raises(oc.EndpointError) as info:
        oc.process_token_response(
            _response(b"", status=503, ctype="", headers={"retry-after": "120"})
        )
    assert info.value.retryable is True
    assert info.value.retry_after == 120.0
    assert info.value.error is None
    date = "Tue, 01 Jan 2030 00:01:00 GMT"
    with pytest.raises(oc.EndpointError) as info:
        oc.process_token_response(_response(b"", status=503, headers={"retry-after": date}))
    assert info.value.retry_after == 60.0


def test_429_without_error_object_is_retryable() -> None:
    with pytest.raises(oc.EndpointError) as info:
        oc.process_token_response(_response(b"slow down", status=429, ctype="text/plain"))
    assert info.value.retryable is True and info.value.reauthorize is False


def test_invalid_grant_means_reauthorize() -> None:
    # RFC 6749 §5.2: the refresh token or code is invalid, expired or revoked.
    with pytest.raises(oc.EndpointError) as info:
        oc.process_token_response(_response({"error": "invalid_grant"}, status=400))
    assert info.value.reauthorize is True
    assert info.value.retryable is False


@pytest.mark.parametrize("members", [{"expires_in": None}, {}, {"expires_in": ""}])
def test_expires_in_null_or_missing_means_unknown(members: dict[str, object]) -> None:
    # Azure AD B2C and others omit expires_in; some send null.
    token = oc.process_token_response(_response({"access_token": "a", **members}))
    assert token.expires_at is None
    assert token.is_expired(T0 + dt.timedelta(days=10_000)) is False


def test_expires_in_negative_is_already_expired() -> None:
    token = oc.process_token_response(_response({"access_token": "a", "expires_in": -30}))
    assert token.expires_at == T0 - dt.timedelta(seconds=30)
    assert token.is_expired(T0) is True


@pytest.mark.parametrize("huge", [2**31, 2**63, 10**30, "99999999999999999999", 1e300])
def test_expires_in_huge_is_clamped(huge: object) -> None:
    token = oc.process_token_response(_response({"access_token": "a", "expires_in": huge}))
    assert token.expires_at == T0 + dt.timedelta(seconds=MAX_EXPIRES_IN)


def test_expires_in_float_is_accepted() -> None:
    token = oc.process_token_response(_response({"access_token": "a", "expires_in": 59.5}))
    assert token.expires_at == T0 + dt.timedelta(seconds=59.5)


@pytest.mark.parametrize("bad", ["NaN", "nan", "Infinity", "-inf", "abc", "1h", True, False, [1]])
def test_expires_in_non_numeric_names_the_field(bad: object) -> None:
    with pytest.raises(oc.MalformedResponseError) as info:
        oc.process_token_response(_response({"access_token": "a", "expires_in": bad}))
    assert info.value.field == "expires_in"
    assert "expires_in" in str(info.value)


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
def test_expires_in_non_finite_json_literal_is_malformed(literal: bytes) -> None:
    # Python's json accepts NaN/Infinity; the core refuses them (RFC 8259 has none).
    body = b'{"access_token": "a", "expires_in": ' + literal + b"}"
    with pytest.raises(oc.MalformedResponseError) as info:
        oc.process_token_response(_response(body))
    assert info.value.field in (None, "expires_in")
    assert info.value.status == 200


def test_refresh_without_refresh_token_keeps_previous() -> None:
    # RFC 6749 §6: "The authorization server MAY issue a new refresh token";
    # Google does not, so the old one stays valid.
    previous = oc.Token("old-at", refresh_token="old-rt", scope=("read", "write"))
    token = oc.process_refresh_response(
        _response({"access_token": "new-at", "token_type": "Bearer", "expires_in": 3600}),
        previous=previous,
    )
    assert token.access_token == "new-at"
    assert token.refresh_token == "old-rt"
    assert token.scope == ("read", "write")  # §5.1: omitted scope is unchanged


def test_refresh_with_rotated_refresh_token_uses_new_one() -> None:
    previous = oc.Token("old-at", refresh_token="old-rt")
    token = oc.process_refresh_response(
        _response({"access_token": "new-at", "refresh_token": "new-rt", "scope": "read"}),
        previous=previous,
    )
    assert token.refresh_token == "new-rt"
    assert token.scope == ("read",)


def test_scope_as_json_array_is_accepted() -> None:
    # Some servers (e.g. older Keycloak adapters) send scope as an array.
    token = oc.process_token_response(_response({"access_token": "a", "scope": ["a", "b"]}))
    assert token.scope == ("a", "b")


def test_json_with_utf8_bom() -> None:
    # Some IIS-hosted servers prefix their JSON with a byte order mark.
    token = oc.process_token_response(_response(b'\xef\xbb\xbf{"access_token": "a"}'))
    assert token.access_token == "a"


def test_json_body_without_content_type() -> None:
    token = oc.process_token_response(_response(b'{"access_token": "a"}', ctype=""))
    assert token.access_token == "a"


def test_json_body_labelled_text_plain() -> None:
    # Some servers label their JSON as text/plain or text/html.
    token = oc.process_token_response(_response(b'{"access_token": "a"}', ctype="text/plain"))
    assert token.access_token == "a"


def test_error_object_form_encoded() -> None:
    # GitHub form-encodes its errors too: error=bad_verification_code&...
    with pytest.raises(oc.EndpointError) as info:
        oc.process_token_response(
            _response(
                "error=bad_verification_code&error_description=The+code+is+incorrect",
                ctype="application/x-www-form-urlencoded",
            )
        )
    assert info.value.error == "bad_verification_code"
    assert info.value.error_description == "The code is incorrect"
