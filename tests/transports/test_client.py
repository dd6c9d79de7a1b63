"""The high-level clients against a loopback authorization server (the mock server).

Every scenario runs for the sync client (urllib3, requests, httpx) and the
async client (httpx) — the same test body, parametrized, never copied.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

import oauth2_core as oc
from oauth2_transports import (
    AsyncHttpxTransport,
    AsyncOAuth2Client,
    AsyncTokenManager,
    HttpxTransport,
    OAuth2Client,
    RequestsTransport,
    TokenManager,
    TokenRefreshError,
    TransportError,
    Urllib3Transport,
)
from oauth2_transports.compat import OAuth2
from oauth2_transports.testing import MockAuthorizationServer

REDIRECT = "http://127.0.0.1:9/callback"
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


class Recording:
    """A custom transport, as an integrator writes one: records, then delegates.

    ``rewrite`` (request, response) -> response plays a network attacker.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.urls: list[str] = []
        self.rewrite: Callable[[oc.HttpRequest, oc.HttpResponse], oc.HttpResponse] | None = None

    def send(self, request: oc.HttpRequest) -> Any:
        self.urls.append(request.url)
        response = self.inner.send(request)
        return self.rewrite(request, response) if self.rewrite else response


class AsyncRecording(Recording):
    async def send(self, request: oc.HttpRequest) -> Any:  # type: ignore[override]
        self.urls.append(request.url)
        response = await self.inner.send(request)
        return self.rewrite(request, response) if self.rewrite else response


@pytest.fixture(scope="module")
def mock() -> Iterator[MockAuthorizationServer]:
    with MockAuthorizationServer(rotate_refresh_tokens=False, device_interval=1) as server:
        yield server


@pytest.fixture(params=KINDS)
def connect(
    request: pytest.FixtureRequest, mock: MockAuthorizationServer
) -> Iterator[Callable[..., tuple[Api, Recording]]]:
    loop = asyncio.new_event_loop()
    opened: list[Any] = []
    mock.clear_faults()

    def make(client_id: str = "app", **options: Any) -> tuple[Api, Recording]:
        client = mock.client(client_id, redirect_uri=REDIRECT, **options)
        if request.param == "async-httpx":
            inner: Any = AsyncHttpxTransport()
            recording: Recording = AsyncRecording(inner)
            opened.append(inner)
            coro = AsyncOAuth2Client.discover(mock.issuer, client, recording)
            return Api(loop.run_until_complete(coro), loop), recording
        factory = {
            "urllib3": Urllib3Transport,
            "requests": RequestsTransport,
            "httpx": HttpxTransport,
        }[request.param]
        inner = factory()
        opened.append(inner)
        recording = Recording(inner)
        return Api(OAuth2Client.discover(mock.issuer, client, recording), loop), recording

    yield make
    for transport in opened:
        if isinstance(transport, AsyncHttpxTransport):
            loop.run_until_complete(transport.aclose())
        else:
            transport.close()
    loop.close()


def browser(url: str) -> str:
    """A scripted browser: ask the authorization endpoint, return its redirect."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as caught:
        opener.open(url, timeout=10)
    assert caught.value.code in (302, 303)
    return str(caught.value.headers["Location"])


def test_every_request_goes_through_the_given_transport(connect: Any, mock: Any) -> None:
    api, recording = connect()
    assert recording.urls[0].startswith(mock.issuer + "/.well-known/")
    api.client_credentials(scope="read")
    assert recording.urls[-1] == api.client.server.token_endpoint


def test_client_credentials_sends_extra_parameters(connect: Any, mock: Any) -> None:
    api, _ = connect()
    mock.clear_requests()
    token = api.client_credentials(scope="read", resource=["urn:a", "urn:b"], audience="api")
    assert token.access_token and token.token_type == "Bearer"
    sent = mock.requests[-1]
    assert ("resource", "urn:a") in sent.form_pairs and ("resource", "urn:b") in sent.form_pairs
    assert sent.form["audience"] == "api"
    assert sent.headers["authorization"].startswith("Basic ")


def test_password_then_refresh_keeps_refresh_token(connect: Any) -> None:
    api, _ = connect()
    token = api.password("alice", "wonderland", scope="read")
    refreshed = api.refresh(token)  # rotation is off: the server sends no new refresh token
    assert refreshed.access_token != token.access_token
    assert refreshed.refresh_token == token.refresh_token


def test_authorization_code_with_pkce(connect: Any) -> None:
    api, _ = connect()
    pending = oc.new_pending_authorization(api.client.client)
    url = api.authorization_url(pending, scope="openid read")
    assert parse_qs(urlsplit(url).query)["code_challenge_method"] == ["S256"]
    token = api.exchange_code(pending, browser(url))
    assert token.access_token and token.id_token
    assert api.userinfo(token).sub == "alice"


def test_pushed_authorization(connect: Any) -> None:
    api, _ = connect()
    pending = oc.new_pending_authorization(api.client.client)
    url = api.authorization_url(pending, scope="read", par=True)
    assert set(parse_qs(urlsplit(url).query)) == {"client_id", "request_uri"}
    assert api.exchange_code(pending, browser(url)).access_token


def test_revoke_then_introspect(connect: Any) -> None:
    api, _ = connect()
    token = api.client_credentials(scope="read")
    assert api.introspect(token.access_token).active is True
    api.revoke(token.access_token, token_type_hint="access_token")
    assert api.introspect(token.access_token).active is False


def test_device_flow(connect: Any, mock: Any) -> None:
    api, _ = connect()
    auth = api.device_authorization(scope="read")
    mock.approve_device(auth.user_code)
    assert api.poll_device(auth).access_token


def test_server_errors_are_typed(connect: Any, mock: Any) -> None:
    api, _ = connect()
    mock.fail_next(status=503, retry_after=7, path="/token")
    with pytest.raises(oc.EndpointError) as caught:
        api.client_credentials(scope="read")
    assert caught.value.retryable and caught.value.retry_after == 7.0
    mock.fail_next(status=502, error=None, body="<html>bad gateway</html>", path="/token")
    with pytest.raises(oc.ResponseError) as html:
        api.client_credentials(scope="read")
    assert "text/html" in str(html.value) and "access token" not in str(html.value)


def test_provider_quirks_over_http(connect: Any, mock: Any) -> None:
    api, _ = connect()
    mock.answer_next("form")  # GitHub: form-encoded body
    assert api.client_credentials(scope="read").access_token
    mock.answer_next("error_200", error="invalid_code")  # Slack: error with HTTP 200
    with pytest.raises(oc.EndpointError) as caught:
        api.client_credentials(scope="read")
    assert caught.value.error == "invalid_code" and caught.value.status == 200


def test_dropped_connection_is_transport_error(connect: Any, mock: Any) -> None:
    api, _ = connect()
    mock.drop_next(path="/token")
    with pytest.raises(TransportError) as caught:
        api.client_credentials(scope="read")
    assert caught.value.__cause__ is not None
    assert isinstance(caught.value, oc.OAuth2Error)


def test_default_transport_is_urllib3(mock: Any) -> None:
    c = OAuth2Client(mock.server_metadata(), mock.client("app"))
    assert isinstance(c.transport, Urllib3Transport)
    assert c.client_credentials(scope="read").access_token


def test_discover_checks_the_issuer(mock: Any) -> None:
    with pytest.raises(oc.ResponseError):
        OAuth2Client.discover(mock.issuer + "/other", mock.client("app"))


def test_compat_get_token_form_and_error_answers(mock: Any) -> None:
    h = OAuth2("post-app", "post-secret", mock.issuer, REDIRECT, "authorize", "token")
    pending = oc.new_pending_authorization(mock.client("post-app"), redirect_uri=REDIRECT)
    url = h.authorize_url(
        "read",
        response_type="code",
        state=pending.state,
        code_challenge=oc.code_challenge(pending.code_verifier or ""),
        code_challenge_method="S256",
    )
    code = parse_qs(urlsplit(browser(url)).query)["code"][0]
    mock.answer_next("form")
    data = h.get_token(code, code_verifier=pending.code_verifier)
    assert data["access_token"] and data["token_type"].lower() == "bearer"
    with pytest.raises(oc.EndpointError) as caught:
        h.get_token(code, code_verifier=pending.code_verifier)  # single-use code
    assert caught.value.error == "invalid_grant"


# --- OpenID Connect: userinfo sub (Core §5.3.2) and refreshed ID tokens (Core §12.2) ----------


def sign_in(api: Api, scope: str = "openid read") -> oc.Token:
    pending = oc.new_pending_authorization(api.client.client)
    return api.exchange_code(pending, browser(api.authorization_url(pending, scope=scope)))  # type: ignore[no-any-return]


def test_userinfo_refuses_claims_about_another_user(connect: Any) -> None:
    """Core §5.3.2: bob's access token presented with alice's ID token: refused, not bob's data."""
    api, _ = connect()
    alice = sign_in(api)
    assert alice.id_token_claims is not None and api.userinfo(alice).sub == "alice"
    bob = api.password("bob", "builder", scope="openid read")
    swapped = attrs.evolve(bob, id_token=alice.id_token, id_token_claims=alice.id_token_claims)
    with pytest.raises(oc.MalformedResponseError) as caught:
        api.userinfo(swapped)
    assert caught.value.field == "sub" and isinstance(caught.value, oc.ResponseError)
    assert "bob" not in str(caught.value)


def test_refresh_validates_the_new_id_token_and_keeps_its_claims(connect: Any) -> None:
    """Core §12.2: the refreshed ID token is validated; its claims come back on the token."""
    api, _ = connect()
    token = sign_in(api)
    refreshed = api.refresh(token)
    assert refreshed.id_token and refreshed.id_token != token.id_token
    assert refreshed.id_token_claims is not None
    assert refreshed.id_token_claims["sub"] == "alice"
    assert refreshed.id_token_claims.get("nonce") is None  # the mock follows §12.2's SHOULD NOT
    assert api.userinfo(refreshed).sub == "alice"


def test_refresh_without_an_id_token_keeps_the_previous_one(connect: Any) -> None:
    api, _ = connect()
    token = sign_in(api)
    narrowed = api.refresh(token, scope="read")  # no openid: the server sends no ID token
    assert narrowed.access_token != token.access_token
    assert narrowed.id_token == token.id_token
    assert narrowed.id_token_claims == token.id_token_claims


ATTACKER = ec.generate_private_key(ec.SECP256R1())


def forge_refreshed_id_token(request: oc.HttpRequest, response: oc.HttpResponse) -> oc.HttpResponse:
    """Replace the ID token of a refresh answer by one for "mallory", signed by another key."""
    if b"grant_type=refresh_token" not in request.body or response.status != 200:
        return response
    data = json.loads(response.body)
    genuine = data["id_token"]
    claims = {**jwt.decode(genuine, options={"verify_signature": False}), "sub": "mallory"}
    kid = jwt.get_unverified_header(genuine)["kid"]
    data["id_token"] = jwt.encode(claims, ATTACKER, algorithm="ES256", headers={"kid": kid})
    return attrs.evolve(response, body=json.dumps(data).encode())


def test_a_forged_refreshed_id_token_is_refused(connect: Any) -> None:
    api, recording = connect()
    token = sign_in(api)
    recording.rewrite = forge_refreshed_id_token
    with pytest.raises(oc.IdTokenError) as caught:
        api.refresh(token)
    assert caught.value.check == "signature"


def test_the_token_manager_refreshes_through_the_same_validation(connect: Any) -> None:
    """TokenManager / AsyncTokenManager refresh with client.refresh: same §12.2 checks."""
    api, recording = connect()
    token = sign_in(api)
    assert token.id_token_claims is not None
    expired = attrs.evolve(token, expires_at=token.id_token_claims.iat)  # long past
    seen: list[oc.Token] = []
    later = [0.0]  # seconds added to the real clock

    def clock() -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=later[0])

    if isinstance(api.client, AsyncOAuth2Client):
        manager: Any = AsyncTokenManager(api.client, expired, on_token=seen.append, clock=clock)
    else:
        manager = TokenManager(api.client, expired, on_token=seen.append, clock=clock)
    recording.rewrite = forge_refreshed_id_token
    with pytest.raises(oc.OAuth2Error) as caught:
        api.resolve(manager.token())
    assert isinstance(caught.value.__cause__ or caught.value, oc.IdTokenError)
    # A forged ID token is not a passing outage: the caller is told not to retry.
    assert isinstance(caught.value, TokenRefreshError) and not caught.value.retryable
    assert seen == []  # the forged answer never reached anyone
    recording.rewrite = None
    later[0] = 1.5  # past the wait after a failed refresh (1 s after the first)
    fresh = api.resolve(manager.token())  # the old token (and its refresh token) survived
    assert fresh.id_token_claims is not None and fresh.id_token_claims["sub"] == "alice"
    assert seen == [fresh]
