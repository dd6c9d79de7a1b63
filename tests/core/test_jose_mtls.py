"""Mutual-TLS client authentication and endpoint aliases (RFC 8705 §2, §5)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl

import pytest

import oauth2_core as oc

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def form(request: oc.HttpRequest) -> dict[str, str]:
    return dict(parse_qsl(request.body.decode()))


# RFC 8705 §5 example metadata (aliases on a separate host).
SERVER = oc.ServerMetadata.from_dict(
    {
        "issuer": "https://server.example.com",
        "authorization_endpoint": "https://server.example.com/authz",
        "token_endpoint": "https://server.example.com/token",
        "introspection_endpoint": "https://server.example.com/introspect",
        "revocation_endpoint": "https://server.example.com/revo",
        "pushed_authorization_request_endpoint": "https://server.example.com/par",
        "userinfo_endpoint": "https://server.example.com/userinfo",
        "mtls_endpoint_aliases": {
            "token_endpoint": "https://mtls.example.com/token",
            "revocation_endpoint": "https://mtls.example.com/revo",
            "introspection_endpoint": "https://mtls.example.com/introspect",
        },
    }
)


@pytest.mark.parametrize("method", ["tls_client_auth", "self_signed_tls_client_auth"])
def test_mtls_clients_use_the_aliases_and_send_client_id(method: str) -> None:
    client = oc.Client("s6BhdRkqt3", auth_method=method, redirect_uri="https://app/cb")
    token = oc.client_credentials_grant_request(SERVER, client)
    assert token.url == "https://mtls.example.com/token"
    assert ("client_id", "s6BhdRkqt3") in parse_qsl(token.body.decode())
    assert "authorization" not in token.headers
    revocation = oc.revocation_request(SERVER, client, "t")
    introspection = oc.introspection_request(SERVER, client, "t")
    assert revocation.url == "https://mtls.example.com/revo"
    assert introspection.url == "https://mtls.example.com/introspect"
    # No alias for PAR: the conventional endpoint.
    par = oc.pushed_authorization_request(SERVER, client, oc.new_pending_authorization(client))
    assert par.url == "https://server.example.com/par"
    # RFC 8705 §2: the certificate authenticates; every endpoint gets the client_id in the
    # body and nothing else that authenticates (no secret, no assertion, no Basic header).
    for request in (token, revocation, introspection, par):
        fields = form(request)
        assert fields["client_id"] == "s6BhdRkqt3"
        assert not {"client_secret", "client_assertion", "client_assertion_type"} & set(fields)
        assert "authorization" not in request.headers


def test_other_clients_use_the_conventional_endpoints() -> None:
    client = oc.Client("app", "s3cr3t")
    assert not client.use_mtls_endpoint_aliases
    request = oc.client_credentials_grant_request(SERVER, client)
    assert request.url == "https://server.example.com/token"
    assert request.headers["authorization"] == "Basic YXBwOnMzY3IzdA=="  # app:s3cr3t
    assert "client_id" not in form(request)


def test_a_public_client_with_bound_tokens_can_opt_in() -> None:
    """RFC 8705 §4: a public client may use a certificate only to bind its tokens."""
    client = oc.Client("cli", auth_method="none", use_mtls_endpoint_aliases=True)
    request = oc.client_credentials_grant_request(SERVER, client)
    assert request.url == "https://mtls.example.com/token"
    assert form(request) == {"grant_type": "client_credentials", "client_id": "cli"}


def test_endpoint_for() -> None:
    assert oc.endpoint_for(SERVER, "token_endpoint", mtls=True) == "https://mtls.example.com/token"
    assert oc.endpoint_for(SERVER, "token_endpoint", mtls=False) == (
        "https://server.example.com/token"
    )
    assert oc.endpoint_for(SERVER, "userinfo_endpoint", mtls=True) == (
        "https://server.example.com/userinfo"
    )
    assert oc.endpoint_for(oc.ServerMetadata("https://as"), "token_endpoint", mtls=True) is None
    with pytest.raises(oc.UsageError, match="not an endpoint"):
        oc.endpoint_for(SERVER, "issuer", mtls=True)


def test_the_https_rule_covers_the_aliases() -> None:
    server = oc.ServerMetadata(
        "https://as.example",
        token_endpoint="https://as.example/token",
        mtls_endpoint_aliases={"token_endpoint": "http://mtls.as.example/token"},
    )
    client = oc.Client("app", auth_method="tls_client_auth")
    with pytest.raises(oc.UsageError, match="plain http"):
        oc.client_credentials_grant_request(server, client)


def test_mtls_needs_no_now() -> None:
    """Nothing is signed with mTLS, so the builders need no ``now`` (unlike the JWT methods)."""
    client = oc.Client("app", auth_method="tls_client_auth")
    request = oc.refresh_token_grant_request(SERVER, client, "rt")
    assert request.url == "https://mtls.example.com/token"
    assert form(request) == {
        "grant_type": "refresh_token",
        "refresh_token": "rt",
        "client_id": "app",
    }
    assert "authorization" not in request.headers


def test_userinfo_goes_to_its_mtls_alias() -> None:
    """RFC 8705 §5: a certificate-bound token (§3) is presented with its certificate,
    so the UserInfo call of an mTLS client goes to ``mtls_endpoint_aliases`` too."""
    server = SERVER.updated(
        {
            "mtls_endpoint_aliases": {
                **(SERVER.mtls_endpoint_aliases or {}),
                "userinfo_endpoint": "https://mtls.example.com/userinfo",
            }
        }
    )
    token = oc.Token("at-1", "Bearer")
    assert oc.userinfo_request(server, token, mtls=True).url == "https://mtls.example.com/userinfo"
    assert oc.userinfo_request(server, token).url == "https://server.example.com/userinfo"
    # No alias for it (the RFC 8705 §5 example): the conventional endpoint.
    assert oc.userinfo_request(SERVER, token, mtls=True).url == (
        "https://server.example.com/userinfo"
    )

    client = oc.Client("app", auth_method="tls_client_auth")
    flow = oc.userinfo_flow(server, client, token, now=T0)
    assert next(flow).request.url == "https://mtls.example.com/userinfo"
    flow = oc.userinfo_flow(server, oc.Client("app", "s"), token, now=T0)
    assert next(flow).request.url == "https://server.example.com/userinfo"
