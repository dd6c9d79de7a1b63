"""A lease never runs out while a refresh may still reach the server (RFC 9700 §4.14.2).

Real redis-server, real loopback token server with refresh-token rotation and reuse
detection that revokes the grant. The transports here are small test classes that
declare a ``deadline`` (the hard bound of one send), as the built-in ones do.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import redis

import oauth2_core as oc
from oauth2_transports import (
    FileLock,
    FileTokenStore,
    LeaseLostError,
    OAuth2Client,
    TokenManager,
    TokenRefreshError,
    Urllib3Transport,
)
from oauth2_transports.redis import RedisLock, RedisTokenStore

from ._token_server import TokenServer


class DeadlineTransport:
    """Urllib3Transport that declares the hard bound of one send (``deadline``)."""

    def __init__(self, deadline: float, before_send: Callable[[], None] | None = None) -> None:
        self._inner = Urllib3Transport(timeout=deadline)
        self.deadline = deadline
        self._before_send = before_send

    def send(self, request: oc.HttpRequest) -> oc.HttpResponse:
        if self._before_send is not None:
            self._before_send()
        return self._inner.send(request)


@pytest.fixture
def r(redis_port: int) -> Iterator[redis.Redis]:
    client = redis.Redis(host="127.0.0.1", port=redis_port)
    client.flushall()
    yield client
    client.close()


def client_of(server: TokenServer, transport: object) -> OAuth2Client:
    return OAuth2Client(server.metadata, oc.Client("app", "s3cr3t"), transport=transport)  # type: ignore[arg-type]


def stale(server: TokenServer) -> oc.Token:
    return server.issue(expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1))


def run_threads(*targets: Callable[[], object]) -> list[object]:
    results: list[object] = [None] * len(targets)

    def call(i: int) -> None:
        try:
            results[i] = targets[i]()
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(targets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_a_refresh_slower_than_the_lease_is_sent_once_and_the_grant_survives(
    r: redis.Redis,
) -> None:
    # The lease (1 s) is shorter than the refresh (2 s): before the fix the second
    # process took the expired lock, replayed the same refresh token, and the server
    # revoked the grant; the first process then stored a revoked token.
    with TokenServer(delay=2.0, revoke_on_reuse=True) as server:
        RedisTokenStore(r, "app:token").save(stale(server))

        def manager() -> TokenManager:
            lock = RedisLock(r, "app:lock", ttl=1.0, wait=30)
            store = RedisTokenStore(r, "app:token", lock=lock)
            return TokenManager(client_of(server, DeadlineTransport(5.0)), store=store)

        a, b = manager(), manager()
        results = run_threads(a.token, b.token)
        assert all(isinstance(t, oc.Token) for t in results), results
        assert server.refresh_requests == 1
        assert len(set(server.refresh_tokens_sent)) == len(server.refresh_tokens_sent) == 1
        assert server.rejected_refreshes == 0 and server.grant_revocations == 0
        first, second = results
        assert isinstance(first, oc.Token) and isinstance(second, oc.Token)
        assert first == second == RedisTokenStore(r, "app:token").load()
        assert first.access_token in server.live_access
        assert first.refresh_token in server.live_refresh
        assert r.exists("app:lock") == 0


class GatedStore(RedisTokenStore):
    """A RedisTokenStore whose first load inside the lock waits for the test."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.entered = threading.Event()
        self.proceed = threading.Event()

    def load(self) -> oc.Token | None:
        if not self.entered.is_set():
            self.entered.set()
            assert self.proceed.wait(30)
        return super().load()


@pytest.mark.parametrize("intruder_saves", [False, True])
def test_nothing_is_sent_under_a_lease_already_lost(
    r: redis.Redis, server: TokenServer, intruder_saves: bool
) -> None:
    start = stale(server)
    lock = RedisLock(r, "app:lock", ttl=0.2, wait=5)
    store = GatedStore(r, "app:token")
    store.save(start)
    manager = TokenManager(client_of(server, DeadlineTransport(5.0)), start, store=store, lock=lock)
    results = run_threads(manager.token, lambda: intrude(r, store, server, intruder_saves))
    outcome, intruder_token = results
    assert server.refresh_requests == (1 if intruder_saves else 0)  # the intruder's, if any
    if intruder_saves:
        assert outcome == intruder_token  # store re-read: the other holder's token adopted
    else:
        assert isinstance(outcome, LeaseLostError)
        assert isinstance(outcome, TokenRefreshError) and outcome.retryable
        assert "nothing was sent" in str(outcome)
        assert start.refresh_token not in str(outcome)


def intrude(r: redis.Redis, store: GatedStore, server: TokenServer, saves: bool) -> oc.Token | None:
    """Wait for the manager to hold the lock, let its lease expire, take the lock."""
    assert store.entered.wait(30)
    deadline = time.monotonic() + 10
    while r.exists("app:lock") and time.monotonic() < deadline:
        time.sleep(0.02)
    other = RedisLock(r, "app:lock", ttl=30, wait=5)
    other.acquire()
    try:
        token = None
        if saves:
            current = RedisTokenStore(r, "app:token").load()
            assert current is not None
            token = OAuth2Client(server.metadata, oc.Client("app", "s3cr3t")).refresh(current)
            RedisTokenStore(r, "app:token").save(token)
        store.proceed.set()
        time.sleep(0.3)  # the manager runs into the lost lease meanwhile
        return token
    finally:
        other.release()


def test_a_lease_lost_during_the_refresh_never_overwrites_a_newer_token(
    r: redis.Redis, server: TokenServer, caplog: pytest.LogCaptureFixture
) -> None:
    # Redis lost our lease (failover, eviction) while the request was on the wire,
    # and another holder saved its token meanwhile: ours must not replace it.
    start = stale(server)
    theirs = server.issue(expires_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1))

    def lose_the_lease() -> None:
        r.delete("app:lock")
        RedisTokenStore(r, "app:token").save(theirs)

    lock = RedisLock(r, "app:lock", ttl=30)
    store = RedisTokenStore(r, "app:token", lock=lock)
    store.save(start)
    manager = TokenManager(client_of(server, DeadlineTransport(5.0, lose_the_lease)), store=store)
    with caplog.at_level(logging.WARNING, logger="oauth2_transports"):
        mine = manager.token()
    assert server.refresh_requests == 1 and mine.access_token != theirs.access_token
    assert store.load() == theirs
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "keeping theirs" in messages and "released" in messages
    for secret in (mine.access_token, theirs.access_token, start.refresh_token):
        assert secret is not None and secret not in messages


def test_the_lease_covers_a_transport_without_a_declared_deadline(
    r: redis.Redis, server: TokenServer
) -> None:
    observed: list[int] = []

    class Plain:  # no `deadline`: the manager's request_deadline is assumed
        def send(self, request: oc.HttpRequest) -> oc.HttpResponse:
            observed.append(int(r.pttl("app:lock")))
            return Urllib3Transport().send(request)

    lock = RedisLock(r, "app:lock", ttl=1.0)
    store = RedisTokenStore(r, "app:token", lock=lock)
    store.save(stale(server))
    TokenManager(client_of(server, Plain()), store=store, request_deadline=20).token()
    assert len(observed) == 1 and 20_000 < observed[0] <= 25_000


def test_redis_ensure_lease_extends_only_our_own_lease(r: redis.Redis) -> None:
    lock = RedisLock(r, "app:lock", ttl=1.0)
    with pytest.raises(oc.UsageError):
        lock.ensure_lease(5)
    lock.acquire()
    assert lock.ensure_lease(10) is True
    assert 9_000 < r.pttl("app:lock") <= 10_000
    assert lock.ensure_lease(2) is True  # never shortened
    assert r.pttl("app:lock") > 9_000
    r.set("app:lock", "someone-else")
    assert lock.ensure_lease(10) is False
    assert r.get("app:lock") == b"someone-else"
    assert lock.release() is False
    assert r.get("app:lock") == b"someone-else"


class DrippingServer:
    """Accepts connections and answers one byte every 100 ms, forever (a stuck server)."""

    def __init__(self) -> None:
        import socket

        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._stop = threading.Event()
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: object) -> None:
        import socket

        assert isinstance(conn, socket.socket)
        with conn:
            conn.recv(65536)
            head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n"
            try:
                conn.sendall(head)
                while not self._stop.wait(0.1):
                    conn.sendall(b" ")
            except OSError:
                return

    def close(self) -> None:
        self._stop.set()
        self._sock.close()


class SocketDeadlineTransport:
    """A minimal transport that keeps its own ``deadline`` over the whole send."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def send(self, request: oc.HttpRequest) -> oc.HttpResponse:
        import socket
        from urllib.parse import urlsplit

        from oauth2_transports import TransportError

        ends = time.monotonic() + self.deadline
        parts = urlsplit(request.url)
        head = f"{request.method} {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        head += "".join(f"{n}: {v}\r\n" for n, v in request.headers.fields())
        head += f"Content-Length: {len(request.body)}\r\n\r\n"
        with socket.create_connection((parts.hostname, parts.port), timeout=self.deadline) as s:
            s.sendall(head.encode("latin-1") + request.body)
            while True:
                left = ends - time.monotonic()
                if left <= 0:
                    raise TransportError("the request's deadline passed")
                s.settimeout(left)
                try:
                    if not s.recv(65536):
                        raise TransportError("connection closed")
                except TimeoutError:
                    raise TransportError("the request's deadline passed") from None


def test_a_file_lock_waiter_is_not_stuck_behind_a_refresh_to_a_dripping_server(
    tmp_path: object,
) -> None:
    import pathlib

    assert isinstance(tmp_path, pathlib.Path)
    drip = DrippingServer()
    try:
        metadata = oc.ServerMetadata(issuer=drip.url, token_endpoint=f"{drip.url}/token")
        expired = oc.Token(
            "at", expires_at=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc), refresh_token="rt"
        )
        FileTokenStore(tmp_path / "token.json").save(expired)

        def manager() -> TokenManager:
            client = OAuth2Client(
                metadata, oc.Client("app", "s3cr3t"), transport=SocketDeadlineTransport(0.5)
            )
            store = FileTokenStore(tmp_path / "token.json")
            return TokenManager(client, store=store, lock=FileLock(tmp_path / "token.lock"))

        started = time.monotonic()
        results = run_threads(manager().token, manager().token)  # FileLock(timeout=None)
        elapsed = time.monotonic() - started
        assert all(isinstance(e, TokenRefreshError) and e.retryable for e in results), results
        assert elapsed < 30  # generous: each holder's refresh ends at its 0.5 s deadline
    finally:
        drip.close()


class AsyncDeadlineTransport:
    """An async transport (worker thread, any event loop) that declares its ``deadline``."""

    def __init__(self, deadline: float) -> None:
        self._inner = Urllib3Transport(timeout=deadline)
        self.deadline = deadline

    async def send(self, request: oc.HttpRequest) -> oc.HttpResponse:
        import asyncio

        return await asyncio.to_thread(self._inner.send, request)


def test_async_and_sync_managers_share_a_short_lease_and_refresh_once(r: redis.Redis) -> None:
    import asyncio

    from oauth2_transports import AsyncOAuth2Client, AsyncTokenManager

    with TokenServer(delay=2.0, revoke_on_reuse=True) as server:
        RedisTokenStore(r, "app:token").save(stale(server))

        def store() -> RedisTokenStore:
            return RedisTokenStore(r, "app:token", lock=RedisLock(r, "app:lock", ttl=1.0, wait=30))

        async_client = AsyncOAuth2Client(
            server.metadata, oc.Client("app", "s3cr3t"), AsyncDeadlineTransport(5.0)
        )
        async_manager = AsyncTokenManager(async_client, store=store())
        sync_manager = TokenManager(client_of(server, DeadlineTransport(5.0)), store=store())
        results = run_threads(lambda: asyncio.run(async_manager.token()), sync_manager.token)
        assert all(isinstance(t, oc.Token) for t in results), results
        assert results[0] == results[1]
        assert server.refresh_requests == 1 and server.grant_revocations == 0
