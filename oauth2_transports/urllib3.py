"""The default transport, over urllib3 (DESIGN.md §3).

``Urllib3Transport`` sends an ``oauth2_core.HttpRequest`` verbatim and returns
every status as an ``HttpResponse``: no redirects followed, no retries, the
body capped while it streams, library errors turned into ``TransportError``.
"""

from __future__ import annotations

import zlib
from types import TracebackType

import urllib3
import urllib3.exceptions as u3x

from oauth2_core import Headers, HttpRequest, HttpResponse, UsageError
from oauth2_transports._body import CHUNK_SIZE, read_body
from oauth2_transports._clock import Clock, stamp, utc_now
from oauth2_transports._deadline import arm_pool_manager, check_deadline, watch
from oauth2_transports._failures import ErrorKinds, timed_out, wrap_error
from oauth2_transports._settings import DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT, check_settings

__all__ = ["Urllib3Transport"]

_KINDS: ErrorKinds = (
    # NewConnectionError subclasses ConnectTimeoutError (for history's sake): test it first.
    (u3x.NewConnectionError, "connection failed"),
    (u3x.TimeoutError, "timed out"),
    (u3x.SSLError, "TLS failure"),
    (u3x.ProxyError, "proxy failure"),
    ((u3x.DecodeError, zlib.error), "undecodable body"),
    (u3x.ProtocolError, "protocol error"),
    (u3x.LocationValueError, "invalid URL"),
    (OSError, "connection failed"),
)


# What ``retries=False, redirect=False`` means to urlopen, built once instead of per
# request: no retry, and a redirect is returned, not followed nor raised.
_NO_RETRIES = urllib3.Retry(total=False, redirect=False)


class Urllib3Transport:
    """A :class:`~oauth2_transports.Transport` over a ``urllib3.PoolManager``.

    Safe to share between threads: a ``PoolManager`` is thread-safe and the
    transport keeps no per-request state.

    Args:
        pool: The ``PoolManager`` (or ``ProxyManager``) to send with; its TLS
            settings (``ca_certs``, ``cert_file`` for mTLS), proxy and default
            headers apply. Its ``retries`` and redirect settings do not: every
            request is sent with ``retries=False, redirect=False``. Default: a
            new ``PoolManager()``, closed by :meth:`close`.
            The pool is made to guard the deadline: its connection classes
            become subclasses that register their socket with the request.
        timeout: Seconds allowed to connect and between two reads
            (default ``DEFAULT_TIMEOUT``, 30 s).
        deadline: Seconds allowed for the whole exchange: connect, send,
            status line, headers and body. Default: ``timeout``.
        max_body_bytes: The largest decoded body accepted.
        clock: Stamps ``HttpResponse.received_at``; must return an aware datetime.

    Raises:
        UsageError: ``timeout``, ``deadline`` or ``max_body_bytes`` is out of range.
    """

    def __init__(
        self,
        pool: urllib3.PoolManager | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        deadline: float | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        clock: Clock = utc_now,
    ) -> None:
        check_settings(timeout, max_body_bytes)
        self._deadline = check_deadline(deadline, timeout)
        self._owns_pool = pool is None
        self._pool = urllib3.PoolManager() if pool is None else pool
        arm_pool_manager(self._pool)
        self._timeout = urllib3.Timeout(connect=min(timeout, self._deadline), read=timeout)
        self._max_body_bytes = max_body_bytes
        self._clock = clock
        self._closed = False

    @property
    def deadline(self) -> float:
        """Seconds one :meth:`send` may take in all, connect to last body byte."""
        return self._deadline

    def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request`` as it is and return the response, whatever its status.

        Raises:
            TransportError: The exchange failed, outlived the deadline, or the
                body exceeds the cap or has a content coding that is refused.
        """
        if self._closed:
            raise UsageError("this transport is closed; create a new one")
        fields = request.headers.fields()
        headers: dict[str, str] | urllib3.HTTPHeaderDict = dict(fields)
        if len(headers) != len(fields) or self._pool.headers:
            # Repeated fields stay separate fields; the pool's defaults fill in the rest.
            headers = urllib3.HTTPHeaderDict(list(fields))
            for name, value in self._pool.headers.items():
                if name not in headers:
                    headers.add(name, value)
        with watch(self._deadline) as alarm:
            try:
                response = self._pool.urlopen(
                    request.method,
                    request.url,
                    body=request.body or None,
                    headers=headers,
                    redirect=False,
                    retries=_NO_RETRIES,
                    timeout=self._timeout,
                    preload_content=False,
                    decode_content=False,
                )
                try:
                    received_at = stamp(self._clock)
                    coding = response.headers.get("content-encoding")
                    length = response.length_remaining
                    if coding is None and length is not None and length <= self._max_body_bytes:
                        # The usual answer: plain, with a Content-Length within the cap.
                        # One read, bounded by that length (a short body is an error).
                        body = response.read(decode_content=False)
                    else:
                        raw = response.stream(CHUNK_SIZE, decode_content=False)
                        body = read_body(request, self._max_body_bytes, coding, raw)
                    if alarm.expired:  # a cut socket can look like the end of the body
                        raise timed_out(request, self._deadline) from TimeoutError(
                            "deadline passed"
                        )
                except BaseException:
                    response.close()  # bytes left unread: the connection must not be reused
                    raise
                finally:
                    response.release_conn()
            except (u3x.HTTPError, OSError, zlib.error) as exc:
                expired = self._deadline if alarm.expired else None
                raise wrap_error(exc, request, _KINDS, deadline=expired) from exc
        return HttpResponse(
            status=response.status,
            headers=Headers._trusted([(n.lower(), v) for n, v in response.headers.items()]),
            body=body,
            received_at=received_at,
        )

    def close(self) -> None:
        """Close the pool if this transport created it (a pool passed in stays open)."""
        self._closed = True
        if self._owns_pool:
            self._pool.clear()

    def __enter__(self) -> Urllib3Transport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
