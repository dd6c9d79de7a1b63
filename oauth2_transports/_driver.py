"""The only loops: run a core flow over a transport (sync or async).

Flows (``oauth2_core.Flow`` / ``TimedFlow``) are generators that yield steps
and return a result. ``Send(request)``: these drivers send and feed the
response back. ``Wait(seconds)``: they sleep, then feed back the time (the
``clock`` given, an aware UTC datetime), so a flow that waits dates what it
sends next with a value, never by reading a clock. (``Send(request, delay)``
from older flows still works: they sleep ``delay`` before sending.) They are
the only places in the project that sleep, and they close the generator on
every exit path.

Every request passes through here, so this is where server text loses our
secrets: an :class:`OAuth2Error` a flow raises is masked in place
(``oauth2_core.redact_error``) against every request the flow sent, before
anyone (a caller, a token manager's waiting callers, a log) sees it.
"""

from __future__ import annotations

import datetime as _dt
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

from oauth2_core import Flow, HttpRequest, HttpResponse, OAuth2Error, TimedFlow, Wait
from oauth2_core._http import safe_url
from oauth2_core.redaction import redact_error
from oauth2_transports._clock import utc_now
from oauth2_transports._transport import AsyncTransport, Transport

__all__ = ["arun", "run"]

T = TypeVar("T")

#: Debug records of every request a flow sends: method, URL without its query,
#: status and time taken. Never headers or bodies, which carry the secrets.
logger = logging.getLogger("oauth2_transports")


def _log(request: HttpRequest, response: HttpResponse | None, started: float) -> None:
    if logger.isEnabledFor(logging.DEBUG):
        elapsed_ms = (time.perf_counter() - started) * 1000
        status = response.status if response is not None else "failed"
        logger.debug(
            "%s %s -> %s (%.1f ms)", request.method, safe_url(request.url), status, elapsed_ms
        )


class _Sent:
    """The distinct requests a flow sent, to mask their secrets in what it raises."""

    __slots__ = ("requests",)

    def __init__(self) -> None:
        self.requests: dict[HttpRequest, None] = {}

    def add(self, request: HttpRequest) -> None:
        # Device polls resend one request: a dict keeps each once, in order.
        self.requests[request] = None

    def redact(self, exc: OAuth2Error) -> None:
        redact_error(exc, *self.requests)


def run(
    flow: Flow[T] | TimedFlow[T],
    transport: Transport,
    *,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], _dt.datetime] = utc_now,
) -> T:
    """Drive ``flow`` to completion with a synchronous transport.

    Args:
        flow: A core flow generator.
        transport: Sends each request.
        sleep: Called with each wait in seconds (inject for tests).
        clock: Answers each ``Wait``: the current time, an aware UTC datetime
            (the high-level clients pass theirs).

    Returns:
        What the flow returns.
    """
    # A Flow never yields Wait, so it is never sent a datetime: one type for both.
    steps = cast("TimedFlow[T]", flow)
    sent = _Sent()
    try:
        step = next(steps)
        while True:
            if isinstance(step, Wait):
                if step.seconds > 0:
                    sleep(step.seconds)
                step = steps.send(clock())
                continue
            if step.delay > 0:
                sleep(step.delay)
            started = time.perf_counter()
            sent.add(step.request)
            response = None
            try:
                response = transport.send(step.request)
            except OAuth2Error as exc:
                # Let the flow decide (a retry policy may catch TransportError);
                # a flow that does not catch it re-raises it from its yield.
                _log(step.request, None, started)
                step = steps.throw(exc)
                continue
            _log(step.request, response, started)
            step = steps.send(response)
    except StopIteration as stop:
        result: T = stop.value
        return result
    except OAuth2Error as exc:
        sent.redact(exc)
        raise
    finally:
        steps.close()


async def arun(
    flow: Flow[T] | TimedFlow[T],
    transport: AsyncTransport,
    *,
    sleep: Callable[[float], Awaitable[object]] | None = None,
    clock: Callable[[], _dt.datetime] = utc_now,
) -> T:
    """Drive ``flow`` to completion with an asynchronous transport.

    Same protocol code as :func:`run`: only the sending and the sleeping differ.
    ``sleep`` defaults to :func:`asyncio.sleep`; ``clock`` answers each ``Wait``.
    """
    if sleep is None:
        # Imported here, not at module top: asyncio costs ~40 ms to import and
        # synchronous users of the package never need it.
        import asyncio

        sleep = asyncio.sleep
    steps = cast("TimedFlow[T]", flow)
    sent = _Sent()
    try:
        step = next(steps)
        while True:
            if isinstance(step, Wait):
                if step.seconds > 0:
                    await sleep(step.seconds)
                step = steps.send(clock())
                continue
            if step.delay > 0:
                await sleep(step.delay)
            started = time.perf_counter()
            sent.add(step.request)
            try:
                aresponse = await transport.send(step.request)
            except OAuth2Error as exc:
                _log(step.request, None, started)
                step = steps.throw(exc)
                continue
            _log(step.request, aresponse, started)
            step = steps.send(aresponse)
    except StopIteration as stop:
        result: T = stop.value
        return result
    except OAuth2Error as exc:
        sent.redact(exc)
        raise
    finally:
        steps.close()
