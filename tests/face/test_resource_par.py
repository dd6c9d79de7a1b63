"""``for_resource`` against a server that requires PAR (RFC 9126 §5), end to end.

The mock server with ``require_par=True`` says ``require_pushed_authorization_requests``
in its metadata and refuses any authorization request that was not pushed. The
chain goes through the core's ``authorization_url_flow``: it pushes the request
(with ``resource=``, RFC 8707, and the PKCE challenge) and sends the user to a
URL carrying only ``client_id`` and ``request_uri`` (§4); a step-up pushes again.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import requests
from face_helpers import follow_authorization

from oauth2_transports.httpx import OAuth2Auth as HttpxAuth
from oauth2_transports.requests import OAuth2Auth as RequestsAuth
from oauth2_transports.testing import MockAuthorizationServer

REDIRECT = "http://127.0.0.1:8765/callback"
METADATA = {"client_name": "acme", "redirect_uris": [REDIRECT]}


@pytest.fixture
def par_server() -> Iterator[MockAuthorizationServer]:
    with MockAuthorizationServer(require_par=True) as server:
        yield server


class Browser:
    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, url: str) -> str:
        self.urls.append(url)
        return follow_authorization(url)


def _counts(server: MockAuthorizationServer) -> dict[str, int]:
    paths = Counter(r.path for r in server.requests)
    return {k: paths["/" + k] for k in ("register", "par", "authorize", "token")}


def _check_pushed(server: MockAuthorizationServer, browser: Browser) -> None:
    for url in browser.urls:
        query = parse_qs(urlsplit(url).query)
        assert set(query) == {"client_id", "request_uri"}  # RFC 9126 §4
    pushed = [r for r in server.requests if r.path == "/par"]
    for request in pushed:
        assert request.form["resource"] == server.resource_url  # RFC 8707
        assert request.form["code_challenge_method"] == "S256"


def test_requests_pushes_when_the_server_requires_it(par_server: MockAuthorizationServer) -> None:
    browser = Browser()
    auth = RequestsAuth.for_resource(client_metadata=METADATA, authorize=browser)
    with requests.Session() as session:
        session.auth = auth
        first = session.get(par_server.resource_url, timeout=10)
        assert first.status_code == 200, first.text
        assert session.get(par_server.resource_url, timeout=10).status_code == 200
    assert _counts(par_server) == {"register": 1, "par": 1, "authorize": 1, "token": 1}
    _check_pushed(par_server, browser)
    assert auth.session is not None and auth.session.server.require_pushed_authorization_requests


def test_httpx_async_pushes_and_pushes_again_for_a_step_up(
    par_server: MockAuthorizationServer,
) -> None:
    browser = Browser()
    auth = HttpxAuth.for_resource(client_metadata=METADATA, authorize=browser)

    async def get() -> httpx.Response:
        async with httpx.AsyncClient(auth=auth) as client:
            return await client.get(par_server.resource_url)

    assert asyncio.run(get()).status_code == 200
    assert _counts(par_server) == {"register": 1, "par": 1, "authorize": 1, "token": 1}
    par_server.set_resource_authentication(acr_values=["urn:mace:incommon:iap:silver"])
    stepped = asyncio.run(get())
    assert stepped.status_code == 200, stepped.text
    assert [r.status_code for r in stepped.history] == [401]
    assert _counts(par_server) == {"register": 1, "par": 2, "authorize": 2, "token": 2}
    _check_pushed(par_server, browser)
    second_push = [r for r in par_server.requests if r.path == "/par"][1]
    assert second_push.form["acr_values"] == "urn:mace:incommon:iap:silver"


def test_httpx_sync_without_par_the_server_refuses(par_server: MockAuthorizationServer) -> None:
    """The control: the mock really refuses a request that was not pushed."""
    auth = HttpxAuth.for_resource(client_metadata=METADATA, authorize=Browser())
    with httpx.Client(auth=auth) as client:
        assert client.get(par_server.resource_url).status_code == 200
    client_id = auth.session.client.client_id if auth.session else ""
    direct = (
        par_server.url("/authorize")
        + "?"
        + "&".join([f"client_id={client_id}", "response_type=code", f"redirect_uri={REDIRECT}"])
    )
    location = follow_authorization(direct)
    assert "error=invalid_request" in location
