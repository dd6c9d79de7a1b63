"""Every flow of the library against a real authorization server (node oidc-provider 9).

Each test runs once per transport: urllib3, requests, httpx and async httpx.
The async variant drives ``AsyncOAuth2Client`` through the same scenario; the
:class:`Api` wrapper only awaits what the async client returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from interop_api import Api, authorize

import oauth2_core as oc
from oauth2_transports import run
from oauth2_transports.urllib3 import Urllib3Transport


def test_discovery(connect: Callable[..., Api], oidc_server: Any) -> None:
    api = connect("basic-client")
    server = api.client.server
    assert server.issuer == oidc_server.issuer
    assert server.token_endpoint == oidc_server.token_endpoint
    assert server.authorization_response_iss_parameter_supported is True
    assert server.device_authorization_endpoint and server.pushed_authorization_request_endpoint
    assert oc.ServerMetadata.from_dict(server.to_dict()) == server


@pytest.mark.parametrize("client_id", ["basic-client", "post-client"])
def test_client_credentials(connect: Callable[..., Api], client_id: str) -> None:
    api = connect(client_id)  # basic-client's secret is "s3cr:t/+& %x": encoding matters
    token = api.client_credentials(scope="read")
    assert token.access_token and token.token_type == "Bearer"
    assert token.scope == ("read",)
    assert token.expires_at is not None
    assert api.introspect(token.access_token).active is True


def test_client_credentials_with_resource(connect: Callable[..., Api]) -> None:
    api = connect("basic-client")
    token = api.client_credentials(scope="read", resource="urn:example:other")
    info = api.introspect(token.access_token)
    assert info.active and info.aud == ("urn:example:other",)


def test_authorization_code_pkce_state_and_iss(
    connect: Callable[..., Api], oidc_server: Any
) -> None:
    api = connect("public-client", secret=None)
    pending, callback = authorize(oidc_server, api)
    query = parse_qs(urlsplit(callback).query)
    assert query["iss"] == [oidc_server.issuer]
    assert query["state"] == [pending.state]
    token = api.exchange_code(pending, callback)
    assert token.access_token and token.refresh_token and token.id_token
    assert set(token.scope or ()) >= {"openid", "email"}
    claims = api.userinfo(token)
    assert claims.sub == "alice"


def test_refresh_rotation_refuses_old_refresh_token(
    connect: Callable[..., Api], oidc_server: Any
) -> None:
    api = connect("basic-client")
    pending, callback = authorize(oidc_server, api, scope="openid read")
    first = api.exchange_code(pending, callback)
    second = api.refresh(first)
    assert second.access_token != first.access_token
    assert second.refresh_token and second.refresh_token != first.refresh_token
    with pytest.raises(oc.EndpointError) as caught:
        api.refresh(first)  # the rotated-out refresh token is single-use
    assert caught.value.error == "invalid_grant"
    assert caught.value.reauthorize and not caught.value.retryable


def test_denied_consent_is_authorization_error(
    connect: Callable[..., Api], oidc_server: Any
) -> None:
    api = connect("basic-client")
    pending, callback = authorize(oidc_server, api, x_test="deny")
    with pytest.raises(oc.AuthorizationError) as caught:
        api.exchange_code(pending, callback)
    assert caught.value.error == "access_denied"


def test_forged_state_is_rejected(connect: Callable[..., Api], oidc_server: Any) -> None:
    api = connect("basic-client")
    pending, callback = authorize(oidc_server, api)
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = "forged"
    forged = urlunsplit(parts._replace(query=urlencode(query)))
    with pytest.raises(oc.CallbackValidationError):
        api.exchange_code(pending, forged)


def test_wrong_issuer_in_callback_is_rejected(
    connect: Callable[..., Api], oidc_server: Any
) -> None:
    api = connect("basic-client")
    pending, callback = authorize(oidc_server, api)
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["iss"] = "https://attacker.example"
    with pytest.raises(oc.CallbackValidationError):
        api.exchange_code(pending, urlunsplit(parts._replace(query=urlencode(query))))


def test_wrong_secret_is_invalid_client(connect: Callable[..., Api]) -> None:
    api = connect("basic-client", secret="not the secret")
    with pytest.raises(oc.EndpointError) as caught:
        api.client_credentials(scope="read")
    assert caught.value.error == "invalid_client"
    assert "not the secret" not in str(caught.value)


def test_introspection_and_revocation(connect: Callable[..., Api]) -> None:
    api = connect("post-client")
    token = api.client_credentials(scope="read write")
    info = api.introspect(token.access_token, token_type_hint="access_token")
    assert info.active and info.client_id == "post-client"
    assert set(info.scope or ()) == {"read", "write"}
    api.revoke(token.access_token, token_type_hint="access_token")
    assert api.introspect(token.access_token).active is False


def test_device_flow_pending_then_approved(connect: Callable[..., Api], oidc_server: Any) -> None:
    api = connect("device-client")
    auth = api.device_authorization(scope="openid read")
    assert auth.user_code and auth.verification_uri.startswith(oidc_server.issuer)
    # One poll by hand: the user has not approved yet.
    request = oc.device_code_grant_request(api.client.server, api.client.client, auth)
    assert isinstance(oc.process_device_poll_response(api.send(request)), oc.Pending)
    oidc_server.approve_device(auth.user_code)
    token = api.poll_device(auth)
    assert token.access_token and token.refresh_token


def test_device_flow_denied(connect: Callable[..., Api], oidc_server: Any) -> None:
    api = connect("public-client", secret=None)
    auth = api.device_authorization(scope="openid")
    oidc_server.deny_device(auth.user_code)
    with pytest.raises(oc.AccessDeniedError) as caught:
        api.poll_device(auth)
    assert caught.value.error == "access_denied"


def test_pushed_authorization_request(connect: Callable[..., Api], oidc_server: Any) -> None:
    api = connect("basic-client")
    pending = oc.new_pending_authorization(api.client.client)
    url = api.authorization_url(pending, scope="openid read", par=True)
    query = parse_qs(urlsplit(url).query)
    assert set(query) == {"client_id", "request_uri"}
    token = api.exchange_code(pending, oidc_server.authorize(url))
    assert token.access_token


def test_several_resources_in_authorization_and_token_requests(
    connect: Callable[..., Api], oidc_server: Any
) -> None:
    api = connect("basic-client")
    pending, callback = authorize(
        oidc_server,
        api,
        scope="read offline_access",
        resource=["urn:example:api", "urn:example:other"],
        prompt="consent",
    )
    token = api.exchange_code(pending, callback, resource="urn:example:other")
    info = api.introspect(token.access_token)
    assert info.active and info.aud == ("urn:example:other",)


def test_run_drives_a_core_flow(oidc_server: Any) -> None:
    """The driver alone, with a plain core flow and the default transport."""
    server = run(oc.discovery_flow(oidc_server.issuer), Urllib3Transport())
    assert server.issuer == oidc_server.issuer
