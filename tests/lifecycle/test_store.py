"""FileTokenStore and FileLock: round trip, 0600, atomic replace, processes refreshing once."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

import oauth2_core as oc
from oauth2_transports import (
    FileLock,
    FileTokenStore,
    LockTimeoutError,
    TokenStore,
    TokenStoreError,
)

from ._token_server import TokenServer
from ._workers import hold_lock_and_die, refresh_once

PROCESSES = 4


def full_token() -> oc.Token:
    return oc.Token(
        "at-secret",
        token_type="Bearer",
        expires_at=dt.datetime(2030, 1, 1, 12, tzinfo=dt.timezone.utc),
        refresh_token="rt-secret",
        scope=("read", "write"),
        id_token="a.b.c",
        extra={"x_tenant": "t1", "n": 3},
    )


def test_round_trip_and_protocol(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "token.json")
    assert isinstance(store, TokenStore)
    assert store.load() is None  # a missing file is no token yet
    store.save(full_token())
    assert store.load() == full_token()
    assert "secret" not in repr(store)


def test_file_is_private_even_when_replacing_a_public_one(tmp_path: Path) -> None:
    path = tmp_path / "token.json"
    path.write_text("{}")
    path.chmod(0o644)
    old_umask = os.umask(0)
    try:
        FileTokenStore(path).save(full_token())
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_save_replaces_the_file_atomically(tmp_path: Path) -> None:
    path = tmp_path / "token.json"
    store = FileTokenStore(path)
    store.save(full_token())
    inode = path.stat().st_ino
    store.save(oc.Token("at-2"))
    assert path.stat().st_ino != inode  # a new file renamed over, not rewritten in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["token.json"]  # no temp left

    # A reader never sees a partial file while a writer keeps saving.
    stop = threading.Event()
    problems: list[BaseException] = []

    def read() -> None:
        while not stop.is_set():
            try:
                assert store.load() is not None
            except BaseException as exc:
                problems.append(exc)
                return

    reader = threading.Thread(target=read)
    reader.start()
    for i in range(100):
        store.save(oc.Token(f"at-{i}" * (1 + i % 50), refresh_token="rt"))
    stop.set()
    reader.join(10)
    assert problems == []


@pytest.mark.parametrize(
    "content", [b"", b"{not json", b"[]", b'{"x": 1}', b"\xff\xfe", b'{"access_token": 3}']
)
def test_a_corrupt_file_is_refused_without_showing_it(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "token.json"
    path.write_bytes(content)
    with pytest.raises(TokenStoreError, match=r"corrupt|not a JSON object") as info:
        FileTokenStore(path).load()
    assert isinstance(info.value, oc.OAuth2Error) and not info.value.retryable


def test_unwritable_place_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(TokenStoreError, match="cannot write"):
        FileTokenStore(tmp_path / "missing-dir" / "token.json").save(full_token())


def test_file_lock_excludes_other_holders(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    with FileLock(path):
        # Another FileLock on the same file: another open file description, refused.
        with pytest.raises(LockTimeoutError):
            FileLock(path, timeout=0.05).acquire()
        errors: list[BaseException] = []

        def other_thread() -> None:
            try:
                FileLock(path, timeout=0.05).acquire()
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join(10)
        assert len(errors) == 1 and isinstance(errors[0], LockTimeoutError)
    lock = FileLock(path, timeout=0.05)
    with lock:
        pass
    with pytest.raises(oc.UsageError):
        lock.release()


def spawn() -> Any:
    return multiprocessing.get_context("spawn")


def run_processes(kind: str, where: str, server: TokenServer) -> list[tuple[Any, ...]]:
    ctx = spawn()
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=refresh_once, args=(kind, where, server.url, barrier, results))
        for _ in range(PROCESSES)
    ]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(30)
        assert proc.exitcode == 0
    return outcomes


def test_processes_sharing_a_file_store_refresh_once(tmp_path: Path) -> None:
    with TokenServer(delay=0.05) as server:
        stale = server.issue(expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1))
        FileTokenStore(tmp_path / "token.json").save(stale)
        outcomes = run_processes("file", str(tmp_path), server)
        assert [error for _, _, error in outcomes] == [None] * PROCESSES
        assert len({access for access, _, _ in outcomes}) == 1
        assert sum(calls for _, calls, _ in outcomes) == 1  # on_token once, fleet-wide
        assert server.refresh_requests == 1 and server.rejected_refreshes == 0
        assert FileTokenStore(tmp_path / "token.json").load().access_token == outcomes[0][0]  # type: ignore[union-attr]


def test_a_dead_holder_releases_the_file_lock(tmp_path: Path) -> None:
    ctx = spawn()
    acquired = ctx.Event()
    proc = ctx.Process(target=hold_lock_and_die, args=("file", str(tmp_path), acquired))
    proc.start()
    assert acquired.wait(60)
    proc.join(30)
    with FileLock(tmp_path / "token.lock", timeout=10):
        pass  # the kernel dropped the dead process's flock
