"""JAR (RFC 9101), JARM and signed introspection (RFC 9701) against oidc-provider.

Runs once per transport (the ``connect`` fixture), sync and async clients alike.
``signed-client`` registered its public key (``jwks``) and ES256 for request
objects, authorization responses and introspection answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from interop_api import Api, authorize

import oauth2_core as oc


@pytest.fixture
def api(connect: Callable[..., Api], oidc_server: Any) -> Api:
    return connect("signed-client", signing_key=oidc_server.pkjwt_private_jwk)


def test_server_advertises_the_three_features(oidc_server: Any, api: Api) -> None:
    server = api.client.server
    assert "ES256" in (server.request_object_signing_alg_values_supported or ())
    assert "ES256" in (server.authorization_signing_alg_values_supported or ())
    assert "ES256" in (server.introspection_signing_alg_values_supported or ())
    assert "jwt" in (server.response_modes_supported or ())


@pytest.mark.parametrize("par", [False, True])
def test_jar_request_object_code_flow(oidc_server: Any, api: Api, par: bool) -> None:
    pending = oc.new_pending_authorization(api.client.client)
    url = api.authorization_url(pending, scope="openid email", request_object=True, par=par)
    sent = dict(parse_qsl(urlsplit(url).query))
    assert set(sent) == ({"client_id", "request_uri"} if par else {"client_id", "request"})
    token = api.exchange_code(pending, oidc_server.authorize(url))
    assert token.id_token_claims is not None
    assert token.id_token_claims["nonce"] == pending.nonce  # the nonce travelled inside


def test_jar_object_signed_by_an_unregistered_key_is_refused(
    connect: Callable[..., Api], oidc_server: Any
) -> None:
    api = connect("signed-client", signing_key=oc.generate_dpop_key("ES256"))
    pending = oc.new_pending_authorization(api.client.client)
    url = api.authorization_url(pending, scope="openid", request_object=True)
    callback = oidc_server.authorize(url)  # RFC 9101 §6.3: an error redirect
    with pytest.raises(oc.AuthorizationError) as caught:
        api.exchange_code(pending, callback)
    assert caught.value.error == "invalid_request_object"


@pytest.mark.parametrize("mode", ["jwt", "query.jwt", "fragment.jwt"])
def test_jarm_response_is_verified_then_exchanged(oidc_server: Any, api: Api, mode: str) -> None:
    pending, callback = authorize(oidc_server, api, scope="openid email", response_mode=mode)
    parts = urlsplit(callback)
    carried = dict(parse_qsl(parts.fragment if mode == "fragment.jwt" else parts.query))
    assert set(carried) == {"response"}
    token = api.exchange_code(pending, callback)
    assert token.id_token_claims is not None and token.id_token_claims["sub"] == "alice"


def test_jar_and_jarm_together(oidc_server: Any, api: Api) -> None:
    pending, callback = authorize(
        oidc_server, api, scope="openid", request_object=True, response_mode="jwt"
    )
    assert api.exchange_code(pending, callback).access_token


def test_jarm_error_is_signed_and_raised_after_verification(oidc_server: Any, api: Api) -> None:
    pending, callback = authorize(
        oidc_server, api, scope="openid", response_mode="jwt", x_test="deny"
    )
    assert set(dict(parse_qsl(urlsplit(callback).query))) == {"response"}
    with pytest.raises(oc.AuthorizationError) as caught:
        api.exchange_code(pending, callback)
    assert caught.value.error == "access_denied"


def test_jarm_tampered_response_is_a_callback_error(oidc_server: Any, api: Api) -> None:
    pending, callback = authorize(oidc_server, api, scope="openid", response_mode="jwt")
    token = dict(parse_qsl(urlsplit(callback).query))["response"]
    header, payload, signature = token.split(".")
    flipped = "A" if signature[0] != "A" else "B"
    with pytest.raises(oc.CallbackError):
        api.exchange_code(pending, {"response": f"{header}.{payload}.{flipped}{signature[1:]}"})


def test_introspection_answer_as_a_signed_jwt(api: Api) -> None:
    token = api.client_credentials(scope="read")
    raw = api.send(
        oc.jwt_introspection_request(api.client.server, api.client.client, token.access_token)
    )
    assert raw.content_type == oc.INTROSPECTION_JWT_MEDIA_TYPE
    info = api.introspect(token.access_token, jwt=True)
    assert info.active is True and info.client_id == "signed-client"
    assert api.introspect("not-a-token", jwt=True).active is False


def test_plain_introspection_answer_is_refused_when_jwt_asked(api: Api) -> None:
    """The server's JSON answer (asked with Accept: application/json) is no signed one."""
    token = api.client_credentials(scope="read")
    server, client = api.client.server, api.client.client
    plain = api.send(oc.introspection_request(server, client, token.access_token))
    assert plain.content_type == "application/json"
    with pytest.raises(oc.MalformedResponseError, match="RFC 9701"):
        oc.process_jwt_introspection_response(plain, server=server, client=client, jwks=None)


def test_a_client_registered_for_signed_responses_asks_for_them(
    connect: Callable[..., Api], oidc_server: Any
) -> None:
    """JARM §3: with ``authorization_signed_response_alg`` the mode is ``jwt`` by default,
    and a plain redirect for the same pending authorization is refused unspent."""
    jarm = connect(
        "signed-client",
        signing_key=oidc_server.pkjwt_private_jwk,
        authorization_signed_response_alg="ES256",
    )
    pending = oc.new_pending_authorization(jarm.client.client)
    url = jarm.authorization_url(pending, scope="openid")
    assert dict(parse_qsl(urlsplit(url).query))["response_mode"] == "jwt"
    callback = oidc_server.authorize(url)
    assert set(dict(parse_qsl(urlsplit(callback).query))) == {"response"}
    plain = connect("signed-client", signing_key=oidc_server.pkjwt_private_jwk)
    plain_callback = oidc_server.authorize(plain.authorization_url(pending, scope="openid"))
    with pytest.raises(oc.CallbackValidationError):
        jarm.exchange_code(pending, plain_callback)
    # the plain code was never spent: the plain client can still redeem it
    assert plain.exchange_code(pending, plain_callback).access_token
    assert jarm.exchange_code(pending, callback).id_token_claims is not None
