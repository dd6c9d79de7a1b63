"""RFC 9470 step-up through the ``for_resource`` hooks, end to end against the mock server.

The mock's protected resource demands an authentication level
(``set_resource_authentication``: ``acr_values`` / ``max_age``) and answers 401
``insufficient_user_authentication`` until the token comes from an
authorization that met it; the mock's authorization endpoint records the
sign-in's ``acr`` and ``auth_time`` with the code. Every hook flavour (requests,
httpx sync and async, httpx2 sync and async) authorizes once, steps up once with
the ``acr_values`` / ``max_age`` asked for, resends, and never loops.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
import requests
from face_helpers import body, call, follow_authorization

from oauth2_transports.httpx import OAuth2Auth as HttpxAuth
from oauth2_transports.requests import OAuth2Auth as RequestsAuth
from oauth2_transports.testing import MockAuthorizationServer

REDIRECT = "http://127.0.0.1:8765/callback"
METADATA = {"client_name": "acme", "redirect_uris": [REDIRECT]}
SILVER = "urn:mace:incommon:iap:silver"

#: ``get(auth, url) -> (status, [statuses of the history])`` for each hook flavour.
Get = Callable[[object, str], tuple[int, list[int]]]


def _requests(auth: object, url: str) -> tuple[int, list[int]]:
    answer = requests.get(url, auth=auth, timeout=10)  # type: ignore[arg-type]
    return answer.status_code, [r.status_code for r in answer.history]


def _httpx_sync(auth: object, url: str) -> tuple[int, list[int]]:
    with httpx.Client(auth=auth) as client:  # type: ignore[arg-type]
        answer = client.get(url)
    return answer.status_code, [r.status_code for r in answer.history]


def _httpx_async(auth: object, url: str) -> tuple[int, list[int]]:
    async def main() -> tuple[int, list[int]]:
        async with httpx.AsyncClient(auth=auth) as client:  # type: ignore[arg-type]
            answer = await client.get(url)
        return answer.status_code, [r.status_code for r in answer.history]

    return asyncio.run(main())


def _httpx2_sync(auth: object, url: str) -> tuple[int, list[int]]:
    httpx2 = pytest.importorskip("httpx2")
    with httpx2.Client(auth=auth) as client:
        answer = client.get(url)
    return answer.status_code, [r.status_code for r in answer.history]


def _httpx2_async(auth: object, url: str) -> tuple[int, list[int]]:
    httpx2 = pytest.importorskip("httpx2")

    async def main() -> tuple[int, list[int]]:
        async with httpx2.AsyncClient(auth=auth) as client:
            answer = await client.get(url)
        return answer.status_code, [r.status_code for r in answer.history]

    return asyncio.run(main())


def _make(flavour: str, authorize: Callable[[str], str], **options: Any) -> object:
    options = {"client_metadata": METADATA, "authorize": authorize, **options}
    if flavour == "requests":
        return RequestsAuth.for_resource(**options)
    if flavour.startswith("httpx2"):
        pytest.importorskip("httpx2")
        from oauth2_transports.httpx2 import OAuth2Auth as Httpx2Auth

        return Httpx2Auth.for_resource(**options)
    return HttpxAuth.for_resource(**options)


FLAVOURS: dict[str, Get] = {
    "requests": _requests,
    "httpx-sync": _httpx_sync,
    "httpx-async": _httpx_async,
    "httpx2-sync": _httpx2_sync,
    "httpx2-async": _httpx2_async,
}


class Browser:
    """``authorize(url)``: follows the auto-approving mock, remembering each URL."""

    def __init__(self, rewrite: Callable[[dict[str, str]], None] | None = None) -> None:
        self.urls: list[str] = []
        self._rewrite = rewrite

    def __call__(self, url: str) -> str:
        self.urls.append(url)
        if self._rewrite is not None:
            parts = urlsplit(url)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            self._rewrite(query)
            url = urlunsplit(parts._replace(query=urlencode(query)))
        return follow_authorization(url)

    def query(self, index: int) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.urls[index]).query)


def _authorizations(server: MockAuthorizationServer) -> int:
    return sum(r.path == "/authorize" for r in server.requests)


def _introspect(server: MockAuthorizationServer, access_token: str) -> dict[str, object]:
    from face_helpers import basic

    answer = call(
        "POST",
        server.url("/introspect"),
        form={"token": access_token},
        headers=basic("app", "app-secret"),
    )
    return body(answer)


@pytest.mark.parametrize("flavour", list(FLAVOURS))
def test_acr_step_up_authorizes_once_more_and_resends(
    server: MockAuthorizationServer, flavour: str
) -> None:
    browser = Browser()
    auth = _make(flavour, browser)
    get = FLAVOURS[flavour]
    assert get(auth, server.resource_url) == (200, [401])
    assert _authorizations(server) == 1
    assert "acr_values" not in browser.query(0)

    server.set_resource_authentication(acr_values=[SILVER])
    assert get(auth, server.resource_url) == (200, [401])  # RFC 9470 §3 challenge, then resent
    assert _authorizations(server) == 2
    stepped = browser.query(1)
    assert stepped["acr_values"] == [SILVER]
    assert stepped["scope"] == browser.query(0)["scope"]  # the scope asked before, kept
    assert stepped["resource"] == [server.resource_url]

    assert get(auth, server.resource_url) == (200, [])  # the new token is enough
    assert _authorizations(server) == 2
    challenge = next(
        r
        for r in server.requests
        if r.path == "/resource" and r.status == 401 and r.headers.get("authorization")
    )
    assert challenge.error == "insufficient_user_authentication"


@pytest.mark.parametrize("flavour", list(FLAVOURS))
def test_max_age_step_up_signs_the_user_in_again(
    server: MockAuthorizationServer, flavour: str
) -> None:
    browser = Browser()
    auth = _make(flavour, browser)
    get = FLAVOURS[flavour]
    assert get(auth, server.resource_url) == (200, [401])
    server.advance(600)  # the sign-in is ten minutes old now
    server.set_resource_authentication(max_age=300)
    assert get(auth, server.resource_url) == (200, [401])
    assert _authorizations(server) == 2
    assert browser.query(1)["max_age"] == ["300"]
    assert get(auth, server.resource_url) == (200, [])


@pytest.mark.parametrize("flavour", list(FLAVOURS))
def test_max_age_is_asked_again_once_the_sign_in_has_aged(
    server: MockAuthorizationServer, flavour: str
) -> None:
    """A max_age asked for before is asked again when the last authorization is older than it."""
    browser = Browser()
    clock = lambda: dt.datetime.fromtimestamp(server.now(), dt.timezone.utc)  # noqa: E731
    auth = _make(flavour, browser, clock=clock)
    get = FLAVOURS[flavour]
    server.set_resource_authentication(max_age=300)
    assert get(auth, server.resource_url) == (200, [401])  # the first authorization
    server.advance(600)
    assert get(auth, server.resource_url) == (200, [401])  # step-up with max_age=300
    server.advance(600)
    assert get(auth, server.resource_url) == (200, [401])  # the same max_age, asked again
    assert get(auth, server.resource_url) == (200, [])
    assert _authorizations(server) == 3
    assert [browser.query(i).get("max_age") for i in range(3)] == [None, ["300"], ["300"]]


@pytest.mark.parametrize("flavour", list(FLAVOURS))
def test_a_resource_that_keeps_demanding_gets_one_step_up(
    server: MockAuthorizationServer, flavour: str
) -> None:
    """The user's browser drops acr_values: one step-up, then the 401 goes to the caller."""
    browser = Browser(rewrite=lambda query: query.pop("acr_values", None))
    auth = _make(flavour, browser)
    get = FLAVOURS[flavour]
    assert get(auth, server.resource_url) == (200, [401])
    server.set_resource_authentication(acr_values=[SILVER])
    assert get(auth, server.resource_url) == (401, [401])  # stepped up once, still refused
    assert get(auth, server.resource_url) == (401, [])  # nothing new to ask: no authorization
    assert _authorizations(server) == 2


def test_mock_records_the_sign_in_with_the_token(server: MockAuthorizationServer) -> None:
    """The mock's side: acr and auth_time travel from the sign-in to the token (RFC 9470 §6.2)."""
    import oauth2_core as oc
    from oauth2_transports import OAuth2Client

    c = OAuth2Client(server.server_metadata(), server.client("app", redirect_uri=REDIRECT))
    tokens = []
    for acr in (None, SILVER, None):
        pending = oc.new_pending_authorization(c.client)
        params = {} if acr is None else {"acr_values": acr}
        url = c.authorization_url(pending, scope="openid", **params)
        tokens.append(c.exchange_code(pending, follow_authorization(url)))
    first, silver, again = (_introspect(server, t.access_token) for t in tokens)
    assert first["acr"] == "urn:mock:acr:password"
    assert silver["acr"] == SILVER
    assert again["acr"] == SILVER  # the user's session already meets it: no new sign-in
    assert isinstance(first["auth_time"], int) and first["auth_time"] <= silver["auth_time"]
    bad = call(
        "GET",
        server.url("/authorize")
        + "?"
        + urlencode(
            {"client_id": "app", "redirect_uri": REDIRECT, "response_type": "code", "max_age": "-1"}
        ),
    )
    assert "error=invalid_request" in str(bad.headers["Location"])
