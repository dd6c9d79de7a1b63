"""Resource-first authorization against the mock server, offline (RFC 9728, 7591, 7592, 8707).

The core chain (``resource_discovery_flow``), registration and the existing
``OAuth2Client`` code flow, run over a real transport against the mock
server's protected test resource.
"""

from __future__ import annotations

from collections import Counter

import pytest
from face_helpers import call, follow_authorization

import oauth2_core as oc
from oauth2_core.flows import step_flow
from oauth2_transports import run
from oauth2_transports.client import OAuth2Client
from oauth2_transports.testing import MockAuthorizationServer
from oauth2_transports.urllib3 import Urllib3Transport

REDIRECT = "http://127.0.0.1:8765/callback"


def _get(transport: Urllib3Transport, url: str, token: str | None = None) -> oc.HttpResponse:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return transport.send(oc.HttpRequest("GET", url, headers))


def _challenge(response: oc.HttpResponse) -> oc.BearerChallenge:
    return oc.parse_bearer_challenge(response.headers["www-authenticate"])[0]


def _register(
    server: oc.ServerMetadata, transport: Urllib3Transport, metadata: dict[str, object]
) -> oc.ClientRegistration:
    request = oc.registration_request(server, metadata)
    return run(step_flow(request, oc.process_registration_response), transport)


def test_unauthenticated_request_names_the_metadata(
    server: MockAuthorizationServer, transport: Urllib3Transport
) -> None:
    response = _get(transport, server.resource_url)
    assert response.status == 401
    ch = _challenge(response)
    assert ch.resource_metadata == server.url("/.well-known/oauth-protected-resource/resource")
    assert ch.scope == ("resource:read",)
    assert ch.error is None  # RFC 6750 §3.1: no error code without a token


def test_whole_chain_registers_once_authorizes_once_and_reaches_the_resource(
    server: MockAuthorizationServer, transport: Urllib3Transport
) -> None:
    ch = _challenge(_get(transport, server.resource_url))
    rm, as_metadata = run(oc.resource_discovery_flow(server.resource_url, challenge=ch), transport)
    assert rm.resource == server.resource_url
    assert rm.authorization_servers == (server.issuer,)
    assert as_metadata.registration_endpoint == server.url("/register")

    reg = _register(
        as_metadata,
        transport,
        {
            "client_name": "acme",
            "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": "none",
            "scope": " ".join(rm.scopes_supported or ()),
        },
    )
    assert reg.client_secret is None
    assert reg.registration_access_token is not None
    client = OAuth2Client(as_metadata, reg.client(), transport)
    pending = oc.new_pending_authorization(client.client)
    url = client.authorization_url(pending, scope=ch.scope, resource=rm.resource)
    token = client.exchange_code(pending, follow_authorization(url), resource=rm.resource)

    answer = _get(transport, server.resource_url, token.access_token)
    assert answer.status == 200, answer.body
    paths = Counter(r.path for r in server.requests)
    assert (paths["/register"], paths["/authorize"], paths["/token"]) == (1, 1, 1)
    token_request = next(r for r in server.requests if r.path == "/token")
    assert token_request.form_list("resource") == [server.resource_url]  # RFC 8707 §2.2


def test_token_for_another_resource_is_refused(
    server: MockAuthorizationServer, transport: Urllib3Transport
) -> None:
    """RFC 8707: a token issued without resource= (or for another) is not for this resource."""
    token = server.issue_token("app", scope="resource:read")["access_token"]
    response = _get(transport, server.resource_url, str(token))
    assert response.status == 401
    assert _challenge(response).error == "invalid_token"


def test_step_up_is_asked_with_insufficient_scope(
    server: MockAuthorizationServer, transport: Urllib3Transport
) -> None:
    reg = _register(
        server.server_metadata(),
        transport,
        {"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"},
    )
    client = OAuth2Client(server.server_metadata(), reg.client(), transport)
    pending = oc.new_pending_authorization(client.client)
    url = client.authorization_url(pending, scope="resource:read", resource=server.resource_url)
    token = client.exchange_code(pending, follow_authorization(url))  # resource from the code
    assert _get(transport, server.resource_url, token.access_token).status == 200
    server.set_resource_scopes(["resource:read", "resource:write"])
    response = _get(transport, server.resource_url, token.access_token)
    assert response.status == 403
    ch = _challenge(response)
    assert ch.error == "insufficient_scope"
    assert ch.scope == ("resource:read", "resource:write")


def test_rfc_7592_read_update_delete(
    server: MockAuthorizationServer, transport: Urllib3Transport
) -> None:
    reg = _register(
        server.server_metadata(),
        transport,
        {
            "client_name": "one",
            "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": "client_secret_post",
        },
    )
    assert reg.client_secret is not None
    assert reg.client().auth_method == "client_secret_post"
    read = run(
        step_flow(
            oc.registration_read_request(reg),
            lambda r: oc.process_registration_response(r, previous=reg),
        ),
        transport,
    )
    assert read.metadata["client_name"] == "one"
    updated = run(
        step_flow(
            oc.registration_update_request(reg, {**reg.metadata, "client_name": "two"}),
            lambda r: oc.process_registration_response(r, previous=reg),
        ),
        transport,
    )
    assert updated.metadata["client_name"] == "two"
    assert updated.client_secret == reg.client_secret
    run(
        step_flow(oc.registration_delete_request(reg), oc.process_registration_delete_response),
        transport,
    )
    with pytest.raises(oc.EndpointError) as info:
        run(
            step_flow(
                oc.registration_read_request(reg),
                lambda r: oc.process_registration_response(r, previous=reg),
            ),
            transport,
        )
    assert (info.value.status, info.value.error) == (401, "invalid_token")


def test_registration_errors_are_endpoint_errors(
    server: MockAuthorizationServer, transport: Urllib3Transport
) -> None:
    with pytest.raises(oc.EndpointError) as info:
        _register(
            server.server_metadata(), transport, {"redirect_uris": ["http://evil.example/cb"]}
        )
    assert info.value.error == "invalid_redirect_uri"
    with pytest.raises(oc.EndpointError) as info:
        _register(
            server.server_metadata(),
            transport,
            {"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt"},
        )
    assert info.value.error == "invalid_client_metadata"


def test_registration_endpoint_on_the_wire(server: MockAuthorizationServer) -> None:
    """A body that is not JSON is invalid_client_metadata (RFC 7591 §3.2.2)."""
    answer = call("POST", server.url("/register"), form={"redirect_uris": REDIRECT})
    assert answer.status == 400
    assert b"invalid_client_metadata" in answer.data


def test_discover_resource_and_register_sync(
    server: MockAuthorizationServer, transport: Urllib3Transport
) -> None:
    """``ot.discover_resource`` then ``OAuth2Client.register`` (USAGE.md, resource-first)."""
    import oauth2_transports as ot

    ch = _challenge(_get(transport, server.resource_url))
    rm, as_metadata = ot.discover_resource(server.resource_url, transport, challenge=ch)
    assert rm.resource == server.resource_url
    assert as_metadata.issuer == server.issuer
    c = ot.OAuth2Client.register(
        as_metadata,
        {"client_name": "acme", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"},
        transport,
    )
    assert c.registration is not None
    assert c.client.client_id == c.registration.client_id
    assert c.client.redirect_uri == REDIRECT
    assert c.client.auth_method == "none"
    pending = oc.new_pending_authorization(c.client)
    url = c.authorization_url(pending, scope=ch.scope, resource=rm.resource)
    token = c.exchange_code(pending, follow_authorization(url), resource=rm.resource)
    assert _get(transport, server.resource_url, token.access_token).status == 200
    # The default transport works too (a fresh urllib3 one, closed afterwards).
    assert ot.discover_resource(server.resource_url)[0] == rm
    assert ot.OAuth2Client(as_metadata, oc.Client("x")).registration is None


def test_discover_resource_and_register_async(server: MockAuthorizationServer) -> None:
    import asyncio

    import oauth2_transports as ot
    from oauth2_transports.httpx import AsyncHttpxTransport

    async def main() -> oc.ClientRegistration:
        async with AsyncHttpxTransport(timeout=10) as transport:
            rm, as_metadata = await ot.adiscover_resource(server.resource_url, transport)
            assert rm.resource == server.resource_url
            c = await ot.AsyncOAuth2Client.register(
                as_metadata, {"redirect_uris": [REDIRECT]}, transport
            )
            assert c.registration is not None
            assert c.client.auth_method == "client_secret_basic"  # the RFC 7591 default
            assert c.client.client_secret == c.registration.client_secret
            return c.registration

    registration = asyncio.run(main())
    assert registration.client_secret is not None
    assert registration.client_secret not in repr(registration)


def test_register_refusal_is_an_endpoint_error(
    server: MockAuthorizationServer, transport: Urllib3Transport
) -> None:
    import oauth2_transports as ot

    with pytest.raises(oc.EndpointError) as info:
        ot.OAuth2Client.register(
            server.server_metadata(), {"redirect_uris": ["http://evil.example/cb"]}, transport
        )
    assert info.value.error == "invalid_redirect_uri"
