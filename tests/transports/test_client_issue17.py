"""Issue 17 calls of the high-level clients against the mock server, on every transport.

CIBA poll mode, RP-initiated logout, FAPI 2.0 and the resource server's JWT access
token verifier; the sync client over urllib3, requests and httpx, the async one over
httpx — one test body each, parametrized.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import oauth2_core as oc
from oauth2_transports import (
    AccessTokenVerifier,
    AsyncAccessTokenVerifier,
    AsyncHttpxTransport,
    AsyncOAuth2Client,
    HttpxTransport,
    OAuth2Client,
    RequestsTransport,
    Urllib3Transport,
)
from oauth2_transports.testing import MockAuthorizationServer

KINDS = ["urllib3", "requests", "httpx", "async-httpx"]


class Api:
    """Calls the sync or async client alike; awaits on a private loop."""

    def __init__(self, client: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.client = client
        self.loop = loop

    def resolve(self, value: Any) -> Any:
        return self.loop.run_until_complete(value) if inspect.isawaitable(value) else value

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.client, name)
        return lambda *a, **kw: self.resolve(method(*a, **kw))


@pytest.fixture(scope="module")
def mock() -> Iterator[MockAuthorizationServer]:
    with MockAuthorizationServer(rotate_refresh_tokens=False) as server:
        yield server


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def connect(kind: str, mock: MockAuthorizationServer) -> Iterator[Callable[..., Api]]:
    loop = asyncio.new_event_loop()
    opened: list[Any] = []
    mock.clear_faults()

    def make(client_id: str = "app", **options: Any) -> Api:
        client = mock.client(client_id)
        server = mock.server_metadata()
        if kind == "async-httpx":
            inner: Any = AsyncHttpxTransport()
            opened.append(inner)
            return Api(AsyncOAuth2Client(server, client, inner, **options), loop)
        factory = {
            "urllib3": Urllib3Transport,
            "requests": RequestsTransport,
            "httpx": HttpxTransport,
        }[kind]
        inner = factory()
        opened.append(inner)
        return Api(OAuth2Client(server, client, inner, **options), loop)

    yield make
    for transport in opened:
        if isinstance(transport, AsyncHttpxTransport):
            loop.run_until_complete(transport.aclose())
        else:
            transport.close()
    loop.close()


# --- CIBA poll mode ----------------------------------------------------------------------


def test_ciba_poll_mode_approved(connect: Any, mock: MockAuthorizationServer) -> None:
    api = connect()
    req = api.backchannel_authentication(
        login_hint="alice", scope="openid", binding_message="W4SCT"
    )
    assert req.auth_req_id not in repr(req)
    assert req.interval == 1.0 and req.expires_at > req.issued_at
    assert mock.pending_backchannel()[-1] == ("alice", "W4SCT")
    mock.approve_backchannel(req.auth_req_id)
    token = api.poll_backchannel(req)
    assert token.access_token and token.id_token
    assert token.id_token_claims is not None  # validated (CIBA Core 1.0 §10.1.1)
    assert token.id_token_claims["sub"] == "alice"


def test_ciba_poll_mode_denied_and_slow_down(connect: Any, mock: MockAuthorizationServer) -> None:
    api = connect()
    req = api.backchannel_authentication(login_hint="bob", scope="openid")
    mock.deny_backchannel(req.auth_req_id)
    with pytest.raises(oc.AccessDeniedError):
        api.poll_backchannel(req)
    mock.clear_requests()
    req = api.backchannel_authentication(login_hint="alice", scope="openid")
    mock.approve_backchannel(req.auth_req_id)
    mock.slow_down_next()
    assert api.poll_backchannel(req).access_token
    polls = [r for r in mock.requests if r.path.endswith("/token")]
    assert [r.error for r in polls] == ["slow_down", None]


def test_ciba_unknown_user_is_an_endpoint_error(connect: Any) -> None:
    api = connect()
    with pytest.raises(oc.EndpointError) as info:
        api.backchannel_authentication(login_hint="mallory", scope="openid")
    assert info.value.error == "unknown_user_id"


# --- RP-initiated logout -------------------------------------------------------------------


def test_end_session_url_from_the_client(connect: Any) -> None:
    server = oc.ServerMetadata(
        "https://op.example",
        token_endpoint="https://op.example/token",
        end_session_endpoint="https://op.example/session/end",
    )
    api = connect()
    api.client.server = server  # the URL needs no request: any server metadata will do
    token = oc.Token("at", id_token="h.p.s")
    url = api.end_session_url(token, post_logout_redirect_uri="https://app.example/bye")
    assert url == (
        "https://op.example/session/end?client_id=app&id_token_hint=h.p.s"
        "&post_logout_redirect_uri=https%3A%2F%2Fapp.example%2Fbye"
    )


# --- RFC 9068: the resource server's verifier ---------------------------------------------

RS = "https://rs.example"


def make_verifier(kind: str, mock: MockAuthorizationServer, **options: Any) -> Any:
    loop = asyncio.new_event_loop()
    if kind == "async-httpx":
        verifier: Any = AsyncAccessTokenVerifier(mock.issuer, audience=RS, **options)
    else:
        factory = {
            "urllib3": Urllib3Transport,
            "requests": RequestsTransport,
            "httpx": HttpxTransport,
        }[kind]
        verifier = AccessTokenVerifier(mock.issuer, audience=RS, transport=factory(), **options)
    return Api(verifier, loop)


def test_access_token_verifier_discovers_and_caches_keys(
    kind: str, mock: MockAuthorizationServer
) -> None:
    api = make_verifier(kind, mock)
    mock.clear_requests()
    token = mock.issue_jwt_access_token(audience=RS, scope="read write")
    claims = api.verify(token, scope="read")
    assert claims.sub == "alice" and claims.scope == ("read", "write")
    fetched = [r.path for r in mock.requests]
    assert fetched == ["/.well-known/oauth-authorization-server", "/jwks"]
    assert api.verify(mock.issue_jwt_access_token(audience=RS)).client_id == "app"
    assert len(mock.requests) == 2  # the key is cached: no request for the second token
    with pytest.raises(oc.InsufficientScopeError) as info:
        api.verify(token, scope="admin")
    assert info.value.status == 403
    with pytest.raises(oc.InvalidTokenError) as bad:
        api.verify(mock.issue_jwt_access_token(audience="https://other.example"))
    assert bad.value.www_authenticate().startswith('Bearer error="invalid_token"')
    # Made-up key ids within the refetch interval cost no request (rate-limited refetch).
    _, payload, signature = token.split(".")
    forged_header = base64.urlsafe_b64encode(
        json.dumps({"alg": "ES256", "typ": "at+jwt", "kid": "made-up"}).encode()
    )
    forged = forged_header.rstrip(b"=").decode() + "." + payload + "." + signature
    for _ in range(5):
        with pytest.raises(oc.InvalidTokenError):
            api.verify(forged)
    assert len(mock.requests) == 2
    if kind == "async-httpx":
        api.aclose()
    else:
        api.close()
    api.loop.close()


# --- FAPI 2.0 -----------------------------------------------------------------------------


class NoNetwork:
    """A transport that fails the test if anything is sent."""

    def send(self, request: oc.HttpRequest) -> oc.HttpResponse:
        raise AssertionError(f"sent {request.method} {request.url}")


FAPI_SERVER = oc.ServerMetadata(
    "https://as.example",
    authorization_endpoint="https://as.example/authorize",
    token_endpoint="https://as.example/token",
    pushed_authorization_request_endpoint="https://as.example/par",
)


@pytest.mark.parametrize("client_class", [OAuth2Client, AsyncOAuth2Client])
def test_fapi2_refuses_before_any_request(client_class: Any) -> None:
    key = oc.generate_dpop_key()
    with pytest.raises(oc.UsageError, match="client authentication"):
        client_class(FAPI_SERVER, oc.Client("app", "secret"), NoNetwork(), profile="fapi2")
    pkj = oc.Client("app", auth_method="private_key_jwt", signing_key=key)
    with pytest.raises(oc.UsageError, match="sender-constrained"):
        client_class(FAPI_SERVER, pkj, NoNetwork(), profile="fapi2")
    no_par = oc.ServerMetadata("https://as.example", token_endpoint="https://as.example/token")
    with pytest.raises(oc.UsageError, match="pushed_authorization"):
        client_class(no_par, pkj, NoNetwork(), profile="fapi2", dpop_key=key)
    with pytest.raises(oc.UsageError, match="profile"):
        client_class(FAPI_SERVER, pkj, NoNetwork(), profile="fapi1", dpop_key=key)
    c = client_class(FAPI_SERVER, pkj, NoNetwork(), profile="fapi2", dpop_key=key)
    assert c.server.require_pushed_authorization_requests  # PAR always
    assert c.server.authorization_response_iss_parameter_supported  # iss required
    api = Api(c, asyncio.new_event_loop())
    pending = oc.new_pending_authorization(pkj)
    with pytest.raises(oc.UsageError, match="par=False"):
        api.authorization_url(pending, scope="openid", par=False)
    plain = oc.new_pending_authorization(pkj, code_challenge_method="plain")
    with pytest.raises(oc.UsageError, match="S256"):
        api.authorization_url(plain, scope="openid")
    api.loop.close()


def test_mock_server_end_session_endpoint(connect: Any, mock: MockAuthorizationServer) -> None:
    api = connect()
    token = api.password("alice", "wonderland", scope="openid")
    url = api.end_session_url(token, post_logout_redirect_uri="https://app.example/cb", state="s")
    assert url.startswith(mock.issuer + "/logout?")
    answer = api.client.transport.send(oc.HttpRequest("GET", url))
    answer = api.resolve(answer)
    assert answer.status == 302
    assert answer.headers["location"] == "https://app.example/cb?state=s"
    bad = api.end_session_url(token, post_logout_redirect_uri="https://evil.example/cb")
    assert api.resolve(api.client.transport.send(oc.HttpRequest("GET", bad))).status == 400
