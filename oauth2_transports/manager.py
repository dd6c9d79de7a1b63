"""A valid access token on demand: refresh ahead of expiry, once at a time (RFC 6749 §6, §4.4).

:class:`TokenManager` (threads) and :class:`AsyncTokenManager` (asyncio tasks, on any
number of event loops) hand out a token that is not about to expire. When it is, exactly
one caller refreshes it (RFC 6749 §6) or, in client-credentials mode, fetches a new one
(§4.4); every other caller waits for that one request and gets its result: the new token,
or the same error. Single flight matters because refresh tokens are often single-use
(RFC 9700 §4.14.2, rotation): a second refresh with the same refresh token is refused
with ``invalid_grant``, and some servers then revoke the whole grant.

Every new token goes to ``store.save`` and ``on_token`` before any caller gets it. A
failed refresh leaves the current token in place. With a cross-process ``lock``, the
manager reloads the store inside the lock first, so a fleet of processes refreshes once;
with a lease (``RedisLock``) it renews the lease before each request of the refresh, so
the lease cannot run out while the refresh may still reach the server (see ``_lease``).

A server that issues unusable tokens (``expires_in`` of 0 or less) or a resource server
that refuses every token must not turn each API call into a token request: a token the
token endpoint issued less than ``min_refresh_interval`` seconds ago is handed out again
rather than replaced (one warning in the ``oauth2_transports`` log says so).
"""

from __future__ import annotations

import contextlib
import inspect
import threading
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import cast

from oauth2_core import Token, UsageError
from oauth2_transports._clock import Clock, utc_now
from oauth2_transports._lease import (
    DEFAULT_REQUEST_DEADLINE,
    async_lease_lost,
    keep_newer,
    lease_bound,
    lease_bound_async,
    lease_lost_on_save,
)
from oauth2_transports._lifecycle import (
    Flight,
    LeaseLostError,
    ReauthorizationRequiredError,
    TokenRefreshError,
    holding,
)
from oauth2_transports._token_state import LOCK_BUSY_RETRY, MIN_REFRESH_INTERVAL, TokenState
from oauth2_transports.client import AsyncOAuth2Client, OAuth2Client
from oauth2_transports.store import TokenStore

__all__ = [
    "AsyncTokenManager",
    "LeaseLostError",
    "ReauthorizationRequiredError",
    "TokenManager",
    "TokenRefreshError",
]


_REENTERED = (
    "on_token (or the store) asked the manager for a token while handing it a new one: "
    "use the token on_token is given"
)

SyncLock = AbstractContextManager[object]
AsyncLock = AbstractContextManager[object] | AbstractAsyncContextManager[object]


class TokenManager(TokenState):
    """Hands out a valid token, refreshing it once at a time across threads.

    Args:
        client: The client that refreshes and fetches tokens.
        token: The token to start from; ``None`` fetches one with the client
            credentials grant (RFC 6749 §4.4) on first use, after trying ``store``.
        on_token: Called with every new token (the first fetch too) before any
            caller gets it: persist it here. If it raises, the token is still
            used and the error goes to the caller that triggered the refresh.
        leeway: Seconds before expiry to refresh, at most half the token's lifetime.
        lock: A cross-process lock (any context manager, e.g. ``FileLock`` or
            ``RedisLock``) held while reloading ``store`` and refreshing.
            Default: ``store.lock`` when the store has one.
        store: A :class:`~oauth2_transports.TokenStore`: loaded when no token is
            given, reloaded before each refresh, saved with every new token.
        scope: The scope to ask for in client-credentials mode.
        clock: Returns the current aware datetime (inject for tests).
        min_refresh_interval: Seconds during which a token the token endpoint just
            issued is handed out again (even expired, or refused by a resource
            server) rather than replaced: a server answering ``expires_in`` 0 or
            a resource server refusing every token costs one token request per
            interval, not one per call. ``0`` turns the bound off.
        request_deadline: Seconds one request may take when the client's
            transport declares no ``deadline``; the lock's lease is renewed to
            cover it (plus a margin) before each request of a refresh.
        **params: Extra parameters for client-credentials fetches (``resource``,
            ``audience``, ...), sent the same way each time.

    Raises:
        UsageError: a bad argument.
    """

    def __init__(
        self,
        client: OAuth2Client,
        token: Token | None = None,
        *,
        on_token: Callable[[Token], object] | None = None,
        leeway: float = 60.0,
        lock: SyncLock | None = None,
        store: TokenStore | None = None,
        scope: object = None,
        clock: Clock = utc_now,
        min_refresh_interval: float = MIN_REFRESH_INTERVAL,
        request_deadline: float = DEFAULT_REQUEST_DEADLINE,
        **params: object,
    ) -> None:
        if not isinstance(client, OAuth2Client):
            raise UsageError("TokenManager needs an OAuth2Client (AsyncTokenManager takes async)")
        self.client = client
        super().__init__(
            token,
            on_token=on_token,
            leeway=leeway,
            lock=lock,
            store=store,
            scope=scope,
            clock=clock,
            params=params,
            min_refresh_interval=min_refresh_interval,
            request_deadline=request_deadline,
        )

    def token(self) -> Token:
        """A token that is valid now, refreshed or fetched if needed (single flight).

        Raises:
            ReauthorizationRequiredError: the user must authorize again.
            TokenRefreshError: the refresh failed; ``retryable`` says whether to try later.
            UsageError: a bad setup (an ``http`` token endpoint, ...).
            Exception: whatever ``on_token`` or ``store`` raised (to the triggering caller).
        """
        token = self._fast()
        if token is not None:
            return token  # fresh: no lock taken
        while True:
            token, flight, leads, stale = self._enter()
            if token is not None:
                if flight is not None and flight.owner == threading.get_ident():
                    raise UsageError(_REENTERED)
                return token
            assert flight is not None
            if leads:
                flight.owner = threading.get_ident()
                return self._lead(flight, stale)
            if flight.owner == threading.get_ident():
                raise UsageError(_REENTERED)
            flight.wait()
            token = flight.outcome()
            if token is not None:
                return token

    def invalidate(self, token: Token | None = None) -> None:
        """Make the next :meth:`token` call get a new token (the server rejected this one).

        Args:
            token: The token the server rejected. If the manager already replaced
                it, nothing happens; ``None`` invalidates whatever is current.
        """
        self._invalidate(token)

    def _lead(self, flight: Flight, stale: Token | None) -> Token:
        gated = None if flight.proactive else self._gated_failure()
        if gated is not None:
            # Waiting after a failed refresh: only a token another process stored helps.
            stored = self._load_quietly()
            if self._adoptable_quietly(stored, stale):
                assert stored is not None
                self._settle(flight, stored)
                return stored
            self._settle(flight, None, gated)
            raise gated
        try:
            got = self._obtain(stale, proactive=flight.proactive)
        except BaseException as exc:
            failure = self._fail(flight, exc)
            if flight.proactive and isinstance(exc, Exception) and self._still_valid(stale):
                assert stale is not None
                return stale  # refresh window: the failure is logged, the token still works
            if failure is exc:
                raise
            raise failure  # noqa: B904 (its __cause__ is exc already)
        if got is None:  # another process holds the lock and is refreshing
            self._postpone(flight, LOCK_BUSY_RETRY)
            if self._still_valid(stale):
                assert stale is not None
                return stale
            return self.token()
        new, from_server, save_error = got
        try:
            if from_server and self._on_token is not None:
                self._on_token(new)
        finally:
            self._settle(flight, new, issued=from_server)
        if save_error is not None:
            raise save_error
        return new

    def _obtain(
        self, stale: Token | None, *, proactive: bool
    ) -> tuple[Token, bool, Exception | None] | None:
        """``(token, whether it is new from the server, error saving it)``.

        ``None``: in the refresh window, the cross-process lock is held by
        another process and the store has nothing newer (never wait for it then).
        """
        lock = self._xlock
        try_acquire = getattr(lock, "try_acquire", None) if proactive else None
        if try_acquire is None:
            held = cast(SyncLock, contextlib.nullcontext() if lock is None else lock)
            with held:
                return self._refresh_holding(stale)
        assert lock is not None
        if not try_acquire():
            stored = self._store.load() if self._store is not None else None
            if self._adoptable(stored, stale):
                assert stored is not None
                return stored, False, None
            return None
        try:
            return self._refresh_holding(stale)
        finally:
            cast(SyncLock, lock).__exit__(None, None, None)

    def _refresh_holding(self, stale: Token | None) -> tuple[Token, bool, Exception | None]:
        """Reload, then refresh or fetch, and save: with the cross-process lock held."""
        store = self._store
        stored = store.load() if store is not None else None
        if self._adoptable(stored, stale):
            assert stored is not None
            return stored, False, None  # another process refreshed already
        base = self._base(stored, stale)
        fetch = self._needs_fetch(base)
        client = lease_bound(self.client, self._xlock, self._request_deadline)
        try:
            if fetch:
                new = client.client_credentials(scope=self._scope, **self._params)
            else:
                assert base is not None
                new = client.refresh(base)
        except LeaseLostError:
            # Nothing went out under the lost lease; whoever took it may be done.
            again = store.load() if store is not None else None
            if self._adoptable(again, stale):
                assert again is not None
                return again, False, None
            raise
        save_error: Exception | None = None
        if store is not None:
            try:
                # Inside the lock: the next process sees it. If the lease ran
                # out meanwhile, never overwrite what another holder saved.
                lost = lease_lost_on_save(self._xlock)
                if not (lost and keep_newer(stored, store.load(), self._xlock)):
                    store.save(new)
            except Exception as exc:
                save_error = exc
        return new, True, save_error


class AsyncTokenManager(TokenState):
    """The asyncio twin of :class:`TokenManager`: one refresh at a time across tasks.

    It holds no event-loop-bound state between calls, so one manager serves any
    number of loops (two successive ``asyncio.run`` calls, loops in several
    threads). The refresh runs in its own task: a caller cancelled mid-refresh
    does not lose a rotated refresh token. ``store`` and a blocking ``lock`` run
    in worker threads; ``lock`` may also be an async context manager and
    ``on_token`` may be a coroutine function.

    Args:
        client: The asyncio client that refreshes and fetches tokens.
        token, on_token, leeway, lock, store, scope, clock, min_refresh_interval,
        request_deadline, **params: As for :class:`TokenManager`.
    """

    def __init__(
        self,
        client: AsyncOAuth2Client,
        token: Token | None = None,
        *,
        on_token: Callable[[Token], object] | None = None,
        leeway: float = 60.0,
        lock: AsyncLock | None = None,
        store: TokenStore | None = None,
        scope: object = None,
        clock: Clock = utc_now,
        min_refresh_interval: float = MIN_REFRESH_INTERVAL,
        request_deadline: float = DEFAULT_REQUEST_DEADLINE,
        **params: object,
    ) -> None:
        if not isinstance(client, AsyncOAuth2Client):
            raise UsageError("AsyncTokenManager needs an AsyncOAuth2Client")
        self.client = client
        super().__init__(
            token,
            on_token=on_token,
            leeway=leeway,
            lock=lock,
            store=store,
            scope=scope,
            clock=clock,
            params=params,
            min_refresh_interval=min_refresh_interval,
            request_deadline=request_deadline,
        )

    async def token(self) -> Token:
        """A token that is valid now, refreshed or fetched if needed (single flight).

        Raises:
            As :meth:`TokenManager.token`.
        """
        # Imported here, not at module top, so that synchronous users of the package
        # never pay for asyncio; inside a coroutine it is already loaded.
        import asyncio

        token = self._fast()
        if token is not None:
            return token  # fresh: no lock taken
        loop = asyncio.get_running_loop()
        while True:
            token, flight, leads, stale = self._enter()
            if token is not None:
                if flight is not None and flight.owner is asyncio.current_task():
                    raise UsageError(_REENTERED)
                return token
            assert flight is not None
            if not leads and flight.owner is asyncio.current_task():
                raise UsageError(_REENTERED)
            with self._state:
                waiter = flight.waiter(loop)
            if leads:
                flight.owner = loop.create_task(self._lead(flight, stale))
            await waiter
            if (
                leads
                and flight.proactive
                and (flight.error is not None or flight.abandoned)
                and self._still_valid(stale)
            ):
                assert stale is not None
                return stale  # refresh window: the failure is logged, the token still works
            token = flight.outcome()
            if token is None:
                continue
            if leads and flight.leader_error is not None:
                raise flight.leader_error
            return token

    async def invalidate(self, token: Token | None = None) -> None:
        """As :meth:`TokenManager.invalidate`."""
        self._invalidate(token)

    async def _lead(self, flight: Flight, stale: Token | None) -> None:
        import asyncio  # see token()

        gated = None if flight.proactive else self._gated_failure()
        if gated is not None:
            # Waiting after a failed refresh: only a token another process stored helps.
            stored = (
                await asyncio.to_thread(self._load_quietly) if self._store is not None else None
            )
            if self._adoptable_quietly(stored, stale):
                self._settle(flight, stored)
            else:
                self._settle(flight, None, gated)
            return
        try:
            got = await self._obtain(stale, proactive=flight.proactive)
        except BaseException as exc:
            self._fail(flight, exc)
            if not isinstance(exc, Exception):
                raise  # cancelled: let the task end as cancelled
            return  # the callers get the error from the flight
        if got is None:  # another process holds the lock and is refreshing
            self._postpone(flight, LOCK_BUSY_RETRY)
            return
        new, from_server, save_error = got
        flight.leader_error = save_error
        try:
            if from_server and self._on_token is not None:
                result = self._on_token(new)
                if inspect.isawaitable(result):
                    await result
        except Exception as exc:
            flight.leader_error = exc
        finally:
            self._settle(flight, new, issued=from_server)

    async def _obtain(
        self, stale: Token | None, *, proactive: bool
    ) -> tuple[Token, bool, Exception | None] | None:
        """As :meth:`TokenManager._obtain`, without blocking the event loop."""
        import asyncio  # see token(): loaded already, kept off the package's import path

        lock = self._xlock
        try_acquire = getattr(lock, "try_acquire", None) if proactive else None
        if try_acquire is None:
            async with holding(lock):
                return await self._refresh_holding(stale)
        if inspect.iscoroutinefunction(try_acquire):
            taken = await try_acquire()
        else:
            taken = await asyncio.to_thread(try_acquire)
        if not taken:
            store = self._store
            stored = await asyncio.to_thread(store.load) if store is not None else None
            if self._adoptable(stored, stale):
                assert stored is not None
                return stored, False, None
            return None
        try:
            return await self._refresh_holding(stale)
        finally:
            if hasattr(lock, "__aexit__"):
                await lock.__aexit__(None, None, None)
            else:
                await asyncio.to_thread(lock.__exit__, None, None, None)  # type: ignore[attr-defined]

    async def _refresh_holding(self, stale: Token | None) -> tuple[Token, bool, Exception | None]:
        """Reload, then refresh or fetch, and save: with the cross-process lock held."""
        import asyncio

        store = self._store
        stored = await asyncio.to_thread(store.load) if store is not None else None
        if self._adoptable(stored, stale):
            assert stored is not None
            return stored, False, None
        base = self._base(stored, stale)
        fetch = self._needs_fetch(base)
        client = lease_bound_async(self.client, self._xlock, self._request_deadline)
        try:
            if fetch:
                new = await client.client_credentials(scope=self._scope, **self._params)
            else:
                assert base is not None
                new = await client.refresh(base)
        except LeaseLostError:
            again = await asyncio.to_thread(store.load) if store is not None else None
            if self._adoptable(again, stale):
                assert again is not None
                return again, False, None
            raise
        save_error: Exception | None = None
        if store is not None:
            try:
                lost = await async_lease_lost(self._xlock)
                if not (
                    lost and keep_newer(stored, await asyncio.to_thread(store.load), self._xlock)
                ):
                    await asyncio.to_thread(store.save, new)
            except Exception as exc:
                save_error = exc
        return new, True, save_error
