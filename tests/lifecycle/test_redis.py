"""RedisTokenStore and RedisLock against a real redis-server on loopback."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

import oauth2_core as oc
from oauth2_transports import LockTimeoutError, TokenManager, TokenStore, TokenStoreError
from oauth2_transports.redis import RedisLock, RedisTokenStore

from ._token_server import FakeClock, TokenServer
from ._workers import hold_lock_and_die
from .conftest import make_client
from .test_store import full_token, run_processes, spawn


@pytest.fixture
def r(redis_port: int) -> Iterator[redis.Redis]:
    client = redis.Redis(host="127.0.0.1", port=redis_port)
    client.flushall()
    yield client
    client.close()


def test_import_oauth2_transports_imports_no_optional_library() -> None:
    code = (
        "import sys, oauth2_transports, oauth2_transports.redis, oauth2_transports.manager;"
        "print(sorted({'redis', 'requests', 'httpx'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_store_round_trip(r: redis.Redis) -> None:
    store = RedisTokenStore(r, "app:token")
    assert isinstance(store, TokenStore)
    assert store.load() is None
    store.save(full_token())
    assert store.load() == full_token()
    assert r.ttl("app:token") == -1  # no expiry: the refresh token outlives the access token
    port = r.connection_pool.connection_kwargs["port"]
    decoded = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
    assert RedisTokenStore(decoded, "app:token").load() == full_token()
    assert "secret" not in repr(store)


def test_corrupt_value_and_unreachable_server_are_store_errors(r: redis.Redis) -> None:
    r.set("bad", b"{oops")
    with pytest.raises(TokenStoreError, match="corrupt") as info:
        RedisTokenStore(r, "bad").load()
    assert not info.value.retryable
    nowhere = redis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
    with pytest.raises(TokenStoreError) as info:
        RedisTokenStore(nowhere, "k").load()
    assert info.value.retryable


def test_lock_excludes_and_release_spares_another_holders_lease(r: redis.Redis) -> None:
    first = RedisLock(r, "app:lock", ttl=30)
    first.acquire()
    assert 0 < r.pttl("app:lock") <= 30_000
    with pytest.raises(LockTimeoutError):
        RedisLock(r, "app:lock", wait=0.1).acquire()
    assert first.release() is True
    assert r.exists("app:lock") == 0

    # A lease that ran out and was taken by someone else is not ours to delete.
    short = RedisLock(r, "app:lock", ttl=0.05)
    short.acquire()
    other = RedisLock(r, "app:lock", wait=10)
    other.acquire()  # waits for the short lease to expire
    assert short.release() is False
    assert r.exists("app:lock") == 1
    assert other.release() is True


def test_lock_of_a_dead_holder_expires(redis_port: int, r: redis.Redis) -> None:
    ctx = spawn()
    acquired = ctx.Event()
    proc = ctx.Process(target=hold_lock_and_die, args=("redis", str(redis_port), acquired))
    proc.start()
    assert acquired.wait(60)
    proc.join(30)
    assert r.exists("test:lock") == 1  # nobody released it
    with RedisLock(r, "test:lock", wait=20):
        pass  # the dead holder's lease expired (ttl 1 s): we proceed


def test_manager_with_redis_store_and_lock(r: redis.Redis, server: TokenServer) -> None:
    clock = FakeClock()
    store = RedisTokenStore(r, "app:token", lock=RedisLock(r, "app:lock"))
    store.save(server.issue(expires_at=clock.now - dt.timedelta(seconds=1)))
    a = TokenManager(make_client(server, clock), store=store, clock=clock)
    b = TokenManager(make_client(server, clock), store=store, clock=clock)
    new = a.token()
    assert store.load() == new
    assert b.token() == new
    assert server.refresh_requests == 1
    assert r.exists("app:lock") == 0


def test_processes_sharing_a_redis_store_refresh_once(redis_port: int, r: redis.Redis) -> None:
    with TokenServer(delay=0.05) as server:
        stale = server.issue(expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1))
        RedisTokenStore(r, "test:token").save(stale)
        outcomes = run_processes("redis", str(redis_port), server)
        assert [error for _, _, error in outcomes] == [None] * len(outcomes)
        assert len({access for access, _, _ in outcomes}) == 1
        assert sum(calls for _, calls, _ in outcomes) == 1
        assert server.refresh_requests == 1 and server.rejected_refreshes == 0
        saved = RedisTokenStore(r, "test:token").load()
        assert saved is not None and saved.access_token == outcomes[0][0]


def test_bad_lock_arguments(r: redis.Redis) -> None:
    with pytest.raises(oc.UsageError):
        RedisLock(r, "")
    with pytest.raises(oc.UsageError):
        RedisLock(r, "k", ttl=0)
    with pytest.raises(oc.UsageError):
        RedisTokenStore(r, "")
    with pytest.raises(oc.UsageError):
        RedisLock(r, "k").release()


def test_try_acquire_never_waits_and_releases_like_acquire(r: redis.Redis) -> None:
    """What a manager in the refresh window uses: take the lease only if it is free."""
    mine, theirs = RedisLock(r, "app:lock", ttl=5), RedisLock(r, "app:lock", ttl=5)
    assert mine.try_acquire()
    assert not mine.try_acquire()  # this instance holds it already
    assert not theirs.try_acquire()  # another process would find it held
    assert mine.ensure_lease(10)
    assert mine.release()
    assert theirs.try_acquire() and theirs.release()


def test_a_manager_in_the_refresh_window_adopts_instead_of_queueing_on_redis(
    r: redis.Redis, server: TokenServer
) -> None:
    clock = FakeClock()
    old = server.issue(expires_at=clock.now + dt.timedelta(seconds=100))
    store = RedisTokenStore(r, "app:token", lock=RedisLock(r, "app:lock", wait=30))
    store.save(old)
    manager = TokenManager(make_client(server, clock), store=store, clock=clock)
    clock.advance(60)  # the refresh window (fresh for half the 100 s lifetime)
    other = RedisLock(r, "app:lock")
    with other:  # another process holds the lock: it is refreshing
        assert manager.token() == old  # no wait for the lock (its wait is 30 s)
        newer = server.issue(expires_at=clock.now + dt.timedelta(seconds=100))
        store.save(newer)
        clock.advance(0.5)
        assert manager.token() == newer
    assert server.refresh_requests == 0
