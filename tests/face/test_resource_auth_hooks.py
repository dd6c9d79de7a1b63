"""``OAuth2Auth.for_resource`` against the mock server: the whole chain inside the auth hook.

requests, httpx (sync and async, one object) and httpx2: the first 401 runs
RFC 9728 discovery, RFC 7591 registration, the PKCE code flow with
``resource=`` (RFC 8707) through ``authorize(url)``, and resends once; step-up
on 403 ``insufficient_scope`` with the union of scopes; single flight; the
registration and the issuer kept in the store across a restart.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
import requests
from face_helpers import follow_authorization

import oauth2_core as oc
from oauth2_transports import FileTokenStore
from oauth2_transports.httpx import OAuth2Auth as HttpxAuth
from oauth2_transports.requests import OAuth2Auth as RequestsAuth
from oauth2_transports.testing import MockAuthorizationServer

REDIRECT = "http://127.0.0.1:8765/callback"
METADATA = {"client_name": "acme", "redirect_uris": [REDIRECT]}


def _counts(server: MockAuthorizationServer) -> dict[str, int]:
    paths = Counter(r.path for r in server.requests)
    return {
        "register": paths["/register"],
        "authorize": paths["/authorize"],
        "token": paths["/token"],
    }


class Browser:
    """``authorize(url)``: follows the auto-approving mock, remembering each URL."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, url: str) -> str:
        self.urls.append(url)
        return follow_authorization(url)


def test_httpx_sync_first_401_runs_the_chain_once(server: MockAuthorizationServer) -> None:
    browser = Browser()
    auth = HttpxAuth.for_resource(client_metadata=METADATA, authorize=browser)
    with httpx.Client(auth=auth) as client:
        first = client.get(server.resource_url)
        assert first.status_code == 200, first.text
        assert [r.status_code for r in first.history] == [401]
        assert client.get(server.resource_url).status_code == 200
    assert _counts(server) == {"register": 1, "authorize": 1, "token": 1}
    query = parse_qs(urlsplit(browser.urls[0]).query)
    assert query["resource"] == [server.resource_url]  # RFC 8707
    assert query["scope"] == ["resource:read"]  # the challenge's scope
    assert query["code_challenge_method"] == ["S256"]
    token_request = next(r for r in server.requests if r.path == "/token")
    assert token_request.form["resource"] == server.resource_url
    assert auth.session is not None and auth.session.registration is not None
    assert auth.session.registration.metadata["token_endpoint_auth_method"] == "none"


def test_httpx_async_ten_concurrent_401s_cause_one_authorization(
    server: MockAuthorizationServer,
) -> None:
    async def authorize(url: str) -> str:  # an async def authorize is awaited
        await asyncio.sleep(0.05)  # let every request get its 401 first
        return await asyncio.to_thread(follow_authorization, url)

    auth = HttpxAuth.for_resource(client_metadata=METADATA, authorize=authorize)

    async def main() -> list[int]:
        async with httpx.AsyncClient(auth=auth) as client:
            answers = await asyncio.gather(*(client.get(server.resource_url) for _ in range(10)))
        return [a.status_code for a in answers]

    assert asyncio.run(main()) == [200] * 10
    assert _counts(server) == {"register": 1, "authorize": 1, "token": 1}


def test_requests_chain_and_ten_threads(server: MockAuthorizationServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    auth = RequestsAuth.for_resource(client_metadata=METADATA, authorize=Browser())
    with requests.Session() as session:
        session.auth = auth
        with ThreadPoolExecutor(10) as pool:
            answers = list(pool.map(lambda _: session.get(server.resource_url), range(10)))
    assert [a.status_code for a in answers] == [200] * 10
    assert _counts(server) == {"register": 1, "authorize": 1, "token": 1}


def test_httpx2_sync_and_async(server: MockAuthorizationServer) -> None:
    httpx2 = pytest.importorskip("httpx2")
    from oauth2_transports.httpx2 import OAuth2Auth as Httpx2Auth

    auth = Httpx2Auth.for_resource(client_metadata=METADATA, authorize=Browser())
    with httpx2.Client(auth=auth) as client:
        assert client.get(server.resource_url).status_code == 200

    async def main() -> int:
        async with httpx2.AsyncClient(auth=auth) as client:
            return (await client.get(server.resource_url)).status_code

    assert asyncio.run(main()) == 200
    assert _counts(server) == {"register": 1, "authorize": 1, "token": 1}


def test_step_up_asks_for_the_union_and_registers_again_on_invalid_scope(
    server: MockAuthorizationServer,
) -> None:
    browser = Browser()
    auth = HttpxAuth.for_resource(client_metadata=METADATA, authorize=browser)
    with httpx.Client(auth=auth) as client:
        assert client.get(server.resource_url).status_code == 200
        server.set_resource_scopes(["resource:read", "resource:write"])
        answer = client.get(server.resource_url)
        assert answer.status_code == 200, answer.text
        assert [r.status_code for r in answer.history] == [403]
    scopes = [parse_qs(urlsplit(u).query)["scope"][0] for u in browser.urls]
    # The mock limits a registered client to its registered scope (RFC 7591 §2):
    # the step-up is refused as invalid_scope once, then the client registers again.
    assert scopes == ["resource:read"] + ["resource:read resource:write"] * 2
    assert _counts(server) == {"register": 2, "authorize": 3, "token": 2}


def test_step_up_never_loops(server: MockAuthorizationServer) -> None:
    """A server that never grants what the resource asks: one step-up, then the 403 as is."""

    def stingy(url: str) -> str:
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        query["scope"] = "resource:read"
        return follow_authorization(urlunsplit(parts._replace(query=urlencode(query))))

    server.set_resource_scopes(["resource:read"])
    auth = HttpxAuth.for_resource(client_metadata=METADATA, authorize=stingy)
    with httpx.Client(auth=auth) as client:
        assert client.get(server.resource_url).status_code == 200
        server.set_resource_scopes(["resource:read", "resource:write"])
        assert client.get(server.resource_url).status_code == 403  # stepped up, not granted
        assert client.get(server.resource_url).status_code == 403  # nothing new: no request
    assert _counts(server)["authorize"] == 2


def test_store_keeps_registration_and_issuer_across_a_restart(
    server: MockAuthorizationServer, tmp_path: Path
) -> None:
    store = FileTokenStore(tmp_path / "token.json")
    first = HttpxAuth.for_resource(client_metadata=METADATA, authorize=Browser(), store=store)
    with httpx.Client(auth=first) as client:
        assert client.get(server.resource_url).status_code == 200
    before = _counts(server)

    def no_browser(url: str) -> str:
        raise AssertionError("a restarted process must not authorize again")

    again = HttpxAuth.for_resource(client_metadata=METADATA, authorize=no_browser, store=store)
    with httpx.Client(auth=again) as client:
        answer = client.get(server.resource_url)
        assert answer.status_code == 200 and not answer.history
    assert _counts(server) == before
    assert again.session is not None and first.session is not None
    assert again.session.client.client_id == first.session.client.client_id
    # Expired: the stored refresh token is used, still no registration or authorization.
    server.advance(7200)
    third = HttpxAuth.for_resource(client_metadata=METADATA, authorize=no_browser, store=store)
    with httpx.Client(auth=third) as client:
        assert client.get(server.resource_url).status_code == 200
    assert _counts(server) == {**before, "token": before["token"] + 1}


def test_pre_registered_client_is_not_registered(server: MockAuthorizationServer) -> None:
    client = oc.Client("cli", auth_method="none", redirect_uri=REDIRECT)
    auth = RequestsAuth.for_resource(client=client, authorize=Browser())
    assert requests.get(server.resource_url, auth=auth, timeout=10).status_code == 200
    assert _counts(server) == {"register": 0, "authorize": 1, "token": 1}


def test_pre_registered_private_key_jwt_client_dates_its_assertions() -> None:
    """The chain's token request carries a JWT client assertion dated by the driver's clock."""
    from oauth2_transports.testing import MockClient

    key = oc.generate_dpop_key("ES256")
    public = {name: value for name, value in key.items() if name != "d"}
    registered = MockClient("kms-app", jwks={"keys": [public]}, redirect_uris=[REDIRECT])
    with MockAuthorizationServer(clients=[registered]) as mock:
        client = oc.Client(
            "kms-app", auth_method="private_key_jwt", signing_key=key, redirect_uri=REDIRECT
        )
        auth = HttpxAuth.for_resource(client=client, authorize=Browser())
        with httpx.Client(auth=auth) as http:
            assert http.get(mock.resource_url).status_code == 200
        token_request = next(r for r in mock.requests if r.path == "/token")
        assert "client_assertion" in token_request.form
        assert _counts(mock) == {"register": 0, "authorize": 1, "token": 1}


def test_an_issuer_the_resource_does_not_list_is_refused(server: MockAuthorizationServer) -> None:
    auth = HttpxAuth.for_resource(
        client_metadata=METADATA, authorize=Browser(), issuer="https://as.evil.example"
    )
    with httpx.Client(auth=auth) as client, pytest.raises(oc.UsageError, match="not among"):
        client.get(server.resource_url)
    assert _counts(server) == {"register": 0, "authorize": 0, "token": 0}


def test_token_goes_to_its_resource_only(server: MockAuthorizationServer) -> None:
    auth = HttpxAuth.for_resource(client_metadata=METADATA, authorize=Browser())
    with httpx.Client(auth=auth) as client:
        assert client.get(server.resource_url).status_code == 200
        client.get(server.url("/userinfo"))
    elsewhere = [r for r in server.requests if r.path == "/userinfo"]
    assert "authorization" not in elsewhere[0].headers


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"authorize": lambda url: url}, "client_metadata"),
        ({"client_metadata": METADATA}, "authorize"),
        ({"client_metadata": METADATA, "authorize": 3}, "authorize"),
        ({"client_metadata": METADATA, "authorize": print, "colour": 1}, "unknown"),
    ],
)
def test_bad_arguments_are_usage_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(oc.UsageError, match=message):
        HttpxAuth.for_resource(**kwargs)


def test_async_authorize_in_a_sync_client_is_a_usage_error(
    server: MockAuthorizationServer,
) -> None:
    async def authorize(url: str) -> str:
        return url

    auth = HttpxAuth.for_resource(client_metadata=METADATA, authorize=authorize)
    with httpx.Client(auth=auth) as client, pytest.raises(oc.UsageError, match="async"):
        client.get(server.resource_url)


def test_httpx2_oauth2auth_with_a_manager_refreshes_once_on_401(
    server: MockAuthorizationServer,
) -> None:
    """``oauth2_transports.httpx2.OAuth2Auth(manager)``: Bearer, one refresh and resend."""
    httpx2 = pytest.importorskip("httpx2")
    from oauth2_transports import OAuth2Client, TokenManager
    from oauth2_transports.httpx2 import OAuth2Auth as Httpx2Auth

    issued = server.issue_token("app", scope="openid")
    stale = oc.Token.from_dict(
        {
            "access_token": "revoked",
            "token_type": "Bearer",
            "refresh_token": issued["refresh_token"],
        }
    )
    c = OAuth2Client(server.server_metadata(), server.client("app"))
    manager = TokenManager(c, stale, min_refresh_interval=0)
    with httpx2.Client(auth=Httpx2Auth(manager)) as client:
        answer = client.get(server.url("/userinfo"))
    assert answer.status_code == 200, answer.text
    assert [r.status_code for r in answer.history] == [401]
    with httpx2.Client(auth=Httpx2Auth(stale)) as client:  # a plain token: never refreshed
        assert client.get(server.url("/userinfo")).status_code == 401
    with pytest.raises(oc.UsageError):
        Httpx2Auth("token")  # type: ignore[arg-type]
