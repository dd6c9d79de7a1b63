"""Resource-first authorization against node oidc-provider (RFC 9728, 7591, 7592, 8707).

The server (``server.mjs``) has open dynamic registration and registration
management enabled, and serves a protected test resource at ``<issuer>/resource``
with its RFC 9728 metadata; ``<issuer>/resource`` is also a resource indicator
whose tokens carry it as audience. The chain is the core's
``resource_discovery_flow``, registration with the core step pair, and the
authorization code flow of the existing ``OAuth2Client`` with ``resource=``.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import oauth2_core as oc
from oauth2_core.flows import step_flow
from oauth2_transports import Transport, run
from oauth2_transports.client import OAuth2Client
from oauth2_transports.httpx import HttpxTransport
from oauth2_transports.requests import RequestsTransport
from oauth2_transports.urllib3 import Urllib3Transport

REDIRECT = "http://127.0.0.1/callback"
CLIENT_METADATA: dict[str, object] = {
    "client_name": "oauth2-core resource chain",
    "application_type": "native",  # loopback redirect URIs on any port (RFC 8252 §7.3)
    "redirect_uris": [REDIRECT],
    "token_endpoint_auth_method": "none",
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
}


def _httpx2() -> Transport:
    from oauth2_transports.httpx2 import Httpx2Transport

    return Httpx2Transport(timeout=10)


TRANSPORTS: dict[str, Callable[[], Transport]] = {
    "urllib3": lambda: Urllib3Transport(timeout=10),
    "requests": lambda: RequestsTransport(timeout=10),
    "httpx": lambda: HttpxTransport(timeout=10),
    "httpx2": _httpx2,
}


@pytest.fixture(params=sorted(TRANSPORTS))
def transport(request: pytest.FixtureRequest) -> Iterator[Transport]:
    if request.param == "httpx2":
        pytest.importorskip("httpx2")
    t = TRANSPORTS[request.param]()
    yield t
    t.close()  # type: ignore[attr-defined]


def _get(transport: Transport, url: str, token: str | None = None) -> oc.HttpResponse:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return transport.send(oc.HttpRequest("GET", url, headers))


def _challenge(response: oc.HttpResponse) -> oc.BearerChallenge:
    return oc.parse_bearer_challenge(response.headers["www-authenticate"])[0]


def test_resource_chain_registration_and_code_flow(oidc_server: Any, transport: Transport) -> None:
    resource_url = oidc_server.url("/resource")
    first = _get(transport, resource_url)
    assert first.status == 401
    ch = _challenge(first)
    assert ch.resource_metadata == oidc_server.url("/.well-known/oauth-protected-resource/resource")

    rm, server = run(oc.resource_discovery_flow(resource_url, challenge=ch), transport)
    assert rm.resource == resource_url
    assert server.issuer == oidc_server.issuer
    assert server.registration_endpoint

    request = oc.registration_request(server, CLIENT_METADATA)
    reg = run(step_flow(request, oc.process_registration_response), transport)
    assert reg.client_secret is None
    assert reg.auth_method == "none"
    assert reg.registration_access_token and reg.registration_client_uri

    client = OAuth2Client(server, reg.client(redirect_uri=REDIRECT), transport)
    pending = oc.new_pending_authorization(client.client)
    url = client.authorization_url(pending, scope=ch.scope, resource=rm.resource)
    callback = oidc_server.authorize(url, redirect_uri=REDIRECT)
    token = client.exchange_code(pending, callback, resource=rm.resource)
    assert "resource:read" in (token.scope or ())

    answer = _get(transport, resource_url, token.access_token)
    assert answer.status == 200, answer.body
    refreshed = client.refresh(token, resource=rm.resource)
    assert _get(transport, resource_url, refreshed.access_token).status == 200

    # RFC 7592: read, then delete; the registration is gone afterwards.
    def previous(response: oc.HttpResponse) -> oc.ClientRegistration:
        return oc.process_registration_response(response, previous=reg)

    read = run(step_flow(oc.registration_read_request(reg), previous), transport)
    assert read.client_id == reg.client_id
    assert read.metadata["redirect_uris"] == [REDIRECT]
    delete = oc.registration_delete_request(reg)
    run(step_flow(delete, oc.process_registration_delete_response), transport)
    with pytest.raises(oc.EndpointError) as info:
        run(step_flow(oc.registration_read_request(reg), previous), transport)
    assert info.value.status == 401


def test_token_for_another_resource_is_refused(oidc_server: Any) -> None:
    """RFC 8707: a token whose audience is urn:example:api does not open <issuer>/resource."""
    with Urllib3Transport(timeout=10) as transport:
        info = oidc_server.clients["basic-client"]
        client = OAuth2Client.discover(
            oidc_server.issuer, oc.Client(info.client_id, info.client_secret), transport
        )
        token = client.client_credentials(scope="read", resource="urn:example:api")
        response = _get(transport, oidc_server.url("/resource"), token.access_token)
    assert response.status == 401
    assert _challenge(response).error == "invalid_token"


def test_registration_refusal_is_an_endpoint_error(oidc_server: Any) -> None:
    """RFC 7591 §3.2.2: a web client with a plain-http non-loopback redirect URI."""
    with Urllib3Transport(timeout=10) as transport:
        server = run(oc.discovery_flow(oidc_server.issuer), transport)
        bad = {**CLIENT_METADATA, "redirect_uris": ["not a uri"]}
        with pytest.raises(oc.EndpointError) as info:
            run(
                step_flow(oc.registration_request(server, bad), oc.process_registration_response),
                transport,
            )
    assert info.value.status == 400
    assert info.value.error in ("invalid_redirect_uri", "invalid_client_metadata")


@pytest.mark.parametrize("library", ["requests", "httpx", "httpx-async"])
def test_for_resource_hook_runs_the_chain(oidc_server: Any, library: str) -> None:
    """``OAuth2Auth.for_resource``: 401, RFC 9728, RFC 8414, RFC 7591, PKCE + resource=, 200."""
    import asyncio

    import httpx
    import requests

    from oauth2_transports.httpx import OAuth2Auth as HttpxAuth
    from oauth2_transports.requests import OAuth2Auth as RequestsAuth

    urls: list[str] = []

    def authorize(url: str) -> str:
        urls.append(url)
        return str(oidc_server.authorize(url, redirect_uri=REDIRECT))

    options: dict[str, Any] = {"client_metadata": CLIENT_METADATA, "authorize": authorize}
    resource_url = oidc_server.url("/resource")
    if library == "requests":
        auth = RequestsAuth.for_resource(**options)
        statuses = [requests.get(resource_url, auth=auth, timeout=10).status_code for _ in "ab"]
    elif library == "httpx":
        with httpx.Client(auth=HttpxAuth.for_resource(**options), timeout=10) as client:
            statuses = [client.get(resource_url).status_code for _ in "ab"]
    else:

        async def main() -> list[int]:
            auth = HttpxAuth.for_resource(**options)
            async with httpx.AsyncClient(auth=auth, timeout=10) as client:
                answers = await asyncio.gather(*(client.get(resource_url) for _ in range(5)))
            return [a.status_code for a in answers]

        statuses = asyncio.run(main())
    assert set(statuses) == {200}
    assert len(urls) == 1  # one authorization, however many requests
    assert f"resource={resource_url}" in urllib.parse.unquote(urls[0])
