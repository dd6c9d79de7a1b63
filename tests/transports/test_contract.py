"""The transport contract (DESIGN.md §3) run against each adapter (httpx2 when installed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from oauth2_transports import (
    AsyncHttpxTransport,
    HttpxTransport,
    RequestsTransport,
    Urllib3Transport,
)
from oauth2_transports.testing import MakeTransport, TransportContract

Clock = Callable[[], dt.datetime]


class TestUrllib3Transport(TransportContract):
    @pytest.fixture
    def make_transport(self) -> MakeTransport:
        def make(*, clock: Clock, max_body_bytes: int, timeout: float) -> Urllib3Transport:
            return Urllib3Transport(clock=clock, max_body_bytes=max_body_bytes, timeout=timeout)

        return make


class TestRequestsTransport(TransportContract):
    @pytest.fixture
    def make_transport(self) -> MakeTransport:
        def make(*, clock: Clock, max_body_bytes: int, timeout: float) -> RequestsTransport:
            return RequestsTransport(clock=clock, max_body_bytes=max_body_bytes, timeout=timeout)

        return make


class TestHttpxTransport(TransportContract):
    @pytest.fixture
    def make_transport(self) -> MakeTransport:
        def make(*, clock: Clock, max_body_bytes: int, timeout: float) -> HttpxTransport:
            return HttpxTransport(clock=clock, max_body_bytes=max_body_bytes, timeout=timeout)

        return make


class TestAsyncHttpxTransport(TransportContract):
    @pytest.fixture
    def make_transport(self) -> MakeTransport:
        def make(*, clock: Clock, max_body_bytes: int, timeout: float) -> AsyncHttpxTransport:
            return AsyncHttpxTransport(clock=clock, max_body_bytes=max_body_bytes, timeout=timeout)

        return make


try:  # the httpx2 extra needs Python 3.11+
    from oauth2_transports.httpx2 import AsyncHttpx2Transport, Httpx2Transport
except ImportError:  # pragma: no cover - without the extra
    Httpx2Transport = AsyncHttpx2Transport = None  # type: ignore[assignment, misc]

needs_httpx2 = pytest.mark.skipif(Httpx2Transport is None, reason="httpx2 is not installed")


@needs_httpx2
class TestHttpx2Transport(TransportContract):
    @pytest.fixture
    def make_transport(self) -> MakeTransport:
        def make(*, clock: Clock, max_body_bytes: int, timeout: float) -> Httpx2Transport:
            return Httpx2Transport(clock=clock, max_body_bytes=max_body_bytes, timeout=timeout)

        return make


@needs_httpx2
class TestAsyncHttpx2Transport(TransportContract):
    @pytest.fixture
    def make_transport(self) -> MakeTransport:
        def make(*, clock: Clock, max_body_bytes: int, timeout: float) -> AsyncHttpx2Transport:
            return AsyncHttpx2Transport(clock=clock, max_body_bytes=max_body_bytes, timeout=timeout)

        return make
