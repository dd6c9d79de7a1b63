"""Smoke test against the ``mcp`` package's own server: the 401, then our core chain.

Phase 1 of resource-first authorization: the unauthenticated request, the RFC
9728 discovery chain of ``oauth2_core.resource_discovery_flow``, and (with the
existing core and ``OAuth2Client`` pieces) RFC 7591 registration and the PKCE
code flow with ``resource=``, ending in an authorized request. The ``mcp``
client with ``OAuth2Auth.for_resource`` comes with phase 2.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import oauth2_core as oc
from oauth2_core.flows import step_flow
from oauth2_transports import run
from oauth2_transports.client import OAuth2Client

httpx2_transport = pytest.importorskip("oauth2_transports.httpx2")

REDIRECT = "http://127.0.0.1:8765/callback"
# What a streamable-HTTP client sends first (MCP lifecycle: initialize).
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "oauth2-core-test", "version": "0"},
    },
}


@pytest.fixture
def transport() -> Iterator[Any]:
    t = httpx2_transport.Httpx2Transport(timeout=10)
    yield t
    t.close()


def _initialize(transport: Any, url: str, token: str | None = None) -> oc.HttpResponse:
    headers = {
        "content-type": "application/json",
        "accept": "application/json, text/event-stream",
    }
    if token:
        headers["authorization"] = f"Bearer {token}"
    return transport.send(oc.HttpRequest("POST", url, headers, json.dumps(INITIALIZE)))


def test_401_names_the_resource_metadata_and_the_chain_finds_the_server(
    mcp_server: Any, transport: Any
) -> None:
    first = _initialize(transport, mcp_server.mcp_url)
    assert first.status == 401
    ch = oc.parse_bearer_challenge(first.headers["www-authenticate"])[0]
    assert ch.resource_metadata == (
        mcp_server.base_url + "/.well-known/oauth-protected-resource/mcp"
    )
    assert ch.scope is None  # the mcp SDK names no scope: scopes_supported is the fallback

    rm, server = run(oc.resource_discovery_flow(mcp_server.mcp_url, challenge=ch), transport)
    assert rm.resource == mcp_server.mcp_url  # §3.3 equality holds for this configuration
    assert rm.authorization_servers == (mcp_server.base_url,)
    assert rm.scopes_supported == ("mcp:tools",)
    assert server.issuer == mcp_server.base_url
    assert server.registration_endpoint == mcp_server.base_url + "/register"
    assert server.code_challenge_methods_supported == ("S256",)


def test_register_authorize_and_reach_the_mcp_endpoint(mcp_server: Any, transport: Any) -> None:
    before = mcp_server.counts()
    ch = oc.parse_bearer_challenge(
        _initialize(transport, mcp_server.mcp_url).headers["www-authenticate"]
    )[0]
    rm, server = run(oc.resource_discovery_flow(mcp_server.mcp_url, challenge=ch), transport)
    scope = " ".join(rm.scopes_supported or ())
    metadata = {
        "client_name": "oauth2-core",
        "redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "scope": scope,
    }
    reg = run(
        step_flow(oc.registration_request(server, metadata), oc.process_registration_response),
        transport,
    )
    client = OAuth2Client(server, reg.client(), transport)
    pending = oc.new_pending_authorization(client.client)
    url = client.authorization_url(pending, scope=scope, resource=rm.resource)
    # The provider auto-approves: the authorization endpoint redirects straight back.
    redirect = transport.send(oc.HttpRequest("GET", url))
    assert redirect.status == 302, redirect.body
    token = client.exchange_code(pending, redirect.headers["location"], resource=rm.resource)
    assert token.scope == ("mcp:tools",)

    answer = _initialize(transport, mcp_server.mcp_url, token.access_token)
    assert answer.status == 200, answer.body
    after = mcp_server.counts()
    assert {k: after[k] - before[k] for k in after} == {
        "registrations": 1,
        "authorizations": 1,
        "tokens": 1,
    }
