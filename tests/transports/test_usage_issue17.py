"""The CIBA, logout, RFC 9068 and FAPI 2.0 lines of shared/USAGE.md ("Signed requests and
responses, CIBA, logout, FAPI 2.0"), executed as written against the mock server.

Only the host changes: ``https://as.example`` is the mock server's loopback issuer.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest

import oauth2_core as oc
import oauth2_transports as ot
from oauth2_transports.testing import MockAuthorizationServer, MockClient

BYE = "https://app.example/bye"


@pytest.fixture(scope="module")
def mock() -> Iterator[MockAuthorizationServer]:
    app = MockClient("app", "app-secret", redirect_uris=("https://app.example/cb", BYE))
    with MockAuthorizationServer(clients=[app]) as server:
        yield server


def test_usage_ciba_and_logout(mock: MockAuthorizationServer) -> None:
    server = mock.server_metadata()
    client = mock.client("app")
    c = ot.OAuth2Client(server, client)
    phone = threading.Timer(0.2, mock.approve_backchannel)  # the user approves on her phone
    phone.start()
    # CIBA (OpenID Client-Initiated Backchannel Authentication), poll mode
    req = c.backchannel_authentication(login_hint="alice", scope="openid", binding_message="W4SCT")
    assert req.auth_req_id and req.expires_at > req.issued_at and req.interval == 1.0
    assert req.auth_req_id not in repr(req)
    assert server.backchannel_authentication_endpoint
    token = c.poll_backchannel(req)
    phone.join()
    assert token.id_token
    # RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0)
    url = oc.end_session_url(
        server, client, id_token_hint=token.id_token, post_logout_redirect_uri=BYE, state="s"
    )
    assert url.startswith(mock.issuer + "/logout?")
    url = c.end_session_url(token, post_logout_redirect_uri="https://app.example/bye")
    assert "id_token_hint=" in url
    c.close()


def test_usage_rfc_9068(mock: MockAuthorizationServer) -> None:
    access_token_string = mock.issue_jwt_access_token(audience="https://rs.example", scope="read")
    v = ot.AccessTokenVerifier(mock.issuer, audience="https://rs.example")  # discovers, caches keys
    claims = v.verify(access_token_string, scope="read")
    assert claims["sub"] == "alice"
    jwt, now = access_token_string, dt.datetime.now(dt.timezone.utc)
    jwks = ot.run(oc.step_flow(oc.jwks_request(v.server), oc.process_jwks_response), v.transport)
    claims = oc.validate_jwt_access_token(
        jwt, issuer=mock.issuer, audience="https://rs.example", jwks=jwks, now=now
    )
    assert claims["client_id"] == "app"
    v.close()


def test_usage_fapi2(mock: MockAuthorizationServer) -> None:
    server = mock.server_metadata()
    key = oc.generate_dpop_key()
    client = oc.Client("app", auth_method="private_key_jwt", signing_key=oc.generate_dpop_key())
    c = ot.OAuth2Client(server, client, profile="fapi2", dpop_key=key)
    assert c.server.require_pushed_authorization_requests
    with pytest.raises(oc.UsageError):
        ot.OAuth2Client(server, mock.client("app"), profile="fapi2", dpop_key=key)
