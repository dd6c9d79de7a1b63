"""JAR, JARM and signed introspection end to end: the high-level clients against the mock server."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Iterator
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import attrs
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from face_helpers import call, follow_authorization

import oauth2_core as oc
from oauth2_transports import AsyncOAuth2Client, OAuth2Client
from oauth2_transports.httpx import AsyncHttpxTransport
from oauth2_transports.testing import MockAuthorizationServer, MockClient
from oauth2_transports.urllib3 import Urllib3Transport

KEY = ec.generate_private_key(ec.SECP256R1())
OTHER = ec.generate_private_key(ec.SECP256R1())
PUBLIC = {
    **jwt.get_algorithm_by_name("ES256").to_jwk(KEY.public_key(), as_dict=True),
    "kid": "app-1",
}
REDIRECT = "http://127.0.0.1/callback"


@pytest.fixture(scope="module")
def server() -> Iterator[MockAuthorizationServer]:
    clients = [MockClient("app", "app-secret", jwks={"keys": [PUBLIC]}, redirect_uris=[REDIRECT])]
    with MockAuthorizationServer(clients=clients) as mock:
        yield mock


@pytest.fixture
def client(server: MockAuthorizationServer) -> Iterator[OAuth2Client]:
    registration = server.client("app", signing_key=KEY, redirect_uri=REDIRECT)
    with OAuth2Client(server.server_metadata(), registration, Urllib3Transport()) as c:
        yield c


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


@pytest.mark.parametrize("par", [False, True])
def test_jar_request_object_is_accepted_and_exchanged(client: OAuth2Client, par: bool) -> None:
    pending = oc.new_pending_authorization(client.client)
    url = client.authorization_url(pending, scope="openid", request_object=True, par=par)
    sent = query(url)
    assert set(sent) == ({"client_id", "request_uri"} if par else {"client_id", "request"})
    token = client.exchange_code(pending, follow_authorization(url))
    assert token.access_token and token.id_token_claims is not None


def test_jar_object_signed_by_another_key_is_refused(server: MockAuthorizationServer) -> None:
    registration = server.client("app", signing_key=OTHER, redirect_uri=REDIRECT)
    pending = oc.new_pending_authorization(registration)
    url = oc.authorization_url(
        server.server_metadata(),
        registration,
        pending,
        request_object=True,
        now=dt.datetime.now(dt.timezone.utc),
    )
    answer = call("GET", url)
    assert answer.status == 400 and b"request object" in answer.data


@pytest.mark.parametrize("mode", ["jwt", "query.jwt", "fragment.jwt"])
def test_jarm_redirect_is_verified_then_exchanged(client: OAuth2Client, mode: str) -> None:
    pending = oc.new_pending_authorization(client.client)
    url = client.authorization_url(pending, scope="openid", response_mode=mode)
    location = follow_authorization(url)
    parts = urlsplit(location)
    carried = dict(parse_qsl(parts.fragment if mode == "fragment.jwt" else parts.query))
    assert set(carried) == {"response"}  # only the JWT crosses the browser
    token = client.exchange_code(pending, location)
    assert token.access_token


def test_jarm_form_post(client: OAuth2Client) -> None:
    pending = oc.new_pending_authorization(client.client)
    url = client.authorization_url(pending, response_mode="form_post.jwt")
    page = call("GET", url)
    assert page.status == 200
    found = re.search(r"name='response' value='([^']+)'", page.data.decode())
    assert found is not None
    assert client.exchange_code(pending, {"response": unescape(found.group(1))}).access_token


def test_jarm_error_arrives_signed(client: OAuth2Client) -> None:
    pending = oc.new_pending_authorization(client.client)
    url = client.authorization_url(pending, response_mode="jwt", login_hint="deny")
    with pytest.raises(oc.AuthorizationError) as caught:
        client.exchange_code(pending, follow_authorization(url))
    assert caught.value.error == "access_denied"


def test_jarm_tampered_response_is_a_callback_error(client: OAuth2Client) -> None:
    pending = oc.new_pending_authorization(client.client)
    url = client.authorization_url(pending, response_mode="jwt")
    token = query(follow_authorization(url))["response"]
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    with pytest.raises(oc.CallbackError):
        client.exchange_code(pending, {"response": forged})


def test_introspection_as_a_signed_jwt(client: OAuth2Client) -> None:
    token = client.client_credentials(scope="read")
    info = client.introspect(token.access_token, jwt=True)
    assert info.active and info.client_id == "app"
    assert not client.introspect("no-such-token", jwt=True).active


def test_plain_introspection_answer_is_refused_when_jwt_asked() -> None:
    clients = [MockClient("app", "app-secret")]
    with MockAuthorizationServer(clients=clients, sign_id_tokens=False) as plain:
        c = OAuth2Client(plain.server_metadata(), plain.client("app"), Urllib3Transport())
        token = c.client_credentials()
        assert c.introspect(token.access_token).active  # plain asked, plain given
        with pytest.raises(oc.MalformedResponseError, match="RFC 9701"):
            c.introspect(token.access_token, jwt=True)
        c.close()


def test_async_client_jar_jarm_and_signed_introspection(server: MockAuthorizationServer) -> None:
    registration = server.client("app", signing_key=KEY, redirect_uri=REDIRECT)

    async def main() -> None:
        async with AsyncOAuth2Client(
            server.server_metadata(), registration, AsyncHttpxTransport()
        ) as c:
            pending = oc.new_pending_authorization(registration)
            url = await c.authorization_url(
                pending, scope="openid", request_object=True, response_mode="jwt"
            )
            token = await c.exchange_code(pending, follow_authorization(url))
            assert (await c.introspect(token.access_token, jwt=True)).active

    asyncio.run(main())


def test_usage_lines_as_written(server: MockAuthorizationServer, client: OAuth2Client) -> None:
    """shared/USAGE.md, "Signed requests and responses": items 1 to 3, exactly as written."""
    c = client
    registration = c.client
    server_metadata = c.server
    pending = oc.new_pending_authorization(registration)
    now = dt.datetime.now(dt.timezone.utc)
    jwks = oc.process_jwks_response(c.transport.send(oc.jwks_request(server_metadata)))
    url = oc.authorization_url(
        server_metadata, registration, pending, scope="openid", request_object=True, now=now
    )
    assert set(query(url)) == {"client_id", "request"}
    url = c.authorization_url(pending, scope="openid", request_object=True, par=True)
    assert set(query(url)) == {"client_id", "request_uri"}
    url = c.authorization_url(pending, scope="openid", response_mode="jwt")
    callback_url = follow_authorization(url)
    token = c.exchange_code(pending, callback_url)
    code = oc.parse_callback(
        callback_url, server=server_metadata, pending=pending, jwks=jwks, now=now
    )
    assert code.state == pending.state
    info = c.introspect(token.access_token, jwt=True)
    assert info.active


def test_jarm_client_asks_for_jwt_and_refuses_a_plain_redirect(
    server: MockAuthorizationServer,
) -> None:
    """A client registered for signed responses (JARM §3) cannot be downgraded."""
    plain_client = server.client("app", signing_key=KEY, redirect_uri=REDIRECT)
    jarm = attrs.evolve(plain_client, authorization_signed_response_alg="ES256")
    with OAuth2Client(server.server_metadata(), jarm, Urllib3Transport()) as c:
        pending = oc.new_pending_authorization(jarm)
        url = c.authorization_url(pending, scope="openid")
        assert query(url)["response_mode"] == "jwt"
        location = follow_authorization(url)
        assert set(query(location)) == {"response"}
        # An attacker's plain redirect with a code of its own (a real one, for the
        # same pending state) is refused before the code is spent.
        plain_url = oc.authorization_url(server.server_metadata(), plain_client, pending)
        plain = follow_authorization(plain_url)
        assert "code" in query(plain)
        before = len(server.requests)
        with pytest.raises(oc.CallbackValidationError, match="signed 'response'"):
            c.exchange_code(pending, plain)
        assert len(server.requests) == before  # nothing sent: no token request
        assert c.exchange_code(pending, location).access_token
