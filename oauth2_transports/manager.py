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
import datetime as _dt
import inspect
import logging
import math
import threading
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import cast

from oauth2_core import Token, UsageError
from oauth2_core.token import UnsupportedTokenTypeError, token_scheme
from oauth2_transports._common import Clock, utc_now
from oauth2_transports._lease import (
    DEFAULT_REQUEST_DEADLINE,
    LEASE_MARGIN,
    lease_bound,
    lease_bound_async,
)
from oauth2_transports._lifecycle import (
    Flight,
    LeaseLostError,
    ReauthorizationRequiredError,
    TokenRefreshError,
    holding,
    refresh_failure,
)
from oauth2_transports.client import AsyncOAuth2Client, OAuth2Client
from oauth2_transports.store import TokenStore

__all__ = [
    "AsyncTokenManager",
    "LeaseLostError",
    "ReauthorizationRequiredError",
    "TokenManager",
    "TokenRefreshError",
]

logger = logging.getLogger("oauth2_transports")

#: Default of ``min_refresh_interval``: at most one token request per 10 s per manager
#: for a server that issues unusable tokens. Tokens living 20 s or more (the leeway is
#: at most half the lifetime) are never held back by it.
MIN_REFRESH_INTERVAL = 10.0

_REENTERED = (
    "on_token (or the store) asked the manager for a token while handing it a new one: "
    "use the token on_token is given"
)

SyncLock = AbstractContextManager[object]
AsyncLock = AbstractContextManager[object] | AbstractAsyncContextManager[object]


def _check_seconds(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{name} must be a number of seconds")
    if not (math.isfinite(value) and value >= 0):
        raise UsageError(f"{name} must be a finite, non-negative number of seconds")


def _warn_unpresentable(token: Token) -> None:
    """Say it when the server issued a token the auth hooks will refuse to send."""
    try:
        token_scheme(token)
    except UnsupportedTokenTypeError as exc:
        logger.warning("the token endpoint issued a token that cannot be used: %s", exc)


def _lease_lost_on_save(lock: object) -> bool:
    """Whether ``lock`` is a lease that was lost before we could save under it."""
    ensure = getattr(lock, "ensure_lease", None)
    return callable(ensure) and not ensure(LEASE_MARGIN)


def _keep_newer(stored: Token | None, now_stored: Token | None, lock: object) -> bool:
    """After losing the lease: whether the store holds a token someone else saved."""
    if now_stored == stored:
        return False
    logger.warning(
        "the cross-process lock %r expired during the refresh and another holder saved "
        "a token meanwhile: keeping theirs in the store (raise the lock's ttl)",
        lock,
    )
    return True


class _Lifecycle:
    """The state and the decisions both managers share; no IO here."""

    def __init__(
        self,
        token: Token | None,
        *,
        on_token: Callable[[Token], object] | None,
        leeway: float,
        lock: object,
        store: TokenStore | None,
        scope: object,
        clock: Clock,
        params: dict[str, object],
        min_refresh_interval: float = MIN_REFRESH_INTERVAL,
        request_deadline: float = DEFAULT_REQUEST_DEADLINE,
    ) -> None:
        if token is not None and not isinstance(token, Token):
            raise UsageError("token must be an oauth2_core.Token or None")
        _check_seconds("leeway", leeway)
        _check_seconds("min_refresh_interval", min_refresh_interval)
        _check_seconds("request_deadline", request_deadline)
        if not request_deadline > 0:
            raise UsageError("request_deadline must be positive")
        if on_token is not None and not callable(on_token):
            raise UsageError("on_token must be callable")
        self._on_token = on_token
        self._leeway = float(leeway)
        self._min_interval = float(min_refresh_interval)
        self._request_deadline = float(request_deadline)
        self._store = store
        # A store may carry its cross-process lock (FileTokenStore(path, lock=...)).
        self._xlock = lock if lock is not None else getattr(store, "lock", None)
        self._scope = scope
        self._params = params
        self._clock = clock
        # RFC 6749 §4.4: no token to start from, or a scope to ask for, means this
        # manager fetches its own tokens with the client credentials grant.
        self._fetch_anew = token is None or scope is not None or bool(params)
        self._state = threading.Lock()
        self._flight: Flight | None = None
        self._rejected: str | None = None  # the access token last invalidated
        self._issued: str | None = None  # the access token the token endpoint last gave us
        self._held_back: str | None = None  # the access token last served by the bound
        if token is None and store is not None:
            token = store.load()
        self._token = token
        self._obtained_at = self._now() if token is not None else None

    def _now(self) -> _dt.datetime:
        now = self._clock()
        if not isinstance(now, _dt.datetime) or now.utcoffset() is None:
            raise UsageError("the manager's clock must return a timezone-aware datetime")
        return now

    def _fresh(self, token: Token, obtained_at: _dt.datetime, now: _dt.datetime) -> bool:
        if token.access_token == self._rejected:
            return False
        if token.expires_at is None:
            return True  # used until the server refuses it (then invalidate())
        # The margin never exceeds half the token's lifetime: a token issued for
        # 59 s is not "expired on arrival" with a 60 s leeway.
        lifetime = max((token.expires_at - obtained_at).total_seconds(), 0.0)
        return not token.is_expired(now, leeway=min(self._leeway, lifetime / 2))

    def _enter(self) -> tuple[Token | None, Flight | None, bool, Token | None]:
        """``(fresh token, None, ...)`` or ``(None, flight, leads it, stale token)``."""
        now = self._now()
        with self._state:
            flight = self._flight
            if flight is not None:
                return None, flight, False, None
            token, obtained_at = self._token, self._obtained_at
            if (
                token is not None
                and obtained_at is not None
                and self._fresh(token, obtained_at, now)
            ):
                return token, None, False, None
            if token is not None and self._hold_back(token, obtained_at, now):
                return token, None, False, None
            self._flight = flight = Flight()
            return None, flight, True, token

    def _hold_back(self, token: Token, obtained_at: _dt.datetime | None, now: _dt.datetime) -> bool:
        """Whether to hand out ``token`` again instead of asking the token endpoint.

        It was issued less than ``min_refresh_interval`` ago: it expired on arrival
        (``expires_in`` <= 0) or the resource server refused it at once. Asking
        again right away would make every call a token request (call with the
        state lock held).
        """
        if token.access_token != self._issued or obtained_at is None:
            return False
        age = (now - obtained_at).total_seconds()
        if not 0 <= age < self._min_interval:
            return False
        if self._held_back != token.access_token:
            self._held_back = token.access_token
            logger.warning(
                "the token issued %.1f s ago is already expired or was refused; "
                "handing it out until min_refresh_interval (%g s) has passed instead "
                "of asking the token endpoint again",
                age,
                self._min_interval,
            )
        return True

    def _adoptable(self, stored: Token | None, stale: Token | None) -> bool:
        """Whether a token found in the store can be used instead of refreshing."""
        if stored is None or (stale is not None and stored.access_token == stale.access_token):
            return False
        now = self._now()
        return self._fresh(stored, now, now)

    def _base(self, stored: Token | None, stale: Token | None) -> Token | None:
        """The token to refresh: the stored one holds the newest refresh token."""
        for candidate in (stored, stale):
            if candidate is not None and candidate.refresh_token:
                return candidate
        return stale if stale is not None else stored

    def _needs_fetch(self, base: Token | None) -> bool:
        """Whether to fetch anew (client credentials) rather than refresh ``base``."""
        if base is not None and base.refresh_token:
            return False
        if self._fetch_anew:
            return True
        raise ReauthorizationRequiredError(
            "the access token expired or was rejected, there is no refresh token, and this "
            "manager does not fetch tokens with client credentials: authorize again"
        )

    def _settle(
        self,
        flight: Flight,
        token: Token | None,
        error: BaseException | None = None,
        *,
        issued: bool = False,
    ) -> None:
        """Publish the outcome and wake every waiter.

        ``issued``: the token came from the token endpoint (not from the store).
        """
        try:
            now = self._now()
        except Exception:  # never leave waiters hanging on a clock that broke
            now = utc_now()
        if issued and token is not None:
            _warn_unpresentable(token)
        with self._state:
            if token is not None:
                self._token, self._obtained_at, self._rejected = token, now, None
                if issued:
                    self._issued = token.access_token
            self._flight = None
            flight.token = token
            flight.error = error
            flight.abandoned = token is None and error is None
            flight.finish()

    def _fail(self, flight: Flight, exc: BaseException) -> BaseException:
        """Settle a failed flight; return what the leader raises."""
        failure = refresh_failure(exc) if isinstance(exc, Exception) else None
        # An interrupted leader (KeyboardInterrupt, cancelled task) is not a failed
        # refresh: its waiters start over instead of seeing the interruption.
        self._settle(flight, None, failure)
        return failure if failure is not None else exc

    def _invalidate(self, token: Token | None) -> None:
        with self._state:
            current = self._token
            if current is None:
                return
            if token is not None and token.access_token != current.access_token:
                return  # already replaced: invalidating the new one would waste a refresh
            self._rejected = current.access_token

    def __repr__(self) -> str:
        client = getattr(self, "client", None)
        return f"{type(self).__name__}(client={client!r}, token={self._token!r})"


class TokenManager(_Lifecycle):
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
        while True:
            token, flight, leads, stale = self._enter()
            if flight is None:
                assert token is not None
                return token
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
        try:
            new, from_server, save_error = self._obtain(stale)
        except BaseException as exc:
            failure = self._fail(flight, exc)
            if failure is exc:
                raise
            raise failure  # noqa: B904 (its __cause__ is exc already)
        try:
            if from_server and self._on_token is not None:
                self._on_token(new)
        finally:
            self._settle(flight, new, issued=from_server)
        if save_error is not None:
            raise save_error
        return new

    def _obtain(self, stale: Token | None) -> tuple[Token, bool, Exception | None]:
        """``(token, whether it is new from the server, error saving it)``."""
        lock = cast(SyncLock, contextlib.nullcontext() if self._xlock is None else self._xlock)
        store = self._store
        with lock:
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
                    lost = _lease_lost_on_save(self._xlock)
                    if not (lost and _keep_newer(stored, store.load(), self._xlock)):
                        store.save(new)
                except Exception as exc:
                    save_error = exc
            return new, True, save_error


class AsyncTokenManager(_Lifecycle):
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

        loop = asyncio.get_running_loop()
        while True:
            token, flight, leads, stale = self._enter()
            if flight is None:
                assert token is not None
                return token
            if not leads and flight.owner is asyncio.current_task():
                raise UsageError(_REENTERED)
            with self._state:
                waiter = flight.waiter(loop)
            if leads:
                flight.owner = loop.create_task(self._lead(flight, stale))
            await waiter
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
        try:
            new, from_server, save_error = await self._obtain(stale)
        except BaseException as exc:
            self._fail(flight, exc)
            if not isinstance(exc, Exception):
                raise  # cancelled: let the task end as cancelled
            return  # the callers get the error from the flight
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

    async def _obtain(self, stale: Token | None) -> tuple[Token, bool, Exception | None]:
        import asyncio  # see token(): loaded already, kept off the package's import path

        store = self._store
        async with holding(self._xlock):
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
                    lost = await _async_lease_lost(self._xlock)
                    if not (
                        lost
                        and _keep_newer(stored, await asyncio.to_thread(store.load), self._xlock)
                    ):
                        await asyncio.to_thread(store.save, new)
                except Exception as exc:
                    save_error = exc
            return new, True, save_error


async def _async_lease_lost(lock: object) -> bool:
    """:func:`_lease_lost_on_save` without blocking the event loop."""
    import asyncio

    ensure = getattr(lock, "ensure_lease", None)
    if not callable(ensure):
        return False
    if inspect.iscoroutinefunction(ensure):
        return not await ensure(LEASE_MARGIN)
    return not await asyncio.to_thread(ensure, LEASE_MARGIN)
