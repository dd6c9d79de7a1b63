"""DPoP-bound tokens from oidc-provider used through the auth hooks, and DPoP device polling.

oidc-provider checks every proof the hooks send (RFC 9449 §7.1: ``htm``, ``htu``,
``ath``, the key bound to the token) at its userinfo endpoint, a resource
server. ``dpop-nonce-client`` has its token endpoint demand a nonce, so device
polling must answer ``use_dpop_nonce`` (RFC 9449 §8) as well.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import httpx
import pytest
import requests
from interop_api import REDIRECT_URI, Api

import oauth2_core as oc
from oauth2_transports import (
    AsyncOAuth2Client,
    AsyncTokenManager,
    OAuth2Client,
    TokenManager,
    Urllib3Transport,
)
from oauth2_transports.httpx import AsyncHttpxTransport
from oauth2_transports.httpx import OAuth2Auth as HttpxAuth
from oauth2_transports.requests import OAuth2Auth as RequestsAuth

HOOKS = ["requests", "httpx", "httpx-async"]


def registered(oidc_server: Any, client_id: str) -> oc.Client:
    info = oidc_server.clients[client_id]
    return oc.Client(
        client_id, info.client_secret, auth_method=info.auth_method, redirect_uri=REDIRECT_URI
    )


@pytest.fixture
def dpop_client(oidc_server: Any) -> Iterator[OAuth2Client]:
    """A ``dpop-client`` with a fresh key (sync, urllib3)."""
    client = registered(oidc_server, "dpop-client")
    transport = Urllib3Transport()
    key = oc.generate_dpop_key("ES256")
    yield OAuth2Client.discover(oidc_server.issuer, client, transport, dpop_key=key)
    transport.close()


def dpop_token(oidc_server: Any, client: OAuth2Client) -> oc.Token:
    """A DPoP-bound token for alice through the code flow."""
    pending = oc.new_pending_authorization(client.client)
    callback = oidc_server.authorize(client.authorization_url(pending, scope="openid email"))
    token = client.exchange_code(pending, callback)
    assert token.token_type == "DPoP"
    return token


def userinfo_through_hook(
    hook: str, oidc_server: Any, sync_client: OAuth2Client, token: oc.Token
) -> tuple[int, dict[str, Any], list[int]]:
    """GET userinfo through the hook with a manager: status, JSON body, history statuses."""
    url = oidc_server.userinfo_endpoint
    if hook == "requests":
        response = requests.get(url, auth=RequestsAuth(TokenManager(sync_client, token)))
        return response.status_code, response.json(), [r.status_code for r in response.history]
    if hook == "httpx":
        with httpx.Client(auth=HttpxAuth(TokenManager(sync_client, token))) as http:
            sync = http.get(url)
        return sync.status_code, sync.json(), [r.status_code for r in sync.history]

    async def main() -> httpx.Response:
        async with AsyncHttpxTransport() as transport:
            aclient = AsyncOAuth2Client(
                sync_client.server,
                sync_client.client,
                transport,
                dpop_key=sync_client.dpop_key,
            )
            auth = HttpxAuth(AsyncTokenManager(aclient, token))
            async with httpx.AsyncClient(auth=auth) as http:
                return await http.get(url)

    response_ = asyncio.run(main())
    return response_.status_code, response_.json(), [r.status_code for r in response_.history]


@pytest.mark.parametrize("hook", HOOKS)
def test_dpop_bound_token_through_the_auth_hook(
    hook: str, oidc_server: Any, dpop_client: OAuth2Client
) -> None:
    token = dpop_token(oidc_server, dpop_client)
    status, body, history = userinfo_through_hook(hook, oidc_server, dpop_client, token)
    assert (status, body["sub"]) == (200, "alice")
    assert all(s == 401 for s in history)  # at most a nonce retry


@pytest.mark.parametrize("hook", HOOKS)
def test_bare_dpop_token_with_the_key(
    hook: str, oidc_server: Any, dpop_client: OAuth2Client
) -> None:
    token = dpop_token(oidc_server, dpop_client)
    url = oidc_server.userinfo_endpoint
    key = dpop_client.dpop_key
    if hook == "requests":
        response = requests.get(url, auth=RequestsAuth(token, dpop_key=key))
        assert (response.status_code, response.json()["sub"]) == (200, "alice")
    elif hook == "httpx":
        assert httpx.get(url, auth=HttpxAuth(token, dpop_key=key)).json()["sub"] == "alice"
    else:

        async def main() -> httpx.Response:
            async with httpx.AsyncClient(auth=HttpxAuth(token, dpop_key=key)) as http:
                return await http.get(url)

        assert asyncio.run(main()).json()["sub"] == "alice"


def test_the_same_token_as_bearer_is_refused(oidc_server: Any, dpop_client: OAuth2Client) -> None:
    """The server really checks the binding: the token without a proof does not work."""
    token = dpop_token(oidc_server, dpop_client)
    as_bearer = oc.Token(token.access_token)
    response = requests.get(oidc_server.userinfo_endpoint, auth=RequestsAuth(as_bearer))
    assert response.status_code in (400, 401)


@pytest.mark.parametrize("hook", HOOKS)
def test_refused_dpop_token_is_refreshed_and_retried(
    hook: str, oidc_server: Any, dpop_client: OAuth2Client
) -> None:
    """userinfo answers ``DPoP error="invalid_token"``: refresh (with a proof) and retry once.

    The access token is one the server never issued (revoking it would revoke the
    whole grant, refresh token included); the refresh token is real.
    """
    token = dpop_token(oidc_server, dpop_client)
    unknown = attrs.evolve(token, access_token="not-an-issued-access-token")
    status, body, history = userinfo_through_hook(hook, oidc_server, dpop_client, unknown)
    assert (status, body["sub"]) == (200, "alice")
    assert history and history[-1] == 401


def test_device_flow_with_dpop_and_a_nonce_demanding_token_endpoint(
    connect: Callable[..., Api], oidc_server: Any
) -> None:
    key = oc.generate_dpop_key("ES256")
    api = connect("dpop-nonce-client", options={"dpop_key": key})
    auth = api.device_authorization(scope="openid email")
    oidc_server.approve_device(auth.user_code)
    token = api.poll_device(auth)
    assert token.token_type == "DPoP"
    assert api.userinfo(token).sub == "alice"
    info = api.introspect(token.access_token)
    assert info.active
    assert info.extra.get("cnf", {}).get("jkt") == oc.dpop_jkt(key)
