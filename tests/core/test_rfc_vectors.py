"""The example messages printed in the RFCs, byte for byte where the RFC is exact.

RFC 6749 (§4.1.1, §4.1.2, §4.1.2.1, §4.1.3, §4.3.2, §4.4.2, §4.4.3, §5.1, §5.2, §6),
RFC 7636 Appendix B, RFC 7009 §2.1/§2.2, RFC 7662 §2.1/§2.2, RFC 9207 §2.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qsl, urlsplit

import pytest

import oauth2_core as oc

UTC = dt.timezone.utc
T0 = dt.datetime(2014, 12, 23, 15, 0, tzinfo=UTC)
# RFC 6749 §2.3.1 example credentials and their Basic header from §4.1.3.
RFC_CLIENT = oc.Client("s6BhdRkqt3", "gX1fBat3bV", redirect_uri="https://client.example.com/cb")
RFC_BASIC = "Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW"
SERVER = oc.ServerMetadata(
    issuer="https://server.example.com",
    authorization_endpoint="https://server.example.com/authorize",
    token_endpoint="https://server.example.com/token",
    revocation_endpoint="https://server.example.com/revoke",
    introspection_endpoint="https://server.example.com/introspect",
)


def _json(status: int, body: str) -> oc.HttpResponse:
    return oc.HttpResponse(
        status, {"content-type": "application/json;charset=UTF-8"}, body.encode(), T0
    )


def test_rfc7636_appendix_b_s256_challenge() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert oc.code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert oc.code_challenge(verifier, "S256") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_rfc6749_4_1_1_authorization_request() -> None:
    # GET /authorize?response_type=code&client_id=s6BhdRkqt3&state=xyz
    #     &redirect_uri=https%3A%2F%2Fclient%2Eexample%2Ecom%2Fcb
    pending = oc.new_pending_authorization(RFC_CLIENT, state="xyz", pkce=False)
    url = oc.authorization_url(SERVER, RFC_CLIENT, pending)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "server.example.com", "/authorize")
    assert sorted(parse_qsl(parts.query)) == sorted(
        [
            ("response_type", "code"),
            ("client_id", "s6BhdRkqt3"),
            ("state", "xyz"),
            ("redirect_uri", "https://client.example.com/cb"),
        ]
    )


def test_rfc6749_4_1_1_authorization_request_with_rfc7636_challenge() -> None:
    pending = oc.new_pending_authorization(
        RFC_CLIENT, state="xyz", code_verifier="dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    )
    query = dict(parse_qsl(urlsplit(oc.authorization_url(SERVER, RFC_CLIENT, pending)).query))
    assert query["code_challenge"] == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert query["code_challenge_method"] == "S256"


def test_rfc6749_4_1_2_authorization_response() -> None:
    pending = oc.new_pending_authorization(RFC_CLIENT, state="xyz")
    code = oc.parse_callback(
        "https://client.example.com/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz",
        server=SERVER,
        pending=pending,
    )
    assert (code.code, code.state, code.iss, dict(code.params)) == (
        "SplxlOBeZQQYbYS6WxSbIA",
        "xyz",
        None,
        {},
    )


def test_rfc6749_4_1_2_1_error_response() -> None:
    pending = oc.new_pending_authorization(RFC_CLIENT, state="xyz")
    with pytest.raises(oc.AuthorizationError) as info:
        oc.parse_callback(
            "https://client.example.com/cb?error=access_denied&state=xyz",
            server=SERVER,
            pending=pending,
        )
    assert info.value.error == "access_denied"
    assert info.value.error_description is None


def test_rfc9207_2_authorization_response_with_iss() -> None:
    server = oc.ServerMetadata(
        issuer="https://honest.as.example", authorization_response_iss_parameter_supported=True
    )
    pending = oc.new_pending_authorization(
        RFC_CLIENT, state="ZWVlNDBlYzA1NjdkMDNhYjg3ZjUxZjAyNGQzMTM2NzI"
    )
    code = oc.parse_callback(
        "https://client.example/cb?code=x1848ZT64p4IirMPT0R-X3141MFPTuBX-VFL_cvaplMH58"
        "&state=ZWVlNDBlYzA1NjdkMDNhYjg3ZjUxZjAyNGQzMTM2NzI&iss=https%3A%2F%2Fhonest.as.example",
        server=server,
        pending=pending,
    )
    assert code.code == "x1848ZT64p4IirMPT0R-X3141MFPTuBX-VFL_cvaplMH58"
    assert code.iss == "https://honest.as.example"


def test_rfc6749_4_1_3_access_token_request() -> None:
    # POST /token, Authorization: Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW,
    # grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA
    # &redirect_uri=https%3A%2F%2Fclient%2Eexample%2Ecom%2Fcb
    pending = oc.new_pending_authorization(RFC_CLIENT, state="xyz", pkce=False)
    code = oc.parse_callback(
        "code=SplxlOBeZQQYbYS6WxSbIA&state=xyz", server=SERVER, pending=pending
    )
    request = oc.authorization_code_grant_request(SERVER, RFC_CLIENT, code, pending)
    assert request.method == "POST"
    assert request.url == "https://server.example.com/token"
    assert request.headers["authorization"] == RFC_BASIC
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qsl(request.body.decode("ascii"), strict_parsing=True) == [
        ("grant_type", "authorization_code"),
        ("code", "SplxlOBeZQQYbYS6WxSbIA"),
        ("redirect_uri", "https://client.example.com/cb"),
    ]


def test_rfc6749_4_3_2_password_request() -> None:
    request = oc.password_grant_request(SERVER, RFC_CLIENT, "johndoe", "A3ddj3w")
    assert request.headers["authorization"] == RFC_BASIC
    assert request.body == b"grant_type=password&username=johndoe&password=A3ddj3w"


def test_rfc6749_4_4_2_client_credentials_request() -> None:
    request = oc.client_credentials_grant_request(SERVER, RFC_CLIENT)
    assert request.headers["authorization"] == RFC_BASIC
    assert request.body == b"grant_type=client_credentials"


def test_rfc6749_4_4_3_client_credentials_response() -> None:
    token = oc.process_token_response(
        _json(
            200,
            '{"access_token":"2YotnFZFEjr1zCsicMWpAA","token_type":"example",'
            '"expires_in":3600,"example_parameter":"example_value"}',
        )
    )
    assert token.access_token == "2YotnFZFEjr1zCsicMWpAA"
    assert token.token_type == "example"  # unknown types are kept as sent
    assert token.refresh_token is None
    assert dict(token.extra) == {"example_parameter": "example_value"}


def test_rfc6749_5_1_successful_response() -> None:
    token = oc.process_token_response(
        _json(
            200,
            """{
       "access_token":"2YotnFZFEjr1zCsicMWpAA",
       "token_type":"example",
       "expires_in":3600,
       "refresh_token":"tGzv3JOkF0XQx9yRPl3ByXs",
       "example_parameter":"example_value"
     }""",
        )
    )
    assert token.access_token == "2YotnFZFEjr1zCsicMWpAA"
    assert token.token_type == "example"
    assert token.expires_at == T0 + dt.timedelta(seconds=3600)
    assert token.refresh_token == "tGzv3JOkF0XQx9yRPl3ByXs"
    assert token.scope is None
    assert token.id_token is None
    assert dict(token.extra) == {"example_parameter": "example_value"}


def test_rfc6749_5_2_error_response() -> None:
    with pytest.raises(oc.EndpointError) as info:
        oc.process_token_response(_json(400, '{\n "error":"invalid_request"\n}'))
    error = info.value
    assert (error.error, error.status, error.error_description, error.error_uri) == (
        "invalid_request",
        400,
        None,
        None,
    )
    assert error.retryable is False and error.reauthorize is False


def test_rfc6749_6_refresh_request() -> None:
    token = oc.Token("2YotnFZFEjr1zCsicMWpAA", refresh_token="tGzv3JOkF0XQx9yRPl3ByXs")
    request = oc.refresh_token_grant_request(SERVER, RFC_CLIENT, token)
    assert request.headers["authorization"] == RFC_BASIC
    assert request.body == b"grant_type=refresh_token&refresh_token=tGzv3JOkF0XQx9yRPl3ByXs"


def test_rfc7009_2_1_revocation_request() -> None:
    request = oc.revocation_request(
        SERVER, RFC_CLIENT, "45ghiukldjahdnhzdauz", token_type_hint="refresh_token"
    )
    assert request.method == "POST"
    assert request.url == "https://server.example.com/revoke"
    assert request.headers["authorization"] == RFC_BASIC
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.body == b"token=45ghiukldjahdnhzdauz&token_type_hint=refresh_token"


def test_rfc7009_2_2_revocation_response_200() -> None:
    # "The authorization server responds with HTTP status code 200 if the token
    # has been revoked successfully or if the client submitted an invalid token."
    assert oc.process_revocation_response(oc.HttpResponse(200, {}, b"", T0)) is None


def test_rfc7009_2_2_1_unsupported_token_type() -> None:
    with pytest.raises(oc.EndpointError) as info:
        oc.process_revocation_response(_json(400, '{"error":"unsupported_token_type"}'))
    assert info.value.error == "unsupported_token_type"


def test_rfc7009_2_2_1_503_is_retryable() -> None:
    # "the client must assume the token still exists and may retry after a reasonable delay"
    response = oc.HttpResponse(503, {"retry-after": "30"}, b"", T0)
    with pytest.raises(oc.EndpointError) as info:
        oc.process_revocation_response(response)
    assert info.value.retryable is True
    assert info.value.retry_after == 30.0


def test_rfc7662_2_1_introspection_request() -> None:
    request = oc.introspection_request(
        SERVER, RFC_CLIENT, "mF_9.B5f-4.1JqM", token_type_hint="access_token"
    )
    assert request.method == "POST"
    assert request.url == "https://server.example.com/introspect"
    assert request.headers["accept"] == "application/json"
    assert request.headers["authorization"] == RFC_BASIC
    assert request.body == b"token=mF_9.B5f-4.1JqM&token_type_hint=access_token"


def test_rfc7662_2_2_introspection_response() -> None:
    info = oc.process_introspection_response(
        _json(
            200,
            """{
      "active": true,
      "client_id": "l238j323ds-23ij4",
      "username": "jdoe",
      "scope": "read write dolphin",
      "sub": "Z5O3upPC88QrAjx00dis",
      "aud": "https://protected.example.net/resource",
      "iss": "https://server.example.com/",
      "exp": 1419356238,
      "iat": 1419350238,
      "extension_field": "twenty-seven"
     }""",
        )
    )
    assert info.active is True
    assert info.client_id == "l238j323ds-23ij4"
    assert info.username == "jdoe"
    assert info.scope == ("read", "write", "dolphin")
    assert info.sub == "Z5O3upPC88QrAjx00dis"
    assert info.aud == ("https://protected.example.net/resource",)
    assert info.iss == "https://server.example.com/"
    assert info.exp == dt.datetime(2014, 12, 23, 17, 37, 18, tzinfo=UTC)
    assert info.iat == dt.datetime(2014, 12, 23, 15, 57, 18, tzinfo=UTC)
    assert dict(info.extra) == {"extension_field": "twenty-seven"}


def test_rfc7662_2_2_inactive_response() -> None:
    info = oc.process_introspection_response(_json(200, '{"active": false}'))
    assert info == oc.Introspection(active=False)


def test_rfc6749_5_1_response_round_trips_through_json_storage() -> None:
    token = oc.process_token_response(
        _json(200, '{"access_token":"2YotnFZFEjr1zCsicMWpAA","token_type":"example"}')
    )
    assert oc.Token.from_dict(json.loads(json.dumps(token.to_dict()))) == token
