"""The overall request deadline (see ``_deadline``) for ``httpx.Client`` and ``httpx2.Client``.

httpcore (and its fork httpcore2) reads through a network stream with a timeout
per read. Each ``ConnectionPool`` of the client gets a network backend whose streams
register their socket with the sending thread's :class:`~oauth2_transports._deadline.Alarm`
before every read, write and TLS handshake, so the watchdog can cut them.

httpx offers no public way to reach a client's connection pools, so this reads
``Client._transport``, ``Client._mounts`` and ``HTTPTransport._pool``; a transport
of another kind (a mock, WSGI) has no socket to cut and is left as it is.

The wrappers are duck-typed (httpcore's ``NetworkStream`` / ``NetworkBackend``
interface, which httpcore2 keeps unchanged), so one implementation serves both
libraries without importing either.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

from oauth2_transports._deadline import current_alarm

__all__ = ["arm_client"]


class _Stream:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def _guard(self) -> None:
        alarm = current_alarm()
        if alarm is not None:
            alarm.guard(self._inner.get_extra_info("socket"))

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._guard()
        data: bytes = self._inner.read(max_bytes, timeout)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._guard()
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> _Stream:
        self._guard()
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend:
    guards_deadline = True

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> _Stream:
        stream = _Stream(
            self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        )
        stream._guard()
        return stream

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> _Stream:
        return _Stream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def arm_client(client: Any) -> None:
    """Give every connection pool of ``client`` (httpx or httpx2) a guarding backend. Idempotent.

    Connections opened before keep their unguarded streams; their reads are
    still bounded by ``timeout`` each.
    """
    transports = [getattr(client, "_transport", None)]
    transports += list(getattr(client, "_mounts", {}).values())
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if backend is not None and not getattr(backend, "guards_deadline", False):
            setattr(pool, "_network_backend", _Backend(backend))  # noqa: B010
