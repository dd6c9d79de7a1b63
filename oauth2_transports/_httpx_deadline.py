"""The overall request deadline (see ``_deadline``) for ``httpx.Client``.

httpcore reads through a network stream with a timeout per read. Each
``httpcore.ConnectionPool`` of the client gets a network backend whose streams
register their socket with the sending thread's :class:`~oauth2_transports._deadline.Alarm`
before every read, write and TLS handshake, so the watchdog can cut them.

httpx offers no public way to reach a client's connection pools, so this reads
``Client._transport``, ``Client._mounts`` and ``HTTPTransport._pool``; a transport
of another kind (a mock, WSGI) has no socket to cut and is left as it is.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from oauth2_transports._deadline import current_alarm

__all__ = ["arm_client"]


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def _guard(self) -> None:
        alarm = current_alarm()
        if alarm is not None:
            alarm.guard(self._inner.get_extra_info("socket"))

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._guard()
        return self._inner.read(max_bytes, timeout)

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
    ) -> httpcore.NetworkStream:
        self._guard()
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    guards_deadline = True

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = _Stream(
            self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        )
        stream._guard()
        return stream

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def arm_client(client: httpx.Client) -> None:
    """Give every httpcore pool of ``client`` a deadline-guarding backend. Idempotent.

    Connections opened before keep their unguarded streams; their reads are
    still bounded by ``timeout`` each.
    """
    transports = [getattr(client, "_transport", None)]
    transports += list(getattr(client, "_mounts", {}).values())
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if backend is not None and not getattr(backend, "guards_deadline", False):
            pool._network_backend = _Backend(backend)  # type: ignore[union-attr]
