"""The mock server's JWT bearer grant (RFC 7523 §2.1, §3), through the library and raw.

The assertions are real JWTs signed with keys made here; the server is given only
the public halves, as ``MockAuthorizationServer(trusted_issuers={iss: public_jwk})``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from face_helpers import basic, body, call
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

import oauth2_core as oc
from oauth2_transports.client import OAuth2Client
from oauth2_transports.testing import MockAuthorizationServer
from oauth2_transports.urllib3 import Urllib3Transport

IDP = "https://idp.example"
KEY = ec.generate_private_key(ec.SECP256R1())
PUBLIC_JWK = json.loads(ECAlgorithm.to_jwk(KEY.public_key()))


@pytest.fixture
def server() -> Iterator[MockAuthorizationServer]:
    with MockAuthorizationServer(trusted_issuers={IDP: PUBLIC_JWK}) as s:
        yield s


@pytest.fixture
def app(server: MockAuthorizationServer, transport: Urllib3Transport) -> OAuth2Client:
    return OAuth2Client(server.server_metadata(), server.client("app"), transport)


def assertion(server: MockAuthorizationServer, key: Any = KEY, **overrides: object) -> str:
    """A JWT from IDP about alice for this server, valid for five minutes."""
    now = int(server.now())
    claims: dict[str, object] = {
        "iss": IDP,
        "sub": "alice",
        "aud": server.issuer,
        "iat": now,
        "exp": now + 300,
        "jti": secrets.token_urlsafe(12),
    }
    claims.update(overrides)
    for name in [k for k, v in claims.items() if v is None]:
        del claims[name]
    algorithm = "RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256"
    return jwt.encode(claims, key, algorithm=algorithm)


def refused(app: OAuth2Client, value: str) -> oc.EndpointError:
    with pytest.raises(oc.EndpointError) as caught:
        app.grant(oc.JWT_BEARER_GRANT_TYPE, assertion=value)
    return caught.value


def test_trusted_assertion_is_exchanged_for_a_token(
    server: MockAuthorizationServer, app: OAuth2Client
) -> None:
    token = app.grant(oc.JWT_BEARER_GRANT_TYPE, assertion=assertion(server), scope="read")
    assert token.scope == ("read",)
    assert token.refresh_token is None  # the client makes a new assertion instead
    info = app.introspect(token.access_token)
    assert info.active and info.sub == "alice" and info.client_id == "app"


def test_the_builder_of_the_core_talks_to_it(
    server: MockAuthorizationServer, app: OAuth2Client, transport: Urllib3Transport
) -> None:
    request = oc.jwt_bearer_grant_request(
        app.server, app.client, assertion(server), scope="read write"
    )
    token = oc.process_token_response(transport.send(request))
    assert token.scope == ("read", "write")


@pytest.mark.parametrize("audience", ["token endpoint", "list"])
def test_aud_may_be_the_token_endpoint_or_a_list(
    server: MockAuthorizationServer, app: OAuth2Client, audience: str
) -> None:
    # RFC 7523 §3 item 3: "The token endpoint URL ... MAY be used as a value for an aud".
    aud: object = server.url("/token")
    if audience == "list":
        aud = ["https://other.example", server.issuer]
    assert app.grant(oc.JWT_BEARER_GRANT_TYPE, assertion=assertion(server, aud=aud)).access_token


def test_a_public_client_sends_only_its_client_id(
    server: MockAuthorizationServer, transport: Urllib3Transport
) -> None:
    # RFC 7523 §3.1: client authentication is optional for this grant.
    public = OAuth2Client(server.server_metadata(), server.client("cli"), transport)
    assert public.grant(oc.JWT_BEARER_GRANT_TYPE, assertion=assertion(server)).access_token


def test_an_rsa_key_without_alg_means_rs256() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    with MockAuthorizationServer(trusted_issuers={IDP: public}) as server:
        app = OAuth2Client(server.server_metadata(), server.client("app"))
        token = app.grant(oc.JWT_BEARER_GRANT_TYPE, assertion=assertion(server, key))
        assert token.access_token
        es256 = refused(app, assertion(server))  # the issuer's key is RSA, the JWT is ES256
        assert es256.error == "invalid_grant"


def test_jti_is_single_use(server: MockAuthorizationServer, app: OAuth2Client) -> None:
    once = assertion(server, jti="only-once")
    app.grant(oc.JWT_BEARER_GRANT_TYPE, assertion=once)
    replay = refused(app, once)
    assert replay.error == "invalid_grant"
    assert "already used" in (replay.error_description or "")
    assert app.grant(oc.JWT_BEARER_GRANT_TYPE, assertion=assertion(server, jti="another"))


def test_jti_is_optional(server: MockAuthorizationServer, app: OAuth2Client) -> None:
    # RFC 7523 §3 item 7: "The JWT MAY contain a "jti" (JWT ID) claim".
    value = assertion(server, jti=None)
    assert app.grant(oc.JWT_BEARER_GRANT_TYPE, assertion=value).access_token


def test_expired_and_premature_assertions_are_refused(
    server: MockAuthorizationServer, app: OAuth2Client
) -> None:
    stale = assertion(server)
    server.advance(301)  # the server's clock decides, not the test's
    assert "expired" in (refused(app, stale).error_description or "")
    early = assertion(server, nbf=int(server.now()) + 60)
    assert "nbf" in (refused(app, early).error_description or "")


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"iss": "https://stranger.example"}, "not a trusted issuer"),
        ({"iss": None}, "not a trusted issuer"),
        ({"sub": None}, "no sub"),
        ({"sub": ""}, "no sub"),
        ({"aud": "https://other.example"}, "aud does not name this server"),
        ({"aud": None}, "aud does not name this server"),
        ({"aud": [1, 2]}, "aud does not name this server"),
        ({"exp": None}, "no exp"),
        ({"exp": "tomorrow"}, "no exp"),
        ({"exp": True}, "no exp"),
        ({"jti": 7}, "jti is not a string"),
    ],
)
def test_claims_rfc_7523_section_3_requires(
    server: MockAuthorizationServer, app: OAuth2Client, overrides: dict[str, object], why: str
) -> None:
    error = refused(app, assertion(server, **overrides))
    assert error.error == "invalid_grant"  # RFC 7523 §3.1
    assert why in (error.error_description or "")


def test_signature_must_be_the_trusted_issuers(
    server: MockAuthorizationServer, app: OAuth2Client
) -> None:
    impostor = ec.generate_private_key(ec.SECP256R1())
    assert "signature" in (refused(app, assertion(server, impostor)).error_description or "")
    claims = {"iss": IDP, "sub": "alice", "aud": server.issuer, "exp": int(server.now()) + 60}
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert "signed with ES256" in (refused(app, unsigned).error_description or "")
    # the public key used as an HMAC secret (algorithm confusion) is not a signature either
    mac = jwt.encode(claims, b"x" * 32, algorithm="HS256")
    assert "signed with ES256" in (refused(app, mac).error_description or "")


@pytest.mark.parametrize("value", ["not-a-jwt", "a.b.c", "e30.e30.", "\u00e9"])
def test_garbage_is_invalid_grant(app: OAuth2Client, value: str) -> None:
    assert refused(app, value).error == "invalid_grant"


def test_raw_wire_errors(server: MockAuthorizationServer) -> None:
    form = {"grant_type": oc.JWT_BEARER_GRANT_TYPE}
    missing = call("POST", server.url("/token"), form=form, headers=basic("app", "app-secret"))
    assert (missing.status, body(missing)["error"]) == (400, "invalid_request")
    twice = [*form.items(), ("assertion", "a"), ("assertion", "b")]
    repeated = call("POST", server.url("/token"), form=twice, headers=basic("app", "app-secret"))
    assert body(repeated)["error"] == "invalid_request"  # RFC 6749 §3.2: no repeats


def test_a_server_that_trusts_nobody_refuses_every_assertion(
    mock_authorization_server: MockAuthorizationServer, transport: Urllib3Transport
) -> None:
    s = mock_authorization_server
    app = OAuth2Client(s.server_metadata(), s.client("app"), transport)
    error = refused(app, assertion(s))
    assert (error.error, error.error_description) == (
        "invalid_grant",
        "the server trusts no assertion issuer",
    )


def test_discovery_lists_the_grant(server: MockAuthorizationServer) -> None:
    assert oc.JWT_BEARER_GRANT_TYPE in server.server_metadata().grant_types_supported


@pytest.mark.parametrize(
    "jwk",
    [
        json.loads(ECAlgorithm.to_jwk(KEY)),  # the private key: the server wants the public one
        {"kty": "oct", "k": "c2VjcmV0"},  # a shared secret is not an issuer's public key
        {"kty": "EC", "crv": "P-256"},  # no coordinates
    ],
)
def test_only_public_keys_are_trusted(jwk: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="trusted issuer"):
        MockAuthorizationServer(trusted_issuers={IDP: jwk})
