"""Scripted answers for testing code built on the core's flows, without a network.

A core flow is a generator of :class:`~oauth2_core.Send` steps (DESIGN §2); a test
answers each step with a prepared :class:`~oauth2_core.HttpResponse` instead of
sending it. :func:`json_response` builds such an answer, :func:`drive` plays the
driver (``oauth2_transports.run``) against a list of them without sleeping.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

import attrs

from oauth2_core._http import HttpRequest, HttpResponse, Send, TimedFlow, Wait

__all__ = ["RECEIVED_AT", "Driven", "drive", "json_response"]

T = TypeVar("T")

#: The default ``received_at`` of a scripted answer: a fixed, aware UTC instant, so
#: that expiry times computed from it (``received_at + expires_in``) are reproducible.
RECEIVED_AT = _dt.datetime(2030, 1, 1, tzinfo=_dt.timezone.utc)


def json_response(
    status: int,
    data: object,
    *,
    headers: Mapping[str, str] | None = None,
    received_at: _dt.datetime = RECEIVED_AT,
) -> HttpResponse:
    """An :class:`~oauth2_core.HttpResponse` with ``data`` as its JSON body (RFC 8259).

    Args:
        status: The HTTP status code.
        data: Anything :func:`json.dumps` takes (a token response, an RFC 6749
            §5.2 error object, discovery metadata, ...).
        headers: Header fields; ``content-type`` is ``application/json`` unless
            given here.
        received_at: When the answer arrived, an aware UTC datetime (the core
            computes ``expires_at`` from it); default :data:`RECEIVED_AT`.

    Returns:
        The response, to give to a ``process_*`` function or to :func:`drive`.
    """
    fields = {"content-type": "application/json", **(headers or {})}
    return HttpResponse(status, fields, json.dumps(data).encode("utf-8"), received_at)


@attrs.frozen
class Driven(Generic[T]):
    """What :func:`drive` saw: the flow's result and every step it yielded.

    Attributes:
        result: The value the flow returned.
        sends: Each :class:`~oauth2_core.Send` in order, with its ``delay``.
        waits: The seconds of each :class:`~oauth2_core.Wait`, in order (device
            polling intervals, retry backoffs).
    """

    result: T
    sends: tuple[Send, ...]
    waits: tuple[float, ...] = ()

    @property
    def requests(self) -> list[HttpRequest]:
        """The requests the flow asked to send, in order."""
        return [send.request for send in self.sends]


def drive(
    flow: TimedFlow[T],
    responses: Iterable[HttpResponse | BaseException],
    *,
    start: _dt.datetime = RECEIVED_AT,
) -> Driven[T]:
    """Run ``flow`` to its end, answering each step with the next scripted outcome.

    Plays ``oauth2_transports.run`` without a network and without sleeping: an
    :class:`~oauth2_core.HttpResponse` is sent into the flow, an exception is
    thrown into it (as the driver does with a ``TransportError``). Each step's
    ``delay`` is recorded in :attr:`Driven.sends`, not waited. A
    :class:`~oauth2_core.Wait` is answered at once with a clock that starts at
    ``start``, moves on by each wait and is set by each answer's ``received_at``.

    Args:
        flow: A core flow, e.g. ``oc.device_poll_flow(...)`` or ``oc.token_flow(...)``.
        responses: One outcome per ``Send``, in order (``Wait`` steps need none).
        start: The clock reading before the first answer.

    Returns:
        The flow's result and the steps it yielded.

    Raises:
        AssertionError: the flow asked for more answers than were scripted, or
            ended with some left over (a test script that does not match the flow).
        OAuth2Error: whatever the flow raises (an ``EndpointError`` ...) propagates.
    """
    script = list(responses)
    sends: list[Send] = []
    waits: list[float] = []
    # The clock a driver would read: each Wait moves it on, each answer sets it.
    clock = start
    try:
        step = next(flow)
        while True:
            if isinstance(step, Wait):
                waits.append(step.seconds)
                clock += _dt.timedelta(seconds=step.seconds)
                step = flow.send(clock)
                continue
            sends.append(step)
            if len(sends) > len(script):
                flow.close()
                raise AssertionError(
                    f"the flow sent request #{len(sends)} ({step.request.method} "
                    f"{step.request.url}) but only {len(script)} answers were scripted"
                )
            outcome = script[len(sends) - 1]
            if isinstance(outcome, BaseException):
                step = flow.throw(outcome)
            else:
                clock = outcome.received_at
                step = flow.send(outcome)
    except StopIteration as stop:
        if len(sends) < len(script):
            raise AssertionError(
                f"the flow ended after {len(sends)} requests; {len(script) - len(sends)} "
                "scripted answers were left over"
            ) from None
        return Driven(result=stop.value, sends=tuple(sends), waits=tuple(waits))
