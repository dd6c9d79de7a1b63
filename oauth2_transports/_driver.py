"""The only loops: run a core flow over a transport (sync or async).

Flows (``oauth2_core.Flow``) are generators that yield ``Send(request, delay)``
and return a result. These drivers sleep for ``delay``, send, and feed the
response back. They are the only places in the project that sleep, and they
close the generator on every exit path.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from oauth2_core import Flow
from oauth2_transports._transport import AsyncTransport, Transport

__all__ = ["arun", "run"]

T = TypeVar("T")


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
    try:
        step = next(flow)
        while True:
            if step.delay > 0:
                sleep(step.delay)
            response = transport.send(step.request)
            step = flow.send(response)
    except StopIteration as stop:
        result: T = stop.value
        return result
    finally:
        flow.close()


async def arun(
    flow: Flow[T],
    transport: AsyncTransport,
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """Drive ``flow`` to completion with an asynchronous transport.

    Same protocol code as :func:`run`: only the sending and the sleeping differ.
    """
    try:
        step = next(flow)
        while True:
            if step.delay > 0:
                await sleep(step.delay)
            response = await transport.send(step.request)
            step = flow.send(response)
    except StopIteration as stop:
        result: T = stop.value
        return result
    finally:
        flow.close()
