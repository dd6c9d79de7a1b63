"""Malformed token answers never become a token request per call; unknown token types never go out.

A server that issues tokens with ``expires_in`` 0 or negative, or a resource server
that refuses every fresh token, costs one token request per ``min_refresh_interval``
(sync and async managers, and through the auth hooks). A token of an unknown type
(``mac``) is refused by the hooks with a typed error and nothing is sent.
"""

from __future__ import annotations

import asyncio
import logging

import attrs
import httpx
import pytest
import requests

import oauth2_core as oc
from oauth2_transports import AsyncOAuth2Client, AsyncTokenManager, OAuth2Client, TokenManager
from oauth2_transports.httpx import OAuth2Auth as HttpxAuth
from oauth2_transports.requests import OAuth2Auth

from ._token_server import FakeClock, ThreadedAsyncTransport, TokenServer
from .conftest import make_client

CALLS = 20


def token_requests(server: TokenServer) -> int:
    return server.client_credentials_requests + server.refresh_requests


def bound_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "min_refresh_interval" in r.getMessage()]


@pytest.mark.parametrize("expires_in", [0, -5])
def test_a_token_issued_already_expired_is_fetched_once_per_interval(
    clock: FakeClock, expires_in: int, caplog: pytest.LogCaptureFixture
) -> None:
    with TokenServer(expires_in=expires_in, issue_refresh_tokens=False) as server:
        manager = TokenManager(make_client(server, clock), scope="read", clock=clock)
        with caplog.at_level(logging.WARNING, logger="oauth2_transports"):
            tokens = {manager.token().access_token for _ in range(CALLS)}
            assert len(tokens) == 1
            assert server.client_credentials_requests == 1
            assert len(bound_messages(caplog)) == 1  # one line, not one per call
            clock.advance(9.9)
            manager.token()
            assert server.client_credentials_requests == 1
            clock.advance(0.2)  # the bound (10 s by default) has passed
            assert manager.token().access_token not in tokens
            assert server.client_credentials_requests == 2
        for message in bound_messages(caplog):
            assert "at-" not in message  # no token in the log


def test_the_bound_is_a_constructor_keyword_and_zero_turns_it_off(clock: FakeClock) -> None:
    with TokenServer(expires_in=0, issue_refresh_tokens=False) as server:
        manager = TokenManager(
            make_client(server, clock), scope="read", clock=clock, min_refresh_interval=0
        )
        for _ in range(3):
            manager.token()
        assert server.client_credentials_requests == 3
        with pytest.raises(oc.UsageError):
            TokenManager(make_client(server), scope="x", min_refresh_interval=-1)
        with pytest.raises(oc.UsageError):
            TokenManager(make_client(server), scope="x", request_deadline=0)


def test_a_refresh_answered_with_expires_in_zero_is_not_repeated_per_call(
    clock: FakeClock,
) -> None:
    with TokenServer(expires_in=0) as server:
        start = server.issue(expires_at=clock.now)
        manager = TokenManager(make_client(server, clock), start, clock=clock)
        for _ in range(CALLS):
            manager.token()
        assert server.refresh_requests == 1 and server.rejected_refreshes == 0


def test_async_manager_has_the_same_bound(clock: FakeClock) -> None:
    with TokenServer(expires_in=0, issue_refresh_tokens=False) as server:
        client = AsyncOAuth2Client(
            server.metadata, oc.Client("app", "s3cr3t"), ThreadedAsyncTransport(clock)
        )
        manager = AsyncTokenManager(client, scope="read", clock=clock)

        async def calls() -> set[str]:
            return {(await manager.token()).access_token for _ in range(CALLS)}

        assert len(asyncio.run(calls())) == 1
        assert server.client_credentials_requests == 1
        clock.advance(10)
        asyncio.run(calls())
        assert server.client_credentials_requests == 2


def test_a_resource_server_refusing_every_token_costs_one_token_request(
    server: TokenServer,
) -> None:
    manager = TokenManager(make_client(server), scope="read")
    for _ in range(CALLS):
        response = requests.get(f"{server.url}/api/never", auth=OAuth2Auth(manager), timeout=10)
        assert response.status_code == 401
    assert token_requests(server) == 1
    assert len(server.api_requests) == CALLS  # no resend with the same token either


def test_httpx_hooks_share_the_bound(server: TokenServer) -> None:
    manager = TokenManager(make_client(server), scope="read")
    with httpx.Client(auth=HttpxAuth(manager)) as http:
        for _ in range(CALLS):
            assert http.get(f"{server.url}/api/never").status_code == 401
    assert token_requests(server) == 1

    async_manager = AsyncTokenManager(
        AsyncOAuth2Client(server.metadata, oc.Client("app", "s3cr3t"), ThreadedAsyncTransport()),
        scope="read",
    )

    async def calls() -> None:
        async with httpx.AsyncClient(auth=HttpxAuth(async_manager)) as http:
            for _ in range(CALLS):
                assert (await http.get(f"{server.url}/api/never")).status_code == 401

    asyncio.run(calls())
    assert token_requests(server) == 2


def test_an_unknown_token_type_is_never_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with TokenServer(extra={"token_type": "mac"}) as server:
        manager = TokenManager(make_client(server), scope="read")
        with caplog.at_level(logging.WARNING, logger="oauth2_transports"):
            token = manager.token()
        assert token.token_type == "mac"  # parsing stays tolerant
        assert any("'mac'" in r.getMessage() for r in caplog.records)  # said when issued
        with pytest.raises(oc.UnsupportedTokenTypeError) as info:
            requests.get(f"{server.url}/api", auth=OAuth2Auth(manager), timeout=10)
        assert info.value.token_type == "mac"
        assert isinstance(info.value, oc.UsageError)
        with pytest.raises(oc.UnsupportedTokenTypeError):
            httpx.get(f"{server.url}/api", auth=HttpxAuth(manager))
        metadata = attrs.evolve(server.metadata, userinfo_endpoint=f"{server.url}/api")
        userinfo = OAuth2Client(metadata, oc.Client("app", "s3cr3t"))
        with pytest.raises(oc.UnsupportedTokenTypeError):
            userinfo.userinfo(token)
        assert server.api_requests == []  # nothing went out as Bearer
        assert server.client_credentials_requests == 1


@pytest.mark.parametrize("token_type", ["N_A", "n_a", "mac", "Basic", ""])
def test_the_hooks_refuse_a_plain_token_of_an_unknown_type(
    server: TokenServer, token_type: str
) -> None:
    token = oc.Token("at-x", token_type=token_type)
    if token_type == "":
        # An empty type is not Bearer either (the parser maps a missing one to Bearer).
        with pytest.raises(oc.UnsupportedTokenTypeError):
            OAuth2Auth(token)
        return
    with pytest.raises(oc.UnsupportedTokenTypeError):
        OAuth2Auth(token)
    with pytest.raises(oc.UnsupportedTokenTypeError):
        HttpxAuth(token)
    assert server.api_requests == []
