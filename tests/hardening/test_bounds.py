"""Issue 12 items 2 and 4: the body cap holds whatever the content codings, and every
request ends by its overall deadline, for each adapter, with its own client or one
passed in. Against the loopback server of the contract suite (127.0.0.1).
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections.abc import Callable, Iterator

import httpx
import pytest
import requests
import urllib3

from oauth2_core import HttpRequest, HttpResponse
from oauth2_transports import (
    AsyncHttpxTransport,
    HttpxTransport,
    RequestsTransport,
    TransportError,
    Urllib3Transport,
)
from oauth2_transports.testing._server import LoopbackServer, coded_zeros, payload

MiB = 1 << 20
GiB = 1 << 30

Send = Callable[[HttpRequest], HttpResponse]

# (adapter, whether the library object is passed in by the caller)
ADAPTERS = [
    ("urllib3", False),
    ("urllib3", True),
    ("requests", False),
    ("requests", True),
    ("httpx", False),
    ("httpx", True),
    ("async-httpx", False),
    ("async-httpx", True),
]


def _sender(adapter: str, given: bool, **settings: float) -> tuple[Send, Callable[[], None]]:
    if adapter == "urllib3":
        pool = urllib3.PoolManager() if given else None
        t1 = Urllib3Transport(pool, **settings)  # type: ignore[arg-type]
        return t1.send, (pool.clear if pool else t1.close)
    if adapter == "requests":
        session = requests.Session() if given else None
        if session is not None:
            session.headers["Accept-Encoding"] = "gzip, deflate, br, zstd"
        t2 = RequestsTransport(session, **settings)  # type: ignore[arg-type]
        return t2.send, (session.close if session else t2.close)
    if adapter == "httpx":
        client = httpx.Client(headers={"accept-encoding": "gzip, br, zstd"}) if given else None
        t3 = HttpxTransport(client, **settings)  # type: ignore[arg-type]
        return t3.send, (client.close if client else t3.close)

    def send(request: HttpRequest) -> HttpResponse:
        async def go() -> HttpResponse:
            client = httpx.AsyncClient() if given else None
            transport = AsyncHttpxTransport(client, **settings)  # type: ignore[arg-type]
            try:
                return await transport.send(request)
            finally:
                await (client.aclose() if client else transport.aclose())

        return asyncio.run(go())

    return send, lambda: None


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as running:
        yield running


@pytest.fixture(params=ADAPTERS, ids=lambda p: f"{p[0]}-{'given' if p[1] else 'own'}")
def make(request: pytest.FixtureRequest) -> Iterator[Callable[..., Send]]:
    closers: list[Callable[[], None]] = []

    def build(**settings: float) -> Send:
        send, close = _sender(*request.param, **settings)
        closers.append(close)
        return send

    yield build
    for close in closers:
        close()


def _get(server: LoopbackServer, target: str) -> HttpRequest:
    return HttpRequest("GET", server.url(target))


# -- item 2: the cap holds after every decoding step ------------------------------------


@pytest.mark.parametrize(
    "codings", ["gzip", "deflate", "gzip,gzip", "gzip,deflate", "deflate,gzip,gzip"]
)
def test_a_coding_bomb_is_stopped_at_the_cap_in_bounded_memory(
    server: LoopbackServer, make: Callable[..., Send], codings: str
) -> None:
    """A few KB on the wire that inflate to 256 MiB end in TransportError, peak < 16 MiB."""
    target = f"/coded-zeros/{codings}/{256 * MiB}"
    coded_zeros(256 * MiB, codings)  # built before memory is traced
    send = make()
    tracemalloc.start()
    try:
        with pytest.raises(TransportError, match="exceeds"):
            send(_get(server, target))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * MiB, f"{peak} bytes allocated while reading"


@pytest.mark.parametrize(
    "codings", ["gzip,gzip", "gzip,deflate", "deflate,gzip", "raw-deflate,gzip"]
)
def test_stacked_codings_within_the_cap_are_decoded(
    server: LoopbackServer, make: Callable[..., Send], codings: str
) -> None:
    assert make()(_get(server, f"/coded/{codings}/200000")).body == payload(200000)


def test_a_body_exactly_at_the_cap_passes_two_codings(
    server: LoopbackServer, make: Callable[..., Send]
) -> None:
    """Intermediate layers may be a little larger than the cap (compressBound)."""
    send = make(max_body_bytes=100_000)
    assert send(_get(server, "/coded/gzip,gzip/100000")).body == payload(100_000)


@pytest.mark.parametrize("coding", ["br", "zstd", "compress", "gzip, br", "x-unknown"])
def test_codings_that_cannot_be_bounded_are_refused(
    server: LoopbackServer, make: Callable[..., Send], coding: str
) -> None:
    """br and zstd are refused whether or not brotli / zstandard are installed."""
    with pytest.raises(TransportError, match="unsupported content coding"):
        make()(_get(server, f"/labelled/{coding.replace(' ', '')}"))


def test_too_many_stacked_codings_are_refused(
    server: LoopbackServer, make: Callable[..., Send]
) -> None:
    with pytest.raises(TransportError, match="stacked content codings"):
        make()(_get(server, "/labelled/gzip,gzip,gzip,gzip"))


# -- item 4: an overall deadline per request ---------------------------------------------


@pytest.mark.parametrize("target", ["/drip-head", "/drip-body"])
def test_a_dripping_server_cannot_outlast_the_deadline(
    server: LoopbackServer, make: Callable[..., Send], target: str
) -> None:
    """One byte every 0.5 s: each read succeeds, yet the request ends by its deadline."""
    send = make(timeout=5.0, deadline=1.5)
    started = time.monotonic()
    with pytest.raises(TransportError, match=r"^timed out") as info:
        send(_get(server, target))
    elapsed = time.monotonic() - started
    assert elapsed < 1.5 + 1.5, f"took {elapsed:.1f} s"
    assert info.value.__cause__ is not None


def test_the_deadline_defaults_to_the_timeout(
    server: LoopbackServer, make: Callable[..., Send]
) -> None:
    send = make(timeout=1.0)
    started = time.monotonic()
    with pytest.raises(TransportError, match=r"^timed out"):
        send(_get(server, "/drip-head"))
    assert time.monotonic() - started < 1.0 + 1.5


def test_a_transport_works_again_after_its_deadline(
    server: LoopbackServer, make: Callable[..., Send]
) -> None:
    send = make(timeout=5.0, deadline=1.0)
    with pytest.raises(TransportError):
        send(_get(server, "/drip-body"))
    assert send(_get(server, "/bytes/1000")).body == payload(1000)
    assert send(_get(server, "/gzip/1000")).body == payload(1000)


@pytest.mark.parametrize(
    "cls", [Urllib3Transport, RequestsTransport, HttpxTransport, AsyncHttpxTransport]
)
def test_deadline_setting(cls: type) -> None:
    assert cls(timeout=2).deadline == 2.0
    assert cls(timeout=2, deadline=7.5).deadline == 7.5
    assert cls().deadline == 30.0
    for bad in (0, -1, float("nan"), True):
        with pytest.raises(Exception, match="deadline"):
            cls(deadline=bad)
