"""Smoke tests for the interop authorization server itself (stdlib HTTP only).

These prove that server.mjs + the oidc_server fixture behave as documented
in README.md, independently of the oauth2-core library.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

import pytest
from oidc_server import DEVICE_CODE_GRANT, DEVICE_POLL_INTERVAL, OidcServer

pytestmark = pytest.mark.interop


# --- tiny stdlib HTTP helpers ------------------------------------------------
def _request(
    url: str,
    data: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, Any, dict[str, Any]]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    if body is not None:
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    req.add_header("Accept", "application/json")
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers, json.loads(resp.read().decode() or "null")
    except urllib.error.HTTPError as exc:
        raw = exc.read().decode()
        return exc.code, exc.headers, (json.loads(raw) if raw else {})


def basic_auth(client_id: str, client_secret: str) -> dict[str, str]:
    """RFC 6749 §2.3.1: form-urlencode id and secret, then base64 'id:secret'."""
    encode = urllib.parse.quote_plus
    userpass = f"{encode(client_id, safe='')}:{encode(client_secret, safe='')}"
    return {"Authorization": "Basic " + base64.b64encode(userpass.encode()).decode()}


def expect_error(status: int, body: dict[str, Any], error: str, http_status: int = 400) -> None:
    assert body.get("error") == error, body
    assert status == http_status, body


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    return verifier, challenge


def query_of(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def client_credentials(server: OidcServer, **extra: str) -> tuple[int, dict[str, Any]]:
    c = server.clients["basic-client"]
    status, _, body = _request(
        server.token_endpoint,
        {"grant_type": "client_credentials", **extra},
        basic_auth(c.client_id, c.client_secret),
    )
    return status, body


# --- tests -------------------------------------------------------------------
def test_discovery_document(oidc_server: OidcServer) -> None:
    status, _, md = _request(oidc_server.url("/.well-known/openid-configuration"))
    assert status == 200
    assert md["issuer"] == oidc_server.issuer
    assert oidc_server.issuer.startswith("http://127.0.0.1:")
    for key in (
        "authorization_endpoint",
        "token_endpoint",
        "introspection_endpoint",
        "revocation_endpoint",
        "device_authorization_endpoint",
        "pushed_authorization_request_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
    ):
        assert md[key].startswith(oidc_server.issuer), key
    assert md["authorization_response_iss_parameter_supported"] is True
    assert md["code_challenge_methods_supported"] == ["S256"]
    assert DEVICE_CODE_GRANT in md["grant_types_supported"]
    assert "ES256" in md["dpop_signing_alg_values_supported"]
    # RFC 8414 location serves the same document
    status, _, as_md = _request(oidc_server.url("/.well-known/oauth-authorization-server"))
    assert status == 200
    assert as_md["token_endpoint"] == md["token_endpoint"]


def test_client_credentials_basic_with_special_secret_and_introspection(
    oidc_server: OidcServer,
) -> None:
    secret = oidc_server.clients["basic-client"].client_secret
    assert set(":/+& %") <= set(secret)
    status, token = client_credentials(oidc_server, scope="read")
    assert status == 200, token
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "read"
    assert token["expires_in"] > 0

    c = oidc_server.clients["basic-client"]
    status, _, info = _request(
        oidc_server.introspection_endpoint,
        {"token": token["access_token"]},
        basic_auth(c.client_id, c.client_secret),
    )
    assert status == 200
    assert info["active"] is True
    assert info["client_id"] == "basic-client"
    assert info["aud"] == "urn:example:api"  # default resource for client_credentials
    assert info["scope"] == "read"

    # a secret that is NOT percent-encoded before base64 is rejected
    raw = base64.b64encode(f"{c.client_id}:{c.client_secret}".encode()).decode()
    status, _, err = _request(
        oidc_server.token_endpoint,
        {"grant_type": "client_credentials"},
        {"Authorization": f"Basic {raw}"},
    )
    # ("%x" is not a valid escape: oidc-provider answers 400 invalid_request)
    expect_error(status, err, "invalid_request", 400)


def test_client_secret_post(oidc_server: OidcServer) -> None:
    c = oidc_server.clients["post-client"]
    status, _, token = _request(
        oidc_server.token_endpoint,
        {
            "grant_type": "client_credentials",
            "scope": "write",
            "resource": "urn:example:other",
            "client_id": c.client_id,
            "client_secret": c.client_secret,
        },
    )
    assert status == 200, token
    assert token["scope"] == "write"


def test_authorization_code_pkce_refresh_rotation(oidc_server: OidcServer) -> None:
    c = oidc_server.clients["public-client"]
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(8)
    redirect_uri = "http://127.0.0.1:8765/cb"  # any loopback port is accepted
    url = (
        oidc_server.authorization_endpoint
        + "?"
        + urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": c.client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid email read",
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
    )
    callback = oidc_server.authorize(url)
    assert callback.startswith(redirect_uri + "?"), callback
    params = query_of(callback)
    assert params["state"] == state
    assert params["iss"] == oidc_server.issuer
    assert params["code"]

    status, _, tokens = _request(
        oidc_server.token_endpoint,
        {
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
            "client_id": c.client_id,
        },
    )
    assert status == 200, tokens
    assert tokens["token_type"] == "Bearer"
    assert tokens["refresh_token"]
    assert tokens["id_token"].count(".") == 2
    assert set(tokens["scope"].split()) == {"openid", "email", "read"}

    # the access token works at userinfo
    status, _, claims = _request(
        oidc_server.userinfo_endpoint, headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert status == 200, claims
    assert claims == {"sub": "alice", "email": "alice@example.com", "email_verified": True}

    # refresh rotates the refresh token
    old_rt = tokens["refresh_token"]
    status, _, refreshed = _request(
        oidc_server.token_endpoint,
        {"grant_type": "refresh_token", "refresh_token": old_rt, "client_id": c.client_id},
    )
    assert status == 200, refreshed
    assert refreshed["refresh_token"]
    assert refreshed["refresh_token"] != old_rt
    assert refreshed["access_token"] != tokens["access_token"]

    # replaying the rotated one fails (and revokes the whole grant)
    status, _, err = _request(
        oidc_server.token_endpoint,
        {"grant_type": "refresh_token", "refresh_token": old_rt, "client_id": c.client_id},
    )
    expect_error(status, err, "invalid_grant")
    status, _, err = _request(
        oidc_server.token_endpoint,
        {
            "grant_type": "refresh_token",
            "refresh_token": refreshed["refresh_token"],
            "client_id": c.client_id,
        },
    )
    expect_error(status, err, "invalid_grant")

    # the code is single use as well; replaying it also revokes what it issued
    status, _, err = _request(
        oidc_server.token_endpoint,
        {
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
            "client_id": c.client_id,
        },
    )
    expect_error(status, err, "invalid_grant")


def test_confidential_code_flow_via_par(oidc_server: OidcServer) -> None:
    c = oidc_server.clients["basic-client"]
    verifier, challenge = pkce_pair()
    status, _, par = _request(
        oidc_server.par_endpoint,
        {
            "response_type": "code",
            "client_id": c.client_id,
            "redirect_uri": c.redirect_uri,
            "scope": "openid",
            "state": "par-state",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        basic_auth(c.client_id, c.client_secret),
    )
    assert status == 201, par
    assert par["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    url = (
        oidc_server.authorization_endpoint
        + "?"
        + urllib.parse.urlencode({"client_id": c.client_id, "request_uri": par["request_uri"]})
    )
    params = query_of(oidc_server.authorize(url))
    assert params["state"] == "par-state"
    assert params["iss"] == oidc_server.issuer
    status, _, tokens = _request(
        oidc_server.token_endpoint,
        {
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": c.redirect_uri,
            "code_verifier": verifier,
        },
        basic_auth(c.client_id, c.client_secret),
    )
    assert status == 200, tokens
    assert tokens["refresh_token"]


@pytest.mark.parametrize("deny_param", [{"x_test": "deny"}, {"login_hint": "deny"}])
def test_authorization_denied(oidc_server: OidcServer, deny_param: dict[str, str]) -> None:
    c = oidc_server.clients["basic-client"]
    url = (
        oidc_server.authorization_endpoint
        + "?"
        + urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": c.client_id,
                "redirect_uri": c.redirect_uri,
                "scope": "openid",
                "state": "s1",
                **deny_param,
            }
        )
    )
    callback = oidc_server.authorize(url)
    params = query_of(callback)
    assert callback.startswith(c.redirect_uri)
    assert params["error"] == "access_denied"
    assert params["error_description"] == "denied by test"
    assert params["state"] == "s1"
    assert params["iss"] == oidc_server.issuer
    assert "code" not in params


def _device_authorize(
    server: OidcServer, client_id: str, auth: dict[str, str], **extra: str
) -> dict[str, Any]:
    form = {"scope": "openid offline_access", **extra}
    headers: dict[str, str] = {}
    if auth:
        headers = auth
    else:
        form["client_id"] = client_id
    status, _, body = _request(server.device_authorization_endpoint, form, headers)
    assert status == 200, body
    return body


def test_device_flow_approve(oidc_server: OidcServer) -> None:
    c = oidc_server.clients["public-client"]
    da = _device_authorize(oidc_server, c.client_id, {})
    assert da["interval"] == DEVICE_POLL_INTERVAL
    assert da["verification_uri"].startswith(oidc_server.issuer)
    poll = {
        "grant_type": DEVICE_CODE_GRANT,
        "device_code": da["device_code"],
        "client_id": c.client_id,
    }

    status, _, err = _request(oidc_server.token_endpoint, poll)
    expect_error(status, err, "authorization_pending")

    assert oidc_server.approve_device(da["user_code"])["status"] == "approved"
    status, _, tokens = _request(oidc_server.token_endpoint, poll)
    assert status == 200, tokens
    assert tokens["access_token"]
    assert tokens["refresh_token"]
    assert tokens["id_token"]

    # the device code is single use
    status, _, err = _request(oidc_server.token_endpoint, poll)
    expect_error(status, err, "invalid_grant")


def test_device_flow_deny(oidc_server: OidcServer) -> None:
    c = oidc_server.clients["device-client"]
    auth = basic_auth(c.client_id, c.client_secret)
    da = _device_authorize(oidc_server, c.client_id, auth, scope="read")
    poll = {"grant_type": DEVICE_CODE_GRANT, "device_code": da["device_code"]}
    status, _, err = _request(oidc_server.token_endpoint, poll, auth)
    expect_error(status, err, "authorization_pending")

    # user codes are matched case/dash-insensitively
    assert oidc_server.deny_device(da["user_code"].lower().replace("-", ""))["status"] == "denied"
    status, _, err = _request(oidc_server.token_endpoint, poll, auth)
    expect_error(status, err, "access_denied")
    assert err["error_description"] == "denied by test"
