"""The contract suite's harness: makes transports, sends with them, closes them.

It lets one suite check sync and async transports alike: an async ``send`` runs
on an event loop the harness owns for the whole test (an ``httpx.AsyncClient``
pool, for one, must stay on the loop it started on).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import inspect
from collections.abc import Callable, Coroutine, Sequence
from typing import TypeVar, cast

from oauth2_core import HttpRequest, HttpResponse
from oauth2_transports._transport import AsyncTransport, Transport
from oauth2_transports.testing._server import LoopbackServer

__all__ = ["CONTRACT_TIME", "ContractHarness", "MakeTransport"]

T = TypeVar("T")

MakeTransport = Callable[..., Transport | AsyncTransport]
"""``make(*, clock, max_body_bytes, timeout) -> transport``."""

#: What the default clock of the suite's transports returns.
CONTRACT_TIME = dt.datetime(2001, 2, 3, 4, 5, 6, 789000, tzinfo=dt.timezone.utc)


class ContractHarness:
    """Makes transports, sends with them (sync or async) and closes them afterwards.

    Args:
        factory: The integrator's ``make_transport``.
        server: The loopback server the requests go to.
        max_body_bytes: The cap given to every transport unless overridden.
    """

    def __init__(self, factory: MakeTransport, server: LoopbackServer, max_body_bytes: int):
        self.server = server
        self.max_body_bytes = max_body_bytes
        self._factory = factory
        self._made: list[Transport | AsyncTransport] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def transport(
        self,
        *,
        clock: Callable[[], dt.datetime] = lambda: CONTRACT_TIME,
        max_body_bytes: int | None = None,
        timeout: float = 5.0,
    ) -> Transport | AsyncTransport:
        """A new transport from the factory, closed when the test ends."""
        cap = self.max_body_bytes if max_body_bytes is None else max_body_bytes
        made = self._factory(clock=clock, max_body_bytes=cap, timeout=timeout)
        self._made.append(made)
        return made

    def _run(self, coroutine: Coroutine[object, object, T]) -> T:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(coroutine)

    def send(self, transport: Transport | AsyncTransport, request: HttpRequest) -> HttpResponse:
        """Send with ``transport``, awaiting if its ``send`` is a coroutine function."""
        if inspect.iscoroutinefunction(transport.send):
            response = self._run(cast(AsyncTransport, transport).send(request))
        else:
            response = cast(Transport, transport).send(request)
        assert isinstance(response, HttpResponse)
        return response

    def send_many(
        self, transport: Transport | AsyncTransport, requests: Sequence[HttpRequest]
    ) -> list[HttpResponse]:
        """Send concurrently: from threads (sync) or as tasks on one loop (async)."""
        if inspect.iscoroutinefunction(transport.send):
            async_transport = cast(AsyncTransport, transport)

            async def gather() -> list[HttpResponse]:
                return list(await asyncio.gather(*map(async_transport.send, requests)))

            return self._run(gather())
        sync_transport = cast(Transport, transport)
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(sync_transport.send, requests))

    def close(self) -> None:
        """Close every transport made, then the event loop."""
        try:
            for made in reversed(self._made):
                aclose = getattr(made, "aclose", None)
                close = getattr(made, "close", None)
                if aclose is not None and inspect.iscoroutinefunction(aclose):
                    self._run(aclose())
                elif close is not None:
                    close()
        finally:
            if self._loop is not None:
                self._loop.run_until_complete(self._loop.shutdown_asyncgens())
                self._loop.close()
