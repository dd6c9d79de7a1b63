"""The "Transports (IO)" block of shared/USAGE.md, line by line, against the mock server.

Only the host changes: ``https://as.example`` becomes the mock server's loopback
issuer, and ``api_url`` its UserInfo endpoint.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

import oauth2_core as oc
from oauth2_transports import (
    OAuth2Client,
    RequestsTransport,
    TokenManager,
    TransportError,
    Urllib3Transport,
)
from oauth2_transports.requests import OAuth2Auth
from oauth2_transports.testing import MockAuthorizationServer


@pytest.fixture
def mock() -> Iterator[MockAuthorizationServer]:
    with MockAuthorizationServer(device_interval=1) as server:
        yield server


def scripted_browser(url: str) -> str:
    response = requests.get(url, allow_redirects=False, timeout=10)
    assert response.status_code in (302, 303)
    return response.headers["location"]


def test_transports_block_as_written(mock: MockAuthorizationServer) -> None:
    server = mock.server_metadata()
    client = mock.client("app")
    saved: list[oc.Token] = []
    save = saved.append
    api_url = server.userinfo_endpoint
    assert TransportError is not None

    c = OAuth2Client(server, client)  # default transport: Urllib3Transport()
    assert isinstance(c.transport, Urllib3Transport)
    c = OAuth2Client(server, client, transport=RequestsTransport())
    c = OAuth2Client.discover(mock.issuer, client)  # RFC 8414 / OIDC discovery, issuer checked
    assert (c.server.token_endpoint, c.client) == (server.token_endpoint, client)

    pending = oc.new_pending_authorization(client, redirect_uri="http://127.0.0.1:8765/callback")
    url = c.authorization_url(pending, scope="openid email")
    assert url == oc.authorization_url(c.server, c.client, pending, scope="openid email")
    token = c.client_credentials(scope="read")
    token = c.client_credentials(scope="read", resource="urn:api")
    assert mock.requests[-1].form["resource"] == "urn:api"
    token = c.password("alice", "wonderland", scope="read")
    callback_url = scripted_browser(url)
    token = c.exchange_code(pending, callback_url)
    assert token.id_token_claims is not None
    previous_refresh = token.refresh_token
    token = c.refresh(token)
    assert token.refresh_token is not None
    assert token.refresh_token != previous_refresh  # the mock rotates by default
    c.revoke(token.refresh_token, token_type_hint="refresh_token")
    info = c.introspect(token.access_token)
    assert isinstance(info.active, bool)
    auth = c.device_authorization(scope="openid")
    assert auth.user_code and auth.verification_uri
    mock.approve_device(auth.user_code)
    token = c.poll_device(auth)
    assert token.access_token

    manager = TokenManager(c, token, on_token=save)
    assert manager.token().access_token
    manager = TokenManager(c, scope="read")  # client credentials: fetched on demand
    assert manager.token().access_token

    user_token = TokenManager(c, c.password("alice", "wonderland", scope="openid"))
    response = requests.get(api_url, auth=OAuth2Auth(user_token), timeout=10)
    assert response.status_code == 200
    assert response.json()["sub"] == "alice"


def test_jwt_bearer_and_token_exchange_methods(mock: MockAuthorizationServer) -> None:
    c = OAuth2Client.discover(mock.issuer, mock.client("app"))
    subject = c.password("alice", "wonderland", scope="read")
    exchanged = c.token_exchange(
        subject.access_token,
        oc.TOKEN_TYPE_ACCESS_TOKEN,
        scope="read",
        audience="urn:downstream",
    )
    assert exchanged.issued_token_type == oc.TOKEN_TYPE_ACCESS_TOKEN
    sent = mock.requests[-1].form
    assert sent["grant_type"] == oc.TOKEN_EXCHANGE_GRANT_TYPE
    assert sent["audience"] == "urn:downstream"
    # This mock trusts no assertion issuer (and the JWT is unsigned): the request is
    # well-formed and the refusal typed, RFC 7523 §3.1's invalid_grant.
    with pytest.raises(oc.EndpointError) as caught:
        c.jwt_bearer("eyJhbGciOiJub25lIn0.e30.", scope="read")
    assert caught.value.error == "invalid_grant"
    assert mock.requests[-1].form["assertion"] == "eyJhbGciOiJub25lIn0.e30."


def test_retry_policy_is_opt_in_and_bounded(mock: MockAuthorizationServer) -> None:
    retrying = OAuth2Client.discover(
        mock.issuer, mock.client("app"), retry=oc.RetryPolicy(attempts=3, initial_delay=0.01)
    )
    mock.fail_next(2, status=503, path="/token")
    assert retrying.client_credentials(scope="read").access_token
    token_calls = [r for r in mock.requests if r.path == "/token"]
    assert [r.status for r in token_calls[-3:]] == [503, 503, 200]
    plain = OAuth2Client.discover(mock.issuer, mock.client("app"))
    mock.fail_next(1, status=503, path="/token")
    with pytest.raises(oc.EndpointError):
        plain.client_credentials(scope="read")


def test_code_exchange_is_never_retried(mock: MockAuthorizationServer) -> None:
    c = OAuth2Client.discover(
        mock.issuer, mock.client("app"), retry=oc.RetryPolicy(attempts=5, initial_delay=0.01)
    )
    pending = oc.new_pending_authorization(c.client, redirect_uri="http://127.0.0.1:1/callback")
    callback: Any = scripted_browser(c.authorization_url(pending, scope="read"))
    mock.fail_next(1, status=503, path="/token")
    with pytest.raises(oc.EndpointError):
        c.exchange_code(pending, callback)
    assert len([r for r in mock.requests if r.path == "/token"]) == 1


def test_a_retried_request_is_dated_when_it_is_sent(mock: MockAuthorizationServer) -> None:
    """The retry's request is built after the backoff's Wait, dated with the time the
    driver answers it (the client's clock read after the sleep), not the time the first
    attempt was built. The clock here moves on 10 ms at every reading."""
    t0 = dt.datetime(2030, 1, 1, 12, 0, 0, 995_000, tzinfo=dt.timezone.utc)
    readings = itertools.count()

    def clock() -> dt.datetime:
        return t0 + dt.timedelta(milliseconds=10 * next(readings))

    jwt_client = oc.Client("app", "s" * 40, auth_method="client_secret_jwt")
    c = OAuth2Client.discover(
        mock.issuer,
        jwt_client,
        clock=clock,
        retry=oc.RetryPolicy(attempts=2, initial_delay=0.01, jitter=0),
    )
    mock.fail_next(1, status=503, path="/token")
    with pytest.raises(oc.EndpointError):
        c.client_credentials(scope="read")  # the mock knows no JWT client auth: refused
    sent = [r.form["client_assertion"] for r in mock.requests if r.path == "/token"][-2:]
    claims = [json.loads(base64.urlsafe_b64decode(a.split(".")[1] + "==")) for a in sent]
    first = int(t0.timestamp())
    assert [c["iat"] for c in claims] == [first, first + 1]  # 12:00:00.995, then 12:00:01.005
    assert claims[0]["jti"] != claims[1]["jti"]
    assert c.retry == oc.RetryPolicy(attempts=2, initial_delay=0.01, jitter=0)  # not capped
