"""JOSE flows against oidc-provider: JWT client authentication, DPoP, ID tokens.

Runs once per transport, like ``test_flows`` (whose fixtures it reuses).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from interop_api import Api, authorize
from jwt.algorithms import ECAlgorithm

import oauth2_core as oc


@pytest.fixture
def jwt_client(
    connect: Callable[..., Api], oidc_server: Any, request: pytest.FixtureRequest
) -> Api:
    if request.param == "pkjwt-client":
        return connect("pkjwt-client", secret=None, signing_key=oidc_server.pkjwt_private_jwk)
    return connect("csjwt-client")


@pytest.mark.parametrize("jwt_client", ["pkjwt-client", "csjwt-client"], indirect=True)
def test_jwt_client_authentication_client_credentials(jwt_client: Api) -> None:
    token = jwt_client.client_credentials(scope="read")
    assert jwt_client.introspect(token.access_token).active is True


@pytest.mark.parametrize("jwt_client", ["pkjwt-client", "csjwt-client"], indirect=True)
def test_jwt_client_authentication_code_flow(jwt_client: Api, oidc_server: Any) -> None:
    pending, callback = authorize(oidc_server, jwt_client, scope="openid email")
    token = jwt_client.exchange_code(pending, callback)
    assert token.id_token_claims is not None
    assert token.id_token_claims["sub"] == "alice"
    refreshed = jwt_client.refresh(token)  # a fresh assertion (new jti) each time
    assert refreshed.access_token != token.access_token


def test_id_token_is_validated_on_every_code_flow(
    connect: Callable[..., Api], oidc_server: Any
) -> None:
    api = connect("basic-client")
    pending, callback = authorize(oidc_server, api, scope="openid")
    token = api.exchange_code(pending, callback)
    claims = token.id_token_claims
    assert claims is not None
    assert claims["iss"] == oidc_server.issuer
    assert claims["aud"] in ("basic-client", ["basic-client"])
    assert claims["nonce"] == pending.nonce


def test_id_token_with_wrong_nonce_is_refused(
    connect: Callable[..., Api], oidc_server: Any
) -> None:
    api = connect("basic-client")
    pending, callback = authorize(oidc_server, api, scope="openid")
    other = oc.PendingAuthorization.from_dict({**pending.to_dict(), "nonce": "not-the-nonce"})
    with pytest.raises(oc.IdTokenError) as caught:
        api.exchange_code(other, callback)
    assert caught.value.check == "nonce"


@pytest.mark.parametrize("client_id", ["dpop-client", "dpop-nonce-client"])
def test_dpop_bound_tokens_through_token_refresh_and_userinfo(
    connect: Callable[..., Api],
    oidc_server: Any,
    client_id: str,
) -> None:
    key = oc.generate_dpop_key("ES256")
    api = connect(client_id, options={"dpop_key": key})
    pending, callback = authorize(oidc_server, api, scope="openid email")
    token = api.exchange_code(pending, callback)
    assert token.token_type == "DPoP"
    assert api.userinfo(token).sub == "alice"
    refreshed = api.refresh(token)
    assert refreshed.token_type == "DPoP"
    assert api.userinfo(refreshed).sub == "alice"
    info = api.introspect(refreshed.access_token)
    assert info.active
    assert info.extra.get("cnf", {}).get("jkt") == oc.dpop_jkt(key)


def test_dpop_client_credentials(connect: Callable[..., Api]) -> None:
    key = oc.generate_dpop_key("ES256")
    api = connect("dpop-nonce-client", options={"dpop_key": key})
    token = api.client_credentials(scope="read")
    assert token.token_type == "DPoP"


def test_signed_userinfo_is_verified_against_the_servers_keys(
    connect: Callable[..., Api], oidc_server: Any
) -> None:
    """OIDC Core §5.3.2: a client registered for signed UserInfo gets application/jwt;
    the client verifies it with the JWK set it cached for the ID token."""
    api = connect("jwtuserinfo-client")
    pending, callback = authorize(oidc_server, api, scope="openid email")
    token = api.exchange_code(pending, callback)
    raw = api.send(oc.userinfo_request(api.client.server, token))
    assert raw.status == 200
    assert raw.content_type == "application/jwt"
    info = api.userinfo(token)
    assert info.sub == "alice"
    assert info.sub == token.id_token_claims["sub"]  # type: ignore[index]
    assert info.claims.get("email")


def test_dpop_with_a_key_held_outside_the_process(connect: Callable[..., Api]) -> None:
    """A KMS/HSM-style key (only a signing callback) binds tokens like a local key."""
    private = ec.generate_private_key(ec.SECP256R1())
    key = oc.external_signing_key(
        public_jwk=ECAlgorithm.to_jwk(private.public_key(), as_dict=True),
        sign=lambda data: private.sign(data, ec.ECDSA(hashes.SHA256())),
    )
    api = connect("dpop-nonce-client", options={"dpop_key": key})
    token = api.client_credentials(scope="read")
    assert token.token_type == "DPoP"
    info = api.introspect(token.access_token)
    assert info.active
    assert info.extra.get("cnf", {}).get("jkt") == oc.dpop_jkt(key)
