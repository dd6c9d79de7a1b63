"""Code run in child processes (multiprocessing, spawn) by the cross-process tests.

A spawned child imports this module afresh: everything it needs comes in as plain
arguments (URLs, paths, ports), never as live objects.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from typing import Any

import oauth2_core as oc
from oauth2_transports import FileLock, FileTokenStore, OAuth2Client, TokenManager, TokenStore


def shared_store(kind: str, where: str) -> tuple[TokenStore, AbstractContextManager[Any]]:
    """The store and lock a process uses: ``file`` (a directory) or ``redis`` (a port)."""
    if kind == "file":
        return FileTokenStore(os.path.join(where, "token.json")), FileLock(
            os.path.join(where, "token.lock")
        )
    import redis

    from oauth2_transports.redis import RedisLock, RedisTokenStore

    r = redis.Redis(host="127.0.0.1", port=int(where))
    return RedisTokenStore(r, "test:token"), RedisLock(r, "test:lock", ttl=10.0, wait=20.0)


def refresh_once(kind: str, where: str, server_url: str, barrier: Any, results: Any) -> None:
    """Build a manager on the shared store, wait for the others, ask for a token."""
    store, lock = shared_store(kind, where)
    metadata = oc.ServerMetadata(issuer=server_url, token_endpoint=f"{server_url}/token")
    client = OAuth2Client(metadata, oc.Client("app", "s3cr3t"))
    seen: list[oc.Token] = []
    manager = TokenManager(client, store=store, lock=lock, on_token=seen.append)
    barrier.wait()
    try:
        token = manager.token()
    except Exception as exc:
        results.put((None, len(seen), repr(exc)))
    else:
        results.put((token.access_token, len(seen), None))


def hold_lock_and_die(kind: str, where: str, acquired: Any) -> None:
    """Take the lock, say so, and exit without releasing it (a crashed holder)."""
    _, lock = shared_store(kind, where)
    if kind == "redis":
        import redis

        from oauth2_transports.redis import RedisLock

        lock = RedisLock(redis.Redis(host="127.0.0.1", port=int(where)), "test:lock", ttl=1.0)
    lock.__enter__()
    acquired.set()
    os._exit(0)
