"""Single flight: many threads and many tasks, one refresh, nobody left without a token.

The token server rotates single-use refresh tokens (a reuse gets ``invalid_grant``)
and answers after 50 ms, so uncoordinated refreshes would show up as extra
requests and failed callers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

import oauth2_core as oc
from oauth2_transports import (
    AsyncHttpxTransport,
    AsyncOAuth2Client,
    AsyncTokenManager,
    FileLock,
    FileTokenStore,
    TokenManager,
    TokenRefreshError,
)
from oauth2_transports._lifecycle import holding

from ._token_server import FakeClock, ThreadedAsyncTransport, TokenServer
from .conftest import make_client

T = TypeVar("T")
THREADS = 48
TASKS = 600


@pytest.fixture
def slow_server() -> Iterator[TokenServer]:
    with TokenServer(delay=0.05) as srv:
        yield srv


def expired(server: TokenServer) -> oc.Token:
    return server.issue(expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1))


def in_threads(n: int, call: Callable[[], T]) -> tuple[list[T], list[BaseException]]:
    """Run ``call`` in ``n`` threads released at once; results and errors."""
    barrier = threading.Barrier(n)
    results: list[T] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def target() -> None:
        barrier.wait()
        try:
            result = call()
        except BaseException as exc:
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append(result)

    threads = [threading.Thread(target=target) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results, errors


def test_threads_share_one_refresh(slow_server: TokenServer) -> None:
    seen: list[oc.Token] = []
    manager = TokenManager(make_client(slow_server), expired(slow_server), on_token=seen.append)
    results, errors = in_threads(THREADS, manager.token)
    assert errors == []
    assert len(results) == THREADS
    assert {t.access_token for t in results} == {seen[0].access_token}
    assert slow_server.refresh_requests == 1
    assert slow_server.rejected_refreshes == 0
    assert len(seen) == 1


def test_threads_share_one_client_credentials_fetch() -> None:
    with TokenServer(delay=0.05, issue_refresh_tokens=False) as server:
        seen: list[oc.Token] = []
        manager = TokenManager(make_client(server), scope="read", on_token=seen.append)
        results, errors = in_threads(THREADS, manager.token)
        assert errors == [] and len(results) == THREADS
        assert server.client_credentials_requests == 1 and len(seen) == 1


def test_threads_waiting_behind_a_failed_refresh_get_the_same_error(
    slow_server: TokenServer,
) -> None:
    start = expired(slow_server)
    clock = FakeClock(dt.datetime.now(dt.timezone.utc))
    manager = TokenManager(make_client(slow_server), start, clock=clock)
    slow_server.script.append((503, {"error": "temporarily_unavailable"}))
    results, errors = in_threads(THREADS, manager.token)
    # The waiters get the leader's error; a thread that arrives after the failure
    # gets it again, marked as not asked again (the wait after a failed refresh):
    # one request in all, never a storm of failing requests.
    assert results == [] and len(errors) == THREADS
    originals = [e for e in errors if "not asked again" not in str(e)]
    failure = originals[0]
    assert isinstance(failure, TokenRefreshError) and failure.retryable
    assert all(e is failure for e in originals)
    assert all(e.__cause__ is failure for e in errors if e not in originals)
    assert slow_server.refresh_requests == 1
    clock.advance(1)
    assert manager.token().access_token != start.access_token


def test_tasks_share_one_refresh(slow_server: TokenServer) -> None:
    seen: list[oc.Token] = []

    async def main() -> list[oc.Token | BaseException]:
        async with AsyncHttpxTransport() as transport:
            client = AsyncOAuth2Client(slow_server.metadata, oc.Client("app", "s3cr3t"), transport)
            manager = AsyncTokenManager(client, expired(slow_server), on_token=seen.append)
            return await asyncio.gather(
                *(manager.token() for _ in range(TASKS)), return_exceptions=True
            )

    results = asyncio.run(main())
    assert all(isinstance(r, oc.Token) for r in results)
    assert {r.access_token for r in results if isinstance(r, oc.Token)} == {seen[0].access_token}
    assert slow_server.refresh_requests == 1 and slow_server.rejected_refreshes == 0
    assert len(seen) == 1


def test_tasks_waiting_behind_a_failed_refresh_get_the_same_error(
    slow_server: TokenServer,
) -> None:
    client = AsyncOAuth2Client(
        slow_server.metadata, oc.Client("app", "s3cr3t"), ThreadedAsyncTransport()
    )
    manager = AsyncTokenManager(client, expired(slow_server))
    slow_server.script.append("drop")

    async def main() -> list[oc.Token | BaseException]:
        return await asyncio.gather(
            *(manager.token() for _ in range(TASKS)), return_exceptions=True
        )

    results = asyncio.run(main())
    assert all(r is results[0] for r in results)
    assert isinstance(results[0], TokenRefreshError) and results[0].retryable
    assert slow_server.refresh_requests == 1


def test_one_async_manager_serves_successive_event_loops(slow_server: TokenServer) -> None:
    client = AsyncOAuth2Client(
        slow_server.metadata, oc.Client("app", "s3cr3t"), ThreadedAsyncTransport()
    )
    seen: list[oc.Token] = []
    # The second refresh follows an invalidation at once: no refetch-rate bound here.
    manager = AsyncTokenManager(
        client, expired(slow_server), on_token=seen.append, min_refresh_interval=0
    )

    async def burst() -> set[str]:
        tokens = await asyncio.gather(*(manager.token() for _ in range(50)))
        return {t.access_token for t in tokens}

    assert asyncio.run(burst()) == {seen[0].access_token}
    first = seen[0]

    async def reject_and_burst() -> set[str]:
        await manager.invalidate(first)
        return await burst()

    assert asyncio.run(reject_and_burst()) == {seen[1].access_token}
    assert slow_server.refresh_requests == 2


def test_one_async_manager_serves_loops_in_several_threads(slow_server: TokenServer) -> None:
    client = AsyncOAuth2Client(
        slow_server.metadata, oc.Client("app", "s3cr3t"), ThreadedAsyncTransport()
    )
    seen: list[oc.Token] = []
    manager = AsyncTokenManager(client, expired(slow_server), on_token=seen.append)

    async def burst() -> set[str]:
        tokens = await asyncio.gather(*(manager.token() for _ in range(100)))
        return {t.access_token for t in tokens}

    results, errors = in_threads(8, lambda: asyncio.run(burst()))
    assert errors == []
    assert set().union(*results) == {seen[0].access_token}
    assert slow_server.refresh_requests == 1


def test_cancelled_leader_does_not_lose_the_refreshed_token(slow_server: TokenServer) -> None:
    seen: list[oc.Token] = []
    client = AsyncOAuth2Client(
        slow_server.metadata, oc.Client("app", "s3cr3t"), ThreadedAsyncTransport()
    )
    manager = AsyncTokenManager(client, expired(slow_server), on_token=seen.append)

    async def main() -> oc.Token:
        leader = asyncio.create_task(manager.token())
        await asyncio.sleep(0)  # the leader starts the refresh
        follower = asyncio.create_task(manager.token())
        await asyncio.sleep(0)
        leader.cancel()
        token = await follower
        with pytest.raises(asyncio.CancelledError):
            await leader
        return token

    token = asyncio.run(main())
    assert seen == [token]
    assert slow_server.refresh_requests == 1

    async def again() -> oc.Token:
        return await manager.token()

    assert asyncio.run(again()) is token


def test_async_on_token_may_be_a_coroutine_and_its_error_reaches_the_leader_only(
    slow_server: TokenServer,
) -> None:
    seen: list[oc.Token] = []

    async def on_token(token: oc.Token) -> None:
        await asyncio.sleep(0.01)
        seen.append(token)
        raise OSError("disk full")

    client = AsyncOAuth2Client(
        slow_server.metadata, oc.Client("app", "s3cr3t"), ThreadedAsyncTransport()
    )
    manager = AsyncTokenManager(client, expired(slow_server), on_token=on_token)

    async def main() -> list[oc.Token | BaseException]:
        leader = asyncio.create_task(manager.token())
        await asyncio.sleep(0)
        others = [manager.token() for _ in range(20)]
        return await asyncio.gather(leader, *others, return_exceptions=True)

    results = asyncio.run(main())
    assert isinstance(results[0], OSError)
    assert all(r is seen[0] for r in results[1:])
    assert slow_server.refresh_requests == 1


def test_async_managers_sharing_a_store_and_a_blocking_lock_refresh_once(
    slow_server: TokenServer, tmp_path: Path
) -> None:
    """Two managers (two processes, in effect) on one FileTokenStore + FileLock."""
    store = FileTokenStore(tmp_path / "token.json", lock=FileLock(tmp_path / "token.lock"))
    store.save(expired(slow_server))
    seen: list[oc.Token] = []

    def manager() -> AsyncTokenManager:
        client = AsyncOAuth2Client(
            slow_server.metadata, oc.Client("app", "s3cr3t"), ThreadedAsyncTransport()
        )
        return AsyncTokenManager(client, store=store, on_token=seen.append)

    a, b = manager(), manager()

    async def main() -> set[str]:
        tokens = await asyncio.gather(*(m.token() for m in (a, b) * 100))
        return {t.access_token for t in tokens}

    assert asyncio.run(main()) == {seen[0].access_token}
    assert slow_server.refresh_requests == 1 and len(seen) == 1
    assert store.load() == seen[0]


def test_async_manager_takes_an_async_lock(slow_server: TokenServer) -> None:
    client = AsyncOAuth2Client(
        slow_server.metadata, oc.Client("app", "s3cr3t"), ThreadedAsyncTransport()
    )

    async def main() -> set[str]:
        lock = asyncio.Lock()
        manager = AsyncTokenManager(client, expired(slow_server), lock=lock)
        tokens = await asyncio.gather(*(manager.token() for _ in range(50)))
        assert not lock.locked()
        return {t.access_token for t in tokens}

    assert len(asyncio.run(main())) == 1
    assert slow_server.refresh_requests == 1


def test_a_blocking_lock_is_not_leaked_when_its_waiter_is_cancelled() -> None:
    lock = threading.Lock()
    lock.acquire()  # held by "another process"
    entered: list[bool] = []

    async def main() -> None:
        async def wait_for_lock() -> None:
            async with holding(lock):
                entered.append(True)

        task = asyncio.create_task(wait_for_lock())
        await asyncio.sleep(0.05)  # the worker thread now blocks on the lock
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        lock.release()  # the worker thread gets it now, and must give it back

    asyncio.run(main())  # also waits for the default executor's threads
    assert entered == []
    assert lock.acquire(timeout=10)


def test_async_on_token_asking_for_a_token_is_refused_not_deadlocked(
    slow_server: TokenServer,
) -> None:
    client = AsyncOAuth2Client(
        slow_server.metadata, oc.Client("app", "s3cr3t"), ThreadedAsyncTransport()
    )
    manager: AsyncTokenManager

    async def on_token(token: oc.Token) -> None:
        await manager.token()

    manager = AsyncTokenManager(client, expired(slow_server), on_token=on_token)

    async def main() -> oc.Token:
        with pytest.raises(oc.UsageError, match="on_token"):
            await manager.token()
        return await manager.token()

    assert asyncio.run(main()).refresh_token is not None
    assert slow_server.refresh_requests == 1
