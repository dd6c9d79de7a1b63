"""Machinery of the token managers.

The managers' errors (:class:`TokenRefreshError`, :class:`ReauthorizationRequiredError`,
exported from ``oauth2_transports``) and how a failed refresh maps onto them;
:class:`Flight` is one refresh in progress that threads and asyncio tasks (on any
event loop) can wait for; :func:`holding` takes a blocking lock in a worker thread
(:class:`Handoff`) without leaking it when the waiting task is cancelled.
The auth hooks' rules are in :mod:`oauth2_transports._hooks`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import TYPE_CHECKING

from oauth2_core import (
    EndpointError,
    IdTokenError,
    OAuth2Error,
    ResponseError,
    Token,
    UsageError,
)
from oauth2_transports._transport import TransportError
from oauth2_transports.store import LockTimeoutError

if TYPE_CHECKING:
    # Annotations only: the async paths import asyncio when they run, so that
    # importing the package stays cheap for synchronous users.
    import asyncio

__all__ = [
    "Flight",
    "Handoff",
    "LeaseLostError",
    "ReauthorizationRequiredError",
    "TokenRefreshError",
    "holding",
    "refresh_failure",
]


class TokenRefreshError(OAuth2Error):
    """Getting a new token failed; the manager still holds its previous token.

    The cause (``EndpointError``, ``TransportError``, ...) is chained as ``__cause__``.

    Attributes:
        retryable: Whether asking again later may succeed (5xx, 429, network trouble).
        reauthorize: Whether the grant is gone and the user must authorize again.
        error: The server's RFC 6749 §5.2 ``error`` code, or ``None``.
        status: The HTTP status of the refusal, or ``None``.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        reauthorize: bool = False,
        error: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.reauthorize = reauthorize
        self.error = error
        self.status = status


class ReauthorizationRequiredError(TokenRefreshError):
    """No new token can be had without the user: authorize again.

    Raised when the token expired (or was rejected) and there is no refresh token
    and no client-credentials fallback, or when the server refused the refresh
    token (``invalid_grant``, RFC 6749 §5.2).
    """

    def __init__(self, message: str, *, error: str | None = None, status: int | None = None):
        super().__init__(message, retryable=False, reauthorize=True, error=error, status=status)


class LeaseLostError(TokenRefreshError):
    """The cross-process lease expired before a request of the refresh: nothing was sent.

    Another process may hold the lock and be refreshing with the same single-use
    refresh token; sending it too would get the grant revoked (RFC 9700
    §4.14.2). Retryable: the next attempt reloads the store and normally finds
    the other process's new token.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)


def refresh_failure(exc: Exception) -> Exception:
    """The error callers see when getting a new token raised ``exc``."""
    failure: TokenRefreshError
    if isinstance(exc, (UsageError, TokenRefreshError)):
        return exc  # the caller's mistake, or already explained
    if isinstance(exc, EndpointError):
        if exc.reauthorize:
            failure = ReauthorizationRequiredError(
                f"the authorization server refused the refresh ({exc}): authorize again",
                error=exc.error,
                status=exc.status,
            )
        else:
            verdict = "retry later" if exc.retryable else "retrying will not help"
            failure = TokenRefreshError(
                f"getting a new token failed ({exc}): {verdict}",
                retryable=exc.retryable,
                error=exc.error,
                status=exc.status,
            )
    elif isinstance(exc, (TransportError, LockTimeoutError)):
        failure = TokenRefreshError(
            f"getting a new token failed ({exc}): retry later", retryable=True
        )
    elif isinstance(exc, IdTokenError):
        # A refreshed ID token that fails validation is a forgery or a broken
        # server: asking again gets the same answer. Only an unknown key id may
        # be a key rotation that the next JWK set fetch resolves.
        retryable = exc.check == "kid"
        verdict = "retry later" if retryable else "retrying will not help"
        failure = TokenRefreshError(
            f"the new token's ID token failed validation ({exc}): {verdict}",
            retryable=retryable,
            status=exc.status,
        )
    elif isinstance(exc, ResponseError):
        retryable = exc.status is None or exc.status >= 500
        verdict = "retry later" if retryable else "retrying will not help"
        failure = TokenRefreshError(
            f"getting a new token failed ({exc}): {verdict}", retryable=retryable, status=exc.status
        )
    else:
        return exc  # a store's or a callback's own error: let it through unchanged
    # Set here, not by `raise ... from`: waiting threads raise it before the leader does.
    failure.__cause__ = exc
    return failure


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Flight:
    """One refresh in progress and its outcome, shared by everyone waiting for it.

    Every field is written under the manager's state lock, before :meth:`finish`.
    Exactly one of ``token`` / ``error`` is set, unless ``abandoned``: the leader was
    interrupted (``KeyboardInterrupt``, a cancelled task) and waiters must start over.
    """

    def __init__(self, *, proactive: bool = False) -> None:
        #: Led in the refresh window: the current token is still valid, so the
        #: leader returns it rather than fail, and nobody else waits for it.
        self.proactive = proactive
        self.done = False
        self.token: Token | None = None
        self.error: BaseException | None = None
        self.abandoned = False
        #: What only the caller that started the flight sees (``on_token`` raised).
        self.leader_error: BaseException | None = None
        #: Who runs the flight: the leader's thread id, or the asyncio task doing
        #: the work (kept referenced until it ends). Lets a re-entrant call fail.
        self.owner: object = None
        self._event = threading.Event()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def finish(self) -> None:
        """Wake every thread and task waiting (call with the state lock held)."""
        self.done = True
        self._event.set()
        waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            # Waiters may sit on other event loops, in other threads.
            # A closed loop raises RuntimeError: nobody is waiting there any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_wake, future)

    def wait(self) -> None:
        """Block the calling thread until the flight ends."""
        self._event.wait()

    def waiter(self, loop: asyncio.AbstractEventLoop) -> asyncio.Future[None]:
        """A future on ``loop`` resolved when the flight ends (call with the state lock held)."""
        future: asyncio.Future[None] = loop.create_future()
        if self.done:
            future.set_result(None)
        else:
            self._waiters.append((loop, future))
        return future

    def outcome(self) -> Token | None:
        """The new token, ``None`` if the flight was abandoned; raises its error."""
        if self.error is not None:
            raise self.error
        return None if self.abandoned else self.token


class Handoff:
    """Enter a blocking context manager in a worker thread, safely against cancellation.

    If the task waiting for :meth:`enter` is cancelled, :meth:`abandon` makes sure
    the lock is released as soon as (or if ever) the thread gets it.
    """

    def __init__(self, lock: AbstractContextManager[object]) -> None:
        self._lock = lock
        self._mutex = threading.Lock()
        self._abandoned = False
        self._held = False

    def enter(self) -> None:
        """Acquire the lock (runs in a worker thread)."""
        self._lock.__enter__()
        with self._mutex:
            if not self._abandoned:
                self._held = True
                return
        self._lock.__exit__(None, None, None)

    def abandon(self) -> None:
        """The waiter is gone: release the lock if it was already acquired."""
        with self._mutex:
            self._abandoned = True
            held, self._held = self._held, False
        if held:
            self._lock.__exit__(None, None, None)


@contextlib.asynccontextmanager
async def holding(lock: object) -> AsyncIterator[None]:
    """Hold ``lock`` (sync or async context manager, or ``None``) without blocking the loop."""
    if lock is None:
        yield
    elif isinstance(lock, AbstractAsyncContextManager) or hasattr(lock, "__aenter__"):
        async with lock:  # type: ignore[attr-defined]
            yield
    else:
        # Deferred on purpose, measured: asyncio costs ~48 ms of `python -X importtime`
        # (median of 15, this 2-core machine), paid by every synchronous TokenManager user
        # if imported at the top; here it is loaded already (we run inside an event loop).
        import asyncio

        handoff = Handoff(lock)  # type: ignore[arg-type]
        try:
            await asyncio.to_thread(handoff.enter)
        except BaseException:
            handoff.abandon()
            raise
        try:
            yield
        finally:
            await asyncio.to_thread(lock.__exit__, None, None, None)  # type: ignore[attr-defined]
