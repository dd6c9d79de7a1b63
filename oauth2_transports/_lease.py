"""Keeping a cross-process lease alive for as long as a refresh may still reach the server.

A token manager with a cross-process lock (``RedisLock``) holds a *lease*: it expires on
its own, so a dead holder cannot block the fleet. The danger is the other way round: a
live holder whose lease runs out while its refresh request is still on the wire. A
second process then takes the lock, reads the same single-use refresh token and sends
it too; the server's reuse detection revokes the whole grant (RFC 9700 §4.14.2) and the
first process stores a token that is already dead. Fencing tokens do not help: the
authorization server is not fenced.

So, before **each** request of a refresh (retries and DPoP nonce resends included),
the manager's transport asks the lock to make the lease last at least the request's
hard deadline plus :data:`LEASE_MARGIN` (``lock.ensure_lease(seconds)``; for
``RedisLock`` an atomic compare-and-``PEXPIRE``). If the lease is already lost, the
request is not sent: :class:`~oauth2_transports.LeaseLostError`. A lock without
``ensure_lease`` (any context manager) is trusted as it is.

The deadline is the transport's ``deadline`` attribute (the hard bound of one
``send``: connect, send and receive); a transport that does not declare one is
assumed to need the manager's ``request_deadline`` (default
:data:`DEFAULT_REQUEST_DEADLINE`).
"""

from __future__ import annotations

import copy
import inspect
import logging
import math
from collections.abc import Awaitable, Callable

from oauth2_core import HttpRequest, HttpResponse, Token
from oauth2_transports._lifecycle import LeaseLostError
from oauth2_transports._transport import AsyncTransport, Transport
from oauth2_transports.client import AsyncOAuth2Client, OAuth2Client

__all__ = [
    "DEFAULT_REQUEST_DEADLINE",
    "LEASE_MARGIN",
    "async_lease_lost",
    "keep_newer",
    "lease_bound",
    "lease_bound_async",
    "lease_lost_on_save",
    "request_deadline",
]

logger = logging.getLogger("oauth2_transports")

#: Seconds assumed for one request when the transport declares no ``deadline``.
DEFAULT_REQUEST_DEADLINE = 60.0
#: Seconds the lease must outlast a request's deadline: Redis round trips, the
#: response's processing and saving, and clock-rate drift between hosts.
LEASE_MARGIN = 5.0


def request_deadline(transport: object, default: float) -> float:
    """The hard upper bound, in seconds, of one ``send`` of ``transport``.

    The transport's ``deadline`` attribute when it is a positive finite number,
    else ``default``.
    """
    value = getattr(transport, "deadline", None)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    if math.isfinite(value) and value > 0:
        return float(value)
    return default


def _lost(lock: object) -> LeaseLostError:
    return LeaseLostError(
        f"the cross-process lock {lock!r} was lost before a request of the refresh: "
        "nothing was sent (another process may be refreshing); retry later"
    )


class _LeaseGuard:
    """A :class:`Transport` that renews the lease before handing each request on."""

    def __init__(self, inner: Transport, lock: object, default: float) -> None:
        self._inner = inner
        self._lock = lock
        self._ensure: Callable[[float], object] = lock.ensure_lease  # type: ignore[attr-defined]
        self._default = default

    @property
    def deadline(self) -> float:
        """The wrapped transport's deadline (or the assumed one)."""
        return request_deadline(self._inner, self._default)

    def send(self, request: HttpRequest) -> HttpResponse:
        if not self._ensure(self.deadline + LEASE_MARGIN):
            raise _lost(self._lock)
        return self._inner.send(request)


class _AsyncLeaseGuard:
    """The :class:`AsyncTransport` twin of :class:`_LeaseGuard`."""

    def __init__(self, inner: AsyncTransport, lock: object, default: float) -> None:
        self._inner = inner
        self._lock = lock
        self._ensure: Callable[[float], object] = lock.ensure_lease  # type: ignore[attr-defined]
        self._default = default

    @property
    def deadline(self) -> float:
        """The wrapped transport's deadline (or the assumed one)."""
        return request_deadline(self._inner, self._default)

    async def send(self, request: HttpRequest) -> HttpResponse:
        import asyncio  # loaded already: we are inside a running event loop

        seconds = self.deadline + LEASE_MARGIN
        if inspect.iscoroutinefunction(self._ensure):
            ours = await self._ensure(seconds)  # an asyncio lock's own ensure_lease
        else:
            ours = await asyncio.to_thread(self._ensure, seconds)  # a Redis round trip
        if isinstance(ours, Awaitable):
            ours = await ours
        if not ours:
            raise _lost(self._lock)
        return await self._inner.send(request)


def lease_bound(client: OAuth2Client, lock: object, default: float) -> OAuth2Client:
    """``client`` as it refreshes under ``lock``: each request first renews the lease.

    A shallow copy whose transport is guarded, so that the caller's client (which
    other code may be using at the same moment) is left as it is. A lock without
    ``ensure_lease`` gives ``client`` itself.
    """
    if not callable(getattr(lock, "ensure_lease", None)):
        return client
    view = copy.copy(client)
    view.transport = _LeaseGuard(client.transport, lock, default)
    return view


def lease_bound_async(client: AsyncOAuth2Client, lock: object, default: float) -> AsyncOAuth2Client:
    """The asyncio twin of :func:`lease_bound`."""
    if not callable(getattr(lock, "ensure_lease", None)):
        return client
    view = copy.copy(client)
    view.transport = _AsyncLeaseGuard(client.transport, lock, default)
    return view


def lease_lost_on_save(lock: object) -> bool:
    """Whether ``lock`` is a lease that was lost before we could save under it."""
    ensure = getattr(lock, "ensure_lease", None)
    return callable(ensure) and not ensure(LEASE_MARGIN)


def keep_newer(stored: Token | None, now_stored: Token | None, lock: object) -> bool:
    """After losing the lease: whether the store holds a token someone else saved."""
    if now_stored == stored:
        return False
    logger.warning(
        "the cross-process lock %r expired during the refresh and another holder saved "
        "a token meanwhile: keeping theirs in the store (raise the lock's ttl)",
        lock,
    )
    return True


async def async_lease_lost(lock: object) -> bool:
    """:func:`lease_lost_on_save` without blocking the event loop."""
    import asyncio

    ensure = getattr(lock, "ensure_lease", None)
    if not callable(ensure):
        return False
    if inspect.iscoroutinefunction(ensure):
        return not await ensure(LEASE_MARGIN)
    return not await asyncio.to_thread(ensure, LEASE_MARGIN)
