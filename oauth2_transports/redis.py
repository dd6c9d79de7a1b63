"""A token store and a lock in Redis, for a fleet of processes that share one grant.

``RedisTokenStore`` keeps the token as JSON (``Token.to_dict``) under one key;
``RedisLock`` is a lease: ``SET key <random> NX PX <ttl>`` takes it, a Lua
compare-and-``PEXPIRE`` extends it only while it is still ours (the token manager
does so before each request of a refresh, to cover that request's whole deadline),
and a Lua compare-and-delete releases it only if it is still ours, so a holder that
dies leaves a lock that expires instead of a deadlock. Together::

    store = RedisTokenStore(r, "oauth2:token:app", lock=RedisLock(r, "oauth2:lock:app"))
    manager = TokenManager(c, store=store)   # every process refreshes once, not each

Both take a ``redis.Redis`` client (the ``redis`` extra, redis-py >= 5) or anything
with the same ``get`` / ``set`` / ``register_script`` methods. This module does not
import redis-py until an error has to be recognised.
"""

from __future__ import annotations

import logging
import math
import random
import secrets
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Protocol

from oauth2_core import Token, UsageError
from oauth2_transports.store import (
    LockTimeoutError,
    TokenStoreError,
    token_from_json,
    token_to_json,
)

__all__ = ["RedisLock", "RedisTokenStore"]

logger = logging.getLogger("oauth2_transports")

# KEYS[1] is the lock, ARGV[1] our random value: delete it only if it is still ours
# (it may have expired and been taken by another process meanwhile).
_RELEASE = """
if redis.call("get", KEYS[1]) == ARGV[1] then
    return redis.call("del", KEYS[1])
end
return 0
"""

# KEYS[1] is the lock, ARGV[1] our random value, ARGV[2] milliseconds: if the lease
# is still ours, make it last at least that long (never shorten it); 1 if ours, else 0.
_EXTEND = """
if redis.call("get", KEYS[1]) == ARGV[1] then
    if redis.call("pttl", KEYS[1]) < tonumber(ARGV[2]) then
        redis.call("pexpire", KEYS[1], ARGV[2])
    end
    return 1
end
return 0
"""


class RedisClient(Protocol):
    """The part of ``redis.Redis`` these classes use."""

    def get(self, name: str) -> object:
        """``GET name``."""
        ...

    def set(self, name: str, value: str, *, nx: bool = ..., px: int | None = ...) -> object:
        """``SET name value [NX] [PX ms]``."""
        ...

    def register_script(self, script: str) -> Callable[..., object]:
        """A callable that runs ``script`` with ``EVALSHA`` (``EVAL`` the first time)."""
        ...


def _redis_errors() -> tuple[type[BaseException], ...]:
    try:
        import redis
    except ImportError:  # a duck-typed client without redis-py installed
        return (OSError,)
    return (redis.RedisError, OSError)


class RedisTokenStore:
    """A :class:`~oauth2_transports.TokenStore` in one Redis key (``GET`` / ``SET``).

    ``SET`` replaces the value atomically. The key has no expiry: a refresh
    token outlives its access token.

    Args:
        redis_client: A ``redis.Redis`` client (bytes or decoded responses).
        key: The key holding the token.
        lock: A cross-process lock (e.g. :class:`RedisLock`) that a
            :class:`~oauth2_transports.TokenManager` given this store and no lock
            of its own holds while it reloads and refreshes.
    """

    def __init__(
        self,
        redis_client: RedisClient,
        key: str,
        *,
        lock: AbstractContextManager[object] | None = None,
    ) -> None:
        if not isinstance(key, str) or not key:
            raise UsageError("key must be a non-empty string")
        self._redis = redis_client
        self.key = key
        self.lock = lock

    def load(self) -> Token | None:
        """The saved token, or ``None`` when the key does not exist.

        Raises:
            TokenStoreError: the value is not a saved token, or Redis failed
                (``retryable`` then).
        """
        try:
            raw = self._redis.get(self.key)
        except _redis_errors() as exc:
            raise TokenStoreError(f"redis GET {self.key!r} failed", retryable=True) from exc
        if raw is None:
            return None
        if not isinstance(raw, (bytes, str)):
            raise TokenStoreError(f"redis key {self.key!r} does not hold a saved token")
        return token_from_json(raw, f"redis key {self.key!r}")

    def save(self, token: Token) -> None:
        """Replace the saved token.

        Raises:
            TokenStoreError: Redis failed (``retryable``).
        """
        value = token_to_json(token)
        try:
            self._redis.set(self.key, value)
        except _redis_errors() as exc:
            raise TokenStoreError(f"redis SET {self.key!r} failed", retryable=True) from exc

    def __repr__(self) -> str:
        return f"RedisTokenStore(key={self.key!r})"


class RedisLock:
    """A lease in Redis: one holder at a time across processes, expiring if the holder dies.

    Use it as a context manager. The lease lasts ``ttl`` seconds from
    :meth:`acquire`; :meth:`ensure_lease` makes it last longer while it is still
    ours. A :class:`~oauth2_transports.TokenManager` calls it before each request
    of a refresh with that request's deadline plus a margin, so the lease cannot
    run out while a refresh token is on its way to the server (RFC 9700
    §4.14.2: a second process sending the same single-use refresh token would
    get the grant revoked). If the lease is lost anyway (Redis failed over, the
    process stalled), the manager sends nothing more; :meth:`release` leaves the
    new holder's lease alone, returns ``False`` and logs a warning.

    Args:
        redis_client: A ``redis.Redis`` client.
        key: The lock's key.
        ttl: Seconds before a lease not released expires.
        wait: Seconds to wait for the lock before :class:`LockTimeoutError`.

    Raises:
        UsageError: ``ttl`` or ``wait`` out of range.
    """

    def __init__(
        self, redis_client: RedisClient, key: str, *, ttl: float = 30.0, wait: float = 60.0
    ) -> None:
        if not isinstance(key, str) or not key:
            raise UsageError("key must be a non-empty string")
        if not ttl >= 0.001:
            raise UsageError("ttl must be at least a millisecond")
        if not wait >= 0:
            raise UsageError("wait must not be negative")
        self._redis = redis_client
        self.key = key
        self.ttl = float(ttl)
        self.wait = float(wait)
        self._release_script = redis_client.register_script(_RELEASE)
        self._extend_script = redis_client.register_script(_EXTEND)
        # One holder per instance; other instances and processes are kept out by Redis.
        self._in_process = threading.Lock()
        self._value: str | None = None

    def acquire(self) -> None:
        """Take the lease, waiting up to ``wait`` seconds.

        Raises:
            LockTimeoutError: another holder kept it longer than ``wait``.
            TokenStoreError: Redis failed (``retryable``).
        """
        deadline = time.monotonic() + self.wait
        if not self._in_process.acquire(timeout=self.wait):
            raise LockTimeoutError(f"redis lock {self.key!r} is held by another thread")
        try:
            self._value = self._take(deadline)
        except BaseException:
            self._in_process.release()
            raise

    def try_acquire(self) -> bool:
        """Take the lease if nobody holds it: one ``SET NX``, never a wait.

        A token manager in the refresh window uses it: when another process
        holds the lease (it is refreshing), the still-valid token is used rather
        than queueing. Release with :meth:`release`.

        Returns:
            Whether the lease is now ours.

        Raises:
            TokenStoreError: Redis failed (``retryable``).
        """
        if not self._in_process.acquire(blocking=False):
            return False
        try:
            value = secrets.token_hex(16)
            try:
                taken = self._redis.set(self.key, value, nx=True, px=max(1, int(self.ttl * 1000)))
            except _redis_errors() as exc:
                raise TokenStoreError(f"redis lock {self.key!r} failed", retryable=True) from exc
        except BaseException:
            self._in_process.release()
            raise
        if not taken:
            self._in_process.release()
            return False
        self._value = value
        return True

    def _take(self, deadline: float) -> str:
        value = secrets.token_hex(16)
        delay = 0.005
        while True:
            try:
                taken = self._redis.set(self.key, value, nx=True, px=max(1, int(self.ttl * 1000)))
            except _redis_errors() as exc:
                raise TokenStoreError(f"redis lock {self.key!r} failed", retryable=True) from exc
            if taken:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockTimeoutError(f"redis lock {self.key!r} is held by another process")
            # Jitter keeps a crowd of waiters from retrying in lockstep.
            time.sleep(min(remaining, delay * (0.5 + random.random())))  # noqa: S311
            delay = min(delay * 2, 0.2)

    def ensure_lease(self, seconds: float) -> bool:
        """Make our lease last at least ``seconds`` more, if it is still ours.

        Atomic (one Lua script): the lease is extended only if Redis still holds
        our random value, and never shortened.

        Returns:
            Whether the lease is still ours (``False``: it expired, and another
            holder may have it now: send nothing more under it).

        Raises:
            UsageError: the lock is not held, or ``seconds`` is not positive.
            TokenStoreError: Redis failed (``retryable``).
        """
        value = self._value
        if value is None:
            raise UsageError("RedisLock.ensure_lease() without acquire()")
        if not seconds > 0:
            raise UsageError("ensure_lease needs a positive number of seconds")
        try:
            ours = self._extend_script(
                keys=[self.key], args=[value, max(1, math.ceil(seconds * 1000))]
            )
        except _redis_errors() as exc:
            raise TokenStoreError(f"redis lock {self.key!r} failed", retryable=True) from exc
        return bool(ours)

    def release(self) -> bool:
        """Release the lease if it is still ours.

        Returns:
            Whether it was still ours (``False``: it had expired, and may now
            belong to another holder, which keeps it).
        """
        value, self._value = self._value, None
        if value is None:
            raise UsageError("RedisLock.release() without acquire()")
        try:
            deleted = self._release_script(keys=[self.key], args=[value])
        except _redis_errors() as exc:
            # The lease expires on its own: nothing deadlocks.
            raise TokenStoreError(f"redis lock {self.key!r} release failed") from exc
        finally:
            self._in_process.release()
        return bool(deleted)

    def __enter__(self) -> RedisLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.release():
            # Whoever used the lock could not tell: say it where operators look.
            logger.warning(
                "redis lock %r: the lease had expired before it was released; another "
                "holder may have worked under it at the same time (raise ttl)",
                self.key,
            )

    def __repr__(self) -> str:
        return f"RedisLock(key={self.key!r}, ttl={self.ttl})"
