"""Issue 17 against oidc-provider, over every transport: CIBA poll mode, RP-initiated logout,
RFC 9068 JWT access tokens checked by AccessTokenVerifier, and a FAPI 2.0 client."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from interop_api import authorize
from oidc_server import load_pkjwt_private_jwk

import oauth2_core as oc
from oauth2_transports import (
    AccessTokenVerifier,
    AsyncAccessTokenVerifier,
    AsyncHttpxTransport,
    HttpxTransport,
    RequestsTransport,
    Urllib3Transport,
)

# --- CIBA poll mode --------------------------------------------------------------------------


def test_ciba_poll_mode_approved(connect: Any, oidc_server: Any) -> None:
    api = connect("ciba-client")
    assert api.client.server.backchannel_authentication_endpoint
    req = api.backchannel_authentication(
        login_hint="alice", scope="openid", binding_message="W4SCT"
    )
    assert req.auth_req_id not in repr(req)
    assert req.interval == 5.0  # oidc-provider sends none: CIBA Core §7.3's default
    oidc_server.approve_ciba(req.auth_req_id)
    token = api.poll_backchannel(
        oc.BackchannelAuthentication.from_dict({**req.to_dict(), "interval": 1})
    )
    assert token.access_token and token.id_token_claims is not None
    assert token.id_token_claims.sub == "alice"


def test_ciba_denied_and_unknown_user(connect: Any, oidc_server: Any) -> None:
    api = connect("ciba-client")
    req = api.backchannel_authentication(login_hint="alice", scope="openid")
    oidc_server.deny_ciba(req.auth_req_id)
    with pytest.raises(oc.AccessDeniedError):
        api.poll_backchannel(
            oc.BackchannelAuthentication.from_dict({**req.to_dict(), "interval": 1})
        )
    with pytest.raises(oc.EndpointError) as info:
        api.backchannel_authentication(login_hint="mallory", scope="openid")
    assert info.value.error == "unknown_user_id"


# --- RP-initiated logout -----------------------------------------------------------------------


def test_end_session_url_is_accepted(connect: Any, oidc_server: Any) -> None:
    api = connect("basic-client")
    pending, callback = authorize(oidc_server, api, scope="openid")
    token = api.exchange_code(pending, callback)
    url = api.end_session_url(token, post_logout_redirect_uri="http://127.0.0.1/bye", state="s1")
    assert url.startswith(api.client.server.end_session_endpoint + "?")
    answer = api.send(oc.HttpRequest("GET", url))
    # oidc-provider validates id_token_hint, client_id and the registered redirect URI, then
    # shows its logout confirmation form; a bad one is an error object instead.
    assert answer.status == 200, answer.body[:300]
    assert b"logout" in answer.body.lower() and b'"error"' not in answer.body
    bad = api.end_session_url(token, post_logout_redirect_uri="http://127.0.0.1/not-registered")
    refused = api.send(oc.HttpRequest("GET", bad))
    assert refused.status == 400


# --- RFC 9068 JWT access tokens -----------------------------------------------------------------


def _verifier(kind: str, issuer: str, audience: str) -> Any:
    if kind == "async-httpx":
        return AsyncAccessTokenVerifier(issuer, audience=audience, transport=AsyncHttpxTransport())
    factory = {"urllib3": Urllib3Transport, "requests": RequestsTransport, "httpx": HttpxTransport}
    return AccessTokenVerifier(issuer, audience=audience, transport=factory[kind]())


def test_jwt_access_token_verified_by_a_resource_server(
    connect: Any, oidc_server: Any, kind: str, loop: asyncio.AbstractEventLoop
) -> None:
    api = connect("basic-client")
    token = api.client_credentials(scope="read", resource="urn:example:jwt")
    verifier = _verifier(kind, oidc_server.issuer, "urn:example:jwt")
    other = _verifier(kind, oidc_server.issuer, "urn:example:api")

    def resolve(value: Any) -> Any:
        return loop.run_until_complete(value) if asyncio.iscoroutine(value) else value

    try:
        claims = resolve(verifier.verify(token.access_token, scope="read"))
        assert claims.client_id == "basic-client" and "read" in claims.scope
        assert claims.aud == ("urn:example:jwt",)
        with pytest.raises(oc.InsufficientScopeError) as info:
            resolve(verifier.verify(token.access_token, scope="admin"))
        assert info.value.status == 403
        with pytest.raises(oc.InvalidTokenError) as wrong:
            resolve(other.verify(token.access_token))  # RFC 9068 §4: the audience is checked
        assert wrong.value.check == "aud"
    finally:
        for v in (verifier, other):
            resolve(v.aclose() if kind == "async-httpx" else v.close())


# --- FAPI 2.0 ------------------------------------------------------------------------------------


def test_fapi2_client_code_flow(connect: Any, oidc_server: Any) -> None:
    dpop_key = oc.generate_dpop_key("ES256")
    api = connect(
        "fapi2-client",
        secret=None,
        signing_key=load_pkjwt_private_jwk(),
        options={"profile": "fapi2", "dpop_key": dpop_key},
    )
    pending = oc.new_pending_authorization(api.client.client)
    url = api.authorization_url(pending, scope="openid")
    assert set(parse_qs(urlsplit(url).query)) == {"client_id", "request_uri"}  # PAR always
    callback = oidc_server.authorize(url)
    assert "iss" in parse_qs(urlsplit(callback).query)  # RFC 9207, required by the profile
    token = api.exchange_code(pending, callback)
    assert token.token_type == "DPoP"  # sender-constrained
    assert token.id_token_claims is not None
    assert token.expires_at is not None and token.expires_at > dt.datetime.now(dt.timezone.utc)
