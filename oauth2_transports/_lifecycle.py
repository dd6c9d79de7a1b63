"""Machinery shared by the token managers and the auth hooks.

:class:`Flight` is one refresh in progress that threads and asyncio tasks (on any
event loop) can wait for; :class:`Handoff` takes a blocking lock in a worker thread
without leaking it when the waiting task is cancelled; :func:`authorization_header`
and :func:`should_retry_401` are the RFC 6750 rules the auth hooks follow.
"""

from __future__ import annotations

import asyncio
import threading
from contextlib import AbstractContextManager

from oauth2_core import Token, UsageError, parse_www_authenticate
from oauth2_core.errors import printable

__all__ = ["Flight", "Handoff", "authorization_header", "should_retry_401"]


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Flight:
    """One refresh in progress and its outcome, shared by everyone waiting for it.

    Every field is written under the manager's state lock, before :meth:`finish`.
    Exactly one of ``token`` / ``error`` is set, unless ``abandoned``: the leader was
    interrupted (``KeyboardInterrupt``, a cancelled task) and waiters must start over.
    """

    def __init__(self) -> None:
        self.done = False
        self.token: Token | None = None
        self.error: BaseException | None = None
        self.abandoned = False
        #: What only the caller that started the flight sees (``on_token`` raised).
        self.leader_error: BaseException | None = None
        #: The asyncio task doing the work, kept referenced until it ends.
        self.task: asyncio.Task[None] | None = None
        self._event = threading.Event()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def finish(self) -> None:
        """Wake every thread and task waiting (call with the state lock held)."""
        self.done = True
        self._event.set()
        waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            # Waiters may sit on other event loops, in other threads.
            try:
                loop.call_soon_threadsafe(_wake, future)
            except RuntimeError:  # that loop is closed: nobody is waiting there
                pass

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


def authorization_header(token: Token) -> str:
    """The ``Authorization`` value for ``token`` (RFC 6750 §2.1).

    Raises:
        UsageError: a DPoP-bound or other non-Bearer token, or an access token
            with characters a header cannot carry.
    """
    if not isinstance(token, Token):
        raise UsageError("expected an oauth2_core.Token")
    kind = token.token_type.lower()
    if kind == "dpop":
        raise UsageError(
            "a DPoP-bound token needs a DPoP proof with each request (RFC 9449); "
            "OAuth2Auth sends Bearer tokens only"
        )
    if kind != "bearer":
        raise UsageError(
            f"token_type {printable(token.token_type, 40)!r} cannot be sent as a Bearer token"
        )
    value = token.access_token
    # RFC 6750 §2.1 b64token is visible ASCII; CR LF would inject a header.
    if not value or not all("\x21" <= ch <= "\x7e" for ch in value):
        raise UsageError("the access token is empty or has characters a bearer token cannot have")
    return f"Bearer {value}"


def should_retry_401(www_authenticate: list[str]) -> bool:
    """Whether a 401 is worth one refresh and retry (DESIGN §7, RFC 6750 §3.1).

    Yes unless a Bearer challenge names an error other than ``invalid_token``
    (``insufficient_scope`` needs another grant, ``invalid_request`` another request).

    Args:
        www_authenticate: Every ``WWW-Authenticate`` field value of the response.
    """
    errors = {
        challenge.error
        for value in www_authenticate
        for challenge in parse_www_authenticate(value)
        if challenge.scheme.lower() == "bearer" and challenge.error
    }
    return not (errors - {"invalid_token"})
