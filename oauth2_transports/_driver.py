"""The only loops: run a core flow over a transport (sync or async).

Flows (``oauth2_core.Flow``) are generators that yield ``Send(request, delay)``
and return a result. These drivers sleep for ``delay``, send, and feed the
response back. They are the only places in the project that sleep, and they
close the generator on every exit path.

Every request passes through here, so this is where server text loses our
secrets: an :class:`OAuth2Error` a flow raises is masked in place
(``oauth2_core.redact_error``) against every request the flow sent, before
anyone (a caller, a token manager's waiting callers, a log) sees it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from oauth2_core import Flow, HttpRequest, HttpResponse, OAuth2Error
from oauth2_core._http import safe_url
from oauth2_core.redaction import redact_error
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
    flow: Flow[T],
    transport: Transport,
    *,
    sleep: Callable[[float], object] = time.sleep,
) -> T:
    """Drive ``flow`` to completion with a synchronous transport.

    Args:
        flow: A core flow generator.
        transport: Sends each request.
        sleep: Called with each step's delay in seconds (inject for tests).

    Returns:
        What the flow returns.
    """
    sent = _Sent()
    try:
        step = next(flow)
        while True:
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
                step = flow.throw(exc)
                continue
            _log(step.request, response, started)
            step = flow.send(response)
    except StopIteration as stop:
        result: T = stop.value
        return result
    except OAuth2Error as exc:
        sent.redact(exc)
        raise
    finally:
        flow.close()


async def arun(
    flow: Flow[T],
    transport: AsyncTransport,
    *,
    sleep: Callable[[float], Awaitable[object]] | None = None,
) -> T:
    """Drive ``flow`` to completion with an asynchronous transport.

    Same protocol code as :func:`run`: only the sending and the sleeping differ.
    ``sleep`` defaults to :func:`asyncio.sleep`.
    """
    if sleep is None:
        # Imported here, not at module top: asyncio costs ~40 ms to import and
        # synchronous users of the package never need it.
        import asyncio

        sleep = asyncio.sleep
    sent = _Sent()
    try:
        step = next(flow)
        while True:
            if step.delay > 0:
                await sleep(step.delay)
            started = time.perf_counter()
            sent.add(step.request)
            try:
                aresponse = await transport.send(step.request)
            except OAuth2Error as exc:
                _log(step.request, None, started)
                step = flow.throw(exc)
                continue
            _log(step.request, aresponse, started)
            step = flow.send(aresponse)
    except StopIteration as stop:
        result: T = stop.value
        return result
    except OAuth2Error as exc:
        sent.redact(exc)
        raise
    finally:
        flow.close()
