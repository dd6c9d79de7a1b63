"""Every line of the "Core (no IO)" block of shared/USAGE.md, executed as written.

The names the block leaves undefined (``discovery_json_dict``, ``verifier``,
``token``, ``received_at``, ``old_token``, ``now``) are defined first; each
line is followed by assertions on what it returned.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qs, urlsplit

import pytest

import oauth2_core as oc

UTC = dt.timezone.utc

discovery_json_dict = {
    "issuer": "https://as.example",
    "authorization_endpoint": "https://as.example/authorize",
    "token_endpoint": "https://as.example/token",
    "revocation_endpoint": "https://as.example/revoke",
    "introspection_endpoint": "https://as.example/introspect",
    "device_authorization_endpoint": "https://as.example/device",
    "x_custom": {"nested": [1, 2]},
}
verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
received_at = dt.datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
TOKEN_BODY = {
    "access_token": "at-1",
    "token_type": "bearer",
    "expires_in": 3600,
    "refresh_token": "rt-1",
    "scope": "openid email",
    "id_token": "h.p.s",
}


def _token_response(body: dict[str, object]) -> oc.HttpResponse:
    return oc.HttpResponse(
        status=200,
        headers={"content-type": "application/json"},
        body=json.dumps(body).encode(),
        received_at=received_at,
    )


def test_core_usage_block_runs_as_written() -> None:
    server = oc.ServerMetadata(
        issuer="https://as.example",
        authorization_endpoint="https://as.example/authorize",
        token_endpoint="https://as.example/token",
        revocation_endpoint="https://as.example/revoke",
        introspection_endpoint="https://as.example/introspect",
        device_authorization_endpoint="https://as.example/device",
    )
    assert server.token_endpoint == "https://as.example/token"
    server = oc.ServerMetadata.from_dict(discovery_json_dict)  # unknown members kept, not lost:
    server.extra["x_custom"]
    server.to_dict()
    assert server.extra["x_custom"] == {"nested": [1, 2]}
    assert server.to_dict() == discovery_json_dict

    client = oc.Client("app", "s3cr3t", redirect_uri="https://app.example/cb")
    assert client.auth_method == "client_secret_basic"
    client = oc.Client("app", "s3cr3t", auth_method="client_secret_post")
    assert client.auth_method == "client_secret_post"
    public = oc.Client("cli", auth_method="none", redirect_uri="http://127.0.0.1:8765/callback")
    assert public.client_secret is None
    client = oc.Client("app", "s3cr3t", allow_insecure_http=True)
    assert client.allow_insecure_http is True

    assert (
        oc.code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
    generated = oc.generate_code_verifier()
    assert 43 <= len(generated) <= 128

    pending = oc.new_pending_authorization(client)
    assert pending.state and pending.code_verifier and pending.nonce
    pending = oc.new_pending_authorization(
        client, state="xyz", code_verifier=verifier, nonce="n-0S6"
    )
    saved = pending.to_dict()
    pending = oc.PendingAuthorization.from_dict(saved)
    assert json.loads(json.dumps(saved)) == saved
    assert pending.state == "xyz" and pending.code_verifier == verifier
    url = oc.authorization_url(server, client, pending, scope="openid email", prompt="consent")
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("https://as.example/authorize?")
    assert query["scope"] == ["openid email"] and query["prompt"] == ["consent"]
    assert query["nonce"] == ["n-0S6"] and query["state"] == ["xyz"]
    assert query["code_challenge"] == ["E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"]
    code = oc.parse_callback(
        "https://app.example/cb?code=abc&state=xyz", server=server, pending=pending
    )
    assert code.code == "abc"

    request = oc.authorization_code_grant_request(server, client, code, pending)
    assert isinstance(request, oc.HttpRequest)
    request.method, request.url, request.headers, request.body  # noqa: B018
    assert request.method == "POST" and request.url == "https://as.example/token"
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in request.headers.items())
    assert parse_qs(request.body.decode())["code_verifier"] == [verifier]
    request = oc.client_credentials_grant_request(server, client, scope="read write")
    assert parse_qs(request.body.decode())["scope"] == ["read write"]
    request = oc.password_grant_request(server, client, "alice", "wonderland", scope="read")
    assert parse_qs(request.body.decode())["username"] == ["alice"]

    token = oc.process_token_response(_token_response(TOKEN_BODY))
    request = oc.refresh_token_grant_request(server, client, token)  # token: oc.Token
    assert parse_qs(request.body.decode())["refresh_token"] == ["rt-1"]
    request = oc.revocation_request(
        server, client, token.access_token, token_type_hint="access_token"
    )
    assert request.url == "https://as.example/revoke"
    request = oc.introspection_request(server, client, token.access_token)
    assert request.url == "https://as.example/introspect"

    # The block's literal placeholder body is not JSON: an honest error, not a crash.
    response = oc.HttpResponse(
        status=200,
        headers={"content-type": "application/json"},
        body=b"{...}",
        received_at=received_at,
    )
    with pytest.raises(oc.MalformedResponseError, match="application/json"):
        oc.process_token_response(response)
    response = oc.HttpResponse(
        status=200,
        headers={"content-type": "application/json"},
        body=json.dumps({**TOKEN_BODY, "access_token": "at-2"}).encode(),
        received_at=received_at,
    )
    token = oc.process_token_response(response)  # -> oc.Token
    assert isinstance(token, oc.Token)
    old_token = oc.process_token_response(_token_response(TOKEN_BODY))
    token = oc.process_refresh_response(response, previous=old_token)
    assert (
        token.access_token,
        token.token_type,
        token.refresh_token,
        token.expires_at,
        token.scope,
        token.id_token,
    ) == (
        "at-2",
        "Bearer",
        "rt-1",
        received_at + dt.timedelta(seconds=3600),
        ("openid", "email"),
        "h.p.s",
    )
    assert token.scope == ("openid", "email")  # tuple of str, or None
    now = received_at + dt.timedelta(seconds=10)
    assert token.is_expired(now) is False
    assert token.is_expired(now + dt.timedelta(hours=1)) is True
    assert oc.Token.from_dict(token.to_dict()) == token

    try:
        ...
    except oc.EndpointError as e:
        e.error, e.error_description, e.status  # noqa: B018
    except oc.ResponseError:
        ...
    except oc.CallbackError:
        ...
    except oc.OAuth2Error:
        ...


def _caught_by(exc: BaseException) -> str:
    """The except clause of the usage block that catches ``exc``."""
    try:
        raise exc
    except oc.EndpointError as e:
        e.error, e.error_description, e.status  # noqa: B018
        return "EndpointError"
    except oc.ResponseError:
        return "ResponseError"
    except oc.CallbackError:
        return "CallbackError"
    except oc.OAuth2Error:
        return "OAuth2Error"


@pytest.mark.parametrize(
    ("response_body", "status", "clause"),
    [
        (b'{"error": "invalid_grant", "error_description": "gone"}', 400, "EndpointError"),
        (b"<html>oops</html>", 200, "ResponseError"),
    ],
)
def test_usage_except_clauses_catch_response_errors(
    response_body: bytes, status: int, clause: str
) -> None:
    response = oc.HttpResponse(
        status=status, headers={"content-type": "text/html"}, body=response_body,
        received_at=received_at,
    )  # fmt: skip
    with pytest.raises(oc.OAuth2Error) as info:
        oc.process_token_response(response)
    assert _caught_by(info.value) == clause


def test_usage_except_clauses_catch_callback_and_usage_errors() -> None:
    server = oc.ServerMetadata.from_dict(discovery_json_dict)
    client = oc.Client("app", "s3cr3t")
    pending = oc.new_pending_authorization(client, state="xyz")
    with pytest.raises(oc.OAuth2Error) as info:
        oc.parse_callback("code=abc&state=other", server=server, pending=pending)
    assert _caught_by(info.value) == "CallbackError"
    with pytest.raises(oc.OAuth2Error) as info:
        oc.Client("")
    assert _caught_by(info.value) == "OAuth2Error"
