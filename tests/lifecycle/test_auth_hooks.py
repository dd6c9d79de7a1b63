"""OAuth2Auth for requests and httpx: bearer header, one refresh-and-retry on a 401.

The loopback resource server answers ``401 Bearer error="invalid_token"`` for a
token it no longer accepts, so a request with a stale (revoked) token must be
refreshed and sent once more; ``insufficient_scope`` and bodies that cannot be
re-sent must not be retried; and nothing ever loops.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import requests

import oauth2_core as oc
from oauth2_transports import AsyncOAuth2Client, AsyncTokenManager, OAuth2Client, TokenManager
from oauth2_transports.httpx import OAuth2Auth as HttpxAuth
from oauth2_transports.requests import OAuth2Auth

from ._token_server import ThreadedAsyncTransport, TokenServer
from .conftest import make_client


def fresh(server: TokenServer) -> oc.Token:
    return server.issue(expires_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1))


def stale_manager(server: TokenServer) -> tuple[TokenManager, oc.Token]:
    """A manager whose token looks valid but that the resource server no longer accepts."""
    token = fresh(server)
    server.revoke_access(token.access_token)
    return TokenManager(make_client(server), token), token


def async_stale_manager(server: TokenServer) -> tuple[AsyncTokenManager, oc.Token]:
    token = fresh(server)
    server.revoke_access(token.access_token)
    client = AsyncOAuth2Client(
        server.metadata, oc.Client("app", "s3cr3t"), ThreadedAsyncTransport()
    )
    return AsyncTokenManager(client, token), token


def gen_body() -> Iterator[bytes]:
    yield b"part-1;"
    yield b"part-2"


# -- requests ---------------------------------------------------------------------------


def test_requests_sends_the_bearer_header(server: TokenServer) -> None:
    token = fresh(server)
    response = requests.get(f"{server.url}/api", auth=OAuth2Auth(token), timeout=10)
    assert response.status_code == 200
    assert server.api_requests[0][1] == f"Bearer {token.access_token}"


def test_requests_plain_token_is_never_retried(server: TokenServer) -> None:
    token = fresh(server)
    server.revoke_access(token.access_token)
    response = requests.get(f"{server.url}/api", auth=OAuth2Auth(token), timeout=10)
    assert response.status_code == 401
    assert len(server.api_requests) == 1


def test_requests_refreshes_and_retries_once_on_invalid_token(server: TokenServer) -> None:
    manager, stale = stale_manager(server)
    response = requests.post(
        f"{server.url}/api", data=b"payload", auth=OAuth2Auth(manager), timeout=10
    )
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [401]
    assert server.refresh_requests == 1
    (_, first_auth, first_body), (_, second_auth, second_body) = server.api_requests
    assert first_auth == f"Bearer {stale.access_token}"
    assert second_auth == f"Bearer {manager.token().access_token}"
    assert first_body == second_body == b"payload"


def test_requests_retries_only_once(server: TokenServer) -> None:
    manager, _ = stale_manager(server)
    response = requests.get(f"{server.url}/api/never", auth=OAuth2Auth(manager), timeout=10)
    assert response.status_code == 401
    assert len(server.api_requests) == 2 and server.refresh_requests == 1


def test_requests_does_not_retry_insufficient_scope(server: TokenServer) -> None:
    manager = TokenManager(make_client(server), fresh(server))
    response = requests.get(f"{server.url}/api/scoped", auth=OAuth2Auth(manager), timeout=10)
    assert response.status_code == 401
    assert len(server.api_requests) == 1 and server.refresh_requests == 0


def test_requests_does_not_retry_a_generator_body(server: TokenServer) -> None:
    manager, _ = stale_manager(server)
    response = requests.post(
        f"{server.url}/api", data=gen_body(), auth=OAuth2Auth(manager), timeout=10
    )
    assert response.status_code == 401
    assert server.api_requests[0][2] == b"part-1;part-2"
    assert len(server.api_requests) == 1 and server.refresh_requests == 0


def test_requests_refuses_dpop_and_async_managers(server: TokenServer) -> None:
    with pytest.raises(oc.UsageError, match="DPoP"):
        OAuth2Auth(oc.Token("at", token_type="DPoP"))
    manager = TokenManager(make_client(server), oc.Token("at", token_type="DPoP"))
    with pytest.raises(oc.UsageError, match="DPoP"):
        requests.get(f"{server.url}/api", auth=OAuth2Auth(manager), timeout=10)
    async_manager, _ = async_stale_manager(server)
    with pytest.raises(oc.UsageError):
        OAuth2Auth(async_manager)  # type: ignore[arg-type]


def test_usage_md_requests_line(server: TokenServer) -> None:
    c = OAuth2Client(server.metadata, oc.Client("app", "s3cr3t"))
    manager = TokenManager(c, scope="read")
    api_url = f"{server.url}/api"
    assert requests.get(api_url, auth=OAuth2Auth(manager)).status_code == 200


# -- httpx, sync ------------------------------------------------------------------------


def test_httpx_refreshes_and_retries_once_on_invalid_token(server: TokenServer) -> None:
    manager, stale = stale_manager(server)
    with httpx.Client(auth=HttpxAuth(manager)) as http:
        response = http.post(f"{server.url}/api", content=b"payload")
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [401]
    assert server.refresh_requests == 1
    assert [body for _, _, body in server.api_requests] == [b"payload", b"payload"]
    assert server.api_requests[0][1] == f"Bearer {stale.access_token}"


def test_httpx_retries_only_once_and_not_for_other_errors(server: TokenServer) -> None:
    manager, _ = stale_manager(server)
    with httpx.Client(auth=HttpxAuth(manager)) as http:
        assert http.get(f"{server.url}/api/never").status_code == 401
        assert len(server.api_requests) == 2
        assert http.get(f"{server.url}/api/scoped").status_code == 401
        assert len(server.api_requests) == 3
    assert server.refresh_requests == 1


def test_httpx_does_not_retry_a_generator_body(server: TokenServer) -> None:
    manager, _ = stale_manager(server)
    with httpx.Client(auth=HttpxAuth(manager)) as http:
        response = http.post(f"{server.url}/api", content=gen_body())
    assert response.status_code == 401
    assert len(server.api_requests) == 1 and server.refresh_requests == 0


def test_httpx_plain_token_and_wrong_manager(server: TokenServer) -> None:
    token = fresh(server)
    with httpx.Client(auth=HttpxAuth(token)) as http:
        assert http.get(f"{server.url}/api").status_code == 200
        async_manager, _ = async_stale_manager(server)
        with pytest.raises(oc.UsageError, match="AsyncClient"):
            http.get(f"{server.url}/api", auth=HttpxAuth(async_manager))
    with pytest.raises(oc.UsageError, match="DPoP"):
        HttpxAuth(oc.Token("at", token_type="dpop"))


# -- httpx, async -----------------------------------------------------------------------


def test_httpx_async_refreshes_and_retries_once(server: TokenServer) -> None:
    manager, _ = async_stale_manager(server)

    async def main() -> httpx.Response:
        async with httpx.AsyncClient(auth=HttpxAuth(manager)) as http:
            return await http.post(f"{server.url}/api", content=b"payload")

    response = asyncio.run(main())
    assert response.status_code == 200 and len(response.history) == 1
    assert server.refresh_requests == 1
    assert [body for _, _, body in server.api_requests] == [b"payload", b"payload"]


def test_httpx_async_no_retry_for_scope_or_streams(server: TokenServer) -> None:
    manager, _ = async_stale_manager(server)

    async def body() -> AsyncIterator[bytes]:
        yield b"streamed"

    async def main() -> tuple[int, int]:
        async with httpx.AsyncClient(auth=HttpxAuth(manager)) as http:
            streamed = await http.post(f"{server.url}/api", content=body())
            scoped = await http.get(f"{server.url}/api/scoped")
            return streamed.status_code, scoped.status_code

    assert asyncio.run(main()) == (401, 401)
    assert len(server.api_requests) == 2 and server.refresh_requests == 0


def test_httpx_async_with_a_sync_manager(server: TokenServer) -> None:
    manager, _ = stale_manager(server)

    async def main() -> int:
        async with httpx.AsyncClient(auth=HttpxAuth(manager)) as http:
            return (await http.get(f"{server.url}/api")).status_code

    assert asyncio.run(main()) == 200
    assert server.refresh_requests == 1
