"""Stale-while-revalidate: in the refresh window nobody waits for the refresh (issue 15).

The token manager's three phases (docs/token-lifecycle.md): *fresh* (every caller
gets the token, no lock), the *refresh window* (within ``leeway`` of expiry: one
caller refreshes, every other caller gets the still-valid token at once; a failure
there fails nobody and is retried with backoff), *expired* (callers wait for the
refresh and get its result). The refresh is held on the wire by the server's gate,
so "did not wait" is shown by order of events, not by timing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from pathlib import Path

import pytest

import oauth2_core as oc
from oauth2_transports import (
    AsyncOAuth2Client,
    AsyncTokenManager,
    FileLock,
    FileTokenStore,
    TokenManager,
    TokenRefreshError,
)

from ._token_server import FakeClock, ThreadedAsyncTransport, TokenServer, count_calls
from .conftest import make_client

# Issued for 100 s with a 60 s leeway: fresh for 50 s (half the lifetime), then the
# refresh window until 100 s, then expired.
LIFETIME, WINDOW_AT, EXPIRED_AT = 100, 60, 101


def _held(server: TokenServer, clock: FakeClock) -> oc.Token:
    return server.issue(expires_at=clock.now + dt.timedelta(seconds=LIFETIME))


def _await_request(server: TokenServer) -> None:
    assert server.token_request_arrived.wait(10), "the refresh never reached the server"


def test_threads_in_the_refresh_window_get_the_valid_token_while_one_refreshes(
    server: TokenServer, clock: FakeClock
) -> None:
    old = _held(server, clock)
    seen, on_token = count_calls()
    manager = TokenManager(make_client(server, clock), old, on_token=on_token, clock=clock)
    assert manager.token() is old  # fresh
    clock.advance(WINDOW_AT)
    server.gate.clear()
    led: list[oc.Token] = []
    leader = threading.Thread(target=lambda: led.append(manager.token()))
    leader.start()
    _await_request(server)  # the leader's refresh is on the wire, held there
    got: list[oc.Token] = []
    others = [threading.Thread(target=lambda: got.append(manager.token())) for _ in range(16)]
    for thread in others:
        thread.start()
    for thread in others:
        thread.join(10)
    # Every other caller came back while the refresh was still held: the old token.
    assert got == [old] * 16 and not led
    server.gate.set()
    leader.join(10)
    assert len(led) == 1 and led[0] is not old and seen == led  # on_token first
    assert manager.token() is led[0]
    assert server.refresh_requests == 1


def test_expired_callers_wait_for_the_refresh_in_flight(
    server: TokenServer, clock: FakeClock
) -> None:
    """A refresh started in the window is waited for by callers whose token expired."""
    old = _held(server, clock)
    manager = TokenManager(make_client(server, clock), old, clock=clock)
    clock.advance(WINDOW_AT)
    server.gate.clear()
    led: list[oc.Token] = []
    leader = threading.Thread(target=lambda: led.append(manager.token()))
    leader.start()
    _await_request(server)
    clock.advance(EXPIRED_AT - WINDOW_AT)
    got: list[oc.Token] = []
    waiter = threading.Thread(target=lambda: got.append(manager.token()))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive() and not got  # expired: it waits for the flight
    server.gate.set()
    leader.join(10)
    waiter.join(10)
    assert got == led and got[0] is not old
    assert server.refresh_requests == 1


def test_a_failed_refresh_in_the_window_fails_nobody_and_is_retried_with_backoff(
    server: TokenServer, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    old = _held(server, clock)
    manager = TokenManager(make_client(server, clock), old, clock=clock)
    clock.advance(WINDOW_AT)
    server.script = [(503, {"error": "temporarily_unavailable"})] * 2
    with caplog.at_level(logging.WARNING, logger="oauth2_transports"):
        assert manager.token() is old  # the leader too: its token still works
    assert server.refresh_requests == 1
    assert "next attempt in 1 s" in caplog.text
    assert old.access_token not in caplog.text and "rt-" not in caplog.text
    assert manager.token() is old and server.refresh_requests == 1  # backing off
    clock.advance(1)
    assert manager.token() is old and server.refresh_requests == 2  # retried, failed again
    clock.advance(1)
    assert manager.token() is old and server.refresh_requests == 2  # now 2 s
    clock.advance(1)
    new = manager.token()  # the script is used up: this one succeeds
    assert new is not old and server.refresh_requests == 3
    assert manager.token() is new


def test_once_expired_a_failed_refresh_reaches_the_callers_as_before(
    server: TokenServer, clock: FakeClock
) -> None:
    old = _held(server, clock)
    manager = TokenManager(make_client(server, clock), old, clock=clock)
    clock.advance(WINDOW_AT)
    server.script = [(503, {"error": "temporarily_unavailable"})] * 2
    assert manager.token() is old
    clock.advance(EXPIRED_AT - WINDOW_AT)  # expired, still within the backoff: no matter
    with pytest.raises(TokenRefreshError) as info:
        manager.token()
    assert info.value.retryable and server.refresh_requests == 2


def test_invalidated_tokens_are_never_served_from_the_window(
    server: TokenServer, clock: FakeClock
) -> None:
    old = _held(server, clock)
    manager = TokenManager(make_client(server, clock), old, clock=clock)
    clock.advance(WINDOW_AT)
    manager.invalidate(old)
    new = manager.token()
    assert new is not old and server.refresh_requests == 1


def test_a_process_finding_the_lock_held_uses_its_valid_token_without_waiting(
    server: TokenServer, clock: FakeClock, tmp_path: Path
) -> None:
    """Across processes: the lock holder refreshes; the others never queue on the lock."""
    old = _held(server, clock)
    store = FileTokenStore(tmp_path / "token.json", lock=FileLock(tmp_path / "token.lock"))
    store.save(old)
    manager = TokenManager(make_client(server, clock), store=store, clock=clock)
    assert manager.token() == old
    clock.advance(WINDOW_AT)
    other = FileLock(tmp_path / "token.lock")  # another process, refreshing
    with other:
        assert manager.token() == old  # did not wait: the lock is still held here
        assert server.refresh_requests == 0
        newer = server.issue(expires_at=clock.now + dt.timedelta(seconds=LIFETIME))
        store.save(newer)  # the other process's refreshed token
        assert manager.token() == old  # looks again only after LOCK_BUSY_RETRY
        clock.advance(0.5)
        assert manager.token() == newer  # adopted from the store, lock still held
    assert server.refresh_requests == 0


def test_the_lock_holder_refreshes_in_the_window_and_saves_first(
    server: TokenServer, clock: FakeClock, tmp_path: Path
) -> None:
    old = _held(server, clock)
    store = FileTokenStore(tmp_path / "token.json", lock=FileLock(tmp_path / "token.lock"))
    store.save(old)
    manager = TokenManager(make_client(server, clock), store=store, clock=clock)
    clock.advance(WINDOW_AT)
    new = manager.token()
    assert new != old and store.load() == new and server.refresh_requests == 1


def test_tasks_in_the_refresh_window_get_the_valid_token_while_one_refreshes(
    server: TokenServer, clock: FakeClock
) -> None:
    old = _held(server, clock)
    seen, on_token = count_calls()
    client = AsyncOAuth2Client(
        server.metadata, oc.Client("app", "s3cr3t"), transport=ThreadedAsyncTransport(clock)
    )
    manager = AsyncTokenManager(client, old, on_token=on_token, clock=clock)

    async def scenario() -> None:
        clock.advance(WINDOW_AT)
        server.gate.clear()
        leader = asyncio.create_task(manager.token())
        await asyncio.to_thread(_await_request, server)
        got = await asyncio.gather(*(manager.token() for _ in range(1000)))
        assert all(token is old for token in got) and not leader.done()
        server.gate.set()
        new = await leader
        assert new is not old and seen == [new]
        assert await manager.token() is new

    asyncio.run(scenario())
    assert server.refresh_requests == 1


def test_a_failed_refresh_in_the_window_fails_no_task(
    server: TokenServer, clock: FakeClock
) -> None:
    old = _held(server, clock)
    client = AsyncOAuth2Client(
        server.metadata, oc.Client("app", "s3cr3t"), transport=ThreadedAsyncTransport(clock)
    )
    manager = AsyncTokenManager(client, old, clock=clock)
    server.script = [(503, {"error": "temporarily_unavailable"})]

    async def scenario() -> None:
        clock.advance(WINDOW_AT)
        assert await manager.token() is old
        assert await manager.token() is old
        clock.advance(1)
        assert await manager.token() is not old

    asyncio.run(scenario())
    assert server.refresh_requests == 2
