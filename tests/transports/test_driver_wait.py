"""The drivers answer ``Wait`` with their clock after sleeping (issue 13).

A flow that waits learns the time as a value: ``run`` / ``arun`` sleep the
seconds asked (the injected ``sleep`` records them) and send the flow the
``clock`` reading. ``Send(request, delay=...)`` from older flows still sleeps.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import oauth2_core as oc
from oauth2_transports import HttpxTransport, Urllib3Transport, arun, run
from oauth2_transports.httpx import AsyncHttpxTransport

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)


def waiting() -> oc.TimedFlow[list[dt.datetime]]:
    first = yield from oc.wait_flow(0)
    second = yield from oc.wait_flow(2.5)
    return [first, second]


def ticking() -> Iterator[dt.datetime]:
    seconds = 0
    while True:
        yield T0 + dt.timedelta(seconds=seconds)
        seconds += 10


def test_run_sleeps_then_answers_wait_with_the_clock() -> None:
    slept: list[float] = []
    clock = ticking()
    with Urllib3Transport() as transport:
        result = run(waiting(), transport, sleep=slept.append, clock=lambda: next(clock))
    assert slept == [2.5]  # Wait(0) reads the clock without sleeping
    assert result == [T0, T0 + dt.timedelta(seconds=10)]


def test_arun_sleeps_then_answers_wait_with_the_clock() -> None:
    slept: list[float] = []
    clock = ticking()

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def main() -> list[dt.datetime]:
        async with AsyncHttpxTransport() as transport:
            return await arun(waiting(), transport, sleep=sleep, clock=lambda: next(clock))

    assert asyncio.run(main()) == [T0, T0 + dt.timedelta(seconds=10)]
    assert slept == [2.5]


def test_the_default_clock_is_aware_utc() -> None:
    with HttpxTransport() as transport:
        (now, _) = run(waiting(), transport, sleep=lambda _s: None)
    assert now.utcoffset() == dt.timedelta(0)
