"""One overall deadline per request: connect, send, headers and body.

HTTP libraries time each socket operation, not the exchange: a server that
sends one byte of its status line, headers or body every second keeps a
request with ``timeout=2`` alive forever. Here an :class:`Alarm` bounds one
``send()``. For the sync libraries the sockets a request uses are registered
with its alarm (:meth:`Alarm.guard`, called from the library's connection or
network stream through :func:`current_alarm`); when the deadline passes, one
shared watchdog thread shuts those sockets down, which wakes the blocked
``recv`` at once, and the adapter reports ``timed out``.

The watchdog is the only thread the package starts: a daemon, started on the
first request, that sleeps until the earliest armed deadline. Arming costs a
heap push under a lock; no thread is made per request.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import urllib3

from oauth2_core import UsageError

__all__ = ["Alarm", "arm_pool_manager", "check_deadline", "current_alarm", "watch"]


def check_deadline(deadline: float | None, timeout: float) -> float:
    """The deadline to use: ``deadline``, or ``timeout`` when it is ``None``.

    Raises:
        UsageError: ``deadline`` is not a positive number of seconds.
    """
    if deadline is None:
        return float(timeout)
    if isinstance(deadline, bool) or not isinstance(deadline, (int, float)) or not deadline > 0:
        raise UsageError("deadline must be a positive number of seconds")
    return float(deadline)


class Alarm:
    """The deadline of one request, and the sockets to cut when it passes.

    Args:
        seconds: Time allowed from now.
    """

    __slots__ = ("__weakref__", "_done", "_lock", "_sockets", "at", "expired")

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.expired = False
        self._done = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def remaining(self) -> float:
        """Seconds left (a millisecond at least: a zero socket timeout means non-blocking)."""
        return max(self.at - time.monotonic(), 0.001)

    def guard(self, sock: socket.socket | None) -> None:
        """Shut ``sock`` down when the deadline passes (at once if it has)."""
        if sock is None:
            return
        with self._lock:
            if self.expired:
                _cut(sock)
            elif not any(s is sock for s in self._sockets):
                self._sockets.append(sock)

    def fire(self) -> None:
        """Mark the alarm expired and shut down its sockets, unless the request is over."""
        with self._lock:
            if self._done:
                return
            self.expired = True
            for sock in self._sockets:
                _cut(sock)

    def disarm(self) -> None:
        """The request is over: never fire."""
        with self._lock:
            self._done = True
            self._sockets.clear()


def _cut(sock: socket.socket) -> None:
    # The base method: SSLSocket.shutdown would also drop its TLS state under a reader.
    with contextlib.suppress(OSError, ValueError):  # already closed
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """Fires alarms when their deadline passes; one daemon thread, started lazily."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Alarm]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, alarm: Alarm) -> None:
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="oauth2-transports-deadline", daemon=True
                )
                self._thread.start()
            earliest = not self._heap or alarm.at < self._heap[0][0]
            heapq.heappush(self._heap, (alarm.at, next(self._order), alarm))
            if earliest:
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    wait = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(wait)
                alarm = heapq.heappop(self._heap)[2]
            alarm.fire()


_WATCHDOG = _Watchdog()
_CURRENT = threading.local()


def current_alarm() -> Alarm | None:
    """The alarm of the request this thread is sending, if any."""
    alarm: Alarm | None = getattr(_CURRENT, "alarm", None)
    return alarm


@contextmanager
def watch(seconds: float) -> Iterator[Alarm]:
    """Arm an alarm for one request sent from this thread; disarm it afterwards."""
    alarm = Alarm(seconds)
    _WATCHDOG.add(alarm)
    outer = current_alarm()
    _CURRENT.alarm = alarm
    try:
        yield alarm
    finally:
        _CURRENT.alarm = outer
        alarm.disarm()


# -- urllib3 (also under requests): connections that guard their socket ------------------

_CONNECTION_CLASSES: dict[type, type] = {}
_ARMED: weakref.WeakSet[urllib3.PoolManager] = weakref.WeakSet()
_LOCK = threading.Lock()


def _deadline_connection(base: type[Any]) -> type[Any]:
    """A subclass of a urllib3 connection class whose socket is guarded by the alarm."""
    if getattr(base, "guards_deadline", False):
        return base
    made = _CONNECTION_CLASSES.get(base)
    if made is None:

        class DeadlineConnection(base):  # type: ignore[misc]
            guards_deadline = True

            def _new_conn(self) -> socket.socket:
                sock: socket.socket = super()._new_conn()
                alarm = current_alarm()
                if alarm is not None:
                    alarm.guard(sock)  # before the TLS handshake reads anything
                return sock

            def request(self, *args: Any, **kwargs: Any) -> None:
                alarm = current_alarm()
                if alarm is not None:
                    alarm.guard(self.sock)
                super().request(*args, **kwargs)

            def getresponse(self) -> Any:
                alarm = current_alarm()
                if alarm is not None:
                    alarm.guard(self.sock)
                return super().getresponse()

        DeadlineConnection.__name__ = DeadlineConnection.__qualname__ = f"Deadline{base.__name__}"
        made = _CONNECTION_CLASSES[base] = DeadlineConnection
    return made


def _arm_pool(pool: Any) -> None:
    pool.ConnectionCls = _deadline_connection(pool.ConnectionCls)
    # Connections the pool opened before: same state, the guarding subclass.
    for conn in list(getattr(getattr(pool, "pool", None), "queue", ())):
        if conn is not None and type(conn) in _CONNECTION_CLASSES:
            conn.__class__ = _CONNECTION_CLASSES[type(conn)]


def arm_pool_manager(manager: urllib3.PoolManager) -> None:
    """Make every connection of ``manager`` guard its socket with the request's alarm.

    Pools made later come from pool classes whose connections do; pools and idle
    connections that exist already are switched to the same subclasses. Idempotent.
    """
    if manager in _ARMED:
        return
    with _LOCK:
        if manager in _ARMED:
            return
        classes: dict[str, Any] = dict(manager.pool_classes_by_scheme)
        manager.pool_classes_by_scheme = {
            scheme: type(
                f"Deadline{cls.__name__}",
                (cls,),
                {"ConnectionCls": _deadline_connection(cls.ConnectionCls)},
            )
            for scheme, cls in classes.items()
        }
        for key in list(manager.pools.keys()):
            pool = manager.pools.get(key)
            if pool is not None:
                _arm_pool(pool)
        _ARMED.add(manager)
