"""After a failed refresh of an expired token, the next attempt waits (no request per call).

An expired token whose refresh failed (server down, ``invalid_grant``, a forged
answer) is not refreshed again on every ``token()`` call: for 1 s after the first
failure, then 2 s, 4 s, ... 60 s, callers get the failure again, marked as not
asked again, without a request. A token another process stored meanwhile is
still adopted at once, and a success resets the wait.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

import oauth2_core as oc
from oauth2_transports import (
    AsyncOAuth2Client,
    AsyncTokenManager,
    FileTokenStore,
    ReauthorizationRequiredError,
    TokenManager,
    TokenRefreshError,
)

from ._token_server import FakeClock, ThreadedAsyncTransport, TokenServer
from .conftest import make_client

DOWN = (503, {"error": "temporarily_unavailable"})


def _expired(server: TokenServer, clock: FakeClock) -> oc.Token:
    return server.issue(expires_at=clock.now - dt.timedelta(seconds=5))


def test_a_down_server_is_not_asked_once_per_call(server: TokenServer, clock: FakeClock) -> None:
    manager = TokenManager(make_client(server, clock), _expired(server, clock), clock=clock)
    server.script = [DOWN] * 3
    with pytest.raises(TokenRefreshError) as first:
        manager.token()
    assert first.value.retryable and server.refresh_requests == 1
    for _ in range(50):  # a busy caller: no request goes out during the wait
        with pytest.raises(TokenRefreshError) as again:
            manager.token()
    assert server.refresh_requests == 1
    assert again.value.retryable and again.value.status == 503
    assert again.value.__cause__ is first.value
    assert "not asked again" in str(again.value) and "next may start in 1.0 s" in str(again.value)
    clock.advance(1)
    with pytest.raises(TokenRefreshError):
        manager.token()  # asked again: failed again, the wait doubles
    assert server.refresh_requests == 2
    clock.advance(1)
    with pytest.raises(TokenRefreshError):
        manager.token()
    assert server.refresh_requests == 2  # 2 s now
    clock.advance(1)
    with pytest.raises(TokenRefreshError):
        manager.token()
    assert server.refresh_requests == 3
    clock.advance(4)
    new = manager.token()  # the script is used up: this one succeeds
    assert server.refresh_requests == 4 and manager.token() is new


def test_a_success_resets_the_wait(server: TokenServer, clock: FakeClock) -> None:
    manager = TokenManager(make_client(server, clock), _expired(server, clock), clock=clock)
    server.script = [DOWN]
    with pytest.raises(TokenRefreshError):
        manager.token()
    clock.advance(1)
    new = manager.token()
    assert new.expires_at is not None
    clock.advance((new.expires_at - clock.now).total_seconds() + 1)  # expired again
    server.script = [DOWN]
    with pytest.raises(TokenRefreshError) as caught:
        manager.token()
    assert "not asked again" not in str(caught.value)  # a real attempt, not the old failure
    assert server.refresh_requests == 3


def test_a_refused_grant_is_not_resent(server: TokenServer, clock: FakeClock) -> None:
    """invalid_grant: the refresh token is dead; sending it again cannot help."""
    manager = TokenManager(make_client(server, clock), _expired(server, clock), clock=clock)
    server.script = [(400, {"error": "invalid_grant"})]
    with pytest.raises(ReauthorizationRequiredError):
        manager.token()
    with pytest.raises(ReauthorizationRequiredError) as again:
        manager.token()
    assert again.value.reauthorize and again.value.error == "invalid_grant"
    assert server.refresh_requests == 1


def test_a_token_stored_by_another_process_is_adopted_during_the_wait(
    server: TokenServer, clock: FakeClock, tmp_path: Path
) -> None:
    store = FileTokenStore(tmp_path / "token.json")
    manager = TokenManager(
        make_client(server, clock), _expired(server, clock), clock=clock, store=store
    )
    server.script = [DOWN]
    with pytest.raises(TokenRefreshError):
        manager.token()
    other = server.issue(expires_at=clock.now + dt.timedelta(seconds=3600))
    store.save(other)  # another process got through
    assert manager.token() == other
    assert server.refresh_requests == 1


def test_invalidated_tokens_wait_too(server: TokenServer, clock: FakeClock) -> None:
    held = server.issue(expires_at=clock.now + dt.timedelta(seconds=3600))
    manager = TokenManager(make_client(server, clock), held, clock=clock)
    manager.invalidate(held)  # the resource server refused it
    server.script = [DOWN]
    for _ in range(3):
        with pytest.raises(TokenRefreshError):
            manager.token()
    assert server.refresh_requests == 1


def test_the_async_manager_waits_alike(server: TokenServer, clock: FakeClock) -> None:
    client = AsyncOAuth2Client(
        server.metadata, oc.Client("app", "s3cr3t"), transport=ThreadedAsyncTransport(clock)
    )
    manager = AsyncTokenManager(client, _expired(server, clock), clock=clock)
    server.script = [DOWN] * 2

    async def main() -> None:
        with pytest.raises(TokenRefreshError):
            await manager.token()
        results = await asyncio.gather(
            *(manager.token() for _ in range(20)), return_exceptions=True
        )
        assert all(isinstance(r, TokenRefreshError) for r in results)
        assert all("not asked again" in str(r) for r in results)
        assert server.refresh_requests == 1
        clock.advance(1)
        with pytest.raises(TokenRefreshError):
            await manager.token()
        assert server.refresh_requests == 2
        clock.advance(2)
        assert (await manager.token()).access_token
        assert server.refresh_requests == 3

    asyncio.run(main())
