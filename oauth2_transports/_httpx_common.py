"""The adapter code shared by ``httpx`` and its fork ``httpx2`` (DESIGN.md §3).

``httpx2`` (the HTTP client the ``mcp`` package 2.x sends with) keeps httpx's
API under another module name, so one implementation serves both: each public
module (``oauth2_transports.httpx``, ``oauth2_transports.httpx2``) describes its
library in a :class:`Library` and subclasses :class:`SyncAdapter` /
:class:`AsyncAdapter` with typed constructors and its own documentation.

Both send an ``oauth2_core.HttpRequest`` verbatim and return every status as an
``HttpResponse``: no redirects followed, no retries, the body capped while it
streams (``_body``), the whole exchange bounded by the deadline (``_deadline``,
``_httpx_deadline``), the client's ``auth`` and cookies kept out, library errors
turned into ``TransportError``.
"""

from __future__ import annotations

import zlib
from datetime import datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, ClassVar, NamedTuple

import anyio

from oauth2_core import Headers, HttpRequest, HttpResponse, UsageError
from oauth2_transports._body import ACCEPT_ENCODING, CHUNK_SIZE, aread_body, read_body
from oauth2_transports._clock import Clock, stamp
from oauth2_transports._deadline import check_deadline, watch
from oauth2_transports._failures import ErrorKinds, timed_out, wrap_error
from oauth2_transports._httpx_deadline import arm_client
from oauth2_transports._settings import check_settings

__all__ = ["AsyncAdapter", "Library", "SyncAdapter", "library", "refusing_cookie_jar"]


def refusing_cookie_jar() -> CookieJar:
    """A cookie jar that stores nothing.

    OAuth requests must go out exactly as the core built them; a cookie set by
    one response must not ride along on the next request. (httpx and httpx2
    import ``http.cookiejar`` themselves, so importing it here costs nothing.)
    """
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


class Library(NamedTuple):
    """What differs between ``httpx`` and ``httpx2``: the module and its error mapping.

    Attributes:
        name: How messages name the library (``"httpx"``).
        module: The imported module; its ``Client``, ``AsyncClient``,
            ``Timeout`` and ``Auth`` are used.
        kinds: Exception types mapped to failure kinds, first match wins.
        errors: Every exception type the adapter converts to ``TransportError``.
        as_given: An ``Auth`` that sends the request unchanged: passed to
            ``send`` it keeps out the client's ``auth`` and the Basic
            credentials the library would derive from a URL's userinfo.
    """

    name: str
    module: Any
    kinds: ErrorKinds
    errors: tuple[type[BaseException], ...]
    as_given: object


def library(name: str, module: Any) -> Library:
    """Describe ``module`` (``httpx`` or ``httpx2``, which share their exception tree)."""
    kinds: ErrorKinds = (
        (module.TimeoutException, "timed out"),
        (module.ConnectError, "connection failed"),
        (module.ProxyError, "proxy failure"),
        ((module.DecodingError, zlib.error), "undecodable body"),
        (module.ProtocolError, "protocol error"),
        ((module.InvalidURL, module.UnsupportedProtocol), "invalid URL"),
        (OSError, "connection failed"),
    )
    errors = (module.HTTPError, module.InvalidURL, OSError, zlib.error)
    return Library(name, module, kinds, errors, module.Auth())


def _outgoing(client: Any, request: HttpRequest, timeout: Any) -> Any:
    outgoing = client.build_request(
        request.method,
        request.url,
        headers=list(request.headers.fields()),
        content=request.body or None,
        timeout=timeout,
    )
    if "cookie" not in request.headers:
        outgoing.headers.pop("cookie", None)  # from the client's jar
    return outgoing


def _response(response: Any, body: bytes, received_at: datetime) -> HttpResponse:
    return HttpResponse(
        status=response.status_code,
        headers=Headers(response.headers.multi_items()),
        body=body,
        received_at=received_at,
    )


def _own_client(factory: Any) -> Any:
    # Embeddable: no environment variables read, no cookies stored.
    client = factory(trust_env=False, cookies=refusing_cookie_jar())
    del client.headers["accept"]  # not needed by the library; the core sets its own
    client.headers["accept-encoding"] = ACCEPT_ENCODING  # what Inflater decodes
    return client


class _Settings:
    LIBRARY: ClassVar[Library]

    def _setup(
        self, client: Any, *, timeout: float, deadline: float | None, max_body_bytes: int
    ) -> None:
        check_settings(timeout, max_body_bytes)
        self._deadline = check_deadline(deadline, timeout)
        self._timeout = self.LIBRARY.module.Timeout(timeout, connect=min(timeout, self._deadline))
        self._max_body_bytes = max_body_bytes
        self._client = client
        self._closed = False

    @property
    def deadline(self) -> float:
        """Seconds one ``send`` may take in all, connect to last body byte."""
        return self._deadline

    def _check_open(self) -> None:
        if self._closed or self._client.is_closed:
            name = self.LIBRARY.name
            raise UsageError(f"this transport (or the {name} client it sends with) is closed")


class SyncAdapter(_Settings):
    """The synchronous adapter over a ``Client`` of :attr:`LIBRARY`."""

    def __init__(
        self,
        client: Any,
        *,
        timeout: float,
        deadline: float | None,
        max_body_bytes: int,
        clock: Clock,
    ) -> None:
        self._owns_client = client is None
        if client is None:
            client = _own_client(self.LIBRARY.module.Client)
        self._setup(client, timeout=timeout, deadline=deadline, max_body_bytes=max_body_bytes)
        arm_client(client)
        self._clock = clock

    def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request`` as it is and return the response, whatever its status.

        Raises:
            TransportError: The exchange failed, outlived the deadline, or the
                body exceeds the cap or has a content coding that is refused.
            UsageError: the transport or its client is closed.
        """
        self._check_open()
        lib = self.LIBRARY
        with watch(self._deadline) as alarm:
            try:
                outgoing = _outgoing(self._client, request, self._timeout)
                response = self._client.send(
                    outgoing, stream=True, follow_redirects=False, auth=lib.as_given
                )
                try:
                    received_at = stamp(self._clock)
                    coding = response.headers.get("content-encoding")
                    body = read_body(
                        request, self._max_body_bytes, coding, response.iter_raw(CHUNK_SIZE)
                    )
                    if alarm.expired:  # a cut socket can look like the end of the body
                        raise timed_out(request, self._deadline) from TimeoutError(
                            "deadline passed"
                        )
                finally:
                    response.close()
            except lib.errors as exc:
                expired = self._deadline if alarm.expired else None
                raise wrap_error(exc, request, lib.kinds, deadline=expired) from exc
        return _response(response, body, received_at)

    def close(self) -> None:
        """Close the client if this transport created it (a client passed in stays open)."""
        self._closed = True
        if self._owns_client:
            self._client.close()


class AsyncAdapter(_Settings):
    """The asynchronous adapter over an ``AsyncClient`` of :attr:`LIBRARY`."""

    def __init__(
        self,
        client: Any,
        *,
        timeout: float,
        deadline: float | None,
        max_body_bytes: int,
        clock: Clock,
    ) -> None:
        self._owns_client = client is None
        if client is None:
            client = _own_client(self.LIBRARY.module.AsyncClient)
        self._setup(client, timeout=timeout, deadline=deadline, max_body_bytes=max_body_bytes)
        self._clock = clock

    async def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request`` as it is and return the response, whatever its status.

        Raises:
            TransportError: The exchange failed, outlived the deadline, or the
                body exceeds the cap or has a content coding that is refused.
            UsageError: the transport or its client is closed.
        """
        self._check_open()
        lib = self.LIBRARY
        try:
            with anyio.move_on_after(self._deadline) as scope:
                outgoing = _outgoing(self._client, request, self._timeout)
                response = await self._client.send(
                    outgoing, stream=True, follow_redirects=False, auth=lib.as_given
                )
                try:
                    received_at = stamp(self._clock)
                    coding = response.headers.get("content-encoding")
                    raw = response.aiter_raw(CHUNK_SIZE)
                    body = await aread_body(request, self._max_body_bytes, coding, raw)
                finally:
                    await response.aclose()
        except lib.errors as exc:
            raise wrap_error(exc, request, lib.kinds) from exc
        if scope.cancelled_caught:  # the whole exchange took too long
            raise timed_out(request, self._deadline) from TimeoutError("deadline passed")
        return _response(response, body, received_at)

    async def aclose(self) -> None:
        """Close the client if this transport created it (a client passed in stays open)."""
        self._closed = True
        if self._owns_client:
            await self._client.aclose()
