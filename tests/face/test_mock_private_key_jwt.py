"""``private_key_jwt`` at the mock server (RFC 7523 §2.2, §3; OpenID Connect Core §9).

A client registered with a public JWK set (``MockClient(jwks=...)``) authenticates with
JWTs it signs. The library's ``OAuth2Client`` does so at every endpoint that
authenticates clients; raw requests send the assertions it would never send.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from face_helpers import body, call

import oauth2_core as oc
from oauth2_transports.client import OAuth2Client
from oauth2_transports.testing import MockAuthorizationServer, MockClient
from oauth2_transports.urllib3 import Urllib3Transport

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _public(private: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in private.items() if k not in {"d", "p", "q", "dp", "dq", "qi"}}


KEYS = {alg: oc.generate_dpop_key(alg) for alg in ("ES256", "PS256", "RS256", "EdDSA")}
OTHER = oc.generate_dpop_key("ES256")


@pytest.fixture
def server() -> Iterator[MockAuthorizationServer]:
    clients = [
        MockClient("app", "app-secret"),
        *(
            MockClient(
                f"pkj-{alg}",
                jwks={"keys": [_public(key)]},
                redirect_uris=["https://app.example/cb"],
            )
            for alg, key in KEYS.items()
        ),
    ]
    with MockAuthorizationServer(clients=clients) as s:
        yield s


def client_of(
    server: MockAuthorizationServer, transport: Urllib3Transport, alg: str = "ES256", **kw: Any
) -> OAuth2Client:
    client = oc.Client(
        f"pkj-{alg}",
        auth_method="private_key_jwt",
        signing_key=kw.pop("signing_key", KEYS[alg]),
        redirect_uri="https://app.example/cb",
        **kw,
    )
    return OAuth2Client(server.server_metadata(), client, transport)


def assertion(server: MockAuthorizationServer, **claims: object) -> str:
    now = int(server.now())
    base: dict[str, object] = {
        "iss": "pkj-ES256",
        "sub": "pkj-ES256",
        "aud": server.issuer + "/token",
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(12),
    }
    base.update(claims)
    key = jwt.PyJWK(KEYS["ES256"], algorithm="ES256")
    return jwt.encode({k: v for k, v in base.items() if v is not None}, key.key, algorithm="ES256")


def token_call(server: MockAuthorizationServer, signed: str) -> tuple[int, dict[str, object]]:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signed,
    }
    answer = call("POST", server.url("/token"), form=form)
    return answer.status, body(answer)


@pytest.mark.parametrize("alg", sorted(KEYS))
def test_a_good_assertion_authenticates(
    server: MockAuthorizationServer, transport: Urllib3Transport, alg: str
) -> None:
    token = client_of(server, transport, alg).client_credentials(scope="read")
    assert token.access_token
    sent = server.requests[-1].form
    assert sent["client_assertion_type"] == ASSERTION_TYPE
    assert "client_secret" not in sent


def test_issuer_audience_is_accepted(
    server: MockAuthorizationServer, transport: Urllib3Transport
) -> None:
    c = client_of(server, transport, assertion_audience="issuer")
    assert c.client_credentials(scope="read").access_token


def test_every_client_authenticating_endpoint_takes_it(
    server: MockAuthorizationServer, transport: Urllib3Transport
) -> None:
    """Token, PAR, introspection, revocation and CIBA share the one authentication."""
    c = client_of(server, transport)
    token = c.client_credentials(scope="read")
    assert c.introspect(token.access_token).active
    c.revoke(token.access_token)
    assert not c.introspect(token.access_token).active
    pushed = c.pushed_authorization(oc.new_pending_authorization(c.client), scope="read")
    assert pushed.request_uri
    req = c.backchannel_authentication(scope="openid", login_hint="alice")
    assert req.auth_req_id


def test_a_bad_signature_is_invalid_client(
    server: MockAuthorizationServer, transport: Urllib3Transport
) -> None:
    c = client_of(server, transport, signing_key=OTHER)
    with pytest.raises(oc.EndpointError) as info:
        c.client_credentials(scope="read")
    assert (info.value.status, info.value.error) == (401, "invalid_client")


@pytest.mark.parametrize(
    ("claims", "problem"),
    [
        ({"aud": "https://elsewhere.example/token"}, "aud"),
        ({"aud": ["https://elsewhere.example"]}, "aud"),
        ({"exp": int(time.time()) - 10}, "expired"),
        ({"exp": None}, "exp"),
        ({"jti": None}, "jti"),
        ({"iss": "app"}, "iss and sub"),
    ],
)
def test_a_bad_claim_is_invalid_client(
    server: MockAuthorizationServer, claims: dict[str, object], problem: str
) -> None:
    status, answer = token_call(server, assertion(server, **claims))
    assert (status, answer["error"]) == (401, "invalid_client")
    assert problem in str(answer["error_description"])


def test_a_replayed_jti_is_invalid_client(server: MockAuthorizationServer) -> None:
    signed = assertion(server)
    assert token_call(server, signed)[0] == 200
    status, answer = token_call(server, signed)
    assert (status, answer["error"]) == (401, "invalid_client")
    assert "already used" in str(answer["error_description"])


def test_an_expired_assertion_on_the_server_clock(server: MockAuthorizationServer) -> None:
    signed = assertion(server)
    server.advance(120)
    status, answer = token_call(server, signed)
    assert (status, answer["error"]) == (401, "invalid_client")


def test_a_wrong_assertion_type_or_a_secret_client_is_refused(
    server: MockAuthorizationServer,
) -> None:
    form = {"grant_type": "client_credentials", "client_assertion": assertion(server)}
    answer = call("POST", server.url("/token"), form={**form, "client_assertion_type": "x"})
    assert (answer.status, body(answer)["error"]) == (401, "invalid_client")
    # A client registered with a secret cannot switch to an assertion.
    status, _ = token_call(server, assertion(server, iss="app", sub="app"))
    assert status == 401


def test_registration_refuses_private_keys_and_metadata_lists_the_method(
    server: MockAuthorizationServer,
) -> None:
    with pytest.raises(ValueError, match="public keys only"):
        MockClient("x", jwks={"keys": [KEYS["ES256"]]})
    with pytest.raises(ValueError):
        MockClient("x", "secret", auth_method="private_key_jwt")
    doc = server.metadata()
    assert "private_key_jwt" in json.dumps(doc["token_endpoint_auth_methods_supported"])
    assert "PS256" in json.dumps(doc["token_endpoint_auth_signing_alg_values_supported"])
